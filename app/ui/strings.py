"""The viewer's texts: the old import name of `app.present.messages.screen`.

`CATALOG` is that topic resolved to {id: {"de": text, "en": text}}; `tr` looks a viewer text
up. The texts themselves live in the one table (`app.present.messages`), with every word the
paper or the clinical vocabulary already has written only there.
"""

from __future__ import annotations

from app import i18n
from app.present.messages import topic_table

CATALOG: dict[str, dict[str, str]] = topic_table("screen")


def tr(key: str, lang: str, **fields: object) -> str:
    """The viewer text `key` ("code.dnr" means "ui.code.dnr") in `lang`; never raises."""
    return i18n.t(key if key.startswith("ui.") else f"ui.{key}", lang, **fields)

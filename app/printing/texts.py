"""The printouts' texts: the old import name of `app.present.messages.paper`.

`MESSAGES` is that topic resolved to {id: {"de": text, "en": text}}; look texts up with
`app.present.catalog.t`. The texts live in the one table (`app.present.messages`).
"""

from __future__ import annotations

from app.present.messages import topic_table

MESSAGES: dict[str, dict[str, str]] = topic_table("paper")

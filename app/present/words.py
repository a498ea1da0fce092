"""The clinical vocabulary shared by the screen and the paper: the old import name of
`app.present.messages.clinical`, resolved to {id: {"de": text, "en": text}}.

`app.present.clinical` maps each FHIR code to one of these entries; look texts up with
`app.present.catalog.t`. Importing this module has no side effect beyond building the dict.
"""

from __future__ import annotations

from app.present.messages import topic_table

WORDS: dict[str, dict[str, str]] = topic_table("clinical")

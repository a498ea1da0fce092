"""The one German/English message table of the screen and the paper, split by topic.

| module | ids | what |
|---|---|---|
| `clinical` | cs., crit., status., col., ... | clinical vocabulary of screen and paper |
| `medication` | med., timing., due. | dose, schedule and due wording |
| `snapshot` | freshness., snapshot. | data age and which copy is shown |
| `access` | auth. | login, lockout, break-glass |
| `screen` | ui. | texts only the viewer shows |
| `paper` | print., print.os. | texts only the printouts carry; OS printing |

Every id is in exactly one topic, with a German and an English text, or as `same("id")` when it
reads exactly like another message: a word is translated once. `build_table()` checks all of it
(tests/test_catalog_table.py); `app.present.catalog.t` looks ids up in its result.

Pure: importing this package only builds dictionaries.
"""

from __future__ import annotations

from collections.abc import Mapping

from app.present.messages import access, clinical, medication, paper, screen, snapshot
from app.present.messages.base import LANGUAGES, Messages, Same, same

TOPICS: dict[str, Messages] = {
    "clinical": clinical.MESSAGES,
    "medication": medication.MESSAGES,
    "snapshot": snapshot.MESSAGES,
    "access": access.MESSAGES,
    "screen": screen.MESSAGES,
    "paper": paper.MESSAGES,
}

__all__ = [
    "LANGUAGES",
    "TOPICS",
    "Messages",
    "Same",
    "TableError",
    "build_table",
    "same",
    "topic_table",
]


class TableError(ValueError):
    """The message table breaks one of its rules (the message names the id and the rule)."""


def _resolve(key: str, entries: Mapping[str, dict[str, str] | Same]) -> dict[str, str]:
    entry = entries.get(key)
    if entry is None:
        raise TableError(f"message id {key!r} is not in the table")
    if isinstance(entry, Same):
        target = entries.get(entry.key)
        if target is None:
            raise TableError(f"{key!r} reads like {entry.key!r}, which is not in the table")
        if isinstance(target, Same):
            raise TableError(f"{key!r} reads like {entry.key!r}, itself only an alias")
        return target
    return entry


def build_table(topics: Mapping[str, Messages] | None = None) -> dict[str, dict[str, str]]:
    """{id: {"de": text, "en": text}} of every message, aliases resolved.

    Raises TableError when an id is in two topics, an entry lacks German or English (or has
    another language), an alias points nowhere or to another alias. Pure.
    """
    entries: dict[str, dict[str, str] | Same] = {}
    home: dict[str, str] = {}
    for topic, messages in (TOPICS if topics is None else topics).items():
        for key, entry in messages.items():
            if key in entries:
                raise TableError(f"message id {key!r} is in both {home[key]!r} and {topic!r}")
            if not isinstance(entry, Same) and set(entry) != set(LANGUAGES):
                raise TableError(
                    f"message {key!r} ({topic}) has languages {sorted(entry)}, "
                    f"needs exactly {list(LANGUAGES)}"
                )
            entries[key] = entry
            home[key] = topic
    return {key: _resolve(key, entries) for key in entries}


def topic_table(topic: str) -> dict[str, dict[str, str]]:
    """The resolved entries of one topic (old module-level names like `app.ui.strings.CATALOG`
    are this). Raises KeyError for an unknown topic, TableError as `build_table`."""
    table = build_table()
    return {key: table[key] for key in TOPICS[topic]}

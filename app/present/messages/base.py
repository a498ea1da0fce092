"""The shape of a message table, shared by the topic modules of `app.present.messages`.

Pure data; no side effects.
"""

from __future__ import annotations

from typing import NamedTuple

LANGUAGES: tuple[str, ...] = ("de", "en")


class Same(NamedTuple):
    """An entry that reads exactly like another one: the words are written (and translated)
    once, under `key`, and shown under both ids."""

    key: str


def same(key: str) -> Same:
    """The entry for a message that reads like message `key` (see `Same`)."""
    return Same(key)


#: {message id: {"de": text, "en": text} or same("other.id")}
Messages = dict[str, dict[str, str] | Same]

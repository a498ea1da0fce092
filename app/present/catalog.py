"""The one German/English message catalogue and the user's language.

The messages of the screen and the paper are one table, `app.present.messages` (split by
topic; every id once, every word translated once, German and English for each). `t(id, lang,
**fields)` looks them up; the table is built on the first lookup, so importing this module stays
cheap (`wardcopy --help`). `register` adds messages that are not in the table (tests); it
refuses to give an id of the table other words. A missing id or a bad format field never
raises: a screen with a raw message id is better than a crashed viewer in a downtime.

Everything here is pure except `detect_language`, which reads the environment, and `register`,
which adds to the process-wide catalogue.
"""

from __future__ import annotations

import locale
import os
import sys
import threading
from collections.abc import Mapping

from app.present.messages.base import LANGUAGES as LANGUAGES

DEFAULT_LANGUAGE = "en"

_EXTRA: dict[str, dict[str, str]] = {}  # registered at run time (tests), not in the table
_TABLE: dict[str, dict[str, str]] | None = None
_LOCK = threading.Lock()


def _table() -> dict[str, dict[str, str]]:
    """The message table (`app.present.messages`), built once per process (thread-safe)."""
    global _TABLE
    if _TABLE is None:
        with _LOCK:
            if _TABLE is None:
                from app.present.messages import build_table

                _TABLE = build_table()
    return _TABLE


def normalize_language(lang: str | None) -> str:
    """Pure: map any language or locale string ("de_DE.UTF-8", "EN", None) to "de" or "en"."""
    if lang and lang.strip().lower().startswith("de"):
        return "de"
    return DEFAULT_LANGUAGE


def detect_language(setting: str | None, environ: Mapping[str, str] | None = None) -> str:
    """Return the UI language: the setting if it is "de"/"en", else from the locale environment.

    `setting` "auto", "" or None means: look at LC_ALL, then LC_MESSAGES, then LANG (POSIX
    precedence); "de*" gives "de", anything else (including "C" or nothing) gives "en".
    `environ` defaults to `os.environ` (tests pass their own). On Windows, where those variables
    are usually unset, the process locale is used. Never raises.
    """
    if setting:
        wanted = setting.strip().lower()
        if wanted in LANGUAGES:
            return wanted
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:
            return normalize_language(value)
    if environ is None and sys.platform == "win32":
        try:
            return normalize_language(locale.getlocale()[0])
        except (ValueError, TypeError):
            return DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE


# --- catalog -------------------------------------------------------------------------------


def register(catalog: Mapping[str, Mapping[str, str]]) -> None:
    """Add messages that are not in the table: {message_id: {"de": text, "en": text}}.

    The screen's and the paper's messages belong in `app.present.messages`, not here. Side
    effect: mutates the process-wide catalogue. Registering an id again replaces its texts.
    Raises ValueError if an entry has no text in any supported language (it could never be
    shown), or if it gives an id of the table other words (a word is translated once).
    """
    table = _table()
    for key, texts in catalog.items():
        known = {lang: text for lang, text in texts.items() if lang in LANGUAGES}
        if not known:
            raise ValueError(f"message {key!r} has no text in {', '.join(LANGUAGES)}")
        if key in table:
            if any(table[key].get(lang) != text for lang, text in known.items()):
                raise ValueError(
                    f"message {key!r} is in app.present.messages with other words; change it there"
                )
            continue
        _EXTRA.setdefault(key, {}).update(known)


def _texts(key: str) -> dict[str, str] | None:
    return _table().get(key) or _EXTRA.get(key)


def has_message(key: str) -> bool:
    """Whether `key` is in the catalogue (builds the table on first use)."""
    return _texts(key) is not None


def t(key: str, lang: str, **fmt: object) -> str:
    """Return message `key` in `lang`, with `{field}` placeholders filled from `fmt`.

    Falls back to English, then to any language; a missing key returns the key itself; a
    template whose fields do not match `fmt` is returned unformatted. Never raises.
    """
    texts = _texts(key)
    if not texts:
        return key
    template = texts.get(normalize_language(lang)) or texts.get(DEFAULT_LANGUAGE)
    if template is None:
        template = next(iter(texts.values()))
    if not fmt:
        return template
    try:
        return template.format(**fmt)
    except (KeyError, IndexError, ValueError, AttributeError, TypeError):
        return template

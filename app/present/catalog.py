"""The one German/English message catalogue and the user's language.

Every module that shows text registers its messages here with
`register({"id": {"de": ..., "en": ...}})` at import time; `t(id, lang, **fields)` looks them up.
A missing id or a bad format field never raises: a screen with a raw message id is better than a
crashed viewer in a downtime. The clinical vocabulary shared by screen and paper (code status,
criticality, status words, column names) lives once in `app.present.words`.

Everything here is pure except `detect_language`, which reads the environment, and `register`,
which fills the process-wide catalogue.
"""

from __future__ import annotations

import locale
import os
import sys
from collections.abc import Mapping

LANGUAGES: tuple[str, ...] = ("de", "en")
DEFAULT_LANGUAGE = "en"

_CATALOG: dict[str, dict[str, str]] = {}


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
    """Add messages to the global catalog: {message_id: {"de": text, "en": text}}.

    Side effect: mutates the process-wide catalog. Registering an id again replaces the texts
    given for it (so a module reload is harmless). Raises ValueError if an entry has no text in
    any supported language, because such a message could never be shown.
    """
    for key, texts in catalog.items():
        known = {lang: text for lang, text in texts.items() if lang in LANGUAGES}
        if not known:
            raise ValueError(f"message {key!r} has no text in {', '.join(LANGUAGES)}")
        _CATALOG.setdefault(key, {}).update(known)


def has_message(key: str) -> bool:
    """Pure: whether `key` is registered."""
    return key in _CATALOG


def t(key: str, lang: str, **fmt: object) -> str:
    """Return message `key` in `lang`, with `{field}` placeholders filled from `fmt`.

    Falls back to English, then to any language; a missing key returns the key itself; a
    template whose fields do not match `fmt` is returned unformatted. Never raises.
    """
    texts = _CATALOG.get(key)
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

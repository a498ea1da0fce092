"""Load reportlab's platypus without compiling the one regular expression it builds at import
that Wardcopy never uses.

`reportlab.platypus.paragraph` compiles `uri_pat` (Django's URL validator pattern, with a
character class up to U+FFFF) when it is imported: about 24 ms of CPU, more than a third of
importing platypus, on every `wardcopy print`. reportlab uses it only to break URLs in
paragraphs whose style sets `uriWasteReduce`, which no Wardcopy style does.

`load_platypus` imports platypus while `re.compile` hands out a stand-in for that one pattern
(recognised by its start) that compiles it when it is first used, so reportlab behaves as
before if it ever is. Every other pattern is compiled as usual, and `re.compile` is restored
before the function returns. Used by `wardcopy print` (app.printing.cli) only: a one-shot
process where start-up time is the point (docs/performance.md); the viewer and tests import
reportlab the ordinary way.

Side effects: imports reportlab.platypus; replaces `re.compile` for the duration of that import.
"""

from __future__ import annotations

import re
import sys
import threading
from typing import Any

# The start of reportlab's `uri_pat` (reportlab/platypus/paragraph.py, "derived from Django").
URI_PATTERN_START = r"(^(?:[a-z0-9\.\-\+]*)://)"

_LOCK = threading.Lock()


class CompiledOnUse:
    """A compiled pattern that is compiled when one of its attributes is first asked for."""

    def __init__(self, pattern: str, flags: int, compile_: Any) -> None:
        self._args = (pattern, flags)
        self._compile = compile_
        self._compiled: re.Pattern[str] | None = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # pickling and copying probe dunders: not a pattern's use
            raise AttributeError(name)
        with _LOCK:
            if self._compiled is None:
                self._compiled = self._compile(*self._args)
        return getattr(self._compiled, name)


def load_platypus() -> None:
    """Import reportlab.platypus (see the module docstring); nothing if it is loaded already."""
    if "reportlab.platypus" in sys.modules:
        return
    real = re.compile

    def compile_(pattern: Any, flags: int = 0) -> Any:
        if isinstance(pattern, str) and pattern.startswith(URI_PATTERN_START):
            return CompiledOnUse(pattern, flags, real)
        return real(pattern, flags)

    re.compile = compile_
    try:
        import reportlab.platypus  # noqa: F401
    finally:
        re.compile = real

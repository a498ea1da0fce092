"""The one hyphenation dictionary for screen and paper (pyphen's German patterns).

The record's free text is in the hospital's language (German in every ISiK hospital); German
patterns also split English drug and substance names at plausible points. The census cell
(app.ui.viewmodels.fit) and the printed table cell (app.printing.layout) break the same words
at the same points.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

HYPHENATION_LANG = "de_DE"


@lru_cache(maxsize=1)
def dictionary() -> Any:
    """pyphen's dictionary, loaded once per process (about 0.3 s of CPU on first call).

    Side effect: imports pyphen on first use (only a word wider than its cell needs it)."""
    import pyphen

    return pyphen.Pyphen(lang=HYPHENATION_LANG)

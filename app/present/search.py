"""The one folding of text for matching, on every search path.

The snapshot's search index (`sync.searchtext`, written on the server) and the viewer's instant
filter over the census use the same `fold`: "lukasz" finds "Łukasz", "muller" and "mueller" find
"Müller", "strasse" finds "Straße", on both paths. Pure.
"""

from __future__ import annotations

from sync.searchtext import fold, german_variant


def fold_forms(text: str) -> tuple[str, str]:
    """Both ways people type umlauts: "Müller" -> ("muller", "mueller")."""
    return fold(text), german_variant(text)


__all__ = ["fold", "fold_forms", "german_variant"]

"""The one folding of text for matching, on every search path.

The snapshot's search index (`sync.searchtext`, written on the server) and the viewer's instant
filter over the census use the same `fold`: "lukasz" finds "Łukasz", "muller" and "mueller" find
"Müller", "strasse" finds "Straße", on both paths. Pure.
"""

from __future__ import annotations

from sync.searchtext import fold, german_variant

# The German variant differs from the plain fold only for text with an umlaut (composed, or a
# base letter with U+0308); skipping it otherwise keeps the census filter's preparation fast.
_UMLAUT_SIGNS = frozenset("äöüÄÖÜ\u0308")


def fold_forms(text: str) -> tuple[str, str]:
    """Both ways people type umlauts: "Müller" -> ("muller", "mueller")."""
    if text.isascii():
        lowered = text.lower()  # what fold gives for ASCII, without the general path
        return lowered, lowered
    folded = fold(text)
    if _UMLAUT_SIGNS.isdisjoint(text):
        return folded, folded
    return folded, german_variant(text)


__all__ = ["fold", "fold_forms", "german_variant"]

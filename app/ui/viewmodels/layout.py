"""How much room a screen has: the window width decides between the full and the compact layout.

Pure: the shell passes the page width in; the widgets read `compact`. Ward laptops are often
1024x768 or 1366x768, so every screen is laid out for 1024 px without clipping what identifies a
patient or warns about one (name, birth date, MRN, bed, code status, allergies, data age).
"""

from __future__ import annotations

from dataclasses import dataclass

COMPACT_BELOW = 1280  # px: below this the banner and the census use their compact forms
DEFAULT_WIDTH = 1366  # before the client has reported its size


@dataclass(frozen=True)
class Layout:
    width: float

    @property
    def compact(self) -> bool:
        return self.width < COMPACT_BELOW


def layout_for(width: float | None) -> Layout:
    """The layout for a page `width` in logical pixels (None or 0: not known yet)."""
    return Layout(float(width) if width else float(DEFAULT_WIDTH))

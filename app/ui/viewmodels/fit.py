"""What of a list fits a fixed-height census cell: whole words only, and a "+N" for the rest.

Pure (no Flet): the census row has a fixed height (the list is virtualised), so flags and
allergies cannot grow it. Instead of letting the renderer clip a pill mid-line or break a word
mid-word ("Kontaktisol ation"), the row shows the items that fit whole and a visible "+N" for
the items it leaves out; the full list stays in the chart and in the cell's `full` text.

Text widths are estimated per character class (Roboto advances, rounded up) from the column's
narrowest width: a wider window shows the same items, never a cut one.
"""

from __future__ import annotations

from dataclasses import dataclass

# Roboto advance widths in em, rounded up; bold adds about 4 %.
_NARROW = frozenset("iljtfrI.,:;'|!()[] ")
_WIDE = frozenset("mwMW@%")
_EM_NARROW = 0.30
_EM_WIDE = 0.88
_EM_UPPER = 0.68
_EM_OTHER = 0.58
_BOLD = 1.05


def text_width(value: str, font_px: float, *, bold: bool = True) -> float:
    """Estimated width in px of `value` at `font_px` (a little generous)."""
    em = 0.0
    for ch in value:
        if ch in _NARROW:
            em += _EM_NARROW
        elif ch in _WIDE:
            em += _EM_WIDE
        elif ch.isupper():
            em += _EM_UPPER
        else:
            em += _EM_OTHER
    return em * font_px * (_BOLD if bold else 1.0)


@dataclass(frozen=True)
class Fitted:
    shown: tuple[str, ...]  # items shown whole, in order
    more: int  # items left out: shown as "+N" when > 0
    full: str  # every item, ", "-joined: the cell's accessible text

    @property
    def more_text(self) -> str:
        return f"+{self.more}" if self.more else ""


def fit_items(
    items: list[str],
    *,
    width: float,
    lines: int,
    font_px: float,
    bold: bool = True,
    inline: bool = False,
    total: int | None = None,
) -> Fitted:
    """The leading items of `items` that fit `lines` lines of `width` px, whole.

    Block mode (flags: one pill each) starts every item on a new line; inline mode (allergies:
    "Penicillin, Latex") runs them on, joined by ", ". `total` (default: len(items)) counts
    items that exist but are not listed (the left-out ones add to "+N"). When items are left
    out, room for "+N" is kept on the last line (or a line of its own). Stops at the first item
    that does not fit, so the order (most important first) is kept. An item with a word wider
    than a line never shows (it would break mid-word); it counts in "+N".
    """
    count = len(items) if total is None else max(total, len(items))
    full = ", ".join(items)
    space = text_width(" ", font_px, bold=bold)

    def w(s: str) -> float:
        return text_width(s, font_px, bold=bold)

    shown: list[str] = []
    line_no, used = 0, 0.0  # current line (0-based) and px used on it
    for index, item in enumerate(items):
        last_listed = index + 1 == len(items)
        words = item.split()
        if inline and not last_listed and words:
            words[-1] += ","  # the joining comma stays with its word
        cont = inline and bool(shown)
        cur_line = line_no if cont else (line_no + 1 if shown else 0)
        cur = used if cont else 0.0
        ok = True
        for word in words:
            ww = w(word)
            if ww > width:
                ok = False
                break
            if cur and cur + space + ww > width:
                cur_line, cur = cur_line + 1, ww
            else:
                cur += (space if cur else 0.0) + ww
        if not ok or cur_line >= lines:
            break
        rest = count - index - 1
        if rest:
            marker = w(f"+{rest}") + 2 * space
            if cur + marker > width and cur_line + 1 >= lines:
                break  # no room left for the "+N" that would follow
        shown.append(item)
        line_no, used = cur_line, cur
    return Fitted(tuple(shown), count - len(shown), full)

"""What of a list fits a fixed-height census cell: whole words only, and a "+N" for the rest.

Pure (no Flet): the census row has a fixed height (the list is virtualised), so flags and
allergies cannot grow it. Instead of letting the renderer clip a pill mid-line or break a word
mid-word ("Kontaktisol ation"), the row shows the items that fit whole and a visible "+N" for
the items it leaves out; the full list stays in the chart and in the cell's `full` text. A single
word wider than the column ("Hausstaubmilbe" at 1024 px) is hyphenated at a dictionary point
("Hausstaub-" / "milbe", pyphen's German patterns: the record's words are the hospital's) and the
cell shows it on two lines with an explicit break, so the renderer never has to cut it.

Text widths are estimated per character class (Roboto advances, rounded up) from the column's
narrowest width: a wider window shows the same items, never a cut one.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.present import hyphen

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


# The estimate runs about 10 % wide ("Hausstaub-" at 14 px bold: 82.6 px estimated, 74 px drawn
# at 1024 px): a word at most this much over a line is left whole rather than hyphenated.
WHOLE_SLACK = 1.04
MIN_TAIL = 4  # letters a hyphenated word carries onto its next line, where the word allows


def warm_up() -> None:
    """Load the hyphenation dictionary now (about 0.3 s of CPU, seconds on a loaded machine).

    Side effect: fills `app.present.hyphen.dictionary`'s cache. The viewer calls it in a
    thread at start-up so the first census with a word too wide for its column does not pay
    it in front of the login.
    """
    hyphen.dictionary()


def _split_points(word: str) -> list[tuple[int, bool]]:
    """Where `word` may break: (index, needs an added "-"). After a hyphen the word has one
    already; elsewhere the dictionary's points inside each letter run (trailing ":" or ","
    never lands alone on the next line)."""
    points: list[tuple[int, bool]] = []
    start = 0
    for part in word.split("-"):
        end = start + len(part)
        core_from = start + (len(part) - len(part.lstrip(".,:;()[]'\"")))
        core = word[core_from : start + len(part.rstrip(".,:;()[]'\""))]
        points.extend((core_from + i, True) for i in hyphen.dictionary().positions(core))
        if end < len(word):
            points.append((end + 1, False))  # just after the existing hyphen
        start = end + 1
    return sorted(points)


def hyphenate(word: str, width: float, font_px: float, *, bold: bool = True) -> list[str]:
    """`word` as pieces that each fit `width` px: every piece but the last ends in "-" (the
    word's own hyphen or one added at a dictionary point). A word that fits is one piece. A
    piece with no dictionary point that fits (a long code) is cut at the last letter that fits,
    with a "-": a visible continuation, never a silent cut."""

    def fits(piece: str) -> bool:
        return text_width(piece, font_px, bold=bold) <= width

    if text_width(word, font_px, bold=bold) <= width * WHOLE_SLACK:
        return [word]  # estimated a little wide, but the renderer fits it: leave it whole
    pieces: list[str] = []
    rest = word
    while len(rest) > 1 and not fits(rest):
        candidates = [(i, add) for i, add in _split_points(rest) if 0 < i < len(rest)]
        fitting = [(i, add) for i, add in candidates if fits(rest[:i] + ("-" if add else ""))]
        # The last point that fits, unless it leaves a stub: "Hausstaub-/milbe", not
        # "Hausstaubmil-/be" (both are dictionary points; the stub is what reads as broken).
        whole = [(i, add) for i, add in fitting if sum(c.isalpha() for c in rest[i:]) >= MIN_TAIL]
        pick = (whole or fitting)[-1:] or None
        chosen = (rest[: pick[0][0]] + ("-" if pick[0][1] else ""), pick[0][0]) if pick else None
        if chosen is None:
            cut = max(1, max((i for i in range(1, len(rest)) if fits(rest[:i] + "-")), default=1))
            if not any(c.isalnum() for c in rest[cut:]):
                # Only punctuation would go on (":," at a tiny width): a stranded "," reads as
                # a broken item; keep the word whole (the cell drops the joining comma anyway).
                break
            chosen = rest[:cut] + "-", cut
        pieces.append(chosen[0])
        rest = rest[chosen[1] :]
    pieces.append(rest)
    return pieces


def clipped(value: str, width: float, font_px: float, lines: int, *, bold: bool = True) -> str:
    """`value` as at most `lines` lines of `width` px, each line break explicit: words whole, a
    word wider than a line hyphenated (`hyphenate`). When more is left, the last line kept ends
    in "…", a visible cut (the renderer's own ellipsis does not follow an explicit break)."""

    def w(s: str) -> float:
        return text_width(s, font_px, bold=bold)

    out: list[str] = []
    for word in value.split():
        for n, piece in enumerate(hyphenate(word, width, font_px, bold=bold)):
            if out and not n and w(f"{out[-1]} {piece}") <= width:
                out[-1] = f"{out[-1]} {piece}"
            else:
                out.append(piece)
    if len(out) <= lines:
        return "\n".join(out)
    last = out[lines - 1].removesuffix("-")
    while last and w(last + "…") > width:
        last = last[:-1]
    return "\n".join([*out[: lines - 1], last.rstrip() + "…"])


@dataclass(frozen=True)
class Fitted:
    shown: tuple[str, ...]  # items shown whole, in order
    more: int  # items left out: shown as "+N" when > 0
    full: str  # every item, ", "-joined: the cell's accessible text
    # The shown items as the cell draws them: a word wider than a line hyphenated, its pieces
    # on lines of their own ("Hausstaub-\nmilbe"). Same length as `shown`.
    display: tuple[str, ...] = ()

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
    that does not fit, so the order (most important first) is kept. A word wider than a line is
    hyphenated (`hyphenate`): its pieces take lines of their own in `display`, and the item
    shows if they fit the lines, else it counts in "+N". The renderer never breaks a word.
    """
    count = len(items) if total is None else max(total, len(items))
    full = ", ".join(items)
    space = text_width(" ", font_px, bold=bold)

    def w(s: str) -> float:
        return text_width(s, font_px, bold=bold)

    shown: list[str] = []
    display: list[str] = []
    line_no, used = 0, 0.0  # current line (0-based) and px used on it
    for index, item in enumerate(items):
        last_listed = index + 1 == len(items)
        words = item.split()
        if inline and not last_listed and words:
            words[-1] += ","  # the joining comma stays with its word
        cont = inline and bool(shown)
        cur_line = line_no if cont else (line_no + 1 if shown else 0)
        cur = used if cont else 0.0
        drawn: list[str] = []
        for word in words:
            pieces = hyphenate(word, width, font_px, bold=bold)
            for n, piece in enumerate(pieces):
                ww = w(piece)
                # A hyphenated word's next piece always starts a line of its own.
                if n or (cur and cur + space + ww > width):
                    cur_line, cur = cur_line + 1, ww
                else:
                    cur += (space if cur else 0.0) + ww
            drawn.append("\n".join(pieces))
        if cur_line >= lines:
            break
        rest = count - index - 1
        if rest:
            marker = w(f"+{rest}") + 2 * space
            if cur + marker > width and cur_line + 1 >= lines:
                break  # no room left for the "+N" that would follow
        shown.append(item)
        text = " ".join(drawn)
        display.append(text[:-1] if inline and not last_listed and text.endswith(",") else text)
        line_no, used = cur_line, cur
    return Fitted(tuple(shown), count - len(shown), full, tuple(display))

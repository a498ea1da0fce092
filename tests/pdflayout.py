"""Test helper: where the text of a PDF really is, compared with where the layout allowed it.

`text_runs` reads each run of text (one drawn string: consecutive glyphs on one baseline in one
font and size) with its box and font size from the PDF with pdfminer.six, which computes every
glyph's box from the font's metrics (pypdf's text visitor gives only a run's start point, not
its width). `layout_problems` compares the runs with the boxes `app.printing.layout.trace_layout`
recorded while the document was built: each run must lie inside the innermost box (table cell,
badge, band, body frame, header or footer zone) that holds its first glyph, and no two runs may
overlap. A cut or overflowing cell, text across a cell line, or a header line over a barcode
label all show up as a problem with the page and the text.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from pdfminer.high_level import extract_pages
from pdfminer.layout import LTChar, LTContainer, LTCurve, LTImage, LTItem

from app.printing.layout import Box, LayoutTrace

TOLERANCE = 0.75  # points: a glyph box is the font's full em, a little more than its ink


@dataclass(frozen=True)
class Run:
    page: int
    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    size: float
    font: str


def _chars(item: LTItem) -> list[LTChar]:
    if isinstance(item, LTChar):
        return [item]
    if isinstance(item, LTContainer):
        return [c for child in item for c in _chars(child)]
    return []


def _run(page: int, chars: list[LTChar]) -> Run:
    return Run(
        page,
        "".join(c.get_text() for c in chars),
        min(c.x0 for c in chars),
        min(c.y0 for c in chars),
        max(c.x1 for c in chars),
        max(c.y1 for c in chars),
        chars[0].size,
        chars[0].fontname,
    )


def _continues(last: LTChar, char: LTChar) -> bool:
    """Whether `char` is drawn right after `last` in the same string (line, font, size)."""
    return (
        abs(char.y0 - last.y0) < 0.1
        and abs(char.size - last.size) < 0.01
        and char.fontname == last.fontname
        and abs(char.x0 - last.x1) < 0.5
    )


def text_runs(pdf: bytes) -> list[Run]:
    """Every run of text of `pdf` with visible characters, in drawing order."""
    groups: list[tuple[int, list[LTChar]]] = []
    for number, page in enumerate(extract_pages(io.BytesIO(pdf), laparams=None), start=1):
        for char in _chars(page):
            if groups and groups[-1][0] == number and _continues(groups[-1][1][-1], char):
                groups[-1][1].append(char)
            else:
                groups.append((number, [char]))
    runs = [_run(number, chars) for number, chars in groups]
    return [r for r in runs if r.text.strip()]


def _inside(run: Run, box: Box, tolerance: float = TOLERANCE) -> bool:
    return (
        run.x0 >= box.x0 - tolerance
        and run.x1 <= box.x1 + tolerance
        and run.y0 >= box.y0 - tolerance
        and run.y1 <= box.y1 + tolerance
    )


def home_box(run: Run, boxes: list[Box]) -> Box | None:
    """The innermost box holding the start of `run` (its first glyph's left middle)."""
    x, y = run.x0 + min(1.0, (run.x1 - run.x0) / 2), (run.y0 + run.y1) / 2
    holding = [b for b in boxes if b.page == run.page and b.x0 <= x <= b.x1 and b.y0 <= y <= b.y1]
    if not holding:
        return None
    return min(holding, key=lambda b: (b.x1 - b.x0) * (b.y1 - b.y0))


def _overlap(a: Run, b: Run) -> bool:
    return (
        min(a.x1, b.x1) - max(a.x0, b.x0) > TOLERANCE
        and min(a.y1, b.y1) - max(a.y0, b.y0) > TOLERANCE
    )


def layout_problems(pdf: bytes, trace: LayoutTrace) -> list[str]:
    """What is drawn outside its box or over other text in `pdf`, one line each (empty: none)."""
    runs = text_runs(pdf)
    problems: list[str] = []
    for run in runs:
        box = home_box(run, trace.boxes)
        if box is None:
            problems.append(f"p.{run.page}: {run.text!r} starts outside every cell and zone")
        elif not _inside(run, box):
            problems.append(
                f"p.{run.page}: {run.text!r} ({run.x0:.1f}..{run.x1:.1f}, {run.y0:.1f}.."
                f"{run.y1:.1f}) leaves its {box.kind} ({box.x0:.1f}..{box.x1:.1f}, "
                f"{box.y0:.1f}..{box.y1:.1f})"
            )
    for page in {r.page for r in runs}:
        mine = sorted((r for r in runs if r.page == page), key=lambda r: r.x0)
        for i, a in enumerate(mine):
            for b in mine[i + 1 :]:
                if b.x0 >= a.x1:
                    break
                if _overlap(a, b):
                    problems.append(f"p.{page}: {a.text!r} overlaps {b.text!r}")
    return problems


def smallest_text(pdf: bytes) -> tuple[float, str]:
    """The smallest font size of any text in `pdf`, and a run in that size."""
    runs = text_runs(pdf)
    small = min(runs, key=lambda r: r.size)
    return small.size, small.text


def _drawn(item: LTItem) -> list[LTItem]:
    """Every glyph, line, rectangle, curve and image inside `item`."""
    if isinstance(item, (LTChar, LTCurve, LTImage)):  # LTLine and LTRect are LTCurves
        return [item]
    if isinstance(item, LTContainer):
        return [d for child in item for d in _drawn(child)]
    return []


def outside_margins(pdf: bytes, margin: float) -> list[str]:
    """What `pdf` draws left or right of its side margins (`margin` points from each edge),
    one line each (empty: none): text, table grid lines and fills, rules, barcodes."""
    problems: list[str] = []
    for number, page in enumerate(extract_pages(io.BytesIO(pdf), laparams=None), start=1):
        left, right = margin - TOLERANCE, page.width - margin + TOLERANCE
        for item in _drawn(page):
            if item.x0 < left or item.x1 > right:
                what = item.get_text() if isinstance(item, LTChar) else type(item).__name__
                problems.append(
                    f"p.{number}: {what!r} at x {item.x0:.1f}..{item.x1:.1f}, the margins are "
                    f"{margin:.1f}..{page.width - margin:.1f}"
                )
    return problems

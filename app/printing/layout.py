"""Shared page furniture of every printed document: header, footer, styles, PDF assembly.

Every page carries (drawn by `_NumberedCanvas` once the page count is known):
- a black band "AUSFALLKOPIE – Datenstand <time>" / "DOWNTIME COPY - data as of <time>" and the
  document title;
- the patient's name, birth date (age), sex and MRN, with a Code 128 barcode of the MRN (a QR
  code when the MRN is not plain ASCII); the census shows the ward instead;
- red badges for a limiting code status (DNR, DNI, comfort care) and for documented allergies, so
  that they are seen on every page, not only the first;
- a footer "printed by <user> on <time>" and "page X of Y".

Pure except for reading the bundled fonts once (see `fonts.register_fonts`). `build_pdf`
returns bytes; nothing is written to disk.
"""

from __future__ import annotations

import io
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo
from functools import lru_cache, partial
from typing import Any, Protocol
from xml.sax.saxutils import escape

from reportlab.graphics.barcode import qrencoder
from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.paragraph import cleanBlockQuotedText

from app.present import hyphen
from app.present.catalog import t
from app.present.clinical import (
    LIMITING_CODE_STATUS,
    born_text,
    case_text,
    code_status_label,
    room_bed_text,
    sex_word,
)
from app.present.formats import datetime_text, fmt_date, fmt_datetime
from app.printing.fonts import BOLD, REGULAR, register_fonts
from sync.model import DataWindows, PatientRecord

PORTRAIT = A4
LANDSCAPE = landscape(A4)
MARGIN = 14 * mm
HEADER_HEIGHT = 40 * mm  # room for two identifier codes and a row of alert badges
FOOTER_HEIGHT = 12 * mm
BREAK_GLASS_BAR = 4.8 * mm
LEGEND_HEIGHT = 4.5 * mm

RED = colors.HexColor("#B00020")
DARK = colors.HexColor("#111111")
GREY = colors.HexColor("#666666")
LIGHT = colors.HexColor("#EEEEEE")
ABNORMAL_BG = colors.HexColor("#FFF0D9")
CRITICAL_BG = colors.HexColor("#FFD6D6")


class MetaLike(Protocol):
    """What a document needs from the snapshot: `sync.snapshot.SnapshotMeta` fits."""

    @property
    def ward_name(self) -> str: ...

    @property
    def data_as_of(self) -> datetime: ...


@dataclass(frozen=True)
class DocumentMeta:
    """A `MetaLike` for callers without a snapshot (tests, the demo)."""

    ward_name: str
    data_as_of: datetime
    ward_id: str = ""
    # The sync's windows (SnapshotMeta.windows); None: the values fixed before they travelled.
    windows: DataWindows | None = None


def meta_windows(meta: MetaLike) -> DataWindows:
    """The time windows the sync applied to the snapshot behind `meta` (`windows`, when the
    meta has them), else the defaults that were fixed before they travelled in snapshots."""
    windows = getattr(meta, "windows", None)
    return windows if isinstance(windows, DataWindows) else DataWindows()


@dataclass(frozen=True)
class PageContext:
    """Everything the page furniture draws; built once per document."""

    lang: str
    title: str
    downtime_line: str
    printed_line: str
    ident_name: str
    ident_lines: tuple[str, ...] = ()
    barcode_value: str | None = None  # the MRN (census: the ward id)
    barcode_label: str | None = None  # clear text under it (default: the value)
    case_value: str | None = None  # the case (encounter) number, a second code
    case_label: str | None = None
    break_glass_line: str | None = None  # printed by a break-glass session: said on every page
    legend_line: str | None = None  # a key printed above the footer of every page (MAR codes)
    # Each badge: its texts from most to least detailed (the header shortens them to keep the
    # patient's name whole), and whether it is red.
    badges: tuple[tuple[tuple[str, ...], bool], ...] = ()
    pagesize: tuple[float, float] = PORTRAIT
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def codes(self) -> tuple[tuple[str, str], ...]:
        """(label, value) of each identifier code in the header, rightmost first."""
        out: list[tuple[str, str]] = []
        if self.barcode_value:
            out.append((self.barcode_label or self.barcode_value, self.barcode_value))
        if self.case_value:
            out.append((self.case_label or self.case_value, self.case_value))
        return tuple(out)


# --------------------------------------------------------------------------- layout trace


@dataclass(frozen=True)
class Box:
    """A rectangle text may be drawn in, in PDF points on page `page` (1-based): a table
    cell ("cell"), the body frame ("frame"), the header or footer zone, a badge, a black band."""

    page: int
    x0: float
    y0: float
    x1: float
    y1: float
    kind: str


@dataclass
class LayoutTrace:
    """Where `build_pdf` allowed text to go, recorded while `trace_layout()` is active."""

    boxes: list[Box] = field(default_factory=list)
    pages: int = 0
    pagesize: tuple[float, float] = PORTRAIT


_TRACE: ContextVar[LayoutTrace | None] = ContextVar("wardcopy_layout_trace", default=None)


@contextmanager
def trace_layout() -> Iterator[LayoutTrace]:
    """Debug hook for layout tests: while active, `build_pdf` records every table cell's box
    (through reportlab's per-table render callback), the body frame, the header and footer
    zones, badges and bands of each page into the yielded trace (of the last document built).
    A test compares them with the text positions in the PDF. No effect on the PDF's bytes."""
    trace = LayoutTrace()
    token = _TRACE.set(trace)
    try:
        yield trace
    finally:
        _TRACE.reset(token)


def _trace_box(page: int, x0: float, y0: float, x1: float, y1: float, kind: str) -> None:
    trace = _TRACE.get()
    if trace is not None:
        trace.boxes.append(Box(page, min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1), kind))


def _record_cell(table: Any, command: str, *args: Any) -> None:
    """reportlab Table render callback: the page box of each cell as it is drawn."""
    if command != "startCell":
        return
    _row, _col, _value, _style, (x, y), (w, h) = args
    canvas = table.canv
    page = len(getattr(canvas, "_saved_pages", ())) + 1  # _NumberedCanvas defers showPage
    x0, y0 = canvas.absolutePosition(x, y)
    x1, y1 = canvas.absolutePosition(x + w, y + h)
    _trace_box(page, x0, y0, x1, y1, "cell")


def _watch_tables(item: Any) -> None:
    """Set the cell-recording render callback on every Table in `item` (nested ones too);
    reportlab hands it on to the parts of a table split across pages."""
    if isinstance(item, (list, tuple)):
        for x in item:
            _watch_tables(x)
    elif isinstance(item, Table):
        item._renderCB = _record_cell
        for row in item._cellvalues:
            _watch_tables(row)
    elif isinstance(item, KeepTogether):
        _watch_tables(item._content)


# --------------------------------------------------------------------------- styles


@dataclass(frozen=True)
class Styles:
    body: ParagraphStyle
    small: ParagraphStyle
    bold: ParagraphStyle
    cell: ParagraphStyle
    cell_bold: ParagraphStyle
    head_cell: ParagraphStyle
    h1: ParagraphStyle
    h2: ParagraphStyle
    alert: ParagraphStyle
    big_alert: ParagraphStyle


def styles() -> Styles:
    """Paragraph styles in the bundled font (registers it on first use)."""
    register_fonts()
    body = ParagraphStyle("body", fontName=REGULAR, fontSize=8.5, leading=10.5, alignment=TA_LEFT)
    return Styles(
        body=body,
        small=ParagraphStyle("small", parent=body, fontSize=8, leading=9.5, textColor=GREY),
        bold=ParagraphStyle("bold", parent=body, fontName=BOLD),
        cell=ParagraphStyle("cell", parent=body, fontSize=8, leading=9.5),
        cell_bold=ParagraphStyle("cellb", parent=body, fontName=BOLD, fontSize=8, leading=9.5),
        head_cell=ParagraphStyle("headc", parent=body, fontName=BOLD, fontSize=8, leading=9.5),
        h1=ParagraphStyle("h1", parent=body, fontName=BOLD, fontSize=13, leading=16),
        h2=ParagraphStyle(
            "h2",
            parent=body,
            fontName=BOLD,
            fontSize=10.5,
            leading=13,
            spaceBefore=7,
            spaceAfter=3,
        ),
        alert=ParagraphStyle("alert", parent=body, fontName=BOLD, textColor=RED),
        big_alert=ParagraphStyle(
            "bigalert", parent=body, fontName=BOLD, fontSize=12, leading=15, textColor=colors.white
        ),
    )


# reportlab ships no type hints, so its classes are Any to mypy.
class Para(Paragraph):  # type: ignore[misc]
    """A Paragraph that breaks its lines once per width.

    A table asks each cell's paragraph for its size while measuring rows, again when it splits
    across pages and again when it draws; reportlab breaks the lines anew each time (about 2.6
    times per printed paragraph). The result depends only on the width (and the paragraph's own
    text and style, which do not change), so the size of the last width is kept and returned
    for the same width: the lines are those of that width (`blPara`), as after a new break.
    Same PDF bytes; 15 % less rendering time (docs/performance.md).
    """

    _last_wrap: tuple[float, tuple[float, float], object] | None = None

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        last = self._last_wrap
        # Only while the lines of that width are still in place: reportlab deletes `blPara`
        # when it pushes a paragraph whole to the next page (no room to avoid a widow).
        if last is not None and last[0] == availWidth and self.__dict__.get("blPara") is last[2]:
            return last[1]
        size = super().wrap(availWidth, availHeight)
        self._last_wrap = (availWidth, size, self.__dict__.get("blPara"))
        return size  # type: ignore[no-any-return]


# Text that reportlab's paragraph parser would see as markup (after escaping) or as line breaks.
_NOT_PLAIN = frozenset("<>&\n")
# The fragment reportlab's parser makes of a plain word in a style (see `_plain_fragment`).
_PLAIN_FRAGMENTS: weakref.WeakKeyDictionary[ParagraphStyle, Any] = weakref.WeakKeyDictionary()


def _plain_fragment(style: ParagraphStyle) -> Any:
    """The fragment reportlab's parser makes of a plain word in `style` (parsed once per style),
    or None when the parser makes anything but one fragment in that same style."""
    if style not in _PLAIN_FRAGMENTS:
        probe = Paragraph("x", style)
        one = len(probe.frags) == 1 and probe.style is style and probe.frags[0].text == "x"
        _PLAIN_FRAGMENTS[style] = probe.frags[0] if one else None
    return _PLAIN_FRAGMENTS[style]


def para(text: str | None, style: ParagraphStyle, *, markup: bool = False) -> Paragraph:
    """A Paragraph of `text`, XML-escaped unless `markup` (names may contain & and <).

    Plain text (no markup, no <, > or & and no line break: most table cells) skips reportlab's
    markup parser, which is a third of rendering a summary: the paragraph gets the fragment
    the parser makes of a plain word in that style, with the text as the parser would clean it
    (`cleanBlockQuotedText`). Same PDF bytes (docs/performance.md).
    """
    value = text or ""
    if not markup:
        fragment = None if _NOT_PLAIN.intersection(value) else _plain_fragment(style)
        if fragment is not None:
            cleaned = cleanBlockQuotedText(value)
            frags = [fragment.clone(text=cleaned)] if cleaned else []
            return Para(cleaned, style, frags=frags)
        value = escape(value).replace("\n", "<br/>")
    return Para(value, style)


class SectionHeading(Para):
    """A section heading that moves to the next page when too little room is left under it.

    (reportlab's keepWithNext would move a heading together with its whole table, leaving a
    near-empty page before a long table; this only prevents an orphaned heading.) When less than
    `MIN_SPACE` remains, `wrap` reports more height than available and `split` refuses, which
    makes the frame continue on the next page, where the heading fits normally.
    """

    MIN_SPACE = 28 * mm

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        width, height = super().wrap(availWidth, availHeight)
        if availHeight < self.MIN_SPACE:
            return width, availHeight + 1
        return width, height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        if availHeight < self.MIN_SPACE:
            return []
        return list(super().split(availWidth, availHeight))


def section(title: str, st: Styles) -> Paragraph:
    return SectionHeading(escape(title), st.h2)


class DataTable(Table):  # type: ignore[misc]  # reportlab is untyped
    """A table of `data_table`: rows sized by their text, so their padding can shrink."""


def data_table(
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    widths: Sequence[float],
    st: Styles,
    *,
    row_backgrounds: dict[int, colors.Color] | None = None,
    bold_rows: Sequence[int] = (),
) -> Table:
    """A table whose header row repeats on every page; rows split across pages, never dropped.

    `rows` hold strings (wrapped in Paragraphs here) or flowables. `row_backgrounds` maps a data
    row index (0-based, header excluded) to a fill colour.
    """
    head = [para(h, st.head_cell) for h in header]
    body: list[list[Any]] = []
    for i, row in enumerate(rows):
        style = st.cell_bold if i in bold_rows else st.cell
        body.append(
            [
                para(hyphenable(cap_cell(c, w), w - CELL_PADDING, style.fontName), style)
                if isinstance(c, str)
                else para(c, style)
                if c is None
                else c
                for c, w in zip(row, widths, strict=False)
            ]
        )
    table = DataTable([head, *body], colWidths=list(widths), repeatRows=1, hAlign="LEFT")
    commands: list[tuple[Any, ...]] = [
        ("BACKGROUND", (0, 0), (-1, 0), LIGHT),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, DARK),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.HexColor("#BBBBBB")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 2.5),
        ("RIGHTPADDING", (0, 0), (-1, -1), 2.5),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    for index, colour in (row_backgrounds or {}).items():
        commands.append(("BACKGROUND", (0, index + 1), (-1, index + 1), colour))
    table.setStyle(TableStyle(commands))
    return table


def empty_line(text: str, st: Styles) -> Paragraph:
    return para(f"– {text}", st.small)


def spacer(height: float = 3 * mm) -> Spacer:
    return Spacer(1, height)


def keep(*items: Flowable) -> KeepTogether:
    return KeepTogether(list(items))


# --------------------------------------------------------------------------- identity


def patient_context(
    record: PatientRecord,
    *,
    title: str,
    meta: MetaLike,
    printed_by: str,
    lang: str,
    now: datetime,
    tz: tzinfo,
    pagesize: tuple[float, float] = PORTRAIT,
) -> PageContext:
    """Page furniture for a one-patient document (summary, MAR)."""
    today = now.astimezone(tz).date()
    parts = [
        born_text(record.birth_date, today, lang, record.birth_precision),
        sex_word(record.sex, lang),
    ]
    parts.append(t("print.mrn", lang, mrn=record.mrn) if record.mrn else t("print.no_mrn", lang))
    stay = record.stay
    # The hospital's case number (Encounter.identifier), never the FHIR resource id: an id
    # printed as "Fall ..." would be a number nobody at the hospital knows.
    case = stay.case_number if stay is not None and stay.case_number else None
    lines = [" · ".join(parts)]
    if stay is not None:
        where = [x for x in (stay.ward or meta.ward_name,) if x]
        if stay.room or stay.bed:
            where.append(room_bed_text(stay.room, stay.bed, lang))
        if case:
            where.append(case_text(case, lang))
        if where:
            lines.append(" · ".join(where))
    badges: list[tuple[tuple[str, ...], bool]] = []
    if stay is not None and stay.is_finished:
        # A discharged patient's MAR or summary must not be mistaken for a current one.
        when = fmt_date(stay.discharged, lang, tz) if stay.discharged else ""
        badges.append(((t("print.census.discharged", lang, date=when).strip(),), False))
    if record.deceased:
        badges.append(((t("patient.deceased", lang),), True))
    cs = record.code_status
    if cs is not None and cs.kind in LIMITING_CODE_STATUS:
        badges.append(((code_status_label(cs.kind, lang, short=True),), True))
    if record.allergies:
        label = t("print.allergy_badge", lang)
        # Never cut without a marker: "+2 more" says how many the badge leaves out (the full
        # list is on the page); a long substance name ends in "…".
        substances = [
            a.substance if len(a.substance) <= 30 else a.substance[:29] + "…"
            for a in record.allergies
        ]
        texts = []
        for n in range(min(4, len(substances)), 0, -1):
            more = len(substances) - n
            tail = f" {t('print.allergy_more', lang, count=more)}" if more else ""
            texts.append(f"{label}: {', '.join(substances[:n])}{tail}")
        badges.append(((*texts, label), True))
    return PageContext(
        lang=lang,
        title=title,
        downtime_line=downtime_line(meta, lang, tz),
        printed_line=printed_line(printed_by, now, lang, tz),
        ident_name=record.name,
        ident_lines=tuple(lines),
        barcode_value=record.mrn or record.id,
        # The values are in the identity line; beside the codes only what each one is.
        barcode_label=t("print.mrn", lang, mrn="").strip() if record.mrn else "ID",
        case_value=case,
        case_label=t("print.case", lang, case="").strip() if case else None,
        badges=tuple(badges),
        pagesize=pagesize,
    )


def downtime_line(meta: MetaLike, lang: str, tz: tzinfo) -> str:
    return t("print.downtime", lang, time=fmt_datetime(meta.data_as_of, lang, tz))


def printed_line(printed_by: str, now: datetime, lang: str, tz: tzinfo) -> str:
    return t("print.printed", lang, user=printed_by or "?", time=fmt_datetime(now, lang, tz))


# --------------------------------------------------------------------------- drawing


def _fit(text: str, font: str, size: float, width: float, canvas: Canvas) -> str:
    """Cut `text` with an ellipsis so it fits `width` (a header must never overflow).

    Bad data can hold megabytes in one field: no glyph is narrower than a fifth of the font
    size, so at most that many characters can fit, and the rest is never measured."""
    text = text[: int(width / (size * 0.2)) + 2]
    if canvas.stringWidth(text, font, size) <= width:
        return text
    low, high = 0, len(text)  # the longest prefix that fits with the ellipsis
    while low < high:
        mid = (low + high + 1) // 2
        if canvas.stringWidth(text[:mid] + "…", font, size) <= width:
            low = mid
        else:
            high = mid - 1
    return text[:low] + "…"


# A table cell holds at most this many lines of its column's width: one bad field (a family
# name of 1,400 characters, a 5 MB name) must not make a row taller than a page (reportlab's
# LayoutError) or take minutes to lay out. Cut text ends in "…".
CELL_MAX_LINES = 20
AVG_CHAR_WIDTH = 4.8  # points per character of 8 pt text (capitals are wider than average)


NOTE_MAX_CHARS = 1500  # an order's note is printed in full up to this (a page holds it)
FIELD_MAX_CHARS = 600  # any one text field of a row, before layout
LIST_MAX_ITEMS = 40


def cap_text(text: str | None, limit: int = FIELD_MAX_CHARS) -> str | None:
    """Pure: `text` cut with "…" at `limit` characters (None stays None)."""
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


def capped_fields(model: Any, limit: int = FIELD_MAX_CHARS) -> Any:
    """Pure: a copy of the pydantic `model` whose top-level text fields (and text lists) are
    cut with "…" to `limit` characters / LIST_MAX_ITEMS items; `model` itself when nothing is
    too long. Bad data in one row must not fail or stall the whole printout."""
    update: dict[str, Any] = {}
    for name, value in model:
        if isinstance(value, str) and len(value) > limit:
            update[name] = cap_text(value, limit)
        elif isinstance(value, list) and value and all(isinstance(x, str) for x in value):
            items = [cap_text(x, limit) for x in value[:LIST_MAX_ITEMS]]
            if len(value) > LIST_MAX_ITEMS:
                items.append(f"… +{len(value) - LIST_MAX_ITEMS}")
            if items != value:
                update[name] = items
    return model.model_copy(update=update) if update else model


SOFT_HYPHEN = "\xad"
CELL_PADDING = 5.0  # points: LEFTPADDING + RIGHTPADDING of `data_table`


def hyphenable(text: str, width: float, font: str = REGULAR, size: float = 8) -> str:
    """Pure: `text` with soft hyphens at pyphen's dictionary points in each word wider than
    `width` points in `font` at `size`. reportlab breaks such a word at one of them with a drawn
    "-" ("symptom-" / "lindernde") instead of cutting it anywhere with no mark ("symptomli" /
    "ndernde"); a word that fits a line keeps no soft hyphen and moves whole, as before."""
    if not text or stringWidth(text, font, size) <= width:
        return text
    words = text.split(" ")
    for i, word in enumerate(words):
        if len(word) > 4 and stringWidth(word, font, size) > width:
            words[i] = hyphen.dictionary().inserted(word, hyphen=SOFT_HYPHEN)
    return " ".join(words)


def cap_cell(text: str, width: float) -> str:
    """Pure: `text` cut with "…" to what `CELL_MAX_LINES` lines of `width` points can hold."""
    limit = max(40, int(width / AVG_CHAR_WIDTH) * CELL_MAX_LINES)
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


# Barcodes must decode from a 150 dpi scan or fax of the page: Code 128 modules of 1.2 pt
# (0.42 mm, 2.5 pixels at 150 dpi) with a quiet zone of 10 modules on each side; QR modules of
# 0.6 mm (3.5 pixels) with a 2-module border. Each code has its clear text to its left.
BAR_MODULE = 1.2
BAR_HEIGHT = 5.5 * mm
BAR_QUIET_MODULES = 10
QR_MODULE = 0.6 * mm
QR_BORDER = 2
CODE128_MAX_WIDTH = 62 * mm
CODE_AREA_HEIGHT = 16 * mm  # between the downtime band and the header rule
CODE_LABEL_SIZE = 8.0
CODE_GAP = 1.5 * mm


def _code128(value: str) -> Code128 | None:
    """A Code 128 of `value` when it is printable ASCII and fits CODE128_MAX_WIDTH, else None."""
    if not (value.isascii() and value.isprintable()) or len(value) > 40:
        return None
    quiet = BAR_QUIET_MODULES * BAR_MODULE
    code = Code128(
        value,
        barHeight=BAR_HEIGHT,
        barWidth=BAR_MODULE,
        humanReadable=False,
        quiet=True,
        lquiet=quiet,
        rquiet=quiet,
    )
    return code if code.width <= CODE128_MAX_WIDTH else None


@lru_cache(maxsize=16)
def _qr(value: str) -> tuple[tuple[tuple[int, int, int], ...], float]:
    """The QR code of `value` (error correction M), computed once per value: the dark runs of
    modules as (row, first column, length) and the side length with the quiet zone. Every page
    header draws the same codes, and encoding (mask selection) is the slow part."""
    code = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    # reportlab picks the numeric/alphanumeric mode with a "$"-anchored regex that also accepts
    # a trailing newline, then fails to encode it: such values go in byte mode.
    code.addData(qrencoder.QR8bitByte(value) if value.strip() != value else value)
    code.make()
    runs: list[tuple[int, int, int]] = []
    for row, modules in enumerate(code.modules):
        col = 0
        while col < len(modules):
            start = col
            while col < len(modules) and bool(modules[col]) == bool(modules[start]):
                col += 1
            if modules[start]:
                runs.append((row, start, col - start))
    size = (code.getModuleCount() + 2 * QR_BORDER) * QR_MODULE
    return tuple(runs), size


def _draw_qr(canvas: Canvas, value: str, x: float, y: float) -> float:
    """Draw the QR code of `value` with its lower left corner (quiet zone included) at (x, y):
    one filled path of the dark runs, the rectangles reportlab's QrCodeWidget draws, without
    its shape tree (which cost a tenth of a second per page). Returns the side length."""
    runs, size = _qr(value)
    path = canvas.beginPath()
    for row, col, length in runs:
        path.rect(
            x + (col + QR_BORDER) * QR_MODULE,
            y + size - (row + QR_BORDER + 1) * QR_MODULE,
            length * QR_MODULE,
            QR_MODULE,
        )
    canvas.drawPath(path, stroke=0, fill=1)
    return size


def barcode_size(value: str) -> tuple[float, float]:
    """(width, height) of the code `_draw_barcode` draws for `value` (quiet zone included)."""
    code = _code128(value)
    if code is not None:
        return float(code.width), BAR_HEIGHT
    _runs, size = _qr(value)
    return size, size


def _draw_barcode(canvas: Canvas, value: str, right: float, top: float) -> tuple[float, float]:
    """Draw `value` as Code 128 (printable ASCII that fits) or else QR, right-aligned under
    `top`, quiet zone included. Returns (width, bottom) of the drawn code."""
    canvas.setFillColor(colors.black)  # bars are drawn in the current fill colour
    canvas.setStrokeColor(colors.black)
    code = _code128(value)
    if code is not None:
        code.drawOn(canvas, right - code.width, top - BAR_HEIGHT)
        return float(code.width), top - BAR_HEIGHT
    _runs, size = _qr(value)
    _draw_qr(canvas, value, right - size, top - size)
    return size, top - size


def _draw_codes(
    canvas: Canvas, codes: Sequence[tuple[str, str]], right: float, top: float
) -> float:
    """The identifier codes at the right of the header, each with its clear text to its left:
    stacked when they fit the header's height, else side by side. Returns the width used."""
    if not codes:
        return 0.0
    sizes = [barcode_size(value) for _label, value in codes]
    label_ws = [
        min(canvas.stringWidth(label, REGULAR, CODE_LABEL_SIZE), 45 * mm) for label, _v in codes
    ]
    stacked = sum(h for _w, h in sizes) + CODE_GAP * (len(codes) - 1) <= CODE_AREA_HEIGHT
    x, y, used = right, top, 0.0
    for (label, value), (w, h), label_w in zip(codes, sizes, label_ws, strict=True):
        _draw_barcode(canvas, value, x, y)
        canvas.setFillColor(DARK)
        canvas.setFont(REGULAR, CODE_LABEL_SIZE)
        text = _fit(label, REGULAR, CODE_LABEL_SIZE, label_w, canvas)
        canvas.drawRightString(x - w, y - h / 2 - CODE_LABEL_SIZE * 0.35, text)
        block = w + label_w + 1 * mm
        if stacked:
            used = max(used, block)
            y -= h + CODE_GAP
        else:
            used += block + 3 * mm
            x -= block + 3 * mm
    return used


def _draw_page(canvas: Canvas, ctx: PageContext, page: int, total: int) -> None:
    width, height = ctx.pagesize
    left, right = MARGIN, width - MARGIN
    top = height - 8 * mm
    canvas.saveState()
    # Downtime band: unmistakable on every page, even on a photocopy.
    band_h = 6.5 * mm
    canvas.setFillColor(DARK)
    canvas.rect(left, top - band_h, right - left, band_h, stroke=0, fill=1)
    _trace_box(page, left, top - band_h, right, top, "band")
    canvas.setFillColor(colors.white)
    canvas.setFont(BOLD, 9.5)
    canvas.drawString(left + 2 * mm, top - band_h + 2 * mm, ctx.downtime_line)
    canvas.setFont(REGULAR, 8.5)
    canvas.drawRightString(right - 2 * mm, top - band_h + 2 * mm, ctx.title)
    y = top - band_h - 5.5 * mm
    # Barcode (right), identity (left), badges (right of identity).
    code_w = _draw_codes(canvas, ctx.codes, right, y + 3.5 * mm)
    # The name is never shortened for the badges: the badges shorten, then move down a row.
    name_room = right - left - code_w - 4 * mm
    name_size = 13.0
    while name_size > 8 and canvas.stringWidth(ctx.ident_name, BOLD, name_size) > name_room:
        name_size -= 0.5  # a smaller font before any cut: the whole name identifies
    name = _fit(ctx.ident_name, BOLD, name_size, name_room, canvas)
    name_w = canvas.stringWidth(name, BOLD, name_size)
    texts, badge_w = _choose_badges(canvas, ctx.badges, name_room - name_w - 5 * mm)
    badge_y = y - 1.5 * mm
    badge_right = right - code_w - 4 * mm
    detailed = sum(_badge_width(canvas, x[0]) + 2 * mm for x, _red in ctx.badges)
    if texts and detailed > name_room - name_w - 5 * mm:
        # A row of their own under the identity lines, as wide as the name's room.
        badge_y = y - 15.5 * mm
        badge_right = left + name_room
        texts, badge_w = _choose_badges(canvas, ctx.badges, name_room)
        badge_right = left + badge_w
    _draw_badges(canvas, texts, badge_right, badge_y, page)
    canvas.setFillColor(DARK)
    canvas.setFont(BOLD, name_size)
    canvas.drawString(left, y, name)
    canvas.setFont(REGULAR, 8.5)
    line_y = y - 4.5 * mm
    for line in ctx.ident_lines:
        room = right - left - code_w - 6 * mm
        canvas.drawString(left, line_y, _fit(line, REGULAR, 8.5, room, canvas))
        line_y -= 3.8 * mm
    rule_y = height - HEADER_HEIGHT + 1 * mm
    canvas.setStrokeColor(DARK)
    canvas.setLineWidth(0.8)
    canvas.line(left, rule_y, right, rule_y)
    # Footer: identifiers again (a page may be separated from the first), who printed, page.
    foot_y = FOOTER_HEIGHT - 3 * mm
    canvas.setLineWidth(0.4)
    canvas.line(left, foot_y + 3.5 * mm, right, foot_y + 3.5 * mm)
    canvas.setFillColor(DARK)
    canvas.setFont(BOLD, 8)
    page_text = t("print.page", ctx.lang, page=page, total=total)
    canvas.drawRightString(right, foot_y, page_text)
    avail = right - left - canvas.stringWidth(page_text, BOLD, 8) - 6 * mm
    # The identifiers (birth date, MRN) stay whole; a long name is the part that gets "…".
    tail = " · ".join(ctx.ident_lines[:1])
    tail = _fit(tail, BOLD, 8, avail * 0.75, canvas) if tail else ""
    room = avail - (canvas.stringWidth(" · " + tail, BOLD, 8) if tail else 0)
    ident = _fit(ctx.ident_name, BOLD, 8, room, canvas) + (" · " + tail if tail else "")
    canvas.drawString(left, foot_y, ident)
    bar_y = foot_y + 4.5 * mm
    if ctx.legend_line:
        canvas.setFont(REGULAR, 8)
        canvas.drawString(
            left, bar_y + 1.2 * mm, _fit(ctx.legend_line, REGULAR, 8, right - left, canvas)
        )
        bar_y += LEGEND_HEIGHT
    if ctx.break_glass_line:
        # Printed by a break-glass session: a black bar above the footer on every page (seen on
        # a black-and-white copy; docs/viewer.md promises it).
        canvas.setFillColor(DARK)
        canvas.rect(left, bar_y, right - left, BREAK_GLASS_BAR, stroke=0, fill=1)
        _trace_box(page, left, bar_y, right, bar_y + BREAK_GLASS_BAR, "band")
        canvas.setFillColor(colors.white)
        canvas.setFont(BOLD, 9)
        text = _fit(ctx.break_glass_line, BOLD, 9, right - left - 4 * mm, canvas)
        canvas.drawString(left + 2 * mm, bar_y + 1.4 * mm, text)
        canvas.setFillColor(DARK)
    canvas.setFont(REGULAR, 8)
    lower = f"{ctx.printed_line} · {ctx.downtime_line}"
    canvas.drawString(left, foot_y - 3.3 * mm, _fit(lower, REGULAR, 8, right - left, canvas))
    canvas.restoreState()


BADGE_FONT_SIZE = 9


def _badge_width(canvas: Canvas, text: str) -> float:
    return float(canvas.stringWidth(text, BOLD, BADGE_FONT_SIZE) + 4 * mm)


def _choose_badges(
    canvas: Canvas, badges: Sequence[tuple[tuple[str, ...], bool]], room: float
) -> tuple[list[tuple[str, bool]], float]:
    """The most detailed badge texts whose total width fits `room` (else the shortest)."""
    if not badges:
        return [], 0.0
    levels = max(len(texts) for texts, _red in badges)
    chosen: list[tuple[str, bool]] = []
    total = 0.0
    for level in range(levels):
        chosen = [(texts[min(level, len(texts) - 1)], red) for texts, red in badges]
        total = sum(_badge_width(canvas, text) + 2 * mm for text, _red in chosen)
        if total <= room:
            break
    return chosen, total


def _draw_badges(
    canvas: Canvas, badges: list[tuple[str, bool]], right: float, y: float, page: int = 0
) -> None:
    """Rounded red (or grey) boxes with white bold text, right-aligned at `right`."""
    x = right
    for text, red in reversed(badges):
        w = _badge_width(canvas, text)
        x -= w
        _trace_box(page, x, y, x + w, y + 6 * mm, "badge")
        canvas.setFillColor(RED if red else GREY)
        canvas.roundRect(x, y, w, 6 * mm, 1 * mm, stroke=0, fill=1)
        canvas.setFillColor(colors.white)
        canvas.setFont(BOLD, BADGE_FONT_SIZE)
        canvas.drawString(x + 2 * mm, y + 1.8 * mm, text)
        x -= 2 * mm


class _NumberedCanvas(Canvas):  # type: ignore[misc]  # reportlab is untyped
    """A canvas that defers page furniture until it knows the total page count.

    Pages are kept as saved canvas states and drawn on `save`; the usual reportlab recipe for
    "page X of Y" in one pass.
    """

    def __init__(self, *args: Any, page_ctx: PageContext, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._page_ctx = page_ctx
        self._saved_pages: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._saved_pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._saved_pages)
        for number, state in enumerate(self._saved_pages, start=1):
            self.__dict__.update(state)
            _draw_page(self, self._page_ctx, number, total)
            super().showPage()
        super().save()


def with_break_glass(ctx: PageContext, break_glass: bool, printed_by: str) -> PageContext:
    """`ctx` marked as printed by a break-glass session (a bar on every page), or unchanged."""
    if not break_glass:
        return ctx
    line = t("print.break_glass", ctx.lang, user=printed_by or "?")
    return replace(ctx, break_glass_line=line)


def build_pdf(flowables: list[Flowable], ctx: PageContext, *, subject: str) -> bytes:
    """Lay out `flowables` under the page furniture of `ctx`; return the PDF bytes.

    No file is written. The PDF's title is the document type only; `invariant` makes equal
    input give equal bytes (no creation timestamp or random id in the file).
    Raises reportlab's LayoutError only if a single cell is taller than a page, which the
    renderers prevent by abridging long text.
    """
    register_fonts()
    buffer = io.BytesIO()
    bar = BREAK_GLASS_BAR + 2 * mm if ctx.break_glass_line else 0
    bar += LEGEND_HEIGHT if ctx.legend_line else 0
    doc = SimpleDocTemplate(
        buffer,
        pagesize=ctx.pagesize,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=HEADER_HEIGHT + 1 * mm,
        bottomMargin=FOOTER_HEIGHT + 2 * mm + bar,
        title=ctx.title,
        author="Wardcopy",
        subject=subject,
        creator="Wardcopy",
        invariant=1,
    )
    trace = _TRACE.get()
    if trace is not None:
        _watch_tables(flowables)
    story = list(flowables)
    pdf, doc = _build(list(story), ctx, buffer, doc)  # reportlab consumes the list it builds
    if doc.page > 1 and _last_page_used(doc) < FEW_LINES:
        # Only a few trailing lines on the last page: lay out again with tighter spacing, so
        # that they fit on the page before when they can (reportlab rebuilds the same
        # flowables, as its multiBuild does). The trace is of the layout returned.
        _compact(story)
        pdf, doc = _build(list(story), ctx, io.BytesIO(), _same_doc(doc))
    if trace is not None:
        _trace_zones(trace, doc, ctx)
    return pdf


# A last page with less body than this (about three lines of text and a repeated table
# header) is laid out again with tighter spacing, so that its lines fit on the page before.
FEW_LINES = 48.0


def _build(
    story: list[Flowable], ctx: PageContext, buffer: io.BytesIO, doc: SimpleDocTemplate
) -> tuple[bytes, SimpleDocTemplate]:
    trace = _TRACE.get()
    if trace is not None:
        trace.boxes.clear()
    doc.filename = buffer
    doc.build(story, canvasmaker=partial(_NumberedCanvas, page_ctx=ctx))
    return buffer.getvalue(), doc


def _same_doc(doc: SimpleDocTemplate) -> SimpleDocTemplate:
    """A fresh document template with the page geometry and metadata of `doc`."""
    return SimpleDocTemplate(
        io.BytesIO(),
        pagesize=doc.pagesize,
        leftMargin=doc.leftMargin,
        rightMargin=doc.rightMargin,
        topMargin=doc.topMargin,
        bottomMargin=doc.bottomMargin,
        title=doc.title,
        author=doc.author,
        subject=doc.subject,
        creator=doc.creator,
        invariant=1,
    )


def _last_page_used(doc: SimpleDocTemplate) -> float:
    """Points of the last page's frame taken by body (from its top to the last flowable)."""
    frame = doc.frame
    return float(frame._y2 - frame._topPadding - frame._y)


COMPACT_PADDING = (("TOPPADDING", 0.5), ("BOTTOMPADDING", 1.0))


def _compact(story: list[Flowable]) -> None:
    """Tighter vertical spacing in `story`, in place: spacers and the space around section
    headings halved, rows of data tables with less padding. Fonts and text stay as they are."""
    for item in story:
        if isinstance(item, KeepTogether):
            _compact(item._content)
        elif isinstance(item, Spacer):
            item.height /= 2
        elif isinstance(item, SectionHeading):
            style = item.style
            item.style = style.clone(
                style.name + "-compact",
                spaceBefore=style.spaceBefore / 2,
                spaceAfter=style.spaceAfter / 2,
            )
        elif isinstance(item, DataTable):
            item.setStyle(
                TableStyle([(name, (0, 0), (-1, -1), value) for name, value in COMPACT_PADDING])
            )


# Most printers cannot print the outer 4 mm of a sheet: no text below this.
PRINTABLE_EDGE = 4 * mm


def _trace_zones(trace: LayoutTrace, doc: SimpleDocTemplate, ctx: PageContext) -> None:
    """Record the body frame, header and footer zones of each page of `doc` in `trace`."""
    width, height = ctx.pagesize
    trace.pagesize = ctx.pagesize
    trace.pages = doc.page
    frame_top, frame_bottom = height - doc.topMargin, doc.bottomMargin
    for page in range(1, doc.page + 1):
        _trace_box(page, MARGIN, frame_bottom, width - MARGIN, frame_top, "frame")
        _trace_box(page, MARGIN, frame_top, width - MARGIN, height - PRINTABLE_EDGE, "header")
        _trace_box(page, MARGIN, PRINTABLE_EDGE, width - MARGIN, frame_bottom, "footer")


# reportlab's Frame pads its content 6 pt on every side (SimpleDocTemplate's default frame):
# a flowable starts at MARGIN + 6 pt, so a table as wide as the page between the margins ended
# 6 pt into the right margin (and under a printer's unprintable edge on some sheets).
FRAME_PADDING = 6.0


def content_width(ctx: PageContext) -> float:
    """The width a body flowable may take: between the side margins, less the frame's padding
    (tables built to this width end inside the right margin; tests/test_printing_layout.py)."""
    return float(ctx.pagesize[0] - 2 * MARGIN - 2 * FRAME_PADDING)


def when_text(value: datetime | None, lang: str, tz: tzinfo) -> str:
    return datetime_text(value, lang, tz)

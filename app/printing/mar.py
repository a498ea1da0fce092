"""The medication administration record (MAR) for paper documentation during a downtime.

A4 landscape. Top: code status and allergies. Then one row per active scheduled order with the
scheduled times of the next 24 h (or 72 h) as empty boxes to initial by hand, and the last
administrations for reference; orders whose timing cannot be computed get UNTIMED_PER_DAY boxes
per 24 h, each with a time field to fill in by hand (never dropped); then the PRN (as-needed)
orders with empty rows for time, dose and initials; last, every administration of the last
72 h that the snapshot holds.

Pure: returns PDF bytes, writes nothing.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.platypus import Flowable, Table, TableStyle

from app.present.catalog import t
from app.present.clinical import observation_value, status_word
from app.present.dose import amount_text, medication_text, on_hold_text, related_text
from app.present.due import administration_status, last_not_given, not_given_text
from app.present.formats import (
    clinical_number,
    date_text,
    fmt_span,
    fmt_time,
    short_day,
)
from app.printing.common import (
    allergy_block,
    code_status_block,
    due_text,
    flags_line,
)
from app.printing.fonts import BOLD, REGULAR
from app.printing.layout import (
    ABNORMAL_BG,
    LANDSCAPE,
    NOTE_MAX_CHARS,
    MetaLike,
    Styles,
    build_pdf,
    cap_text,
    capped_fields,
    content_width,
    data_table,
    empty_line,
    keep,
    meta_windows,
    para,
    patient_context,
    section,
    spacer,
    styles,
    when_text,
    with_break_glass,
)
from app.printing.margrid import (
    PER_DAY_CAP,
    PRN_BLANK_PER_DAY,
    SCALE_CHECKS_PER_DAY,
    UNTIMED_PER_DAY,
    Cell,
    DayGrid,
    HandColumn,
    ValueField,
    day_grid,
    hand_columns,
    insulin_scale,
    is_continuous,
    prn_per_day,
    value_field,
)
from app.schedule import (
    TOLERANCE,
    given_for,
    has_schedule,
    instant,
    is_active,
    next_due,
    scheduled_times,
)
from sync.model import Administration, DataWindows, MedicationOrder, PatientRecord

ALLOWED_HOURS = (24, 72)
HAND_BOX_MIN_W = 100.0  # a box whose time is written by hand: "Zeit ___:___", dose, initials
HAND_BOX_H = 26.0  # two lines: time; dose and initials
HAND_VALUE_H = 36.0  # three lines: time; glucose and units; initials
MAX_HAND_ROWS = 8  # rows of hand boxes per table row, so that one row always fits a page
MAX_GRID_ROWS = 12  # times of day per table row of the day grid, so that one row fits a page
CLOCK_W = 40.0  # the time-of-day column of the day grid
GRID_BOX_H = 18.0  # a dose box: room for handwritten initials
GRID_VALUE_H = 30.0  # a dose box with a value field under the initials
OUTSIDE_BG = colors.HexColor("#D0D0D0")  # slots outside the period: no box
NONE_BG = colors.HexColor("#EFEFEF")  # no dose at this time on this day
LAST_GIVEN = 3
_NOT_GIVEN = {"not-done", "entered-in-error"}


def _day_label(value: datetime, lang: str, tz: tzinfo) -> str:
    return short_day(value, lang, tz)


def _value_text(field: ValueField | None, lang: str) -> str:
    if field is None:
        return ""
    return t(f"print.mar.value.{field.value}", lang)


def _day_table(
    grid: DayGrid,
    clocks: tuple[Any, ...],
    width: float,
    lang: str,
    tz: tzinfo,
    value: str,
    *,
    header: bool,
    notes: dict[tuple[Any, Any], int] | None = None,
) -> Table:
    """Reportlab table of `grid` for the rows `clocks`: a day header (when `header`), then
    per time of day a label and one cell per day: an empty box, "!" for an overdue one, light
    grey for no dose, darker grey with "–" outside the period, "not given (n)" in bold for a
    dose documented as not given (`notes` numbers its footnote with the reason). Plain strings
    (no Paragraphs): a 72 h MAR of 100 orders has thousands of cells."""
    days = grid.days
    day_w = max(20.0, (width - CLOCK_W) / len(days))
    data: list[list[Any]] = []
    heights: list[float] = []
    if header:
        data.append(["", *[_day_label_date(d, lang) for d in days]])
        heights.append(12.0)
    box_h = GRID_VALUE_H if value else GRID_BOX_H
    commands: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), REGULAR, 8, 9),
        ("FONT", (0, 0), (0, -1), BOLD, 8, 9),
        ("ALIGN", (0, 0), (-1, -1), "CENTER"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), 2),
        ("RIGHTPADDING", (0, 0), (-1, -1), 2),
        ("TOPPADDING", (0, 0), (-1, -1), 1),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
    ]
    if header:
        commands += [
            ("FONT", (0, 0), (-1, 0), BOLD, 8, 9),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E4E4E4")),
        ]
    second = t("print.mar.second_clock", lang)
    for clock in clocks:
        row = len(data)
        label = f"{clock.hour:02d}:{clock.minute:02d}"
        cells: list[Any] = [f"{label}\n{second}" if clock.second else label]
        for col, day in enumerate(days, start=1):
            cell = grid.cells[(clock, day)]
            if cell in (Cell.BOX, Cell.LATE):
                mark = "!  " if cell is Cell.LATE else ""
                if value:
                    cells.append(f"{mark}\n{value}" if mark else f"\n{value}")
                    commands.append(("VALIGN", (col, row), (col, row), "BOTTOM"))
                    commands.append(("ALIGN", (col, row), (col, row), "LEFT"))
                else:
                    cells.append(mark.strip())
                if cell is Cell.LATE:
                    commands.append(("FONT", (col, row), (col, row), BOLD, 8, 9))
                    commands.append(("BACKGROUND", (col, row), (col, row), ABNORMAL_BG))
            elif cell is Cell.NOT_GIVEN:
                number = (notes or {}).get((clock, day))
                word = status_word("not-done", lang, "administration")
                cells.append(f"{word} ({number})" if number else word)
                commands.append(("FONT", (col, row), (col, row), BOLD, 7, 8))
            elif cell is Cell.NONE:
                cells.append("")
                commands.append(("BACKGROUND", (col, row), (col, row), NONE_BG))
            else:
                cells.append("–")
                commands.append(("BACKGROUND", (col, row), (col, row), OUTSIDE_BG))
        data.append(cells)
        heights.append(box_h + (9.0 if clock.second else 0.0))
    table = Table(
        data, colWidths=[CLOCK_W] + [day_w] * len(days), rowHeights=heights, hAlign="LEFT"
    )
    table.setStyle(TableStyle(commands))
    return table


def _day_label_date(day: Any, lang: str) -> str:
    return short_day(day, lang)


def _same_drug(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


def _last_given(
    order: MedicationOrder, administrations: list[Administration], lang: str, tz: tzinfo
) -> str:
    mine = [
        a
        for a in administrations
        if a.when is not None
        and (a.order_id == order.id or (not a.order_id and _same_drug(a.drug, order.drug)))
    ]
    mine.sort(key=lambda a: a.when or datetime.min, reverse=True)
    # The column lists doses given; a newer dose documented as not given comes first on a
    # line of its own with its reason (never "(not given)" under "Last given").
    refused = last_not_given(order, administrations)
    lines = [not_given_text(refused, lang, tz, None)] if refused else []
    given = [a for a in mine if (a.status or "").strip().lower() not in _NOT_GIVEN]
    for a in given[:LAST_GIVEN]:
        done = not a.status or a.status.strip().lower() == "completed"
        status = "" if done else f" ({status_word(a.status, lang, 'administration')})"
        who = f" {a.performer}" if a.performer else ""
        when = a.when.astimezone(tz) if a.when and a.when.tzinfo else a.when
        stamp = f"{_day_label(when, lang, tz)} {fmt_time(when, lang, tz)}" if when else "–"
        lines.append(f"{stamp}{status}{who}")
    return "\n".join(lines) or "–"


def _drug_cell(
    order: MedicationOrder,
    st: Styles,
    lang: str,
    tz: tzinfo,
    orders: list[MedicationOrder] | None = None,
) -> Any:
    """The order in words: drug, dose · route, schedule, note, prescriber, the injection site
    field; and, in bold, the other orders of the same drug on the other side of "on hold"
    (`orders`: all of the patient's orders)."""
    text = medication_text(order, lang, tz)
    dose, route, timing = text.dose(" / "), text.route(), text.schedule("\n")
    parts = [f"<b>{escape(cap_text(order.drug, 300) or '')}</b>"]
    related = related_text(order, orders or [], lang)
    if related:
        parts.append(f"<b>{escape(related)}</b>")
    parts.append(escape(" · ".join(x for x in (dose, route) if x and x != "–")))
    if timing != "–":  # a schedule that was the dose text is said once, as the dose
        parts.append(escape(timing).replace(chr(10), "<br/>"))
    if order.note and order.note.strip():
        # The order's note in full: insulin scale, "time-critical", "level before 4th dose".
        note = cap_text(order.note.strip(), NOTE_MAX_CHARS) or ""
        parts.append(f"<b>{escape(t('print.mar.note', lang))}:</b> {escape(note)}")
    if order.prescriber:
        parts.append(f"<font color='#444444'>{escape(order.prescriber)}</font>")
    if _injected(order):
        parts.append(escape(t("print.mar.site", lang)) + " ____________")
    return para("<br/>".join(p for p in parts if p), st.cell, markup=True)


_INJECTION_ROUTES = ("s.c.", "sc", "i.m.", "im", "subcutan", "intramusc", "i.v.", "iv", "intraven")


def _injected(order: MedicationOrder) -> bool:
    """Whether a dose of `order` is an injection (a site is documented per dose)."""
    for dosage in order.dosages:
        route = (dosage.route or "").strip().casefold()
        if route and any(route == r or route.startswith(r) for r in _INJECTION_ROUTES):
            return True
    return False


def order_grid(
    order: MedicationOrder,
    administrations: list[Administration],
    now: datetime,
    end: datetime,
    tz: tzinfo,
    start: datetime | None = None,
) -> DayGrid:
    """Pure: the day-by-time grid of a scheduled `order` for the period [start, end).

    Doses still open from before `now` (due now, or overdue within the last hours) get a box
    too, so that a late dose can be signed; only those before `start` (the snapshot's
    data-as-of) are LATE ("overdue, not documented in the system").
    """
    # Instants, never wall times: on the night the clocks go back 02:15 CEST is before 02:10
    # CET, and datetimes of one zone would compare (and hash) the other way round.
    now, end = instant(now, tz), instant(end, tz)
    start = min(instant(start or now, tz), now)
    info = next_due(order, now, administrations, tz)
    refused = refused_doses(order, administrations, start, end, tz)
    open_before = sorted(
        [*(info.overdue_times if info else ()), *(info.due_now if info else ())],
        key=lambda x: instant(x, tz),
    )
    late = {
        x
        for x in (info.overdue_times if info else ())
        if instant(x, tz) < start and instant(x, tz) not in refused
    }
    times = [x for x in open_before if instant(x, tz) < start]
    times += scheduled_times(order, start, end, tz)
    return day_grid(times, late, start, end, tz, set(refused))


def refused_doses(
    order: MedicationOrder,
    administrations: list[Administration],
    start: datetime,
    end: datetime,
    tz: tzinfo,
) -> dict[datetime, Administration]:
    """Pure: the scheduled times of `order` from the start of `start`'s day (local) to `end`
    that were documented as not given (an administration with status "not-done" within
    TOLERANCE and no given one within TOLERANCE), each with that administration, keyed by the
    time as a UTC instant (`app.schedule.instant`). These print as "not given" boxes: a grey
    slot would read as "no dose was due"."""
    local = start.astimezone(tz)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    mine = [a for a in administrations if a.when is not None and _belongs(order, a)]
    refused = [a for a in mine if a.not_given]
    if not refused:
        return {}
    out: dict[datetime, Administration] = {}

    def apart(a: Administration, when: datetime) -> timedelta:
        return abs(instant(a.when or when, tz) - instant(when, tz))

    for when in scheduled_times(order, day_start, end, tz):
        near = [a for a in refused if a.when is not None and apart(a, when) <= TOLERANCE]
        if not near or any(
            given_for(order, a) and a.when is not None and apart(a, when) <= TOLERANCE for a in mine
        ):
            continue
        out[instant(when, tz)] = min(near, key=lambda a: apart(a, when))
    return out


def _belongs(order: MedicationOrder, adm: Administration) -> bool:
    if adm.order_id:
        return adm.order_id == order.id
    return _same_drug(adm.drug, order.drug)


def _not_given_notes(
    order: MedicationOrder,
    record: PatientRecord,
    grid: DayGrid,
    start: datetime,
    end: datetime,
    lang: str,
    tz: tzinfo,
) -> tuple[dict[tuple[Any, Any], int], list[tuple[tuple[Any, Any], str]]]:
    """The footnote number of each "not given" cell of `grid` and the footnotes in order:
    "(1) nicht gegeben 02.12. 14:02: Patient nicht auf Station (Diagnostik)"."""
    refused = refused_doses(order, record.administrations, start, end, tz)
    notes: dict[tuple[Any, Any], int] = {}
    footnotes: list[tuple[tuple[Any, Any], str]] = []
    for key, cell in sorted(
        grid.cells.items(), key=lambda kv: (kv[0][1], kv[0][0].hour, kv[0][0].minute)
    ):
        if cell is not Cell.NOT_GIVEN:
            continue
        adm = refused.get(instant(grid.instants[key], tz))
        if adm is None:
            continue
        notes[key] = len(notes) + 1
        footnotes.append((key, f"({notes[key]}) {not_given_text(adm, lang, tz, None)}"))
    return notes, footnotes


def _scheduled(
    record: PatientRecord,
    st: Styles,
    width: float,
    lang: str,
    now: datetime,
    end: datetime,
    tz: tzinfo,
    start: datetime | None = None,
) -> list[Flowable]:
    """Scheduled orders with a box per dose from `start` (the snapshot's data-as-of, when
    older than the print time `now`) to `end`: a dose due between data-as-of and printing gets
    a box (no gap), and only doses before data-as-of can be "overdue, not documented in the
    system" ("!")."""
    now = instant(now, tz)
    start = min(instant(start or now, tz), now)
    orders = [
        o for o in record.medications if is_active(o) and not _prn_only(o) and not is_continuous(o)
    ]
    out: list[Flowable] = [section(t("print.mar.scheduled", lang), st)]
    if not orders:
        return [*out, empty_line(t("print.none", lang), st)]
    drug_w, last_w = width * 0.27, width * 0.15
    boxes_w = width - drug_w - last_w
    rows: list[list[Any]] = []
    backgrounds: dict[int, Any] = {}
    for order in orders:
        chunks: list[Any] = []
        if has_schedule(order):
            grid = order_grid(order, record.administrations, now, end, tz, start)
            value = _value_text(value_field(order), lang)
            notes, footnotes = _not_given_notes(order, record, grid, start, end, lang, tz)
            # A row must fit on a page: orders with many times continue on further rows.
            for first in range(0, len(grid.clocks), MAX_GRID_ROWS):
                rows_here = grid.clocks[first : first + MAX_GRID_ROWS]
                table = _day_table(
                    grid, rows_here, boxes_w - 6, lang, tz, value, header=True, notes=notes
                )
                mine = [f for key, f in footnotes if key[0] in rows_here]
                chunks.append([table, *[para(f, st.small) for f in mine]] if mine else table)
            if not chunks:
                chunks.append(para(t("print.none", lang), st.small))
        elif insulin_scale(order):
            # An insulin by the glucose with no times ("nach Schema", "per sliding scale"):
            # a box per glucose check, each with the time, glucose and units given.
            columns = hand_columns(SCALE_CHECKS_PER_DAY, start, end)
            value = _value_text(ValueField.GLUCOSE, lang)
            chunks += hand_chunks(columns, boxes_w - 6, lang, tz, value)
            rule = t("print.mar.scale_no_times", lang, count=SCALE_CHECKS_PER_DAY)
            chunks[0] = [para(rule, st.alert), chunks[0]]
        else:
            # Times that cannot be computed: per 24 h of the period UNTIMED_PER_DAY boxes with
            # a time field each (a 72 h sheet has three times a 24 h sheet's), as for an
            # as-needed order without a maximum; the line says the rule.
            columns = hand_columns(UNTIMED_PER_DAY, start, end)
            value = _value_text(value_field(order), lang)
            chunks += hand_chunks(columns, boxes_w - 6, lang, tz, value)
            rule = t("print.mar.no_times", lang, count=UNTIMED_PER_DAY)
            chunks[0] = [para(rule, st.alert), chunks[0]]
        due, overdue = due_text(order, record.administrations, now, tz, lang, as_of=start)
        last = _last_given(order, record.administrations, lang, tz)
        if overdue:
            last = f"{due}\n{last}"
        for n, boxes in enumerate(chunks):
            if overdue:
                backgrounds[len(rows)] = ABNORMAL_BG
            if n == 0:
                rows.append([_drug_cell(order, st, lang, tz, record.medications), last, boxes])
            else:
                rows.append([para(f"↳ {order.drug}", st.cell), "", boxes])
    header = [t("print.col.drug", lang), t("print.mar.last", lang), t("print.mar.times", lang)]
    out.append(data_table(header, rows, [drug_w, last_w, boxes_w], st, row_backgrounds=backgrounds))
    return out


INFUSION_ROWS = 8  # rows per infusion to record rate and syringe/bag changes by hand


def _infusions(
    record: PatientRecord, st: Styles, width: float, lang: str, tz: tzinfo
) -> list[Flowable]:
    """Continuous infusions: the order (drug and concentration, rate, target in the note) and
    empty rows for rate changes and syringe/bag changes (time, new rate, change, initials)."""
    orders = [o for o in record.medications if is_active(o) and is_continuous(o)]
    if not orders:
        return []
    out: list[Flowable] = [section(t("print.mar.infusions", lang), st)]
    drug_w = width * 0.34
    header = [
        t("print.mar.inf_time", lang),
        t("print.mar.inf_rate", lang),
        t("print.mar.inf_change", lang),
        t("print.mar.sig_initials", lang),
    ]
    form_w = [(width - drug_w - 6) * f for f in (0.22, 0.26, 0.34, 0.18)]
    for order in orders:
        rate = " / ".join(d.dose_text for d in order.dosages if d.dose_text) or "–"
        cell = [
            _drug_cell(order, st, lang, tz, record.medications),
            para(
                "<b>"
                + escape(t("print.mar.inf_current", lang, rate=amount_text(rate, lang)))
                + "</b>",
                st.cell,
                markup=True,
            ),
        ]
        table = Table(
            [[cell, _blank_form(header, form_w, INFUSION_ROWS, st, height=16.0)]],
            colWidths=[drug_w, width - drug_w],
            hAlign="LEFT",
        )
        table.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LINEABOVE", (0, 0), (-1, 0), 0.6, colors.black),
                    ("LEFTPADDING", (0, 0), (-1, -1), 2),
                ]
            )
        )
        out.append(table)
    return out


def _prn_only(order: MedicationOrder) -> bool:
    return bool(order.dosages) and all(d.as_needed for d in order.dosages)


def prn_box_count(order: MedicationOrder, hours: int) -> int:
    """Pure: boxes for an as-needed order over a fresh `hours` period: its maximum doses per
    24 h times the days ("max 4/day" over 72 h = 12), else PRN_BLANK_PER_DAY per 24 h; at most
    PER_DAY_CAP per 24 h."""
    now = datetime(2000, 1, 1, tzinfo=UTC)
    per_day = prn_per_day(order) or PRN_BLANK_PER_DAY
    return sum(c.boxes for c in hand_columns(per_day, now, now + timedelta(hours=hours)))


def _column_label(column: HandColumn, lang: str, tz: tzinfo) -> str:
    def one(x: datetime) -> str:
        return f"{short_day(x, lang, tz)} {fmt_time(x, lang, tz)}"

    return f"{one(column.start)} – {one(column.end)}"


def _hand_table(
    columns: tuple[HandColumn, ...],
    rows: range,
    per_col: int,
    width: float,
    lang: str,
    tz: tzinfo,
    value: str,
) -> Table:
    """Boxes whose time is written by hand, one column per 24 h of the period (each
    `per_col` boxes wide), for the box rows `rows`: in each box a time field, then the dose
    (or the value the order needs, e.g. glucose and units) and initials. Plain strings."""
    col_w = width / len(columns)
    box_w = col_w / per_col
    data: list[list[Any]] = [[]]
    commands: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), REGULAR, 8, 9.5),
        ("FONT", (0, 0), (-1, 0), BOLD, 8, 9),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E4E4E4")),
        ("ALIGN", (0, 0), (-1, 0), "CENTER"),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 2),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
    ]
    for n, column in enumerate(columns):
        data[0] += [_column_label(column, lang, tz)] + [""] * (per_col - 1)
        if per_col > 1:
            commands.append(("SPAN", (n * per_col, 0), (n * per_col + per_col - 1, 0)))
    time_field = t("print.mar.hand_time", lang)
    second = (
        f"{value}\n{t('print.mar.hand_init', lang)}" if value else t("print.mar.hand_dose", lang)
    )
    box = f"{time_field}\n{second}"
    for r in rows:
        line: list[Any] = []
        for n, column in enumerate(columns):
            for k in range(per_col):
                if r * per_col + k < column.boxes:
                    line.append(box)
                else:
                    line.append("")
                    col = n * per_col + k
                    commands.append(("BACKGROUND", (col, len(data)), (col, len(data)), NONE_BG))
        data.append(line)
    height = HAND_VALUE_H if value else HAND_BOX_H
    table = Table(
        data,
        colWidths=[box_w] * (per_col * len(columns)),
        rowHeights=[None] + [height] * (len(data) - 1),
        hAlign="LEFT",
    )
    table.setStyle(TableStyle(commands))
    return table


def hand_chunks(
    columns: tuple[HandColumn, ...], width: float, lang: str, tz: tzinfo, value: str
) -> list[Table]:
    """The hand boxes of one order as tables of at most MAX_HAND_ROWS box rows each (one
    table row of the MAR must fit a page)."""
    col_w = width / len(columns)
    most = max(c.boxes for c in columns)
    per_col = max(1, min(most, int(col_w // HAND_BOX_MIN_W)))
    lines = -(-most // per_col)
    per_col = -(-most // lines)  # balanced: 4 boxes as 4 x 1 or 2 x 2, never 3 + 1
    return [
        _hand_table(
            columns,
            range(first, min(lines, first + MAX_HAND_ROWS)),
            per_col,
            width,
            lang,
            tz,
            value,
        )
        for first in range(0, lines, MAX_HAND_ROWS)
    ]


def _prn(
    record: PatientRecord,
    st: Styles,
    width: float,
    lang: str,
    tz: tzinfo,
    start: datetime,
    end: datetime,
) -> list[Flowable]:
    """As-needed orders: per 24 h of the period as many boxes as the order allows doses
    (maximum per 24 h; PRN_BLANK_PER_DAY without a maximum), each with a time field."""
    orders = [o for o in record.medications if is_active(o) and o.as_needed]
    out: list[Flowable] = [section(t("print.mar.prn", lang), st)]
    if not orders:
        return [*out, empty_line(t("print.none", lang), st)]
    drug_w, last_w = width * 0.27, width * 0.15
    boxes_w = width - drug_w - last_w
    rows: list[list[Any]] = []
    for order in orders:
        most = prn_per_day(order)
        per_day = most or PRN_BLANK_PER_DAY
        columns = hand_columns(per_day, start, end)
        chunks: list[Any] = list(
            hand_chunks(columns, boxes_w - 6, lang, tz, _value_text(value_field(order), lang))
        )
        if most is None:
            rule = t("print.mar.prn_no_max", lang, count=PRN_BLANK_PER_DAY)
        elif most > PER_DAY_CAP:
            rule = t("print.mar.prn_capped", lang, most=most, count=PER_DAY_CAP)
        else:
            rule = t("print.mar.prn_max", lang, count=most)
        chunks[0] = [para(rule, st.small), chunks[0]]
        for n, boxes in enumerate(chunks):
            if n == 0:
                last = _last_given(order, record.administrations, lang, tz)
                rows.append([_drug_cell(order, st, lang, tz, record.medications), last, boxes])
            else:
                rows.append([para(f"↳ {order.drug}", st.cell), "", boxes])
    header = [t("print.col.drug", lang), t("print.mar.last", lang), t("print.mar.prn_boxes", lang)]
    table = data_table(header, rows, [drug_w, last_w, boxes_w], st)
    return [_heading_over(out[0], table, width), table]


def _on_hold(
    record: PatientRecord, st: Styles, width: float, lang: str, tz: tzinfo
) -> list[Flowable]:
    """Orders on hold, apart and without boxes: the order in words (with the active order of
    the same drug, when there is one) and "on hold since ..." with the reason when known."""
    orders = record.on_hold_medications
    if not orders:
        return []
    rows = []
    for order in orders:
        status = [on_hold_text(order, lang, tz)]
        if order.status_reason and order.status_reason.strip():
            status.append(order.status_reason.strip())
        rows.append(
            [
                _drug_cell(order, st, lang, tz, record.medications),
                para(
                    "<b>" + "<br/>".join(escape(x) for x in status) + "</b>", st.cell, markup=True
                ),
            ]
        )
    header = [t("print.col.drug", lang), t("col.status", lang)]
    table = data_table(header, rows, [width * 0.6, width * 0.4], st)
    hint = para(t("print.mar.on_hold_hint", lang), st.small)
    return [keep(section(t("print.mar.on_hold", lang), st), hint, table)]


def _heading_over(heading: Any, table: Table, width: float) -> Any:
    """`heading` made to move to the next page unless its table's header and first row fit
    under it: a row of boxes is taller than a section heading's usual minimum space, and a
    table row never splits, so the heading would be left alone at the page bottom."""
    table.wrap(width, 10**6)
    first = sum(table._rowHeights[:2])  # the repeated header and the first order
    heading.MIN_SPACE = max(heading.MIN_SPACE, first + 24)
    return heading


def _recent(
    record: PatientRecord,
    st: Styles,
    width: float,
    lang: str,
    tz: tzinfo,
    windows: DataWindows | None = None,
) -> list[Flowable]:
    if not record.administrations:
        return []
    items = sorted(record.administrations, key=lambda a: a.when or datetime.min, reverse=True)
    rows = [
        [
            when_text(a.when, lang, tz),
            a.drug,
            amount_text(a.dose_text, lang) or "–",
            a.route or "–",
            administration_status(a, lang),
            a.performer or "–",
        ]
        for a in items
    ]
    header = [
        t("col.time", lang),
        t("print.col.drug", lang),
        t("col.dose", lang),
        t("col.route", lang),
        t("col.status", lang),
        t("col.performer", lang),
    ]
    widths = [w * width for w in (0.14, 0.36, 0.14, 0.1, 0.1, 0.16)]
    # The window the sync kept administrations for (snapshot metadata), not a fixed number.
    hours = clinical_number((windows or DataWindows()).administrations_hours, lang)
    title = t("print.mar.recent", lang, hours=hours)
    return [section(title, st), data_table(header, rows, widths, st)]


STALE_AFTER = timedelta(hours=1)
SIGNATURE_ROWS = 8
NEW_ORDER_ROWS = 6


def _measure(record: PatientRecord, meaning: str, lang: str, tz: tzinfo) -> str:
    """The latest weight / height with its date, or "–" (dose calculations need both)."""
    found = [
        o
        for o in (*record.vitals, *record.labs)
        if o.meaning == meaning and (o.value is not None or o.value_text)
    ]
    if not found:
        return "–"
    latest = max(found, key=lambda o: o.effective or datetime.min.replace(tzinfo=tz))
    value = observation_value(latest, lang)
    return f"{value} ({date_text(latest.effective, lang, tz)})" if latest.effective else value


def _age_banner(
    as_of: datetime, now: datetime, st: Styles, width: float, lang: str, tz: tzinfo
) -> Flowable:
    """How old the data is; boxed and bold when older than STALE_AFTER."""
    age = fmt_span(now - as_of, lang) if now > as_of else fmt_span(timedelta(0), lang)
    stale = now - as_of > STALE_AFTER
    key = "print.mar.stale" if stale else "print.mar.fresh"
    text = t(key, lang, age=age, time=when_text(as_of, lang, tz))
    cell = para(text, st.bold if stale else st.body)
    table = Table([[cell]], colWidths=[width], hAlign="LEFT")
    # Unboxed, its words line up with the paragraphs below; boxed, they keep off the frame line.
    commands: list[tuple[Any, ...]] = [("LEFTPADDING", (0, 0), (-1, -1), 4 if stale else 0)]
    if stale:
        commands += [
            ("BOX", (0, 0), (-1, -1), 1.6, colors.black),
            ("BACKGROUND", (0, 0), (-1, -1), ABNORMAL_BG),
        ]
    table.setStyle(TableStyle(commands))
    return table


def _blank_form(
    header: list[str], widths: list[float], rows: int, st: Styles, height: float = 18.0
) -> Table:
    """A table of empty rows to write in by hand, its header repeated on every page."""
    table = Table(
        [[para(h, st.head_cell) for h in header], *[[""] * len(header) for _ in range(rows)]],
        colWidths=widths,
        rowHeights=[None, *[height] * rows],
        repeatRows=1,
        hAlign="LEFT",
    )
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEEEEE")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _form_parts(st: Styles, width: float, lang: str) -> list[Flowable]:
    """Empty rows for new handwritten orders and the signature/initials legend."""
    orders = [
        t("print.col.drug", lang),
        t("col.dose", lang),
        t("col.route", lang),
        t("print.mar.frequency", lang),
        t("print.mar.start", lang),
        t("print.mar.prescriber_sign", lang),
    ]
    order_w = [width * f for f in (0.28, 0.12, 0.08, 0.16, 0.14, 0.22)]
    legend = [
        t("print.mar.sig_name", lang),
        t("print.mar.sig_signature", lang),
        t("print.mar.sig_initials", lang),
        t("print.mar.sig_role", lang),
    ]
    legend_w = [width * f for f in (0.35, 0.35, 0.12, 0.18)]
    # Each block whole on one page (a heading never alone at a page bottom).
    return [
        keep(
            section(t("print.mar.new_orders", lang), st),
            _blank_form(orders, order_w, NEW_ORDER_ROWS, st),
        ),
        keep(
            section(t("print.mar.signatures", lang), st),
            _blank_form(legend, legend_w, SIGNATURE_ROWS, st),
        ),
    ]


def mar_flowables(
    record: PatientRecord,
    lang: str,
    now: datetime,
    tz: tzinfo,
    hours: int,
    width: float,
    as_of: datetime | None = None,
    windows: DataWindows | None = None,
) -> list[Flowable]:
    """The body of the MAR (without page furniture); pure. `windows` are the snapshot's
    (`SnapshotMeta.windows`): the administrations heading names the window really kept.

    `as_of` is the snapshot's data-as-of. When it is older than `now` (the print time), the
    boxes start at `as_of` so that no dose since then is missing, and only doses before
    `as_of` can be called overdue; a banner says how old the data is.
    """
    st = styles()
    # The period in real hours from an instant: a 24 h MAR printed on the night the clocks go
    # back ends 24 h later, and data-as-of and print time compare as instants.
    now = instant(now, tz)
    end = now + timedelta(hours=hours)
    start = min(instant(as_of, tz), now) if as_of is not None else now
    body: list[Flowable] = [code_status_block(record, st, width, lang, tz), spacer(2)]
    body.append(section(t("print.allergies", lang), st))
    body.extend(allergy_block(record, st, width, lang))
    flags = flags_line(record, st, lang)
    if flags is not None:
        body += [spacer(2), flags]
    measures = t(
        "print.mar.measures",
        lang,
        weight=_measure(record, "weight", lang, tz),
        height=_measure(record, "height", lang, tz),
    )
    body += [spacer(2), para(measures, st.body)]
    if as_of is not None:
        body += [spacer(2), _age_banner(as_of, now, st, width, lang, tz)]
    window = t(
        "print.mar.window", lang, start=when_text(start, lang, tz), end=when_text(end, lang, tz)
    )
    body += [
        spacer(2),
        para(
            f"<b>{escape(window)}</b> · {escape(t('print.mar.hint', lang))}", st.body, markup=True
        ),
    ]
    body += _scheduled(record, st, width, lang, now, end, tz, start)
    body += _infusions(record, st, width, lang, tz)
    body += _prn(record, st, width, lang, tz, start, end)
    body += _on_hold(record, st, width, lang, tz)
    body += _recent(record, st, width, lang, tz, windows)
    body += _form_parts(st, width, lang)
    return body


def render_mar(
    record: PatientRecord,
    meta: MetaLike,
    printed_by: str,
    lang: str,
    now: datetime,
    tz: tzinfo,
    hours: int = 24,
    *,
    break_glass: bool = False,
) -> bytes:
    """The MAR sheet as PDF bytes (A4 landscape) for the `hours` (24 or 72) after `now`.

    Writes nothing. Raises ValueError for other `hours` values, FontMissingError when the bundled
    font is missing.
    """
    if hours not in ALLOWED_HOURS:
        raise ValueError(f"MAR period must be 24 or 72 hours, not {hours}")
    record = capped_fields(record)  # one bad field must not fail or stall the print
    ctx = patient_context(
        record,
        title=t("print.title.mar", lang, hours=hours),
        meta=meta,
        printed_by=printed_by,
        lang=lang,
        now=now,
        tz=tz,
        pagesize=LANDSCAPE,
    )
    ctx = replace(ctx, legend_line=t("print.mar.not_given_codes", lang))
    flowables = mar_flowables(
        record,
        lang,
        now,
        tz,
        hours,
        content_width(ctx),
        as_of=meta.data_as_of,
        windows=meta_windows(meta),
    )
    ctx = with_break_glass(ctx, break_glass, printed_by)
    return build_pdf(flowables, ctx, subject="mar")


__all__ = ["ALLOWED_HOURS", "render_mar"]

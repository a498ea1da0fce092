"""The medication administration record (MAR) for paper documentation during a downtime.

A4 landscape. Top: code status and allergies. Then one row per active scheduled order with the
scheduled times of the next 24 h (or 72 h) as empty boxes to initial by hand, and the last
administrations for reference; orders whose timing cannot be computed get empty boxes to fill in
the times by hand (never dropped); then the PRN (as-needed) orders with empty rows for time, dose
and initials; last, every administration of the last 72 h that the snapshot holds.

Pure: returns PDF bytes, writes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.platypus import Flowable, Table, TableStyle

from app.present.catalog import normalize_language, t
from app.present.clinical import status_word
from app.present.dose import medication_text
from app.present.formats import fmt_time, localize_numbers
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
    MetaLike,
    Styles,
    build_pdf,
    cap_text,
    capped_fields,
    content_width,
    data_table,
    empty_line,
    para,
    patient_context,
    section,
    spacer,
    styles,
    when_text,
    with_break_glass,
)
from app.schedule import has_schedule, is_active, next_due, scheduled_times
from sync.model import Administration, MedicationOrder, PatientRecord

ALLOWED_HOURS = (24, 72)
BOX_W = 38.0  # points: room for a time label and handwritten initials
BOX_H = 15.0
PRN_BOXES = 8
PRN_BOX_H = 24.0  # room for time, dose and initials
MANUAL_BOXES = 10
MAX_BOX_LINES = 6  # lines of boxes per table row, so that one row always fits a page
LAST_GIVEN = 3
_NOT_GIVEN = {"not-done", "entered-in-error"}
_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _day_label(value: datetime, lang: str) -> str:
    if normalize_language(lang) == "de":
        return value.strftime("%d.%m.")
    return f"{value.day} {_EN_MONTHS[value.month - 1]}"


def _box_grid(
    labels: list[tuple[str, str]],
    per_line: int,
    box_w: float,
    st: Styles,
    *,
    blank_h: float = BOX_H,
    label_size: float = 7.5,
    label_font: str = BOLD,
) -> Table:
    """Boxes in lines of `per_line`: a label cell (day, time) over an empty cell to initial.

    Labels are plain table strings, not Paragraphs: a 72-hour MAR has thousands of them and
    Paragraph layout would dominate the rendering time.
    """
    data: list[list[Any]] = []
    heights: list[float | None] = []
    lines = max(1, max((1 + bool(day) for day, _clock in labels), default=1))
    label_h = lines * (label_size + 1) + 3
    for start in range(0, len(labels), per_line):
        chunk = labels[start : start + per_line]
        label_row: list[Any] = [f"{day}\n{clock}" if day else clock for day, clock in chunk]
        data.append(label_row + [""] * (per_line - len(chunk)))
        data.append([""] * per_line)
        heights += [label_h, blank_h]
    table = Table(data, colWidths=[box_w] * per_line, rowHeights=heights, hAlign="LEFT")
    commands: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), label_font, label_size, label_size + 1),
        ("ALIGN", (0, 0), (-1, -1), "CENTER"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), 1),
        ("RIGHTPADDING", (0, 0), (-1, -1), 1),
        ("TOPPADDING", (0, 0), (-1, -1), 1),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
    ]
    for row in range(0, len(data), 2):
        used = min(per_line, len(labels) - (row // 2) * per_line)
        commands += [
            ("BOX", (0, row), (used - 1, row + 1), 0.3, colors.black),
            ("INNERGRID", (0, row), (used - 1, row + 1), 0.3, colors.black),
            ("BACKGROUND", (0, row), (used - 1, row), colors.HexColor("#F2F2F2")),
        ]
    table.setStyle(TableStyle(commands))
    return table


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
    lines = []
    for a in mine[:LAST_GIVEN]:
        given = not a.status or a.status.strip().lower() == "completed"
        status = "" if given else f" ({status_word(a.status, lang, 'administration')})"
        who = f" {a.performer}" if a.performer else ""
        when = a.when.astimezone(tz) if a.when and a.when.tzinfo else a.when
        stamp = f"{_day_label(when, lang)} {fmt_time(when, lang, tz)}" if when else "–"
        lines.append(f"{stamp}{status}{who}")
    return "\n".join(lines) or "–"


def _drug_cell(order: MedicationOrder, st: Styles, lang: str, tz: tzinfo) -> Any:
    text = medication_text(order, lang, tz)
    dose, route, timing = text.dose(" / "), text.route(), text.schedule("\n")
    parts = [f"<b>{escape(cap_text(order.drug, 300) or '')}</b>"]
    parts.append(escape(" · ".join(x for x in (dose, route) if x and x != "–")))
    parts.append(f"<font size=7>{escape(timing).replace(chr(10), '<br/>')}</font>")
    if order.prescriber:
        parts.append(f"<font size=6.5 color='#555555'>{escape(order.prescriber)}</font>")
    return para("<br/>".join(p for p in parts if p), st.cell, markup=True)


def _scheduled(
    record: PatientRecord,
    st: Styles,
    width: float,
    lang: str,
    now: datetime,
    end: datetime,
    tz: tzinfo,
) -> list[Flowable]:
    orders = [o for o in record.medications if is_active(o) and not _prn_only(o)]
    out: list[Flowable] = [section(t("print.mar.scheduled", lang), st)]
    if not orders:
        return [*out, empty_line(t("print.none", lang), st)]
    drug_w, last_w = width * 0.27, width * 0.15
    boxes_w = width - drug_w - last_w
    per_line = max(1, int((boxes_w - 6) // BOX_W))
    rows: list[list[Any]] = []
    backgrounds: dict[int, Any] = {}
    for order in orders:
        chunks: list[Any] = []
        if has_schedule(order):
            # Doses still open from before `now` (due now, or overdue within the last hours)
            # get a box too, so that a late dose can be signed; "!" marks overdue ones.
            info = next_due(order, now, record.administrations, tz)
            late = set(info.overdue_times) if info else set()
            open_before = sorted(
                [*(info.overdue_times if info else ()), *(info.due_now if info else ())]
            )
            times = [x for x in open_before if x < now] + scheduled_times(order, now, end, tz)
            labels = [
                (_day_label(x, lang), fmt_time(x, lang, tz) + (" !" if x in late else ""))
                for x in times
            ]
            # A row must fit on a page: very frequent orders continue on further rows.
            step = per_line * MAX_BOX_LINES
            for start in range(0, len(labels), step):
                chunks.append(_box_grid(labels[start : start + step], per_line, BOX_W, st))
            if not chunks:
                chunks.append(para(t("print.none", lang), st.small))
        else:
            chunks.append(
                [
                    para(t("print.mar.no_times", lang), st.alert),
                    _box_grid([("", "")] * MANUAL_BOXES, per_line, BOX_W, st),
                ]
            )
        due, overdue = due_text(order, record.administrations, now, tz, lang)
        last = _last_given(order, record.administrations, lang, tz)
        if overdue:
            last = f"{due}\n{last}"
        for n, boxes in enumerate(chunks):
            if overdue:
                backgrounds[len(rows)] = ABNORMAL_BG
            if n == 0:
                rows.append([_drug_cell(order, st, lang, tz), last, boxes])
            else:
                rows.append([para(f"↳ {order.drug}", st.cell), "", boxes])
    header = [t("print.col.drug", lang), t("print.mar.last", lang), t("print.mar.times", lang)]
    out.append(data_table(header, rows, [drug_w, last_w, boxes_w], st, row_backgrounds=backgrounds))
    return out


def _prn_only(order: MedicationOrder) -> bool:
    return bool(order.dosages) and all(d.as_needed for d in order.dosages)


def _prn(record: PatientRecord, st: Styles, width: float, lang: str, tz: tzinfo) -> list[Flowable]:
    orders = [o for o in record.medications if is_active(o) and o.as_needed]
    out: list[Flowable] = [section(t("print.mar.prn", lang), st)]
    if not orders:
        return [*out, empty_line(t("print.none", lang), st)]
    drug_w, last_w = width * 0.27, width * 0.15
    boxes_w = width - drug_w - last_w
    box_w = (boxes_w - 6) / PRN_BOXES
    label = t("print.mar.prn_box", lang)
    rows = []
    for order in orders:
        grid = _box_grid(
            [("", label)] * PRN_BOXES,
            PRN_BOXES,
            box_w,
            st,
            blank_h=PRN_BOX_H,
            label_size=6.5,
            label_font=REGULAR,
        )
        rows.append(
            [
                _drug_cell(order, st, lang, tz),
                _last_given(order, record.administrations, lang, tz),
                grid,
            ]
        )
    header = [t("print.col.drug", lang), t("print.mar.last", lang), ""]
    out.append(data_table(header, rows, [drug_w, last_w, boxes_w], st))
    return out


def _recent(
    record: PatientRecord, st: Styles, width: float, lang: str, tz: tzinfo
) -> list[Flowable]:
    if not record.administrations:
        return []
    items = sorted(record.administrations, key=lambda a: a.when or datetime.min, reverse=True)
    rows = [
        [
            when_text(a.when, lang, tz),
            a.drug,
            localize_numbers(a.dose_text, lang) or "–",
            a.route or "–",
            status_word(a.status, lang, "administration"),
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
    return [section(t("print.mar.recent", lang), st), data_table(header, rows, widths, st)]


def mar_flowables(
    record: PatientRecord, lang: str, now: datetime, tz: tzinfo, hours: int, width: float
) -> list[Flowable]:
    """The body of the MAR (without page furniture); pure."""
    st = styles()
    end = now + timedelta(hours=hours)
    body: list[Flowable] = [code_status_block(record, st, width, lang, tz), spacer(2)]
    body.append(section(t("print.allergies", lang), st))
    body.extend(allergy_block(record, st, width, lang))
    flags = flags_line(record, st, lang)
    if flags is not None:
        body += [spacer(2), flags]
    window = t(
        "print.mar.window", lang, start=when_text(now, lang, tz), end=when_text(end, lang, tz)
    )
    body += [
        spacer(2),
        para(
            f"<b>{escape(window)}</b> · {escape(t('print.mar.hint', lang))}", st.body, markup=True
        ),
    ]
    body += _scheduled(record, st, width, lang, now, end, tz)
    body += _prn(record, st, width, lang, tz)
    body += _recent(record, st, width, lang, tz)
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
    flowables = mar_flowables(record, lang, now, tz, hours, content_width(ctx))
    ctx = with_break_glass(ctx, break_glass, printed_by)
    return build_pdf(flowables, ctx, subject="mar")


__all__ = ["ALLOWED_HOURS", "render_mar"]

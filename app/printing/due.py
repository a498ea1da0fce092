"""The ward's "medications due" list: what a night nurse carries on the round.

A4 landscape, one row per dose due in the next N hours for every patient of the ward (time in
the hospital zone, room/bed, patient, drug, dose, route, a box to sign), overdue doses first,
marked in words ("⚠ OVERDUE") and shaded (never by colour alone). Every page carries the ward,
data-as-of, printed by/at and page x of y (app.printing.layout). The doses come from
`app.duelist.ward_due`, the words from `app.present.due`: the screen shows the same list.

Pure: returns PDF bytes, writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, tzinfo
from typing import Any
from xml.sax.saxutils import escape

from reportlab.platypus import Flowable

from app.duelist import DEFAULT_HOURS, DueDose, ward_due
from app.present.catalog import t
from app.present.due import due_columns, due_row, due_rule_text
from app.printing.census import _ward_title
from app.printing.layout import (
    ABNORMAL_BG,
    LANDSCAPE,
    MetaLike,
    PageContext,
    build_pdf,
    content_width,
    data_table,
    downtime_line,
    empty_line,
    para,
    printed_line,
    spacer,
    styles,
    with_break_glass,
)
from sync.model import PatientRecord


def due_flowables(
    doses: Iterable[DueDose], hours: int, lang: str, now: datetime, tz: tzinfo, width: float
) -> list[Flowable]:
    """The due table (without page furniture); pure."""
    st = styles()
    today = now.astimezone(tz).date()
    rows: list[list[Any]] = []
    shaded: dict[int, Any] = {}
    for i, dose in enumerate(doses):
        row = due_row(dose, lang, tz, today)
        when = f"<b>{escape(row.time)}</b>"
        if row.overdue:
            when += f"<br/><b>{escape(row.mark)}</b>"
            shaded[i] = ABNORMAL_BG
        rows.append(
            [
                para(when, st.cell, markup=True),
                para(row.room_bed, st.cell_bold),
                para(row.patient, st.cell_bold),
                row.drug,
                row.dose,
                row.route,
                "",
            ]
        )
    out: list[Flowable] = [para(due_rule_text(lang), st.small), spacer(2)]
    if not rows:
        return [*out, empty_line(t("due.empty", lang, hours=hours), st)]
    header = [*due_columns(lang), t("due.col.given", lang)]
    fractions = (0.10, 0.07, 0.20, 0.25, 0.12, 0.08, 0.18)
    out.append(data_table(header, rows, [f * width for f in fractions], st, row_backgrounds=shaded))
    return out


def render_due(
    records: Iterable[PatientRecord],
    meta: MetaLike,
    printed_by: str,
    lang: str,
    now: datetime,
    tz: tzinfo,
    *,
    hours: int = DEFAULT_HOURS,
    break_glass: bool = False,
) -> bytes:
    """The ward's medications due over the next `hours` as PDF bytes (A4 landscape).

    Overdue is judged against the snapshot's data-as-of (`meta.data_as_of`), as on screen.
    Writes nothing. Raises FontMissingError when the bundled font is missing.
    """
    doses = ward_due(records, now, hours, meta.data_as_of, tz)
    overdue = sum(1 for d in doses if d.overdue)
    ward_id = getattr(meta, "ward_id", "") or ""
    ctx = PageContext(
        lang=lang,
        title=t("due.title", lang, hours=hours),
        downtime_line=downtime_line(meta, lang, tz),
        printed_line=printed_line(printed_by, now, lang, tz),
        ident_name=_ward_title(meta.ward_name, lang),
        ident_lines=(t("due.count", lang, count=len(doses), overdue=overdue),),
        barcode_value=ward_id or None,
        pagesize=LANDSCAPE,
    )
    flowables = due_flowables(doses, hours, lang, now, tz, content_width(ctx))
    ctx = with_break_glass(ctx, break_glass, printed_by)
    return build_pdf(flowables, ctx, subject="due")

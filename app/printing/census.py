"""The ward census: one line per patient with the markers a ward round needs.

A4 landscape: room/bed, name, birth date (age), sex, main diagnosis, allergies (red and bold
when any is of high criticality), code status (white on red when it limits resuscitation),
alerts, admission date. The header carries the ward instead of a patient, with a barcode of the
ward id.

Pure: returns PDF bytes, writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.platypus import Flowable, TableStyle

from app.present.catalog import t
from app.present.clinical import born_text, code_status_text, room_bed_short, sex_word
from app.present.formats import date_text
from app.printing.layout import (
    LANDSCAPE,
    RED,
    MetaLike,
    PageContext,
    Styles,
    build_pdf,
    capped_fields,
    content_width,
    data_table,
    downtime_line,
    empty_line,
    para,
    printed_line,
    styles,
    with_break_glass,
)
from sync.model import CensusRow


def _bed(row: CensusRow) -> str:
    return room_bed_short(row.room, row.bed)


def _allergy_cell(row: CensusRow, st: Styles, lang: str) -> Any:
    if not row.allergy_count:
        return para("–", st.cell)
    text = row.allergies_short or str(row.allergy_count)
    if row.allergy_count > 4:
        text += f" (+{row.allergy_count - 4})"
    style = st.alert if row.severe_allergy else st.cell_bold
    marker = "⚠ " if row.severe_allergy else ""
    return para(marker + text, style.clone("alc", fontSize=8, leading=9.5))


def _code_cell(row: CensusRow, st: Styles, lang: str) -> Any:
    words = code_status_text(row.code_status, row.code_status_text, lang, short=True)
    if words.unknown and words.documented is None:
        return para(words.label, st.small)
    label = escape(words.label)
    if words.documented:
        label += f"<br/><font size=6.5>{escape(words.documented[:60])}</font>"
    if words.limiting:
        return para(label, st.cell_bold.clone("csw", textColor=colors.white), markup=True)
    return para(label, st.cell, markup=True)


def _ward_title(name: str, lang: str) -> str:
    """ "Station 7 Innere" stays as is; a bare "7 Innere" gets the word "Station"/"Ward"."""
    word = t("place.ward", lang)
    lowered = name.casefold()
    if lowered.startswith(("station", "ward", word.casefold())):
        return name
    return f"{word} {name}"


def census_flowables(
    rows: Sequence[CensusRow], lang: str, now: datetime, tz: tzinfo, width: float
) -> list[Flowable]:
    """The census table (without page furniture); pure."""
    st = styles()
    today = now.astimezone(tz).date()
    out: list[Flowable] = []
    if not rows:
        return [empty_line(t("print.none", lang), st)]
    data: list[list[Any]] = []
    limiting: list[int] = []
    for i, full in enumerate(rows):
        row = capped_fields(full)
        name = f"<b>{escape(row.name)}</b>"
        if row.deceased:
            name += f" <font color='#B00020'>({escape(t('patient.deceased', lang))})</font>"
        if row.mrn:
            name += f"<br/><font size=7>{escape(t('print.mrn', lang, mrn=row.mrn))}</font>"
        born = born_text(row.birth_date, today, lang).removeprefix("geb. ").removeprefix("born ")
        data.append(
            [
                para(_bed(row), st.cell_bold),
                para(name, st.cell, markup=True),
                f"{born}, {sex_word(row.sex, lang, short=True)}",
                row.main_diagnosis or "–",
                _allergy_cell(row, st, lang),
                _code_cell(row, st, lang),
                "; ".join(row.flags) or "–",
                date_text(row.admitted, lang, tz),
            ]
        )
        if code_status_text(row.code_status, None, lang).limiting:
            limiting.append(i)
    header = [
        t("print.col.bed", lang),
        t("col.name", lang),
        t("print.col.born", lang),
        t("print.col.diagnosis", lang),
        t("allergy.heading", lang),
        t("print.col.code", lang),
        t("flags.heading", lang),
        t("print.col.admitted", lang),
    ]
    fractions = (0.06, 0.19, 0.14, 0.18, 0.14, 0.10, 0.10, 0.09)
    table = data_table(header, data, [f * width for f in fractions], st)
    table.setStyle(TableStyle([("BACKGROUND", (5, i + 1), (5, i + 1), RED) for i in limiting]))
    out.append(table)
    return out


def render_census(
    rows: Sequence[CensusRow],
    meta: MetaLike,
    printed_by: str,
    lang: str,
    now: datetime,
    tz: tzinfo,
    *,
    break_glass: bool = False,
) -> bytes:
    """The ward census as PDF bytes (A4 landscape), rows in the given order. Writes nothing.

    Raises FontMissingError when the bundled font is missing.
    """
    ward_id = getattr(meta, "ward_id", "") or ""
    ctx = PageContext(
        lang=lang,
        title=t("print.title.census", lang),
        downtime_line=downtime_line(meta, lang, tz),
        printed_line=printed_line(printed_by, now, lang, tz),
        ident_name=_ward_title(meta.ward_name, lang),
        ident_lines=(t("print.census.count", lang, count=len(rows)),),
        barcode_value=ward_id or None,
        pagesize=LANDSCAPE,
    )
    flowables = census_flowables(rows, lang, now, tz, content_width(ctx))
    ctx = with_break_glass(ctx, break_glass, printed_by)
    return build_pdf(flowables, ctx, subject="census")

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
from app.present.clinical import (
    born_text,
    case_text,
    code_status_text,
    room_bed_short,
    sex_word,
)
from app.present.formats import date_text
from app.printing.fonts import BOLD, REGULAR
from app.printing.layout import (
    CELL_PADDING,
    LANDSCAPE,
    RED,
    MetaLike,
    PageContext,
    Styles,
    build_pdf,
    cap_text,
    capped_fields,
    content_width,
    data_table,
    downtime_line,
    empty_line,
    hyphenable,
    para,
    printed_line,
    styles,
    with_break_glass,
)
from sync.model import CensusRow


def _bed(row: CensusRow) -> str:
    return room_bed_short(row.room, row.bed)


def _allergy_cell(row: CensusRow, st: Styles, lang: str, width: float) -> Any:
    # No allergy listed: "none known" (documented NKA) and "not documented" (unknown, NOT none)
    # are different facts: the screen's words, never a dash for both. "Not documented" is bold
    # with "ask!" (and the cell shaded by the caller), as the MAR warns.
    if not row.allergy_count:
        if row.no_known_allergies:
            return para(t("allergy.nka_short", lang), st.cell)
        ask = f"{t('allergy.not_documented_short', lang)} – {t('print.census.allergy_ask', lang)}"
        return para(ask, st.cell_bold)
    text = row.allergies_short or str(row.allergy_count)
    if row.allergy_count > 4:
        text += f" (+{row.allergy_count - 4})"
    style = st.alert if row.severe_allergy else st.cell_bold
    marker = "⚠ " if row.severe_allergy else ""
    return para(hyphenable(marker + text, width, BOLD), style.clone("alc", fontSize=8, leading=9.5))


def _code_cell(row: CensusRow, st: Styles, lang: str, width: float) -> Any:
    words = code_status_text(row.code_status, row.code_status_text, lang, short=True)
    if words.unknown and words.documented is None:
        return para(words.label, st.small)
    label = escape(words.label)
    if words.documented:
        documented = cap_text(words.documented, 120) or ""
        label += (
            f"<br/>{escape(hyphenable(documented, width, BOLD if words.limiting else REGULAR))}"
        )
    if words.limiting:
        label = f"⚠ {label}"  # not by red alone: recognisable on a black-and-white copy
        return para(label, st.cell_bold.clone("csw", textColor=colors.white), markup=True)
    return para(label, st.cell, markup=True)


ASK_SHADE = colors.HexColor("#E6E6E6")
HOSPITAL_WARD_ID = "hospital"


def _ward_of(row: CensusRow) -> str:
    return row.ward or row.ward_id or "–"


def _ward_title(name: str, lang: str) -> str:
    """ "Station 7 Innere" stays as is; a bare "7 Innere" gets the word "Station"/"Ward"."""
    word = t("place.ward", lang)
    lowered = name.casefold()
    if lowered.startswith(("station", "ward", word.casefold())):
        return name
    return f"{word} {name}"


def is_hospital_wide(rows: Sequence[CensusRow], ward_id: str = "") -> bool:
    """Pure: a census of more than one ward (the hospital-wide snapshot)."""
    return ward_id == HOSPITAL_WARD_ID or len({r.ward_id or r.ward for r in rows}) > 1


def present_count(rows: Sequence[CensusRow]) -> int:
    """Pure: patients in the ward now (discharged rows are listed, not counted)."""
    return sum(1 for r in rows if r.is_current)


def census_flowables(
    rows: Sequence[CensusRow],
    lang: str,
    now: datetime,
    tz: tzinfo,
    width: float,
    *,
    by_ward: bool = False,
) -> list[Flowable]:
    """The census table (without page furniture); pure. `by_ward`: a ward column, rows grouped
    by ward (in the given order within each ward) under a line "Station X (n)". Discharged
    patients are marked "entlassen <date>"."""
    st = styles()
    today = now.astimezone(tz).date()
    out: list[Flowable] = []
    if not rows:
        return [empty_line(t("print.none", lang), st)]
    data: list[list[Any]] = []
    fractions: tuple[float, ...] = (0.06, 0.19, 0.14, 0.18, 0.14, 0.10, 0.10, 0.09)
    if by_ward:
        fractions = (0.09, 0.06, 0.17, 0.12, 0.16, 0.13, 0.10, 0.09, 0.08)
    widths = [f * width for f in fractions]  # the last four: allergies, code, alerts, admitted
    limiting: list[int] = []
    unknown_allergy: list[int] = []
    group_rows: list[int] = []
    ordered = list(rows)
    if by_ward:
        first_seen: dict[str, int] = {}
        for n, r in enumerate(ordered):
            first_seen.setdefault(_ward_of(r), n)
        ordered.sort(key=lambda r: (_ward_of(r).casefold(), first_seen[_ward_of(r)]))
    current_ward: str | None = None
    for full in ordered:
        row = capped_fields(full)
        if by_ward and _ward_of(row) != current_ward:
            current_ward = _ward_of(row)
            members = [r for r in ordered if _ward_of(r) == current_ward]
            label = t(
                "print.census.group",
                lang,
                ward=current_ward,
                count=present_count(members),
            )
            group_rows.append(len(data))
            data.append([para(label, st.bold)] + [""] * 8)
        i = len(data)
        name = f"<b>{escape(row.name)}</b>"
        if row.deceased:
            name += f" <font color='#B00020'>({escape(t('patient.deceased', lang))})</font>"
        if not row.is_current:
            when = date_text(row.discharged, lang, tz) if row.discharged else ""
            gone = t("print.census.discharged", lang, date=when).strip()
            name += f" <b>[{escape(gone)}]</b>"
        # MRN and case number: what a form or a phone call asks for (the screen's row shows both).
        mrn = t("print.mrn", lang, mrn=row.mrn) if row.mrn else ""
        ids = " · ".join(i for i in (mrn, case_text(row.case_number, lang)) if i)
        if ids:
            name += f"<br/>{escape(ids)}"
        born = (
            born_text(row.birth_date, today, lang, row.birth_precision)
            .removeprefix("geb. ")
            .removeprefix("born ")
        )
        data.append(
            [
                escape(_ward_of(row)) if by_ward else None,
                para(_bed(row), st.cell_bold),
                para(name, st.cell, markup=True),
                f"{born}, {sex_word(row.sex, lang, short=True)}",
                row.main_diagnosis or "–",
                _allergy_cell(row, st, lang, widths[-4] - CELL_PADDING),
                _code_cell(row, st, lang, widths[-3] - CELL_PADDING),
                "; ".join(row.flags) or "–",
                date_text(row.admitted, lang, tz),
            ]
        )
        if code_status_text(row.code_status, None, lang).limiting:
            limiting.append(i)
        if not row.allergy_count and not row.no_known_allergies:
            unknown_allergy.append(i)
    header = [
        t("place.ward", lang),
        t("print.col.bed", lang),
        t("col.name", lang),
        t("print.col.born", lang),
        t("print.col.diagnosis", lang),
        t("allergy.heading", lang),
        t("print.col.code", lang),
        t("flags.heading", lang),
        t("print.col.admitted", lang),
    ]
    if not by_ward:  # no ward column
        header = header[1:]
        data = [row[1:] for row in data]
    table = data_table(header, data, widths, st)
    code_col = 6 if by_ward else 5
    commands: list[tuple[Any, ...]] = [
        ("BACKGROUND", (code_col, i + 1), (code_col, i + 1), RED) for i in limiting
    ]
    # Light grey: still marked on a black-and-white copy, and never the red of an allergy.
    commands += [
        ("BACKGROUND", (code_col - 1, i + 1), (code_col - 1, i + 1), ASK_SHADE)
        for i in unknown_allergy
    ]
    for g in group_rows:
        commands += [
            ("SPAN", (0, g + 1), (-1, g + 1)),
            ("BACKGROUND", (0, g + 1), (-1, g + 1), colors.HexColor("#DDDDDD")),
            ("LINEABOVE", (0, g + 1), (-1, g + 1), 1.2, colors.black),
        ]
    table.setStyle(TableStyle(commands))
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
    hospital = is_hospital_wide(rows, ward_id)
    present = present_count(rows)
    count_line = t("print.census.count", lang, count=present)
    if present < len(rows):
        count_line += " · " + t("print.census.gone", lang, count=len(rows) - present)
    ctx = PageContext(
        lang=lang,
        title=t("print.title.census", lang),
        downtime_line=downtime_line(meta, lang, tz),
        printed_line=printed_line(printed_by, now, lang, tz),
        ident_name=meta.ward_name if hospital else _ward_title(meta.ward_name, lang),
        ident_lines=(count_line,),
        barcode_value=ward_id or None,
        pagesize=LANDSCAPE,
    )
    flowables = census_flowables(rows, lang, now, tz, content_width(ctx), by_ward=hospital)
    ctx = with_break_glass(ctx, break_glass, printed_by)
    return build_pdf(flowables, ctx, subject="census")

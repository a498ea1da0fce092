"""Pieces shared by the summary and the MAR: the alert block and medication text.

Pure: builds reportlab flowables and strings from the record model; no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Any

from reportlab.lib import colors
from reportlab.platypus import Flowable, Table, TableStyle

from app.present.catalog import t
from app.present.clinical import allergy_text, code_status_text, code_word
from app.present.dose import dose_text, medication_text
from app.present.due import due_text as present_due_text
from app.present.formats import fmt_date
from app.printing.layout import (
    GREY,
    RED,
    Styles,
    data_table,
    para,
)
from sync.model import Administration, MedicationOrder, PatientRecord

ABRIDGE_CHARS = 900


def abridge(text: str | None, limit: int, lang: str) -> str:
    """At most `limit` characters (cut at a word), marked as abridged; keeps rows printable."""
    value = (text or "").strip()
    if len(value) <= limit:
        return value
    cut = value[:limit].rsplit(" ", 1)[0]
    return f"{cut} {t('print.more_text', lang)}"


def dosage_lines(order: MedicationOrder, lang: str, tz: tzinfo) -> tuple[str, str, str]:
    """(dose, route, timing) of all dosages of an order, one line per dosage
    (`app.present.dose`: the same text as the chart shows)."""
    text = medication_text(order, lang, tz)
    return text.dose("\n"), text.route("\n"), text.schedule("\n")


def due_text(
    order: MedicationOrder,
    administrations: Sequence[Administration],
    now: datetime,
    tz: tzinfo,
    lang: str,
    as_of: datetime | None = None,
) -> tuple[str, bool]:
    """(next-due text, overdue?) for the medication tables: `app.present.due.due_text`, the
    same words as the chart ("ÜBERFÄLLIG seit 08:00 · nächste 20:00").

    With `as_of` (the snapshot's data-as-of) older than `now`, only times before `as_of` can
    be overdue: a dose due after it may well have been given, the snapshot cannot know.
    """
    due = present_due_text(order, administrations, now, tz, lang, as_of=as_of)
    return (due.text, due.overdue)


def code_status_block(
    record: PatientRecord, st: Styles, width: float, lang: str, tz: tzinfo
) -> Flowable:
    """The code status as a full-width box: white on red when it limits resuscitation."""
    cs = record.code_status
    words = code_status_text(cs.kind if cs else None, cs.text if cs else None, lang)
    heading = t("cs.heading", lang)
    if words.unknown and words.documented is None:
        fill, text_colour = colors.HexColor("#DDDDDD"), colors.black
    elif words.limiting:
        fill, text_colour = RED, colors.white
    else:
        fill, text_colour = colors.HexColor("#E8F0E8"), colors.black
    style = st.big_alert.clone("cs", textColor=text_colour)
    # Recognisable on a black-and-white copy too, not by red alone: a warning sign and a heavy
    # border for a limiting code status.
    mark = "⚠ " if words.limiting else ""
    cells: list[Any] = [para(f"{mark}{heading}: {words.label}", style)]
    if cs is not None and words.documented:
        documented = f"{t('cs.documented', lang)}: {words.documented}"
        if cs.recorded:
            documented += f" ({fmt_date(cs.recorded, lang, tz)})"
        cells.append(para(documented, st.body.clone("csdoc", textColor=text_colour)))
    table = Table([[cells]], colWidths=[width])
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), fill),
                ("BOX", (0, 0), (-1, -1), 3.0 if words.limiting else 1.2, colors.black),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
                ("LEFTPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    return table


def allergy_block(record: PatientRecord, st: Styles, width: float, lang: str) -> list[Flowable]:
    """Allergies with criticality and reactions; high criticality in red. Never silent: an
    empty list prints either the documented NKA or a warning that nothing is documented."""
    out: list[Flowable] = []
    if not record.allergies:
        key = "allergy.nka" if record.no_known_allergies else "allergy.not_documented"
        style = st.bold if record.no_known_allergies else st.alert
        out.append(para(t(key, lang), style))
        return out
    rows: list[list[Any]] = []
    backgrounds = {}
    for i, allergy in enumerate(record.allergies):
        words = allergy_text(allergy, lang)
        substance = words.substance + (f" ({words.status})" if words.status else "")
        # High criticality: "⚠" and bold as well as red (a black-and-white copy keeps both).
        cell = para(
            f"⚠ {substance}" if words.high else substance,
            st.cell_bold if not words.high else st.alert,
        )
        rows.append([cell, words.criticality, words.reactions, words.kind])
        if words.high:
            backgrounds[i] = colors.HexColor("#FFE3E3")
    header = [
        t("print.col.substance", lang),
        t("print.col.criticality", lang),
        t("print.col.reactions", lang),
        t("print.col.type", lang),
    ]
    widths = [width * 0.3, width * 0.14, width * 0.38, width * 0.18]
    out.append(data_table(header, rows, widths, st, row_backgrounds=backgrounds))
    return out


def flags_line(record: PatientRecord, st: Styles, lang: str) -> Flowable | None:
    if not record.flags:
        return None
    text = "; ".join(f.text for f in record.flags)
    return para(f"{t('flags.heading', lang)}: {text}", st.alert)


def alert_header_style(st: Styles) -> Any:
    return st.h2.clone("alerth", textColor=RED)


__all__ = [
    "ABRIDGE_CHARS",
    "GREY",
    "abridge",
    "alert_header_style",
    "allergy_block",
    "code_status_block",
    "code_word",
    "dosage_lines",
    "dose_text",
    "due_text",
    "flags_line",
]

"""Pieces shared by the summary and the MAR: the alert block and medication text.

Pure: builds reportlab flowables and strings from the record model; no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Any

from reportlab.lib import colors
from reportlab.platypus import Flowable, Table, TableStyle

from app.i18n import fmt_date, fmt_number, fmt_time, has_message, t
from app.printing.layout import (
    GREY,
    LIMITING_CODE_STATUS,
    RED,
    Styles,
    code_status_label,
    data_table,
    para,
)
from app.schedule import describe_dosage_timing, next_due
from sync.model import Administration, Criticality, Dosage, MedicationOrder, PatientRecord

ABRIDGE_CHARS = 900


def abridge(text: str | None, limit: int, lang: str) -> str:
    """At most `limit` characters (cut at a word), marked as abridged; keeps rows printable."""
    value = (text or "").strip()
    if len(value) <= limit:
        return value
    cut = value[:limit].rsplit(" ", 1)[0]
    return f"{cut} {t('print.more_text', lang)}"


def dose_text(dosage: Dosage, lang: str) -> str:
    if dosage.dose_text:
        return dosage.dose_text
    if dosage.dose_value is not None:
        unit = f" {dosage.dose_unit}" if dosage.dose_unit else ""
        return f"{fmt_number(dosage.dose_value, lang)}{unit}"
    return dosage.text or "–"


def dosage_lines(order: MedicationOrder, lang: str, tz: tzinfo) -> tuple[str, str, str]:
    """(dose, route, timing) of all dosages of an order, one line per dosage.

    Intervals are described from the order start, as `scheduled_times` computes them.
    """
    doses, routes, timings = [], [], []
    for dosage in order.dosages or [Dosage()]:
        doses.append(dose_text(dosage, lang))
        routes.append(dosage.route or "–")
        start = (dosage.timing.bounds_start if dosage.timing else None) or order.start
        anchor = start.astimezone(tz) if start and start.tzinfo else start
        timing = describe_dosage_timing(dosage, lang, anchor)
        if dosage.as_needed and dosage.max_per_period:
            timing = f"{timing}; {t('print.mar.max', lang)} {dosage.max_per_period}"
        timings.append(timing)
    return "\n".join(doses), "\n".join(dict.fromkeys(routes)), "\n".join(timings)


def due_text(
    order: MedicationOrder,
    administrations: Sequence[Administration],
    now: datetime,
    tz: tzinfo,
    lang: str,
) -> tuple[str, bool]:
    """("14:00" or "ÜBERFÄLLIG 08:00; 14:00", overdue?) for the medication table."""
    info = next_due(order, now, administrations, tz)
    if info is None:
        return ("–", False)
    parts = []
    if info.overdue:
        times = ", ".join(fmt_time(x, lang, tz) for x in info.overdue_times)
        parts.append(t("print.overdue", lang, times=times))
    if info.next_time is not None:
        day = info.next_time.astimezone(tz).date()
        prefix = "" if day == now.astimezone(tz).date() else f"{fmt_date(day, lang)} "
        parts.append(t("print.next", lang, time=prefix + fmt_time(info.next_time, lang, tz)))
    return ("\n".join(parts) or "–", info.overdue)


def code_status_block(record: PatientRecord, st: Styles, width: float, lang: str) -> Flowable:
    """The code status as a full-width box: white on red when it limits resuscitation."""
    cs = record.code_status
    heading = t("print.code_status", lang)
    if cs is None:
        label = t("print.cs.unknown", lang)
        fill, text_colour = colors.HexColor("#DDDDDD"), colors.black
    else:
        label = code_status_label(cs.kind, None, lang)
        if cs.kind in LIMITING_CODE_STATUS:
            fill, text_colour = RED, colors.white
        else:
            fill, text_colour = colors.HexColor("#E8F0E8"), colors.black
    style = st.big_alert.clone("cs", textColor=text_colour)
    cells: list[Any] = [para(f"{heading}: {label}", style)]
    if cs is not None and cs.text and cs.text.strip() and cs.text.strip() != label:
        documented = f"{t('print.cs.documented', lang)}: {cs.text.strip()}"
        if cs.recorded:
            documented += f" ({fmt_date(cs.recorded, lang)})"
        cells.append(para(documented, st.body.clone("csdoc", textColor=text_colour)))
    table = Table([[cells]], colWidths=[width])
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), fill),
                ("BOX", (0, 0), (-1, -1), 1.2, colors.black),
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
        key = "print.nka" if record.no_known_allergies else "print.allergies_unknown"
        style = st.bold if record.no_known_allergies else st.alert
        out.append(para(t(key, lang), style))
        return out
    rows: list[list[Any]] = []
    backgrounds = {}
    for i, allergy in enumerate(record.allergies):
        high = allergy.criticality == Criticality.HIGH
        crit = t(f"print.crit.{allergy.criticality.value}", lang)
        kinds = [allergy.kind or "", *allergy.category]
        kind = ", ".join(code_word(x, lang) for x in kinds if x) or "–"
        reactions = ", ".join(allergy.reactions)
        if allergy.severity:
            severity = code_word(allergy.severity, lang)
            reactions = f"{reactions} ({severity})" if reactions else severity
        substance = para(allergy.substance, st.cell_bold if not high else st.alert)
        rows.append([substance, crit, reactions or "–", kind])
        if high:
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


def code_word(code: str, lang: str) -> str:
    """FHIR codes shown in words ("medication" -> "Medikament"); unknown codes as they are."""
    key = f"print.code.{code.strip().lower()}"
    return t(key, lang) if has_message(key) else code


def flags_line(record: PatientRecord, st: Styles, lang: str) -> Flowable | None:
    if not record.flags:
        return None
    text = "; ".join(f.text for f in record.flags)
    return para(f"{t('print.flags', lang)}: {text}", st.alert)


def alert_header_style(st: Styles) -> Any:
    return st.h2.clone("alerth", textColor=RED)


__all__ = [
    "ABRIDGE_CHARS",
    "GREY",
    "abridge",
    "alert_header_style",
    "allergy_block",
    "code_status_block",
    "dosage_lines",
    "dose_text",
    "due_text",
    "flags_line",
]

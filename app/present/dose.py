"""Dose, route and schedule of a medication order in words: one text for screen and paper.

The rules (docs/architecture.md, "Presentation layer"):
- dose: the mapped dose text ("500 mg", "1–2 Tbl.", "40 mg, 5 mL/h"), else value and unit, else
  the prescriber's free text (`Dosage.text`), else "–"; numbers in the language's decimal sign;
- route: each route once;
- schedule: computed times as `app.schedule` expands them, interval orders anchored on the order
  start in the hospital's zone (so "every 8 h" reads the same times the MAR boxes show); an
  as-needed dosage reads "bei Bedarf (reason)" plus its documented maximum.

Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from app.present.catalog import t
from app.present.formats import DASH, clinical_number, datetime_text, localize_numbers
from app.present.timing import describe_dosage_timing
from app.present.units import unit_text, units_in_text
from sync.model import Dosage, MedicationOrder


def amount_text(text: str | None, lang: str) -> str:
    """An amount the mapping wrote ("4.5 g", "500 ug", "1.5-2 mg/h"): the language's decimal
    sign and units in print form ("4,5 g", "500 µg"); the dose column of the administrations
    tables and the infusion rate use it as the order's dose does. None gives ""."""
    return units_in_text(localize_numbers(text, lang), lang)


def dose_text(dosage: Dosage, lang: str) -> str:
    """The dose of one dosage: "4,5 g" (de) / "4.5 g" (en), "500 µg" for UCUM's "ug"; free
    text as written; else "–"."""
    if dosage.dose_text:
        return amount_text(dosage.dose_text, lang)
    if dosage.dose_value is not None:
        unit = f" {unit_text(dosage.dose_unit, lang)}" if dosage.dose_unit else ""
        return f"{clinical_number(dosage.dose_value, lang)}{unit}"
    if dosage.text and dosage.text.strip():
        return dosage.text.strip()
    return DASH


def maximum_text(dosage: Dosage, lang: str) -> str:
    """The documented maximum ("Max. 4 g / 1 d; 1 g pro Gabe"); "" when none."""
    if not dosage.max_per_period:
        return ""
    value = amount_text(dosage.max_per_period, lang)
    value = value.replace(" per dose", f" {t('med.per_dose', lang)}")
    return f"{t('med.max', lang)} {value}"


def _anchor(order: MedicationOrder, dosage: Dosage, tz: tzinfo) -> datetime | None:
    start = (dosage.timing.bounds_start if dosage.timing else None) or order.start
    return start.astimezone(tz) if start is not None and start.tzinfo else start


def schedule_text(order: MedicationOrder, dosage: Dosage, lang: str, tz: tzinfo) -> str:
    """When this dosage is given: "3× täglich: 06:00, 14:00, 22:00", "alle 8 h",
    "bei Bedarf (Schmerzen); Max. 4 g / 1 d". Intervals are anchored on the order start in `tz`."""
    text = describe_dosage_timing(dosage, lang, _anchor(order, dosage, tz))  # in `lang` already
    if dosage.as_needed:
        maximum = maximum_text(dosage, lang)
        if maximum:
            text = f"{text}; {maximum}"
    return text


@dataclass(frozen=True)
class DosageText:
    dose: str
    route: str
    schedule: str


@dataclass(frozen=True)
class MedicationText:
    """Dose, route and schedule of an order; one entry per dosage (an order may have several)."""

    dosages: tuple[DosageText, ...]

    def dose(self, sep: str = "; ") -> str:
        return sep.join(d.dose for d in self.dosages) or DASH

    def route(self, sep: str = ", ") -> str:
        routes = [d.route for d in self.dosages if d.route != DASH]
        return sep.join(dict.fromkeys(routes)) or DASH

    def schedule(self, sep: str = "; ") -> str:
        return sep.join(d.schedule for d in self.dosages if d.schedule) or DASH


def _once(dose: str, schedule: str) -> str:
    """`schedule` without the prescriber's text when the dose already is that text: "nach
    Schema laut BZ" is said once (as the dose), "2× täglich: 08:00, 18:00 (1-0-1)" loses its
    "(1-0-1)" when the dose reads "1-0-1"."""
    if not dose or dose == DASH:
        return schedule
    if schedule == dose:
        return ""
    return schedule.removesuffix(f" ({dose})")


def medication_text(order: MedicationOrder, lang: str, tz: tzinfo) -> MedicationText:
    """Every dosage of `order` in words (an order without dosages reads "–" for each). When a
    dosage has no structured dose, its dose is the prescriber's text and its schedule does not
    repeat that text (the MAR's drug cell and the chart row say it once)."""
    out = []
    for dosage in order.dosages or [Dosage()]:
        dose = dose_text(dosage, lang)
        schedule = schedule_text(order, dosage, lang, tz)
        if not dosage.dose_text and dosage.dose_value is None:
            schedule = _once(dose, schedule)
        out.append(
            DosageText(dose=dose, route=(dosage.route or "").strip() or DASH, schedule=schedule)
        )
    return MedicationText(tuple(out))


# --- an active and an on-hold order of the same drug -------------------------------------

_FIRST_WORD = re.compile(r"[^\W\d_]{4,}")


def _drug_keys(order: MedicationOrder) -> set[tuple[str, str]]:
    """What identifies the drug of `order`: each coding (system, code), and the first word of
    its name (the ingredient: "Metoprolol 47,5 mg" and "Metoprolol 95 mg" are one drug)."""
    keys = {
        ((c.system or "").strip().casefold(), c.code.strip().casefold())
        for c in order.coding
        if c.code and c.code.strip()
    }
    first = _FIRST_WORD.search(order.drug)
    if first:
        keys.add(("name", first.group(0).casefold()))
    return keys


def related_orders(
    order: MedicationOrder, orders: Sequence[MedicationOrder]
) -> list[MedicationOrder]:
    """The orders of the same drug (a shared coding or the same first word of the name) on
    the other side of "on hold": for an active order those on hold, for an on-hold order the
    active ones. Pure."""
    keys = _drug_keys(order)
    if not keys:
        return []
    return [
        other
        for other in orders
        if other is not order
        and other.on_hold != order.on_hold
        and (other.status or "active") in ("active", "on-hold")
        and keys & _drug_keys(other)
    ]


def related_text(order: MedicationOrder, orders: Sequence[MedicationOrder], lang: str) -> str:
    """ "⚠ dasselbe Medikament auch pausiert: Metoprolol 95 mg" on an active order whose drug
    also has an order on hold, "⚠ ... auch aktiv verordnet: ..." the other way round; "" when
    there is none. The same words on the chart, the MAR and the summary."""
    others = related_orders(order, orders)
    if not others:
        return ""
    drugs = ", ".join(dict.fromkeys(o.drug for o in others))
    key = "med.also_active" if order.on_hold else "med.also_on_hold"
    return t(key, lang, drugs=drugs)


def on_hold_text(order: MedicationOrder, lang: str, tz: tzinfo) -> str:
    """ "pausiert seit 01.12.2026 14:00" / "on hold since 1 Dec 2026 14:00": since the order's
    last change at the source (`meta.lastUpdated`; FHIR R4 has no "held at", and the order has
    been on hold at least since its last change); "pausiert" / "on hold" when not known."""
    changed = order.source.last_updated if order.source else None
    if changed is None:
        return t("status.on-hold", lang)
    return t("med.on_hold_since", lang, when=datetime_text(changed, lang, tz))


__all__ = [
    "DosageText",
    "MedicationText",
    "amount_text",
    "dose_text",
    "maximum_text",
    "medication_text",
    "on_hold_text",
    "related_orders",
    "related_text",
    "schedule_text",
]

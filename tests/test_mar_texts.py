"""What the MAR says about an order, from FHIR as an EHR sends it, on paper and on screen alike
(issue 9, clinician walk-through): held orders listed apart, an active and a held order of the
same drug naming each other, the prescriber's text said once, the reason a dose was not given
in the administrations table."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from app.printing import DocumentMeta, render_mar, render_summary
from app.ui.viewmodels.chart import ChartModel
from sync.mapping import MappingContext, map_patient
from sync.model import PatientRecord
from tests.test_present_agree import flat_text

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # 10:00 in Berlin
ATC = "http://www.whocc.no/atc"
HOLD_REASON = "Bradykardie, HF 48/min"
REFUSED = "Patient lehnt ab (Übelkeit)"
FREE_TEXT = "nach Anordnung Stationsarzt"


def _request(rid: str, drug: str, status: str, dosage: dict[str, Any], **kw: Any) -> dict:
    return {
        "resourceType": "MedicationRequest",
        "id": rid,
        "status": status,
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "authoredOn": "2026-11-28T09:00:00+01:00",
        "dosageInstruction": [dosage],
        **kw,
    } | {"medicationCodeableConcept": {"text": drug, "coding": [{"system": ATC, "code": "C07AB02"}]}
         if drug.startswith("Metoprolol") else {"text": drug}}  # fmt: skip


def _twice_daily(dose: float, unit: str) -> dict[str, Any]:
    return {
        "timing": {"repeat": {"timeOfDay": ["08:00:00", "20:00:00"]}},
        "route": {"text": "p.o."},
        "doseAndRate": [{"doseQuantity": {"value": dose, "unit": unit}}],
    }


def ehr_record() -> PatientRecord:
    patient = {"resourceType": "Patient", "id": "p1", "name": [{"family": "Beispiel"}]}
    active = _request("m1", "Metoprolol succinat 47,5 mg", "active", _twice_daily(1, "Tbl."))
    held = _request(
        "m2",
        "Metoprolol succinat 95 mg",
        "on-hold",
        _twice_daily(1, "Tbl."),
        statusReason={"text": HOLD_REASON},
        meta={"lastUpdated": "2026-12-01T14:00:00+01:00"},
    )
    # Only the prescriber's text: no structured dose, no timing.
    free = _request("m3", "Macrogol Pulver", "active", {"text": FREE_TEXT})
    other = _request("m4", "Ramipril 5 mg", "active", _twice_daily(5, "mg"))
    refused = {
        "resourceType": "MedicationAdministration",
        "id": "a1",
        "status": "not-done",
        "statusReason": [{"text": REFUSED}],
        "medicationCodeableConcept": {"text": "Ramipril 5 mg"},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2026-12-02T08:05:00+01:00",
        "request": {"reference": "MedicationRequest/m4"},
        "performer": [{"actor": {"display": "S. Roth"}}],
    }
    ctx = MappingContext(tz=BERLIN, now=NOW, problems=Counter())
    return map_patient(patient, [active, held, free, other, refused], ctx)


META = DocumentMeta(ward_name="Station 7", data_as_of=NOW, ward_id="w7")
WORDS = {
    "de": {
        "also_on_hold": "⚠ dasselbe Medikament auch pausiert: Metoprolol succinat 95 mg",
        "also_active": "⚠ dasselbe Medikament auch aktiv verordnet: Metoprolol succinat 47,5 mg",
        "since": "pausiert seit 01.12.2026 14:00",
        "section": "Pausierte Verordnungen – nicht geben",
        "not_given": f"nicht gegeben: {REFUSED}",
    },
    "en": {
        "also_on_hold": "⚠ same drug also on hold: Metoprolol succinat 95 mg",
        "also_active": "⚠ same drug also in an active order: Metoprolol succinat 47,5 mg",
        "since": "on hold since 1 Dec 2026 14:00",
        "section": "Orders on hold – do not give",
        "not_given": f"not given: {REFUSED}",
    },
}


@pytest.mark.parametrize("lang", ["de", "en"])
def test_held_order_on_the_mar_and_both_orders_name_each_other(lang: str) -> None:
    words = WORDS[lang]
    record = ehr_record()
    model = ChartModel(record, now=NOW, tz=BERLIN, lang=lang)
    active = next(m for m in model.medications() if m.drug.startswith("Metoprolol"))
    assert active.related == words["also_on_hold"]
    assert not next(m for m in model.medications() if m.drug.startswith("Ramipril")).related
    held = dict(model.other_medications())
    (held_item,) = next(items for items in held.values())
    assert words["since"] in held_item.detail and HOLD_REASON in held_item.detail
    assert words["also_active"] in held_item.detail and held_item.danger

    mar = flat_text(render_mar(record, META, "x", lang, NOW, BERLIN, hours=24))
    assert words["also_on_hold"] in mar
    # The held order has its own section after the boxes, with no boxes of its own.
    section = mar.split(words["section"])[1]
    assert "Metoprolol succinat 95 mg" in section
    assert words["since"] in section and HOLD_REASON in section
    assert words["also_active"] in section
    assert "Metoprolol succinat 95 mg" not in mar.split(words["section"])[0].replace(
        words["also_on_hold"], ""
    )
    summary = flat_text(render_summary(record, META, "x", lang, NOW, BERLIN))
    assert words["also_on_hold"] in summary and words["also_active"] in summary


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_prescribers_text_is_said_once(lang: str) -> None:
    record = ehr_record()
    model = ChartModel(record, now=NOW, tz=BERLIN, lang=lang)
    line = next(m for m in model.medications() if m.drug.startswith("Macrogol"))
    assert line.dose == FREE_TEXT
    assert FREE_TEXT not in line.schedule
    mar = flat_text(render_mar(record, META, "x", lang, NOW, BERLIN, hours=24))
    assert mar.count(FREE_TEXT) == 1


@pytest.mark.parametrize("lang", ["de", "en"])
def test_recent_administrations_give_the_not_given_reason(lang: str) -> None:
    record = ehr_record()
    model = ChartModel(record, now=NOW, tz=BERLIN, lang=lang)
    (adm,) = model.administrations()
    assert adm.status == WORDS[lang]["not_given"]
    mar = flat_text(render_mar(record, META, "x", lang, NOW, BERLIN, hours=24))
    recent = mar.split("Verabreichungen" if lang == "de" else "Administrations")[-1]
    assert adm.status in recent, recent[:400]

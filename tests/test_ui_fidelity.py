"""What the chart and census show for the record model's truth (issue 9), starting from FHIR as
an EHR sends it: a finished stay, stopped / on-hold / home medication, a dose not given, a
superseded note, a coded-only problem, NKA vs not documented, a NEWS2-flagged vital."""

from __future__ import annotations

import base64
from collections import Counter
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import flet as ft

from app.ui.viewmodels.census import census_line, ward_counts
from app.ui.viewmodels.chart import ChartModel
from app.ui.widgets.census import _flags_cell
from sync.mapping import MappingContext, map_patient
from sync.model import CensusRow, PatientRecord

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
SNOMED = "http://snomed.info/sct"


def record(resources: list[dict[str, Any]]) -> PatientRecord:
    patient = {
        "resourceType": "Patient",
        "id": "p1",
        "name": [{"family": "Beispiel", "given": ["Anna"]}],
        "birthDate": "1948-05-17",
    }
    ctx = MappingContext(tz=BERLIN, now=NOW, problems=Counter())
    return map_patient(patient, resources, ctx)


def encounter(status: str, end: str | None = None) -> dict[str, Any]:
    period = {"start": "2026-03-02T09:12:00+01:00", **({"end": end} if end else {})}
    return {
        "resourceType": "Encounter",
        "id": "e1",
        "status": status,
        "class": {"code": "IMP"},
        "period": period,
    }


def test_census_marks_discharged_and_counts_who_is_on_the_ward() -> None:
    here = CensusRow.from_record(record([encounter("in-progress")]))
    gone = CensusRow.from_record(record([encounter("finished", "2026-03-10T07:45:00+01:00")]))
    line = census_line(gone, NOW, BERLIN, "de")
    assert line.discharged.startswith("entlassen") and "07:45" in line.discharged
    assert line.admitted_day == ""  # no "Tag 8" for a stay that is over
    assert census_line(here, NOW, BERLIN, "de").discharged == ""
    assert ward_counts([here, gone], NOW) == (1, 1)


def test_census_tells_no_known_allergies_from_not_documented() -> None:
    nka = {
        "resourceType": "AllergyIntolerance",
        "id": "a1",
        "clinicalStatus": {"coding": [{"code": "active"}]},
        "code": {"coding": [{"system": SNOMED, "code": "716186003"}]},
    }
    with_nka = census_line(CensusRow.from_record(record([nka])), NOW, BERLIN, "en")
    nothing = census_line(CensusRow.from_record(record([])), NOW, BERLIN, "en")
    assert (with_nka.allergy_state, with_nka.allergy_none) == ("no-known", "none known")
    assert (nothing.allergy_state, nothing.allergy_none) == ("not-documented", "not documented")


def test_chart_shows_finished_stay_other_medications_not_given_and_superseded() -> None:
    def order(rid: str, status: str, drug: str, **extra: Any) -> dict[str, Any]:
        return {
            "resourceType": "MedicationRequest",
            "id": rid,
            "meta": {"lastUpdated": "2026-03-09T14:00:00+01:00"},
            "status": status,
            "intent": "order",
            "medicationCodeableConcept": {"text": drug},
            **extra,
        }

    def doc(rid: str, status: str, text: str, when: str, **extra: Any) -> dict[str, Any]:
        data = base64.b64encode(text.encode()).decode()
        return {
            "resourceType": "DocumentReference",
            "id": rid,
            "status": status,
            "description": text.split(":")[0],
            "date": when,
            "content": [{"attachment": {"contentType": "text/plain", "data": data}}],
            **extra,
        }

    rec = record(
        [
            encounter("finished", "2026-03-10T07:45:00+01:00"),
            order("m1", "active", "Metoprolol 47,5 mg"),
            order("m2", "on-hold", "Ramipril 5 mg", statusReason={"text": "Hypotonie"}),
            order("m3", "stopped", "Enoxaparin 40 mg", statusReason={"text": "HIT-Verdacht"}),
            {
                "resourceType": "MedicationStatement",
                "id": "s1",
                "status": "active",
                "medicationCodeableConcept": {"text": "L-Thyroxin 75 µg"},
            },
            {
                "resourceType": "MedicationAdministration",
                "id": "g1",
                "status": "completed",
                "medicationCodeableConcept": {"text": "Metoprolol 47,5 mg"},
                "effectiveDateTime": "2026-03-10T08:10:00+01:00",
                "request": {"reference": "MedicationRequest/m1"},
                "performer": [{"actor": {"display": "S. Roth"}}],
            },
            {
                "resourceType": "MedicationAdministration",
                "id": "g2",
                "status": "not-done",
                "statusReason": [{"text": "Patient nüchtern"}],
                "medicationCodeableConcept": {"text": "Metoprolol 47,5 mg"},
                "effectiveDateTime": "2026-03-10T12:00:00+01:00",
                "request": {"reference": "MedicationRequest/m1"},
            },
            doc("d1", "superseded", "Entwurf: vorläufig", "2026-03-09T08:00:00+01:00"),
            doc("d2", "current", "Aufnahmebefund: final", "2026-03-08T08:00:00+01:00"),
            {
                "resourceType": "Condition",
                "id": "c1",
                "clinicalStatus": {"coding": [{"code": "active"}]},
                "code": {"coding": [{"system": "urn:local", "code": "X99"}]},
            },
        ]
    )
    chart = ChartModel(rec, now=NOW, tz=BERLIN, lang="de")
    header = chart.header()
    assert "ENTLASSEN" in header.admitted and "Tag" not in header.admitted
    meds = chart.medications()
    assert [m.drug for m in meds] == ["Metoprolol 47,5 mg"]
    assert meds[0].last_given == "zuletzt gegeben 08:10 · S. Roth"
    sections = {
        title: [(i.title, i.detail, i.when) for i in items]
        for title, items in chart.other_medications()
    }
    held = sections["Pausierte Verordnungen"][0]
    assert held[0] == "Ramipril 5 mg" and held[1].startswith(
        "pausiert seit 09.03.2026 14:00 · Hypotonie"  # since the last change (meta.lastUpdated)
    )
    stopped = sections["Abgesetzt (letzte 72 h)"][0]
    assert stopped[0] == "Enoxaparin 40 mg" and stopped[1].startswith("HIT-Verdacht")
    assert stopped[2] == "abgesetzt 09.03.2026 14:00"  # meta.lastUpdated, hospital time
    assert [i[0] for i in sections["Hausmedikation (nicht verordnet)"]] == ["L-Thyroxin 75 µg"]
    statuses = [a.status for a in chart.administrations()]
    assert "nicht gegeben: Patient nüchtern" in statuses
    notes = chart.notes()
    assert [(n.title, n.muted) for n in notes] == [("Aufnahmebefund", False), ("Entwurf", True)]
    assert notes[1].detail.startswith("ersetzt")
    problem = chart.problems()[0]
    assert problem.muted and problem.title == "code urn:local|X99 (no text)"
    assert problem.detail.startswith("nur Code, kein Text")


def test_hospital_hit_of_a_discharged_patient_shows_discharged_first_never_behind_plus_n() -> None:
    """A whole-hospital hit carries its ward chip too; the discharge marker is still the first
    pill drawn (it was folded into "+2" behind "Neurologie 6B" at 1024 px)."""
    gone = CensusRow.from_record(record([encounter("finished", "2026-03-10T07:45:00+01:00")]))
    gone = gone.model_copy(
        update={
            "ward_id": "neuro6b",
            "ward": "Neurologie 6B",
            "flags": ["Kontaktisolation MRSA", "Sturzgefahr"],
        }
    )
    line = census_line(gone, NOW, BERLIN, "en", ward_id="st7")
    assert line.other_ward and line.discharged.startswith("discharged")
    for compact in (True, False):
        cell = _flags_cell(line, "en", compact=compact)
        assert isinstance(cell, ft.Row)
        first = cell.controls[0]
        assert isinstance(first, ft.Container) and isinstance(first.content, ft.Text)
        assert first.content.value == line.discharged

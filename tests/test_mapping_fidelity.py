"""The record says what the source says: finished stays, superseded and repeated notes, stopped
and on-hold orders, doses not given, NKA vs not documented, vitals coded outside LOINC, repeated
answers, coded-only problem names, vital-sign flags, calendar dates.

Every input here is FHIR R4 JSON shaped as hospital EHRs send it (offsets, meta, status reasons,
SNOMED / local codings), not the project's generator output.
"""

from __future__ import annotations

import base64
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sync.mapping import MappingContext, map_patient
from sync.mapping.meanings import VitalRanges
from sync.model import (
    AllergyStatus,
    CensusRow,
    Interpretation,
    PatientRecord,
)

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
CIEL = "https://cielterminology.org"
VS_CAT = [
    {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                "code": "vital-signs",
                "display": "Vital Signs",
            }
        ]
    }
]

Resource = dict[str, Any]


def patient() -> Resource:
    return {
        "resourceType": "Patient",
        "id": "pat-4711",
        "meta": {"lastUpdated": "2026-03-01T08:00:00.000+01:00"},
        "identifier": [{"system": "urn:oid:1.2.276.0.76.4.8", "value": "4711"}],
        "name": [{"use": "official", "family": "Beispiel", "given": ["Anna"]}],
        "birthDate": "1948-05-17",
        "gender": "female",
    }


def run(
    resources: list[Resource], *, now: datetime = NOW, **ctx_args: Any
) -> tuple[PatientRecord, Counter[str]]:
    ctx = MappingContext(tz=BERLIN, now=now, problems=Counter(), **ctx_args)
    return map_patient(patient(), resources, ctx), ctx.problems


def encounter(status: str, start: str, end: str | None = None, rid: str = "enc-1") -> Resource:
    period = {"start": start, **({"end": end} if end else {})}
    return {
        "resourceType": "Encounter",
        "id": rid,
        "meta": {"lastUpdated": "2026-03-10T10:00:00+01:00"},
        "status": status,
        "class": {
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
            "code": "IMP",
            "display": "inpatient encounter",
        },
        "subject": {"reference": "Patient/pat-4711"},
        "period": period,
        "location": [
            {
                "location": {"display": "Station 3A"},
                "status": "completed" if status == "finished" else "active",
                "physicalType": {"coding": [{"code": "wa"}]},
            }
        ],
    }


# --- 1. finished stays -------------------------------------------------------------------------


def test_finished_encounter_is_not_the_current_stay_and_carries_its_discharge_time() -> None:
    record, _ = run(
        [encounter("finished", "2026-03-02T09:12:00+01:00", "2026-03-10T07:45:00+01:00")]
    )
    assert record.stay is not None
    assert not record.stay.is_current
    assert record.stay.is_finished
    assert record.stay.discharged == datetime(2026, 3, 10, 6, 45, tzinfo=UTC)
    row = CensusRow.from_record(record)
    assert row.stay_status == "finished"
    assert not row.is_current
    assert row.discharged_within(NOW, timedelta(hours=24))
    assert not row.discharged_within(NOW + timedelta(days=2), timedelta(hours=24))


def test_in_progress_encounter_is_current_and_census_counts_on_ward_and_discharged() -> None:
    here, _ = run([encounter("in-progress", "2026-03-08T22:10:00+01:00")])
    gone, _ = run([encounter("finished", "2026-03-01T09:00:00+01:00", "2026-03-09T16:30:00+01:00")])
    assert here.stay is not None and here.stay.is_current and here.stay.discharged is None
    rows = [CensusRow.from_record(here), CensusRow.from_record(gone)]
    on_ward = [r for r in rows if r.is_current]
    recent = [r for r in rows if r.discharged_within(NOW, timedelta(hours=24))]
    assert (len(on_ward), len(recent)) == (1, 1)
    # The census row survives the snapshot's census table round trip (new fields in `extra`).
    from sync.snapshot import census_from_values, census_values

    back = census_from_values(census_values(rows[1]))
    assert back.stay_status == "finished" and back.discharged == rows[1].discharged


def test_old_record_without_the_new_fields_still_reads() -> None:
    old = b'{"id":"p","name":"A, B","stay":{"status":"in-progress"},"medications":[]}'
    record = PatientRecord.from_json(old)
    assert record.stay is not None and record.stay.is_current
    assert record.stopped_medications == []
    assert record.allergy_status is AllergyStatus.NOT_DOCUMENTED


# --- 2. notes ----------------------------------------------------------------------------------


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


REPORT_TEXT = "Röntgen Thorax: kein Infiltrat, keine Stauung."


def test_document_reference_repeating_a_diagnostic_report_shows_once_newest_wins() -> None:
    report = {
        "resourceType": "DiagnosticReport",
        "id": "dr-1",
        "meta": {"lastUpdated": "2026-03-09T11:00:00+01:00"},
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "36643-5", "display": "XR Chest 2V"}]},
        "effectiveDateTime": "2026-03-09T10:30:00+01:00",
        "presentedForm": [{"contentType": "text/plain", "data": b64(REPORT_TEXT)}],
    }
    document = {
        "resourceType": "DocumentReference",
        "id": "doc-1",
        "meta": {"lastUpdated": "2026-03-09T11:05:00+01:00"},
        "status": "current",
        "docStatus": "final",
        "type": {"coding": [{"system": LOINC, "code": "18748-4", "display": "Diagnostic imaging"}]},
        "date": "2026-03-09T11:05:00+01:00",
        "content": [
            {"attachment": {"contentType": "text/plain; charset=utf-8", "data": b64(REPORT_TEXT)}}
        ],
        "context": {"related": [{"reference": "DiagnosticReport/dr-1"}]},
    }
    record, _ = run([report, document])
    assert len(record.notes) == 1
    note = record.notes[0]
    assert note.source is not None and note.source.id == "doc-1"  # the newest
    assert [s.id for s in note.also_in] == ["dr-1"]  # the other stays reachable
    # ... as a version to open: same content, so its text is not stored twice.
    assert [(v.source.id if v.source else "", v.superseded, v.text) for v in note.versions] == [
        ("dr-1", False, None)
    ]


def test_superseded_note_is_marked_and_entered_in_error_is_hidden() -> None:
    def doc(rid: str, status: str, when: str, text: str, **extra: Any) -> Resource:
        return {
            "resourceType": "DocumentReference",
            "id": rid,
            "status": status,
            "type": {"text": "Arztbrief"},
            "date": when,
            "content": [{"attachment": {"contentType": "text/plain", "data": b64(text)}}],
            **extra,
        }

    record, _ = run(
        [
            doc("v1", "superseded", "2026-03-08T09:00:00+01:00", "Entlassbrief Entwurf"),
            doc(
                "v2",
                "current",
                "2026-03-09T09:00:00+01:00",
                "Entlassbrief final",
                relatesTo=[{"code": "replaces", "target": {"reference": "DocumentReference/v1"}}],
            ),
            doc("bad", "entered-in-error", "2026-03-09T10:00:00+01:00", "falscher Patient"),
        ]
    )
    # The newest version is shown; the draft it replaces is one action away, marked.
    assert [(n.text, n.superseded) for n in record.notes] == [("Entlassbrief final", False)]
    assert [(v.text, v.superseded) for v in record.notes[0].versions] == [
        ("Entlassbrief Entwurf", True)
    ]
    # "superseded" with no replacing document among the notes: still shown, marked.
    alone, _ = run([doc("v1", "superseded", "2026-03-08T09:00:00+01:00", "Entlassbrief Entwurf")])
    assert [(n.text, n.superseded, n.versions) for n in alone.notes] == [
        ("Entlassbrief Entwurf", True, [])
    ]


def test_copies_and_a_chain_of_versions_fold_into_the_newest_note() -> None:
    """As an EHR sends a report: the DiagnosticReport, its DocumentReference copy, and two
    corrections of the DocumentReference (each replacing the one before). One note shows (the
    newest correction); the three others are its versions, newest first; the copy with the
    shown note's content does not store the text twice."""
    report = {
        "resourceType": "DiagnosticReport",
        "id": "dr-1",
        "status": "final",
        "code": {"text": "CT Abdomen"},
        "effectiveDateTime": "2026-03-09T10:00:00+01:00",
        "presentedForm": [{"contentType": "text/plain", "data": b64("Befund: freie Flüssigkeit")}],
    }

    def doc(rid: str, when: str, text: str, replaces: str | None = None) -> Resource:
        extra: Resource = {}
        if replaces:
            extra["relatesTo"] = [
                {"code": "replaces", "target": {"reference": f"DocumentReference/{replaces}"}}
            ]
        return {
            "resourceType": "DocumentReference",
            "id": rid,
            "status": "current",
            "type": {"text": "CT Abdomen"},
            "date": when,
            "content": [{"attachment": {"contentType": "text/plain", "data": b64(text)}}],
            "context": {"related": [{"reference": "DiagnosticReport/dr-1"}]},
            **extra,
        }

    record, problems = run(
        [
            report,
            doc("d1", "2026-03-09T10:05:00+01:00", "Befund: freie Flüssigkeit"),
            doc("d2", "2026-03-09T12:00:00+01:00", "Befund: keine freie Flüssigkeit", "d1"),
            doc("d3", "2026-03-09T15:00:00+01:00", "Befund: wenig freie Flüssigkeit", "d2"),
        ]
    )
    assert not problems
    assert len(record.notes) == 1
    shown = record.notes[0]
    assert shown.source is not None and shown.source.id == "d3"
    assert not shown.superseded
    versions = [(v.source.id if v.source else "", v.superseded, v.text) for v in shown.versions]
    assert versions == [
        ("d2", True, "Befund: keine freie Flüssigkeit"),
        ("d1", True, "Befund: freie Flüssigkeit"),
        ("dr-1", False, "Befund: freie Flüssigkeit"),
    ]


def test_entered_in_error_is_hidden_for_every_resource_type() -> None:
    eie = "entered-in-error"
    resources: list[Resource] = [
        {
            "resourceType": "Condition",
            "id": "c1",
            "clinicalStatus": {"coding": [{"code": "active"}]},
            "verificationStatus": {"coding": [{"code": eie}]},
            "code": {"text": "Falsche Diagnose"},
        },
        {
            "resourceType": "Flag",
            "id": "f1",
            "status": eie,
            "code": {"text": "MRSA"},
        },
        {
            "resourceType": "Procedure",
            "id": "pr1",
            "status": eie,
            "code": {"text": "Appendektomie"},
        },
        {
            "resourceType": "ServiceRequest",
            "id": "sr1",
            "status": eie,
            "intent": "order",
            "code": {"text": "CT Abdomen"},
        },
        {
            "resourceType": "MedicationStatement",
            "id": "ms1",
            "status": eie,
            "medicationCodeableConcept": {"text": "Ramipril 5 mg"},
        },
        {
            "resourceType": "Immunization",
            "id": "im1",
            "status": eie,
            "vaccineCode": {"text": "Tetanus"},
            "occurrenceDateTime": "2020-01-01",
        },
        {
            "resourceType": "RelatedPerson",
            "id": "rp1",
            "active": True,
            "name": [{"family": "Falsch"}],
            "status": eie,
        },
    ]
    record, _ = run(resources)
    assert record.problems == [] and record.flags == [] and record.procedures == []
    assert record.orders == [] and record.home_medications == [] and record.immunizations == []


# --- 3. medications ----------------------------------------------------------------------------


def med_request(rid: str, status: str, drug: str, **extra: Any) -> Resource:
    return {
        "resourceType": "MedicationRequest",
        "id": rid,
        "meta": {"lastUpdated": "2026-03-09T14:00:00+01:00"},
        "status": status,
        "intent": "order",
        "medicationCodeableConcept": {"text": drug},
        "subject": {"reference": "Patient/pat-4711"},
        "authoredOn": "2026-03-05T08:00:00+01:00",
        "dosageInstruction": [
            {
                "text": "1-0-1",
                "timing": {"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}},
            }
        ],
        **extra,
    }


def test_stopped_orders_are_kept_apart_within_the_window_with_their_stop_time() -> None:
    yesterday = med_request(
        "mr-stop",
        "stopped",
        "Enoxaparin 40 mg",
        statusReason={"text": "Thrombozytopenie"},
    )
    old = med_request(
        "mr-old", "completed", "Cefuroxim 1.5 g", meta={"lastUpdated": "2026-03-01T10:00:00Z"}
    )
    ended = med_request(
        "mr-end",
        "completed",
        "Prednisolon 50 mg",
        dispenseRequest={
            "validityPeriod": {
                "start": "2026-03-04T08:00:00+01:00",
                "end": "2026-03-08T20:00:00+01:00",
            }
        },
    )
    active = med_request("mr-act", "active", "Metoprolol 47.5 mg")
    record, _ = run([yesterday, old, ended, active])
    assert [o.drug for o in record.medications] == ["Metoprolol 47.5 mg"]
    assert [(o.drug, o.stopped) for o in record.stopped_medications] == [
        ("Enoxaparin 40 mg", datetime(2026, 3, 9, 13, 0, tzinfo=UTC)),
        ("Prednisolon 50 mg", datetime(2026, 3, 8, 19, 0, tzinfo=UTC)),
    ]
    assert record.stopped_medications[0].status_reason == "Thrombozytopenie"
    # A shorter window (the sync configuration's stopped_medications_hours) keeps fewer.
    short, _ = run([yesterday, ended], stopped_window=timedelta(hours=24))
    assert [o.drug for o in short.stopped_medications] == ["Enoxaparin 40 mg"]


def test_on_hold_apart_home_medication_last_given_and_not_given_reason() -> None:
    hold = med_request(
        "mr-hold",
        "on-hold",
        "Ramipril 5 mg",
        statusReason={"coding": [{"system": SNOMED, "code": "182862001", "display": "Hypotonie"}]},
    )
    active = med_request("mr-act", "active", "Metoprolol 47.5 mg")
    home = {
        "resourceType": "MedicationStatement",
        "id": "ms-1",
        "status": "active",
        "medicationCodeableConcept": {"text": "L-Thyroxin 75 µg"},
        "subject": {"reference": "Patient/pat-4711"},
        "dosage": [{"text": "1-0-0"}],
    }

    def given(rid: str, when: str, status: str, **extra: Any) -> Resource:
        return {
            "resourceType": "MedicationAdministration",
            "id": rid,
            "status": status,
            "medicationCodeableConcept": {"text": "Metoprolol 47.5 mg"},
            "subject": {"reference": "Patient/pat-4711"},
            "effectiveDateTime": when,
            "request": {"reference": "MedicationRequest/mr-act"},
            "performer": [{"actor": {"display": "Pflege S. Roth"}}],
            **extra,
        }

    record, _ = run(
        [
            hold,
            active,
            home,
            given("a1", "2026-03-09T20:05:00+01:00", "completed"),
            given("a2", "2026-03-10T08:10:00+01:00", "completed"),
            given(
                "a3",
                "2026-03-10T12:00:00+01:00",
                "not-done",
                statusReason=[{"text": "Patient nüchtern für OP"}],
            ),
        ]
    )
    assert [o.drug for o in record.active_medications] == ["Metoprolol 47.5 mg"]
    assert [(o.drug, o.status_reason) for o in record.on_hold_medications] == [
        ("Ramipril 5 mg", "Hypotonie")
    ]
    assert [o.drug for o in record.home_medications] == ["L-Thyroxin 75 µg"]
    order = record.active_medications[0]
    assert order.last_given == datetime(2026, 3, 10, 7, 10, tzinfo=UTC)  # not the not-done one
    assert order.last_given_by == "Pflege S. Roth"
    skipped = [a for a in record.administrations if a.not_given]
    assert [a.status_reason for a in skipped] == ["Patient nüchtern für OP"]


# --- 4. allergies ------------------------------------------------------------------------------


def test_no_known_allergies_differs_from_not_documented_and_reactions_are_kept() -> None:
    nka = {
        "resourceType": "AllergyIntolerance",
        "id": "ai-nka",
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                    "code": "active",
                }
            ]
        },
        "verificationStatus": {"coding": [{"code": "confirmed"}]},
        "code": {
            "coding": [{"system": SNOMED, "code": "716186003", "display": "No known allergy"}]
        },
        "patient": {"reference": "Patient/pat-4711"},
    }
    with_nka, _ = run([nka])
    nothing, _ = run([])
    assert with_nka.allergy_status is AllergyStatus.NO_KNOWN
    assert nothing.allergy_status is AllergyStatus.NOT_DOCUMENTED
    assert CensusRow.from_record(with_nka).allergy_status is AllergyStatus.NO_KNOWN
    assert CensusRow.from_record(nothing).allergy_status is AllergyStatus.NOT_DOCUMENTED
    penicillin = {
        "resourceType": "AllergyIntolerance",
        "id": "ai-pen",
        "clinicalStatus": {"coding": [{"code": "active"}]},
        "criticality": "high",
        "code": {"coding": [{"system": SNOMED, "code": "764146007", "display": "Penicillin"}]},
        "reaction": [
            {
                "manifestation": [
                    {"coding": [{"system": SNOMED, "code": "39579001", "display": "Anaphylaxie"}]}
                ],
                "severity": "severe",
            }
        ],
    }
    both, _ = run([nka, penicillin])
    assert both.allergy_status is AllergyStatus.ALLERGIES
    assert both.allergies[0].reactions == ["Anaphylaxie"]
    assert CensusRow.from_record(both).allergy_status is AllergyStatus.ALLERGIES


# --- 5. vitals coded outside LOINC -------------------------------------------------------------


def vital(rid: str, coding: list[Resource], value: float, unit: str, **extra: Any) -> Resource:
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "code": {"coding": coding},
        "subject": {"reference": "Patient/pat-4711"},
        "effectiveDateTime": "2026-03-10T06:00:00+01:00",
        "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org"},
        **extra,
    }


def test_snomed_coded_vitals_without_category_are_vitals_and_flagged_by_news2() -> None:
    record, _ = run(
        [
            vital("o1", [{"system": SNOMED, "code": "431314004", "display": "SpO2"}], 93, "%"),
            vital(
                "o2",
                [{"system": SNOMED, "code": "86290005", "display": "Atemfrequenz"}],
                22,
                "/min",
            ),
            vital(
                "o3",
                [{"system": SNOMED, "code": "364075005", "display": "Herzfrequenz"}],
                72,
                "/min",
            ),
        ]
    )
    assert record.labs == []
    by_meaning = {o.meaning: o for o in record.vitals}
    assert by_meaning["spo2"].interpretation is Interpretation.LOW
    assert by_meaning["resp-rate"].interpretation is Interpretation.HIGH
    assert by_meaning["heart-rate"].interpretation is Interpretation.NORMAL
    assert {o.range_source for o in record.vitals} == {"NEWS2"}
    assert (by_meaning["resp-rate"].ref_low, by_meaning["resp-rate"].ref_high) == (12, 20)


def test_local_and_ciel_codes_become_vitals_through_the_configured_code_map() -> None:
    resources = [
        vital("o1", [{"system": CIEL, "code": "5087", "display": "Pulse"}], 135, "beats/min"),
        vital("o2", [{"system": "urn:oid:1.2.3.4.5", "code": "TEMP"}], 38.6, "Cel"),
    ]
    unmapped, _ = run(resources)
    assert unmapped.vitals == []  # no way to know: stays with the other results
    code_map = {(CIEL, "5087"): "heart-rate", ("urn:oid:1.2.3.4.5", "TEMP"): "temperature"}
    record, _ = run(resources, code_map=code_map)
    by_meaning = {o.meaning: o for o in record.vitals}
    assert by_meaning["heart-rate"].interpretation is Interpretation.CRITICAL_HIGH
    assert by_meaning["temperature"].interpretation is Interpretation.HIGH
    assert record.labs == []


def test_vital_signs_category_alone_makes_a_vital_and_source_flags_win() -> None:
    obs = vital(
        "o1",
        [{"system": "urn:local", "code": "X1", "display": "Puls"}],
        120,
        "/min",
        category=VS_CAT,
        interpretation=[{"coding": [{"code": "N"}]}],
    )
    record, _ = run([obs])
    assert [o.name for o in record.vitals] == ["Puls"]
    assert record.vitals[0].interpretation is Interpretation.NORMAL  # the source said so
    assert record.vitals[0].range_source is None


def test_configured_ranges_replace_news2_and_are_named() -> None:
    ranges = VitalRanges(name="Hausstandard COPD", ranges={**VitalRanges().ranges})
    from sync.mapping.meanings import VitalRange

    ranges.ranges["spo2"] = VitalRange(low=88, critical_low=83)
    record, _ = run(
        [vital("o1", [{"system": LOINC, "code": "59408-5"}], 90, "%", category=VS_CAT)],
        vital_ranges=ranges,
    )
    assert record.vitals[0].interpretation is Interpretation.NORMAL
    assert record.vitals[0].range_source == "Hausstandard COPD"


# --- 6. repeated answers at one time ----------------------------------------------------------


def test_bp_sent_as_two_observations_with_the_panel_code_shows_both_values() -> None:
    bp = [{"system": LOINC, "code": "85354-9", "display": "Blood pressure"}]
    record, _ = run(
        [
            vital("bp-a", bp, 80, "mm[Hg]", category=VS_CAT),
            vital("bp-b", bp, 128, "mm[Hg]", category=VS_CAT),
        ]
    )
    shown = [(o.meaning, o.value_text or o.value) for o in record.vitals]
    assert shown == [("bp", "128/80"), ("systolic", 128), ("diastolic", 80)]
    assert [s.id for s in record.vitals[0].also_from] == ["bp-b"] or [
        s.id for s in record.vitals[0].also_from
    ] == ["bp-a"]


def test_several_answers_to_one_question_at_one_time_are_all_visible() -> None:
    def answer(rid: str, text: str) -> Resource:
        return {
            "resourceType": "Observation",
            "id": rid,
            "status": "final",
            "code": {"coding": [{"system": CIEL, "code": "159367", "display": "Current drugs"}]},
            "effectiveDateTime": "2026-03-10T06:00:00+01:00",
            "valueCodeableConcept": {"text": text},
        }

    record, _ = run([answer("q1", "Metformin"), answer("q2", "Aspirin"), answer("q3", "Insulin")])
    assert len(record.labs) == 1
    assert sorted(record.labs[0].value_text.split("; ")) == ["Aspirin", "Insulin", "Metformin"]  # type: ignore[union-attr]
    assert len(record.labs[0].also_from) == 2


# --- 7. condition names ------------------------------------------------------------------------


def test_condition_without_text_or_display_is_a_marked_code_never_a_bare_one() -> None:
    coded_only = {
        "resourceType": "Condition",
        "id": "c-x",
        "clinicalStatus": {"coding": [{"code": "active"}]},
        "code": {"coding": [{"system": CIEL, "code": "112141AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}]},
    }
    with_display = {
        "resourceType": "Condition",
        "id": "c-y",
        "clinicalStatus": {"coding": [{"code": "active"}]},
        "code": {
            "coding": [{"system": SNOMED, "code": "44054006", "display": "Diabetes mellitus Typ 2"}]
        },
    }
    record, _ = run([coded_only, with_display])
    names = {p.source.id: (p.text, p.text_is_code) for p in record.problems if p.source}
    assert names["c-y"] == ("Diabetes mellitus Typ 2", False)
    assert names["c-x"] == (
        f"code {CIEL}|112141AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA (no text)",
        True,
    )


# --- 10. calendar dates ------------------------------------------------------------------------


def test_dates_without_time_stay_calendar_dates() -> None:
    record, _ = run(
        [
            {
                "resourceType": "Immunization",
                "id": "im-1",
                "status": "completed",
                "vaccineCode": {"text": "Influenza 2025/26"},
                "occurrenceDateTime": "2025-10-14",
            },
            {
                "resourceType": "Condition",
                "id": "c-1",
                "clinicalStatus": {"coding": [{"code": "active"}]},
                "code": {"text": "Vorhofflimmern"},
                "onsetDateTime": "2019-04-02",
            },
            {
                "resourceType": "Condition",
                "id": "c-2",
                "clinicalStatus": {"coding": [{"code": "active"}]},
                "code": {"text": "Hypertonie"},
                "onsetDateTime": "2019-04-02T23:30:00+02:00",
            },
        ]
    )
    assert record.immunizations[0].day == date(2025, 10, 14)
    onsets = {p.text: p.onset_date for p in record.problems}
    assert onsets == {"Vorhofflimmern": date(2019, 4, 2), "Hypertonie": None}
    again = PatientRecord.from_json(record.to_json())
    assert again.immunizations[0].day == date(2025, 10, 14)

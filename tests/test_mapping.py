"""sync.mapping rules, one small hand-written FHIR R4 example per rule."""

from __future__ import annotations

import base64
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from sync.mapping import MappingContext, MappingError, map_patient
from sync.mapping.alerts import classify_code_status
from sync.model import CodeStatusKind, Criticality, Interpretation, PatientRecord, Sex

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
PHYS = "http://terminology.hl7.org/CodeSystem/location-physical-type"

Resource = dict[str, Any]


def patient(**extra: Any) -> Resource:
    base: Resource = {
        "resourceType": "Patient",
        "id": "p1",
        "name": [{"use": "official", "family": "Muster", "given": ["Max"]}],
        "birthDate": "1950-02-03",
        "gender": "male",
    }
    base.update(extra)
    return base


def run(
    resources: list[Resource],
    shared: list[Resource] = (),  # type: ignore[assignment]
    pat: Resource | None = None,
    now: datetime = NOW,
) -> tuple[PatientRecord, Counter[str]]:
    """Map with a resolver over `shared` ("Type/id" references) and return record + problems."""
    index = {f"{r['resourceType']}/{r['id']}": r for r in shared}

    def resolve(ref: Resource | str, _from: Resource | None) -> Resource | None:
        key = ref.get("reference") if isinstance(ref, dict) else ref
        return index.get(key) if isinstance(key, str) else None

    ctx = MappingContext(resolve=resolve, tz=BERLIN, now=now, problems=Counter())
    record = map_patient(pat or patient(), resources, ctx)
    return record, ctx.problems


def cc(text: str | None = None, code: str | None = None, system: str = SNOMED) -> Resource:
    out: Resource = {}
    if code:
        out["coding"] = [{"system": system, "code": code, "display": text}]
    elif text:
        out["text"] = text
    return out


# --- identity ----------------------------------------------------------------------------------


def test_official_name_is_shown_family_first_and_maiden_name_kept() -> None:
    pat = patient(
        name=[
            {"use": "maiden", "family": "Alt", "given": ["Erika"]},
            {"use": "usual", "family": "Rufname", "given": ["Rika"]},
            {
                "use": "official",
                "family": "Musterfrau",
                "given": ["Erika", "Maria"],
                "prefix": ["Dr."],
            },
        ]
    )
    record, _ = run([], pat=pat)
    assert record.name == "Musterfrau, Erika Maria"
    assert record.family == "Musterfrau"
    assert record.given == ["Erika", "Maria"]
    assert record.prefix == ["Dr."]
    assert "Alt, Erika (maiden)" in record.other_names


def test_mrn_is_the_identifier_typed_mr_even_when_not_first() -> None:
    mr_type = {
        "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]
    }
    pat = patient(
        identifier=[
            {"system": "urn:other", "value": "X-1"},
            {"type": mr_type, "system": "urn:pid", "value": "4711"},
        ]
    )
    record, _ = run([], pat=pat)
    assert record.mrn == "4711"
    assert [i.label for i in record.identifiers] == [None, "MRN"]


def test_mrn_falls_back_to_the_first_identifier() -> None:
    record, _ = run(
        [], pat=patient(identifier=[{"value": ""}, {"system": "urn:a", "value": "A-9"}])
    )
    assert record.mrn == "A-9"


def test_identity_fields_sex_birth_date_and_death() -> None:
    record, _ = run([], pat=patient(deceasedDateTime="2026-01-02T03:04:05+01:00"))
    assert record.sex == Sex.MALE
    assert str(record.birth_date) == "1950-02-03"
    assert record.deceased is True
    assert record.deceased_at == datetime(2026, 1, 2, 2, 4, 5, tzinfo=UTC)
    alive, _ = run([], pat=patient(deceasedBoolean=False))
    assert alive.deceased is False


def test_patient_link_replaces_is_recorded_as_merged() -> None:
    pat = patient(link=[{"other": {"reference": "Patient/old-7"}, "type": "replaces"}])
    record, _ = run([], pat=pat)
    assert record.merged_from == ["old-7"]


def test_a_top_level_resource_that_is_not_a_patient_raises_mapping_error() -> None:
    with pytest.raises(MappingError, match="Patient"):
        run([], pat={"resourceType": "Observation", "id": "x"})
    with pytest.raises(MappingError, match="id"):
        run([], pat={"resourceType": "Patient"})


def test_a_patient_without_name_still_maps_and_is_counted() -> None:
    record, problems = run([], pat={"resourceType": "Patient", "id": "anon"})
    assert record.name == "(no name recorded)"
    assert problems["Patient: no name"] == 1


# --- stay --------------------------------------------------------------------------------------


def encounter(eid: str, status: str, start: str, cls: str = "IMP", **extra: Any) -> Resource:
    enc: Resource = {
        "resourceType": "Encounter",
        "id": eid,
        "status": status,
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": cls},
        "period": {"start": start},
    }
    enc.update(extra)
    return enc


def location(lid: str, name: str | None, ptype: str | None, part_of: str | None = None) -> Resource:
    loc: Resource = {"resourceType": "Location", "id": lid}
    if name:
        loc["name"] = name
    if ptype:
        loc["physicalType"] = {"coding": [{"system": PHYS, "code": ptype}]}
    if part_of:
        loc["partOf"] = {"reference": f"Location/{part_of}"}
    return loc


def test_in_progress_inpatient_stay_wins_over_newer_finished_and_outpatient() -> None:
    resources: list[Resource] = [
        encounter("old", "finished", "2026-03-01T08:00:00+01:00"),
        encounter("now", "in-progress", "2026-02-20T08:00:00+01:00"),
        encounter("amb", "in-progress", "2026-03-09T08:00:00+01:00", cls="AMB"),
        encounter("err", "entered-in-error", "2026-03-09T09:00:00+01:00"),
    ]
    record, _ = run(resources)
    assert record.stay is not None
    assert record.stay.encounter_id == "now"
    assert record.stay.discharged is None


def test_latest_finished_stay_when_none_in_progress() -> None:
    resources: list[Resource] = [
        encounter(
            "a", "finished", "2025-01-01", period={"start": "2025-01-01", "end": "2025-01-05"}
        ),
        encounter(
            "b", "finished", "2025-06-01", period={"start": "2025-06-01", "end": "2025-06-03"}
        ),
    ]
    record, _ = run(resources)
    assert record.stay is not None and record.stay.encounter_id == "b"
    assert record.stay.discharged == datetime(2025, 6, 3, tzinfo=BERLIN)


def test_no_inpatient_encounter_means_no_stay() -> None:
    record, _ = run([encounter("amb", "finished", "2026-03-01", cls="AMB")])
    assert record.stay is None


def test_bed_room_ward_come_from_the_location_part_of_chain() -> None:
    shared: list[Resource] = [
        location("bed", "Bett 2", "bd", part_of="room"),
        location("room", "Zimmer 12", "ro", part_of="ward"),
        location("ward", "Station 4B", "wa", part_of="house"),
        location("house", "Haus A", "bu"),
        {
            "resourceType": "Practitioner",
            "id": "doc",
            "name": [{"family": "Arzt", "given": ["Walter"], "prefix": ["Dr."]}],
        },
        {"resourceType": "Organization", "id": "dept", "name": "Innere Medizin"},
    ]
    enc = encounter(
        "e1",
        "in-progress",
        "2026-03-08T10:00:00+01:00",
        location=[
            {"location": {"reference": "Location/old-bed"}, "status": "completed"},
            {"location": {"reference": "Location/bed"}, "status": "active"},
        ],
        participant=[
            {"type": [cc(code="PPRF", system="x")], "individual": {"display": "Dr. Second"}},
            {
                "type": [cc(code="ATND", system="x")],
                "individual": {"reference": "Practitioner/doc"},
            },
        ],
        serviceProvider={"reference": "Organization/dept"},
        reasonCode=[{"text": "Pneumonie"}],
    )
    record, _ = run([enc], shared)
    stay = record.stay
    assert stay is not None
    assert (stay.ward, stay.room, stay.bed) == ("Station 4B", "Zimmer 12", "Bett 2")
    assert stay.attending == "Dr. Walter Arzt"
    assert stay.department == "Innere Medizin"
    assert stay.reason == "Pneumonie"
    assert stay.admitted == datetime(2026, 3, 8, 9, 0, tzinfo=UTC)


def test_unresolvable_location_falls_back_to_its_display_text() -> None:
    enc = encounter(
        "e1",
        "in-progress",
        "2026-03-08",
        location=[
            {
                "location": {"identifier": {"value": "123"}, "display": "Bett 123"},
                "physicalType": {"coding": [{"system": PHYS, "code": "bd"}]},
            },
            {"location": {"reference": "Location/unknown", "display": "Station 7"}},
        ],
    )
    record, _ = run([enc])
    assert record.stay is not None
    assert record.stay.bed == "Bett 123"
    assert record.stay.ward == "Station 7"


def test_a_cyclic_part_of_chain_terminates() -> None:
    shared: list[Resource] = [
        location("a", "Bett A", "bd", part_of="b"),
        location("b", "Zimmer B", "ro", part_of="a"),
    ]
    enc = encounter(
        "e", "in-progress", "2026-03-08", location=[{"location": {"reference": "Location/a"}}]
    )
    record, _ = run([enc], shared)
    assert record.stay is not None and (record.stay.room, record.stay.bed) == ("Zimmer B", "Bett A")


# --- allergies ---------------------------------------------------------------------------------


def allergy(aid: str, **extra: Any) -> Resource:
    res: Resource = {
        "resourceType": "AllergyIntolerance",
        "id": aid,
        "clinicalStatus": {"coding": [{"code": "active"}]},
        "verificationStatus": {"coding": [{"code": "confirmed"}]},
        "patient": {"reference": "Patient/p1"},
    }
    res.update(extra)
    return res


def test_allergy_substance_criticality_reactions_and_worst_severity() -> None:
    res = allergy(
        "a1",
        code={"coding": [{"system": SNOMED, "code": "764146007", "display": "Penicillin"}]},
        criticality="high",
        category=["medication"],
        type="allergy",
        reaction=[
            {"manifestation": [{"text": "Urtikaria"}], "severity": "mild"},
            {
                "manifestation": [{"text": "Anaphylaxie"}, {"text": "Urtikaria"}],
                "severity": "severe",
            },
        ],
    )
    record, _ = run([res])
    [a] = record.allergies
    assert a.substance == "Penicillin"
    assert a.criticality == Criticality.HIGH
    assert a.reactions == ["Urtikaria", "Anaphylaxie"]
    assert a.severity == "severe"
    assert a.category == ["medication"]
    assert record.has_severe_allergy


def test_refuted_inactive_and_erroneous_allergies_are_not_shown() -> None:
    resources: list[Resource] = [
        allergy("r", code={"text": "Latex"}, verificationStatus={"coding": [{"code": "refuted"}]}),
        allergy("i", code={"text": "Nuss"}, clinicalStatus={"coding": [{"code": "inactive"}]}),
        allergy(
            "e", code={"text": "Jod"}, verificationStatus={"coding": [{"code": "entered-in-error"}]}
        ),
        allergy("ok", code={"text": "Erdbeere"}),
    ]
    record, _ = run(resources)
    assert [a.substance for a in record.allergies] == ["Erdbeere"]


def test_no_known_allergy_sets_the_flag_but_a_real_allergy_wins() -> None:
    nka = allergy(
        "n",
        code={"coding": [{"system": SNOMED, "code": "716186003", "display": "No known allergy"}]},
    )
    record, _ = run([nka])
    assert record.no_known_allergies is True
    assert record.allergies == []
    both, _ = run([nka, allergy("a", code={"text": "Latex"})])
    assert both.no_known_allergies is False
    assert [a.substance for a in both.allergies] == ["Latex"]


def test_high_criticality_allergies_are_listed_first() -> None:
    resources: list[Resource] = [
        allergy("l", code={"text": "Pollen"}, criticality="low", recordedDate="2026-01-01"),
        allergy("h", code={"text": "Penicillin"}, criticality="high", recordedDate="2020-01-01"),
    ]
    record, _ = run(resources)
    assert [a.substance for a in record.allergies] == ["Penicillin", "Pollen"]


def test_allergy_without_substance_is_counted() -> None:
    record, problems = run([allergy("x")])
    assert record.allergies == []
    assert problems["AllergyIntolerance: no substance"] == 1


# --- code status -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("DNR", CodeStatusKind.DNR),
        ("Do not resuscitate", CodeStatusKind.DNR),
        ("Keine Reanimation", CodeStatusKind.DNR),
        ("Reanimation: nein", CodeStatusKind.DNR),
        ("DNR/DNI", CodeStatusKind.DNR_DNI),
        ("Reanimation: nein, Intubation: nein", CodeStatusKind.DNR_DNI),
        ("DNI", CodeStatusKind.DNI),
        ("keine Intubation", CodeStatusKind.DNI),
        ("Full code", CodeStatusKind.FULL),
        ("Reanimation: ja", CodeStatusKind.FULL),
        ("Comfort care only", CodeStatusKind.COMFORT),
        ("Therapiezieländerung, nur palliativ", CodeStatusKind.COMFORT),
        ("Patient mag Tee", None),
    ],
)
def test_code_status_text_is_classified_in_english_and_german(
    text: str, kind: CodeStatusKind | None
) -> None:
    assert classify_code_status(text) == kind


def code_status_obs(oid: str, value: Resource, when: str) -> Resource:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "100822-6"}]},
        "effectiveDateTime": when,
        "valueCodeableConcept": value,
    }


def test_code_status_observation_newest_wins_and_is_not_a_lab() -> None:
    resources: list[Resource] = [
        code_status_obs("old", {"text": "Full code"}, "2026-01-01T10:00:00+01:00"),
        code_status_obs("new", {"text": "Keine Reanimation"}, "2026-03-01T10:00:00+01:00"),
    ]
    record, _ = run(resources)
    assert record.code_status is not None
    assert record.code_status.kind == CodeStatusKind.DNR
    assert record.code_status.text == "Keine Reanimation"
    assert record.code_status.source is not None and record.code_status.source.id == "new"
    assert record.labs == [] and record.vitals == []


def test_snomed_coded_code_status_value() -> None:
    value = {
        "coding": [{"system": SNOMED, "code": "304253006", "display": "Not for resuscitation"}]
    }
    record, _ = run([code_status_obs("o", value, "2026-03-01")])
    assert record.code_status is not None and record.code_status.kind == CodeStatusKind.DNR


def test_advance_directive_consent_denying_cpr_and_intubation() -> None:
    consent = {
        "resourceType": "Consent",
        "id": "c1",
        "status": "active",
        "scope": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "adr"}
            ]
        },
        "dateTime": "2026-03-05T09:00:00+01:00",
        "provision": {
            "type": "permit",
            "provision": [
                {
                    "type": "deny",
                    "code": [
                        {"coding": [{"system": SNOMED, "code": "89666000", "display": "CPR"}]}
                    ],
                },
                {"type": "deny", "code": [{"text": "Intubation"}]},
            ],
        },
    }
    older_obs = code_status_obs("o", {"text": "Full code"}, "2026-01-01")
    record, _ = run([consent, older_obs])
    assert record.code_status is not None
    assert record.code_status.kind == CodeStatusKind.DNR_DNI
    assert record.code_status.source is not None
    assert record.code_status.source.resource_type == "Consent"


def test_inactive_consent_is_ignored() -> None:
    consent = {
        "resourceType": "Consent",
        "id": "c",
        "status": "inactive",
        "scope": {"coding": [{"code": "adr"}]},
    }
    record, _ = run([consent])
    assert record.code_status is None


def flag(fid: str, text: str, status: str = "active", **extra: Any) -> Resource:
    res: Resource = {"resourceType": "Flag", "id": fid, "status": status, "code": {"text": text}}
    res.update(extra)
    return res


def test_dnr_flag_gives_code_status_and_isolation_flag_comes_first() -> None:
    resources: list[Resource] = [
        flag("f1", "Sturzgefahr", period={"start": "2026-03-09"}),
        flag("f2", "MRSA – Kontaktisolation", period={"start": "2026-03-01"}),
        flag("f3", "DNR", period={"start": "2026-03-02"}),
        flag("f4", "Alte Warnung", status="inactive"),
        flag("f5", "Abgelaufen", period={"start": "2025-01-01", "end": "2025-02-01"}),
    ]
    record, _ = run(resources)
    assert [f.text for f in record.flags] == ["MRSA – Kontaktisolation", "Sturzgefahr"]
    assert record.flags[0].category == "isolation"
    assert record.code_status is not None and record.code_status.kind == CodeStatusKind.DNR


# --- problems ----------------------------------------------------------------------------------

ICD = "http://fhir.de/CodeSystem/bfarm/icd-10-gm"


def condition(cid: str, status: str | None, code: Resource, **extra: Any) -> Resource:
    res: Resource = {"resourceType": "Condition", "id": cid, "code": code}
    if status:
        res["clinicalStatus"] = {"coding": [{"code": status}]}
    res.update(extra)
    return res


def test_active_conditions_with_icd10gm_and_main_diagnosis_first() -> None:
    enc = encounter(
        "e",
        "in-progress",
        "2026-03-08",
        diagnosis=[
            {"condition": {"reference": "Condition/c2"}, "rank": 2},
            {"condition": {"reference": "Condition/c1"}, "rank": 1},
        ],
    )
    resources: list[Resource] = [
        enc,
        condition(
            "c2",
            "active",
            {"coding": [{"system": ICD, "code": "I10.90", "display": "Hypertonie"}]},
            recordedDate="2026-03-09",
        ),
        condition(
            "c1",
            "recurrence",
            {"coding": [{"system": ICD, "code": "J18.9"}], "text": "Pneumonie"},
            recordedDate="2026-03-01",
        ),
        condition("c3", "resolved", {"text": "Alte Fraktur"}),
        condition(
            "c4",
            "active",
            {"text": "Verdacht"},
            verificationStatus={"coding": [{"code": "refuted"}]},
        ),
    ]
    record, _ = run(resources)
    assert [p.text for p in record.problems] == ["Pneumonie", "Hypertonie"]
    assert record.main_diagnosis is not None and record.main_diagnosis.text == "Pneumonie"
    assert record.problems[1].coding[0].code == "I10.90"
    assert record.problems[1].coding[0].system == ICD


def test_condition_without_code_is_counted() -> None:
    record, problems = run([condition("c", "active", {})])
    assert record.problems == []
    assert problems["Condition: no code"] == 1


# --- medications -------------------------------------------------------------------------------


def med_request(mid: str, status: str = "active", **extra: Any) -> Resource:
    res: Resource = {
        "resourceType": "MedicationRequest",
        "id": mid,
        "status": status,
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
    }
    res.update(extra)
    return res


def test_medication_order_with_resolved_medication_dosage_and_timing() -> None:
    shared: list[Resource] = [
        {
            "resourceType": "Medication",
            "id": "m1",
            "code": {
                "coding": [{"system": "atc", "code": "C07AB02", "display": "Metoprolol 47,5 mg"}]
            },
        },
        {"resourceType": "Practitioner", "id": "doc", "name": [{"text": "Dr. Walter Arzt"}]},
    ]
    res = med_request(
        "rx1",
        medicationReference={"reference": "Medication/m1"},
        requester={"reference": "Practitioner/doc"},
        authoredOn="2026-03-08T09:00:00+01:00",
        dosageInstruction=[
            {
                "text": "1-0-1",
                "timing": {
                    "repeat": {
                        "frequency": 2,
                        "period": 1,
                        "periodUnit": "d",
                        "timeOfDay": ["08:00:00", "20:00:00"],
                        "dayOfWeek": ["mon", "thu"],
                        "boundsPeriod": {"start": "2026-03-08", "end": "2026-03-20"},
                    },
                    "code": {"coding": [{"code": "BID"}]},
                },
                "route": {"coding": [{"display": "oral"}]},
                "doseAndRate": [{"doseQuantity": {"value": 1.0, "unit": "Tablette"}}],
                "maxDosePerPeriod": {
                    "numerator": {"value": 4, "unit": "Tablette"},
                    "denominator": {"value": 1, "unit": "d"},
                },
            }
        ],
    )
    stopped = med_request("rx2", status="stopped", medicationCodeableConcept={"text": "Alt"})
    record, _ = run([res, stopped], shared)
    [order] = record.medications
    assert order.id == "rx1"
    assert order.drug == "Metoprolol 47,5 mg"
    assert order.prescriber == "Dr. Walter Arzt"
    [dose] = order.dosages
    assert dose.text == "1-0-1"
    assert (dose.dose_value, dose.dose_unit, dose.dose_text) == (1.0, "Tablette", "1 Tablette")
    assert dose.route == "oral"
    assert dose.max_per_period == "4 Tablette / 1 d"
    timing = dose.timing
    assert timing is not None
    assert (timing.code, timing.frequency, timing.period, timing.period_unit) == (
        "BID",
        2,
        1.0,
        "d",
    )
    assert timing.times_of_day == ["08:00", "20:00"]
    assert timing.days_of_week == ["mon", "thu"]
    assert timing.bounds_start == datetime(2026, 3, 8, tzinfo=BERLIN)
    assert order.start == datetime(2026, 3, 8, tzinfo=BERLIN)
    assert order.end == datetime(2026, 3, 20, tzinfo=BERLIN)


def test_prn_order_with_dose_range_and_contained_medication() -> None:
    res = med_request(
        "rx",
        contained=[
            {"resourceType": "Medication", "id": "med", "code": {"text": "Metamizol 500 mg"}}
        ],
        medicationReference={"reference": "#med"},
        dosageInstruction=[
            {
                "asNeededCodeableConcept": {"text": "Schmerzen"},
                "doseAndRate": [
                    {"doseRange": {"low": {"value": 1}, "high": {"value": 2, "unit": "Tabl."}}}
                ],
            }
        ],
    )
    record, _ = run([res])
    [order] = record.medications
    assert order.drug == "Metamizol 500 mg"
    assert order.as_needed
    assert order.dosages[0].as_needed_reason == "Schmerzen"
    assert order.dosages[0].dose_text == "1–2 Tabl."


def test_order_without_medication_is_counted() -> None:
    record, problems = run(
        [med_request("rx", medicationReference={"reference": "Medication/unknown"})]
    )
    assert record.medications == []
    assert problems["MedicationRequest: no medication"] == 1


def administration(aid: str, when: str, **extra: Any) -> Resource:
    res: Resource = {
        "resourceType": "MedicationAdministration",
        "id": aid,
        "status": "completed",
        "medicationCodeableConcept": {"text": "Metoprolol"},
        "effectiveDateTime": when,
    }
    res.update(extra)
    return res


def test_administrations_inside_the_window_newest_first_with_order_id() -> None:
    resources: list[Resource] = [
        administration(
            "a1",
            "2026-03-10T08:00:00+01:00",
            request={"reference": "MedicationRequest/rx1"},
            dosage={"dose": {"value": 50, "unit": "mg"}, "route": {"text": "p.o."}},
        ),
        administration("a2", "2026-03-09T20:00:00+01:00"),
        administration("a3", "2026-03-01T08:00:00+01:00"),
        administration("future", "2026-03-10T18:00:00+01:00"),  # not given yet: a bad clock
        administration("a4", "", effectivePeriod={"start": "2026-03-10T10:00:00Z"}),
    ]
    record, _ = run(resources)
    ids = [a.source.id for a in record.administrations if a.source]
    assert ids == ["a4", "a1", "a2"]
    first_with_order = record.administrations[1]
    assert first_with_order.order_id == "rx1"
    assert first_with_order.dose_text == "50 mg"
    assert first_with_order.route == "p.o."


def test_administration_without_time_is_counted() -> None:
    record, problems = run([administration("a", "")])
    assert record.administrations == []
    assert problems["MedicationAdministration: no time"] == 1


def test_medication_statement_is_home_medication_not_an_order() -> None:
    stmt = {
        "resourceType": "MedicationStatement",
        "id": "s1",
        "status": "active",
        "medicationCodeableConcept": {"text": "Anastrozol 1 mg"},
        "effectivePeriod": {"start": "2015-03"},
    }
    record, _ = run([stmt])
    assert record.medications == []
    [home] = record.home_medications
    assert home.drug == "Anastrozol 1 mg"
    assert home.intent == "statement"
    assert home.start == datetime(2015, 3, 1, tzinfo=BERLIN)


# --- observations ------------------------------------------------------------------------------


def obs(
    oid: str, code: str, name: str, when: str, category: str | None = None, **extra: Any
) -> Resource:
    res: Resource = {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": code, "display": name}]},
        "effectiveDateTime": when,
    }
    if category:
        res["category"] = [{"coding": [{"code": category}]}]
    res.update(extra)
    return res


def quantity(value: float, unit: str) -> Resource:
    return {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}


def test_blood_pressure_panel_gives_combined_and_component_values() -> None:
    bp = obs(
        "bp",
        "85354-9",
        "Blood pressure panel",
        "2026-03-10T08:00:00+01:00",
        "vital-signs",
        component=[
            {
                "code": {"coding": [{"system": LOINC, "code": "8480-6", "display": "Systolic"}]},
                "valueQuantity": quantity(120, "mmHg"),
            },
            {
                "code": {"coding": [{"system": LOINC, "code": "8462-4", "display": "Diastolic"}]},
                "valueQuantity": quantity(80, "mmHg"),
            },
        ],
    )
    record, _ = run([bp])
    assert [(v.name, v.value, v.value_text) for v in record.vitals] == [
        ("Blood pressure panel", None, "120/80"),
        ("Systolic", 120.0, None),
        ("Diastolic", 80.0, None),
    ]
    assert all(v.kind == "vital" and v.unit == "mmHg" for v in record.vitals)
    assert record.vitals[1].group == "Blood pressure panel"


def test_lab_value_range_computed_flag_and_explicit_flag() -> None:
    high = obs(
        "k",
        "2823-3",
        "Kalium",
        "2026-03-10T07:00:00+01:00",
        "laboratory",
        valueQuantity=quantity(5.9, "mmol/L"),
        referenceRange=[{"low": {"value": 3.5}, "high": {"value": 5.1}}],
    )
    crit = obs(
        "n",
        "2951-2",
        "Natrium",
        "2026-03-09T07:00:00+01:00",
        "laboratory",
        valueQuantity=quantity(118, "mmol/L"),
        interpretation=[{"coding": [{"code": "LL"}]}],
    )
    normal = obs(
        "g",
        "2339-0",
        "Glukose",
        "2026-03-08T07:00:00+01:00",
        "laboratory",
        valueQuantity=quantity(90, "mg/dL"),
        referenceRange=[{"low": {"value": 70}, "high": {"value": 100}}],
    )
    record, _ = run([normal, high, crit])
    assert [(o.name, o.value, o.unit, o.interpretation) for o in record.labs] == [
        ("Kalium", 5.9, "mmol/L", Interpretation.HIGH),
        ("Natrium", 118.0, "mmol/L", Interpretation.CRITICAL_LOW),
        ("Glukose", 90.0, "mg/dL", Interpretation.NORMAL),
    ]
    assert (record.labs[0].ref_low, record.labs[0].ref_high) == (3.5, 5.1)
    assert record.labs[0].is_abnormal and not record.labs[2].is_abnormal


def test_non_numeric_values_become_text() -> None:
    resources: list[Resource] = [
        obs("s", "x1", "Befund", "2026-03-10", "laboratory", valueString="trüb"),
        obs(
            "c",
            "x2",
            "Blutgruppe",
            "2026-03-09",
            "laboratory",
            valueCodeableConcept={"text": "A Rh+"},
        ),
        obs("b", "x3", "Schwanger", "2026-03-08", "laboratory", valueBoolean=False),
        obs(
            "q",
            "x4",
            "CRP",
            "2026-03-07",
            "laboratory",
            valueQuantity={"value": 5, "comparator": "<", "unit": "mg/L"},
        ),
    ]
    record, _ = run(resources)
    assert [(o.value_text, o.value) for o in record.labs] == [
        ("trüb", None),
        ("A Rh+", None),
        ("no", None),
        ("<5", 5.0),
    ]


def test_vital_sign_recognised_by_loinc_code_without_category() -> None:
    record, _ = run(
        [obs("hr", "8867-4", "Heart rate", "2026-03-10", valueQuantity=quantity(72, "/min"))]
    )
    assert [(v.name, v.value, v.unit) for v in record.vitals] == [("Heart rate", 72.0, "/min")]
    assert record.labs == []


def test_diagnostic_report_names_the_group_and_its_conclusion_is_a_note() -> None:
    report = {
        "resourceType": "DiagnosticReport",
        "id": "dr",
        "status": "final",
        "code": {"text": "Kleines Blutbild"},
        "effectiveDateTime": "2026-03-10T07:00:00+01:00",
        "result": [{"reference": "Observation/hb"}],
        "conclusion": "Leichte Anämie.",
    }
    hb = obs(
        "hb",
        "718-7",
        "Hämoglobin",
        "2026-03-10T07:00:00+01:00",
        "laboratory",
        valueQuantity=quantity(10.1, "g/dL"),
    )
    record, _ = run([report, hb])
    assert record.labs[0].group == "Kleines Blutbild"
    [note] = record.notes
    assert (note.title, note.text) == ("Kleines Blutbild", "Leichte Anämie.")


def test_observation_without_value_is_counted_and_erroneous_one_dropped() -> None:
    resources: list[Resource] = [
        obs("none", "1-1", "Leer", "2026-03-10", "laboratory"),
        obs(
            "err",
            "1-2",
            "Falsch",
            "2026-03-10",
            "laboratory",
            status="entered-in-error",
            valueString="x",
        ),
    ]
    record, problems = run(resources)
    assert record.labs == []
    assert problems["Observation: no value"] == 1


# --- notes -------------------------------------------------------------------------------------


def document(
    did: str, content: list[Resource], date: str = "2026-03-10T10:00:00+01:00"
) -> Resource:
    return {
        "resourceType": "DocumentReference",
        "id": did,
        "status": "current",
        "type": {"text": "Arztbrief"},
        "date": date,
        "author": [{"display": "Dr. Arzt"}],
        "content": [{"attachment": a} for a in content],
    }


def b64(text: str, encoding: str = "utf-8") -> str:
    return base64.b64encode(text.encode(encoding)).decode("ascii")


def test_document_text_is_decoded_with_its_charset() -> None:
    doc = document(
        "d1",
        [
            {
                "contentType": "text/plain; charset=ISO-8859-1",
                "data": b64("Übelkeit, Größe", "latin-1"),
            }
        ],
    )
    record, _ = run([doc])
    [note] = record.notes
    assert note.text == "Übelkeit, Größe"
    assert (note.title, note.kind, note.author) == ("Arztbrief", "Arztbrief", "Dr. Arzt")


def test_html_document_is_stripped_to_text() -> None:
    markup = (
        "<html><body><h1>Befund</h1><p>Fieber &amp; Husten</p><script>x()</script></body></html>"
    )
    record, _ = run([document("d", [{"contentType": "text/html", "data": b64(markup)}])])
    assert record.notes[0].text == "Befund\n\nFieber & Husten"


def test_url_only_and_binary_attachments_are_named_but_not_included() -> None:
    resources: list[Resource] = [
        document(
            "u",
            [{"contentType": "text/plain", "url": "http://x/y", "title": "Entlassbrief"}],
            "2026-03-10",
        ),
        document("p", [{"contentType": "application/pdf", "data": b64("%PDF-1.4")}], "2026-03-09"),
    ]
    record, _ = run(resources)
    assert [n.text for n in record.notes] == [
        "Entlassbrief (not included)",
        "Arztbrief (not included, application/pdf)",
    ]


# --- orders, procedures, immunizations, devices, care team, contacts ------------------------------


def test_pending_service_requests_only() -> None:
    resources: list[Resource] = [
        {
            "resourceType": "ServiceRequest",
            "id": "s1",
            "status": "active",
            "intent": "order",
            "priority": "urgent",
            "code": {"text": "Röntgen Thorax"},
            "occurrenceDateTime": "2026-03-11T08:00:00+01:00",
        },
        {
            "resourceType": "ServiceRequest",
            "id": "s2",
            "status": "completed",
            "code": {"text": "Labor"},
        },
    ]
    record, _ = run(resources)
    [order] = record.orders
    assert (order.text, order.priority) == ("Röntgen Thorax", "urgent")
    assert order.occurrence == datetime(2026, 3, 11, 7, 0, tzinfo=UTC)


def test_procedures_and_immunizations_newest_first() -> None:
    resources: list[Resource] = [
        {
            "resourceType": "Procedure",
            "id": "p1",
            "status": "completed",
            "code": {"text": "Appendektomie"},
            "performedDateTime": "2020-04-23",
        },
        {
            "resourceType": "Procedure",
            "id": "p2",
            "status": "completed",
            "code": {"text": "ZVK-Anlage"},
            "performedPeriod": {"start": "2026-03-09"},
        },
        {
            "resourceType": "Procedure",
            "id": "p3",
            "status": "entered-in-error",
            "code": {"text": "Falsch"},
        },
        {
            "resourceType": "Immunization",
            "id": "i1",
            "status": "completed",
            "vaccineCode": {"text": "Tetanus"},
            "occurrenceDateTime": "2019-05-01",
        },
    ]
    record, _ = run(resources)
    assert [p.text for p in record.procedures] == ["ZVK-Anlage", "Appendektomie"]
    assert [i.vaccine for i in record.immunizations] == ["Tetanus"]


def test_devices_from_device_and_device_use_statement() -> None:
    resources: list[Resource] = [
        {
            "resourceType": "Device",
            "id": "d1",
            "status": "active",
            "deviceName": [{"name": "Herzschrittmacher", "type": "user-friendly-name"}],
            "patient": {"reference": "Patient/p1"},
        },
        {"resourceType": "Device", "id": "d2", "status": "inactive", "type": {"text": "Alt"}},
        {
            "resourceType": "DeviceUseStatement",
            "id": "u1",
            "status": "active",
            "device": {"reference": "Device/pump"},
        },
    ]
    shared = [{"resourceType": "Device", "id": "pump", "type": {"text": "Insulinpumpe"}}]
    record, _ = run(resources, shared)
    assert [d.text for d in record.devices] == ["Herzschrittmacher", "Insulinpumpe"]


def test_care_team_members_without_the_patient() -> None:
    team = {
        "resourceType": "CareTeam",
        "id": "t",
        "status": "active",
        "participant": [
            {
                "member": {"reference": "Patient/p1", "display": "Max Muster"},
                "role": [{"text": "Patient"}],
            },
            {"member": {"reference": "Practitioner/n"}, "role": [{"text": "Bezugspflege"}]},
        ],
    }
    shared: list[Resource] = [
        {
            "resourceType": "Practitioner",
            "id": "n",
            "name": [{"family": "Pflege", "given": ["Paula"]}],
            "telecom": [{"system": "phone", "value": "-1234"}],
        }
    ]
    record, _ = run([team], shared)
    assert [(m.name, m.role, m.phone) for m in record.care_team] == [
        ("Paula Pflege", "Bezugspflege", "-1234")
    ]


def test_contacts_from_patient_contact_and_related_person() -> None:
    pat = patient(
        contact=[
            {
                "relationship": [
                    {
                        "coding": [
                            {"system": "http://terminology.hl7.org/CodeSystem/v2-0131", "code": "N"}
                        ]
                    }
                ],
                "name": {"family": "Muster", "given": ["Eva"]},
                "telecom": [{"system": "phone", "value": "+49 30 1234"}],
            }
        ]
    )
    related = {
        "resourceType": "RelatedPerson",
        "id": "r",
        "patient": {"reference": "Patient/p1"},
        "name": [{"family": "Muster", "given": ["Paul"]}],
        "relationship": [{"coding": [{"code": "SONC"}]}],
        "address": [{"line": ["Milchstr. 42"], "postalCode": "78143", "city": "Beispielstadt"}],
    }
    record, _ = run([related], pat=pat)
    assert [(c.name, c.relationship, c.phone) for c in record.contacts] == [
        ("Eva Muster", "next of kin", "+49 30 1234"),
        ("Paul Muster", "son", None),
    ]
    assert record.contacts[1].address == "Milchstr. 42, 78143 Beispielstadt"


# --- provenance and robustness -------------------------------------------------------------------


def test_last_updated_is_the_newest_meta_and_facts_keep_their_source() -> None:
    pat = patient(meta={"lastUpdated": "2026-03-01T00:00:00Z"})
    res = allergy("a", code={"text": "Latex"}, meta={"lastUpdated": "2026-03-09T12:00:00+01:00"})
    record, _ = run([res], pat=pat)
    assert record.last_updated == datetime(2026, 3, 9, 11, 0, tzinfo=UTC)
    source = record.allergies[0].source
    assert source is not None
    assert (source.resource_type, source.id, source.last_updated) == (
        "AllergyIntolerance",
        "a",
        record.last_updated,
    )


def test_broken_resources_are_skipped_and_counted_never_raised() -> None:
    resources: list[Any] = [
        "not a resource",
        {"resourceType": "Observation", "id": "o", "code": 5, "valueQuantity": "x"},
        {
            "resourceType": "Encounter",
            "id": "e",
            "class": {"code": "IMP"},
            "status": "in-progress",
            "period": "soon",
            "location": [{"location": 7}],
        },
        {
            "resourceType": "MedicationRequest",
            "id": "m",
            "status": "active",
            "medicationCodeableConcept": {"text": "X"},
            "dosageInstruction": [{"timing": {"repeat": {"timeOfDay": [8]}}, "doseAndRate": "bad"}],
        },
        {
            "resourceType": "AllergyIntolerance",
            "id": "a",
            "code": {"coding": "Latex"},
            "reaction": [{"manifestation": None}],
        },
        allergy("ok", code={"text": "Latex"}),
    ]
    record, problems = run(resources)
    assert [a.substance for a in record.allergies] == ["Latex"]
    assert problems["resource: not a FHIR resource"] == 1
    assert problems["Observation: no code"] == 1
    assert [m.drug for m in record.medications] == ["X"]
    assert record.stay is not None and record.stay.encounter_id == "e"


def test_a_failing_resolver_is_counted_and_mapping_goes_on() -> None:
    def broken(_ref: Any, _from: Any) -> Resource:
        raise RuntimeError("lookup service down")

    ctx = MappingContext(resolve=broken, tz=BERLIN, now=NOW, problems=Counter())
    enc = encounter(
        "e",
        "in-progress",
        "2026-03-08",
        location=[{"location": {"reference": "Location/b", "display": "Bett 9"}}],
    )
    record = map_patient(patient(), [enc], ctx)
    assert record.stay is not None and record.stay.ward == "Bett 9"
    assert ctx.problems["reference: resolver failed"] >= 1


def test_mapped_record_survives_the_stored_json_form() -> None:
    resources: list[Resource] = [
        allergy("a", code={"text": "Latex"}),
        obs("hr", "8867-4", "Heart rate", "2026-03-10", valueQuantity=quantity(72, "/min")),
        code_status_obs("cs", {"text": "DNR"}, "2026-03-01"),
    ]
    record, _ = run(resources)
    again = PatientRecord.from_json(record.to_json())
    assert again == record


def test_administration_window_is_configurable() -> None:
    ctx = MappingContext(tz=BERLIN, now=NOW, administration_window=timedelta(hours=6))
    record = map_patient(
        patient(),
        [
            administration("a", "2026-03-10T08:00:00+01:00"),
            administration("b", "2026-03-09T20:00:00+01:00"),
        ],
        ctx,
    )
    assert [a.source.id for a in record.administrations if a.source] == ["a"]

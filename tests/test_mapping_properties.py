"""Property tests: FHIR timestamp parsing and map_patient's robustness against broken input."""

from __future__ import annotations

import contextlib
import copy
from collections import Counter
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.fhirtime import parse_fhir_date, parse_fhir_datetime
from sync.mapping import MappingContext, MappingError, map_patient
from sync.model import PatientRecord

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)

# --- parse_fhir_datetime ----------------------------------------------------------------------

offsets = st.one_of(
    st.just("Z"),
    st.builds(
        lambda sign, h, m: f"{sign}{h:02d}:{m:02d}",
        st.sampled_from("+-"),
        st.integers(0, 13),
        st.sampled_from([0, 15, 30, 45]),
    ),
    st.just("+14:00"),
)
moments = st.datetimes(min_value=datetime(1800, 1, 1), max_value=datetime(2200, 12, 31))


@st.composite
def fhir_datetimes(draw: st.DrawFn) -> tuple[str, datetime, str]:
    """A valid FHIR date/dateTime/instant string, the naive moment it names, and its precision."""
    moment = draw(moments)
    precision = draw(st.sampled_from(["year", "month", "day", "seconds", "fraction"]))
    if precision == "year":
        return f"{moment.year:04d}", moment, precision
    if precision == "month":
        return f"{moment.year:04d}-{moment.month:02d}", moment, precision
    if precision == "day":
        return moment.date().isoformat(), moment, precision
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if precision == "fraction":
        digits = draw(st.integers(1, 9))
        text += "." + f"{moment.microsecond:06d}".ljust(9, "0")[:digits]
    return text + draw(offsets), moment, precision


@given(fhir_datetimes())
def test_any_valid_fhir_datetime_parses_to_an_aware_datetime(
    case: tuple[str, datetime, str],
) -> None:
    text, moment, precision = case
    parsed = parse_fhir_datetime(text, BERLIN)
    assert parsed is not None
    assert parsed.tzinfo is not None and parsed.utcoffset() is not None
    assert parsed.year == moment.year
    if precision != "year":
        assert parsed.month == moment.month
    if precision in ("day", "seconds", "fraction"):
        assert parsed.day == moment.day
    if precision in ("seconds", "fraction"):
        assert (parsed.hour, parsed.minute, parsed.second) == (
            moment.hour,
            moment.minute,
            moment.second,
        )
        assert parsed.tzinfo is not BERLIN  # the string's own offset was kept
    else:
        assert (parsed.hour, parsed.minute) == (0, 0)
        assert parsed.tzinfo is BERLIN


@given(moments, offsets)
def test_a_full_timestamp_with_offset_names_the_exact_instant(
    moment: datetime, offset: str
) -> None:
    moment = moment.replace(microsecond=0)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S") + offset
    sign = -1 if offset.startswith("-") else 1
    hours, minutes = (0, 0) if offset == "Z" else (int(offset[1:3]), int(offset[4:6]))
    expected = moment.replace(tzinfo=timezone(sign * timedelta(hours=hours, minutes=minutes)))
    assert parse_fhir_datetime(text, BERLIN) == expected


@given(
    st.one_of(
        st.text(max_size=40), st.from_regex(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}.{0,12}", fullmatch=True)
    )
)
def test_garbage_returns_none_or_an_aware_datetime_never_raises(text: str) -> None:
    parsed = parse_fhir_datetime(text, BERLIN)
    assert parsed is None or parsed.utcoffset() is not None
    day = parse_fhir_date(text)
    assert day is None or isinstance(day, date)


@given(
    st.one_of(
        st.none(),
        st.integers(),
        st.floats(),
        st.lists(st.text()),
        st.dictionaries(st.text(), st.text()),
    )
)
def test_non_strings_are_not_timestamps(value: Any) -> None:
    assert parse_fhir_datetime(value, BERLIN) is None
    assert parse_fhir_date(value) is None


def test_known_edge_cases() -> None:
    assert parse_fhir_datetime("2020-02-30", BERLIN) is None
    assert parse_fhir_datetime("2020-13", BERLIN) is None
    assert parse_fhir_datetime("2020-01-01T25:00:00Z", BERLIN) is None
    assert parse_fhir_datetime("2020-01-01T10:00:00+15:00", BERLIN) is None
    assert parse_fhir_datetime("2016-12-31T23:59:60Z", BERLIN) == datetime(
        2016, 12, 31, 23, 59, 59, tzinfo=UTC
    )
    assert parse_fhir_datetime("2020-06-01T10:00:00", BERLIN) == datetime(
        2020, 6, 1, 10, tzinfo=BERLIN
    )
    assert parse_fhir_datetime("2020-06-01T10:00", BERLIN) == datetime(
        2020, 6, 1, 10, tzinfo=BERLIN
    )
    assert parse_fhir_datetime(" 2020-06-01 ", BERLIN) == datetime(2020, 6, 1, tzinfo=BERLIN)
    assert parse_fhir_datetime("2020-06-01T10:00:00.123456789Z", BERLIN) == datetime(
        2020, 6, 1, 10, 0, 0, 123456, tzinfo=UTC
    )
    assert parse_fhir_date("1964-08") == date(1964, 8, 1)


# --- map_patient never raises ----------------------------------------------------------------

json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**6), 10**6),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=12),
        st.sampled_from(
            ["2026-03-10", "2026-03-10T08:00:00+01:00", "active", "IMP", "final", "#x"]
        ),
    ),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=12,
)

TEMPLATES: list[dict[str, Any]] = [
    {
        "resourceType": "Encounter",
        "id": "e",
        "status": "in-progress",
        "class": {"code": "IMP"},
        "period": {"start": "2026-03-08"},
        "location": [
            {
                "location": {"reference": "Location/l", "display": "Bett 1"},
                "physicalType": {"coding": [{"code": "bd"}]},
            }
        ],
        "participant": [
            {
                "type": [{"coding": [{"code": "ATND"}]}],
                "individual": {"reference": "Practitioner/d"},
            }
        ],
        "diagnosis": [{"condition": {"reference": "Condition/c"}, "rank": 1}],
    },
    {
        "resourceType": "Condition",
        "id": "c",
        "clinicalStatus": {"coding": [{"code": "active"}]},
        "code": {
            "coding": [{"system": "http://fhir.de/CodeSystem/bfarm/icd-10-gm", "code": "J18.9"}]
        },
    },
    {
        "resourceType": "AllergyIntolerance",
        "id": "a",
        "code": {"text": "Penicillin"},
        "criticality": "high",
        "reaction": [{"manifestation": [{"text": "Urtikaria"}], "severity": "severe"}],
    },
    {
        "resourceType": "Observation",
        "id": "o",
        "status": "final",
        "category": [{"coding": [{"code": "vital-signs"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
        "effectiveDateTime": "2026-03-10",
        "component": [
            {
                "code": {"coding": [{"code": "8480-6"}]},
                "valueQuantity": {"value": 120, "unit": "mmHg"},
            },
            {
                "code": {"coding": [{"code": "8462-4"}]},
                "valueQuantity": {"value": 80, "unit": "mmHg"},
            },
        ],
        "referenceRange": [{"low": {"value": 1}, "high": {"value": 2}}],
        "interpretation": [{"coding": [{"code": "H"}]}],
    },
    {
        "resourceType": "Observation",
        "id": "cs",
        "code": {"coding": [{"code": "100822-6"}]},
        "valueCodeableConcept": {"text": "DNR"},
        "effectiveDateTime": "2026-03-01",
    },
    {
        "resourceType": "MedicationRequest",
        "id": "m",
        "status": "active",
        "medicationReference": {"reference": "#med"},
        "contained": [{"resourceType": "Medication", "id": "med", "code": {"text": "Metoprolol"}}],
        "dosageInstruction": [
            {
                "timing": {
                    "repeat": {
                        "frequency": 2,
                        "period": 1,
                        "periodUnit": "d",
                        "timeOfDay": ["08:00:00"],
                        "boundsPeriod": {"start": "2026-03-01"},
                    },
                    "code": {"coding": [{"code": "BID"}]},
                },
                "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "Tbl"}}],
                "asNeededCodeableConcept": {"text": "x"},
                "maxDosePerPeriod": {
                    "numerator": {"value": 4},
                    "denominator": {"value": 1, "unit": "d"},
                },
            }
        ],
    },
    {
        "resourceType": "MedicationAdministration",
        "id": "ma",
        "status": "completed",
        "effectiveDateTime": "2026-03-10T08:00:00Z",
        "medicationCodeableConcept": {"text": "Metoprolol"},
        "request": {"reference": "MedicationRequest/m"},
        "dosage": {"dose": {"value": 1, "unit": "Tbl"}},
    },
    {
        "resourceType": "MedicationStatement",
        "id": "ms",
        "status": "active",
        "medicationCodeableConcept": {"text": "ASS"},
    },
    {
        "resourceType": "DocumentReference",
        "id": "d",
        "status": "current",
        "content": [
            {"attachment": {"contentType": "text/html; charset=utf-8", "data": "PHA+SGFsbG88L3A+"}}
        ],
    },
    {
        "resourceType": "DiagnosticReport",
        "id": "r",
        "code": {"text": "BB"},
        "result": [{"reference": "Observation/o"}],
        "conclusion": "ok",
        "presentedForm": [{"contentType": "text/plain", "data": "!!notbase64"}],
    },
    {
        "resourceType": "Consent",
        "id": "k",
        "status": "active",
        "scope": {"coding": [{"code": "adr"}]},
        "provision": {"type": "deny", "code": [{"coding": [{"code": "89666000"}]}]},
    },
    {
        "resourceType": "Flag",
        "id": "f",
        "status": "active",
        "code": {"text": "MRSA"},
        "period": {"start": "2026-01-01"},
    },
    {"resourceType": "ServiceRequest", "id": "s", "status": "active", "code": {"text": "Röntgen"}},
    {"resourceType": "Procedure", "id": "p", "status": "completed", "code": {"text": "OP"}},
    {
        "resourceType": "Immunization",
        "id": "i",
        "status": "completed",
        "vaccineCode": {"text": "Tetanus"},
    },
    {"resourceType": "Device", "id": "dv", "status": "active", "type": {"text": "Pumpe"}},
    {
        "resourceType": "DeviceUseStatement",
        "id": "du",
        "status": "active",
        "device": {"reference": "Device/dv"},
    },
    {
        "resourceType": "CareTeam",
        "id": "t",
        "participant": [{"member": {"reference": "Practitioner/d"}, "role": [{"text": "Arzt"}]}],
    },
    {
        "resourceType": "RelatedPerson",
        "id": "rp",
        "name": [{"family": "M"}],
        "relationship": [{"coding": [{"code": "MTH"}]}],
    },
]
SHARED: dict[str, dict[str, Any]] = {
    "Location/l": {
        "resourceType": "Location",
        "id": "l",
        "name": "Bett 1",
        "partOf": {"reference": "Location/l"},
    },
    "Practitioner/d": {"resourceType": "Practitioner", "id": "d", "name": [{"family": "Arzt"}]},
}
PATIENT = {
    "resourceType": "Patient",
    "id": "p",
    "name": [{"family": "Muster", "given": ["Max"]}],
    "contact": [{"name": {"family": "Muster"}, "relationship": [{"coding": [{"code": "N"}]}]}],
}


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key/index path inside a JSON value (for choosing what to break)."""
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            out += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            out += _paths(child, (*prefix, index))
    return out


def _replace(target: Any, path: tuple[Any, ...], new: Any) -> None:
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new


@st.composite
def broken_resources(draw: st.DrawFn) -> list[Any]:
    """The templates with a few values replaced by random JSON, some resources swapped for junk."""
    resources: list[Any] = []
    for template in TEMPLATES:
        res = copy.deepcopy(template)
        paths = _paths(res)
        for _ in range(draw(st.integers(0, 3))):
            path = draw(st.sampled_from(paths))
            # An earlier replacement may have removed this path: then nothing to break.
            with contextlib.suppress(KeyError, IndexError, TypeError):
                _replace(res, path, draw(json_values))
        resources.append(res)
    if draw(st.booleans()):
        resources.append(draw(json_values))
    return resources


def _resolve(ref: Any, _from: Any) -> dict[str, Any] | None:
    key = ref.get("reference") if isinstance(ref, dict) else ref
    return SHARED.get(key) if isinstance(key, str) else None


# 60 examples keep this at a few seconds; each one breaks up to 3 fields in each of 19 resources.
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(broken_resources())
def test_map_patient_never_raises_on_broken_resources(resources: list[Any]) -> None:
    ctx = MappingContext(resolve=_resolve, tz=BERLIN, now=NOW, problems=Counter())
    record = map_patient(PATIENT, resources, ctx)
    # The result is a valid, storable record.
    assert PatientRecord.from_json(record.to_json()) == record
    assert record.name == "Muster, Max"


@st.composite
def broken_patients(draw: st.DrawFn) -> dict[str, Any]:
    patient = copy.deepcopy(PATIENT)
    patient.update(
        draw(
            st.dictionaries(
                st.sampled_from(
                    [
                        "name",
                        "identifier",
                        "birthDate",
                        "gender",
                        "deceasedDateTime",
                        "address",
                        "telecom",
                        "communication",
                        "link",
                        "contact",
                        "meta",
                        "deceasedBoolean",
                    ]
                ),
                json_values,
                max_size=4,
            )
        )
    )
    return patient


@settings(max_examples=60, deadline=None)
@given(broken_patients())
def test_a_broken_patient_maps_or_raises_mapping_error_only(patient: dict[str, Any]) -> None:
    ctx = MappingContext(resolve=_resolve, tz=BERLIN, now=NOW, problems=Counter())
    try:
        record = map_patient(patient, [], ctx)
    except MappingError as exc:
        assert "Patient" in str(exc)
        return
    assert record.id == "p" and record.name
    assert PatientRecord.from_json(record.to_json()) == record


def test_the_unbroken_templates_map_fully() -> None:
    """Guards the property test above: the templates themselves exercise every mapper."""
    ctx = MappingContext(resolve=_resolve, tz=BERLIN, now=NOW, problems=Counter())
    record = map_patient(PATIENT, copy.deepcopy(TEMPLATES), ctx)
    assert (
        record.stay is not None and record.stay.bed == "Bett 1" and record.stay.attending == "Arzt"
    )
    assert record.problems[0].is_main_diagnosis
    assert record.allergies and record.code_status and record.flags and record.medications
    assert record.administrations and record.home_medications and record.vitals
    assert record.notes and record.orders and record.procedures and record.immunizations
    assert len(record.devices) == 2 and record.care_team and len(record.contacts) == 2
    assert ctx.problems == Counter({"DiagnosticReport: attachment not decodable": 1})

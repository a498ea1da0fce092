"""sync.refs: every reference form real exports use resolves to the same "Type/id"."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sync.refs import (
    RefIndex,
    canonical_key,
    conditional_reference,
    literal_key,
    parse_conditional,
)
from sync.sources import RESOURCE_TYPES


def _index() -> RefIndex:
    index = RefIndex()
    index.add(
        {
            "resourceType": "Patient",
            "id": "p1",
            "identifier": [{"system": "https://ehr.example/mrn", "value": "4711"}],
        },
        "urn:uuid:0f9e5c1a-0000-4000-8000-000000000001",
        keep=False,
    )
    index.add(
        {
            "resourceType": "Location",
            "id": "loc-3b",
            "name": "Station 3B",
            "identifier": [{"system": "https://ehr.example/loc", "value": "3B"}],
        },
        "https://ehr.example/fhir/Location/loc-3b",
    )
    index.add(
        {
            "resourceType": "Practitioner",
            "id": "dr1",
            "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": "99+1"}],
        }
    )
    return index


def test_literal_relative_versioned_and_absolute_forms() -> None:
    index = _index()
    assert canonical_key("Patient/p1", index) == "Patient/p1"
    assert canonical_key("Patient/p1/_history/3", index) == "Patient/p1"
    assert canonical_key("https://other.example/fhir/Patient/p1", index) == "Patient/p1"
    assert canonical_key("https://other.example/fhir/Patient/p1/_history/2") == "Patient/p1"
    assert canonical_key("  Location/loc-3b ", index) == "Location/loc-3b"


def test_urn_uuid_resolves_only_through_the_full_url_index() -> None:
    index = _index()
    urn = "urn:uuid:0f9e5c1a-0000-4000-8000-000000000001"
    assert canonical_key(urn, index) == "Patient/p1"
    assert canonical_key(urn) is None
    assert canonical_key("urn:uuid:11111111-2222-4333-8444-555555555555", index) is None


def test_conditional_references_with_system_value_only_and_encoded() -> None:
    index = _index()
    assert canonical_key("Patient?identifier=https://ehr.example/mrn|4711", index) == "Patient/p1"
    assert canonical_key("Patient?identifier=4711", index) == "Patient/p1"
    assert canonical_key("Patient?identifier=|4711", index) == "Patient/p1"
    assert (
        canonical_key("Patient?identifier=https%3A%2F%2Fehr.example%2Fmrn%7C4711", index)
        == "Patient/p1"
    )
    # "+" in an identifier is a plus, not a space
    assert (
        canonical_key("Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|99+1", index)
        == "Practitioner/dr1"
    )
    assert canonical_key("Patient?identifier=https://ehr.example/mrn|0000", index) is None
    assert canonical_key("Patient?name=Smith", index) is None
    assert canonical_key("Location?identifier=https://ehr.example/loc|3B", index) == (
        "Location/loc-3b"
    )


def test_ambiguous_value_only_lookup_resolves_to_nothing() -> None:
    index = _index()
    index.add(
        {
            "resourceType": "Patient",
            "id": "p2",
            "identifier": [{"system": "https://other.example/mrn", "value": "4711"}],
        },
        keep=False,
    )
    assert canonical_key("Patient?identifier=4711", index) is None
    assert index.ambiguous == 1
    assert canonical_key("Patient?identifier=https://other.example/mrn|4711", index) == "Patient/p2"


def test_unknown_types_contained_and_empty_have_no_key() -> None:
    assert canonical_key("Spaceship/1") is None
    assert canonical_key("#med1") is None
    assert canonical_key("") is None
    assert literal_key("Patient") is None
    assert literal_key("Patient/") is None


def test_resolve_returns_kept_resources_contained_and_logical_references() -> None:
    index = _index()
    order: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "contained": [{"resourceType": "Medication", "id": "m1", "code": {"text": "ASS"}}],
        "medicationReference": {"reference": "#m1"},
    }
    assert index.resolve({"reference": "#m1"}, order) == order["contained"][0]
    assert index.resolve("#nope", order) is None
    found = index.resolve({"reference": "https://ehr.example/fhir/Location/loc-3b"})
    assert found is not None and found["name"] == "Station 3B"
    logical = {"identifier": {"system": "https://ehr.example/loc", "value": "3B"}}
    found = index.resolve({**logical, "type": "Location"})
    assert found is not None and found["id"] == "loc-3b"
    # ISiK writes logical references without `type`: unique across types is good enough
    found = index.resolve(logical)
    assert found is not None and found["id"] == "loc-3b"
    # patients are indexed but not kept: known, not resolvable to content
    assert "Patient/p1" in index
    assert index.resolve("Patient/p1") is None


_ids = st.from_regex(r"[A-Za-z0-9\-.]{1,64}", fullmatch=True)
_types = st.sampled_from(sorted(RESOURCE_TYPES))


@settings(max_examples=200)
@given(
    rtype=_types,
    rid=_ids,
    base=st.sampled_from(["", "https://a.example/fhir/", "http://h:8080/r4/"]),
    version=st.one_of(st.none(), st.integers(1, 99)),
)
def test_literal_forms_normalise_to_type_slash_id(
    rtype: str, rid: str, base: str, version: int | None
) -> None:
    ref = f"{base}{rtype}/{rid}" + (f"/_history/{version}" if version else "")
    assert canonical_key(ref) == f"{rtype}/{rid}"


@settings(max_examples=200)
@given(
    rtype=_types,
    system=st.one_of(st.none(), st.sampled_from(["urn:oid:1.2.3", "https://x.example/id"])),
    value=st.text(
        st.characters(exclude_characters="|", exclude_categories=["Cs"]), min_size=1
    ).filter(lambda v: v.strip() == v and v != ""),
)
def test_conditional_reference_round_trips(rtype: str, system: str | None, value: str) -> None:
    assert parse_conditional(conditional_reference(rtype, system, value)) == (rtype, system, value)

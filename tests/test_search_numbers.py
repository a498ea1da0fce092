"""Search by part of an MRN and by case (encounter) number: one rule (sync.searchtext) on both
paths, the census's instant local filter and the snapshot's search index (real SQLCipher).

The rule (docs/viewer.md "Search"): a number typed finds an MRN or case number that starts with
it (as every search word does); with 4 digits or more also one that ends with it or holds it as
a whole digit group; the full number always. "101" never finds MRN 40001010 by its inside.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.ui.viewmodels.census import CensusModel, _query_words, _search_text, _text_matches
from sync import searchtext
from sync.mapping import MappingContext, map_patient
from sync.model import CensusRow, PatientRecord
from sync.snapshot import SnapshotMeta, SnapshotReader, new_key, write_snapshot
from sync.snapshot.search import search_columns

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def row(mrn: str | None, case: str | None = None) -> CensusRow:
    # No room, bed or birth date: only the numbers under test can match a number.
    return CensusRow(patient_id="p1", name="Muster, Erika", mrn=mrn, case_number=case)


def local_finds(query: str, census_row: CensusRow) -> bool:
    return _text_matches(_query_words(query), _search_text(census_row))


def index_finds(query: str, mrn: str | None, case: str | None = None) -> bool:
    """The snapshot's rule on the ident column's tokens: every query term (any alternative)
    starts some token (FTS5 prefix query)."""
    record = PatientRecord.model_validate(
        {"id": "x", "name": "Muster, Erika", "mrn": mrn, "stay": {"case_number": case}}
    )
    tokens = search_columns(record)[0].split()
    groups = searchtext.query_alternatives(query)
    return bool(groups) and all(
        any(token.startswith(alt) for alt in group for token in tokens) for group in groups
    )


def rule(query: str, identifier: str) -> bool:
    """The documented rule, written plainly: what a nurse should expect."""
    q = re.sub(r"\W", "", query)
    whole = re.sub(r"\W", "", identifier.lower())
    if not q:
        return False
    if whole.startswith(q) or any(p.startswith(q) for p in re.split(r"\W+", identifier) if p):
        return True
    if len(q) >= 4 and q.isdigit():
        return whole.endswith(q) or q in re.findall(r"[0-9]+", identifier)
    return False


# -- the examples the issue names ----------------------------------------------------------------


def test_a_short_number_does_not_find_an_mrn_by_its_inside() -> None:
    # "101" is room 101, not the middle or end of MRN 40001010.
    for finds in (lambda q: local_finds(q, row("40001010")), lambda q: index_finds(q, "40001010")):
        assert not finds("101")
        assert not finds("010")
        assert finds("1010")  # 4 digits: the MRN's end
        assert finds("01010")
        assert finds("40001010")  # full MRN always
        assert finds("4000")  # its start, as every search word
        assert not finds("0001")  # 4 digits inside, but neither the end nor a digit group


def test_whole_digit_groups_and_punctuated_mrns() -> None:
    mrn = "A-2024-0815"
    for finds in (lambda q: local_finds(q, row(mrn)), lambda q: index_finds(q, mrn)):
        assert finds("0815")
        assert finds("2024")  # a whole group of its own
        assert finds("202")  # the start of a part, as every search word
        assert not finds("024")  # too short for the inside
        assert finds("A-2024-0815") and finds("a20240815")


def test_case_number_is_found_whole_and_by_the_same_partial_rule() -> None:
    case = "26000123"
    for finds in (
        lambda q: local_finds(q, row("40001010", case)),
        lambda q: index_finds(q, "40001010", case),
    ):
        assert finds("26000123")
        assert finds("0123")
        assert finds("2600")
        assert not finds("123")


@settings(max_examples=300)
@given(
    st.text("0123456789", min_size=4, max_size=12),
    st.sampled_from(["", "-", " ", "/"]),
    st.integers(min_value=0, max_value=12),
    st.data(),
)
def test_both_paths_follow_the_rule(digits: str, sep: str, cut: int, data: st.DataObject) -> None:
    mrn = digits[:cut] + sep + digits[cut:] if sep and 0 < cut < len(digits) else digits
    start = data.draw(st.integers(min_value=0, max_value=len(digits) - 1))
    end = data.draw(st.integers(min_value=start + 1, max_value=len(digits)))
    query = digits[start:end]
    expected = rule(query, mrn)
    assert local_finds(query, row(mrn)) == expected, (query, mrn)
    assert index_finds(query, mrn) == expected, (query, mrn)


# -- through a real snapshot and the census model ------------------------------------------------


@pytest.fixture
def reader(tmp_path: Path) -> Iterator[SnapshotReader]:
    def person(pid: str, name: str, mrn: str, room: str, case: str | None) -> PatientRecord:
        return PatientRecord.model_validate(
            {
                "id": pid,
                "name": name,
                "mrn": mrn,
                "stay": {"room": room, "bed": "1", "case_number": case, "ward_id": "w1"},
            }
        )

    records = [
        person("p-a", "Adler, Anna", "40001010", "12", "26000123"),
        person("p-b", "Berg, Bernd", "40005555", "101", "26000457"),
        person("p-c", "Cramer, Clara", "A-2024-0815", "14", None),
    ]
    key = new_key()
    meta = SnapshotMeta(ward_id="w1", ward_name="Station 1", data_as_of=NOW, built_at=NOW)
    path = write_snapshot(tmp_path / "ward.db", key, meta, records)
    with SnapshotReader(path, key) as opened:
        yield opened


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("101", {"p-b"}),  # room 101 only: not MRN 40001010
        ("1010", {"p-a"}),
        ("40001010", {"p-a"}),
        ("0815", {"p-c"}),
        ("2024", {"p-c"}),
        ("26000457", {"p-b"}),  # full case number
        ("0457", {"p-b"}),  # its end
        ("2600", {"p-a", "p-b"}),  # its start
        ("0123 adler", {"p-a"}),
    ],
)
def test_snapshot_search_and_census_filter_agree(
    reader: SnapshotReader, query: str, expected: set[str]
) -> None:
    assert {r.patient_id for r in reader.search(query)} == expected
    model = CensusModel(reader.census(), ward_id="w1")
    model.set_query(query)
    assert {r.patient_id for r in model.visible()} == expected


def test_full_case_number_ranks_first(reader: SnapshotReader) -> None:
    assert [r.patient_id for r in reader.search("26000123")][:1] == ["p-a"]


# -- mapping: the case number as an EHR sends it -------------------------------------------------


def _map(encounter: dict[str, Any]) -> PatientRecord:
    patient = {
        "resourceType": "Patient",
        "id": "pat-1",
        "identifier": [{"value": "4711"}],
        "name": [{"family": "Beispiel", "given": ["Anna"]}],
    }
    ctx = MappingContext(tz=ZoneInfo("Europe/Berlin"), now=NOW, problems=Counter())
    return map_patient(patient, [encounter], ctx)


def _encounter(identifiers: list[dict[str, Any]], rid: str = "enc-9f3a") -> dict[str, Any]:
    return {
        "resourceType": "Encounter",
        "id": rid,
        "identifier": identifiers,
        "status": "in-progress",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
        "subject": {"reference": "Patient/pat-1"},
        "period": {"start": "2026-03-08T22:10:00+01:00"},
    }


def test_isik_visit_number_becomes_the_case_number_and_reaches_the_census() -> None:
    # As an ISiK Fachabteilungskontakt sends it: identifier typed VN, system "besuchsnummer".
    vn = {
        "type": {
            "coding": [{"code": "VN", "system": "http://terminology.hl7.org/CodeSystem/v2-0203"}]
        },
        "system": "https://test.krankenhaus.de/fhir/sid/besuchsnummer",
        "value": "0123456789",
    }
    other = {"use": "official", "system": "urn:example:billing", "value": "B-77"}
    record = _map(_encounter([other, vn]))
    assert record.stay is not None and record.stay.case_number == "0123456789"
    assert CensusRow.from_record(record).case_number == "0123456789"


def test_an_identifier_that_repeats_the_resource_id_is_no_case_number() -> None:
    # Synthea copies the Encounter id into an official identifier: a UUID is no case number.
    rid = "00c7f717-4030-5582-2ed8-888ad2bc878e"
    copy = {"use": "official", "system": "https://github.com/synthetichealth/synthea", "value": rid}
    record = _map(_encounter([copy], rid=rid))
    assert record.stay is not None and record.stay.case_number is None
    fallnummer = {"type": {"text": "Fallnummer"}, "value": "F-2026-0042"}
    record = _map(_encounter([copy, fallnummer], rid=rid))
    assert record.stay is not None and record.stay.case_number == "F-2026-0042"

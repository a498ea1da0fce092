"""sync.sources: streaming FHIR files (NDJSON, gzip, Bundles, single resources) into items and
counted problems, never exceptions."""

from __future__ import annotations

import gzip
import json
import tracemalloc
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.sources import RESOURCE_TYPES, SourceItem, SourceProblem, iter_source

SHARED_FHIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "fhir"


def _ndjson(path: Path, lines: Sequence[object]) -> Path:
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def _split(items: list[SourceItem | SourceProblem]) -> tuple[list[SourceItem], list[SourceProblem]]:
    good = [i for i in items if isinstance(i, SourceItem)]
    bad = [i for i in items if isinstance(i, SourceProblem)]
    return good, bad


def test_broken_ndjson_lines_become_counted_problems_with_file_and_line(tmp_path: Path) -> None:
    _ndjson(
        tmp_path / "Observation.ndjson",
        [
            {"resourceType": "Observation", "id": "o1"},
            "{not json",
            {"resourceType": "Spaceship", "id": "x"},
            {"id": "no-type", "resourceType": ""},
            "",
            "[1, 2]",
            {"resourceType": "Observation", "id": "o2"},
        ],
    )
    good, bad = _split(list(iter_source(tmp_path)))
    assert [i.resource["id"] for i in good] == ["o1", "o2"]
    assert [(p.origin, p.reason) for p in bad] == [
        ("Observation.ndjson:2", "invalid JSON"),
        ("Observation.ndjson:3", "unknown resourceType"),
        ("Observation.ndjson:4", "missing resourceType"),
        ("Observation.ndjson:6", "not a JSON object"),
    ]
    assert good[1].origin == "Observation.ndjson:7"


def test_bundles_of_every_kind_yield_entries_with_full_url_and_nested_bundles(
    tmp_path: Path,
) -> None:
    document = {
        "resourceType": "Bundle",
        "type": "document",
        "entry": [
            {"fullUrl": "urn:uuid:c1", "resource": {"resourceType": "Composition", "id": "c1"}},
            {"fullUrl": "urn:uuid:p1", "resource": {"resourceType": "Patient", "id": "p1"}},
        ],
    }
    outer = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": "urn:uuid:doc", "resource": document},
            {"request": {"method": "DELETE", "url": "Patient/old"}},  # no resource: no data
            {
                "fullUrl": "https://ehr.example/fhir/Observation/o9",
                "resource": {"resourceType": "Observation", "id": "o9"},
            },
            {"fullUrl": "urn:uuid:bad", "resource": {"resourceType": "Nope"}},
        ],
    }
    (tmp_path / "bundle.json").write_text(json.dumps(outer), encoding="utf-8")
    good, bad = _split(list(iter_source(tmp_path)))
    assert [(i.resource["resourceType"], i.full_url) for i in good] == [
        ("Composition", "urn:uuid:c1"),
        ("Patient", "urn:uuid:p1"),
        ("Observation", "https://ehr.example/fhir/Observation/o9"),
    ]
    assert [(p.origin, p.reason) for p in bad] == [("bundle.json#entry3", "unknown resourceType")]


def test_single_resource_json_and_gzip_ndjson_are_read(tmp_path: Path) -> None:
    (tmp_path / "Patient-a.json").write_text(
        json.dumps({"resourceType": "Patient", "id": "a"}), encoding="utf-8"
    )
    with gzip.open(tmp_path / "Condition.000.ndjson.gz", "wt", encoding="utf-8") as handle:
        handle.write(json.dumps({"resourceType": "Condition", "id": "c"}) + "\n")
    good, bad = _split(list(iter_source(tmp_path)))
    assert sorted(i.resource["id"] for i in good) == ["a", "c"]
    assert bad == []


def test_non_fhir_files_are_skipped_not_crashed_on(tmp_path: Path) -> None:
    (tmp_path / "LICENSE").write_text("Apache", encoding="utf-8")
    (tmp_path / "README.md").write_text("# data", encoding="utf-8")
    (tmp_path / ".hidden.ndjson").write_text("garbage", encoding="utf-8")
    _ndjson(tmp_path / "log.ndjson", [{"eventId": "kickoff"}, {"eventId": "a"}, {"eventId": "b"}])
    (tmp_path / "package.json").write_text('{"name": "x"}', encoding="utf-8")
    (tmp_path / "broken.json").write_text('{"resourceType": ', encoding="utf-8")
    _ndjson(tmp_path / "Patient.ndjson", [{"resourceType": "Patient", "id": "p"}])
    good, bad = _split(list(iter_source(tmp_path)))
    assert [i.resource["id"] for i in good] == ["p"]
    assert sorted((p.origin, p.reason) for p in bad) == [
        ("broken.json", "invalid JSON"),
        ("log.ndjson", "not a FHIR file (skipped)"),
        ("package.json", "not a FHIR file (skipped)"),
    ]


def test_folders_are_read_recursively_in_sorted_order(tmp_path: Path) -> None:
    for folder, rid in (("b", "2"), ("a", "1"), ("a/z", "3")):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
        _ndjson(tmp_path / folder / "Patient.ndjson", [{"resourceType": "Patient", "id": rid}])
    origins = [i.origin for i in iter_source(tmp_path)]
    assert origins == ["a/Patient.ndjson:1", "a/z/Patient.ndjson:1", "b/Patient.ndjson:1"]


def test_missing_source_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        list(iter_source(tmp_path / "nope"))


def test_ndjson_is_streamed_with_flat_memory(tmp_path: Path) -> None:
    path = tmp_path / "Observation.ndjson"
    line = orjson.dumps({"resourceType": "Observation", "id": "x", "note": [{"text": "a" * 400}]})
    with path.open("wb") as handle:
        for _ in range(40_000):  # ~17 MB
            handle.write(line + b"\n")
    tracemalloc.start()
    count = sum(1 for _ in iter_source(path))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == 40_000
    assert peak < 2_000_000, f"peak {peak} bytes: the reader holds the file in memory"


_ids = st.from_regex(r"[A-Za-z0-9\-.]{1,64}", fullmatch=True)
_types = st.sampled_from(sorted(RESOURCE_TYPES - {"Bundle"}))
_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=60, deadline=None)
@given(resources=st.lists(st.tuples(_types, _ids, _values), max_size=8))
def test_ndjson_round_trips_any_resources(
    tmp_path_factory: pytest.TempPathFactory, resources: list
) -> None:
    folder = tmp_path_factory.mktemp("rt")
    written = [{"resourceType": t, "id": i, "extra": v} for t, i, v in resources]
    _ndjson(folder / "x.ndjson", written)
    read = [i.resource for i in iter_source(folder) if isinstance(i, SourceItem)]
    assert read == written


@settings(max_examples=60, deadline=None)
@given(lines=st.lists(st.binary(max_size=60), max_size=10))
def test_arbitrary_bytes_never_raise(
    tmp_path_factory: pytest.TempPathFactory, lines: list[bytes]
) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "x.ndjson").write_bytes(b"\n".join(lines))
    (folder / "y.json").write_bytes(b"".join(lines))
    for item in iter_source(folder):
        assert isinstance(item, SourceItem | SourceProblem)


@pytest.mark.shared_data
def test_every_shared_fhir_file_reads_without_crash() -> None:
    if not SHARED_FHIR.is_dir():
        pytest.skip(f"shared FHIR data not found at {SHARED_FHIR}")
    types: Counter[str] = Counter()
    problems: Counter[str] = Counter()
    for item in iter_source(SHARED_FHIR):
        if isinstance(item, SourceItem):
            types[item.resource["resourceType"]] += 1
        else:
            problems[item.reason] += 1
    # the Bulk Data export's log.ndjson is the only non-FHIR file
    assert problems == Counter({"not a FHIR file (skipped)": 1})
    assert types["Patient"] >= 100 + 13
    assert types["Observation"] > 16_000
    assert types["Location"] >= 2

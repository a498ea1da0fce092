"""sync.staging and sync.build: FHIR files in, one encrypted snapshot per ward out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tracemalloc
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sync.build import BuildError, build_snapshots
from sync.config import Config, StayScope, WardConfig, WardRule
from sync.refs import RefIndex
from sync.snapshot import SnapshotReader
from sync.sources import SourceItem, iter_source
from sync.staging import Staging
from sync.wards import summarize_encounter

SHARED_FHIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "fhir"
NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
# A name that appears nowhere else, so finding its bytes means plaintext leaked.
SURNAME = "Quaxelbrotmann"
PHYS = "http://terminology.hl7.org/CodeSystem/location-physical-type"
MRN = "https://ehr.example/mrn"


def _ndjson(path: Path, lines: Sequence[object]) -> None:
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    path.write_text(text + "\n", encoding="utf-8")


def _patient(pid: str, family: str, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": pid,
        "name": [{"family": family, "given": ["Ingeborg"]}],
        "birthDate": "1950-01-02",
        "meta": {"lastUpdated": "2025-03-09T08:00:00+01:00"},
        **extra,
    }


def _loc(lid: str, code: str, name: str, part_of: str | None = None) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "Location",
        "id": lid,
        "name": name,
        "physicalType": {"coding": [{"system": PHYS, "code": code}]},
    }
    if part_of:
        res["partOf"] = {"reference": f"Location/{part_of}"}
    return res


def _stay(eid: str, subject: str, bed: str) -> dict[str, Any]:
    return {
        "resourceType": "Encounter",
        "id": eid,
        "status": "in-progress",
        "class": {"code": "IMP"},
        "period": {"start": "2025-03-08T10:00:00+01:00"},
        "subject": {"reference": subject},
        "location": [{"location": {"reference": f"Location/{bed}"}, "status": "active"}],
    }


def _obs(oid: str, subject: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}], "text": "HR"},
        "subject": {"reference": subject},
        "effectiveDateTime": "2025-03-10T08:00:00+01:00",
        "valueQuantity": {"value": 72, "unit": "/min"},
    }


def _write_source(folder: Path) -> Path:
    """A small hospital: two wards, four patients, one merged, one from a transaction Bundle
    with urn:uuid references, and a few broken lines."""
    folder.mkdir(parents=True, exist_ok=True)
    _ndjson(
        folder / "Location.ndjson",
        [
            _loc("ward-3b", "wa", "Station 3B"),
            _loc("room-12", "ro", "Zimmer 12", "ward-3b"),
            _loc("bed-12a", "bd", "Bett 12A", "room-12"),
            _loc("ward-4a", "wa", "Station 4A"),
            _loc("bed-4a-1", "bd", "Bett 1", "ward-4a"),
        ],
    )
    _ndjson(
        folder / "Patient.ndjson",
        [
            _patient("p1", SURNAME),
            _patient("p2", "Zweite", identifier=[{"system": MRN, "value": "4711"}]),
            _patient(
                "p-old",
                SURNAME,
                active=False,
                link=[{"type": "replaced-by", "other": {"reference": "Patient/p1"}}],
            ),
            _patient("p-home", "Daheim"),  # no stay: placed nowhere
        ],
    )
    _ndjson(
        folder / "Encounter.ndjson",
        [
            _stay("e1", "Patient/p1", "bed-12a"),
            _stay("e2", f"Patient?identifier={MRN}|4711", "bed-4a-1"),
        ],
    )
    _ndjson(
        folder / "Observation.ndjson",
        [
            _obs("o1", "Patient/p1"),
            "{broken json",
            {"resourceType": "Observaton", "id": "typo"},
            _obs("o-ghost", "Patient/ghost"),
            _obs("o-old", "Patient/p-old"),
            _obs("o-grp", "Group/g1"),
        ],
    )
    (folder / "Group.ndjson").write_text(
        json.dumps({"resourceType": "Group", "id": "g1", "type": "person", "actual": True}) + "\n",
        encoding="utf-8",
    )
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:7a1c3b52-0000-4000-8000-00000000000a",
                "resource": {
                    **_patient("p3", "Bundlerin"),
                    "id": "7a1c3b52-0000-4000-8000-00000000000a",
                },
            },
            {
                "fullUrl": "urn:uuid:e0000000-0000-4000-8000-000000000003",
                "resource": _stay("e3", "urn:uuid:7a1c3b52-0000-4000-8000-00000000000a", "bed-12a"),
            },
        ],
    }
    (folder / "bundle.json").write_text(json.dumps(bundle), encoding="utf-8")
    (folder / "README.md").write_text("demo export", encoding="utf-8")
    return folder


def test_every_snapshot_records_the_hospital_time_zone_of_the_config(tmp_path: Path) -> None:
    """The laptops show times in this zone whatever their own clock zone says."""
    source = _write_source(tmp_path / "export")
    config = Config(hospital="Test", timezone="America/Chicago")
    result = build_snapshots(source, config, tmp_path / "work", now=NOW)
    assert result.wards
    for ward in result.wards:
        assert ward.meta.time_zone == "America/Chicago"
        with SnapshotReader(ward.path, ward.key) as reader:
            assert reader.meta.time_zone == "America/Chicago"


def test_build_counts_problems_and_still_writes_a_snapshot_per_ward(tmp_path: Path) -> None:
    source = _write_source(tmp_path / "export")
    result = build_snapshots(source, Config(hospital="Test"), tmp_path / "work", now=NOW)
    report = result.report
    assert report.problems == {
        "invalid JSON": 1,
        "unknown resourceType": 1,
        "dangling reference": 1,
        "subject is not a Patient": 1,
    }
    assert report.patients == 4  # p-old folded into p1
    assert report.merged == 1
    assert report.patients_placed == 3
    assert report.resources["Observation"] == 4
    assert report.data_as_of == datetime(2025, 3, 9, 7, 0, tzinfo=UTC)
    assert [w.ward_id for w in result.wards] == ["ward-3b", "ward-4a", "hospital"]

    ward = result.ward("ward-3b")
    assert ward.meta.data_as_of == report.data_as_of
    with SnapshotReader(ward.path, ward.key) as reader:
        census = reader.census()
        assert sorted(row.patient_id for row in census) == [
            "7a1c3b52-0000-4000-8000-00000000000a",
            "p1",
        ]
        record = reader.record("p1")
        assert record is not None
        assert record.merged_from == ["p-old"]
        assert record.stay is not None and record.stay.ward_id == "ward-3b"
        assert record.stay.ward == "Station 3B"
        # the merged patient's observation came along
        assert len(record.vitals) == 2
    with SnapshotReader(result.ward("ward-4a").path, result.ward("ward-4a").key) as reader:
        assert [row.patient_id for row in reader.census()] == ["p2"]  # conditional reference
    hospital = result.ward("hospital")
    assert hospital.patients == 3
    keys = {w.key for w in result.wards}
    assert len(keys) == 3, "every ward snapshot needs its own key"


def test_no_plaintext_patient_data_in_the_workdir_after_a_build(tmp_path: Path) -> None:
    source = _write_source(tmp_path / "export")
    workdir = tmp_path / "work"
    result = build_snapshots(source, Config(), workdir, now=NOW)
    files = [p for p in workdir.rglob("*") if p.is_file()]
    assert {p.name for p in files} == {"ward-3b.db", "ward-4a.db", "hospital.db"}
    for path in files:
        data = path.read_bytes()
        assert SURNAME.encode() not in data, f"{path.name} holds a patient name in plaintext"
        assert b"SQLite format 3" not in data[:16]
    assert repr(result.wards[0]).find(result.wards[0].key.hex()) == -1


def test_build_limited_to_one_ward_and_unknown_wards_are_refused(tmp_path: Path) -> None:
    source = _write_source(tmp_path / "export")
    result = build_snapshots(source, Config(), tmp_path / "w1", wards=["ward-4a"], now=NOW)
    assert [w.ward_id for w in result.wards] == ["ward-4a"]
    with pytest.raises(BuildError, match=r"unknown ward.*nowhere.*known wards: hospital, ward-3b"):
        build_snapshots(source, Config(), tmp_path / "w2", wards=["nowhere"], now=NOW)
    with pytest.raises(BuildError, match="does not exist"):
        build_snapshots(tmp_path / "missing", Config(), tmp_path / "w3", now=NOW)


def test_process_pool_gives_the_same_snapshots_as_inline_mapping(tmp_path: Path) -> None:
    source = _write_source(tmp_path / "export")
    inline = build_snapshots(source, Config(), tmp_path / "a", now=NOW, workers=1)
    pooled = build_snapshots(source, Config(), tmp_path / "b", now=NOW, workers=2)
    for one, two in zip(inline.wards, pooled.wards, strict=True):
        with SnapshotReader(one.path, one.key) as r1, SnapshotReader(two.path, two.key) as r2:
            assert r1.census() == r2.census()
            for row in r1.census():
                assert r1.record(row.patient_id) == r2.record(row.patient_id)
    assert inline.report.problems == pooled.report.problems


def test_staging_is_encrypted_while_open_and_deleted_even_on_failure(tmp_path: Path) -> None:
    source = _write_source(tmp_path / "export")
    with pytest.raises(RuntimeError, match="boom"), Staging(tmp_path / "work") as staging:
        for item in iter_source(source):
            staging.add(item)
        staging.finish_loading()  # flushes everything to the file
        data = staging.path.read_bytes()
        assert len(data) > 4096
        assert SURNAME.encode() not in data
        raise RuntimeError("boom")
    assert list((tmp_path / "work").iterdir()) == []


def test_staging_groups_resources_by_patient_through_every_reference_form(tmp_path: Path) -> None:
    source = _write_source(tmp_path / "export")
    with Staging(tmp_path / "work") as staging:
        for item in iter_source(source):
            staging.add(item)
        patients = {p.key: p for p in staging.iter_patients()}
    assert sorted(patients) == [
        "Patient/7a1c3b52-0000-4000-8000-00000000000a",
        "Patient/p-home",
        "Patient/p1",
        "Patient/p2",
    ]
    ids = {k: sorted(r["id"] for r in p.resources) for k, p in patients.items()}
    assert ids["Patient/p1"] == ["e1", "o-old", "o1"]
    assert ids["Patient/p2"] == ["e2"]
    assert ids["Patient/7a1c3b52-0000-4000-8000-00000000000a"] == ["e3"]
    assert patients["Patient/p1"].merged_from == ["p-old"]


def test_duplicate_resources_keep_the_newest_version(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    old = {**_obs("o1", "Patient/p1"), "meta": {"lastUpdated": "2025-03-01T00:00:00Z"}}
    new = {**_obs("o1", "Patient/p1"), "meta": {"lastUpdated": "2025-03-02T00:00:00Z"}}
    new["valueQuantity"] = {"value": 99, "unit": "/min"}
    _ndjson(folder / "a.ndjson", [_patient("p1", SURNAME), new])
    _ndjson(folder / "b.ndjson", [old])
    with Staging(tmp_path / "work") as staging:
        for item in iter_source(folder):
            staging.add(item)
        (patient,) = list(staging.iter_patients())
    assert [r["valueQuantity"]["value"] for r in patient.resources] == [99]
    assert staging.stats.duplicates == 1


@pytest.mark.shared_data
def test_every_shared_fhir_file_builds_with_rules_for_real_exports(tmp_path: Path) -> None:
    if not SHARED_FHIR.is_dir():
        pytest.skip(f"shared FHIR data not found at {SHARED_FHIR}")
    config = Config(
        wards=[
            # Synthea: no ward Locations, all stays finished years ago
            WardConfig(
                id="plymouth",
                name="Plymouth",
                rules=[WardRule(organization_names=["PLYMOUTH"], stay=StayScope.LATEST)],
            ),
            # Bulk export: Encounter.location is a conditional reference to a Location
            WardConfig(
                id="overland",
                name="Overland Park",
                rules=[
                    WardRule(
                        location_ids=["7cf6ad8f-30a6-33bb-8fe0-6f688207a213"],
                        stay=StayScope.LATEST,
                    )
                ],
            ),
            # ISiK: a logical (identifier-only) bed reference, and a patient list
            WardConfig(
                id="isik",
                name="ISiK",
                rules=[
                    WardRule(
                        location_identifiers=[
                            "https://test.krankenhaus.de/fhir/sid/locationid|123"
                        ],
                        stay=StayScope.LATEST,
                    ),
                    WardRule(patients=["DorisZiel"]),
                ],
            ),
        ]
    )
    result = build_snapshots(SHARED_FHIR, config, tmp_path / "work", now=NOW)
    report = result.report
    assert report.total_resources > 46_000
    assert report.patients_mapped == report.patients >= 110
    assert report.merged == 1
    assert report.problems.get("not a FHIR file (skipped)") == 1
    assert report.problems.get("dangling reference", 0) <= 2
    census = {}
    for ward in result.wards:
        with SnapshotReader(ward.path, ward.key) as reader:
            census[ward.ward_id] = {row.patient_id: row for row in reader.census()}
            if ward.ward_id == "isik":
                doris = reader.record("DorisZiel")
                assert doris is not None and doris.merged_from == ["DorisQuelle"]
    assert "abda99df-39a2-4d1e-9f45-011a8e95d2f7" in census["plymouth"]
    assert list(census["overland"]) == ["a4a401d1-a46a-eb4a-8a38-760d5d79d6ec"]
    assert {"PatientinMusterfrau", "DorisZiel"} <= set(census["isik"])
    assert "DorisQuelle" not in census["hospital"]
    assert census["isik"]["PatientinMusterfrau"].ward == "ISiK"
    placed = set(census["plymouth"]) | set(census["overland"]) | set(census["isik"])
    assert set(census["hospital"]) == placed


@pytest.mark.shared_data
def test_isik_bed_location_chain_resolves_to_room_and_department() -> None:
    isik = SHARED_FHIR / "isik" / "basismodul"
    if not isik.is_dir():
        pytest.skip(f"ISiK examples not found at {isik}")
    index = RefIndex()
    for item in iter_source(isik):
        if isinstance(item, SourceItem) and item.resource["resourceType"] in (
            "Location",
            "Organization",
        ):
            index.add(item.resource, item.full_url)
    encounter = {
        "resourceType": "Encounter",
        "id": "x",
        "location": [{"location": {"reference": "Location/BettenstellplatzStandortBeispiel"}}],
    }
    info = summarize_encounter(encounter, index, UTC)
    assert info.location_keys == {
        "Location/BettenstellplatzStandortBeispiel",
        "Location/RaumStandortBeispiel",
    }
    assert "Organization/AbteilungAllgemeinchirurgieOrganisationBeispiel" in (
        info.organization_keys
    )


def test_discharge_window_uses_the_build_clock(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    finished = {
        **_stay("e1", "Patient/p1", "bed-12a"),
        "status": "finished",
        "period": {"start": "2025-03-01T10:00:00+01:00", "end": "2025-03-09T18:00:00+01:00"},
    }
    _ndjson(
        folder / "all.ndjson",
        [
            _loc("ward-3b", "wa", "3B"),
            _loc("bed-12a", "bd", "B", "ward-3b"),
            _patient("p1", SURNAME),
            finished,
        ],
    )
    soon = build_snapshots(folder, Config(), tmp_path / "a", now=NOW)
    later = build_snapshots(folder, Config(), tmp_path / "b", now=NOW + timedelta(days=2))
    assert soon.ward("ward-3b").patients == 1
    assert later.ward("ward-3b").patients == 0


def test_ambiguous_conditional_patient_reference_is_counted_not_guessed(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    twins = [
        _patient("a", "Eins", identifier=[{"system": MRN, "value": "1"}]),
        _patient("b", "Zwei", identifier=[{"system": MRN, "value": "1"}]),
    ]
    _ndjson(folder / "x.ndjson", [*twins, _obs("o1", f"Patient?identifier={MRN}|1")])
    with Staging(tmp_path / "work") as staging:
        for item in iter_source(folder):
            staging.add(item)
        patients = list(staging.iter_patients())
    assert all(p.resources == [] for p in patients)
    assert staging.stats.problems == {"ambiguous patient reference": 1}


def test_stale_staging_files_of_dead_builds_are_removed_live_ones_kept(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_file = tmp_path / f".staging-{int(dead.stdout)}-abcd.db"
    live_file = tmp_path / f".staging-{os.getppid()}-abcd.db"  # our parent is running
    dead_file.write_bytes(b"x" * 4096)
    live_file.write_bytes(b"x" * 4096)
    with Staging(tmp_path) as staging:
        assert staging.path.exists()
    assert not dead_file.exists()
    assert live_file.exists()
    assert not staging.path.exists()


def test_staging_memory_stays_flat_as_the_source_grows(tmp_path: Path) -> None:
    def peak_for(n: int) -> int:
        folder = tmp_path / f"src{n}"
        folder.mkdir()
        lines = [_patient(f"p{i}", "X") for i in range(20)]
        lines += [
            {**_obs(f"o{i}", f"Patient/p{i % 20}"), "note": [{"text": "n" * 300}]} for i in range(n)
        ]
        _ndjson(folder / "x.ndjson", lines)
        tracemalloc.start()
        with Staging(tmp_path / f"work{n}") as staging:
            for item in iter_source(folder):
                staging.add(item)
            staging.finish_loading()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return peak

    small, large = peak_for(5_000), peak_for(20_000)
    # 4x the data (about 2 MB vs 8 MB of JSON) must not need 4x the memory
    assert large < small * 1.5, (small, large)


def test_generated_hospital_lands_on_its_location_wards(tmp_path: Path) -> None:
    from sync.generate import generate

    now = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    summary = generate(tmp_path / "gen", 40, seed=3, now=now)
    result = build_snapshots(tmp_path / "gen", Config(), tmp_path / "work", now=now, workers=2)
    report = result.report
    assert report.problems == {}
    assert report.total_resources == summary.total_resources
    built = {w.ward_id: w for w in result.wards}
    # one ward per Location of physicalType "wa", named and identified like it
    assert set(built) == {w.id for w in summary.wards} | {"hospital"}
    for ward in summary.wards:
        snap = built[ward.id]
        # every occupied bed is on the census (plus the recently discharged)
        assert snap.patients >= ward.occupied
        assert snap.ward_name == ward.name
    for example in summary.examples:
        if example.ward is None:
            continue
        snap = next(w for w in result.wards if w.ward_name == example.ward)
        with SnapshotReader(snap.path, snap.key) as reader:
            row = next(r for r in reader.census() if r.patient_id == example.id)
        assert (row.ward, row.room, row.bed) == (example.ward, example.room, example.bed)
    assert built["hospital"].patients == report.patients_placed

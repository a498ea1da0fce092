"""Hospital-wide search lists its first hits and says how many matched in all: a broad query
("Müller" in a 10,000-patient house) matched hundreds, the screen listed 60 and said "60 found
in the hospital". The count is every match; "Show 50 more" loads the next hits."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from app.ui.viewmodels.census import CensusModel
from sync.model import PatientRecord
from sync.snapshot import SnapshotMeta, SnapshotReader, new_key, write_snapshot

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
MATCHING = 130


def _snapshot(tmp_path: Path) -> tuple[Path, bytes]:
    records = [
        PatientRecord(id=f"m{i}", name=f"Müller, Anna{i}", mrn=f"{40000000 + i}")
        for i in range(MATCHING)
    ] + [
        PatientRecord(id=f"o{i}", name=f"Schulz, Otto{i}", mrn=f"{50000000 + i}") for i in range(20)
    ]
    key = new_key()
    meta = SnapshotMeta(ward_id="hospital", ward_name="Haus", data_as_of=NOW, built_at=NOW)
    return write_snapshot(tmp_path / "hospital.db", key, meta, records), key


def test_the_reader_counts_every_match_beyond_the_listed_hits(tmp_path: Path) -> None:
    path, key = _snapshot(tmp_path)
    with SnapshotReader(path, key) as reader:
        assert len(reader.search("muller", limit=60)) == 60
        assert reader.search_count("muller") == MATCHING
        assert reader.search_count("schulz otto1") == 11  # Otto1, Otto10..Otto19
        assert reader.search_count("") == 0


def test_the_hospital_census_says_how_many_matched_and_loads_more(tmp_path: Path) -> None:
    path, key = _snapshot(tmp_path)
    with SnapshotReader(path, key) as reader:
        model = CensusModel([])
        model.set_hospital_scope(True)
        model.set_query("Muller")
        hits = reader.search("Muller", limit=60)
        assert model.apply_search("Muller", hits, reader.search_count("Muller"))
        assert model.visible_count() == 60  # the loaded hits are listed
        assert model.matched_count() == MATCHING  # the count names every match
        assert not model.hits_missing(50)  # the first 50 rows are loaded
        assert model.hits_missing(110)  # "Show 50 more" after 60: load first
        more = reader.search("Muller", limit=110)
        assert model.apply_search("Muller", more, MATCHING)
        assert model.visible_count() == 110 and not model.hits_missing(110)
        # A newer query makes the old total void.
        model.set_query("Muller Anna1")
        assert model.matched_count() == model.visible_count() == 0


def test_on_a_ward_the_count_stays_the_listed_rows() -> None:
    model = CensusModel([])
    model.set_query("x")
    assert model.apply_search("x", [], 500)
    assert model.matched_count() == model.visible_count() == 0
    assert not model.hits_missing(1000)

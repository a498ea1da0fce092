"""The demo data shows every real-world case the viewer must get right (issue 9), once mapped
with the demo configuration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sync.build import build_snapshots
from sync.config import Config
from sync.generate import generate
from sync.generate.vocab import DEMO_CODE_MAP, DEMO_MONITOR_SYSTEM
from sync.model import AllergyStatus, CensusRow, DatePrecision, PatientRecord
from sync.snapshot import SnapshotReader

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _records(tmp_path: Path, config: Config) -> list[PatientRecord]:
    src = tmp_path / "fhir"
    generate(src, 60, 7, now=NOW)
    result = build_snapshots(src, config, tmp_path / "work", now=NOW, workers=1)
    snap = result.ward("hospital")
    with SnapshotReader(snap.path, snap.key) as reader:
        return list(reader.iter_records())


def test_demo_shows_every_case(tmp_path: Path) -> None:
    records = _records(tmp_path, Config(code_map=DEMO_CODE_MAP))
    rows = [CensusRow.from_record(r) for r in records]
    day = timedelta(hours=24)
    assert any(not r.is_current and r.discharged_within(NOW, day) for r in rows)
    assert any(r.is_current for r in rows)
    stopped = [o for r in records for o in r.stopped_medications]
    assert any(o.stopped and NOW - timedelta(hours=36) < o.stopped < NOW - day / 2 for o in stopped)
    assert all(o.status_reason for o in stopped if o.status == "stopped")
    assert any(r.on_hold_medications for r in records)
    assert any(r.home_medications for r in records)
    # A corrected letter: the correction shows, the version it replaced is one action away.
    assert any(v.superseded for r in records for n in r.notes for v in n.versions)
    monitor = [o for r in records for o in r.vitals if o.source and o.source.id.startswith("mon-")]
    assert monitor and {o.meaning for o in monitor} == {"heart-rate", "resp-rate", "spo2"}
    statuses = {r.allergy_status for r in records}
    assert {
        AllergyStatus.NO_KNOWN,
        AllergyStatus.NOT_DOCUMENTED,
        AllergyStatus.ALLERGIES,
    } <= statuses
    assert any(o.last_given and o.last_given_by for r in records for o in r.medications)
    assert any(a.not_given and a.status_reason for r in records for a in r.administrations)
    assert DEMO_MONITOR_SYSTEM.startswith("http")
    # A birth year only and a birth month only (shown "1961", "07.1961"; never 01.01.).
    assert {r.birth_precision for r in records} >= {DatePrecision.YEAR, DatePrecision.MONTH}


def test_without_the_code_map_monitor_vitals_are_not_vitals(tmp_path: Path) -> None:
    records = _records(tmp_path, Config())
    assert not any(o.source and o.source.id.startswith("mon-") for r in records for o in r.vitals)
    assert any(o.source and o.source.id.startswith("mon-") for r in records for o in r.labs)

"""SnapshotWriter.add_prepared and spill: the build's fast path stores what add() stores."""

from __future__ import annotations

import pickle
from pathlib import Path

from test_snapshot import make_record, meta

from sync.snapshot import (
    SnapshotReader,
    SnapshotWriter,
    new_key,
    prepare_record,
)


def _contents(path: Path, key: bytes) -> tuple[object, ...]:
    """Everything a laptop reads from a snapshot: records (as JSON), census, counts, search."""
    with SnapshotReader(path, key) as reader:
        records = {pid: reader.record_json(pid) for pid in reader.patient_ids()}
        census = reader.census()
        counts = reader.meta.counts
        hits = [r.patient_id for r in reader.search(census[0].name.split(",")[0])]
        problems = reader.integrity_problems()
    return records, census, counts, hits, problems


def test_prepared_records_spilled_often_give_the_same_snapshot(tmp_path: Path) -> None:
    records = [make_record(i) for i in range(40)]
    key = new_key()
    with SnapshotWriter(tmp_path / "plain.db", key, meta()) as writer:
        for record in records:
            writer.add(record)
        writer.finish()
    with SnapshotWriter(tmp_path / "fast.db", key, meta()) as writer:
        for record in records:
            # Prepared in another process in a build: it must survive pickling.
            writer.add_prepared(pickle.loads(pickle.dumps(prepare_record(record))))
            assert writer.held_bytes > 0
            writer.spill()  # as a build does when many wards hold too much
            if writer.held_bytes:  # still sampling the compression dictionary (< 32 KiB)
                assert writer.held_bytes < 32 * 1024
        writer.finish()
    plain = _contents(tmp_path / "plain.db", key)
    assert plain[4] == []
    assert _contents(tmp_path / "fast.db", key) == plain
    with SnapshotReader(tmp_path / "fast.db", key) as reader:
        assert [reader.record(r.id) for r in records] == records


def test_spill_after_finish_is_refused(tmp_path: Path) -> None:
    key = new_key()
    writer = SnapshotWriter(tmp_path / "ward.db", key, meta())
    writer.add_prepared(prepare_record(make_record(1)))
    writer.finish()
    try:
        writer.spill()
    except Exception as exc:  # SnapshotError
        assert "already closed" in str(exc)
    else:
        raise AssertionError("spill after finish must raise")

"""The census due column's inputs shared by the viewer sessions of one process (app.snapcache):
read once per installed snapshot, the same words as from the whole record, a new install never
answered from an older one, bounded memory. Real installed homes (SQLCipher, signed packages)."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from test_ui_support import HOSPITAL, WARD, WARD_NAME, UiHome, _publish, build_home, make_record

from app.duelist import DueState, PatientDue, patient_due
from app.present.due import due_cell
from app.schedule import next_due, open_doses
from app.snapcache import (
    SnapshotCache,
    SnapshotKey,
    due_inputs,
    due_inputs_from_json,
    due_of,
    key_of,
)
from app.ui.session import SnapshotProblem, ViewerBackend
from sync import keys, receive
from sync.model import PatientRecord

BERLIN = ZoneInfo("Europe/Berlin")
# 07:30 in Berlin: the test ward's 08:00 Metoprolol is due within the hour.
NOW = datetime(2026, 6, 10, 5, 30, tzinfo=UTC)


@pytest.fixture
def home(tmp_path: Path) -> UiHome:
    return build_home(tmp_path, now=NOW)


def opened(home: UiHome, cache: SnapshotCache, ward: str = WARD) -> ViewerBackend:
    backend = ViewerBackend(home.home, ward, snapshot_cache=cache)
    result = backend.open(ward)
    assert not isinstance(result, SnapshotProblem), result
    return backend


def wait_until(check: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def all_dues(backend: ViewerBackend, now: datetime = NOW) -> dict[str, PatientDue]:
    """The census column of every patient, as a session gets it (after the reading)."""
    ids = [r.patient_id for r in backend.census()]
    backend.want_dues(ids[:3])
    out: dict[str, PatientDue] = {}
    pending = ids
    deadline = time.monotonic() + 60
    while pending:
        part = backend.census_dues_ready(pending, now, BERLIN, 5)
        out.update(part.dues)
        pending = part.pending
        if pending and not part.dues:
            assert time.monotonic() < deadline, "the shared reading never finished"
            time.sleep(0.02)
    return out


def from_records(backend: ViewerBackend, now: datetime = NOW) -> dict[str, PatientDue]:
    """The column as each session computed it before: from every whole record."""
    assert backend.current is not None
    as_of = backend.current.data_as_of
    return {r.id: patient_due(r, now, as_of, BERLIN) for r in backend.ward_records()}


def test_two_sessions_of_one_snapshot_read_its_records_once(home: UiHome) -> None:
    cache = SnapshotCache()
    first, second = opened(home, cache), opened(home, cache)
    try:
        one = all_dues(first)
        two = all_dues(second)
        assert one == two == from_records(first)
        assert cache.records_read == home.patients  # not once per session
        # The census rows are loaded once too: the second session gets the same objects.
        rows_one, rows_two = first.census(), second.census()
        assert len(rows_one) == home.patients
        assert all(a is b for a, b in zip(rows_one, rows_two, strict=True))
        assert {d.state for d in one.values()} >= {DueState.SOON}
        # A third session, later: nothing is read again.
        third = opened(home, cache)
        assert all_dues(third) == one
        assert cache.records_read == home.patients
        third.close()
    finally:
        first.close()
        second.close()


def test_reading_goes_on_after_the_session_that_asked_closes(home: UiHome) -> None:
    cache = SnapshotCache()
    first = opened(home, cache)
    assert first.current is not None
    key = key_of(first.current)
    first.want_dues()
    first.close()  # its own connection is gone; the reader thread has one of its own
    wait_until(lambda: cache.read_count(key) == home.patients)
    second = opened(home, cache)
    try:
        assert all_dues(second) == from_records(second)
        assert cache.records_read == home.patients
    finally:
        second.close()


def test_listed_patients_are_read_first_and_the_rest_waits_while_someone_types(
    home: UiHome,
) -> None:
    cache = SnapshotCache(input_pause=3600)
    backend = opened(home, cache)
    try:
        ids = [r.patient_id for r in backend.census()]
        listed = [ids[7], ids[2]]
        cache.note_input()  # someone types: only the listed patients are read
        backend.want_dues(listed)
        wait_until(lambda: cache.records_read == 2)
        time.sleep(0.3)
        part = backend.census_dues_ready(ids, NOW, BERLIN)
        assert set(part.dues) == set(listed)
        assert not part.ended and len(part.pending) == len(ids) - 2
        cache.input_pause = 0.0  # typing over: the rest is read
        wait_until(lambda: cache.records_read == len(ids))
        assert all_dues(backend) == from_records(backend)
    finally:
        backend.close()


def test_a_newly_installed_snapshot_is_never_answered_from_the_older_one(home: UiHome) -> None:
    cache = SnapshotCache(max_snapshots=2)
    before = opened(home, cache)
    hospital = opened(home, cache, HOSPITAL)
    try:
        assert before.current is not None and hospital.current is not None
        old_key, hospital_key = key_of(before.current), key_of(hospital.current)
        hospital.want_dues()  # the least recently wanted from here on
        old = all_dues(before)
        assert any(d.state is not DueState.NONE for d in old.values())
        # The sync server publishes a new snapshot of the ward: every order was stopped.
        records = [make_record(i, NOW) for i in range(home.patients)]
        for record in records:
            for order in record.medications:
                order.status = "stopped"
        signing_key = keys.load_signing_key(home.sync_home / "keys" / "signing.key")
        _publish(home.sync_home, home.outbox, signing_key, WARD, WARD_NAME, records, NOW)
        receive.receive(home.home, str(home.outbox), WARD)
        after = opened(home, cache)
        try:
            assert after.current is not None
            new_key = key_of(after.current)
            assert new_key != old_key and new_key.sequence > old_key.sequence
            new = all_dues(after)
            assert set(new) == set(old)
            assert all(d.state is DueState.NONE for d in new.values())
            assert new == from_records(after)
            # Two snapshots at most: the ward's older one went, not the hospital-wide one
            # (which was wanted longest ago).
            assert cache.entries() == [hospital_key, new_key]
            # A session still showing the older snapshot gets its own (older) column again.
            assert all_dues(before) == old == from_records(before)
            assert not set(map(id, after.census())) & set(map(id, before.census()))
        finally:
            after.close()
    finally:
        before.close()
        hospital.close()


@pytest.fixture(scope="module")
def demo_records(tmp_path_factory: pytest.TempPathFactory) -> list[PatientRecord]:
    """The demo's patients (sync.generate, seed 7, fixed clock), mapped as the sync server does."""
    generate_module = pytest.importorskip("sync.generate")
    from sync.mapping import MappingContext, map_patient
    from tests.test_mapping_generated import load

    out = tmp_path_factory.mktemp("due-demo") / "ndjson"
    generate_module.generate(out, 40, 7, DEMO_NOW)
    patients, by_patient, shared = load(out)

    def resolve(ref: dict[str, Any] | str, _from: dict[str, Any] | None) -> Any:
        key = ref.get("reference") if isinstance(ref, dict) else ref
        return shared.get(key) if isinstance(key, str) else None

    ctx = MappingContext(resolve=resolve, tz=BERLIN, now=DEMO_NOW, problems=Counter())
    return [map_patient(patients[pid], by_patient[pid], ctx) for pid in sorted(patients)]


DEMO_NOW = datetime(2026, 11, 30, 8, 30, tzinfo=UTC)


@pytest.mark.slow
def test_due_words_from_the_shared_inputs_equal_those_from_the_whole_demo_records(
    demo_records: list[PatientRecord],
) -> None:
    as_of = DEMO_NOW - timedelta(minutes=20)
    # Every 70 minutes from 2 h before the data-as-of to a day after it (a long downtime).
    times = [DEMO_NOW - timedelta(hours=2) + timedelta(minutes=70 * k) for k in range(23)]
    seen: Counter[str] = Counter()
    for record in demo_records:
        slim = due_inputs_from_json(record.to_json())
        assert (slim is None) == (due_inputs(record) is None)
        if slim is None:
            seen["never due"] += 1
        else:
            kept_given = sum(len(k.given) for k in slim)
            seen["orders left out"] += len(record.medications) > len(slim)
            seen["administrations left out"] += len(record.administrations) > kept_given > 0
        for now in times:
            whole = patient_due(record, now, as_of, BERLIN)
            shared = due_of(slim, now, as_of, BERLIN)
            assert shared == whole, (record.id, now)
            for lang in ("de", "en"):
                today = now.astimezone(BERLIN).date()
                assert due_cell(shared, lang, BERLIN, today) == due_cell(whole, lang, BERLIN, today)
            seen[whole.state.value] += 1
    # The demo exercises every branch: patients never due, filtered orders and administrations,
    # and overdue, due-soon and nothing-due answers.
    assert min(seen[k] for k in ("never due", "orders left out", "administrations left out")) > 0
    assert min(seen[s.value] for s in DueState) > 0, seen


@pytest.mark.slow
def test_open_doses_answers_as_next_due_without_the_next_time_on_the_demo_orders(
    demo_records: list[PatientRecord],
) -> None:
    """The census column's shortcut (app.schedule.open_doses, no 8-day search for the next
    time) gives next_due's overdue, due-now and covered times, and its None, in two zones."""
    times = [DEMO_NOW - timedelta(hours=3) + timedelta(minutes=25 * k) for k in range(60)]
    nones = found = 0
    for record in demo_records:
        for order in record.medications:
            for now in times:
                for tz in (BERLIN, ZoneInfo("America/New_York")):
                    full = next_due(order, now, record.administrations, tz)
                    short = open_doses(order, now, record.administrations, tz)
                    if full is None:
                        assert short is None, (order.id, now)
                        nones += 1
                    else:
                        assert short == replace(full, next_time=None), (order.id, now, tz)
                        found += bool(full.overdue_times or full.due_now or full.covered_times)
    assert nones and found


def test_a_damaged_stored_record_is_refused_not_guessed() -> None:
    for bad in (b"{not json", b"[1, 2]", b'{"id": "p1"}'):
        with pytest.raises(ValueError):
            due_inputs_from_json(bad)


def test_memory_is_bounded_by_the_number_of_snapshots(home: UiHome) -> None:
    cache = SnapshotCache(max_snapshots=1)
    ward, hospital = opened(home, cache), opened(home, cache, HOSPITAL)
    try:
        ward.want_dues()
        hospital.want_dues()
        assert hospital.current is not None
        assert cache.entries() == [key_of(hospital.current)]
        # The dropped snapshot is read again when asked for, never answered half.
        assert all_dues(ward) == from_records(ward)
        assert ward.current is not None and cache.entries() == [key_of(ward.current)]
    finally:
        ward.close()
        hospital.close()


def test_keys_name_the_folder_sequence_and_payload_hash() -> None:
    a = SnapshotKey("/h/snapshots/w/0000000002", 2, "ab")
    assert a.ward_folder == "/h/snapshots/w"
    assert a != SnapshotKey("/h/snapshots/w/0000000002", 2, "cd")  # a repaired file

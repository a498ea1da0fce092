"""The hash-chained audit log: appends survive, and every kind of tampering is detected."""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import shutil
import stat
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.audit import (
    AuditEvent,
    AuditLog,
    Problem,
    canonical,
    entry_hash,
    export,
    has_errors,
    head_path,
    iter_entries,
    log_path,
    verify,
)

T0 = datetime(2026, 3, 7, 13, 0, tzinfo=UTC)
N_ENTRIES = 6


class StepClock:
    """A clock that advances one minute per reading."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


def _fill(home: Path, n: int = N_ENTRIES) -> AuditLog:
    audit = AuditLog(home, clock=StepClock())
    audit.append(AuditEvent.LOGIN, user="anna.k", ward="station-3a", details={"session": "s1"})
    for i in range(n - 2):
        audit.append(
            AuditEvent.PATIENT_OPEN, user="anna.k", ward="station-3a", patient_id=f"pat-{i}"
        )
    audit.append(AuditEvent.LOGOUT, user="anna.k", ward="station-3a")
    return audit


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("template")
    _fill(home)
    return home


def _copy(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("home")
    shutil.copytree(template / "audit", home / "audit")
    return home


def _lines(home: Path) -> list[bytes]:
    return log_path(home).read_bytes().splitlines()


def _write_lines(home: Path, lines: list[bytes]) -> None:
    log_path(home).write_bytes(b"".join(line + b"\n" for line in lines))


def _errors(problems: list[Problem]) -> list[str]:
    return [str(p) for p in problems if p.severity == "error"]


# --- appending -----------------------------------------------------------------------------


def test_clean_log_verifies_and_is_private(tmp_path: Path) -> None:
    _fill(tmp_path)
    assert verify(tmp_path) == []
    entries = list(iter_entries(tmp_path))
    assert [e.seq for e in entries] == list(range(1, N_ENTRIES + 1))
    assert entries[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))
    assert entries[0].time == "2026-03-07T13:01:00.000Z"
    assert entries[1].patient_id == "pat-0"
    assert entries[0].details == {"session": "s1"}
    head = orjson.loads(head_path(tmp_path).read_bytes())
    assert head == {"seq": N_ENTRIES, "hash": entries[-1].hash}
    if sys.platform != "win32":
        assert stat.S_IMODE((tmp_path / "audit").stat().st_mode) == 0o700
        assert stat.S_IMODE(log_path(tmp_path).stat().st_mode) == 0o600


def test_entry_hash_covers_canonical_json_including_prev_hash(tmp_path: Path) -> None:
    _fill(tmp_path, 2)
    first, second = (orjson.loads(line) for line in _lines(tmp_path))
    assert entry_hash(first) == first["hash"]
    body = {k: v for k, v in second.items() if k != "hash"}
    assert hashlib.sha256(canonical(body)).hexdigest() == second["hash"]
    assert canonical(second) == _lines(tmp_path)[1]


def test_an_empty_home_has_nothing_to_report(tmp_path: Path) -> None:
    assert verify(tmp_path) == []


@pytest.mark.parametrize(
    "details",
    [
        {"password": "x"},
        {"new_passwd": "x"},
        {"nested": {"db_key": "abc"}},
        {"token": "t"},
        {"Secret": 1},
    ],
)
def test_secrets_are_refused(tmp_path: Path, details: dict[str, Any]) -> None:
    audit = AuditLog(tmp_path)
    with pytest.raises(ValueError, match="must not be audited"):
        audit.append(AuditEvent.LOGIN_FAILED, user="u", details=details)
    assert list(iter_entries(tmp_path)) == []
    # Identifiers of keys are fine.
    audit.append(AuditEvent.INSTALL, details={"key_id": "ab12", "sequence": 7})


def test_bad_event_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="audit event"):
        AuditLog(tmp_path).append("Login Failed!")


def test_concurrent_appends_keep_one_chain(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path)
    second_writer = AuditLog(tmp_path)  # as if another process (e.g. `wardcopy receive`)

    def work(log: AuditLog, who: str) -> None:
        for i in range(10):
            log.append(AuditEvent.SEARCH, user=who, details={"n": i})

    threads = [
        threading.Thread(target=work, args=(audit, "a")),
        threading.Thread(target=work, args=(second_writer, "b")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert verify(tmp_path) == []
    assert [e.seq for e in iter_entries(tmp_path)] == list(range(1, 21))


def test_crash_between_entry_and_head_is_only_a_warning(tmp_path: Path) -> None:
    _fill(tmp_path)
    entries = list(iter_entries(tmp_path))
    head_path(tmp_path).write_bytes(canonical({"seq": entries[-2].seq, "hash": entries[-2].hash}))
    problems = verify(tmp_path)
    assert [p.severity for p in problems] == ["warning"]
    assert "one entry behind" in problems[0].message
    AuditLog(tmp_path).append(AuditEvent.LOGIN, user="u")
    assert verify(tmp_path) == []


def test_torn_last_line_is_reported_and_appending_continues(tmp_path: Path) -> None:
    _fill(tmp_path, 3)
    with log_path(tmp_path).open("ab") as handle:
        handle.write(b'{"details":{},"event":"log')  # power loss mid-write
    problems = verify(tmp_path)
    assert [(p.severity, p.line) for p in problems] == [("warning", 4)]
    assert "incomplete" in problems[0].message
    AuditLog(tmp_path, clock=StepClock(T0 + timedelta(hours=1))).append(AuditEvent.LOGIN, user="u")
    entries = list(iter_entries(tmp_path))
    assert [e.seq for e in entries] == [1, 2, 3, 4]
    # The torn line stays visible, but hides no entry: a warning, not tampering.
    remaining = verify(tmp_path)
    assert [(p.severity, p.line) for p in remaining] == [("warning", 4)]


def test_garbage_line_that_hides_an_entry_is_an_error(tmp_path: Path) -> None:
    _fill(tmp_path, 4)
    lines = _lines(tmp_path)
    lines[1] = lines[1][:40]  # entry 2 destroyed: the chain from 1 to 3 is broken
    _write_lines(tmp_path, lines)
    errors = _errors(verify(tmp_path))
    assert any("line 2" in e and "damaged" in e for e in errors)
    assert any("chain broken" in e for e in errors)


def test_appending_after_a_cut_keeps_the_gap_visible(tmp_path: Path) -> None:
    audit = _fill(tmp_path)
    _write_lines(tmp_path, _lines(tmp_path)[:-2])  # someone removes the last two entries
    audit.append(AuditEvent.LOGIN, user="u")  # the next append must not paper over it
    errors = _errors(verify(tmp_path))
    assert errors, "removal of the last entries went unnoticed after a new append"


def test_deleted_log_with_head_left_is_detected(tmp_path: Path) -> None:
    _fill(tmp_path)
    log_path(tmp_path).unlink()
    assert any("deleted or emptied" in e for e in _errors(verify(tmp_path)))


def test_deleted_or_damaged_head_is_detected(tmp_path: Path) -> None:
    _fill(tmp_path)
    head_path(tmp_path).write_bytes(b"garbage")
    assert any("damaged" in e for e in _errors(verify(tmp_path)))
    head_path(tmp_path).unlink()
    assert any("missing" in e for e in _errors(verify(tmp_path)))


def test_clock_going_back_is_a_warning(tmp_path: Path) -> None:
    times = iter([T0, T0 - timedelta(hours=2)])
    audit = AuditLog(tmp_path, clock=lambda: next(times))
    audit.append(AuditEvent.LOGIN, user="u")
    audit.append(AuditEvent.LOGOUT, user="u")
    problems = verify(tmp_path)
    assert [p.severity for p in problems] == ["warning"]
    assert not has_errors(problems)


# --- tampering (property tests) ------------------------------------------------------------

Mutation = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]

_NEW_VALUES: dict[str, Any] = {
    "event": "print",
    "user": "mallory",
    "ward": "station-9z",
    "patient_id": "pat-other",
    "details": {"reason": "edited"},
    "time": "2026-03-07T12:00:00.000Z",
    "seq": 99,
    "prev_hash": "f" * 64,
    "hash": "e" * 64,
}


def _reseal(entry: dict[str, Any]) -> dict[str, Any]:
    return {**entry, "hash": entry_hash(entry)}


def _apply(home: Path, mutate: Mutation) -> None:
    entries = [orjson.loads(line) for line in _lines(home)]
    _write_lines(home, [canonical(e) for e in mutate(entries)])


tamper_kinds = st.sampled_from(["edit", "edit_rehash", "remove", "insert", "swap", "truncate"])


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    kind=tamper_kinds,
    i=st.integers(min_value=0, max_value=N_ENTRIES - 1),
    j=st.integers(min_value=0, max_value=N_ENTRIES - 1),
    field=st.sampled_from(sorted(_NEW_VALUES)),
)
def test_every_kind_of_tampering_is_detected(
    template: Path,
    tmp_path_factory: pytest.TempPathFactory,
    kind: str,
    i: int,
    j: int,
    field: str,
) -> None:
    home = _copy(template, tmp_path_factory)
    assert verify(home) == []

    def mutate(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if kind == "edit":
            entries[i] = {**entries[i], field: _NEW_VALUES[field]}
        elif kind == "edit_rehash":
            # A careful forger recomputes the entry's own hash; the chain still gives it away.
            if field == "hash":
                entries[i] = {**entries[i], "user": "mallory"}
            entries[i] = _reseal({**entries[i], field: _NEW_VALUES[field]})
        elif kind == "remove":
            del entries[i]
        elif kind == "insert":
            forged = _reseal({**entries[j], "event": "print", "patient_id": "pat-x"})
            entries.insert(i, forged)
        elif kind == "swap":
            other = j if j != i else (i + 1) % len(entries)
            entries[i], entries[other] = entries[other], entries[i]
        elif kind == "truncate":
            del entries[len(entries) - 1 - i % (len(entries) - 1) :]
        return entries

    _apply(home, mutate)
    errors = _errors(verify(home))
    assert errors, f"{kind} of entry {i} ({field}) was not detected"


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    i=st.integers(min_value=0, max_value=N_ENTRIES - 1),
    data=st.data(),
)
def test_byte_level_damage_is_detected(
    template: Path, tmp_path_factory: pytest.TempPathFactory, i: int, data: st.DataObject
) -> None:
    home = _copy(template, tmp_path_factory)
    lines = _lines(home)
    line = bytearray(lines[i])
    pos = data.draw(st.integers(min_value=0, max_value=len(line) - 1))
    new_byte = data.draw(
        st.integers(min_value=0x20, max_value=0x7E).filter(lambda b: b != line[pos])
    )
    line[pos] = new_byte
    lines[i] = bytes(line)
    _write_lines(home, lines)
    assert _errors(verify(home))


# --- export --------------------------------------------------------------------------------


def test_export_json_contains_entries_and_verification(tmp_path: Path) -> None:
    _fill(tmp_path)
    result = export(tmp_path, tmp_path / "out" / "audit.json")
    assert result.count == N_ENTRIES and result.problems == []
    document = orjson.loads((tmp_path / "out" / "audit.json").read_bytes())
    assert document["format"] == "wardcopy-audit-export/1"
    assert document["verification"] == {"ok": True, "problems": []}
    assert [e["seq"] for e in document["entries"]] == list(range(1, N_ENTRIES + 1))
    # The exported entries still re-verify: their hashes are over exactly these contents.
    assert all(entry_hash(e) == e["hash"] for e in document["entries"])
    if sys.platform != "win32":
        assert stat.S_IMODE((tmp_path / "out" / "audit.json").stat().st_mode) == 0o600


def test_export_since_and_tampering_reported(tmp_path: Path) -> None:
    _fill(tmp_path)
    lines = _lines(tmp_path)
    del lines[2]
    _write_lines(tmp_path, lines)
    result = export(tmp_path, tmp_path / "recent.json", since=T0 + timedelta(minutes=4))
    document = orjson.loads((tmp_path / "recent.json").read_bytes())
    assert document["verification"]["ok"] is False
    assert document["since"] == "2026-03-07T13:04:00.000Z"
    assert [e["seq"] for e in document["entries"]] == [4, 5, 6]
    assert result.count == 3 and has_errors(result.problems)


def test_export_csv_defuses_spreadsheet_formulas(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path, clock=StepClock())
    audit.append(
        AuditEvent.BREAK_GLASS,
        user='=HYPERLINK("http://evil")',
        ward="station-3a",
        details={"reason": "Reanimation", "name": "Dr. Ümit"},
    )
    audit.append(AuditEvent.PATIENT_OPEN, user="-2+3", ward="station-3a", patient_id="p-1")
    result = export(tmp_path, tmp_path / "audit.csv")
    assert result.count == 2
    text = (tmp_path / "audit.csv").read_bytes().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["user"] == '\'=HYPERLINK("http://evil")'
    assert rows[0]["event"] == "break_glass"
    assert orjson.loads(rows[0]["details"]) == {"name": "Dr. Ümit", "reason": "Reanimation"}
    assert rows[1]["user"] == "'-2+3"
    assert rows[1]["patient_id"] == "p-1"
    assert rows[1]["seq"] == "2"

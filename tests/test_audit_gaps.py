"""Audit log gaps the hash chain alone cannot see: the whole folder deleted, both files rolled back
to an older copy, the newest entries cut and HEAD rewritten, and a full disk between the entry and
its head pointer. Real files; `wardcopy audit verify` and `wardcopy doctor` as real processes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from app import doctor
from app.audit import (
    AuditError,
    AuditEvent,
    AuditLog,
    canonical,
    has_errors,
    head_path,
    iter_entries,
    log_path,
    mark_path,
    read_mark,
    verify,
)
from app.auth import Authenticator, Session
from app.settings import Settings
from sync.keys import ARGON2_TEST
from sync.roster import Roster, add_user, new_roster

BIN = Path(sys.executable).parent
T0 = datetime(2026, 3, 7, 13, 0, tzinfo=UTC)
PASSWORD = "Nachtdienst-2026"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=30)
        return self.now


def _roster() -> Roster:
    roster = new_roster("Klinikum Test", now=T0)
    return add_user(
        roster, "anna.k", "Anna K.", "nurse", ["station-3a"], PASSWORD, now=T0, cost=ARGON2_TEST
    )


def _shift(home: Path, clock: Clock, opens: int = 3) -> None:
    """One nurse's shift as the viewer writes it: login (moves the mark), patients, logout."""
    audit = AuditLog(home, clock=clock)
    auth = Authenticator(_roster(), Settings(), audit, clock)
    session = auth.login("anna.k", PASSWORD, "station-3a")
    assert isinstance(session, Session)
    for i in range(opens):
        audit.append(
            AuditEvent.PATIENT_OPEN, user="anna.k", ward="station-3a", patient_id=f"pat-{i}"
        )
    auth.logout(session)


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "WARDCOPY_HOME": str(home),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    return subprocess.run(
        [str(BIN / "wardcopy"), *args], env=env, capture_output=True, text=True, timeout=120
    )


def _audit_fail(home: Path) -> list[str]:
    return [
        c.message for c in doctor.check_laptop(home) if c.name == "audit log" and c.status == "FAIL"
    ]


def test_login_moves_a_mark_outside_the_audit_folder(tmp_path: Path) -> None:
    _shift(tmp_path, Clock())
    entries = list(iter_entries(tmp_path))
    # The logout is the newest login-path entry; the patient opens do not move the mark.
    assert read_mark(tmp_path) == (entries[-1].seq, entries[-1].hash)
    assert mark_path(tmp_path).parent == tmp_path
    # The login counters in the same file survive, and so does the mark after a failed login.
    auth = Authenticator(_roster(), Settings(), AuditLog(tmp_path, clock=Clock()), Clock())
    auth.login("anna.k", "wrong password", "station-3a")
    state = orjson.loads(mark_path(tmp_path).read_bytes())
    assert state["users"] and state["audit"]["seq"] == len(list(iter_entries(tmp_path)))
    assert verify(tmp_path) == []


def test_deleted_audit_folder_is_reported_by_verify_and_doctor(tmp_path: Path) -> None:
    home = tmp_path / "laptop"
    _shift(home, Clock())
    assert _cli(home, "audit", "verify").returncode == 0
    shutil.rmtree(home / "audit")

    result = _cli(home, "audit", "verify")
    assert result.returncode == 1, result.stdout
    assert "missing or empty" in result.stdout and "login-state.json" in result.stdout
    assert _audit_fail(home)
    doctor_run = _cli(home, "doctor")
    assert doctor_run.returncode == 1
    assert any(
        "audit log" in line and "FAIL" in line and "login-state.json" in line
        for line in doctor_run.stdout.splitlines()
    ), doctor_run.stdout

    # The next login does not paper over it: the new log starts after the mark, leaving a gap.
    _shift(home, Clock())
    problems = verify(home)
    assert has_errors(problems)
    assert any("missing (removed)" in p.message for p in problems), problems


def test_both_files_rolled_back_to_an_older_copy_are_reported(tmp_path: Path) -> None:
    clock = Clock()
    _shift(tmp_path, clock)
    backup = tmp_path.parent / f"{tmp_path.name}-backup-{uuid.uuid4().hex}"
    shutil.copytree(tmp_path / "audit", backup)
    _shift(tmp_path, clock)  # the shift someone wants to hide
    assert verify(tmp_path) == []
    shutil.rmtree(tmp_path / "audit")
    shutil.copytree(backup, tmp_path / "audit")
    shutil.rmtree(backup)

    result = _cli(tmp_path, "audit", "verify")
    assert result.returncode == 1
    assert "rolled back" in result.stdout
    assert _audit_fail(tmp_path)


def test_newest_entries_cut_and_head_rewritten_are_reported(tmp_path: Path) -> None:
    clock = Clock()
    _shift(tmp_path, clock)
    _shift(tmp_path, clock)
    entries = list(iter_entries(tmp_path))
    keep = entries[: len(entries) - 4]  # cuts the second shift's logout (the mark) and more
    log_path(tmp_path).write_bytes(b"".join(canonical(e.to_dict()) + b"\n" for e in keep))
    head_path(tmp_path).write_bytes(canonical({"hash": keep[-1].hash, "seq": keep[-1].seq}))

    result = _cli(tmp_path, "audit", "verify")
    assert result.returncode == 1
    assert f"the log ends at seq {keep[-1].seq}" in result.stdout
    assert _audit_fail(tmp_path)


def test_log_replaced_by_a_consistent_forgery_of_the_same_length_is_reported(
    tmp_path: Path,
) -> None:
    clock = Clock()
    _shift(tmp_path, clock)
    n = len(list(iter_entries(tmp_path)))
    shutil.rmtree(tmp_path / "audit")
    forged = AuditLog(tmp_path, clock=Clock())
    # Without the mark the forger would start at seq 1; force the same length from scratch.
    mark = mark_path(tmp_path).read_bytes()
    mark_path(tmp_path).unlink()
    for _ in range(n):
        forged.append(AuditEvent.SEARCH, user="someone", ward="station-3a")
    mark_path(tmp_path).write_bytes(mark)
    problems = verify(tmp_path)
    assert any("differs from the one recorded" in p.message for p in problems), problems


# --- full disk ------------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs mounted on a folder of tmp_path (we run as root in CI containers)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if sys.platform != "linux" or os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root on Linux")
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {made.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def _fill_disk(folder: Path) -> None:
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)


def test_full_disk_writes_entry_and_head_both_or_neither(small_disk: Path) -> None:
    home = small_disk / "laptop"
    audit = AuditLog(home, clock=Clock())
    audit.append(AuditEvent.LOGIN, user="anna.k", ward="station-3a", mark=True)
    # Leave room in the log's last page (tmpfs allocates whole pages): an entry then fits into
    # the log without new space, while the new HEAD file needs a page the disk no longer has.
    while 4096 - log_path(home).stat().st_size % 4096 < 1024:
        audit.append(AuditEvent.SEARCH, user="anna.k", ward="station-3a")
    _fill_disk(small_disk)
    before = log_path(home).read_bytes()

    failures = 0
    for i in range(3):
        try:
            audit.append(AuditEvent.PATIENT_OPEN, user="anna.k", patient_id=f"pat-{i}")
        except AuditError as exc:
            failures += 1
            # The entry itself fitted; its head pointer did not: the entry was taken back.
            assert "head pointer" in str(exc) and "space" in str(exc).lower()
    assert failures == 3
    assert log_path(home).read_bytes() == before  # no entry without its head pointer
    assert verify(home) == []

    (small_disk / "filler").unlink()  # space again: the log continues without a gap
    entry = audit.append(AuditEvent.PATIENT_OPEN, user="anna.k", patient_id="pat-9")
    assert verify(home) == []
    assert entry.seq == len(list(iter_entries(home)))

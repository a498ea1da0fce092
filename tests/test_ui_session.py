"""The viewer's backend (app.ui.session) against a real installed home: real SQLCipher snapshots,
signed roster, Argon2id logins and the hash-chained audit log."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from test_ui_support import ADMIN, DOCTOR, NURSE, OUTSIDER, WARD, UiHome, build_home

from app.settings import Settings, load_settings
from app.ui.session import SnapshotProblem, ViewerBackend
from app.ui.state import UserView


@pytest.fixture
def home(tmp_path: Path) -> UiHome:
    return build_home(tmp_path)


def events(home: Path) -> list[dict[str, Any]]:
    path = home / "audit" / "audit.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def opened(home: UiHome) -> ViewerBackend:
    backend = ViewerBackend(home.home)
    result = backend.open()
    assert not isinstance(result, SnapshotProblem), result
    return backend


def test_opens_the_ward_not_the_hospital_snapshot_and_searches_both(home: UiHome) -> None:
    backend = opened(home)
    try:
        assert backend.current is not None and backend.current.ward == WARD
        assert backend.ward_ids() == [WARD]
        assert len(backend.census()) == home.patients
        assert [r.name for r in backend.search("Muller")] == ["Müller, Erika"]
        assert backend.hospital_search_available()
        wide = backend.search("Neumann", hospital=True)
        assert {r.ward_id for r in wide} == {WARD, "station-5b"}
        other = next(r for r in wide if r.ward_id == "station-5b")
        record = backend.record(other.patient_id, hospital=True)
        assert record is not None and record.name == other.name
        as_of = backend.data_as_of()
        assert as_of is not None and abs((as_of - home.data_as_of).total_seconds()) < 1
    finally:
        backend.close()


def test_nothing_installed_is_a_clear_missing_problem(tmp_path: Path) -> None:
    backend = ViewerBackend(tmp_path / "empty-home")
    result = backend.open()
    assert isinstance(result, SnapshotProblem)
    assert result.kind == "missing"


def test_a_damaged_snapshot_is_reported_not_raised(home: UiHome) -> None:
    for payload in (home.home / "snapshots" / WARD).glob("*/*"):
        if payload.is_file() and payload.stat().st_size > 4096:
            with payload.open("r+b") as fh:
                fh.seek(2048)
                fh.write(b"\0" * 1024)
    result = ViewerBackend(home.home).open()
    assert isinstance(result, SnapshotProblem)
    assert result.kind == "unreadable" and result.reason


def test_wrong_password_is_refused_and_audited_without_the_password(home: UiHome) -> None:
    backend = opened(home)
    outcome = backend.login(NURSE[0], "wrong-password", WARD, lang="en")
    assert outcome.user is None and "Wrong" in outcome.message
    log = (home.home / "audit" / "audit.jsonl").read_text()
    assert "wrong-password" not in log
    assert [e["event"] for e in events(home.home)] == ["login_failed"]


def test_login_gives_the_user_and_their_wards(home: UiHome) -> None:
    backend = opened(home)
    outcome = backend.login(DOCTOR[0], DOCTOR[3], WARD, lang="de")
    assert outcome.user == UserView("arzt", "Dr. Jonas Weiss", "physician")
    assert outcome.wards == (WARD,)
    assert events(home.home)[-1]["event"] == "login"


def test_a_user_of_another_ward_is_refused(home: UiHome) -> None:
    backend = opened(home)
    outcome = backend.login(OUTSIDER[0], OUTSIDER[3], WARD, lang="en")
    assert outcome.user is None and outcome.message
    assert events(home.home)[-1]["event"] == "login_refused"


def test_break_glass_session_is_marked_and_audited_with_reason(home: UiHome) -> None:
    backend = opened(home)
    assert backend.break_glass_allowed()
    outcome = backend.login("", "", WARD, lang="de", break_glass=("Eva Notfall", "Reanimation"))
    assert outcome.user is not None and outcome.user.break_glass
    entry = events(home.home)[-1]
    assert entry["event"] == "break_glass"
    assert entry["details"]["reason_given"] == "Reanimation"


def test_lock_then_same_user_unlocks_and_another_user_replaces(home: UiHome) -> None:
    backend = opened(home)
    assert backend.login(NURSE[0], NURSE[3], WARD, lang="en").user is not None
    backend.lock()
    assert backend.login(NURSE[0], NURSE[3], WARD, lang="en").user is not None
    backend.lock()
    outcome = backend.login(DOCTOR[0], DOCTOR[3], WARD, lang="en")
    assert outcome.user is not None and outcome.user.user_id == "arzt"
    kinds = [e["event"] for e in events(home.home)]
    assert kinds == ["login", "idle_lock", "unlock", "idle_lock", "login", "logout"]


def test_patient_open_and_print_are_audited_with_patient_id(home: UiHome) -> None:
    backend = opened(home)
    outcome = backend.login(NURSE[0], NURSE[3], WARD, lang="en")
    record = backend.record("pat-station-3a-0")
    assert record is not None
    backend.audit("patient_open", outcome.user, patient_id=record.id)
    pdf = backend.render_document(
        "mar24",
        record=record,
        rows=None,
        printed_by="Anna Berg",
        lang="de",
        now=datetime.now(UTC),
        tz=UTC,
    )
    assert pdf.startswith(b"%PDF")
    backend.audit("print", outcome.user, patient_id=record.id, document="mar24", output="pdf")
    last = events(home.home)[-2:]
    assert [e["event"] for e in last] == ["patient_open", "print"]
    assert all(e["patient_id"] == "pat-station-3a-0" and e["user"] == "pflege" for e in last)
    census_pdf = backend.render_document(
        "census",
        record=None,
        rows=backend.census(),
        printed_by="Anna Berg",
        lang="en",
        now=datetime.now(UTC),
        tz=UTC,
    )
    assert census_pdf.startswith(b"%PDF")


def test_only_an_admin_saves_settings_and_it_is_audited(home: UiHome) -> None:
    backend = opened(home)
    assert backend.login(NURSE[0], NURSE[3], WARD, lang="en").user is not None
    assert not backend.may_change_settings()
    with pytest.raises(PermissionError):
        backend.save_settings(Settings(idle_lock_minutes=2), ["idle_lock_minutes"])
    assert not (home.home / "settings.json").exists()
    backend.logout()
    assert backend.login(ADMIN[0], ADMIN[3], WARD, lang="en").user is not None
    assert backend.may_change_settings()
    backend.save_settings(Settings(idle_lock_minutes=2), ["idle_lock_minutes"])
    assert load_settings(home.home).idle_lock_minutes == 2
    assert backend.settings.idle_lock_minutes == 2
    entry = events(home.home)[-1]
    assert entry["event"] == "settings_change" and entry["user"] == "admin"
    assert entry["details"]["changed"] == ["idle_lock_minutes"]


def test_times_are_shown_in_the_hospital_zone_not_the_laptops(home: UiHome) -> None:
    """A snapshot without a recorded zone (built before the field existed) reads in the default
    hospital zone; an administrator's setting wins over the snapshot."""
    from zoneinfo import ZoneInfo

    from app.settings import save_settings

    backend = opened(home)
    assert backend.tz() == ZoneInfo("Europe/Berlin")
    save_settings(home.home, Settings(time_zone="Europe/Vienna"))
    assert ViewerBackend(home.home).tz() == ZoneInfo("Europe/Vienna")

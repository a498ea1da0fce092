"""Offline login: passwords, disabled accounts, wards, lockout, break-glass, idle lock, audit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from app.audit import AuditEntry, AuditLog, iter_entries, verify
from app.auth import (
    Authenticator,
    FailureReason,
    FailureState,
    LockoutPolicy,
    LoginFailure,
    Session,
    check_allowed,
    record_failure,
    retry_delay,
)
from app.settings import Settings
from sync.keys import ARGON2_TEST
from sync.roster import Role, Roster, add_user, disable_user, new_roster, set_break_glass

T0 = datetime(2026, 3, 7, 13, 0, tzinfo=UTC)
NURSE_PW = "Nachtdienst-2026"
DOC_PW = "visite um acht"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


def _roster(break_glass: bool = False) -> Roster:
    roster = new_roster("Klinikum Test", now=T0)
    roster = add_user(
        roster, "anna.k", "Anna K.", "nurse", ["station-3a"], NURSE_PW, now=T0, cost=ARGON2_TEST
    )
    roster = add_user(
        roster, "dr.b", "Dr. B.", "physician", ["*"], DOC_PW, now=T0, cost=ARGON2_TEST
    )
    roster = add_user(
        roster, "old.c", "Old C.", "nurse", ["station-3a"], NURSE_PW, now=T0, cost=ARGON2_TEST
    )
    roster = disable_user(roster, "old.c", now=T0)
    return set_break_glass(roster, break_glass, now=T0)


def _auth(
    home: Path, clock: Clock, *, roster: Roster | None = None, **settings: object
) -> Authenticator:
    return Authenticator(
        roster if roster is not None else _roster(),
        Settings.model_validate(settings),
        AuditLog(home, clock=clock),
        clock,
    )


def _events(home: Path) -> list[AuditEntry]:
    return list(iter_entries(home))


# --- login ---------------------------------------------------------------------------------


def test_successful_login_opens_an_audited_session(tmp_path: Path) -> None:
    clock = Clock()
    session = _auth(tmp_path, clock).login(" Anna.K ", NURSE_PW, "station-3a")
    assert isinstance(session, Session)
    assert (session.user_id, session.display_name, session.role) == ("anna.k", "Anna K.", "nurse")
    assert session.ward == "station-3a" and not session.break_glass
    [entry] = _events(tmp_path)
    assert (entry.event, entry.user, entry.ward) == ("login", "anna.k", "station-3a")
    assert entry.details["session"] == session.session_id
    assert NURSE_PW not in (tmp_path / "audit" / "audit.jsonl").read_text()


def test_wrong_password_is_refused_and_audited_without_the_password(tmp_path: Path) -> None:
    result = _auth(tmp_path, Clock()).login("anna.k", "Nachtdienst-2025", "station-3a")
    assert isinstance(result, LoginFailure)
    assert result.reason == FailureReason.BAD_CREDENTIALS
    assert result.message("de") == "Benutzername oder Passwort falsch."
    [entry] = _events(tmp_path)
    assert entry.event == "login_failed" and entry.user == "anna.k"
    assert "Nachtdienst-2025" not in (tmp_path / "audit" / "audit.jsonl").read_text()


def test_unknown_user_looks_like_a_wrong_password_and_is_not_recorded(tmp_path: Path) -> None:
    # Someone types their password into the user field: it must not end up in the log.
    result = _auth(tmp_path, Clock()).login("MyS3cretPass", NURSE_PW, "station-3a")
    assert isinstance(result, LoginFailure)
    assert result.reason == FailureReason.BAD_CREDENTIALS
    [entry] = _events(tmp_path)
    assert entry.user is None
    text = (tmp_path / "audit" / "audit.jsonl").read_text() + (
        tmp_path / "login-state.json"
    ).read_text()
    assert "MyS3cretPass" not in text and "mys3cretpass" not in text


def test_disabled_user_is_refused_even_with_the_right_password(tmp_path: Path) -> None:
    result = _auth(tmp_path, Clock()).login("old.c", NURSE_PW, "station-3a")
    assert isinstance(result, LoginFailure) and result.reason == FailureReason.DISABLED
    assert "deaktiviert" in result.message("de")
    [entry] = _events(tmp_path)
    assert (entry.event, entry.details["reason"]) == ("login_refused", "disabled")


def test_ward_not_permitted(tmp_path: Path) -> None:
    auth = _auth(tmp_path, Clock())
    result = auth.login("anna.k", NURSE_PW, "station-4b")
    assert isinstance(result, LoginFailure) and result.reason == FailureReason.WARD_NOT_PERMITTED
    # A "*" user may open any ward.
    assert isinstance(auth.login("dr.b", DOC_PW, "station-4b"), Session)
    assert [e.event for e in _events(tmp_path)] == ["login_refused", "login"]


def test_empty_input_and_missing_roster(tmp_path: Path) -> None:
    clock = Clock()
    auth = _auth(tmp_path, clock)
    assert auth.login("", NURSE_PW, "w") == LoginFailure(FailureReason.EMPTY)
    assert auth.login("anna.k", "", "w") == LoginFailure(FailureReason.EMPTY)
    no_roster = Authenticator(None, Settings(), AuditLog(tmp_path, clock=clock), clock)
    result = no_roster.login("anna.k", NURSE_PW, "station-3a")
    assert isinstance(result, LoginFailure) and result.reason == FailureReason.NO_ROSTER


# --- rate limiting -------------------------------------------------------------------------


def test_lockout_after_n_failures_and_unlock_after_time(tmp_path: Path) -> None:
    clock = Clock()
    auth = _auth(tmp_path, clock, max_failed_logins=3, lockout_minutes=10)
    for expected_wait in (1, 2):
        result = auth.login("anna.k", "wrong password", "station-3a")
        assert isinstance(result, LoginFailure) and result.reason == FailureReason.BAD_CREDENTIALS
        assert result.retry_after == timedelta(seconds=expected_wait)
        # Trying again at once is refused without even checking the password.
        soon = auth.login("anna.k", NURSE_PW, "station-3a")
        assert isinstance(soon, LoginFailure) and soon.reason == FailureReason.TOO_SOON
        clock.advance(seconds=expected_wait)
    locked = auth.login("anna.k", "wrong password", "station-3a")
    assert isinstance(locked, LoginFailure) and locked.reason == FailureReason.LOCKED
    assert locked.locked_until == clock.now + timedelta(minutes=10)
    assert "10 min" in locked.message("en")
    # While locked even the right password is refused.
    clock.advance(minutes=9, seconds=59)
    still = auth.login("anna.k", NURSE_PW, "station-3a")
    assert isinstance(still, LoginFailure) and still.reason == FailureReason.LOCKED
    # Other users are not affected.
    assert isinstance(auth.login("dr.b", DOC_PW, "station-3a"), Session)
    clock.advance(seconds=1)
    assert isinstance(auth.login("anna.k", NURSE_PW, "station-3a"), Session)
    events = [e.event for e in _events(tmp_path)]
    assert events.count("lockout") == 1
    assert events[-1] == "login"
    assert verify(tmp_path) == []


def test_lockout_survives_a_restart(tmp_path: Path) -> None:
    clock = Clock()
    auth = _auth(tmp_path, clock, max_failed_logins=2, lockout_minutes=5)
    auth.login("ANNA.K", "wrong password", "station-3a")
    clock.advance(seconds=5)
    auth.login("anna.k", "wrong password", "station-3a")
    restarted = _auth(tmp_path, clock, max_failed_logins=2, lockout_minutes=5)
    result = restarted.login("anna.k", NURSE_PW, "station-3a")
    assert isinstance(result, LoginFailure) and result.reason == FailureReason.LOCKED
    assert "anna" not in (tmp_path / "login-state.json").read_text().lower()


def test_success_resets_the_counter(tmp_path: Path) -> None:
    clock = Clock()
    auth = _auth(tmp_path, clock, max_failed_logins=2)
    auth.login("anna.k", "wrong password", "station-3a")
    clock.advance(seconds=2)
    assert isinstance(auth.login("anna.k", NURSE_PW, "station-3a"), Session)
    auth.login("anna.k", "wrong password", "station-3a")
    clock.advance(seconds=2)
    assert isinstance(auth.login("anna.k", NURSE_PW, "station-3a"), Session)


def test_waiting_time_is_rounded_up_for_the_user() -> None:
    failure = LoginFailure(FailureReason.TOO_SOON, timedelta(milliseconds=400))
    assert failure.message("en") == "Please wait 1 s and try again."
    locked = LoginFailure(FailureReason.LOCKED, timedelta(minutes=4, seconds=1))
    assert locked.message("de") == "Zu viele Fehlversuche: gesperrt für 5 min."


def test_clock_set_back_cannot_extend_a_lockout() -> None:
    policy = LockoutPolicy(max_failures=3, lockout=timedelta(minutes=5))
    far = FailureState(3, T0, locked_until=T0 + timedelta(days=365))
    refusal = check_allowed(far, T0, policy)
    assert refusal is not None and refusal.locked_until == T0 + timedelta(minutes=5)


@hyp_settings(deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=400), min_size=1, max_size=12))
def test_lock_happens_exactly_at_the_limit(gaps: list[int]) -> None:
    policy = LockoutPolicy(max_failures=5, lockout=timedelta(minutes=5))
    state: FailureState | None = None
    now = T0
    for gap in gaps:
        now += timedelta(seconds=gap)
        refusal = check_allowed(state, now, policy)
        if refusal is not None:
            assert refusal.retry_after is not None
            assert timedelta(0) < refusal.retry_after <= policy.lockout
            continue
        before = state
        state = record_failure(state, now, policy)
        assert (state.locked_until is not None) == (state.failures >= 5)
        if before is None or now - before.last_failure >= policy.lockout:
            assert state.failures == 1  # a quiet spell forgets earlier failures
        else:
            assert state.failures == before.failures + 1
        assert retry_delay(state.failures) <= timedelta(seconds=30)


# --- break-glass ---------------------------------------------------------------------------


def test_break_glass_disallowed_by_roster_is_refused_and_audited(tmp_path: Path) -> None:
    auth = _auth(tmp_path, Clock(), roster=_roster(break_glass=False))
    assert not auth.break_glass_available()
    result = auth.break_glass("Dr. Notfall", "Reanimation Zimmer 12", "station-3a")
    assert isinstance(result, LoginFailure)
    assert result.reason == FailureReason.BREAK_GLASS_NOT_ALLOWED
    [entry] = _events(tmp_path)
    assert entry.event == "break_glass_refused" and entry.user == "break-glass:Dr. Notfall"


def test_local_setting_cannot_enable_what_the_roster_forbids(tmp_path: Path) -> None:
    auth = _auth(tmp_path, Clock(), roster=_roster(False), break_glass_allowed=True)
    assert not auth.break_glass_available()
    off = _auth(tmp_path, Clock(), roster=_roster(True), break_glass_allowed=False)
    assert not off.break_glass_available()


def test_break_glass_allowed_is_marked_and_audited(tmp_path: Path) -> None:
    auth = _auth(tmp_path, Clock(), roster=_roster(break_glass=True))
    assert auth.break_glass_available()
    session = auth.break_glass("  Dr.\tNotfall ", "Reanimation\nZimmer 12", "station-3a")
    assert isinstance(session, Session)
    assert session.break_glass and session.role == Role.NURSE
    assert session.user_id == "break-glass:Dr. Notfall"
    assert session.break_glass_reason == "Reanimation Zimmer 12"
    assert not session.may_change_settings()
    [entry] = _events(tmp_path)
    assert entry.event == "break_glass"
    assert entry.details["reason_given"] == "Reanimation Zimmer 12"
    # A break-glass session cannot be unlocked with a password.
    auth.lock(session)
    relogin = auth.unlock(session, "anything")
    assert isinstance(relogin, LoginFailure)
    assert relogin.reason == FailureReason.BREAK_GLASS_RELOGIN


@pytest.mark.parametrize(
    ("name", "reason", "role"),
    [
        ("", "Reanimation", None),
        ("Dr", "Reanimation", None),
        ("Dr. X", "akut", None),
        ("Dr. X", "Reanimation", Role.ADMIN),
    ],
)
def test_break_glass_needs_name_reason_and_an_allowed_role(
    tmp_path: Path, name: str, reason: str, role: Role | None
) -> None:
    auth = _auth(tmp_path, Clock(), roster=_roster(break_glass=True))
    result = auth.break_glass(name, reason, "station-3a", role)
    assert isinstance(result, LoginFailure)
    assert result.reason == FailureReason.BREAK_GLASS_INVALID


# --- idle lock and logout ------------------------------------------------------------------


def test_idle_lock_unlock_and_logout(tmp_path: Path) -> None:
    clock = Clock()
    auth = _auth(tmp_path, clock, idle_lock_minutes=5)
    session = auth.login("anna.k", NURSE_PW, "station-3a")
    assert isinstance(session, Session)
    clock.advance(minutes=4)
    assert not session.is_idle(clock.now)
    session.touch(clock.now)
    clock.advance(minutes=4, seconds=59)
    assert not session.is_idle(clock.now)
    assert session.idle_remaining(clock.now) == timedelta(seconds=1)
    clock.advance(seconds=1)
    assert session.is_idle(clock.now)
    auth.lock(session)
    assert session.locked
    wrong = auth.unlock(session, "falsch-falsch")
    assert isinstance(wrong, LoginFailure) and session.locked
    clock.advance(seconds=1)
    assert auth.unlock(session, NURSE_PW) is session and not session.locked
    assert not session.is_idle(clock.now)
    auth.logout(session)
    assert session.ended_at == clock.now
    events = [e.event for e in _events(tmp_path)]
    assert events == ["login", "idle_lock", "unlock_failed", "unlock", "logout"]
    assert verify(tmp_path) == []


def test_admin_may_change_settings(tmp_path: Path) -> None:
    roster = add_user(
        _roster(), "it.d", "IT D.", "admin", ["*"], "admin-pass-1", now=T0, cost=ARGON2_TEST
    )
    session = _auth(tmp_path, Clock(), roster=roster).login("it.d", "admin-pass-1", "station-3a")
    assert isinstance(session, Session) and session.may_change_settings()

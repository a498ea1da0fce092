"""Login throttling per laptop: one password tried against many user ids is slowed down for every
id, audited, shared between processes through the counters file, while the per-user lockout stays
as it was. Real Argon2id verifiers, real files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from app.audit import AuditLog, iter_entries, verify
from app.auth import (
    LAPTOP_KEY,
    Authenticator,
    FailureReason,
    FailureState,
    LockoutPolicy,
    LoginFailure,
    Session,
    check_laptop,
)
from app.settings import Settings
from sync.keys import ARGON2_TEST
from sync.roster import Roster, add_user, new_roster

T0 = datetime(2026, 3, 7, 13, 0, tzinfo=UTC)
PASSWORD = "Nachtdienst-2026"
GUESS = "Sommer2026!"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


def _roster() -> Roster:
    roster = new_roster("Klinikum Test", now=T0)
    for uid in ("anna.k", "ben.m"):
        roster = add_user(
            roster, uid, uid, "nurse", ["station-3a"], PASSWORD, now=T0, cost=ARGON2_TEST
        )
    return roster


def _auth(home: Path, clock: Clock, **settings: object) -> Authenticator:
    return Authenticator(_roster(), Settings.model_validate(settings), AuditLog(home, clock), clock)


def test_one_password_against_many_ids_is_slowed_for_every_id(tmp_path: Path) -> None:
    clock = Clock()
    auth = _auth(tmp_path, clock, max_failed_logins_laptop=10)
    for i in range(10):  # ten different ids, one try each: no per-user limit is ever reached
        clock.advance(seconds=1)
        result = auth.login(f"user{i:02d}", GUESS, "station-3a")
        assert isinstance(result, LoginFailure)
        assert result.reason == FailureReason.BAD_CREDENTIALS
    # The eleventh id, at once: refused before the password is even checked.
    refused = auth.login("user10", GUESS, "station-3a")
    assert isinstance(refused, LoginFailure)
    assert refused.reason == FailureReason.LAPTOP_THROTTLED
    assert refused.retry_after == timedelta(seconds=1)
    assert refused.message("de") == "Zu viele Fehlversuche an diesem Laptop: bitte 1 s warten."
    # Even a real user with the right password waits (the limit is the laptop's) ...
    blocked = auth.login("anna.k", PASSWORD, "station-3a")
    assert isinstance(blocked, LoginFailure) and blocked.reason == FailureReason.LAPTOP_THROTTLED
    # ... for seconds, not minutes: after the wait the login works.
    clock.advance(seconds=1)
    assert isinstance(auth.login("anna.k", PASSWORD, "station-3a"), Session)
    # Each further failure doubles the wait, up to 30 s.
    clock.advance(seconds=1)
    again = auth.login("user11", GUESS, "station-3a")
    assert isinstance(again, LoginFailure) and again.retry_after == timedelta(seconds=2)

    events = [e for e in iter_entries(tmp_path)]
    [throttled] = [e for e in events if e.event == "login_throttled"]
    assert throttled.details == {"laptop_failures": 10, "within_minutes": 5}
    refusals = [e for e in events if e.details.get("reason") == "laptop_throttled"]
    assert len(refusals) == 2
    assert verify(tmp_path) == []


def test_the_per_user_lockout_still_locks_one_id_after_five(tmp_path: Path) -> None:
    clock = Clock()
    auth = _auth(tmp_path, clock)
    for _ in range(5):
        clock.advance(seconds=31)
        auth.login("anna.k", "wrong", "station-3a")
    clock.advance(seconds=31)
    locked = auth.login("anna.k", PASSWORD, "station-3a")
    assert isinstance(locked, LoginFailure) and locked.reason == FailureReason.LOCKED
    # Another user is not affected by five failures (below the laptop limit of 10).
    assert isinstance(auth.login("ben.m", PASSWORD, "station-3a"), Session)


def test_the_laptop_counter_is_shared_between_processes_and_forgotten_after_quiet(
    tmp_path: Path,
) -> None:
    clock = Clock()
    viewer = _auth(tmp_path, clock, max_failed_logins_laptop=4)
    for i in range(2):
        clock.advance(seconds=1)
        viewer.login(f"x{i}", GUESS, "station-3a")
    # A second program (the print command) started meanwhile adds two more failures.
    other = _auth(tmp_path, clock, max_failed_logins_laptop=4)
    for i in range(2, 4):
        clock.advance(seconds=1)
        other.login(f"x{i}", GUESS, "station-3a")
    saved = orjson.loads((tmp_path / "login-state.json").read_bytes())
    assert saved["users"][LAPTOP_KEY]["failures"] == 4
    # The long-running viewer sees them, and a success there does not wipe them.
    result = viewer.login("anna.k", PASSWORD, "station-3a")
    assert isinstance(result, LoginFailure) and result.reason == FailureReason.LAPTOP_THROTTLED
    clock.advance(minutes=5)  # a quiet spell of lockout_minutes forgets the episode
    assert isinstance(viewer.login("anna.k", PASSWORD, "station-3a"), Session)
    assert isinstance(viewer.login("ben.m", PASSWORD, "station-3a"), Session)


def test_check_laptop_waits_grow_and_are_capped() -> None:
    policy = LockoutPolicy(laptop_failures=3)
    assert check_laptop(FailureState(2, T0), T0, policy) is None
    waits = [check_laptop(FailureState(n, T0), T0, policy) for n in (3, 4, 5, 12, 40)]
    assert [w.retry_after.total_seconds() if w and w.retry_after else 0 for w in waits] == [
        1,
        2,
        4,
        30,
        30,
    ]

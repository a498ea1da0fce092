"""Offline login on the ward laptop against the signed staff roster; rate limiting; break-glass.

- `Authenticator.login(user_id, password, ward)` checks the Argon2id verifier, the disabled flag
  and the user's wards, and returns a `Session` or a `LoginFailure` (never raises for a wrong
  password). Unknown user ids and wrong passwords give the same answer and take the same time.
- Rate limiting per user id: after each failure the next attempt waits 1, 2, 4, ... s (at most
  30 s); after `settings.max_failed_logins` failures the id is locked for
  `settings.lockout_minutes`. Counters live in `<home>/login-state.json` (keyed by a hash of
  the user id, no passwords) so that restarting the viewer does not reset them.
- Rate limiting per laptop, over all user ids (one password tried against many ids): once
  `settings.max_failed_logins_laptop` failures happened on this laptop without a quiet spell of
  `settings.lockout_minutes`, every password attempt (any id, right or wrong) waits 1, 2, 4, ...
  s (at most 30) after the previous failure. It slows guessing without ever locking the ward out;
  a successful login does not reset it (an attacker's own account must not wipe it). Stored in the
  same file under the key "laptop".
- Break-glass: a named person with a reason gets a session marked `break_glass=True` if the
  signed roster allows it and this laptop has not switched it off (`app.settings`).
- Sessions lock after `settings.idle_lock_minutes` without activity (`Session.is_idle`);
  `unlock` asks for the same user's password again.

Every login, failed login, refusal, lockout, break-glass, lock, unlock and logout is appended
to the audit log. The audit log never receives a password, and an unknown user id is recorded
only as a short hash (people type their password into the user field by mistake).
"""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

import orjson

from app import i18n
from app.audit import MARK_MEMBER, AuditEvent, AuditLog
from app.settings import Settings, break_glass_effective
from sync import fsutil
from sync.keys import (
    Argon2Cost,
    PasswordCheck,
    Verifier,
    VerifierFields,
    never_matching_verifier,
    verify_password,
)
from sync.roster import Role, Roster, StaffUser

log = logging.getLogger(__name__)

STATE_FILE = "login-state.json"
MAX_RETRY_DELAY = timedelta(seconds=30)
BREAK_GLASS_USER_PREFIX = "break-glass:"
LAPTOP_KEY = "laptop"  # the laptop-wide counter's key among the per-user ones (64 hex digits)
NAME_LENGTH = (3, 100)
REASON_LENGTH = (5, 500)


def _utcnow() -> datetime:
    return datetime.now(UTC)


# --- results -------------------------------------------------------------------------------


class FailureReason(StrEnum):
    EMPTY = "empty"  # user id or password not entered
    BAD_CREDENTIALS = "bad_credentials"  # unknown user id or wrong password (not told apart)
    TOO_SOON = "too_soon"  # within the delay after a failure
    LAPTOP_THROTTLED = "laptop_throttled"  # too many failures on this laptop (any user ids)
    LOCKED = "locked"  # too many failures
    DISABLED = "disabled"
    WARD_NOT_PERMITTED = "ward_not_permitted"
    NO_ROSTER = "no_roster"  # no verified roster on this laptop
    BREAK_GLASS_NOT_ALLOWED = "break_glass_not_allowed"
    BREAK_GLASS_INVALID = "break_glass_invalid"  # name or reason missing or too short
    BREAK_GLASS_RELOGIN = "break_glass_relogin"  # a locked break-glass session cannot unlock


@dataclass(frozen=True)
class LoginFailure:
    """Why a login, unlock or break-glass attempt was refused, for the UI to show."""

    reason: FailureReason
    retry_after: timedelta | None = None  # wait at least this long before the next attempt
    locked_until: datetime | None = None

    @property
    def message_key(self) -> str:
        """The i18n message id; fields: minutes, seconds."""
        return f"auth.{self.reason.value}"

    def message(self, lang: str) -> str:
        """Pure: the text to show in `lang`."""
        # Round up: "wait 0 s" for half a second would invite an attempt that is refused again.
        seconds = math.ceil(self.retry_after.total_seconds()) if self.retry_after else 0
        return i18n.t(self.message_key, lang, seconds=seconds, minutes=max(1, -(-seconds // 60)))


@dataclass
class Session:
    """A logged-in user on one ward. Mutable: activity and lock state change during use."""

    session_id: str
    user_id: str
    display_name: str
    role: Role
    ward: str
    started_at: datetime
    last_activity: datetime
    idle_after: timedelta
    break_glass: bool = False
    break_glass_reason: str | None = None
    locked: bool = False
    ended_at: datetime | None = None

    def touch(self, now: datetime | None = None) -> None:
        """Record user activity (a click, a key press) at `now` (default: the current time)."""
        self.last_activity = now or _utcnow()

    def is_idle(self, now: datetime) -> bool:
        """Pure: whether the session has been idle long enough to lock the screen."""
        return now - self.last_activity >= self.idle_after

    def idle_remaining(self, now: datetime) -> timedelta:
        """Pure: time left before the idle lock (zero when due)."""
        return max(self.idle_after - (now - self.last_activity), timedelta(0))

    def may_change_settings(self) -> bool:
        """Pure: only a named admin (never break-glass) changes laptop settings."""
        return self.role == Role.ADMIN and not self.break_glass

    @property
    def audit_user(self) -> str:
        """The user as written to the audit log."""
        return self.user_id


# --- rate limiting (pure) ------------------------------------------------------------------


@dataclass(frozen=True)
class FailureState:
    """Failed attempts for one user id."""

    failures: int
    last_failure: datetime
    locked_until: datetime | None = None


@dataclass(frozen=True)
class LockoutPolicy:
    max_failures: int = 5
    lockout: timedelta = timedelta(minutes=5)
    laptop_failures: int = 10  # failures over all ids before every attempt is slowed down

    @classmethod
    def from_settings(cls, settings: Settings) -> LockoutPolicy:
        return cls(
            settings.max_failed_logins,
            timedelta(minutes=settings.lockout_minutes),
            settings.max_failed_logins_laptop,
        )


def retry_delay(failures: int) -> timedelta:
    """Pure: how long to wait after `failures` consecutive failures: 0, 1, 2, 4, ... 30 s."""
    if failures <= 0:
        return timedelta(0)
    return min(timedelta(seconds=2 ** min(failures - 1, 16)), MAX_RETRY_DELAY)


def current_state(
    state: FailureState | None, now: datetime, policy: LockoutPolicy
) -> FailureState | None:
    """Pure: `state` as it stands at `now`: None once a lockout has run out, or when the last
    failure is older than the lockout period (failures are forgotten after a quiet spell)."""
    if state is None:
        return None
    if state.locked_until is not None:
        # A lockout can never last longer than the policy says, even if the clock was set back.
        until = min(state.locked_until, now + policy.lockout)
        if now >= until:
            return None
        return replace(state, locked_until=until)
    if now - state.last_failure >= policy.lockout:
        return None
    return state


def check_allowed(
    state: FailureState | None, now: datetime, policy: LockoutPolicy
) -> LoginFailure | None:
    """Pure: a LoginFailure if an attempt at `now` must be refused without checking the password."""
    state = current_state(state, now, policy)
    if state is None:
        return None
    if state.locked_until is not None:
        return LoginFailure(FailureReason.LOCKED, state.locked_until - now, state.locked_until)
    next_allowed = state.last_failure + retry_delay(state.failures)
    # If the clock went back past the last failure, do not make the user wait for it.
    if state.last_failure <= now < next_allowed:
        return LoginFailure(FailureReason.TOO_SOON, next_allowed - now)
    return None


def record_failure(
    state: FailureState | None, now: datetime, policy: LockoutPolicy
) -> FailureState:
    """Pure: the state after one more failure at `now`; locked when the limit is reached."""
    state = current_state(state, now, policy)
    failures = (state.failures if state else 0) + 1
    locked_until = now + policy.lockout if failures >= policy.max_failures else None
    return FailureState(failures, now, locked_until)


def check_laptop(
    state: FailureState | None, now: datetime, policy: LockoutPolicy
) -> LoginFailure | None:
    """Pure: a LoginFailure if the laptop-wide counter `state` makes an attempt at `now` wait.

    Below `policy.laptop_failures` nothing waits; from there each failure adds to the wait
    (1, 2, 4, ... 30 s after the latest failure), until `policy.lockout` passes without one."""
    state = current_state(state, now, policy)
    if state is None or state.failures < policy.laptop_failures:
        return None
    next_allowed = state.last_failure + retry_delay(state.failures - policy.laptop_failures + 1)
    if state.last_failure <= now < next_allowed:
        return LoginFailure(FailureReason.LAPTOP_THROTTLED, next_allowed - now)
    return None


def record_laptop_failure(
    state: FailureState | None, now: datetime, policy: LockoutPolicy
) -> FailureState:
    """Pure: the laptop-wide counter after one more failure at `now` (it never locks)."""
    state = current_state(state, now, policy)
    return FailureState((state.failures if state else 0) + 1, now)


def state_key(user_id: str) -> str:
    """Pure: the key under which failures for `user_id` are stored (never the id itself)."""
    return hashlib.sha256(user_id.strip().casefold().encode("utf-8")).hexdigest()


# --- persisted counters --------------------------------------------------------------------


def _load_states(path: Path) -> dict[str, FailureState]:
    """Read the counters; an unreadable file is logged and treated as empty."""
    try:
        raw = orjson.loads(path.read_bytes())
        states: dict[str, FailureState] = {}
        for key, item in raw.get("users", {}).items():
            locked = item.get("locked_until")
            states[key] = FailureState(
                failures=int(item["failures"]),
                last_failure=datetime.fromisoformat(item["last_failure"]),
                locked_until=datetime.fromisoformat(locked) if locked else None,
            )
        return states
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("login counters %s unreadable (%s); starting from zero", path, exc)
        return {}


def _save_states(path: Path, states: dict[str, FailureState]) -> None:
    """Write the counters atomically (0600), keeping the audit log's mark that lives in the same
    file (app.audit, member "audit"). Failure to write is logged, not raised: the in-memory
    counters still protect this session, and login must keep working."""
    try:
        existing = orjson.loads(path.read_bytes())
    except (OSError, ValueError):
        existing = None
    kept: dict[str, object] = {}
    if isinstance(existing, dict) and MARK_MEMBER in existing:
        kept[MARK_MEMBER] = existing[MARK_MEMBER]
    data = orjson.dumps(
        {
            **kept,
            "version": 1,
            "users": {
                key: {
                    "failures": s.failures,
                    "last_failure": s.last_failure.isoformat(),
                    "locked_until": s.locked_until.isoformat() if s.locked_until else None,
                }
                for key, s in states.items()
            },
        }
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fsutil.atomic_write(path, data, 0o600)
    except OSError as exc:
        log.warning("cannot save login counters %s: %s", path, exc.strerror or exc)


# --- the authenticator ---------------------------------------------------------------------


def _clean_text(text: str) -> str:
    """Collapse whitespace and drop control characters from free text typed at break-glass."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


class Authenticator:
    """Offline login for one laptop. Not thread-safe: the viewer calls it from its UI thread."""

    def __init__(
        self,
        roster: Roster | None,
        settings: Settings,
        audit: AuditLog,
        clock: Callable[[], datetime] = _utcnow,
        *,
        state_path: Path | None = None,
    ) -> None:
        """`roster` None means no verified roster is installed (only break-glass can work, and
        only if this laptop's settings explicitly allow it). Counters are kept in `state_path`,
        default `<audit home>/login-state.json`. Side effect: reads that file."""
        self.roster = roster
        self.settings = settings
        self.audit = audit
        self.clock = clock
        self.state_path = state_path or audit.home / STATE_FILE
        self._states = _load_states(self.state_path)
        self._dummy: Verifier | None = None

    # -- policy ---------------------------------------------------------------------------

    @property
    def policy(self) -> LockoutPolicy:
        return LockoutPolicy.from_settings(self.settings)

    def break_glass_available(self) -> bool:
        """Whether the UI should offer break-glass on this laptop now."""
        if self.roster is None:
            # No signed hospital policy to follow: only an explicit local opt-in enables it.
            return self.settings.break_glass_allowed is True
        return break_glass_effective(self.settings, self.roster.break_glass.allowed)

    def break_glass_roles(self) -> tuple[Role, ...]:
        """Roles a break-glass user may choose (the first is the default)."""
        if self.roster is None:
            return (Role.NURSE, Role.PHYSICIAN)
        return self.roster.break_glass.roles

    # -- internals ------------------------------------------------------------------------

    def _audit(
        self,
        event: str,
        *,
        user: str | None = None,
        ward: str | None = None,
        details: Mapping[str, object] | None = None,
    ) -> None:
        """Append a login-path entry and move the audit mark to it (see app.audit), so that a
        deleted or shortened log is noticed. Raises AuditError (no access without a record)."""
        self.audit.append(event, user=user, ward=ward, details=details, mark=True)

    def _dummy_verifier(self) -> Verifier:
        # Unknown user ids cost the same Argon2id work as real ones (the first user's cost), so
        # response time does not reveal which ids exist. A random hash that no password matches
        # (sync.keys.never_matching_verifier): making it costs no Argon2id run of its own.
        if self._dummy is None:
            model = self.roster.users[0].verifier if self.roster and self.roster.users else None
            cost = (
                Argon2Cost(model.time_cost, model.memory_cost, model.lanes)
                if model
                else Argon2Cost(1, 64, 1)
            )
            self._dummy = never_matching_verifier(cost)
        return self._dummy

    def _merge_saved(self) -> None:
        """Take in failures another process (the print command, a second viewer) saved since
        this one last read the file; per key the newer failure wins."""
        for key, saved in _load_states(self.state_path).items():
            mine = self._states.get(key)
            if mine is None or saved.last_failure > mine.last_failure:
                self._states[key] = saved

    def _set_state(self, key: str, state: FailureState | None) -> None:
        self._merge_saved()  # never overwrite another process's failures with an older view
        now = self.clock()
        policy = self.policy
        if state is None:
            self._states.pop(key, None)
        else:
            self._states[key] = state
        # Drop expired entries so the file cannot grow with every mistyped id.
        self._states = {
            k: s for k, s in self._states.items() if current_state(s, now, policy) is not None
        }
        _save_states(self.state_path, self._states)

    def _failed(
        self, user_id: str, user: StaffUser | None, ward: str | None, event: AuditEvent
    ) -> LoginFailure:
        now = self.clock()
        key = state_key(user_id)
        state = record_failure(self._states.get(key), now, self.policy)
        laptop = record_laptop_failure(self._states.get(LAPTOP_KEY), now, self.policy)
        self._states[LAPTOP_KEY] = laptop
        self._set_state(key, state)
        who = user.user_id if user else None
        details: dict[str, object] = {"reason": FailureReason.BAD_CREDENTIALS.value}
        details["failures"] = state.failures
        details["laptop_failures"] = laptop.failures
        if user is None:
            details["unknown_id_sha256"] = key[:12]
        self._audit(event, user=who, ward=ward, details=details)
        if laptop.failures == self.policy.laptop_failures:
            # Once per episode: from now on every attempt on this laptop waits.
            self._audit(
                AuditEvent.LOGIN_THROTTLED,
                ward=ward,
                details={
                    "laptop_failures": laptop.failures,
                    "within_minutes": int(self.policy.lockout.total_seconds() // 60),
                },
            )
        if state.locked_until is not None:
            self._audit(
                AuditEvent.LOCKOUT,
                user=who,
                ward=ward,
                details={
                    "until": state.locked_until.isoformat(),
                    "failures": state.failures,
                    **({"unknown_id_sha256": key[:12]} if user is None else {}),
                },
            )
            return LoginFailure(FailureReason.LOCKED, state.locked_until - now, state.locked_until)
        laptop_wait = check_laptop(laptop, now, self.policy)
        delay = retry_delay(state.failures)
        if laptop_wait is not None and laptop_wait.retry_after is not None:
            delay = max(delay, laptop_wait.retry_after)
        return LoginFailure(FailureReason.BAD_CREDENTIALS, delay)

    def _blocked(
        self, user_id: str, user: StaffUser | None, ward: str | None
    ) -> LoginFailure | None:
        now = self.clock()
        self._merge_saved()
        refusal = check_laptop(self._states.get(LAPTOP_KEY), now, self.policy) or check_allowed(
            self._states.get(state_key(user_id)), now, self.policy
        )
        if refusal is not None:
            self._audit(
                AuditEvent.LOGIN_FAILED,
                user=user.user_id if user else None,
                ward=ward,
                details={"reason": refusal.reason.value},
            )
        return refusal

    def _new_session(
        self, user_id: str, name: str, role: Role, ward: str, *, reason: str | None = None
    ) -> Session:
        now = self.clock()
        return Session(
            session_id=secrets.token_hex(8),
            user_id=user_id,
            display_name=name,
            role=role,
            ward=ward,
            started_at=now,
            last_activity=now,
            idle_after=timedelta(minutes=self.settings.idle_lock_minutes),
            break_glass=reason is not None,
            break_glass_reason=reason,
        )

    # -- public API -----------------------------------------------------------------------

    def login(
        self,
        user_id: str,
        password: str,
        ward: str,
        *,
        precomputed: PasswordCheck | None = None,
    ) -> Session | LoginFailure:
        """Log `user_id` in on `ward`. Side effects: audit entries; login counters file.

        `precomputed`: an Argon2id check of `password` started before this call (`wardcopy
        print` starts it from `sync.rosterlogin.login_preview` before this module loads). Every
        rule below applies as without it; the password check uses its result only for exactly
        the verifier found here (`sync.keys.verify_password`), and for an unknown id its verifier
        serves as the dummy (it never matches: an unknown id fails whatever the check says).

        Returns a LoginFailure for empty input, no roster, rate limiting, lockout, wrong
        credentials, a disabled account or a ward the user may not open. Raises AuditError if
        the audit log cannot be written (no access without a record).
        """
        user_id = user_id.strip()
        if not user_id or not password:
            return LoginFailure(FailureReason.EMPTY)
        if self.roster is None:
            reason = FailureReason.NO_ROSTER
            self._audit(AuditEvent.LOGIN_FAILED, ward=ward, details={"reason": reason.value})
            return LoginFailure(FailureReason.NO_ROSTER)
        user = self.roster.find(user_id)
        blocked = self._blocked(user_id, user, ward)
        if blocked is not None:
            return blocked
        verifier: VerifierFields
        if user is not None:
            verifier = user.verifier
        elif precomputed is not None:
            verifier = precomputed.verifier
        else:
            verifier = self._dummy_verifier()
        if not verify_password(password, verifier, precomputed=precomputed) or user is None:
            return self._failed(user_id, user, ward, AuditEvent.LOGIN_FAILED)
        self._set_state(state_key(user_id), None)
        if user.disabled or not user.may_open(ward):
            reason = FailureReason.DISABLED if user.disabled else FailureReason.WARD_NOT_PERMITTED
            self._audit(
                AuditEvent.LOGIN_REFUSED,
                user=user.user_id,
                ward=ward,
                details={"reason": reason.value},
            )
            return LoginFailure(reason)
        session = self._new_session(user.user_id, user.display_name, user.role, ward)
        self._audit(
            AuditEvent.LOGIN,
            user=user.user_id,
            ward=ward,
            details={"session": session.session_id, "role": user.role.value},
        )
        return session

    def break_glass(
        self, name: str, reason: str, ward: str, role: Role | None = None
    ) -> Session | LoginFailure:
        """Emergency access without a roster account, if allowed. Side effect: audit entry.

        `name` (3-100 characters) is the person's full name and `reason` (5-500 characters) why
        access is needed; both are recorded. The session is marked `break_glass=True` and its
        user id is "break-glass:<name>". `role` must be one of `break_glass_roles()` (default:
        the first). Returns a LoginFailure if not allowed or the input is insufficient.
        """
        name_text = _clean_text(name)
        reason_text = _clean_text(reason)
        chosen = role or self.break_glass_roles()[0]
        if not self.break_glass_available():
            self._audit(
                AuditEvent.BREAK_GLASS_REFUSED,
                user=BREAK_GLASS_USER_PREFIX + name_text[:100],
                ward=ward,
                details={"reason_given": reason_text[:500], "why": "not allowed"},
            )
            return LoginFailure(FailureReason.BREAK_GLASS_NOT_ALLOWED)
        if (
            not NAME_LENGTH[0] <= len(name_text) <= NAME_LENGTH[1]
            or not REASON_LENGTH[0] <= len(reason_text) <= REASON_LENGTH[1]
            or chosen not in self.break_glass_roles()
        ):
            return LoginFailure(FailureReason.BREAK_GLASS_INVALID)
        session = self._new_session(
            BREAK_GLASS_USER_PREFIX + name_text, name_text, chosen, ward, reason=reason_text
        )
        self._audit(
            AuditEvent.BREAK_GLASS,
            user=session.user_id,
            ward=ward,
            details={
                "session": session.session_id,
                "role": chosen.value,
                "reason_given": reason_text,
            },
        )
        return session

    def lock(self, session: Session, why: str = "idle") -> None:
        """Lock the screen of `session` (idle timeout or the user's choice). Audited."""
        if session.locked:
            return
        session.locked = True
        self._audit(
            AuditEvent.IDLE_LOCK,
            user=session.audit_user,
            ward=session.ward,
            details={"session": session.session_id, "why": why},
        )

    def unlock(self, session: Session, password: str) -> Session | LoginFailure:
        """Unlock `session` with its user's password; rate limited like `login`. Audited.

        A break-glass session cannot be unlocked (there is no password): the UI logs it out and
        the person starts break-glass again with a fresh reason.
        """
        if session.break_glass:
            return LoginFailure(FailureReason.BREAK_GLASS_RELOGIN)
        if not password:
            return LoginFailure(FailureReason.EMPTY)
        user = self.roster.find(session.user_id) if self.roster else None
        blocked = self._blocked(session.user_id, user, session.ward)
        if blocked is not None:
            return blocked
        if user is None or not verify_password(password, user.verifier):
            return self._failed(session.user_id, user, session.ward, AuditEvent.UNLOCK_FAILED)
        self._set_state(state_key(session.user_id), None)
        if user.disabled or not user.may_open(session.ward):
            self._audit(
                AuditEvent.LOGIN_REFUSED,
                user=user.user_id,
                ward=session.ward,
                details={"reason": "disabled" if user.disabled else "ward_not_permitted"},
            )
            return LoginFailure(
                FailureReason.DISABLED if user.disabled else FailureReason.WARD_NOT_PERMITTED
            )
        session.locked = False
        session.touch(self.clock())
        self._audit(
            AuditEvent.UNLOCK,
            user=user.user_id,
            ward=session.ward,
            details={"session": session.session_id},
        )
        return session

    def logout(self, session: Session, why: str = "user") -> None:
        """End `session` ("user", "idle", "shutdown"). Audited with the session's duration."""
        now = self.clock()
        self._audit(
            AuditEvent.LOGOUT,
            user=session.audit_user,
            ward=session.ward,
            details={
                "session": session.session_id,
                "why": why,
                "minutes": int((now - session.started_at).total_seconds() // 60),
            },
        )
        session.locked = True
        session.ended_at = now


def laptop_authenticator(
    home: Path, settings: Settings, audit: AuditLog | None = None
) -> tuple[Authenticator, str | None]:
    """The Authenticator the viewer uses on the laptop at `home`: the installed roster
    re-verified against the pinned server key, the same login counters file (so a lockout in
    the viewer holds on the command line and back) and the same audit log.

    Returns (authenticator, problem): `problem` says why the roster could not be used (then
    only break-glass can work, where the settings allow it). Side effect: reads the roster,
    the pinned key and the counters file.
    """
    from sync import device
    from sync.roster import RosterError, load_installed_roster

    roster: Roster | None = None
    problem: str | None = None
    try:
        pinned = device.pinned_server_key(home)
        if pinned is None:
            problem = "no server key is pinned on this laptop (wardcopy device trust)"
        else:
            roster = load_installed_roster(home / "roster", pinned)
            if roster is None:
                problem = "no staff roster is installed (wardcopy receive installs it)"
    except (RosterError, device.DeviceError, OSError) as exc:
        problem = str(exc)
    return Authenticator(roster, settings, audit or AuditLog(home)), problem

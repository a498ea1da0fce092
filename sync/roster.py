"""The staff roster for offline login: users, roles, wards, Argon2id password verifiers; signed.

Two sides use this module:

- The sync server keeps the roster's *source* in `<sync home>/roster.json` (mode 0600) and edits
  it with `wardcopy-sync users add|passwd|import|list|remove` (functions `add_user`,
  `set_password`, `remove_user`, `disable_user`, `import_csv`, `load_roster_source`,
  `save_roster_source`). `seal_roster` signs it as a `roster` document
  (docs/package-format.md §7) that travels with the packages.
- The laptop verifies it with the pinned server key (`open_roster`), refuses an older roster
  than the one it has (`install_roster`), and keeps the signed bytes in `<laptop home>/roster/`
  so it is re-verified every time it is loaded (`load_installed_roster`).

Passwords never leave this module except as Argon2id verifiers (`sync.verifier.hash_password`);
no function here prints, logs or returns a password.

The roster body is JSON of `Roster` (keys sorted). Every mutation bumps `sequence` (to at least
the current Unix time, so a re-created source still outranks what laptops have) and sets
`issued_at`; the signed document's sequence equals the roster's.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Literal

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sync import fsutil
from sync.keys import ARGON2_DEFAULT, Argon2Cost
from sync.package import PackageError, TrustedKey, parse_document, seal_document
from sync.rosterlogin import INSTALLED_FILE as INSTALLED_FILE
from sync.rosterlogin import ROSTER_KIND as ROSTER_KIND
from sync.rosterlogin import user_key
from sync.verifier import PasswordVerifier, hash_password

# Lines name sequences and counts: never user ids, names or password verifiers.
log = logging.getLogger(__name__)

ROSTER_FORMAT: Literal[1] = 1
SOURCE_FILE = "roster.json"
ALL_WARDS = "*"
MIN_PASSWORD_LENGTH = 8

USER_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
WARD_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")  # as in docs/package-format.md §1


class RosterError(Exception):
    """A roster operation failed; the message names the user, file or line and what to do."""


class Role(StrEnum):
    NURSE = "nurse"
    PHYSICIAN = "physician"
    ADMIN = "admin"


class _Model(BaseModel):
    # Unknown fields are ignored, as in sync.model: a newer server may add optional fields
    # without locking every older laptop out. A change that RESTRICTS access (which an older
    # laptop must not ignore) requires a new `Roster.version`, which older laptops refuse.
    model_config = ConfigDict(extra="ignore", frozen=True)


class BreakGlassPolicy(_Model):
    """Hospital policy for emergency access without a roster account.

    `roles` are the roles a break-glass user may act in (the first is the default); admin is
    never allowed, because break-glass must not open the laptop's settings.
    """

    allowed: bool = False
    roles: tuple[Role, ...] = (Role.NURSE, Role.PHYSICIAN)

    @field_validator("roles")
    @classmethod
    def _no_admin(cls, roles: tuple[Role, ...]) -> tuple[Role, ...]:
        if Role.ADMIN in roles:
            raise ValueError("break-glass may not grant the admin role")
        if not roles:
            raise ValueError("break-glass needs at least one role (nurse or physician)")
        return roles


class StaffUser(_Model):
    """One member of staff who may log in on the ward laptops."""

    user_id: str = Field(description="login name; unique, compared case-insensitively")
    display_name: str = Field(min_length=1, max_length=100)
    role: Role
    wards: tuple[str, ...] = Field(description='ward ids this user may open; "*" = all wards')
    verifier: PasswordVerifier
    disabled: bool = False

    @field_validator("user_id")
    @classmethod
    def _user_id(cls, value: str) -> str:
        if not USER_ID_RE.fullmatch(value):
            raise ValueError(
                f"user id {value!r} must be 1-64 letters, digits or . _ @ - "
                "(starting with a letter or digit)"
            )
        return value

    @field_validator("display_name")
    @classmethod
    def _display_name(cls, value: str) -> str:
        value = value.strip()
        if not value or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            raise ValueError("display name must be non-empty text without control characters")
        return value

    @field_validator("wards")
    @classmethod
    def _wards(cls, wards: tuple[str, ...]) -> tuple[str, ...]:
        if not wards:
            raise ValueError('a user needs at least one ward (or "*" for all wards)')
        for ward in wards:
            if ward != ALL_WARDS and not WARD_RE.fullmatch(ward):
                raise ValueError(f"ward id {ward!r} is not valid (letters, digits, . _ -)")
        return tuple(dict.fromkeys(wards))

    def may_open(self, ward: str) -> bool:
        """Pure: whether this user's wards include `ward` (case-insensitive; "*" = every ward)."""
        wanted = ward.casefold()
        return any(w == ALL_WARDS or w.casefold() == wanted for w in self.wards)


class Roster(_Model):
    """The signed staff roster (the body of a `roster` document)."""

    version: Literal[1] = ROSTER_FORMAT
    hospital: str = Field(default="", max_length=200)
    issued_at: datetime
    sequence: int = Field(ge=0)
    break_glass: BreakGlassPolicy = Field(default_factory=BreakGlassPolicy)
    users: tuple[StaffUser, ...] = ()

    @field_validator("issued_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("issued_at must include a time zone")
        return value.astimezone(UTC)

    @model_validator(mode="after")
    def _unique_ids(self) -> Roster:
        seen: set[str] = set()
        for user in self.users:
            key = user_key(user.user_id)
            if key in seen:
                raise ValueError(f"user id {user.user_id!r} appears twice in the roster")
            seen.add(key)
        return self

    def find(self, user_id: str) -> StaffUser | None:
        """Pure: the user with this id (case-insensitive, surrounding spaces ignored), or None."""
        wanted = user_key(user_id)
        for user in self.users:
            if user_key(user.user_id) == wanted:
                return user
        return None

    def to_json(self) -> bytes:
        """Pure: the roster as JSON bytes with sorted keys (the signed document body)."""
        return orjson.dumps(self.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)

    @classmethod
    def from_json(cls, data: bytes, what: str = "roster") -> Roster:
        """Parse roster JSON. Raises RosterError naming `what` and the first problems."""
        try:
            return cls.model_validate_json(data)
        except ValidationError as exc:
            raise RosterError(f"{what} is not a valid roster: {_first_errors(exc)}") from None


def _first_errors(exc: ValidationError, limit: int = 3) -> str:
    parts = []
    for err in exc.errors()[:limit]:
        where = ".".join(str(p) for p in err["loc"])
        # err["input"] is deliberately not shown: it could be a password field.
        parts.append(f"{where}: {err['msg']}" if where else err["msg"])
    return "; ".join(parts)


def _utcnow() -> datetime:
    return datetime.now(UTC)


# --- pure edits (each returns a new roster with a higher sequence) ---------------------------


def new_roster(hospital: str = "", now: datetime | None = None) -> Roster:
    """Pure apart from the clock: an empty roster (nobody can log in yet)."""
    moment = now or _utcnow()
    return Roster(hospital=hospital, issued_at=moment, sequence=0)


def _bumped(roster: Roster, now: datetime | None, **changes: object) -> Roster:
    moment = (now or _utcnow()).astimezone(UTC)
    # At least the Unix time: a roster source re-created from scratch still outranks the
    # roster the laptops already trust (they refuse lower sequences).
    sequence = max(roster.sequence + 1, int(moment.timestamp()))
    data = roster.model_dump()
    data.update(changes, sequence=sequence, issued_at=moment)
    return Roster.model_validate(data)


def check_password_policy(password: str) -> None:
    """Raise RosterError if the password is too weak to issue (the message never repeats it)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise RosterError(f"password too short: use at least {MIN_PASSWORD_LENGTH} characters")
    if password.strip() != password:
        raise RosterError("password must not start or end with spaces")


def _make_user(
    user_id: str,
    display_name: str,
    role: Role | str,
    wards: Iterable[str],
    verifier: PasswordVerifier,
    disabled: bool = False,
) -> StaffUser:
    try:
        return StaffUser(
            user_id=user_id.strip(),
            display_name=display_name,
            role=_parse_role(role),
            wards=tuple(w.strip() for w in wards if w.strip()),
            verifier=verifier,
            disabled=disabled,
        )
    except ValidationError as exc:
        raise RosterError(f"user {user_id!r}: {_first_errors(exc)}") from None


def _parse_role(role: Role | str) -> Role:
    try:
        return Role(str(role).strip().lower())
    except ValueError:
        raise RosterError(
            f"role {role!r} is not one of {', '.join(r.value for r in Role)}"
        ) from None


def add_user(
    roster: Roster,
    user_id: str,
    display_name: str,
    role: Role | str,
    wards: Iterable[str],
    password: str,
    *,
    now: datetime | None = None,
    cost: Argon2Cost = ARGON2_DEFAULT,
) -> Roster:
    """Return `roster` with a new user. Raises RosterError if the id exists or a field is invalid.

    The password is turned into an Argon2id verifier (about 0.2 s at the default cost).
    """
    if roster.find(user_id) is not None:
        raise RosterError(
            f"user {user_id.strip()!r} already exists: use `users passwd` to change the password"
        )
    check_password_policy(password)
    user = _make_user(user_id, display_name, role, wards, hash_password(password, cost))
    return _bumped(roster, now, users=(*roster.users, user))


def _replace_user(
    roster: Roster, user_id: str, now: datetime | None, edit: Callable[[StaffUser], StaffUser]
) -> Roster:
    current = roster.find(user_id)
    if current is None:
        raise RosterError(f"no user {user_id.strip()!r} in the roster (see `users list`)")
    users = tuple(edit(u) if u is current else u for u in roster.users)
    return _bumped(roster, now, users=users)


def set_password(
    roster: Roster,
    user_id: str,
    password: str,
    *,
    now: datetime | None = None,
    cost: Argon2Cost = ARGON2_DEFAULT,
) -> Roster:
    """Return `roster` with a new password verifier for `user_id`. Raises RosterError."""
    check_password_policy(password)
    verifier = hash_password(password, cost)
    return _replace_user(
        roster, user_id, now, lambda u: u.model_copy(update={"verifier": verifier})
    )


def update_user(
    roster: Roster,
    user_id: str,
    *,
    display_name: str | None = None,
    role: Role | str | None = None,
    wards: Iterable[str] | None = None,
    now: datetime | None = None,
) -> Roster:
    """Return `roster` with the given fields of `user_id` changed. Raises RosterError."""

    def edit(user: StaffUser) -> StaffUser:
        return _make_user(
            user.user_id,
            display_name if display_name is not None else user.display_name,
            role if role is not None else user.role,
            wards if wards is not None else user.wards,
            user.verifier,
            user.disabled,
        )

    return _replace_user(roster, user_id, now, edit)


def disable_user(
    roster: Roster, user_id: str, disabled: bool = True, *, now: datetime | None = None
) -> Roster:
    """Return `roster` with `user_id` disabled (or enabled again). Raises RosterError.

    Disabling keeps the user in the roster so that audit entries still resolve to a name.
    """
    return _replace_user(
        roster, user_id, now, lambda u: u.model_copy(update={"disabled": disabled})
    )


def remove_user(roster: Roster, user_id: str, *, now: datetime | None = None) -> Roster:
    """Return `roster` without `user_id`. Raises RosterError if there is no such user."""
    current = roster.find(user_id)
    if current is None:
        raise RosterError(f"no user {user_id.strip()!r} in the roster (see `users list`)")
    return _bumped(roster, now, users=tuple(u for u in roster.users if u is not current))


def set_break_glass(
    roster: Roster,
    allowed: bool,
    roles: Iterable[Role | str] | None = None,
    *,
    now: datetime | None = None,
) -> Roster:
    """Return `roster` with a new break-glass policy. Raises RosterError (e.g. admin role)."""
    try:
        policy = BreakGlassPolicy(
            allowed=allowed,
            roles=tuple(_parse_role(r) for r in roles)
            if roles is not None
            else roster.break_glass.roles,
        )
    except ValidationError as exc:
        raise RosterError(f"break-glass policy: {_first_errors(exc)}") from None
    return _bumped(roster, now, break_glass=policy)


# --- CSV import ---------------------------------------------------------------------------------


@dataclass
class ImportResult:
    """What `import_csv` did. `errors` are per line ("line 4: ..."); they never contain a
    password. `roster` has every valid line applied; a caller that wants all-or-nothing saves
    it only when `errors` is empty."""

    roster: Roster
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


_REQUIRED_COLUMNS = ("user_id", "display_name", "role", "wards")
_PASSWORD_COLUMNS = ("password", "initial_password")


def import_csv(
    roster: Roster,
    path: Path,
    *,
    now: datetime | None = None,
    cost: Argon2Cost = ARGON2_DEFAULT,
) -> ImportResult:
    """Add or update users from a CSV file.

    Columns (header row, any order, case-insensitive): user_id, display_name, role
    (nurse|physician|admin), wards (ward ids separated by ";", or "*"), and password or
    initial_password. The delimiter is "," or ";" or tab, detected from the header (German
    spreadsheet programs save with ";"; then quote the wards cell). UTF-8, with or without BOM.
    Optional column `disabled` (yes/no, true/false, 1/0, ja/nein).

    A new user needs a password; for an existing user the row updates name, role and wards, and
    the password only if the cell is not empty. Bad rows are skipped and reported.
    Raises RosterError only if the file cannot be read or lacks required columns.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise RosterError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError:
        raise RosterError(f"{path} is not UTF-8 text: save it as 'CSV UTF-8'") from None
    header_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=header_line.count)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    columns = {(name or "").strip().lower(): name for name in reader.fieldnames or []}
    missing = [c for c in _REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise RosterError(
            f"{path}: missing column(s) {', '.join(missing)}; expected a header row with "
            f"{', '.join(_REQUIRED_COLUMNS)} and password"
        )
    password_column = next((columns[c] for c in _PASSWORD_COLUMNS if c in columns), None)
    result = ImportResult(roster=roster)
    seen: set[str] = set()
    try:
        for row in reader:
            line = reader.line_num
            if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
                continue  # blank line
            try:
                _import_row(row, columns, password_column, seen, result, now, cost)
            except RosterError as exc:
                result.errors.append(f"line {line}: {exc}")
    except csv.Error as exc:
        # Malformed CSV (e.g. an unterminated quote): keep what was read, report where it broke.
        result.errors.append(f"line {reader.line_num}: not valid CSV ({exc}); rest of file skipped")
    return result


def _cell(row: dict[str, str | None], columns: dict[str, str], name: str) -> str:
    key = columns.get(name)
    value = row.get(key) if key is not None else None
    return value.strip() if isinstance(value, str) else ""


_YES = {"yes", "true", "1", "ja", "y", "j"}
_NO = {"no", "false", "0", "nein", "n", ""}


def _import_row(
    row: dict[str, str | None],
    columns: dict[str, str],
    password_column: str | None,
    seen: set[str],
    result: ImportResult,
    now: datetime | None,
    cost: Argon2Cost,
) -> None:
    user_id = _cell(row, columns, "user_id")
    if not user_id:
        raise RosterError("user_id is empty")
    if user_id.casefold() in seen:
        raise RosterError(f"user {user_id!r} appears more than once in the file")
    seen.add(user_id.casefold())
    display_name = _cell(row, columns, "display_name")
    role = _parse_role(_cell(row, columns, "role"))
    wards = [w for w in _cell(row, columns, "wards").split(";") if w.strip()]
    disabled_text = _cell(row, columns, "disabled").lower()
    if disabled_text not in _YES | _NO:
        raise RosterError(f"disabled must be yes or no, not {disabled_text!r}")
    disabled = disabled_text in _YES
    raw_password = row.get(password_column) if password_column else None
    # Passwords are used as typed (no strip), but an all-blank cell means "no password given".
    password = raw_password if isinstance(raw_password, str) and raw_password.strip() else None
    existing = result.roster.find(user_id)
    if existing is None:
        if password is None:
            raise RosterError(f"new user {user_id!r} needs a password")
        check_password_policy(password)
        user = _make_user(
            user_id, display_name, role, wards, hash_password(password, cost), disabled
        )
        result.roster = _bumped(result.roster, now, users=(*result.roster.users, user))
        result.added.append(user.user_id)
        return
    if password is not None:
        check_password_policy(password)
    verifier = hash_password(password, cost) if password is not None else existing.verifier
    updated = _make_user(existing.user_id, display_name, role, wards, verifier, disabled)
    result.roster = _bumped(
        result.roster,
        now,
        users=tuple(updated if u is existing else u for u in result.roster.users),
    )
    result.updated.append(updated.user_id)


# --- files on the sync server -------------------------------------------------------------------


def _write_private(path: Path, data: bytes) -> None:
    """Atomically replace `path` with `data`, mode 0600 (`sync.fsutil.atomic_write`), creating
    its folder (0700) if needed. Raises RosterError naming the file."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fsutil.atomic_write(path, data, 0o600)
    except OSError as exc:
        raise RosterError(f"cannot write {path}: {exc.strerror or exc}") from exc


def roster_source_path(sync_home: Path) -> Path:
    """Pure: where the sync server keeps the roster's source."""
    return sync_home / SOURCE_FILE


def load_roster_source(sync_home: Path, *, hospital: str = "") -> Roster:
    """Read `<sync home>/roster.json`; an empty roster if it does not exist yet.

    Raises RosterError naming the file if it is unreadable or invalid.
    """
    path = roster_source_path(sync_home)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return new_roster(hospital)
    except OSError as exc:
        raise RosterError(f"cannot read roster source {path}: {exc.strerror or exc}") from exc
    return Roster.from_json(data, what=f"roster source {path}")


def save_roster_source(sync_home: Path, roster: Roster) -> Path:
    """Write `<sync home>/roster.json` atomically with mode 0600 (it holds password verifiers).

    Raises RosterError naming the file if it cannot be written.
    """
    path = roster_source_path(sync_home)
    data = orjson.dumps(roster.model_dump(mode="json"), option=orjson.OPT_INDENT_2) + b"\n"
    _write_private(path, data)
    return path


def list_users(roster: Roster) -> list[dict[str, str]]:
    """Pure: one row per user for `users list` (no verifiers), sorted by user id."""
    return [
        {
            "user_id": u.user_id,
            "display_name": u.display_name,
            "role": u.role.value,
            "wards": ";".join(u.wards),
            "status": "disabled" if u.disabled else "active",
        }
        for u in sorted(roster.users, key=lambda u: u.user_id.casefold())
    ]


# --- signing and verifying -----------------------------------------------------------------------


def seal_roster(roster: Roster, signing_key: Ed25519PrivateKey) -> bytes:
    """Pure: the roster as a signed `roster` document (its sequence = the roster's).

    Raises RosterError if the roster was never edited (sequence 0): laptops need a sequence >= 1
    to order rosters.
    """
    if roster.sequence < 1:
        raise RosterError("the roster is empty and unissued: add users first (`users add`)")
    log.debug("sealing roster sequence %d (%d users)", roster.sequence, len(roster.users))
    return seal_document(
        ROSTER_KIND,
        roster.to_json(),
        signing_key,
        sequence=roster.sequence,
        created_at=roster.issued_at,
    )


def open_roster(data: bytes, trusted_key: TrustedKey) -> Roster:
    """Verify a signed roster document with the pinned server key and parse it.

    Raises RosterError if the signature, kind, hash or body is wrong (wrapping the PackageError),
    or if the body's sequence differs from the signed document sequence.
    """
    try:
        document = parse_document(data, trusted_key, ROSTER_KIND)
    except PackageError as exc:
        log.info("signed roster refused (%s)", exc.reason)
        raise RosterError(f"roster refused: {exc}") from exc
    roster = Roster.from_json(document.body, what="signed roster")
    if roster.sequence != document.sequence:
        raise RosterError(
            f"roster refused: body sequence {roster.sequence} differs from the signed "
            f"sequence {document.sequence}"
        )
    return roster


# --- files on the laptop -------------------------------------------------------------------------


def installed_roster_path(roster_dir: Path) -> Path:
    """Pure: where the laptop keeps the last verified signed roster."""
    return roster_dir / INSTALLED_FILE


def load_installed_roster(roster_dir: Path, trusted_key: TrustedKey) -> Roster | None:
    """Re-verify and return the installed roster, or None if none is installed.

    Raises RosterError if the file is unreadable or fails verification (tampered on disk).
    """
    path = installed_roster_path(roster_dir)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise RosterError(f"cannot read installed roster {path}: {exc.strerror or exc}") from exc
    try:
        return open_roster(data, trusted_key)
    except RosterError as exc:
        raise RosterError(f"installed roster {path}: {exc}") from exc


def install_roster(roster_dir: Path, data: bytes, trusted_key: TrustedKey) -> tuple[Roster, bool]:
    """Verify `data` and make it the laptop's roster unless it is older than the installed one.

    Returns (the roster now in force, whether `data` was installed). An identical sequence is
    not re-installed. Raises RosterError if `data` fails verification or is OLDER than the
    installed roster (rollback), or if the file cannot be written. An installed roster that no
    longer verifies is replaced by a valid new one.
    Side effects: writes `<roster_dir>/roster.wcdoc` (0600) atomically.
    """
    new = open_roster(data, trusted_key)
    try:
        current = load_installed_roster(roster_dir, trusted_key)
    except RosterError:
        current = None  # a damaged installed copy must not block a valid newer roster
    if current is not None:
        if new.sequence < current.sequence:
            log.info(
                "roster sequence %d refused: older than the installed %d",
                new.sequence,
                current.sequence,
            )
            raise RosterError(
                f"roster refused: sequence {new.sequence} is older than the installed "
                f"{current.sequence} (rollback)"
            )
        if new.sequence == current.sequence:
            log.debug("roster sequence %d already installed", new.sequence)
            return current, False
    _write_private(installed_roster_path(roster_dir), data)
    log.info("roster sequence %d installed (%d users)", new.sequence, len(new.users))
    return new, True

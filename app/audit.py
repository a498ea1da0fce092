"""The laptop's append-only, hash-chained access log (`<home>/audit/`).

Every login, logout, failed login, lockout, break-glass access, patient opened, print and
snapshot install is one entry. The format is documented in docs/viewer.md ("Audit log"):

- `audit/audit.jsonl`: one entry per line, UTF-8 JSON with sorted keys and no spaces:
  `{"details":{...},"event":"login","hash":"<hex>","patient_id":null,"prev_hash":"<hex>",
  "seq":1,"time":"2026-03-07T13:05:00.123Z","user":"anna.k","ward":"station-3a"}`.
  `hash` = SHA-256 (hex) of that same canonical JSON without the `hash` member (so it covers
  `prev_hash`); `prev_hash` of the first entry is 64 zeros; `seq` counts from 1 without gaps.
- `audit/HEAD`: `{"hash":"<hex>","seq":N}` of the newest entry, replaced atomically after each
  append, so that removing the newest entries (which leaves a valid shorter chain) is detected.
- The *mark*: the same `{"hash","seq"}` kept outside `audit/`, as the member "audit" of
  `<home>/login-state.json` (the file the login counters live in), moved forward by every
  login-path and install-path entry (`append(..., mark=True)`). Deleting `audit/`, rolling both
  files back to an older copy, or cutting the newest entries and rewriting HEAD leaves a log
  shorter than the mark, which `verify` reports. It only ever moves forward.

An entry and its HEAD are written both or neither: if HEAD cannot be written (a full disk), the
entry is cut off the log again and `append` raises, so a full disk never reads as tampering.

Each entry is fsynced before `append` returns: an access must stay on record even if the laptop
loses power right after. Appends from several processes (viewer, `wardcopy receive`) are
serialised with an OS file lock on `audit/.lock`.

What this detects: an entry edited, removed, inserted, reordered, or the tail cut off, by
anyone who does not also recompute every later hash and the head. A local administrator can
rewrite the whole file consistently; export the log regularly to the hospital (`export`) so
that a copy exists outside the laptop.

The log holds user ids, ward ids and patient ids (not names). It must never hold passwords or
keys: `append` refuses detail fields named like secrets.
"""

from __future__ import annotations

import csv
import errno
import hashlib
import io
import logging
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import orjson

from app.paths import audit_dir, ensure_private_dir
from sync import fsutil

log = logging.getLogger(__name__)

LOG_FILE = "audit.jsonl"
HEAD_FILE = "HEAD"
# The mark lives in the login counters' file (app.auth writes it too and keeps this member).
MARK_FILE = "login-state.json"
MARK_MEMBER = "audit"
LOCK_FILE = ".lock"
GENESIS_HASH = "0" * 64
EXPORT_FORMAT = "wardcopy-audit-export/1"
_FIELDS = ("details", "event", "hash", "patient_id", "prev_hash", "seq", "time", "user", "ward")
_EVENT_RE = re.compile(r"[a-z][a-z0-9_.-]{0,63}")
_HEX64_RE = re.compile(r"[0-9a-f]{64}")
# Detail keys that smell of secrets. "key_id" and similar identifiers stay allowed.
_SECRET_KEY_RE = re.compile(r"pass(word|wd|phrase)|secret|token|credential|(^|_)key$", re.I)
_TAIL_BYTES = 64 * 1024
# A laptop clock that jumps back more than this between entries is reported as a warning.
_CLOCK_BACK_TOLERANCE = timedelta(minutes=5)


class AuditEvent(StrEnum):
    """Event names in use. Other modules may log other names matching [a-z][a-z0-9_.-]*."""

    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGIN_REFUSED = "login_refused"  # right password, but disabled or ward not permitted
    LOCKOUT = "lockout"
    LOGIN_THROTTLED = "login_throttled"  # too many failures on this laptop over all user ids
    LOGOUT = "logout"
    IDLE_LOCK = "idle_lock"
    UNLOCK = "unlock"
    UNLOCK_FAILED = "unlock_failed"
    BREAK_GLASS = "break_glass"
    BREAK_GLASS_REFUSED = "break_glass_refused"
    PATIENT_OPEN = "patient_open"
    SEARCH = "search"
    PRINT = "print"
    PRINT_FAILED = "print_failed"  # follows a "print" whose document never reached paper or file
    INSTALL = "install"
    INSTALL_REPAIRED = "install_repaired"  # a damaged current package reinstalled
    INSTALL_REFUSED = "install_refused"  # a package looked at and rejected (rollback, signature)
    SETTINGS_CHANGE = "settings_change"
    AUDIT_EXPORT = "audit_export"


class AuditError(Exception):
    """The audit log cannot be written or read; the message names the file."""


@dataclass(frozen=True)
class AuditEntry:
    """One verified-shape entry of the log."""

    seq: int
    time: str  # UTC, "YYYY-MM-DDTHH:MM:SS.mmmZ"
    prev_hash: str
    event: str
    user: str | None
    ward: str | None
    patient_id: str | None
    details: dict[str, Any]
    hash: str

    def to_dict(self) -> dict[str, Any]:
        """Pure: the entry as stored (with `hash`)."""
        return {
            "details": self.details,
            "event": self.event,
            "hash": self.hash,
            "patient_id": self.patient_id,
            "prev_hash": self.prev_hash,
            "seq": self.seq,
            "time": self.time,
            "user": self.user,
            "ward": self.ward,
        }

    @property
    def moment(self) -> datetime:
        """The entry's time as an aware UTC datetime (ValueError if malformed)."""
        return _parse_time(self.time)


@dataclass(frozen=True)
class Problem:
    """One finding of `verify`. Errors mean tampering or damage; warnings mean something odd
    that also has an innocent explanation (a crash, a clock change)."""

    severity: Literal["error", "warning"]
    message: str
    line: int | None = None
    seq: int | None = None

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.seq is not None:
            where.append(f"seq {self.seq}")
        prefix = f"{self.severity}: " + (f"{', '.join(where)}: " if where else "")
        return prefix + self.message


# --- pure helpers --------------------------------------------------------------------------


def canonical(obj: Mapping[str, Any]) -> bytes:
    """Pure: the canonical JSON bytes used for lines and hashes (sorted keys, no spaces)."""
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)


def entry_hash(entry_without_hash: Mapping[str, Any]) -> str:
    """Pure: SHA-256 hex over the canonical JSON of an entry without its `hash` member."""
    body = {k: v for k, v in entry_without_hash.items() if k != "hash"}
    return hashlib.sha256(canonical(body)).hexdigest()


def format_time(moment: datetime) -> str:
    """Pure: "2026-03-07T13:05:00.123Z" (UTC, milliseconds). Raises ValueError if naive."""
    if moment.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def _parse_time(text: str) -> datetime:
    if not text.endswith("Z"):
        raise ValueError(f"audit time {text!r} is not UTC")
    return datetime.fromisoformat(text[:-1] + "+00:00")


def _check_details(details: Mapping[str, Any], path: str = "details") -> None:
    for key, value in details.items():
        if not isinstance(key, str):
            raise ValueError(f"{path}: keys must be strings")
        if _SECRET_KEY_RE.search(key):
            raise ValueError(f"{path}.{key}: secrets (passwords, keys, tokens) must not be audited")
        if isinstance(value, Mapping):
            _check_details(value, f"{path}.{key}")


def _entry_from_obj(obj: Any) -> AuditEntry:
    """Pure: an AuditEntry from a parsed line. Raises ValueError describing the first defect."""
    if not isinstance(obj, dict):
        raise ValueError("not a JSON object")
    keys = set(obj)
    if keys != set(_FIELDS):
        missing = sorted(set(_FIELDS) - keys)
        extra = sorted(keys - set(_FIELDS))
        raise ValueError(f"fields missing {missing} or unexpected {extra}")
    seq = obj["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise ValueError("seq is not a positive integer")
    for name in ("hash", "prev_hash"):
        if not isinstance(obj[name], str) or not _HEX64_RE.fullmatch(obj[name]):
            raise ValueError(f"{name} is not 64 lowercase hex digits")
    if not isinstance(obj["event"], str) or not _EVENT_RE.fullmatch(obj["event"]):
        raise ValueError("event is not a valid event name")
    for name in ("user", "ward", "patient_id"):
        if obj[name] is not None and not isinstance(obj[name], str):
            raise ValueError(f"{name} is not text")
    if not isinstance(obj["details"], dict):
        raise ValueError("details is not an object")
    if not isinstance(obj["time"], str):
        raise ValueError("time is not text")
    _parse_time(obj["time"])
    return AuditEntry(
        seq=seq,
        time=obj["time"],
        prev_hash=obj["prev_hash"],
        event=obj["event"],
        user=obj["user"],
        ward=obj["ward"],
        patient_id=obj["patient_id"],
        details=obj["details"],
        hash=obj["hash"],
    )


def _parse_head(data: bytes) -> tuple[int, str]:
    obj = orjson.loads(data)
    if (
        not isinstance(obj, dict)
        or set(obj) != {"seq", "hash"}
        or not isinstance(obj["seq"], int)
        or obj["seq"] < 0
        or not isinstance(obj["hash"], str)
        or not (_HEX64_RE.fullmatch(obj["hash"]))
    ):
        raise ValueError("not {seq, hash}")
    return obj["seq"], obj["hash"]


# --- file helpers --------------------------------------------------------------------------


def log_path(home: Path) -> Path:
    """Pure: the entries file."""
    return audit_dir(home) / LOG_FILE


def head_path(home: Path) -> Path:
    """Pure: the head pointer file."""
    return audit_dir(home) / HEAD_FILE


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Exclusive lock across processes (flock on POSIX, msvcrt on Windows)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if sys.platform == "win32":
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
            try:
                yield
            finally:
                os.lseek(fd, 0, os.SEEK_SET)
                msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _read_lines(path: Path) -> list[bytes]:
    """All lines of the log (without newlines); the last may be an incomplete write."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise AuditError(f"cannot read audit log {path}: {exc.strerror or exc}") from exc
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return lines


def _last_valid_in(lines: list[bytes]) -> AuditEntry | None:
    for raw in reversed(lines):
        try:
            return _entry_from_obj(orjson.loads(raw))
        except (orjson.JSONDecodeError, ValueError):
            continue
    return None


def _tail_entry(path: Path) -> tuple[AuditEntry | None, bool]:
    """The newest parseable entry and whether the file ends mid-line (interrupted write)."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            if size == 0:
                return None, False
            start = max(0, size - _TAIL_BYTES)
            handle.seek(start)
            tail = handle.read()
    except FileNotFoundError:
        return None, False
    ends_mid_line = not tail.endswith(b"\n")
    lines = tail.split(b"\n")
    if start > 0:
        lines = lines[1:]  # the first piece may be the end of a longer line
    found = _last_valid_in([ln for ln in lines if ln])
    if found is None and start > 0:
        found = _last_valid_in(_read_lines(path))  # rare: damaged tail; scan everything
    return found, ends_mid_line


def _read_head(home: Path) -> tuple[int, str] | None:
    try:
        return _parse_head(head_path(home).read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return None


def mark_path(home: Path) -> Path:
    """Pure: the file outside `audit/` that holds the mark (see the module docstring)."""
    return home / MARK_FILE


def read_mark(home: Path) -> tuple[int, str] | None:
    """The mark (seq, hash) of the newest login/install entry, or None if there is none or it
    cannot be read (a damaged file is treated as no mark; `auth` rewrites the file)."""
    try:
        obj = orjson.loads(mark_path(home).read_bytes())
        if not isinstance(obj, dict) or MARK_MEMBER not in obj:
            return None
        return _parse_head(orjson.dumps(obj[MARK_MEMBER]))
    except (OSError, ValueError):
        return None


def _write_mark(home: Path, seq: int, digest: str) -> None:
    """Move the mark forward to (seq, digest), keeping the file's other members (the login
    counters). Never moves it back. Side effect: replaces `<home>/login-state.json` atomically
    (0600). Raises OSError."""
    path = mark_path(home)
    try:
        obj = orjson.loads(path.read_bytes())
        if not isinstance(obj, dict):
            obj = {}
    except (OSError, ValueError):
        obj = {}
    current = read_mark(home)
    if current is not None and current[0] >= seq:
        return
    obj[MARK_MEMBER] = {"hash": digest, "seq": seq}
    fsutil.atomic_write(path, orjson.dumps(obj), 0o600)


def _utcnow() -> datetime:
    return datetime.now(UTC)


# --- the writer ----------------------------------------------------------------------------


class AuditLog:
    """Appends entries to `<home>/audit/`. Thread-safe and safe across processes."""

    def __init__(self, home: Path, clock: Callable[[], datetime] = _utcnow) -> None:
        """Side effect: creates `<home>/audit/` (0700). Raises OSError naming it on failure."""
        self.home = home
        self._clock = clock
        self._dir = ensure_private_dir(audit_dir(home))
        self._lock = threading.Lock()

    def append(
        self,
        event: str,
        *,
        user: str | None = None,
        ward: str | None = None,
        patient_id: str | None = None,
        details: Mapping[str, Any] | None = None,
        mark: bool = False,
    ) -> AuditEntry:
        """Append one entry, fsync it, then move the head pointer. Returns the entry.

        With `mark` (login and install paths) also moves the mark in
        `<home>/login-state.json` to this entry; a mark that cannot be written is logged, not
        raised (the entry itself is on record).

        Both or neither: if the entry or HEAD cannot be written, the log is cut back to its
        length before this call and AuditError is raised.

        Raises ValueError for an invalid event name or secret-looking detail keys (a programming
        error), AuditError naming the file if the disk refuses the write (the caller should tell
        the user: an unaudited access is not allowed to pass silently).
        """
        if not _EVENT_RE.fullmatch(event):
            raise ValueError(f"audit event {event!r} must match {_EVENT_RE.pattern}")
        detail_obj = dict(details or {})
        _check_details(detail_obj)
        path = self._dir / LOG_FILE
        with self._lock, _file_lock(self._dir / LOCK_FILE):
            prev_seq, prev_hash, ends_mid_line = self._chain_state(path)
            body: dict[str, Any] = {
                "details": detail_obj,
                "event": str(event),
                "patient_id": patient_id,
                "prev_hash": prev_hash,
                "seq": prev_seq + 1,
                "time": format_time(self._clock()),
                "user": user,
                "ward": ward,
            }
            try:
                digest = entry_hash(body)
            except TypeError as exc:  # orjson: value it cannot encode
                raise ValueError(f"audit details must be JSON values: {exc}") from None
            entry = _entry_from_obj({**body, "hash": digest})
            line = canonical(entry.to_dict()) + b"\n"
            if ends_mid_line:
                # Terminate a torn line from a crash so this entry stays on its own line;
                # verify reports the torn line.
                line = b"\n" + line
            self._write_both(path, line, entry)
            if mark:
                try:
                    _write_mark(self.home, entry.seq, entry.hash)
                except OSError as exc:
                    log.warning(
                        "cannot move the audit mark in %s: %s",
                        mark_path(self.home),
                        exc.strerror or exc,
                    )
        return entry

    def _write_both(self, path: Path, line: bytes, entry: AuditEntry) -> None:
        """Append `line` to the log and move HEAD to `entry`, or leave both as they were.
        Raises AuditError naming the file (with the OS reason, e.g. no space left)."""
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as exc:
            raise AuditError(f"cannot write audit log {path}: {exc.strerror or exc}") from exc
        try:
            size = os.fstat(fd).st_size
            try:
                written = os.write(fd, line)
                if written != len(line):
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                os.fsync(fd)
            except OSError as exc:
                self._cut_back(fd, size, path)
                raise AuditError(f"cannot write audit log {path}: {exc.strerror or exc}") from exc
            head_file = self._dir / HEAD_FILE
            try:
                fsutil.atomic_write(
                    head_file, canonical({"hash": entry.hash, "seq": entry.seq}), 0o600
                )
            except OSError as exc:
                # atomic_write fails before the rename (HEAD unchanged) or, rarely, in the
                # folder fsync after it (HEAD already moved): only the first needs undoing.
                if _read_head(self.home) != (entry.seq, entry.hash):
                    self._cut_back(fd, size, path)
                    raise AuditError(
                        f"cannot write audit head pointer {head_file}: {exc.strerror or exc}; "
                        "the entry was not recorded"
                    ) from exc
        finally:
            os.close(fd)

    @staticmethod
    def _cut_back(fd: int, size: int, path: Path) -> None:
        """Truncate the log to `size` (its length before this append) and fsync it."""
        try:
            os.ftruncate(fd, size)
            os.fsync(fd)
        except OSError as exc:  # cannot happen on a full disk (truncating frees space)
            log.error("cannot undo a partial audit entry in %s: %s", path, exc.strerror or exc)

    def _chain_state(self, path: Path) -> tuple[int, str, bool]:
        """(seq, hash) to chain the next entry to, and whether the file ends mid-line.

        If the head pointer is ahead of (or disagrees with) the file's last entry, entries were
        removed or replaced: continue from the head so the gap stays visible to `verify`
        instead of being papered over by new entries.
        """
        tail, ends_mid_line = _tail_entry(path)
        head = _read_head(self.home)
        tail_state = (tail.seq, tail.hash) if tail else (0, GENESIS_HASH)
        mark = read_mark(self.home)
        if mark is not None and mark[0] > max(tail_state[0], head[0] if head else 0):
            # The log (and HEAD) end before the mark: deleted, rolled back or cut.
            log.warning("audit log %s ends before its mark; keeping the gap", path)
            return (*mark, ends_mid_line)
        if head is None:
            return (*tail_state, ends_mid_line)
        if head[0] > tail_state[0] or (head[0] == tail_state[0] and head[1] != tail_state[1]):
            log.warning("audit log %s does not match its head pointer; keeping the gap", path)
            return (*head, ends_mid_line)
        return (*tail_state, ends_mid_line)


# --- reading and verifying -----------------------------------------------------------------


def iter_entries(home: Path) -> Iterator[AuditEntry]:
    """Every parseable entry in file order (skips damaged lines; `verify` reports them).

    Raises AuditError if the file exists but cannot be read.
    """
    for raw in _read_lines(log_path(home)):
        try:
            yield _entry_from_obj(orjson.loads(raw))
        except (orjson.JSONDecodeError, ValueError):
            continue


def _check_line(
    number: int, raw: bytes, prev: AuditEntry | None
) -> tuple[AuditEntry | None, list[Problem]]:
    """Pure: parse one line and check it against the previous valid entry."""
    try:
        obj = orjson.loads(raw)
        entry = _entry_from_obj(obj)
    except (orjson.JSONDecodeError, ValueError) as exc:
        return None, [Problem("error", f"not a valid audit entry ({exc}): damaged or torn", number)]
    found: list[Problem] = []

    def problem(message: str, severity: Literal["error", "warning"] = "error") -> None:
        found.append(Problem(severity, message, number, entry.seq))

    if entry_hash(obj) != entry.hash:
        problem("entry was changed after it was written")
    elif canonical(obj) != raw:
        problem("entry was rewritten (not in canonical form)")
    expected_seq = prev.seq + 1 if prev else 1
    if entry.seq > expected_seq:
        problem(f"entries {expected_seq}..{entry.seq - 1} are missing (removed)")
    elif entry.seq < expected_seq:
        problem(
            f"out of order: seq {entry.seq} after seq {expected_seq - 1} "
            "(inserted, duplicated or reordered)"
        )
    if entry.prev_hash != (prev.hash if prev else GENESIS_HASH):
        problem("chain broken: the entry before this one was removed, inserted or changed")
    if prev is not None and _safe_moment(entry) < _safe_moment(prev) - _CLOCK_BACK_TOLERANCE:
        problem(f"time goes back from {prev.time} to {entry.time} (clock changed?)", "warning")
    return entry, found


def _check_head(
    head_file: Path, head: tuple[int, str] | None, last: AuditEntry, hashes: dict[int, str]
) -> list[Problem]:
    """Pure apart from naming the file: compare the head pointer with the last entry."""
    if head is None:
        return [
            Problem(
                "error",
                f"head pointer {head_file} is missing: entries at the end may have been removed",
            )
        ]
    head_seq, head_hash = head
    if head_seq > last.seq:
        return [
            Problem(
                "error",
                f"the log ends at seq {last.seq} but the head pointer records seq {head_seq}: "
                f"the last {head_seq - last.seq} entries were removed",
            )
        ]
    if head_seq == last.seq and head_hash != last.hash:
        return [
            Problem(
                "error", "the last entry was replaced (head pointer hash differs)", seq=last.seq
            )
        ]
    if head_seq == last.seq - 1 and hashes.get(head_seq) == head_hash:
        return [
            Problem(
                "warning",
                "head pointer is one entry behind (write interrupted by a crash?)",
                seq=last.seq,
            )
        ]
    if head_seq < last.seq:
        return [
            Problem(
                "error",
                f"head pointer records seq {head_seq} but the log continues to seq "
                f"{last.seq}: entries were added or the head pointer was replaced",
            )
        ]
    return []


def verify(home: Path) -> list[Problem]:
    """Check the whole chain and the head pointer; return every problem found (empty = intact).

    Detects: edited entries (hash mismatch), reformatted lines, removed entries (seq gap,
    broken link), inserted or reordered entries (seq out of order, broken link), damaged or
    torn lines, a removed tail (head pointer ahead), a replaced last entry (head hash), and
    a missing head. Warns about a head one entry behind (crash between the two writes) and
    about the clock going backwards. Raises AuditError only if the log cannot be read at all.
    """
    problems: list[Problem] = []
    path = log_path(home)
    lines = _read_lines(path)
    head_file = head_path(home)
    head: tuple[int, str] | None = None
    head_damaged = False
    if head_file.exists():
        try:
            head = _parse_head(head_file.read_bytes())
        except (OSError, ValueError):
            head_damaged = True
            problems.append(Problem("error", f"head pointer {head_file} is damaged"))
    mark = read_mark(home)
    if not lines:
        if head is not None and head[0] > 0:
            problems.append(
                Problem(
                    "error",
                    f"audit log {path} is missing or empty, but the head pointer records "
                    f"{head[0]} entries: the log was deleted or emptied",
                )
            )
        elif mark is not None and mark[0] > 0:
            problems.append(
                Problem(
                    "error",
                    f"audit log {path} is missing or empty, but {mark_path(home)} records that "
                    f"entry {mark[0]} existed at the last login or install: the audit folder "
                    "was deleted or emptied",
                )
            )
        return problems
    last: AuditEntry | None = None
    hashes: dict[int, str] = {}
    torn_tail = _ends_mid_line(path)
    unreadable: list[Problem] = []  # unparseable lines since the last valid entry
    for number, raw in enumerate(lines, start=1):
        entry, found = _check_line(number, raw, last)
        if entry is None:
            unreadable.extend(found)
            continue
        # Garbage between two entries that still chain to each other hides no entry: that is
        # what a crash during `append` leaves once the next entry is written after it.
        hides_nothing = entry.seq == (last.seq + 1 if last else 1) and entry.prev_hash == (
            last.hash if last else GENESIS_HASH
        )
        problems.extend(_unreadable(unreadable, hides_nothing))
        unreadable = []
        problems.extend(found)
        hashes.setdefault(entry.seq, entry.hash)
        last = entry
    if unreadable:
        # Only a half-written final line is the signature of a crash; the head check below
        # still reports entries that went missing.
        final_torn = torn_tail and unreadable[-1].line == len(lines)
        problems.extend(unreadable[:-1] if final_torn else unreadable)
        if final_torn:
            problems.append(
                Problem("warning", "last line is incomplete (write interrupted)", len(lines))
            )
    if last is not None and not head_damaged:
        problems.extend(_check_head(head_file, head, last, hashes))
    if last is not None and mark is not None:
        problems.extend(_check_mark(mark_path(home), mark, last, hashes))
    return problems


def _check_mark(
    mark_file: Path, mark: tuple[int, str], last: AuditEntry, hashes: dict[int, str]
) -> list[Problem]:
    """Pure apart from naming the file: compare the mark (newest login/install entry, kept
    outside the audit folder) with the log."""
    mark_seq, mark_hash = mark
    if mark_seq > last.seq:
        return [
            Problem(
                "error",
                f"the log ends at seq {last.seq} but {mark_file} records that entry {mark_seq} "
                "existed at the last login or install: the newest entries were removed or the "
                "log was rolled back to an older copy",
            )
        ]
    if mark_seq in hashes and hashes[mark_seq] != mark_hash:
        return [
            Problem(
                "error",
                f"entry {mark_seq} differs from the one recorded in {mark_file} at the last "
                "login or install: the log was rewritten or replaced",
                seq=mark_seq,
            )
        ]
    return []


def _unreadable(found: list[Problem], hides_nothing: bool) -> list[Problem]:
    if not hides_nothing:
        return found
    return [
        Problem("warning", "unreadable line that hides no entry (write interrupted?)", p.line)
        for p in found
    ]


def _ends_mid_line(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            if handle.seek(0, os.SEEK_END) == 0:
                return False
            handle.seek(-1, os.SEEK_END)
            return handle.read(1) != b"\n"
    except OSError:
        return False


def has_errors(problems: list[Problem]) -> bool:
    """Pure: whether any problem is an error (exit code 1 for `wardcopy audit verify`)."""
    return any(p.severity == "error" for p in problems)


# --- export --------------------------------------------------------------------------------

_CSV_COLUMNS = (
    "seq",
    "time",
    "event",
    "user",
    "ward",
    "patient_id",
    "details",
    "prev_hash",
    "hash",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        text = value
    elif isinstance(value, dict):
        text = canonical(value).decode()
    else:
        text = str(value)
    # A break-glass name like "=HYPERLINK(...)" must not run as a formula in a spreadsheet.
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


@dataclass(frozen=True)
class ExportResult:
    count: int
    problems: list[Problem]
    path: Path


def export(
    home: Path,
    dest_path: Path,
    since: datetime | None = None,
    fmt: Literal["json", "csv"] | None = None,
) -> ExportResult:
    """Write the log (entries from `since` on, if given) to `dest_path` for the hospital's review.

    `fmt` defaults from the file suffix (".csv" gives CSV, anything else JSON). JSON:
    `{"format": "wardcopy-audit-export/1", "exported_at", "since", "verification":
    {"ok", "problems"}, "entries": [...]}` with entries exactly as stored (hashes included, so the
    chain can be re-checked). CSV: one row per entry, columns seq, time, event, user, ward,
    patient_id, details (JSON), prev_hash, hash; cells that a spreadsheet would run as a formula
    are prefixed with "'". The verification result is included in JSON and returned either way.
    Side effects: writes `dest_path` atomically with mode 0600. The caller audits the export.
    Raises AuditError if the log cannot be read or the file cannot be written.
    """
    kind = fmt or ("csv" if dest_path.suffix.lower() == ".csv" else "json")
    problems = verify(home)
    entries = list(iter_entries(home))
    if since is not None:
        if since.tzinfo is None:
            raise ValueError("since must be timezone-aware")
        entries = [e for e in entries if _safe_moment(e) >= since]
    if kind == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(_CSV_COLUMNS)
        for entry in entries:
            row = entry.to_dict()
            writer.writerow([_csv_cell(row[c]) for c in _CSV_COLUMNS])
        data = buffer.getvalue().encode("utf-8-sig")  # BOM: spreadsheets then read UTF-8
    else:
        document = {
            "format": EXPORT_FORMAT,
            "exported_at": format_time(_utcnow()),
            "since": format_time(since) if since else None,
            "verification": {
                "ok": not has_errors(problems),
                "problems": [
                    {"severity": p.severity, "message": p.message, "line": p.line, "seq": p.seq}
                    for p in problems
                ],
            },
            "entries": [e.to_dict() for e in entries],
        }
        data = orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n"
    try:
        dest_path.parent.mkdir(parents=True, exist_ok=True)
        fsutil.atomic_write(dest_path, data, 0o600)
    except OSError as exc:
        raise AuditError(f"cannot write audit export {dest_path}: {exc.strerror or exc}") from exc
    return ExportResult(count=len(entries), problems=problems, path=dest_path)


def _safe_moment(entry: AuditEntry) -> datetime:
    try:
        return entry.moment
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)

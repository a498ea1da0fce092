"""What every viewer session of the process shares per installed snapshot: the census rows and
the census due column's inputs, each read once.

Census rows: 8,801 CensusRow objects of the demo's hospital-wide snapshot take about 37 MB;
each browser session held its own copy. Now the first session to open a snapshot loads them
and later ones get the same objects (`census`; nothing changes a CensusRow once loaded).

Why: the due/overdue column (app.duelist.patient_due) needs each patient's orders and
administrations, which live inside the stored records. Each browser session used to decode
every record for its own column: on the 10,000-patient demo's hospital-wide snapshot (8,801
records) a second and third session in the same viewer server then took 11-14 s to log in
(docs/performance.md). Now one background thread reads each snapshot once and every session
computes its column from what it read.

What is kept per patient (`due_inputs`): each active order that is not as-needed, cut to what
its schedule reads, with the times its administrations were given; None for a patient who can
never have a due dose (discharged, or no such order). Whole records would take about 90 KB per
patient (800 MB for the 8,801 of the demo's hospital-wide snapshot); this takes a few KB. Not
the answers: due and overdue depend on the clock and on the hospital zone, so they are computed
per call from these inputs (app.duelist.orders_due, no decoding).

Threads: one reader thread per process, started on demand and ended when nothing is left to
read. It reads with a connection of its own (`SnapshotReader.reopen`), so it neither waits for
a session's worker nor stops when that session closes its snapshot. Patients a session lists
are read first (`want(first=...)`); the rest waits while anyone types (`note_input`), as the
per-session reading did. Thread-safe: one lock guards the entries; decoding happens outside it.

Memory and invalidation: an entry is keyed by the installed snapshot's folder, sequence and
signed payload hash (`key_of`), so a newly installed snapshot (or a repaired file) is another
key and is never answered from an older one. At most `max_snapshots` entries are kept; when
more are asked for, older sequences of the same ward go first, then the least recently used.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path

import orjson

from app.duelist import PatientDue, orders_due
from app.schedule import given_times, is_active
from sync.model import CensusRow, Dosage, MedicationOrder, PatientRecord
from sync.receive import InstalledSnapshot
from sync.snapshot import SnapshotError, SnapshotReader

__all__ = [
    "INPUT_PAUSE",
    "MAX_SNAPSHOTS",
    "DueInputs",
    "DueRead",
    "KeptOrder",
    "SnapshotCache",
    "SnapshotKey",
    "due_inputs",
    "due_inputs_from_json",
    "due_of",
    "key_of",
    "shared_cache",
]

log = logging.getLogger(__name__)

#: Snapshots whose inputs are kept at once (a hospital-wide one of 8,801 patients is ~N MB).
MAX_SNAPSHOTS = 3
#: Seconds after the last input in any session before the reading of unlisted patients goes on.
INPUT_PAUSE = 1.0
# The record fields app.duelist reads; only these are validated when a record is read.
_DUE_FIELDS = ("id", "name", "mrn", "stay", "medications", "administrations")


@dataclass(frozen=True)
class SnapshotKey:
    """Which installed snapshot an entry belongs to."""

    folder: str  # the installed snapshot's folder (laptop home, ward, sequence)
    sequence: int
    sha256: str  # the signed payload hash: a repaired or re-installed file is another key

    @property
    def ward_folder(self) -> str:
        return str(Path(self.folder).parent)


def key_of(snapshot: InstalledSnapshot) -> SnapshotKey:
    """The cache key of an opened installed snapshot (no I/O)."""
    return SnapshotKey(
        folder=str(snapshot.path),
        sequence=snapshot.sequence,
        sha256=snapshot.manifest.payload.sha256,
    )


@dataclass(frozen=True, slots=True)
class KeptOrder:
    """What the due rules read of one active scheduled order (app.schedule.scheduled_times,
    duelist): status, start, end, the dosages' schedule part, and when its administrations were
    given. A few hundred bytes instead of a MedicationOrder's few kilobytes."""

    status: str | None
    start: datetime | None
    end: datetime | None
    dosages: tuple[Dosage, ...]
    given: tuple[datetime, ...]

    def order(self) -> MedicationOrder:
        """The order as the due rules take it (validated again: about 10 µs)."""
        return MedicationOrder(
            id="",
            drug="",
            status=self.status,
            dosages=list(self.dosages),
            start=self.start,
            end=self.end,
        )


#: What is kept of one patient: each active scheduled order with its given times.
DueInputs = tuple[KeptOrder, ...]


def due_inputs(
    record: PatientRecord, dosages: dict[int, list[Dosage]] | None = None
) -> DueInputs | None:
    """What app.duelist reads of `record`, small: each active order that is not as-needed, cut
    to what its schedule reads, with the times its administrations were given
    (app.schedule.given_times). Aware times are kept in UTC (the same instants; the due rules
    compare and convert instants only). None when the patient can never have a due dose (a stay
    that is not current, or no such order): `patient_due` is then PatientDue() at any time.
    Equal dosages are shared through `dosages` (one pool per snapshot). Pure.

    `due_of(due_inputs(r), ...)` equals `patient_due(r, ...)`: the due rules skip the orders
    left out and read nothing else of an order, a dosage or an administration."""
    if record.stay is not None and not record.stay.is_current:
        return None
    kept = []
    for order in record.medications:
        if not is_active(order) or order.as_needed:
            continue
        kept.append(
            KeptOrder(
                status=sys.intern(order.status) if order.status else order.status,
                start=_utc(order.start) if order.start else None,
                end=_utc(order.end) if order.end else None,
                dosages=tuple(_shared(d, dosages) for d in order.dosages),
                given=tuple(_utc(w) for w in given_times(order, record.administrations)),
            )
        )
    return tuple(kept) or None


def due_of(inputs: DueInputs | None, now: datetime, as_of: datetime, tz: tzinfo) -> PatientDue:
    """The census column of one patient from its `due_inputs` (app.duelist.orders_due)."""
    if inputs is None:
        return PatientDue()
    return orders_due([(k.order(), k.given) for k in inputs], now, as_of, tz)


def _utc(when: datetime) -> datetime:
    """The same instant with one shared zone object (a parsed time carries a zone object of its
    own: most of the memory of a kept time). Naive times stay as they are."""
    return when.astimezone(UTC) if when.tzinfo is not None else when


def _shared(dosage: Dosage, pool: dict[int, list[Dosage]] | None) -> Dosage:
    """The schedule part of `dosage` (timing, text, as-needed), one object for equal ones of a
    snapshot (most orders repeat a few schedules)."""
    slim = Dosage(text=dosage.text, timing=dosage.timing, as_needed=dosage.as_needed)
    if pool is None:
        return slim
    bucket = pool.setdefault(hash(slim.model_dump_json()), [])
    for known in bucket:
        if known == slim:
            return known
    bucket.append(slim)
    return slim


def due_inputs_from_json(
    data: bytes, dosages: dict[int, list[Dosage]] | None = None
) -> DueInputs | None:
    """`due_inputs` of a stored record's JSON (PatientRecord.to_json()), validating only the fields
    the due rules read: a fraction of decoding the whole record (vitals, labs and notes are most
    of it). Raises ValueError (orjson.JSONDecodeError, pydantic.ValidationError) when damaged."""
    raw = orjson.loads(data)
    if not isinstance(raw, dict):
        raise ValueError("a stored record is not a JSON object")
    fields = {k: raw[k] for k in _DUE_FIELDS if k in raw}
    return due_inputs(PatientRecord.model_validate(fields), dosages)


@dataclass(frozen=True)
class DueRead:
    """What `SnapshotCache.dues` found: the due states of the patients read so far, the patients
    still to be read, and whether reading has ended (all read, or the snapshot failed; patients
    then left unread stay unknown: an empty cell, never "nothing due")."""

    dues: dict[str, PatientDue]
    pending: list[str]
    ended: bool


class _Entry:
    """One snapshot's inputs as read so far. Fields are guarded by SnapshotCache._lock."""

    def __init__(self, key: SnapshotKey, opener: Callable[[], SnapshotReader]) -> None:
        self.key = key
        self.opener = opener
        self.inputs: dict[str, DueInputs | None] = {}
        self.dosages: dict[int, list[Dosage]] = {}  # equal dosages shared (reader thread only)
        self.unreadable: set[str] = set()
        self.wanted: deque[str] = deque()
        self.finished = False  # every record read (or the snapshot failed: `error`)
        self.error: str | None = None
        self.dropped = False  # evicted: the reader thread stops reading it
        self.census: list[CensusRow] | None = None
        self.census_lock = threading.Lock()  # one session loads the rows, the others wait


class SnapshotCache:
    """Census rows and due inputs per installed snapshot, shared by the sessions of one process
    (module doc).

    `want` registers a snapshot (and patients to read first) and starts the reader thread;
    `dues` answers from what has been read. Both are cheap and thread-safe. `records_read`
    counts the records the reader thread has decoded since creation (for tests and benchmarks).
    """

    def __init__(
        self, max_snapshots: int = MAX_SNAPSHOTS, input_pause: float = INPUT_PAUSE
    ) -> None:
        self.max_snapshots = max(1, max_snapshots)
        self.input_pause = input_pause
        self._lock = threading.Lock()
        self._entries: OrderedDict[SnapshotKey, _Entry] = OrderedDict()
        self._thread: threading.Thread | None = None
        self._input_at = float("-inf")
        self.records_read = 0

    # -- sessions ---------------------------------------------------------------------------------

    def note_input(self) -> None:
        """A user typed or clicked somewhere: unlisted patients wait `input_pause` seconds."""
        self._input_at = time.monotonic()

    def want(
        self,
        key: SnapshotKey,
        opener: Callable[[], SnapshotReader],
        first: Sequence[str] = (),
    ) -> None:
        """Make sure the inputs of snapshot `key` are (being) read, those of `first` before the
        others; `opener` gives a reader of its own for the reader thread (called there, once per
        entry). Side effects: may evict another snapshot's entry; starts the reader thread."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                entry = _Entry(key, opener)
                self._entries[key] = entry
                self._evict(key)
            self._entries.move_to_end(key)
            if not entry.finished:
                entry.wanted.extendleft(pid for pid in reversed(first) if pid not in entry.inputs)
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="wardcopy-due-inputs", daemon=True
                    )
                    self._thread.start()

    def census(
        self,
        key: SnapshotKey,
        opener: Callable[[], SnapshotReader],
        load: Callable[[], list[CensusRow]],
    ) -> list[CensusRow]:
        """The census rows of snapshot `key`: `load()` (on the caller's thread) for the first
        session, the same row objects for the others (a new list each time; the rows must not
        be changed). Raises what `load` raises (nothing is kept then)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                entry = _Entry(key, opener)
                self._entries[key] = entry
                self._evict(key)
            self._entries.move_to_end(key)
        with entry.census_lock:
            if entry.census is None:
                entry.census = load()
            return list(entry.census)

    def dues(
        self,
        key: SnapshotKey,
        patient_ids: Sequence[str],
        now: datetime,
        as_of: datetime,
        tz: tzinfo,
        limit: int | None = None,
    ) -> DueRead:
        """The census due states (app.duelist.patient_due at `now`, overdue judged against
        `as_of`, in zone `tz`) of the first `limit` (default: all) of `patient_ids` whose inputs
        are read. `pending` keeps the order of `patient_ids`: those read but beyond `limit`, and
        while reading goes on those not read yet. Patients the snapshot lacks and unreadable
        records are left out once reading has ended. Computes on the caller's thread; reads
        nothing from disk."""
        room = len(patient_ids) if limit is None else max(0, limit)
        known: list[tuple[str, DueInputs | None]] = []
        pending: list[str] = []
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return DueRead({}, [], ended=True)
            ended = entry.finished
            inputs, unreadable = entry.inputs, entry.unreadable
            for pid in patient_ids:
                if pid in inputs:
                    if len(known) < room:
                        known.append((pid, inputs[pid]))
                    else:
                        pending.append(pid)
                elif not ended and pid not in unreadable:
                    pending.append(pid)
        out = {pid: due_of(slim, now, as_of, tz) for pid, slim in known}
        return DueRead(out, pending, ended)

    def entries(self) -> list[SnapshotKey]:
        """The snapshots held, least recently wanted first."""
        with self._lock:
            return list(self._entries)

    def read_count(self, key: SnapshotKey) -> int | None:
        """How many patients of `key` are read (None: not held)."""
        with self._lock:
            entry = self._entries.get(key)
            return None if entry is None else len(entry.inputs) + len(entry.unreadable)

    def drop(self, key: SnapshotKey) -> None:
        """Forget `key` (its reading stops)."""
        with self._lock:
            entry = self._entries.pop(key, None)
            if entry is not None:
                entry.dropped = True

    # -- internals --------------------------------------------------------------------------------

    def _evict(self, newest: SnapshotKey) -> None:
        """Keep at most max_snapshots entries: older sequences of `newest`'s ward go first (a
        newer snapshot was installed), then the least recently wanted. Caller holds the lock."""
        while len(self._entries) > self.max_snapshots:
            superseded = [
                k
                for k in self._entries
                if k.ward_folder == newest.ward_folder and k.sequence < newest.sequence
            ]
            victim = superseded[0] if superseded else next(k for k in self._entries if k != newest)
            self._entries.pop(victim).dropped = True

    def _next_job(self) -> tuple[_Entry, str | None] | None:
        """The next patient to read: a wanted one of the most recently wanted snapshot first,
        then the next record of an unfinished snapshot (None: in record order). Caller holds
        the lock."""
        recent = list(reversed(self._entries.values()))
        for entry in recent:
            while entry.wanted:
                pid = entry.wanted.popleft()
                if pid not in entry.inputs and pid not in entry.unreadable:
                    return entry, pid
        for entry in recent:
            if not entry.finished:
                return entry, None
        return None

    def _run(self) -> None:
        """The reader thread: reads until every held snapshot is read, then ends."""
        # Keyed by entry, not by snapshot key: an evicted snapshot that is wanted again gets a
        # new entry, which must read from its first record, not go on with the old iterator
        # (that lost the records the old entry had read; found as a flaky test).
        readers: dict[_Entry, tuple[SnapshotReader, Iterator[tuple[str, bytes | None]]]] = {}
        try:
            while True:
                with self._lock:
                    for done in [e for e in readers if e.dropped or e.finished]:
                        readers.pop(done)[0].close()
                    job = self._next_job()
                    if job is None:
                        self._thread = None
                        return
                entry, pid = job
                if pid is None and time.monotonic() - self._input_at < self.input_pause:
                    time.sleep(0.1)  # someone is typing: keys come first (listed ones do not wait)
                    continue
                try:
                    if entry not in readers:
                        reader = entry.opener()
                        readers[entry] = (reader, reader.iter_record_json())
                    self._read_one(entry, pid, *readers[entry])
                except Exception as exc:  # a failed snapshot must not stop the others
                    log.warning("due/overdue column: snapshot %s: %s", entry.key.folder, exc)
                    with self._lock:
                        entry.error = str(exc) or type(exc).__name__
                        entry.finished = True
        finally:
            for reader, _it in readers.values():
                reader.close()
            with self._lock:
                if self._thread is threading.current_thread():
                    self._thread = None

    def _read_one(
        self,
        entry: _Entry,
        pid: str | None,
        reader: SnapshotReader,
        rest: Iterator[tuple[str, bytes | None]],
    ) -> None:
        """Read patient `pid` (or the next record in record order) into `entry`. Raises
        SnapshotError when the snapshot cannot be queried."""
        if pid is None:
            item = next(rest, None)
            if item is None:
                with self._lock:
                    entry.finished = True
                return
            pid, data = item
            with self._lock:
                if pid in entry.inputs or pid in entry.unreadable:
                    return  # read already, as a listed patient
        else:
            try:
                data = reader.record_json(pid)
            except SnapshotError as exc:  # this record is damaged: the others still count
                log.debug("due inputs of one patient: %s", exc.reason)
                data = None
            else:
                if data is None:
                    return  # no such patient in this snapshot
        slim: DueInputs | None = None
        readable = data is not None
        if data is not None:
            try:
                slim = due_inputs_from_json(data, entry.dosages)
            except ValueError:
                readable = False
        with self._lock:
            self.records_read += 1
            if entry.dropped:
                return
            if readable:
                entry.inputs[pid] = slim
            else:
                log.warning(
                    "due/overdue column: a stored record cannot be read (run `wardcopy verify`)"
                )
                entry.unreadable.add(pid)


_SHARED = SnapshotCache()


def shared_cache() -> SnapshotCache:
    """The process-wide cache every viewer session uses."""
    return _SHARED

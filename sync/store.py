"""The sync server's persistent, encrypted copy of the FHIR source (the resource store).

A live source (sync.sources.bulk / rest) is read in increments: each cycle fetches only what
changed since the last one (`_since`) and applies it here, updates and deletions alike; the
build then reads the whole store as its source. One increment is one SQLite transaction: it is
committed, with its new `since` value, only when the whole export or search was read; a failed,
partial or killed fetch rolls back, so the store and `since` stay as after the last good cycle,
and the next cycle simply fetches the same changes again.

A full refresh (`full=True`) re-reads everything: rows not seen in it are removed when it
commits (mark and sweep by generation), which heals any drift (a missed deletion, a REST server
that cannot report deletions).

Storage: SQLCipher through `sync.snapshot.connect` (16 KiB pages, like the staging store) with a
write-ahead log, whose pages SQLCipher encrypts like the database's, and `synchronous = FULL`,
so a commit survives a power cut. The 256-bit raw key is a 0600 file beside the database (the
same protection as the signing key); losing it loses only this cache: delete the folder and the
next cycle is a full refresh.

Side effects: creates `<sync home>/store/` (0700), the key file and the database.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import orjson

from sync import fsutil, snapshot
from sync.config import Config
from sync.mapping.observations import window_keys
from sync.sources import SourceItem, SourceProblem
from sync.sources.fhir_types import PATIENT_REFERENCE_FIELDS

__all__ = ["Increment", "ResourceStore", "StoreError", "open_store"]

_PAGE_SIZE = 16384
_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS resource (
        type TEXT NOT NULL, id TEXT NOT NULL, body BLOB NOT NULL, updated TEXT NOT NULL,
        patient TEXT, gen INTEGER NOT NULL, PRIMARY KEY (type, id)) WITHOUT ROWID""",
    "CREATE TABLE IF NOT EXISTS state (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS resource_patient ON resource (patient)",
    # Patients touched by committed increments and not yet mapped into published wards
    # ("*": something shared changed, everything must be mapped again). Written in the
    # increment's transaction, cleared in the build's: a kill in between loses nothing.
    "CREATE TABLE IF NOT EXISTS dirty (patient TEXT PRIMARY KEY)",
    # Per surviving patient: the hash of its mapped record, when its time-dependent content
    # must be re-mapped, and the ids merged into it (sync.incremental).
    """CREATE TABLE IF NOT EXISTS mapped (id TEXT PRIMARY KEY, digest BLOB NOT NULL,
        recheck TEXT NOT NULL, members TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS mapped_recheck ON mapped (recheck)",
    # The prepared snapshot rows of each mapped patient, read back when a ward is rebuilt.
    "CREATE TABLE IF NOT EXISTS record (id TEXT PRIMARY KEY, prepared BLOB NOT NULL)",
    # Which wards each mapped patient was placed on (the hospital-wide ward included).
    """CREATE TABLE IF NOT EXISTS placement (ward TEXT NOT NULL, id TEXT NOT NULL,
        PRIMARY KEY (ward, id)) WITHOUT ROWID""",
    # A patient mapped again leaves its old placements (sync.incremental.Recorder.remove):
    # without this index each of them scanned the whole table, a cost per patient growing with
    # the hospital (at 10,000 patients most of an increment's "map" step).
    "CREATE INDEX IF NOT EXISTS placement_id ON placement (id)",
    # Per ward: the zlib preset dictionary its incremental snapshots use, and each record
    # compressed with it (with the record's hash), so a rebuilt ward compresses only the
    # records that changed (sync.incremental).
    "CREATE TABLE IF NOT EXISTS ward_dict (ward TEXT PRIMARY KEY, zdict BLOB NOT NULL)",
    """CREATE TABLE IF NOT EXISTS packed (ward TEXT NOT NULL, id TEXT NOT NULL,
        digest BLOB NOT NULL, codec INTEGER NOT NULL, blob BLOB NOT NULL,
        PRIMARY KEY (ward, id)) WITHOUT ROWID""",
    # Each stored Patient's identifiers ("system|value"), so an increment finds the patients
    # an inactive duplicate may be merged with (merge_inactive_duplicates) without reading
    # every Patient (sync.incremental).
    """CREATE TABLE IF NOT EXISTS ident (ident TEXT NOT NULL, id TEXT NOT NULL,
        PRIMARY KEY (ident, id)) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS ident_id ON ident (id)",
    # Per patient Observation: what an increment needs to read only the values the [history]
    # windows can keep (sync.mapping.observations.WindowKeys; `at` NULL: always read it).
    # Valid while state "obs_index" names the time zone and code map they were made with.
    """CREATE TABLE IF NOT EXISTS obs (patient TEXT NOT NULL, id TEXT NOT NULL, grp BLOB,
        vital INTEGER, at TEXT, upd TEXT, skip INTEGER, gen INTEGER NOT NULL,
        PRIMARY KEY (patient, id)) WITHOUT ROWID""",
)


def patient_identifiers(patient: dict[str, Any]) -> set[str]:
    """The "system|value" texts of a Patient's identifiers with both parts, as the staging
    store matches inactive duplicates (pure)."""
    found: set[str] = set()
    for ident in patient.get("identifier") or ():
        if isinstance(ident, dict):
            system, value = ident.get("system"), ident.get("value")
            if isinstance(system, str) and isinstance(value, str):
                found.add(f"{system}|{value}")
    return found


class StoreError(Exception):
    """The resource store cannot be opened or written; the message names the folder and what
    to do (never a key or patient data)."""


def _patient_ref(resource: dict[str, Any]) -> str | None:
    rtype = resource.get("resourceType")
    if rtype == "Patient":
        return f"Patient/{resource.get('id')}"
    for name in PATIENT_REFERENCE_FIELDS.get(str(rtype), ()):
        value = resource.get(name)
        if isinstance(value, list):  # Account.subject: the first Patient of several subjects
            refs = [v for v in value if isinstance(v, dict)]
            first = refs[0] if refs else None
            value = next((v for v in refs if "Patient/" in str(v.get("reference", ""))), first)
        if isinstance(value, dict) and isinstance(value.get("reference"), str):
            return str(value["reference"])
    return None


def _last_updated(resource: dict[str, Any]) -> str:
    meta = resource.get("meta")
    value = meta.get("lastUpdated") if isinstance(meta, dict) else None
    return value if isinstance(value, str) else ""


@dataclass
class Increment:
    """The changes of one fetch, applied inside the store's open transaction. Use only inside
    `ResourceStore.increment()`."""

    store: ResourceStore
    full: bool
    gen: int
    upserts: int = 0
    deletes: int = 0
    problems: Counter[str] = field(default_factory=Counter)
    patients: set[str] = field(default_factory=set)  # patient references touched
    state: dict[str, str] = field(default_factory=dict)  # written at commit
    shared: int = 0  # resources without a patient (Location, Medication, ...) changed

    def upsert(self, resource: dict[str, Any], raw: bytes | None = None) -> None:
        """Insert or replace `resource` (it must have resourceType and id). Idempotent: the
        same line read twice (a retried download) leaves one row."""
        rtype = resource.get("resourceType")
        rid = resource.get("id")
        if not isinstance(rtype, str) or not isinstance(rid, str) or not rid:
            self.problems["resource without resourceType or id"] += 1
            return
        patient = _patient_ref(resource)
        if rtype == "Patient":
            self._identifiers(rid, patient_identifiers(resource))
        elif rtype == "Observation":
            self._observation(resource, rid, patient)
        self.store._conn.execute(
            "INSERT OR REPLACE INTO resource (type, id, body, updated, patient, gen) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (rtype, rid, raw or orjson.dumps(resource), _last_updated(resource), patient, self.gen),
        )
        if patient:
            self.patients.add(patient)
        elif rtype != "Patient":
            self.shared += 1
        self.upserts += 1

    def delete(self, rtype: str, rid: str) -> None:
        """Remove a resource (a `deleted` entry). Unknown resources are ignored."""
        conn = self.store._conn
        row = conn.execute(
            "SELECT patient FROM resource WHERE type = ? AND id = ?", (rtype, rid)
        ).fetchone()
        if row is None:
            return
        conn.execute("DELETE FROM resource WHERE type = ? AND id = ?", (rtype, rid))
        if row[0]:
            self.patients.add(row[0])
        elif rtype != "Patient":
            self.shared += 1
        if rtype == "Patient":
            self.patients.add(f"Patient/{rid}")
            self._identifiers(rid, set())
        elif rtype == "Observation" and row[0]:
            conn.execute("DELETE FROM obs WHERE patient = ? AND id = ?", (row[0], rid))
        self.deletes += 1

    def _observation(self, resource: dict[str, Any], rid: str, patient: str | None) -> None:
        """Keep the window keys of a patient Observation (table `obs`), before its row is
        replaced (its patient may have changed)."""
        store = self.store
        conn = store._conn
        if not self.full:
            row = conn.execute(
                "SELECT patient FROM resource WHERE type = 'Observation' AND id = ?", (rid,)
            ).fetchone()
            if row is not None and row[0] and row[0] != patient:
                conn.execute("DELETE FROM obs WHERE patient = ? AND id = ?", (row[0], rid))
        if not patient or store._index is None:
            return
        keys = window_keys(resource, *store._index)
        conn.execute(
            "INSERT OR REPLACE INTO obs (patient, id, grp, vital, at, upd, skip, gen) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (patient, rid, None, None, None, None, None, self.gen)
            if keys is None
            else (
                patient, rid, keys.group, int(keys.vital), keys.at, keys.updated,
                int(keys.skip), self.gen,
            ),
        )  # fmt: skip

    def _identifiers(self, rid: str, new: set[str]) -> None:
        """Record a Patient's identifiers; every patient sharing one of its old or new ones
        becomes dirty too: whether an inactive duplicate folds into an active patient depends
        on all of them (sync.incremental)."""
        conn = self.store._conn
        old = {str(r[0]) for r in conn.execute("SELECT ident FROM ident WHERE id = ?", (rid,))}
        if old != new:
            conn.execute("DELETE FROM ident WHERE id = ?", (rid,))
            conn.executemany(
                "INSERT OR IGNORE INTO ident (ident, id) VALUES (?, ?)", [(i, rid) for i in new]
            )
        for ident in sorted(old | new):
            for (peer,) in conn.execute("SELECT id FROM ident WHERE ident = ?", (ident,)):
                self.patients.add(f"Patient/{peer}")

    def problem(self, reason: str) -> None:
        """Count an unusable line or entry (a stable reason, no patient data)."""
        self.problems[reason] += 1


class ResourceStore:
    """See the module docstring. Use as a context manager."""

    def __init__(self, folder: Path, config: Config | None = None) -> None:
        self.folder = Path(folder)
        self.name = "FHIR server"  # what snapshots record as their source (no URL, no secret)
        # The time zone and code map the Observations' window keys are made with (`obs`);
        # without a config, increments leave them unmade and mark them unusable.
        self._index = None if config is None else (config.tz, config.mapping_code_map)
        self._index_name = (
            None
            if config is None
            else orjson.dumps([config.timezone, sorted(config.code_map.items())]).decode()
        )
        self.path = self.folder / "resources.db"
        key_path = self.folder / "resources.key"
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not key_path.exists():
                if self.path.exists():
                    raise StoreError(
                        f"the resource store {self.path} has lost its key file {key_path}: "
                        f"delete the folder {self.folder}; the next cycle reads everything again"
                    )
                fsutil.write_new_file(key_path, snapshot.new_key(), 0o600)
            key = key_path.read_bytes()
        except OSError as exc:
            raise StoreError(f"cannot set up the resource store in {self.folder}: {exc}") from None
        try:
            self._conn = snapshot.connect(self.path, key, readonly=False, page_size=_PAGE_SIZE)
        except snapshot.SnapshotError:
            raise StoreError(
                f"cannot open the resource store {self.path} (wrong key or damaged): delete the "
                f"folder {self.folder}; the next cycle reads everything again"
            ) from None
        self._conn.execute("PRAGMA journal_mode = WAL").fetchall()
        self._conn.execute("PRAGMA synchronous = FULL")
        for sql in _SCHEMA:
            self._conn.execute(sql)
        if self.state("ident") != "1":
            self._fill_identifiers()
        if os.name == "posix":
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(OSError):
                    os.chmod(f"{self.path}{suffix}", 0o600)

    def _fill_identifiers(self) -> None:
        """Fill the identifier table of a store written before it existed (once)."""
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("DELETE FROM ident")
            for rid, body in conn.execute(
                "SELECT id, body FROM resource WHERE type = 'Patient'"
            ).fetchall():
                try:
                    patient = orjson.loads(body)
                except orjson.JSONDecodeError:
                    continue
                if isinstance(patient, dict):
                    conn.executemany(
                        "INSERT OR IGNORE INTO ident (ident, id) VALUES (?, ?)",
                        [(i, str(rid)) for i in patient_identifiers(patient)],
                    )
            conn.execute("INSERT OR REPLACE INTO state (name, value) VALUES ('ident', '1')")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._conn.close()

    @property
    def conn(self) -> snapshot.Connection:
        """The open connection (sync.incremental keeps its mapping tables in it)."""
        return self._conn

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction: committed when the block ends normally, rolled back on any
        exception (re-raised), also when the process is killed (SQLite's journal)."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise

    def state(self, name: str) -> str | None:
        """A saved value (e.g. "since", "last_full"); None when never set."""
        row = self._conn.execute("SELECT value FROM state WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def patient_ids(self) -> set[str]:
        """The ids of the Patients in the store."""
        rows = self._conn.execute("SELECT id FROM resource WHERE type = 'Patient'").fetchall()
        return {str(row[0]) for row in rows}

    def window_index_usable(self) -> bool:
        """True when table `obs` holds the window keys of every stored patient Observation,
        made with this store's configured time zone and code map (set by a full read with
        that configuration, kept by every increment since)."""
        return self._index_name is not None and self.state("obs_index") == self._index_name

    def ids(self, rtype: str) -> set[str]:
        """The ids of the stored resources of type `rtype`."""
        rows = self._conn.execute("SELECT id FROM resource WHERE type = ?", (rtype,)).fetchall()
        return {str(row[0]) for row in rows}

    def count(self) -> int:
        return int(self._conn.execute("SELECT count(*) FROM resource").fetchone()[0])

    @contextlib.contextmanager
    def increment(self, *, full: bool) -> Iterator[Increment]:
        """Apply one fetch atomically: commit when the block ends normally (with `state`), roll
        back on any exception (re-raised). With `full`, rows the block did not write are removed
        at commit."""
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            # The generation counter lives in `state`: max(gen) over `resource` has no index
            # and would read (and decrypt) the whole store on every increment. Stores written
            # before the counter existed fall back to that scan once.
            saved = self.state("gen")
            if saved is None:
                row = conn.execute("SELECT max(gen) FROM resource").fetchone()
                saved = str(int(row[0] or 0))
            gen = int(saved) + 1
            inc = Increment(self, full, gen)
            inc.state["gen"] = str(gen)
            if not full and not self.window_index_usable():
                # Keys made with another time zone or code map, or not at all: unusable until
                # a full read makes them all again.
                conn.execute("DELETE FROM state WHERE name = 'obs_index'")
            yield inc
            if full:
                for (patient,) in conn.execute(
                    "SELECT DISTINCT patient FROM resource WHERE gen < ? AND patient IS NOT NULL",
                    (gen,),
                ).fetchall():
                    inc.patients.add(patient)
                swept = conn.execute("DELETE FROM resource WHERE gen < ?", (gen,)).rowcount
                conn.execute("DELETE FROM obs WHERE gen < ?", (gen,))
                if self._index_name is not None:
                    inc.state["obs_index"] = self._index_name
                else:
                    conn.execute("DELETE FROM state WHERE name = 'obs_index'")
                inc.deletes += max(0, swept)
                conn.execute(
                    "DELETE FROM ident WHERE id NOT IN "
                    "(SELECT id FROM resource WHERE type = 'Patient')"
                )
            if inc.shared or full:
                # Caches of the shared resources (sync.incremental.SharedCache) compare this;
                # random, so a store made anew never repeats an old value.
                inc.state["shared_gen"] = f"{gen}-{secrets.token_hex(8)}"
            dirty = ["*"] if inc.shared or full else sorted(inc.patients)
            conn.executemany(
                "INSERT OR IGNORE INTO dirty (patient) VALUES (?)", [(p,) for p in dirty]
            )
            for name, value in inc.state.items():
                conn.execute(
                    "INSERT OR REPLACE INTO state (name, value) VALUES (?, ?)", (name, value)
                )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def items(self) -> Iterator[SourceItem | SourceProblem]:
        """Every stored resource as a source item (origin "store:Type"), in (type, id) order."""
        cursor = self._conn.execute("SELECT type, body FROM resource ORDER BY type, id")
        for rtype, body in cursor:
            try:
                resource = orjson.loads(body)
            except orjson.JSONDecodeError:
                yield SourceProblem(f"store:{rtype}", "invalid JSON")
                continue
            yield SourceItem(resource, None, f"store:{rtype}", bytes(body))


def open_store(sync_home: Path, config: Config | None = None) -> ResourceStore:
    """The resource store of a sync server (`<sync home>/store`). With `config`, increments
    keep the Observations' window keys for its [history] windows (sync.incremental). Raises
    StoreError."""
    return ResourceStore(Path(sync_home) / "store", config)

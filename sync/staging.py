"""Encrypted temporary store that groups patient-compartment resources by patient.

Pass 1 (`Staging.add` for each source item) keeps shared resources (Location, Organization,
Practitioner, ...) in memory in a `RefIndex`, indexes every Patient (key, fullUrl, identifiers,
merge links: small), and writes the Patient and every patient-compartment resource into a
SQLCipher database keyed by the raw patient reference it carries. `Staging.finish_loading()`
resolves those references (urn:uuid, absolute, conditional `Patient?identifier=`) and patient
merges; pass 2 (`Staging.iter_patients()`) yields each surviving patient with its resources.

Why a database and not memory: a hospital export holds millions of resources; grouping them by
patient in RAM would grow with the source. Why encrypted: it holds patient data, and nothing
with patient data may touch the disk in plaintext. The key is random, lives only in this
process, and the file is deleted by `close()` (also on failure: use `with Staging(...)`). A
killed process leaves an encrypted file with a lost key: unreadable; the next build in the same
workdir removes such stale `.staging-<pid>-*` files (never those of a build still running).
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import orjson

from sync import snapshot
from sync.refs import RefIndex, canonical_key, conditional_reference, literal_key
from sync.sources import (
    IGNORED_PATIENT_TYPES,
    PATIENT_REFERENCE_FIELDS,
    SHARED_TYPES,
    SourceItem,
    SourceProblem,
)

log = logging.getLogger(__name__)

__all__ = [
    "Classified",
    "Classifier",
    "RawPatient",
    "StagedPatient",
    "Staging",
    "StagingStats",
    "decode_patient",
]

_INSERT_BATCH = 5000
_STALE_SECONDS = 24 * 3600
# 16 KiB cipher pages, not the snapshots' 4 KiB: the same encryption, a quarter of the
# per-page work (HMAC, IV, b-tree overhead) when writing ~1 KB rows; measured on 1,000
# generated patients: staging writes ~20% less CPU, reads the same (32/64 KiB pages read
# slower: a patient's rows are scattered and each hit decrypts a whole page).
_PAGE_SIZE = 16384
_MAX_PLACES = 20  # places named per problem reason / duplicate patient in the build report
_QUERY_CHUNK = 400  # SQLite host parameters per IN (...) query, well under its limit

# Problem reasons (stable strings: they are counted and shown in the build report)
DANGLING = "dangling reference"
NOT_A_PATIENT = "subject is not a Patient"
AMBIGUOUS = "ambiguous patient reference"
NO_PATIENT = "no patient reference"
MERGE_TARGET_MISSING = "merge target missing"


@dataclass
class StagingStats:
    """What pass 1 saw. `problems` counts reasons; `resources` counts resources by type."""

    resources: Counter[str] = field(default_factory=Counter)
    problems: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)  # read, deliberately not kept
    duplicates: int = 0
    merged: int = 0
    newest_update: datetime | None = None
    # reason -> where (file:line, file#entryN), the first _MAX_PLACES of each
    places: dict[str, list[str]] = field(default_factory=dict)
    # "Patient/id" read more than once -> where each copy was read (first _MAX_PLACES)
    duplicate_patients: dict[str, list[str]] = field(default_factory=dict)

    def note_place(self, reason: str, origin: str) -> None:
        """Remember where a problem was found (a bounded list per reason)."""
        places = self.places.setdefault(reason, [])
        if len(places) < _MAX_PLACES:
            places.append(origin)

    @property
    def total(self) -> int:
        return sum(self.resources.values())


@dataclass
class StagedPatient:
    """One surviving patient for pass 2: its Patient resource, its compartment resources
    (deduplicated by Type/id, newest kept), the fullUrls of those whose fullUrl is not simply
    `urn:uuid:<id>` or `.../Type/id`, and the ids of patients merged into it."""

    key: str
    patient: dict[str, Any]
    resources: list[dict[str, Any]]
    full_urls: dict[str, dict[str, Any]]
    merged_from: list[str]


@dataclass(slots=True)
class _PatientInfo:
    last_updated: str
    active: bool
    links: list[tuple[str, Any]]  # (link type, Reference)
    identifiers: list[tuple[str, str]]  # (system, value)
    origin: str = ""  # where it was read (file:line), for the duplicate report


def _last_updated(resource: dict[str, Any]) -> str:
    meta = resource.get("meta")
    if isinstance(meta, dict):
        value = meta.get("lastUpdated")
        if isinstance(value, str):
            return value
    return ""


def _parse_instant(value: str, tz: tzinfo) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def _pid_alive(pid: int) -> bool:
    if os.name == "nt":
        return True  # os.kill would terminate it there; leave the file to the age rule
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def _remove_stale(workdir: Path) -> None:
    """Delete staging files of builds that died (killed, power loss): they are encrypted with
    a key that died with them, so they are only clutter. Files of a running build (its pid is
    alive, or on Windows: younger than a day) are left alone."""
    for stale in workdir.glob(".staging-*.db*"):
        parts = stale.name.split("-")
        pid = int(parts[1]) if len(parts) > 2 and parts[1].isdigit() else None
        try:
            old = time.time() - stale.stat().st_mtime > _STALE_SECONDS
        except OSError:
            continue
        if old or (pid is not None and pid != os.getpid() and not _pid_alive(pid)):
            stale.unlink(missing_ok=True)


def _trivial_full_url(full_url: str, key: str) -> bool:
    """True when the mapping's own index finds the resource by this fullUrl anyway."""
    rid = key.partition("/")[2]
    return full_url == f"urn:uuid:{rid}" or full_url.endswith("/" + key)


# What a Classifier makes of one source item: a small tuple of str/bytes (and, for the few
# patients and shared resources, the resource dict), cheap to send between processes.
#   (PROBLEM, reason)
#   (ROW, type, lastUpdated, patient reference, fullUrl to keep or None, JSON bytes)
#   (PATIENT | SHARED, type, lastUpdated, fullUrl, resource)
#   (SKIPPED | NO_PATIENT_KIND, type, lastUpdated)
Classified = tuple[Any, ...]
PROBLEM, ROW, PATIENT, SHARED, SKIPPED, NO_PATIENT_KIND = range(6)


class Classifier:
    """Decides where each source item goes (pure apart from a counter for invented ids): the
    CPU-heavy half of pass 1, which may run in a reader process beside the staging store."""

    def __init__(self) -> None:
        self._anon = 0

    def __call__(self, item: SourceItem | SourceProblem) -> Classified:
        if isinstance(item, SourceProblem):
            return (PROBLEM, item.reason, item.place or item.origin)
        resource = item.resource
        rtype: str = resource["resourceType"]
        updated = _last_updated(resource)
        raw = item.raw
        if not isinstance(resource.get("id"), str) or not resource["id"]:
            resource["id"] = self._invent_id(item.full_url)
            raw = None  # changed: serialise again
        if rtype == "Patient":
            return (PATIENT, rtype, updated, item.full_url, resource, item.origin)
        if rtype in IGNORED_PATIENT_TYPES:
            return (SKIPPED, rtype, updated)
        if rtype in PATIENT_REFERENCE_FIELDS:
            for name in PATIENT_REFERENCE_FIELDS[rtype]:
                pref = _reference_string(resource.get(name))
                if pref is not None:
                    key = f"{rtype}/{resource['id']}"
                    url = item.full_url
                    kept_url = url if url and not _trivial_full_url(url, key) else None
                    return (ROW, rtype, updated, pref, kept_url, raw or orjson.dumps(resource))
        if rtype in SHARED_TYPES:
            return (SHARED, rtype, updated, item.full_url, resource)
        if rtype in PATIENT_REFERENCE_FIELDS:
            return (NO_PATIENT_KIND, rtype, updated)
        return (SKIPPED, rtype, updated)

    def _invent_id(self, full_url: str | None) -> str:
        # Transaction Bundles may POST resources without id; their urn:uuid is their identity.
        if full_url and full_url.startswith("urn:uuid:"):
            return full_url[9:]
        self._anon += 1
        return f"wardcopy-anon-{self._anon}"


def _reference_string(ref: Any) -> str | None:
    """A Reference as one string: its `reference`, or a conditional form of its identifier
    (a logical reference)."""
    if isinstance(ref, list):  # Account.subject: the first Patient of several subjects
        refs = [r for r in ref if isinstance(r, dict)]
        first = refs[0] if refs else None
        ref = next((r for r in refs if "Patient/" in str(r.get("reference", ""))), first)
    if not isinstance(ref, dict):
        return None
    value = ref.get("reference")
    if isinstance(value, str) and value.strip():
        return value.strip()
    ident = ref.get("identifier")
    if isinstance(ident, dict) and isinstance(ident.get("value"), str) and ident["value"]:
        system = ident.get("system")
        rtype = ref.get("type")
        rtype = rtype if isinstance(rtype, str) else "Patient"
        return conditional_reference(
            rtype, system if isinstance(system, str) else None, ident["value"]
        )
    return None


class Staging:
    """The encrypted staging store. Use as a context manager; see the module docstring.

    Raises snapshot.SnapshotError when the database cannot be created.
    """

    def __init__(
        self,
        workdir: Path,
        *,
        tz: tzinfo = UTC,
        merge_inactive_duplicates: bool = True,
    ) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        _remove_stale(workdir)
        self.path = workdir / f".staging-{os.getpid()}-{secrets.token_hex(8)}.db"
        self.tz = tz
        self.merge_inactive_duplicates = merge_inactive_duplicates
        self.index = RefIndex()  # shared resources (kept) and patients (keys only)
        self.stats = StagingStats()
        self._patients: dict[str, _PatientInfo] = {}
        self._rows: list[tuple[int, str | None, bytes]] = []
        self._patient_rows: list[tuple[str, str, bytes]] = []
        self._survivor: dict[str, str] = {}
        self._prefs_of: dict[str, list[int]] = {}
        # Distinct patient reference strings -> small ints (and how many rows use each): the
        # table stores the int, so its index stays small; there are about as many distinct
        # references as patients, not as resources.
        self._pref_ids: dict[str, int] = {}
        self._pref_counts: list[int] = []
        self._merged_from: dict[str, list[str]] = {}
        self._classify = Classifier()
        self._loaded = False
        self._conn: snapshot.Connection | None = snapshot.connect(
            self.path, snapshot.new_key(), readonly=False, page_size=_PAGE_SIZE
        )
        try:
            for pragma in (
                "PRAGMA journal_mode = OFF",  # no journal file: a failed build is discarded
                "PRAGMA synchronous = OFF",  # throwaway data: never worth an fsync
                "PRAGMA locking_mode = EXCLUSIVE",
                "PRAGMA cache_size = -16384",  # 16 MiB: each patient's rows are read once
            ):
                self._conn.execute(pragma).fetchall()
            self._conn.executescript(
                """
                CREATE TABLE res (pref INTEGER NOT NULL, full_url TEXT, data BLOB NOT NULL);
                -- Built while inserting, not afterwards: CREATE INDEX would sort every key
                -- in RAM (temp files must stay in memory: they would be plaintext).
                CREATE INDEX res_pref ON res (pref);
                CREATE TABLE patients (key TEXT PRIMARY KEY, lu TEXT NOT NULL, data BLOB NOT NULL);
                """
            )
        except Exception:
            self.close()
            raise
        log.debug("staging store opened (encrypted, %d-byte pages)", _PAGE_SIZE)

    # ---------------------------------------------------------------- lifecycle

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close and delete the staging file (idempotent). Never raises for a missing file."""
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(str(self.path) + suffix).unlink(missing_ok=True)
        log.debug("staging store closed and deleted")

    @property
    def conn(self) -> snapshot.Connection:
        if self._conn is None:
            raise RuntimeError("staging store is closed")
        return self._conn

    # ---------------------------------------------------------------- pass 1

    def add(self, item: SourceItem | SourceProblem) -> None:
        """Take one source item (pass 1). Problems are counted; never raises for bad content."""
        self.apply(self._classify(item))

    def apply(self, staged: Classified) -> None:
        """Take one item already classified by a `Classifier` (possibly in another process)."""
        if self._loaded:
            raise RuntimeError("staging: add() after finish_loading()")
        kind = staged[0]
        if kind == PROBLEM:
            self.stats.problems[staged[1]] += 1
            if len(staged) > 2:
                self.stats.note_place(staged[1], staged[2])
            return
        rtype: str = staged[1]
        updated: str = staged[2]
        self.stats.resources[rtype] += 1
        if updated:
            self._note_update(updated)
        if kind == ROW:
            pref_text, kept_url, raw = staged[3], staged[4], staged[5]
            pref = self._pref_ids.get(pref_text)
            if pref is None:
                pref = self._pref_ids[pref_text] = len(self._pref_counts)
                self._pref_counts.append(0)
            self._pref_counts[pref] += 1
            self._rows.append((pref, kept_url, raw))
            if len(self._rows) >= _INSERT_BATCH:
                self._flush()
        elif kind == PATIENT:
            self._add_patient(staged[4], staged[3], updated, staged[5] if len(staged) > 5 else "")
            if len(self._patient_rows) >= _INSERT_BATCH:
                self._flush()
        elif kind == SHARED:
            self.index.add(staged[4], staged[3], keep=True)
        elif kind == NO_PATIENT_KIND:
            self.stats.problems[NO_PATIENT] += 1
        else:
            self.stats.skipped[rtype] += 1

    def _note_update(self, value: str) -> None:
        parsed = _parse_instant(value, self.tz)
        if parsed is not None and (
            self.stats.newest_update is None or parsed > self.stats.newest_update
        ):
            self.stats.newest_update = parsed

    def _add_patient(
        self, resource: dict[str, Any], full_url: str | None, updated: str, origin: str = ""
    ) -> None:
        key = f"Patient/{resource['id']}"
        previous = self._patients.get(key)
        if previous is not None:
            # Never silent: a second Patient with the same id is either a newer version or a
            # clash of two people; the build report names the id and where each copy was read.
            self.stats.duplicates += 1
            places = self.stats.duplicate_patients.setdefault(key, [previous.origin])
            if len(places) < _MAX_PLACES:
                places.append(origin)
            if updated < previous.last_updated:
                return  # an older copy of a patient we already have (the newest is kept)
        self.index.add(resource, full_url, keep=False)
        links: list[tuple[str, Any]] = []
        for link in resource.get("link") or ():
            if isinstance(link, dict) and isinstance(link.get("type"), str):
                links.append((link["type"], link.get("other")))
        identifiers = [
            (i["system"], i["value"])
            for i in resource.get("identifier") or ()
            if isinstance(i, dict)
            and isinstance(i.get("system"), str)
            and isinstance(i.get("value"), str)
        ]
        self._patients[key] = _PatientInfo(
            updated, resource.get("active") is not False, links, identifiers, origin
        )
        self._patient_rows.append((key, updated, orjson.dumps(resource)))

    def _flush(self) -> None:
        if not self._rows and not self._patient_rows:
            return
        conn = self.conn
        conn.execute("BEGIN")
        if self._rows:
            conn.executemany("INSERT INTO res (pref, full_url, data) VALUES (?, ?, ?)", self._rows)
        if self._patient_rows:
            conn.executemany(
                "INSERT INTO patients (key, lu, data) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE "
                "SET lu = excluded.lu, data = excluded.data WHERE excluded.lu >= patients.lu",
                self._patient_rows,
            )
        conn.execute("COMMIT")
        self._rows.clear()
        self._patient_rows.clear()

    # ---------------------------------------------------------------- between passes

    def finish_loading(self) -> None:
        """End pass 1: resolve merges and every distinct patient reference. Counts resources
        whose patient cannot be found ("dangling reference") or is not a Patient."""
        self._flush()
        self._loaded = True
        self._resolve_merges()
        log.debug(
            "staging: %d patients, %d distinct patient references, %d merged",
            len(self._patients),
            len(self._pref_ids),
            self.stats.merged,
        )
        for pref, pref_id in self._pref_ids.items():
            count = self._pref_counts[pref_id]
            ambiguous_before = self.index.ambiguous
            key = canonical_key(pref, self.index)
            if key is None and "?" not in pref and not pref.startswith("urn:"):
                key = literal_key(pref)
            if key is None and self.index.ambiguous > ambiguous_before:
                self.stats.problems[AMBIGUOUS] += count
            elif key is None or key not in self.index:
                self.stats.problems[DANGLING] += count
            elif not key.startswith("Patient/"):
                self.stats.problems[NOT_A_PATIENT] += count
            else:
                self._prefs_of.setdefault(self._survivor.get(key, key), []).append(pref_id)

    def _resolve_merges(self) -> None:
        """Fold merged patients into survivors: Patient.link replaced-by / replaces, and
        (optionally) an inactive patient sharing an identifier with exactly one active one."""
        parent: dict[str, str] = {}

        def find(key: str) -> str:
            seen = set()
            while key in parent and key not in seen:
                seen.add(key)
                key = parent[key]
            return key

        def fold(source: str, target: str) -> None:
            root_source, root_target = find(source), find(target)
            if root_source != root_target:
                parent[root_source] = root_target

        for key, info in self._patients.items():
            for link_type, other in info.links:
                other_key = self.index.key_of(other, "Patient")
                if link_type not in ("replaced-by", "replaces"):
                    continue
                if other_key is None or other_key not in self._patients:
                    self.stats.problems[MERGE_TARGET_MISSING] += 1
                    continue
                if link_type == "replaced-by":
                    fold(key, other_key)
                else:
                    fold(other_key, key)
        if self.merge_inactive_duplicates:
            by_identifier: dict[tuple[str, str], set[str]] = {}
            for key, info in self._patients.items():
                if info.active:
                    for ident in info.identifiers:
                        by_identifier.setdefault(ident, set()).add(key)
            for key, info in self._patients.items():
                if info.active or info.links:
                    continue
                targets: set[str] = set()
                for ident in info.identifiers:
                    targets |= by_identifier.get(ident, set())
                if len(targets) == 1:
                    fold(key, targets.pop())
        for key in parent:
            survivor = find(key)
            self._survivor[key] = survivor
            self._merged_from.setdefault(survivor, []).append(key.partition("/")[2])
            self.stats.merged += 1

    @property
    def patient_count(self) -> int:
        """Surviving patients (after merges)."""
        return len(self._patients) - len(self._survivor)

    # ---------------------------------------------------------------- pass 2

    def iter_raw_patients(self) -> Iterator[RawPatient]:
        """Yield every surviving patient, sorted by key, with its staged rows still encoded
        (pass 2): cheap to hand to another process, which runs `decode_patient`."""
        if not self._loaded:
            self.finish_loading()
        conn = self.conn
        survivors = sorted(k for k in self._patients if k not in self._survivor)
        for key in survivors:
            row = conn.execute("SELECT data FROM patients WHERE key = ?", (key,)).fetchone()
            if row is None:
                continue
            prefs = self._prefs_of.get(key, [])
            rows: list[tuple[bytes, str | None]] = []
            for start in range(0, len(prefs), _QUERY_CHUNK):
                chunk = prefs[start : start + _QUERY_CHUNK]
                marks = ",".join("?" * len(chunk))
                query = f"SELECT data, full_url FROM res WHERE pref IN ({marks}) ORDER BY rowid"
                rows.extend(conn.execute(query, chunk))
            yield RawPatient(key, row[0], rows, sorted(self._merged_from.get(key, ())))

    def iter_patients(self) -> Iterator[StagedPatient]:
        """Yield every surviving patient, sorted by key, with its resources decoded (pass 2).
        Duplicates dropped while decoding are added to `stats.duplicates`."""
        for raw in self.iter_raw_patients():
            staged, duplicates = decode_patient(raw)
            self.stats.duplicates += duplicates
            yield staged


@dataclass(slots=True)
class RawPatient:
    """A staged patient before decoding: the Patient's JSON and (JSON, fullUrl) rows."""

    key: str
    patient: bytes
    rows: list[tuple[bytes, str | None]]
    merged_from: list[str]


def decode_patient(raw: RawPatient) -> tuple[StagedPatient, int]:
    """Parse a RawPatient; of resources staged more than once (same Type/id) keep the newest
    by meta.lastUpdated (the later one on a tie). Returns the patient and the number of
    duplicates dropped. Pure."""
    newest: dict[str, tuple[str, dict[str, Any]]] = {}
    full_urls: dict[str, dict[str, Any]] = {}
    duplicates = 0
    for data, full_url in raw.rows:
        resource = orjson.loads(data)
        key = f"{resource['resourceType']}/{resource['id']}"
        updated = _last_updated(resource)
        previous = newest.get(key)
        if previous is not None:
            duplicates += 1
            if updated < previous[0]:
                continue
        newest[key] = (updated, resource)
        if full_url:
            full_urls[full_url] = resource
    staged = StagedPatient(
        key=raw.key,
        patient=orjson.loads(raw.patient),
        resources=[resource for _, resource in newest.values()],
        full_urls=full_urls,
        merged_from=raw.merged_from,
    )
    return staged, duplicates

"""Incremental ward builds for a live source: map only the patients that changed, rebuild only
the wards whose records changed.

The resource store (sync.store) remembers, encrypted like the resources themselves, per mapped
patient: the hash of its mapped record, the wards it was placed on, its prepared snapshot rows,
the ids merged into it and when its time-dependent content must be mapped again (`recheck`).
An increment's transaction also records the patients it touched (table `dirty`).

`build_increment` then maps again only
- the dirty patients (and the survivor of a dirty merged patient, with all its members),
- the patients their merge links name (`Patient.link` replaced-by / replaces, followed to the
  end): a merge arriving in an increment is folded like the full build folds it, so the
  merged-away patient leaves its ward and the survivor's record carries its data,
- the patients whose `recheck` time has passed (see "Time" below),
and rebuilds only the wards whose digest over (patient id, record hash), read from the store,
differs from the digest of the ward's last published package (sync.cycle's ward state): a
ward that gained, lost or changed a patient, and also a ward left unpublished earlier (excluded,
refused, or a cycle killed before publishing). Its other patients' rows are read back from the
store, not mapped again, and not even compressed again: each ward keeps its zlib preset
dictionary in the store (made from its first records the first time, as the snapshot writer
makes one) and each record's blob compressed with it, reused while the record's hash is the
same (tables `ward_dict`, `packed`; a full build forgets both). The digest is the full
build's (`sync.build._ward_digest`), so an incremental ward equals the full build's ward record
for record.

It returns None (the caller builds everything, `build_snapshots`, and `Recorder` replaces all
remembered mappings) when an increment cannot be narrowed down safely: nothing mapped yet, a
resource without patient changed (Location, Medication, Practitioner, ...: any patient may
refer to it, and Locations decide the wards), a patient reference or merge link that is not
`Patient/<id>`, or a changed Patient with `active: false` and no merge link that is not a known
merged member (with `merge_inactive_duplicates` it may be the duplicate of any patient sharing
an identifier, which only a full build can find). The nightly full refresh rebuilds everything
anyway and heals any drift.

Time: mapping depends on `now` (discharged-within-hours stays, the stopped-orders and
administration windows, flags that ended, the [history] windows). Mapping reports the next
instant at which a patient's record or placement would change with the clock alone
(`MappingContext.changes_at`: every comparison with `now` names the instant it flips); that
instant is the patient's `recheck`, and the patient is mapped again in the first cycle at or
after it, not before. A patient with nothing time-dependent is mapped again only when it
changes in the source, or at the nightly full refresh.

Atomicity: the caller runs mapping, building and publishing inside one store transaction
(`ResourceStore.transaction`) and clears `dirty` in it; a killed cycle rolls all of it back and
the next cycle maps the same patients again (wards already published then equal their last
package and are not published twice).
"""

from __future__ import annotations

import hashlib
import multiprocessing
import re
import time
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from sync import build as buildlib
from sync.config import Config
from sync.mapping.observations import utc_text, window_start
from sync.snapshot import (
    PreparedRecord,
    SnapshotMeta,
    SnapshotWriter,
    build_dictionary,
    new_key,
)
from sync.snapshot.writer import ZDICT_SAMPLES
from sync.sources import SourceItem
from sync.staging import Classified, Classifier, Staging
from sync.store import ResourceStore, patient_identifiers
from sync.wards import effective_wards

__all__ = [
    "Recorder",
    "SharedCache",
    "build_increment",
    "decode_prepared",
    "encode_prepared",
    "ward_digests",
]

_PATIENT_REF = re.compile(r"Patient/([A-Za-z0-9\-.]{1,64})")
_CHUNK = 400  # SQLite host parameters per IN (...) query
# patients read besides the ones to map (merge links, shared identifiers) beyond which
# everything is built
_MAX_CLOSURE = 2000
_PACKED_BATCH = 2000  # compressed records held before they are written to the store


def _stamp(when: datetime) -> str:
    """A sortable UTC text to the microsecond (comparisons in SQL are by text): a recheck
    stamp is never earlier or later than the instant it stands for."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


_NEVER = "9999-12-31T23:59:59.999999"  # the recheck of a patient time alone never changes


def encode_prepared(record: PreparedRecord) -> bytes:
    """The stored form of a prepared record (pure): its columns as JSON, a newline, then the
    record JSON as it is (orjson never writes a newline without indentation)."""
    head = orjson.dumps(
        {
            "i": record.patient_id,
            "c": record.census,
            "s": record.search,
            "e": record.exact,
            "n": record.counts,
            "m": record.merged_from,
        }
    )
    return head + b"\n" + record.data


def decode_prepared(blob: bytes) -> PreparedRecord:
    """The inverse of `encode_prepared` (pure). Raises ValueError on a damaged value."""
    head, sep, data = bytes(blob).partition(b"\n")
    if not sep:
        raise ValueError("stored record without separator")
    fields: dict[str, Any] = orjson.loads(head)
    search = tuple(fields["s"])
    if len(search) != 5:
        raise ValueError("stored record with wrong search columns")
    return PreparedRecord(
        patient_id=fields["i"],
        data=data,
        census=fields["c"],
        search=(search[0], search[1], search[2], search[3], search[4]),
        exact=tuple(fields["e"]),
        counts=fields["n"],
        merged_from=tuple(fields["m"]),
    )


def _fingerprint(record: PreparedRecord) -> bytes:
    # The same hash as the full build's ward digest (sync.build._write_wards).
    return hashlib.blake2b(record.data, digest_size=16).digest()


class Recorder:
    """Writes what a build mapped into the store's mapping tables; use inside the caller's
    store transaction."""

    def __init__(self, store: ResourceStore, now: datetime) -> None:
        self.conn = store.conn
        self.now = now
        self._digests: dict[str, bytes] = {}  # patient id -> record hash, for `put_packed`
        self._packed: list[tuple[str, str, bytes, int, bytes]] = []

    def clear(self) -> None:
        """Forget every remembered mapping (before a full build records all again)."""
        for table in ("mapped", "record", "placement", "ward_dict", "packed"):
            self.conn.execute(f"DELETE FROM {table}")

    def remove(self, patient_id: str) -> None:
        for table, column in (("mapped", "id"), ("record", "id"), ("placement", "id")):
            self.conn.execute(f"DELETE FROM {table} WHERE {column} = ?", (patient_id,))

    def put(self, record: PreparedRecord, ward_ids: list[str]) -> None:
        """Remember `record` on `ward_ids`, to be mapped again when its time-dependent content
        changes (`record.changes_at`; never when None) or the patient changes."""
        pid = record.patient_id
        recheck = _NEVER if record.changes_at is None else _stamp(record.changes_at)
        self._digests[pid] = _fingerprint(record)
        self.remove(pid)
        self.conn.execute(
            "INSERT INTO mapped (id, digest, recheck, members) VALUES (?, ?, ?, ?)",
            (pid, self._digests[pid], recheck, " ".join(record.merged_from)),
        )
        self.conn.execute(
            "INSERT INTO record (id, prepared) VALUES (?, ?)", (pid, encode_prepared(record))
        )
        self.conn.executemany(
            "INSERT OR IGNORE INTO placement (ward, id) VALUES (?, ?)",
            [(ward_id, pid) for ward_id in ward_ids],
        )

    def put_full(self, record: PreparedRecord, ward_ids: list[str]) -> None:
        """`put` for a full build (`build_snapshots(on_mapped=...)`)."""
        self.put(record, ward_ids)

    def put_packed(self, ward_id: str, patient_id: str, codec: int, blob: bytes) -> None:
        """Remember a record of `ward_id` as the full build compressed it with the ward's
        dictionary (`build_snapshots(on_packed=...)`; after `put` of that record), so the
        first increment that rebuilds the ward reuses it."""
        self._packed.append((ward_id, patient_id, self._digests[patient_id], codec, blob))
        if len(self._packed) >= _PACKED_BATCH:
            self._flush_packed()

    def put_dictionary(self, ward_id: str, zdict: bytes) -> None:
        """Remember the ward's preset dictionary (`build_snapshots(on_dictionary=...)`)."""
        self.conn.execute(
            "INSERT OR REPLACE INTO ward_dict (ward, zdict) VALUES (?, ?)", (ward_id, zdict)
        )

    def _flush_packed(self) -> None:
        self.conn.executemany(
            "INSERT OR REPLACE INTO packed (ward, id, digest, codec, blob) VALUES (?, ?, ?, ?, ?)",
            self._packed,
        )
        self._packed.clear()

    def done(self) -> None:
        """Every dirty patient is mapped: clear them and mark the mappings usable."""
        self._flush_packed()
        self.conn.execute("DELETE FROM dirty")
        self.conn.execute("INSERT OR REPLACE INTO state (name, value) VALUES ('mapped', '1')")


def ward_digests(store: ResourceStore) -> dict[str, str]:
    """Each ward's digest over its remembered patients, as the full build computes it."""
    rows: dict[str, list[tuple[str, bytes]]] = {}
    for ward, pid, digest in store.conn.execute(
        "SELECT p.ward, p.id, m.digest FROM placement p JOIN mapped m ON m.id = p.id"
    ):
        rows.setdefault(ward, []).append((pid, bytes(digest)))
    return {ward: buildlib._ward_digest(pairs) for ward, pairs in rows.items()}


def _chunks(values: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


@dataclass
class SharedCache:
    """The resources without a patient (Location, Practitioner, Organization, Medication, ...)
    as an increment read them from the store, parsed and classified. The watch loop keeps one
    across cycles (sync.watch): an increment reads them from the store again only when they
    changed (the store's `shared_gen`, renewed by every increment that changed one, and by a
    full read). Not shared between stores or threads."""

    gen: str | None = None
    items: list[Classified] = field(default_factory=list)


def _stage_shared(store: ResourceStore, st: Staging, cache: SharedCache | None) -> None:
    """Put the shared resources into `st`, from `cache` when it holds the store's current
    generation of them, else from the store (filling `cache`)."""
    gen = store.state("shared_gen")
    if cache is not None and gen is not None and cache.gen == gen:
        for item in cache.items:
            st.apply(item)
        return
    classify = Classifier()
    items: list[Classified] = []
    for rtype, body in store.conn.execute(
        "SELECT type, body FROM resource WHERE patient IS NULL AND type != 'Patient'"
    ):
        item = classify(SourceItem(orjson.loads(body), None, f"store:{rtype}", bytes(body)))
        items.append(item)
        st.apply(item)
    if cache is not None:
        cache.gen, cache.items = gen, items


def _patients_to_map(store: ResourceStore, now: datetime) -> set[str] | None:
    """The ids of the patients to map again, or None when everything must be (see module)."""
    conn = store.conn
    if store.state("mapped") != "1":
        return None
    ids: set[str] = set()
    for (ref,) in conn.execute("SELECT patient FROM dirty"):
        match = _PATIENT_REF.fullmatch(str(ref))
        if match is None:
            return None  # "*" (shared resources changed) or a reference of another form
        ids.add(match[1])
    for (pid,) in conn.execute("SELECT id FROM mapped WHERE recheck <= ?", (_stamp(now),)):
        ids.add(str(pid))
    return ids


def _merge_closure(
    store: ResourceStore,
    ids: set[str],
    survivor_of: dict[str, str],
    members: dict[str, list[str]],
    config: Config,
) -> tuple[dict[str, bytes], dict[str, set[str]]] | None:
    """The stored Patient JSON of `ids` and of every patient a merge link of theirs names
    (`replaced-by` / `replaces`, followed to the end, with the members already merged into
    each), so the staging folds a merge that arrived in this increment: the merged-away
    patient leaves its ward and the survivor's record carries its data. None when it cannot
    be narrowed down: a link in another form than `Patient/<id>`, or more than _MAX_CLOSURE
    patients read besides `ids`. An inactive patient without links brings every patient sharing an
    identifier with it (`merge_inactive_duplicates`). Also returns which read patients a
    link, a shared identifier or a remembered merge ties together."""
    found: dict[str, bytes] = {}
    ties: dict[str, set[str]] = {}

    def tie(a: str, b: str) -> None:
        ties.setdefault(a, set()).add(b)
        ties.setdefault(b, set()).add(a)

    tried: set[str] = set()
    frontier = set(ids)
    while frontier:
        todo = sorted(frontier - tried)
        tried.update(todo)
        frontier = set()
        for chunk in _chunks(todo):
            marks = ",".join("?" * len(chunk))
            for pid, body in store.conn.execute(
                f"SELECT id, body FROM resource WHERE type = 'Patient' AND id IN ({marks})",
                chunk,
            ):
                pid = str(pid)
                found[pid] = bytes(body)
                patient = orjson.loads(body)
                links = [
                    link
                    for link in patient.get("link") or ()
                    if isinstance(link, dict) and link.get("type") in ("replaced-by", "replaces")
                ]
                if (
                    not links
                    and patient.get("active") is False
                    and config.merge_inactive_duplicates
                ):
                    # It may be the duplicate of any patient sharing an identifier: read them
                    # all (and what is merged into them), so the staging decides as a full
                    # build does. (A patient sharing one with a changed Patient is dirty too:
                    # sync.store.)
                    for peer in _identifier_peers(store, patient, pid):
                        other = survivor_of.get(peer, peer)
                        frontier.update((peer, other, *members.get(other, ())))
                        tie(pid, peer)
                        tie(pid, other)
                for link in links:
                    ref = (link.get("other") or {}).get("reference")
                    match = _PATIENT_REF.fullmatch(str(ref))
                    if match is None:
                        return None
                    other = survivor_of.get(match[1], match[1])
                    frontier.update((other, *members.get(other, ())))
                    tie(pid, match[1])
                    tie(pid, other)
                for member in members.get(pid, ()):
                    tie(pid, member)
        frontier -= tried
        if len(tried) > len(ids) + _MAX_CLOSURE:
            return None  # a huge merge group (a shared placeholder identifier?): build all
    return found, ties


def _identifier_peers(store: ResourceStore, patient: dict[str, Any], pid: str) -> set[str]:
    """The ids of the other stored Patients sharing an identifier with `patient`."""
    peers: set[str] = set()
    for ident in sorted(patient_identifiers(patient)):
        for (peer,) in store.conn.execute("SELECT id FROM ident WHERE ident = ?", (ident,)):
            if str(peer) != pid:
                peers.add(str(peer))
    return peers


def _grouped_chunks(ids: list[str], ties: dict[str, set[str]]) -> Iterator[list[str]]:
    """`ids` in chunks of about `_CHUNK` that never split a group of tied (merged)
    patients: their resources are then read in one (type, id) ordered query, the order the
    full build reads them in, so a merged record lists them in the same order."""
    placed: set[str] = set()
    chunk: list[str] = []
    for pid in ids:
        if pid in placed:
            continue
        group, todo = [], [pid]
        while todo:
            current = todo.pop()
            if current in placed:
                continue
            placed.add(current)
            group.append(current)
            todo.extend(ties.get(current, ()))
        chunk.extend(group)
        if len(chunk) >= _CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@dataclass(frozen=True)
class _Window:
    """Where the [history] windows start for an increment's mapping (`utc_text`)."""

    vital: str
    lab: str


def _read_window(store: ResourceStore, config: Config, now: datetime) -> _Window | None:
    """The window starts when the store can read only what they keep: both windows set (the
    mapping's prefilter runs only then) and the store's window keys made for this
    configuration; else None (read every Observation)."""
    vitals, labs = config.history.vitals_hours, config.history.labs_days
    if vitals is None or labs is None or not store.window_index_usable():
        return None
    vital = utc_text(window_start(now, timedelta(hours=vitals)))
    lab = utc_text(window_start(now, timedelta(days=labs)))
    if vital is None or lab is None:
        return None
    return _Window(vital=vital, lab=lab)


_OBSERVATION_REF = re.compile(rb"Observation/([A-Za-z0-9\-.]{1,64})")


def _patient_resources(
    conn: Any, refs: list[str], window: _Window | None
) -> Iterator[tuple[str, bytes]]:
    """(type, body) of every stored resource of the patients `refs`, in (type, id) order, as
    the full build reads them; with `window`, of the Observations only those that
    `prefilter_window` can keep or that decide its result (`_window_ids`) and those another
    resource of theirs refers to (a reason may name an Observation), so mapping gives the same
    record from far fewer values: an ICU patient's stay of minute vitals is not read whole."""
    marks = ",".join("?" * len(refs))
    if window is None:
        for rtype, body in conn.execute(
            f"SELECT type, body FROM resource WHERE patient IN ({marks}) ORDER BY type, id", refs
        ):
            yield str(rtype), bytes(body)
        return
    before = [
        (str(t), bytes(b))
        for t, b in conn.execute(
            f"SELECT type, body FROM resource WHERE patient IN ({marks}) "
            "AND type < 'Observation' ORDER BY type, id",
            refs,
        )
    ]
    after = [
        (str(t), bytes(b))
        for t, b in conn.execute(
            f"SELECT type, body FROM resource WHERE patient IN ({marks}) "
            "AND type > 'Observation' ORDER BY type, id",
            refs,
        )
    ]
    rows = conn.execute(
        f"SELECT patient, id, grp, vital, at, upd, skip FROM obs WHERE patient IN ({marks})",
        refs,
    ).fetchall()
    wanted = _window_ids(rows, window)
    named = {
        match.decode() for _, body in (*before, *after) for match in _OBSERVATION_REF.findall(body)
    }
    wanted |= named & {str(row[1]) for row in rows}
    yield from before
    ordered = sorted(wanted)  # str order is SQLite's BINARY order of UTF-8 text
    for chunk in _chunks(ordered):
        for (body,) in conn.execute(
            f"SELECT body FROM resource WHERE type = 'Observation' "
            f"AND id IN ({','.join('?' * len(chunk))}) ORDER BY id",
            chunk,
        ):
            yield "Observation", bytes(body)
    yield from after


def _window_ids(rows: list[tuple[Any, ...]], window: _Window) -> set[str]:
    """The ids of the stored Observations (rows of table `obs`: patient, id, group, vital,
    time, lastUpdated, skip) that a read limited by `window` must keep for mapping to give the
    same record as from all of them (pure):
    - those without a time key (always read: see sync.mapping.observations.window_keys);
    - per patient and group (code and category): those at or after the group's window start
      and those at the group's newest time (`prefilter_window` keeps both), and of those it
      would leave out one that is not skipped, so it still marks the window as cutting;
    - per patient, those with the newest lastUpdated (the record's "last updated")."""
    keep: set[str] = set()
    groups: dict[tuple[str, bytes], tuple[bool, list[tuple[str, str, bool]]]] = {}
    updated: dict[str, tuple[str, list[str]]] = {}
    for patient, rid, grp, vital, at, upd, skip in rows:
        rid = str(rid)
        if at is None:
            keep.add(rid)
            continue
        group = groups.setdefault((str(patient), bytes(grp)), (bool(vital), []))
        group[1].append((str(at), rid, bool(skip)))
        if upd is not None:
            best = updated.get(str(patient))
            if best is None or str(upd) > best[0]:
                updated[str(patient)] = (str(upd), [rid])
            elif str(upd) == best[0]:
                best[1].append(rid)
    for vital, values in groups.values():
        since = window.vital if vital else window.lab
        newest = max(at for at, _, _ in values)
        witness: tuple[str, str] | None = None
        for at, rid, skip in values:
            if at >= since or at == newest:
                keep.add(rid)
            elif not skip and (witness is None or (at, rid) > witness):
                witness = (at, rid)
        if witness is not None:
            keep.add(witness[1])
    for _, rids in updated.values():
        keep.update(rids)
    return keep


def build_increment(
    store: ResourceStore,
    config: Config,
    workdir: Path,
    recorder: Recorder,
    *,
    last_digests: dict[str, str],
    now: datetime,
    data_as_of: datetime,
    wards: list[str] | None = None,
    exclude: list[str] | tuple[str, ...] = (),
    shared: SharedCache | None = None,
    workers: int | None = None,
) -> buildlib.BuildResult | None:
    """Map the changed patients again and build the wards whose records changed (see the
    module docstring); None when everything must be built. `last_digests`: ward id -> digest
    of its last published package. Writes the new mappings through `recorder` (inside the
    caller's transaction) and the snapshots into `workdir`. `shared`: the watch loop's cache of
    the shared resources (see SharedCache; None reads them from the store). `workers`: mapping
    processes as for the full build (None: all cores, at most 4, when at least
    `sync.build._POOL_MIN_PATIENTS` patients are mapped, e.g. a drug round's doses leaving
    their window together; 1: in this process). Raises BuildError
    (unknown ward), SnapshotError, sqlite errors of the store (the caller rolls back)."""
    clock = time.perf_counter()
    steps: dict[str, float] = {}

    def step(name: str) -> None:
        nonlocal clock
        now_ = time.perf_counter()
        steps[name] = steps.get(name, 0.0) + now_ - clock
        clock = now_

    ids = _patients_to_map(store, now)
    if ids is None:
        return None
    conn = store.conn
    # Merged patients: a dirty member maps its survivor again; a survivor brings its members.
    members: dict[str, list[str]] = {}
    survivor_of: dict[str, str] = {}
    for pid, text in conn.execute("SELECT id, members FROM mapped WHERE members != ''"):
        members[str(pid)] = str(text).split()
        for member in members[str(pid)]:
            survivor_of[member] = str(pid)
    ids = {survivor_of.get(pid, pid) for pid in ids}
    fetch_ids = set(ids)
    for pid in ids:
        fetch_ids.update(members.get(pid, ()))
    closure = _merge_closure(store, fetch_ids, survivor_of, members, config)
    if closure is None:
        return None
    patients, ties = closure
    # Everyone read is mapped again (a patient linked in by a merge, too); members folded
    # into a survivor are then not `seen` and lose their own mapping below.
    ids |= set(patients)  # (a deleted patient is in `ids` but not read: it is removed below)
    started = datetime.now(UTC)
    tz = config.tz
    with Staging(workdir, tz=tz, merge_inactive_duplicates=config.merge_inactive_duplicates) as st:
        _stage_shared(store, st, shared)
        wanted = sorted(patients)
        for pid in wanted:
            body = patients[pid]
            st.add(SourceItem(orjson.loads(body), None, "store:Patient", body))
        window = _read_window(store, config, now)
        for group in _grouped_chunks(wanted, ties):
            refs = [f"Patient/{pid}" for pid in group]
            for rtype, body in _patient_resources(conn, refs, window):
                st.add(SourceItem(orjson.loads(body), None, f"store:{rtype}", bytes(body)))
        st.finish_loading()
        step("stage")
        locations = [r for k, r in st.index.resources.items() if k.startswith("Location/")]
        ward_configs = effective_wards(config, locations)
        targets = [
            t for t in buildlib._select_wards(config, ward_configs, wards) if t[0] not in exclude
        ]
        state = buildlib._MapState(
            index=st.index, config=config, wards=ward_configs, tz=tz, now=now
        )
        report = buildlib.BuildReport(patients=st.patient_count, merged=st.stats.merged)
        problems: Counter[str] = Counter()
        seen: set[str] = set()
        for keys, (results, batch_problems, duplicates, places) in _map_batches(
            st, state, len(wanted), workers
        ):
            problems.update(batch_problems)
            buildlib.merge_places(report.problem_places, places)
            st.stats.duplicates += duplicates
            for key, (record, ward_ids) in zip(keys, results, strict=True):
                pid = key.partition("/")[2]
                seen.add(pid)
                if record is None:
                    recorder.remove(pid)
                    continue
                report.patients_mapped += 1
                if ward_ids:
                    report.patients_placed += 1
                recorder.put(record, ward_ids)
        for pid in ids - seen:  # deleted, or merged into another patient now
            recorder.remove(pid)
        stats = st.stats
    step("map")
    digests = ward_digests(store)
    empty = buildlib._ward_digest([])
    changed = [t for t in targets if digests.get(t[0], empty) != last_digests.get(t[0])]
    step("digest")
    snapshots = _write_changed(store, changed, digests, empty, workdir, config, now, data_as_of)
    step("write")
    problems.update(stats.problems)
    report.resources = dict(sorted(stats.resources.items()))
    report.total_resources = stats.total
    report.duplicates = stats.duplicates
    report.skipped = dict(sorted(stats.skipped.items()))
    report.problems = dict(problems.most_common())
    report.data_as_of = data_as_of
    report.elapsed_seconds = (datetime.now(UTC) - started).total_seconds()
    report.steps = steps
    built = {t[0] for t in changed}
    return buildlib.BuildResult(
        wards=snapshots,
        report=report,
        unchanged=[t[0] for t in targets if t[0] not in built],
    )


def _map_batches(
    st: Staging, state: Any, count: int, workers: int | None
) -> Iterator[tuple[list[str], Any]]:
    """(staging keys, `sync.build._map_batch` result) per batch of the staged patients, in
    order: in this process, or in a forked pool as the full build maps (same records, same
    order) when `count` patients are many enough. Sets and clears `sync.build._STATE`."""
    inline = workers == 1 if workers is not None else count < buildlib._POOL_MIN_PATIENTS
    methods = multiprocessing.get_all_start_methods()
    keys: deque[list[str]] = deque()

    def batches() -> Iterator[list[Any]]:
        for batch in buildlib._batches(st.iter_raw_patients(), buildlib._BATCH_PATIENTS):
            keys.append([raw.key for raw in batch])
            yield batch

    buildlib._STATE = state
    try:
        if inline or "fork" not in methods:
            for batch in batches():
                result = buildlib._map_batch(batch)
                yield keys.popleft(), result
            return
        size = buildlib._default_workers() if workers is None else max(1, workers)
        # Forked: the workers inherit the mapping state (the shared resources' index); they
        # touch neither the store nor the staging database.
        with multiprocessing.get_context("fork").Pool(size) as pool:
            for result in buildlib._bounded_imap(pool, batches(), size * 2 + 1):
                yield keys.popleft(), result
    finally:
        buildlib._STATE = None


def _ward_dictionary(conn: Any, ward_id: str) -> bytes:
    """The ward's remembered zlib preset dictionary; the first time, one made from its first
    records exactly as a SnapshotWriter makes its own, then remembered (until the next full
    build forgets it, so it follows the ward's patients at least nightly)."""
    row = conn.execute("SELECT zdict FROM ward_dict WHERE ward = ?", (ward_id,)).fetchone()
    if row is not None:
        return bytes(row[0])
    samples = [
        decode_prepared(blob).data
        for (blob,) in conn.execute(
            "SELECT r.prepared FROM placement p JOIN record r ON r.id = p.id "
            "WHERE p.ward = ? ORDER BY p.id LIMIT ?",
            (ward_id, ZDICT_SAMPLES),
        )
    ]
    zdict = build_dictionary(samples)
    conn.execute("INSERT INTO ward_dict (ward, zdict) VALUES (?, ?)", (ward_id, zdict))
    return zdict


def _write_changed(
    store: ResourceStore,
    changed: list[tuple[str, str]],
    digests: dict[str, str],
    empty: str,
    workdir: Path,
    config: Config,
    now: datetime,
    data_as_of: datetime,
) -> list[buildlib.WardSnapshot]:
    """Write the snapshots of `changed` wards from the remembered records. Raises
    SnapshotError (partial snapshots are deleted)."""
    conn = store.conn
    snapshots: list[buildlib.WardSnapshot] = []
    writers: list[SnapshotWriter] = []
    try:
        for ward_id, ward_name in changed:
            key = new_key()
            meta = SnapshotMeta(
                ward_id=ward_id,
                ward_name=ward_name,
                data_as_of=min(data_as_of, now),
                built_at=now,
                source=store.name,
                generator=buildlib.GENERATOR,
                time_zone=config.timezone,
                windows=config.data_windows(),
            )
            zdict = _ward_dictionary(conn, ward_id)
            writer = SnapshotWriter(
                workdir / f"{ward_id}.db", key, meta, durable=False, dictionary=zdict
            )
            writers.append(writer)
            count = 0
            fresh: list[tuple[str, str, bytes, int, bytes]] = []
            for pid, blob, digest, codec, packed, packed_digest in conn.execute(
                "SELECT p.id, r.prepared, m.digest, k.codec, k.blob, k.digest "
                "FROM placement p JOIN record r ON r.id = p.id JOIN mapped m ON m.id = p.id "
                "LEFT JOIN packed k ON k.ward = p.ward AND k.id = p.id "
                "WHERE p.ward = ? ORDER BY p.id",
                (ward_id,),
            ):
                # The blob compressed earlier with this ward's dictionary, when the record is
                # still the same (its hash); else compressed now and remembered.
                same = packed is not None and bytes(packed_digest) == bytes(digest)
                encoded = writer.add_prepared(
                    decode_prepared(blob), (int(codec), bytes(packed)) if same else None
                )
                if not same and encoded is not None:
                    fresh.append((ward_id, str(pid), bytes(digest), *encoded))
                count += 1
                if count % buildlib._HELD_CHECK_EVERY == 0:
                    buildlib._bound_held([writer])
            writer.finish()
            conn.executemany(
                "INSERT OR REPLACE INTO packed (ward, id, digest, codec, blob) "
                "VALUES (?, ?, ?, ?, ?)",
                fresh,
            )
            conn.execute(  # patients who left the ward
                "DELETE FROM packed WHERE ward = ? AND id NOT IN "
                "(SELECT id FROM placement WHERE ward = ?)",
                (ward_id, ward_id),
            )
            snapshots.append(
                buildlib.WardSnapshot(
                    ward_id=ward_id,
                    ward_name=ward_name,
                    path=writer.path,
                    key=key,
                    meta=writer.meta,
                    patients=count,
                    digest=digests.get(ward_id, empty),
                )
            )
    except BaseException:
        for writer in writers:
            writer.abort()
        raise
    return snapshots

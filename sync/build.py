"""Build ward snapshots from FHIR files: sources -> staging -> mapping -> wards -> snapshots.

`build_snapshots(source, config, workdir)` reads the source once into the encrypted staging
store (sync.staging), maps each patient (sync.mapping.map_patient), decides its wards
(sync.wards) and writes one SQLCipher snapshot per ward (sync.snapshot.SnapshotWriter), each
with its own fresh random key. Sealing and publishing the snapshots is the caller's next step
(sync.package, sync.publish).

Speed: in pass 1 a reader process parses and classifies the source while this process writes
the staging store (sources over 16 MB, or workers > 1); pass 2 maps patients in a small process
pool (`workers`, default: all cores, at most 4) fed with batches of patients, while this process
reads the staging store and writes the snapshots. `workers=1` does everything in this process.
Processes are forked (POSIX); where fork is unavailable the build runs pass 1 inline and spawns
the pool. Workers hand back prepared records (snapshot.prepare_record: JSON, census and
search rows), so a record is encoded once even when it goes to its ward and the hospital-wide
ward. Memory stays flat: only a small window of batches is in flight; the snapshot writers (one
per ward) hold their queued records compressed and spill them to their encrypted files under
one budget (`_HELD_BUDGET`); shared resources (Location, Practitioner, ...) are the only thing
held whole.

Nothing with patient data is written in plaintext: staging and snapshots are SQLCipher files; the
staging file is deleted at the end and on failure; partial snapshots are deleted on failure.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import hashlib
import logging
import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from queue import Empty
from typing import Any

from sync import progress
from sync.config import Config
from sync.mapping import MappingContext, MappingError, map_patient, truncated_fields
from sync.model import TRUNCATED_MARK, PatientRecord
from sync.refs import RefIndex
from sync.snapshot import PreparedRecord, SnapshotMeta, SnapshotWriter, new_key, prepare_record
from sync.sources import ItemSource, iter_source
from sync.staging import Classifier, RawPatient, StagedPatient, Staging, decode_patient
from sync.wards import effective_wards, place_record, summarize_encounter

__all__ = ["BuildError", "BuildReport", "BuildResult", "WardSnapshot", "build_snapshots"]

GENERATOR = "wardcopy-sync"
_BATCH_PATIENTS = 32  # patients per pool task: big enough to amortise pickling
_MAX_CUT_PLACES = 20  # cut text fields named per reason in the build report (all are counted)
_POOL_MIN_PATIENTS = 200  # below this a process pool costs more than it saves
MAPPING_FAILED = "Patient: cannot be mapped"


log = logging.getLogger(__name__)


class BuildError(Exception):
    """The build cannot run (unknown ward asked for, source missing). The message says what to
    change; it never contains patient data or keys."""


@dataclass
class WardSnapshot:
    """One ward's finished snapshot. `key` is the raw SQLCipher key: wrap it for the ward's
    laptops (sync.package) and never log it (it is left out of repr)."""

    ward_id: str
    ward_name: str
    path: Path
    key: bytes = field(repr=False)
    meta: SnapshotMeta
    patients: int
    # A hash of the ward's records (each patient's record JSON, by patient id): equal digests
    # mean equal contents, so an unchanged ward need not be published again (sync.cycle).
    digest: str = ""


@dataclass
class BuildReport:
    """What a build read, mapped, placed and could not use."""

    resources: dict[str, int] = field(default_factory=dict)  # read, per resourceType
    total_resources: int = 0
    patients: int = 0  # distinct patients after merges
    patients_mapped: int = 0
    patients_placed: int = 0  # on at least one (real) ward
    merged: int = 0  # patient records folded into another
    duplicates: int = 0  # repeated Type/id (newest kept)
    problems: dict[str, int] = field(default_factory=dict)  # reason -> count
    # reason -> where it was found ("file.ndjson:12", "bundle.json:3:17", "b.json#entry4 (Type)"),
    # the first 20 per reason: invalid JSON, unknown resourceType, ...
    problem_places: dict[str, list[str]] = field(default_factory=dict)
    # "Patient/id" read more than once -> where each copy was read (the newest is used)
    duplicate_patients: dict[str, list[str]] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)  # types read but not kept
    elapsed_seconds: float = 0.0
    read_seconds: float = 0.0  # pass 1: parse and stage the source
    data_as_of: datetime | None = None
    # Seconds per step of an incremental build (sync.incremental: stage, map, digest, write),
    # in the order they ran; {} for a full build.
    steps: dict[str, float] = field(default_factory=dict)

    @property
    def resources_per_second(self) -> float:
        return self.total_resources / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0

    @property
    def patients_unplaced(self) -> int:
        """Mapped patients on no ward (no current stay, no matching rule): in no snapshot."""
        return self.patients_mapped - self.patients_placed

    @property
    def problem_count(self) -> int:
        return sum(self.problems.values())


@dataclass
class BuildResult:
    wards: list[WardSnapshot]
    report: BuildReport
    # Wards not rebuilt because their records equal those of their last package (an
    # incremental build, sync.incremental); a full build lists none.
    unchanged: list[str] = field(default_factory=list)

    def ward(self, ward_id: str) -> WardSnapshot:
        """The snapshot of `ward_id`; raises KeyError if it was not built."""
        for snap in self.wards:
            if snap.ward_id == ward_id:
                return snap
        raise KeyError(ward_id)


# ------------------------------------------------------------------------------ mapping work
# Module-level state of a mapping process (the pool's workers, or this process when inline).


@dataclass
class _MapState:
    index: RefIndex
    config: Config
    wards: list[Any]
    tz: tzinfo
    now: datetime
    full_urls: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: Counter[str] = field(default_factory=Counter)
    # reason -> where ("MedicationRequest/m1 note"): the cut text fields of this batch
    places: dict[str, list[str]] = field(default_factory=dict)

    def resolve(self, reference: Any, from_resource: dict[str, Any] | None) -> Any:
        found = self.index.resolve(reference, from_resource)
        if found is None and self.full_urls:
            ref = reference.get("reference") if isinstance(reference, dict) else reference
            if isinstance(ref, str):
                found = self.full_urls.get(ref)
        return found


_STATE: _MapState | None = None


def _crash_reason(exc: BaseException) -> str:
    """A problem reason naming where mapping crashed: the exception type and the innermost
    source line, never its message (messages can quote patient data)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    where = f" at {Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno}" if tb else ""
    return f"Patient: mapping crashed ({type(exc).__name__}{where})"


def _init_worker(state: _MapState | None) -> None:
    global _STATE
    if state is not None:  # spawn: the state comes pickled; fork: already inherited
        _STATE = state


def _map_one(
    state: _MapState, staged: StagedPatient, ctx: MappingContext
) -> tuple[PatientRecord | None, list[str]]:
    state.full_urls = staged.full_urls
    ctx.changes_at = None  # this patient's own (MappingContext.changes_at)
    try:
        record = map_patient(staged.patient, staged.resources, ctx)
    except MappingError:
        state.problems[MAPPING_FAILED] += 1
        return None, []
    except Exception as exc:  # a mapping bug must cost one patient, not the whole hospital
        state.problems[_crash_reason(exc)] += 1
        return None, []
    finally:
        state.full_urls = {}
    if staged.merged_from:
        record.merged_from = sorted(set(record.merged_from) | set(staged.merged_from))
    encounters = [
        summarize_encounter(r, state.index, state.tz)
        for r in staged.resources
        if r.get("resourceType") == "Encounter"
    ]
    ward_ids = place_record(
        record, encounters, state.config, state.wards, state.now, ctx.changes_from
    )
    return record, ward_ids


def _hours(value: float | None) -> timedelta | None:
    return None if value is None else timedelta(hours=value)


MapBatch = tuple[
    list[tuple[PreparedRecord | None, list[str]]], Counter[str], int, dict[str, list[str]]
]


def _cut_reason(resource: str) -> str:
    """The build report's reason for text fields of one resource type that mapping cut."""
    rtype = resource.split("/", 1)[0]
    return f"{rtype}: text too long, cut (shown marked 'truncated')"


def _note_cut_texts(state: _MapState, record: PatientRecord, data: bytes) -> None:
    """Count and name each text field of `record` that mapping cut (side effect on
    state.problems and state.places). `data` is the record's JSON: most records have no cut
    text, and one substring search spares them the walk over the model."""
    if TRUNCATED_MARK.encode() not in data:
        return
    for resource, name in truncated_fields(record):
        reason = _cut_reason(resource)
        state.problems[reason] += 1
        places = state.places.setdefault(reason, [])
        if len(places) < _MAX_CUT_PLACES:
            places.append(f"{resource} {name}")


def merge_places(into: dict[str, list[str]], more: dict[str, list[str]]) -> None:
    """Add the places of `more` to `into`, at most _MAX_CUT_PLACES per reason (side effect)."""
    for reason, places in more.items():
        have = into.setdefault(reason, [])
        have.extend(places[: max(0, _MAX_CUT_PLACES - len(have))])


def _map_batch(batch: list[RawPatient]) -> MapBatch:
    """Decode, map, place and prepare a batch of staged patients (in a worker, or inline).

    Returns per patient (prepared record or None when it cannot be mapped, ward ids) -- plain
    data that crosses the process boundary cheaply and that the snapshot writers store without
    validating or encoding again -- plus the problems counted, the duplicate resources
    dropped, and where (reason -> "Type/id field") text fields were cut.
    """
    state = _STATE
    assert state is not None, "mapping worker not initialised"
    state.problems = Counter()
    state.places = {}
    config = state.config
    ctx = MappingContext(
        resolve=state.resolve,
        tz=state.tz,  # type: ignore[arg-type]
        now=state.now,
        problems=state.problems,
        stopped_window=timedelta(hours=config.stopped_medications_hours),
        administration_window=timedelta(hours=config.administrations_hours),
        code_map=config.mapping_code_map,
        vital_ranges=config.vital_ranges.resolved(),
        vitals_window=_hours(config.history.vitals_hours),
        labs_window=_hours(24 * config.history.labs_days if config.history.labs_days else None),
    )
    duplicates = 0
    results: list[tuple[PreparedRecord | None, list[str]]] = []
    for raw in batch:
        staged, dropped = decode_patient(raw)
        duplicates += dropped
        record, ward_ids = _map_one(state, staged, ctx)
        prepared = prepare_record(record) if record is not None else None
        if record is not None and prepared is not None:
            _note_cut_texts(state, record, prepared.data)
            if ctx.changes_at is not None:
                prepared = dataclasses.replace(prepared, changes_at=ctx.changes_at)
        results.append((prepared, ward_ids))
    return results, state.problems, duplicates, state.places


def _batches(patients: Iterable[RawPatient], size: int) -> Iterator[list[RawPatient]]:
    batch: list[RawPatient] = []
    for staged in patients:
        batch.append(staged)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# ------------------------------------------------------------------------------ orchestration


def _select_wards(config: Config, derived: Sequence[Any], wanted: list[str] | None) -> list[Any]:
    """The wards to build, as (id, name) pairs: derived/configured wards plus the hospital-wide
    ward. Raises BuildError naming unknown ids in `wanted`."""
    targets = [(w.id, w.name) for w in derived]
    if config.hospital_ward.enabled:
        targets.append((config.hospital_ward.id, config.hospital_ward.name))
    if wanted is None:
        return targets
    known = {ward_id for ward_id, _ in targets}
    unknown = [w for w in wanted if w not in known]
    if unknown:
        listing = ", ".join(sorted(known)) or "none (configure [[wards]])"
        raise BuildError(f"unknown ward(s) {', '.join(unknown)}; known wards: {listing}")
    return [t for t in targets if t[0] in wanted]


@contextlib.contextmanager
def _gc_for_bulk_work() -> Iterator[None]:
    """Collect garbage rarely while building. A build allocates millions of small dicts and
    lists that live until the patient is written; with the default thresholds the cyclic
    collector rescans them over and over, which costs a third of the build's CPU time.
    Reference counting still frees everything promptly; only cycles wait a little longer."""
    old = gc.get_threshold()
    gc.set_threshold(max(old[0], 50_000), max(old[1], 20), max(old[2], 100))
    try:
        yield
    finally:
        gc.set_threshold(*old)


_HELD_BUDGET = 32 * 1024 * 1024  # queued (compressed) record bytes of all snapshot writers
_HELD_CHECK_EVERY = 64  # patients between checks of that budget
_PARALLEL_BYTES = 16_000_000  # smaller sources read faster than a reader process starts
_READ_BATCH = 1000  # classified items per message from the reader process
_READ_QUEUE = 16  # messages in flight: bounds the reader's lead (memory stays flat)


def _source_bytes(source: Path) -> int:
    """Total size of the files under `source` (0 when unreadable): decides parallel reading."""
    if source.is_file():
        return source.stat().st_size
    total = 0
    for path in source.rglob("*"):
        with contextlib.suppress(OSError):
            if path.is_file():
                total += path.stat().st_size
    return total


def _reader_main(source: Path, queue: Any, follow_outside: bool = False) -> None:
    """Reader process: parse and classify the source, send batches; None at the end, or an
    error text (exception type and message: paths, never patient data)."""
    try:
        classify = Classifier()
        batch: list[Any] = []
        for item in iter_source(source, follow_outside=follow_outside):
            batch.append(classify(item))
            if len(batch) >= _READ_BATCH:
                queue.put(batch)
                batch = []
        if batch:
            queue.put(batch)
        queue.put(None)
    except BaseException as exc:
        queue.put(f"{type(exc).__name__}: {exc}")


def _read_source(
    source: Path | ItemSource, st: Staging, *, parallel: bool, follow_outside: bool = False
) -> None:
    """Pass 1: stream the source into staging. With `parallel`, parsing and classifying run in
    a reader process (fork only) while this process writes the staging store. Symbolic links
    out of a source folder are read only with `follow_outside` (config
    `follow_symlinks_outside_source`). Raises BuildError when the source cannot be read."""
    if not isinstance(source, Path):
        for item in source.items():  # the resource store: already parsed once, read inline
            st.add(item)
        return
    methods = multiprocessing.get_all_start_methods()
    if not parallel or "fork" not in methods:
        for item in iter_source(source, follow_outside=follow_outside):
            st.add(item)
        return
    context = multiprocessing.get_context("fork")
    queue = context.Queue(maxsize=_READ_QUEUE)
    reader = context.Process(target=_reader_main, args=(source, queue, follow_outside), daemon=True)
    reader.start()
    try:
        while True:
            try:
                message = queue.get(timeout=5)
            except Empty:
                if not reader.is_alive():
                    raise BuildError(
                        f"the reader of {source} stopped unexpectedly (exit code "
                        f"{reader.exitcode}); run the build again, or with --workers 1"
                    ) from None
                continue
            if message is None:
                break
            if isinstance(message, str):
                raise BuildError(f"cannot read FHIR source {source}: {message}")
            for staged in message:
                st.apply(staged)
        reader.join()
    finally:
        if reader.is_alive():
            reader.terminate()
            reader.join()


def _default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def build_snapshots(
    source: Path | ItemSource,
    config: Config,
    workdir: Path,
    wards: list[str] | None = None,
    now: datetime | None = None,
    *,
    workers: int | None = None,
    data_as_of: datetime | None = None,
    exclude: Sequence[str] = (),
    on_mapped: Callable[[PreparedRecord, list[str]], None] | None = None,
    on_packed: Callable[[str, str, int, bytes], None] | None = None,
    on_dictionary: Callable[[str, bytes], None] | None = None,
) -> BuildResult:
    """Build one snapshot per ward (and the hospital-wide ward) from the FHIR files at `source`.

    Snapshots are written to `workdir/<ward id>.db` (replacing older ones atomically); the
    staging store lives in `workdir` while building and is deleted afterwards. `wards` limits
    the build to those ward ids; `now` fixes the clock (discharge window, mapping's "active").
    `workers` is the number of mapping processes (1 = map in this process). `source` may also
    be an ItemSource (the live source's resource store, sync.store); then `data_as_of` should be
    the time the FHIR server was last read (else: the newest lastUpdated, as for files).
    `exclude` leaves those ward ids out (the hospital-wide ward between its hourly builds).
    `on_mapped` is called with every mapped patient's prepared record and the ids of all the
    wards it was placed on (also wards not built now): the live source remembers them.
    `on_packed(ward id, patient id, codec, blob)` is called for each record as a ward's writer
    compresses it, and `on_dictionary(ward id, dictionary)` with each ward's preset dictionary
    when its snapshot is finished: the live source keeps both, so the wards its increments
    rebuild compress only the records that changed.
    Returns the snapshots with their keys and the build report.
    Raises BuildError (unknown ward, missing source), SnapshotError (cannot write a snapshot).
    """
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    if isinstance(source, str | Path):
        source = Path(source)
        if not source.exists():
            raise BuildError(f"FHIR source {source} does not exist: give a folder or a file")
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    tz = config.tz
    with (
        _gc_for_bulk_work(),
        Staging(workdir, tz=tz, merge_inactive_duplicates=config.merge_inactive_duplicates) as st,
    ):
        if not isinstance(source, Path):
            size = 0
            parallel = False
        else:
            size = _source_bytes(source)
            parallel = workers != 1 if workers is not None else size > _PARALLEL_BYTES
        # The source's name is not logged: a file name can carry a patient's name (Synthea).
        log.info("reading the FHIR source (%.1f MB)", size / 1e6)
        log.debug(
            "pass 1 %s; staging store in %s",
            "with a reader process" if parallel else "inline",
            workdir,
        )
        progress.current().phase("reading the source")
        _read_source(
            source, st, parallel=parallel, follow_outside=config.follow_symlinks_outside_source
        )
        st.finish_loading()
        read_seconds = time.perf_counter() - started
        log.info(
            "read %d resources for %d patients in %.1f s (%d merged, %d skipped)",
            st.stats.total,
            st.patient_count,
            read_seconds,
            st.stats.merged,
            sum(st.stats.skipped.values()),
        )
        locations = [r for k, r in st.index.resources.items() if k.startswith("Location/")]
        ward_configs = effective_wards(config, locations)
        targets = [t for t in _select_wards(config, ward_configs, wards) if t[0] not in exclude]
        log.info("building %d ward snapshot(s): %s", len(targets), ", ".join(t[0] for t in targets))
        newest = st.stats.newest_update if data_as_of is None else data_as_of
        # A lastUpdated in the future is a clock error at the source; never claim fresher data
        # than the build time.
        data_as_of = min(newest, now) if newest is not None else now
        state = _MapState(index=st.index, config=config, wards=ward_configs, tz=tz, now=now)
        report = BuildReport(patients=st.patient_count, merged=st.stats.merged)
        problems: Counter[str] = Counter()
        progress.current().phase("mapping patients", total=st.patient_count)
        snapshots = _write_wards(
            st, state, targets, workdir, data_as_of, now, source, report, problems, workers,
            on_mapped, on_packed, on_dictionary,
        )  # fmt: skip
        stats = st.stats
    problems.update(stats.problems)
    report.resources = dict(sorted(stats.resources.items()))
    report.total_resources = stats.total
    report.duplicates = stats.duplicates
    # The source's places (file and line) and mapping's (cut text fields, in report already).
    report.problem_places = {**dict(stats.places), **report.problem_places}
    report.duplicate_patients = dict(stats.duplicate_patients)
    if stats.duplicate_patients:
        problems["Patient: same id read more than once (newest used)"] += len(
            stats.duplicate_patients
        )
    report.skipped = dict(sorted(stats.skipped.items()))
    report.problems = dict(problems.most_common())
    report.data_as_of = data_as_of
    report.elapsed_seconds = time.perf_counter() - started
    report.read_seconds = read_seconds
    log.info(
        "mapped %d patients, %d placed on wards, %d problem(s); build took %.1f s",
        report.patients_mapped,
        report.patients_placed,
        report.problem_count,
        report.elapsed_seconds,
    )
    return BuildResult(wards=snapshots, report=report)


def _write_wards(
    st: Staging,
    state: _MapState,
    targets: list[tuple[str, str]],
    workdir: Path,
    data_as_of: datetime,
    now: datetime,
    source: Path | ItemSource,
    report: BuildReport,
    problems: Counter[str],
    workers: int | None,
    on_mapped: Callable[[PreparedRecord, list[str]], None] | None = None,
    on_packed: Callable[[str, str, int, bytes], None] | None = None,
    on_dictionary: Callable[[str, bytes], None] | None = None,
) -> list[WardSnapshot]:
    keys = {ward_id: new_key() for ward_id, _ in targets}
    writers: dict[str, SnapshotWriter] = {}
    counts: Counter[str] = Counter()
    contents: dict[str, list[tuple[str, bytes]]] = {ward_id: [] for ward_id, _ in targets}
    try:
        for ward_id, ward_name in targets:
            meta = SnapshotMeta(
                ward_id=ward_id,
                ward_name=ward_name,
                data_as_of=data_as_of,
                built_at=now,
                source=source.name,  # a folder name, never a URL with credentials
                generator=GENERATOR,
                time_zone=state.config.timezone,  # the viewer and printouts show times in it
                windows=state.config.data_windows(),  # so the texts name what was applied
            )
            # Not flushed: a crash discards the work folder; the sealed package is flushed.
            writers[ward_id] = SnapshotWriter(
                workdir / f"{ward_id}.db", keys[ward_id], meta, durable=False,
                on_encoded=None if on_packed is None else functools.partial(on_packed, ward_id),
            )  # fmt: skip
        for placed, (record, ward_ids) in enumerate(
            _mapped(st, state, problems, workers, st.patient_count, report.problem_places)
        ):
            if placed % _HELD_CHECK_EVERY == 0:
                _bound_held(writers.values())
            if record is None:
                continue
            report.patients_mapped += 1
            if on_mapped is not None:
                on_mapped(record, ward_ids)
            if ward_ids:
                report.patients_placed += 1
            fingerprint = hashlib.blake2b(record.data, digest_size=16).digest()
            for ward_id in ward_ids:
                writer = writers.get(ward_id)
                if writer is not None:
                    writer.add_prepared(record)
                    counts[ward_id] += 1
                    contents[ward_id].append((record.patient_id, fingerprint))
        for ward_id, writer in writers.items():
            writer.finish()
            if on_dictionary is not None and writer.dictionary is not None:
                on_dictionary(ward_id, writer.dictionary)
            log.debug("ward %s: snapshot written, %d patients", ward_id, counts[ward_id])
    except BaseException:
        for writer in writers.values():
            writer.abort()
        raise
    return [
        WardSnapshot(
            ward_id=ward_id,
            ward_name=ward_name,
            path=writers[ward_id].path,
            key=keys[ward_id],
            meta=writers[ward_id].meta,
            patients=counts[ward_id],
            digest=_ward_digest(contents[ward_id]),
        )
        for ward_id, ward_name in targets
    ]


def _ward_digest(rows: list[tuple[str, bytes]]) -> str:
    """SHA-256 over the ward's (patient id, record hash) pairs in patient-id order (pure)."""
    digest = hashlib.sha256()
    for patient_id, fingerprint in sorted(rows):
        digest.update(patient_id.encode() + b"\0" + fingerprint)
    return digest.hexdigest()


def _bound_held(writers: Iterable[SnapshotWriter]) -> None:
    """Keep the records the open writers queue in memory under `_HELD_BUDGET` bytes in total:
    spill the fullest writers to their (encrypted) files until under half of it. A hospital
    has hundreds of wards, each with its own writer; without this their queues together grow
    with the hospital."""
    held = sorted(writers, key=lambda w: w.held_bytes, reverse=True)
    total = sum(w.held_bytes for w in held)
    if total <= _HELD_BUDGET:
        return
    for writer in held:
        if total <= _HELD_BUDGET // 2:
            break
        total -= writer.held_bytes
        writer.spill()


def _mapped(
    st: Staging,
    state: _MapState,
    problems: Counter[str],
    workers: int | None,
    patient_count: int,
    cut_places: dict[str, list[str]],
) -> Iterator[tuple[PreparedRecord | None, list[str]]]:
    """Map and prepare every staged patient, in order: inline, or in a process pool. Adds to
    `problems` and to `cut_places` (where text fields were cut) as a side effect."""
    global _STATE
    # An explicit worker count is obeyed; the default skips the pool for small sources.
    inline = workers == 1 if workers is not None else patient_count < _POOL_MIN_PATIENTS
    workers = _default_workers() if workers is None else max(1, workers)
    batches = _batches(st.iter_raw_patients(), _BATCH_PATIENTS)
    log.debug(
        "pass 2: mapping %d patients %s",
        patient_count,
        "in this process" if inline or workers == 1 else f"in {workers} worker processes",
    )
    if inline or workers == 1:
        _STATE = state
        try:
            for batch in batches:
                results, batch_problems, duplicates, places = _map_batch(batch)
                problems.update(batch_problems)
                merge_places(cut_places, places)
                st.stats.duplicates += duplicates
                yield from results
                progress.current().advance(len(results))
        finally:
            _STATE = None
        return
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    _STATE = state  # inherited by forked workers without pickling
    try:
        initarg = None if context.get_start_method() == "fork" else state
        with context.Pool(workers, initializer=_init_worker, initargs=(initarg,)) as pool:
            # Pool.imap would drain the staging store into its task queue: use a bounded window.
            for results, batch_problems, duplicates, places in _bounded_imap(
                pool, batches, workers * 2 + 1
            ):
                problems.update(batch_problems)
                merge_places(cut_places, places)
                st.stats.duplicates += duplicates
                yield from results
                progress.current().advance(len(results))
    finally:
        _STATE = None


def _bounded_imap(pool: Any, batches: Iterator[list[RawPatient]], window: int) -> Iterator[Any]:
    """pool.apply_async over `batches` with at most `window` in flight, results in order: keeps
    memory flat (Pool.imap would read the whole staging store into its task queue)."""
    pending: list[Any] = []
    for batch in batches:
        pending.append(pool.apply_async(_map_batch, (batch,)))
        if len(pending) >= window:
            yield pending.pop(0).get()
    while pending:
        yield pending.pop(0).get()

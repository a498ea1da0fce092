"""One sync cycle: build every ward's snapshot from a FHIR source, seal and publish it, and publish
the signed staff roster. Used by `wardcopy-sync build` and by `wardcopy demo`.

Side effects: writes packages into the outbox, advances per-ward sequences in the sync home, and
uses a temporary work folder inside the sync home (deleted at the end, also on failure). The
snapshot databases in that folder are SQLCipher-encrypted; nothing is written in plaintext.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync import fsutil, progress, publish, workdirs
from sync import roster as rosterlib
from sync.build import BuildReport, BuildResult, build_snapshots
from sync.config import Config
from sync.sources import ItemSource
from sync.workdirs import StaleWorkdir

if TYPE_CHECKING:
    from sync.incremental import SharedCache
    from sync.sources.live import FetchResult

log = logging.getLogger(__name__)


@dataclass
class PublishedWard:
    ward_id: str
    ward_name: str
    patients: int
    sequence: int
    size: int
    recipients: int
    path: Path


@dataclass
class CycleResult:
    report: BuildReport
    wards: list[PublishedWard] = field(default_factory=list)
    roster_published: bool = False
    fetch: FetchResult | None = None  # what a live source's fetch read (None for files)
    unchanged: list[str] = field(default_factory=list)  # wards built but equal to their last
    refused: list[str] = field(default_factory=list)  # one readable line per refused ward
    # Work folders of killed builds removed before this one started (sync.workdirs).
    stale_removed: list[StaleWorkdir] = field(default_factory=list)
    # Seconds per step, in the order they ran: "build" (or an incremental build's stage, map,
    # digest, write), "publish" (seal and publish); a live cycle adds its fetch's "export"
    # (kick-off and polls), "read" (files or pages into the store) and "store" (the
    # increment's commit), then "commit" (the build's store transaction) and "freshness".
    # For the cycle's log line and the benchmark (docs/performance.md).
    steps: dict[str, float] = field(default_factory=dict)

    def steps_text(self) -> str:
        """The steps as one short text ("fetch 1.2 s, map 0.3 s, ...") (pure)."""
        return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.steps.items())


WARD_STATE = "ward-state.json"
# A census drop only counts as suspicious when at least this many patients vanished: a 4-bed
# ward losing 3 patients to discharges is ordinary, a 30-bed ward losing 20 is not.
MIN_SUSPICIOUS_DROP = 5


def load_ward_state(sync_home: Path) -> dict[str, dict[str, Any]]:
    """What was last published per ward (digest, patients, sequence, published_at,
    data_as_of); {} when nothing was or the file is unreadable (then every ward publishes)."""
    try:
        value = orjson.loads((sync_home / WARD_STATE).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


def census_drop_refusal(
    ward_id: str, previous: int, now: int, max_drop: float, min_drop: int = MIN_SUSPICIOUS_DROP
) -> str | None:
    """A message when the census fell from `previous` to `now` by more than `max_drop` (a
    fraction) and by at least `min_drop` patients; None when the change is plausible (pure)."""
    if previous <= 0 or now >= previous * (1 - max_drop) or previous - now < min_drop:
        return None
    percent = 100 * (previous - now) / previous
    return (
        f"ward {ward_id}: census fell from {previous} to {now} patients (-{percent:.0f} %, more "
        f"than {100 * max_drop:.0f} %); not published, the laptops keep the last package. "
        "If the ward really emptied, run again with --force"
    )


def run_cycle(
    *,
    sync_home: Path,
    source: Path | ItemSource,
    outbox: Path,
    config: Config,
    signing_key: Ed25519PrivateKey,
    wards: list[str] | None = None,
    now: datetime | None = None,
    workers: int | None = None,
    keep: int | None = None,
    data_as_of: datetime | None = None,
    skip_unchanged: bool = False,
    max_census_drop: float | None = None,
    force: bool = False,
    exclude: Sequence[str] = (),
    builder: Callable[[Path], BuildResult] | None = None,
) -> CycleResult:
    """Build, seal and publish. Raises BuildError, SnapshotError, PublishError, OSError; a failure
    leaves every previously published package and LATEST pointer as they were.

    `skip_unchanged`: a ward whose records equal those of its last package is not published
    again. `max_census_drop`: a ward whose census fell by more than this fraction (and by at
    least MIN_SUSPICIOUS_DROP patients) against its last package is refused unless `force`
    (an empty export after a source glitch looks exactly like a ward that emptied).
    `exclude`: ward ids not built this time. `builder`: builds into the given work folder instead
    of `build_snapshots` (the live source's incremental build); wards it reports unchanged
    count as unchanged. Side effect: records what was published per ward
    in `<sync home>/ward-state.json`."""
    started = time.perf_counter()
    # Removes the work folders of killed builds first (only those whose process is gone).
    workdir, stale_removed = workdirs.new_workdir(sync_home)
    log.info("cycle started")
    log.debug("work folder %s", workdir)
    try:
        if builder is not None:
            built = builder(workdir)
        else:
            built = build_snapshots(
                source,
                config,
                workdir,
                wards=wards,
                now=now,
                workers=workers,
                data_as_of=data_as_of,
                exclude=exclude,
            )
        result = CycleResult(report=built.report, stale_removed=stale_removed)
        result.steps.update(built.report.steps or {"build": time.perf_counter() - started})
        publish_started = time.perf_counter()
        result.unchanged.extend(built.unchanged)
        state = load_ward_state(sync_home)
        log.info("sealing and publishing %d ward package(s)", len(built.wards))
        progress.current().phase("sealing and publishing wards", total=len(built.wards))
        for snap in built.wards:
            progress.current().advance()
            last = state.get(snap.ward_id) or {}
            if skip_unchanged and last.get("digest") == snap.digest:
                result.unchanged.append(snap.ward_id)
                continue
            refusal = (
                census_drop_refusal(
                    snap.ward_id, int(last.get("patients") or 0), snap.patients, max_census_drop
                )
                if max_census_drop is not None and not force
                else None
            )
            if refusal is not None:
                log.warning("%s", refusal)
                result.refused.append(refusal)
                continue
            published = publish.publish_snapshot(
                sync_home=sync_home,
                outbox=outbox,
                ward=snap.ward_id,
                payload_path=snap.path,
                db_key=snap.key,
                data_as_of=snap.meta.data_as_of,
                counts=snap.meta.counts,
                signing_key=signing_key,
                keep=keep or config.keep_packages,
            )
            result.wards.append(
                PublishedWard(
                    ward_id=snap.ward_id,
                    ward_name=snap.ward_name,
                    patients=snap.patients,
                    sequence=published.manifest.sequence,
                    size=published.size,
                    recipients=len(published.manifest.recipients),
                    path=published.path,
                )
            )
            state[snap.ward_id] = {
                "digest": snap.digest,
                "patients": snap.patients,
                "sequence": published.manifest.sequence,
                "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "data_as_of": snap.meta.data_as_of.isoformat(),
            }
            fsutil.atomic_write(
                sync_home / WARD_STATE, orjson.dumps(state, option=orjson.OPT_INDENT_2)
            )
            log.info(
                "ward %s published as package %d (%d patients, %.1f MB, %d laptop(s))",
                snap.ward_id,
                published.manifest.sequence,
                snap.patients,
                published.size / 1e6,
                len(published.manifest.recipients),
            )
        roster = rosterlib.load_roster_source(sync_home)
        if roster.sequence >= 1:
            publish.publish_document(
                outbox, rosterlib.ROSTER_KIND, roster.to_json(), signing_key, roster.sequence
            )
            result.roster_published = True
            log.info("staff roster %d published", roster.sequence)
        else:
            log.info("no staff roster to publish (no users yet)")
        result.steps["publish"] = time.perf_counter() - publish_started
        log.info("cycle finished in %.1f s", time.perf_counter() - started)
        return result
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def sign_freshness(
    sync_home: Path,
    outbox: Path,
    signing_key: Ed25519PrivateKey,
    as_of: datetime,
    result: CycleResult,
    exclude: Sequence[str] = (),
) -> list[str]:
    """After a complete read of the source: sign "package N is still the newest as of
    `as_of`" for every ward whose newest package holds what the source said at `as_of`: the
    wards published or unchanged in `result`. Refused wards and wards not built this cycle
    (`exclude`) get none, so their age keeps growing on the laptops. Returns the ward ids.
    Raises OSError when the outbox cannot be written."""
    state = load_ward_state(sync_home)
    current = {w.ward_id for w in result.wards} | set(result.unchanged)
    signed: list[str] = []
    for ward_id in sorted(current - set(exclude)):
        sequence = (state.get(ward_id) or {}).get("sequence")
        if isinstance(sequence, int) and sequence >= 1:
            publish.publish_freshness(outbox, ward_id, sequence, as_of, signing_key)
            signed.append(ward_id)
    log.info("freshness signed for %d ward(s) as of %s", len(signed), as_of.isoformat())
    return signed


def run_live_cycle(
    *,
    sync_home: Path,
    outbox: Path,
    config: Config,
    signing_key: Ed25519PrivateKey,
    full: bool = False,
    wards: list[str] | None = None,
    now: datetime | None = None,
    workers: int | None = None,
    keep: int | None = None,
    progress: Callable[[str], None] | None = None,
    force: bool = False,
    exclude: Sequence[str] = (),
    shared: SharedCache | None = None,
) -> CycleResult:
    """Fetch the changes from the FHIR server `config.source` into the resource store
    (sync.store; a full read the first time or with `full`), then build, seal and publish from
    the store as `run_cycle` does. The data's "as of" is the time the server was read.

    Raises FhirSourceError or StoreError when the server cannot be read completely: then
    nothing is applied to the store and nothing is published (the last good packages stay).
    Only wards whose records changed are published; a ward whose census fell by more than
    `[watch] max_census_drop` is refused unless `force` (see run_cycle).
    `shared`: a cache of the shared resources kept across cycles (the watch loop's; see
    sync.incremental.SharedCache). Also raises what run_cycle raises.
    """
    from sync import progress as progress_lib
    from sync.incremental import Recorder, build_increment
    from sync.sources.http import safe_url
    from sync.sources.live import fetch
    from sync.store import open_store

    def note(text: str) -> None:
        # The export's status (X-Progress) on the progress line, and in the -v log.
        progress_lib.current().note(text)
        log.info("%s", text)

    progress_lib.current().phase("reading the FHIR server")
    with open_store(sync_home, config) as store:
        fetched = fetch(config, store, full=full, now=now, progress=progress or note)
        fetched_at = time.perf_counter()
        progress_lib.current().phase("building")
        store.name = safe_url(str(config.source)).split("://", 1)[-1].split("/", 1)[0]
        when = now or datetime.now(UTC)
        last = {w: str(s.get("digest")) for w, s in load_ward_state(sync_home).items()}

        def builder(workdir: Path) -> BuildResult:
            # Only the changed patients and wards (sync.incremental); everything when it
            # cannot be narrowed down or on a full refresh, remembering every mapping again.
            built = None
            if not full:
                built = build_increment(
                    store,
                    config,
                    workdir,
                    recorder,
                    last_digests=last,
                    now=when,
                    data_as_of=fetched.read_at,
                    wards=wards,
                    exclude=list(exclude),
                    shared=shared,
                    workers=workers,
                )
            if built is None:
                recorder.clear()
                built = build_snapshots(
                    store,
                    config,
                    workdir,
                    wards=wards,
                    now=when,
                    workers=workers,
                    data_as_of=fetched.read_at,
                    exclude=exclude,
                    on_mapped=recorder.put_full,
                    on_packed=recorder.put_packed,
                    on_dictionary=recorder.put_dictionary,
                )
            recorder.done()
            return built

        # Mapping, building and publishing in one store transaction: a killed cycle leaves
        # the patients dirty and the next one maps them again.
        with store.transaction():
            recorder = Recorder(store, when)
            result = run_cycle(
                sync_home=sync_home,
                source=store,
                outbox=outbox,
                config=config,
                signing_key=signing_key,
                wards=wards,
                now=when,
                workers=workers,
                keep=keep,
                data_as_of=fetched.read_at,
                skip_unchanged=True,
                max_census_drop=config.watch.max_census_drop,
                force=force,
                exclude=exclude,
                builder=builder,
            )
            committing = time.perf_counter()
        committed = time.perf_counter()
    result.fetch = fetched
    # What no step timed: opening the store, the transaction and the work folder.
    other = committing - fetched_at - sum(result.steps.values())
    result.steps = {**fetched.steps, **result.steps}
    result.steps["commit"] = committed - committing
    if other > 0.05:
        result.steps["other"] = other
    sign_freshness(sync_home, outbox, signing_key, fetched.read_at, result, exclude)
    result.steps["freshness"] = time.perf_counter() - committed
    for reason, count in fetched.problems.items():
        result.report.problems[f"source: {reason}"] = (
            result.report.problems.get(f"source: {reason}", 0) + count
        )
    return result

"""One sync cycle: build every ward's snapshot from a FHIR source, seal and publish it, and publish
the signed staff roster. Used by `wardcopy-sync build` and by `wardcopy demo`.

Side effects: writes packages into the outbox, advances per-ward sequences in the sync home, and
uses a temporary work folder inside the sync home (deleted at the end, also on failure). The
snapshot databases in that folder are SQLCipher-encrypted; nothing is written in plaintext.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync import publish
from sync import roster as rosterlib
from sync.build import BuildReport, build_snapshots
from sync.config import Config
from sync.sources import ItemSource

if TYPE_CHECKING:
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
) -> CycleResult:
    """Build, seal and publish. Raises BuildError, SnapshotError, PublishError, OSError; a failure
    leaves every previously published package and LATEST pointer as they were."""
    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="build-", dir=sync_home))
    log.info("cycle started")
    log.debug("work folder %s", workdir)
    try:
        built = build_snapshots(
            source, config, workdir, wards=wards, now=now, workers=workers, data_as_of=data_as_of
        )
        result = CycleResult(report=built.report)
        log.info("sealing and publishing %d ward package(s)", len(built.wards))
        for snap in built.wards:
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
        log.info("cycle finished in %.1f s", time.perf_counter() - started)
        return result
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


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
) -> CycleResult:
    """Fetch the changes from the FHIR server `config.source` into the resource store
    (sync.store; a full read the first time or with `full`), then build, seal and publish from
    the store as `run_cycle` does. The data's "as of" is the time the server was read.

    Raises FhirSourceError or StoreError when the server cannot be read completely: then
    nothing is applied to the store and nothing is published (the last good packages stay).
    Also raises what run_cycle raises.
    """
    from sync.sources.http import safe_url
    from sync.sources.live import fetch
    from sync.store import open_store

    with open_store(sync_home) as store:
        fetched = fetch(config, store, full=full, now=now, progress=progress)
        store.name = safe_url(str(config.source)).split("://", 1)[-1].split("/", 1)[0]
        result = run_cycle(
            sync_home=sync_home,
            source=store,
            outbox=outbox,
            config=config,
            signing_key=signing_key,
            wards=wards,
            now=now,
            workers=workers,
            keep=keep,
            data_as_of=fetched.read_at,
        )
    result.fetch = fetched
    for reason, count in fetched.problems.items():
        result.report.problems[f"source: {reason}"] = (
            result.report.problems.get(f"source: {reason}", 0) + count
        )
    return result

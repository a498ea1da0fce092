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
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync import publish
from sync import roster as rosterlib
from sync.build import BuildReport, build_snapshots
from sync.config import Config

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


def run_cycle(
    *,
    sync_home: Path,
    source: Path,
    outbox: Path,
    config: Config,
    signing_key: Ed25519PrivateKey,
    wards: list[str] | None = None,
    now: datetime | None = None,
    workers: int | None = None,
    keep: int | None = None,
) -> CycleResult:
    """Build, seal and publish. Raises BuildError, SnapshotError, PublishError, OSError; a failure
    leaves every previously published package and LATEST pointer as they were."""
    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="build-", dir=sync_home))
    log.info("cycle started")
    log.debug("work folder %s", workdir)
    try:
        built = build_snapshots(source, config, workdir, wards=wards, now=now, workers=workers)
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

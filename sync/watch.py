"""`wardcopy-sync watch`: live cycles on an interval, a nightly full refresh, a status file.

Each cycle (sync.cycle.run_live_cycle) fetches the FHIR server's changes into the resource
store, rebuilds, and publishes the wards whose records changed; the hospital-wide ward is built
only every `[watch] hospital_every_minutes`; the first cycle after `full_refresh_at` (hospital
time) each day reads everything again. A failed cycle publishes nothing and is retried at the
next interval; the loop itself only stops on request.

Runs never overlap: the loop holds `<sync home>/watch.lock` (sync.lock: an OS lock that dies
with the process), which `build --source URL` takes too. Stopping: the first SIGTERM or Ctrl-C
lets the running cycle finish and then exits 0; a second one aborts the cycle at once (the
store rolls back, nothing half-applied is published).

Output: one line per cycle on stdout (what changed, how long, what was published, or why it
failed). The status file (`[watch] status_file`, default `<sync home>/watch-status.json`,
rewritten atomically after every cycle) holds the last success, the last error and, per ward,
its package, patients and data age, for monitoring (docs/operations.md).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from types import FrameType
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync import fsutil
from sync.config import Config
from sync.cycle import CycleResult, load_ward_state, run_live_cycle
from sync.incremental import SharedCache
from sync.progress import NullProgress, Progress, reporting

__all__ = ["STATUS_FILE", "Watcher", "full_refresh_due", "install_stop_handlers"]

log = logging.getLogger(__name__)

STATUS_FILE = "watch-status.json"
LOCK_FILE = "watch.lock"


def full_refresh_due(last_full: datetime | None, now: datetime, at: str, tz: tzinfo) -> bool:
    """True when the latest `at` (HH:MM in `tz`) at or before `now` is later than `last_full`
    (or no full read happened yet); False when `at` is empty (pure)."""
    if last_full is None:
        return True
    if not at:
        return False
    hour, minute = (int(part) for part in at.split(":"))
    local = now.astimezone(tz)
    mark = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if mark > local:
        mark -= timedelta(days=1)
    return last_full < mark


def _parse(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds")


@dataclass
class Watcher:
    """The watch loop's state; `run_once()` is one cycle, `run(stop)` the loop."""

    sync_home: Path
    config: Config
    outbox: Path
    signing_key: Ed25519PrivateKey = field(repr=False)
    force_first: bool = False
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    out: Callable[[str], None] = field(default=print)
    status: dict[str, Any] = field(default_factory=dict)
    # Shows the first cycle's progress (usually a full read that takes minutes; later cycles
    # are one line each). Used once, then dropped.
    first_cycle_progress: Progress | None = None
    # The shared resources (Locations, Practitioners, ...) kept between cycles: an increment
    # reads them from the store again only when one of them changed.
    shared: SharedCache = field(default_factory=lambda: SharedCache())

    def __post_init__(self) -> None:
        self.status_path = self.config.watch.status_file or self.sync_home / STATUS_FILE
        try:
            loaded = orjson.loads(self.status_path.read_bytes())
            self.status = loaded if isinstance(loaded, dict) else {}
        except (OSError, orjson.JSONDecodeError):
            self.status = {}

    def _last_full(self) -> datetime | None:
        from sync.store import open_store

        with open_store(self.sync_home) as store:
            return _parse(store.state("last_full"))

    def _exclude(self, now: datetime) -> list[str]:
        hospital = self.config.hospital_ward
        if not hospital.enabled:
            return []
        built = _parse(self.status.get("hospital_built_at"))
        every = timedelta(minutes=self.config.watch.hospital_every_minutes)
        return [] if built is None or now - built >= every else [hospital.id]

    def run_once(self) -> bool:
        """One cycle; True when it succeeded. Writes the status file; never raises for a
        cycle's failure (it is reported), only for KeyboardInterrupt."""
        now = self.clock()
        started = time.perf_counter()
        self.status["last_attempt"] = _iso(now)
        try:
            full = full_refresh_due(
                self._last_full(), now, self.config.watch.full_refresh_at, self.config.tz
            )
            exclude = [] if full else self._exclude(now)
            shown, self.first_cycle_progress = self.first_cycle_progress, None
            with reporting(shown or NullProgress()):
                result = run_live_cycle(
                    sync_home=self.sync_home,
                    outbox=self.outbox,
                    config=self.config,
                    signing_key=self.signing_key,
                    full=full,
                    now=now,
                    force=self.force_first,
                    exclude=exclude,
                    shared=self.shared,
                )
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # one failed cycle must not end the watch; report it
            elapsed = time.perf_counter() - started
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            self.status["last_error"] = _iso(now)
            self.status["last_error_message"] = message
            self._write_status(now)
            self.out(f"{_iso(now)} cycle FAILED after {elapsed:.1f} s: {message}")
            return False
        self.force_first = False
        elapsed = time.perf_counter() - started
        if not exclude and self.config.hospital_ward.enabled:
            self.status["hospital_built_at"] = _iso(now)
        self.status["last_success"] = _iso(now)
        if result.fetch is not None:
            self.status["source_read_at"] = _iso(result.fetch.read_at)
        if result.refused:
            self.status["last_error"] = _iso(now)
            self.status["last_error_message"] = result.refused[0]
        self._write_status(now)
        self.out(f"{_iso(now)} {self._summary(result, elapsed)}")
        return True

    def _summary(self, result: CycleResult, elapsed: float) -> str:
        fetched = result.fetch
        what = "cycle ok"
        if fetched is not None:
            kind = "full read" if fetched.full else "changes"
            what += f": {fetched.mode} {kind} {fetched.upserts} updated, {fetched.deletes} deleted"
        published = ", ".join(f"{w.ward_id}#{w.sequence}" for w in result.wards) or "nothing"
        line = f"{what}; published {published}; {len(result.unchanged)} unchanged"
        if result.refused:
            line += f"; REFUSED {len(result.refused)}: " + " | ".join(result.refused)
        steps = f" ({result.steps_text()})" if result.steps else ""
        return f"{line}; {elapsed:.1f} s{steps}"

    def _write_status(self, now: datetime) -> None:
        wards: dict[str, Any] = {}
        for ward_id, info in sorted(load_ward_state(self.sync_home).items()):
            as_of = _parse(info.get("data_as_of"))
            wards[ward_id] = {
                "sequence": info.get("sequence"),
                "patients": info.get("patients"),
                "published_at": info.get("published_at"),
                "data_as_of": info.get("data_as_of"),
                "package_age_seconds": round((now - as_of).total_seconds()) if as_of else None,
            }
        self.status["wards"] = wards
        self.status["pid"] = os.getpid()
        try:
            fsutil.atomic_write(
                self.status_path, orjson.dumps(self.status, option=orjson.OPT_INDENT_2), 0o644
            )
        except OSError as exc:  # monitoring must not stop the copies from being made
            log.warning("cannot write the status file %s: %s", self.status_path, exc)

    def run(self, stop: threading.Event, cycles: int | None = None) -> None:
        """Cycle every `[watch] interval_minutes` until `stop` is set (or `cycles` ran)."""
        interval = self.config.watch.interval_minutes * 60
        done = 0
        while not stop.is_set():
            began = time.monotonic()
            self.run_once()
            done += 1
            if cycles is not None and done >= cycles:
                break
            stop.wait(max(0.0, interval - (time.monotonic() - began)))


def install_stop_handlers(stop: threading.Event, out: Callable[[str], None]) -> None:
    """SIGTERM and SIGINT: the first asks the loop to stop after the running cycle; the second
    aborts at once (KeyboardInterrupt). Call from the main thread."""

    def handle(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        out(f"{_iso(datetime.now(UTC))} stop requested; finishing the running cycle")

    signal.signal(signal.SIGINT, handle)
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, handle)

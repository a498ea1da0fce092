"""Live-source benchmarks (docs/performance.md, "Live sources").

- `bench_live`: a cycle with 1 % of patients changed, kick-off to published packages, as a
  fraction of a full file build in the same run; and a full live cycle against the file build.
- `bench_transfer`: the package size of the heaviest realistic ward (the generator's 12-bed ICU
  with minute-resolution monitor vitals) against an ordinary ward of the same run, and the bytes
  one laptop of each fetches per hour at a 5-minute cycle (re-downloads of its changed package,
  freshness statements, LATEST polls, the roster), measured on the HTTP server the receive code
  reads from, over watch cycles driven with changes.
- `bench_latency`: source-change-to-laptop latency with real processes (`wardcopy-sync watch`,
  `wardcopy receive --watch`) at intervals scaled down by a factor, and the figure for a
  5-minute cycle computed from the intervals and the measured fixed costs.

The FHIR server is the project's test server (tests/fhirserver.py) on 127.0.0.1, loaded with the
generator's data; "changed" means one new vital-sign Observation for each of 1 % of the
patients, as a busy ward's minute-to-minute documentation would add.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import http.server
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIVE = timedelta(minutes=5)


def _peak_rss_mb() -> dict[str, float]:
    """Peak resident memory so far (MB) of this process and of its largest finished child
    (the file build's worker processes)."""
    import resource

    return {
        "self": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "children": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def bench_live(
    patients: int, tmp: Path, now: datetime, *, source: Path | None = None
) -> dict[str, Any]:
    """The 1 % increment and the full live read against a file build of the same data, one
    run. `source`: the generator's NDJSON for (patients, seed 1, now), made here when None
    (and then deleted after). Side effects: writes homes and outboxes under `tmp`."""
    sys.path.insert(0, str(ROOT / "tests"))
    from fhirserver import FhirTestServer

    from sync import keys
    from sync.config import Config, FhirSettings
    from sync.cycle import run_cycle, run_live_cycle
    from sync.generate import generate
    from sync.incremental import SharedCache

    made = source is None
    if source is None:
        source = tmp / f"live-{patients}"
        generate(source, patients, seed=1, now=now)
    key = keys.generate_signing_key()
    result: dict[str, Any] = {"patients": patients}

    home = tmp / "file-home"
    home.mkdir()
    started = time.perf_counter()
    built = run_cycle(
        sync_home=home, source=source, outbox=tmp / "file-outbox", config=Config(),
        signing_key=key, now=now,
    )  # fmt: skip
    result["file_build_s"] = time.perf_counter() - started
    result["resources"] = built.report.total_resources
    result["peak_rss_mb_after_file_build"] = _peak_rss_mb()
    print(f"live bench: file build {result['file_build_s']:.1f} s", flush=True)

    with FhirTestServer(page_size=1000) as server:
        started = time.perf_counter()
        server.load_ndjson(source)  # not timed: the EHR's data is there before the first sync
        result["server_load_s"] = time.perf_counter() - started
        config = Config(
            source=server.base_url,
            # A long timeout: on a loaded machine the in-process test server is slow to send.
            fhir=FhirSettings(min_wait_seconds=0.05, max_wait_seconds=1.0, timeout_seconds=600),
        )
        live_home = tmp / "live-home"
        live_home.mkdir()
        outbox = tmp / "live-outbox"
        started = time.perf_counter()
        full = run_live_cycle(
            sync_home=live_home, outbox=outbox, config=config, signing_key=key, now=now
        )
        result["live_full_s"] = time.perf_counter() - started
        result["live_full_published"] = len(full.wards)
        result["peak_rss_mb_after_live_full"] = _peak_rss_mb()
        print(f"live bench: live full read {result['live_full_s']:.1f} s", flush=True)

        by_patient: dict[str, dict[str, Any]] = {}
        for obs in server.iter_resources("Observation"):
            ref = (obs.get("subject") or {}).get("reference")
            if ref and ref not in by_patient:
                by_patient[ref] = obs
        rng = random.Random(7)
        patients_with_obs = sorted(by_patient)
        count = max(1, len(by_patient) // 100)

        def change(name: str) -> int:
            """One new vital-sign Observation for 1 % of the patients (others each time)."""
            chosen = rng.sample(patients_with_obs, count)
            for n, ref in enumerate(chosen):
                new = copy.deepcopy(by_patient[ref])
                new["id"] = f"bench-{name}-{n}"
                new["effectiveDateTime"] = (now + timedelta(minutes=1)).isoformat()
                server.put(new)
            return len(chosen)

        # "increment": the first after the full read; "steady": the next one at the same
        # time; "steady_5min" / "steady_10min": 5 and 10 minutes later, when the patients
        # whose time-dependent content changed in between (a dose or a stopped order leaving
        # its window, ...) are mapped again as well: what a 5-minute watch cycle does. The
        # shared resources are kept between the increments as the watch loop keeps them.
        shared = SharedCache()
        for name, when in (
            ("increment", now),
            ("steady", now),
            ("steady_5min", now + FIVE),
            ("steady_10min", now + 2 * FIVE),
        ):
            changed = change(name)
            if name == "steady_5min":
                # The drug-round wave mapped in this process (workers=1), from a copy of the
                # home and outbox, against the pool below (the default): same cycle, same run.
                shutil.copytree(live_home, tmp / "live-home-inline")
                shutil.copytree(outbox, tmp / "live-outbox-inline")
                started = time.perf_counter()
                inline = run_live_cycle(
                    sync_home=tmp / "live-home-inline", outbox=tmp / "live-outbox-inline",
                    config=config, signing_key=key, now=when,
                    exclude=[config.hospital_ward.id], shared=SharedCache(), workers=1,
                )  # fmt: skip
                result[f"{name}_inline_s"] = time.perf_counter() - started
                result[f"{name}_inline_steps_s"] = {k: round(v, 3) for k, v in inline.steps.items()}
                result[f"{name}_inline_fraction_of_file_build"] = (
                    result[f"{name}_inline_s"] / result["file_build_s"]
                )
                print(
                    f"live bench: {name} in this process {result[f'{name}_inline_s']:.1f} s "
                    f"({inline.steps_text()})",
                    flush=True,
                )
            started = time.perf_counter()
            inc = run_live_cycle(
                sync_home=live_home, outbox=outbox, config=config, signing_key=key, now=when,
                exclude=[config.hospital_ward.id], shared=shared,
            )  # fmt: skip
            result[f"{name}_s"] = time.perf_counter() - started
            result[f"{name}_changed_patients"] = changed
            assert inc.fetch is not None
            result[f"{name}_fetch_s"] = inc.fetch.elapsed_seconds
            result[f"{name}_resources"] = inc.fetch.upserts
            result[f"{name}_patients_mapped"] = inc.report.patients_mapped
            result[f"{name}_published"] = len(inc.wards)
            result[f"{name}_unchanged"] = len(inc.unchanged)
            result[f"{name}_bytes_published"] = sum(w.size for w in inc.wards)
            result[f"{name}_steps_s"] = {k: round(v, 3) for k, v in inc.steps.items()}
            result[f"{name}_fraction_of_file_build"] = result[f"{name}_s"] / result["file_build_s"]
            print(
                f"live bench: {name} {result[f'{name}_s']:.1f} s ({inc.steps_text()})", flush=True
            )
    result["live_full_fraction_of_file_build"] = result["live_full_s"] / result["file_build_s"]
    result["peak_rss_mb"] = _peak_rss_mb()
    if made:
        shutil.rmtree(source, ignore_errors=True)
    return result


# --- transfer volume -------------------------------------------------------------------------


@contextlib.contextmanager
def _counting_http(folder: Path) -> Iterator[tuple[str, Counter[str]]]:
    """Serve `folder` on 127.0.0.1 (a thread); yields (base URL, bytes sent per file kind).
    Kinds: package, LATEST, FRESHNESS, roster, other (404s count 0 bytes, one request)."""
    sent: Counter[str] = Counter()
    lock = threading.Lock()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            path = Path(self.translate_path(self.path))
            name = path.name
            kind = (
                "package"
                if name.endswith(".wcpkg")
                else "LATEST"
                if name == "LATEST"
                else "FRESHNESS"
                if name.startswith("FRESHNESS")
                else "roster"
                if name.startswith("roster")
                else "other"
            )
            body = path.read_bytes() if path.is_file() else None
            with lock:
                sent[f"{kind}_requests"] += 1
                sent[kind] += len(body or b"")
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    handler = functools.partial(Handler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", sent
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def _ward_patients(server: Any, ward_id: str) -> list[str]:
    """Patient references of the in-progress stays on `ward_id`."""
    refs = []
    for enc in server.iter_resources("Encounter"):
        if enc.get("status") != "in-progress":
            continue
        for loc in enc.get("location") or []:
            ref = (loc.get("location") or {}).get("reference")
            if ref == f"Location/{ward_id}" and loc.get("status") == "active":
                refs.append(enc["subject"]["reference"])
    return sorted(set(refs))


def _templates(server: Any, patients: list[str], id_part: str) -> dict[str, list[dict[str, Any]]]:
    """Per patient, the newest Observation per code among ids containing `id_part`."""
    newest: dict[tuple[str, str], dict[str, Any]] = {}
    wanted = set(patients)
    for obs in server.iter_resources("Observation"):
        ref = (obs.get("subject") or {}).get("reference")
        if ref not in wanted or id_part not in obs["id"]:
            continue
        code = obs["code"]["coding"][0]["code"]
        key = (ref, code)
        if key not in newest or obs["effectiveDateTime"] > newest[key]["effectiveDateTime"]:
            newest[key] = obs
    out: dict[str, list[dict[str, Any]]] = {}
    for (ref, _), obs in sorted(newest.items()):
        out.setdefault(ref, []).append(obs)
    return out


def _new_obs(template: dict[str, Any], rid: str, at: datetime, delta: float) -> dict[str, Any]:
    new = copy.deepcopy(template)
    new["id"] = rid
    new["effectiveDateTime"] = at.isoformat()
    quantity = new.get("valueQuantity")
    if quantity is not None:
        quantity["value"] = round(float(quantity["value"]) + delta)
    return new


def _make_roster(sync_home: Path, users: int, wards: list[str]) -> None:
    from sync import keys
    from sync import roster as rosterlib

    roster = rosterlib.new_roster("Bench")
    for n in range(users):
        roster = rosterlib.add_user(
            roster, f"user{n:04d}", f"Nutzerin {n}", "nurse", [wards[n % len(wards)]],
            f"correct horse battery {n}", cost=keys.ARGON2_TEST,
        )  # fmt: skip
    rosterlib.save_roster_source(sync_home, roster)


def bench_transfer(
    patients: int,
    tmp: Path,
    now: datetime,
    *,
    cycles: int = 6,
    cycle_minutes: float = 5.0,
    poll_minutes: float = 1.0,
    vitals_hours: float | None = None,
    labs_days: float | None = None,
    roster_users: int = 200,
    source: Path | None = None,
) -> dict[str, Any]:
    """Package sizes of the ICU (12 beds, minute vitals) and an ordinary ward, and the bytes one
    laptop of each fetches per hour. Simulated time: `cycles` watch cycles `cycle_minutes`
    apart (the clock passed to each cycle; the cycles themselves run back to back); per
    cycle, every ICU patient gets `cycle_minutes` of monitor values (4 Observations a minute)
    and one patient on each other ward one charted vital sign; each laptop polls every
    `poll_minutes` (cycle_minutes / poll_minutes receives per cycle, the first after the
    publish). Bytes are what the 127.0.0.1 HTTP server sent (bodies, not headers)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from fhirserver import FhirTestServer

    from sync import device, keys, publish, receive
    from sync.config import Config, FhirSettings, HistoryWindows, HospitalWard, WatchSettings
    from sync.cycle import run_live_cycle
    from sync.generate import generate

    if source is None:
        source = tmp / f"icu-{patients}"
        generate(source, patients, seed=1, now=now, icu_monitoring=True)
    tag = f"{vitals_hours}-{labs_days}"
    home = tmp / f"transfer-home-{tag}"
    outbox = tmp / f"transfer-outbox-{tag}"
    key, _ = keys.init_signing_key(home)
    result: dict[str, Any] = {
        "patients": patients,
        "cycles": cycles,
        "cycle_minutes": cycle_minutes,
        "poll_minutes": poll_minutes,
        "vitals_hours": vitals_hours,
        "labs_days": labs_days,
        "roster_users": roster_users,
    }
    with FhirTestServer(page_size=1000) as server:
        server.load_ndjson(source)
        wards = sorted(
            loc["id"]
            for loc in server.iter_resources("Location")
            if loc["physicalType"]["coding"][0]["code"] == "wa"
        )
        icu = "station-1a"
        ordinary = next(w for w in wards if w != icu)
        config = Config(
            source=server.base_url,
            # A long timeout: on a loaded machine the in-process test server is slow to send.
            fhir=FhirSettings(min_wait_seconds=0.05, max_wait_seconds=1.0, timeout_seconds=600),
            watch=WatchSettings(full_refresh_at=""),
            # The hospital-wide package is no ward laptop's download; not built here.
            hospital_ward=HospitalWard(enabled=False),
            history=HistoryWindows(vitals_hours=vitals_hours, labs_days=labs_days),
        )
        laptops: dict[str, Path] = {}
        for ward in (icu, ordinary):
            lhome = tmp / f"laptop-{ward}-{tag}"
            made = device.init_device(lhome, use_keyring=False)
            device.pin_server_key(lhome, keys.signing_public_key_text(key.public_key()))
            publish.enrol(home, ward, made.identity.enrolment_code, label="bench")
            laptops[ward] = lhome
        _make_roster(home, roster_users, wards)
        started = time.perf_counter()
        first = run_live_cycle(
            sync_home=home, outbox=outbox, config=config, signing_key=key, full=True, now=now
        )
        result["full_cycle_s"] = time.perf_counter() - started
        sizes = {w.ward_id: w.size for w in first.wards}
        others = sorted(size for ward, size in sizes.items() if ward != icu)
        result["icu_package_mb"] = sizes[icu] / 1e6
        result["ordinary_package_mb"] = statistics.median(others) / 1e6
        result["ordinary_ward"] = ordinary
        result["icu_to_ordinary"] = sizes[icu] / statistics.median(others)
        result["icu_patients"] = next(w.patients for w in first.wards if w.ward_id == icu)
        last_icu_size = sizes[icu]

        icu_templates = _templates(server, _ward_patients(server, icu), "mon-")
        other_templates = {
            ward: _templates(server, _ward_patients(server, ward)[:1], "vs-")
            for ward in wards
            if ward != icu
        }
        with _counting_http(outbox) as (url, sent):
            for ward, lhome in laptops.items():
                receive.receive(lhome, url, ward)  # the initial install: not counted
            per_laptop: dict[str, Counter[str]] = {w: Counter() for w in laptops}
            cycle_s: list[float] = []
            icu_receive_s: list[float] = []
            cycle_steps: list[dict[str, float]] = []
            published: Counter[str] = Counter()
            rng = random.Random(3)
            polls = max(1, round(cycle_minutes / poll_minutes))
            for k in range(1, cycles + 1):
                at = now + timedelta(minutes=cycle_minutes * k)
                for obs_list in icu_templates.values():
                    for minute in range(int(cycle_minutes)):
                        when = at - timedelta(minutes=int(cycle_minutes) - 1 - minute)
                        for obs in obs_list:
                            rid = f"{obs['id']}-b{k}-{minute}"
                            server.put(_new_obs(obs, rid, when, rng.gauss(0, 1)))
                for ward, by_patient in other_templates.items():
                    for obs_list in by_patient.values():
                        server.put(_new_obs(obs_list[0], f"bench-{ward}-{k}", at, 1))
                began = time.perf_counter()
                cycle = run_live_cycle(
                    sync_home=home, outbox=outbox, config=config, signing_key=key, now=at
                )
                cycle_s.append(time.perf_counter() - began)
                cycle_steps.append({k: round(v, 2) for k, v in cycle.steps.items()})
                for w in cycle.wards:
                    published[w.ward_id] += 1
                    if w.ward_id == icu:
                        last_icu_size = w.size
                for ward, lhome in laptops.items():
                    for _ in range(polls):
                        before = Counter(sent)
                        began = time.perf_counter()
                        receive.receive(lhome, url, ward)
                        took = time.perf_counter() - began
                        fetched = Counter(sent) - before
                        per_laptop[ward].update(fetched)
                        if ward == icu and fetched["package"]:
                            icu_receive_s.append(took)  # an installing receive
        hours = cycles * cycle_minutes / 60
        result["cycle_s"] = [round(c, 2) for c in cycle_s]
        result["cycle_steps_s"] = cycle_steps  # where each cycle's time went (steps_text)
        result["cycle_s_median"] = statistics.median(cycle_s)
        result["icu_receive_s_median"] = statistics.median(icu_receive_s or [0.0])
        # Source change to the ICU laptop, p50, for a 5-minute cycle and a 1-minute poll with
        # 15 s jitter (the defaults), with this run's cycle and receive times (bench_latency).
        result["icu_latency_p50_5min_cycle_s"] = _p50_model(
            300, 60 + 7.5, cycle_s, icu_receive_s or [0.0]
        )
        result["icu_package_mb_last"] = last_icu_size / 1e6
        result["icu_published"] = published[icu]
        result["ordinary_published"] = published[ordinary]
        for ward, label in ((icu, "icu"), (ordinary, "ordinary")):
            counts = per_laptop[ward]
            total = sum(v for kind, v in counts.items() if not kind.endswith("_requests"))
            result[f"{label}_mb_per_hour"] = total / hours / 1e6
            result[f"{label}_requests_per_hour"] = (
                sum(v for kind, v in counts.items() if kind.endswith("_requests")) / hours
            )
            for kind in ("package", "LATEST", "FRESHNESS", "roster", "other"):
                result[f"{label}_{kind}_kb_per_hour"] = counts[kind] / hours / 1e3
    shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(outbox, ignore_errors=True)
    return result


# --- latency -----------------------------------------------------------------------------------


def bench_icu_read(
    patients: int,
    tmp: Path,
    now: datetime,
    *,
    cycles: int = 6,
    receive_s: float = 0.55,
    source: Path | None = None,
) -> dict[str, Any]:
    """An ICU cycle with the [history] windows (`vitals_hours = 24`, `labs_days = 7`) read
    from the store by window against the same cycle reading each changed patient's whole
    stay, alternating in one run on one store (A, B, A, B, ...): the generator's data with
    `--icu-monitoring` in the FHIR test server, a full live read first, then per simulated
    5-minute cycle 5 minutes of monitor values for every ICU patient and one vital sign for
    one patient of each other ward. "Whole" is the same code with the window read switched
    off (`sync.incremental._read_window` answering None). The p50 latency is the model of
    `bench_latency` for a 5-minute cycle and a 1-minute poll with each mode's cycle times and
    an installing receive of `receive_s` (the latency bench's measured median)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from fhirserver import FhirTestServer

    from sync import incremental, keys
    from sync.config import Config, FhirSettings, HistoryWindows, HospitalWard, WatchSettings
    from sync.cycle import run_live_cycle
    from sync.generate import generate

    if source is None:
        source = tmp / f"icu-read-{patients}"
        generate(source, patients, seed=1, now=now, icu_monitoring=True)
    home = tmp / "icu-read-home"
    outbox = tmp / "icu-read-outbox"
    key, _ = keys.init_signing_key(home)
    result: dict[str, Any] = {"patients": patients, "cycles": cycles}
    window_read = incremental._read_window
    with FhirTestServer(page_size=1000) as server:
        server.load_ndjson(source)
        wards = sorted(
            loc["id"]
            for loc in server.iter_resources("Location")
            if loc["physicalType"]["coding"][0]["code"] == "wa"
        )
        icu = "station-1a"
        config = Config(
            source=server.base_url,
            fhir=FhirSettings(min_wait_seconds=0.05, max_wait_seconds=1.0, timeout_seconds=600),
            watch=WatchSettings(full_refresh_at=""),
            hospital_ward=HospitalWard(enabled=False),
            history=HistoryWindows(vitals_hours=24, labs_days=7),
        )
        started = time.perf_counter()
        run_live_cycle(
            sync_home=home, outbox=outbox, config=config, signing_key=key, full=True, now=now
        )
        result["full_read_s"] = time.perf_counter() - started
        print(f"icu read bench: full read {result['full_read_s']:.1f} s", flush=True)
        icu_templates = _templates(server, _ward_patients(server, icu), "mon-")
        other_templates = {
            ward: _templates(server, _ward_patients(server, ward)[:1], "vs-")
            for ward in wards
            if ward != icu
        }
        rng = random.Random(3)
        times: dict[str, list[float]] = {"whole": [], "window": []}
        steps: dict[str, list[dict[str, float]]] = {"whole": [], "window": []}
        mapped: dict[str, list[int]] = {"whole": [], "window": []}
        try:
            for k in range(1, cycles + 1):
                mode = "whole" if k % 2 else "window"
                incremental._read_window = window_read if mode == "window" else (lambda *_: None)
                at = now + timedelta(minutes=5 * k)
                for obs_list in icu_templates.values():
                    for minute in range(5):
                        when = at - timedelta(minutes=4 - minute)
                        for obs in obs_list:
                            rid = f"{obs['id']}-r{k}-{minute}"
                            server.put(_new_obs(obs, rid, when, rng.gauss(0, 1)))
                for ward, by_patient in other_templates.items():
                    for obs_list in by_patient.values():
                        server.put(_new_obs(obs_list[0], f"bench-{ward}-r{k}", at, 1))
                began = time.perf_counter()
                cycle = run_live_cycle(
                    sync_home=home, outbox=outbox, config=config, signing_key=key, now=at
                )
                took = time.perf_counter() - began
                times[mode].append(took)
                steps[mode].append({n: round(v, 2) for n, v in cycle.steps.items()})
                mapped[mode].append(cycle.report.patients_mapped)
                print(f"icu read bench: {mode} {took:.1f} s ({cycle.steps_text()})", flush=True)
        finally:
            incremental._read_window = window_read
    for mode in ("whole", "window"):
        result[f"{mode}_cycle_s"] = [round(t, 2) for t in times[mode]]
        result[f"{mode}_steps_s"] = steps[mode]
        result[f"{mode}_patients_mapped"] = mapped[mode]
        result[f"{mode}_cycle_s_median"] = statistics.median(times[mode])
        result[f"{mode}_latency_p50_s"] = _p50_model(300, 60 + 7.5, times[mode], [receive_s])
    result["window_over_whole"] = result["window_cycle_s_median"] / result["whole_cycle_s_median"]
    return result


def _p50_model(
    cycle_interval: float,
    poll_period: float,
    cycle_s: list[float],
    receive_s: list[float],
    draws: int = 200_000,
) -> float:
    """Median of W_s + C + W_l + R (seconds): W_s ~ U(0, cycle_interval) until the next cycle
    reads the source, C a measured cycle duration, W_l ~ U(0, poll_period) until the laptop's
    next poll after the publish, R a measured receive duration (installing the package)."""
    rng = random.Random(11)
    values = sorted(
        rng.uniform(0, cycle_interval)
        + rng.choice(cycle_s)
        + rng.uniform(0, poll_period)
        + rng.choice(receive_s)
        for _ in range(draws)
    )
    return values[len(values) // 2]


def bench_latency(
    patients: int,
    tmp: Path,
    now: datetime,
    *,
    changes: int = 12,
    scale: float = 30.0,
    laptop_minutes: float = 1.0,
    laptop_jitter_s: float = 15.0,
) -> dict[str, Any]:
    """Change in the FHIR test server -> `wardcopy-sync watch` publishes -> `wardcopy receive
    --watch` installs, with real processes, every interval divided by `scale` (a 5-minute
    cycle runs every 300/scale s, the laptop polls every 60*laptop_minutes/scale s with up to
    laptop_jitter_s/scale s jitter). Measures each change's latency, each cycle's duration
    (the watch's own log line) and each installing receive's duration (its -v log line), and
    computes the p50 for real intervals from the model in `_p50_model`, for the laptop interval
    chosen and for the old 5-minute one."""
    sys.path.insert(0, str(ROOT / "tests"))
    from fhirserver import FhirTestServer

    from sync import device, keys, publish
    from sync.generate import generate

    source = tmp / f"latency-{patients}"
    generate(source, patients, seed=1, now=datetime.now(UTC).replace(microsecond=0))
    home = tmp / "latency-home"
    outbox = tmp / "latency-outbox"
    lhome = tmp / "latency-laptop"
    key, _ = keys.init_signing_key(home)
    ward = "station-3a"
    made = device.init_device(lhome, use_keyring=False)
    device.pin_server_key(lhome, keys.signing_public_key_text(key.public_key()))
    publish.enrol(home, ward, made.identity.enrolment_code, label="bench")
    cycle_interval = 300 / scale
    poll = 60 * laptop_minutes / scale
    jitter = laptop_jitter_s / scale
    bindir = Path(sys.executable).parent
    env = {
        **os.environ,
        "WARDCOPY_HOME": str(lhome),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    result: dict[str, Any] = {
        "patients": patients,
        "scale": scale,
        "cycle_interval_s": cycle_interval,
        "laptop_poll_s": poll,
        "laptop_jitter_s": jitter,
    }
    with FhirTestServer(page_size=1000) as server:
        server.load_ndjson(source)
        config = tmp / "latency.toml"
        config.write_text(
            f'source = "{server.base_url}"\noutbox = "{outbox}"\n'
            "[hospital_ward]\nenabled = false\n"
            f'[watch]\ninterval_minutes = {cycle_interval / 60}\nfull_refresh_at = ""\n'
            "[fhir]\nmin_wait_seconds = 0.05\nmax_wait_seconds = 1.0\n"
        )
        watch = subprocess.Popen(
            [str(bindir / "wardcopy-sync"), "--home", str(home), "watch", "--config", str(config)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
        )  # fmt: skip
        lines: list[str] = []
        threading.Thread(target=lambda: lines.extend(watch.stdout or []), daemon=True).start()
        pointer = lhome / "snapshots" / ward / "current"

        def installed() -> int:
            try:
                return int(json.loads(pointer.read_text())["sequence"])
            except (OSError, ValueError, KeyError):
                return 0

        deadline = time.monotonic() + 600
        while not (outbox / ward / "LATEST").exists():
            assert time.monotonic() < deadline and watch.poll() is None, "".join(lines)
            time.sleep(0.2)
        served = _counting_http(outbox)
        url, _sent = served.__enter__()
        laptop = subprocess.Popen(
            [
                str(bindir / "wardcopy"), "-v", "receive", "--from", url, "--ward", ward,
                "--watch", str(poll / 60), "--jitter", str(jitter),
            ],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        log: list[str] = []
        threading.Thread(target=lambda: log.extend(laptop.stderr or []), daemon=True).start()
        try:
            while installed() < 1:
                assert time.monotonic() < deadline and laptop.poll() is None, "".join(log)
                time.sleep(0.05)
            template = _templates(server, _ward_patients(server, ward)[:1], "vs-")
            obs = next(iter(template.values()))[0]
            rng = random.Random(5)
            latencies: list[float] = []
            for n in range(changes):
                time.sleep(rng.uniform(0, cycle_interval))  # a random phase against the cycle
                before = installed()
                server.put(_new_obs(obs, f"latency-{n}", datetime.now(UTC), n + 1))
                t0 = time.monotonic()
                while installed() <= before:
                    assert time.monotonic() < deadline + 600, "no install"
                    time.sleep(0.02)
                latencies.append(time.monotonic() - t0)
        finally:
            for proc in (laptop, watch):
                proc.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(60)
                if proc.poll() is None:
                    proc.kill()
            served.__exit__(None, None, None)
    cycle_s = [
        float(m.group(1))
        for line in lines
        if "cycle ok" in line and "published nothing" not in line
        # "...; 4.3 s (export 0.1 s, ...)": the steps follow the total since they are timed
        for m in [re.search(r"; ([0-9.]+) s(?: \(.*\))?$", line.strip())]
        if m
    ]
    receive_s = [
        float(m.group(1))
        for line in log
        if " installed; receive finished" in line
        for m in [re.search(r"finished in ([0-9.]+) s", line)]
        if m
    ][1:]  # the first install is the initial one
    result["latency_p50_s"] = statistics.median(latencies)
    result["latency_max_s"] = max(latencies)
    result["changes"] = len(latencies)
    result["cycle_s_median"] = statistics.median(cycle_s)
    result["receive_s_median"] = statistics.median(receive_s)
    # The scaled run's own prediction (checks the model against the measurement) ...
    period = max(poll, result["receive_s_median"]) + jitter / 2
    result["model_p50_scaled_s"] = _p50_model(cycle_interval, period, cycle_s, receive_s)
    # ... and the real intervals with the measured fixed costs.
    for label, minutes, jit in (
        ("p50_5min_cycle_laptop_1min_s", laptop_minutes, laptop_jitter_s),
        ("p50_5min_cycle_laptop_5min_s", 5.0, 90.0),
    ):
        result[label] = _p50_model(300, 60 * minutes + jit / 2, cycle_s, receive_s)
    shutil.rmtree(source, ignore_errors=True)
    return result


if __name__ == "__main__":
    import tempfile

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    what = sys.argv[2] if len(sys.argv) > 2 else "live"
    when = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    with tempfile.TemporaryDirectory(prefix="wardcopy-bench-live-") as name:
        if what == "transfer":
            print(bench_transfer(count, Path(name), when))
        elif what == "latency":
            print(bench_latency(count, Path(name), when))
        else:
            print(bench_live(count, Path(name), when))

"""Live-source benchmark: a cycle with 1 % of patients changed, kick-off to published packages,
as a fraction of a full file build in the same run; and a full live cycle against the file build.

The FHIR server is the project's test server (tests/fhirserver.py) on 127.0.0.1, loaded with the
generator's data; "changed" means one new vital-sign Observation for each of 1 % of the
patients, as a busy ward's minute-to-minute documentation would add.
"""

from __future__ import annotations

import copy
import random
import shutil
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def bench_live(patients: int, tmp: Path, now: datetime) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT / "tests"))
    from fhirserver import FhirTestServer

    from sync import keys
    from sync.config import Config, FhirSettings
    from sync.cycle import run_cycle, run_live_cycle
    from sync.generate import generate

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

    with FhirTestServer(page_size=1000) as server:
        server.load_ndjson(source)
        config = Config(
            source=server.base_url,
            fhir=FhirSettings(min_wait_seconds=0.05, max_wait_seconds=1.0),
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

        observations = server.resources("Observation")
        by_patient: dict[str, dict[str, Any]] = {}
        for obs in observations:
            ref = (obs.get("subject") or {}).get("reference")
            if ref and ref not in by_patient:
                by_patient[ref] = obs
        rng = random.Random(7)
        chosen = rng.sample(sorted(by_patient), max(1, len(by_patient) // 100))
        for n, ref in enumerate(chosen):
            new = copy.deepcopy(by_patient[ref])
            new["id"] = f"bench-{n}"
            new["effectiveDateTime"] = (now + timedelta(minutes=1)).isoformat()
            server.put(new)
        started = time.perf_counter()
        inc = run_live_cycle(
            sync_home=live_home, outbox=outbox, config=config, signing_key=key, now=now,
            exclude=[config.hospital_ward.id],
        )  # fmt: skip
        result["increment_s"] = time.perf_counter() - started
        result["increment_changed_patients"] = len(chosen)
        assert inc.fetch is not None
        result["increment_fetch_s"] = inc.fetch.elapsed_seconds
        result["increment_resources"] = inc.fetch.upserts
        result["increment_published"] = len(inc.wards)
        result["increment_unchanged"] = len(inc.unchanged)
        result["increment_bytes_published"] = sum(w.size for w in inc.wards)
    result["increment_fraction_of_file_build"] = result["increment_s"] / result["file_build_s"]
    result["live_full_fraction_of_file_build"] = result["live_full_s"] / result["file_build_s"]
    shutil.rmtree(source, ignore_errors=True)
    return result


if __name__ == "__main__":
    import tempfile

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    with tempfile.TemporaryDirectory(prefix="wardcopy-bench-live-") as name:
        print(bench_live(count, Path(name), datetime(2026, 11, 30, 6, 0, tzinfo=UTC)))

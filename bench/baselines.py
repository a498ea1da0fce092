"""Baselines the build is measured against, run on the same files in the same process.

- `fhir_resources_validate`: what a typical Python importer does: validate every resource with the
  `fhir.resources` R4B pydantic models. The build must be far faster than this.
- `orjson_ceiling`: the least any importer must do: parse every line with orjson, group by patient
  and write one row per patient to a plain SQLite database (in memory: no plaintext
  touches disk).
  The build should reach a good fraction of this.
"""

from __future__ import annotations

import sqlite3
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson


@dataclass
class BaselineResult:
    name: str
    resources: int
    seconds: float
    errors: int = 0

    @property
    def per_second(self) -> float:
        return self.resources / self.seconds if self.seconds > 0 else 0.0


def iter_raw_resources(source: Path) -> Iterator[dict]:
    """Yield every resource in NDJSON files and JSON Bundles below `source` (orjson, no checks)."""
    files = sorted(p for p in source.rglob("*") if p.suffix in (".ndjson", ".json"))
    for path in files:
        if path.suffix == ".ndjson":
            with path.open("rb") as fh:
                for line in fh:
                    if line.strip():
                        yield orjson.loads(line)
        else:
            data = orjson.loads(path.read_bytes())
            if data.get("resourceType") == "Bundle":
                for entry in data.get("entry") or []:
                    if isinstance(entry, dict) and isinstance(entry.get("resource"), dict):
                        yield entry["resource"]
            else:
                yield data


def _patient_key(resource: dict) -> str | None:
    if resource.get("resourceType") == "Patient":
        return str(resource.get("id"))
    for field in ("subject", "patient", "beneficiary"):
        ref = resource.get(field)
        if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
            return str(ref["reference"]).rsplit("/", 1)[-1].removeprefix("urn:uuid:")
    return None


def orjson_ceiling(source: Path) -> BaselineResult:
    """Parse with orjson, group by patient, write one row per patient. Returns the timing."""
    start = time.perf_counter()
    groups: dict[str, list[dict]] = defaultdict(list)
    count = 0
    for resource in iter_raw_resources(source):
        count += 1
        key = _patient_key(resource)
        if key is not None:
            groups[key].append(resource)
    db = sqlite3.connect(":memory:")
    db.execute("create table records (patient_id text primary key, record blob)")
    db.executemany(
        "insert or replace into records values (?, ?)",
        ((key, orjson.dumps(items)) for key, items in groups.items()),
    )
    db.commit()
    db.close()
    return BaselineResult("orjson parse + one row per patient", count, time.perf_counter() - start)


def fhir_resources_validate(source: Path, stride: int = 1) -> BaselineResult:
    """Validate resources with fhir.resources R4B models: every `stride`-th one, so a sample
    spreads evenly over all resource types. Timing covers reading and parsing the sampled
    resources' lines too, as an importer built on fhir.resources would."""
    from fhir.resources.R4B import get_fhir_model_class

    count = errors = 0
    elapsed = 0.0
    for index, resource in enumerate(iter_raw_resources(source)):
        if index % stride:
            continue
        start = time.perf_counter()
        count += 1
        try:
            get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        except Exception:  # the baseline counts failures, it must not stop on them
            errors += 1
        elapsed += time.perf_counter() - start
    return BaselineResult("fhir.resources R4B validation", count, elapsed, errors)

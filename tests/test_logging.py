"""Logging of the command lines (docs/cli.md, "Logging"): quiet by default, one INFO line per
build / cycle step with -v, DEBUG detail with -vv or WARDCOPY_DEBUG=1, and never patient data."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import orjson
import pytest

from sync.logs import level_for

if TYPE_CHECKING:
    from conftest import Demo

# One line per step of `wardcopy-sync build` (a cycle), in this order.
CYCLE_STEPS = (
    "sync.cycle: cycle started",
    "sync.build: reading the FHIR source",
    "sync.build: read ",
    "sync.build: building ",
    "sync.build: mapped ",
    "sync.cycle: sealing and publishing ",
    " published as package ",
    "sync.cycle: staff roster ",
    "sync.cycle: cycle finished in ",
)


def test_levels() -> None:
    assert level_for(0, {}) == logging.WARNING
    assert level_for(1, {}) == logging.INFO
    assert level_for(2, {}) == logging.DEBUG
    assert level_for(0, {"WARDCOPY_DEBUG": "1"}) == logging.DEBUG
    assert level_for(0, {"WARDCOPY_DEBUG": "0"}) == logging.WARNING
    assert level_for(1, {"WARDCOPY_DEBUG": ""}) == logging.INFO


def patient_strings(source: Path) -> set[str]:
    """Names, identifiers and ids of every patient in the demo source (what must never be
    logged)."""
    found: set[str] = set()
    for path in source.glob("Patient*.ndjson"):
        for line in path.read_bytes().splitlines():
            patient = orjson.loads(line)
            found.add(patient["id"])
            for name in patient.get("name", []):
                found.update(name.get("given", []))
                found.update([name["family"]] if "family" in name else [])
            found.update(i["value"] for i in patient.get("identifier", []) if "value" in i)
    return {s for s in found if len(s) >= 4}


def build(demo: Demo, *flags: str, env: dict[str, str] | None = None) -> str:
    """Run `wardcopy-sync [flags] build` on the demo chain in a fresh process; its stderr."""
    argv = [sys.executable, "-m", "sync.cli", "--home", str(demo.sync_home), *flags, "build"]
    argv += ["--source", str(demo.source), "--out", str(demo.outbox)]
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        env={**os.environ, "WARDCOPY_DEBUG": "", **(env or {})},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stderr


@pytest.mark.slow
def test_build_logs_one_line_per_step_and_no_patient_data(demo: Demo) -> None:
    assert build(demo) == ""  # quiet by default

    info = build(demo, "-v")
    lines = info.splitlines()
    assert all(" INFO " in line for line in lines), info
    positions = [next(i for i, x in enumerate(lines) if step in x) for step in CYCLE_STEPS]
    assert positions == sorted(positions), info
    published = [line for line in lines if " published as package " in line]
    assert len(published) == len(demo.wards)
    assert all(line.count(" patients, ") == 1 for line in published)

    debug = build(demo, env={"WARDCOPY_DEBUG": "1"})
    assert " DEBUG " in debug and "sync.publish: ward " in debug
    assert build(demo, "-vv").count(" DEBUG ") == debug.count(" DEBUG ")

    secrets = patient_strings(demo.source)
    assert len(secrets) > 20  # the check below has something to find
    leaked = sorted(s for s in secrets if s in info or s in debug)
    assert not leaked


# One line per step of `wardcopy -v receive` of a new package, in this order.
RECEIVE_STEPS = (
    "sync.receive.install: receiving from a folder as device ",
    ": offered package ",
    ": fetched ",
    " verified (signature, manifest, key for this device, payload)",
    " installed (was none)",
    "sync.receive.install: staff roster ",
    "; receive finished in ",
)


def laptop(demo: Demo, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run `wardcopy --home LAPTOP args` in a fresh process."""
    argv = [sys.executable, "-m", "app.cli", "--home", str(demo.laptop), *args]
    return subprocess.run(
        argv,
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, "WARDCOPY_DEBUG": ""},
        timeout=120,
    )


@pytest.mark.slow
def test_receive_logs_fetch_verify_install_repair_and_refusal_without_patient_data(
    demo: Demo,
) -> None:
    ward = next(w for w in demo.wards if w != "hospital")
    ward_dir = demo.laptop / "snapshots" / ward
    receive = ("receive", "--from", str(demo.outbox), "--ward", ward)

    quiet = laptop(demo, *receive)
    assert quiet.returncode == 0 and quiet.stderr == ""  # nothing new, nothing logged

    shutil.rmtree(ward_dir)  # a laptop that has never had this ward
    fresh = laptop(demo, "-v", *receive)
    assert fresh.returncode == 0, fresh.stderr
    lines = fresh.stderr.splitlines()
    assert all(" INFO " in line for line in lines), fresh.stderr
    positions = [next(i for i, x in enumerate(lines) if step in x) for step in RECEIVE_STEPS]
    assert positions == sorted(positions), fresh.stderr

    intact = laptop(demo, "-v", *receive)
    assert " is installed and intact" in intact.stderr, intact.stderr

    for db in ward_dir.glob("0*/snapshot.db"):
        with db.open("ab") as fh:
            fh.write(b"damage")
    repaired = laptop(demo, "-vv", *receive)
    assert repaired.returncode == 0, repaired.stderr
    assert " is damaged; repairing it" in repaired.stderr
    assert " DEBUG " in repaired.stderr and "database integrity checked" in repaired.stderr

    refused = laptop(demo, "-v", "receive", "--from", str(demo.outbox), "--ward", "no-such-ward")
    assert refused.returncode != 0
    assert "receive refused (no-package) for ward no-such-ward" in refused.stderr

    secrets = patient_strings(demo.source)
    assert len(secrets) > 20
    logged = fresh.stderr + intact.stderr + repaired.stderr + refused.stderr
    assert not sorted(s for s in secrets if s in logged)


@pytest.mark.slow
def test_print_logs_the_snapshot_and_login_but_no_patient_data(demo: Demo, tmp_path: Path) -> None:
    from sync.receive import open_installed

    ward = next(w for w in demo.wards if w != "hospital")
    snap = open_installed(demo.laptop, ward)
    try:
        patient = snap.reader.census()[0].patient_id
    finally:
        snap.close()
    out = tmp_path / "summary.pdf"
    args = ("print", "summary", "--ward", ward, "--patient", patient, "--user", "pflege")
    done = laptop(demo, "-vv", *args, "--password-stdin", "--out", str(out), stdin="pflege-demo\n")
    assert done.returncode == 0, done.stderr
    assert f"sync.receive.installed: ward {ward}: snapshot " in done.stderr
    assert "sync.keys: password check (Argon2id" in done.stderr and " matched in " in done.stderr
    assert "pflege-demo" not in done.stderr
    secrets = patient_strings(demo.source)
    assert not sorted(s for s in secrets if s in done.stderr)

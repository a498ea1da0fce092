"""`wardcopy-sync watch` and the live cycle's publishing guards, against the project's FHIR test
server on 127.0.0.1: only changed wards are published, a failed cycle publishes nothing, a
collapsed census is refused unless forced, the schedule, the lock, a graceful SIGTERM."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fhirserver import Fault, FhirTestServer

from sync import keys
from sync.config import Config, FhirSettings, WatchSettings
from sync.cycle import census_drop_refusal
from sync.generate import generate
from sync.watch import Watcher, full_refresh_due

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
BIN = Path(sys.executable).parent


def test_full_refresh_due_at_the_hospital_time() -> None:
    # 02:00 in Berlin is 01:00 UTC in winter
    at_0130 = datetime(2026, 12, 1, 0, 30, tzinfo=UTC)
    at_0105 = datetime(2026, 12, 1, 1, 5, tzinfo=UTC)
    last = datetime(2026, 11, 30, 1, 10, tzinfo=UTC)
    assert not full_refresh_due(last, at_0130, "02:00", BERLIN)
    assert full_refresh_due(last, at_0105, "02:00", BERLIN)
    assert not full_refresh_due(at_0105, at_0105, "02:00", BERLIN)
    assert full_refresh_due(None, at_0105, "", BERLIN)  # never read: always a full read
    assert not full_refresh_due(last, at_0105, "", BERLIN)


def test_census_drop_rules() -> None:
    assert census_drop_refusal("w", 30, 10, 0.5) is not None
    assert census_drop_refusal("w", 30, 16, 0.5) is None  # within 50 %
    assert census_drop_refusal("w", 4, 0, 0.5) is None  # a small ward emptying: 4 < 5
    assert census_drop_refusal("w", 0, 0, 0.5) is None
    text = census_drop_refusal("w", 30, 0, 0.5) or ""
    assert "30 to 0" in text and "--force" in text and "-100 %" in text


@pytest.fixture(scope="module")
def fhir_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("watch") / "fhir"
    generate(folder, 24, seed=5, now=NOW)
    return folder


@pytest.fixture
def server(fhir_files: Path) -> Iterator[FhirTestServer]:
    with FhirTestServer(page_size=1000) as srv:
        srv.load_ndjson(fhir_files)
        yield srv


def _config(server: FhirTestServer, outbox: Path) -> Config:
    return Config(
        source=server.base_url,
        outbox=outbox,
        fhir=FhirSettings(min_wait_seconds=0, max_wait_seconds=0.1, attempts=2),
        watch=WatchSettings(full_refresh_at=""),
    )


def _ward_of(server: FhirTestServer, ward: str) -> list[dict]:
    """The in-progress Encounters whose location chain starts at a bed on `ward`."""
    locations = {loc["id"]: loc for loc in server.resources("Location")}

    def on_ward(ref: str) -> bool:
        seen = 0
        while ref and seen < 5:
            loc = locations.get(ref.split("/")[-1], {})
            if loc.get("id") == ward:
                return True
            ref = (loc.get("partOf") or {}).get("reference", "")
            seen += 1
        return False

    return [
        e
        for e in server.resources("Encounter")
        if e["status"] == "in-progress"
        and any(on_ward(loc["location"]["reference"]) for loc in e.get("location", []))
    ]


@pytest.mark.slow
def test_watch_publishes_changed_wards_only_and_guards_the_census(
    server: FhirTestServer, tmp_path: Path
) -> None:
    home = tmp_path / "server"
    home.mkdir()
    signing_key, _ = keys.init_signing_key(home)
    lines: list[str] = []
    watcher = Watcher(
        home,
        _config(server, tmp_path / "outbox"),
        tmp_path / "outbox",
        signing_key,
        out=lines.append,
    )
    assert watcher.run_once()
    status = json.loads((home / "watch-status.json").read_text())
    assert status["last_success"] and set(status["wards"]) >= {"hospital", "station-3a"}
    assert "full read" in lines[-1]

    # one patient changes: only that patient's ward is published again
    encounter = _ward_of(server, "station-3a")[0]
    patient = server.get("Patient", encounter["subject"]["reference"].split("/")[1])
    server.put({**patient, "gender": "other"})
    assert watcher.run_once()
    assert "published station-3a#2; 2 unchanged" in lines[-1], lines[-1]  # hospital not due

    # the source fails: nothing is published, the error is in the status file
    server.faults.append(Fault("/fhir/jobs/", 503, times=99))
    assert not watcher.run_once()
    assert "cycle FAILED" in lines[-1] and "503" in lines[-1]
    status = json.loads((home / "watch-status.json").read_text())
    assert "503" in status["last_error_message"] and status["wards"]["station-3a"]["sequence"] == 2
    server.faults.clear()

    # a glitch empties a ward: refused, loudly, unless forced
    for enc in _ward_of(server, "station-3a"):
        server.delete("Encounter", enc["id"])
    assert watcher.run_once()
    assert "REFUSED 1" in lines[-1] and "station-3a: census fell" in lines[-1]
    status = json.loads((home / "watch-status.json").read_text())
    assert status["wards"]["station-3a"]["sequence"] == 2
    assert "census fell" in status["last_error_message"]
    forced = Watcher(
        home, watcher.config, tmp_path / "outbox", signing_key, force_first=True, out=lines.append
    )
    assert forced.run_once()
    assert "station-3a#3" in lines[-1]


def _write_config(tmp_path: Path, server: FhirTestServer) -> Path:
    path = tmp_path / "sync.toml"
    path.write_text(
        f'source = "{server.base_url}"\noutbox = "{tmp_path / "outbox"}"\n'
        "[fhir]\nmin_wait_seconds = 0\nmax_wait_seconds = 0.1\n"
        '[watch]\ninterval_minutes = 0.01\nfull_refresh_at = ""\n'
    )
    return path


@pytest.mark.slow
def test_watch_process_stops_gracefully_and_never_overlaps(
    server: FhirTestServer, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "WARDCOPY_SYNC_HOME": str(tmp_path / "server"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    assert subprocess.run([str(BIN / "wardcopy-sync"), "keys", "init"], env=env).returncode == 0
    config = _write_config(tmp_path, server)
    proc = subprocess.Popen(
        [str(BIN / "wardcopy-sync"), "watch", "--config", str(config)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        status = tmp_path / "server" / "watch-status.json"
        deadline = time.monotonic() + 120
        while not status.exists():
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.1)
        second = subprocess.run(
            [str(BIN / "wardcopy-sync"), "watch", "--config", str(config)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 5 and "another build or watch is running" in second.stderr
        assert "wardcopy-sync watch" in second.stderr  # who holds it
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    lines = out.strip().splitlines()
    assert lines[0].startswith("watching http://127.0.0.1")
    assert any("cycle ok" in line for line in lines) and lines[-1] == "stopped"
    # each cycle line says where its time went
    timed = r"\(export [\d.]+ s, .*, build [\d.]+ s, publish [\d.]+ s, .*freshness [\d.]+ s\)$"
    assert any(re.search(timed, line) for line in lines if "cycle ok" in line), lines
    assert json.loads(status.read_text())["last_success"]


def test_packaging_units_are_well_formed() -> None:
    import configparser
    import xml.etree.ElementTree as ET

    root = Path(__file__).parent.parent / "packaging"
    for unit in (root / "systemd").glob("*.service"):
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.read(unit)
        assert parser.get("Service", "ExecStart").startswith("/opt/wardcopy/"), unit.name
    watch = configparser.ConfigParser(strict=False, interpolation=None)
    watch.read(root / "systemd" / "wardcopy-sync-watch.service")
    assert " watch --config " in watch.get("Service", "ExecStart")
    ns = {"t": "http://schemas.microsoft.com/windows/2004/02/mit/task"}
    task = ET.parse(root / "windows" / "wardcopy-receive.xml").getroot()
    assert task.find("t:Actions/t:Exec/t:Arguments", ns).text.startswith("receive --from")  # type: ignore[union-attr]
    assert task.find("t:Settings/t:MultipleInstancesPolicy", ns).text == "IgnoreNew"  # type: ignore[union-attr]

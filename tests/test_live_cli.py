"""`wardcopy-sync build --source URL` as an IT admin runs it: real processes against the project's
FHIR test server on 127.0.0.1, changes between cycles, a server that fails, a killed cycle."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fhirserver import Fault, FhirTestServer

from sync import keys, package
from sync.generate import generate

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def fhir_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("live-cli") / "fhir"
    generate(folder, 8, seed=11, now=NOW)
    return folder


@pytest.fixture
def server(fhir_files: Path) -> Iterator[FhirTestServer]:
    with FhirTestServer(page_size=1000) as srv:
        srv.load_ndjson(fhir_files)
        yield srv


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "WARDCOPY_SYNC_HOME": str(tmp_path / "server"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }


def _config(tmp_path: Path, server: FhirTestServer) -> Path:
    path = tmp_path / "sync.toml"
    path.write_text(
        f'source = "{server.base_url}"\n'
        f'outbox = "{tmp_path / "outbox"}"\n'
        "[fhir]\nmin_wait_seconds = 0\nmax_wait_seconds = 0.2\nattempts = 3\n"
    )
    return path


def _sync(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "wardcopy-sync"), *args], env=env, capture_output=True, text=True, timeout=300
    )


def _packages(outbox: Path) -> dict[str, bytes]:
    return {str(p.relative_to(outbox)): p.read_bytes() for p in outbox.rglob("*") if p.is_file()}


def test_build_from_a_fhir_server_then_only_changes(
    server: FhirTestServer, env: dict[str, str], tmp_path: Path
) -> None:
    assert _sync("keys", "init", env=env).returncode == 0
    config = _config(tmp_path, server)
    checked = _sync("config", "check", str(config), env=env)
    assert checked.returncode == 0, checked.stdout
    first = _sync("build", "--config", str(config), env=env)
    assert first.returncode == 0, first.stderr
    assert "bulk full read:" in first.stdout and "station-" in first.stdout
    patient = server.resources("Patient")[0]
    server.put({**patient, "gender": "other"})
    second = _sync("build", "--config", str(config), env=env)
    assert second.returncode == 0, second.stderr
    assert "bulk changes: 1 resources updated, 0 deleted" in second.stdout
    # every current ward got a signed "still the newest as of <read time>" statement
    public = keys.load_signing_key(tmp_path / "server" / "keys" / "signing.key").public_key()
    state = json.loads((tmp_path / "server" / "ward-state.json").read_text())
    for ward, info in state.items():
        data = (tmp_path / "outbox" / ward / package.FRESHNESS_FILE).read_bytes()
        statement = package.parse_freshness(data, public, ward)
        assert statement.package_sequence == info["sequence"]
        package_as_of = datetime.fromisoformat(info["data_as_of"]).replace(microsecond=0)
        assert statement.as_of >= package_as_of
    full = _sync("build", "--config", str(config), "--full", env=env)
    assert full.returncode == 0 and "bulk full read:" in full.stdout


def test_failing_server_publishes_nothing(
    server: FhirTestServer, env: dict[str, str], tmp_path: Path
) -> None:
    assert _sync("keys", "init", env=env).returncode == 0
    config = _config(tmp_path, server)
    assert _sync("build", "--config", str(config), env=env).returncode == 0
    before = _packages(tmp_path / "outbox")
    server.put({**server.resources("Patient")[0], "gender": "other"})
    server.faults.append(Fault("/fhir/jobs/", 500, times=99))
    failed = _sync("build", "--config", str(config), env=env)
    assert failed.returncode == 3
    assert "answered 500" in failed.stderr and "nothing was published" in failed.stderr
    assert len(failed.stderr.strip().splitlines()) == 1
    assert _packages(tmp_path / "outbox") == before


@pytest.mark.slow
def test_killed_cycle_then_a_clean_one(
    server: FhirTestServer, env: dict[str, str], tmp_path: Path
) -> None:
    assert _sync("keys", "init", env=env).returncode == 0
    config = _config(tmp_path, server)
    assert _sync("build", "--config", str(config), env=env).returncode == 0
    before = _packages(tmp_path / "outbox")
    changed = server.resources("Patient")[0]
    server.put({**changed, "gender": "other"})
    server.delete("Observation", server.resources("Observation")[0]["id"])
    # The kill lands while the export's files are being read into the store.
    server.faults.append(Fault("*Observation.ndjson", 0, delay=20))
    proc = subprocess.Popen(
        [str(BIN / "wardcopy-sync"), "build", "--config", str(config)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not any(p.endswith("Observation.ndjson") for _, p in server.iter_requests("/fhir/")):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert _packages(tmp_path / "outbox") == before  # nothing half-applied was published
    server.faults.clear()
    again = _sync("build", "--config", str(config), env=env)
    assert again.returncode == 0, again.stderr
    # the killed increment was rolled back: the clean cycle reads the same changes again
    assert "bulk changes: 1 resources updated, 1 deleted" in again.stdout

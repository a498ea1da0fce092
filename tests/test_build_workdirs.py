"""A killed build's work folder is removed by the next build (only folders of dead processes;
a reused pid is told apart by its start time), `wardcopy-sync doctor` reports such folders, and
two builds at once are refused by an OS lock with exit code 5. Real processes, real signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import orjson
import pytest

from sync import workdirs
from sync.generate import generate

NOW = "2026-11-30T06:00:00+00:00"
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="start times come from /proc")


@pytest.fixture(scope="module")
def fhir_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fhir")
    generate(out, 12, seed=5, now=datetime.fromisoformat(NOW))
    return out


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "WARDCOPY_SYNC_HOME": str(tmp_path / "server")}
    made = _run(env, "keys", "init")
    assert made.returncode == 0, made.stderr
    return env


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "wardcopy-sync"), *args], env=env, capture_output=True, text=True, timeout=300
    )


def _build(env: dict[str, str], source: Path, outbox: Path) -> subprocess.CompletedProcess[str]:
    return _run(env, "build", "--source", str(source), "--out", str(outbox), "--now", NOW)


def _killed_build_folder(home: Path) -> Path:
    """A process that makes a work folder as a build does, writes 5 MB into it, and is killed."""
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from sync.workdirs import new_workdir\n"
        "work, _ = new_workdir(Path(sys.argv[1]))\n"
        "(work / '.staging-x.db').write_bytes(bytes(5_000_000))\n"
        "print(work, flush=True)\n"
        "time.sleep(300)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(home)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    folder = Path(child.stdout.readline().strip())
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    assert folder.is_dir()
    return folder


def test_next_build_removes_a_killed_builds_folder_and_doctor_reports_it(
    env: dict[str, str], fhir_source: Path, tmp_path: Path
) -> None:
    home = tmp_path / "server"
    outbox = tmp_path / "outbox"
    folder = _killed_build_folder(home)

    doctor = _run(env, "doctor", "--out", str(outbox))
    [line] = [ln for ln in doctor.stdout.splitlines() if "work folders" in ln]
    assert line.startswith("WARN") and folder.name in line and "5.0 MB" in line, line
    assert "is gone" in line

    built = _build(env, fhir_source, outbox)
    assert built.returncode == 0, built.stderr
    assert "removed 1 work folder(s) of killed builds (5.0 MB)" in built.stdout
    assert not folder.exists()
    assert list(home.glob("build-*")) == []  # the build's own folder is gone too
    doctor = _run(env, "doctor", "--out", str(outbox))
    assert any(ln.startswith("OK") and "work folders" in ln for ln in doctor.stdout.splitlines()), (
        doctor.stdout
    )


def test_a_living_builds_folder_is_kept_and_a_reused_pid_is_not_mistaken(tmp_path: Path) -> None:
    home = tmp_path / "server"
    home.mkdir()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    try:
        time.sleep(0.2)
        alive = home / "build-alive"
        alive.mkdir()
        start = workdirs._start_ticks(sleeper.pid)
        boot = workdirs._boot_id()
        owner = {"pid": sleeper.pid, "start": start, "boot": boot}
        (alive / "owner.json").write_bytes(orjson.dumps(owner))
        # The same pid, but recorded with another start time: the pid was reused since.
        reused = home / "build-reused"
        reused.mkdir()
        (reused / "owner.json").write_bytes(orjson.dumps({**owner, "start": "1"}))
        # Recorded before a reboot.
        rebooted = home / "build-rebooted"
        rebooted.mkdir()
        (rebooted / "owner.json").write_bytes(orjson.dumps({**owner, "boot": "another-boot"}))
        # An older version's folder (no owner record) that is still being written: kept.
        fresh = home / "build-fresh"
        fresh.mkdir()

        removed = {s.path.name: s.why for s in workdirs.remove_stale(home)}
        assert set(removed) == {"build-reused", "build-rebooted"}
        assert "another process" in removed["build-reused"]
        assert "reboot" in removed["build-rebooted"]
        assert alive.is_dir() and fresh.is_dir()
    finally:
        sleeper.kill()
        sleeper.wait(10)
    [gone] = workdirs.remove_stale(home)
    assert gone.path == alive and not alive.exists()


def test_two_builds_at_once_the_second_is_refused_with_exit_5(
    env: dict[str, str], fhir_source: Path, tmp_path: Path
) -> None:
    home = tmp_path / "server"
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from sync.lock import hold\n"
        "from sync.watch import LOCK_FILE\n"
        "with hold(Path(sys.argv[1]) / LOCK_FILE, what='wardcopy-sync build'):\n"
        "    print('held', flush=True)\n"
        "    time.sleep(300)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(home)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        second = _build(env, fhir_source, tmp_path / "outbox")
        assert second.returncode == 5, second.stderr
        assert f"pid {holder.pid}" in second.stderr
        assert "another build or watch is running" in second.stderr
        assert not (tmp_path / "outbox").exists()  # nothing was done
    finally:
        holder.send_signal(signal.SIGKILL)  # the lock dies with its process
        holder.wait(10)
    again = _build(env, fhir_source, tmp_path / "outbox")
    assert again.returncode == 0, again.stderr

"""Every documented exit code of `wardcopy receive` and `wardcopy verify` (docs/cli.md), each
from a real process in the situation an admin would meet it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_package_support import Laptop, Server, make_laptop, make_server
from test_receive_robust import _hold_lock_in_a_child, hostile_server, small_disk

from sync import device, receive

WARD = "station-3a"
BIN = Path(sys.executable).parent
Setup = tuple[Server, Laptop]

__all__ = ["small_disk"]  # the fixture, imported for use here


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    server = make_server(tmp_path)
    laptop = make_laptop(tmp_path, server)
    server.enrol(laptop, WARD)
    server.publish(WARD)
    return server, laptop


def _env(home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "WARDCOPY_HOME": str(home),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }


def wardcopy(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "wardcopy"), *args],
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=120,
    )


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


# --- wardcopy receive -----------------------------------------------------------------------------


def test_receive_0_installed_then_already_installed(setup: Setup) -> None:
    server, laptop = setup
    first = wardcopy(laptop.home, "receive", "--from", str(server.outbox))
    assert first.returncode == 0, first.stderr
    assert "package 1 installed" in first.stdout
    again = wardcopy(laptop.home, "receive", "--from", str(server.outbox))
    assert again.returncode == 0
    assert "already installed" in again.stdout


def test_receive_0_repaired_says_so(setup: Setup) -> None:
    server, laptop = setup
    installed = receive.receive(laptop.home, str(server.outbox))
    db = installed.path / "snapshot.db"
    data = bytearray(db.read_bytes())
    data[4096] ^= 0x80
    db.write_bytes(bytes(data))
    result = wardcopy(laptop.home, "receive", "--from", str(server.outbox))
    assert result.returncode == 0, result.stderr
    assert "package 1 repaired" in result.stdout and "reinstalled from the source" in result.stdout


def test_receive_1_rollback_refused(setup: Setup, tmp_path: Path) -> None:
    server, laptop = setup
    old = tmp_path / "old-outbox"
    shutil.copytree(server.outbox, old)
    server.publish(WARD)
    receive.receive(laptop.home, str(server.outbox))
    result = wardcopy(laptop.home, "receive", "--from", str(old))
    assert result.returncode == 1
    assert "rollback" in _one_line(result.stderr)


def test_receive_2_usage(setup: Setup) -> None:
    server, laptop = setup
    assert wardcopy(laptop.home, "receive").returncode == 2  # --from missing
    result = wardcopy(laptop.home, "receive", "--from", str(server.outbox), "--ward", "../x")
    assert result.returncode == 2
    assert "not a valid ward id" in result.stderr


def test_receive_3_missing_source_folder(setup: Setup, tmp_path: Path) -> None:
    _, laptop = setup
    result = wardcopy(laptop.home, "receive", "--from", str(tmp_path / "no-such-share"))
    assert result.returncode == 3
    assert "no-such-share is not a folder" in _one_line(result.stderr)


def test_receive_3_network_timeout(setup: Setup) -> None:
    server, laptop = setup
    with hostile_server(server.outbox, "stall") as (url, _sent):
        start = time.monotonic()
        result = wardcopy(laptop.home, "receive", "--from", url, "--timeout", "2")
    assert result.returncode == 3
    assert time.monotonic() - start < 30
    line = _one_line(result.stderr)
    assert "too slow" in line or "did not finish" in line
    assert not list((laptop.home / "snapshots" / WARD).iterdir())


def test_receive_3_full_disk_blames_the_laptop_not_the_source(
    setup: Setup, small_disk: Path
) -> None:
    server, _ = setup
    laptop = make_laptop(small_disk, server)
    server.enrol(laptop, WARD)
    server.publish(WARD)
    with hostile_server(server.outbox, "endless", latest_size=20 * 10**6) as (url, _sent):
        result = wardcopy(laptop.home, "receive", "--from", url)
    assert result.returncode == 3
    line = _one_line(result.stderr)
    assert "this laptop's disk" in line
    assert url not in line and "source" not in line


def test_receive_4_no_pinned_key(tmp_path: Path) -> None:
    server = make_server(tmp_path)
    laptop = make_laptop(tmp_path, None)
    server.enrol(laptop, WARD)
    server.publish(WARD)
    result = wardcopy(laptop.home, "receive", "--from", str(server.outbox))
    assert result.returncode == 4
    assert "no server key is pinned" in _one_line(result.stderr)


def test_receive_4_no_device_key(setup: Setup) -> None:
    server, laptop = setup
    shutil.rmtree(laptop.home / "device")
    result = wardcopy(laptop.home, "receive", "--from", str(server.outbox))
    assert result.returncode == 4
    assert "wardcopy device init" in result.stderr


def test_receive_5_another_receive_is_running(setup: Setup) -> None:
    server, laptop = setup
    child = _hold_lock_in_a_child(laptop.home)
    try:
        result = wardcopy(laptop.home, "receive", "--from", str(server.outbox), "--wait", "1")
    finally:
        child.kill()
        child.wait(10)
    assert result.returncode == 5
    line = _one_line(result.stderr)
    assert "another receive is running" in line and f"pid {child.pid}" in line


def test_receive_130_interrupted_while_waiting(setup: Setup) -> None:
    server, laptop = setup
    child = _hold_lock_in_a_child(laptop.home)
    try:
        waiting = subprocess.Popen(
            [str(BIN / "wardcopy"), "-v", "receive", "--from", str(server.outbox), "--wait", "60"],
            env=_env(laptop.home),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # Interrupt only once it says it waits for the lock (a fixed sleep raced the start-up
        # of the process on a loaded machine).
        assert waiting.stderr is not None
        said = ""
        while "another receive is running" not in said:
            line = waiting.stderr.readline()
            assert line, f"ended without saying it waits: {said}"
            said = line
        assert "waiting up to 60 s" in said
        waiting.send_signal(signal.SIGINT)
        _out, err = waiting.communicate(timeout=30)
    finally:
        child.kill()
        child.wait(10)
    assert waiting.returncode == 130, err
    assert "interrupted" in err


# --- wardcopy verify ------------------------------------------------------------------------------


def test_verify_0_and_1(setup: Setup) -> None:
    server, laptop = setup
    installed = receive.receive(laptop.home, str(server.outbox))
    ok = wardcopy(laptop.home, "verify", "--installed")
    assert ok.returncode == 0, ok.stdout
    db = installed.path / "snapshot.db"
    data = bytearray(db.read_bytes())
    data[len(data) // 2] ^= 0x01
    db.write_bytes(bytes(data))
    bad = wardcopy(laptop.home, "verify", "--installed")
    assert bad.returncode == 1
    assert "SHA-256" in bad.stdout


def test_verify_2_usage(setup: Setup) -> None:
    _, laptop = setup
    assert wardcopy(laptop.home, "verify", "--no-such-option").returncode == 2


def test_verify_3_missing_package_file(setup: Setup, tmp_path: Path) -> None:
    _, laptop = setup
    result = wardcopy(laptop.home, "verify", str(tmp_path / "gone.wcpkg"))
    assert result.returncode == 3
    assert "gone.wcpkg" in result.stderr


def test_verify_4_no_pinned_key(setup: Setup) -> None:
    server, laptop = setup
    receive.receive(laptop.home, str(server.outbox))
    (laptop.home / "device" / "server.pub").unlink()
    assert device.pinned_server_key(laptop.home) is None
    installed = wardcopy(laptop.home, "verify", "--installed")
    assert installed.returncode == 4, installed.stdout
    assert "not set up" in installed.stdout
    package = next((server.outbox / WARD).glob("*.wcpkg"))
    single = wardcopy(laptop.home, "verify", str(package))
    assert single.returncode == 4

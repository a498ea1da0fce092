"""sync.receive under hostile conditions (issue 8): a damaged current snapshot is repaired, two
receives never run at once, slow and endless servers are cut off, a small disk is respected,
and nothing of this costs the last good snapshot."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest
from test_package_support import Laptop, Server, make_laptop, make_server

from app import doctor
from sync import receive
from sync.receive import ReceiveError, open_installed

WARD = "station-3a"
Setup = tuple[Server, Laptop]
BIN = Path(sys.executable).parent


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    server = make_server(tmp_path)
    laptop = make_laptop(tmp_path, server)
    server.enrol(laptop, WARD)
    return server, laptop


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def _pointer(home: Path) -> dict[str, object]:
    value = orjson.loads((home / "snapshots" / WARD / "current").read_bytes())
    assert isinstance(value, dict)
    return value


def _leftovers(home: Path) -> list[str]:
    return [p.name for p in (home / "snapshots" / WARD).iterdir() if p.name.startswith(".")]


# --- repair ---------------------------------------------------------------------------------------


def test_bit_flip_in_current_snapshot_is_repaired_by_the_next_receive(setup: Setup) -> None:
    server, laptop = setup
    server.publish(WARD)
    receive.receive(laptop.home, str(server.outbox))
    server.publish(WARD)
    first = receive.receive(laptop.home, str(server.outbox))
    _flip(first.path / "snapshot.db", 5000)
    snap = open_installed(laptop.home)
    assert snap.sequence == 1 and snap.is_older  # the viewer falls back and says so
    snap.close()

    again = receive.receive(laptop.home, str(server.outbox))
    assert again.status == "repaired"
    assert again.sequence == 2
    assert again.repair is not None and "SHA-256" in again.repair
    snap = open_installed(laptop.home)
    try:
        assert snap.sequence == 2
        assert not snap.is_older and snap.fallback_reason is None
        assert snap.reader.census()
    finally:
        snap.close()
    assert _leftovers(laptop.home) == []
    assert receive.receive(laptop.home, str(server.outbox)).status == "already-installed"


def test_doctor_reports_the_damage_and_then_the_repair(setup: Setup) -> None:
    server, laptop = setup
    server.publish(WARD)
    result = receive.receive(laptop.home, str(server.outbox))
    _flip(result.path / "snapshot.db", 7000)
    checks = doctor.check_laptop(laptop.home)
    damaged = [c for c in checks if c.name == "integrity" and c.status == "FAIL"]
    assert damaged and "wardcopy receive" in damaged[0].message
    assert receive.receive(laptop.home, str(server.outbox)).status == "repaired"
    checks = doctor.check_laptop(laptop.home)
    ward = next(c for c in checks if c.name == f"ward {WARD}")
    assert ward.status == "WARN" and "repaired" in ward.message
    assert not [c for c in checks if c.name == "integrity" and c.status == "FAIL"]


def test_current_pointing_at_a_deleted_folder_is_repaired_and_the_viewer_says_so(
    setup: Setup,
) -> None:
    server, laptop = setup
    for _ in range(2):
        server.publish(WARD)
        result = receive.receive(laptop.home, str(server.outbox))
    shutil.rmtree(result.path)  # what two overlapping receives did before the lock
    snap = open_installed(laptop.home)
    try:
        assert snap.sequence == 1 and snap.newest_sequence == 2
        assert snap.is_older
        assert snap.fallback_reason is not None and "2 is missing" in snap.fallback_reason
    finally:
        snap.close()
    again = receive.receive(laptop.home, str(server.outbox))
    assert again.status == "repaired" and again.sequence == 2
    assert _pointer(laptop.home)["previous"] == "0000000001"
    snap = open_installed(laptop.home)
    assert snap.sequence == 2 and not snap.is_older
    snap.close()


# --- lock -----------------------------------------------------------------------------------------


def _hold_lock_in_a_child(home: Path) -> subprocess.Popen[str]:
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from sync.receive import receive_lock\n"
        "with receive_lock(Path(sys.argv[1])):\n"
        "    print('held', flush=True)\n"
        "    time.sleep(120)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(home)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "held"
    return child


def test_a_second_receive_waits_then_gives_up_and_the_lock_dies_with_its_holder(
    setup: Setup,
) -> None:
    server, laptop = setup
    server.publish(WARD)
    child = _hold_lock_in_a_child(laptop.home)
    try:
        start = time.monotonic()
        with pytest.raises(ReceiveError) as err:
            receive.receive(laptop.home, str(server.outbox), lock_wait=0.5)
        assert 0.4 < time.monotonic() - start < 10
        assert err.value.reason == "busy"
        assert f"pid {child.pid}" in str(err.value)
        assert receive.exit_code_of(err.value) == 5
        assert not (laptop.home / "snapshots").exists()  # nothing touched
    finally:
        child.send_signal(signal.SIGKILL)  # a killed holder must not leave a stale lock
        child.wait(10)
    assert receive.receive(laptop.home, str(server.outbox)).status == "installed"


def test_the_lock_excludes_a_second_holder_in_the_same_process(tmp_path: Path) -> None:
    with receive.receive_lock(tmp_path), pytest.raises(ReceiveError) as err:  # noqa: SIM117
        with receive.receive_lock(tmp_path, wait=0.1):
            pass
    assert err.value.reason == "busy"
    with receive.receive_lock(tmp_path):  # released: free again
        pass


@pytest.mark.slow
def test_concurrent_receives_against_a_changing_outbox_keep_a_valid_install(
    setup: Setup, tmp_path: Path
) -> None:
    """Three real `wardcopy receive` processes at a time, five rounds, while the server keeps
    publishing: every run succeeds, and afterwards the pointer names an existing folder, the
    installed snapshots verify, and the newest package is installed."""
    server, laptop = setup
    server.publish(WARD, keep=50)
    env = {
        **os.environ,
        "WARDCOPY_HOME": str(laptop.home),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    stop = threading.Event()
    published = [1]

    def publisher() -> None:
        while not stop.wait(0.15) and published[-1] < 40:
            published.append(server.publish(WARD, keep=50).manifest.sequence)

    thread = threading.Thread(target=publisher, daemon=True)
    thread.start()
    failures: list[str] = []
    command = [str(BIN / "wardcopy"), "receive", "--from", str(server.outbox)]
    command += ["--wait", "120", "--timeout", "120"]
    try:
        for _ in range(5):
            procs = [
                subprocess.Popen(
                    command,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for _ in range(3)
            ]
            for proc in procs:
                _out, err = proc.communicate(timeout=240)
                if proc.returncode != 0:
                    failures.append(f"exit {proc.returncode}: {err.strip()}")
    finally:
        stop.set()
        thread.join(30)
    assert failures == []
    final = subprocess.run(
        [str(BIN / "wardcopy"), "receive", "--from", str(server.outbox)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert final.returncode == 0, final.stderr
    pointer = _pointer(laptop.home)
    assert pointer["sequence"] == published[-1]
    assert (laptop.home / "snapshots" / WARD / str(pointer["dir"])).is_dir()
    verified = subprocess.run(
        [str(BIN / "wardcopy"), "verify", "--installed"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    snap = open_installed(laptop.home)
    assert snap.sequence == published[-1] and not snap.is_older
    snap.close()


# --- slow, stalling and endless servers -----------------------------------------------------------


@contextlib.contextmanager
def hostile_server(
    outbox: Path, behaviour: str, latest_size: int | None = None
) -> Iterator[tuple[str, list[int]]]:
    """Serve `outbox` on 127.0.0.1; the package file (.wcpkg) is sent per `behaviour`:
    "drip" one byte every 0.2 s, "stall" the headers and then nothing, "endless" 64 KiB chunks
    without end. `latest_size` makes LATEST announce that size. Every loop stops when the test
    ends (or after 60 s). Yields the URL and a one-item list counting package bytes sent."""
    import http.server

    stop = threading.Event()
    sent = [0]

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            path = outbox / self.path.lstrip("/")
            if not path.is_file():
                self.send_error(404)
                return
            body = path.read_bytes()
            if path.name == "LATEST" and latest_size is not None:
                body = orjson.dumps({**orjson.loads(body), "size": latest_size})
            if not path.name.endswith(".wcpkg"):
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            self.send_response(200)
            if behaviour != "endless":
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            deadline = time.monotonic() + 60
            try:
                if behaviour == "drip":
                    for byte in body:
                        if stop.wait(0.2) or time.monotonic() > deadline:
                            break
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        sent[0] += 1
                elif behaviour == "stall":
                    stop.wait(60)
                else:
                    chunk = b"\0" * 65536
                    while not stop.is_set() and time.monotonic() < deadline:
                        self.wfile.write(chunk)
                        sent[0] += len(chunk)
            except OSError:
                pass  # the client hung up: what a receive should do
            self.close_connection = True

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", sent
    finally:
        stop.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def _timed(call: Callable[[], object]) -> tuple[ReceiveError, float]:
    start = time.monotonic()
    with pytest.raises(ReceiveError) as err:
        call()
    return err.value, time.monotonic() - start


def test_slow_drip_server_hits_the_overall_deadline(setup: Setup) -> None:
    server, laptop = setup
    server.publish(WARD)
    receive.receive(laptop.home, str(server.outbox))
    server.publish(WARD)
    with hostile_server(server.outbox, "drip") as (url, sent):
        err, took = _timed(lambda: receive.receive(laptop.home, url, timeout=2.0, min_rate=0.0))
    assert err.reason == "timeout"
    assert "did not finish within 2 s" in str(err)
    assert took < 10
    assert 0 < sent[0] < 100
    assert _leftovers(laptop.home) == []
    snap = open_installed(laptop.home)
    assert snap.sequence == 1 and not snap.is_older  # the last good snapshot stays in use
    snap.close()


def test_slow_drip_server_falls_below_the_minimum_rate(setup: Setup) -> None:
    server, laptop = setup
    server.publish(WARD)
    with hostile_server(server.outbox, "drip") as (url, _sent):
        err, took = _timed(
            lambda: receive.receive(
                laptop.home, url, timeout=60.0, min_rate=1000.0, rate_window=1.0
            )
        )
    assert err.reason == "timeout"
    assert "below the minimum" in str(err)
    assert took < 10
    assert not list((laptop.home / "snapshots" / WARD).iterdir())


def test_stalled_server_is_cut_off_by_the_deadline(setup: Setup) -> None:
    server, laptop = setup
    server.publish(WARD)
    with hostile_server(server.outbox, "stall") as (url, _sent):
        err, took = _timed(lambda: receive.receive(laptop.home, url, timeout=1.5))
    assert err.reason == "timeout"
    assert took < 10
    assert receive.exit_code_of(err) == 3


def test_endless_response_is_cut_at_the_announced_size(setup: Setup) -> None:
    server, laptop = setup
    server.publish(WARD)
    with hostile_server(server.outbox, "endless") as (url, sent):
        err, took = _timed(lambda: receive.receive(laptop.home, url, timeout=30))
    assert err.reason == "payload-size"
    assert took < 10
    assert sent[0] < 64 << 20
    assert _leftovers(laptop.home) == []


def test_huge_announcement_is_refused_before_downloading(setup: Setup) -> None:
    server, laptop = setup
    server.publish(WARD)
    receive.receive(laptop.home, str(server.outbox))
    server.publish(WARD)
    with hostile_server(server.outbox, "endless", latest_size=6 << 30) as (url, sent):
        err, _took = _timed(lambda: receive.receive(laptop.home, url, timeout=30))
    assert err.reason == "payload-size"
    assert "--max-size-mb" in str(err)
    assert sent[0] == 0  # refused before a single package byte was fetched
    assert receive.exit_code_of(err) == 1


# --- a small disk ---------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 24 MB tmpfs (reserve: 10 % = 2.4 MB). Skipped where mounting is not allowed."""
    mount = tmp_path / "small"
    mount.mkdir()
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root on Linux")
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=24m,mode=0700", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _small_laptop(server: Server, disk: Path) -> Laptop:
    laptop = make_laptop(disk, server)
    server.enrol(laptop, WARD)
    return laptop


def test_small_disk_refuses_a_package_that_would_eat_the_reserve(
    setup: Setup, small_disk: Path
) -> None:
    server, _ = setup
    laptop = _small_laptop(server, small_disk)
    server.publish(WARD)
    before = shutil.disk_usage(small_disk).free
    with hostile_server(server.outbox, "endless", latest_size=12 * 10**6) as (url, sent):
        err, _took = _timed(lambda: receive.receive(laptop.home, url, timeout=30))
    assert err.reason == "disk"
    assert "this laptop's disk" in str(err) and "reserve" in str(err)
    assert sent[0] == 0
    assert shutil.disk_usage(small_disk).free >= before - 100_000
    # The package that fits is still received.
    assert receive.receive(laptop.home, str(server.outbox)).status == "installed"


def test_endless_response_on_a_small_disk_leaves_the_reserve_free(
    setup: Setup, small_disk: Path
) -> None:
    server, _ = setup
    laptop = _small_laptop(server, small_disk)
    server.publish(WARD)
    receive.receive(laptop.home, str(server.outbox))
    server.publish(WARD)
    with hostile_server(server.outbox, "endless", latest_size=9 * 10**6) as (url, sent):
        err, _took = _timed(lambda: receive.receive(laptop.home, url, timeout=30))
    assert err.reason == "payload-size"
    assert sent[0] >= 9 * 10**6  # it did download up to the announced size, no further
    assert _leftovers(laptop.home) == []
    # The audit log and the viewer still have room: a megabyte can be written.
    (small_disk / "audit-probe").write_bytes(b"x" * 10**6)


def test_disk_full_while_copying_is_the_laptops_problem_not_the_sources(
    setup: Setup, small_disk: Path
) -> None:
    server, _ = setup
    laptop = _small_laptop(server, small_disk)
    server.publish(WARD)
    receive.receive(laptop.home, str(server.outbox))
    server.publish(WARD)

    def fill(step: str) -> None:
        if step == "verified":  # someone else fills the disk between download and copy
            with (small_disk / "filler").open("wb") as fh, contextlib.suppress(OSError):
                while True:
                    fh.write(b"\0" * 65536)

    with pytest.raises(ReceiveError) as err:
        receive.receive(laptop.home, str(server.outbox), fault=fill)
    assert err.value.reason == "disk"
    assert "disk is full" in str(err.value)
    assert str(server.outbox) not in str(err.value)
    assert receive.exit_code_of(err.value) == 3
    (small_disk / "filler").unlink()
    assert _leftovers(laptop.home) == []
    snap = open_installed(laptop.home)
    assert snap.sequence == 1 and not snap.is_older
    snap.close()

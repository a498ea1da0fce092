"""Signed freshness statements (docs/package-format.md §7a): the server signs "package N of ward W
is still the newest as of T" every cycle; a laptop's data-as-of becomes T for exactly that
package; foreign, forged, old and mismatched statements change nothing."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_package_support import DATA_AS_OF, Laptop, Server, make_laptop, make_server

from sync import keys, package, publish, receive
from sync.package import PackageError
from sync.receive import open_installed

WARD = "station-3a"
GOLDEN = Path(__file__).parent / "golden"
LATER = DATA_AS_OF + timedelta(minutes=25)


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Server, Laptop]:
    server = make_server(tmp_path)
    laptop = make_laptop(tmp_path, server)
    server.enrol(laptop, WARD)
    server.publish(WARD)
    return server, laptop


def _as_of(home: Path) -> datetime:
    snap = open_installed(home, WARD)
    try:
        return snap.data_as_of
    finally:
        snap.close()


def test_golden_vector_is_reproduced_and_verified() -> None:
    vectors = json.loads((GOLDEN / "vectors.json").read_text())
    key = keys.signing_key_from_seed(bytes.fromhex(vectors["signing_seed_hex"]))
    recorded = (GOLDEN / "freshness-v1.wcdoc").read_bytes()
    assert hashlib.sha256(recorded).hexdigest() == (
        "0eee79f4f76745078ef4c47efa12bfda99ed685398d729f0c2eff5d07b2db2d2"
    )
    made = package.seal_freshness("golden-ward", 7, datetime(2026, 11, 30, 1, 5, tzinfo=UTC), key)
    assert made == recorded
    statement = package.parse_freshness(recorded, key.public_key(), "golden-ward")
    assert statement.package_sequence == 7 and statement.sequence == 1796000700000
    assert recorded.endswith(
        b'{"as_of":"2026-11-30T01:05:00Z","package_sequence":7,"ward":"golden-ward"}'
    )


def test_foreign_forged_and_other_kinds_are_refused() -> None:
    key = keys.generate_signing_key()
    data = package.seal_freshness("ward-a", 3, LATER, key)
    with pytest.raises(PackageError) as err:
        package.parse_freshness(data, key.public_key(), "ward-b")
    assert err.value.reason == "ward" and "ward-a" in str(err.value)
    with pytest.raises(PackageError):
        package.parse_freshness(data, keys.generate_signing_key().public_key(), "ward-a")
    roster = package.seal_document("roster", b"{}", key)
    with pytest.raises(PackageError) as err:
        package.parse_freshness(roster, key.public_key(), "ward-a")
    assert err.value.reason == "document-kind"
    flipped = bytearray(data)
    flipped[-3] ^= 1
    with pytest.raises(PackageError):
        package.parse_freshness(bytes(flipped), key.public_key(), "ward-a")


def test_effective_as_of_only_for_that_package_and_never_earlier() -> None:
    statement = package.Freshness("w", 5, LATER, 1)
    assert package.effective_as_of(DATA_AS_OF, 5, statement) == LATER
    assert package.effective_as_of(DATA_AS_OF, 6, statement) == DATA_AS_OF
    assert package.effective_as_of(DATA_AS_OF, 5, None) == DATA_AS_OF
    early = package.Freshness("w", 5, DATA_AS_OF - timedelta(hours=1), 1)
    assert package.effective_as_of(DATA_AS_OF, 5, early) == DATA_AS_OF


def test_receive_takes_the_statement_and_the_viewer_shows_its_time(
    setup: tuple[Server, Laptop],
) -> None:
    server, laptop = setup
    assert receive.receive(laptop.home, str(server.outbox), WARD).data_as_of == DATA_AS_OF
    publish.publish_freshness(server.outbox, WARD, 1, LATER, server.key)
    result = receive.receive(laptop.home, str(server.outbox), WARD)
    assert result.status == "already-installed" and result.data_as_of == LATER
    assert _as_of(laptop.home) == LATER
    # the server stops: nothing newer arrives, the age keeps growing from LATER
    assert receive.receive(laptop.home, str(server.outbox), WARD).data_as_of == LATER


def test_old_foreign_and_mismatched_statements_change_nothing(
    setup: tuple[Server, Laptop],
) -> None:
    server, laptop = setup
    receive.receive(laptop.home, str(server.outbox), WARD)
    path = server.outbox / WARD / package.FRESHNESS_FILE
    publish.publish_freshness(server.outbox, WARD, 1, LATER, server.key)
    receive.receive(laptop.home, str(server.outbox), WARD)
    # an older statement put back (a frozen or replayed outbox): refused, LATER stays
    path.write_bytes(package.seal_freshness(WARD, 1, LATER - timedelta(minutes=10), server.key))
    result = receive.receive(laptop.home, str(server.outbox), WARD)
    assert result.data_as_of == LATER and any("older than" in w for w in result.warnings)
    # another ward's statement in this ward's folder
    path.write_bytes(
        package.seal_freshness("station-9z", 1, LATER + timedelta(hours=1), server.key)
    )
    result = receive.receive(laptop.home, str(server.outbox), WARD)
    assert result.data_as_of == LATER and any("station-9z" in w for w in result.warnings)
    # signed by a key this laptop does not trust
    stranger = keys.generate_signing_key()
    path.write_bytes(package.seal_freshness(WARD, 1, LATER + timedelta(hours=1), stranger))
    result = receive.receive(laptop.home, str(server.outbox), WARD)
    assert result.data_as_of == LATER and any("refused" in w for w in result.warnings)
    # about a package this laptop does not have: ignored
    path.write_bytes(package.seal_freshness(WARD, 9, LATER + timedelta(hours=1), server.key))
    assert receive.receive(laptop.home, str(server.outbox), WARD).data_as_of == LATER
    assert _as_of(laptop.home) == LATER


def test_a_new_package_starts_from_its_own_time(setup: tuple[Server, Laptop]) -> None:
    server, laptop = setup
    receive.receive(laptop.home, str(server.outbox), WARD)
    publish.publish_freshness(server.outbox, WARD, 1, LATER, server.key)
    receive.receive(laptop.home, str(server.outbox), WARD)
    server.publish(WARD)  # package 2, data as of DATA_AS_OF; the statement names package 1
    result = receive.receive(laptop.home, str(server.outbox), WARD)
    assert result.sequence == 2 and result.data_as_of == DATA_AS_OF
    assert _as_of(laptop.home) == DATA_AS_OF


@pytest.mark.slow
def test_receive_watch_follows_new_packages_and_stops_on_sigterm(
    setup: tuple[Server, Laptop],
) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    server, laptop = setup
    env = {
        **os.environ,
        "WARDCOPY_HOME": str(laptop.home),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "wardcopy"),
            "receive",
            "--from",
            str(server.outbox),
            "--ward",
            WARD,
            "--watch",
            "0.01",
            "--jitter",
            "0.2",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        pointer = laptop.home / "snapshots" / WARD / "current"

        def installed() -> int:
            try:
                return int(json.loads(pointer.read_text())["sequence"])
            except (OSError, ValueError, KeyError):
                return 0

        deadline = time.monotonic() + 90
        while installed() < 1:
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.1)
        server.publish(WARD)
        while installed() < 2:
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "package 2 installed" in out and out.strip().endswith("stopped")

"""sync.receive: a laptop fetches, verifies and installs packages from a folder or over HTTP,
refuses what it must refuse, survives crashes at every step, and opens what it installed."""

from __future__ import annotations

import errno
import json
import os
import random
import shutil
import tempfile
from pathlib import Path

import pytest
from test_package_support import (
    DATA_AS_OF,
    MARKER,
    Laptop,
    Server,
    make_laptop,
    make_server,
    serve_folder,
)

from sync import device, keys, package, publish, receive
from sync.package import PackageError
from sync.receive import INSTALL_STEPS, ReceiveError, open_installed

WARD = "station-3a"
Setup = tuple[Server, Laptop]


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    server = make_server(tmp_path)
    laptop = make_laptop(tmp_path, server)
    server.enrol(laptop, WARD)
    return server, laptop


def current_sequence(home: Path, ward: str = WARD) -> int:
    snap = open_installed(home, ward)
    try:
        assert snap.fallback_reason is None
        assert snap.reader.census(), "installed snapshot has no patients"
        return snap.sequence
    finally:
        snap.close()


def test_receive_from_folder_installs_and_opens(setup: Setup) -> None:
    server, laptop = setup
    server.publish(WARD, patients=4)
    result = receive.receive(laptop.home, str(server.outbox))
    assert result.status == "installed"
    assert result.sequence == 1
    assert result.data_as_of == DATA_AS_OF
    snap = open_installed(laptop.home)
    try:
        assert snap.ward == WARD
        assert snap.data_as_of == DATA_AS_OF
        assert len(snap.reader.census()) == 4
        assert snap.fallback_reason is None
    finally:
        snap.close()
    assert receive.installed_wards(laptop.home) == [WARD]
    mode = (laptop.home / "snapshots" / WARD).stat().st_mode & 0o777
    assert mode == 0o700
    assert (result.path / "snapshot.db").stat().st_mode & 0o777 == 0o600


def test_newer_package_replaces_and_keeps_last_three(setup: Setup) -> None:
    server, laptop = setup
    for expected in range(1, 6):
        server.publish(WARD)
        assert receive.receive(laptop.home, str(server.outbox), WARD).sequence == expected
        assert current_sequence(laptop.home) == expected
    dirs = sorted(p.name for p in (laptop.home / "snapshots" / WARD).iterdir() if p.is_dir())
    assert dirs == ["0000000003", "0000000004", "0000000005"]


def test_same_package_again_is_already_installed(setup: Setup) -> None:
    server, laptop = setup
    server.publish(WARD)
    receive.receive(laptop.home, str(server.outbox))
    again = receive.receive(laptop.home, str(server.outbox))
    assert again.status == "already-installed"
    assert again.sequence == 1


def test_rollback_is_refused_with_a_clear_message(setup: Setup, tmp_path: Path) -> None:
    server, laptop = setup
    server.publish(WARD)
    old_outbox = tmp_path / "old-outbox"
    shutil.copytree(server.outbox, old_outbox)
    server.publish(WARD)
    receive.receive(laptop.home, str(server.outbox))
    with pytest.raises(ReceiveError) as err:
        receive.receive(laptop.home, str(old_outbox))
    assert err.value.reason == "rollback"
    assert "1" in str(err.value) and "2" in str(err.value)
    assert current_sequence(laptop.home) == 2


def test_rollback_refused_even_if_latest_pointer_lies(setup: Setup, tmp_path: Path) -> None:
    """An attacker rewrites LATEST to claim sequence 9 but serves the signed package 1."""
    server, laptop = setup
    server.publish(WARD)
    old = (server.outbox / WARD / "0000000001.wcpkg").read_bytes()
    server.publish(WARD)
    receive.receive(laptop.home, str(server.outbox))
    (server.outbox / WARD / "0000000002.wcpkg").write_bytes(old)
    latest = publish.read_latest(server.outbox, WARD)
    assert latest is not None
    latest["sequence"] = 9
    latest["sha256"] = "0" * 64
    (server.outbox / WARD / "LATEST").write_text(json.dumps(latest))
    with pytest.raises(PackageError) as err:
        receive.receive(laptop.home, str(server.outbox))
    assert err.value.reason == "rollback"
    assert current_sequence(laptop.home) == 2


def test_package_of_another_ward_is_refused(setup: Setup) -> None:
    server, laptop = setup
    server.enrol(laptop, "other")
    server.publish(WARD)
    server.publish("other")
    receive.receive(laptop.home, str(server.outbox), WARD)
    # Swap the other ward's package in under this ward's name.
    other = server.outbox / "other"
    mine = server.outbox / WARD
    (mine / "0000000002.wcpkg").write_bytes((other / "0000000001.wcpkg").read_bytes())
    (mine / "LATEST").write_bytes(
        (other / "LATEST")
        .read_bytes()
        .replace(b"0000000001", b"0000000002")
        .replace(b'"sequence":1', b'"sequence":2')
    )
    with pytest.raises(PackageError) as err:
        receive.receive(laptop.home, str(server.outbox), WARD)
    assert err.value.reason == "ward"
    assert "other" in str(err.value)
    assert current_sequence(laptop.home) == 1


def test_package_signed_by_another_key_is_refused(setup: Setup, tmp_path: Path) -> None:
    _, laptop = setup
    impostor = make_server(tmp_path / "impostor")
    impostor.enrol(laptop, WARD)
    impostor.publish(WARD)
    with pytest.raises(PackageError) as err:
        receive.receive(laptop.home, str(impostor.outbox))
    assert err.value.reason == "signature"
    assert receive.installed_wards(laptop.home) == []


def test_not_enrolled_names_the_device_id_and_the_enrol_command(tmp_path: Path) -> None:
    server = make_server(tmp_path)
    laptop = make_laptop(tmp_path, server)
    server.publish(WARD)
    with pytest.raises(PackageError) as err:
        receive.receive(laptop.home, str(server.outbox))
    assert err.value.reason == "not-enrolled"
    assert laptop.device_id in str(err.value)
    assert "wardcopy-sync enrol" in str(err.value)


def test_revoked_laptop_gets_no_key_in_the_next_package(setup: Setup) -> None:
    server, laptop = setup
    server.publish(WARD)
    receive.receive(laptop.home, str(server.outbox))
    publish.revoke(server.home, laptop.device_id, WARD)
    server.publish(WARD)
    with pytest.raises(PackageError) as err:
        receive.receive(laptop.home, str(server.outbox))
    assert err.value.reason == "not-enrolled"
    assert current_sequence(laptop.home) == 1  # the old one it had stays readable (documented)


def test_missing_device_key_is_reported(setup: Setup) -> None:
    server, laptop = setup
    server.publish(WARD)
    receive.receive(laptop.home, str(server.outbox))
    (laptop.home / "device" / "device.key").unlink()
    with pytest.raises(device.DeviceError) as err:
        open_installed(laptop.home)
    assert laptop.device_id in str(err.value)
    with pytest.raises(device.DeviceError):
        receive.receive(laptop.home, str(server.outbox))


def test_wrong_device_key_cannot_open(setup: Setup) -> None:
    server, laptop = setup
    server.publish(WARD)
    receive.receive(laptop.home, str(server.outbox))
    # Replace the private key with another one and patch device.json to match: the package's
    # recipient entry no longer fits.
    other = keys.generate_device_key()
    (laptop.home / "device" / "device.key").write_bytes(keys.raw_private_device_key(other))
    with pytest.raises(device.DeviceError) as err:
        open_installed(laptop.home)
    assert "does not belong" in str(err.value)


def test_no_pinned_key_requires_explicit_trust(tmp_path: Path) -> None:
    server = make_server(tmp_path)
    laptop = make_laptop(tmp_path, None)
    server.enrol(laptop, WARD)
    server.publish(WARD)
    with pytest.raises(ReceiveError) as err:
        receive.receive(laptop.home, str(server.outbox))
    assert err.value.reason == "untrusted"
    assert device.pinned_server_key(laptop.home) is None
    result = receive.receive(laptop.home, str(server.outbox), trust_server_key=True)
    assert result.status == "installed"
    pinned = device.pinned_server_key(laptop.home)
    assert pinned is not None and keys.key_id(pinned) == keys.key_id(server.key.public_key())


class Killed(BaseException):
    """Simulates the process dying: not an Exception, so no cleanup handler runs."""


@pytest.mark.parametrize("step", INSTALL_STEPS)
@pytest.mark.parametrize("kind", ["killed", "enospc"])
def test_failure_at_every_install_step_keeps_previous_snapshot(
    setup: Setup, step: str, kind: str
) -> None:
    server, laptop = setup
    server.publish(WARD)
    receive.receive(laptop.home, str(server.outbox))
    server.publish(WARD)

    def fault(name: str) -> None:
        if name == step:
            if kind == "killed":
                raise Killed(name)
            raise OSError(errno.ENOSPC, "No space left on device")

    if kind == "killed":
        with pytest.raises(Killed):
            receive.receive(laptop.home, str(server.outbox), fault=fault)
    else:
        # A full disk is this laptop's problem, reported as such (exit code 3), not the source's.
        with pytest.raises(ReceiveError) as err:
            receive.receive(laptop.home, str(server.outbox), fault=fault)
        assert err.value.reason == "disk"
        assert "disk is full" in str(err.value)
    after_pointer = INSTALL_STEPS.index(step) >= INSTALL_STEPS.index("pointer-written")
    assert current_sequence(laptop.home) == (2 if after_pointer else 1)
    # The next run cleans up and completes.
    result = receive.receive(laptop.home, str(server.outbox))
    assert result.sequence == 2
    assert current_sequence(laptop.home) == 2
    leftovers = [
        p.name for p in (laptop.home / "snapshots" / WARD).iterdir() if p.name.startswith(".")
    ]
    assert leftovers == []


def test_damaged_current_falls_back_to_previous_and_says_so(setup: Setup) -> None:
    server, laptop = setup
    server.publish(WARD)
    receive.receive(laptop.home, str(server.outbox))
    server.publish(WARD)
    result = receive.receive(laptop.home, str(server.outbox))
    db = result.path / "snapshot.db"
    data = bytearray(db.read_bytes())
    data[5000] ^= 0x01
    db.write_bytes(bytes(data))
    snap = open_installed(laptop.home)
    try:
        assert snap.sequence == 1
        assert snap.fallback_reason is not None
        assert "2" in snap.fallback_reason and "previous" in snap.fallback_reason
        assert snap.reader.census()
    finally:
        snap.close()


def test_tampered_installed_header_is_not_opened(setup: Setup) -> None:
    server, laptop = setup
    server.publish(WARD)
    result = receive.receive(laptop.home, str(server.outbox))
    header = result.path / "package.header"
    data = bytearray(header.read_bytes())
    data[30] ^= 0x20
    header.write_bytes(bytes(data))
    with pytest.raises(ReceiveError) as err:
        open_installed(laptop.home)
    assert err.value.reason == "not-installed"
    assert "signature" in str(err.value)


def test_receive_over_http(setup: Setup) -> None:
    server, laptop = setup
    server.publish(WARD)
    with serve_folder(server.outbox) as url:
        result = receive.receive(laptop.home, url, timeout=10)
        assert result.status == "installed"
        assert receive.receive(laptop.home, url).status == "already-installed"
    assert current_sequence(laptop.home) == 1


def test_truncated_http_download_is_refused_and_previous_kept(setup: Setup) -> None:
    server, laptop = setup
    server.publish(WARD)
    receive.receive(laptop.home, str(server.outbox))
    server.publish(WARD)

    def cut(path: str, body: bytes) -> bytes:
        return body[: len(body) // 2] if path.endswith(".wcpkg") else body

    with serve_folder(server.outbox, mangle=cut) as url, pytest.raises(PackageError) as err:
        receive.receive(laptop.home, url, timeout=10)
    assert err.value.reason in ("truncated", "payload-size")
    assert current_sequence(laptop.home) == 1


def test_truncated_file_in_folder_is_refused(setup: Setup) -> None:
    server, laptop = setup
    res = server.publish(WARD)
    data = res.path.read_bytes()
    os.chmod(res.path, 0o644)
    res.path.write_bytes(data[:-4096])
    with pytest.raises(PackageError) as err:
        receive.receive(laptop.home, str(server.outbox))
    assert err.value.reason == "payload-size"
    assert receive.installed_wards(laptop.home) == []


def test_no_plaintext_written_during_receive(
    setup: Setup, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, laptop = setup
    server.publish(WARD, patients=5)
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmpdir))
    monkeypatch.setattr(tempfile, "tempdir", str(tmpdir))
    with serve_folder(server.outbox) as url:
        receive.receive(laptop.home, url)
    snap = open_installed(laptop.home)
    try:  # the marker really is in the data (so the scan below can fail)
        assert MARKER in snap.reader.census()[0].name
    finally:
        snap.close()
    marker = MARKER.encode()
    for root in (laptop.home, tmpdir):
        for path in root.rglob("*"):
            if path.is_file():
                assert marker not in path.read_bytes(), f"plaintext in {path}"


def test_roster_is_received_verified_and_rollback_refused(setup: Setup) -> None:
    server, laptop = setup
    server.publish(WARD)
    publish.publish_document(server.outbox, "roster", b'{"users":[2]}', server.key, sequence=2)
    result = receive.receive(laptop.home, str(server.outbox))
    assert result.roster == "updated"
    stored = receive.load_roster(laptop.home)
    assert stored is not None and stored.body == b'{"users":[2]}'
    publish.publish_document(server.outbox, "roster", b'{"users":[1]}', server.key, sequence=1)
    result = receive.receive(laptop.home, str(server.outbox))
    assert result.roster == "refused"
    assert any("older" in w for w in result.warnings)
    stored = receive.load_roster(laptop.home)
    assert stored is not None and stored.sequence == 2


def test_forged_roster_is_refused(setup: Setup, tmp_path: Path) -> None:
    server, laptop = setup
    server.publish(WARD)
    other = keys.generate_signing_key()
    (server.outbox / "roster.wcdoc").write_bytes(package.seal_document("roster", b"{}", other))
    result = receive.receive(laptop.home, str(server.outbox))
    assert result.status == "installed"
    assert result.roster == "refused"
    assert receive.load_roster(laptop.home) is None


def test_several_wards_need_a_choice(setup: Setup) -> None:
    server, laptop = setup
    server.enrol(laptop, "other")
    server.publish(WARD)
    server.publish("other")
    with pytest.raises(ReceiveError) as err:
        receive.receive(laptop.home, str(server.outbox))
    assert err.value.reason == "ward-choice"
    receive.receive(laptop.home, str(server.outbox), "other")
    receive.receive(laptop.home, str(server.outbox), WARD)
    assert receive.installed_wards(laptop.home) == ["other", WARD]
    with pytest.raises(ReceiveError):
        open_installed(laptop.home)


def test_missing_pointer_after_crash_is_repaired(setup: Setup) -> None:
    server, laptop = setup
    server.publish(WARD)
    receive.receive(laptop.home, str(server.outbox))
    (laptop.home / "snapshots" / WARD / "current").unlink()
    snap = open_installed(laptop.home)
    try:
        assert snap.sequence == 1 and snap.fallback_reason is not None
    finally:
        snap.close()
    assert receive.receive(laptop.home, str(server.outbox)).status == "already-installed"
    assert current_sequence(laptop.home) == 1


def test_signing_key_rotation_is_followed_and_old_snapshots_stay_openable(setup: Setup) -> None:
    server, laptop = setup
    server.publish(WARD)
    receive.receive(laptop.home, str(server.outbox))
    old, new = keys.rotate_signing_key(server.home)
    assert keys.key_id(
        keys.load_signing_key(server.home / "keys" / "signing.key").public_key()
    ) == (keys.key_id(new.public_key()))
    publish.publish_key_rotation(server.outbox, old, new)
    server.key = new
    server.publish(WARD)
    assert receive.receive(laptop.home, str(server.outbox)).sequence == 2
    pinned = device.pinned_server_key(laptop.home)
    assert pinned is not None and keys.key_id(pinned) == keys.key_id(new.public_key())
    # the snapshot installed under the old key still opens (fallback) and verifies
    (laptop.home / "snapshots" / WARD / "0000000002" / "snapshot.db").write_bytes(b"\0" * 4096)
    snap = open_installed(laptop.home)
    try:
        assert snap.sequence == 1 and snap.fallback_reason is not None
    finally:
        snap.close()


def test_rotation_document_signed_by_a_stranger_is_ignored(setup: Setup) -> None:
    server, laptop = setup
    server.publish(WARD)
    stranger = keys.generate_signing_key()
    publish.publish_key_rotation(server.outbox, stranger, keys.generate_signing_key())
    publish.write_signing_pub(server.outbox, server.key)
    assert receive.receive(laptop.home, str(server.outbox)).status == "installed"
    pinned = device.pinned_server_key(laptop.home)
    assert pinned is not None and keys.key_id(pinned) == keys.key_id(server.key.public_key())


def test_single_ward_folder_without_index_is_found(setup: Setup) -> None:
    server, laptop = setup
    server.publish(WARD)
    (server.outbox / "index.json").unlink()
    assert receive.receive(laptop.home, str(server.outbox)).ward == WARD


def test_any_flipped_byte_of_a_published_package_is_refused_by_receive(tmp_path: Path) -> None:
    """End to end over a real SQLCipher package: positions spread over header and payload."""
    server = make_server(tmp_path)
    laptop = make_laptop(tmp_path, server)
    server.enrol(laptop, WARD)
    server.publish(WARD)
    receive.receive(laptop.home, str(server.outbox))
    pkg = server.publish(WARD).path
    pkg.chmod(0o644)
    original = pkg.read_bytes()
    header_len = (
        len(original)
        - package.verify_package_bytes(original, server.key.public_key()).manifest.payload.size
    )
    rng = random.Random(1234)
    positions = list(range(0, header_len, max(1, header_len // 12)))
    positions += [header_len + rng.randrange(len(original) - header_len) for _ in range(12)]
    for pos in positions:
        data = bytearray(original)
        data[pos] ^= 1 << rng.randrange(8)
        pkg.write_bytes(bytes(data))
        with pytest.raises(PackageError):
            receive.receive(laptop.home, str(server.outbox))
        assert current_sequence(laptop.home) == 1, pos
    pkg.write_bytes(original)
    assert receive.receive(laptop.home, str(server.outbox)).sequence == 2


def test_over_http_an_unchanged_roster_is_not_downloaded_again_and_a_new_one_is(
    setup: Setup,
) -> None:
    """Laptops poll every minute: a 200-user roster (about 50 KB) fetched each time would be
    half of an ordinary ward laptop's traffic. The server's 304 Not Modified stands for it,
    and a roster replaced later is fetched and verified as before."""
    import functools
    import http.server
    import threading
    import time

    server, laptop = setup
    server.publish(WARD)
    publish.publish_document(server.outbox, "roster", b'{"users":[1]}', server.key, sequence=1)
    roster_file = server.outbox / "roster.wcdoc"
    old = time.time() - 60  # written a minute ago: its date is a safe validator
    os.utime(roster_file, (old, old))
    answers: list[tuple[str, int]] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            answers.append((self.path, int(code)))

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(server.outbox))
    )
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/"
    try:
        assert receive.receive(laptop.home, url, WARD).roster == "updated"
        assert receive.receive(laptop.home, url, WARD).roster == "unchanged"
        roster_answers = [code for path, code in answers if path == "/roster.wcdoc"]
        assert roster_answers == [200, 304]
        publish.publish_document(
            server.outbox, "roster", b'{"users":[1,2]}', server.key, sequence=2
        )
        assert receive.receive(laptop.home, url, WARD).roster == "updated"
        stored = receive.load_roster(laptop.home)
        assert stored is not None and stored.sequence == 2
        # A stored roster damaged on disk is fetched whole again despite "not modified".
        os.utime(server.outbox / "roster.wcdoc", (old, old))
        assert receive.receive(laptop.home, url, WARD).roster == "unchanged"
        damaged = laptop.home / "roster" / "roster.wcdoc"
        damaged.write_bytes(damaged.read_bytes()[:-3] + b"xyz")
        assert receive.receive(laptop.home, url, WARD).roster == "updated"
        assert [c for p, c in answers if p == "/roster.wcdoc"][-2:] == [304, 200]
        publish.publish_document(
            server.outbox, "roster", b'{"users":[1,2,3]}', server.key, sequence=3
        )
        assert receive.receive(laptop.home, url, WARD).roster == "updated"
        # Just written (its date within 2 s of the answer): not trusted as a validator, so
        # the next receive reads it whole instead of risking a same-second change unseen.
        assert receive.receive(laptop.home, url, WARD).roster == "unchanged"
        assert [c for p, c in answers if p == "/roster.wcdoc"][-2:] == [200, 200]
    finally:
        httpd.shutdown()
        httpd.server_close()

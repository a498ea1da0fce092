"""sync.verify: collects every problem with a severity, and maps them to the documented exit
codes (0 no errors, 1 errors, 2 unreadable)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_package_support import make_laptop, make_server

from sync import device, keys, receive, verify
from sync.verify import EXIT_ERRORS, EXIT_OK, exit_code, verify_installed, verify_package

WARD = "ward-7"


def flip(path: Path, pos: int) -> None:
    data = bytearray(path.read_bytes())
    data[pos] ^= 0x01
    path.write_bytes(bytes(data))


def test_clean_package_has_no_problems(tmp_path: Path) -> None:
    server = make_server(tmp_path)
    laptop = make_laptop(tmp_path, server)
    server.enrol(laptop, WARD)
    path = server.publish(WARD).path
    assert verify_package(path, server.key.public_key()) == []
    dk = device.load_device_key(laptop.home)
    assert verify_package(path, server.key.public_key(), dk) == []
    assert exit_code([]) == EXIT_OK


def test_damaged_payload_is_an_error(tmp_path: Path) -> None:
    server = make_server(tmp_path)
    path = server.publish(WARD).path
    path.chmod(0o644)
    flip(path, path.stat().st_size - 100)
    problems = verify_package(path, server.key.public_key())
    assert [p.severity for p in problems] == ["error", "warning"]  # hash; nobody enrolled
    assert "SHA-256" in problems[0].message
    assert exit_code(problems) == EXIT_ERRORS


def test_bad_signature_stops_with_one_error(tmp_path: Path) -> None:
    server = make_server(tmp_path)
    path = server.publish(WARD).path
    problems = verify_package(path, keys.generate_signing_key().public_key())
    assert len(problems) == 1 and "signature" in problems[0].message
    assert exit_code(problems) == EXIT_ERRORS


def test_unenrolled_device_is_reported(tmp_path: Path) -> None:
    server = make_server(tmp_path)
    laptop = make_laptop(tmp_path, server)
    path = server.publish(WARD).path
    problems = verify_package(path, server.key.public_key(), device.load_device_key(laptop.home))
    assert any(laptop.device_id in p.message and p.severity == "error" for p in problems)


def test_unreadable_package_raises_for_exit_code_2(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        verify_package(tmp_path / "missing.wcpkg", keys.generate_signing_key().public_key())


def test_verify_installed_collects_every_problem(tmp_path: Path) -> None:
    server = make_server(tmp_path)
    laptop = make_laptop(tmp_path, server)
    server.enrol(laptop, WARD)
    for _ in range(3):
        server.publish(WARD)
        receive.receive(laptop.home, str(server.outbox))
    assert verify_installed(laptop.home) == []
    ward_dir = laptop.home / "snapshots" / WARD
    flip(ward_dir / "0000000001" / "snapshot.db", 6000)  # old one: warning
    flip(ward_dir / "0000000002" / "package.header", 40)  # old one: warning
    (ward_dir / ".staging-0000000009-abcd").mkdir()  # leftover: warning
    problems = verify_installed(laptop.home)
    assert exit_code(problems) == EXIT_OK, problems
    wheres = sorted(p.where for p in problems)
    assert wheres == [
        f"{WARD}/.staging-0000000009-abcd",
        f"{WARD}/0000000001",
        f"{WARD}/0000000002",
    ]
    flip(ward_dir / "0000000003" / "snapshot.db", 6000)  # current: error
    problems = verify_installed(laptop.home)
    assert exit_code(problems) == EXIT_ERRORS
    assert any(p.where == f"{WARD}/0000000003" and p.severity == "error" for p in problems)
    assert len(problems) == 4


def test_verify_installed_on_empty_home(tmp_path: Path) -> None:
    problems = verify.verify_installed(tmp_path)
    assert exit_code(problems) == EXIT_ERRORS
    assert any("wardcopy device init" in p.message for p in problems)

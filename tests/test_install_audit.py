"""`wardcopy receive` audits every install, repair and refusal (docs/viewer.md said so; nothing was
written before), and moves the audit mark, so a deleted audit folder is noticed on a laptop that
only ever received. Real `wardcopy` processes, real packages."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_package_support import Laptop, Server, make_laptop, make_server
from test_receive_cli import wardcopy

from app.audit import iter_entries, read_mark, verify

WARD = "station-3a"
Setup = tuple[Server, Laptop]


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    server = make_server(tmp_path)
    laptop = make_laptop(tmp_path, server)
    server.enrol(laptop, WARD)
    server.publish(WARD)
    return server, laptop


def test_install_repair_and_refusal_are_audited(setup: Setup, tmp_path: Path) -> None:
    server, laptop = setup
    old = tmp_path / "old-outbox"
    shutil.copytree(server.outbox, old)

    assert wardcopy(laptop.home, "receive", "--from", str(server.outbox)).returncode == 0
    [install] = list(iter_entries(laptop.home))
    assert (install.event, install.ward) == ("install", WARD)
    assert install.details["sequence"] == 1 and install.details["by"] == "wardcopy receive"
    assert read_mark(laptop.home) == (install.seq, install.hash)

    # Nothing changed: nothing to audit.
    assert wardcopy(laptop.home, "receive", "--from", str(server.outbox)).returncode == 0
    assert len(list(iter_entries(laptop.home))) == 1

    # A damaged current snapshot is reinstalled: audited as a repair, with what was wrong.
    [db] = (laptop.home / "snapshots" / WARD).glob("*/snapshot.db")
    data = bytearray(db.read_bytes())
    data[5000] ^= 0x01
    db.write_bytes(bytes(data))
    assert wardcopy(laptop.home, "receive", "--from", str(server.outbox)).returncode == 0
    repaired = list(iter_entries(laptop.home))[-1]
    assert repaired.event == "install_repaired" and repaired.details["repair"]

    # A newer package, then the old outbox again: the rollback is refused and audited.
    server.publish(WARD)
    assert wardcopy(laptop.home, "receive", "--from", str(server.outbox)).returncode == 0
    refused_run = wardcopy(laptop.home, "receive", "--from", str(old))
    assert refused_run.returncode == 1
    events = list(iter_entries(laptop.home))
    assert [e.event for e in events] == [
        "install",
        "install_repaired",
        "install",
        "install_refused",
    ]
    assert events[-1].details["reason"] == "rollback"
    assert read_mark(laptop.home) == (events[-1].seq, events[-1].hash)
    assert verify(laptop.home) == []

    # A source that is merely unreachable is no refusal: not audited.
    assert wardcopy(laptop.home, "receive", "--from", str(tmp_path / "gone")).returncode == 3
    assert len(list(iter_entries(laptop.home))) == 4

    # The installs moved the mark: deleting the audit folder is reported.
    shutil.rmtree(laptop.home / "audit")
    result = wardcopy(laptop.home, "audit", "verify")
    assert result.returncode == 1 and "missing or empty" in result.stdout

"""sync.publish: the outbox is write-once with an atomic LATEST pointer, keeps N packages,
allocates sequences that never repeat, and seals for exactly the active enrolments."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from test_package_support import make_laptop, make_server

from sync import keys, package, publish
from sync.keys import EnrolmentCodeError
from sync.publish import PublishError

WARD = "icu-1"


def test_outbox_layout_and_latest_pointer(tmp_path: Path) -> None:
    server = make_server(tmp_path)
    laptop = make_laptop(tmp_path, server)
    server.enrol(laptop, WARD)
    result = server.publish(WARD)
    assert result.path == server.outbox / WARD / "0000000001.wcpkg"
    latest = json.loads((server.outbox / WARD / "LATEST").read_text())
    data = result.path.read_bytes()
    assert latest == {
        "file": "0000000001.wcpkg",
        "sequence": 1,
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
    }
    header = package.verify_package_bytes(data, server.key.public_key())
    assert header.manifest.ward == WARD
    assert [r.device_id for r in header.manifest.recipients] == [laptop.device_id]
    pub = (server.outbox / "signing.pub").read_text()
    assert keys.key_id(keys.parse_signing_public_key(pub)) == keys.key_id(server.key.public_key())
    assert json.loads((server.outbox / "index.json").read_text())["wards"] == [WARD]
    assert not [p for p in (server.outbox / WARD).iterdir() if p.name.startswith(".")]


def test_keeps_last_n_and_prunes_after_pointer(tmp_path: Path) -> None:
    server = make_server(tmp_path)
    for _ in range(7):
        result = server.publish(WARD, keep=3)
    names = sorted(p.name for p in (server.outbox / WARD).glob("*.wcpkg"))
    assert names == ["0000000005.wcpkg", "0000000006.wcpkg", "0000000007.wcpkg"]
    assert [p.name for p in result.pruned] == ["0000000004.wcpkg"]
    assert json.loads((server.outbox / WARD / "LATEST").read_text())["sequence"] == 7


def test_package_files_are_write_once(tmp_path: Path) -> None:
    server = make_server(tmp_path)
    first = server.publish(WARD)
    before = first.path.read_bytes()
    with pytest.raises(PublishError, match="write-once"):
        publish.publish_package_file(server.outbox, WARD, 1, lambda fh: fh.write(b"x"))
    assert first.path.read_bytes() == before
    assert json.loads((server.outbox / WARD / "LATEST").read_text())["sequence"] == 1


def test_failed_write_leaves_pointer_and_no_temp(tmp_path: Path) -> None:
    server = make_server(tmp_path)
    server.publish(WARD)

    def broken(fh: object) -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        publish.publish_package_file(server.outbox, WARD, 2, broken)
    assert json.loads((server.outbox / WARD / "LATEST").read_text())["sequence"] == 1
    assert sorted(p.name for p in (server.outbox / WARD).iterdir()) == [
        "0000000001.wcpkg",
        "LATEST",
    ]


def test_sequences_are_monotonic_and_survive_lost_state(tmp_path: Path) -> None:
    server = make_server(tmp_path)
    assert [server.publish(WARD).manifest.sequence for _ in range(3)] == [1, 2, 3]
    assert publish.last_sequence(server.home, WARD) == 3
    assert publish.allocate_sequence(server.home, "other") == 1
    (server.home / "state.json").unlink()
    # state.json lost: the outbox still prevents reuse
    assert server.publish(WARD).manifest.sequence == 4
    # allocated but never published (crash): the number is not reused
    assert publish.allocate_sequence(server.home, WARD, server.outbox) == 5
    assert server.publish(WARD).manifest.sequence == 6


def test_enrol_list_revoke(tmp_path: Path) -> None:
    server = make_server(tmp_path)
    a = make_laptop(tmp_path, server, "a")
    b = make_laptop(tmp_path, server, "b")
    e = publish.enrol(server.home, WARD, a.code, label="Nurses' station")
    assert e.device_id == a.device_id and e.label == "Nurses' station"
    publish.enrol(server.home, WARD, b.code)
    publish.enrol(server.home, "other", b.code)
    assert {x.device_id for x in publish.list_enrolments(server.home, WARD)} == {
        a.device_id,
        b.device_id,
    }
    assert publish.revoke(server.home, b.device_id, WARD) == 1
    assert [x.device_id for x in publish.list_enrolments(server.home, WARD)] == [a.device_id]
    assert len(publish.list_enrolments(server.home, WARD, include_revoked=True)) == 2
    assert [x.device_id for x in publish.list_enrolments(server.home, "other")] == [b.device_id]
    with pytest.raises(PublishError, match="no active enrolment"):
        publish.revoke(server.home, b.device_id, WARD)
    m = server.publish(WARD).manifest
    assert [r.device_id for r in m.recipients] == [a.device_id]
    # re-enrolling re-activates
    publish.enrol(server.home, WARD, b.code)
    m = server.publish(WARD).manifest
    assert sorted(r.device_id for r in m.recipients) == sorted([a.device_id, b.device_id])


def test_enrol_rejects_typos_and_bad_wards(tmp_path: Path) -> None:
    server = make_server(tmp_path)
    laptop = make_laptop(tmp_path, server)
    typo = laptop.code[:-1] + ("0" if laptop.code[-1] != "0" else "1")
    with pytest.raises(EnrolmentCodeError):
        publish.enrol(server.home, WARD, typo)
    with pytest.raises(PublishError, match="ward id"):
        publish.enrol(server.home, "../x", laptop.code)
    assert publish.list_enrolments(server.home) == []


def test_publish_document_places_signed_roster(tmp_path: Path) -> None:
    server = make_server(tmp_path)
    path = publish.publish_document(server.outbox, "roster", b'{"users":[]}', server.key, 4)
    assert path == server.outbox / "roster.wcdoc"
    doc = package.parse_document(path.read_bytes(), server.key.public_key(), "roster")
    assert (doc.sequence, doc.body) == (4, b'{"users":[]}')

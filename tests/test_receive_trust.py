"""sync.receive.trust on its own: the pure policy checks of the receive path (no files, sockets
or clocks inside them; the tests hand them bytes, numbers and keys)."""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_package_support import Laptop, Server, make_laptop, make_server

from sync import device, keys
from sync.package import PackageError
from sync.receive import errors, trust
from sync.receive.errors import ReceiveError

WARD = "station-3a"
SHA = "ab" * 32


def _latest(**over: object) -> bytes:
    value: dict[str, object] = {
        "file": "0000000002.wcpkg",
        "sequence": 2,
        "size": 1000,
        "sha256": SHA,
    }
    value.update(over)
    return orjson.dumps(value)


# --- LATEST pointer -------------------------------------------------------------------------------


def test_latest_pointer_is_parsed() -> None:
    latest = trust.parse_latest(_latest(), "outbox")
    assert latest == trust.Latest("0000000002.wcpkg", 2, 1000, SHA)


@pytest.mark.parametrize(
    "data",
    [
        None,
        b"",
        b"[]",
        b"{not json",
        _latest(file="../etc/passwd"),
        _latest(size=0),
        _latest(size=-5),
        _latest(size="1000"),
        _latest(sequence=2.5),
        _latest(sha256="AB" * 32),
    ],
)
def test_malformed_or_missing_latest_is_no_package(data: bytes | None) -> None:
    with pytest.raises(ReceiveError) as err:
        trust.parse_latest(data, "outbox station-3a")
    assert err.value.reason == "no-package"
    assert "outbox station-3a" in str(err.value)


@given(st.binary(max_size=300))
def test_any_bytes_as_latest_give_a_pointer_or_no_package(data: bytes) -> None:
    try:
        latest = trust.parse_latest(data, "x")
    except ReceiveError as exc:
        assert exc.reason == "no-package"
    else:
        assert latest.size > 0 and len(latest.sha256) == 64


def test_offer_same_package_is_current_newer_is_fetched_older_is_rollback() -> None:
    latest = trust.parse_latest(_latest(), "x")
    assert trust.check_offer(latest, WARD, None, None) == "fetch"
    assert trust.check_offer(latest, WARD, 2, SHA) == "current"
    assert trust.check_offer(latest, WARD, 2, "cd" * 32) == "fetch"  # the manifest decides
    assert trust.check_offer(latest, WARD, 1, "cd" * 32) == "fetch"
    with pytest.raises(ReceiveError) as err:
        trust.check_offer(latest, WARD, 3, SHA)
    assert err.value.reason == "rollback"
    assert "package 2" in str(err.value) and "3 is already installed" in str(err.value)


# --- size cap and free space ----------------------------------------------------------------------


def test_size_cap_grows_with_the_installed_package_but_never_past_the_absolute_cap() -> None:
    assert trust.size_cap(None) == trust.MAX_PACKAGE_SIZE
    assert trust.size_cap(1_000) == 1_000 + trust.SIZE_GROWTH_FLOOR  # small wards: +64 MB
    assert trust.size_cap(100 << 20) == 4 * (100 << 20)  # big ones: 4x
    assert trust.size_cap(4 << 30) == trust.MAX_PACKAGE_SIZE


def test_announced_size_beyond_the_cap_is_refused_with_what_to_do() -> None:
    trust.check_announced_size(400 << 20, 100 << 20, "outbox")
    with pytest.raises(ReceiveError) as err:
        trust.check_announced_size((400 << 20) + 1, 100 << 20, "outbox station-3a")
    assert err.value.reason == "payload-size"
    assert "4.0 times" in str(err.value) and "--max-size-mb" in str(err.value)
    trust.check_announced_size(7 << 30, 100 << 20, "outbox", limit=8 << 30)  # the override
    with pytest.raises(ReceiveError):
        trust.check_announced_size(trust.MAX_PACKAGE_SIZE + 1, None, "outbox")


def test_disk_reserve_is_200_mb_or_ten_percent_whichever_is_smaller() -> None:
    assert trust.disk_reserve(10 * 10**9) == 200 * 10**6
    assert trust.disk_reserve(1 * 10**9) == 100 * 10**6
    assert trust.disk_reserve(0) == 0


def test_free_space_needs_twice_the_package_plus_the_reserve() -> None:
    total = 1 * 10**9  # reserve 100 MB
    trust.check_free_space(50 * 10**6, 200 * 10**6, total, "/laptop")
    with pytest.raises(ReceiveError) as err:
        trust.check_free_space(50 * 10**6, 200 * 10**6 - 1, total, "/laptop")
    assert err.value.reason == "disk"
    message = str(err.value)
    assert "this laptop's disk" in message and "/laptop" in message
    assert "source" not in message  # a full laptop disk is never blamed on the source
    assert errors.exit_code_of(err.value) == 3


# --- transfer budget ------------------------------------------------------------------------------


def test_budget_deadline_is_overall_not_per_read() -> None:
    budget = trust.TransferBudget(100.0, "pkg", timeout=10.0, min_rate=0.0, window=1e9)
    for tick in range(10):
        budget.check(100.0 + tick, tick * 1000)  # bytes keep arriving: still bound by 10 s
    assert budget.remaining(105.0) == 5.0
    with pytest.raises(ReceiveError) as err:
        budget.check(110.5, 11_000)
    assert err.value.reason == "timeout"
    assert "10 s" in str(err.value) and "--timeout" in str(err.value)
    assert errors.exit_code_of(err.value) == 3


def test_budget_measures_the_rate_from_the_transfer_not_from_the_receive() -> None:
    # 50 s went to other requests; this transfer opened at 50 and is fast: no verdict at 61.
    budget = trust.TransferBudget(0.0, "pkg", timeout=900, min_rate=100.0, window=60, opened=50)
    budget.check(61.0, 5_000)
    budget.check(111.0, 11_000)  # 180 bytes/s over its first full window
    with pytest.raises(ReceiveError):
        budget.check(171.0, 12_000)


def test_budget_refuses_a_drip_below_the_minimum_rate() -> None:
    budget = trust.TransferBudget(0.0, "pkg", timeout=1e9, min_rate=100.0, window=10.0)
    budget.check(5.0, 10)  # the window is not full yet: no verdict
    budget.check(10.0, 1_500)  # 150 bytes/s over the first window
    budget.check(15.0, 1_600)
    with pytest.raises(ReceiveError) as err:
        budget.check(20.0, 1_700)  # 20 bytes/s over the second window
    assert err.value.reason == "timeout"
    assert "20 bytes/s" in str(err.value)


# --- header, manifest, recipient, payload ---------------------------------------------------------


Published = tuple[bytes, Server, Laptop]


@pytest.fixture
def published(tmp_path: Path) -> Published:
    server = make_server(tmp_path)
    laptop = make_laptop(tmp_path, server)
    server.enrol(laptop, WARD)
    result = server.publish(WARD)
    data = result.path.read_bytes()
    return data, server, laptop


def test_header_authenticates_against_the_pinned_key_or_a_retired_one(
    published: Published,
) -> None:
    data, server, _ = published
    pinned = server.key.public_key()
    stranger = keys.generate_signing_key().public_key()
    header = trust.authenticate_header(data[: trust.HEADER_MAX], [pinned])
    assert header.manifest.ward == WARD
    assert trust.authenticate_header(data, [stranger, pinned]).manifest.sequence == 1
    with pytest.raises(PackageError) as err:
        trust.authenticate_header(data, [stranger])
    assert err.value.reason == "signature"
    with pytest.raises(ReceiveError) as none:
        trust.authenticate_header(data, [])
    assert none.value.reason == "untrusted"
    assert errors.exit_code_of(none.value) == 4
    flipped = bytearray(data)
    flipped[40] ^= 0x01
    with pytest.raises(PackageError):
        trust.authenticate_header(bytes(flipped), [pinned])
    with pytest.raises(PackageError) as cut:
        trust.authenticate_header(data[:30], [pinned])
    assert cut.value.reason == "truncated"


def test_manifest_rules_ward_rollback_same_sequence_kind(
    published: Published,
) -> None:
    data, server, _ = published
    manifest = trust.authenticate_header(data, [server.key.public_key()]).manifest
    trust.check_manifest(manifest, WARD, None, None, SHA)
    trust.check_manifest(manifest, WARD, 1, SHA, SHA)  # the same package again (repair)
    with pytest.raises(PackageError) as ward:
        trust.check_manifest(manifest, "icu", None, None, SHA)
    assert ward.value.reason == "ward"
    with pytest.raises(ReceiveError) as older:
        trust.check_manifest(manifest, WARD, 2, SHA, SHA)
    assert older.value.reason == "rollback"
    with pytest.raises(ReceiveError) as other:
        trust.check_manifest(manifest, WARD, 1, "cd" * 32, SHA)
    assert other.value.reason == "rollback" and "differs" in str(other.value)
    with pytest.raises(PackageError) as kind:
        trust.check_manifest(replace(manifest, kind="delta"), WARD, None, None, SHA)
    assert kind.value.reason == "kind"
    assert errors.outcome_of(kind.value) == "refused"


def test_recipient_and_payload_checks(published: Published) -> None:
    data, server, laptop = published
    header = trust.authenticate_header(data, [server.key.public_key()])
    key = trust.unwrap_db_key(header.manifest, device.load_device_key(laptop.home))
    assert len(key) == 32
    stranger = keys.generate_device_key()
    with pytest.raises(PackageError) as err:
        trust.unwrap_db_key(header.manifest, stranger)
    assert err.value.reason == "not-enrolled"
    payload = header.manifest.payload
    trust.check_payload(header.manifest, payload.size, payload.sha256)
    with pytest.raises(PackageError) as size:
        trust.check_payload(header.manifest, payload.size - 1, payload.sha256)
    assert size.value.reason == "payload-size"
    with pytest.raises(PackageError) as digest:
        trust.check_payload(header.manifest, payload.size, "00" * 32)
    assert digest.value.reason == "payload-hash"


@pytest.mark.parametrize(
    ("reason", "outcome", "code"),
    [
        ("rollback", "refused", 1),
        ("signature", "refused", 1),
        ("not-enrolled", "refused", 1),
        ("payload-hash", "refused", 1),
        ("ward-choice", "usage", 2),
        ("source", "unavailable", 3),
        ("timeout", "unavailable", 3),
        ("disk", "unavailable", 3),
        ("untrusted", "not-ready", 4),
        ("busy", "busy", 5),
    ],
)
def test_every_failure_has_an_outcome_and_a_documented_exit_code(
    reason: str, outcome: str, code: int
) -> None:
    exc = ReceiveError(reason, "x")
    assert errors.outcome_of(exc) == outcome
    assert errors.exit_code_of(exc) == code


# --- the split's promises, checked on the source ------------------------------------------------

RECEIVE_DIR = Path(__file__).resolve().parent.parent / "sync" / "receive"
_IO_MODULES = {"os", "io", "pathlib", "shutil", "socket", "time", "httpx", "tempfile", "subprocess"}
_IO_NAMES = {"open", "Path", "print", "input", "sleep", "monotonic", "time"}
_WRITE_CALLS = {
    "write",
    "write_bytes",
    "write_text",
    "mkdir",
    "unlink",
    "rename",
    "replace",
    "rmtree",
    "atomic_write",
    "write_new_file",
    "open_exclusive",
    "ensure_private_dir",
    "pin_server_key",
    "follow_rotation",
}


def _tree(name: str) -> ast.Module:
    return ast.parse((RECEIVE_DIR / name).read_text(encoding="utf-8"))


def test_trust_imports_and_calls_nothing_that_does_io() -> None:
    tree = _tree("trust.py")
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        (node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
    }
    assert not imported & _IO_MODULES, imported & _IO_MODULES
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    assert not names & _IO_NAMES, names & _IO_NAMES


@pytest.mark.parametrize("name", ["trust.py", "sources.py", "installed.py", "errors.py"])
def test_only_install_writes(name: str) -> None:
    calls = {
        node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        for node in ast.walk(_tree(name))
        if isinstance(node, ast.Call)
    }
    # sources writes only into the file object the install transaction hands it.
    allowed = {"write"} if name == "sources.py" else set()
    assert not (calls & _WRITE_CALLS) - allowed, (calls & _WRITE_CALLS) - allowed

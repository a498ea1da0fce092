"""`wardcopy-sync export --to PATH`: the 3-2-1 copy of the outbox, on a real demo chain. A laptop
must be able to receive from the copy; copies are verified, write-once, never go backwards, and
hold no plaintext."""

from __future__ import annotations

import argparse
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import given
from hypothesis import strategies as st

from sync import export, keys, receive
from sync.cli import run
from sync.config import Config
from sync.cycle import run_cycle

if TYPE_CHECKING:
    from conftest import Demo  # the `demo` fixture (never imported at run time)


def _trusted(demo: Demo) -> list[Ed25519PublicKey]:
    return export.server_public_keys(demo.sync_home)


def _rebuild(demo: Demo, ward: str, now: datetime) -> None:
    """A second build of one ward (sequence 2) into the outbox."""
    run_cycle(
        sync_home=demo.sync_home,
        source=demo.source,
        outbox=demo.outbox,
        config=Config(),
        signing_key=keys.load_signing_key(demo.sync_home / "keys" / "signing.key"),
        wards=[ward],
        now=now,
        workers=1,
    )


def _fresh_laptop(demo: Demo) -> Path:
    """The demo laptop's identity and pin, with nothing installed (a replacement laptop)."""
    home = demo.folder / "laptop2"
    shutil.copytree(demo.laptop / "device", home / "device")
    home.chmod(0o700)
    return home


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_laptop_receives_every_ward_from_the_copy(demo: Demo, tmp_path: Path) -> None:
    dest = tmp_path / "usb" / "wardcopy"
    result = export.export_outbox(demo.outbox, dest, trusted=_trusted(demo))
    assert not result.problems
    assert {w.ward for w in result.wards if w.status == "copied"} == set(demo.wards)
    for name in ("signing.pub", "roster.wcdoc", "index.json"):
        assert (dest / name).read_bytes() == (demo.outbox / name).read_bytes()
    assert not [f for f in _files(dest) if f.endswith((".partial", ".tmp"))]

    shutil.rmtree(demo.outbox)  # the primary copy is gone (the outage)
    laptop = _fresh_laptop(demo)
    for ward in demo.wards:
        got = receive.receive(laptop, str(dest), ward)
        assert got.status == "installed" and got.sequence == 1
        assert got.roster in ("updated", "unchanged")
    snap = receive.open_installed(laptop, demo.wards[0])
    try:
        assert snap.reader.census()
    finally:
        snap.close()


def test_copy_holds_no_plaintext_patient_names(demo: Demo, tmp_path: Path) -> None:
    snap = receive.open_installed(demo.laptop, demo.wards[0])
    try:
        names = [row.name.encode() for row in snap.reader.census() if len(row.name) > 4]
    finally:
        snap.close()
    assert names
    dest = tmp_path / "copy"
    export.export_outbox(demo.outbox, dest, trusted=_trusted(demo))
    for path in dest.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not [n for n in names if n in data], path


def test_exporting_again_changes_nothing(demo: Demo, tmp_path: Path) -> None:
    dest = tmp_path / "copy"
    export.export_outbox(demo.outbox, dest, trusted=_trusted(demo))
    before = {f: (dest / f).stat().st_mtime_ns for f in _files(dest) if f.endswith(".wcpkg")}
    again = export.export_outbox(demo.outbox, dest, trusted=_trusted(demo))
    assert {w.status for w in again.wards} == {"already-present"}
    after = {f: (dest / f).stat().st_mtime_ns for f in _files(dest) if f.endswith(".wcpkg")}
    assert before == after


def test_newer_build_moves_the_copy_forward_and_prunes(demo: Demo, tmp_path: Path) -> None:
    ward = demo.wards[0]
    dest = tmp_path / "copy"
    export.export_outbox(demo.outbox, dest, trusted=_trusted(demo))
    laptop = _fresh_laptop(demo)
    assert receive.receive(laptop, str(dest), ward).sequence == 1

    _rebuild(demo, ward, demo.now + timedelta(hours=1))
    result = export.export_outbox(demo.outbox, dest, trusted=_trusted(demo), keep=1)
    mine = next(w for w in result.wards if w.ward == ward)
    assert (mine.status, mine.sequence) == ("copied", 2)
    assert orjson.loads((dest / ward / "LATEST").read_bytes())["sequence"] == 2
    assert not (dest / ward / "0000000001.wcpkg").exists()  # pruned, keep=1
    got = receive.receive(laptop, str(dest), ward)
    assert (got.status, got.sequence) == ("installed", 2)


def test_damaged_source_package_is_refused_and_the_old_copy_kept(
    demo: Demo, tmp_path: Path
) -> None:
    ward = demo.wards[0]
    dest = tmp_path / "copy"
    export.export_outbox(demo.outbox, dest, trusted=_trusted(demo))
    latest_before = (dest / ward / "LATEST").read_bytes()
    _rebuild(demo, ward, demo.now + timedelta(hours=1))
    pkg = demo.outbox / ward / "0000000002.wcpkg"
    data = bytearray(pkg.read_bytes())
    data[-10] ^= 0x01
    pkg.write_bytes(bytes(data))

    result = export.export_outbox(demo.outbox, dest, trusted=_trusted(demo))
    assert result.problems and ward in result.problems[0]
    assert "does not match its LATEST" in result.problems[0]
    assert (dest / ward / "LATEST").read_bytes() == latest_before
    assert not (dest / ward / "0000000002.wcpkg").exists()


def test_package_signed_by_another_key_is_refused(demo: Demo, tmp_path: Path) -> None:
    other = [keys.generate_signing_key().public_key()]
    result = export.export_outbox(demo.outbox, tmp_path / "copy", trusted=other)
    assert len(result.problems) == len(demo.wards)
    assert "signature" in result.problems[0]
    assert not (tmp_path / "copy" / "index.json").exists()


def test_copy_never_goes_back_to_an_older_package(demo: Demo, tmp_path: Path) -> None:
    ward = demo.wards[0]
    old_outbox = tmp_path / "old-outbox"
    shutil.copytree(demo.outbox, old_outbox)
    _rebuild(demo, ward, demo.now + timedelta(hours=1))
    dest = tmp_path / "copy"
    export.export_outbox(demo.outbox, dest, trusted=_trusted(demo))
    result = export.export_outbox(old_outbox, dest, trusted=_trusted(demo))
    refused = next(w for w in result.wards if w.ward == ward)
    assert refused.status == "refused" and "newer package 2" in (refused.reason or "")
    assert orjson.loads((dest / ward / "LATEST").read_bytes())["sequence"] == 2


def test_a_different_file_of_the_same_name_is_not_replaced(demo: Demo, tmp_path: Path) -> None:
    ward = demo.wards[0]
    dest = tmp_path / "copy"
    (dest / ward).mkdir(parents=True)
    squatter = dest / ward / "0000000001.wcpkg"
    squatter.write_bytes(b"something else")
    result = export.export_outbox(demo.outbox, dest, trusted=_trusted(demo))
    assert any("write-once" in p for p in result.problems)
    assert squatter.read_bytes() == b"something else"
    assert not (dest / ward / "LATEST").exists()


def test_leftovers_of_an_interrupted_export_are_removed(demo: Demo, tmp_path: Path) -> None:
    ward = demo.wards[0]
    dest = tmp_path / "copy"
    (dest / ward).mkdir(parents=True)
    leftover = dest / ward / ".0000000001.wcpkg.0badf00d.partial"
    leftover.write_bytes(b"half a package")
    result = export.export_outbox(demo.outbox, dest, trusted=_trusted(demo))
    assert not result.problems
    assert not leftover.exists()
    assert (dest / ward / "0000000001.wcpkg").exists()


def test_destination_inside_the_outbox_is_refused(demo: Demo) -> None:
    with pytest.raises(ValueError, match="inside"):
        export.export_outbox(demo.outbox, demo.outbox / "copy")


def test_only_chosen_wards_are_exported_and_the_index_keeps_others(
    demo: Demo, tmp_path: Path
) -> None:
    first, second = demo.wards[0], demo.wards[1]
    dest = tmp_path / "copy"
    export.export_outbox(demo.outbox, dest, wards=[first], trusted=_trusted(demo))
    assert (dest / first / "LATEST").exists() and not (dest / second).exists()
    export.export_outbox(demo.outbox, dest, wards=[second], trusted=_trusted(demo))
    assert orjson.loads((dest / "index.json").read_bytes())["wards"] == sorted([first, second])


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="wardcopy-sync")
    parser.add_argument("--home", type=Path)
    sub = parser.add_subparsers(dest="command", required=True)
    export.register(sub)
    args = parser.parse_args(argv)
    return run(args.func, args, "wardcopy-sync")


def test_cli_exit_codes(demo: Demo, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = ["--home", str(demo.sync_home)]
    dest = tmp_path / "copy"
    assert _cli([*home, "export", "--to", str(dest), "--out", str(demo.outbox)]) == 0
    out = capsys.readouterr().out
    assert "copied" in out and f"--from {dest}" in out
    assert _cli([*home, "export", "--to", str(dest)]) == 2  # no outbox given
    inside = demo.outbox / "x"
    assert _cli([*home, "export", "--to", str(inside), "--out", str(demo.outbox)]) == 2
    assert "inside" in capsys.readouterr().err
    pkg = demo.outbox / demo.wards[0] / "0000000001.wcpkg"
    pkg.write_bytes(pkg.read_bytes()[:-1])
    assert _cli([*home, "export", "--to", str(tmp_path / "c2"), "--out", str(demo.outbox)]) == 1
    assert "REFUSED" in capsys.readouterr().out


def test_cli_takes_the_outbox_from_the_config(demo: Demo, tmp_path: Path) -> None:
    config = tmp_path / "wardcopy.toml"
    config.write_text(f'outbox = "{demo.outbox}"\n')
    argv = ["--home", str(demo.sync_home), "export", "--to", str(tmp_path / "c")]
    assert _cli([*argv, "--config", str(config)]) == 0
    assert (tmp_path / "c" / "index.json").exists()


# --- LATEST parsing -------------------------------------------------------------------------------


@given(
    seq=st.integers(min_value=0, max_value=9_999_999_999),
    sha=st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
    size=st.integers(min_value=0, max_value=1 << 40),
)
def test_parse_latest_accepts_what_the_publisher_writes(seq: int, sha: str, size: int) -> None:
    obj = {"file": f"{seq:010d}.wcpkg", "sequence": seq, "sha256": sha, "size": size}
    assert export.parse_latest(orjson.dumps(obj)) == obj


@given(
    data=st.one_of(
        st.binary(max_size=80),
        st.builds(
            lambda f, s, h, z: orjson.dumps({"file": f, "sequence": s, "sha256": h, "size": z}),
            st.one_of(st.text(max_size=20), st.just("../../etc.wcpkg"), st.none()),
            st.one_of(st.integers(-(2**63), 2**63 - 1), st.booleans(), st.text(max_size=3)),
            st.one_of(st.text(max_size=70), st.none()),
            st.one_of(st.integers(-(2**63), -1), st.floats(), st.none()),
        ),
    )
)
def test_parse_latest_rejects_anything_else(data: bytes) -> None:
    with pytest.raises(ValueError):
        export.parse_latest(data)

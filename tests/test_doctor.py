"""`wardcopy-sync doctor` and `wardcopy doctor` on a real demo chain (generated FHIR, real keys,
real SQLCipher packages, a real laptop home): a healthy setup passes, and each check FAILs or
WARNs when its condition is broken on disk."""

from __future__ import annotations

import argparse
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import orjson
import pytest

from app import doctor as laptop_doctor
from app.audit import AuditLog, log_path
from app.cli import main as wardcopy_main
from sync import doctor as server_doctor
from sync import publish
from sync import roster as rosterlib
from sync.cli import run
from sync.doctor import Check, exit_code

if TYPE_CHECKING:
    from conftest import Demo  # the `demo` fixture (never imported at run time)


def _by_status(checks: list[Check], status: str) -> list[Check]:
    return [c for c in checks if c.status == status]


def _find(checks: list[Check], status: str, text: str) -> Check:
    for c in checks:
        if c.status == status and (text in c.name or text in c.message):
            return c
    shown = "\n".join(server_doctor.format_check(c) for c in checks)
    raise AssertionError(f"no {status} check mentioning {text!r} in:\n{shown}")


def _server(demo: Demo, **kw: object) -> list[Check]:
    kw.setdefault("now", demo.now + timedelta(minutes=10))
    return server_doctor.check_server(demo.sync_home, outbox=demo.outbox, **kw)  # type: ignore[arg-type]


def _browser_path(tmp_path: Path) -> dict[str, str]:
    """An environment with no display and only a (stand-in) Firefox on PATH."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    exe = bindir / "firefox"
    exe.write_text("#!/bin/sh\nexit 0\n")
    exe.chmod(0o755)
    return {"PATH": str(bindir)}


def _laptop(demo: Demo, tmp_path: Path, **kw: object) -> list[Check]:
    kw.setdefault("now", demo.now + timedelta(minutes=10))
    kw.setdefault("environ", _browser_path(tmp_path))
    return laptop_doctor.check_laptop(demo.laptop, **kw)  # type: ignore[arg-type]


# --- sync server ----------------------------------------------------------------------------------


def test_healthy_server_has_no_failures_or_warnings(demo: Demo) -> None:
    checks = _server(demo)
    assert not _by_status(checks, "FAIL") and not _by_status(checks, "WARN"), checks
    assert exit_code(checks) == 0
    for ward in demo.wards:
        _find(checks, "OK", f"ward {ward}")
    _find(checks, "OK", "roster")


def test_signing_key_readable_by_others_fails(demo: Demo) -> None:
    os.chmod(demo.sync_home / "keys" / "signing.key", 0o644)
    checks = _server(demo)
    assert "chmod 600" in _find(checks, "FAIL", "signing key mode").message
    assert exit_code(checks) == 1


def test_missing_signing_key_fails_with_the_command_to_run(demo: Demo) -> None:
    (demo.sync_home / "keys" / "signing.key").unlink()
    assert "keys init" in _find(_server(demo), "FAIL", "signing key").message


def test_unparsable_signing_key_fails(demo: Demo) -> None:
    key = demo.sync_home / "keys" / "signing.key"
    key.write_bytes(b"not a key")
    assert "backup" in _find(_server(demo), "FAIL", "signing key").message


def test_open_server_home_fails(demo: Demo) -> None:
    os.chmod(demo.sync_home, 0o755)
    assert "chmod 700" in _find(_server(demo), "FAIL", "server home").message


def test_missing_latest_target_fails(demo: Demo) -> None:
    ward = demo.wards[0]
    (demo.outbox / ward / "0000000001.wcpkg").unlink()
    checks = _server(demo)
    assert "missing" in _find(checks, "FAIL", f"ward {ward}").message
    assert exit_code(checks) == 1


def test_package_not_matching_latest_fails(demo: Demo) -> None:
    ward = demo.wards[1]
    pkg = demo.outbox / ward / "0000000001.wcpkg"
    data = bytearray(pkg.read_bytes())
    data[-100] ^= 0x01
    pkg.write_bytes(bytes(data))
    assert "does not match LATEST" in _find(_server(demo), "FAIL", f"ward {ward}").message


def test_package_signed_by_another_key_fails(demo: Demo) -> None:
    from sync import keys

    ward = demo.wards[0]
    (demo.sync_home / "keys" / "signing.key").unlink()
    (demo.sync_home / "keys" / "signing.pub").unlink()
    keys.init_signing_key(demo.sync_home)  # the outbox was signed by the old key
    assert "signature" in _find(_server(demo), "FAIL", f"ward {ward}").message


def test_missing_latest_pointer_fails(demo: Demo) -> None:
    ward = demo.wards[0]
    (demo.outbox / ward / "LATEST").unlink()
    assert "LATEST" in _find(_server(demo), "FAIL", f"ward {ward}").message


def test_stale_package_warns_but_does_not_fail(demo: Demo) -> None:
    checks = _server(demo, now=demo.now + timedelta(hours=3))
    warning = _find(checks, "WARN", "age")
    assert "3 h" in warning.message and "scheduled build" in warning.message
    assert exit_code(checks) == 0
    # a looser limit accepts the same age
    relaxed = _server(demo, now=demo.now + timedelta(hours=3), max_age=timedelta(hours=4))
    assert not _by_status(relaxed, "WARN")


def test_freshness_statement_keeps_an_unchanged_ward_fresh(demo: Demo) -> None:
    from sync import keys, package

    key = keys.load_signing_key(demo.sync_home / "keys" / "signing.key")
    ward = demo.wards[0]
    latest = orjson.loads((demo.outbox / ward / "LATEST").read_bytes())
    later = demo.now + timedelta(hours=2, minutes=55)
    publish.publish_freshness(demo.outbox, ward, latest["sequence"], later, key)
    checks = _server(demo, now=demo.now + timedelta(hours=3))
    fresh = _find(checks, "OK", f"ward {ward} age")
    assert package.format_timestamp(later) in fresh.message
    # a statement about another package vouches for nothing
    publish.publish_freshness(demo.outbox, ward, latest["sequence"] + 1, later, key)
    checks = _server(demo, now=demo.now + timedelta(hours=3))
    assert "3 h" in _find(checks, "WARN", f"ward {ward} age").message


def test_ward_without_enrolled_laptops_warns(demo: Demo) -> None:
    ward = demo.wards[0]
    device_id = publish.list_enrolments(demo.sync_home, ward)[0].device_id
    publish.revoke(demo.sync_home, device_id, ward)
    warning = _find(_server(demo), "WARN", f"ward {ward} laptops")
    assert "no laptop is enrolled" in warning.message
    assert f"--ward {ward}" in warning.message


def test_laptop_enrolled_after_the_build_warns(demo: Demo) -> None:
    from sync import keys

    ward = demo.wards[0]
    code = keys.enrolment_code(keys.generate_device_key().public_key())
    publish.enrol(demo.sync_home, ward, code)
    assert "next build" in _find(_server(demo), "WARN", f"ward {ward} laptops").message


def test_enrolment_for_a_ward_without_packages_warns(demo: Demo) -> None:
    from sync import keys

    code = keys.enrolment_code(keys.generate_device_key().public_key())
    publish.enrol(demo.sync_home, "station-typo", code)
    assert "no package" in _find(_server(demo), "WARN", "ward station-typo").message


def test_leftover_partial_file_warns(demo: Demo) -> None:
    ward = demo.wards[0]
    (demo.outbox / ward / ".0000000002.wcpkg.abcd1234.partial").write_bytes(b"x")
    assert "partial" in _find(_server(demo), "WARN", "leftovers").message


def test_missing_outbox_fails(demo: Demo) -> None:
    shutil.rmtree(demo.outbox)
    assert "does not exist" in _find(_server(demo), "FAIL", "outbox").message


def test_read_only_outbox_fails(demo: Demo) -> None:
    if os.geteuid() != 0:
        os.chmod(demo.outbox, 0o555)
        try:
            assert "not writable" in _find(_server(demo), "FAIL", "outbox").message
        finally:
            os.chmod(demo.outbox, 0o755)
    elif Path("/proc/self").is_dir():  # root writes anywhere, but not into procfs
        checks = server_doctor.check_server(demo.sync_home, outbox=Path("/proc"), now=demo.now)
        assert "not writable" in _find(checks, "FAIL", "outbox").message
    else:
        pytest.skip("running as root without /proc: no unwritable folder to test with")


def test_low_disk_space_warns(demo: Demo) -> None:
    checks = _server(demo, min_free=1 << 62)
    assert "free" in _find(checks, "WARN", "outbox disk").message


def test_invalid_config_fails(demo: Demo, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('timezone = "Mars/Olympus"\n')
    assert "Mars/Olympus" in _find(_server(demo, config_path=bad), "FAIL", "config").message
    good = tmp_path / "good.toml"
    good.write_text('timezone = "Europe/Berlin"\n')
    _find(_server(demo, config_path=good), "OK", "config")


def test_missing_published_roster_fails(demo: Demo) -> None:
    (demo.outbox / "roster.wcdoc").unlink()
    assert "missing" in _find(_server(demo), "FAIL", "roster").message


def test_roster_without_users_fails(demo: Demo) -> None:
    (demo.sync_home / "roster.json").unlink()
    assert "users add" in _find(_server(demo), "FAIL", "roster").message


def test_edited_but_unpublished_roster_warns(demo: Demo) -> None:
    source = rosterlib.load_roster_source(demo.sync_home)
    source = rosterlib.remove_user(source, source.users[0].user_id)
    rosterlib.save_roster_source(demo.sync_home, source)
    assert "next build" in _find(_server(demo), "WARN", "roster").message


def test_damaged_state_file_fails(demo: Demo) -> None:
    (demo.sync_home / "state.json").write_text("{not json")
    assert "backup" in _find(_server(demo), "FAIL", "sequence state").message


def test_damaged_enrolments_fail(demo: Demo) -> None:
    (demo.sync_home / "enrolments.json").write_text('{"enrolments": [{"ward": "x"}]}')
    assert "malformed" in _find(_server(demo), "FAIL", "enrolments").message


def test_roster_source_readable_by_others_fails(demo: Demo) -> None:
    os.chmod(demo.sync_home / "roster.json", 0o644)
    assert "chmod 600" in _find(_server(demo), "FAIL", "roster source").message


def test_server_cli_with_an_unreadable_config_reports_it(
    demo: Demo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--home", str(demo.sync_home), "doctor", "--config", str(tmp_path / "none.toml")]
    assert _cli(server_doctor.register, argv, "s") == 1
    assert "FAIL  config" in capsys.readouterr().out


def _cli(register: object, argv: list[str], prog: str) -> int:
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--home", type=Path)
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)  # type: ignore[operator]
    args = parser.parse_args(argv)
    return run(args.func, args, prog)


def test_server_cli_prints_lines_and_exit_codes(
    demo: Demo, capsys: pytest.CaptureFixture[str]
) -> None:
    home = ["--home", str(demo.sync_home)]
    code = _cli(server_doctor.register, [*home, "doctor", "--out", str(demo.outbox)], "s")
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.splitlines()[0].startswith("OK ")
    assert "0 failure(s)" in out
    os.chmod(demo.sync_home / "keys" / "signing.key", 0o640)
    code = _cli(server_doctor.register, [*home, "doctor", "--out", str(demo.outbox)], "s")
    out = capsys.readouterr().out
    assert code == 1
    assert any(line.startswith("FAIL  signing key mode") for line in out.splitlines())


def test_server_cli_without_outbox_warns(demo: Demo, capsys: pytest.CaptureFixture[str]) -> None:
    code = _cli(server_doctor.register, ["--home", str(demo.sync_home), "doctor"], "s")
    assert code == 0
    assert "WARN  outbox: not checked" in capsys.readouterr().out


def test_human_age() -> None:
    assert server_doctor.human_age(timedelta(minutes=45)) == "45 min"
    assert server_doctor.human_age(timedelta(hours=3, minutes=5)) == "3 h 5 min"
    assert server_doctor.human_age(timedelta(hours=2)) == "2 h"
    assert server_doctor.human_age(timedelta(days=3, hours=4)) == "3 d 4 h"


# --- laptop ---------------------------------------------------------------------------------------


def test_healthy_laptop_has_no_failures(demo: Demo, tmp_path: Path) -> None:
    checks = _laptop(demo, tmp_path)
    assert not _by_status(checks, "FAIL"), checks
    assert exit_code(checks) == 0
    for ward in demo.wards:
        assert "patients, data as of" in _find(checks, "OK", f"ward {ward}").message
    _find(checks, "OK", "integrity")
    _find(checks, "OK", "roster")
    _find(checks, "OK", "audit log")
    assert "firefox" in _find(checks, "OK", "viewer").message
    _find(checks, "OK", "settings")
    # printers: OK or WARN depending on the machine, never FAIL
    assert any(c.name == "printers" for c in checks)


def test_device_key_readable_by_others_fails(demo: Demo, tmp_path: Path) -> None:
    os.chmod(demo.laptop / "device" / "device.key", 0o644)
    checks = _laptop(demo, tmp_path)
    assert "chmod 600" in _find(checks, "FAIL", "device key").message
    assert exit_code(checks) == 1


def test_missing_device_key_fails(demo: Demo, tmp_path: Path) -> None:
    (demo.laptop / "device" / "device.key").unlink()
    checks = _laptop(demo, tmp_path)
    _find(checks, "FAIL", "device key")
    for ward in demo.wards:  # nothing opens without the key
        _find(checks, "FAIL", f"ward {ward}")


def test_unpinned_server_key_fails(demo: Demo, tmp_path: Path) -> None:
    (demo.laptop / "device" / "server.pub").unlink()
    checks = _laptop(demo, tmp_path)
    assert "device trust" in _find(checks, "FAIL", "server key").message
    _find(checks, "FAIL", "roster")


def test_open_laptop_folder_fails(demo: Demo, tmp_path: Path) -> None:
    os.chmod(demo.laptop, 0o755)
    assert "chmod 700" in _find(_laptop(demo, tmp_path), "FAIL", "laptop folder").message


def test_stale_data_warns_and_expired_data_fails(demo: Demo, tmp_path: Path) -> None:
    ward = demo.wards[0]
    stale = _laptop(demo, tmp_path, now=demo.now + timedelta(hours=5))
    assert "STALE" in _find(stale, "WARN", f"ward {ward}").message
    assert exit_code(stale) == 0
    expired = _laptop(demo, tmp_path, now=demo.now + timedelta(days=4))
    assert "EXPIRED" in _find(expired, "FAIL", f"ward {ward}").message


def test_clock_behind_data_warns(demo: Demo, tmp_path: Path) -> None:
    checks = _laptop(demo, tmp_path, now=demo.now - timedelta(hours=1))
    assert "clock" in _find(checks, "WARN", f"ward {demo.wards[0]}").message


def test_freshness_thresholds_come_from_settings(demo: Demo, tmp_path: Path) -> None:
    from app.settings import Settings, save_settings

    settings = Settings.model_validate(
        {"freshness": {"fresh_minutes": 1, "aging_minutes": 2, "expired_minutes": 3}}
    )
    save_settings(demo.laptop, settings)
    checks = _laptop(demo, tmp_path, now=demo.now + timedelta(minutes=10))
    assert "EXPIRED" in _find(checks, "FAIL", f"ward {demo.wards[0]}").message


def test_tampered_snapshot_fails_integrity(demo: Demo, tmp_path: Path) -> None:
    ward = demo.wards[0]
    db = demo.laptop / "snapshots" / ward / "0000000001" / "snapshot.db"
    data = bytearray(db.read_bytes())
    data[len(data) // 2] ^= 0xFF
    db.write_bytes(bytes(data))
    checks = _laptop(demo, tmp_path)
    assert ward in _find(checks, "FAIL", "integrity").message
    assert exit_code(checks) == 1


def test_tampered_audit_log_fails(demo: Demo, tmp_path: Path) -> None:
    log = AuditLog(demo.laptop)
    for user in ("u1", "u2", "u3"):
        log.append("login", user=user, ward=demo.wards[0])
    _find(_laptop(demo, tmp_path), "OK", "audit log")
    path = log_path(demo.laptop)
    lines = path.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b'"u2"', b'"u9"')
    path.write_bytes(b"".join(lines))
    checks = _laptop(demo, tmp_path)
    assert "audit export" in _find(checks, "FAIL", "audit log").message
    assert exit_code(checks) == 1


def test_missing_roster_fails(demo: Demo, tmp_path: Path) -> None:
    (demo.laptop / "roster" / "roster.wcdoc").unlink()
    assert "nobody can log in" in _find(_laptop(demo, tmp_path), "FAIL", "roster").message


def test_damaged_roster_fails(demo: Demo, tmp_path: Path) -> None:
    path = demo.laptop / "roster" / "roster.wcdoc"
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x01
    path.write_bytes(bytes(data))
    assert "wardcopy receive" in _find(_laptop(demo, tmp_path), "FAIL", "roster").message


def test_invalid_settings_fail(demo: Demo, tmp_path: Path) -> None:
    (demo.laptop / "settings.json").write_text('{"idle_lock_minute": 5}')
    assert "settings.json" in _find(_laptop(demo, tmp_path), "FAIL", "settings").message


def test_no_viewer_and_no_browser_fails(demo: Demo, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    checks = _laptop(demo, tmp_path, environ={"PATH": str(empty)})
    assert "no browser" in _find(checks, "FAIL", "viewer").message


def test_nothing_installed_fails(tmp_path: Path) -> None:
    from sync import device

    home = tmp_path / "fresh"
    device.init_device(home, use_keyring=False)
    now = datetime.now(UTC)
    checks = laptop_doctor.check_laptop(home, now=now, environ=_browser_path(tmp_path))
    assert "wardcopy receive" in _find(checks, "FAIL", "snapshots").message
    _find(checks, "FAIL", "server key")


def test_laptop_low_disk_space_warns(demo: Demo, tmp_path: Path) -> None:
    assert "free" in _find(_laptop(demo, tmp_path, min_free=1 << 62), "WARN", "disk").message


def test_laptop_cli(
    demo: Demo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "WARDCOPY_BROWSER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PATH", _browser_path(tmp_path)["PATH"])
    argv = ["--home", str(demo.laptop), "doctor", "--min-free-gb", "0"]
    code = wardcopy_main(argv)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "OK    laptop folder" in out and "0 failure(s)" in out
    os.chmod(demo.laptop / "device" / "device.key", 0o604)
    assert wardcopy_main(argv) == 1
    assert "FAIL  device key" in capsys.readouterr().out


def test_doctor_output_holds_no_patient_names(
    demo: Demo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sync.receive import open_installed

    snap = open_installed(demo.laptop, demo.wards[0])
    try:
        names = [row.name for row in snap.reader.census()]
    finally:
        snap.close()
    assert names
    wardcopy_main(["--home", str(demo.laptop), "doctor"])
    _cli(
        server_doctor.register,
        ["--home", str(demo.sync_home), "doctor", "--out", str(demo.outbox)],
        "s",
    )
    out = capsys.readouterr().out
    assert not [n for n in names if n and n in out]


def test_latest_json_shape_used_by_doctor_is_the_publisher_s(demo: Demo) -> None:
    latest = orjson.loads((demo.outbox / demo.wards[0] / "LATEST").read_bytes())
    assert set(latest) >= {"file", "sequence", "sha256", "size"}

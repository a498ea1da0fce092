"""`wardcopy doctor`: check that this laptop can do its job in a downtime, and print one
OK / WARN / FAIL line per check (the same format as `wardcopy-sync doctor`).

Checks: the laptop folder's mode; the device key (OS keyring or 0600 file); the pinned server key;
each installed ward (opens with this device's key, age of its data, integrity of every installed
snapshot via `sync.verify.verify_installed`); the signed staff roster (verifies, and someone may
open each installed ward); the audit log's hash chain; free disk space; printers; a way to show
the viewer (the Flet desktop client, or a browser for the fallback); the settings file.

Exit code 0 when nothing FAILed, 1 otherwise. Reads only; prints no patient data, keys or
passwords (ward ids, counts, ages and file names only).
"""

from __future__ import annotations

import argparse
import os
import shutil
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from app import audit
from app.freshness import FreshnessLevel, FreshnessThresholds, classify
from app.paths import laptop_home, roster_dir
from app.settings import Settings, SettingsError, load_settings
from sync import device, keys, receive, verify
from sync.checks import (
    DEFAULT_MIN_FREE,
    Check,
    Status,
    check_free_space,
    check_private_mode,
    exit_code,
    human_age,
    min_free_bytes,
    print_checks,
)
from sync.package import PackageError, format_timestamp
from sync.snapshot import SnapshotError

__all__ = ["check_laptop", "check_viewer", "cmd_doctor"]

#: Browsers the viewer's fallback can use (Chromium family opens an app window; any works).
FALLBACK_BROWSERS = (
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
    "msedge",
    "microsoft-edge",
    "firefox",
)
# verify_installed reports these itself; the doctor has its own, more specific checks for them.
_OWN_CHECKS = ("device", "device/server.pub", "roster/roster.wcdoc", "snapshots")
_LEVEL_STATUS: dict[FreshnessLevel, Status] = {
    FreshnessLevel.FRESH: "OK",
    FreshnessLevel.AGING: "OK",
    FreshnessLevel.STALE: "WARN",
    FreshnessLevel.FUTURE: "WARN",
    FreshnessLevel.CLOCK_AHEAD: "WARN",
    FreshnessLevel.EXPIRED: "FAIL",
    FreshnessLevel.UNKNOWN: "FAIL",
}


def _check_device(home: Path) -> list[Check]:
    try:
        ident = device.load_identity(home)
        device.load_device_key(home)
    except device.DeviceError as exc:
        return [Check("FAIL", "device key", str(exc))]
    if ident.storage == "keyring":
        return [Check("OK", "device key", f"device {ident.device_id}, in the OS keyring")]
    path = device.device_dir(home) / "device.key"
    mode_check = check_private_mode(path, "device key", 0o600, "device private key")
    if mode_check.status != "OK":
        return [mode_check]
    return [
        Check(
            "OK",
            "device key",
            f"device {ident.device_id}, in {path} (mode 0600; no OS keyring: keep full-disk "
            "encryption on)",
        )
    ]


def _check_pin(home: Path) -> Check:
    try:
        pinned = device.pinned_server_key(home)
    except device.DeviceError as exc:
        return Check("FAIL", "server key", str(exc))
    if pinned is None:
        return Check(
            "FAIL",
            "server key",
            "no sync server key is pinned: run `wardcopy device trust SIGNING_PUB` with the key "
            "from `wardcopy-sync keys show`",
        )
    return Check("OK", "server key", f"pinned, fingerprint {keys.fingerprint(pinned)}")


def _check_ward(home: Path, ward: str, now: datetime, thresholds: FreshnessThresholds) -> Check:
    name = f"ward {ward}"
    try:
        # The hash is checked by verify_installed below; opening proves key, header and database.
        snap = receive.open_installed(home, ward, check_hash=False)
    except (PackageError, SnapshotError, device.DeviceError) as exc:
        return Check("FAIL", name, f"{exc}")
    try:
        as_of = snap.data_as_of
        fresh = classify(as_of, now, thresholds)
        patients = snap.manifest.counts.get("patients", "?")
        fallback = snap.fallback_reason
        seq = snap.sequence
    finally:
        snap.close()
    age = human_age(fresh.age) if fresh.age is not None and fresh.age.total_seconds() >= 0 else "?"
    text = f"snapshot {seq}, {patients} patients, data as of {format_timestamp(as_of)} ({age} old)"
    if fallback:
        return Check("WARN", name, f"{text}; showing an older snapshot: {fallback}")
    pointer = receive.read_pointer(home / "snapshots" / ward) or {}
    if isinstance(pointer.get("repaired_at"), str):
        return Check(
            "WARN",
            name,
            f"{text}; `wardcopy receive` repaired it at {pointer['repaired_at']} "
            f"({pointer.get('repair', 'damaged')}); if this repeats, check the laptop's disk",
        )
    status = _LEVEL_STATUS[fresh.level]
    if fresh.level == FreshnessLevel.FUTURE:
        return Check("WARN", name, f"{text}: data is from the future; check this laptop's clock")
    if status != "OK":
        text += (
            f": {fresh.level.value.upper()}; is the scheduled `wardcopy receive` running and the "
            "outbox reachable? (docs/operations.md)"
        )
    return Check(status, name, text)


def _check_integrity(home: Path) -> list[Check]:
    problems = [p for p in verify.verify_installed(home) if p.where not in _OWN_CHECKS]
    if not problems:
        return [Check("OK", "integrity", "every installed snapshot verifies")]
    hint = "; run `wardcopy receive`: it reinstalls a damaged current snapshot from the source"
    return [
        Check("FAIL", "integrity", f"{p.where}: {p.message}{hint}")
        if p.severity == "error"
        else Check("WARN", "integrity", f"{p.where}: {p.message}")
        for p in problems
    ]


def _check_roster(home: Path, wards: list[str]) -> list[Check]:
    from sync import roster as rosterlib

    try:
        pinned = device.pinned_server_key(home)
    except device.DeviceError:
        pinned = None
    if pinned is None:
        return [Check("FAIL", "roster", "cannot be verified without a pinned server key")]
    try:
        roster = rosterlib.load_installed_roster(roster_dir(home), pinned)
    except rosterlib.RosterError as exc:
        return [Check("FAIL", "roster", f"{exc}; run `wardcopy receive` to fetch a good one")]
    if roster is None:
        return [
            Check(
                "FAIL",
                "roster",
                "no staff roster: nobody can log in; run `wardcopy receive --from OUTBOX`",
            )
        ]
    active = [u for u in roster.users if not u.disabled]
    issued = format_timestamp(roster.issued_at.replace(microsecond=0))
    checks = [
        Check("OK", "roster", f"version {roster.sequence} issued {issued}, {len(active)} users")
    ]
    for ward in wards:
        if not any(u.may_open(ward) for u in active):
            checks.append(
                Check(
                    "WARN",
                    "roster",
                    f"no active user may open ward {ward} (only break-glass): add users with "
                    f"`wardcopy-sync users add --ward {ward}`",
                )
            )
    return checks


def _check_audit(home: Path) -> list[Check]:
    try:
        problems = audit.verify(home)
    except audit.AuditError as exc:
        return [Check("FAIL", "audit log", str(exc))]
    if not problems:
        count = sum(1 for _ in audit.iter_entries(home))
        return [Check("OK", "audit log", f"hash chain intact ({count} entries)")]
    return [
        Check(
            "FAIL" if p.severity == "error" else "WARN",
            "audit log",
            f"{p}; export it (`wardcopy audit export`) and report it to IT security"
            if p.severity == "error"
            else str(p),
        )
        for p in problems
    ]


def _check_printers(settings: Settings | None) -> Check:
    from app.printing.osprint import list_printers

    printers = list_printers()
    if not printers:
        return Check(
            "WARN",
            "printers",
            "no printer is set up: documents can only be saved as PDF (e.g. to a USB stick)",
        )
    wanted = settings.default_printer if settings else None
    if wanted and wanted not in printers:
        return Check(
            "WARN",
            "printers",
            f"the configured printer {wanted!r} is not installed (have: {', '.join(printers)})",
        )
    return Check("OK", "printers", ", ".join(printers))


def check_viewer(environ: Mapping[str, str] | None = None) -> Check:
    """OK if the Flet desktop client can run, else OK if a browser for the local fallback is
    installed, else FAIL. Looks at DISPLAY, FLET_VIEW_PATH, the Flet client cache and PATH."""
    env = os.environ if environ is None else environ
    reason: str | None
    try:
        from app.ui.launch import desktop_unavailable_reason
    except ImportError as exc:  # the viewer's UI is not installed in this build
        reason = f"the viewer UI cannot be loaded ({exc})"
    else:
        reason = desktop_unavailable_reason(env)
    if reason is None:
        return Check("OK", "viewer", "the Flet desktop client is available")
    path = env.get("PATH")
    for name in FALLBACK_BROWSERS:
        found = shutil.which(name, path=path)
        if found:
            return Check("OK", "viewer", f"browser fallback {found} (desktop client: {reason})")
    custom = env.get("WARDCOPY_BROWSER")
    if custom and (shutil.which(custom, path=path) or Path(custom).exists()):
        return Check("OK", "viewer", f"browser fallback {custom} (desktop client: {reason})")
    return Check(
        "FAIL",
        "viewer",
        f"cannot show the viewer: {reason}, and no browser (Chromium, Chrome, Edge or Firefox) is "
        "installed; install one, or set WARDCOPY_BROWSER",
    )


def _check_settings(home: Path) -> tuple[Check, Settings | None]:
    try:
        settings = load_settings(home)
    except SettingsError as exc:
        return Check("FAIL", "settings", f"{exc} (the viewer uses defaults until fixed)"), None
    where = home / "settings.json"
    text = f"{where} is valid" if where.exists() else "defaults (no settings.json)"
    return Check("OK", "settings", text), settings


def check_laptop(
    home: Path,
    *,
    now: datetime | None = None,
    min_free: int = DEFAULT_MIN_FREE,
    environ: Mapping[str, str] | None = None,
) -> list[Check]:
    """Every check of this laptop, in order (see the module docstring). Never raises for a
    problem it can describe. Runs `lpstat` (printers) and reads every installed snapshot."""
    now = now or datetime.now(UTC)
    settings_check, settings = _check_settings(home)
    thresholds = settings.freshness if settings else FreshnessThresholds()
    checks = [check_private_mode(home, "laptop folder", 0o700, "snapshots, keys and audit log")]
    checks += _check_device(home)
    checks.append(_check_pin(home))
    wards = receive.installed_wards(home)
    if not wards:
        checks.append(
            Check(
                "FAIL",
                "snapshots",
                "nothing is installed: enrol this laptop (`wardcopy device show` gives the "
                "code) and run `wardcopy receive --from OUTBOX`",
            )
        )
    for ward in wards:
        checks.append(_check_ward(home, ward, now, thresholds))
    if wards:
        checks += _check_integrity(home)
    checks += _check_roster(home, wards)
    checks += _check_audit(home)
    checks.append(check_free_space(home, "disk", min_free))
    checks.append(_check_printers(settings))
    checks.append(check_viewer(environ))
    checks.append(settings_check)
    return checks


# --- command line ---------------------------------------------------------------------------------


def cmd_doctor(args: argparse.Namespace) -> int:
    """Handler of `wardcopy doctor`."""
    checks = check_laptop(laptop_home(args.home), min_free=min_free_bytes(args))
    print_checks(checks)
    return exit_code(checks)

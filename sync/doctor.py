"""`wardcopy-sync doctor`: check the sync server's keys, configuration, outbox, packages, roster
and enrolments, and print one OK / WARN / FAIL line per check (like `brew doctor`).

Every check runs even when an earlier one fails, so one run shows everything to fix. Exit code 0
when nothing FAILed (warnings allowed), 1 otherwise. Reads only, except one probe file created
and deleted in the outbox to prove it is writable. Prints no keys, passwords or patient data.

The check format (`Check`, `format_check`, `exit_code`, ...) lives in sync/checks.py, shared with
the laptop's `wardcopy doctor` (app/doctor.py); it is re-exported here.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from sync import keys, package, paths, publish, workdirs
from sync.checks import (
    DEFAULT_MIN_FREE,
    Check,
    Status,
    add_min_free_argument,
    check_free_space,
    check_private_mode,
    exit_code,
    format_check,
    human_age,
    min_free_bytes,
    mode_of,
    print_checks,
)
from sync.errors import CliError
from sync.export import file_digest, outbox_wards, parse_latest, resolve_outbox, server_public_keys
from sync.package import PackageError

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_MAX_AGE",
    "DEFAULT_MIN_FREE",
    "Check",
    "Status",
    "add_min_free_argument",
    "check_free_space",
    "check_private_mode",
    "check_server",
    "exit_code",
    "format_check",
    "human_age",
    "min_free_bytes",
    "mode_of",
    "print_checks",
    "register",
]

DEFAULT_MAX_AGE = timedelta(hours=2)


# --- server checks --------------------------------------------------------------------------------


def _check_signing_key(sync_home: Path) -> list[Check]:
    path = sync_home / "keys" / "signing.key"
    if not path.exists():
        return [Check("FAIL", "signing key", f"{path} missing: run `wardcopy-sync keys init` once")]
    checks = [check_private_mode(path, "signing key mode", 0o600, "signing key")]
    try:
        key = keys.load_signing_key(path)
    except keys.KeysError as exc:
        return [*checks, Check("FAIL", "signing key", f"{exc}; restore it from the backup")]
    public = key.public_key()
    checks.append(Check("OK", "signing key", f"Ed25519, fingerprint {keys.fingerprint(public)}"))
    pub_path = path.with_suffix(".pub")
    try:
        pub_text = pub_path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        pub_text = ""
    if pub_text != keys.signing_public_key_text(public):
        checks.append(
            Check(
                "WARN",
                "signing.pub",
                f"{pub_path} is missing or does not match signing.key; laptops must pin "
                "the key that `wardcopy-sync keys show` prints",
            )
        )
    return checks


def _check_config(config_path: Path | None) -> list[Check]:
    if config_path is None:
        return [Check("OK", "config", "none given (built-in defaults; --config FILE to check)")]
    from sync.config import check_config_file

    problems = check_config_file(config_path)
    if not problems:
        return [Check("OK", "config", f"{config_path} is valid")]
    return [Check("FAIL", "config", f"{config_path}: {p}") for p in problems]


def _check_state_files(sync_home: Path) -> list[Check]:
    checks = []
    state = sync_home / "state.json"
    try:
        orjson.loads(state.read_bytes())
    except FileNotFoundError:
        pass  # before the first build
    except (OSError, orjson.JSONDecodeError) as exc:
        message = f"{state} is unreadable ({exc}); restore it from a backup"
        checks.append(Check("FAIL", "sequence state", message))
    roster_source = sync_home / "roster.json"
    if roster_source.exists():  # it holds the staff's password verifiers
        checks.append(check_private_mode(roster_source, "roster source", 0o600, "roster source"))
    return checks


def _check_outbox_dir(outbox: Path, min_free: int) -> list[Check]:
    if not outbox.is_dir():
        return [Check("FAIL", "outbox", f"{outbox} does not exist: check the path or run a build")]
    probe = outbox / f".doctor-{secrets.token_hex(4)}.tmp"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, b"probe")
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        return [
            Check("FAIL", "outbox", f"{outbox} is not writable ({exc.strerror}): builds will fail")
        ]
    finally:
        probe.unlink(missing_ok=True)
    return [
        Check("OK", "outbox", f"{outbox} exists and is writable"),
        check_free_space(outbox, "outbox disk", min_free),
    ]


def _leftovers(folder: Path) -> list[str]:
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return sorted(n for n in names if n.startswith(".") and n.endswith((".partial", ".tmp")))


def _verify_header(
    path: Path, trusted: list[Ed25519PublicKey]
) -> tuple[package.PackageHeader | None, str | None, bool]:
    """(header, error, signed by a retired key)."""
    first_error: str | None = None
    for i, key in enumerate(trusted):
        try:
            return package.read_header_file(path, key), None, i > 0
        except PackageError as exc:
            first_error = first_error or str(exc)
            if exc.reason != "signature":
                break
    return None, first_error, False


def _check_ward(
    outbox: Path,
    ward: str,
    trusted: list[Ed25519PublicKey],
    enrolled: set[str],
    now: datetime,
    max_age: timedelta,
) -> list[Check]:
    name = f"ward {ward}"
    ward_dir = outbox / ward
    checks: list[Check] = []
    leftovers = _leftovers(ward_dir)
    if leftovers:
        checks.append(
            Check(
                "WARN",
                f"{name} leftovers",
                f"{len(leftovers)} partial file(s) in {ward_dir} ({', '.join(leftovers[:3])}): "
                "left by an interrupted build; delete them when no build is running",
            )
        )
    if not enrolled:
        checks.append(
            Check(
                "WARN",
                f"{name} laptops",
                "no laptop is enrolled: nobody can open this ward's packages; run "
                f"`wardcopy-sync enrol --ward {ward} CODE`",
            )
        )
    try:
        latest = parse_latest((ward_dir / "LATEST").read_bytes())
    except FileNotFoundError:
        return [*checks, Check("FAIL", name, f"{ward_dir / 'LATEST'} is missing: run a build")]
    except (OSError, ValueError) as exc:
        return [*checks, Check("FAIL", name, f"{ward_dir / 'LATEST'}: {exc}")]
    pkg = ward_dir / latest["file"]
    try:
        size, sha = file_digest(pkg)
    except FileNotFoundError:
        return [
            *checks,
            Check("FAIL", name, f"LATEST points at {pkg.name}, which is missing: run a build"),
        ]
    if (size, sha) != (latest["size"], latest["sha256"]):
        return [
            *checks,
            Check(
                "FAIL",
                name,
                f"{pkg.name} does not match LATEST (size {size} vs {latest['size']}, or "
                "SHA-256): the file was damaged or replaced; run a build",
            ),
        ]
    newer = [
        n
        for n in os.listdir(ward_dir)
        if publish.PACKAGE_RE.fullmatch(n) and int(n[:10]) > latest["sequence"]
    ]
    if newer:
        checks.append(
            Check(
                "WARN",
                f"{name} pointer",
                f"{sorted(newer)[-1]} is newer than LATEST ({pkg.name}): a build stopped before "
                "moving the pointer; the next build fixes it",
            )
        )
    if not trusted:
        checks.append(Check("OK", name, f"package {latest['sequence']} matches LATEST"))
        return checks
    header, error, retired = _verify_header(pkg, trusted)
    if header is None:
        return [*checks, Check("FAIL", name, f"{pkg.name}: {error}")]
    m = header.manifest
    if m.ward != ward or m.sequence != latest["sequence"]:
        return [*checks, Check("FAIL", name, f"{pkg.name} holds package {m.ward}/{m.sequence}")]
    detail = f"package {m.sequence} verified, {m.counts.get('patients', '?')} patients"
    checks.append(Check("OK", name, detail))
    if retired:
        checks.append(
            Check("WARN", f"{name} key", "signed by a retired key; the next build re-signs it")
        )
    checks.append(_age_check(name, _fresh_as_of(ward_dir, ward, m, trusted), now, max_age))
    if enrolled:
        missing = enrolled - {r.device_id for r in m.recipients}
        if missing:
            checks.append(
                Check(
                    "WARN",
                    f"{name} laptops",
                    f"{len(missing)} enrolled laptop(s) cannot open package {m.sequence} yet "
                    "(enrolled after it was built); they can after the next build",
                )
            )
        else:
            checks.append(Check("OK", f"{name} laptops", f"{len(enrolled)} enrolled"))
    return checks


def _fresh_as_of(
    ward_dir: Path, ward: str, manifest: package.Manifest, trusted: list[Ed25519PublicKey]
) -> datetime:
    """The ward's data age as laptops see it: the package's data_as_of, or later when the
    outbox's freshness statement (package-format.md §7a) vouches for this very package."""
    try:
        data = (ward_dir / package.FRESHNESS_FILE).read_bytes()
        statement = package.parse_freshness(data, trusted[0], ward)
    except (OSError, package.PackageError, IndexError):
        statement = None
    return package.effective_as_of(manifest.data_as_of, manifest.sequence, statement)


def _age_check(name: str, data_as_of: datetime, now: datetime, max_age: timedelta) -> Check:
    age = now - data_as_of
    as_of = package.format_timestamp(data_as_of)
    if age < -timedelta(minutes=5):
        return Check(
            "WARN",
            f"{name} age",
            f"data as of {as_of} is in the future: check this server's clock",
        )
    if age > max_age:
        return Check(
            "WARN",
            f"{name} age",
            f"newest data is {human_age(age)} old (as of {as_of}; limit {human_age(max_age)}): "
            "is the scheduled build running? see its log",
        )
    return Check("OK", f"{name} age", f"data as of {as_of} ({human_age(max(age, timedelta()))})")


def _check_roster(sync_home: Path, outbox: Path | None, trusted: list[Ed25519PublicKey]) -> Check:
    from sync import roster as rosterlib

    try:
        source = rosterlib.load_roster_source(sync_home)
    except rosterlib.RosterError as exc:
        return Check("FAIL", "roster", str(exc))
    active = [u for u in source.users if not u.disabled]
    if source.sequence < 1 or not active:
        return Check(
            "FAIL",
            "roster",
            "no active users: nobody can log in on the laptops; run `wardcopy-sync users add` "
            "or `users import`",
        )
    if outbox is None or not trusted:
        return Check("OK", "roster", f"version {source.sequence}, {len(active)} active users")
    path = outbox / "roster.wcdoc"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return Check("FAIL", "roster", f"{path} is missing: laptops get no logins; run a build")
    published: rosterlib.Roster | None = None
    error = ""
    for key in trusted:
        try:
            published = rosterlib.open_roster(data, key)
            break
        except rosterlib.RosterError as exc:
            error = error or str(exc)
    if published is None:
        return Check("FAIL", "roster", f"{path}: {error}; run a build to re-issue it")
    if published.sequence < source.sequence:
        return Check(
            "WARN",
            "roster",
            f"published version {published.sequence} is older than the edited version "
            f"{source.sequence}: laptops get the changes with the next build",
        )
    issued = package.format_timestamp(published.issued_at.replace(microsecond=0))
    return Check(
        "OK", "roster", f"version {published.sequence} issued {issued}, {len(active)} active users"
    )


def check_server(
    sync_home: Path,
    *,
    outbox: Path | None,
    config_path: Path | None = None,
    now: datetime | None = None,
    max_age: timedelta = DEFAULT_MAX_AGE,
    min_free: int = DEFAULT_MIN_FREE,
) -> list[Check]:
    """Every check of a sync server, in order: home, signing key, config, state files, outbox
    (exists, writable, free space, index, leftovers), each ward (LATEST, package size/hash and
    signature, data age against `max_age`, enrolled laptops), enrolled wards without packages,
    work folders left by killed builds,
    the roster. Never raises for something it can describe. Side effect: creates and deletes a
    probe file in the outbox."""
    log.info("checking the sync server")
    checks = _server_checks(
        sync_home, outbox, config_path, now or datetime.now(UTC), max_age, min_free
    )
    for check in checks:
        # The check's name (a file, a ward id) and verdict; messages can name paths.
        log.debug("%s %s", check.status, check.name)
    counts = {status: sum(c.status == status for c in checks) for status in ("OK", "WARN", "FAIL")}
    log.info(
        "server checks done: %d OK, %d WARN, %d FAIL",
        counts["OK"],
        counts["WARN"],
        counts["FAIL"],
    )
    return checks


def _server_checks(
    sync_home: Path,
    outbox: Path | None,
    config_path: Path | None,
    now: datetime,
    max_age: timedelta,
    min_free: int,
) -> list[Check]:
    checks = [check_private_mode(sync_home, "server home", 0o700, "server's keys and roster")]
    checks += _check_signing_key(sync_home)
    checks += _check_config(config_path)
    checks += _check_state_files(sync_home)
    checks.append(_check_workdirs(sync_home))
    trusted = server_public_keys(sync_home)
    try:
        enrolments = publish.list_enrolments(sync_home)
    except publish.PublishError as exc:
        enrolments = []
        checks.append(Check("FAIL", "enrolments", f"{exc}"))
    by_ward: dict[str, set[str]] = {}
    for e in enrolments:
        by_ward.setdefault(e.ward, set()).add(e.device_id)
    if outbox is None:
        checks.append(
            Check("WARN", "outbox", "not checked: give --out OUTBOX (or an outbox in --config)")
        )
    else:
        outbox_checks = _check_outbox_dir(outbox, min_free)
        checks += outbox_checks
        if outbox_checks[0].status == "OK":
            checks += _check_outbox_contents(outbox, trusted, by_ward, now, max_age)
    checks.append(_check_roster(sync_home, outbox, trusted))
    return checks


def _check_workdirs(sync_home: Path) -> Check:
    """Work folders left by killed builds (sync.workdirs): WARN with their size."""
    stale = workdirs.stale_workdirs(sync_home)
    if not stale:
        return Check("OK", "work folders", "none left by killed builds")
    size = sum(s.size for s in stale)
    names = ", ".join(f"{s.path.name} ({s.why})" for s in stale[:5])
    more = f" and {len(stale) - 5} more" if len(stale) > 5 else ""
    return Check(
        "WARN",
        "work folders",
        f"{len(stale)} left by killed builds in {sync_home}, {size / 1e6:,.1f} MB: {names}{more}; "
        "the next build removes them (or delete them: no build uses them)",
    )


def _check_outbox_contents(
    outbox: Path,
    trusted: list[Ed25519PublicKey],
    by_ward: dict[str, set[str]],
    now: datetime,
    max_age: timedelta,
) -> list[Check]:
    checks: list[Check] = []
    leftovers = _leftovers(outbox)
    if leftovers:
        checks.append(
            Check(
                "WARN",
                "outbox leftovers",
                f"{len(leftovers)} temporary file(s) in {outbox}: delete them when no build runs",
            )
        )
    wards = outbox_wards(outbox)
    if not wards:
        return [*checks, Check("FAIL", "wards", f"{outbox} holds no ward package: run a build")]
    try:
        indexed = orjson.loads((outbox / "index.json").read_bytes()).get("wards", [])
    except (OSError, orjson.JSONDecodeError, AttributeError):
        indexed = []
    unlisted = [w for w in wards if w not in indexed]
    if unlisted:
        checks.append(
            Check(
                "WARN",
                "index.json",
                f"does not list {', '.join(unlisted)}: laptops must name them with --ward; "
                "the next build rewrites it",
            )
        )
    for ward in wards:
        checks += _check_ward(outbox, ward, trusted, by_ward.get(ward, set()), now, max_age)
    for ward in sorted(set(by_ward) - set(wards)):
        checks.append(
            Check(
                "WARN",
                f"ward {ward}",
                f"{len(by_ward[ward])} laptop(s) enrolled, but the outbox has no package for it "
                "(typo in the ward id, or not built yet?)",
            )
        )
    return checks


# --- command line ---------------------------------------------------------------------------------


def register(subparsers: Any) -> None:
    """Add `doctor` to `wardcopy-sync`'s sub-commands (argparse)."""
    p = subparsers.add_parser(
        "doctor",
        help="check keys, config, outbox, packages, roster and enrolments",
        description="Check this sync server and print OK / WARN / FAIL per check. "
        "Exit 0 when nothing failed, 1 otherwise.",
    )
    p.add_argument("--config", type=Path, help="TOML configuration to check (and its outbox)")
    p.add_argument("--out", type=Path, help="the outbox laptops read (default: from --config)")
    p.add_argument(
        "--max-age-hours",
        type=float,
        default=DEFAULT_MAX_AGE.total_seconds() / 3600,
        help="warn when a ward's newest data is older (default 2)",
    )
    add_min_free_argument(p)
    p.set_defaults(func=cmd_doctor)


def cmd_doctor(args: argparse.Namespace) -> int:
    """Handler of `wardcopy-sync doctor`. Exit 0 without FAIL lines, 1 with."""
    outbox: Path | None
    try:
        outbox = resolve_outbox(args.out, args.config)
    except (CliError, OSError):  # an invalid or unreadable config has its own FAIL line
        outbox = args.out
    checks = check_server(
        paths.sync_home(args.home),
        outbox=outbox,
        config_path=args.config,
        max_age=timedelta(hours=args.max_age_hours),
        min_free=min_free_bytes(args),
    )
    print_checks(checks)
    return exit_code(checks)

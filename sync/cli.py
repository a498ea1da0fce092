"""`wardcopy-sync`: the sync server's command line.

Each handler parses nothing itself: argparse gives it a namespace, it calls the library and prints
a short result. Failures become one line on stderr and an exit code from `sync.errors`
(documented in docs/cli.md). Nothing here prints keys, passwords or patient data.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync import progress
from sync.errors import (
    EXIT_BUSY,
    EXIT_IO,
    EXIT_NOT_READY,
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    CliError,
)
from sync.errors import run_handler as run
from sync.logs import add_verbose_argument, configure_logging
from sync.paths import sync_home

if TYPE_CHECKING:
    from sync.config import Config
    from sync.cycle import CycleResult

__all__ = ["build_parser", "main", "parse_now", "print_cycle", "run", "sync_home"]


def _load_signing_key(home: Path) -> Ed25519PrivateKey:
    from sync import keys

    path = home / "keys" / "signing.key"
    if not path.exists():
        raise CliError(
            f"no signing key in {path.parent}: run `wardcopy-sync keys init` first", EXIT_NOT_READY
        )
    return keys.load_signing_key(path)


def parse_now(text: str | None) -> datetime | None:
    """The `--now` option: an ISO 8601 time with offset. Raises CliError otherwise."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CliError(f"--now {text!r} is not an ISO 8601 time", EXIT_USAGE) from None
    if moment.tzinfo is None:
        raise CliError(f"--now {text!r} needs an offset, e.g. {text}+01:00", EXIT_USAGE)
    return moment


# --- keys -----------------------------------------------------------------------------------------


def cmd_keys_init(args: argparse.Namespace) -> int:
    from sync import keys

    home = sync_home(args.home)
    try:
        key, path = keys.init_signing_key(home)
    except keys.KeysError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    public = key.public_key()
    print(f"signing key created: {path} (mode 0600; back it up offline)")
    print(f"public key:  {keys.signing_public_key_text(public)}")
    print(f"fingerprint: {keys.fingerprint(public)}")
    print("laptops pin this key: `wardcopy device init --server-key <public key or signing.pub>`")
    return EXIT_OK


def cmd_keys_show(args: argparse.Namespace) -> int:
    from sync import keys

    public = _load_signing_key(sync_home(args.home)).public_key()
    print(f"public key:  {keys.signing_public_key_text(public)}")
    print(f"fingerprint: {keys.fingerprint(public)}")
    return EXIT_OK


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    from sync import keys, publish

    home = sync_home(args.home)
    _load_signing_key(home)  # a clear "run keys init" if there is nothing to rotate
    old, new = keys.rotate_signing_key(home)
    publish.publish_key_rotation(args.out, old, new)
    print(f"new signing key: {keys.fingerprint(new.public_key())} (old one in keys/retired)")
    print(f"laptops follow on their next receive from {args.out} (docs/security.md)")
    return EXIT_OK


# --- enrolment ------------------------------------------------------------------------------------


def cmd_enrol(args: argparse.Namespace) -> int:
    from sync import keys, publish

    home = sync_home(args.home)
    if args.list:
        rows = publish.list_enrolments(home, args.ward[0] if args.ward else None)
        if not rows:
            print("no laptops enrolled")
        for e in rows:
            label = f"  {e.label}" if e.label else ""
            print(f"{e.ward:<20} {e.device_id}  enrolled {e.enrolled_at}{label}")
        return EXIT_OK
    if args.revoke:
        ward = args.ward[0] if args.ward else None
        try:
            count = publish.revoke(home, args.revoke, ward)
        except publish.PublishError as exc:
            raise CliError(str(exc), EXIT_USAGE) from None
        print(f"revoked {count} enrolment(s) of device {args.revoke}; next packages exclude it")
        return EXIT_OK
    if not args.code or not args.ward:
        raise CliError("usage: wardcopy-sync enrol --ward WARD DEVICE_CODE", EXIT_USAGE)
    for ward in args.ward:
        try:
            entry = publish.enrol(home, ward, args.code, args.label)
        except (keys.EnrolmentCodeError, publish.PublishError) as exc:
            raise CliError(str(exc), EXIT_USAGE) from None
        print(f"device {entry.device_id} enrolled for ward {ward}")
    return EXIT_OK


# --- users (the offline login roster) ------------------------------------------------------------


def _read_new_password(args: argparse.Namespace, user_id: str) -> str:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"password for {user_id}: ")
        if getpass.getpass("repeat: ") != password:
            raise CliError("the two passwords differ; nothing changed", EXIT_USAGE)
    return password


def _roster_edit(args: argparse.Namespace, edit: Callable[[object], object]) -> int:
    from sync import roster as rosterlib

    home = sync_home(args.home)
    try:
        current = rosterlib.load_roster_source(home, hospital=getattr(args, "hospital", "") or "")
        updated = edit(current)
        assert isinstance(updated, rosterlib.Roster)
        rosterlib.save_roster_source(home, updated)
    except rosterlib.RosterError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    print(
        f"roster updated (version {updated.sequence}, {len(updated.users)} users); "
        "laptops get it with the next build"
    )
    return EXIT_OK


def cmd_users_add(args: argparse.Namespace) -> int:
    from sync import roster as rosterlib

    password = _read_new_password(args, args.user_id)
    wards = args.ward or ["*"]
    return _roster_edit(
        args,
        lambda r: rosterlib.add_user(
            r,  # type: ignore[arg-type]
            args.user_id,
            args.name or args.user_id,
            args.role,
            wards,
            password,
        ),
    )


def cmd_users_passwd(args: argparse.Namespace) -> int:
    from sync import roster as rosterlib

    password = _read_new_password(args, args.user_id)
    return _roster_edit(
        args,
        lambda r: rosterlib.set_password(r, args.user_id, password),  # type: ignore[arg-type]
    )


def cmd_users_remove(args: argparse.Namespace) -> int:
    from sync import roster as rosterlib

    return _roster_edit(
        args,
        lambda r: rosterlib.remove_user(r, args.user_id),  # type: ignore[arg-type]
    )


def cmd_users_import(args: argparse.Namespace) -> int:
    from sync import roster as rosterlib

    home = sync_home(args.home)
    try:
        current = rosterlib.load_roster_source(home)
        result = rosterlib.import_csv(current, args.csv)
    except rosterlib.RosterError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    for line in result.errors:
        print(f"skipped: {line}", file=sys.stderr)
    rosterlib.save_roster_source(home, result.roster)
    print(
        f"imported: {len(result.added)} added, {len(result.updated)} updated, "
        f"{len(result.errors)} rows skipped"
    )
    return EXIT_PROBLEMS if result.errors else EXIT_OK


def cmd_users_list(args: argparse.Namespace) -> int:
    from sync import roster as rosterlib

    current = rosterlib.load_roster_source(sync_home(args.home))
    rows = rosterlib.list_users(current)
    if not rows:
        print("no users yet: `wardcopy-sync users add USER_ID --role nurse --ward WARD`")
    for row in rows:
        print("  ".join(f"{v}" for v in row.values()))
    return EXIT_OK


def cmd_users_break_glass(args: argparse.Namespace) -> int:
    from sync import roster as rosterlib

    allowed = args.policy == "allow"
    return _roster_edit(
        args,
        lambda r: rosterlib.set_break_glass(r, allowed),  # type: ignore[arg-type]
    )


# --- generate, build ------------------------------------------------------------------------------


def cmd_generate(args: argparse.Namespace) -> int:
    from sync.generate import generate

    now = parse_now(args.now)
    summary = generate(
        args.out, args.patients, args.seed, now=now, icu_monitoring=args.icu_monitoring
    )
    print(
        f"wrote {summary.total_resources} FHIR resources for {args.patients} patients "
        f"on {len(summary.wards)} wards to {args.out}"
    )
    return EXIT_OK


def cmd_build(args: argparse.Namespace) -> int:
    from sync.build import BuildError
    from sync.config import Config, ConfigError, load_config
    from sync.cycle import run_cycle

    home = sync_home(args.home)
    signing_key = _load_signing_key(home)
    try:
        config = load_config(args.config) if args.config else Config()
    except ConfigError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    source = args.source or config.source
    outbox = args.out or config.outbox
    if not source or not outbox:
        raise CliError("give --source and --out (or source/outbox in --config)", EXIT_USAGE)
    now = parse_now(args.now) or datetime.now(UTC)
    if str(source).lower().startswith(("http://", "https://")):
        return _build_live(args, home, config.model_copy(update={"source": source}), outbox, now)
    if args.full or args.force:
        raise CliError(
            "--full and --force only apply to a FHIR server source (http/https)", EXIT_USAGE
        )
    from sync.lock import LockBusy, hold
    from sync.watch import LOCK_FILE

    try:
        # One cycle per sync home (folder builds, live builds and watch alike): an OS lock that
        # dies with the process, so a killed build never blocks the next one.
        with (
            hold(home / LOCK_FILE, what="wardcopy-sync build"),
            progress.reporting(progress.for_stream(sys.stderr)),
        ):
            result = run_cycle(
                sync_home=home,
                source=Path(source),
                outbox=Path(outbox),
                config=config,
                signing_key=signing_key,
                wards=args.ward or None,
                now=now,
                workers=args.workers,
                keep=args.keep,
            )
    except LockBusy as exc:
        raise CliError(_busy_message(home / LOCK_FILE, exc.holder), EXIT_BUSY) from None
    except BuildError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    print_cycle(result)
    return EXIT_OK


def _busy_message(lock: Path, holder: str) -> str:
    return (
        f"another build or watch is running on this sync home ({holder or 'pid unknown'}; lock "
        f"{lock}); nothing was done. Wait for it to finish, or schedule builds further apart"
    )


def _build_live(
    args: argparse.Namespace, home: Path, config: Config, outbox: Path | str, now: datetime
) -> int:
    """`build` from a FHIR server: fetch the changes into the resource store, build, publish.
    A server that cannot be read completely publishes nothing (exit 3, the reason on stderr)."""
    from sync.build import BuildError
    from sync.cycle import run_live_cycle
    from sync.lock import LockBusy, hold
    from sync.sources.http import FhirSourceError
    from sync.store import StoreError
    from sync.watch import LOCK_FILE

    signing_key = _load_signing_key(home)
    try:
        with (
            hold(home / LOCK_FILE, what="wardcopy-sync build"),
            progress.reporting(progress.for_stream(sys.stderr)),
        ):
            result = run_live_cycle(
                sync_home=home,
                outbox=Path(outbox),
                config=config,
                signing_key=signing_key,
                full=args.full,
                force=args.force,
                wards=args.ward or None,
                now=now,
                workers=args.workers,
                keep=args.keep,
            )
    except LockBusy as exc:
        raise CliError(_busy_message(home / LOCK_FILE, exc.holder), EXIT_BUSY) from None
    except FhirSourceError as exc:
        raise CliError(f"{exc}; nothing was published", EXIT_IO) from None
    except StoreError as exc:
        raise CliError(str(exc), EXIT_IO) from None
    except BuildError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    fetched = result.fetch
    if fetched is not None:
        kind = "full read" if fetched.full else "changes"
        print(
            f"{fetched.mode} {kind}: {fetched.upserts:,} resources updated, "
            f"{fetched.deletes:,} deleted in {fetched.elapsed_seconds:.1f} s; "
            f"source read as of {fetched.read_at.isoformat(timespec='seconds')}"
        )
        if fetched.error_count:
            print(f"the server reported {fetched.error_count:,} export error(s):")
            for line in fetched.errors:
                print(f"  {line}")
    print_cycle(result)
    return EXIT_PROBLEMS if result.refused else EXIT_OK


def print_cycle(result: CycleResult) -> None:
    """Print what a cycle built and published (counts only, no patient data)."""
    report = result.report
    if result.stale_removed:
        size = sum(s.size for s in result.stale_removed)
        print(
            f"removed {len(result.stale_removed)} work folder(s) of killed builds "
            f"({size / 1e6:,.1f} MB)"
        )
    print(
        f"read {report.total_resources:,} resources ({report.resources_per_second:,.0f}/s), "
        f"{report.patients_mapped:,} patients mapped, {report.patients_placed:,} placed on wards"
    )
    for ward in result.wards:
        warn = "  (no laptop enrolled: nobody can open it)" if not ward.recipients else ""
        print(
            f"  {ward.ward_id:<24} {ward.patients:>6} patients  package {ward.sequence:<5} "
            f"{ward.size / 1e6:7.1f} MB  {ward.recipients} laptop(s){warn}"
        )
    if result.unchanged:
        print(f"  unchanged, not published again: {', '.join(result.unchanged)}")
    for line in result.refused:
        print(f"REFUSED {line}", file=sys.stderr)
    if result.roster_published:
        print("  staff roster published")
    if report.problems:
        print(f"{report.problem_count:,} resources or references could not be used:")
        for reason, count in list(report.problems.items())[:20]:
            print(f"  {count:>7,}  {reason}")
            places = report.problem_places.get(reason, [])[:5]
            for place in places:
                print(f"             at {place}")
            if places and count > len(places):
                print(f"             ... and {count - len(places):,} more")
    if report.duplicate_patients:
        print(f"{len(report.duplicate_patients):,} Patient id(s) read more than once:")
        for key, places in list(report.duplicate_patients.items())[:20]:
            print(f"  {key}: {', '.join(places[:5])}")


def cmd_watch(args: argparse.Namespace) -> int:
    """Live cycles until SIGTERM / Ctrl-C (sync.watch). Exit 0 after a requested stop."""
    import threading

    from sync.config import ConfigError, load_config
    from sync.lock import LockBusy, hold
    from sync.watch import LOCK_FILE, Watcher, install_stop_handlers

    home = sync_home(args.home)
    signing_key = _load_signing_key(home)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    if not config.source_is_url or config.outbox is None:
        raise CliError(
            "watch needs an http(s) FHIR server as source and an outbox in the config",
            EXIT_USAGE,
        )

    def out(line: str) -> None:
        print(line, flush=True)

    stop = threading.Event()
    install_stop_handlers(stop, out)
    try:
        with hold(home / LOCK_FILE, what="wardcopy-sync watch"):
            watcher = Watcher(
                home,
                config,
                config.outbox,
                signing_key,
                force_first=args.force,
                out=out,
                first_cycle_progress=progress.for_stream(sys.stderr),
            )
            out(
                f"watching {config.source} every {config.watch.interval_minutes:g} min "
                f"(status: {watcher.status_path})"
            )
            watcher.run(stop, cycles=args.cycles)
    except LockBusy as exc:
        raise CliError(_busy_message(home / LOCK_FILE, exc.holder), EXIT_BUSY) from None
    out("stopped")
    return EXIT_OK


def cmd_config_check(args: argparse.Namespace) -> int:
    from sync.config import check_config_file

    problems = check_config_file(args.file)
    for line in problems:
        print(line)
    if not problems:
        print(f"{args.file}: OK")
    return EXIT_PROBLEMS if problems else EXIT_OK


# --- parser ---------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wardcopy-sync",
        description="Build, sign and publish encrypted ward snapshots from FHIR R4 data.",
    )
    parser.add_argument("--home", type=Path, help="server data folder (default: platform dir)")
    add_verbose_argument(parser)
    sub = parser.add_subparsers(dest="command", required=True)

    keys_p = sub.add_parser("keys", help="the Ed25519 signing key")
    keys_sub = keys_p.add_subparsers(dest="keys_command", required=True)
    keys_sub.add_parser("init", help="create the signing key (once)").set_defaults(
        func=cmd_keys_init
    )
    keys_sub.add_parser("show", help="print the public key").set_defaults(func=cmd_keys_show)
    rotate = keys_sub.add_parser("rotate", help="replace the signing key; laptops follow")
    rotate.add_argument("--out", type=Path, required=True, help="the outbox laptops read")
    rotate.set_defaults(func=cmd_keys_rotate)

    enrol = sub.add_parser("enrol", help="allow a laptop to open a ward's snapshots")
    enrol.add_argument("code", nargs="?", help="the laptop's enrolment code (wardcopy device init)")
    enrol.add_argument("--ward", action="append", help="ward id (repeatable)")
    enrol.add_argument("--label", help="a name for the laptop, e.g. 'Station 3A Laptop 2'")
    enrol.add_argument("--list", action="store_true", help="list enrolled laptops")
    enrol.add_argument("--revoke", metavar="DEVICE_ID", help="revoke a laptop")
    enrol.set_defaults(func=cmd_enrol)

    users = sub.add_parser("users", help="the offline login roster")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    add = users_sub.add_parser("add", help="add a user")
    add.add_argument("user_id")
    add.add_argument("--name", help="display name")
    add.add_argument("--role", required=True, choices=["nurse", "physician", "admin"])
    add.add_argument("--ward", action="append", help="ward id the user may open ('*' = all)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.add_argument("--hospital", help="hospital name (for a new roster)")
    add.set_defaults(func=cmd_users_add)
    passwd = users_sub.add_parser("passwd", help="set a user's password")
    passwd.add_argument("user_id")
    passwd.add_argument("--password-stdin", action="store_true")
    passwd.set_defaults(func=cmd_users_passwd)
    remove = users_sub.add_parser("remove", help="remove a user")
    remove.add_argument("user_id")
    remove.set_defaults(func=cmd_users_remove)
    imp = users_sub.add_parser("import", help="add or update users from a CSV file")
    imp.add_argument("csv", type=Path)
    imp.set_defaults(func=cmd_users_import)
    users_sub.add_parser("list", help="list users").set_defaults(func=cmd_users_list)
    bg = users_sub.add_parser("break-glass", help="allow or deny break-glass access")
    bg.add_argument("policy", choices=["allow", "deny"])
    bg.set_defaults(func=cmd_users_break_glass)

    gen = sub.add_parser("generate", help="write realistic demo data as FHIR R4 NDJSON")
    gen.add_argument("--patients", type=int, default=200)
    gen.add_argument("--seed", type=int, default=1)
    gen.add_argument("--out", type=Path, required=True)
    gen.add_argument("--now", help="anchor time (ISO 8601 with offset); default: now")
    gen.add_argument(
        "--icu-monitoring",
        action="store_true",
        help="a 12-bed ICU with the monitor's vital signs every minute (the heaviest ward)",
    )
    gen.set_defaults(func=cmd_generate)

    build = sub.add_parser("build", help="import FHIR, build, seal and publish ward packages")
    build.add_argument(
        "--source",
        help="folder or file of FHIR R4 (Bundles or NDJSON), or a FHIR server's base URL",
    )
    build.add_argument(
        "--full",
        action="store_true",
        help="FHIR server: read everything again instead of the changes since the last run",
    )
    build.add_argument(
        "--force",
        action="store_true",
        help="FHIR server: publish even a ward whose census fell by more than max_census_drop",
    )
    build.add_argument("--out", type=Path, help="outbox folder laptops fetch from")
    build.add_argument("--ward", action="append", help="only this ward (repeatable)")
    build.add_argument("--config", type=Path, help="TOML configuration (docs/configuration.md)")
    build.add_argument("--keep", type=int, help="packages to keep per ward (default 5)")
    build.add_argument("--workers", type=int, help="mapping processes (default: CPU count)")
    build.add_argument("--now", help="build clock (ISO 8601 with offset); default: now")
    build.set_defaults(func=cmd_build)

    watch = sub.add_parser("watch", help="live cycles from a FHIR server until stopped")
    watch.add_argument("--config", type=Path, required=True, help="TOML configuration")
    watch.add_argument(
        "--force",
        action="store_true",
        help="first cycle only: publish wards whose census fell by more than max_census_drop",
    )
    watch.add_argument("--cycles", type=int, help="stop after this many cycles")
    watch.set_defaults(func=cmd_watch)

    config = sub.add_parser("config", help="configuration files")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    check = config_sub.add_parser("check", help="report every problem in a config file")
    check.add_argument("file", type=Path)
    check.set_defaults(func=cmd_config_check)

    from sync import doctor, export

    doctor.register(sub)
    export.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.verbose)
    return run(args.func, args, "wardcopy-sync")


if __name__ == "__main__":
    sys.exit(main())

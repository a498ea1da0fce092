"""`wardcopy`: the ward laptop's command line (device, receive, verify, view, print, audit, demo).

Handlers call the library and print short results; failures are one line on stderr with an exit
code from `sync.errors` (docs/cli.md). Without a command, `wardcopy` opens the viewer.

Start-up stays light: this module imports only the standard library, app.paths and sync.errors;
each handler imports what its command needs, so `wardcopy --help` loads no Flet, no pydantic
models and nothing of the server side. Only `demo` reaches the build side (through the
top-level `wardcopy_demo` module, imported when that command runs).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from app.paths import laptop_home
from sync.checks import add_min_free_argument
from sync.errors import (
    EXIT_BUSY,
    EXIT_IO,
    EXIT_NOT_READY,
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    CliError,
    run_handler,
)
from sync.logs import add_verbose_argument, configure_logging

if TYPE_CHECKING:  # only for annotations: the commands import these when they run
    from sync.package import PackageError
    from sync.receive import ReceiveResult


def _home(args: argparse.Namespace) -> Path:
    return laptop_home(args.home)


# --- device ---------------------------------------------------------------------------------------


def cmd_device_init(args: argparse.Namespace) -> int:
    from sync import device

    home = _home(args)
    try:
        made = device.init_device(
            home, use_keyring=False if args.no_keyring else None, server_key=args.server_key
        )
    except device.DeviceError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    for warning in made.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    ident = made.identity
    print(f"device id:       {ident.device_id}")
    print(f"enrolment code:  {ident.enrolment_code}")
    print(f"key stored in:   {'the OS keyring' if ident.storage == 'keyring' else 'a 0600 file'}")
    print("on the sync server: wardcopy-sync enrol --ward WARD <enrolment code>")
    if device.pinned_server_key(home) is None:
        print("then pin the server key: wardcopy device trust <signing.pub or its text>")
    return EXIT_OK


def cmd_device_show(args: argparse.Namespace) -> int:
    from sync import device, keys

    home = _home(args)
    try:
        ident = device.load_identity(home)
    except device.DeviceError as exc:
        raise CliError(str(exc), EXIT_NOT_READY) from None
    print(f"device id:       {ident.device_id}")
    print(f"enrolment code:  {ident.enrolment_code}")
    pinned = device.pinned_server_key(home)
    print(f"server key:      {keys.fingerprint(pinned) if pinned else 'not pinned'}")
    return EXIT_OK


def cmd_device_trust(args: argparse.Namespace) -> int:
    from sync import device, keys

    try:
        kid = device.pin_server_key(_home(args), args.key, replace=args.replace)
    except (device.DeviceError, keys.KeysError) as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    print(f"server key pinned (key id {kid})")
    return EXIT_OK


# --- receive, verify ------------------------------------------------------------------------------


def cmd_receive(args: argparse.Namespace) -> int:
    if args.watch is None:
        return _receive_once(args)
    return _receive_watch(args)


# `receive --watch` without MINUTES, and the packaged timers (packaging/): a poll every minute is
# what keeps a change on the laptop within 5 minutes at the median with a 5-minute sync cycle
# (a 5-minute poll makes it about 5.5; docs/performance.md, "Source change to laptop"). A round
# with nothing new reads LATEST, FRESHNESS, the roster and key-rotation only.
WATCH_MINUTES = 1.0
WATCH_JITTER = 15.0


def _receive_watch(args: argparse.Namespace) -> int:
    """`receive --watch MINUTES`: receive every MINUTES after a random delay of up to `--jitter`
    seconds (so 200 laptops do not hit the share at once), until SIGTERM / Ctrl-C (exit 0).
    A failed round is reported on stderr and tried again next time; two receives never overlap
    (each takes the receive lock; a busy round waits `--wait` seconds, then is skipped)."""
    import random
    import signal
    import threading

    stop = threading.Event()

    def handle(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handle)
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, handle)
    rng = random.Random()
    interval = max(args.watch, 0.0) * 60
    while not stop.wait(rng.uniform(0, max(args.jitter, 0.0))):
        began = time.monotonic()
        try:
            _receive_once(args)
        except CliError as exc:
            print(f"wardcopy: {exc}", file=sys.stderr)
        sys.stdout.flush()
        if stop.wait(max(0.0, interval - (time.monotonic() - began))):
            break
    print("stopped", flush=True)
    return EXIT_OK


def _receive_once(args: argparse.Namespace) -> int:
    from sync import device, receive
    from sync.package import PackageError

    home = _home(args)
    # Without --ward, keep every ward this laptop already has up to date (or let receive pick
    # the only ward the source offers).
    wards: list[str | None] = list(args.ward or receive.installed_wards(home) or [None])
    max_size = int(args.max_size_mb * 1e6) if args.max_size_mb else None
    codes: list[int] = []
    for ward in wards:
        try:
            result = receive.receive(
                home,
                args.source,
                ward,
                trust_server_key=args.trust_server_key,
                timeout=args.timeout,
                lock_wait=args.wait,
                max_size=max_size,
            )
        except device.DeviceError as exc:
            raise CliError(str(exc), EXIT_NOT_READY) from exc
        except PackageError as exc:
            code = receive.exit_code_of(exc)
            if code in (EXIT_BUSY, EXIT_NOT_READY):  # the same for every ward: stop here
                raise CliError(str(exc), code) from exc
            print(f"wardcopy: {ward or 'receive'}: {exc}", file=sys.stderr)
            codes.append(code)
            if receive.outcome_of(exc) == "refused":
                codes.append(_audit_receive(home, ward, refused=exc))
            continue
        codes.append(_audit_receive(home, result.ward, result=result))
        for warning in result.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        verb = {
            "installed": "installed",
            "already-installed": "already installed",
            "repaired": f"repaired ({result.repair}; reinstalled from the source)",
        }[result.status]
        print(
            f"{result.ward}: package {result.sequence} {verb}, data as of "
            f"{result.data_as_of.isoformat(timespec='minutes')} (roster {result.roster})"
        )
    # Several wards failing differently: the highest code (4 not ready > 3 I/O > 2 > 1 refused).
    return max(codes, default=EXIT_OK)


def _audit_receive(
    home: Path,
    ward: str | None,
    *,
    result: ReceiveResult | None = None,
    refused: PackageError | None = None,
) -> int:
    """Audit what one receive did to the laptop: `install`, `install_repaired` or
    `install_refused` (an unchanged "already installed" is not audited). Moves the audit mark
    (app.audit). Returns EXIT_OK, or EXIT_IO after printing why the audit log could not be
    written (the install itself stands; the laptop's disk needs attention)."""
    from app.audit import AuditError, AuditEvent, AuditLog

    details: dict[str, object] = {"by": "wardcopy receive"}
    if refused is not None:
        event = AuditEvent.INSTALL_REFUSED
        details.update(reason=refused.reason, message=str(refused)[:300])
    elif result is not None and result.status != "already-installed":
        event = AuditEvent.INSTALL if result.status == "installed" else AuditEvent.INSTALL_REPAIRED
        details.update(
            sequence=result.sequence,
            previous_sequence=result.previous_sequence,
            data_as_of=result.data_as_of.isoformat(),
            roster=result.roster,
        )
        if result.repair:
            details["repair"] = result.repair
    else:
        return EXIT_OK
    try:
        AuditLog(home).append(event, ward=ward, details=details, mark=True)
    except (AuditError, OSError) as exc:
        print(f"wardcopy: {ward or 'receive'}: {event} not audited: {exc}", file=sys.stderr)
        return EXIT_IO
    return EXIT_OK


def _not_ready(home: Path) -> bool:
    """True if the device key or the pinned server key is missing (exit code 4)."""
    from sync import device

    try:
        device.load_device_key(home)
        return device.pinned_server_key(home) is None
    except device.DeviceError:
        return True


def cmd_verify(args: argparse.Namespace) -> int:
    from sync import device, verify

    home = _home(args)
    if args.package:
        trusted = device.pinned_server_key(home)
        if trusted is None:
            raise CliError("no server key pinned: `wardcopy device trust KEY`", EXIT_NOT_READY)
        try:
            device_key = device.load_device_key(home)
        except device.DeviceError:
            device_key = None
        problems = verify.verify_package(args.package, trusted, device_key)
        what = str(args.package)
    else:
        problems = verify.verify_installed(home)
        what = "installed snapshots"
    for problem in problems:
        print(problem)
    code = verify.exit_code(problems)
    if not args.package and code and _not_ready(home):
        print(f"{what}: this laptop is not set up (device key or pinned server key missing)")
        return EXIT_NOT_READY
    print(f"{what}: {'OK' if code == 0 else f'{len(problems)} problem(s)'}")
    return code


# --- viewer, demo ---------------------------------------------------------------------------------


def cmd_view(args: argparse.Namespace) -> int:
    from app.ui.launch import run_viewer

    return run_viewer(_home(args), browser=args.browser, port=args.port, ward=args.ward)


def cmd_doctor(args: argparse.Namespace) -> int:
    from app.doctor import cmd_doctor as run_doctor

    return run_doctor(args)


def cmd_demo(args: argparse.Namespace) -> int:
    # The demo drives the server side too; it lives outside app/ and loads only when asked for.
    from wardcopy_demo import run_demo

    return run_demo(
        folder=args.dir,
        patients=args.patients,
        seed=args.seed,
        view=not args.no_view,
        browser=args.browser,
        port=args.port,
    )


# --- audit ----------------------------------------------------------------------------------------


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from app import audit

    problems = audit.verify(_home(args))
    for problem in problems:
        print(problem)
    failed = audit.has_errors(problems)
    print(f"audit log: {f'{len(problems)} problem(s)' if failed else 'OK'}")
    return EXIT_PROBLEMS if failed else EXIT_OK


def cmd_audit_export(args: argparse.Namespace) -> int:
    from app import audit

    result = audit.export(_home(args), args.to)
    for problem in result.problems:
        print(problem, file=sys.stderr)
    print(f"exported {result.count} audit entries to {result.path}")
    return EXIT_PROBLEMS if audit.has_errors(list(result.problems)) else EXIT_OK


# --- parser ---------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wardcopy",
        description="Wardcopy on a ward laptop: receive, verify, view and print downtime copies.",
    )
    parser.add_argument("--home", type=Path, help="laptop data folder (default: platform dir)")
    add_verbose_argument(parser)
    sub = parser.add_subparsers(dest="command")

    dev = sub.add_parser("device", help="this laptop's key pair")
    dev_sub = dev.add_subparsers(dest="device_command", required=True)
    init = dev_sub.add_parser("init", help="make this laptop's key, print its enrolment code")
    init.add_argument("--server-key", help="pin the sync server's key (signing.pub or its text)")
    init.add_argument("--no-keyring", action="store_true", help="store the key in a 0600 file")
    init.set_defaults(func=cmd_device_init)
    dev_sub.add_parser("show", help="print device id and enrolment code").set_defaults(
        func=cmd_device_show
    )
    trust = dev_sub.add_parser("trust", help="pin the sync server's signing key")
    trust.add_argument("key", help="path to signing.pub, or the key text")
    trust.add_argument("--replace", action="store_true", help="replace a pinned key (rotation)")
    trust.set_defaults(func=cmd_device_trust)

    rec = sub.add_parser("receive", help="fetch, verify and install the newest package")
    rec.add_argument("--from", dest="source", required=True, help="outbox folder or http(s) URL")
    rec.add_argument("--ward", action="append", help="ward id (repeatable)")
    rec.add_argument(
        "--watch",
        type=float,
        nargs="?",
        const=WATCH_MINUTES,
        metavar="MINUTES",
        help=f"keep receiving every MINUTES (default {WATCH_MINUTES:g}) until stopped "
        "(SIGTERM / Ctrl-C); a round with nothing new reads only a few small files",
    )
    rec.add_argument(
        "--jitter",
        type=float,
        default=WATCH_JITTER,
        metavar="SECONDS",
        help=f"with --watch: random delay of up to SECONDS before each round "
        f"(default {WATCH_JITTER:g})",
    )
    rec.add_argument(
        "--trust-server-key",
        action="store_true",
        help="pin the source's signing.pub if no key is pinned yet (first use only)",
    )
    rec.add_argument(
        "--timeout",
        type=float,
        default=900.0,
        metavar="SECONDS",
        help="overall deadline for the download (default 900 = 15 minutes)",
    )
    rec.add_argument(
        "--wait",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="wait this long for another running receive, then exit 5 (default 60)",
    )
    rec.add_argument(
        "--max-size-mb",
        type=float,
        metavar="MB",
        help="accept a package up to this size (default: 4x the installed one or 64 MB more)",
    )
    rec.set_defaults(func=cmd_receive)

    ver = sub.add_parser("verify", help="check a package or the installed snapshots")
    ver.add_argument("package", nargs="?", type=Path, help="a .wcpkg file")
    ver.add_argument("--installed", action="store_true", help="check installed snapshots")
    ver.set_defaults(func=cmd_verify)

    view = sub.add_parser("view", help="open the viewer (default command)")
    view.add_argument("--browser", action="store_true", help="use a local browser window")
    view.add_argument("--port", type=int, help="port on 127.0.0.1 for the browser mode")
    view.add_argument("--ward", help="open this ward first")
    view.set_defaults(func=cmd_view)

    demo = sub.add_parser("demo", help="the whole chain on generated data, in a throwaway folder")
    demo.add_argument("--dir", type=Path, help="use this folder instead of a new temporary one")
    demo.add_argument("--patients", type=int, default=240)
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--no-view", action="store_true", help="stop before opening the viewer")
    demo.add_argument("--browser", action="store_true", help="open the viewer in a browser")
    demo.add_argument("--port", type=int)
    demo.set_defaults(func=cmd_demo)

    audit = sub.add_parser("audit", help="the local access log")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    audit_sub.add_parser("verify", help="detect edited, removed or reordered entries").set_defaults(
        func=cmd_audit_verify
    )
    exp = audit_sub.add_parser("export", help="export for the hospital's review")
    exp.add_argument("--to", type=Path, required=True, help="file (.json or .csv)")
    exp.set_defaults(func=cmd_audit_export)

    doc = sub.add_parser(
        "doctor",
        help="check keys, installed snapshots, roster, audit log, printers and viewer",
        description="Check that this laptop can work in a downtime; prints OK / WARN / FAIL "
        "per check. Exit 0 when nothing failed, 1 otherwise.",
    )
    add_min_free_argument(doc)
    doc.set_defaults(func=cmd_doctor)

    from app.printing.cli import add_print_parser

    add_print_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # pydantic looks for plugins (entry points of every installed distribution) when it builds
    # its first model: about 10 ms of every command that reads a roster, the settings or a
    # record (docs/performance.md). Wardcopy uses none; an explicit setting is kept.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    parser = build_parser()
    words = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(words)
    if args.command is None:
        args = parser.parse_args([*words, "view"])
    configure_logging(args.verbose)
    code = run_handler(args.func, args, "wardcopy")
    if argv is None:
        # Called as the `wardcopy` program, which ends right after: the interpreter's last
        # collector passes over every object still alive (modules, fonts, models) free nothing
        # that matters and cost `wardcopy print` 60-70 ms of CPU (docs/performance.md, fourth
        # pass). Frozen objects are left out of them; atexit handlers and flushing still run.
        # Tests call main(argv) in-process and are left alone.
        gc.freeze()
    return code


if __name__ == "__main__":
    sys.exit(main())

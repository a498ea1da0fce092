"""`wardcopy print summary|mar|census|due`: print or save a downtime document from the installed
snapshot, after logging in like the viewer does.

    wardcopy print summary (--patient ID | --mrn MRN) --user ID [--password-stdin] [--ward W]
                           [--lang de|en] [--tz ZONE] [--out FILE.pdf | --printer NAME]
    wardcopy print mar     (--patient ID | --mrn MRN) --user ID [--hours 24|72] ...
    wardcopy print census  --user ID [--ward W] ...
    wardcopy print due     --user ID [--ward W] [--hours 2|4|8|12] ...   (medications due)
    wardcopy print ... --break-glass --user "FULL NAME" --reason "WHY"

Login: `--user` is a user id of the signed staff roster; the password is asked for (no echo)
or read from the first line of stdin with `--password-stdin`. The check is the viewer's
(`app.auth.Authenticator` over the same roster, login counters file and audit log), so a
lockout reached in the viewer holds here and the other way round. `--break-glass` works only
where the viewer offers break-glass (roster policy and laptop settings); its printouts say so
on every page. A refused login exits with code 6 (EXIT_DENIED) and prints nothing.

Without --out or --printer the document goes to the OS default printer. Every print is written
to the audit log (event "print": authenticated user, session, document, patient id,
destination) BEFORE the document leaves the program; if the audit log cannot be written nothing
is printed. When the OS refuses the job, a "print_failed" entry follows (reason, printer) and
the message lists the printers that exist and names `--out FILE.pdf`.

Importing this module is cheap (the renderers load when `cmd_print` runs), so `wardcopy --help`
stays fast.

Order: the login's modules load first; then the login (roster, counters, the Argon2id password
check) runs in a thread of its own while the main thread loads the snapshot reader and the
renderer (modules, the record model's validator, fonts, locale data: nothing from the
snapshot); the installed snapshot is opened, and any patient data read, only after the login
succeeded. A refused login therefore answers as a refused login even when the snapshot is
damaged.

Side effects: opens the installed snapshot read-only, reads the roster and login counters,
appends to the audit log, runs `lp` (or writes the --out file). Errors are `CliError`s with one
line naming what to do.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import getpass
import importlib
import sys
import threading
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from sync.errors import EXIT_DENIED, EXIT_IO, EXIT_NOT_READY, EXIT_OK, EXIT_USAGE, CliError

if TYPE_CHECKING:  # imported lazily at run time: `wardcopy --help` stays fast
    from app.audit import AuditLog
    from app.auth import Session
    from sync.model import PatientRecord

DOCUMENTS = ("summary", "mar", "census", "due")


def add_print_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Register `print` with its four documents on the `wardcopy` sub-command parser.

    Each sub-command sets `func` to `cmd_print`; `args.home` comes from the main parser.
    Returns the `print` parser.
    """
    printer = subparsers.add_parser("print", help="print or save a downtime document (PDF)")
    docs = printer.add_subparsers(dest="document", required=True)
    for name, help_text in (
        ("summary", "patient summary: alerts, problems, medications, results, notes"),
        ("mar", "medication administration record with boxes to initial (landscape)"),
        ("census", "ward list with allergy and code status markers (landscape)"),
        ("due", "medications due on the ward in the next hours, overdue first (landscape)"),
    ):
        doc = docs.add_parser(name, help=help_text)
        if name not in ("census", "due"):
            who = doc.add_mutually_exclusive_group(required=True)
            who.add_argument("--patient", help="patient id (FHIR Patient id)")
            who.add_argument("--mrn", help="medical record number")
        if name == "mar":
            doc.add_argument(
                "--hours",
                type=int,
                choices=(24, 72),
                default=None,
                help="period (default: the laptop setting mar_hours, else 24)",
            )
        if name == "due":
            doc.add_argument(
                "--hours",
                type=int,
                choices=(2, 4, 8, 12),
                default=4,
                help="look ahead this many hours (default 4)",
            )
        doc.add_argument("--ward", help="ward id (needed when several wards are installed)")
        doc.add_argument("--lang", choices=("de", "en"), help="language (default: settings)")
        doc.add_argument(
            "--tz",
            help="time zone, e.g. Europe/Berlin (default: settings, else the snapshot's zone)",
        )
        doc.add_argument(
            "--user",
            required=True,
            help="your roster user id (with --break-glass: your full name); audited",
        )
        doc.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password from the first line of stdin instead of a prompt",
        )
        doc.add_argument(
            "--break-glass",
            action="store_true",
            help="emergency access without a roster account (only where the viewer allows it)",
        )
        doc.add_argument("--reason", help="why break-glass access is needed (with --break-glass)")
        where = doc.add_mutually_exclusive_group()
        where.add_argument("--out", type=Path, help="save as this PDF file instead of printing")
        where.add_argument("--printer", help="printer name (default: the OS default printer)")
        doc.set_defaults(func=cmd_print)
    return printer


def _zone(name: str | None, home: Path, snapshot_zone: str | None) -> tzinfo:
    """The hospital's zone: `--tz`, else the laptop setting, else the snapshot's, else the
    default (`app.present.zone`); never the laptop clock's zone. Raises CliError for a bad --tz."""
    from app.present.zone import hospital_zone, zone_or_none

    if name:
        zone = zone_or_none(name)
        if zone is None:
            raise CliError(
                f"unknown time zone {name!r}: use an IANA name like Europe/Berlin", EXIT_USAGE
            )
        return zone
    from app.settings import load_settings_or_defaults

    settings, _problem = load_settings_or_defaults(home)
    return hospital_zone(settings.time_zone, snapshot_zone)


def mar_hours(hours: int | None, home: Path) -> int:
    """The MAR period: `hours` when given, else the laptop setting `mar_hours` (24 by default).

    Reads the settings file; never raises (unreadable settings give the defaults).
    """
    if hours is not None:
        return hours
    from app.settings import load_settings_or_defaults

    settings, _problem = load_settings_or_defaults(home)
    return settings.mar_hours


def _language(lang: str | None, home: Path) -> str:
    if lang:
        return lang
    from app.i18n import detect_language
    from app.settings import load_settings_or_defaults

    settings, _problem = load_settings_or_defaults(home)
    return detect_language(settings.language)


def _find_record(reader: object, patient: str | None, mrn: str | None) -> PatientRecord:
    """The record by id or exact MRN; CliError when none or several match."""
    from sync.snapshot import SnapshotReader

    assert isinstance(reader, SnapshotReader)
    if patient:
        record = reader.record(patient)
        if record is None:
            raise CliError(f"no patient with id {patient!r} in this snapshot", EXIT_USAGE)
        return record
    wanted = (mrn or "").strip()
    rows = [r for r in reader.search(wanted, limit=200) if (r.mrn or "").strip() == wanted]
    ids = list(dict.fromkeys(r.patient_id for r in rows))
    if not ids:
        raise CliError(f"no patient with MRN {wanted!r} in this snapshot", EXIT_USAGE)
    if len(ids) > 1:
        raise CliError(
            f"MRN {wanted!r} matches {len(ids)} patients; use --patient with one of: "
            + ", ".join(ids),
            EXIT_USAGE,
        )
    record = reader.record(ids[0])
    if record is None:
        raise CliError(f"patient {ids[0]!r} is listed but its record is missing", EXIT_IO)
    return record


def _read_password(user: str, from_stdin: bool) -> str:
    """The password: the first line of stdin (`--password-stdin`) or a no-echo prompt."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    try:
        return getpass.getpass(f"password for {user}: ")
    except EOFError:
        return ""


def _login(
    args: argparse.Namespace, home: Path, ward: str, audit: AuditLog, password: str
) -> Session:
    """A `Session` of the authenticated user on `ward`, as the viewer would open it. Opens no
    snapshot.

    Raises CliError(EXIT_DENIED) with the viewer's message when the login is refused (wrong
    password, lockout, disabled, ward not permitted, no roster, break-glass not allowed).
    Side effects: audit entries and the login counters file (by `app.auth`).
    """
    from app.audit import AuditError
    from app.auth import LoginFailure, laptop_authenticator
    from app.settings import load_settings_or_defaults

    settings, _problem = load_settings_or_defaults(home)
    auth, roster_problem = laptop_authenticator(home, settings, audit)
    try:
        if args.break_glass:
            result = auth.break_glass(args.user, args.reason or "", ward)
        else:
            result = auth.login(args.user, password, ward)
    except AuditError as exc:
        raise CliError(f"{exc}; nothing was printed", EXIT_IO) from None
    if isinstance(result, LoginFailure):
        message = result.message("en")
        if roster_problem and not args.break_glass:
            message = f"{message} ({roster_problem})"
        raise CliError(f"login refused: {message}; nothing was printed", EXIT_DENIED)
    return result


class _LoginThread(threading.Thread):
    """`_login` in a thread of its own. Its Argon2id check (cryptography's, which releases the
    GIL) then runs while the main thread loads the renderer (`_prepare`), instead of before it:
    the check keeps its full cost, the command waits for it less (docs/performance.md)."""

    def __init__(
        self, args: argparse.Namespace, home: Path, ward: str, audit: AuditLog, password: str
    ) -> None:
        super().__init__(name="wardcopy-login", daemon=True)
        self._call = (args, home, ward, audit, password)
        self._session: Session | None = None
        self._error: BaseException | None = None

    def run(self) -> None:
        try:
            self._session = _login(*self._call)
        except BaseException as exc:  # handed to the main thread by `session()`
            self._error = exc

    def session(self) -> Session:
        """Wait for the login; its Session, or the CliError `_login` raised."""
        self.join()
        if self._error is not None:
            raise self._error
        assert self._session is not None
        return self._session


def _prepare(document: str, lang: str) -> None:
    """Load what rendering `document` in `lang` needs that holds no patient data: the snapshot
    reader, the renderer's modules (reportlab, the presentation layer), the record model's
    validator, the parsed fonts and babel's locale data. Side effects: imports, font
    registration, the model's validator (process-wide caches). Raises what an import or
    `register_fonts` raises (FontMissingError)."""
    from datetime import UTC

    from app.printing.rlload import load_platypus

    load_platypus()  # before anything imports reportlab.platypus the ordinary way

    from app.present.formats import fmt_datetime, fmt_number
    from app.printing import osprint  # noqa: F401  (saves or prints the document)
    from app.printing.layout import styles
    from sync.model import CensusRow, PatientRecord
    from sync.receive import installed  # noqa: F401  (opens the snapshot after the login)

    importlib.import_module(f"app.printing.{document}")
    # The record model builds its validator on first use (sync.model: defer_build); building
    # it here, beside the password check, takes it off the time after the login.
    (CensusRow if document == "census" else PatientRecord).model_rebuild()
    styles()
    fmt_number(0.5, lang)
    fmt_datetime(datetime.now(UTC), lang, UTC)


def cmd_print(args: argparse.Namespace) -> int:
    """Handler of `wardcopy print ...` (see the module docstring).

    Runs with Python's cyclic garbage collector paused: a print is one short run that creates
    many long-lived objects (modules, font tables, the record, the layout), and the
    collector's passes over them were 2-7 % of its CPU while freeing nothing that matters
    (peak memory the same, docs/performance.md). Reference counting still frees everything
    else; the collector is back on when the command returns (tests call it in-process).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _print(args)
    finally:
        if was_enabled:
            gc.enable()


def _print(args: argparse.Namespace) -> int:
    # The login's own modules first (app.auth: roster, settings, counters, the password check;
    # pydantic and cryptography), so that the login thread starts its Argon2id check as early
    # as it can; the snapshot reader and the renderer load beside the check (`_prepare`).
    import app.auth  # noqa: F401
    from app.audit import AuditError, AuditLog
    from app.paths import laptop_home
    from sync import device
    from sync.receive.errors import ReceiveError
    from sync.receive.wards import choose_ward

    home = laptop_home(getattr(args, "home", None))
    if args.tz:
        _zone(args.tz, home, None)  # a bad --tz is a usage error before anything is opened
    lang = _language(args.lang, home)
    if not args.user.strip():
        raise CliError("--user must name who prints", EXIT_USAGE)
    if args.reason and not args.break_glass:
        raise CliError("--reason only goes with --break-glass", EXIT_USAGE)
    if args.document == "mar":
        args.hours = mar_hours(args.hours, home)
    try:
        ward = choose_ward(home, args.ward)  # folder names only: nothing is opened yet
    except ReceiveError as exc:
        raise CliError(str(exc), EXIT_NOT_READY) from None
    audit = AuditLog(home)
    password = "" if args.break_glass else _read_password(args.user, args.password_stdin)
    # The login (its Argon2id check) runs beside loading the renderer; the snapshot, and with it
    # any patient data, is opened only once the login has succeeded.
    login = _LoginThread(args, home, ward, audit, password)
    login.start()
    try:
        _prepare(args.document, lang)
    except BaseException:
        login.session()  # a refused login is the answer, as without the overlap
        raise
    session = login.session()
    from app.printing.layout import DocumentMeta  # loaded by _prepare
    from app.printing.osprint import print_pdf, save_pdf
    from sync.receive.installed import open_installed

    try:
        snap = open_installed(home, ward)
    except ReceiveError as exc:
        raise CliError(str(exc), EXIT_NOT_READY) from None
    except device.DeviceError as exc:
        raise CliError(str(exc), EXIT_NOT_READY) from None
    tz = _zone(args.tz, home, snap.reader.meta.time_zone)
    try:
        meta = DocumentMeta(
            ward_name=snap.reader.meta.ward_name or snap.ward,
            data_as_of=snap.data_as_of,
            ward_id=snap.ward,
            windows=snap.reader.meta.windows,  # the texts name the windows the sync applied
        )
        now = datetime.now(tz)
        printed_by = session.display_name
        bg = session.break_glass
        patient_id: str | None = None
        # Only the requested document's module is imported (start-up time, docs/performance.md).
        if args.document == "census":
            from app.printing.census import render_census

            pdf = render_census(
                snap.reader.census(), meta, printed_by, lang, now, tz, break_glass=bg
            )
        elif args.document == "due":
            from app.printing.due import render_due

            pdf = render_due(
                snap.reader.iter_records(),
                meta,
                printed_by,
                lang,
                now,
                tz,
                hours=args.hours,
                break_glass=bg,
            )
        else:
            record = _find_record(snap.reader, args.patient, args.mrn)
            patient_id = record.id
            if args.document == "mar":
                from app.printing.mar import render_mar

                pdf = render_mar(
                    record, meta, printed_by, lang, now, tz, hours=args.hours, break_glass=bg
                )
            else:
                from app.printing.summary import render_summary

                pdf = render_summary(record, meta, printed_by, lang, now, tz, break_glass=bg)
    finally:
        snap.close()
    details: dict[str, object] = {
        "document": args.document,
        "destination": "file" if args.out else "printer",
        "snapshot_sequence": snap.sequence,
        "session": session.session_id,
        "via": "cli",
    }
    if session.break_glass:
        details["break_glass"] = True
    if args.printer:
        details["printer"] = args.printer
    if args.document in ("mar", "due"):
        details["hours"] = args.hours
    try:
        audit.append(
            "print", user=session.user_id, ward=snap.ward, patient_id=patient_id, details=details
        )
    except AuditError as exc:
        raise CliError(f"{exc}; nothing was printed", EXIT_IO) from None
    if args.out:
        try:
            path = save_pdf(pdf, args.out)
        except OSError as exc:
            _audit_failure(audit, session, snap.ward, patient_id, details, "save", str(exc))
            raise CliError(str(exc), EXIT_IO) from None
        print(f"saved {args.document} to {path}")
        return EXIT_OK
    result = print_pdf(pdf, args.printer, lang="en", fallback="--out FILE.pdf")
    if not result.ok:
        _audit_failure(
            audit, session, snap.ward, patient_id, details, result.reason, result.message
        )
        raise CliError(result.message, EXIT_NOT_READY)
    print(result.message)
    return EXIT_OK


def _audit_failure(
    audit: AuditLog,
    session: Session,
    ward: str,
    patient_id: str | None,
    details: dict[str, object],
    reason: str,
    message: str,
) -> None:
    """Append "print_failed" after a "print" whose document never reached paper or file.
    An audit log that cannot be written here is not an extra error: nothing left the program."""
    from app.audit import AuditError

    failed = {**details, "reason": reason, "message": message[:300]}
    with contextlib.suppress(AuditError):
        audit.append(
            "print_failed", user=session.user_id, ward=ward, patient_id=patient_id, details=failed
        )

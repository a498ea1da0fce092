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

Order (docs/performance.md, fourth pass; docs/security.md, "The print command's login"):
1. Light modules only, then the Argon2id check of the password starts in a thread of its own,
   against the verifier of the typed id read from the signed roster without its model
   (`sync.rosterlogin`; an unknown id is checked against a verifier no password matches, so it
   takes as long). No pydantic is loaded before this.
2. The login itself (`app.auth`: roster model, counters, audit) runs in a second thread and
   uses that check's result only for exactly the verifier it finds; every rule of the viewer's
   login applies unchanged.
3. Meanwhile the main thread loads the renderer and renders the document INTO MEMORY: it opens
   the installed snapshot (its key is unwrapped with the laptop's device key; the password
   plays no part in it), reads the record and draws the PDF. Nothing is written and nothing is
   sent anywhere.
4. Only when the login succeeded: the audit entry, then the file or the print job. A refused
   login drops the rendered bytes and answers as refused; an error of opening or rendering
   (a damaged snapshot, an unknown patient) is held until the login has succeeded, so a
   refused login says refused even with a damaged snapshot. If the session's name differs
   from the one read early, the document is rendered again with the session's.

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
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from sync.errors import EXIT_DENIED, EXIT_IO, EXIT_NOT_READY, EXIT_OK, EXIT_USAGE, CliError

if TYPE_CHECKING:  # imported lazily at run time: `wardcopy --help` stays fast
    from app.audit import AuditLog
    from app.auth import Session
    from sync.keys import PasswordCheck
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
    args: argparse.Namespace,
    home: Path,
    ward: str,
    audit: AuditLog,
    password: str,
    check: PasswordCheck | None,
) -> Session:
    """A `Session` of the authenticated user on `ward`, as the viewer would open it.

    `check`: the Argon2id check of `password` started early (`_early_check`); the login uses
    it only for exactly the verifier it finds (`app.auth.Authenticator.login`).
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
            result = auth.login(args.user, password, ward, precomputed=check)
    except AuditError as exc:
        raise CliError(f"{exc}; nothing was printed", EXIT_IO) from None
    if isinstance(result, LoginFailure):
        message = result.message("en")
        if roster_problem and not args.break_glass:
            message = f"{message} ({roster_problem})"
        raise CliError(f"login refused: {message}; nothing was printed", EXIT_DENIED)
    return result


class _LoginThread(threading.Thread):
    """`_login` in a thread of its own, beside the main thread's loading and rendering: the
    login's Python work (its modules, the roster model, the counters) shares the GIL with them,
    its Argon2id check (already running, `_early_check`) does not (docs/performance.md)."""

    def __init__(
        self,
        args: argparse.Namespace,
        home: Path,
        ward: str,
        audit: AuditLog,
        password: str,
        check: PasswordCheck | None,
    ) -> None:
        super().__init__(name="wardcopy-login", daemon=True)
        self._call = (args, home, ward, audit, password, check)
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


def _early_check(home: Path, user: str, password: str) -> tuple[PasswordCheck | None, str]:
    """Start the Argon2id check of `password` for `user` now, before the login's modules load:
    (the running check or None, the name the printout will most likely carry).

    The roster is verified and read without its model (`sync.rosterlogin.login_preview`); an
    unknown id gets a check against a verifier no password matches, at the roster's cost, so
    that it takes as long as a known one. No check without a password or a readable roster (the
    login then reports why). Side effects: reads the pinned key and the roster; starts a thread.
    """
    from sync.keys import PasswordCheck, never_matching_verifier
    from sync.rosterlogin import login_preview

    name = " ".join(user.split())
    if not password:
        return None, name
    preview = login_preview(home, user)
    if preview is None:
        return None, name
    verifier = preview.verifier or never_matching_verifier(preview.dummy_cost)
    return PasswordCheck(password, verifier), preview.display_name or name


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
    from sync.receive import installed  # noqa: F401  (opens the snapshot)

    importlib.import_module(f"app.printing.{document}")
    # The record model builds its validator on first use (sync.model: defer_build); building
    # it here, beside the password check, takes it off the time after the login.
    (CensusRow if document == "census" else PatientRecord).model_rebuild()
    styles()
    fmt_number(0.5, lang)
    fmt_datetime(datetime.now(UTC), lang, UTC)


@dataclass(frozen=True)
class _Rendered:
    """A document rendered in memory: nothing of it is on disk or at a printer yet."""

    pdf: bytes
    patient_id: str | None
    ward: str
    sequence: int
    printed_by: str
    break_glass: bool


def _render(
    args: argparse.Namespace, home: Path, ward: str, lang: str, printed_by: str, bg: bool
) -> _Rendered:
    """Open the installed snapshot of `ward`, read what `args.document` needs and render it into
    memory, signed as `printed_by` (break-glass marks if `bg`). Writes nothing.

    Raises CliError: the snapshot cannot be opened (EXIT_NOT_READY), no such patient or an
    ambiguous MRN (EXIT_USAGE), a record listed but missing (EXIT_IO)."""
    from app.printing.layout import DocumentMeta  # loaded by _prepare
    from sync import device
    from sync.receive.errors import ReceiveError
    from sync.receive.installed import open_installed

    try:
        snap = open_installed(home, ward)
    except ReceiveError as exc:
        raise CliError(str(exc), EXIT_NOT_READY) from None
    except device.DeviceError as exc:
        raise CliError(str(exc), EXIT_NOT_READY) from None
    try:
        tz = _zone(args.tz, home, snap.reader.meta.time_zone)
        meta = DocumentMeta(
            ward_name=snap.reader.meta.ward_name or snap.ward,
            data_as_of=snap.data_as_of,
            ward_id=snap.ward,
            windows=snap.reader.meta.windows,  # the texts name the windows the sync applied
        )
        now = datetime.now(tz)
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
    return _Rendered(pdf, patient_id, snap.ward, snap.sequence, printed_by, bg)


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
    # Light modules only until the Argon2id check runs (`_early_check`): no pydantic, no
    # settings, no login modules; the import contract test holds this.
    from app.paths import laptop_home
    from sync.receive.errors import ReceiveError
    from sync.receive.wards import choose_ward

    home = laptop_home(getattr(args, "home", None))
    if args.tz:
        _zone(args.tz, home, None)  # a bad --tz is a usage error before anything is opened
    if not args.user.strip():
        raise CliError("--user must name who prints", EXIT_USAGE)
    if args.reason and not args.break_glass:
        raise CliError("--reason only goes with --break-glass", EXIT_USAGE)
    try:
        ward = choose_ward(home, args.ward)  # folder names only: nothing is opened yet
    except ReceiveError as exc:
        raise CliError(str(exc), EXIT_NOT_READY) from None
    password = "" if args.break_glass else _read_password(args.user, args.password_stdin)
    check, expected_name = _early_check(home, args.user, password)
    lang = _language(args.lang, home)
    if args.document == "mar":
        args.hours = mar_hours(args.hours, home)
    from app.audit import AuditError, AuditLog

    audit = AuditLog(home)
    # The login runs beside loading and rendering; the document is rendered into memory while
    # the password is checked and leaves the program (file, printer) only after the login
    # succeeded and the audit entry is written. Any error of opening or rendering is held until
    # then: a refused login answers as refused even with a damaged snapshot (module docstring).
    login = _LoginThread(args, home, ward, audit, password, check)
    login.start()
    try:
        _prepare(args.document, lang)
    except BaseException:
        login.session()  # a refused login is the answer, as without the overlap
        raise
    draft: _Rendered | None = None
    held: Exception | None = None
    try:
        draft = _render(args, home, ward, lang, expected_name, args.break_glass)
    except Exception as exc:  # held until the login has succeeded
        held = exc
    session = login.session()  # raises the refusal: the draft is dropped with the process
    if held is not None:
        raise held
    assert draft is not None
    if (draft.printed_by, draft.break_glass) != (session.display_name, session.break_glass):
        # The roster's name differs from the early read: render again with the session's.
        draft = _render(args, home, ward, lang, session.display_name, session.break_glass)
    from app.printing.osprint import print_pdf, save_pdf

    patient_id = draft.patient_id
    details: dict[str, object] = {
        "document": args.document,
        "destination": "file" if args.out else "printer",
        "snapshot_sequence": draft.sequence,
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
            "print", user=session.user_id, ward=draft.ward, patient_id=patient_id, details=details
        )
    except AuditError as exc:
        raise CliError(f"{exc}; nothing was printed", EXIT_IO) from None
    if args.out:
        try:
            path = save_pdf(draft.pdf, args.out)
        except OSError as exc:
            _audit_failure(audit, session, draft.ward, patient_id, details, "save", str(exc))
            raise CliError(str(exc), EXIT_IO) from None
        print(f"saved {args.document} to {path}")
        return EXIT_OK
    result = print_pdf(draft.pdf, args.printer, lang="en", fallback="--out FILE.pdf")
    if not result.ok:
        _audit_failure(
            audit, session, draft.ward, patient_id, details, result.reason, result.message
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

"""Printing a PDF through the operating system, and saving one where the user chose.

Linux and macOS (CUPS): the PDF is piped to `lp -d PRINTER -` on stdin, so Wardcopy writes no
file. (CUPS itself spools the job under /var/spool/cups until it is printed; that spool belongs to
the OS and should be on an encrypted disk, like the rest of a ward laptop.) The job title is
"Wardcopy" only, never a patient name, because print queues and printer logs show titles.

Windows: `os.startfile(path, "print")` needs a file. The PDF is written to a private temporary
file (mode 0600 in a fresh 0700 folder under the user's temp dir), handed to the PDF application
registered for printing, and deleted as soon as that application has had time to open it
(`WINDOWS_DELETE_AFTER` seconds, and at the latest when Wardcopy exits). The temp dir must be on
an encrypted volume (BitLocker); docs/printing.md says so.

When no printer is configured or `lp` is missing, `print_pdf` returns a PrintResult with
`ok=False` and a reason the UI can show, and then offers "save as PDF" (`save_pdf`), which is for
an explicit user choice only.

Side effects: runs `lp` / `lpstat` / PowerShell; `save_pdf` writes the chosen file; on Windows
a short-lived temporary file as described.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from app.i18n import t

LP_TIMEOUT = 60.0
LPSTAT_TIMEOUT = 10.0
WINDOWS_DELETE_AFTER = 60.0
JOB_TITLE = "Wardcopy"


@dataclass(frozen=True)
class PrintResult:
    """Outcome of `print_pdf`. `reason`: printed | no-lp | no-printer | failed | unsupported.

    `message` is a one-line text for the user, in the requested language; `offer_save` tells
    the UI to offer "save as PDF" instead.
    """

    ok: bool
    reason: str
    message: str
    printer: str | None = None
    job_id: str | None = None
    # When printing failed: the printers the OS knows, and whether a print service answered
    # (None: not asked, e.g. on Windows). Both are also said in `message`.
    printers: tuple[str, ...] = ()
    service_running: bool | None = None

    @property
    def offer_save(self) -> bool:
        return not self.ok


def _run(args: list[str], *, data: bytes | None = None, timeout: float) -> tuple[int, str, str]:
    """Run a command; (returncode, stdout, stderr). Never raises for a failing command."""
    try:
        proc = subprocess.run(args, input=data, capture_output=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 127, "", str(exc)
    return (
        proc.returncode,
        proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"),
    )


def _parse_lpstat_names(output: str) -> list[str]:
    """Pure: printer names from `lpstat -e` (one per line) or `lpstat -a` ("NAME accepting ...")."""
    names: list[str] = []
    for line in output.splitlines():
        word = line.strip().split(" ", 1)[0] if line.strip() else ""
        if word and word not in names:
            names.append(word)
    return names


def list_printers() -> list[str]:
    """Names of the printers the OS knows; [] when none (or no printing system). Never raises.

    Linux/macOS: `lpstat -e`, falling back to `lpstat -a` (older CUPS). Windows: PowerShell
    `Get-Printer`.
    """
    if sys.platform == "win32":
        code, out, _ = _run(
            ["powershell", "-NoProfile", "-Command", "Get-Printer | ForEach-Object Name"],
            timeout=LPSTAT_TIMEOUT,
        )
        return [x.strip() for x in out.splitlines() if x.strip()] if code == 0 else []
    lpstat = shutil.which("lpstat")
    if lpstat is None:
        return []
    for option in ("-e", "-a"):
        code, out, _ = _run([lpstat, option], timeout=LPSTAT_TIMEOUT)
        if code == 0 and out.strip():
            return _parse_lpstat_names(out)
    return []


def print_service_running() -> bool | None:
    """Whether the CUPS scheduler answers (`lpstat -r`); None when that cannot be asked
    (Windows, no `lpstat`). Never raises."""
    if sys.platform == "win32":
        return None
    lpstat = shutil.which("lpstat")
    if lpstat is None:
        return False
    code, out, _ = _run([lpstat, "-r"], timeout=LPSTAT_TIMEOUT)
    text = out.lower()
    if "not running" in text:
        return False
    return code == 0 and "running" in text


def failure_message(
    reason_text: str,
    printers: Sequence[str],
    service_running: bool | None,
    lang: str,
    fallback: str | None = None,
) -> str:
    """Pure: why printing failed, then what exists (the printers, or that no print service
    runs), then the PDF fallback (`fallback` names how, e.g. "--out FILE.pdf"; default: the
    viewer's button)."""
    parts = [reason_text]
    if service_running is False:
        parts.append(t("print.os.no_service", lang))
    elif printers:
        parts.append(t("print.os.printers", lang, names=", ".join(printers)))
    else:
        parts.append(t("print.os.no_printers", lang))
    how = fallback or t("print.os.fallback_ui", lang)
    parts.append(t("print.os.fallback", lang, how=how))
    return " ".join(parts)


def _failed(
    reason: str, reason_text: str, printer: str | None, lang: str, fallback: str | None
) -> PrintResult:
    """A failed PrintResult whose message lists what exists (asks the OS; never raises)."""
    printers = tuple(list_printers())
    running = print_service_running()
    message = failure_message(reason_text, printers, running, lang, fallback)
    return PrintResult(False, reason, message, printer, None, printers, running)


def default_printer() -> str | None:
    """The OS default printer (`lpstat -d`), or None. Never raises."""
    lpstat = shutil.which("lpstat")
    if lpstat is None or sys.platform == "win32":
        return None
    code, out, _ = _run([lpstat, "-d"], timeout=LPSTAT_TIMEOUT)
    m = re.search(r"destination:\s*(\S+)", out) if code == 0 else None
    return m.group(1) if m else None


def _job_id(output: str) -> str | None:
    m = re.search(r"request id is (\S+)", output)
    return m.group(1) if m else None


def print_pdf(
    pdf: bytes, printer: str | None = None, *, lang: str = "en", fallback: str | None = None
) -> PrintResult:
    """Send `pdf` to `printer` (None: the OS default printer). Never raises.

    Linux/macOS: `lp [-d PRINTER] -t Wardcopy -` with the PDF on stdin, no file written.
    Windows: see the module docstring (short-lived temporary file). Returns ok=False with a
    reason when `lp` is missing, when no printer is given and none is the default, or when the
    print command fails; its message then lists the printers that exist (or says that no print
    service is running) and names the PDF fallback (`fallback`, default the viewer's button).
    """
    if sys.platform == "win32":
        return _print_windows(pdf, printer, lang, fallback)
    lp = shutil.which("lp")
    if lp is None:
        return _failed("no-lp", t("print.os.no_lp", lang), printer, lang, fallback)
    if printer is None and default_printer() is None:
        return _failed("no-printer", t("print.os.no_printer", lang), None, lang, fallback)
    args = [lp, "-t", JOB_TITLE]
    if printer:
        args += ["-d", printer]
    args.append("-")
    code, out, err = _run(args, data=pdf, timeout=LP_TIMEOUT)
    shown = printer or t("print.os.default", lang)
    if code != 0:
        error = (err.strip() or out.strip() or f"exit code {code}").splitlines()[0][:200]
        text = t("print.os.failed", lang, printer=shown, error=error)
        return _failed("failed", text, printer, lang, fallback)
    job = _job_id(out)
    return PrintResult(
        True, "printed", t("print.os.printed", lang, printer=shown, job=job or "?"), printer, job
    )


_PENDING_TEMP: set[Path] = set()


def _delete_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        path.parent.rmdir()
    _PENDING_TEMP.discard(path)


def _delete_all_pending() -> None:
    for path in list(_PENDING_TEMP):
        _delete_quietly(path)


atexit.register(_delete_all_pending)


def _print_windows(pdf: bytes, printer: str | None, lang: str, fallback: str | None) -> PrintResult:
    """os.startfile(..., "print"/"printto") on a private temp file deleted shortly after."""
    startfile = getattr(os, "startfile", None)
    if startfile is None:
        return _failed("unsupported", t("print.os.unsupported", lang), printer, lang, fallback)
    folder = Path(tempfile.mkdtemp(prefix="wardcopy-print-"))
    path = folder / "wardcopy.pdf"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pdf)
        _PENDING_TEMP.add(path)
        if printer:
            startfile(str(path), "printto", f'"{printer}"')
        else:
            startfile(str(path), "print")
    except OSError as exc:
        _delete_quietly(path)
        shown = printer or t("print.os.default", lang)
        error = t("print.os.failed", lang, printer=shown, error=str(exc))
        return _failed("failed", error, printer, lang, fallback)
    # The print application opens the file asynchronously; give it time, then delete.
    timer = threading.Timer(WINDOWS_DELETE_AFTER, _delete_quietly, args=(path,))
    timer.daemon = True
    timer.start()
    shown = printer or t("print.os.default", lang)
    return PrintResult(
        True, "printed", t("print.os.printed", lang, printer=shown, job="-"), printer
    )


def save_pdf(pdf: bytes, path: Path | str) -> Path:
    """Write `pdf` to `path`, chosen explicitly by the user (mode 0600, atomic rename).

    Side effect: creates or replaces that one file. Raises OSError naming the path when it
    cannot be written (missing folder, no permission, disk full).
    """
    target = Path(path).expanduser()
    partial = target.with_name(target.name + ".partial")
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pdf)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise OSError(
            f"cannot save the PDF to {target}: {exc.strerror or exc}; choose another folder"
        ) from exc
    return target

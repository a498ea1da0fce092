"""Printing through the OS: the PDF goes to `lp` on stdin; no printer means a clear answer.

`lp` and `lpstat` are replaced by small scripts on PATH that record what they were given (the
CUPS tools themselves are not part of Wardcopy and are absent on CI machines).
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from app.printing.osprint import (
    JOB_TITLE,
    _parse_lpstat_names,
    list_printers,
    print_pdf,
    save_pdf,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="CUPS tools are POSIX only")

PDF = b"%PDF-1.4\n% fictional test document\n%%EOF\n"


def tool(folder: Path, name: str, script: str) -> None:
    path = folder / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def bin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    # Only our fake tools are found (they call /bin/cat by its full path).
    monkeypatch.setenv("PATH", str(folder))
    return folder


def test_pdf_is_piped_to_lp_on_stdin_with_a_neutral_title(bin_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "received.pdf"
    args = tmp_path / "args.txt"
    tool(
        bin_dir,
        "lp",
        f'for a in "$@"; do echo "$a" >> {args}; done\n'
        f"/bin/cat > {out}\n"
        'echo "request id is Station7-42 (0 file(s))"\n',
    )
    result = print_pdf(PDF, "Station7", lang="de")
    assert result.ok and result.reason == "printed"
    assert result.job_id == "Station7-42"
    assert "Station7" in result.message and "Station7-42" in result.message
    assert out.read_bytes() == PDF  # the bytes went through stdin
    assert args.read_text().splitlines() == ["-t", JOB_TITLE, "-d", "Station7", "-"]


def test_failing_lp_is_reported_with_its_reason(bin_dir: Path) -> None:
    tool(
        bin_dir,
        "lp",
        '/bin/cat > /dev/null\necho "lp: The printer or class does not exist." >&2\nexit 1\n',
    )
    result = print_pdf(PDF, "Nirgendwo", lang="en")
    assert not result.ok and result.offer_save
    assert result.reason == "failed"
    assert "does not exist" in result.message and "Save as PDF" in result.message


def test_missing_lp_says_so_and_offers_saving(bin_dir: Path) -> None:
    result = print_pdf(PDF, None, lang="de")
    assert not result.ok and result.offer_save
    assert result.reason == "no-lp"
    assert "'lp'" in result.message and "als PDF speichern" in result.message


def test_no_default_printer_is_reported_before_calling_lp(bin_dir: Path, tmp_path: Path) -> None:
    called = tmp_path / "lp-called"
    tool(bin_dir, "lp", f": > {called}\n")
    tool(bin_dir, "lpstat", 'echo "no system default destination"\n')
    result = print_pdf(PDF, None, lang="en")
    assert result.reason == "no-printer" and "No printer" in result.message
    assert not called.exists()


def test_default_printer_is_used_when_none_is_named(bin_dir: Path, tmp_path: Path) -> None:
    args = tmp_path / "args.txt"
    tool(bin_dir, "lp", f'echo "$@" > {args}\n/bin/cat > /dev/null\necho "request id is d-1"\n')
    tool(bin_dir, "lpstat", 'echo "system default destination: Flur"\n')
    result = print_pdf(PDF, None, lang="en")
    assert result.ok and result.job_id == "d-1"
    assert args.read_text().split() == ["-t", JOB_TITLE, "-"]


def test_list_printers_from_lpstat(bin_dir: Path) -> None:
    tool(bin_dir, "lpstat", 'if [ "$1" = "-e" ]; then echo "Station7"; echo "Flur_Laser"; fi\n')
    assert list_printers() == ["Station7", "Flur_Laser"]
    assert _parse_lpstat_names("A accepting requests since x\nB accepting\n\nA x\n") == ["A", "B"]


def test_list_printers_without_cups_is_empty(bin_dir: Path) -> None:
    assert list_printers() == []


def test_save_pdf_writes_a_private_file(tmp_path: Path) -> None:
    target = save_pdf(PDF, tmp_path / "kopie.pdf")
    assert target.read_bytes() == PDF
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert not list(tmp_path.glob("*.partial"))
    with pytest.raises(OSError, match=r"cannot save the PDF to .*missing"):
        save_pdf(PDF, tmp_path / "missing" / "x.pdf")


def test_failed_print_lists_the_printers_that_exist_and_the_pdf_fallback(bin_dir: Path) -> None:
    tool(bin_dir, "lp", '/bin/cat > /dev/null\necho "lp: printer is stopped" >&2\nexit 1\n')
    tool(
        bin_dir,
        "lpstat",
        'case "$1" in -e) echo Station7; echo Flur_Laser;; -r) echo "scheduler is running";; '
        "esac\n",
    )
    result = print_pdf(PDF, "Station7", lang="en", fallback="--out FILE.pdf")
    assert not result.ok and result.reason == "failed"
    assert result.printers == ("Station7", "Flur_Laser") and result.service_running is True
    assert "printer is stopped" in result.message
    assert "Printers on this computer: Station7, Flur_Laser." in result.message
    assert "--out FILE.pdf" in result.message


def test_failed_print_says_when_no_print_service_is_running(bin_dir: Path) -> None:
    tool(bin_dir, "lp", '/bin/cat > /dev/null\necho "lp: scheduler not responding" >&2\nexit 1\n')
    not_running = 'if [ "$1" = "-r" ]; then echo "scheduler is not running"; fi\nexit 1\n'
    tool(bin_dir, "lpstat", not_running)
    result = print_pdf(PDF, "Station7", lang="de")
    assert not result.ok and result.service_running is False
    assert "Es läuft kein Druckdienst (CUPS)." in result.message
    assert "„Als PDF speichern“" in result.message  # the viewer's button is named


def test_missing_cups_tools_say_no_print_service_and_name_the_fallback(bin_dir: Path) -> None:
    result = print_pdf(PDF, None, lang="en")
    assert result.reason == "no-lp"
    assert "No print service (CUPS) is running." in result.message
    assert "Save as PDF instead (button 'Save as PDF')" in result.message

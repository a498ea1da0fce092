"""Dialogs by keyboard only, in a real browser: the print dialog's printer drop-down and the
settings drop-downs are reached with Tab and operated with Enter and the arrows; a note's other
versions open from the notes list; Esc closes only the dialog.

This module runs its own viewer whose PATH holds a small `lpstat` naming two printers and an
`lp` that writes down what it was asked to print (the operating system's printing tools; no part
of Wardcopy is replaced), so that the printer drop-down appears and the choice made by keyboard
can be checked where it lands: in the print job.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from e2e_support import (
    IDLE_SECONDS,
    SCREENSHOTS,
    Viewer,
    admin_of,
    free_port,
    make_home,
    pick_targets,
    wait_for_port,
)
from test_viewer_e2e import log_in, section, type_into

from sync.receive import open_installed

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FOCUSED = (
    "() => { const a = document.activeElement;"
    " return a ? (a.getAttribute('aria-label') || a.innerText || '').trim() : '' }"
)
PRINTERS = ("Station7-Laser", "Station7-Farbe")


def _tool(folder: Path, name: str, script: str) -> None:
    path = folder / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)


@pytest.fixture(scope="module")
def printing_viewer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Viewer]:
    """A viewer (web mode, own home) on a laptop with two printers; the `lp` calls are
    written to <root>/lp.log. The patient to open has a note with other versions."""
    root = tmp_path_factory.mktemp("e2e-dialogs")
    home, user, password, name = make_home(root)
    (home / "settings.json").write_text("{}")
    targets = pick_targets(home, user, password, name)
    # The demo's corrected letter: a patient of the same ward whose note has other versions.
    snap = open_installed(home, targets.ward)
    try:
        versioned = None
        for row in snap.reader.census():
            record = snap.reader.record(row.patient_id)
            if record is not None and row.mrn and any(n.versions for n in record.notes):
                versioned = (row.patient_id, row.name, row.mrn)
                break
    finally:
        snap.close()
    if versioned is None:
        pytest.skip("no patient on the ward has a note with other versions")
    targets = replace(
        targets, chart_id=versioned[0], chart_name=versioned[1], chart_mrn=versioned[2]
    )
    bin_dir = root / "bin"
    bin_dir.mkdir()
    lp_log = root / "lp.log"
    _tool(
        bin_dir,
        "lpstat",
        'case "$1" in -e|-a) printf "%s\\n%s\\n" ' + " ".join(PRINTERS) + ";; "
        '-r) echo "scheduler is running";; -d) echo "system default destination: '
        + PRINTERS[0]
        + '";; esac\n',
    )
    _tool(bin_dir, "lp", f'echo "$@" >> {lp_log}\n/bin/cat > /dev/null\necho "request id is x-1"\n')
    port = free_port()
    log = root / "viewer.log"
    env = {
        **os.environ,
        "WARDCOPY_IDLE_LOCK_SECONDS": str(IDLE_SECONDS * 20),
        "LANG": "en_US.UTF-8",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        "PATH": f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "TZ": "UTC",
    }
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.ui.launch", "--home", str(home), "--port", str(port),
             "--ward", targets.ward, "--no-open"],
            cwd=Path(__file__).resolve().parents[2],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_for_port(port, process)
        yield Viewer(f"http://127.0.0.1:{port}/", home, process, log, targets, admin_of(password))
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def tab(browser: Any, printing_viewer: Viewer) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(printing_viewer.url)
    page.wait_for_selector("flt-semantics-placeholder", state="attached", timeout=30_000)
    page.locator("flt-semantics-placeholder").dispatch_event("click")
    page.get_by_role("textbox", name="User id").wait_for()
    page.wait_for_timeout(1000)
    yield page
    context.close()


def focused(page: Any) -> str:
    return str(page.evaluate(FOCUSED))


def tab_to(page: Any, pattern: str, limit: int = 60, back: bool = False) -> str:
    """Press Tab (Shift+Tab with `back`) until the focused control's name matches."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        page.wait_for_timeout(120)
        name = focused(page)
        seen.append(name)
        if re.search(pattern, name):
            return name
    raise AssertionError(f"Tab never reached {pattern!r}; focus went through {seen}")


def shot(page: Any, name: str) -> None:
    page.wait_for_timeout(500)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def open_chart(page: Any, viewer: Viewer) -> None:
    t = viewer.targets
    log_in(page, viewer)
    page.get_by_text(re.compile(r"of \d+ patients")).first.wait_for()
    page.wait_for_timeout(400)
    page.keyboard.press("Control+f")
    page.keyboard.type(t.chart_mrn, delay=20)
    page.wait_for_timeout(400)
    page.keyboard.press("Enter")
    page.get_by_text(re.compile(rf"MRN {re.escape(t.chart_mrn)}")).first.wait_for()


def test_a_notes_other_versions_open_by_keyboard_and_esc_closes_only_them(
    tab: Any, printing_viewer: Viewer
) -> None:
    page, t = tab, printing_viewer.targets
    open_chart(page, printing_viewer)
    tab_to(page, r"^Notes")
    page.keyboard.press("Enter")
    section(page, "Notes").wait_for()
    name = tab_to(page, r"other versions?$")
    assert re.match(r"^\d+ other versions?$", name)
    page.keyboard.press("Enter")
    page.get_by_text(re.compile(r"^Other versions: ")).wait_for()
    page.get_by_text(re.compile("superseded by a newer version")).first.wait_for()
    shot(page, "note-versions")
    page.keyboard.press("Escape")
    page.get_by_text(re.compile(r"^Other versions: ")).wait_for(state="detached")
    page.wait_for_timeout(800)
    assert page.get_by_text(re.compile(rf"MRN {re.escape(t.chart_mrn)}")).count()


def test_the_printer_drop_down_is_chosen_by_keyboard_and_the_job_goes_there(
    tab: Any, printing_viewer: Viewer
) -> None:
    page, t = tab, printing_viewer.targets
    lp_log = printing_viewer.log.parent / "lp.log"
    open_chart(page, printing_viewer)
    page.keyboard.press("Control+p")
    page.get_by_text("Print", exact=True).first.wait_for()
    name = tab_to(page, r"Printer")
    assert PRINTERS[0] in name  # the system default is preselected
    page.keyboard.press("Enter")  # opens the list
    page.wait_for_timeout(600)
    page.keyboard.press("ArrowDown")
    page.wait_for_timeout(200)
    page.keyboard.press("Enter")  # takes the second printer
    page.wait_for_timeout(600)
    assert PRINTERS[1] in focused(page) or page.get_by_text(PRINTERS[1]).count()
    shot(page, "print-dialog-keyboard")
    tab_to(page, r"^Print$")
    page.keyboard.press("Enter")
    page.get_by_text(re.compile(r"(Sent to|sent to|request id)")).first.wait_for(timeout=20_000)
    assert lp_log.exists() and f"-d {PRINTERS[1]}" in lp_log.read_text()
    # Esc closes the dialog and only the dialog.
    page.keyboard.press("Escape")
    page.wait_for_timeout(800)
    assert page.get_by_text(re.compile(rf"MRN {re.escape(t.chart_mrn)}")).count()


def test_settings_drop_downs_are_operated_by_keyboard_and_esc_closes_only_the_dialog(
    tab: Any, printing_viewer: Viewer
) -> None:
    page = tab
    admin, password = printing_viewer.admin
    type_into(page, "User id", admin)
    type_into(page, "Password", password)
    page.wait_for_timeout(150)
    page.keyboard.press("Enter")
    page.get_by_text("Status of this laptop").wait_for()
    page.wait_for_timeout(400)
    tab_to(page, r"^Settings")
    page.keyboard.press("Enter")
    page.get_by_text(re.compile("^Settings")).first.wait_for()
    # Language: Tab reaches it, Enter opens, the arrows choose, Enter takes "English".
    tab_to(page, r"Language")
    page.keyboard.press("Enter")
    page.wait_for_timeout(600)
    for _ in range(2):  # automatic -> Deutsch -> English
        page.keyboard.press("ArrowDown")
        page.wait_for_timeout(200)
    page.keyboard.press("Enter")
    page.wait_for_timeout(600)
    # Default printer: the second printer by keyboard.
    tab_to(page, r"Default printer|Printer")
    page.keyboard.press("Enter")
    page.wait_for_timeout(600)
    for _ in range(2):  # the OS default -> the first printer -> the second
        page.keyboard.press("ArrowDown")
        page.wait_for_timeout(200)
    page.keyboard.press("Enter")
    page.wait_for_timeout(600)
    shot(page, "settings-keyboard")
    # Esc on an open list closes the list only; the dialog and the choices stay.
    tab_to(page, r"Break-glass")
    page.keyboard.press("Enter")
    page.wait_for_timeout(600)
    page.keyboard.press("Escape")
    page.wait_for_timeout(800)
    page.get_by_text("Settings of this laptop").wait_for()
    tab_to(page, r"^Save")
    page.keyboard.press("Enter")
    # Saved: the dialog closes and the status screen shows the choices made by keyboard.
    page.get_by_text("Settings of this laptop").wait_for(state="detached")
    page.get_by_text(PRINTERS[1]).first.wait_for()
    saved = json.loads((printing_viewer.home / "settings.json").read_text())
    assert saved.get("language") == "en"
    assert saved.get("default_printer") == PRINTERS[1]
    # Esc in the dialog closes the dialog and only the dialog.
    tab_to(page, r"^Settings", back=True)
    page.keyboard.press("Enter")
    page.get_by_text("Settings of this laptop").wait_for()
    page.keyboard.press("Escape")
    page.get_by_text("Settings of this laptop").wait_for(state="detached")
    page.wait_for_timeout(800)
    assert page.get_by_text("Status of this laptop").count()

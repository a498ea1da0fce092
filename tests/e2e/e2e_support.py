"""Constants, data classes and helpers of the end-to-end tests (imported by conftest and the
tests; kept out of conftest.py so that the name cannot collide with another conftest module)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
REPO = TESTS.parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from test_ui_support import ADMIN, NURSE, build_home  # noqa: E402

from app.ui import fmt  # noqa: E402
from app.ui.state import RESTRICTIVE_CODES, code_status_view  # noqa: E402
from sync.receive import installed_wards, open_installed  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IDLE_SECONDS = 9
# The documentation's screenshots are refreshed on request only, so that a test run does not
# modify tracked files: WARDCOPY_UPDATE_SCREENSHOTS=1 .venv/bin/pytest tests/e2e
SCREENSHOTS = (
    REPO / "docs" / "screenshots"
    if os.environ.get("WARDCOPY_UPDATE_SCREENSHOTS")
    else Path(tempfile.gettempdir()) / "wardcopy-e2e-screenshots"
)
VIEWPORT = {"width": 1366, "height": 768}


@dataclass
class Targets:
    """What the tests type and expect, read from the installed snapshot."""

    ward: str
    user: str
    password: str
    display_name: str
    total: int
    umlaut_name: str  # a patient whose name has an umlaut
    umlaut_query: str  # the same name typed without it
    umlaut_other: str  # a patient that query does not match
    prefix: str  # the first letters of one surname
    prefix_hit: str
    other_name: str  # a patient the prefix does not match
    chart_id: str  # a patient with a resuscitation limit (and an allergy when possible)
    chart_name: str
    chart_mrn: str
    chart_code: str  # the code status label the chart shows (English)
    chart_allergy: str


@dataclass
class Viewer:
    url: str
    home: Path
    process: subprocess.Popen[bytes]
    log: Path
    targets: Targets
    admin: tuple[str, str] = ("", "")  # (user id, password) of the IT admin in the roster


def make_home(root: Path) -> tuple[Path, str, str, str]:
    """(laptop home, user, password, display name): the demo if it runs, else the test home.

    The IT admin of the same roster: `admin_of(password)`."""
    demo = root / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "demo", "--dir", str(demo), "--patients", "60",
         "--seed", "3", "--no-view"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        timeout=180,
    )  # fmt: skip
    if result.returncode == 0 and (demo / "laptop").is_dir():
        from wardcopy_demo import DEMO_USERS

        user, name, _role, password = DEMO_USERS[0]
        return demo / "laptop", user, password, name
    print(f"wardcopy demo failed ({result.returncode}); using the test home instead")
    built = build_home(root / "built")
    user, name, _role, password = NURSE
    return built.home, user, password, name


def admin_of(nurse_password: str) -> tuple[str, str]:
    """(user id, password) of the IT admin in the roster the nurse `nurse_password` is from."""
    if nurse_password == NURSE[3]:
        return ADMIN[0], ADMIN[3]
    from wardcopy_demo import DEMO_USERS

    user, _name, _role, password = next(u for u in DEMO_USERS if u[2] == "admin")
    return user, password


def pick_targets(home: Path, user: str, password: str, name: str) -> Targets:
    """Pick the ward and patients the tests need from what is installed."""
    best: Targets | None = None
    for ward in installed_wards(home):
        if ward == "hospital":
            continue
        snap = open_installed(home, ward)
        try:
            rows = snap.reader.census()
            records = {r.patient_id: snap.reader.record(r.patient_id) for r in rows}
        finally:
            snap.close()
        # Rows the first screen shows without scrolling (the list builds rows lazily).
        visible = rows[:8]
        umlaut = next((r for r in rows if any(c in r.name for c in "äöüÄÖÜ")), None)
        limited = [r for r in visible if r.code_status in RESTRICTIVE_CODES and r.mrn]
        limited.sort(key=lambda r: (not r.allergy_count, not r.severe_allergy))
        if umlaut is None or not limited or len(rows) < 3:
            continue
        family = umlaut.name.split(",")[0].split("-")[0]
        query = fmt.fold(family).capitalize()
        prefix_row = next(r for r in rows if len(r.name) > 3 and r.name[0].isalpha())
        prefix = prefix_row.name[:3]
        other = next(r for r in visible if not fmt.matches(prefix, r.name, r.mrn, r.room, r.bed))
        umlaut_other = next(r for r in visible if not fmt.matches(query, r.name, r.mrn, r.room))
        chosen = limited[0]
        record = records[chosen.patient_id]
        assert record is not None
        allergy = record.allergies[0].substance if record.allergies else ""
        code = code_status_view(chosen.code_status, chosen.code_status_text, "en").label
        best = Targets(
            ward, user, password, name, len(rows), umlaut.name, query, umlaut_other.name, prefix,
            prefix_row.name, other.name, chosen.patient_id, chosen.name, chosen.mrn or "",
            code, allergy,
        )  # fmt: skip
        break
    assert best is not None, f"no installed ward in {home} has the patients the e2e tests need"
    return best


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"viewer exited early with code {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.3):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"viewer did not listen on 127.0.0.1:{port} within {timeout} s")

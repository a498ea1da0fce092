"""End-to-end fixtures: a real installed laptop home, the real viewer served on 127.0.0.1 in a
subprocess, and Chromium (/usr/bin/chromium, never downloaded) driven by Playwright.

The home comes from `wardcopy demo --no-view` (generated FHIR data through the whole chain:
build, seal, publish, receive). What the tests look for (a name with an umlaut, a patient with a
resuscitation limit and an allergy) is read from the installed snapshot, so the suite does not
depend on the generator's exact names. If the demo command is unavailable, the suite falls back
to tests/test_ui_support.build_home (the same chain on hand-made records).

The idle lock comes from settings.json (1 min, the settings minimum), shortened for the suite
with WARDCOPY_IDLE_LOCK_SECONDS, which can only shorten it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).resolve().parents[1]
REPO = TESTS.parent
sys.path.insert(0, str(TESTS))

from test_ui_support import NURSE, build_home  # noqa: E402

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

pytestmark = pytest.mark.e2e


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "e2e" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
            if not CHROMIUM.exists():
                item.add_marker(
                    pytest.mark.skip(reason=f"{CHROMIUM} is missing (apt-get install chromium)")
                )


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


def _make_home(root: Path) -> tuple[Path, str, str, str]:
    """(laptop home, user, password, display name): the demo if it runs, else the test home."""
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
        from app.demo import DEMO_USERS

        user, name, _role, password = DEMO_USERS[0]
        return demo / "laptop", user, password, name
    print(f"wardcopy demo failed ({result.returncode}); using the test home instead")
    built = build_home(root / "built")
    user, name, _role, password = NURSE
    return built.home, user, password, name


def _targets(home: Path, user: str, password: str, name: str) -> Targets:
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
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


@pytest.fixture(scope="session")
def viewer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Viewer]:
    """The viewer in web mode on a free port, against a freshly installed home."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    root = tmp_path_factory.mktemp("e2e")
    home, user, password, name = _make_home(root)
    (home / "settings.json").write_text('{"idle_lock_minutes": 1}')
    targets = _targets(home, user, password, name)
    port = _free_port()
    log = root / "viewer.log"
    env = {
        **os.environ,
        "WARDCOPY_IDLE_LOCK_SECONDS": str(IDLE_SECONDS),
        "LANG": "en_US.UTF-8",
        "PYTHONPATH": str(REPO),
    }
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.ui.launch", "--home", str(home), "--port", str(port),
             "--ward", targets.ward, "--no-open"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        _wait_for_port(port, process)
        yield Viewer(f"http://127.0.0.1:{port}/", home, process, log, targets)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: object, viewer: Viewer) -> Iterator[object]:
    """A fresh 1366x768 tab on the viewer with the accessibility tree switched on."""
    from playwright.sync_api import Browser

    assert isinstance(browser, Browser)
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)  # type: ignore[arg-type]
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    pg.goto(viewer.url)
    pg.wait_for_selector("flt-semantics-placeholder", state="attached", timeout=30_000)
    pg.locator("flt-semantics-placeholder").dispatch_event("click")
    yield pg
    context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """On a failed e2e test, keep a screenshot of the page (.pytest_cache/d/e2e-failures/)."""
    report: Any = yield
    page_obj = getattr(item, "funcargs", {}).get("page")
    if call.when == "call" and report.failed and page_obj is not None and item.config.cache:
        target = item.config.cache.mkdir("e2e-failures") / f"{item.name}.png"
        try:
            page_obj.screenshot(path=str(target))
            print(f"failure screenshot: {target}")
        except Exception as exc:  # the browser may be gone
            print(f"no failure screenshot: {exc}")
    return report

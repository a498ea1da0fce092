"""End-to-end fixtures: a real installed laptop home, the real viewer served on 127.0.0.1 in a
subprocess, and Chromium (/usr/bin/chromium, never downloaded) driven by Playwright.

The home is built with the real chain (tests/test_ui_support.build_home). The idle lock comes
from settings.json (1 min, the settings minimum) shortened for the suite with
WARDCOPY_IDLE_LOCK_SECONDS, which can only shorten it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
REPO = TESTS.parent
sys.path.insert(0, str(TESTS))

from test_ui_support import UiHome, build_home  # noqa: E402

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
SCREENSHOTS = REPO / "docs" / "screenshots"
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
class Viewer:
    url: str
    home: UiHome
    process: subprocess.Popen[bytes]
    log: Path


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
    home = build_home(root, idle_lock_minutes=1)
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
            [sys.executable, "-m", "app.ui.launch", "--home", str(home.home), "--port", str(port),
             "--no-open"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        _wait_for_port(port, process)
        yield Viewer(f"http://127.0.0.1:{port}/", home, process, log)
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
    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    pg.goto(viewer.url)
    pg.wait_for_selector("flt-semantics-placeholder", state="attached", timeout=30_000)
    pg.locator("flt-semantics-placeholder").dispatch_event("click")
    yield pg
    context.close()

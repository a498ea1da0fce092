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
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from e2e_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    IDLE_SECONDS,
    REPO,
    VIEWPORT,
    Viewer,
    admin_of,
    free_port,
    make_home,
    pick_targets,
    wait_for_port,
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "e2e" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
            if not CHROMIUM.exists():
                item.add_marker(
                    pytest.mark.skip(reason=f"{CHROMIUM} is missing (apt-get install chromium)")
                )


@pytest.fixture(scope="session")
def viewer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Viewer]:
    """The viewer in web mode on a free port, against a freshly installed home."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    root = tmp_path_factory.mktemp("e2e")
    home, user, password, name = make_home(root)
    (home / "settings.json").write_text('{"idle_lock_minutes": 1}')
    targets = pick_targets(home, user, password, name)
    port = free_port()
    log = root / "viewer.log"
    env = {
        **os.environ,
        "WARDCOPY_IDLE_LOCK_SECONDS": str(IDLE_SECONDS),
        "LANG": "en_US.UTF-8",
        "PYTHONPATH": str(REPO),
        # The laptop clock's zone is not the hospital's (the demo's Europe/Berlin): every time
        # on screen must still be Berlin time (tests/e2e/test_zone_e2e.py).
        "TZ": "UTC",
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
        wait_for_port(port, process)
        yield Viewer(f"http://127.0.0.1:{port}/", home, process, log, targets, admin_of(password))
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
    context = browser.new_context(
        viewport=VIEWPORT,  # type: ignore[arg-type]
        accept_downloads=True,
    )
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
    funcargs = getattr(item, "funcargs", {})
    page_obj = funcargs.get("page") or funcargs.get("sized")
    if call.when == "call" and report.failed and page_obj is not None and item.config.cache:
        target = item.config.cache.mkdir("e2e-failures") / f"{item.name}.png"
        try:
            page_obj.screenshot(path=str(target))
            print(f"failure screenshot: {target}")
        except Exception as exc:  # the browser may be gone
            print(f"no failure screenshot: {exc}")
    return report

"""A census longer than one window (the hospital-wide census) in a real browser at 1024x768:
the count names every match, the list ends in "N more not shown" with a button that lists them,
arrow keys walk past the window, typing narrows the list, and every row stays a button a
screen reader can name (also a row whose allergies or flags show "+N").

Screenshots (the end of the list with the "more" row) go to docs/screenshots/ with
WARDCOPY_UPDATE_SCREENSHOTS=1, else to a temporary folder.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from e2e_support import REPO, SCREENSHOTS, Viewer, free_port, wait_for_port
from test_viewer_e2e import log_in, row

from app.ui.state import CensusModel
from sync.model import CensusRow
from sync.receive import open_installed

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

LIST_LIMIT = 50  # app.ui.screens.census.LIST_LIMIT (not imported: the test drives a browser)


@pytest.fixture(scope="module")
def hospital(viewer: Viewer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second viewer on the same home, on the hospital-wide snapshot; its URL."""
    log = tmp_path_factory.mktemp("hospital") / "viewer.log"
    port = free_port()
    env = {**os.environ, "LANG": "en_US.UTF-8", "PYTHONPATH": str(REPO), "TZ": "UTC"}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.ui.launch", "--home", str(viewer.home), "--port",
             str(port), "--ward", "hospital", "--no-open"],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def census(browser: Any, viewer: Viewer, hospital: str) -> Iterator[tuple[Any, list[CensusRow]]]:
    """A 1024x768 tab logged in to the hospital-wide census, and its rows in display order."""
    snap = open_installed(viewer.home, "hospital")
    try:
        rows = snap.reader.census()
    finally:
        snap.close()
    assert len(rows) > LIST_LIMIT, "the e2e demo's hospital census must be longer than a window"
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(hospital)
    page.wait_for_selector("flt-semantics-placeholder", state="attached", timeout=30_000)
    page.locator("flt-semantics-placeholder").dispatch_event("click")
    page.get_by_role("textbox", name="User id").wait_for()
    page.wait_for_timeout(1000)
    log_in(page, viewer)
    yield page, CensusModel(rows, ward_id="hospital").visible()
    context.close()


def count(page: Any, shown: int, total: int) -> Any:
    """The census count "N of M patients" (a second line may name on-ward / discharged)."""
    return page.get_by_text(re.compile(rf"^{shown} of {total} patients(\s.*)?$", re.S))


def scroll_to_end(page: Any) -> None:
    page.mouse.move(500, 500)
    for _ in range(30):
        page.mouse.wheel(0, 3000)
        page.wait_for_timeout(80)
    page.wait_for_timeout(800)


def test_a_long_census_counts_every_match_and_lists_the_rest_on_request(
    census: tuple[Any, list[CensusRow]],
) -> None:
    page, rows = census
    total, more = len(rows), len(rows) - LIST_LIMIT
    count(page, total, total).wait_for()
    row(page, rows[0].name).first.wait_for()
    scroll_to_end(page)
    # The window's last patient, then the row that says what is not listed.
    row(page, rows[LIST_LIMIT - 1].name).first.wait_for()
    # (Flutter names that row's text in aria-label: found as a label, not as page text.)
    page.get_by_label(f"{more} more not shown: type to narrow the list, or").wait_for()
    assert row(page, rows[-1].name).count() == 0  # beyond the window: not drawn
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "census-window-1024x768.png"))

    page.get_by_role("button", name=f"Show {more} more").click()
    row(page, rows[-1].name).first.wait_for()
    scroll_to_end(page)
    assert page.get_by_label(re.compile(r"more not shown")).count() == 0
    count(page, total, total).wait_for()


def test_arrow_keys_walk_past_the_window_and_typing_narrows_it(
    census: tuple[Any, list[CensusRow]],
) -> None:
    page, rows = census
    total = len(rows)
    count(page, total, total).wait_for()
    box = page.get_by_role("textbox", name="Search (Ctrl+F)")
    box.click()
    page.wait_for_timeout(400)
    # Page Down moves the highlight 8 rows: past the window's end, the window follows.
    for _ in range(total // 8 + 1):
        page.keyboard.press("PageDown")
        page.wait_for_timeout(150)
    row(page, rows[-1].name).first.wait_for()
    # Typing narrows the list: the count is the model's, the first match leads.
    surname = rows[-1].name.split(",")[0][:4]
    box.fill(surname)
    model = CensusModel(rows, ward_id="hospital")
    model.set_query(surname)
    expected = model.visible()
    count(page, len(expected), total).wait_for()
    row(page, expected[0].name).first.wait_for()


def test_every_census_row_is_one_button_with_its_allergies_and_flags(
    census: tuple[Any, list[CensusRow]],
) -> None:
    page, rows = census
    count(page, len(rows), len(rows)).wait_for()
    row(page, rows[0].name).first.wait_for()
    page.wait_for_timeout(1000)
    groups = page.evaluate(
        "() => Array.from(document.querySelectorAll('flt-semantics[role=group]'))"
        ".map(e => (e.getAttribute('aria-label') || e.innerText || '').slice(0, 60))"
    )
    # The rows below the first (the top row is a "group" now and then in Flutter's web
    # semantics, before this change too: a known gap).
    names = [r.name for r in rows[1:6]]
    assert not [g for g in groups if any(n.split(",")[0] in g for n in names)], groups
    # A row whose cell shows "+N" still names every listed allergy to a screen reader.
    for r in [r for r in rows[1:6] if r.allergies_short and ", " in r.allergies_short]:
        last = r.allergies_short.split(", ")[-1]
        label = row(page, r.name).first.evaluate("e => e.getAttribute('aria-label') || e.innerText")
        assert last in label, (r.name, label)

"""The viewer at the window sizes of ward laptops (1024x768, 1366x768) and an office screen
(1920x1080), and by keyboard only: nothing overlaps, the chart header stays compact, Tab reaches
the controls, Esc in a dialog closes only the dialog, forms keep what was typed, and the IT
admin role sees no patient data.

Screenshots (census and chart per size, the admin's status screen) go to docs/screenshots/ with
WARDCOPY_UPDATE_SCREENSHOTS=1, else to a temporary folder.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from e2e_support import SCREENSHOTS, Viewer
from test_viewer_e2e import log_in, row, section, type_into

from sync.receive import open_installed

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SIZES = [(1024, 768), (1366, 768), (1920, 1080)]
FOCUSED = (
    "() => { const a = document.activeElement;"
    " return a ? (a.getAttribute('aria-label') || a.innerText || '').trim() : '' }"
)


@pytest.fixture
def sized(browser: Any, viewer: Viewer, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh tab of the size `request.param` (width, height), accessibility tree on."""
    width, height = request.param
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(viewer.url)
    page.wait_for_selector("flt-semantics-placeholder", state="attached", timeout=30_000)
    page.locator("flt-semantics-placeholder").dispatch_event("click")
    page.get_by_role("textbox", name="User id").wait_for()
    page.wait_for_timeout(1000)  # the login form takes the focus a moment after it shows
    yield page
    context.close()


def shot(page: Any, name: str) -> None:
    page.wait_for_timeout(500)  # animations, fonts
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def box(page: Any, pattern: str) -> dict[str, float]:
    found = page.get_by_text(re.compile(pattern)).first.bounding_box()
    assert found is not None, pattern
    return dict(found)


def overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def tab_to(page: Any, pattern: str, limit: int = 60) -> str:
    """Press Tab until the focused control's name matches `pattern`; returns that name."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        page.wait_for_timeout(120)
        name = page.evaluate(FOCUSED)
        seen.append(name)
        if re.search(pattern, name):
            return str(name)
    raise AssertionError(f"Tab never reached {pattern!r}; focus went through {seen}")


@pytest.mark.parametrize("sized", SIZES, indirect=True, ids=lambda s: f"{s[0]}x{s[1]}")
def test_nothing_overlaps_and_the_chart_header_stays_compact(sized: Any, viewer: Viewer) -> None:
    page, t = sized, viewer.targets
    width, height = page.viewport_size["width"], page.viewport_size["height"]
    suffix = f"{width}x{height}"
    # A wrong password: the message shows and the user id stays typed.
    log_in(page, viewer, password="not-the-password")
    page.get_by_text("Wrong user name or password.").wait_for()
    assert page.get_by_role("textbox", name="User id").input_value() == t.user
    page.wait_for_timeout(1200)  # app.auth asks for 1 s between attempts
    log_in(page, viewer)
    row(page, t.chart_name).wait_for()
    # The banner: the data age, the read-only notice and the user never cover each other.
    as_of = box(page, r"^Data as of")
    read_only = box(page, r"^Read-only copy")
    who = box(page, re.escape(t.display_name))
    assert not overlap(as_of, read_only)
    assert not overlap(as_of, who) and not overlap(read_only, who)
    assert as_of["x"] + as_of["width"] <= width and who["x"] + who["width"] <= width
    # Icon-only buttons (compact) still have names.
    page.get_by_role("button", name=re.compile("Log out")).wait_for()
    page.get_by_role("button", name=re.compile("Print census")).wait_for()
    shot(page, f"census-{suffix}")
    row(page, t.chart_name).click()
    page.get_by_text("Active medications").wait_for()
    page.get_by_text(t.chart_code).first.wait_for()
    page.get_by_text(re.compile(rf"MRN {re.escape(t.chart_mrn)}")).first.wait_for()
    # Compact header (it took 45 % at 1024x768): identity, code status (this patient has a
    # limitation: the longest box) and allergies take at most a third of the window.
    banner_bottom = max(b["y"] + b["height"] for b in (as_of, read_only, who))
    summary = section(page, "Summary").bounding_box()
    assert summary is not None
    assert summary["y"] - banner_bottom <= height / 3, (summary, banner_bottom)
    shot(page, f"chart-{suffix}")


@pytest.mark.parametrize("sized", [(1366, 768)], indirect=True, ids=["1366x768"])
def test_keyboard_reaches_sort_headers_sections_and_lab_history_and_esc_closes_only_the_dialog(
    sized: Any, viewer: Viewer
) -> None:
    page, t = sized, viewer.targets
    log_in(page, viewer)
    row(page, t.chart_name).wait_for()
    page.wait_for_timeout(400)
    # The sort headers are buttons: Tab, then Enter sorts by name.
    tab_to(page, r"^Name$")
    page.keyboard.press("Enter")
    page.get_by_role("button", name=re.compile(r"^Name")).wait_for()
    # Back to the search box; the ward drop-down is reachable too when there are several wards.
    if page.get_by_text("Ward").count():
        # The drop-down names the ward shown, not only its label "Ward" (a review saw that).
        snap = open_installed(viewer.home, t.ward)
        try:
            ward_name = snap.reader.meta.ward_name or t.ward
        finally:
            snap.close()
        assert ward_name in tab_to(page, r"^Ward")
    tab_to(page, r"Search")
    page.keyboard.type(t.chart_mrn, delay=20)
    page.get_by_text(f"1 of {t.total} patients").wait_for()
    page.wait_for_timeout(300)
    page.keyboard.press("Enter")
    page.get_by_text("Active medications").wait_for()
    # The section list by keyboard.
    tab_to(page, r"^Medications")
    page.keyboard.press("Enter")
    page.get_by_text("Given (last 72 h)").wait_for()
    tab_to(page, r"^Labs")
    page.keyboard.press("Enter")
    # The first lab test after the section list opens its history by keyboard.
    tab_to(page, r"^Contacts")
    page.keyboard.press("Tab")
    page.wait_for_timeout(150)
    page.keyboard.press("Enter")
    page.get_by_text(re.compile(r"^History: ")).wait_for()
    # Esc closes the dialog and only the dialog: the chart stays.
    page.keyboard.press("Escape")
    page.get_by_text(re.compile(r"^History: ")).wait_for(state="detached")
    page.wait_for_timeout(800)
    assert page.get_by_text(re.compile(rf"MRN {re.escape(t.chart_mrn)}")).count()
    # Ctrl+P opens the print dialog; Esc closes it, the chart stays.
    page.keyboard.press("Control+p")
    page.get_by_text(re.compile("No printer found")).wait_for()
    page.keyboard.press("Escape")
    page.get_by_text(re.compile("No printer found")).wait_for(state="detached")
    page.wait_for_timeout(800)
    assert page.get_by_text(re.compile(rf"MRN {re.escape(t.chart_mrn)}")).count()
    # A second Esc (no dialog) goes back to the census.
    page.keyboard.press("Escape")
    row(page, t.other_name).wait_for()


@pytest.mark.parametrize("sized", [(1366, 768)], indirect=True, ids=["1366x768"])
def test_it_admin_sees_the_status_screen_and_no_patient_data(sized: Any, viewer: Viewer) -> None:
    page, t = sized, viewer.targets
    admin, password = viewer.admin
    type_into(page, "User id", admin)
    type_into(page, "Password", password)
    page.wait_for_timeout(150)
    page.keyboard.press("Enter")
    page.get_by_text("Status of this laptop").wait_for()
    page.get_by_text(re.compile(r"^Data as of")).first.wait_for()
    page.get_by_role("button", name=re.compile("Settings")).first.wait_for()
    shot(page, "status-admin")
    semantics = page.locator("flt-semantics-host").inner_text()
    for patient_fact in (t.chart_name, t.chart_mrn, t.other_name, t.umlaut_name):
        assert patient_fact not in semantics
    # Esc and the census keys do nothing here.
    page.keyboard.press("Escape")
    page.keyboard.press("Enter")
    page.wait_for_timeout(500)
    assert t.chart_name not in page.locator("flt-semantics-host").inner_text()

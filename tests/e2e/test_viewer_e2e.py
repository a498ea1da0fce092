"""The viewer in a real browser: log in, census, search, chart, print, idle lock, audit trail.

Drives the real Flet web UI through Chromium's accessibility tree (no mocks). Screenshots
(1366x768) go to docs/screenshots/ with WARDCOPY_UPDATE_SCREENSHOTS=1, else to a temporary
folder. Latencies are measured and printed, not asserted.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from e2e_support import IDLE_SECONDS, SCREENSHOTS, Viewer

METRICS: dict[str, float] = {}

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module", autouse=True)
def report_metrics() -> Any:
    """Latencies are reported (printed, and saved beside the screenshots), not asserted."""
    yield
    for name, seconds in METRICS.items():
        print(f"\ne2e metric {name}: {seconds * 1000:.0f} ms")
    if METRICS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / "metrics.json").write_text(
            json.dumps({k: round(v, 3) for k, v in METRICS.items()}, indent=2) + "\n"
        )


def shot(page: Any, name: str) -> None:
    """Save a screenshot after the UI settled (animations, fonts)."""
    page.wait_for_timeout(500)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def type_into(page: Any, label: str, text: str) -> None:
    """Click a text field and type like a person.

    Flutter takes the focus a moment after the click; keys typed before that are lost (a person
    is never that fast, a test driver is). So the field's value is checked and typed again, each
    time waiting longer: on a loaded machine the first seconds after a page load can swallow
    several attempts (seen in CI while another browser test ran beside it).
    """
    field = page.get_by_role("textbox", name=label)
    field.wait_for(state="visible")
    for attempt in range(6):
        field.click()
        page.wait_for_timeout(300 * (attempt + 1))
        field.press("Control+a")
        field.press("Backspace")
        field.press_sequentially(text, delay=15 * (attempt + 1))
        for _poll in range(15 + 5 * attempt):  # the DOM input mirrors Flutter's value later
            if field.input_value() == text:
                return
            page.wait_for_timeout(100)
    raise AssertionError(f"could not type into {label!r}")


def log_in(page: Any, viewer: Viewer, password: str | None = None) -> None:
    type_into(page, "User id", viewer.targets.user)
    type_into(page, "Password", password or viewer.targets.password)
    page.wait_for_timeout(150)
    page.keyboard.press("Enter")


def row(page: Any, name: str) -> Any:
    """A census row (the whole row is one button in the accessibility tree)."""
    return page.get_by_role("button", name=re.compile(re.escape(name)))


def section(page: Any, label: str) -> Any:
    """A chart section in the side list (label and entry count form one button)."""
    return page.get_by_role("button", name=re.compile(rf"^{re.escape(label)}\b"))


def audit_events(viewer: Viewer) -> list[dict[str, Any]]:
    path = viewer.home / "audit" / "audit.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_wrong_password_is_refused_then_login_shows_the_census(page: Any, viewer: Viewer) -> None:
    t = viewer.targets
    page.get_by_role("textbox", name="User id").wait_for()
    page.get_by_text("Read-only copy").first.wait_for()
    shot(page, "login")
    log_in(page, viewer, password="not-the-password")
    page.get_by_text("Wrong user name or password.").wait_for()
    page.wait_for_timeout(1200)  # app.auth asks for 1 s between attempts
    log_in(page, viewer)
    row(page, t.chart_name).wait_for()
    page.get_by_text(t.display_name).wait_for()
    page.get_by_text(f"{t.total} of {t.total} patients").wait_for()
    shot(page, "census")
    events = [e["event"] for e in audit_events(viewer)]
    assert "login_failed" in events
    assert "login" in events


def test_search_finds_by_prefix_and_without_umlauts(page: Any, viewer: Viewer) -> None:
    t = viewer.targets
    log_in(page, viewer)
    row(page, t.other_name).wait_for()
    box = page.get_by_role("textbox", name="Search (Ctrl+F)")
    box.click()
    page.wait_for_timeout(400)  # Flutter takes the focus a moment after the click
    started = time.perf_counter()
    box.press_sequentially(t.prefix, delay=20)
    row(page, t.other_name).wait_for(state="detached", timeout=5_000)
    assert box.input_value() == t.prefix
    METRICS["typing_prefix_to_filtered_list_s"] = time.perf_counter() - started
    row(page, t.prefix_hit).wait_for()
    # One input event (like a paste) to the updated list: the name without its umlaut.
    box.fill("")
    row(page, t.umlaut_other).wait_for()
    page.wait_for_timeout(300)
    started = time.perf_counter()
    box.fill(t.umlaut_query)
    row(page, t.umlaut_other).wait_for(state="detached", timeout=5_000)
    row(page, t.umlaut_name).wait_for()
    METRICS["input_to_updated_list_s"] = time.perf_counter() - started
    assert t.umlaut_name != t.umlaut_query  # typed without umlaut, found with one


def test_opening_a_patient_shows_allergy_code_status_and_is_audited(
    page: Any, viewer: Viewer
) -> None:
    t = viewer.targets
    log_in(page, viewer)
    row(page, t.chart_name).wait_for()
    started = time.perf_counter()
    row(page, t.chart_name).click()
    page.get_by_text("Active medications").wait_for()
    METRICS["click_to_rendered_chart_s"] = time.perf_counter() - started
    page.get_by_text(t.chart_code).first.wait_for()
    page.get_by_text(re.compile(rf"MRN {re.escape(t.chart_mrn)}")).first.wait_for()
    if t.chart_allergy:
        page.get_by_text(re.compile(re.escape(t.chart_allergy))).first.wait_for()
    shot(page, "chart")
    section(page, "Medications").click()
    page.get_by_text("Given (last 72 h)").wait_for()
    section(page, "Vital signs").click()
    page.get_by_text("Trend").wait_for()
    shot(page, "chart-vitals")
    # Print: no printer on this machine, so the dialog says so and offers the PDF.
    page.get_by_role("button", name="Print", exact=True).click()
    page.get_by_text(re.compile("No printer found")).wait_for()
    page.get_by_role("radio", name="MAR 24 h (default)").click()  # setting mar_hours
    with page.expect_download(timeout=15_000) as download:
        page.get_by_role("button", name=re.compile("Save as PDF")).click()
    assert download.value.suggested_filename.endswith(".pdf")
    # In a browser the PDF is a download: the dialog says where it went (the browser's folder).
    page.get_by_text(re.compile("^Downloaded as wardcopy-mar24-")).wait_for()
    page.get_by_role("button", name="Cancel").click()
    page.keyboard.press("Escape")
    row(page, t.other_name).wait_for(timeout=5_000)
    opened = [e for e in audit_events(viewer) if e["event"] == "patient_open"]
    assert opened and opened[-1]["patient_id"] == t.chart_id
    assert opened[-1]["user"] == t.user
    printed = [e for e in audit_events(viewer) if e["event"] == "print"]
    assert printed and printed[-1]["patient_id"] == t.chart_id
    assert printed[-1]["details"]["document"] == "mar24"


def test_idle_lock_hides_all_patient_data_and_needs_a_new_login(page: Any, viewer: Viewer) -> None:
    t = viewer.targets
    log_in(page, viewer)
    row(page, t.other_name).wait_for()
    # Keyboard only: Ctrl+F to the search box, the MRN, Enter opens the highlighted patient.
    page.keyboard.press("Escape")
    page.keyboard.press("Control+f")
    page.wait_for_timeout(600)
    page.keyboard.type(t.chart_mrn, delay=20)
    page.get_by_text(f"1 of {t.total} patients").wait_for()
    page.wait_for_timeout(300)
    page.keyboard.press("Enter")
    page.get_by_text("Active medications").wait_for()
    page.get_by_text("Screen locked").wait_for(timeout=(IDLE_SECONDS + 6) * 1000)
    shot(page, "lock")
    semantics = page.locator("flt-semantics-host").inner_text()
    for patient_fact in (t.chart_name, t.chart_mrn, t.other_name, "Active medications"):
        assert patient_fact not in semantics
    assert "Read-only copy" in semantics
    # The same user logs in again and is back at the patient.
    log_in(page, viewer)
    page.get_by_text("Active medications").wait_for()
    page.get_by_text(re.compile(rf"MRN {re.escape(t.chart_mrn)}")).first.wait_for()
    events = [e["event"] for e in audit_events(viewer)]
    assert "idle_lock" in events
    assert "unlock" in events

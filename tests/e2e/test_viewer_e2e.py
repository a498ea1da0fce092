"""The viewer in a real browser: log in, census, search, chart, idle lock, audit trail.

Drives the real Flet web UI through Chromium's accessibility tree (no mocks). Screenshots for
docs/screenshots/ are taken here (1366x768). Latencies are measured and printed, not asserted.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from conftest import IDLE_SECONDS, SCREENSHOTS, Viewer
from test_ui_support import NURSE

USER, _NAME, _ROLE, PASSWORD = NURSE
METRICS: dict[str, float] = {}

pytestmark = pytest.mark.e2e


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
    """Click a text field and type like a person (Flutter needs the focus before keys arrive)."""
    field = page.get_by_role("textbox", name=label)
    field.click()
    field.fill("")
    page.wait_for_timeout(250)
    field.press_sequentially(text, delay=15)


def log_in(page: Any, user: str = USER, password: str = PASSWORD) -> None:
    type_into(page, "User id", user)
    type_into(page, "Password", password)
    page.wait_for_timeout(150)
    page.keyboard.press("Enter")


def row(page: Any, name: str) -> Any:
    """A census row (the whole row is one button in the accessibility tree)."""
    return page.get_by_role("button", name=re.compile(re.escape(name)))


def section(page: Any, label: str) -> Any:
    """A chart section in the side list (label and entry count form one button)."""
    return page.get_by_role("button", name=re.compile(rf"^{re.escape(label)}\b"))


def audit_events(viewer: Viewer) -> list[dict[str, Any]]:
    path = viewer.home.home / "audit" / "audit.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_wrong_password_is_refused_then_login_shows_the_census(page: Any, viewer: Viewer) -> None:
    page.get_by_role("textbox", name="User id").wait_for()
    page.get_by_text("Read-only copy").first.wait_for()
    shot(page, "login")
    log_in(page, password="not-the-password")
    page.get_by_text("Wrong user name or password.").wait_for(timeout=10_000)
    log_in(page)
    row(page, "Müller, Erika").wait_for(timeout=10_000)
    page.get_by_text("Anna Berg").wait_for()
    page.get_by_text("14 of 14 patients").wait_for()
    shot(page, "census")
    events = [e["event"] for e in audit_events(viewer)]
    assert "login_failed" in events
    assert "login" in events


def test_search_finds_by_prefix_and_without_umlauts(page: Any, viewer: Viewer) -> None:
    log_in(page)
    row(page, "Becker, Liese").wait_for(timeout=10_000)
    box = page.get_by_role("textbox", name="Search (Ctrl+F)")
    box.click()
    page.wait_for_timeout(250)
    # Prefix: "Sch" finds Schmidt and Schäfer, and the list drops Becker.
    started = time.perf_counter()
    box.press_sequentially("Sch", delay=20)
    row(page, "Becker, Liese").wait_for(state="detached", timeout=5_000)
    METRICS["keystroke_to_list_s"] = time.perf_counter() - started
    row(page, "Schmidt, Hans").wait_for()
    row(page, "Schäfer, Frieda").wait_for()
    # "Muller" (no umlaut) finds "Müller".
    box.fill("")
    page.wait_for_timeout(300)
    box.press_sequentially("Muller", delay=20)
    row(page, "Schmidt, Hans").wait_for(state="detached", timeout=5_000)
    row(page, "Müller, Erika").wait_for()
    page.get_by_text("1 of 14 patients").wait_for()


def test_opening_a_patient_shows_allergy_code_status_and_is_audited(
    page: Any, viewer: Viewer
) -> None:
    log_in(page)
    row(page, "Müller, Erika").wait_for(timeout=10_000)
    started = time.perf_counter()
    row(page, "Müller, Erika").click()
    page.get_by_text("Active medications").wait_for(timeout=10_000)
    METRICS["click_to_chart_s"] = time.perf_counter() - started
    page.get_by_text(re.compile(r"DNR – do not resuscitate")).first.wait_for()
    page.get_by_text(re.compile(r"Penicillin \(severe\)")).first.wait_for()
    page.get_by_text(re.compile(r"MRN 40001000")).first.wait_for()
    shot(page, "chart")
    section(page, "Medications").click()
    page.get_by_text("Given (last 72 h)").wait_for()
    section(page, "Vital signs").click()
    page.get_by_text("Trend").wait_for()
    shot(page, "chart-vitals")
    page.keyboard.press("Escape")
    row(page, "Becker, Liese").wait_for(timeout=5_000)
    opened = [e for e in audit_events(viewer) if e["event"] == "patient_open"]
    assert opened and opened[-1]["patient_id"] == "pat-station-3a-0"
    assert opened[-1]["user"] == USER


def test_idle_lock_hides_all_patient_data_and_needs_a_new_login(page: Any, viewer: Viewer) -> None:
    log_in(page)
    row(page, "Müller, Erika").click(timeout=10_000)
    page.get_by_text("Active medications").wait_for(timeout=10_000)
    page.get_by_text("Screen locked").wait_for(timeout=(IDLE_SECONDS + 6) * 1000)
    shot(page, "lock")
    semantics = page.locator("flt-semantics-host").inner_text()
    for patient_fact in ("Müller", "Penicillin", "40001000", "Metoprolol"):
        assert patient_fact not in semantics
    assert "Read-only copy" in semantics
    # The same user logs in again and is back at the patient.
    log_in(page)
    page.get_by_text("Active medications").wait_for(timeout=10_000)
    events = [e["event"] for e in audit_events(viewer)]
    assert "idle_lock" in events
    assert events.count("login") >= 2

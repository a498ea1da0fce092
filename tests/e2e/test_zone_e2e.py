"""Screen and paper agree on every time, in the hospital's zone, whatever the laptop's zone.

The viewer runs with `TZ=UTC` (tests/e2e/conftest.py) on a snapshot whose hospital zone is
Europe/Berlin. The chart of one patient on screen and the printed summary and MAR of the same
patient (`wardcopy print`, also under `TZ=UTC`) must show data-as-of, admission time, schedule
times and next due in Berlin time, and the top bar must say which zone its times are in.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from e2e_support import REPO, SCREENSHOTS, Viewer
from pypdf import PdfReader
from test_viewer_e2e import log_in, row, section, shot

from app.present.dose import medication_text
from app.present.formats import fmt_datetime, fmt_time
from app.schedule import next_due
from sync.receive import open_installed

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

BERLIN = ZoneInfo("Europe/Berlin")


def printed(viewer: Viewer, document: str, out: Path) -> str:
    """The text of `wardcopy print DOCUMENT` for the chart patient, run with TZ=UTC."""
    t = viewer.targets
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "--home", str(viewer.home), "print", document,
         "--patient", t.chart_id, "--ward", t.ward, "--user", t.user, "--password-stdin",
         "--lang", "en", "--out", str(out)],
        input=t.password.encode(),
        cwd=REPO,
        env={**os.environ, "TZ": "UTC", "PYTHONPATH": str(REPO)},
        capture_output=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    reader = PdfReader(io.BytesIO(out.read_bytes()))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def test_screen_and_paper_show_berlin_time_on_a_utc_laptop(
    page: Any, viewer: Viewer, tmp_path: Path
) -> None:
    t = viewer.targets
    snap = open_installed(viewer.home, t.ward)
    try:
        assert snap.reader.meta.time_zone == "Europe/Berlin"
        record = snap.reader.record(t.chart_id)
        as_of = snap.data_as_of
    finally:
        snap.close()
    assert record is not None
    now = datetime.now(UTC)
    assert now.astimezone(BERLIN).utcoffset() != now.utcoffset()  # the zones really differ

    log_in(page, viewer)
    row(page, t.chart_name).click()
    page.get_by_text("Active medications").wait_for()
    banner = page.get_by_text(re.compile(r"^Data as of ")).first.inner_text()
    page.get_by_text("times in Europe/Berlin (hospital)").wait_for()
    shot(page, "zone-chart")
    chart_text = page.locator("flt-semantics-host").inner_text()
    section(page, "Medications").click()
    page.get_by_text("Given (last 72 h)").wait_for()
    shot(page, "zone-medications")
    meds_text = page.locator("flt-semantics-host").inner_text()
    summary = printed(viewer, "summary", tmp_path / "summary.pdf")
    mar = printed(viewer, "mar", tmp_path / "mar.pdf")
    (SCREENSHOTS / "zone-texts.txt").write_text(
        "\n\n".join([banner, chart_text, meds_text, summary, mar])
    )

    # Data as of: Berlin time on screen (saying its zone) and on paper; never the UTC time.
    berlin_as_of = fmt_time(as_of, "en", BERLIN)
    zone_abbr = as_of.astimezone(BERLIN).tzname()
    assert f"{berlin_as_of} {zone_abbr}" in banner, banner
    assert fmt_datetime(as_of, "en", BERLIN) in summary
    assert fmt_datetime(as_of, "en", UTC) not in summary
    assert fmt_datetime(as_of, "en", BERLIN) in mar

    # Admission time: the same Berlin date and time on screen and on paper.
    stay = record.stay
    if stay is not None and stay.admitted is not None:
        admitted = fmt_datetime(stay.admitted, "en", BERLIN)
        assert admitted in chart_text + meds_text
        assert admitted in summary
        assert fmt_datetime(stay.admitted, "en", UTC) not in summary

    # Schedule times and next due of every active scheduled order, on screen and on the MAR.
    checked = 0
    for order in record.medications:
        if (order.status or "active") != "active" or order.as_needed:
            continue
        schedule = medication_text(order, "en", BERLIN).schedule(" ")
        for clock in re.findall(r"\b\d{2}:\d{2}\b", schedule):
            assert clock in meds_text and clock in mar, (order.drug, clock)
        info = next_due(order, datetime.now(UTC), record.administrations, BERLIN)
        if info is None or info.next_time is None:
            continue
        due = fmt_time(info.next_time, "en", BERLIN)
        assert due in meds_text, (order.drug, due)
        assert due in summary, (order.drug, due)
        checked += 1
    assert checked, "the chart patient has no scheduled medication to compare"

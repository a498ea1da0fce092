"""The census due/overdue column and the "medications due" screen in a real browser at
1024x768 (the smallest ward laptop), reached with the keyboard only."""

from __future__ import annotations

import re
from typing import Any

import pytest
from e2e_support import Viewer
from test_viewer_e2e import log_in, row, shot

pytestmark = pytest.mark.e2e


def test_census_due_column_and_due_screen_by_keyboard_at_1024(page: Any, viewer: Viewer) -> None:
    page.set_viewport_size({"width": 1024, "height": 768})
    log_in(page, viewer)
    row(page, viewer.targets.chart_name).wait_for()
    page.get_by_text("Meds due").first.wait_for()  # the column heading (English default)
    # The column fills in the background; wait until some row says due/overdue or "–" is final.
    page.wait_for_timeout(2500)
    shot(page, "census-due-1024")
    page.keyboard.press("Control+m")
    page.get_by_text("Medications due (next 4 h)").wait_for()
    page.get_by_text(re.compile(r"^\d+ doses, \d+ of them overdue$|^No scheduled doses")).wait_for()
    shot(page, "due-1024")
    page.keyboard.press("8")
    page.get_by_text("Medications due (next 8 h)").wait_for()
    page.keyboard.press("Escape")
    row(page, viewer.targets.chart_name).wait_for()

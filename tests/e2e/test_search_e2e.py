"""Search in a real browser at 1024x768: "no patients found" on a ward offers the whole-hospital
search (a button that Tab reaches), which runs the same words hospital-wide; the hit keeps its
MRN, birth date and case number visible and says which ward it is on."""

from __future__ import annotations

import re
from typing import Any

import pytest
from e2e_support import Viewer
from test_viewer_e2e import log_in, row, shot
from test_viewer_sizes_e2e import tab_to

from app.ui import fmt
from sync.receive import installed_wards, open_installed

pytestmark = pytest.mark.e2e


def elsewhere(viewer: Viewer) -> tuple[str, str, str, str]:
    """(query, name, MRN, birth date as shown in English) of a patient on another ward whom
    the query finds nowhere on the test ward."""
    home, ward = viewer.home, viewer.targets.ward
    if "hospital" not in installed_wards(home):
        pytest.skip("no hospital-wide snapshot installed")
    here = open_installed(home, ward)
    house = open_installed(home, "hospital")
    try:
        local = here.reader.census()
        for candidate in house.reader.census():
            if candidate.ward_id == ward or not candidate.mrn or not candidate.birth_date:
                continue
            family = candidate.name.split(",")[0].strip()
            if not family.isalpha():
                continue
            query = f"{family} {candidate.name.split(',')[1].split()[0]}"
            if not any(fmt.matches(query, r.name, r.mrn, r.room, r.bed) for r in local) and not [
                h for h in here.reader.search(query) if h.ward_id == ward
            ]:
                birth = fmt.birth_text(candidate.birth_date, "en", candidate.birth_precision)
                return query, candidate.name, candidate.mrn, birth
    finally:
        here.close()
        house.close()
    pytest.skip("every hospital patient's name is also found on the test ward")


def test_no_patients_found_offers_the_whole_hospital_by_keyboard(page: Any, viewer: Viewer) -> None:
    query, name, mrn, birth = elsewhere(viewer)
    page.set_viewport_size({"width": 1024, "height": 768})
    log_in(page, viewer)
    row(page, viewer.targets.chart_name).wait_for()
    box = page.get_by_role("textbox", name="Search (Ctrl+F)")
    box.click()
    page.wait_for_timeout(400)  # Flutter takes the focus a moment after the click
    box.press_sequentially(query, delay=15)
    page.get_by_text("No patients found.").wait_for()
    offer = page.get_by_role("button", name=re.compile("Search the whole hospital"))
    offer.wait_for()
    shot(page, "census-none-found-1024")
    # Keyboard only: Tab from the search box reaches the offer; Enter runs it.
    tab_to(page, "Search the whole hospital")
    page.keyboard.press("Enter")
    hit = row(page, name)
    hit.wait_for(timeout=15_000)
    label = hit.get_attribute("aria-label") or hit.inner_text()
    # The hit keeps what identifies the patient: birth date and MRN (and its other ward).
    assert mrn in label and birth in label, label
    assert box.input_value() == query  # the same words, now hospital-wide
    page.get_by_text(re.compile(r"found in the hospital")).wait_for()
    shot(page, "census-hospital-hit-1024")

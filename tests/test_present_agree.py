"""Screen and paper say the same: the chart view-model and the printed PDFs (read back with
pypdf) show the same next-due and room/bed text for the same patient, in German and English."""

from __future__ import annotations

import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from app.duelist import ward_due
from app.present.due import due_text
from app.printing import DocumentMeta, render_mar, render_summary
from app.printing.due import render_due
from app.printing.sample import sample_record
from app.ui.viewmodels.chart import ChartModel
from app.ui.viewmodels.due import DueListModel

TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 30, 9, 30, tzinfo=TZ)
AS_OF = datetime(2026, 11, 30, 9, 0, tzinfo=TZ)
META = DocumentMeta(ward_name="Station 7 Innere", data_as_of=AS_OF, ward_id="ward-7")

EXPECTED = {
    # Metoprolol 08:00/20:00: the 08:00 dose is not documented at 09:30.
    "de": ("ÜBERFÄLLIG seit 08:00 · nächste 20:00", "Zimmer 12 / Bett A"),
    "en": ("OVERDUE since 08:00 · next 20:00", "Room 12 / bed A"),
}


def flat_text(pdf: bytes) -> str:
    """All pages' text with every run of whitespace as one space (cells wrap at spaces)."""
    pages = [page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages]
    return re.sub(r"\s+", " ", " ".join(pages))


@pytest.mark.parametrize("lang", ["de", "en"])
def test_chart_and_pdfs_show_the_same_next_due_and_room_bed(lang: str) -> None:
    record = sample_record(NOW)
    model = ChartModel(record, now=NOW, tz=TZ, lang=lang)
    due_expected, place_expected = EXPECTED[lang]

    metoprolol = next(m for m in model.medications() if m.drug.startswith("Metoprolol"))
    assert metoprolol.due.overdue
    assert metoprolol.due.text == due_expected
    assert place_expected in model.header().location

    summary = flat_text(render_summary(record, META, "S. Pflege", lang, NOW, TZ))
    mar = flat_text(render_mar(record, META, "S. Pflege", lang, NOW, TZ, hours=24))
    for paper in (summary, mar):
        assert metoprolol.due.text in paper
        assert place_expected in paper
    # Every scheduled order's next-due text on the screen is the one the summary prints.
    for line in model.medications():
        if not line.prn and line.due.text != "–":
            assert line.due.text in summary, line.drug


def test_a_stale_snapshot_calls_only_doses_before_data_as_of_overdue() -> None:
    """The MAR's meaning of "overdue": not documented in the system, and due before data-as-of.
    A dose due after data-as-of may have been given since; it is not called overdue."""
    record = sample_record(NOW)
    order = next(o for o in record.medications if o.drug.startswith("Metoprolol"))
    fresh = due_text(order, record.administrations, NOW, TZ, "de", as_of=AS_OF)
    assert fresh.overdue and fresh.text == "ÜBERFÄLLIG seit 08:00 · nächste 20:00"
    stale = due_text(order, record.administrations, NOW, TZ, "de", as_of=NOW.replace(hour=7))
    # Missed after data-as-of: "due", never "overdue" (the snapshot cannot know it was missed).
    assert not stale.overdue and stale.text == "fällig 08:00 · nächste 20:00"


@pytest.mark.parametrize(
    ("as_of_hour", "lang", "overdue", "expected"),
    [
        (9, "de", True, "ÜBERFÄLLIG seit 08:00 · nächste 20:00"),
        (7, "de", False, "fällig 08:00 · nächste 20:00"),
        (9, "en", True, "OVERDUE since 08:00 · next 20:00"),
        (7, "en", False, "due 08:00 · next 20:00"),
    ],
)
def test_chart_due_list_and_paper_agree_on_overdue_against_data_as_of(
    as_of_hour: int, lang: str, overdue: bool, expected: str
) -> None:
    """The 08:00 Metoprolol dose at 09:30 is undocumented. With data as of 09:00 it is overdue
    on the chart, in the due list (screen and paper), the summary and the MAR; with data as of
    07:00 it is only due everywhere: it may well have been given after the copy was made."""
    record = sample_record(NOW)
    as_of = NOW.replace(hour=as_of_hour, minute=0)
    meta = DocumentMeta(ward_name="Station 7 Innere", data_as_of=as_of, ward_id="ward-7")

    chart = ChartModel(record, now=NOW, tz=TZ, lang=lang, data_as_of=as_of)
    line = next(m for m in chart.medications() if m.drug.startswith("Metoprolol"))
    assert (line.due.overdue, line.due.text) == (overdue, expected)

    doses = ward_due([record], NOW, 4, as_of, TZ)
    at_eight = [d for d in doses if d.order.drug.startswith("Metoprolol") and d.when.hour == 8]
    assert [d.overdue for d in at_eight] == [overdue]
    due_screen = DueListModel(doses, 4)
    row = next(r for r in due_screen.lines(NOW, TZ, lang) if r.drug.startswith("Metoprolol"))
    assert bool(row.mark) is overdue

    summary = flat_text(render_summary(record, meta, "S. Pflege", lang, NOW, TZ))
    mar = flat_text(render_mar(record, meta, "S. Pflege", lang, NOW, TZ, hours=24))
    due_paper = flat_text(render_due([record], meta, "S. Pflege", lang, NOW, TZ, hours=4))
    assert expected in summary
    # The MAR prints the next-due words only beside an overdue order (its grid has the times).
    assert (expected in mar) is overdue
    marker = "ÜBERFÄLLIG" if lang == "de" else "OVERDUE"
    for paper in (summary, mar, due_paper):
        assert (marker in paper) is overdue


@pytest.mark.parametrize("lang", ["de", "en"])
def test_census_screen_and_paper_show_the_same_case_number(lang: str) -> None:
    """The screen's census row names the case (visit) number under the MRN; the printed census
    did not, so a nurse copying it onto a paper form had to go back to a laptop."""
    from app.printing import render_census
    from app.ui.viewmodels.census import census_line
    from sync.model import CensusRow

    record = sample_record(NOW)
    assert record.stay is not None and record.stay.case_number
    row = CensusRow.from_record(record)
    shown = census_line(row, NOW, TZ, lang).case
    assert shown == {"de": "Fall", "en": "Case"}[lang] + f" {record.stay.case_number}"
    printed = flat_text(render_census([row], META, "S. Pflege", lang, NOW, TZ))
    assert shown in printed, printed[:400]
    assert f"MRN {record.mrn} · {shown}" in printed


@pytest.mark.parametrize("lang", ["de", "en"])
def test_census_screen_and_paper_tell_none_known_from_not_documented(lang: str) -> None:
    """The printed census showed "–" both for documented "no known allergies" and for
    allergies never documented; the screen says which, and so does the paper now."""
    from app.printing import render_census
    from app.ui.viewmodels.census import census_line
    from sync.model import CensusRow

    base = CensusRow.from_record(sample_record(NOW))
    nka = base.model_copy(update={"allergy_count": 0, "allergies_short": None,
                                  "severe_allergy": False, "no_known_allergies": True})  # fmt: skip
    unknown = nka.model_copy(update={"no_known_allergies": False, "patient_id": "p2"})
    for row, words in ((nka, ("keine bekannt", "none known")),
                       (unknown, ("nicht dokumentiert", "not documented"))):  # fmt: skip
        shown = census_line(row, NOW, TZ, lang).allergy_none
        assert shown == words[0 if lang == "de" else 1]
        assert shown in flat_text(render_census([row], META, "S. Pflege", lang, NOW, TZ))

"""Due and overdue on the night the clocks go back (Europe/Berlin, Sunday 25 Oct 2026: 03:00
CEST becomes 02:00 CET, so 02:00-02:59 happens twice). Overdue is a comparison of instants,
never of wall times: the chart and the printed MAR say the same whether "now" and data-as-of
arrive as UTC (the viewer) or in the hospital's zone (`wardcopy print`), and a dose at 02:15
CEST is 65 min late at 02:20 CET, not "due in 5 min"."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from app.duelist import record_doses
from app.printing import DocumentMeta, render_mar
from app.printing.mar import order_grid
from app.printing.margrid import Cell
from app.ui.viewmodels.chart import ChartModel
from sync.mapping import MappingContext, map_patient
from sync.model import PatientRecord
from tests.test_present_agree import flat_text

BERLIN = ZoneInfo("Europe/Berlin")
# 02:20 CET, the second 02:20 of the night (the first was 00:20 UTC).
CRITICAL = datetime(2026, 10, 25, 1, 20, tzinfo=UTC)


def ehr_record() -> PatientRecord:
    """An order with doses at 01:30 and 02:15 (CEST, before the change) and 03:00 (CET), as
    an EHR sends it; the 01:30 dose was given, the 02:15 one not (yet) documented."""
    patient = {"resourceType": "Patient", "id": "p1", "name": [{"family": "Beispiel"}]}
    order: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": "m1",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": {"text": "Noradrenalin-Bolus-Test 1 mg"},
        "authoredOn": "2026-10-20T09:00:00+02:00",
        "dosageInstruction": [
            {
                "timing": {"repeat": {"timeOfDay": ["01:30:00", "02:15:00", "03:00:00"]}},
                "route": {"text": "i.v."},
                "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "mg"}}],
            }
        ],
    }
    given = {
        "resourceType": "MedicationAdministration",
        "id": "a1",
        "status": "completed",
        "medicationCodeableConcept": {"text": "Noradrenalin-Bolus-Test 1 mg"},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2026-10-25T01:32:00+02:00",
        "request": {"reference": "MedicationRequest/m1"},
    }
    ctx = MappingContext(tz=BERLIN, now=CRITICAL, problems=Counter())
    return map_patient(patient, [order, given], ctx)


def _both(moment: datetime) -> tuple[datetime, datetime]:
    """The same instant as UTC and as Berlin wall time (fold set by the conversion)."""
    return moment.astimezone(UTC), moment.astimezone(BERLIN)


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("de", "ÜBERFÄLLIG seit 02:15 · nächste 03:00"),
        ("en", "OVERDUE since 02:15 · next 03:00"),
    ],
)
def test_a_dose_before_the_change_is_overdue_after_it_on_screen_and_paper(
    lang: str, expected: str
) -> None:
    record = ehr_record()
    for now in _both(CRITICAL):
        model = ChartModel(record, now=now, tz=BERLIN, lang=lang, data_as_of=now)
        (line,) = model.medications()
        assert line.due.overdue and line.due.text == expected, now
        meta = DocumentMeta(ward_name="Station 7", data_as_of=now, ward_id="w7")
        mar = flat_text(render_mar(record, meta, "x", lang, now, BERLIN, hours=24))
        assert line.due.text in mar
        end = now.astimezone(UTC) + timedelta(hours=24)
        grid = order_grid(record.medications[0], record.administrations, now, end, BERLIN, now)
        late = [k for k, v in grid.cells.items() if v is Cell.LATE]
        assert [(c.hour, c.minute, c.second) for c, _day in late] == [(2, 15, False)], now


def _printed(pdf: bytes) -> str:
    return re.sub(r"(Gedruckt von|Printed by) \S+ (am|on) [^·]+·", "<printed>", flat_text(pdf))


def test_screen_and_paper_agree_across_the_night_whatever_zone_now_is_given_in() -> None:
    """Every 10 minutes from 00:00 CEST to 04:00 CET (5 real hours): the chart's due text, the
    MAR grid and the MAR's text are the same for `now` and data-as-of given as UTC or in the
    hospital's zone; the overdue state only ever switches on as real time passes."""
    record = ehr_record()
    order = record.medications[0]
    start = datetime(2026, 10, 24, 22, 0, tzinfo=UTC)
    was_overdue_at: datetime | None = None
    for step in range(31):
        utc, local = _both(start + timedelta(minutes=10 * step))
        texts = []
        grids = []
        due_lists = []
        for now in (utc, local):
            # The census column and the ward's due list (app.duelist) alike.
            due_lists.append(record_doses(record, now, 8, now, BERLIN))
            model = ChartModel(record, now=now, tz=BERLIN, lang="de", data_as_of=now)
            texts.append(model.medications()[0].due)
            end = utc + timedelta(hours=24)
            grid = order_grid(order, record.administrations, now, end, BERLIN, now)
            cells = grid.cells.items()
            grids.append(sorted((c.hour, c.minute, c.second, d, v.value) for (c, d), v in cells))
        assert texts[0] == texts[1], (utc, texts)
        assert grids[0] == grids[1], utc
        assert due_lists[0] == due_lists[1], utc
        overdue = texts[0].overdue
        # 02:15 CEST is 00:15 UTC: overdue once 60 min have passed (from 01:15 UTC) and for
        # the rest of the night shown here (the 4 h look-back ends at 04:15 UTC).
        assert overdue == (utc > datetime(2026, 10, 25, 1, 15, tzinfo=UTC)), (utc, texts[0])
        if overdue and was_overdue_at is None:
            was_overdue_at = utc
    assert was_overdue_at == datetime(2026, 10, 25, 1, 20, tzinfo=UTC)
    for lang in ("de", "en"):
        pdfs = []
        for now in _both(CRITICAL):
            meta = DocumentMeta(ward_name="Station 7", data_as_of=now, ward_id="w7")
            pdfs.append(_printed(render_mar(record, meta, "x", lang, now, BERLIN, hours=24)))
        assert pdfs[0] == pdfs[1]

"""A scheduled dose documented as not given (MedicationAdministration status "not-done" with a
statusReason, as an EHR writes it) is shown as "not given" with its reason on the chart and on
the printed MAR: never as an empty grey slot ("no dose due") nor under "Last given"."""

from __future__ import annotations

import io
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from app.printing import DocumentMeta, render_mar
from app.printing.mar import order_grid
from app.printing.margrid import Cell
from app.ui.viewmodels.chart import ChartModel
from sync.mapping import MappingContext, map_patient
from sync.model import PatientRecord

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 2, 18, 30, tzinfo=UTC)  # 19:30 local: 14:00 is past the overdue window
REASON = "Patient nicht auf Station (Diagnostik)"


def _record(*, given_later: bool = False) -> PatientRecord:
    patient = {"resourceType": "Patient", "id": "p1", "name": [{"family": "Beispiel"}]}
    order = {
        "resourceType": "MedicationRequest",
        "id": "m1",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {"text": "Piperacillin/Tazobactam 4,5 g"},
        "authoredOn": "2026-12-02T13:30:00+01:00",
        "dosageInstruction": [
            {
                "timing": {
                    "repeat": {
                        "frequency": 3,
                        "period": 1,
                        "periodUnit": "d",
                        "boundsPeriod": {"start": "2026-12-02T13:30:00+01:00"},
                    }
                },
                "route": {"text": "i.v."},
                "doseAndRate": [{"doseQuantity": {"value": 4.5, "unit": "g"}}],
            }
        ],
    }
    not_done = {
        "resourceType": "MedicationAdministration",
        "id": "a1",
        "status": "not-done",
        "statusReason": [
            {
                "coding": [
                    {
                        "system": "http://snomed.info/sct",
                        "code": "182862001",
                        "display": "Drug not taken - dislike taste",
                    }
                ],
                "text": REASON,
            }
        ],
        "medicationCodeableConcept": {"text": "Piperacillin/Tazobactam 4,5 g"},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2026-12-02T14:02:00+01:00",
        "request": {"reference": "MedicationRequest/m1"},
        "performer": [{"actor": {"display": "S. Roth"}}],
    }
    resources: list[dict[str, Any]] = [order, not_done]
    if given_later:
        resources.append(
            {
                **not_done,
                "id": "a2",
                "status": "completed",
                "statusReason": [],
                "effectiveDateTime": "2026-12-02T14:45:00+01:00",
            }
        )
    ctx = MappingContext(tz=BERLIN, now=NOW, problems=Counter())
    return map_patient(patient, resources, ctx)


def _mar_text(record: PatientRecord, lang: str) -> str:
    meta = DocumentMeta(ward_name="Station 7", data_as_of=NOW, ward_id="w7")
    pdf = render_mar(record, meta, "x", lang, NOW, BERLIN, hours=24)
    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", " ", " ".join(p.extract_text() or "" for p in reader.pages))


def test_grid_marks_the_scheduled_time_documented_not_given() -> None:
    record = _record()
    end = NOW + timedelta(hours=24)
    grid = order_grid(record.medications[0], record.administrations, NOW, end, BERLIN)
    cells = {(c.hour, d.day): cell for (c, d), cell in grid.cells.items()}
    assert cells[(14, 2)] is Cell.NOT_GIVEN  # not OUTSIDE ("–"): a dose was due
    assert cells[(22, 2)] is Cell.BOX
    assert cells[(6, 2)] is Cell.OUTSIDE  # before the order started


@pytest.mark.parametrize(
    ("lang", "cell", "note", "last"),
    [
        ("de", "nicht gegeben (1)", f"(1) nicht gegeben 02.12. 14:02: {REASON}", "Zuletzt gegeben"),
        ("en", "not given (1)", f"(1) not given 2 Dec 14:02: {REASON}", "Last given"),
    ],
)
def test_mar_prints_not_given_dose_with_reason(lang: str, cell: str, note: str, last: str) -> None:
    text = _mar_text(_record(), lang)
    scheduled = text.split(last)[1]
    assert cell in scheduled
    assert note in scheduled
    assert "(nicht gegeben)" not in text and "(not given)" not in text
    # The legend says what the box means, apart from the grey "outside the period".
    assert cell.split(" (")[0] in text.split(last)[0]


def test_mar_last_given_column_holds_only_given_doses() -> None:
    text = _mar_text(_record(given_later=True), "en")
    scheduled = text.split("Scheduled medications")[1].split("Continuous infusions")[0]
    assert "2 Dec 14:45 S. Roth" in scheduled
    assert "not given (1)" not in scheduled  # covered by the dose given at 14:45
    assert "not given 2 Dec 14:02" not in scheduled  # a dose was given since


@pytest.mark.parametrize(
    ("lang", "words"),
    [("de", f"nicht gegeben 14:02: {REASON}"), ("en", f"not given 14:02: {REASON}")],
)
def test_chart_row_shows_the_dose_not_given_with_its_reason(lang: str, words: str) -> None:
    meds = ChartModel(_record(), now=NOW, tz=BERLIN, lang=lang).medications()
    assert meds[0].not_given == words
    assert meds[0].last_given == ""
    later = ChartModel(_record(given_later=True), now=NOW, tz=BERLIN, lang=lang).medications()
    assert later[0].not_given == ""
    assert "14:45" in later[0].last_given

"""A German page never mixes decimal signs: "14.1 g/dL" beside "13,5 - 17,5" was once seen on page
1 of a printed summary. Every number a clinician reads (value, range as the source wrote it,
range from limits, dose) goes through app.present; checked here on the printed PDF's text and
on the chart's view-model, for one record as a FHIR server writes it (points everywhere)."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from pypdf import PdfReader

from app.printing import DocumentMeta, render_summary
from app.printing.sample import sample_record
from app.ui.viewmodels.chart import ChartModel
from sync.model import Interpretation, Observation, PatientRecord

TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 30, 9, 30, tzinfo=TZ)
META = DocumentMeta(ward_name="Station 7", data_as_of=NOW - timedelta(minutes=30), ward_id="w7")

# A decimal number written with a point: not a date ("30.11.2026", "30.11."), not a code with a
# letter before it ("I21.0", "J96.00").
_POINT_NUMBER = re.compile(r"(?<![\w.])\d+\.\d+(?![\d.])")


def _record() -> PatientRecord:
    at = NOW - timedelta(hours=3)
    labs = [
        Observation(
            name="Hämoglobin",
            code="718-7",
            value=14.1,
            unit="g/dL",
            ref_text="13.5 - 17.5",
            effective=at,
        ),
        Observation(
            name="Kreatinin",
            code="2160-0",
            value=1.15,
            unit="mg/dL",
            ref_low=0.5,
            ref_high=1.2,
            effective=at,
        ),
        Observation(
            name="hs-Troponin T",
            code="67151-1",
            value=1067.0,
            unit="ng/L",
            ref_high=14.0,
            interpretation=Interpretation.HIGH,
            effective=at,
        ),
        Observation(name="CRP", code="1988-5", value_text="< 0.6", unit="mg/L", effective=at),
    ]
    return sample_record(NOW).model_copy(update={"labs": labs})


def test_the_printed_german_summary_has_decimal_commas_only() -> None:
    pdf = render_summary(_record(), META, "S. Pflege", "de", NOW, TZ)
    text = "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages)
    flat = re.sub(r"\s+", " ", text)
    assert "14,1 g/dL" in flat and "13,5 - 17,5" in flat
    assert "1,15 mg/dL" in flat and "0,5–1,2" in flat
    assert "1067 ng/L" in flat and "≤ 14" in flat  # no grouping: never "1.067"
    assert "< 0,6 mg/L" in flat
    assert _POINT_NUMBER.findall(text) == []


def test_the_chart_view_model_in_german_has_decimal_commas_only() -> None:
    model = ChartModel(_record(), now=NOW, tz=TZ, lang="de")
    lines = [t.latest for group in model.lab_groups() for t in group.tests]
    shown = {line.name: (line.value, line.ref) for line in lines}
    assert shown["Hämoglobin"] == ("14,1 g/dL", "13,5 - 17,5")
    assert shown["Kreatinin"] == ("1,15 mg/dL", "0,5–1,2")
    assert shown["hs-Troponin T"] == ("1067 ng/L", "≤ 14")
    assert shown["CRP"] == ("< 0,6 mg/L", "")
    numbers = " ".join(f"{v} {r}" for v, r in shown.values())
    assert _POINT_NUMBER.findall(numbers) == []


def test_english_keeps_the_point() -> None:
    model = ChartModel(_record(), now=NOW, tz=TZ, lang="en")
    shown = {t.latest.name: t.latest.value for g in model.lab_groups() for t in g.tests}
    assert shown["Hämoglobin"] == "14.1 g/dL" and shown["hs-Troponin T"] == "1067 ng/L"

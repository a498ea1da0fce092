"""One note per content, the others reachable: from FHIR as an EHR sends a corrected report
(DiagnosticReport, its DocumentReference copy, a correction replacing it) to the chart's notes
list, the "other versions" it opens, and the printed summary."""

from __future__ import annotations

import base64
import io
import re
from collections import Counter
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from app.printing import DocumentMeta, render_summary
from app.ui.viewmodels.chart import ChartModel
from sync.mapping import MappingContext, map_patient
from sync.model import PatientRecord

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
Resource = dict[str, Any]
FIRST = "Sonografie Abdomen: Gallenblase mit Konkrement, keine Cholezystitis."
FIXED = "Sonografie Abdomen: Gallenblase mit Konkrement, Wand verdickt, V. a. Cholezystitis."


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _record(corrected: bool = True) -> PatientRecord:
    patient = {
        "resourceType": "Patient",
        "id": "p1",
        "name": [{"family": "Fassung", "given": ["Test"]}],
        "birthDate": "1950-01-01",
    }
    report = {
        "resourceType": "DiagnosticReport",
        "id": "dr-7",
        "status": "final",
        "category": [{"text": "Radiologie"}],
        "code": {"text": "Sonografie Abdomen"},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2026-03-09T10:00:00+01:00",
        "presentedForm": [{"contentType": "text/plain", "data": _b64(FIRST)}],
    }
    copy = {
        "resourceType": "DocumentReference",
        "id": "doc-7",
        "status": "current",
        "type": {"text": "Befundbericht"},
        "description": "Sonografie Abdomen",
        "subject": {"reference": "Patient/p1"},
        "date": "2026-03-09T10:10:00+01:00",
        "content": [{"attachment": {"contentType": "text/plain", "data": _b64(FIRST)}}],
        "context": {"related": [{"reference": "DiagnosticReport/dr-7"}]},
    }
    correction = {
        "resourceType": "DocumentReference",
        "id": "doc-8",
        "status": "current",
        "type": {"text": "Befundbericht"},
        "description": "Sonografie Abdomen (Korrektur)",
        "subject": {"reference": "Patient/p1"},
        "date": "2026-03-09T14:00:00+01:00",
        "author": [{"display": "Dr. M. Schall"}],
        "content": [{"attachment": {"contentType": "text/plain", "data": _b64(FIXED)}}],
        "relatesTo": [{"code": "replaces", "target": {"reference": "DocumentReference/doc-7"}}],
    }
    alone = {
        "resourceType": "DocumentReference",
        "id": "doc-old",
        "status": "superseded",
        "type": {"text": "Pflegebericht"},
        "subject": {"reference": "Patient/p1"},
        "date": "2026-03-08T06:00:00+01:00",
        "content": [{"attachment": {"contentType": "text/plain", "data": _b64("Nacht ruhig.")}}],
    }
    ctx = MappingContext(tz=BERLIN, now=NOW, problems=Counter())
    resources = [report, copy, correction, alone] if corrected else [report, copy]
    return map_patient(patient, resources, ctx)


def test_the_newest_version_is_shown_and_the_others_open_marked() -> None:
    chart = ChartModel(_record(), now=NOW, tz=BERLIN, lang="de")
    notes = chart.notes()
    assert [n.title for n in notes] == ["Sonografie Abdomen (Korrektur)", "Pflegebericht"]
    shown, alone = notes
    assert shown.body == FIXED and not shown.muted
    assert shown.versions_label == "2 andere Fassungen"
    assert "2 andere Fassungen" in shown.detail
    # Both older ones (the replaced document and the report it copied) open with their
    # text, newest first, marked superseded.
    versions = [(v.title, v.when, v.body, v.muted, v.detail) for v in shown.versions]
    assert [(v[1], v[2], v[3]) for v in versions] == [
        ("09.03.2026 10:10", FIRST, True),
        ("09.03.2026 10:00", FIRST, True),
    ]
    assert all(v[4].startswith("ersetzt durch neuere Fassung") for v in versions)
    # A superseded document whose replacement never came: still listed, marked, grey.
    assert alone.muted and alone.detail.startswith("ersetzt durch neuere Fassung")
    assert alone.versions == ()


def test_a_copy_of_the_same_content_opens_as_a_copy_with_the_shown_text() -> None:
    chart = ChartModel(_record(corrected=False), now=NOW, tz=BERLIN, lang="en")
    (shown,) = chart.notes()
    assert shown.body == FIRST and shown.versions_label == "1 other version"
    (copy,) = shown.versions
    assert copy.body == FIRST and not copy.muted
    assert copy.detail.startswith("same content as the version shown (copy)")


@pytest.mark.parametrize(
    ("lang", "label", "mark"),
    [("de", "2 andere Fassungen", "ERSETZT"), ("en", "2 other versions", "SUPERSEDED")],
)
def test_the_printed_summary_marks_superseded_notes_and_names_other_versions(
    lang: str, label: str, mark: str
) -> None:
    record = _record()
    meta = DocumentMeta(ward_name="Station 1", data_as_of=NOW)
    pdf = render_summary(record, meta, "S. Pflege", lang, NOW, BERLIN)
    text = re.sub(
        r"\s+", " ", " ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages)
    )
    assert label in text
    assert (
        f"{mark} BY A NEWER VERSION · Pflegebericht" in text
        if lang == "en"
        else (f"{mark} DURCH NEUERE FASSUNG · Pflegebericht" in text)
    )
    assert text.count("Gallenblase mit Konkrement, keine") == 0  # versions are not printed

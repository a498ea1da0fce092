"""The build report names what it could not use: the file and line of each invalid JSON and
unknown resource, every Patient id read twice, implausible birth dates, cut texts."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from sync.build import build_snapshots
from sync.cli import print_cycle
from sync.config import Config
from sync.cycle import CycleResult
from sync.model import TRUNCATED_MARK
from sync.snapshot import SnapshotReader

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _patient(pid: str, family: str, birth: str, updated: str) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": pid,
        "meta": {"lastUpdated": updated},
        "name": [{"family": family, "given": ["Test"]}],
        "birthDate": birth,
    }


def _stay(eid: str, pid: str) -> dict[str, Any]:
    return {
        "resourceType": "Encounter",
        "id": eid,
        "status": "in-progress",
        "class": {"code": "IMP"},
        "subject": {"reference": f"Patient/{pid}"},
        "period": {"start": "2026-03-09T08:00:00+01:00"},
        "location": [{"location": {"reference": "Location/w1"}, "status": "active"}],
    }


def test_report_names_file_and_line_duplicates_and_implausible_birth_dates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "export"
    src.mkdir()
    ward = {
        "resourceType": "Location",
        "id": "w1",
        "name": "Station 1",
        "physicalType": {"coding": [{"code": "wa"}]},
    }
    long_note = {
        "resourceType": "MedicationRequest",
        "id": "m1",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {"text": "Paracetamol 500 mg"},
        "subject": {"reference": "Patient/p1"},
        "note": [{"text": "x" * 30_000}],
    }
    # An EHR's free-text answer pasted in full, and a scanned letter's OCR text as one attachment.
    long_observation = {
        "resourceType": "Observation",
        "id": "o1",
        "status": "final",
        "code": {"text": "Pflegeanamnese Freitext"},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2026-03-10T08:00:00+01:00",
        "valueString": "y" * 25_000,
    }
    long_document = {
        "resourceType": "DocumentReference",
        "id": "d1",
        "status": "current",
        "type": {"text": "Arztbrief"},
        "subject": {"reference": "Patient/p1"},
        "date": "2026-03-10T09:00:00+01:00",
        "content": [
            {
                "attachment": {
                    "contentType": "text/plain",
                    "data": base64.b64encode(b"z" * 210_000).decode(),
                }
            }
        ],
    }
    lines = [
        json.dumps(ward),
        json.dumps(_patient("p1", "Erste", "1950-01-01", "2026-03-01T00:00:00Z")),
        json.dumps(_stay("e1", "p1")),
        '{"resourceType": "Observation", "id": ',  # line 4: cut off
        json.dumps({"resourceType": "Observaton", "id": "typo"}),  # line 5
        json.dumps(_patient("p2", "Zukunft", "2099-01-01", "2026-03-01T00:00:00Z")),
        json.dumps(_stay("e2", "p2")),
        json.dumps(_patient("p3", "Alt", "1850-06-01", "2026-03-01T00:00:00Z")),
        json.dumps(_stay("e3", "p3")),
        json.dumps(long_note),
        json.dumps(long_observation),
        json.dumps(long_document),
    ]
    (src / "a.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")
    # A second Patient p1 in another file: a different person with a clashing id, or a newer
    # version. Either way it must be named, not silently replace the first.
    (src / "b.ndjson").write_text(
        json.dumps(_patient("p1", "Zweite", "1960-01-01", "2026-03-02T00:00:00Z")) + "\n",
        encoding="utf-8",
    )
    (src / "broken.json").write_text('{\n  "resourceType": "Bundle",\n  "entry": [,]\n}\n')
    result = build_snapshots(src, Config(), tmp_path / "work", now=NOW, workers=1)
    report = result.report
    assert report.problem_places["invalid JSON"] == ["a.ndjson:4", "broken.json:3:13"]
    assert report.problem_places["unknown resourceType"] == ["a.ndjson:5 (Observaton)"]
    assert report.duplicate_patients == {"Patient/p1": ["a.ndjson:2", "b.ndjson:1"]}
    assert report.problems["Patient: same id read more than once (newest used)"] == 1
    assert report.problems["Patient: birth date in the future (implausible)"] == 1
    assert report.problems["Patient: birth date before 1900 (implausible)"] == 1
    # Every cut text field is counted and named (resource type/id, field), notes and others.
    cut = "text too long, cut (shown marked 'truncated')"
    assert report.problems[f"MedicationRequest: {cut}"] == 1
    assert report.problem_places[f"MedicationRequest: {cut}"] == ["MedicationRequest/m1 note"]
    assert report.problems[f"Observation: {cut}"] == 1
    assert report.problem_places[f"Observation: {cut}"] == ["Observation/o1 value_text"]
    assert report.problem_places[f"DocumentReference: {cut}"] == ["DocumentReference/d1 text"]
    print_cycle(CycleResult(report=report))
    printed = capsys.readouterr().out
    assert "at MedicationRequest/m1 note" in printed
    assert "at DocumentReference/d1 text" in printed
    assert "at a.ndjson:4" in printed and "at broken.json:3:13" in printed
    assert "Patient/p1: a.ndjson:2, b.ndjson:1" in printed
    snap = result.ward("w1")
    with SnapshotReader(snap.path, snap.key) as reader:
        records = {r.id: r for r in reader.iter_records()}
    note = records["p1"].medications[0].note
    assert note is not None and note.endswith(TRUNCATED_MARK) and len(note) < 21_000
    assert records["p1"].notes[0].text.endswith(TRUNCATED_MARK)  # visible on screen and paper
    assert records["p1"].family == "Zweite"  # the newest copy is used, and it was reported

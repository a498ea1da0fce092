"""The time windows the sync applied travel in the snapshot: "given in the last N h", "stopped
(last N h)" and "discharged (N h)" on screen and paper say what the build really kept, not a
number fixed in the viewer."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from app.printing import DocumentMeta, render_mar
from app.ui.viewmodels.chart import ChartModel
from sync.build import build_snapshots
from sync.config import Config, parse_config
from sync.model import DataWindows
from sync.snapshot import SnapshotMeta, SnapshotReader

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
Resource = dict[str, Any]


def _order(rid: str, status: str, drug: str, updated: str) -> Resource:
    # As an EHR sends a stopped order: status and meta.lastUpdated, no explicit end date.
    return {
        "resourceType": "MedicationRequest",
        "id": rid,
        "meta": {"lastUpdated": updated},
        "status": status,
        "intent": "order",
        "medicationCodeableConcept": {"text": drug},
        "subject": {"reference": "Patient/p1"},
        "authoredOn": "2026-03-05T08:00:00+01:00",
        "dosageInstruction": [
            {"timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}}}
        ],
    }


def _given(rid: str, when: str) -> Resource:
    return {
        "resourceType": "MedicationAdministration",
        "id": rid,
        "status": "completed",
        "medicationCodeableConcept": {"text": "Metoprolol 47.5 mg"},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": when,
        "request": {"reference": "MedicationRequest/act"},
    }


def _source(tmp_path: Path) -> Path:
    src = tmp_path / "export"
    src.mkdir()
    resources: list[Resource] = [
        {
            "resourceType": "Location",
            "id": "w1",
            "name": "Station 1",
            "physicalType": {"coding": [{"code": "wa"}]},
        },
        {
            "resourceType": "Patient",
            "id": "p1",
            "name": [{"family": "Fenster", "given": ["Test"]}],
            "birthDate": "1950-01-01",
        },
        {
            "resourceType": "Encounter",
            "id": "e1",
            "status": "in-progress",
            "class": {"code": "IMP"},
            "subject": {"reference": "Patient/p1"},
            "period": {"start": "2026-03-05T08:00:00+01:00"},
            "location": [{"location": {"reference": "Location/w1"}, "status": "active"}],
        },
        _order("act", "active", "Metoprolol 47.5 mg", "2026-03-05T08:00:00+01:00"),
        _order("stop-10h", "stopped", "Enoxaparin 40 mg", "2026-03-10T03:00:00+01:00"),
        _order("stop-40h", "stopped", "Cefuroxim 1.5 g", "2026-03-08T21:00:00+01:00"),
        _given("g-2h", "2026-03-10T11:00:00+01:00"),
        _given("g-20h", "2026-03-09T17:00:00+01:00"),
    ]
    (src / "all.ndjson").write_text("\n".join(json.dumps(r) for r in resources) + "\n")
    return src


def _flat(pdf: bytes) -> str:
    return re.sub(
        r"\s+", " ", " ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages)
    )


def test_config_windows_are_applied_and_travel_in_the_snapshot_metadata(tmp_path: Path) -> None:
    config = parse_config(
        {"stopped_medications_hours": 24, "administrations_hours": 12, "discharged_within_hours": 6}
    )
    result = build_snapshots(_source(tmp_path), config, tmp_path / "work", now=NOW, workers=1)
    snap = result.ward("w1")
    with SnapshotReader(snap.path, snap.key) as reader:
        meta = reader.meta
        record = reader.record("p1")
    assert record is not None
    assert meta.windows == DataWindows(
        administrations_hours=12, stopped_medications_hours=24, discharged_within_hours=6
    )
    # What the windows kept: the order stopped 10 h ago, not the one stopped 40 h ago; the dose
    # of 2 h ago, not the one of 20 h ago.
    assert [o.drug for o in record.stopped_medications] == ["Enoxaparin 40 mg"]
    assert [a.source.id for a in record.administrations if a.source] == ["g-2h"]

    for lang, given, stopped in (
        ("de", "Gegeben (letzte 12 h)", "Abgesetzt (letzte 24 h)"),
        ("en", "Given (last 12 h)", "Stopped (last 24 h)"),
    ):
        chart = ChartModel(record, now=NOW, tz=BERLIN, lang=lang, windows=meta.windows)
        assert chart.administrations_title() == given
        assert stopped in [title for title, _ in chart.other_medications()]
        doc = DocumentMeta(ward_name="Station 1", data_as_of=NOW, windows=meta.windows)
        mar = _flat(render_mar(record, doc, "S. Pflege", lang, NOW, BERLIN, hours=24))
        assert (
            given.replace("Gegeben", "Verabreichungen").replace("Given", "Administrations") in mar
        )
        assert "72 h" not in mar


@pytest.mark.parametrize("lang", ["de", "en"])
def test_a_snapshot_without_windows_reads_with_the_values_fixed_then(lang: str) -> None:
    """Snapshots built before the windows travelled: the viewer names the old fixed values."""
    meta = SnapshotMeta.model_validate(
        {"ward_id": "w", "ward_name": "W", "data_as_of": NOW.isoformat()}
    )
    assert meta.windows is None
    chart = ChartModel(_record_with_admin(), now=NOW, tz=BERLIN, lang=lang, windows=meta.windows)
    assert "72" in chart.administrations_title()


def _record_with_admin() -> Any:
    from sync.model import PatientRecord

    return PatientRecord(id="p", name="Alt, Test")


def test_config_rejects_a_window_of_zero_hours_for_administrations() -> None:
    from sync.config import ConfigError

    with pytest.raises(ConfigError, match="administrations_hours"):
        parse_config({"administrations_hours": 0})
    assert Config().data_windows() == DataWindows()

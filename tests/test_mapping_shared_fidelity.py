"""Clinical fidelity on real FHIR nobody on this project wrote (../shared/data); skips cleanly
when the folder is absent."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sync.mapping import MappingContext, map_patient
from sync.model import Interpretation

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fhir"
VITALS = DATA / "isik" / "vitalparameter"

pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(not VITALS.is_dir(), reason=f"ISiK vital signs not found at {VITALS}"),
]


def test_isik_vitals_coded_in_loinc_and_snomed_are_vitals_flagged_only_where_ranges_fit() -> None:
    resources = [
        json.loads(p.read_text("utf-8")) for p in sorted(VITALS.glob("Observation-*.json"))
    ]
    patient = {"resourceType": "Patient", "id": "x", "name": [{"family": "Test"}]}
    ctx = MappingContext(
        tz=ZoneInfo("Europe/Berlin"), now=datetime(2026, 1, 1, tzinfo=UTC), problems=Counter()
    )
    record = map_patient(patient, resources, ctx)
    assert record.labs == []  # everything there is a vital sign or body measure
    by_name = {o.name: o for o in record.vitals}
    heart = by_name["Herzfrequenz"]
    assert heart.meaning == "heart-rate" and heart.unit == "per minute"
    assert heart.interpretation is Interpretation.NORMAL and heart.range_source == "NEWS2"
    spo2 = by_name["Pulsoximetrische Sauerstoffsättigung"]
    assert spo2.meaning == "spo2" and spo2.interpretation is Interpretation.NORMAL
    # Intracardiac pressures carry generic BP codes too: grouped, never flagged as arterial.
    atrial = [o for o in record.vitals if o.name.startswith("Left atrial pressure")]
    assert atrial and all(o.range_source is None for o in atrial)
    assert all(o.interpretation is Interpretation.UNKNOWN for o in atrial)

"""Printing records mapped from real FHIR R4 data nobody on this project wrote (../shared/data).

Skips cleanly when the folder is absent. Checks what a reader of the paper needs: the patient's
identifiers on every page, and every active medication and allergy of the record printed.
"""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from app.i18n import fmt_date
from app.printing import DocumentMeta, render_mar, render_summary
from sync.mapping import MappingContext, map_patient
from sync.model import PatientRecord

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fhir"
TZ = ZoneInfo("Europe/Berlin")

pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(not DATA.is_dir(), reason=f"shared FHIR test data not found at {DATA}"),
]


def map_bundle(path: Path, now: datetime) -> PatientRecord:
    """The one patient of a Bundle, references resolved within the Bundle."""
    entries = json.loads(path.read_text(encoding="utf-8")).get("entry", [])
    index: dict[str, dict[str, Any]] = {}
    resources = []
    for entry in entries:
        res = entry["resource"]
        resources.append(res)
        index[f"{res['resourceType']}/{res.get('id')}"] = res
        if entry.get("fullUrl"):
            index[entry["fullUrl"]] = res

    def resolve(ref: dict[str, Any] | str, _from: dict[str, Any] | None) -> dict[str, Any] | None:
        key = ref.get("reference") if isinstance(ref, dict) else ref
        return index.get(key) if isinstance(key, str) else None

    patients = [r for r in resources if r["resourceType"] == "Patient"]
    if len(patients) != 1:
        pytest.skip(f"{path.name}: not a one-patient Bundle")
    ctx = MappingContext(resolve=resolve, tz=TZ, now=now, problems=Counter())
    return map_patient(patients[0], [r for r in resources if r is not patients[0]], ctx)


def flat_pages(pdf: bytes) -> list[str]:
    return [re.sub(r"\s+", " ", p.extract_text() or "") for p in PdfReader(io.BytesIO(pdf)).pages]


def bundles() -> list[Path]:
    if not DATA.is_dir():
        return []
    folder = DATA / "synthea-r4-100"
    # a few plain ones and the largest (longest histories, most medications)
    synthea = sorted(folder.glob("*_*.json"))[:3]
    synthea += sorted(folder.glob("*_*.json"), key=lambda p: p.stat().st_size)[-2:]
    ips = sorted((DATA / "ips").glob("*.json"))[:4]
    return synthea + ips


BUNDLES = bundles()


@pytest.mark.parametrize(
    "path", BUNDLES, ids=[f"{p.parent.name}-{i}" for i, p in enumerate(BUNDLES)]
)
def test_real_records_print_identifiers_medications_and_allergies(path: Path) -> None:
    now = datetime(2020, 5, 1, tzinfo=UTC)
    record = map_bundle(path, now)
    meta = DocumentMeta(ward_name="Testward", data_as_of=now)
    summary = flat_pages(render_summary(record, meta, "Test", "en", now, TZ))
    for text in summary:
        assert record.name in text
        if record.birth_date:
            assert fmt_date(record.birth_date, "en") in text
        if record.mrn:
            assert record.mrn in text
        assert "DOWNTIME COPY - data as of" in text
    full = " ".join(summary)
    for order in record.medications:
        assert re.sub(r"\s+", " ", order.drug) in full
    for allergy in record.allergies:
        assert re.sub(r"\s+", " ", allergy.substance) in full
    mar = flat_pages(render_mar(record, meta, "Test", "de", now, TZ, hours=72))
    assert all(record.name in text for text in mar)

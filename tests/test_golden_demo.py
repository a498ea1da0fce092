"""Golden text of the demo's MAR for its insulin, infusion and as-needed patients (and the
insulin patient's summary): the text pypdf extracts from the real PDF, compared with a file.

The demo data is the project's own generator (sync.generate) with a fixed seed and clock, mapped
like the sync server maps it; the patients are chosen by what they are given (the first, by id,
with an insulin by the glucose, a continuous infusion, an as-needed order with a maximum), not by
name. A change to the MAR, the generator or the mapping shows here as a text diff.

Refresh after an intended change: `WARDCOPY_UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q
tests/test_golden_demo.py`, then read `git diff tests/golden/pdf_text/` before committing.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from app.printing import DocumentMeta, render_mar, render_summary
from app.printing.margrid import insulin_scale, is_continuous, prn_per_day
from sync.mapping import MappingContext, map_patient
from sync.model import MedicationOrder, PatientRecord
from tests.test_mapping_generated import load
from tests.test_printing import GOLDEN, normalise, pages

generate_module = pytest.importorskip("sync.generate", reason="sync.generate not available")

TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 30, 8, 30, tzinfo=UTC)  # 09:30 in Berlin; the generator's clock too
AS_OF = NOW - timedelta(minutes=20)
SEED, PATIENTS = 7, 30  # `wardcopy demo`'s default seed; enough patients for all three kinds

KINDS: dict[str, Callable[[MedicationOrder], bool]] = {
    "insulin": insulin_scale,
    "infusion": is_continuous,
    "prn": lambda o: o.as_needed and prn_per_day(o) is not None,
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, PatientRecord]:
    out = tmp_path_factory.mktemp("golden-demo") / "ndjson"
    generate_module.generate(out, PATIENTS, SEED, NOW)
    patients, by_patient, shared = load(out)

    def resolve(ref: dict[str, Any] | str, _from: dict[str, Any] | None) -> Any:
        key = ref.get("reference") if isinstance(ref, dict) else ref
        return shared.get(key) if isinstance(key, str) else None

    ctx = MappingContext(resolve=resolve, tz=TZ, now=NOW, problems=Counter())
    chosen: dict[str, PatientRecord] = {}
    for pid in sorted(patients):
        record = map_patient(patients[pid], by_patient[pid], ctx)
        if not (record.stay and record.stay.status == "in-progress"):
            continue
        active = [m for m in record.medications if m.status == "active"]
        for kind, test in KINDS.items():
            if kind not in chosen and any(test(m) for m in active):
                chosen[kind] = record
    assert set(chosen) == set(KINDS), (
        f"the demo data lacks a patient for {set(KINDS) - set(chosen)}"
    )
    return chosen


def _meta(record: PatientRecord) -> DocumentMeta:
    ward = record.stay.ward if record.stay and record.stay.ward else "Station"
    return DocumentMeta(ward_name=ward, data_as_of=AS_OF, ward_id="demo")


CASES: list[tuple[str, str, Callable[[PatientRecord], bytes]]] = [
    *[
        (
            f"demo-mar-{kind}-de",
            kind,
            lambda r: render_mar(r, _meta(r), "S. Pflege", "de", NOW, TZ, hours=72),
        )
        for kind in KINDS
    ],
    ("demo-mar-prn-en", "prn", lambda r: render_mar(r, _meta(r), "S. Pflege", "en", NOW, TZ, 24)),
    (
        "demo-summary-insulin-de",
        "insulin",
        lambda r: render_summary(r, _meta(r), "S. Pflege", "de", NOW, TZ),
    ),
]


@pytest.mark.parametrize(("name", "kind", "make"), CASES, ids=[c[0] for c in CASES])
def test_demo_golden_text(
    name: str,
    kind: str,
    make: Callable[[PatientRecord], bytes],
    demo: dict[str, PatientRecord],
) -> None:
    text = normalise("\n\f\n".join(pages(make(demo[kind]))))
    path = GOLDEN / f"{name}.txt"
    if os.environ.get("WARDCOPY_UPDATE_GOLDEN") or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        if not os.environ.get("WARDCOPY_UPDATE_GOLDEN"):
            pytest.fail(f"golden file {path} was missing and has been written; check it in")
    assert text == path.read_text(encoding="utf-8"), (
        f"{name}: the printed text changed; if intended, refresh with WARDCOPY_UPDATE_GOLDEN=1 "
        "(tests/test_golden_demo.py) and review the diff"
    )


def test_demo_golden_files_say_what_they_are_for(demo: dict[str, PatientRecord]) -> None:
    """The chosen patients' pages hold what their golden file is about (a golden file that
    lost its subject would still 'match' after a refresh)."""
    texts = {name: (GOLDEN / f"{name}.txt").read_text(encoding="utf-8") for name, _k, _m in CASES}
    assert "BZ ____ IE ____" in texts["demo-mar-insulin-de"]
    assert "Kontinuierliche Infusionen / Perfusoren" in texts["demo-mar-infusion-de"]
    assert "Laufrate laut Anordnung" in texts["demo-mar-infusion-de"]
    assert "Höchstens 4 Gaben je 24 h: 4 Kästchen je 24 h" in texts["demo-mar-prn-de"]
    assert "Time ____:____" in texts["demo-mar-prn-en"]
    for name, kind, _make in CASES:
        assert (demo[kind].name or "") in texts[name], name

"""Reference ranges in the reader's decimal sign (issue 9, clinician walk-through): a lab's
range with numbers is formatted from its low/high like the value beside it (an English page
showed "15.3" next to the lab's text "13,5 - 17,5"); the lab's text is shown only when the range
has no number. Screen and paper say the same."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from app.printing import DocumentMeta, render_summary
from app.ui.viewmodels.chart import ChartModel
from sync.mapping import MappingContext, map_patient
from sync.model import PatientRecord
from tests.test_present_agree import flat_text
from tests.test_units import BERLIN, NOW, _quantity_obs


def _record() -> PatientRecord:
    patient = {"resourceType": "Patient", "id": "p1", "name": [{"family": "Beispiel"}]}
    hb: dict[str, Any] = _quantity_obs("o1", "718-7", "Hemoglobin", 15.3, "g/dL")
    # A German lab: numbers and its own text with decimal commas.
    hb["referenceRange"] = [
        {
            "low": {"value": 13.5, "unit": "g/dL"},
            "high": {"value": 17.5, "unit": "g/dL"},
            "text": "13,5 - 17,5",
        }
    ]
    k = _quantity_obs("o2", "2823-3", "Potassium", 4.5, "mmol/L")
    k["referenceRange"] = [{"high": {"value": 5.1}, "text": "bis 5.1"}]
    # The lab writes "4,0": the shown limit keeps the lab's decimals (4.0, not 4).
    wbc = _quantity_obs("o4", "6690-2", "Leukocytes", 7.25, "10*3/uL")
    wbc["referenceRange"] = [{"low": {"value": 4.0}, "high": {"value": 10}, "text": "4,0 - 10,0"}]
    hiv = {
        **_quantity_obs("o3", "7917-8", "HIV 1 Ab", 0, "1"),
        "valueCodeableConcept": {"text": "negativ"},
        "referenceRange": [{"text": "negativ"}],
    }
    del hiv["valueQuantity"]
    ctx = MappingContext(tz=BERLIN, now=NOW, problems=Counter())
    return map_patient(patient, [hb, k, wbc, hiv], ctx)


EXPECTED = {
    "de": {"Hemoglobin": ("15,3 g/dL", "13,5–17,5"), "Potassium": ("4,5 mmol/L", "≤ 5,1"),
           "HIV 1 Ab": ("negativ", "negativ"), "Leukocytes": ("7,25 10³/µL", "4,0–10,0")},
    "en": {"Hemoglobin": ("15.3 g/dL", "13.5–17.5"), "Potassium": ("4.5 mmol/L", "≤ 5.1"),
           "HIV 1 Ab": ("negativ", "negativ"), "Leukocytes": ("7.25 10³/µL", "4.0–10.0")},
}  # fmt: skip
WRONG_SIGN = {"de": ["15.3", "13.5", "17.5", "4.5", "5.1"], "en": ["15,3", "13,5", "17,5", "4,5"]}


@pytest.mark.parametrize("lang", ["de", "en"])
def test_range_in_the_values_decimal_sign_on_screen_and_paper(lang: str) -> None:
    record = _record()
    model = ChartModel(record, now=NOW, tz=BERLIN, lang=lang)
    shown = {t.name: (t.latest.value, t.latest.ref) for g in model.lab_groups() for t in g.tests}
    assert shown == EXPECTED[lang]
    meta = DocumentMeta(ward_name="Station 7", data_as_of=NOW, ward_id="w7")
    paper = flat_text(render_summary(record, meta, "x", lang, NOW, BERLIN))
    for value, ref in shown.values():
        assert f"{value} {ref}" in paper or (value in paper and ref in paper)
    for wrong in WRONG_SIGN[lang]:
        assert wrong not in paper, wrong
        assert all(wrong not in v and wrong not in r for v, r in shown.values()), wrong

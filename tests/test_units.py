"""Units in print form on screen and paper (app.present.units): an EHR that sends UCUM codes
as `Quantity.unit` ("10*3/uL", "mm[Hg]", "Cel") must not make the chart and the printouts read
like code; an unknown unit is shown as sent; no unit is lost or turned into another."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.present.units import unit_text, units_in_text
from app.printing import DocumentMeta, render_mar, render_summary
from app.ui.viewmodels.chart import ChartModel
from sync.mapping import MappingContext, map_patient
from sync.model import PatientRecord
from tests.test_present_agree import flat_text

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("sent", "de", "en"),
    [
        ("10*3/uL", "10³/µL", "10³/µL"),
        ("10*6/uL", "10⁶/µL", "10⁶/µL"),
        ("10^9/L", "10⁹/L", "10⁹/L"),
        ("mm[Hg]", "mmHg", "mmHg"),
        ("Cel", "°C", "°C"),
        ("/min", "/min", "/min"),
        ("%{HemoglobinSaturation}", "%", "%"),
        ("[iU]/L", "IU/L", "IU/L"),
        ("m[iU]/L", "mIU/L", "mIU/L"),
        ("u[iU]/mL", "µIU/mL", "µIU/mL"),
        ("ug/L", "µg/L", "µg/L"),
        ("umol/L", "µmol/L", "µmol/L"),
        ("kg/m2", "kg/m²", "kg/m²"),
        ("mL/min/{1.73_m2}", "mL/min/1,73 m²", "mL/min/1.73 m²"),
        ("{score}", "score", "score"),
        ("{beats}/min", "beats/min", "beats/min"),
        ("mg{creat}/g", "mg/g", "mg/g"),
        ("degree Celsius", "°C", "°C"),
        ("millimeter Mercury column", "mmHg", "mmHg"),
        # Unknown or not UCUM: exactly as sent.
        ("mcg", "mcg", "mcg"),
        ("Tbl.", "Tbl.", "Tbl."),
        ("I.E.", "I.E.", "I.E."),
        ("Hübe", "Hübe", "Hübe"),
        ("m² KOF", "m² KOF", "m² KOF"),
        ("(score)", "(score)", "(score)"),
        ("mg/dL", "mg/dL", "mg/dL"),
        ("U/L", "U/L", "U/L"),
        ("us-gallon", "us-gallon", "us-gallon"),
        ("{1.73_m2}", "{1.73_m2}", "{1.73_m2}"),
    ],
)
def test_unit_print_form(sent: str, de: str, en: str) -> None:
    assert unit_text(sent, "de") == de
    assert unit_text(sent, "en") == en


def test_units_inside_a_mapped_text_and_words_left_alone() -> None:
    assert units_in_text("120 mm[Hg]; 125 mm[Hg]", "en") == "120 mmHg; 125 mmHg"
    assert units_in_text("500 ug, 2 Tbl.", "de") == "500 µg, 2 Tbl."
    # Not after a number: a word of free text, never touched.
    assert units_in_text("Cel ug mm[Hg]", "de") == "Cel ug mm[Hg]"


# --- property: no unit is lost or turned into another ------------------------------------

# (UCUM atom, print form): every part a composed unit can be built of, including atoms no rule
# knows (shown as sent).
ATOMS = [
    ("g", "g"), ("mg", "mg"), ("ug", "µg"), ("ng", "ng"), ("kg", "kg"), ("mol", "mol"),
    ("mmol", "mmol"), ("umol", "µmol"), ("L", "L"), ("dL", "dL"), ("mL", "mL"), ("uL", "µL"),
    ("U", "U"), ("uU", "µU"), ("[iU]", "IU"), ("m[iU]", "mIU"), ("u[iU]", "µIU"), ("min", "min"),
    ("h", "h"), ("d", "d"), ("s", "s"), ("%", "%"), ("m2", "m²"), ("cm3", "cm³"),
    ("mm[Hg]", "mmHg"), ("10*3", "10³"), ("10*6", "10⁶"), ("10*12", "10¹²"), ("10*-3", "10⁻³"),
    ("fL", "fL"), ("pg", "pg"), ("eq", "eq"), ("ueq", "µeq"), ("mcg", "mcg"), ("gtt", "gtt"),
]  # fmt: skip
NOTES = ["creat", "HemoglobinSaturation", "RBC", "total"]


@st.composite
def composed_unit(draw: st.DrawFn) -> tuple[str, str]:
    """A UCUM unit of 1 to 3 atoms joined by "/" or ".", some with an annotation after an atom
    (UCUM: the same unit), with the print form built from the parts."""
    n = draw(st.integers(1, 3))
    sent, shown = "", ""
    for i in range(n):
        if i:
            op = draw(st.sampled_from(["/", "."]))
            sent += op
            shown += "·" if op == "." else op
        atom, form = draw(st.sampled_from(ATOMS))
        note = draw(st.one_of(st.none(), st.sampled_from(NOTES)))
        sent += atom + (f"{{{note}}}" if note else "")
        shown += form
    return sent, shown


@given(composed_unit(), st.sampled_from(["de", "en"]))
def test_every_composed_unit_keeps_each_part(pair: tuple[str, str], lang: str) -> None:
    sent, shown = pair
    assert unit_text(sent, lang) == shown


_BACK = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")


@given(st.text(min_size=1, max_size=20), st.sampled_from(["de", "en"]))
def test_any_text_is_kept_or_only_rewritten(unit: str, lang: str) -> None:
    """Whatever arrives: something is shown for it (never ""), showing the print form again
    changes nothing, and outside annotations no digit is lost or added."""
    shown = unit_text(unit, lang)
    if unit.strip():
        assert shown
    assert unit_text(shown, lang) == shown
    if shown != unit.strip() and unit.strip() not in ("mL/min/{1.73_m2}",):
        without_notes = re.sub(r"\{[^{}]*\}", "", unit)
        digits = sorted(c for c in without_notes if c.isdigit())
        noted = sorted(c for n in re.findall(r"\{([^{}]*)\}", unit) for c in n if c.isdigit())
        got = sorted(c for c in shown.translate(_BACK) if c.isdigit())
        assert got in (digits, sorted(digits + noted))


# --- from FHIR as an EHR sends it to screen and paper -------------------------------------


def _quantity_obs(oid: str, loinc: str, name: str, value: float, unit: str, **kw: Any) -> dict:
    cat = kw.pop("category", "laboratory")
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": cat,
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": "http://loinc.org", "code": loinc, "display": name}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2026-12-02T07:30:00+01:00",
        # Synthea and many EHRs put the UCUM code into `unit` as well.
        "valueQuantity": {
            "value": value,
            "unit": unit,
            "system": "http://unitsofmeasure.org",
            "code": unit,
        },
        **kw,
    }


VS = "vital-signs"


def ehr_record() -> PatientRecord:
    patient = {"resourceType": "Patient", "id": "p1", "name": [{"family": "Beispiel"}]}
    resources = [
        _quantity_obs("o1", "6690-2", "Leukocytes", 7.2, "10*3/uL"),
        _quantity_obs("o2", "8480-6", "Systolic blood pressure", 128, "mm[Hg]", category=VS),
        _quantity_obs("o3", "8310-5", "Body temperature", 37.4, "Cel", category=VS),
        _quantity_obs("o4", "8867-4", "Heart rate", 88, "/min", category=VS),
        _quantity_obs("o5", "59408-5", "SpO2", 96, "%{HemoglobinSaturation}", category=VS),
        _quantity_obs("o6", "1920-8", "AST", 31, "[iU]/L"),
        _quantity_obs("o7", "2276-4", "Ferritin", 85, "ug/L"),
        _quantity_obs("o8", "14682-9", "Creatinine", 88.4, "umol/L"),
    ]  # fmt: skip
    ctx = MappingContext(tz=BERLIN, now=NOW, problems=Counter())
    return map_patient(patient, resources, ctx)


EXPECTED = {
    "de": ["7,2 10³/µL", "128 mmHg", "37,4 °C", "88 /min", "96 %", "31 IU/L", "85 µg/L",
           "88,4 µmol/L"],
    "en": ["7.2 10³/µL", "128 mmHg", "37.4 °C", "88 /min", "96 %", "31 IU/L", "85 µg/L",
           "88.4 µmol/L"],
}  # fmt: skip
RAW = ["10*3/uL", "mm[Hg]", "Cel", "{Hemo", "[iU]", "ug/L", "umol/L"]


@pytest.mark.parametrize("lang", ["de", "en"])
def test_ehr_units_read_the_same_on_screen_and_paper(lang: str) -> None:
    record = ehr_record()
    model = ChartModel(record, now=NOW, tz=BERLIN, lang=lang)
    screen = [t.latest.value for t in model.vitals()]
    screen += [t.latest.value for g in model.lab_groups() for t in g.tests]
    assert sorted(screen) == sorted(EXPECTED[lang])
    meta = DocumentMeta(ward_name="Station 7", data_as_of=NOW, ward_id="w7")
    summary = flat_text(render_summary(record, meta, "x", lang, NOW, BERLIN))
    for value in screen:
        assert value in summary, value
    mar = flat_text(render_mar(record, meta, "x", lang, NOW, BERLIN, hours=24))
    for raw in RAW:
        assert raw not in summary and raw not in mar and raw not in " ".join(screen)

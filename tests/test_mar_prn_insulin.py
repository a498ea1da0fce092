"""The MAR's as-needed boxes (per 24 h as many as the order allows, each with a time field) and
insulin by the glucose written as free text, recognised from FHIR as EHRs write it."""

from __future__ import annotations

import io
import itertools
import re
from collections import Counter
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from app.printing import DocumentMeta, render_mar
from app.printing.mar import prn_box_count
from app.printing.margrid import (
    PRN_BLANK_PER_DAY,
    SCALE_CHECKS_PER_DAY,
    ValueField,
    hand_columns,
    insulin_scale,
    is_insulin,
    prn_per_day,
    value_field,
)
from sync.mapping import MappingContext, map_patient
from sync.model import Coding, Dosage, MedicationOrder, PatientRecord, Timing

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 30, 9, 30, tzinfo=BERLIN)
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"
ATC = "http://fhir.de/CodeSystem/bfarm/atc"
PZN = "http://fhir.de/CodeSystem/ifa/pzn"


def _prn(
    max_per_period: str | None = None, text: str | None = None, **dose: Any
) -> MedicationOrder:
    return MedicationOrder(
        id="p",
        drug="Paracetamol 1 g",
        status="active",
        dosages=[Dosage(as_needed=True, max_per_period=max_per_period, text=text, **dose)],
    )


@pytest.mark.parametrize(
    ("order", "per_day"),
    [
        (_prn("4× / 24 h"), 4),
        (_prn("4 / 1 d"), 4),
        (_prn("4 g / 1 d", dose_value=1, dose_unit="g"), 4),  # an amount: 4 g of 1 g doses
        (_prn("4000 mg / 24 h", dose_value=1, dose_unit="g"), 4),
        (_prn("1200 mg / 1 d", dose_text="400 mg"), 3),
        (_prn("8 Hübe / 1 d", dose_value=2, dose_unit="Hübe"), 4),
        (_prn("1 / 6 h"), 4),
        (_prn("2 tablets / 1 d; 1 tablets per dose", dose_text="1 tablets"), 2),
        (_prn(text="bei Bedarf: 1 g bei Schmerzen, max. 4 g/24 h", dose_value=1, dose_unit="g"), 4),
        (_prn(text="max 4/day"), 4),
        (_prn(text="max. 4x täglich"), 4),
        (_prn(text="höchstens 3 mal pro Tag"), 3),
        (_prn(timing=Timing(frequency=1, period=4, period_unit="h")), 6),  # q4h PRN
        (_prn("3 / 1 d", timing=Timing(frequency=1, period=4, period_unit="h")), 3),  # smaller
        (_prn("4 g / 1 d"), None),  # an amount without a dose to divide by: unknown
        (_prn(text="alle 6 h"), None),  # an interval in words, no maximum
        (_prn(), None),
    ],
)
def test_prn_doses_per_day_from_the_maximum(order: MedicationOrder, per_day: int | None) -> None:
    assert prn_per_day(order) == per_day


def test_prn_boxes_are_the_maximum_per_24_h_times_the_days() -> None:
    assert prn_box_count(_prn(text="max 4/day"), 72) == 12
    assert prn_box_count(_prn(text="max 4/day"), 24) == 4
    assert prn_box_count(_prn(), 72) == 3 * PRN_BLANK_PER_DAY
    assert prn_box_count(_prn("1 / 1 h"), 24) == 12  # capped per 24 h


def test_hand_columns_cover_the_period_from_data_as_of_without_gaps() -> None:
    end = NOW + timedelta(hours=72)
    fresh = hand_columns(4, NOW, end)
    assert [c.boxes for c in fresh] == [4, 4, 4]
    assert fresh[0].start == NOW and fresh[-1].end == end
    # 30 min stale: the half hour joins the first column, no extra column
    stale = hand_columns(4, NOW - timedelta(minutes=30), end)
    assert [c.boxes for c in stale] == [4, 4, 4] and stale[0].start == NOW - timedelta(minutes=30)
    # 18 h stale: a column of its own with boxes in proportion
    old = hand_columns(4, NOW - timedelta(hours=18), end)
    assert [c.boxes for c in old] == [3, 4, 4, 4]
    assert all(a.end == b.start for a, b in itertools.pairwise(old))


def _flat(pdf: bytes) -> str:
    pages = [p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages]
    return re.sub(r"\s+", " ", " ".join(pages))


def _mar(orders: list[MedicationOrder], lang: str = "en", hours: int = 72) -> str:
    record = PatientRecord(id="p", name="Nowak, Jan", mrn="1", medications=orders)
    meta = DocumentMeta(ward_name="Station 7", data_as_of=NOW, ward_id="w7")
    return _flat(render_mar(record, meta, "x", lang, NOW, BERLIN, hours=hours))


def test_printed_prn_boxes_per_24_h_each_with_a_time_field() -> None:
    flat = _mar([_prn(text="max 4/day")])
    section = flat.split("As-needed (PRN) medications")[1]
    assert "At most 4 doses per 24 h: 4 boxes per 24 h" in section
    assert section.count("Time ____:____ Dose _____ Init. ____") == 12
    assert "30 Nov 09:30 – 1 Dec 09:30" in section and "2 Dec 09:30 – 3 Dec 09:30" in section
    blank = _mar([_prn()], lang="de", hours=24)
    assert f"Keine Höchstmenge angeordnet: {PRN_BLANK_PER_DAY} Kästchen je 24 h" in blank
    assert blank.count("Zeit ____:____ Dosis _____ Hz ____") == PRN_BLANK_PER_DAY


# --- insulin as EHRs write it --------------------------------------------------------------


def _map(request: dict[str, Any]) -> MedicationOrder:
    patient = {"resourceType": "Patient", "id": "p1", "name": [{"family": "Nowak"}]}
    request = {
        "resourceType": "MedicationRequest",
        "id": "mr1",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "authoredOn": "2026-11-29T08:00:00+01:00",
        **request,
    }
    ctx = MappingContext(tz=BERLIN, now=NOW, problems=Counter())
    record = map_patient(patient, [request], ctx)
    assert len(record.medications) == 1, ctx.problems
    return record.medications[0]


EPIC_SLIDING_SCALE_PRN = {  # US: brand text, RxNorm SBD, PRN "per sliding scale", no dose
    "medicationCodeableConcept": {
        "coding": [
            {
                "system": RXNORM,
                "code": "1652639",
                "display": "insulin lispro 100 UNT/ML Injectable Solution [Humalog]",
            }
        ],
        "text": "HumaLOG KwikPen 100 unit/mL",
    },
    "dosageInstruction": [
        {
            "text": "Subcutaneous, per sliding scale, PRN high blood sugar",
            "asNeededCodeableConcept": {"text": "high blood sugar"},
            "route": {"text": "Subcutaneous"},
        }
    ],
}
ISIK_NACH_BZ = {  # German: PZN only, the brand name, the dose in the patient instruction
    "medicationCodeableConcept": {
        "coding": [{"system": PZN, "code": "06922060", "display": "Huminsulin® Normal KwikPen™"}]
    },
    "dosageInstruction": [{"patientInstruction": "Dosierung nach BZ, gemäß Informationsblatt"}],
}
RXNORM_CODE_ONLY = {  # an RxNorm ingredient code (insulin aspart) without a display
    "medicationCodeableConcept": {
        "coding": [{"system": RXNORM, "code": "51428"}],
        "text": "Pen 100 units/mL (formulary item 4471)",
    },
    "dosageInstruction": [{"text": "per correction scale before meals"}],
}
SNOMED_SUBSTANCE = {
    "medicationCodeableConcept": {
        "coding": [{"system": SNOMED, "code": "67866001"}],
        "text": "Humanhormon kurzwirksam 100 E/ml",
    },
    "dosageInstruction": [{"text": "nach Korrekturschema"}],
}
ATC_BRAND = {  # ATC A10AB01 (insulin human) with a brand that does not say "insulin"
    "medicationCodeableConcept": {
        "coding": [{"system": ATC, "code": "A10AB01", "display": "Actrapid"}],
        "text": "Actrapid Penfill",
    },
    "dosageInstruction": [{"text": "nach Schema", "route": {"text": "s.c."}}],
}


@pytest.mark.parametrize(
    "request_",
    [ISIK_NACH_BZ, RXNORM_CODE_ONLY, SNOMED_SUBSTANCE, ATC_BRAND, EPIC_SLIDING_SCALE_PRN],
)
def test_free_text_insulin_scales_are_recognised(request_: dict[str, Any]) -> None:
    order = _map(request_)
    assert is_insulin(order) and insulin_scale(order)
    assert value_field(order) is ValueField.GLUCOSE


@pytest.mark.parametrize(("request_", "lang"), [(ISIK_NACH_BZ, "de"), (RXNORM_CODE_ONLY, "en")])
def test_untimed_insulin_scale_gets_glucose_and_units_boxes(
    request_: dict[str, Any], lang: str
) -> None:
    flat = _mar([_map(request_)], lang=lang, hours=24)
    if lang == "de":
        assert "Insulin nach BZ ohne angeordnete Zeiten" in flat
        assert flat.count("Zeit ____:____ BZ ____ IE ____ Hz ____") == SCALE_CHECKS_PER_DAY
    else:
        assert "Insulin by glucose with no ordered times" in flat
        box = "Time ____:____ glucose ____ units ____ Init. ____"
        assert flat.count(box) == SCALE_CHECKS_PER_DAY
    assert "Times cannot be computed" not in flat and "Zeiten nicht berechenbar" not in flat


def test_prn_sliding_scale_boxes_have_glucose_and_units() -> None:
    flat = _mar([_map(EPIC_SLIDING_SCALE_PRN)], hours=72)
    section = flat.split("As-needed (PRN) medications")[1]
    assert "HumaLOG KwikPen" in section
    box = "Time ____:____ glucose ____ units ____ Init. ____"
    assert section.count(box) == 3 * PRN_BLANK_PER_DAY


def test_other_drugs_are_not_insulin() -> None:
    metformin = MedicationOrder(
        id="m",
        drug="Metformin 1000 mg",
        coding=[Coding(system=ATC, code="A10BA02"), Coding(system=RXNORM, code="6809")],
        dosages=[Dosage(text="1-0-1; bei BZ > 300 Insulin nach Schema", dose_text="1 Tbl.")],
    )
    assert not is_insulin(metformin) and not insulin_scale(metformin)
    glargin = MedicationOrder(
        id="g", drug="Insulin glargin 100 E/ml", dosages=[Dosage(dose_text="20 I.E.")]
    )
    assert is_insulin(glargin) and not insulin_scale(glargin)  # a fixed dose, not a scale
    assert value_field(glargin) is ValueField.GLUCOSE  # still documented with the glucose
    for brand in ("NovoLOG FlexPen", "Lantus SoloStar", "Tresiba", "Fiasp", "NPH 100 IU/ml"):
        assert is_insulin(MedicationOrder(id="b", drug=brand)), brand

"""The presentation layer: the words and numbers a clinician reads, the same on screen and paper.

Numbers in the reader's locale without grouping, FHIR codes as words, times in the hospital's
zone whatever the laptop's clock zone says, one folding for every search path.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.present.clinical import (
    allergy_text,
    code_status_text,
    flag_category_word,
    interpretation_flag,
    observation_value,
    reference_range,
    status_word,
)
from app.present.dose import dose_text, medication_text
from app.present.formats import (
    clinical_number,
    date_text,
    datetime_text,
    localize_numbers,
    short_day,
)
from app.present.search import fold
from app.present.zone import DEFAULT_TIME_ZONE, hospital_zone
from app.ui import fmt
from sync.model import (
    Allergy,
    CodeStatusKind,
    Criticality,
    Dosage,
    Interpretation,
    MedicationOrder,
    Observation,
    Timing,
)
from sync.searchtext import index_tokens

BERLIN = ZoneInfo("Europe/Berlin")
REPO = Path(__file__).resolve().parents[1]


# --- numbers -------------------------------------------------------------------------------


def test_clinical_numbers_have_the_locale_decimal_sign_and_no_grouping() -> None:
    assert clinical_number(4.5, "de") == "4,5"
    assert clinical_number(4.5, "en") == "4.5"
    # One thousand and sixty-seven: never "1.067" (a German reader sees one point zero six seven).
    assert clinical_number(1067, "de") == "1067"
    assert clinical_number(1067.0, "en") == "1067"
    assert clinical_number(8450.0, "de") == "8450"
    assert clinical_number(0.25, "de") == "0,25"
    assert clinical_number(None, "de") == "–"
    assert clinical_number(float("nan"), "en") == "–"


@given(
    st.decimals(
        min_value=Decimal("-100000"),
        max_value=Decimal("100000"),
        places=3,
        allow_nan=False,
        allow_infinity=False,
    )
)
def test_clinical_number_reads_back_as_the_same_value(value: Decimal) -> None:
    de = clinical_number(value, "de")
    en = clinical_number(value, "en")
    assert "." not in de and "," not in en  # one decimal sign, no grouping separator
    assert Decimal(de.replace(",", ".")) == value
    assert Decimal(en) == value


def test_numbers_inside_mapped_texts_follow_the_language() -> None:
    assert localize_numbers("4.5 g", "de") == "4,5 g"
    assert localize_numbers("0.5-1.5 mg/h", "de") == "0,5-1,5 mg/h"
    assert localize_numbers("4.5 g", "en") == "4.5 g"
    # Dates and dotted versions are not numbers to convert.
    assert localize_numbers("ab 07.03.2026", "de") == "ab 07.03.2026"
    assert localize_numbers("Schema 1.2.3", "de") == "Schema 1.2.3"


def test_a_german_page_never_mixes_decimal_signs_in_doses_and_values() -> None:
    assert dose_text(Dosage(dose_text="4.5 g", dose_value=4.5, dose_unit="g"), "de") == "4,5 g"
    assert dose_text(Dosage(dose_value=4.5, dose_unit="g"), "de") == "4,5 g"
    assert dose_text(Dosage(dose_value=1067, dose_unit="IE"), "de") == "1067 IE"
    obs = Observation(name="Kalium", value=4.5, unit="mmol/l", ref_low=3.5, ref_high=5.1)
    assert observation_value(obs, "de") == "4,5 mmol/l"
    assert reference_range(obs, "de") == "3,5–5,1"
    trop = Observation(name="hs-Troponin T", value=1067, unit="ng/L", ref_high=14)
    assert observation_value(trop, "de") == "1067 ng/L"
    assert reference_range(trop, "de") == "≤ 14"
    assert observation_value(Observation(name="RR", value_text="120/80", unit="mmHg"), "de") == (
        "120/80 mmHg"
    )


# --- doses ---------------------------------------------------------------------------------


def test_dose_falls_back_to_the_prescribers_text_never_to_a_blank() -> None:
    assert dose_text(Dosage(text="nach Schema laut BZ"), "de") == "nach Schema laut BZ"
    assert dose_text(Dosage(), "de") == "–"


def test_prn_schedule_carries_reason_and_documented_maximum() -> None:
    order = MedicationOrder(
        id="m",
        drug="Paracetamol",
        dosages=[
            Dosage(
                dose_text="1 g",
                route="oral",
                as_needed=True,
                as_needed_reason="Schmerzen",
                max_per_period="4 g / 1 d; 1.5 g per dose",
            )
        ],
    )
    de = medication_text(order, "de", BERLIN)
    assert de.schedule() == "bei Bedarf (Schmerzen); Max. 4 g / 1 d; 1,5 g pro Gabe"
    en = medication_text(order, "en", BERLIN)
    assert en.schedule() == "as needed (Schmerzen); Max 4 g / 1 d; 1.5 g per dose"
    assert (de.dose(), de.route()) == ("1 g", "oral")


def test_interval_times_are_anchored_on_the_order_start_in_the_hospital_zone() -> None:
    # Started 06:30 UTC = 07:30 in Berlin (winter): every 8 h from there, in Berlin time.
    order = MedicationOrder(
        id="m",
        drug="Meropenem",
        start=datetime(2026, 11, 28, 6, 30, tzinfo=UTC),
        dosages=[Dosage(dose_text="1 g", timing=Timing(frequency=1, period=8, period_unit="h"))],
    )
    assert medication_text(order, "de", BERLIN).schedule() == "alle 8 h: 07:30, 15:30, 23:30"


# --- words for codes -----------------------------------------------------------------------

VALUE_SETS = {
    "medication": [
        *("active", "on-hold", "cancelled", "completed", "entered-in-error", "stopped"),
        *("draft", "unknown"),
    ],
    "administration": [
        *("in-progress", "not-done", "on-hold", "completed", "entered-in-error"),
        *("stopped", "unknown"),
    ],
    "problem": ["active", "recurrence", "relapse", "inactive", "remission", "resolved"],
    "allergy": ["unconfirmed", "provisional", "differential", "confirmed", "refuted"],
    "order": ["draft", "active", "on-hold", "revoked", "completed", "entered-in-error"],
}


@pytest.mark.parametrize("kind", sorted(VALUE_SETS))
def test_fhir_status_codes_never_reach_a_german_reader_untranslated(kind: str) -> None:
    for code in VALUE_SETS[kind]:
        word = status_word(code, "de", kind)  # type: ignore[arg-type]
        assert word and word != code, (kind, code)
        assert status_word(code, "en", kind)  # type: ignore[arg-type]
    assert status_word("completed", "de", "administration") == "gegeben"
    assert status_word(None, "de") == "–"
    assert status_word("some-local-code", "de") == "some-local-code"  # unknown: as written


def test_flag_categories_in_words() -> None:
    assert flag_category_word("safety", "de") == "Sicherheit"
    assert flag_category_word("isolation", "en") == "isolation"
    assert flag_category_word("local-thing", "de") == "local-thing"
    assert flag_category_word(None, "de") == ""


def test_code_status_words_and_alarm() -> None:
    dnr = code_status_text(CodeStatusKind.DNR, "Keine Reanimation (Patientenverfügung)", "de")
    assert dnr.label == "DNR – keine Reanimation" and dnr.limiting
    assert dnr.documented == "Keine Reanimation (Patientenverfügung)"
    assert code_status_text(CodeStatusKind.DNR, "DNR", "de", short=True).documented is None
    unknown = code_status_text(None, None, "en")
    assert unknown.unknown and not unknown.limiting and "not documented" in unknown.label
    assert not code_status_text(CodeStatusKind.FULL, None, "de").limiting


def test_allergy_words() -> None:
    allergy = Allergy(
        substance="Penicillin",
        criticality=Criticality.HIGH,
        kind="allergy",
        category=["medication"],
        reactions=["Anaphylaxie"],
        severity="severe",
        verification_status="unconfirmed",
    )
    words = allergy_text(allergy, "de")
    assert (words.criticality, words.reactions, words.kind) == (
        "HOCH",
        "Anaphylaxie (schwer)",
        "Allergie, Medikament",
    )
    assert words.status == "unbestätigt" and words.high and words.severe


def test_interpretation_flags_mark_only_abnormal_values() -> None:
    assert interpretation_flag(Observation(name="x", interpretation=Interpretation.NORMAL)) == ""
    assert interpretation_flag(Observation(name="x", interpretation=Interpretation.HIGH)) == "H"
    critical = Observation(name="x", interpretation=Interpretation.CRITICAL_LOW)
    assert interpretation_flag(critical) == "LL!"


# --- time zone -----------------------------------------------------------------------------


def test_hospital_zone_order_and_default() -> None:
    assert hospital_zone(None, None) == ZoneInfo(DEFAULT_TIME_ZONE)
    assert hospital_zone("", "America/New_York") == ZoneInfo("America/New_York")
    assert hospital_zone("Europe/Vienna", "America/New_York") == ZoneInfo("Europe/Vienna")
    assert hospital_zone("Not/AZone", None) == ZoneInfo(DEFAULT_TIME_ZONE)


def test_fhir_dates_stay_calendar_dates_and_moments_move_to_the_hospital_zone() -> None:
    far_east = ZoneInfo("Pacific/Kiritimati")
    assert date_text(date(2026, 3, 7), "de", far_east) == "07.03.2026"
    late = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    assert date_text(late, "de", BERLIN) == "01.12.2026"
    assert datetime_text(late, "en", BERLIN) == "1 Dec 2026 00:30"


def test_short_day_of_a_grid_is_the_hospital_day() -> None:
    late = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)  # 00:30 on 1 December in Berlin
    assert short_day(late, "de", BERLIN) == "01.12."
    assert short_day(late, "en", BERLIN) == "1 Dec"
    assert short_day(date(2026, 3, 7), "de") == "07.03."


def test_times_are_berlin_times_on_a_laptop_whose_clock_zone_is_utc() -> None:
    """The laptop's zone (TZ=UTC here) never leaks into what a clinician reads."""
    script = """
from datetime import UTC, datetime
from zoneinfo import ZoneInfo
from app.present.dose import medication_text
from app.present.formats import datetime_text
from app.present.zone import hospital_zone
from app.printing.common import due_text
from sync.model import Dosage, MedicationOrder, Timing
tz = hospital_zone(None, "Europe/Berlin")
now = datetime(2026, 7, 1, 5, 0, tzinfo=UTC)
order = MedicationOrder(id="m", drug="X", start=datetime(2026, 6, 30, 4, 0, tzinfo=UTC),
    dosages=[Dosage(dose_text="1 g", timing=Timing(frequency=1, period=12, period_unit="h"))])
print(datetime_text(now, "de", tz))
print(medication_text(order, "de", tz).schedule())
print(due_text(order, [], now, tz, "de")[0])
"""
    env = {**os.environ, "TZ": "UTC", "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    # 05:00 UTC in July is 07:00 in Berlin (summer time); the order began 06:00 Berlin.
    assert out[0] == "01.07.2026 07:00"
    assert out[1] == "alle 12 h: 06:00, 18:00"
    assert out[2].endswith("18:00")


def test_snapshot_carries_the_hospital_zone(tmp_path: Path) -> None:
    from sync.model import PatientRecord
    from sync.snapshot import SnapshotMeta, SnapshotReader, SnapshotWriter, new_key

    key = new_key()
    now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    for name, zone in (("new.db", "America/Chicago"), ("old.db", None)):
        meta = SnapshotMeta(ward_id="w", ward_name="W", data_as_of=now, time_zone=zone)
        with SnapshotWriter(tmp_path / name, key, meta) as writer:
            writer.add(PatientRecord(id="p", name="Muster, Max"))
            writer.finish()
        reader = SnapshotReader(tmp_path / name, key)
        try:
            assert reader.meta.time_zone == zone
            expected = ZoneInfo(zone or DEFAULT_TIME_ZONE)
            assert hospital_zone(None, reader.meta.time_zone) == expected
        finally:
            reader.close()


# --- search folding ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("lukasz", "Łukaszewicz, Grażyna"),
        ("ovE", "Øvergård, Åse"),
        ("strasse", "Straße"),
        ("mueller", "Müller-Weiß, Jürgen"),
        ("muller", "Müller"),
        ("dvorak", "Dvořák"),
    ],
)
def test_one_folding_for_the_instant_filter_and_the_snapshot_index(typed: str, name: str) -> None:
    assert fmt.matches(typed, name)  # the census filter as the user types
    folded = fold(typed)
    assert any(token.startswith(folded) for token in index_tokens(name))  # the snapshot index
    assert fmt.fold is not None and fmt.fold(name) == fold(name)


# --- screen and paper say the same ---------------------------------------------------------


def _squeeze(text: str) -> str:
    """Text without whitespace: PDF table cells wrap lines where the screen does not."""
    return "".join(text.split())


@pytest.mark.parametrize("lang", ["de", "en"])
def test_screen_and_paper_show_the_same_dose_status_and_number_text(lang: str) -> None:
    import io

    from pypdf import PdfReader

    from app.printing import DocumentMeta, render_mar, render_summary
    from app.printing.sample import sample_record
    from app.ui.viewmodels.chart import ChartModel
    from sync.model import Administration

    now = datetime(2026, 11, 30, 9, 30, tzinfo=BERLIN)
    record = sample_record(now)
    record.medications.append(
        MedicationOrder(
            id="mr-pip",
            drug="Piperacillin/Tazobactam",
            status="active",
            start=now - timedelta(hours=20),
            dosages=[
                Dosage(
                    dose_text="4.5 g",
                    dose_value=4.5,
                    dose_unit="g",
                    route="i.v.",
                    timing=Timing(frequency=1, period=8, period_unit="h"),
                )
            ],
        )
    )
    record.administrations.append(
        Administration(
            order_id="mr-pip",
            drug="Piperacillin/Tazobactam",
            status="not-done",
            when=now - timedelta(hours=4),
            dose_text="4.5 g",
        )
    )
    record.labs.append(
        Observation(
            name="hs-Troponin T",
            value=1067,
            unit="ng/L",
            ref_high=14,
            interpretation=Interpretation.CRITICAL_HIGH,
            effective=now - timedelta(hours=2),
        )
    )
    meta = DocumentMeta(ward_name="Station 7", data_as_of=now, ward_id="w7")
    pdfs = [
        render_summary(record, meta, "S. Pflege", lang, now, BERLIN),
        render_mar(record, meta, "S. Pflege", lang, now, BERLIN),
    ]
    paper = _squeeze(
        "\n".join(
            page.extract_text() or "" for pdf in pdfs for page in PdfReader(io.BytesIO(pdf)).pages
        )
    )
    chart = ChartModel(record, now=now, tz=BERLIN, lang=lang)
    meds = chart.medications()
    assert {m.drug for m in meds} >= {"Piperacillin/Tazobactam", "Insulin lispro"}
    for med in meds:
        for text in (med.dose, med.route, med.schedule):
            assert _squeeze(text) in paper, (med.drug, text)
    insulin = next(m for m in meds if m.drug == "Insulin lispro")
    assert insulin.dose == "nach Schema laut BZ"  # the prescriber's text, not "–"
    metamizol = next(m for m in meds if m.drug.startswith("Metamizol"))
    assert ("Max." if lang == "de" else "Max") in metamizol.schedule  # PRN maximum on both
    given = chart.administrations()
    for line in given:
        assert _squeeze(line.status) in paper and _squeeze(line.dose) in paper
    not_given = next(a for a in given if a.drug == "Piperacillin/Tazobactam")
    assert not_given.status == ("nicht gegeben" if lang == "de" else "not given")
    troponin = next(t.latest for g in chart.lab_groups() for t in g.tests if "Troponin" in t.name)
    assert troponin.value == "1067 ng/L" and troponin.ref == "≤ 14" and troponin.flag == "HH!"
    assert _squeeze(f"{troponin.value}{troponin.flag}{troponin.ref}") in paper
    pip = next(m for m in meds if m.drug == "Piperacillin/Tazobactam")
    assert pip.dose == ("4,5 g" if lang == "de" else "4.5 g")
    wrong = "4.5g" if lang == "de" else "4,5g"
    assert wrong not in paper and "1.067" not in paper and "1,067" not in paper

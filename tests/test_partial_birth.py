"""Partial birth dates: FHIR birthDate "1996" or "1996-07" (as EHRs send for patients whose day
of birth is not known: refugees, unconscious unknowns, some imports) is shown as what is known,
"1996" / "07/1996" / "07.1996", never as 01.01.1996, on screen and on paper, with an age the
period allows ("29–30 y"); searched by what is known only."""

from __future__ import annotations

import io
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader

from app.present.clinical import age_text, birth_text
from app.present.formats import age_parts, fmt_age, period_end
from app.printing import DocumentMeta, render_census, render_mar, render_summary
from app.ui.viewmodels.census import (
    CensusModel,
    _query_words,
    _search_text,
    _text_matches,
    census_line,
)
from app.ui.viewmodels.chart import ChartModel
from sync import searchtext
from sync.fhirtime import fhir_date_precision
from sync.mapping import MappingContext, map_patient
from sync.model import CensusRow, DatePrecision, PatientRecord
from sync.snapshot import SnapshotMeta, SnapshotReader, new_key, write_snapshot

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # 10 Mar 2026
META = DocumentMeta(ward_name="Station 3A", data_as_of=NOW, ward_id="w1")


def mapped(birth: str) -> PatientRecord:
    """A Patient as an EHR sends it for someone whose day of birth is unknown."""
    patient = {
        "resourceType": "Patient",
        "id": "pat-unknown-day",
        "identifier": [
            {
                "type": {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}
                    ]
                },
                "system": "urn:oid:1.2.276.0.76.4.8",
                "value": "40001010",
            }
        ],
        "name": [{"use": "official", "family": "Haddad", "given": ["Samir"]}],
        "gender": "male",
        "birthDate": birth,
    }
    encounter = {
        "resourceType": "Encounter",
        "id": "enc-1",
        "status": "in-progress",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
        "subject": {"reference": "Patient/pat-unknown-day"},
        "period": {"start": "2026-03-08T22:10:00+01:00"},
    }
    ctx = MappingContext(tz=BERLIN, now=NOW, problems=Counter())
    record = map_patient(patient, [encounter], ctx)
    assert not ctx.problems, ctx.problems
    return record


def pdf_text(pdf: bytes) -> str:
    return "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages)


def test_a_birth_year_only_is_shown_as_the_year_on_screen_and_paper() -> None:
    record = mapped("1996")
    assert record.birth_date == date(1996, 1, 1)
    assert record.birth_precision is DatePrecision.YEAR
    row = CensusRow.from_record(record)
    for lang, age in (("en", "29–30 y"), ("de", "29–30 J.")):
        line = census_line(row, NOW, BERLIN, lang)
        assert (line.birth, line.age_sex.split(",")[0]) == ("1996", age)
        header = ChartModel(record, now=NOW, tz=BERLIN, lang=lang).header()
        assert (header.birth, header.age) == ("1996", age)
        for pdf in (
            render_summary(record, META, "S. Pflege", lang, NOW, BERLIN),
            render_census([row], META, "S. Pflege", lang, NOW, BERLIN),
        ):
            text = pdf_text(pdf)
            assert f"1996 ({age}" in text, text[:400]
            assert "01.01.1996" not in text and "1 Jan 1996" not in text


def test_a_birth_month_only_is_shown_as_month_and_year() -> None:
    record = mapped("1996-07")
    assert record.birth_precision is DatePrecision.MONTH
    row = CensusRow.from_record(record)
    assert census_line(row, NOW, BERLIN, "en").birth == "07/1996"
    assert census_line(row, NOW, BERLIN, "de").birth == "07.1996"
    # Born July 1996, today 10 Mar 2026: 29 whatever the day.
    assert census_line(row, NOW, BERLIN, "de").age_sex.startswith("29 J.")
    text = pdf_text(render_summary(record, META, "S. Pflege", "de", NOW, BERLIN))
    assert "geb. 07.1996 (29 J.)" in text and "01.07.1996" not in text


def test_year_and_month_only_read_alike_in_every_view_model_and_printout() -> None:
    """Census row, chart header, hospital-wide hit, and the printed summary, MAR and census:
    what is known ("1996", "03.1996"), never a first day of the period posing as a birthday."""
    cases = {
        "1996": {"de": "1996", "en": "1996"},
        "1996-03": {"de": "03.1996", "en": "03/1996"},
    }
    for birth, shown in cases.items():
        record = mapped(birth)
        row = CensusRow.from_record(record)
        for lang in ("de", "en"):
            invented = (
                ("01.01.1996", "01.03.1996") if lang == "de" else ("1 Jan 1996", "1 Mar 1996")
            )
            assert census_line(row, NOW, BERLIN, lang).birth == shown[lang]
            assert census_line(row, NOW, BERLIN, lang, ward_id="another-ward").birth == shown[lang]
            assert ChartModel(record, now=NOW, tz=BERLIN, lang=lang).header().birth == shown[lang]
            for pdf in (
                render_summary(record, META, "S. Pflege", lang, NOW, BERLIN),
                render_mar(record, META, "S. Pflege", lang, NOW, BERLIN, 24),
                render_census([row], META, "S. Pflege", lang, NOW, BERLIN),
            ):
                text = pdf_text(pdf)
                assert f"{shown[lang]} (" in text, (birth, lang, text[:300])
                assert not any(day in text for day in invented), (birth, lang)


def test_a_full_birth_date_is_unchanged() -> None:
    record = mapped("1996-07-17")
    assert record.birth_precision is DatePrecision.DAY
    line = census_line(CensusRow.from_record(record), NOW, BERLIN, "de")
    assert (line.birth, line.age_sex) == ("17.07.1996", "29 J., m")


def test_precision_survives_the_snapshot_and_search_finds_what_is_known(tmp_path: Path) -> None:
    records = [mapped("1996")]
    key = new_key()
    meta = SnapshotMeta(ward_id="w1", ward_name="Station 3A", data_as_of=NOW, built_at=NOW)
    path = write_snapshot(tmp_path / "ward.db", key, meta, records)
    with SnapshotReader(path, key) as reader:
        (row,) = reader.census()
        assert row.birth_precision is DatePrecision.YEAR
        assert reader.record(row.patient_id) == records[0]
        model = CensusModel([row])
        for query, found in (("1996", True), ("01.01.1996", False), ("1 Jan 1996", False)):
            assert bool(reader.search(query)) is found, query
            model.set_query(query)
            assert bool(model.visible()) is found, query


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2026, 3, 10)))
def test_the_age_shown_for_a_partial_date_always_includes_the_true_age(born: date) -> None:
    today = NOW.date()
    true_age = fmt_age(born, today, "en")
    for precision in (DatePrecision.YEAR, DatePrecision.MONTH):
        first = (
            born.replace(month=1, day=1) if precision is DatePrecision.YEAR else born.replace(day=1)
        )
        shown = age_text(first, today, "en", precision)
        amount, unit = age_parts(born, today) or (0, "d")
        if "–" not in shown:
            assert shown == true_age, (born, precision, shown)
        else:
            # "29–30 y" (one unit) or "3 wk–11 mo" (two): the true age lies in between.
            low, high = shown.split("–")
            high_amount, high_unit = high.split()
            low_amount, *rest = low.split()
            low_unit = rest[0] if rest else high_unit
            if low_unit == high_unit == unit:
                assert int(low_amount) <= amount <= int(high_amount), (born, precision, shown)
            else:
                assert unit in (low_unit, high_unit), (born, precision, shown)
        assert first <= born <= period_end(first, precision.value)
        text = birth_text(first, "de", precision)
        # What is known, nothing more: the year, or month and year; never a day.
        assert text in (str(first.year), f"{first.month:02d}.{first.year}"), text


def test_fhir_date_precision() -> None:
    assert [fhir_date_precision(v) for v in ("1996", "1996-07", "1996-07-17", " 1996 ")] == [
        "year",
        "month",
        "day",
        "year",
    ]
    assert fhir_date_precision("1996-07-17T10:00:00Z") == "day"
    assert fhir_date_precision(None) == "day"
    assert searchtext.date_tokens(date(1996, 7, 1), "month")[:3] == ["199607", "071996", "71996"]


def test_local_filter_finds_a_month_as_shown() -> None:
    row = CensusRow.from_record(mapped("1996-07"))
    for query, found in (("07.1996", True), ("07/1996", True), ("Jul 1996", True), ("1996", True)):
        assert _text_matches(_query_words(query), _search_text(row)) is found, query
    assert not _text_matches(_query_words("01.07.1996"), _search_text(row))

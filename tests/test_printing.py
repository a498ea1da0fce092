"""Printed downtime documents: what a nurse reads on paper must be complete and identifiable.

Text is extracted from the real PDFs with pypdf; pages are rasterised with pdftoppm where it is
installed, to check that the alerts are visible (red) at the top of the first page.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from app.printing import DocumentMeta, render_census, render_mar, render_summary
from app.printing.mar import order_grid
from app.printing.margrid import Cell
from app.printing.sample import big_record, sample_census, sample_record
from sync.model import (
    Allergy,
    CensusRow,
    CodeStatus,
    CodeStatusKind,
    Dosage,
    MedicationOrder,
    PatientRecord,
    Timing,
)
from tests.pdflayout import text_runs

TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 30, 9, 30, tzinfo=TZ)
AS_OF = datetime(2026, 11, 30, 9, 0, tzinfo=TZ)
META = DocumentMeta(ward_name="Station 7 Innere", data_as_of=AS_OF, ward_id="ward-7")
GOLDEN = Path(__file__).parent / "golden" / "pdf_text"
NAME = "Łukaszewicz, Grażyna"
DOWNTIME_DE = "AUSFALLKOPIE – Datenstand 30.11.2026 09:00"
DOWNTIME_EN = "DOWNTIME COPY - data as of 30 Nov 2026 09:00"


def pages(pdf: bytes) -> list[str]:
    assert pdf.startswith(b"%PDF-")
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages]


def assert_patient_on_every_page(texts: list[str], lang: str = "de") -> None:
    born = "geb. 17.03.1941" if lang == "de" else "born 17 Mar 1941"
    downtime = DOWNTIME_DE if lang == "de" else DOWNTIME_EN
    page_word = "Seite {} von {}" if lang == "de" else "Page {} of {}"
    for number, text in enumerate(texts, start=1):
        assert NAME in text, number
        assert born in text, number
        assert "MRN 0470815" in text, number
        assert downtime in text, number
        assert page_word.format(number, len(texts)) in text, number
        assert "S. Pflege" in text, number  # printed by whom


@pytest.fixture(scope="module")
def record() -> PatientRecord:
    return sample_record(NOW)


def test_summary_identifies_the_patient_on_every_page_in_german(record: PatientRecord) -> None:
    texts = pages(render_summary(record, META, "S. Pflege", "de", NOW, TZ))
    assert len(texts) >= 2
    assert_patient_on_every_page(texts, "de")
    assert "Gedruckt von S. Pflege am 30.11.2026 09:30" in texts[0]


def test_summary_in_english(record: PatientRecord) -> None:
    texts = pages(render_summary(record, META, "S. Pflege", "en", NOW, TZ))
    assert_patient_on_every_page(texts, "en")
    assert "Printed by S. Pflege on 30 Nov 2026 09:30" in texts[0]
    assert "Code status: DNR - do not resuscitate" in texts[0]


def test_summary_puts_code_status_and_allergies_first(record: PatientRecord) -> None:
    first = pages(render_summary(record, META, "S. Pflege", "de", NOW, TZ))[0]
    body = first.split("Aufenthalt")[0]  # everything before the stay section
    assert "Reanimationsstatus: DNR – keine Reanimation" in body
    assert "Penicillin" in body and "HOCH" in body and "Anaphylaxie" in body
    assert "Sturzgefahr" in body
    # and the header badges repeat them on every page
    assert "⚠ ALLERGIEN: Penicillin, Latex" in first


def test_summary_lists_medications_with_dose_route_timing_and_due(
    record: PatientRecord,
) -> None:
    text = re.sub(
        r"\s+", " ", "\n".join(pages(render_summary(record, META, "S. Pflege", "de", NOW, TZ)))
    )
    assert "Metoprololsuccinat 47,5 mg" in text
    assert "2× täglich: 08:00, 20:00" in text
    # 08:00 dose not documented, now is 09:30
    assert "ÜBERFÄLLIG seit 08:00 · nächste 20:00" in text
    assert "alle 8 h: 03:30, 11:30, 19:30" in text  # anchored at the order start
    assert "bei Bedarf (Schmerzen)" in text
    assert "Kalium" in text and "5,9 mmol/l" in text and "HH!" in text and "3,5–5,1" in text
    assert "Kalium-Kontrolle" in text  # pending order
    assert "Ковалёва, Мария Петровна" in text  # contact (Cyrillic)
    assert "Dr. Δημήτριος Παπαδόπουλος" in text  # attending (Greek)


def test_summary_without_allergy_information_warns_instead_of_staying_silent() -> None:
    bare = PatientRecord(id="p", name="Nowak, Jan", mrn="1")
    text = pages(render_summary(bare, META, "x", "de", NOW, TZ))[0]
    assert "Keine Allergien dokumentiert – das heißt NICHT: keine Allergien" in text
    assert "REA-Status nicht dokumentiert" in text
    assert "Geburtsdatum unbekannt" in text
    nka = bare.model_copy(update={"no_known_allergies": True})
    assert (
        "Keine bekannten Allergien (dokumentiert)"
        in pages(render_summary(nka, META, "x", "de", NOW, TZ))[0]
    )


@pytest.mark.parametrize(
    ("lang", "none_known", "not_documented"),
    [
        ("de", "keine bekannt", "nicht dokumentiert – nachfragen!"),
        ("en", "none known", "not documented – ask!"),
    ],
)
def test_census_prints_none_known_and_not_documented_allergies_differently(
    lang: str, none_known: str, not_documented: str
) -> None:
    """Issue 9: "no known allergies" and "nothing documented" are different facts; the paper
    census printed "–" for both. Each row carries the screen's words, "not documented" in bold
    with "ask!"."""
    rows = [
        CensusRow(patient_id="a", name="Adler, Anna", room="1", bed="A", no_known_allergies=True),
        CensusRow(patient_id="b", name="Berger, Bernd", room="1", bed="B"),
    ]
    pdf = render_census(rows, META, "x", lang, NOW, TZ)
    flat = re.sub(r"\s+", " ", " ".join(pages(pdf)))
    # Rows are drawn top to bottom, cell by cell: each word follows its patient's name.
    a, b = flat.index("Adler, Anna"), flat.index("Berger, Bernd")
    assert a < flat.index(none_known) < b < flat.index(not_documented), flat
    assert flat.count(none_known) == 1 and flat.count(not_documented) == 1, flat
    ask = not_documented.split()[-1]
    assert {r.font.split("+")[-1] for r in text_runs(pdf) if ask in r.text} == {"DejaVuSans-Bold"}


def test_census_breaks_a_word_too_wide_for_its_column_at_a_syllable_with_a_hyphen() -> None:
    """A word wider than its narrow column was cut anywhere with no mark ("symptomli" /
    "ndernde", "Blutentnah" / "me/RR"); it breaks at a dictionary point with a drawn "-"."""
    row = CensusRow(
        patient_id="a",
        name="Adler, Anna",
        code_status=CodeStatusKind.COMFORT,
        code_status_text="Palliatives Therapieziel: nur symptomlindernde Maßnahmen",
        flags=["Keine Blutentnahme/RR am linken Arm"],
    )
    text = "\n".join(pages(render_census([row], META, "x", "de", NOW, TZ)))
    assert "symptom-\nlindernde" in text, text
    assert "Blutent-\nnahme/RR" in text, text


def test_mar_lists_scheduled_times_for_the_next_24_hours(record: PatientRecord) -> None:
    texts = pages(render_mar(record, META, "S. Pflege", "de", NOW, TZ, hours=24))
    assert_patient_on_every_page(texts, "de")
    first = texts[0]
    assert first.index("Penicillin") < first.index("Regelmedikation")  # allergies at the top
    assert "Medikationsplan / Verabreichungsnachweis (24 h)" in first
    flat = re.sub(r"\s+", " ", "\n".join(texts))
    # Metoprolol 08:00/20:00 from 09:30, one column per day, one row per time: 30.11. 08:00
    # overdue ("!"), 30.11. 20:00 and 01.12. 08:00 boxes, 01.12. 20:00 after the period ("–")
    assert "Metoprololsuccinat 47,5 mg Retardtablette" in flat
    assert re.search(
        r"ÜBERFÄLLIG seit 08:00 · nächste 20:00.*?30\.11\. 01\.12\. 08:00 ! 20:00 – Furos", flat
    )
    # Meropenem every 8 h from 03:30: 30.11. 03:30 before the period, 01.12. 11:30/19:30 after
    assert re.search(r"30\.11\. 01\.12\. 03:30 – 11:30 – 19:30 – Insulin", flat)
    meropenem = next(o for o in record.medications if o.drug.startswith("Meropenem"))
    grid = order_grid(meropenem, record.administrations, NOW, NOW + timedelta(hours=24), TZ)
    assert [grid.boxes_on(d) for d in grid.days] == [2, 1]  # 11:30, 19:30 | 03:30
    # free-text insulin schema: a box per glucose check with time, glucose and units
    assert "Insulin nach BZ ohne angeordnete Zeiten" in flat
    assert flat.count("Zeit ____:____ BZ ____ IE ____ Hz ____") == 4
    assert "Bedarfsmedikation" in flat and "Metamizol 500 mg" in flat
    # Metamizol "max. 4× / 24 h": as many boxes as the maximum daily doses times the days
    assert flat.count("Zeit ____:____ Dosis _____ Hz ____") == 4
    assert "Verabreichungen (letzte 72 h)" in flat and "S. Иванова" in flat


def test_mar_72_hours_has_three_days_of_boxes(record: PatientRecord) -> None:
    texts = pages(render_mar(record, META, "S. Pflege", "en", NOW, TZ, hours=72))
    assert_patient_on_every_page(texts, "en")
    flat = re.sub(r"\s+", " ", "\n".join(texts))
    metoprolol = flat.split("Metoprololsuccinat")[1].split("Furosemid")[0]
    # One column per day 30 Nov .. 3 Dec; 30 Nov 08:00 overdue, not documented (a box to sign a
    # late dose); 3 Dec 20:00 after the period
    assert "30 Nov 1 Dec 2 Dec 3 Dec 08:00 ! 20:00 –" in metoprolol
    order = next(o for o in record.medications if o.drug.startswith("Metoprolol"))
    grid = order_grid(order, record.administrations, NOW, NOW + timedelta(hours=72), TZ)
    late = [k for k, cell in grid.cells.items() if cell is Cell.LATE]
    assert [(c.hour, d.day) for c, d in late] == [(8, 30)]
    assert [grid.boxes_on(d) for d in grid.days] == [2, 2, 2, 1]


def test_mar_refuses_other_periods(record: PatientRecord) -> None:
    with pytest.raises(ValueError, match="24 or 72"):
        render_mar(record, META, "x", "de", NOW, TZ, hours=48)


def test_census_prints_every_name_correctly_in_any_script() -> None:
    rows = sample_census(60, NOW)
    texts = pages(render_census(rows, META, "S. Pflege", "de", NOW, TZ))
    full = re.sub(r"\s+", " ", "\n".join(texts))
    for row in rows:
        assert row.name in full, row.patient_id
        assert row.mrn and row.mrn in full
    for name in ("Παπαδοπούλου, Αικατερίνη", "Кузнецов, Дмитрий Иванович", "Şahin, Ayşe Gül"):
        assert name in full
    for number, text in enumerate(texts, start=1):
        assert "Station 7 Innere" in text
        assert DOWNTIME_DE in text
        assert f"Seite {number} von {len(texts)}" in text
        assert "Zi./Bett" in text  # header row repeated on every page
    assert "⚠ Penicillin" in full  # severe allergy marker
    assert "DNR/DNI" in full


@pytest.fixture(scope="module")
def big() -> PatientRecord:
    return big_record(NOW, medications=100, labs=500)


def test_big_summary_paginates_without_losing_a_line(big: PatientRecord) -> None:
    summary = pages(render_summary(big, META, "S. Pflege", "de", NOW, TZ))
    assert len(summary) > 5
    assert_patient_on_every_page(summary, "de")
    text = "\n".join(summary)
    for i in range(100):
        assert text.count(f"Testmedikament-{i:03d}") == 1, i
    for i in range(500):
        assert text.count(f"Laborwert-{i:03d}") == 1, i
    # table headers repeat on continuation pages
    lab_pages = [p for p in summary if "Laborwert-" in p]
    assert len(lab_pages) > 3
    assert all("Referenz" in p for p in lab_pages)


def test_big_mar_paginates_without_losing_a_medication(big: PatientRecord) -> None:
    mar = pages(render_mar(big, META, "S. Pflege", "de", NOW, TZ, hours=72))
    assert len(mar) > 3
    assert_patient_on_every_page(mar, "de")
    text = "\n".join(mar)
    for i in range(100):
        # scheduled orders once in their row (+ nowhere else); PRN ones in the PRN table
        assert text.count(f"Testmedikament-{i:03d}") == 1, i


def test_very_frequent_order_continues_on_extra_rows_instead_of_failing(
    record: PatientRecord,
) -> None:
    hourly = MedicationOrder(
        id="q1h",
        drug="Heparin-Perfusor Kontrolle",
        dosages=[Dosage(timing=Timing(frequency=4, period=1, period_unit="h"))],
    )
    rec = record.model_copy(update={"medications": [hourly]})
    flat = re.sub(r"\s+", " ", "\n".join(pages(render_mar(rec, META, "x", "de", NOW, TZ, 72))))
    # 96 times of day, each one row of the day grid, in chunks that fit a page
    assert len(re.findall(r" 13:15 ", flat)) == 1 and flat.count("↳ Heparin-Perfusor") >= 7
    assert len(set(re.findall(r"\b\d\d:\d\d\b", flat))) >= 96
    grid = order_grid(hourly, [], NOW, NOW + timedelta(hours=72), TZ)
    assert sum(grid.boxes_on(d) for d in grid.days) >= 72 * 4


def normalise(text: str) -> str:
    """Golden comparison: the printed-at time may differ; nothing else may."""
    text = re.sub(r"(Gedruckt von .*? am|Printed by .*? on) [^·]+·", r"\1 <TIME> ·", text)
    return "\n".join(line.rstrip() for line in text.splitlines()).strip() + "\n"


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("summary-de", lambda r: render_summary(r, META, "S. Pflege", "de", NOW, TZ)),
        ("mar-en", lambda r: render_mar(r, META, "S. Pflege", "en", NOW, TZ, hours=24)),
        (
            "census-de",
            lambda r: render_census(sample_census(8, NOW), META, "S. Pflege", "de", NOW, TZ),
        ),
    ],
)
def test_golden_text(
    name: str, make: Callable[[PatientRecord], bytes], record: PatientRecord
) -> None:
    text = normalise("\n\f\n".join(pages(make(record))))
    path = GOLDEN / f"{name}.txt"
    if os.environ.get("WARDCOPY_UPDATE_GOLDEN") or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        if not os.environ.get("WARDCOPY_UPDATE_GOLDEN"):
            pytest.fail(f"golden file {path} was missing and has been written; check it in")
    assert text == path.read_text(encoding="utf-8")


def test_printed_at_time_is_the_only_difference_between_two_prints(
    record: PatientRecord,
) -> None:
    later = NOW + timedelta(minutes=7)
    a = pages(render_summary(record, META, "S. Pflege", "de", NOW, TZ))
    b = pages(render_summary(record, META, "S. Pflege", "de", later, TZ))
    assert a != b
    assert "am 30.11.2026 09:37" in b[0]
    assert normalise("\n".join(a)) == normalise("\n".join(b))


def test_renderers_write_no_files(
    record: PatientRecord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    render_summary(record, META, "x", "de", NOW, TZ)
    render_mar(record, META, "x", "de", NOW, TZ)
    render_census(sample_census(5, NOW), META, "x", "de", NOW, TZ)
    assert list(tmp_path.iterdir()) == []


def test_rendering_is_fast_enough_for_a_ward(record: PatientRecord) -> None:
    render_summary(record, META, "x", "de", NOW, TZ)  # font registration happens once
    start = time.perf_counter()
    render_summary(record, META, "x", "de", NOW, TZ)
    render_mar(record, META, "x", "de", NOW, TZ)
    one_patient = time.perf_counter() - start
    start = time.perf_counter()
    render_census(sample_census(60, NOW), META, "x", "de", NOW, TZ)
    census = time.perf_counter() - start
    # Target < 1 s each on a ward laptop; the margin absorbs a busy CI machine.
    assert one_patient < 3 and census < 3, (one_patient, census)


names = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], max_codepoint=0x2FFFF), max_size=40
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=names.filter(lambda s: s.strip() != ""),
    substance=names,
    text=names,
    kind=st.sampled_from(list(CodeStatusKind)),
)
def test_any_text_renders_without_error(
    name: str, substance: str, text: str, kind: CodeStatusKind
) -> None:
    rec = PatientRecord(
        id="p",
        name=name,
        mrn=text or None,
        allergies=[Allergy(substance=substance or "x", reactions=[text])],
        code_status=CodeStatus(kind=kind, text=text),
        medications=[MedicationOrder(id="m", drug=name, dosages=[Dosage(text=text)])],
    )
    for pdf in (
        render_summary(rec, META, text, "de", NOW, TZ),
        render_mar(rec, META, text, "en", NOW, TZ),
        render_census([CensusRow.from_record(rec)], META, text, "de", NOW, TZ),
    ):
        assert pages(pdf)


# --------------------------------------------------------------------------- visual check


def _png(pdf: bytes, tmp_path: Path, stem: str) -> Path:
    source = tmp_path / f"{stem}.pdf"  # test output only: fictional data, tmp_path
    source.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1", str(source), str(tmp_path / stem)],
        check=True,
        timeout=60,
    )
    return next(tmp_path.glob(f"{stem}*.png"))


def _red_pixels(image: Any) -> int:
    """Pixels of the alert red (#B00020) in an RGB image."""
    data = image.tobytes()
    return sum(
        1 for i in range(0, len(data), 3) if data[i] > 150 and data[i + 1] < 60 and data[i + 2] < 80
    )


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) missing")
def test_dnr_and_allergy_alerts_are_red_at_the_top_of_the_first_page(
    record: PatientRecord, tmp_path: Path
) -> None:
    from PIL import Image

    for stem, pdf in (
        ("summary", render_summary(record, META, "x", "de", NOW, TZ)),
        ("mar", render_mar(record, META, "x", "de", NOW, TZ)),
    ):
        image = Image.open(_png(pdf, tmp_path, stem)).convert("RGB")
        width, height = image.size
        top = image.crop((0, 0, width, height // 4))
        red = _red_pixels(top)
        assert red > 0.02 * top.width * top.height, (stem, red)
        full_code = record.model_copy(update={"code_status": None, "allergies": []})
        plain = render_summary(full_code, META, "x", "de", NOW, TZ)
        plain_top = Image.open(_png(plain, tmp_path, f"{stem}-plain")).convert("RGB")
        top_plain = plain_top.crop((0, 0, width, height // 4))
        red_plain = _red_pixels(top_plain)
        assert red_plain < red / 4


def test_long_name_stays_whole_and_allergy_badge_shortens(record: PatientRecord) -> None:
    from sync.model import Stay

    name = "Wolfeschlegelsteinhausenbergerdorff-Łęczycka, Hubert Blaine"
    many = [Allergy(substance=f"Jodhaltiges Kontrastmittel Typ {i}") for i in range(6)]
    rec = record.model_copy(
        update={
            "name": name,
            "allergies": many,
            "stay": Stay(ward="Intensivstation", room="Zimmer 109", bed="Bett 1"),
        }
    )
    for pdf in (
        render_summary(rec, META, "x", "de", NOW, TZ),
        render_mar(rec, META, "x", "de", NOW, TZ),
    ):
        for text in pages(pdf):
            header = text.split(DOWNTIME_DE, 1)[1].split("Seite ")[0]  # the page furniture
            assert name in header
            assert "⚠ ALLERGIEN" in header
            assert "Zimmer 109 / Bett 1" in header and "Zimmer Zimmer" not in header


def test_only_the_last_week_of_labs_is_printed_and_the_rest_is_counted(
    record: PatientRecord,
) -> None:
    from sync.model import Observation

    old = [
        Observation(name=f"Altwert-{i}", value=1.0, effective=NOW - timedelta(days=8 + i))
        for i in range(3)
    ]
    rec = record.model_copy(update={"labs": [*record.labs, *old]})
    text = re.sub(r"\s+", " ", "\n".join(pages(render_summary(rec, META, "x", "de", NOW, TZ))))
    assert "Kalium" in text and "NT-proBNP" in text
    assert "Altwert" not in text
    assert "3 ältere Laborwerte (vor 23.11.2026 04:30) nicht gedruckt" in text


def test_a_history_window_is_said_under_vitals_and_labs_and_only_when_values_were_left_out(
    record: PatientRecord,
) -> None:
    since = datetime(2026, 11, 29, 9, 30, tzinfo=TZ)
    cut = record.model_copy(update={"vitals_since": since, "labs_since": since - timedelta(days=6)})
    de = re.sub(r"\s+", " ", "\n".join(pages(render_summary(cut, META, "x", "de", NOW, TZ))))
    assert "Vitalwerte vor 29.11.2026 09:30 sind nicht in dieser Kopie" in de
    assert "Laborwerte vor 23.11.2026 09:30 sind nicht in dieser Kopie" in de
    en = re.sub(r"\s+", " ", "\n".join(pages(render_summary(cut, META, "x", "en", NOW, TZ))))
    assert "Vital signs before 29 Nov 2026 09:30 are not in this copy" in en
    whole = re.sub(r"\s+", " ", "\n".join(pages(render_summary(record, META, "x", "de", NOW, TZ))))
    assert "nicht in dieser Kopie" not in whole

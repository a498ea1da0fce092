"""Paper that works in a downtime: every barcode decodes from a 150 dpi render (as a scan or
fax of the page would give), with a real decoder (zbarimg from zbar-tools) on every page."""

from __future__ import annotations

import shutil
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app.printing import DocumentMeta, render_census, render_mar, render_summary
from app.printing.mar import order_grid
from app.printing.margrid import Cell
from app.printing.sample import big_record, sample_census, sample_record
from sync.model import PatientRecord, Stay

TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 30, 9, 30, tzinfo=TZ)
META = DocumentMeta(ward_name="Station 7 Innere", data_as_of=NOW, ward_id="ward-7")

needs_tools = pytest.mark.skipif(
    shutil.which("zbarimg") is None or shutil.which("pdftoppm") is None,
    reason="zbarimg (zbar-tools) and pdftoppm (poppler-utils) are needed",
)


def decoded_per_page(pdf: bytes, folder: Path, dpi: int = 150) -> list[set[str]]:
    """What zbarimg reads on each page of `pdf` rendered at `dpi` (greyscale, as a scanner)."""
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "doc.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-gray", "-png", str(source), str(folder / "p")],
        check=True,
        timeout=120,
    )
    found: list[set[str]] = []
    for image in sorted(folder.glob("p-*.png")):
        done = subprocess.run(
            ["zbarimg", "-q", "--raw", str(image)], capture_output=True, text=True, timeout=60
        )
        found.append({line.strip() for line in done.stdout.splitlines() if line.strip()})
    return found


@needs_tools
@pytest.mark.parametrize("doc", ["summary", "mar24"])
def test_every_page_has_mrn_and_case_barcodes_that_decode_at_150_dpi(
    doc: str, tmp_path: Path
) -> None:
    record = sample_record(NOW)
    assert record.mrn and record.stay and record.stay.case_number
    if doc == "summary":
        pdf = render_summary(record, META, "Anna Test", "de", NOW, TZ)
    else:
        pdf = render_mar(record, META, "Anna Test", "en", NOW, TZ, hours=24)
    found = decoded_per_page(pdf, tmp_path)
    assert found
    for number, codes in enumerate(found, start=1):
        # The case number, never the FHIR resource id.
        assert {record.mrn, record.stay.case_number} <= codes, f"page {number}: {codes}"
        assert record.stay.encounter_id not in codes


@needs_tools
@pytest.mark.slow
def test_barcodes_decode_on_every_page_of_the_100_order_mar_and_the_census(
    tmp_path: Path,
) -> None:
    record = big_record(NOW)
    pdf = render_mar(record, META, "Anna Test", "de", NOW, TZ, hours=72)
    found = decoded_per_page(pdf, tmp_path / "mar")
    assert len(found) > 5
    assert all({record.mrn, "26004711"} <= codes for codes in found), found
    census = render_census(sample_census(60, NOW), META, "Anna Test", "de", NOW, TZ)
    found = decoded_per_page(census, tmp_path / "census")
    assert found and all("ward-7" in codes for codes in found), found


@needs_tools
def test_long_case_number_and_non_ascii_mrn_fall_back_to_qr_that_decodes(
    tmp_path: Path,
) -> None:
    base = sample_record(NOW)
    case = "f81d4fae-7dec-11d0-a765-00a0c91e6bf6"
    assert base.stay is not None
    record: PatientRecord = base.model_copy(
        update={"mrn": "Ø-4711-ß", "stay": base.stay.model_copy(update={"case_number": case})}
    )
    assert isinstance(record.stay, Stay)
    pdf = render_summary(record, META, "Anna Test", "de", NOW, TZ)
    found = decoded_per_page(pdf, tmp_path)
    for codes in found:
        assert case in codes and "Ø-4711-ß" in codes, codes


@pytest.mark.parametrize("doc", ["summary", "mar", "census"])
def test_break_glass_printout_says_so_on_every_page(doc: str) -> None:
    from tests.test_printing import pages

    record = big_record(NOW, medications=30, labs=120)
    who = "Maria Notfall"
    if doc == "summary":
        pdf = render_summary(record, META, who, "de", NOW, TZ, break_glass=True)
        mark = "NOTFALLZUGANG (Break-Glass): Maria Notfall"
    elif doc == "mar":
        pdf = render_mar(record, META, who, "en", NOW, TZ, hours=72, break_glass=True)
        mark = "EMERGENCY ACCESS (break-glass): Maria Notfall"
    else:
        pdf = render_census(sample_census(60, NOW), META, who, "de", NOW, TZ, break_glass=True)
        mark = "NOTFALLZUGANG (Break-Glass): Maria Notfall"
    texts = pages(pdf)
    assert len(texts) > 1
    assert all(mark in text for text in texts)
    plain = render_census(sample_census(3, NOW), META, who, "de", NOW, TZ)
    assert not any("NOTFALLZUGANG" in text for text in pages(plain))


def test_a_1400_character_family_name_prints_the_census_marked_and_the_other_rows_whole() -> None:
    from tests.test_printing import pages

    rows = sample_census(6, NOW)
    rows[2] = rows[2].model_copy(update={"name": "Q" * 1400 + ", Anna"})
    text = "".join(pages(render_census(rows, META, "A", "de", NOW, TZ)))
    assert "…" in text  # cut with a marker, not silently
    for row in rows[:2] + rows[3:]:
        assert row.name in text


def test_a_5_mb_name_prints_fast_everywhere() -> None:
    import time

    huge = "Ω" * 5_000_000
    rows = sample_census(3, NOW)
    rows[0] = rows[0].model_copy(update={"name": huge})
    record = sample_record(NOW).model_copy(update={"name": huge})
    start = time.perf_counter()
    render_census(rows, META, "A", "de", NOW, TZ)
    render_summary(record, META, "A", "de", NOW, TZ)
    render_mar(record, META, "A", "de", NOW, TZ)
    assert time.perf_counter() - start < 10


def test_a_52_character_name_leaves_birth_date_and_mrn_whole_in_the_footer() -> None:
    from tests.test_printing import pages

    name = "Wolfeschlegelsteinhausenbergerdorff-Ravensburg, Marie"
    assert len(name) >= 52
    record = sample_record(NOW).model_copy(update={"name": name})
    for text in pages(render_summary(record, META, "A", "de", NOW, TZ)):
        footer = [line for line in text.splitlines() if "Seite" in line or "MRN 0470815" in line]
        assert any("geb. 17.03.1941" in line and "MRN 0470815" in line for line in footer), footer


def flat_text(pdf: bytes) -> list[str]:
    import re

    from tests.test_printing import pages

    return [re.sub(r"\s+", " ", text) for text in pages(pdf)]


def test_stale_snapshot_mar_has_boxes_from_data_as_of_and_no_false_overdue() -> None:
    as_of = datetime(2026, 11, 29, 7, 30, tzinfo=TZ)  # 26 h before printing
    meta = DocumentMeta(ward_name="Station 7 Innere", data_as_of=as_of, ward_id="ward-7")
    record = sample_record(NOW)
    texts = flat_text(render_mar(record, meta, "Anna Test", "de", NOW, TZ, hours=24))
    flat = " ".join(texts)
    assert "ACHTUNG: Die Daten sind 1 Tag 2 h alt (Datenstand 29.11.2026 07:30)" in flat
    assert "Zeitraum 29.11.2026 07:30 bis 01.12.2026 09:30" in flat
    metoprolol = flat.split("Metoprololsuccinat")[1].split("Furosemid")[0]
    # Every dose since data-as-of has a box (no gap), none is called overdue: the snapshot
    # cannot know whether they were given.
    assert "29.11. 30.11. 01.12. 08:00 20:00 –" in metoprolol  # the day grid
    order = next(o for o in record.medications if o.drug.startswith("Metoprolol"))
    grid = order_grid(order, record.administrations, NOW, NOW + timedelta(hours=24), TZ, as_of)
    boxes = sorted((d.day, c.hour) for (c, d), cell in grid.cells.items() if cell is Cell.BOX)
    assert boxes == [(1, 8), (29, 8), (29, 20), (30, 8), (30, 20)]
    assert Cell.LATE not in grid.cells.values()
    assert "!" not in metoprolol
    assert "ÜBERFÄLLIG" not in flat


def test_fresh_snapshot_says_its_age_without_alarm() -> None:
    texts = flat_text(render_mar(sample_record(NOW), META, "Anna Test", "en", NOW, TZ))
    assert "Data as of 30 Nov 2026 09:30 (< 1 min before printing)." in texts[0]
    assert "WARNING: the data is" not in " ".join(texts)


def test_order_notes_print_in_full_on_the_mar_and_the_summary() -> None:
    note = (
        "Korrekturschema: BZ 150-199 mg/dl 2 IE, 200-249 4 IE, 250-299 6 IE, ab 300 8 IE und "
        "Arzt informieren. Zeitkritisch: innerhalb 15 min nach BZ-Messung geben."
    )
    record = sample_record(NOW)
    meds = [
        m.model_copy(update={"note": note}) if m.drug == "Insulin lispro" else m
        for m in record.medications
    ]
    record = record.model_copy(update={"medications": meds})
    for pdf in (
        render_mar(record, META, "A", "de", NOW, TZ, hours=72),
        render_summary(record, META, "A", "de", NOW, TZ),
    ):
        flat = " ".join(flat_text(pdf))
        assert f"Hinweis: {note}" in flat


def test_prn_boxes_are_max_daily_doses_times_days() -> None:
    from app.printing.mar import prn_box_count
    from app.printing.margrid import PRN_BLANK_PER_DAY

    record = sample_record(NOW)
    metamizol = next(m for m in record.medications if m.as_needed)
    assert metamizol.dosages[0].max_per_period == "4× / 24 h"
    assert prn_box_count(metamizol, 24) == 4
    assert prn_box_count(metamizol, 72) == 12  # Paracetamol-like "max 4/day" over 72 h
    flat = " ".join(flat_text(render_mar(record, META, "A", "en", NOW, TZ, hours=72)))
    assert flat.count("Time ____:____ Dose _____ Init. ____") == 12
    no_max = metamizol.model_copy(
        update={"dosages": [metamizol.dosages[0].model_copy(update={"max_per_period": None})]}
    )
    assert prn_box_count(no_max, 24) == PRN_BLANK_PER_DAY
    assert prn_box_count(no_max, 72) == 3 * PRN_BLANK_PER_DAY


def test_mar_form_parts_not_given_codes_on_every_page_and_blank_forms() -> None:
    record = big_record(NOW, medications=40, labs=10)
    texts = flat_text(render_mar(record, META, "A", "de", NOW, TZ, hours=72))
    assert len(texts) > 2
    for text in texts:
        assert "Nicht gegeben – Kürzel ins Kästchen + Grund: V = verweigert" in text
    flat = " ".join(texts)
    for part in (
        "Neue Anordnungen (handschriftlich)",
        "Arzt/Ärztin: Unterschrift",
        "Handzeichen-Liste",
        "Unterschrift Handzeichen Funktion",
        "Gewicht:",
    ):
        assert part in flat, part
    sample = " ".join(flat_text(render_mar(sample_record(NOW), META, "A", "de", NOW, TZ)))
    enoxaparin = sample.split("Enoxaparin 40 mg s.c.")[1].split("Meropenem")[0]
    assert "Injektionsstelle: ____" in enoxaparin  # s.c.: the site of each injection


def test_hospital_wide_census_has_a_ward_column_groups_by_ward_and_does_not_count_discharged() -> (
    None
):
    from datetime import timedelta

    rows = sample_census(12, NOW)
    wards = ["Station 3A", "Station 7 Innere", "Intensiv"]
    rows = [
        r.model_copy(update={"ward": wards[n % 3], "ward_id": f"w{n % 3}"})
        for n, r in enumerate(rows)
    ]
    rows[4] = rows[4].model_copy(
        update={"discharged": NOW - timedelta(hours=5), "stay_status": "finished"}
    )
    meta = DocumentMeta(ward_name="Ganzes Haus", data_as_of=NOW, ward_id="hospital")
    texts = flat_text(render_census(rows, meta, "A", "de", NOW, TZ))
    flat = " ".join(texts)
    assert "Station Ganzes Haus" not in flat and "Ganzes Haus" in texts[0]
    assert "11 Patienten anwesend · 1 entlassen (gelistet, nicht gezählt)" in texts[0]
    assert "Station Zi./Bett" in flat  # the ward column
    # Grouped: each ward's line once, wards in alphabetical order.
    positions = [flat.index(f"{w} (") for w in sorted(wards, key=str.casefold)]
    assert positions == sorted(positions)
    assert "Station 3A (4 anwesend)" in flat  # rows 0, 3, 6, 9
    assert "Station 7 Innere (3 anwesend)" in flat  # rows 1, 4, 7, 10; 4 was discharged
    assert f"{rows[4].name} [ENTLASSEN 30.11.2026]" in flat


def test_discharged_patient_is_marked_in_the_mar_and_summary_header() -> None:
    from datetime import timedelta

    record = sample_record(NOW)
    assert record.stay is not None
    stay = record.stay.model_copy(
        update={"discharged": NOW - timedelta(days=1), "status": "finished"}
    )
    record = record.model_copy(update={"stay": stay})
    for pdf in (
        render_mar(record, META, "A", "de", NOW, TZ),
        render_summary(record, META, "A", "de", NOW, TZ),
    ):
        for text in flat_text(pdf):
            assert "ENTLASSEN 29.11.2026" in text


def test_limited_code_status_and_severe_allergy_are_marked_not_only_red() -> None:
    summary = " ".join(flat_text(render_summary(sample_record(NOW), META, "A", "de", NOW, TZ)))
    assert "⚠ Reanimationsstatus: DNR" in summary
    assert "⚠ Penicillin" in summary  # high criticality
    assert "⚠ Latex" not in summary  # low criticality: no alarm
    census = " ".join(flat_text(render_census(sample_census(8, NOW), META, "A", "de", NOW, TZ)))
    assert "⚠ DNR" in census

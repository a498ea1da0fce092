"""The "medications due" printout (app.printing.due): PDF text read back with pypdf."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from app import schedule
from app.present.due import due_rule_text
from app.printing.due import render_due
from app.printing.layout import DocumentMeta
from sync.model import Dosage, MedicationOrder, PatientRecord, Stay, Timing

BERLIN = ZoneInfo("Europe/Berlin")
# 09:30 UTC = 10:30 in Berlin (summer): the hospital zone, whatever the laptop's.
NOW = datetime(2026, 6, 10, 8, 30, tzinfo=ZoneInfo("UTC"))


def record(i: int, times: list[str]) -> PatientRecord:
    return PatientRecord(
        id=f"p{i}",
        name=f"Muster{i}, Erika",
        stay=Stay(status="in-progress", room=str(i), bed="A"),
        medications=[
            MedicationOrder(
                id=f"m{i}",
                drug="Metoprolol 47,5 mg",
                status="active",
                dosages=[
                    Dosage(
                        dose_value=47.5,
                        dose_unit="mg",
                        route="p.o.",
                        timing=Timing(times_of_day=times),
                    )
                ],
            ),
            MedicationOrder(
                id=f"prn{i}",
                drug="Paracetamol 500 mg",
                status="active",
                dosages=[Dosage(dose_text="500 mg", as_needed=True)],
            ),
        ],
    )


def pages(pdf: bytes) -> list[str]:
    return [re.sub(r"\s+", " ", p.extract_text() or "") for p in PdfReader(io.BytesIO(pdf)).pages]


META = DocumentMeta(
    ward_name="Station 7 Innere", data_as_of=NOW - timedelta(minutes=20), ward_id="st7"
)


def test_due_list_rows_in_hospital_zone_overdue_first_and_marked() -> None:
    recs = [record(1, ["12:00"]), record(2, ["08:00", "13:00"])]
    text = " ".join(pages(render_due(recs, META, "Anna Demo", "de", NOW, BERLIN, hours=4)))
    assert "Fällige Medikamente (nächste 4 h)" in text
    assert "Station 7 Innere" in text
    # 08:00 Berlin (not 06:00 UTC) is overdue and comes first, in words.
    assert "08:00 ⚠ ÜBERFÄLLIG" in text
    assert text.index("08:00") < text.index("12:00") < text.index("13:00")
    assert "47,5 mg" in text and "p.o." in text and "Muster2, Erika" in text
    assert "Paracetamol" not in text  # PRN is not a scheduled dose
    assert "3 Gaben, davon 1 überfällig" in text
    en = " ".join(pages(render_due(recs, META, "Anna Demo", "en", NOW, BERLIN, hours=2)))
    assert "Medications due (next 2 h)" in en and "⚠ OVERDUE" in en
    assert "13:00" not in en.split("Given (time, initials)", 1)[1]  # beyond 2 h


def test_every_page_has_ward_data_as_of_printed_by_and_page_x_of_y() -> None:
    recs = [
        record(i, [f"{h:02d}:00" for h in range(11, 15)] + ["11:30", "12:30"]) for i in range(40)
    ]
    texts = pages(render_due(recs, META, "Anna Demo", "de", NOW, BERLIN, hours=4))
    assert len(texts) > 1
    for n, page in enumerate(texts, 1):
        assert f"Seite {n} von {len(texts)}" in page
        assert "Station 7 Innere" in page
        assert "AUSFALLKOPIE – Datenstand 10.06.2026 10:10" in page
        assert "Gedruckt von Anna Demo am 10.06.2026 10:30" in page
        assert "Zeit" in page and "Medikament" in page  # header row repeats


def test_empty_ward_says_so() -> None:
    text = " ".join(pages(render_due([], META, "Anna Demo", "en", NOW, BERLIN, hours=8)))
    assert "No scheduled doses in the next 8 h." in text
    assert "Page 1 of 1" in text


def test_print_due_is_a_cli_document_with_2_4_8_12_hours() -> None:
    import pytest

    from app.cli import build_parser

    args = build_parser().parse_args(["print", "due", "--ward", "st7", "--user", "U"])
    assert (args.document, args.hours, args.ward) == ("due", 4, "st7")
    args = build_parser().parse_args(["print", "due", "--hours", "12", "--user", "U"])
    assert args.hours == 12
    with pytest.raises(SystemExit):  # only 2, 4, 8 or 12 hours
        build_parser().parse_args(["print", "due", "--hours", "6", "--user", "U"])


@pytest.mark.parametrize("minutes", [60, 30])
def test_stated_overdue_rule_is_the_rule_applied(
    monkeypatch: pytest.MonkeyPatch, minutes: int
) -> None:
    """The paper says how late "overdue" is, from the same limit the rule uses: a dose 40 min
    before data-as-of is overdue with a 30-min limit and not with 60, and the text says which."""
    monkeypatch.setattr(schedule, "TOLERANCE", timedelta(minutes=minutes))
    monkeypatch.setattr(schedule, "OVERDUE_LOOKBACK", timedelta(hours=3))
    # data-as-of 10:10 Berlin; the 09:30 dose is 40 min before it.
    recs = [record(1, ["09:30"])]
    de = " ".join(pages(render_due(recs, META, "Anna Demo", "de", NOW, BERLIN, hours=4)))
    en = " ".join(pages(render_due(recs, META, "Anna Demo", "en", NOW, BERLIN, hours=4)))
    assert f"Überfällig: mehr als {minutes} min vor dem Datenstand fällig (Rückblick 3 h)" in de
    assert f"Overdue: due more than {minutes} min before data-as-of (looking back 3 h)" in en
    assert ("⚠ OVERDUE" in en) is (minutes < 40)
    # The screen's footer uses the same words.
    assert due_rule_text("en") in en

"""The MAR's day-by-time grid: one column per day of the period in the hospital zone, one row per
time of day, a box per scheduled dose (also across DST changes); value fields per drug class."""

from __future__ import annotations

import io
import re
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from app.printing import DocumentMeta, render_mar
from app.printing.mar import order_grid
from app.printing.margrid import Cell, ValueField, day_grid, is_continuous, value_field
from app.schedule import next_due, scheduled_times
from sync.model import Coding, Dosage, MedicationOrder, PatientRecord, Timing

BERLIN = ZoneInfo("Europe/Berlin")


def _order(
    drug: str,
    timing: Timing,
    *,
    note: str | None = None,
    text: str | None = None,
    coding: list[Coding] | None = None,
) -> MedicationOrder:
    return MedicationOrder(
        id="o1",
        drug=drug,
        status="active",
        note=note,
        coding=coding or [],
        start=datetime(2026, 1, 1, tzinfo=BERLIN),
        dosages=[Dosage(text=text, dose_text="1 Tbl.", route="oral", timing=timing)],
    )


HOURLY = Timing(frequency=1, period=1, period_unit="h")
Q6H = Timing(frequency=1, period=6, period_unit="h")
BID = Timing(times_of_day=["08:00", "20:00"])


@pytest.mark.parametrize(
    ("now", "hours", "timing"),
    [
        (datetime(2026, 3, 28, 9, 30, tzinfo=BERLIN), 72, HOURLY),  # spring forward 29 Mar
        (datetime(2026, 10, 24, 9, 30, tzinfo=BERLIN), 72, HOURLY),  # fall back 25 Oct
        (datetime(2026, 10, 24, 22, 0, tzinfo=BERLIN), 24, Q6H),
        (datetime(2026, 3, 28, 9, 30, tzinfo=BERLIN), 24, BID),
        (datetime(2026, 11, 30, 0, 0, tzinfo=BERLIN), 72, BID),
    ],
)
def test_boxes_per_day_column_equal_the_scheduled_doses_of_that_day(
    now: datetime, hours: int, timing: Timing
) -> None:
    order = _order("Testdrug", timing)
    end = now + timedelta(hours=hours)
    grid = order_grid(order, [], now, end, BERLIN)
    times = scheduled_times(order, now, end, BERLIN)
    per_day = Counter(x.astimezone(BERLIN).date() for x in times)
    # Columns: every day of the period (and the day of an overdue dose before it), in Berlin.
    first = min([now, *grid.instants.values()]).date()
    assert grid.days[0] == first and grid.days[-1] == (end - timedelta(seconds=1)).date()
    assert len(grid.days) == (grid.days[-1] - first).days + 1
    # Boxes of the period (at or after `now`) per day column = the scheduled doses of that day.
    due = Counter(
        d
        for (c, d), cell in grid.cells.items()
        if cell is Cell.BOX and grid.instants[(c, d)] >= now
    )
    for day in grid.days:
        assert due[day] == per_day[day], day
    assert sum(due.values()) == len(times)
    # Every instant keeps its own box: none is lost or merged in a DST fold.
    boxed = sorted(grid.instants[k] for k, v in grid.cells.items() if v is Cell.BOX)
    assert [x for x in boxed if x >= now] == times
    # The only boxes before the period: doses due now (within the grace) or overdue, not
    # documented ("!"), so that a late dose can be signed.
    info = next_due(order, now, [], BERLIN)
    assert info is not None
    assert [x for x in boxed if x < now] == sorted(x for x in info.due_now if x < now)
    late = sorted(grid.instants[k] for k, v in grid.cells.items() if v is Cell.LATE)
    assert late == sorted(x for x in info.overdue_times if x < now)


def test_dst_days_have_23_and_25_hourly_boxes() -> None:
    spring = datetime(2026, 3, 29, 0, 0, tzinfo=BERLIN)
    grid = order_grid(_order("X", HOURLY), [], spring, datetime(2026, 3, 30, tzinfo=BERLIN), BERLIN)
    assert grid.boxes_on(spring.date()) == 23  # 02:00 does not exist
    assert all(c.hour != 2 for c in grid.clocks)
    autumn = datetime(2026, 10, 25, 0, 0, tzinfo=BERLIN)
    end = datetime(2026, 10, 26, tzinfo=BERLIN)
    order = _order("X", HOURLY)
    grid = order_grid(order, [], autumn, end, BERLIN)
    assert grid.boxes_on(autumn.date()) == len(scheduled_times(order, autumn, end, BERLIN))
    # A schedule that gives 02:30 twice (before and after the clocks go back) gets two rows.
    utc = ZoneInfo("UTC")
    first = datetime(2026, 10, 25, 0, 30, tzinfo=utc).astimezone(BERLIN)  # 02:30 CEST
    again = datetime(2026, 10, 25, 1, 30, tzinfo=utc).astimezone(BERLIN)  # 02:30 CET
    grid = day_grid([first, again], set(), autumn, end, BERLIN)
    assert grid.boxes_on(autumn.date()) == 2
    assert [(c.hour, c.minute, c.second) for c in grid.clocks] == [(2, 30, False), (2, 30, True)]


def test_slots_outside_the_period_are_hatched_and_overdue_ones_marked() -> None:
    start = datetime(2026, 11, 30, 9, 0, tzinfo=BERLIN)
    end = start + timedelta(hours=24)
    overdue = datetime(2026, 11, 30, 8, 0, tzinfo=BERLIN)
    times = [overdue, datetime(2026, 11, 30, 20, 0, tzinfo=BERLIN)]
    times.append(datetime(2026, 12, 1, 8, 0, tzinfo=BERLIN))
    grid = day_grid(times, {overdue}, start, end, BERLIN)
    cells = {(c.hour, d.day): v for (c, d), v in grid.cells.items()}
    assert cells == {
        (8, 30): Cell.LATE,
        (20, 30): Cell.BOX,
        (8, 1): Cell.BOX,
        (20, 1): Cell.OUTSIDE,
    }


def test_value_field_by_drug_class_and_order_text() -> None:
    assert value_field(_order("Insulin lispro", BID)) is ValueField.GLUCOSE
    assert (
        value_field(
            _order(
                "Humalog", BID, coding=[Coding(system="http://www.whocc.no/atc", code="A10AB04")]
            )
        )
        is ValueField.GLUCOSE
    )
    assert value_field(_order("Metoprolol 47,5 mg", BID)) is None  # no check ordered
    assert (
        value_field(_order("Metoprololsuccinat 47,5 mg", BID, note="Pausieren bei HF < 55"))
        is ValueField.PULSE_BP
    )
    assert (
        value_field(_order("Bisoprolol 5 mg", BID, text="hold if systolic BP < 100"))
        is ValueField.PULSE_BP
    )
    assert value_field(_order("Furosemid 40 mg", BID, note="RR vorher messen")) is None
    assert value_field(_order("Ramipril 5 mg", BID)) is None


def _perfusor() -> MedicationOrder:
    return MedicationOrder(
        id="inf",
        drug="Heparin 25.000 I.E./50 ml Perfusor",
        status="active",
        note="nach aPTT (Ziel 60-80 s)",
        dosages=[
            Dosage(
                text="kontinuierlich 2 ml/h, nach aPTT (Ziel 60-80 s)",
                dose_text="2 ml/h",
                route="i.v.",
            )
        ],
    )


def test_continuous_infusions_are_recognised_by_rate_or_words() -> None:
    assert is_continuous(_perfusor())
    no_rate = MedicationOrder(
        id="x", drug="Noradrenalin 5 mg/50 ml Perfusor", dosages=[Dosage(text="nach MAP")]
    )
    assert is_continuous(no_rate)
    assert not is_continuous(_order("Metoprolol 47,5 mg", BID))
    free_text = MedicationOrder(id="y", drug="Insulin lispro", dosages=[Dosage(text="nach Schema")])
    assert not is_continuous(free_text)  # times by hand, not an infusion


def test_mar_prints_infusions_with_rate_target_and_change_rows() -> None:
    now = datetime(2026, 11, 30, 9, 30, tzinfo=BERLIN)
    record = PatientRecord(id="p", name="Nowak, Jan", mrn="1", medications=[_perfusor()])
    meta = DocumentMeta(ward_name="Station 7", data_as_of=now, ward_id="w7")
    reader = PdfReader(io.BytesIO(render_mar(record, meta, "x", "de", now, BERLIN, hours=72)))
    flat = re.sub(r"\s+", " ", " ".join(p.extract_text() or "" for p in reader.pages))
    section = flat.split("Kontinuierliche Infusionen / Perfusoren")[1]
    assert "Heparin 25.000 I.E./50 ml Perfusor" in section
    assert "Laufrate laut Anordnung: 2 ml/h" in section
    assert "Hinweis: nach aPTT (Ziel 60-80 s)" in section  # the target, in full
    assert "Datum, Zeit Neue Rate (ml/h) Spritze/Beutel gewechselt (Konz.) Handzeichen" in section
    assert "Zeiten nicht berechenbar" not in flat


@pytest.mark.parametrize(("hours", "boxes"), [(24, 6), (72, 18)])
def test_an_order_without_computable_times_gets_boxes_per_24_h_with_time_fields(
    hours: int, boxes: int
) -> None:
    # docs/printing.md: as many boxes per 24 h as an as-needed order without a maximum (6),
    # each with a time field; it was 10 small boxes without one, for 24 h and 72 h alike.
    now = datetime(2026, 11, 30, 9, 30, tzinfo=BERLIN)
    untimed = MedicationOrder(
        id="u", drug="Macrogol Pulver", dosages=[Dosage(text="nach Anordnung Stationsarzt")]
    )
    record = PatientRecord(id="p", name="Nowak, Jan", mrn="1", medications=[untimed])
    meta = DocumentMeta(ward_name="Station 7", data_as_of=now, ward_id="w7")
    for lang, rule, field in (
        ("de", "Zeiten von Hand eintragen (6 Kästchen je 24 h)", "Zeit"),
        ("en", "write times by hand (6 boxes per 24 h)", "Time"),
    ):
        pdf = render_mar(record, meta, "x", lang, now, BERLIN, hours=hours)
        flat = re.sub(
            r"\s+", " ", " ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages)
        )
        assert rule in flat
        assert flat.count(f"{field} ____:____") == boxes, flat

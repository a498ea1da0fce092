"""Due-time computation (app.schedule): what the MAR sheet and the chart show as due."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.present.timing import describe_dosage_timing, describe_timing
from app.schedule import (
    DAILY_TIMES,
    next_due,
    scheduled_times,
)
from sync.model import Administration, Dosage, MedicationOrder, Timing

BERLIN = ZoneInfo("Europe/Berlin")


def order(
    timing: Timing | None = None,
    *,
    text: str | None = None,
    prn: bool = False,
    status: str | None = "active",
    start: datetime | None = None,
    end: datetime | None = None,
) -> MedicationOrder:
    return MedicationOrder(
        id="mr-1",
        drug="Metoprolol 47,5 mg",
        status=status,
        dosages=[Dosage(text=text, timing=timing, as_needed=prn)],
        start=start,
        end=end,
    )


def day(y: int = 2026, m: int = 6, d: int = 10) -> tuple[datetime, datetime]:
    start = datetime(y, m, d, tzinfo=BERLIN)
    return start, start + timedelta(days=1)


def clocks(times: list[datetime]) -> list[str]:
    return [t.strftime("%H:%M") for t in times]


def test_explicit_times_of_day_are_used_as_written() -> None:
    times = scheduled_times(order(Timing(times_of_day=["08:00", "20:00:00"])), *day(), BERLIN)
    assert clocks(times) == ["08:00", "20:00"]
    assert all(t.tzinfo is not None for t in times)


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (["MORN"], ["08:00"]),
        (["NOON"], ["12:00"]),
        (["AFT"], ["14:00"]),
        (["EVE"], ["18:00"]),
        (["NIGHT"], ["22:00"]),
        (["HS"], ["22:00"]),
        (["ACM", "ACV"], ["07:30", "17:30"]),
        (["PCM", "PCD", "PCV"], ["08:30", "12:30", "18:30"]),
    ],
)
def test_when_codes_map_to_the_documented_default_times(
    when: list[str], expected: list[str]
) -> None:
    assert clocks(scheduled_times(order(Timing(when=when)), *day(), BERLIN)) == expected


def test_three_times_daily_uses_the_hospital_table() -> None:
    times = scheduled_times(order(Timing(frequency=3, period=1, period_unit="d")), *day(), BERLIN)
    assert clocks(times) == list(DAILY_TIMES[3]) == ["06:00", "14:00", "22:00"]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("QD", ["08:00"]),
        ("BID", ["08:00", "20:00"]),
        ("TID", ["06:00", "14:00", "22:00"]),
        ("QID", ["00:00", "06:00", "12:00", "18:00"]),
        ("Q6H", ["00:00", "06:00", "12:00", "18:00"]),
        ("Q8H", ["06:00", "14:00", "22:00"]),
        ("Q12H", ["06:00", "18:00"]),
        ("Q4H", ["02:00", "06:00", "10:00", "14:00", "18:00", "22:00"]),
        ("AM", ["08:00"]),
        ("PM", ["18:00"]),
    ],
)
def test_fhir_timing_codes(code: str, expected: list[str]) -> None:
    assert clocks(scheduled_times(order(Timing(code=code)), *day(), BERLIN)) == expected


def test_every_other_day_skips_days_counted_from_the_order_start() -> None:
    start = datetime(2026, 6, 10, 0, 0, tzinfo=BERLIN)
    o = order(Timing(code="QOD"), start=start)
    times = scheduled_times(o, start, start + timedelta(days=6), BERLIN)
    assert [t.day for t in times] == [10, 12, 14]


def test_every_8_hours_is_anchored_at_the_order_start() -> None:
    start = datetime(2026, 6, 10, 9, 30, tzinfo=BERLIN)
    o = order(Timing(frequency=1, period=8, period_unit="h"), start=start)
    times = scheduled_times(o, *day(), BERLIN)
    assert clocks(times) == ["09:30", "17:30"]  # 01:30 is before the order started


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ("1-0-1", ["08:00", "18:00"]),
        ("1-1-1-1", ["08:00", "12:00", "18:00", "22:00"]),
        ("0-0-1", ["18:00"]),
        ("1-0-1-0", ["08:00", "18:00"]),
        ("½-0-1", ["08:00", "18:00"]),
        ("0-0-0-1 zur Nacht", ["22:00"]),
    ],
)
def test_german_schema_text_when_no_structured_timing(schema: str, expected: list[str]) -> None:
    assert clocks(scheduled_times(order(text=schema), *day(), BERLIN)) == expected


def test_interval_in_free_text() -> None:
    assert clocks(scheduled_times(order(text="alle 12 h 1 Tbl."), *day(), BERLIN)) == [
        "06:00",
        "18:00",
    ]


def test_days_of_week_filter() -> None:
    start = datetime(2026, 6, 8, tzinfo=BERLIN)  # a Monday
    o = order(Timing(times_of_day=["09:00"], days_of_week=["mon", "thu"]))
    times = scheduled_times(o, start, start + timedelta(days=7), BERLIN)
    assert [t.strftime("%a") for t in times] == ["Mon", "Thu"]


def test_order_and_timing_bounds_cut_the_window() -> None:
    timing = Timing(
        code="BID",
        bounds_start=datetime(2026, 6, 10, 12, 0, tzinfo=BERLIN),
        bounds_end=datetime(2026, 6, 11, 12, 0, tzinfo=BERLIN),
    )
    start = datetime(2026, 6, 9, tzinfo=BERLIN)
    times = scheduled_times(order(timing), start, start + timedelta(days=4), BERLIN)
    assert [t.isoformat() for t in times] == [
        "2026-06-10T20:00:00+02:00",
        "2026-06-11T08:00:00+02:00",
    ]
    ended = order(Timing(code="BID"), end=datetime(2026, 6, 10, 12, 0, tzinfo=BERLIN))
    assert clocks(scheduled_times(ended, *day(), BERLIN)) == ["08:00"]


def test_prn_and_inactive_orders_have_no_scheduled_times() -> None:
    assert scheduled_times(order(Timing(code="TID"), prn=True), *day(), BERLIN) == []
    assert scheduled_times(order(Timing(code="TID"), status="stopped"), *day(), BERLIN) == []
    assert scheduled_times(order(Timing(code="TID"), status="on-hold"), *day(), BERLIN) == []
    assert next_due(order(Timing(code="TID"), prn=True), day()[0], [], BERLIN) is None


def test_split_dosages_merge_into_one_sorted_list() -> None:
    o = MedicationOrder(
        id="x",
        drug="Prednisolon",
        dosages=[
            Dosage(dose_text="20 mg", timing=Timing(times_of_day=["08:00"])),
            Dosage(dose_text="10 mg", timing=Timing(times_of_day=["14:00"])),
            Dosage(dose_text="5 mg", timing=Timing(times_of_day=["08:00"])),
        ],
    )
    assert clocks(scheduled_times(o, *day(), BERLIN)) == ["08:00", "14:00"]


def test_spring_forward_gap_time_moves_forward_instead_of_crashing() -> None:
    start, end = day(2026, 3, 29)  # Europe/Berlin: 02:00 -> 03:00
    times = scheduled_times(order(Timing(times_of_day=["02:30", "08:00"])), start, end, BERLIN)
    assert [t.isoformat() for t in times] == [
        "2026-03-29T03:30:00+02:00",
        "2026-03-29T08:00:00+02:00",
    ]


def test_fall_back_day_keeps_wall_clock_times_of_an_8_hour_interval() -> None:
    start, end = day(2026, 10, 25)  # 03:00 -> 02:00, the day has 25 hours
    times = scheduled_times(order(Timing(code="Q8H")), start, end, BERLIN)
    assert clocks(times) == ["06:00", "14:00", "22:00"]


def test_overdue_when_a_recent_dose_has_no_administration() -> None:
    o = order(Timing(times_of_day=["08:00", "20:00"]))
    now = datetime(2026, 6, 10, 10, 0, tzinfo=BERLIN)
    info = next_due(o, now, [], BERLIN)
    assert info is not None
    assert info.overdue
    assert clocks(list(info.overdue_times)) == ["08:00"]
    assert info.next_time == datetime(2026, 6, 10, 20, 0, tzinfo=BERLIN)


def test_administration_within_tolerance_covers_the_dose() -> None:
    o = order(Timing(times_of_day=["08:00", "20:00"]))
    now = datetime(2026, 6, 10, 10, 0, tzinfo=BERLIN)
    given_at = datetime(2026, 6, 10, 8, 40, tzinfo=BERLIN)
    adm = Administration(order_id="mr-1", drug="Metoprolol", status="completed", when=given_at)
    info = next_due(o, now, [adm], BERLIN)
    assert info is not None
    assert not info.overdue
    assert info.last_given == given_at
    # Outside the 60-minute tolerance, and another order's dose, do not count.
    late = adm.model_copy(update={"when": datetime(2026, 6, 10, 9, 30, tzinfo=BERLIN)})
    other = adm.model_copy(update={"order_id": "other"})
    not_done = adm.model_copy(update={"status": "not-done"})
    for a in (late, other, not_done):
        result = next_due(o, now, [a], BERLIN)
        assert result is not None and result.overdue, a


def test_dose_within_tolerance_of_now_is_due_not_overdue() -> None:
    o = order(Timing(times_of_day=["08:00"]))
    info = next_due(o, datetime(2026, 6, 10, 8, 30, tzinfo=BERLIN), [], BERLIN)
    assert info is not None
    assert not info.overdue
    assert clocks(list(info.due_now)) == ["08:00"]


def test_describe_timing_in_german_and_english() -> None:
    tid = Timing(frequency=3, period=1, period_unit="d")
    assert describe_timing(tid, "de") == "3× täglich: 06:00, 14:00, 22:00"
    assert describe_timing(tid, "en") == "3× daily: 06:00, 14:00, 22:00"
    assert describe_timing(Timing(code="Q8H"), "en") == "every 8 h: 06:00, 14:00, 22:00"
    anchor = datetime(2026, 6, 10, 9, 30, tzinfo=BERLIN)
    q8 = Timing(frequency=1, period=8, period_unit="h")
    assert describe_timing(q8, "de", anchor=anchor) == "alle 8 h: 01:30, 09:30, 17:30"
    assert describe_timing(Timing(frequency=1, period=5, period_unit="h"), "de") == "alle 5 h"
    assert describe_timing(Timing(text="1-0-1"), "de") == "2× täglich: 08:00, 18:00 (1-0-1)"
    assert describe_timing(Timing(text="nach Rücksprache"), "de") == "nach Rücksprache"
    assert describe_dosage_timing(Dosage(as_needed=True, as_needed_reason="Schmerz"), "de") == (
        "bei Bedarf (Schmerz)"
    )
    # The words are built in the reader's locale: the decimal sign too, and weekday names.
    q90 = Timing(frequency=1, period=1.5, period_unit="h")
    assert describe_timing(q90, "de").startswith("alle 1,5 h: 00:00, 01:30, 03:00")
    assert describe_timing(q90, "en").startswith("every 1.5 h: 00:00, 01:30, 03:00")
    q150 = Timing(frequency=1, period=2.5, period_unit="h")  # does not divide 24 h: no clocks
    assert describe_timing(q150, "de") == "alle 2,5 h"
    assert describe_timing(q150, "en") == "every 2.5 h"
    twice_weekly = Timing(times_of_day=["08:00"], days_of_week=["mon", "thu"])
    assert describe_timing(twice_weekly, "de") == "1× täglich: 08:00; an Mo, Do"
    assert describe_timing(twice_weekly, "en") == "once daily: 08:00; on Mon, Thu"


# --------------------------------------------------------------------------- properties

WHEN_CODES = ["MORN", "NOON", "AFT", "EVE", "NIGHT", "HS", "ACM", "PCV", "C", "XYZ"]
CODES = ["BID", "TID", "QID", "QD", "QOD", "Q4H", "Q6H", "Q8H", "Q12H", "AM", "PM", "Q0H", "??"]
UNITS = ["s", "min", "h", "d", "wk", "mo", "a", "bogus", None]
ZONES = [ZoneInfo(z) for z in ("Europe/Berlin", "America/New_York", "UTC", "Australia/Lord_Howe")]

clock_texts = st.one_of(
    st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 24), st.integers(0, 59)),
    st.text(max_size=8),
)
timings = st.builds(
    Timing,
    code=st.one_of(st.none(), st.sampled_from(CODES)),
    text=st.one_of(
        st.none(), st.sampled_from(["1-0-1", "0-0-0-1", "alle 6 h", "x-y-z"]), st.text()
    ),
    frequency=st.one_of(st.none(), st.integers(-2, 30)),
    period=st.one_of(st.none(), st.floats(-1, 400), st.just(float("nan"))),
    period_unit=st.sampled_from(UNITS),
    times_of_day=st.lists(clock_texts, max_size=4),
    when=st.lists(st.sampled_from(WHEN_CODES), max_size=3),
    days_of_week=st.lists(st.sampled_from(["mon", "tue", "sun", "xx"]), max_size=3),
)
instants = st.datetimes(
    min_value=datetime(1990, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from(ZONES),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    timing=st.one_of(st.none(), timings),
    text=st.one_of(st.none(), st.text(max_size=12)),
    prn=st.booleans(),
    start=instants,
    span_h=st.integers(-5, 24 * 8),
    order_start=st.one_of(st.none(), instants),
    tz=st.sampled_from(ZONES),
)
def test_scheduled_times_sorted_within_window_and_never_raise(
    timing: Timing | None,
    text: str | None,
    prn: bool,
    start: datetime,
    span_h: int,
    order_start: datetime | None,
    tz: ZoneInfo,
) -> None:
    end = start + timedelta(hours=span_h)
    o = order(timing, text=text, prn=prn, start=order_start)
    times = scheduled_times(o, start, end, tz)
    assert times == sorted(times)
    assert len(set(times)) == len(times)
    assert all(start <= t < end for t in times)
    assert all(t.tzinfo is not None for t in times)
    if prn:
        assert times == []
    if order_start is not None:
        assert all(t >= order_start for t in times)
    describe_timing(timing, "de", text)
    next_due(o, start, [], tz)


@settings(max_examples=100, deadline=None)
@given(
    clock=st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.integers(0, 59)),
    day_offset=st.integers(-3, 3),
)
def test_berlin_dst_days_give_one_time_per_day_per_clock(clock: str, day_offset: int) -> None:
    for transition in (datetime(2026, 3, 29), datetime(2026, 10, 25)):
        start = (transition + timedelta(days=day_offset)).replace(tzinfo=BERLIN)
        end = start + timedelta(days=1)
        times = scheduled_times(order(Timing(times_of_day=[clock])), start, end, BERLIN)
        # One dose per calendar day, even when the wall time does not exist or exists twice.
        assert len(times) == 1, (clock, start)


def test_has_schedule_tells_computable_timings_from_free_text() -> None:
    from app.schedule import has_schedule

    assert has_schedule(order(Timing(code="BID")))
    assert has_schedule(order(text="1-0-1"))
    assert not has_schedule(order(text="nach Schema laut Arztbrief"))
    assert not has_schedule(order(Timing(code="BID"), prn=True))
    assert not has_schedule(order(Timing(code="BID"), status="stopped"))

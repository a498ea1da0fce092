"""The MAR's day-by-time grid for one scheduled order, and the value field a dose box needs.

Pure: no I/O, no reportlab. `day_grid` lays scheduled dose times out as one column per
calendar day of the period (in the hospital zone) and one row per scheduled time of day;
`value_field` decides from the order's drug, coding, text and note whether a box needs room for a
measured value (blood glucose and units for insulin scales; pulse/BP before a beta blocker when
the order asks for it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from enum import Enum

from sync.model import MedicationOrder


class Cell(Enum):
    """What one (time of day, day) cell of the grid holds."""

    BOX = "box"  # a dose is due: an empty box to initial
    LATE = "late"  # a dose before data-as-of, not documented in the system: box marked "!"
    NONE = "none"  # inside the period, but no dose at this time on this day: no box
    OUTSIDE = "outside"  # before the period starts or after it ends: hatched


@dataclass(frozen=True)
class Clock:
    """A row of the grid: a local time of day; `second` marks the repeated hour of a DST
    fall-back day (02:30 happens twice on 25 Oct in Europe/Berlin)."""

    hour: int
    minute: int
    second: bool = False


@dataclass(frozen=True)
class DayGrid:
    days: tuple[date, ...]
    clocks: tuple[Clock, ...]
    cells: dict[tuple[Clock, date], Cell]
    # The local datetime of each box (for labels and tests), keyed like `cells`.
    instants: dict[tuple[Clock, date], datetime]

    def boxes_on(self, day: date) -> int:
        """Boxes (due or overdue) in `day`'s column."""
        return sum(
            1 for (_c, d), cell in self.cells.items() if d == day and cell in (Cell.BOX, Cell.LATE)
        )


def _clock(value: datetime) -> Clock:
    return Clock(value.hour, value.minute, bool(value.fold))


def _period_days(start: datetime, end: datetime, tz: tzinfo) -> list[date]:
    first = start.astimezone(tz).date()
    last = (end - timedelta(microseconds=1)).astimezone(tz).date()
    days = []
    day = first
    while day <= last:
        days.append(day)
        day += timedelta(days=1)
    return days


def day_grid(
    times: list[datetime],
    late: set[datetime],
    start: datetime,
    end: datetime,
    tz: tzinfo,
) -> DayGrid:
    """Pure: the grid of `times` (aware) for the period [start, end) in zone `tz`.

    Columns are the calendar days from the first dose (or `start`) to `end`; rows the distinct
    local times of day. A time in `late` (before data-as-of) is a LATE box; a row/day slot
    without a dose is NONE inside the period and OUTSIDE before `start`/at or after `end`.
    """
    local = [x.astimezone(tz) for x in times]
    lo = min([start, *local]) if local else start
    days = _period_days(lo, end, tz)
    if not days:
        days = [start.astimezone(tz).date()]
    clocks = sorted({_clock(x) for x in local}, key=lambda c: (c.hour, c.minute, c.second))
    late_utc = {x.astimezone(tz) for x in late}
    cells: dict[tuple[Clock, date], Cell] = {}
    instants: dict[tuple[Clock, date], datetime] = {}
    for x in local:
        key = (_clock(x), x.date())
        cells[key] = Cell.LATE if x in late_utc else Cell.BOX
        instants[key] = x
    start_l, end_l = start.astimezone(tz), end.astimezone(tz)
    for clock in clocks:
        for day in days:
            if (clock, day) in cells:
                continue
            slot = datetime(day.year, day.month, day.day, clock.hour, clock.minute, tzinfo=tz)
            slot = slot.replace(fold=int(clock.second))
            inside = start_l <= slot < end_l
            cells[(clock, day)] = Cell.NONE if inside else Cell.OUTSIDE
    return DayGrid(tuple(days), tuple(clocks), cells, instants)


class ValueField(Enum):
    """A measured value to write next to the initials in each dose box."""

    GLUCOSE = "glucose"  # blood glucose and insulin units given
    PULSE_BP = "pulse_bp"  # heart rate / blood pressure measured before the dose


_INSULIN = re.compile(r"insulin|lispro|aspart|glulisin|glargin|detemir|degludec", re.IGNORECASE)
_GLUCOSE_WORDS = re.compile(
    r"\bBZ\b|blutzucker|glucose|glukose|korrektur|correction|sliding|schema", re.IGNORECASE
)
_BETA_BLOCKER = re.compile(r"olol|carvedilol|labetalol|nebivolol", re.IGNORECASE)
_PULSE_WORDS = re.compile(
    r"\bHF\b|\bHR\b|\bRR\b|\bBP\b|puls|pulse|herzfrequenz|heart rate|blutdruck|blood pressure"
    r"|systol|bradykard|bradycard",
    re.IGNORECASE,
)


def _order_text(order: MedicationOrder) -> str:
    parts = [order.note or ""]
    for dosage in order.dosages:
        parts += [dosage.text or "", dosage.as_needed_reason or ""]
    return " ".join(parts)


def value_field(order: MedicationOrder) -> ValueField | None:
    """Pure: which value each dose box of `order` needs room for, or None.

    Insulin (by name, or ATC A10A) always gets glucose/units: every insulin dose on a ward is
    documented with the glucose it was given for. A beta blocker (name or ATC C07) gets
    pulse/BP only when its text or note asks for a check ("hold if HR < 55"), as the order says.
    """
    atc = [c.code or "" for c in order.coding if "atc" in (c.system or "").casefold()]
    text = _order_text(order)
    if _INSULIN.search(order.drug) or any(code.upper().startswith("A10A") for code in atc):
        return ValueField.GLUCOSE
    if _GLUCOSE_WORDS.search(text) and _INSULIN.search(text):
        return ValueField.GLUCOSE
    beta = bool(_BETA_BLOCKER.search(order.drug)) or any(
        code.upper().startswith("C07") for code in atc
    )
    if beta and _PULSE_WORDS.search(text):
        return ValueField.PULSE_BP
    return None


_RATE = re.compile(r"/\s*(h|std|min)\b", re.IGNORECASE)
_CONTINUOUS_WORDS = re.compile(
    r"kontinuierlich|continuous|perfusor|spritzenpumpe|syringe pump|dauerinfusion", re.IGNORECASE
)


def is_continuous(order: MedicationOrder) -> bool:
    """Pure: whether `order` is a continuous (rate-based) infusion: not as-needed, no dose
    times, and a rate ("2 ml/h", "0,1 µg/kg/min") or words like "kontinuierlich", "Perfusor"."""
    if order.as_needed:
        return False
    for dosage in order.dosages:
        timing = dosage.timing
        if timing is not None and (timing.times_of_day or timing.frequency or timing.code):
            return False
    text = " ".join(
        [
            order.drug,
            *(d.dose_text or "" for d in order.dosages),
            *(d.text or "" for d in order.dosages),
        ]
    )
    return bool(_RATE.search(text) or _CONTINUOUS_WORDS.search(text))


__all__ = ["Cell", "Clock", "DayGrid", "ValueField", "day_grid", "is_continuous", "value_field"]

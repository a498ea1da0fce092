"""The MAR's day-by-time grid for one scheduled order, and the value field a dose box needs.

Pure: no I/O, no reportlab. `day_grid` lays scheduled dose times out as one column per
calendar day of the period (in the hospital zone) and one row per scheduled time of day;
`value_field` decides from the order's drug, coding, text and note whether a box needs room for a
measured value (blood glucose and units for insulin scales; pulse/BP before a beta blocker when
the order asks for it).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from enum import Enum

from sync.model import Dosage, MedicationOrder


class Cell(Enum):
    """What one (time of day, day) cell of the grid holds."""

    BOX = "box"  # a dose is due: an empty box to initial
    LATE = "late"  # a dose before data-as-of, not documented in the system: box marked "!"
    NOT_GIVEN = "not_given"  # documented in the system as not given (status not-done)
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
    not_given: set[datetime] | None = None,
) -> DayGrid:
    """Pure: the grid of `times` (aware) for the period [start, end) in zone `tz`.

    Columns are the calendar days from the first dose (or `start`) to `end`; rows the distinct
    local times of day. A time in `late` (before data-as-of) is a LATE box; a time in
    `not_given` (documented as not given; added to the times when missing) is NOT_GIVEN, never
    a grey slot that reads as "no dose due"; a row/day slot without a dose is NONE inside the
    period and OUTSIDE before `start`/at or after `end`.
    """
    # By instant (timestamp): datetimes of one zone compare by wall time, and the two 02:30 of
    # a DST fall-back day are different doses.
    refused = {x.timestamp() for x in not_given or ()}
    local = [x.astimezone(tz) for x in times]
    seen = {x.timestamp() for x in local}
    local += sorted(x.astimezone(tz) for x in not_given or () if x.timestamp() not in seen)
    lo = min([start, *local]) if local else start
    days = _period_days(lo, end, tz)
    if not days:
        days = [start.astimezone(tz).date()]
    clocks = sorted({_clock(x) for x in local}, key=lambda c: (c.hour, c.minute, c.second))
    late_at = {x.timestamp() for x in late}
    cells: dict[tuple[Clock, date], Cell] = {}
    instants: dict[tuple[Clock, date], datetime] = {}
    for x in local:
        key = (_clock(x), x.date())
        if x.timestamp() in refused:
            cells[key] = Cell.NOT_GIVEN
        else:
            cells[key] = Cell.LATE if x.timestamp() in late_at else Cell.BOX
        instants[key] = x
    start_at, end_at = start.timestamp(), end.timestamp()
    for clock in clocks:
        for day in days:
            if (clock, day) in cells:
                continue
            slot = datetime(day.year, day.month, day.day, clock.hour, clock.minute, tzinfo=tz)
            slot = slot.replace(fold=int(clock.second))
            inside = start_at <= slot.timestamp() < end_at  # instants, not wall times
            cells[(clock, day)] = Cell.NONE if inside else Cell.OUTSIDE
    return DayGrid(tuple(days), tuple(clocks), cells, instants)


class ValueField(Enum):
    """A measured value to write next to the initials in each dose box."""

    GLUCOSE = "glucose"  # blood glucose and insulin units given
    PULSE_BP = "pulse_bp"  # heart rate / blood pressure measured before the dose


# Insulin by name: the word in any language we print ("Insulin", "insulina", "Huminsulin",
# "Normalinsulin"), the analogues, and brand names that do not contain the word (an EHR often
# sends only the brand: "HumaLOG KwikPen", "NovoRapid Penfill", "Lantus SoloStar").
_INSULIN = re.compile(
    r"insulin|lispro|aspart|glulisin|glargin|detemir|degludec|\bNPH\b"
    r"|humalog|novorapid|novolog|novolin|humulin|lantus|levemir|tresiba|toujeo|apidra|fiasp"
    r"|actrapid|insuman|protaphane|insulatard|abasaglar|basaglar|semglee|lyumjev|admelog"
    r"|liprolog|ryzodeg|rezvoglar|novomix|afrezza|myxredlin",
    re.IGNORECASE,
)
# RxNorm ingredient concepts of insulins (an RxNorm coding without a display is rare; with
# one, the display names the ingredient: "insulin lispro 100 UNT/ML Injectable Solution").
_RXNORM_INSULIN = frozenset(
    {
        "5856",  # insulin
        "253182",  # insulin, regular, human
        "86009",  # insulin lispro
        "51428",  # insulin aspart
        "400008",  # insulin glulisine
        "274783",  # insulin glargine
        "139825",  # insulin detemir
        "1670007",  # insulin degludec
    }
)
_SNOMED_INSULIN = frozenset({"67866001"})  # Insulin (substance)
# A scale: the dose follows the measured glucose ("nach BZ-Schema", "per sliding scale").
_SCALE_WORDS = re.compile(
    r"schema|korrektur|correction|sliding|scale|\bSSI\b|\bBZ\b|\bBG\b|blutzucker|glucose"
    r"|glukose|blood sugar|nach (?:BZ|wert|messung)|per protocol|nach protokoll",
    re.IGNORECASE,
)
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


def is_insulin(order: MedicationOrder) -> bool:
    """Pure: whether `order` is an insulin, by any of the ways an EHR says so.

    The drug name or a coding's display (German or English, generic or brand: "Insulin
    aspart", "Huminsulin Normal", "HumaLOG KwikPen"), an ATC code A10A*, an RxNorm insulin
    ingredient code, or the SNOMED CT substance "Insulin". Another drug whose text mentions
    insulin ("bei BZ > 300 Insulin nach Schema") is not itself an insulin.
    """
    if _INSULIN.search(order.drug):
        return True
    for coding in order.coding:
        system = (coding.system or "").casefold()
        code = (coding.code or "").strip()
        if coding.display and _INSULIN.search(coding.display):
            return True
        if "atc" in system and code.upper().startswith("A10A"):
            return True
        if "rxnorm" in system and code in _RXNORM_INSULIN:
            return True
        if "snomed" in system and code in _SNOMED_INSULIN:
            return True
    return False


def insulin_scale(order: MedicationOrder) -> bool:
    """Pure: whether `order` is an insulin dosed by the measured glucose: no structured dose
    ("nach Schema", "per sliding scale" as free text only), or scale words in its text or note
    ("Korrekturschema", "correction scale", "nach BZ"). Such a dose is always documented with
    the glucose it was given for and the units given."""
    if not is_insulin(order):
        return False
    structured = any(d.dose_value is not None or d.dose_text for d in order.dosages)
    return not structured or bool(_SCALE_WORDS.search(_order_text(order)))


def value_field(order: MedicationOrder) -> ValueField | None:
    """Pure: which value each dose box of `order` needs room for, or None.

    Insulin (see `is_insulin`) always gets glucose/units: every insulin dose on a ward is
    documented with the glucose it was given for; so does another order whose text asks for an
    insulin by the glucose. A beta blocker (name or ATC C07) gets pulse/BP only when its text
    or note asks for a check ("hold if HR < 55"), as the order says.
    """
    atc = [c.code or "" for c in order.coding if "atc" in (c.system or "").casefold()]
    text = _order_text(order)
    if is_insulin(order):
        return ValueField.GLUCOSE
    if _GLUCOSE_WORDS.search(text) and _INSULIN.search(text):
        return ValueField.GLUCOSE
    beta = bool(_BETA_BLOCKER.search(order.drug)) or any(
        code.upper().startswith("C07") for code in atc
    )
    if beta and _PULSE_WORDS.search(text):
        return ValueField.PULSE_BP
    return None


# --- boxes whose time is written by hand (as-needed orders, insulin scales without times) ---

PRN_BLANK_PER_DAY = 6  # boxes per 24 h for an as-needed order without a maximum: one per 4 h
PER_DAY_CAP = 12  # at most this many boxes per 24 h (the column must fit a page)
# A regular order whose times cannot be computed: as many boxes per 24 h as an as-needed order
# without a maximum (one per 4 h), each with a time field; the sheet says so.
UNTIMED_PER_DAY = PRN_BLANK_PER_DAY
SCALE_CHECKS_PER_DAY = 4  # an insulin scale without times: before the 3 meals and at bedtime
_MERGE_BELOW = timedelta(hours=12)  # a leading part-day shorter than this joins the next column

_NUM = r"(\d+(?:[.,]\d+)?)"
_PERIOD = r"(h|std\.?|stunden?|hours?|hrs?|d|tage?|days?)"
# "4× / 24 h", "4 g / 1 d", "8 Hübe / 1 d", "max 4/day", "höchstens 3 mal pro Tag", "1 / 6 h"
_PER_PERIOD = re.compile(
    _NUM + r"\s*([^\d/;,]*?)\s*(?:/|\bpro\b|\bper\b|\bje\b|\bin\b|\bam\b|\ba\b)\s*"
    r"(?:" + _NUM + r"\s*)?" + _PERIOD + r"(?![a-zäöü])",
    re.IGNORECASE,
)
_DAILY = re.compile(_NUM + r"\s*([^\d/;,]*?)\s*(?:täglich|tgl\.?|daily)", re.IGNORECASE)
# In free text only a maximum counts ("max. 4 g/24 h"), not the dose or its interval.
_MAX_WORD = re.compile(r"max(?:\.|imal|imum)?|höchstens|not more than|up to|bis zu", re.IGNORECASE)
_COUNT_UNITS = {
    "", "x", "×", "mal", "times", "time", "dose", "doses", "dosen", "gabe", "gaben",
    "{count}", "1", "applications", "anwendungen",
}  # fmt: skip
# Amount units to one base per dimension (mass in mg, volume in ml, insulin/heparin units).
_AMOUNT = {
    "g": ("mass", 1000.0), "mg": ("mass", 1.0), "µg": ("mass", 0.001), "mcg": ("mass", 0.001),
    "ug": ("mass", 0.001), "ng": ("mass", 1e-6), "l": ("volume", 1000.0),
    "ml": ("volume", 1.0), "i.e": ("unit", 1.0), "ie": ("unit", 1.0), "iu": ("unit", 1.0),
    "[iu]": ("unit", 1.0), "u": ("unit", 1.0), "e": ("unit", 1.0), "units": ("unit", 1.0),
    "unit": ("unit", 1.0), "einheiten": ("unit", 1.0),
}  # fmt: skip
_DOSE = re.compile(_NUM + r"\s*([^\d\s/;,]+(?:\s[^\d\s/;,]+)?)?")


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def _unit_key(unit: str) -> str:
    return unit.strip().casefold().rstrip(".")


def _doses(amount: float, unit: str, dosage: Dosage) -> float | None:
    """How many doses of `dosage` make `amount` `unit`; None when the units do not compare."""
    dose_value, dose_unit = dosage.dose_value, dosage.dose_unit
    if dose_value is None and dosage.dose_text:
        m = _DOSE.match(dosage.dose_text.strip())
        if m:
            dose_value, dose_unit = _number(m.group(1)), m.group(2) or ""
    if not dose_value or dose_value <= 0 or dose_unit is None:
        return None
    a, b = _unit_key(unit), _unit_key(dose_unit)
    if a == b:
        return amount / dose_value
    if a in _AMOUNT and b in _AMOUNT and _AMOUNT[a][0] == _AMOUNT[b][0]:
        return amount * _AMOUNT[a][1] / (dose_value * _AMOUNT[b][1])
    return None


def _per_day(count: float, unit: str, span: float, period: str, dosage: Dosage) -> float | None:
    key = _unit_key(unit)
    doses = count if key in _COUNT_UNITS else _doses(count, unit, dosage)
    days = span / 24 if period.casefold().startswith(("h", "s")) else span
    if doses is None or doses <= 0 or days <= 0:
        return None
    return doses / days


def _maxima(text: str, dosage: Dosage, *, whole: bool) -> list[float]:
    """Doses per day named in `text` (all of it when `whole`, else after "max." words)."""
    found: list[float] = []
    parts = [text] if whole else [text[m.end() :] for m in _MAX_WORD.finditer(text)]
    for part in parts:
        m = _PER_PERIOD.match(part.strip()) if not whole else _PER_PERIOD.search(part)
        if m:
            span = _number(m.group(3)) if m.group(3) else 1.0
            value = _per_day(_number(m.group(1)), m.group(2), span, m.group(4), dosage)
        else:
            d = _DAILY.match(part.strip()) if not whole else _DAILY.search(part)
            value = _per_day(_number(d.group(1)), d.group(2), 1.0, "d", dosage) if d else None
        if value is not None:
            found.append(value)
    return found


def prn_per_day(order: MedicationOrder) -> int | None:
    """Pure: the most doses per 24 h an as-needed `order` allows, or None when it names none.

    From the maximum per period ("4× / 24 h", "4 g / 1 d" with 1 g per dose = 4, "1 / 6 h" =
    4), a maximum in the order text ("max. 4x täglich", "max 4/day"), or the shortest interval
    of an as-needed timing ("alle 6 h bei Bedarf" = 4). The smallest one wins; rounded up.
    """
    found: list[float] = []
    for dosage in order.dosages:
        if not dosage.as_needed:
            continue
        for clause in (dosage.max_per_period or "").split(";"):
            found += _maxima(clause, dosage, whole=True)
        found += _maxima(dosage.text or "", dosage, whole=False)
        timing = dosage.timing
        if timing is not None and timing.frequency and timing.period and timing.period_unit:
            hours = {"min": 1 / 60, "h": 1.0, "d": 24.0}.get(timing.period_unit)
            if hours:
                found.append(timing.frequency * 24 / (timing.period * hours))
    if not found:
        return None
    return max(1, math.ceil(min(found) - 1e-9))


@dataclass(frozen=True)
class HandColumn:
    start: datetime
    end: datetime
    boxes: int


def hand_columns(per_day: int, start: datetime, end: datetime) -> tuple[HandColumn, ...]:
    """Pure: columns of boxes whose time is written by hand, for [start, end).

    24-hour columns counted back from `end`, so that a 72 h period has three columns of
    `per_day` boxes each (a maximum is per 24 h, not per calendar day). A part-day left at the
    start (the snapshot older than the print) joins the next column when shorter than 12 h,
    else it is a column of its own with boxes in proportion. At most PER_DAY_CAP per column.
    """
    per_day = max(1, min(PER_DAY_CAP, per_day))
    columns: list[HandColumn] = []
    hi = end
    while hi > start:
        lo = max(start, hi - timedelta(hours=24))
        if lo > start and lo - start < _MERGE_BELOW:
            lo = start
        share = (hi - lo) / timedelta(hours=24)
        boxes = per_day if share >= 1 else max(1, math.ceil(per_day * share - 1e-9))
        columns.append(HandColumn(lo, hi, min(PER_DAY_CAP, boxes)))
        hi = lo
    return tuple(reversed(columns))


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


__all__ = [
    "PER_DAY_CAP",
    "PRN_BLANK_PER_DAY",
    "SCALE_CHECKS_PER_DAY",
    "Cell",
    "Clock",
    "DayGrid",
    "HandColumn",
    "ValueField",
    "day_grid",
    "hand_columns",
    "insulin_scale",
    "is_continuous",
    "is_insulin",
    "prn_per_day",
    "value_field",
]

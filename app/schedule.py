"""Medication due times: when a scheduled order is due, and whether a dose looks missed.

PURE: no I/O, no clock reads (callers pass `now`), no global state. Shared by the patient chart
(next due / overdue badges) and the printed MAR sheet (boxes to initial by hand).

How a dosage's timing becomes clock times, first rule that applies wins:

1. `Timing.times_of_day` ("08:00", "20:00:00"): exactly those wall-clock times.
2. `Timing.when` event codes: the table `WHEN_TIMES` below (MORN 08:00, NOON 12:00, ...).
3. `Timing.frequency` per `Timing.period` `Timing.period_unit`:
   - per day (period 1 d): the hospital default table `DAILY_TIMES` (3x daily = 06/14/22);
   - every N days: the daily table on every N-th day counted from the anchor date;
   - hourly / minute intervals (e.g. 1 per 8 h): every interval, anchored at the order start
     (`Timing.bounds_start`, else `MedicationOrder.start`), else at 06:00 local time.
     Intervals that divide 24 h repeat on the same wall-clock times every day (06/14/22 stays
     06/14/22 across a DST change, which is how a ward works); other intervals step in
     absolute time;
   - per week / month / year: at 08:00 on the anchor's weekday / day of month / date, unless
     `days_of_week` says otherwise.
4. `Timing.code`: BID, TID, QID, QD, QOD, QnH (Q4H, Q6H, Q8H, Q12H, ...), AM, PM (`CODE_RULES`).
5. German schema text ("1-0-1", "1-1-1-1", "0-0-1", "½-0-1") in `Timing.text` or the dosage
   text, positions morning 08:00, noon 12:00, evening 18:00, night 22:00 (`SCHEMA_TIMES`);
   and "alle 8 h" / "every 8 hours" / "q8h" text as an interval.

Then `days_of_week` filters the days, and the order's start/end and `Timing.bounds_*` bound the
result. PRN dosages ("as needed") have no scheduled times; an order with only PRN dosages, or with
a status other than active (or unknown) has none either. Several dosages (split doses) are merged.

Wall-clock times that do not exist (02:30 on the spring-forward day in Europe/Berlin) move forward
by the gap (03:30); ambiguous times on the fall-back day take the first occurrence.

Overdue rule (`next_due`): a scheduled time counts as given when an administration of that order
(matched by `order_id`, else by drug name) that was not "not-done" lies within
`TOLERANCE` (60 min) either side. A scheduled time is *overdue* when it lies in the last
`OVERDUE_LOOKBACK` (4 h), more than `TOLERANCE` ago, and no administration covers it; it is
*due now* while it is within `TOLERANCE` of now and not yet covered.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from sync.model import Administration, Dosage, MedicationOrder, Timing

__all__ = [
    "CODE_RULES",
    "DAILY_TIMES",
    "MAX_TIMES",
    "OVERDUE_LOOKBACK",
    "SCHEMA_TIMES",
    "TOLERANCE",
    "WHEN_TIMES",
    "DueInfo",
    "TimingShape",
    "given_for",
    "given_times",
    "has_schedule",
    "is_active",
    "next_due",
    "open_doses",
    "open_doses_given",
    "scheduled_times",
    "times_of_day_for",
    "timing_shape",
]

#: A dose counts as given if documented within this window either side of the scheduled time.
TOLERANCE = timedelta(minutes=60)
#: How far back `next_due` looks for missed doses.
OVERDUE_LOOKBACK = timedelta(hours=4)
#: How far ahead `next_due` looks for the next scheduled time.
LOOKAHEAD = timedelta(days=8)
#: Safety cap on the number of times one call returns (1-minute intervals over a year...).
MAX_TIMES = 5000
_TICK = timedelta(microseconds=1)  # the smallest step: "up to and including" as an open end

#: FHIR event-timing codes (v3 TimingEvent + FHIR event-timing) -> hospital default clock times.
WHEN_TIMES: dict[str, tuple[str, ...]] = {
    "WAKE": ("06:00",),
    "MORN": ("08:00",),
    "MORN.early": ("06:00",),
    "MORN.late": ("10:00",),
    "NOON": ("12:00",),
    "AFT": ("14:00",),
    "AFT.early": ("13:00",),
    "AFT.late": ("16:00",),
    "EVE": ("18:00",),
    "EVE.early": ("17:00",),
    "EVE.late": ("20:00",),
    "NIGHT": ("22:00",),
    "PHS": ("21:30",),
    "HS": ("22:00",),
    "C": ("08:00", "12:00", "18:00"),
    "CM": ("08:00",),
    "CD": ("12:00",),
    "CV": ("18:00",),
    "AC": ("07:30", "11:30", "17:30"),
    "ACM": ("07:30",),
    "ACD": ("11:30",),
    "ACV": ("17:30",),
    "PC": ("08:30", "12:30", "18:30"),
    "PCM": ("08:30",),
    "PCD": ("12:30",),
    "PCV": ("18:30",),
}

#: Hospital default clock times for "N times daily" when nothing more specific is given.
DAILY_TIMES: dict[int, tuple[str, ...]] = {
    1: ("08:00",),
    2: ("08:00", "20:00"),
    3: ("06:00", "14:00", "22:00"),
    4: ("06:00", "12:00", "18:00", "00:00"),
    5: ("06:00", "10:00", "14:00", "18:00", "22:00"),
    6: ("02:00", "06:00", "10:00", "14:00", "18:00", "22:00"),
}

#: German dosing schema positions: morgens - mittags - abends - zur Nacht.
SCHEMA_TIMES: tuple[str, ...] = ("08:00", "12:00", "18:00", "22:00")

#: FHIR Timing.code (v3 GTSAbbreviation) -> (frequency, period, period_unit) or fixed times.
CODE_RULES: dict[str, tuple[int, float, str] | tuple[str, ...]] = {
    "QD": (1, 1.0, "d"),
    "BID": (2, 1.0, "d"),
    "TID": (3, 1.0, "d"),
    "QID": (4, 1.0, "d"),
    "QOD": (1, 2.0, "d"),
    "AM": ("08:00",),
    "PM": ("18:00",),
}

_DEFAULT_ANCHOR = time(6, 0)
_INACTIVE = {"completed", "stopped", "cancelled", "entered-in-error", "on-hold", "draft", "ended"}
_NOT_GIVEN = {"not-done", "entered-in-error", "stopped"}
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_UNIT_SECONDS = {"s": 1.0, "min": 60.0, "h": 3600.0}
_SCHEMA_RE = re.compile(
    r"^\s*(?P<s>[0-9½¼¾.,/]+(?:\s*-\s*[0-9½¼¾.,/]+){2,3})\s*(?:$|[^0-9\-])",
)
_INTERVAL_RE = re.compile(
    r"(?:\balle\s+|\bevery\s+|\bq\s*)(?P<n>\d+(?:[.,]\d+)?)\s*"
    r"(?:h\b|std\b|stunden\b|stündlich\b|hours?\b|hrs?\b)",
    re.IGNORECASE,
)
_QNH_RE = re.compile(r"^Q(?P<n>\d+(?:\.\d+)?)H$")


@dataclass(frozen=True)
class DueInfo:
    """Due state of one order at `now` (see the module docstring for the rules).

    next_time: the first scheduled time after now (None if none in the next 8 days).
    overdue_times: scheduled times in the lookback window, past tolerance, with no administration.
    due_now: scheduled times within tolerance of now that are not yet documented.
    last_given: the newest administration of this order, if any.
    """

    next_time: datetime | None
    overdue_times: tuple[datetime, ...] = ()
    due_now: tuple[datetime, ...] = ()
    last_given: datetime | None = None
    covered_times: tuple[datetime, ...] = field(default=())

    @property
    def overdue(self) -> bool:
        return bool(self.overdue_times)


# --------------------------------------------------------------------------- parsing helpers


def _parse_clock(text: str) -> time | None:
    """'08:00', '8:00:00', '0800' -> time; anything else -> None (never raises)."""
    m = re.fullmatch(r"\s*(\d{1,2}):?(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*", text or "")
    if not m:
        return None
    hour, minute, second = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    if hour == 24 and minute == 0 and second == 0:
        hour = 0
    if hour > 23 or minute > 59 or second > 59:
        return None
    return time(hour, minute, second)


def _clocks(texts: Iterable[str]) -> list[time]:
    out = {t for t in (_parse_clock(x) for x in texts) if t is not None}
    return sorted(out)


def _schema_positions(text: str | None) -> list[int] | None:
    """'1-0-1' -> [0, 2]; '0-0-0-1' -> [3]; None when the text is not such a schema."""
    if not text:
        return None
    m = _SCHEMA_RE.match(text)
    if not m:
        return None
    parts = [p.strip() for p in m.group("s").split("-")]
    positions = []
    for i, part in enumerate(parts):
        if part in ("½", "¼", "¾"):
            positions.append(i)
            continue
        try:
            if "/" in part:
                num, _, den = part.partition("/")
                value = float(num) / float(den)
            else:
                value = float(part.replace(",", "."))
        except (ValueError, ZeroDivisionError):
            return None
        if value > 0:
            positions.append(i)
    return positions


def _text_interval_hours(text: str | None) -> float | None:
    if not text:
        return None
    m = _INTERVAL_RE.search(text)
    if not m:
        return None
    hours = float(m.group("n").replace(",", "."))
    return hours if 0 < hours <= 24 * 7 else None


def _period_seconds(period: float | None, unit: str | None) -> float | None:
    if period is None or unit not in _UNIT_SECONDS or not math.isfinite(period) or period <= 0:
        return None
    return period * _UNIT_SECONDS[unit]


def _daily_table(count: int) -> list[time]:
    """Hospital default times for `count` doses a day; evenly from 06:00 beyond the table."""
    if count in DAILY_TIMES:
        return _clocks(DAILY_TIMES[count])
    count = max(1, min(count, 24 * 60))
    step = 24 * 60 / count
    return sorted({time(*divmod(int((6 * 60 + i * step) % (24 * 60)), 60)) for i in range(count)})


@dataclass(frozen=True)
class _Rule:
    """How one dosage repeats: wall-clock times on some days, or an absolute interval."""

    clocks: tuple[time, ...] = ()
    every_days: int = 1  # clocks apply every N days counted from the anchor date
    every: timedelta | None = None  # the interval these clocks came from ("every 8 h")
    interval: timedelta | None = None  # absolute stepping (intervals not dividing 24 h)
    weekly: bool = False  # clocks apply on the anchor weekday only (no days_of_week given)
    monthly: bool = False
    yearly: bool = False


def times_of_day_for(timing: Timing | None, dosage_text: str | None = None) -> list[time] | None:
    """The wall-clock times of one day for a timing, if it is a clock-time rule.

    Returns None for absolute intervals that do not divide 24 h and for timings with no
    recognisable schedule. Never raises.
    """
    rule = _rule_for(timing, dosage_text, anchor=None)
    if rule is None or rule.interval is not None:
        return None
    return list(rule.clocks)


def _rule_for(
    timing: Timing | None, dosage_text: str | None, anchor: datetime | None
) -> _Rule | None:
    """Turn a Timing (and the dosage text as a fallback) into a repetition rule."""
    t = timing or Timing()
    if t.times_of_day:
        clocks = _clocks(t.times_of_day)
        if clocks:
            return _with_period(t, clocks)
    if t.when:
        texts = [x for code in t.when for x in WHEN_TIMES.get(code.strip(), ())]
        if not texts:
            texts = [x for code in t.when for x in WHEN_TIMES.get(code.strip().upper(), ())]
        clocks = _clocks(texts)
        if clocks:
            return _with_period(t, clocks)
    rule = _frequency_rule(t.frequency, t.period, t.period_unit, anchor)
    if rule is not None:
        return rule
    if t.code:
        rule = _code_rule(t.code.strip().upper(), anchor)
        if rule is not None:
            return rule
    for text in (t.text, dosage_text):
        positions = _schema_positions(text)
        if positions:
            return _Rule(clocks=tuple(_clocks(SCHEMA_TIMES[i] for i in positions)))
        hours = _text_interval_hours(text)
        if hours is not None:
            return _interval_rule(timedelta(hours=hours), anchor)
    return None


def _with_period(t: Timing, clocks: list[time]) -> _Rule:
    """Times of day with a period longer than a day (every 2 d, weekly, ...) keep that period."""
    if t.period_unit == "d" and t.period and math.isfinite(t.period) and t.period >= 2:
        return _Rule(clocks=tuple(clocks), every_days=min(int(t.period), 366))
    if t.period_unit == "wk" and not t.days_of_week:
        return _Rule(clocks=tuple(clocks), weekly=True)
    if t.period_unit == "mo":
        return _Rule(clocks=tuple(clocks), monthly=True)
    if t.period_unit == "a":
        return _Rule(clocks=tuple(clocks), yearly=True)
    return _Rule(clocks=tuple(clocks))


def _code_rule(code: str, anchor: datetime | None) -> _Rule | None:
    spec = CODE_RULES.get(code)
    if spec is not None:
        if isinstance(spec[0], str):
            return _Rule(clocks=tuple(_clocks(str(x) for x in spec)))
        freq, period, unit = spec
        return _frequency_rule(int(freq), float(period), str(unit), anchor)
    m = _QNH_RE.match(code)
    if m:
        hours = float(m.group("n"))
        if 0 < hours <= 24 * 7:
            return _interval_rule(timedelta(hours=hours), anchor)
    return None


def _frequency_rule(
    frequency: int | None, period: float | None, unit: str | None, anchor: datetime | None
) -> _Rule | None:
    if period is None or unit is None or not math.isfinite(period) or period <= 0:
        return None
    freq = frequency if frequency and frequency > 0 else 1
    seconds = _period_seconds(period, unit)
    if seconds is not None:  # s / min / h: an interval
        step = seconds / freq
        if step < 60:  # more often than every minute is not a schedule a nurse can follow
            step = 60.0
        return _interval_rule(timedelta(seconds=step), anchor)
    if unit == "d":
        if period == 1 or period < 1:
            # A denormal period makes freq / period infinite; _daily_table caps at once a minute.
            per_day = max(1, round(min(freq / period, 24 * 60)))
            return _Rule(clocks=tuple(_daily_table(per_day)))
        return _Rule(clocks=tuple(_daily_table(freq)), every_days=min(int(period), 366))
    if unit == "wk":
        return _Rule(clocks=tuple(_daily_table(1)), weekly=True)
    if unit == "mo":
        return _Rule(clocks=tuple(_daily_table(1)), monthly=True)
    if unit == "a":
        return _Rule(clocks=tuple(_daily_table(1)), yearly=True)
    return None


def _interval_rule(step: timedelta, anchor: datetime | None) -> _Rule:
    """Every `step`: wall-clock times when it divides 24 h, else absolute stepping."""
    minutes = step.total_seconds() / 60
    day = 24 * 60
    if minutes > 0 and minutes <= day and day % minutes == 0 and minutes == int(minutes):
        start_clock = anchor.timetz().replace(tzinfo=None) if anchor else _DEFAULT_ANCHOR
        base = start_clock.hour * 60 + start_clock.minute
        count = int(day // minutes)
        clocks = {time(*divmod(int((base + i * minutes) % day), 60)) for i in range(count)}
        return _Rule(clocks=tuple(sorted(clocks)), every=step)
    if minutes > day and minutes % day == 0:
        start_clock = anchor.timetz().replace(tzinfo=None) if anchor else _DEFAULT_ANCHOR
        start_clock = start_clock.replace(second=0, microsecond=0)
        return _Rule(clocks=(start_clock,), every_days=int(minutes // day))
    return _Rule(interval=step)


# --------------------------------------------------------------------------- expansion


def _aware(value: datetime, tz: tzinfo) -> datetime:
    return value.replace(tzinfo=tz) if value.tzinfo is None else value


_UTC = ZoneInfo("UTC")


def instant(value: datetime, tz: tzinfo) -> datetime:
    """`value` as a UTC instant (naive: local time in `tz`). Pure.

    Two datetimes of one zone compare, subtract and hash by wall time in Python, so on the
    night the clocks go back (Europe/Berlin, last Sunday of October) 02:15 before the change
    and 02:20 after it would compare the wrong way round and "60 min ago" would be wrong. Every
    due / overdue comparison goes through instants."""
    return _aware(value, tz).astimezone(_UTC)


def _local(d: date, clock: time, tz: tzinfo) -> datetime:
    """Wall-clock `clock` on `d` in `tz`; nonexistent times move forward by the DST gap."""
    naive = datetime.combine(d, clock)
    # fold=0 takes the pre-transition offset, so a gap time round-trips to the later wall time.
    return naive.replace(tzinfo=tz).astimezone(ZoneInfo("UTC")).astimezone(tz)


def _is_active(order: MedicationOrder) -> bool:
    return (order.status or "active").strip().lower() not in _INACTIVE


def _anchor(order: MedicationOrder, timing: Timing | None, tz: tzinfo) -> datetime | None:
    raw = (timing.bounds_start if timing else None) or order.start
    return _aware(raw, tz).astimezone(tz) if raw else None


def _day_allowed(day: date, rule: _Rule, anchor_day: date, weekdays: set[int]) -> bool:
    if weekdays and day.weekday() not in weekdays:
        return False
    if rule.every_days > 1 and (day - anchor_day).days % rule.every_days != 0:
        return False
    if rule.weekly and not weekdays and day.weekday() != anchor_day.weekday():
        return False
    if rule.monthly and day.day != anchor_day.day:
        return False
    return not (rule.yearly and (day.month, day.day) != (anchor_day.month, anchor_day.day))


def _expand(
    rule: _Rule, lo: datetime, hi: datetime, tz: tzinfo, anchor: datetime | None, weekdays: set[int]
) -> list[datetime]:
    out: list[datetime] = []
    if rule.interval is not None:
        step = rule.interval
        base = anchor or _local(lo.astimezone(tz).date(), _DEFAULT_ANCHOR, tz)
        k = max(0, math.ceil((lo - base) / step)) if lo > base else 0
        # when the anchor lies after lo (order starts later), start at the anchor itself
        current = base + step * k
        while current < hi and len(out) < MAX_TIMES:
            if current >= lo:
                local = current.astimezone(tz)
                if not weekdays or local.weekday() in weekdays:
                    out.append(local)
            current += step
        return out
    if not rule.clocks:
        return out
    # Without an order start, "every 2 days" / "weekly" count from the first day of the window.
    anchor_day = (anchor or lo).astimezone(tz).date()
    day = lo.astimezone(tz).date() - timedelta(days=1)
    last = hi.astimezone(tz).date() + timedelta(days=1)
    while day <= last and len(out) < MAX_TIMES:
        if _day_allowed(day, rule, anchor_day, weekdays):
            for clock in rule.clocks:
                when = _local(day, clock, tz)
                if lo <= when < hi:
                    out.append(when)
        day += timedelta(days=1)
    return out


def _dosage_times(
    order: MedicationOrder, dosage: Dosage, lo: datetime, hi: datetime, tz: tzinfo
) -> list[datetime]:
    if dosage.as_needed:
        return []
    timing = dosage.timing
    anchor = _anchor(order, timing, tz)
    rule = _rule_for(timing, dosage.text, anchor)
    if rule is None:
        return []
    low, high = lo, hi
    if timing is not None:
        if timing.bounds_start is not None:
            low = max(low, _aware(timing.bounds_start, tz))
        if timing.bounds_end is not None:
            high = min(high, _aware(timing.bounds_end, tz))
    if low >= high:
        return []
    weekdays = {
        _WEEKDAYS.index(d.strip().lower()[:3])
        for d in (timing.days_of_week if timing else [])
        if d.strip().lower()[:3] in _WEEKDAYS
    }
    return _expand(rule, low, high, tz, anchor, weekdays)


def has_schedule(order: MedicationOrder) -> bool:
    """Whether any non-PRN dosage of an active order has a timing this module can expand.

    False means: PRN only, inactive, or a timing nobody can compute (the chart and the MAR then
    ask for times to be written by hand). Pure; never raises.
    """
    if not _is_active(order):
        return False
    return any(
        not d.as_needed and _rule_for(d.timing, d.text, anchor=None) is not None
        for d in order.dosages
    )


def is_active(order: MedicationOrder) -> bool:
    """Whether an order counts as active for due times (status active, unknown or empty)."""
    return _is_active(order)


def scheduled_times(
    order: MedicationOrder, start: datetime, end: datetime, tz: ZoneInfo | tzinfo
) -> list[datetime]:
    """Every scheduled administration time of `order` in [start, end), sorted, in `tz`.

    Naive `start`/`end` are read as local time in `tz`. The window is narrowed by the order's
    start/end and each dosage's `Timing.bounds_*`. PRN and inactive orders give []. Unparseable
    timings give [] (the chart then shows the prescriber's text). At most `MAX_TIMES` times.
    Never raises on odd data.
    """
    if not _is_active(order):
        return []
    lo, hi = _aware(start, tz), _aware(end, tz)
    if order.start is not None:
        lo = max(lo, _aware(order.start, tz))
    if order.end is not None:
        hi = min(hi, _aware(order.end, tz))
    if lo >= hi:
        return []
    found: set[datetime] = set()
    for dosage in order.dosages:
        try:
            found.update(_dosage_times(order, dosage, lo, hi, tz))
        except (OverflowError, ValueError):
            # Dates beyond year 9999 or absurd periods: such a dosage has no usable schedule.
            continue
    # Equal instants from split doses collapse; compare in UTC so DST folds cannot duplicate.
    unique = {t.astimezone(ZoneInfo("UTC")): t.astimezone(tz) for t in found}
    return [unique[k] for k in sorted(unique)][:MAX_TIMES]


# --------------------------------------------------------------------------- due / overdue


def _matches(order: MedicationOrder, adm: Administration) -> bool:
    if adm.when is None or (adm.status or "").lower() in _NOT_GIVEN:
        return False
    if adm.order_id:
        return adm.order_id == order.id
    return adm.drug.strip().casefold() == order.drug.strip().casefold()


def given_for(order: MedicationOrder, adm: Administration) -> bool:
    """Whether `adm` can cover a dose of `order` in `next_due` (given, timed, and for this
    order: by its id, else by drug name). Pure."""
    return _matches(order, adm)


def next_due(
    order: MedicationOrder,
    now: datetime,
    administrations: Sequence[Administration],
    tz: ZoneInfo | tzinfo,
) -> DueInfo | None:
    """Next scheduled time and missed doses of `order` at `now`.

    Returns None when the order has no schedule (PRN, inactive, ended, unparseable timing) in the
    window [now - 4 h, now + 8 d). Administrations of other orders are ignored; each
    administration covers at most one scheduled time (the nearest). Never raises on odd data.
    """
    now = instant(now, tz)  # by instant, not wall time (see `instant`)
    times = scheduled_times(order, now - OVERDUE_LOOKBACK, now + LOOKAHEAD, tz)
    if not times:
        return None
    upcoming = next((t for t in times if instant(t, tz) > now), None)
    return _due_info(order, now, times, administrations, tz, upcoming)


def open_doses(
    order: MedicationOrder,
    now: datetime,
    administrations: Sequence[Administration],
    tz: ZoneInfo | tzinfo,
) -> DueInfo | None:
    """`next_due` without the next time (`next_time` is None): the same overdue, due-now,
    covered and last-given times, and None exactly when `next_due` gives None. Expands the
    schedule only up to now + TOLERANCE (next_due expands 8 days ahead to find the next time),
    and the 8 days only for an order without a dose near now: the census asks this for
    thousands of patients at once. Pure; never raises on odd data."""
    return open_doses_given(order, now, given_times(order, administrations), tz)


def given_times(
    order: MedicationOrder, administrations: Sequence[Administration]
) -> list[datetime]:
    """When the administrations that can cover a dose of `order` were given (`given_for`), as
    recorded. What `open_doses_given` needs of them. Pure."""
    return [a.when for a in administrations if a.when is not None and _matches(order, a)]


def open_doses_given(
    order: MedicationOrder, now: datetime, given: Sequence[datetime], tz: ZoneInfo | tzinfo
) -> DueInfo | None:
    """`open_doses` from the order's `given_times` instead of all administrations (what the
    census keeps per order, app.snapcache). Pure; never raises on odd data."""
    now = instant(now, tz)  # by instant, not wall time (see `instant`)
    start = now - OVERDUE_LOOKBACK
    # The same window start as next_due's, so intervals without an order start anchor alike.
    near = scheduled_times(order, start, now + TOLERANCE + _TICK, tz)
    if not near and not scheduled_times(order, start, now + LOOKAHEAD, tz):
        return None
    return _match_given(now, near, given, tz, None)


def _due_info(
    order: MedicationOrder,
    now: datetime,
    times: Sequence[datetime],
    administrations: Sequence[Administration],
    tz: ZoneInfo | tzinfo,
    upcoming: datetime | None,
) -> DueInfo:
    """next_due's matching of `times` with the order's administrations."""
    return _match_given(now, times, given_times(order, administrations), tz, upcoming)


def _match_given(
    now: datetime,
    times: Sequence[datetime],
    given_at: Sequence[datetime],
    tz: ZoneInfo | tzinfo,
    upcoming: datetime | None,
) -> DueInfo:
    """Match scheduled `times` (sorted, from now - OVERDUE_LOOKBACK; only those up to now +
    TOLERANCE count) with the order's given times: each covers the nearest time within
    TOLERANCE, at most one."""
    given = sorted((_aware(g, tz) for g in given_at), key=lambda g: instant(g, tz))
    # Matched and compared as instants: "within 60 min" is real time on a DST night too.
    unused = [instant(g, tz) for g in given]
    now = instant(now, tz)
    covered: list[datetime] = []
    overdue: list[datetime] = []
    due_now: list[datetime] = []
    for t in (x for x in times if instant(x, tz) <= now + TOLERANCE):
        at = instant(t, tz)
        hit = min(
            (g for g in unused if abs(g - at) <= TOLERANCE),
            key=lambda g: abs(g - at),
            default=None,
        )
        if hit is not None:
            unused.remove(hit)
            covered.append(t)
        elif at < now - TOLERANCE:
            overdue.append(t)
        else:
            due_now.append(t)
    return DueInfo(
        next_time=upcoming,
        overdue_times=tuple(overdue),
        due_now=tuple(due_now),
        last_given=given[-1] if given else None,
        covered_times=tuple(covered),
    )


# --------------------------------------------------------------------------- shape


@dataclass(frozen=True)
class TimingShape:
    """What a timing means, without words: `app.present.timing` words it in the reader's
    language (so the numbers are formatted once, in the right locale).

    kind: "interval" (every `hours` hours, absolute), "daily" (`clocks` every day), "every_days"
    (`clocks` every `days` days), "every_hours" (`clocks` repeating every `hours` h within a day),
    "weekly", "monthly", "yearly", "text" (no computable times: `original` is all there is),
    "none" (nothing at all).
    weekdays: the `days_of_week` filter, 0 = Monday.
    original: the source text (timing text, or the dosage text when it is a schema such as
    "1-0-1"), kept beside the computed times when it says more.
    """

    kind: str
    clocks: tuple[time, ...] = ()
    hours: float | None = None
    days: int | None = None
    weekdays: tuple[int, ...] = ()
    original: str | None = None


def timing_shape(
    timing: Timing | None, dosage_text: str | None = None, anchor: datetime | None = None
) -> TimingShape:
    """The shape of a timing for its description (`app.present.timing.describe_timing`).

    `anchor` is the order start in local time (intervals are anchored there, as in
    `scheduled_times`); without it the 06:00 default applies. Pure; never raises.
    """
    t = timing or Timing()
    rule = _rule_for(t, dosage_text, anchor=anchor)
    if rule is None:
        text = t.text or dosage_text
        return TimingShape("text", original=text) if text else TimingShape("none")
    weekdays = tuple(
        _WEEKDAYS.index(d.strip().lower()[:3])
        for d in t.days_of_week
        if d.strip().lower()[:3] in _WEEKDAYS
    )
    original = t.text or (dosage_text if _schema_positions(dosage_text) else None)
    original = original.strip() if original and original.strip() else None
    if rule.interval is not None:
        hours = rule.interval.total_seconds() / 3600
        return TimingShape("interval", hours=hours, weekdays=weekdays, original=original)
    if rule.weekly:
        kind = "weekly"
    elif rule.monthly:
        kind = "monthly"
    elif rule.yearly:
        kind = "yearly"
    elif rule.every_days > 1:
        kind = "every_days"
    elif rule.every is not None and rule.every < timedelta(days=1):
        kind = "every_hours"
    else:
        kind = "daily"
    every = rule.every.total_seconds() / 3600 if rule.every is not None else None
    return TimingShape(
        kind,
        clocks=tuple(rule.clocks),
        hours=every if kind == "every_hours" else None,
        days=rule.every_days if kind == "every_days" else None,
        weekdays=weekdays,
        original=original,
    )

"""Medications due on a ward: per patient (the census column) and ward-wide (the due list).

PURE: no I/O, no clock reads (callers pass `now` and the snapshot's data-as-of), no global state.
Shared by the census column, the "medications due" screen and its printout, so that screen and
paper can never disagree. Due times come from `app.schedule` (the chart's and the MAR's rules;
`open_doses` is `next_due` without the next time, which nothing here needs).

Rules (docs/viewer.md, "Medications due"):
- A dose is *overdue* when `app.schedule.next_due` calls it overdue (scheduled in the last 4 h,
  more than 60 min ago, no administration within 60 min of it) AND it lies before the
  snapshot's data-as-of: a dose due after data-as-of may well have been given, the snapshot
  cannot know (the printed MAR's rule; no false alarms from a stale copy).
- A dose is *due* when it is scheduled in [min(data-as-of, now), now + hours) and not covered by
  an administration, plus doses still open around now (within 60 min, not yet documented).
- Per patient: overdue, else "due soon" when a dose is due within the next hour (DUE_SOON),
  else nothing. PRN, on-hold, stopped orders and discharged patients are never due.
- Order of the ward list: overdue first (oldest first), then by time, then room/bed, patient.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum

from app.schedule import given_times, instant, is_active, open_doses_given, scheduled_times
from sync.model import MedicationOrder, PatientRecord

__all__ = [
    "DEFAULT_HOURS",
    "DUE_SOON",
    "HOURS_CHOICES",
    "DueDose",
    "DueState",
    "OrderGiven",
    "PatientDue",
    "orders_due",
    "orders_given",
    "patient_due",
    "record_doses",
    "ward_due",
]

#: "Due soon" in the census: a dose due within this time from now.
DUE_SOON = timedelta(hours=1)
#: Hours the ward list can look ahead; the default is what a night round covers.
HOURS_CHOICES: tuple[int, ...] = (2, 4, 8, 12)
DEFAULT_HOURS = 4


class DueState(StrEnum):
    OVERDUE = "overdue"
    SOON = "soon"
    NONE = "none"


@dataclass(frozen=True)
class DueDose:
    """One dose on the ward list (an order's dose at one scheduled time)."""

    when: datetime  # in the hospital zone
    overdue: bool
    patient_id: str
    name: str
    room: str | None
    bed: str | None
    mrn: str | None
    order: MedicationOrder


@dataclass(frozen=True)
class PatientDue:
    """The census column: overdue doses and doses due within the hour, of one patient."""

    overdue: tuple[datetime, ...] = ()
    soon: tuple[datetime, ...] = ()

    @property
    def state(self) -> DueState:
        if self.overdue:
            return DueState.OVERDUE
        if self.soon:
            return DueState.SOON
        return DueState.NONE

    @property
    def rank(self) -> int:
        """Sort rank: overdue 0, due soon 1, nothing 2 (what one looks for comes first)."""
        return {DueState.OVERDUE: 0, DueState.SOON: 1, DueState.NONE: 2}[self.state]


#: One order with the times its administrations were given (app.schedule.given_times).
OrderGiven = tuple[MedicationOrder, Sequence[datetime]]


def _order_doses(
    order: MedicationOrder,
    given: Sequence[datetime],
    now: datetime,
    until: datetime,
    as_of: datetime,
    tz: tzinfo,
) -> list[tuple[datetime, bool]]:
    """(time, overdue) of one order's open doses before `until`; [] for PRN / inactive."""
    if not is_active(order) or order.as_needed:
        return []
    # open_doses: next_due's answer without its 8-day search for the next time (not needed here).
    info = open_doses_given(order, now, given, tz)
    if info is None:
        return []
    # Keyed and compared as instants: two 02:30 of the night the clocks go back are two doses.
    as_of, now = instant(as_of, tz), instant(now, tz)
    start = min(as_of, now)
    covered = {instant(x, tz) for x in info.covered_times}
    out: dict[datetime, bool] = {}
    for x in info.overdue_times:
        # after data-as-of: unknown whether given, so only "due"
        out[instant(x, tz)] = instant(x, tz) < as_of
    for x in info.due_now:
        out.setdefault(instant(x, tz), False)
    for x in scheduled_times(order, start, until, tz):
        out.setdefault(instant(x, tz), False)
    # A time covered by an administration is not open, whatever window found it.
    return sorted((x.astimezone(tz), late) for x, late in out.items() if x not in covered)


def orders_given(record: PatientRecord) -> list[OrderGiven]:
    """Each order of `record` with its given times: the due rules' view of the record."""
    return [(o, given_times(o, record.administrations)) for o in record.medications]


def _open(
    orders: Iterable[OrderGiven], now: datetime, until: datetime, as_of: datetime, tz: tzinfo
) -> list[tuple[MedicationOrder, datetime, bool]]:
    """(order, time, overdue) of the open doses: overdue ones and those due before `until`."""
    out = []
    for order, given in orders:
        for when, late in _order_doses(order, given, now, until, as_of, tz):
            if late or when < until:
                out.append((order, when, late))
    return out


def record_doses(
    record: PatientRecord, now: datetime, hours: float, as_of: datetime, tz: tzinfo
) -> list[DueDose]:
    """Open doses of one patient: overdue ones and those due before now + `hours`.

    Discharged patients have none. Never raises on odd data (`app.schedule` never does)."""
    if record.stay is not None and not record.stay.is_current:
        return []
    until = now + timedelta(hours=hours)
    stay = record.stay
    return [
        DueDose(
            when=when,
            overdue=late,
            patient_id=record.id,
            name=record.name,
            room=stay.room if stay else None,
            bed=stay.bed if stay else None,
            mrn=record.mrn,
            order=order,
        )
        for order, when, late in _open(orders_given(record), now, until, as_of, tz)
    ]


def orders_due(
    orders: Iterable[OrderGiven],
    now: datetime,
    as_of: datetime,
    tz: tzinfo,
    soon: timedelta = DUE_SOON,
) -> PatientDue:
    """`patient_due` of a current patient from the orders and their given times alone (what
    app.snapcache keeps instead of whole records)."""
    until = now + timedelta(hours=soon.total_seconds() / 3600)
    doses = _open(orders, now, until, as_of, tz)
    return PatientDue(
        overdue=tuple(when for _o, when, late in doses if late),
        soon=tuple(when for _o, when, late in doses if not late),
    )


def patient_due(
    record: PatientRecord, now: datetime, as_of: datetime, tz: tzinfo, soon: timedelta = DUE_SOON
) -> PatientDue:
    """The census column of one patient: overdue doses, else doses due within `soon`.
    Discharged patients have none."""
    if record.stay is not None and not record.stay.is_current:
        return PatientDue()
    return orders_due(orders_given(record), now, as_of, tz, soon)


def _natural(text: str | None) -> tuple[object, ...]:
    parts = re.split(r"(\d+)", (text or "").casefold())
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts if p)


def ward_due(
    records: Iterable[PatientRecord], now: datetime, hours: float, as_of: datetime, tz: tzinfo
) -> list[DueDose]:
    """Every open dose of the ward's patients over the next `hours`: overdue first (oldest
    first), then by time, room/bed, patient name, drug."""
    doses = [d for r in records for d in record_doses(r, now, hours, as_of, tz)]
    return sorted(
        doses,
        key=lambda d: (
            not d.overdue,
            d.when,
            _natural(d.room),
            _natural(d.bed),
            d.name.casefold(),
            d.order.drug.casefold(),
        ),
    )

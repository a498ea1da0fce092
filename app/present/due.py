"""Medications due in words: the chart's next-due column, the census column and the ward's
"medications due" list.

One text for screen and paper (the chart and the summary/MAR medication tables, the census
column, the due screen, the due printout). Times are in the hospital's zone; "overdue" is always
said in words plus a symbol, never by colour alone.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from app import schedule
from app.duelist import DueDose, DueState, PatientDue
from app.present.catalog import t
from app.present.clinical import room_bed_short, status_word
from app.present.dose import medication_text
from app.present.formats import DASH, day_time_text, time_text
from app.schedule import given_for, next_due
from sync.model import Administration, MedicationOrder


def due_rule_text(lang: str) -> str:
    """The overdue rule under the due list (screen and paper), with the limits the rule really
    uses (app.schedule.TOLERANCE, OVERDUE_LOOKBACK): "Overdue: due more than 60 min before
    data-as-of (looking back 4 h) and not documented. ..." """
    minutes = int(schedule.TOLERANCE.total_seconds() // 60)
    hours = schedule.OVERDUE_LOOKBACK.total_seconds() / 3600
    return t("due.rule", lang, minutes=minutes, hours=int(hours) if hours.is_integer() else hours)


@dataclass(frozen=True)
class DueCell:
    """The census column of one patient: words with a symbol, and the state for styling."""

    text: str
    state: DueState


def due_cell(due: PatientDue, lang: str, tz: tzinfo, today: date | None) -> DueCell:
    """ "überfällig 08:00" / "fällig 10:45" / "–": the first overdue, else due time. The words
    carry the state; the screen adds an icon (warning / clock) so that colour is never alone.
    Another day than `today` reads "30.11. 08:00", never with the year: the cell is narrow at
    1024 px and a due dose is always within days of the data-as-of."""
    if due.overdue:
        first = day_time_text(due.overdue[0], lang, tz, today)
        more = len(due.overdue) - 1
        if more:
            return DueCell(t("due.overdue_more", lang, time=first, more=more), DueState.OVERDUE)
        return DueCell(t("due.overdue", lang, time=first), DueState.OVERDUE)
    if due.soon:
        when = day_time_text(due.soon[0], lang, tz, today)
        return DueCell(t("due.soon", lang, time=when), DueState.SOON)
    return DueCell(DASH, DueState.NONE)


@dataclass(frozen=True)
class DueRowText:
    """One row of the due list in words (screen and paper)."""

    patient_id: str
    time: str
    overdue: bool
    mark: str  # "⚠ ÜBERFÄLLIG" for an overdue dose, else ""
    room_bed: str
    patient: str
    drug: str
    dose: str
    route: str


def due_row(dose: DueDose, lang: str, tz: tzinfo, today: date | None) -> DueRowText:
    """The words of one due dose; time only when today (hospital zone), else date and time."""
    med = medication_text(dose.order, lang, tz)
    return DueRowText(
        patient_id=dose.patient_id,
        time=time_text(dose.when, lang, tz, today),
        overdue=dose.overdue,
        mark=t("due.mark.overdue", lang) if dose.overdue else "",
        room_bed=room_bed_short(dose.room, dose.bed) or DASH,
        patient=dose.name,
        drug=dose.order.drug,
        dose=med.dose(),
        route=med.route(),
    )


def due_columns(lang: str) -> tuple[str, ...]:
    """Column headings of the due list, in order."""
    return tuple(
        t(f"due.col.{key}", lang) for key in ("time", "bed", "patient", "drug", "dose", "route")
    )


# --- the next-due column of one order (chart, summary, MAR) ---------------------------------

SEPARATOR = " · "


@dataclass(frozen=True)
class DueText:
    """What the "next due" column of an order reads, and how loudly.

    overdue: a scheduled dose is missed (not documented in the system); red / shaded row.
    due_now: a dose is due within the tolerance of now and not yet documented.
    """

    text: str
    overdue: bool = False
    due_now: bool = False


def due_text(
    order: MedicationOrder,
    administrations: Sequence[Administration],
    now: datetime,
    tz: tzinfo,
    lang: str,
    *,
    as_of: datetime | None = None,
) -> DueText:
    """The next-due text of `order` at `now`, in the hospital zone `tz` and language `lang`;
    the same words on the chart and in the printed summary and MAR.

    - as needed: "bei Bedarf" / "as needed"
    - a missed dose: "ÜBERFÄLLIG seit 08:00 · nächste 20:00" / "OVERDUE since 08:00 · next
      20:00" (overdue since the first missed dose; "next" when there is a next time)
    - a dose due now: "fällig 08:00 · nächste 20:00"
    - else the next time alone ("20:00"), or "–" when nothing is scheduled.
    A time on another day than `now` carries its date ("01.12.2026 08:00").

    With `as_of` (a snapshot's data-as-of older than `now`), only doses due before `as_of`
    count as overdue, i.e. "overdue, not documented in the system": a dose due after data-as-of
    may well have been given, the snapshot cannot know: it reads "fällig 08:00" / "due 08:00"
    (the due list's and the MAR grid's rule). Never raises on odd data.
    """
    if order.as_needed:
        return DueText(t("med.prn", lang))
    info = next_due(order, now, administrations, tz)
    if info is None:
        return DueText(DASH)
    today = now.astimezone(tz).date()

    def when(moment: datetime) -> str:
        return time_text(moment, lang, tz, today)

    # The data-as-of rule of app.duelist and the MAR grid: a missed time before data-as-of is
    # "overdue, not documented"; one after it is only "due" (it may have been given since).
    # Compared as instants (app.schedule.instant): wall times of one zone are ambiguous on
    # the night the clocks go back.
    cut = schedule.instant(as_of, tz) if as_of is not None else None
    late = [x for x in info.overdue_times if cut is None or schedule.instant(x, tz) < cut]
    pending_by = {schedule.instant(x, tz): x for x in info.due_now}
    for x in info.overdue_times:
        if cut is not None and schedule.instant(x, tz) >= cut:
            pending_by[schedule.instant(x, tz)] = x
    pending = [pending_by[k] for k in sorted(pending_by)]
    nxt = [t("med.next", lang, when=when(info.next_time))] if info.next_time is not None else []
    if late:
        first = t("med.overdue_since", lang, when=when(late[0]))
        return DueText(SEPARATOR.join([first, *nxt]), overdue=True)
    if pending:
        first = t("due.soon", lang, time=when(pending[0]))
        return DueText(SEPARATOR.join([first, *nxt]), due_now=True)
    if info.next_time is not None:
        return DueText(when(info.next_time))
    return DueText(DASH)


__all__ = [
    "SEPARATOR",
    "DueCell",
    "DueRowText",
    "DueText",
    "administration_status",
    "due_cell",
    "due_columns",
    "due_row",
    "due_rule_text",
    "due_text",
    "last_not_given",
    "not_given_text",
]


def _of_order(order: MedicationOrder, adm: Administration) -> bool:
    """Whether `adm` belongs to `order`: by its id, else (no id) by drug name."""
    if adm.order_id:
        return adm.order_id == order.id
    return adm.drug.strip().casefold() == order.drug.strip().casefold()


def last_not_given(
    order: MedicationOrder, administrations: Sequence[Administration]
) -> Administration | None:
    """The newest administration of `order` documented as not given (status "not-done") when
    no dose of it was given at or after that time, else None. Pure."""
    mine = [a for a in administrations if a.when is not None and _of_order(order, a)]
    refused = [a for a in mine if a.not_given]
    if not refused:
        return None
    newest = max(refused, key=lambda a: a.when or datetime.min)
    assert newest.when is not None
    given_since = any(
        a.when is not None and a.when >= newest.when and given_for(order, a) for a in mine
    )
    return None if given_since else newest


def administration_status(adm: Administration, lang: str) -> str:
    """The status column of an administrations table (chart and MAR): "gegeben" / "given";
    a dose documented as not given with its reason, "nicht gegeben: Patient schläft" / "not
    given: patient asleep" (statusReason), as the day grid's footnote and the chart row say it."""
    if adm.not_given and adm.status_reason and adm.status_reason.strip():
        return t("med.not_given_because", lang, reason=adm.status_reason.strip())
    return status_word(adm.status, lang, "administration")


def not_given_text(adm: Administration, lang: str, tz: tzinfo, today: date | None) -> str:
    """ "nicht gegeben 14:02: Patient nicht auf Station" / "not given 2 Dec 14:02": a dose
    documented as not given, with its reason (statusReason) when the record has one. The same
    words on the chart and on the MAR."""
    when = day_time_text(adm.when, lang, tz, today) if adm.when else DASH
    reason = (adm.status_reason or "").strip()
    if reason:
        return t("med.not_given_at_because", lang, when=when, reason=reason)
    return t("med.not_given_at", lang, when=when)

"""The patient chart view-model: header, sections, medications, results, notes (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Literal

from app.present.catalog import t
from app.present.clinical import (
    CRITICAL_INTERPRETATIONS,
    StatusKind,
    allergy_text,
    code_word,
    flag_category_word,
    history_window_text,
    interpretation_flag,
    observation_value,
    reference_range,
    room_bed_text,
    status_word,
)
from app.present.dose import amount_text, medication_text, on_hold_text, related_text
from app.present.due import administration_status, due_text, last_not_given, not_given_text
from app.present.formats import clinical_number, date_text
from app.ui import fmt
from app.ui.strings import tr
from app.ui.viewmodels.common import CodeStatusView, code_status_view, is_isolation_flag
from sync.model import (
    Allergy,
    CodeStatusKind,
    DataWindows,
    MedicationOrder,
    Note,
    NoteVersion,
    Observation,
    PatientRecord,
)


class Section(StrEnum):
    SUMMARY = "summary"
    MEDS = "meds"
    VITALS = "vitals"
    LABS = "labs"
    NOTES = "notes"
    ORDERS = "orders"
    PROCEDURES = "procedures"
    IMMUNIZATIONS = "immunizations"
    CONTACTS = "contacts"


@dataclass(frozen=True)
class AllergyLine:
    substance: str
    detail: str  # reactions, criticality, kind
    severe: bool


@dataclass(frozen=True)
class ChartHeader:
    name: str
    birth: str
    age: str
    sex: str
    mrn: str
    location: str  # "Station 3A · Zimmer 12 / Bett 1"
    admitted: str
    allergies: list[AllergyLine]
    allergy_summary: str  # "Penicillin (schwer), Latex" / "keine bekannt" / "nicht dokumentiert"
    allergy_severe: bool
    allergy_state: str  # "severe" | "present" | "none-known" | "not-documented"
    code: CodeStatusView
    flags: list[str]
    isolation: bool
    deceased: bool


@dataclass(frozen=True)
class DueView:
    text: str  # "14:00" / "ÜBERFÄLLIG seit 13:00 · nächste 21:00" / "bei Bedarf"
    overdue: bool
    due_now: bool = False


@dataclass(frozen=True)
class MedLine:
    drug: str
    dose: str
    route: str
    schedule: str
    prn: bool
    due: DueView
    start: str
    prescriber: str
    note: str
    last_given: str = ""  # "zuletzt gegeben 08:10 · S. Roth"
    # The newest dose documented as not given since the last given one, with its reason:
    # "nicht gegeben 14:02: Patient nicht auf Station (Diagnostik)"; "" when none.
    not_given: str = ""
    # The same drug also has an order on hold: "⚠ same drug also on hold: Metoprolol 95 mg".
    related: str = ""


@dataclass(frozen=True)
class AdminLine:
    when: str
    drug: str
    dose: str
    route: str
    status: str
    performer: str


@dataclass(frozen=True)
class ObsLine:
    name: str
    value: str  # "7.9 mmol/l"
    flag: str  # "H", "LL", "" ...
    abnormal: bool
    critical: bool
    ref: str  # "3.5–5.1"
    when: str


@dataclass(frozen=True)
class TestHistory:
    """One lab test (or vital sign) with its results, newest first."""

    name: str
    latest: ObsLine
    history: list[ObsLine]
    series: list[tuple[datetime, float]]  # oldest first, for a trend line


@dataclass(frozen=True)
class LabGroup:
    name: str
    tests: list[TestHistory]


@dataclass(frozen=True)
class TextItem:
    """A generic list entry: orders, procedures, immunizations, contacts, notes."""

    title: str
    detail: str
    when: str = ""
    body: str = ""  # full text (notes)
    emphasis: bool = False  # main diagnosis, isolation: shown bold
    danger: bool = False  # urgent/stat order: shown red
    muted: bool = False  # superseded note, a code standing in for a name: shown grey
    # Other copies / older versions of a note (newest first), each readable, marked; and the
    # words of the button that opens them ("2 andere Fassungen").
    versions: tuple[TextItem, ...] = ()
    versions_label: str = ""


def _obs_line(obs: Observation, tz: tzinfo | None, lang: str, today: date) -> ObsLine:
    # Value, range and flag in the printouts' words (app.present.clinical); "N" (normal) is
    # left out, a column that should draw the eye only to abnormal values.
    return ObsLine(
        name=obs.name,
        value=observation_value(obs, lang),
        flag=interpretation_flag(obs),
        abnormal=obs.is_abnormal,
        critical=obs.interpretation in CRITICAL_INTERPRETATIONS,
        ref=reference_range(obs, lang),
        when=fmt.time_text(obs.effective, tz, lang, today),
    )


def _obs_key(obs: Observation) -> str:
    return obs.code or fmt.fold(obs.name)


def _newest_first(items: Iterable[Observation]) -> list[Observation]:
    aware_min = datetime.min.replace(tzinfo=None)
    return sorted(
        items,
        key=lambda o: o.effective.timestamp() if o.effective else aware_min.toordinal(),
        reverse=True,
    )


def _histories(
    observations: Sequence[Observation], tz: tzinfo | None, lang: str, today: date
) -> list[TestHistory]:
    """Group results by test (LOINC code, else name), newest first; first-seen test order."""
    by_test: dict[str, list[Observation]] = {}
    for obs in _newest_first(observations):
        by_test.setdefault(_obs_key(obs), []).append(obs)
    out = []
    for items in by_test.values():
        lines = [_obs_line(o, tz, lang, today) for o in items]
        series = [
            (o.effective, o.value) for o in reversed(items) if o.effective and o.value is not None
        ]
        out.append(TestHistory(name=items[0].name, latest=lines[0], history=lines, series=series))
    return out


def _dosage_texts(order: MedicationOrder, lang: str, tz: tzinfo) -> tuple[str, str, str]:
    """Dose, route and schedule text of an order (several dosages joined with ";"): the same
    words as the printed summary and MAR (`app.present.dose.medication_text`)."""
    text = medication_text(order, lang, tz)
    return text.dose(), text.route(), text.schedule()


def _dose(order: MedicationOrder, lang: str, tz: tzinfo) -> str:
    """Dose, route and the written instruction of an order not to be given now (on hold,
    stopped, home medication) in one line ("5 mg · p.o. · 1-0-0"): no computed clock times,
    which would suggest it is scheduled here."""
    parts: list[str] = []
    for d in order.dosages:
        for x in (amount_text(d.dose_text, lang), d.route, d.text):
            if x and x not in parts:
                parts.append(x)
    return " · ".join(parts)


def _status(code: str | None, lang: str, kind: StatusKind = "generic") -> str:
    """A status code in words for a detail line; "" when there is none."""
    return status_word(code, lang, kind) if code and code.strip() else ""


class ChartModel:
    """Everything the patient chart shows, computed from one record at one moment.

    Due times and their words come from app.present.due, the same as the printed MAR.
    """

    LAB_RECENT = timedelta(days=3)

    def __init__(
        self,
        record: PatientRecord,
        *,
        now: datetime,
        tz: tzinfo,
        lang: str,
        data_as_of: datetime | None = None,
        windows: DataWindows | None = None,
    ) -> None:
        self.record = record
        self.now = now
        # The windows the sync applied to this snapshot (SnapshotMeta.windows): the texts
        # "given in the last N h" / "stopped in the last N h" say what was really kept.
        self.windows = windows if windows is not None else DataWindows()
        # The snapshot's data-as-of: only doses before it can be "overdue, not documented"
        # (app.present.due); None (no snapshot, tests) treats every missed dose as overdue.
        self.data_as_of = data_as_of
        self.tz = tz
        self.lang = lang
        self.today = now.astimezone(tz).date()
        self.section = Section.SUMMARY

    def translate(self, key: str, **kwargs: object) -> str:
        return tr(key, self.lang, **kwargs)

    # -- header ----------------------------------------------------------------------------------

    def header(self) -> ChartHeader:
        r = self.record
        stay = r.stay
        loc_parts = []
        if stay is not None:
            if stay.ward or stay.ward_id:
                loc_parts.append(stay.ward or stay.ward_id or "")
            if stay.room or stay.bed:
                # The same words as the printed header (app.present.clinical).
                loc_parts.append(room_bed_text(stay.room, stay.bed, self.lang))
        admitted = "–"
        if stay is not None and stay.admitted is not None:
            admitted = fmt.datetime_text(stay.admitted, self.tz, self.lang)
            if stay.is_current:
                days = fmt.days_since(stay.admitted, self.now.astimezone(self.tz))
                admitted += " " + self.translate("census.days", days=days)
        if stay is not None and not stay.is_current:
            # A finished stay is never shown as the current one (no "day 10680").
            ended = (
                t(
                    "stay.discharged",
                    self.lang,
                    when=fmt.datetime_text(stay.discharged, self.tz, self.lang),
                )
                if stay.discharged is not None
                else t("stay.finished", self.lang)
            )
            admitted = f"{admitted} · {ended.upper()}"
        allergies = [self._allergy_line(a) for a in r.allergies]
        if allergies:
            summary = ", ".join(
                a.substance + (f" ({self.translate('allergy.severe')})" if a.severe else "")
                for a in allergies
            )
        elif r.no_known_allergies:
            summary = self.translate("allergy.nka")
        else:
            summary = self.translate("allergy.not_documented")
        code = (
            code_status_view(r.code_status.kind, r.code_status.text, self.lang)
            if r.code_status
            else code_status_view(CodeStatusKind.UNKNOWN, None, self.lang)
        )
        return ChartHeader(
            name=r.name,
            birth=fmt.birth_text(r.birth_date, self.lang, r.birth_precision),
            age=fmt.age_text(r.birth_date, self.today, self.lang, r.birth_precision),
            sex=fmt.sex_long(r.sex, self.lang),
            mrn=r.mrn or "–",
            location=" · ".join(loc_parts) or "–",
            admitted=admitted,
            allergies=allergies,
            allergy_summary=summary,
            allergy_severe=r.has_severe_allergy,
            allergy_state=(
                "severe"
                if r.has_severe_allergy
                else "present"
                if allergies
                else "none-known"
                if r.no_known_allergies
                else "not-documented"
            ),
            code=code,
            flags=[f.text for f in r.flags],
            isolation=any(is_isolation_flag(f.text, f.category) for f in r.flags),
            deceased=r.deceased,
        )

    def _allergy_line(self, a: Allergy) -> AllergyLine:
        words = allergy_text(a, self.lang)  # the printed allergy table's words
        bits = []
        if words.reactions != "–":
            bits.append(words.reactions)
        if words.high:
            bits.append(t("crit.high_risk", self.lang))
        if a.kind == "intolerance":
            bits.append(code_word(a.kind, self.lang))
        if words.status:
            bits.append(words.status)
        return AllergyLine(substance=a.substance, detail=" · ".join(bits), severe=words.severe)

    # -- medications -----------------------------------------------------------------------------

    def _due(self, order: MedicationOrder) -> DueView:
        # The same words as the printed summary and MAR (app.present.due).
        due = due_text(
            order, self.record.administrations, self.now, self.tz, self.lang, as_of=self.data_as_of
        )
        return DueView(due.text, overdue=due.overdue, due_now=due.due_now)

    def medications(self) -> list[MedLine]:
        active = [m for m in self.record.medications if (m.status or "active") == "active"]
        out = []
        for m in active:
            dose, route, schedule = _dosage_texts(m, self.lang, self.tz)
            out.append(
                MedLine(
                    drug=m.drug,
                    dose=dose,
                    route=route,
                    schedule=schedule,
                    prn=m.as_needed,
                    due=self._due(m),
                    start=date_text(m.start, self.lang, self.tz),
                    prescriber=m.prescriber or "–",
                    note=m.note or "",
                    last_given=self._last_given(m),
                    not_given=self._not_given(m),
                    related=related_text(m, self.record.medications, self.lang),
                )
            )
        # Overdue first, then scheduled by next time, then PRN: the order a nurse works in.
        return sorted(out, key=lambda line: (not line.due.overdue, line.prn))

    def _last_given(self, m: MedicationOrder) -> str:
        if m.last_given is None:
            return ""
        when = fmt.time_text(m.last_given, self.tz, self.lang, self.today)
        return t("med.last_given", self.lang, when=when, who=m.last_given_by or "–")

    def _not_given(self, m: MedicationOrder) -> str:
        # The same words as the printed MAR's last-given column (app.present.due).
        adm = last_not_given(m, self.record.administrations)
        return "" if adm is None else not_given_text(adm, self.lang, self.tz, self.today)

    def other_medications(self) -> list[tuple[str, list[TextItem]]]:
        """On-hold orders, orders stopped in the window and home medication, each under its
        heading (only those that have entries): never mixed with the active orders."""
        lang = self.lang
        out: list[tuple[str, list[TextItem]]] = []
        held = [
            TextItem(
                m.drug,
                " · ".join(
                    x
                    for x in (
                        on_hold_text(m, lang, self.tz),
                        m.status_reason or "",
                        _dose(m, lang, self.tz),
                        related_text(m, self.record.medications, lang),
                    )
                    if x
                ),
                date_text(m.start, lang, self.tz) if m.start else "",
                # Red when an active order of the same drug exists: the nurse sees both.
                danger=bool(related_text(m, self.record.medications, lang)),
            )
            for m in self.record.on_hold_medications
        ]
        if held:
            out.append((t("med.on_hold", lang), held))
        stopped = [
            TextItem(
                m.drug,
                " · ".join(x for x in (m.status_reason or "", _dose(m, lang, self.tz)) if x),
                t("med.stopped_at", lang, when=fmt.datetime_text(m.stopped, self.tz, lang))
                if m.stopped
                else status_word(m.status, lang),
                muted=True,
            )
            for m in self.record.stopped_medications
        ]
        if stopped:
            hours = clinical_number(self.windows.stopped_medications_hours, lang)
            out.append((t("med.stopped", lang, hours=hours), stopped))
        home = [TextItem(m.drug, _dose(m, lang, self.tz), "") for m in self.record.home_medications]
        if home:
            out.append((t("med.home", lang), home))
        return out

    def administrations_title(self) -> str:
        """ "Gegeben (letzte 72 h)": the window the sync kept administrations for."""
        hours = clinical_number(self.windows.administrations_hours, self.lang)
        return self.translate("meds.given", hours=hours)

    def administrations(self) -> list[AdminLine]:
        since = self.now - timedelta(hours=self.windows.administrations_hours)
        items = [a for a in self.record.administrations if a.when is None or a.when >= since]
        items.sort(key=lambda a: a.when.timestamp() if a.when else 0.0, reverse=True)
        return [
            AdminLine(
                when=fmt.time_text(a.when, self.tz, self.lang, self.today),
                drug=a.drug,
                dose=amount_text(a.dose_text, self.lang) or "–",
                route=a.route or "–",
                status=administration_status(a, self.lang),
                performer=a.performer or "–",
            )
            for a in items
        ]

    # -- observations ----------------------------------------------------------------------------

    def vitals(self) -> list[TestHistory]:
        return _histories(self.record.vitals, self.tz, self.lang, self.today)

    def history_note(self, kind: Literal["vitals", "labs"]) -> str | None:
        """Why older values are missing (the sync server's history window), or None."""
        since = self.record.vitals_since if kind == "vitals" else self.record.labs_since
        return history_window_text(kind, since, self.lang, self.tz)

    def lab_groups(self) -> list[LabGroup]:
        groups: dict[str, list[Observation]] = {}
        for obs in self.record.labs:
            groups.setdefault(obs.group or self.translate("labs.other_group"), []).append(obs)
        return [
            LabGroup(name=name, tests=_histories(items, self.tz, self.lang, self.today))
            for name, items in groups.items()
        ]

    def abnormal_recent_labs(self) -> list[ObsLine]:
        """Latest result per test, only when abnormal and within the last 3 days."""
        since = self.now - self.LAB_RECENT
        out = []
        for test in _histories(self.record.labs, self.tz, self.lang, self.today):
            newest = next(o for o in _newest_first(self.record.labs) if o.name == test.name)
            if test.latest.abnormal and (newest.effective is None or newest.effective >= since):
                out.append(test.latest)
        return out

    def latest_vitals(self) -> list[ObsLine]:
        return [h.latest for h in self.vitals()]

    # -- text sections -----------------------------------------------------------------------------

    def problems(self) -> list[TextItem]:
        items = []
        for p in self.record.problems:
            codes = ", ".join(c.code for c in p.coding if c.code)
            detail = " · ".join(
                x
                for x in (
                    self.translate("problems.main") if p.is_main_diagnosis else "",
                    codes,
                    _status(p.clinical_status, self.lang, "problem"),
                )
                if x
            )
            if p.text_is_code:
                detail = " · ".join(x for x in (t("problem.no_text", self.lang), detail) if x)
            onset = p.onset_date or p.onset  # a FHIR date stays that calendar date
            when = date_text(onset, self.lang, self.tz) if onset else ""
            items.append(
                TextItem(p.text, detail, when, emphasis=p.is_main_diagnosis, muted=p.text_is_code)
            )
        return items

    def alerts(self) -> list[TextItem]:
        return [
            TextItem(
                f.text,
                flag_category_word(f.category, self.lang),
                date_text(f.start, self.lang, self.tz) if f.start else "",
                emphasis=is_isolation_flag(f.text, f.category),
            )
            for f in self.record.flags
        ]

    def notes(self) -> list[TextItem]:
        # Current notes newest first, then superseded ones (marked, grey): still readable.
        # Copies and the versions a note replaced are one action away ("2 other versions").
        notes = sorted(
            self.record.notes,
            key=lambda n: (not n.superseded, n.date.timestamp() if n.date else 0.0),
            reverse=True,
        )
        lang = self.lang
        out = []
        for n in notes:
            versions = tuple(self._note_version(v, n) for v in n.versions)
            count = len(versions)
            label = ""
            if count:
                label = (
                    t("note.versions.one", lang)
                    if count == 1
                    else t("note.versions", lang, n=count)
                )
            detail = (
                t("note.superseded", lang) if n.superseded else "",
                n.kind or "",
                n.author or "",
                label,
            )
            out.append(
                TextItem(
                    n.title,
                    " · ".join(x for x in detail if x),
                    fmt.datetime_text(n.date, self.tz, lang),
                    body=n.text,
                    muted=n.superseded,
                    versions=versions,
                    versions_label=label,
                )
            )
        return out

    def _note_version(self, v: NoteVersion, shown: Note) -> TextItem:
        """One other version of `shown`: marked superseded, or as a copy of the same content
        (its text is then the shown note's: it is stored once)."""
        lang = self.lang
        mark = t("note.superseded", lang) if v.superseded else ""
        if v.text is None:
            mark = mark or t("note.same_content", lang)
        detail = (mark, v.kind or "", v.author or "")
        return TextItem(
            v.title,
            " · ".join(x for x in detail if x),
            fmt.datetime_text(v.date, self.tz, lang),
            body=v.text if v.text is not None else shown.text,
            muted=v.superseded,
        )

    def orders(self) -> list[TextItem]:
        out = []
        for o in self.record.orders:
            urgent = (o.priority or "") in ("urgent", "asap", "stat")
            detail = " · ".join(
                x
                for x in (
                    code_word(o.priority, self.lang),
                    _status(o.status, self.lang, "order"),
                    o.requester or "",
                    o.note or "",
                )
                if x
            )
            when = fmt.datetime_text(o.occurrence or o.authored, self.tz, self.lang)
            out.append(TextItem(o.text, detail, when, emphasis=urgent, danger=urgent))
        return out

    def procedures(self) -> list[TextItem]:
        return [
            TextItem(
                p.text,
                _status(p.status, self.lang),
                fmt.datetime_text(p.performed, self.tz, self.lang),
            )
            for p in sorted(
                self.record.procedures,
                key=lambda p: p.performed.timestamp() if p.performed else 0.0,
                reverse=True,
            )
        ]

    def immunizations(self) -> list[TextItem]:
        return [
            TextItem(
                i.vaccine,
                _status(i.status, self.lang),
                date_text(i.day or i.date, self.lang, self.tz),
            )
            for i in self.record.immunizations
        ]

    def contacts(self) -> list[TextItem]:
        out = [
            TextItem(
                c.name,
                " · ".join(x for x in (c.relationship, c.phone, c.email, c.address) if x),
            )
            for c in self.record.contacts
        ]
        out.extend(
            TextItem(m.name, " · ".join(x for x in (m.role, m.phone) if x), emphasis=False)
            for m in self.record.care_team
        )
        return out

    def devices(self) -> list[TextItem]:
        return [TextItem(d.text, _status(d.status, self.lang)) for d in self.record.devices]

    def section_count(self, section: Section) -> int:
        """How many entries a section has (shown beside its name; 0 means "none recorded")."""
        r = self.record
        counts = {
            Section.SUMMARY: 1,
            Section.MEDS: len([m for m in r.medications if (m.status or "active") == "active"])
            + len(r.administrations),
            Section.VITALS: len(r.vitals),
            Section.LABS: len(r.labs),
            Section.NOTES: len(r.notes),
            Section.ORDERS: len(r.orders),
            Section.PROCEDURES: len(r.procedures),
            Section.IMMUNIZATIONS: len(r.immunizations),
            Section.CONTACTS: len(r.contacts) + len(r.care_team),
        }
        return counts[section]

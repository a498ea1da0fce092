"""Pure, client-free view-models for the viewer screens.

Everything a screen shows is computed here from the record model (sync.model) and plain values
(now, time zone, language), so it is unit-tested without Flet. The Flet views (app.ui.views) only
lay these values out. No I/O here: the caller passes data in and reads display values out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum

from pydantic import ValidationError

from app import i18n
from app.freshness import FreshnessThresholds, classify, describe
from app.schedule import describe_dosage_timing, next_due
from app.settings import Settings
from app.ui import fmt
from app.ui.strings import tr
from sync.model import (
    CensusRow,
    CodeStatusKind,
    Criticality,
    Interpretation,
    MedicationOrder,
    Observation,
    PatientRecord,
)

# ---------------------------------------------------------------------------------------------
# Code status and allergies: the two facts that must never be missed


_CODE_LABEL_KEYS = {
    CodeStatusKind.FULL: "code.full",
    CodeStatusKind.DNR: "code.dnr",
    CodeStatusKind.DNI: "code.dni",
    CodeStatusKind.DNR_DNI: "code.dnr_dni",
    CodeStatusKind.COMFORT: "code.comfort",
    CodeStatusKind.OTHER: "code.other",
    CodeStatusKind.UNKNOWN: "code.unknown",
}

# Any limitation of resuscitation is shown as an alarm, never as a quiet grey word.
RESTRICTIVE_CODES = frozenset(
    {CodeStatusKind.DNR, CodeStatusKind.DNI, CodeStatusKind.DNR_DNI, CodeStatusKind.COMFORT}
)


@dataclass(frozen=True)
class CodeStatusView:
    label: str  # short: "DNR", "REA: ja" ...
    detail: str | None  # as documented ("Keine Reanimation, keine Intubation")
    restrictive: bool  # DNR/DNI/comfort: shown as a red alarm
    unknown: bool


def code_status_view(
    kind: CodeStatusKind, text: str | None, lang: str, *, short: bool = False
) -> CodeStatusView:
    """Display form of a code status; any limitation is `restrictive` (shown red, large).

    `short` gives the census form ("DNR"); the chart uses the long one ("DNR – keine Reanimation").
    """
    key = _CODE_LABEL_KEYS[kind]
    label = tr(key.replace("code.", "code.short.") if short else key, lang)
    detail = text if text and text.strip() and text.strip() != label else None
    return CodeStatusView(
        label=label,
        detail=detail,
        restrictive=kind in RESTRICTIVE_CODES,
        unknown=kind == CodeStatusKind.UNKNOWN,
    )


_ISOLATION_WORDS = ("isolation", "isolier", "mrsa", "vre", "mrgn", "esbl", "c. diff", "noro")


def is_isolation_flag(text: str, category: str | None = None) -> bool:
    """Isolation flags get their own marker (gown and gloves before entering the room)."""
    if category and category.casefold() == "isolation":
        return True
    folded = fmt.fold(text)
    return any(word in folded for word in _ISOLATION_WORDS)


# ---------------------------------------------------------------------------------------------
# Banner


@dataclass(frozen=True)
class UserView:
    user_id: str
    display_name: str
    role: str | None = None
    break_glass: bool = False
    break_glass_reason: str | None = None


@dataclass(frozen=True)
class BannerView:
    ward: str
    as_of_text: str  # "Datenstand 29.11.2026 14:05 (vor 12 min)", with the warning when old
    as_of_short: str  # "Datenstand 14:05 (vor 12 min)": fits the banner beside everything else
    level: str  # app.freshness level: fresh | aging | stale | expired | future | unknown
    colour: str  # "green" | "amber" | "red"
    warning: bool  # stale or worse: the banner turns into a warning bar
    read_only: str  # always visible
    user_text: str | None  # "Pflege Anna Berg" / "NOTFALLZUGRIFF: Anna Berg"
    break_glass: bool


def _as_of_short(data_as_of: datetime | None, now: datetime, tz: tzinfo | None, lang: str) -> str:
    if data_as_of is None:
        return tr("banner.as_of_unknown", lang)
    today = now.astimezone(tz).date()
    when = fmt.time_text(data_as_of, tz, lang, today)
    age = i18n.fmt_duration(max(now - data_as_of, timedelta(0)), lang)
    return tr("banner.as_of", lang, when=when, age=age)


def banner_view(
    *,
    ward: str,
    data_as_of: datetime | None,
    now: datetime,
    user: UserView | None,
    tz: tzinfo | None,
    lang: str,
    thresholds: FreshnessThresholds | None = None,
) -> BannerView:
    """The banner shown on every screen: ward, age of the data, read-only notice, who is in.

    The wording and colour of the data age come from app.freshness, so every screen (and the
    printouts) agree on what "stale" means.
    """
    fresh = classify(data_as_of, now, thresholds)
    user_text = None
    if user is not None:
        name = user.display_name or user.user_id
        user_text = tr("banner.break_glass_user", lang, name=name) if user.break_glass else name
    return BannerView(
        ward=ward,
        as_of_text=describe(fresh, data_as_of, lang, tz),
        as_of_short=_as_of_short(data_as_of, now, tz, lang),
        level=fresh.level.value,
        colour=fresh.colour,
        warning=fresh.is_warning,
        read_only=tr("banner.read_only", lang),
        user_text=user_text,
        break_glass=bool(user and user.break_glass),
    )


# ---------------------------------------------------------------------------------------------
# Census and search


class SortKey(StrEnum):
    BED = "bed"
    NAME = "name"
    AGE = "age"
    ADMITTED = "admitted"
    ATTENDING = "attending"
    DIAGNOSIS = "diagnosis"
    CODE = "code"


@dataclass(frozen=True)
class CensusLine:
    """One census row as displayed."""

    patient_id: str
    ward: str
    room_bed: str
    name: str
    birth: str
    age_sex: str
    admitted: str  # "27.11.2026"
    admitted_day: str  # "Tag 3" (admission day = day 0)
    attending: str
    diagnosis: str
    allergy: str  # "Penicillin, Latex" / "" when none recorded
    allergy_severe: bool
    code: CodeStatusView
    flags: list[tuple[str, bool]]  # (text, is isolation)
    isolation: bool
    mrn: str
    deceased: bool
    other_ward: bool  # a hospital-wide hit outside the current ward


def _code_rank(kind: CodeStatusKind) -> int:
    # Sorting by code status puts the limitations first: they are what one looks for.
    order = [
        CodeStatusKind.DNR_DNI,
        CodeStatusKind.DNR,
        CodeStatusKind.DNI,
        CodeStatusKind.COMFORT,
        CodeStatusKind.OTHER,
        CodeStatusKind.FULL,
        CodeStatusKind.UNKNOWN,
    ]
    return order.index(kind)


def _bed_key(row: CensusRow) -> tuple[object, ...]:
    return (fmt.natural_key(row.room), fmt.natural_key(row.bed), fmt.fold(row.name))


def _sort_key(key: SortKey) -> Callable[[CensusRow], tuple[object, ...]]:
    far_past = date.min
    if key is SortKey.NAME:
        return lambda r: (fmt.fold(r.name), *_bed_key(r))
    if key is SortKey.AGE:
        # Oldest first when ascending by age means newest birth date last: sort by birth date
        # descending is "age ascending".
        return lambda r: (-(r.birth_date or far_past).toordinal(), *_bed_key(r))
    if key is SortKey.ADMITTED:
        return lambda r: (r.admitted.timestamp() if r.admitted else float("inf"), *_bed_key(r))
    if key is SortKey.ATTENDING:
        return lambda r: (fmt.fold(r.attending or "\uffff"), *_bed_key(r))
    if key is SortKey.DIAGNOSIS:
        return lambda r: (fmt.fold(r.main_diagnosis or "\uffff"), *_bed_key(r))
    if key is SortKey.CODE:
        return lambda r: (_code_rank(r.code_status), *_bed_key(r))
    return _bed_key


class CensusModel:
    """The census list: rows, the search/filter box, sorting and the keyboard highlight.

    The box does two things at once: a local, diacritics-folding filter over the census columns
    (instant, so "12" finds room 12 and "Muller" finds Müller), and the snapshot's own search
    (`reader.search`, run in the background) whose hits are merged in via `apply_search`. In the
    hospital-wide scope only the search hits are listed.

    Built for a hospital-wide census (thousands of rows, a keystroke each): each row's searchable
    text is folded once when the rows are set, each sort order is computed once per column, and
    `visible()` is memoised on (rows, query, search hits, sort, scope), so arrow keys, Enter and
    repeated redraws do not walk every row again. Replace the rows with `set_rows` (or by
    assigning `rows`); mutating the list in place is not seen by those caches.
    """

    def __init__(self, rows: Sequence[CensusRow] = (), *, ward_id: str | None = None) -> None:
        self.ward_id = ward_id
        self.query = ""
        self.sort = SortKey.BED
        self.descending = False
        self.hospital_scope = False
        self._hits_query: str | None = None
        self._hits: list[CensusRow] = []
        self._version = 0  # bumped whenever rows or search hits change (memo key)
        self._memo_key: tuple[object, ...] | None = None
        self._memo: list[CensusRow] = []
        self._lines: dict[str, tuple[CensusRow, tuple[object, ...], CensusLine]] = {}
        self.rows = list(rows)
        self.selected = 0

    # -- rows and their caches -------------------------------------------------------------------

    @property
    def rows(self) -> list[CensusRow]:
        return self._rows

    @rows.setter
    def rows(self, rows: Sequence[CensusRow]) -> None:
        """Replace the rows and (re)build the per-row caches: folded search text, sort orders."""
        self._rows = list(rows)
        self._search_texts: list[str] | None = None  # folded on the first search
        self._ids = {r.patient_id for r in self._rows}
        self._orders: dict[tuple[SortKey, bool], list[int]] = {}
        self._version += 1

    def set_rows(self, rows: Sequence[CensusRow]) -> None:
        self.rows = list(rows)
        self.selected = 0

    def has_patient(self, patient_id: str) -> bool:
        """True when the census rows (not the search hits) hold this patient."""
        return patient_id in self._ids

    def prepare(self) -> None:
        """Fold every row's searchable text now (else on the first search); idempotent.

        Side effect: fills a cache only. Safe to call from a worker thread while the screen
        uses the model: the list is built aside and assigned at once.
        """
        self._texts()

    def _texts(self) -> list[str]:
        texts = self._search_texts
        if texts is None or len(texts) != len(self._rows):
            # Wards share attendings, diagnoses, rooms: fold each distinct value once.
            folded: dict[str, str] = {}
            texts = [_search_text(r, folded) for r in self._rows]
            self._search_texts = texts
        return texts

    def _order(self) -> list[int]:
        """Row indices in the current sort order (computed once per column and direction)."""
        key = (self.sort, self.descending)
        order = self._orders.get(key)
        if order is None:
            sort_key = _sort_key(self.sort)
            keys = [sort_key(r) for r in self._rows]
            # Stable like list.sort on the rows: ties keep the census order, also reversed.
            order = sorted(range(len(keys)), key=keys.__getitem__, reverse=self.descending)
            self._orders[key] = order
        return order

    # -- input ---------------------------------------------------------------------------------

    def set_query(self, query: str) -> None:
        """The user typed; the local filter applies at once, search hits when they arrive."""
        if query != self.query:
            self.query = query
            self.selected = 0

    def set_hospital_scope(self, on: bool) -> None:
        self.hospital_scope = on
        self._hits_query = None
        self._hits = []
        self._version += 1
        self.selected = 0

    def apply_search(self, query: str, hits: Iterable[CensusRow]) -> bool:
        """Merge `reader.search(query)` results; ignored (False) when the box changed meanwhile."""
        if query != self.query:
            return False
        self._hits_query = query
        self._hits = list(hits)
        self._version += 1
        return True

    @property
    def search_pending(self) -> bool:
        return bool(self.query.strip()) and self._hits_query != self.query

    def toggle_sort(self, key: SortKey) -> None:
        """Click on a column header: sort by it; a second click reverses the order."""
        if self.sort is key:
            self.descending = not self.descending
        else:
            self.sort = key
            self.descending = False

    def move(self, delta: int) -> None:
        """Arrow keys: move the highlight, staying inside the list."""
        count = len(self._visible())
        self.selected = min(max(self.selected + delta, 0), max(count - 1, 0))

    # -- output --------------------------------------------------------------------------------

    def visible(self) -> list[CensusRow]:
        """The rows listed now, in display order (a new list: the caller may change it)."""
        return list(self._visible())

    def visible_count(self) -> int:
        return len(self._visible())

    def _visible(self) -> list[CensusRow]:
        """The memoised list behind `visible()`; never handed out to be changed."""
        key = (
            self._version,
            self.query,
            self._hits_query == self.query,
            self.sort,
            self.descending,
            self.hospital_scope,
        )
        if key != self._memo_key:
            self._memo = self._compute_visible()
            self._memo_key = key
        return self._memo

    def _compute_visible(self) -> list[CensusRow]:
        query = self.query.strip()
        hits = self._hits if self._hits_query == self.query else []
        sort_key = _sort_key(self.sort)
        if self.hospital_scope:
            chosen = list(hits) if query else []
            chosen.sort(key=sort_key, reverse=self.descending)
            return chosen
        rows = self._rows
        order = self._order()
        if not query:
            return [rows[i] for i in order]
        words = _query_words(query)
        hit_ids = {h.patient_id for h in hits}
        texts = self._texts()
        matched = [
            i for i in order if rows[i].patient_id in hit_ids or _text_matches(words, texts[i])
        ]
        seen = {rows[i].patient_id for i in matched}
        # Search hits the local filter does not know (e.g. other names, identifiers).
        extra = [h for h in hits if h.patient_id not in seen]
        if not extra:
            # A subsequence of the stable full order is the stable order of the subsequence.
            return [rows[i] for i in matched]
        chosen = [rows[i] for i in sorted(matched)]
        chosen.extend(extra)
        chosen.sort(key=sort_key, reverse=self.descending)
        return chosen

    def selected_id(self) -> str | None:
        rows = self._visible()
        if not rows:
            return None
        return rows[min(self.selected, len(rows) - 1)].patient_id

    def lines(
        self, now: datetime, tz: tzinfo | None, lang: str, limit: int | None = None
    ) -> list[CensusLine]:
        """Display lines of the visible rows (the first `limit` of them when given).

        A row's line is reused while the row, the local date, the zone, the language and the
        ward are unchanged (it depends on "now" only through the date: age, hospital day).
        """
        rows = self._visible()
        if limit is not None:
            rows = rows[:limit]
        context = (now.astimezone(tz).date(), tz, lang, self.ward_id)
        cache = self._lines
        out = []
        for r in rows:
            cached = cache.get(r.patient_id)
            if cached is not None and cached[0] is r and cached[1] == context:
                out.append(cached[2])
                continue
            line = census_line(r, now, tz, lang, self.ward_id)
            cache[r.patient_id] = (r, context, line)
            out.append(line)
        return out


def _search_fields(row: CensusRow) -> tuple[str | None, ...]:
    """The census columns the local filter searches (the documented list: keep in step)."""
    return (
        row.name,
        row.mrn,
        row.room,
        row.bed,
        f"{row.room or ''}/{row.bed or ''}",
        row.attending,
        row.main_diagnosis,
        fmt.date_text(row.birth_date, "de") if row.birth_date else None,
    )


def _search_text(row: CensusRow, folded: dict[str, str] | None = None) -> str:
    """The row's folded search tokens, each preceded by a NUL character, folded once per row.

    NUL + word occurs in it exactly when a token starts with that word (fmt.matches' rule),
    since NUL appears only as the separator (query words never contain it).
    """
    parts = []
    for value in _search_fields(row):
        if not value:
            continue
        part = folded.get(value) if folded is not None else None
        if part is None:
            part = "".join("\0" + t.replace("\0", " ") for t in fmt.match_tokens(value))
            if folded is not None:
                folded[value] = part
        parts.append(part)
    return "".join(parts)


def _query_words(query: str) -> list[str]:
    return ["\0" + w for w in fmt.query_words(query)]


def _text_matches(words: list[str], text: str) -> bool:
    return all(w in text for w in words)


def _row_matches(query: str, row: CensusRow) -> bool:
    return fmt.matches(query, *_search_fields(row))


def census_line(
    row: CensusRow, now: datetime, tz: tzinfo | None, lang: str, ward_id: str | None = None
) -> CensusLine:
    local_today = now.astimezone(tz).date()
    days = fmt.days_since(row.admitted, now.astimezone(tz))
    admitted = fmt.date_text(row.admitted.astimezone(tz).date(), lang) if row.admitted else "–"
    admitted_day = tr("census.day", lang, days=days) if days is not None else ""
    room_bed = fmt.room_bed(row.room, row.bed)
    age = fmt.age_text(row.birth_date, local_today, lang)
    if row.allergy_count:
        allergy = row.allergies_short or tr("census.allergies_n", lang, n=row.allergy_count)
    else:
        allergy = ""
    return CensusLine(
        patient_id=row.patient_id,
        ward=row.ward or row.ward_id or "",
        room_bed=room_bed,
        name=row.name,
        birth=fmt.date_text(row.birth_date, lang),
        age_sex=f"{age}, {fmt.sex_short(row.sex, lang)}",
        admitted=admitted,
        admitted_day=admitted_day,
        attending=row.attending or "–",
        diagnosis=row.main_diagnosis or "–",
        allergy=allergy,
        allergy_severe=row.severe_allergy,
        code=code_status_view(row.code_status, row.code_status_text, lang, short=True),
        flags=[(f, is_isolation_flag(f)) for f in row.flags],
        isolation=any(is_isolation_flag(f) for f in row.flags),
        mrn=row.mrn or "–",
        deceased=row.deceased,
        other_ward=bool(ward_id and row.ward_id and row.ward_id != ward_id),
    )


# ---------------------------------------------------------------------------------------------
# Patient chart


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
    location: str  # "Station 3A · Zi. 12 / Bett 1"
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
    text: str  # "14:00" / "ÜBERFÄLLIG seit 13:00 · dann 21:00" / "bei Bedarf"
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


_CRITICAL_FLAGS = {"HH", "LL", "AA"}


def _obs_line(obs: Observation, tz: tzinfo | None, lang: str, today: date) -> ObsLine:
    value = obs.value_text or (i18n.fmt_number(obs.value, lang) if obs.value is not None else "–")
    if obs.unit and obs.value is not None and not obs.value_text:
        value = f"{value} {obs.unit}"
    if obs.ref_text:
        ref = obs.ref_text
    elif obs.ref_low is not None or obs.ref_high is not None:
        low = i18n.fmt_number(obs.ref_low, lang) if obs.ref_low is not None else ""
        high = i18n.fmt_number(obs.ref_high, lang) if obs.ref_high is not None else ""
        ref = f"{low}–{high}" if low and high else (f"> {low}" if low else f"< {high}")
    else:
        ref = ""
    # "N" (normal) is noise in a column that should draw the eye only to abnormal values.
    flag = "" if obs.interpretation is Interpretation.NORMAL else obs.interpretation.value
    return ObsLine(
        name=obs.name,
        value=value,
        flag=flag,
        abnormal=obs.is_abnormal,
        critical=flag in _CRITICAL_FLAGS,
        ref=ref,
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


def _dosage_texts(order: MedicationOrder, lang: str) -> tuple[str, str, str]:
    """Dose, route and schedule text of an order (several dosages joined with ";")."""
    dose: list[str] = []
    route: list[str] = []
    schedule: list[str] = []
    for d in order.dosages:
        if d.dose_text:
            dose.append(d.dose_text)
        elif d.dose_value is not None:
            dose.append(f"{i18n.fmt_number(d.dose_value, lang)} {d.dose_unit or ''}".strip())
        if d.route:
            route.append(d.route)
        schedule.append(describe_dosage_timing(d, lang))
    return (
        "; ".join(dose) or "–",
        ", ".join(dict.fromkeys(route)) or "–",
        "; ".join(s for s in schedule if s) or "–",
    )


class ChartModel:
    """Everything the patient chart shows, computed from one record at one moment.

    Due times come from app.schedule.next_due, the same rules as the printed MAR.
    """

    ADMIN_WINDOW = timedelta(hours=72)
    LAB_RECENT = timedelta(days=3)

    def __init__(
        self,
        record: PatientRecord,
        *,
        now: datetime,
        tz: tzinfo,
        lang: str,
    ) -> None:
        self.record = record
        self.now = now
        self.tz = tz
        self.lang = lang
        self.today = now.astimezone(tz).date()
        self.section = Section.SUMMARY

    def t(self, key: str, **kwargs: object) -> str:
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
                loc_parts.append(
                    self.t(
                        "chart.room_bed",
                        room=fmt.short_place(stay.room) or "–",
                        bed=fmt.short_place(stay.bed) or "–",
                    )
                )
        admitted = "–"
        if stay is not None and stay.admitted is not None:
            days = fmt.days_since(stay.admitted, self.now.astimezone(self.tz))
            admitted = fmt.datetime_text(stay.admitted, self.tz, self.lang)
            admitted += " " + self.t("census.days", days=days)
        allergies = [self._allergy_line(a) for a in r.allergies]
        if allergies:
            summary = ", ".join(
                a.substance + (f" ({self.t('allergy.severe')})" if a.severe else "")
                for a in allergies
            )
        elif r.no_known_allergies:
            summary = self.t("allergy.nka")
        else:
            summary = self.t("allergy.not_documented")
        code = (
            code_status_view(r.code_status.kind, r.code_status.text, self.lang)
            if r.code_status
            else code_status_view(CodeStatusKind.UNKNOWN, None, self.lang)
        )
        return ChartHeader(
            name=r.name,
            birth=fmt.date_text(r.birth_date, self.lang),
            age=fmt.age_text(r.birth_date, self.today, self.lang),
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

    def _allergy_line(self, a: object) -> AllergyLine:
        from sync.model import Allergy

        assert isinstance(a, Allergy)
        severe = a.criticality == Criticality.HIGH or (a.severity or "").lower() == "severe"
        bits = []
        if a.reactions:
            bits.append(", ".join(a.reactions))
        if a.criticality == Criticality.HIGH:
            bits.append(self.t("allergy.high_risk"))
        if a.kind == "intolerance":
            bits.append(self.t("allergy.intolerance"))
        if a.verification_status and a.verification_status not in ("confirmed",):
            bits.append(a.verification_status)
        return AllergyLine(substance=a.substance, detail=" · ".join(bits), severe=severe)

    # -- medications -----------------------------------------------------------------------------

    def _due(self, order: MedicationOrder) -> DueView:
        if order.as_needed:
            return DueView(self.t("meds.prn"), overdue=False)
        info = next_due(order, self.now, self.record.administrations, self.tz)
        if info is None:
            return DueView("–", overdue=False)
        nxt = fmt.time_text(info.next_time, self.tz, self.lang, self.today)
        if info.overdue:
            first = fmt.time_text(info.overdue_times[0], self.tz, self.lang, self.today)
            text = self.t("meds.overdue_since", when=first)
            if info.next_time is not None:
                text += " · " + self.t("meds.then", when=nxt)
            return DueView(text, overdue=True)
        if info.due_now:
            when = fmt.time_text(info.due_now[0], self.tz, self.lang, self.today)
            return DueView(self.t("meds.due_now", when=when), overdue=False, due_now=True)
        return DueView(nxt, overdue=False)

    def medications(self) -> list[MedLine]:
        active = [m for m in self.record.medications if (m.status or "active") == "active"]
        out = []
        for m in active:
            dose, route, schedule = _dosage_texts(m, self.lang)
            out.append(
                MedLine(
                    drug=m.drug,
                    dose=dose,
                    route=route,
                    schedule=schedule,
                    prn=m.as_needed,
                    due=self._due(m),
                    start=fmt.date_text(m.start.astimezone(self.tz).date(), self.lang)
                    if m.start
                    else "–",
                    prescriber=m.prescriber or "–",
                    note=m.note or "",
                )
            )
        # Overdue first, then scheduled by next time, then PRN: the order a nurse works in.
        return sorted(out, key=lambda line: (not line.due.overdue, line.prn))

    def administrations(self) -> list[AdminLine]:
        since = self.now - self.ADMIN_WINDOW
        items = [a for a in self.record.administrations if a.when is None or a.when >= since]
        items.sort(key=lambda a: a.when.timestamp() if a.when else 0.0, reverse=True)
        return [
            AdminLine(
                when=fmt.time_text(a.when, self.tz, self.lang, self.today),
                drug=a.drug,
                dose=a.dose_text or "–",
                route=a.route or "–",
                status=a.status or "–",
                performer=a.performer or "–",
            )
            for a in items
        ]

    # -- observations ----------------------------------------------------------------------------

    def vitals(self) -> list[TestHistory]:
        return _histories(self.record.vitals, self.tz, self.lang, self.today)

    def lab_groups(self) -> list[LabGroup]:
        groups: dict[str, list[Observation]] = {}
        for obs in self.record.labs:
            groups.setdefault(obs.group or self.t("labs.other_group"), []).append(obs)
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
                    self.t("problems.main") if p.is_main_diagnosis else "",
                    codes,
                    p.clinical_status or "",
                )
                if x
            )
            when = fmt.date_text(p.onset.date(), self.lang) if p.onset else ""
            items.append(TextItem(p.text, detail, when, emphasis=p.is_main_diagnosis))
        return items

    def alerts(self) -> list[TextItem]:
        return [
            TextItem(
                f.text,
                f.category or "",
                fmt.date_text(f.start.date(), self.lang) if f.start else "",
                emphasis=is_isolation_flag(f.text, f.category),
            )
            for f in self.record.flags
        ]

    def notes(self) -> list[TextItem]:
        notes = sorted(
            self.record.notes, key=lambda n: n.date.timestamp() if n.date else 0.0, reverse=True
        )
        return [
            TextItem(
                n.title,
                " · ".join(x for x in (n.kind or "", n.author or "") if x),
                fmt.datetime_text(n.date, self.tz, self.lang),
                body=n.text,
            )
            for n in notes
        ]

    def orders(self) -> list[TextItem]:
        out = []
        for o in self.record.orders:
            urgent = (o.priority or "") in ("urgent", "asap", "stat")
            detail = " · ".join(
                x
                for x in (
                    o.priority or "",
                    o.status or "",
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
            TextItem(p.text, p.status or "", fmt.datetime_text(p.performed, self.tz, self.lang))
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
                i.status or "",
                fmt.date_text(i.date.date() if i.date else None, self.lang),
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
        return [TextItem(d.text, d.status or "") for d in self.record.devices]

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


# ---------------------------------------------------------------------------------------------
# Idle lock


@dataclass
class IdleLock:
    """Locks the screen after `timeout` without input.

    `touch` on every key, click and text change; `should_lock` is polled by a timer. Once locked,
    only a new login (`unlock`) clears it.
    """

    timeout: timedelta
    last_input: datetime
    locked: bool = False
    _paused: bool = field(default=False, repr=False)

    def touch(self, now: datetime) -> None:
        if not self.locked:
            self.last_input = now

    def should_lock(self, now: datetime) -> bool:
        """True exactly once when the idle time is reached; sets `locked`."""
        if self.locked or self._paused or self.timeout <= timedelta(0):
            return False
        if now - self.last_input >= self.timeout:
            self.locked = True
            return True
        return False

    def pause(self, paused: bool) -> None:
        """No lock while nobody is logged in (the login screen shows no patient data)."""
        self._paused = paused

    def unlock(self, now: datetime) -> None:
        self.locked = False
        self.last_input = now


# ---------------------------------------------------------------------------------------------
# Login form


@dataclass
class LoginForm:
    """The login form's state: which mode, what to say. The auth decision is app.auth's."""

    break_glass: bool = False
    message: str | None = None
    message_is_error: bool = False

    def validate(
        self, user_id: str, password: str, name: str, reason: str, lang: str
    ) -> str | None:
        """A message naming what is missing, or None when the form can be submitted.

        Break-glass needs a name and a reason (no account); a normal login id and password.
        """
        if self.break_glass:
            if len(name.strip()) < 3:
                return tr("login.need_name", lang)
            if len(reason.strip()) < 5:
                return tr("login.need_reason", lang)
            return None
        if not user_id.strip():
            return tr("login.need_user", lang)
        if not password:
            return tr("login.need_password", lang)
        return None


# ---------------------------------------------------------------------------------------------
# Settings form (admin only)


def settings_changes(current: Settings, form: dict[str, str]) -> tuple[Settings | None, str]:
    """Apply the settings form's text values to `current`.

    Returns (new settings, "") or (None, a message naming the field that is wrong). Pure: the
    caller saves the result. Keys: language, time_zone, idle_lock_minutes, default_printer,
    break_glass ("roster" | "off" | "on").
    """
    data = current.model_dump()
    data["language"] = form.get("language") or current.language
    data["time_zone"] = (form.get("time_zone") or "").strip() or None
    data["default_printer"] = (form.get("default_printer") or "").strip() or None
    choices: dict[str, bool | None] = {"roster": None, "off": False, "on": True}
    data["break_glass_allowed"] = choices.get(form.get("break_glass", "roster"))
    minutes = (form.get("idle_lock_minutes") or "").strip()
    try:
        data["idle_lock_minutes"] = int(minutes)
    except ValueError:
        return None, f"idle_lock_minutes: {minutes!r} is not a whole number"
    try:
        return Settings.model_validate(data), ""
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        return None, f"{where}: {first['msg']}"


def changed_keys(old: Settings, new: Settings) -> list[str]:
    """The settings that differ (for the audit entry; values are not secret but kept short)."""
    a, b = old.model_dump(), new.model_dump()
    return sorted(k for k in b if a.get(k) != b[k])

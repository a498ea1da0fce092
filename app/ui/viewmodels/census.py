"""The census list view-model: rows, search/filter, sorting, keyboard highlight (pure)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from enum import StrEnum

from app.duelist import PatientDue
from app.present.catalog import t
from app.present.clinical import case_text
from app.present.due import due_cell
from app.present.formats import clinical_number
from app.ui import fmt
from app.ui.strings import tr
from app.ui.viewmodels.common import CodeStatusView, code_status_view, is_isolation_flag
from sync import searchtext
from sync.model import (
    CensusRow,
    CodeStatusKind,
)


class SortKey(StrEnum):
    BED = "bed"
    NAME = "name"
    AGE = "age"
    ADMITTED = "admitted"
    ATTENDING = "attending"
    DIAGNOSIS = "diagnosis"
    CODE = "code"
    DUE = "due"


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
    discharged: str = ""  # "entlassen 10.03. 07:45" for a finished stay; "" while on the ward
    allergy_state: str = "allergies"  # allergies | no-known | not-documented (AllergyStatus)
    allergy_none: str = ""  # "keine bekannt" / "nicht dokumentiert" when no allergy is listed
    allergy_items: tuple[str, ...] = ()  # the listed substances (up to 4), in order
    allergy_count: int = 0  # all recorded allergies (more than allergy_items when over 4)
    due: str = ""  # "überfällig 08:00" / "fällig 10:45" / "–" (app.present.due)
    due_state: str = "none"  # overdue | soon | none (app.duelist.DueState)
    case: str = ""  # "Fall 26000123" / "Case 26000123"; "" when the stay has no case number


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


_NO_DUE = PatientDue()


def _sort_key(
    key: SortKey, dues: dict[str, PatientDue] | None = None
) -> Callable[[CensusRow], tuple[object, ...]]:
    far_past = date.min
    if key is SortKey.DUE:
        # Overdue first (oldest missed dose first), then due within the hour, then the rest.
        table = dues or {}

        def due_key(r: CensusRow) -> tuple[object, ...]:
            due = table.get(r.patient_id, _NO_DUE)
            first = (due.overdue or due.soon or (None,))[0]
            return (due.rank, first.timestamp() if first else 0.0, *_bed_key(r))

        return due_key
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
        self._hits_total = 0  # patients the last search matched in all (>= len(_hits))
        self._version = 0  # bumped whenever rows or search hits change (memo key)
        self._memo_key: tuple[object, ...] | None = None
        self._memo: list[CensusRow] = []
        self._lines: dict[str, tuple[CensusRow, tuple[object, ...], CensusLine]] = {}
        self._dues: dict[str, PatientDue] = {}
        self._counts: tuple[list[CensusRow], tuple[datetime, float], tuple[int, int]] | None = None
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
        self._indices: dict[str, list[int]] = {}
        for i, r in enumerate(self._rows):
            self._indices.setdefault(r.patient_id, []).append(i)
        self._orders: dict[tuple[SortKey, bool], list[int]] = {}
        self._ranks: dict[tuple[SortKey, bool], list[int]] = {}
        # The last local filter: (its order, query words, matching row indices in that order).
        self._local: tuple[list[int], list[tuple[str, ...]], list[int]] | None = None
        self._version += 1

    def set_rows(self, rows: Sequence[CensusRow]) -> None:
        self.rows = list(rows)
        self.selected = 0

    def set_dues(self, dues: dict[str, PatientDue]) -> None:
        """The due/overdue state per patient id (app.duelist.patient_due, computed from the
        records off the UI thread); patients not in it show "–". Re-sorts when sorted by due."""
        self._dues = dict(dues)
        self._orders = {k: v for k, v in self._orders.items() if k[0] is not SortKey.DUE}
        self._ranks = {k: v for k, v in self._ranks.items() if k[0] is not SortKey.DUE}
        self._version += 1

    @property
    def dues(self) -> dict[str, PatientDue]:
        """The due states known so far (a copy), by patient id."""
        return dict(self._dues)

    def ward_counts_at(self, now: datetime, hours: float = 24) -> tuple[int, int]:
        """`ward_counts` of the rows at `now` (discharged within `hours`: the snapshot's
        window), computed once per minute and rows (not per key: a hospital-wide census has
        thousands of rows)."""
        minute = now.replace(second=0, microsecond=0)
        cached = self._counts
        if cached is None or cached[0] is not self._rows or cached[1] != (minute, hours):
            cached = (self._rows, (minute, hours), ward_counts(self._rows, now, hours))
            self._counts = cached
        return cached[2]

    def due_of(self, patient_id: str) -> PatientDue:
        return self._dues.get(patient_id, _NO_DUE)

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
            sort_key = _sort_key(self.sort, self._dues)
            keys = [sort_key(r) for r in self._rows]
            # Stable like list.sort on the rows: ties keep the census order, also reversed.
            order = sorted(range(len(keys)), key=keys.__getitem__, reverse=self.descending)
            self._orders[key] = order
        return order

    def _rank(self) -> list[int]:
        """Each row index's position in the current sort order (the inverse of `_order`)."""
        key = (self.sort, self.descending)
        rank = self._ranks.get(key)
        if rank is None:
            order = self._order()
            rank = [0] * len(order)
            for position, i in enumerate(order):
                rank[i] = position
            self._ranks[key] = rank
        return rank

    def _local_matches(self, words: list[tuple[str, ...]]) -> list[int]:
        """Row indices, in sort order, whose search text holds every query word.

        A narrowing keystroke (each word of the last query extended or kept, words added)
        filters the last result instead of every row: on a hospital-wide census of 8,800
        rows each key then checks a few hundred rows, not all. Not for words with a partial
        number alternative ("1010" matches a number's end: "10101" does not narrow it)."""
        order = self._order()
        texts = self._texts()
        candidates = order
        last = self._local
        if (
            last is not None
            and last[0] is order
            and len(words) >= len(last[1])
            and all(len(w) == 1 for w in words)
            and all(len(o) == 1 for o in last[1])
            and all(w[0].startswith(o[0]) for w, o in zip(words, last[1], strict=False))
        ):
            candidates = last[2]
        matched = [i for i in candidates if _text_matches(words, texts[i])]
        self._local = (order, words, matched)
        return matched

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
        self._hits_total = 0
        self._version += 1
        self.selected = 0

    def apply_search(self, query: str, hits: Iterable[CensusRow], total: int | None = None) -> bool:
        """Merge `reader.search(query)` results; ignored (False) when the box changed meanwhile.
        `total`: how many patients match in all when `hits` are only the first of them."""
        if query != self.query:
            return False
        self._hits_query = query
        self._hits = list(hits)
        self._hits_total = max(total or 0, len(self._hits))
        self._version += 1
        return True

    def matched_count(self) -> int:
        """Every match, listed or not: hospital-wide, the search's total (only the first hits
        are loaded; the screen offers more); on a ward, the listed rows."""
        if self.hospital_scope and self.query.strip() and self._hits_query == self.query:
            return max(self._hits_total, self.visible_count())
        return self.visible_count()

    def hits_missing(self, listed: int) -> bool:
        """Hospital-wide: whether listing `listed` matches needs more hits than are loaded."""
        loaded = len(self._hits) if self._hits_query == self.query else 0
        return self.hospital_scope and loaded < min(listed, self.matched_count())

    def found_none_on_ward(self) -> bool:
        """The ward list is empty for a query whose search has answered ("no patients found":
        the screen then offers the whole hospital when it can)."""
        return (
            not self.hospital_scope
            and bool(self.query.strip())
            and not self.search_pending
            and not self.visible_count()
        )

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
        sort_key = _sort_key(self.sort, self._dues)
        if self.hospital_scope:
            chosen = list(hits) if query else []
            chosen.sort(key=sort_key, reverse=self.descending)
            return chosen
        rows = self._rows
        order = self._order()
        if not query:
            return [rows[i] for i in order]
        matched = self._local_matches(_query_words(query))
        if hits:
            # Rows the snapshot search found and the local filter did not, in sort order.
            local = set(matched)
            found = [
                i
                for h in {h.patient_id for h in hits}
                for i in self._indices.get(h, ())
                if i not in local
            ]
            if found:
                rank = self._rank()
                matched = sorted(matched + found, key=rank.__getitem__)
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
            due = self._dues.get(r.patient_id)
            row_context = (*context, due)
            cached = cache.get(r.patient_id)
            if cached is not None and cached[0] is r and cached[1] == row_context:
                out.append(cached[2])
                continue
            line = census_line(r, now, tz, lang, self.ward_id, due)
            cache[r.patient_id] = (r, row_context, line)
            out.append(line)
        return out


def _search_fields(row: CensusRow) -> tuple[str | None, ...]:
    """The census columns the local filter searches (the documented list: keep in step)."""
    return (
        row.name,
        row.mrn,
        row.case_number,
        row.room,
        row.bed,
        f"{row.room or ''}/{row.bed or ''}",
        row.attending,
        row.main_diagnosis,
        fmt.birth_text(row.birth_date, "de", row.birth_precision) if row.birth_date else None,
        # The snapshot search's birth-date tokens (sync.searchtext): the local filter finds
        # "9 Nov 1955", "09.11.1955" and "1955-11-09" as the snapshot search does (a birth
        # year or month only by what is known: "1996", "07.1996").
        " ".join(searchtext.date_tokens(row.birth_date, row.birth_precision.value)) or None,
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
    # The MRN or case number typed without its spaces, or part of it (sync.searchtext's rule,
    # as in the snapshot's index): its joined form and the marked tokens for its ending and
    # digit groups of 4 digits or more.
    for value in (row.mrn, row.case_number):
        parts.extend("\0" + t for t in searchtext.identifier_tokens(value))
    return "".join(parts)


def _query_words(query: str) -> list[tuple[str, ...]]:
    """Per query word, the search-text pieces of which one must occur: the word as a token
    start, and for a number of 4 digits or more its marked partial-number token."""
    words: list[tuple[str, ...]] = []
    for word in fmt.query_words(query):
        partial = searchtext.partial_number_term(word)
        words.append(("\0" + word,) if partial is None else ("\0" + word, "\0" + partial))
    return words


def _text_matches(words: list[tuple[str, ...]], text: str) -> bool:
    for alternatives in words:
        if alternatives[0] not in text and not any(a in text for a in alternatives[1:]):
            return False
    return True


def census_line(
    row: CensusRow,
    now: datetime,
    tz: tzinfo | None,
    lang: str,
    ward_id: str | None = None,
    due: PatientDue | None = None,
) -> CensusLine:
    """One census row in words. `due`: the patient's due state (None: not computed, "")."""
    local_today = now.astimezone(tz).date()
    days = fmt.days_since(row.admitted, now.astimezone(tz))
    admitted = fmt.date_text(row.admitted.astimezone(tz).date(), lang) if row.admitted else "–"
    admitted_day = tr("census.day", lang, days=days) if days is not None else ""
    room_bed = fmt.room_bed(row.room, row.bed)
    age = fmt.age_text(row.birth_date, local_today, lang, row.birth_precision)
    if row.allergy_count:
        allergy = row.allergies_short or tr("census.allergies_n", lang, n=row.allergy_count)
    else:
        allergy = ""
    # No allergy listed: "none known" (documented) and "not documented" (unknown, NOT none)
    # are different facts and look different.
    allergy_none = (
        ""
        if row.allergy_count
        else t("allergy.nka_short", lang)
        if row.no_known_allergies
        else t("allergy.not_documented_short", lang)
    )
    cell = due_cell(due, lang, tz or UTC, local_today) if due is not None else None
    discharged = ""
    if not row.is_current:
        when = fmt.datetime_text(row.discharged, tz, lang) if row.discharged else ""
        discharged = t("stay.discharged", lang, when=when).strip()
        admitted_day = ""  # no "day N" for a stay that is over
    return CensusLine(
        patient_id=row.patient_id,
        ward=row.ward or row.ward_id or "",
        room_bed=room_bed,
        name=row.name,
        birth=fmt.birth_text(row.birth_date, lang, row.birth_precision),
        age_sex=f"{age}, {fmt.sex_short(row.sex, lang)}",
        admitted=admitted,
        admitted_day=admitted_day,
        attending=row.attending or "–",
        diagnosis=row.main_diagnosis or "–",
        allergy=allergy,
        allergy_items=tuple(
            a.strip() for a in (row.allergies_short or "").split(", ") if a.strip()
        ),
        allergy_count=row.allergy_count,
        allergy_severe=row.severe_allergy,
        code=code_status_view(row.code_status, row.code_status_text, lang, short=True),
        flags=[(f, is_isolation_flag(f)) for f in row.flags],
        isolation=any(is_isolation_flag(f) for f in row.flags),
        mrn=row.mrn or "–",
        deceased=row.deceased,
        other_ward=bool(ward_id and row.ward_id and row.ward_id != ward_id),
        discharged=discharged,
        allergy_state=row.allergy_status.value,
        allergy_none=allergy_none,
        due=cell.text if cell else "",
        due_state=cell.state.value if cell else "none",
        case=case_text(row.case_number, lang),
    )


def on_ward_line(on_ward: int, gone: int, hours: float, lang: str) -> str:
    """ "30 auf Station, 2 entlassen (24 h)": `hours` is the snapshot's discharge window."""
    return t(
        "census.on_ward",
        lang,
        on_ward=on_ward,
        discharged=gone,
        hours=clinical_number(hours, lang),
    )


def ward_counts(rows: Sequence[CensusRow], now: datetime, hours: float = 24) -> tuple[int, int]:
    """(patients on the ward, patients discharged within `hours` before `now`)."""
    window = timedelta(hours=hours)
    on_ward = sum(1 for r in rows if r.is_current)
    gone = sum(1 for r in rows if not r.is_current and r.discharged_within(now, window))
    return on_ward, gone


@dataclass(frozen=True)
class ListWindow:
    """How much of a census list is on the screen: the first `listed` matches are listed (the
    rest is announced by a "N more" row); the first `drawn` of them are drawn at once, the others
    once typing pauses. `more` = matches not listed."""

    listed: int
    drawn: int
    more: int


def list_window(count: int, limit: int, selected: int, first_rows: int) -> ListWindow:
    """The window of a list of `count` matches: at most `limit` listed, but always through the
    keyboard highlight (`selected`, an index) and a few rows after it, so arrow keys and Page
    Down walk past the limit; `first_rows` (a tall screen's worth) drawn at once."""
    reach = selected + 1 + first_rows // 2
    listed = min(count, max(limit, reach))
    drawn = min(listed, max(first_rows, reach))
    return ListWindow(listed=listed, drawn=drawn, more=count - listed)

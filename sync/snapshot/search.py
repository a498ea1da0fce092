"""Snapshot search: the folded search-index columns of a record and the FTS5 query of a user's
search text. Pure functions, no I/O; the folding itself is `sync.searchtext`, shared by both sides.
"""

from __future__ import annotations

from collections.abc import Sequence

from sync import searchtext
from sync.model import PatientRecord

# bm25 weights for the FTS5 columns (ident, name, birth, place, diag): an identifier or name
# hit outranks a diagnosis word.
_BM25_WEIGHTS = "10.0, 6.0, 4.0, 6.0, 1.0"

# A search group with more hits than this is shown in census order instead of ranked by bm25
# (see SnapshotReader.search).
RANKED_MAX = 1000


def search_columns(record: PatientRecord) -> tuple[str, str, str, str, str]:
    """The folded text of the five search_index columns (ident, name, birth, place, diag)."""
    ident: list[str] = []
    case = record.stay.case_number if record.stay else None
    for value in (record.mrn, case, record.id, *(i.value for i in record.identifiers)):
        ident.extend(searchtext.index_tokens(value))
    # The MRN or case number typed without its spaces, or part of it (4 digits or more: its
    # end or a digit group).
    for value in (record.mrn, case):
        ident.extend(searchtext.identifier_tokens(value))
    names: list[str] = []
    for value in (
        record.name,
        record.family,
        *record.given,
        *record.other_names,
    ):
        names.extend(searchtext.index_tokens(value))
    birth = searchtext.date_tokens(record.birth_date, record.birth_precision.value)
    stay = record.stay
    place: list[str] = []
    if stay is not None:
        for value in (stay.room, stay.bed):
            place.extend(searchtext.index_tokens(value))
        place.extend(searchtext.exact_keys([_room_bed(stay.room, stay.bed)]))
    diag: list[str] = []
    for problem in record.problems:
        diag.extend(searchtext.index_tokens(problem.text))
        for coding in problem.coding:
            diag.extend(searchtext.index_tokens(coding.code))
    return (
        _unique_join(ident),
        _unique_join(names),
        _unique_join(birth),
        _unique_join(place),
        _unique_join(diag),
    )


def exact_search_keys(record: PatientRecord) -> list[str]:
    """Keys that rank a record first when a query term equals one: MRN, case number,
    identifiers, room, room+bed, and the bed alone if it names one place ("12-1", not "A": every
    room has a bed A).
    """
    stay = record.stay
    room = stay.room if stay else None
    bed = stay.bed if stay else None
    lone_bed = bed if bed and any(ch.isdigit() for ch in bed) else None
    return searchtext.exact_keys(
        [
            record.mrn,
            stay.case_number if stay else None,
            *(i.value for i in record.identifiers),
            room,
            lone_bed,
            _room_bed(room, bed),
        ]
    )


def _room_bed(room: str | None, bed: str | None) -> str | None:
    return f"{room}{bed}" if room and bed else None


def _unique_join(tokens: Sequence[str]) -> str:
    return " ".join(dict.fromkeys(tokens))


def match_expression(query: str) -> tuple[str, list[str]] | None:
    """The FTS5 MATCH expression for a user query, and the exact-match keys of its terms.

    Every term is a double-quoted FTS5 string with a prefix star, so nothing the user types can
    act as FTS5 syntax (column filters, NEAR, NOT, parentheses); terms are AND-ed, spelling
    alternatives of one term OR-ed. None if the query has no searchable term.
    """
    groups = searchtext.query_alternatives(query)
    if not groups:
        return None
    parts: list[str] = []
    for alternatives in groups:
        quoted = [_fts_string(term) + "*" for term in alternatives]
        parts.append(quoted[0] if len(quoted) == 1 else "(" + " OR ".join(quoted) + ")")
    keys = [alternatives[0] for alternatives in groups]
    return " AND ".join(parts), keys


def _fts_string(term: str) -> str:
    # Terms hold only token characters already; doubling quotes keeps this safe regardless.
    return '"' + term.replace('"', '""') + '"'

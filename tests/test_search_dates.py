"""Birth dates as the screens show them find the patient in both searches:
the census's instant local filter and the snapshot's search index (sync.searchtext)."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from app.present.formats import date_text
from app.ui.viewmodels.census import _query_words, _search_text, _text_matches
from sync import searchtext
from sync.model import CensusRow


def local_finds(query: str, row: CensusRow) -> bool:
    return _text_matches(_query_words(query), _search_text(row))


def index_finds(query: str, tokens: list[str]) -> bool:
    """The snapshot's rule: every query term (any spelling) starts some index token."""
    groups = searchtext.query_alternatives(query)
    return bool(groups) and all(
        any(token.startswith(alt) for alt in group for token in tokens) for group in groups
    )


def row_for(born: date) -> CensusRow:
    return CensusRow(patient_id="p1", name="Muster, Erika", mrn="10000176", birth_date=born)


dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2030, 12, 31))


@given(dates, st.sampled_from(["de", "en"]))
def test_a_birth_date_as_shown_finds_the_patient_in_both_searches(born: date, lang: str) -> None:
    for query in (date_text(born, lang), born.isoformat()):
        assert local_finds(query, row_for(born)), query
        assert index_finds(query, searchtext.date_tokens(born)), query


def test_the_forms_nurses_type() -> None:
    born = date(1955, 11, 9)
    row = row_for(born)
    for query in ("9 Nov 1955", "09.11.1955", "1955-11-09", "9. November 1955", "9.11.1955"):
        assert local_finds(query, row), query
        assert index_finds(query, searchtext.date_tokens(born)), query
    assert not local_finds("9 Dec 1955", row)
    assert not index_finds("9 Dec 1955", searchtext.date_tokens(born))

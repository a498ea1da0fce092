"""sync.searchtext: folding rules (examples) and properties (hypothesis)."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.searchtext import (
    MAX_QUERY_TERMS,
    PARTIAL_MARK,
    date_tokens,
    exact_keys,
    fold,
    index_tokens,
    natural_sort_key,
    partial_number_tokens,
    query_alternatives,
    query_terms,
)

# --------------------------------------------------------------------------------------------
# Examples


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Müller", "muller"),
        ("MÜLLER", "muller"),
        ("Straße", "strasse"),
        ("STRASSE", "strasse"),
        ("Łukasz", "lukasz"),
        ("Özdemir", "ozdemir"),
        ("Ørsted", "orsted"),
        ("Ærø", "aero"),
        ("Dvořák", "dvorak"),
        ("Ţăranu", "taranu"),
        ("İstanbul", "istanbul"),
        ("Yılmaz", "yilmaz"),
        ("Þórður", "thordur"),
        ("ﬁsch", "fisch"),  # ligature
        ("ＡＢＣ", "abc"),  # full width
        ("Ελένη", "ελενη"),
        ("ЙОШКАР", "иошкар"),
        ("محمد", "محمد"),
        ("東京", "東京"),
        ("हिन्दी", "हिन्दी"),  # Devanagari vowel signs are kept
        ("07.03.1950", "07.03.1950"),  # punctuation is kept by fold, dropped by tokenising
    ],
)
def test_fold_examples(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_index_tokens_hold_both_spellings_of_umlauts() -> None:
    assert index_tokens("Müller") == ["muller", "mueller"]
    assert index_tokens("Özdemir") == ["ozdemir", "oezdemir"]
    assert index_tokens("Schmidt") == ["schmidt"]


def test_index_tokens_hold_joined_and_separate_parts() -> None:
    tokens = index_tokens("Müller-Lüdenscheidt, O'Brien")
    for expected in ("mullerludenscheidt", "muller", "ludenscheidt", "mueller", "luedenscheidt"):
        assert expected in tokens
    assert "obrien" in tokens
    assert "brien" in tokens
    assert index_tokens(None) == []
    assert index_tokens("") == []
    assert index_tokens(" - ") == []


def test_query_terms_fold_and_join() -> None:
    assert query_terms("Müller, 07.03.1950") == ["muller", "07031950"]
    assert query_terms("  mül   3A ") == ["mul", "3a"]
    assert query_terms("I50.9") == ["i509"]
    assert query_terms("müller MULLER") == ["muller"]  # duplicates dropped
    assert query_terms("") == []
    assert query_terms(' " * ( ) : ^ ') == []


def test_query_alternatives_try_the_transliteration_of_typed_umlauts() -> None:
    assert query_alternatives("Mül 3A") == [["mul", "muel"], ["3a"]]
    assert query_alternatives("Muller") == [["muller"]]
    assert query_alternatives("Straße") == [["strasse"]]


def test_query_terms_are_capped() -> None:
    query = " ".join(f"w{i}" for i in range(30))
    assert len(query_terms(query)) == MAX_QUERY_TERMS
    assert len(query_alternatives(query)) == MAX_QUERY_TERMS


def test_date_tokens_cover_the_usual_ways_of_typing_a_date() -> None:
    tokens = date_tokens(date(1950, 3, 7))
    for typed in ("1950-03-07", "07.03.1950", "07031950", "7.3.1950", "07.03.50", "1950"):
        (term,) = query_terms(typed)
        assert any(token.startswith(term) for token in tokens), typed
    assert date_tokens(None) == []


def test_exact_keys() -> None:
    assert exact_keys(["12-345", None, "3A", "", "3a"]) == ["12345", "3a"]


def test_natural_sort_key_orders_rooms_numerically_and_missing_last() -> None:
    rooms = ["10", "2", None, "1a", "Ü3", "u2", "1"]
    ordered = sorted(rooms, key=lambda r: natural_sort_key(r, None, "x"))
    assert ordered == ["1", "1a", "2", "10", "u2", "Ü3", None]
    assert natural_sort_key("2", "A", "Zander") < natural_sort_key("2", "B", "Adler")
    assert natural_sort_key("2", "A", "Berg") < natural_sort_key("2", "A", "Ömer")


# --------------------------------------------------------------------------------------------
# Properties

_any_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
# Latin letters of Latin-1 and Latin Extended-A/B, where an ASCII folding exists.
_latin_letters = st.text(
    st.characters(min_codepoint=0x41, max_codepoint=0x24F, categories=["Lu", "Ll", "Lt"]).filter(
        lambda ch: ch not in "µ"
    ),  # U+00B5 is the Greek letter mu in Latin-1
    max_size=30,
)


@settings(max_examples=400)
@given(_any_text)
def test_fold_never_raises_and_is_idempotent(text: str) -> None:
    folded = fold(text)
    assert fold(folded) == folded


@settings(max_examples=300)
@given(_any_text)
def test_fold_is_case_insensitive(text: str) -> None:
    assert fold(text.upper()) == fold(text) == fold(text.lower())
    assert fold(text) == fold(text).lower()


@settings(max_examples=300)
@given(_latin_letters)
def test_fold_latin_letters_to_ascii_lowercase(text: str) -> None:
    folded = fold(text)
    non_ascii = {ch for ch in folded if not ch.isascii()}
    # The few Latin Extended-B letters without any ASCII look-alike (ǝ, ƛ, ȝ, ...) stay.
    allowed = {ch for ch in text.lower() if not ch.isascii()}
    assert non_ascii <= allowed | {fold(ch) for ch in allowed}
    assert folded == folded.lower()


@pytest.mark.parametrize(
    "alphabet",
    [(0x0600, 0x06FF), (0x4E00, 0x4FFF), (0x0900, 0x097F), (0x0E00, 0x0E7F), (0x0590, 0x05FF)],
    ids=["arabic", "cjk", "devanagari", "thai", "hebrew"],
)
@settings(max_examples=60)
@given(data=st.data())
def test_fold_keeps_non_latin_scripts(alphabet: tuple[int, int], data: st.DataObject) -> None:
    text = data.draw(
        st.text(
            st.characters(min_codepoint=alphabet[0], max_codepoint=alphabet[1]),
            min_size=1,
            max_size=10,
        )
    )
    assert fold(text) == unicodedata.normalize("NFC", unicodedata.normalize("NFKD", text))


@settings(max_examples=200)
@given(st.text(st.characters(min_codepoint=0x0391, max_codepoint=0x03A9), min_size=1))
def test_fold_lowercases_greek(text: str) -> None:
    assert fold(text) == fold(text.lower())
    assert fold(text) == fold(text).lower()


@settings(max_examples=400)
@given(_any_text)
def test_tokens_and_terms_never_raise_and_hold_only_token_characters(text: str) -> None:
    for token in [*index_tokens(text), *query_terms(text), *exact_keys([text])]:
        assert token
        # Exactly FTS5 unicode61's token characters (categories 'L* N* Co M*'): FTS5 never
        # splits or changes a token we made.
        assert all(
            unicodedata.category(ch)[0] in "LNM" or unicodedata.category(ch) == "Co" for ch in token
        )
        assert '"' not in token
    for alternatives in query_alternatives(text):
        assert alternatives
    assert len(query_terms(text)) <= MAX_QUERY_TERMS


@settings(max_examples=400)
@given(_any_text)
def test_every_indexed_word_is_found_by_its_own_query(text: str) -> None:
    # Whatever a record says, typing it (or any prefix of a term) finds it.
    tokens = index_tokens(text)
    for alternatives in query_alternatives(text):
        assert any(any(token.startswith(term) for token in tokens) for term in alternatives)
        for term in alternatives:
            if term.startswith(PARTIAL_MARK):
                # A number's marked form finds identifiers only (partial_number_tokens): a
                # number typed whole equals the marked token of a number written whole.
                assert term in partial_number_tokens(text) or not text.strip().isdigit()
                continue
            prefix = term[: max(1, len(term) // 2)]
            assert any(token.startswith(prefix) for token in tokens)


@settings(max_examples=200)
@given(st.lists(st.none() | _any_text, min_size=3, max_size=3))
def test_natural_sort_key_never_raises(values: list[str | None]) -> None:
    key = natural_sort_key(*values)
    assert isinstance(key, str)

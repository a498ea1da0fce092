"""Search text normalisation: folding names, identifiers and queries into comparable tokens.

Pure functions, no I/O. `sync.snapshot` uses them on both sides of the search index, so that what a
nurse types matches what the record says, whatever the keyboard:

- case-insensitive ("MÜLLER" = "müller");
- diacritic-insensitive for Latin, Greek and Cyrillic letters ("Özdemir" -> "ozdemir",
  "Łukasz" -> "lukasz", "Straße" -> "strasse");
- German transliteration both ways: the index holds "muller" and "mueller" for "Müller", and a query
  typed with an umlaut ("Mül") also tries the transliterated form ("muel"), so it finds a record
  written "Mueller";
- punctuation inside a word is dropped and the parts are joined ("07.03.1950" -> "07031950",
  "O'Brien" -> "obrien"); the index also holds the parts ("müller-lüdenscheidt" -> "muller",
  "ludenscheidt", "mullerludenscheidt");
- other scripts (Arabic, CJK, Devanagari, ...) are kept as written and lowercased.

Every token consists only of characters whose Unicode category is a letter (L*), number (N*),
mark (M*) or private use (Co): exactly the token characters of the FTS5 `unicode61` tokenizer
configured with `categories 'L* N* Co M*'`, so FTS5 never splits a token that we made.
The rules are documented in docs/snapshot-schema.md ("Search folding").
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from datetime import date

# Letters that Unicode does not decompose into base + combining mark, but that a user types
# without the diacritic on a German or English keyboard. Lowercase keys only: fold() lowercases
# first. Values are ASCII.
_SPECIAL: dict[str, str] = {
    "ß": "ss",
    "æ": "ae",
    "œ": "oe",
    "ø": "o",
    "ł": "l",
    "đ": "d",
    "ð": "d",
    "þ": "th",
    "ı": "i",
    "ħ": "h",
    "ŀ": "l",
    "ĸ": "k",
    "ŧ": "t",
    "ŋ": "ng",
    "ſ": "s",
    "ƀ": "b",
    "ƈ": "c",
    "ɗ": "d",
    "ƒ": "f",
    "ɠ": "g",
    "ɨ": "i",
    "ƙ": "k",
    "ƚ": "l",
    "ɲ": "n",
    "ɵ": "o",
    "ʉ": "u",
    "ƴ": "y",
    "ƶ": "z",
    "ȥ": "z",
    "ǥ": "g",
    "ɓ": "b",
    "ƃ": "b",
    "ɖ": "d",
    "ƌ": "d",
    "ȡ": "d",
    "ɛ": "e",  # West African orthographies (Akan, Ewe)
    "ɇ": "e",
    "ɩ": "i",
    "ɉ": "j",
    "ȷ": "j",
    "ȴ": "l",
    "ȵ": "n",
    "ƥ": "p",
    "ɋ": "q",
    "ɍ": "r",
    "ȿ": "s",
    "ƭ": "t",
    "ʈ": "t",
    "ȶ": "t",
    "ⱦ": "t",
    "ʋ": "v",
    "ɏ": "y",
    "ɀ": "z",
    "ⱥ": "a",
    "ȼ": "c",
    "ʼ": "'",  # NFKD of "ŉ" is "ʼn"; the apostrophe is punctuation afterwards
}

_SPECIAL_TABLE = str.maketrans(_SPECIAL)

# German transliteration of umlauts, applied to the *unfolded* (but lowercased, composed) text.
_GERMAN: dict[str, str] = {"ä": "ae", "ö": "oe", "ü": "ue"}

# Marks after a base letter below this code point (Latin, IPA, Greek, Cyrillic) are diacritics to
# drop; marks in other scripts (Devanagari vowel signs, Hebrew points, ...) carry meaning: kept.
_DIACRITIC_BASE_LIMIT = 0x0530

# Partial numbers (MRN, case number): a query of at least this many digits also finds an
# identifier that ends with it or has it as a whole digit group. Shorter numbers find only by
# prefix: "101" is a room far more often than the tail of an MRN.
MIN_PARTIAL_DIGITS = 4

# The mark around a partial-number token in the index ("\ue000" + "1010" + "\ue000"): a private
# use character (a token character for FTS5 unicode61 with category Co, never typed, never
# produced by folding), so such a token equals a query's marked term or nothing. Typing "101"
# cannot reach the token of "1010" (a prefix stops at the mark), and a plain term never starts
# a marked token.
PARTIAL_MARK = "\ue000"

# Upper bound on the number of query terms: a query is typed by a person; anything longer is
# pasted text, and each term costs an FTS5 lookup.
MAX_QUERY_TERMS = 8


def _is_token_char(ch: str) -> bool:
    """True for characters that FTS5 unicode61 (categories 'L* N* Co M*') keeps inside a token."""
    cat = unicodedata.category(ch)
    return cat[0] in "LNM" or cat == "Co"


def _fold_once(text: str) -> str:
    """One pass of folding: lowercase, decompose, drop Latin/Greek/Cyrillic diacritics, map
    special letters, recompose."""
    if text.isascii():
        return text.lower()  # the common case; the same result as the general path, faster
    # Map special letters before decomposing too: NFKD would turn "ŀ" into "l" + middle dot.
    # casefold() maps Cherokee small letters to capitals (Unicode's case folding for that script
    # goes upward); lower() after it gives every script its lower-case form, so a folded token
    # never holds a capital letter.
    lowered = text.casefold().lower()
    decomposed = unicodedata.normalize("NFKD", lowered.translate(_SPECIAL_TABLE))
    out: list[str] = []
    base_limit_ok = False  # whether the last base character takes droppable diacritics
    for ch in decomposed:
        if unicodedata.combining(ch):
            if base_limit_ok:
                continue
            out.append(ch)
            continue
        base_limit_ok = ord(ch) < _DIACRITIC_BASE_LIMIT
        out.append(_SPECIAL.get(ch, ch))
    return unicodedata.normalize("NFC", "".join(out))


def fold(text: str) -> str:
    """Fold `text` for comparison: lowercase, without diacritics on Latin/Greek/Cyrillic letters,
    special Latin letters mapped to ASCII (ß -> ss, ł -> l, æ -> ae), other scripts kept.

    Punctuation and spaces are kept (tokenising is separate). Idempotent: fold(fold(x)) == fold(x).
    Never raises on any str.
    """
    # casefold/NFKD/NFC can each expose something the previous step did not see (e.g. "İ"
    # casefolds to "i" + combining dot), so iterate to a fixed point; two or three passes suffice.
    current = text
    for _ in range(6):
        folded = _fold_once(current)
        if folded == current or (folded.isascii() and folded == folded.lower()):
            # Lower-case ASCII is a fixed point already: skip the confirming pass.
            return folded
        current = folded
    return current


def german_variant(text: str) -> str:
    """The German transliteration of `text` ("Müller" -> "mueller"), folded."""
    lowered = unicodedata.normalize("NFC", text.casefold())
    return fold("".join(_GERMAN.get(ch, ch) for ch in lowered))


def _chunks(text: str) -> list[str]:
    """Split on whitespace and on characters that are neither token characters nor word-inner
    punctuation; the result keeps inner punctuation (".", "-", "'", "/") for joining."""
    return [c for c in re.split(r"[\s,;:()\[\]{}<>\"|+*!?&=#~^`@$%\\]+", text) if c]


def _split_token_chars(chunk: str) -> list[str]:
    """The maximal runs of token characters in `chunk` ("müller-lüd" -> ["müller", "lüd"])."""
    parts: list[str] = []
    current: list[str] = []
    for ch in chunk:
        if _is_token_char(ch):
            current.append(ch)
        elif current:
            parts.append("".join(current))
            current = []
    if current:
        parts.append("".join(current))
    return parts


def _chunk_forms(chunk: str) -> list[str]:
    """Folded forms of one chunk: the joined form first, then each part."""
    parts = _split_token_chars(fold(chunk))
    if not parts:
        return []
    joined = "".join(parts)
    return [joined, *[p for p in parts if p != joined]] if len(parts) > 1 else [joined]


def index_tokens(text: str | None) -> list[str]:
    """Tokens to put in the search index for `text`, with their spelling variants.

    For every whitespace-separated chunk: the folded chunk with inner punctuation removed, each
    punctuation-separated part, and the German transliteration of each (when it differs).
    Order is stable and duplicates removed. Never raises.
    """
    if not text:
        return []
    return list(_index_tokens(text))


# Diagnosis texts, given names and codes repeat across a ward: caching makes writing 10,000
# records several times faster. Bounded, so memory stays small.
@functools.lru_cache(maxsize=1 << 15)
def _index_tokens(text: str) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for chunk in _chunks(text):
        forms = _chunk_forms(chunk)
        variant = german_variant(chunk)
        if variant != fold(chunk):
            forms.extend(_chunk_forms(variant))
        for form in forms:
            seen.setdefault(form, None)
    return tuple(seen)


def query_terms(query: str) -> list[str]:
    """The folded terms of a search query: one per whitespace-separated chunk, inner punctuation
    removed ("Müller, 07.03.1950" -> ["muller", "07031950"]). Duplicates and chunks without any
    letter or digit are dropped; at most MAX_QUERY_TERMS terms. Never raises."""
    terms: dict[str, None] = {}
    for chunk in _chunks(query):
        joined = "".join(_split_token_chars(fold(chunk)))
        if joined:
            terms.setdefault(joined, None)
    return list(terms)[:MAX_QUERY_TERMS]


def query_alternatives(query: str) -> list[list[str]]:
    """Per query term, the spellings to try (any of them may match): the folded term first, then
    its German transliteration if the user typed an umlaut ("Mül" -> ["mul", "muel"]), and for a
    number of MIN_PARTIAL_DIGITS or more its marked partial-number form (`partial_number_term`:
    "1010" -> ["1010", "\ue0001010\ue000"]).

    The outer list is AND-ed, each inner list OR-ed. Same term order and limit as `query_terms`.
    """
    groups: dict[str, list[str]] = {}
    for chunk in _chunks(query):
        joined = "".join(_split_token_chars(fold(chunk)))
        if not joined or joined in groups:
            continue
        alternatives = [joined]
        variant = "".join(_split_token_chars(german_variant(chunk)))
        if variant and variant != joined:
            alternatives.append(variant)
        partial = partial_number_term(joined)
        if partial is not None:
            alternatives.append(partial)
        groups[joined] = alternatives
    return list(groups.values())[:MAX_QUERY_TERMS]


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit()


def partial_number_term(term: str) -> str | None:
    """The marked form of a folded query term that is a number of MIN_PARTIAL_DIGITS digits or
    more ("1010" -> "\ue0001010\ue000"), else None. It equals one of `partial_number_tokens` of
    an identifier exactly when the identifier ends with the number or has it as a digit group."""
    if len(term) >= MIN_PARTIAL_DIGITS and _is_number(term):
        return PARTIAL_MARK + term + PARTIAL_MARK
    return None


def partial_number_tokens(value: str | None) -> list[str]:
    """Index tokens that let part of an identifier (MRN, case number) find it.

    For the identifier folded with punctuation and spaces removed ("4000-1010" -> "40001010"):
    every all-digit ending of MIN_PARTIAL_DIGITS or more digits ("1010", "01010", ...), and every
    maximal digit group of the written value of that length or more ("A-2024-0815" -> "2024",
    "0815"); each marked (`PARTIAL_MARK` on both sides), so that only a whole query number
    equals it. Prefixes need no token: every index token is searched by prefix anyway.
    Never raises; [] for None, "" or an identifier without such digits.
    """
    if not value:
        return []
    return list(_partial_number_tokens(value))


@functools.lru_cache(maxsize=1 << 14)
def _partial_number_tokens(value: str) -> tuple[str, ...]:
    folded = fold(value)
    joined = "".join(_split_token_chars(folded))
    found: dict[str, None] = {}
    # Endings: the digits at the end of the joined identifier, longest first (the whole
    # identifier itself included: a full MRN of digits then also equals its own token).
    tail = len(joined)
    while tail > 0 and joined[tail - 1].isascii() and joined[tail - 1].isdigit():
        tail -= 1
    for start in range(tail, len(joined) - MIN_PARTIAL_DIGITS + 1):
        found.setdefault(PARTIAL_MARK + joined[start:] + PARTIAL_MARK, None)
    for group in re.findall(r"[0-9]+", folded):
        if len(group) >= MIN_PARTIAL_DIGITS:
            found.setdefault(PARTIAL_MARK + group + PARTIAL_MARK, None)
    return tuple(found)


def identifier_tokens(value: str | None) -> list[str]:
    """The extra index tokens of an MRN or case number, beyond its `index_tokens`: the whole
    identifier with spaces and punctuation removed ("00 4711" -> "004711": typed without the
    spaces, it is still found by its start) and its `partial_number_tokens`. Never raises."""
    return [*exact_keys([value]), *partial_number_tokens(value)]


def date_tokens(day: date | None, precision: str = "day") -> list[str]:
    """Search tokens for a date, so that any usual way of typing it matches as a prefix:
    ISO "1950-03-07" -> "19500307", German "07.03.1950" -> "07031950", "7.3.1950" -> "731950",
    "07.03.50" -> "070350", and the year "1950".

    A partial date (`precision` "year" or "month", `day` the first of the period) gets only
    the tokens of what is known: "1996"; for a month also "199607", "071996" (as shown:
    "07.1996", "07/1996"), "71996" and the month's names. Never a day that nobody recorded.
    """
    if day is None:
        return []
    if precision == "year":
        return [f"{day.year:04d}"]
    if precision == "month":
        month = [
            f"{day.year:04d}{day.month:02d}",
            f"{day.month:02d}{day.year:04d}",
            f"{day.month}{day.year:04d}",
            f"{day.year:04d}",
            *_month_words(day.month),
        ]
        return list(dict.fromkeys(month))
    tokens = [
        f"{day.year:04d}{day.month:02d}{day.day:02d}",
        f"{day.day:02d}{day.month:02d}{day.year:04d}",
        f"{day.day}{day.month}{day.year:04d}",
        f"{day.day:02d}{day.month:02d}{day.year % 100:02d}",
        f"{day.year:04d}",
        # The parts of a date as the screens show it ("9 Nov 1955", "09.11.1955"): the day and
        # the month's names in German and English, so that each typed word finds a token.
        f"{day.day}",
        f"{day.day:02d}",
        *_month_words(day.month),
    ]
    return list(dict.fromkeys(tokens))


@functools.cache
def _month_words(month: int) -> tuple[str, ...]:
    """The folded month names (wide and abbreviated, de and en) of `month` (1-12)."""
    from babel.dates import get_month_names

    words: dict[str, None] = {}
    for locale in ("de", "en"):
        for width in ("wide", "abbreviated"):
            name = get_month_names(width, locale=locale)[month]
            folded = "".join(_split_token_chars(fold(name)))
            if folded:
                words.setdefault(folded, None)
    return tuple(words)


def exact_keys(values: Iterable[str | None]) -> list[str]:
    """Whole-value keys for exact-match ranking (MRN, identifiers, room, bed): each value folded
    with all punctuation removed ("12-345" -> "12345", "3A" -> "3a")."""
    keys: dict[str, None] = {}
    for value in values:
        if value:
            key = "".join(_split_token_chars(fold(value)))
            if key:
                keys.setdefault(key, None)
    return list(keys)


def natural_sort_key(*values: str | None) -> str:
    """A string whose byte order sorts `values` naturally: case- and diacritic-insensitive, digit
    runs by number ("2" before "10"), missing values after present ones. Used for the census order
    (room, bed, name)."""
    parts: list[str] = []
    for value in values:
        if value is None or not value.strip():
            parts.append("\uffff")
            continue
        folded = fold(value.strip())
        # Zero-pad digit runs to a fixed width so that text order equals numeric order.
        parts.append(re.sub(r"\d+", lambda m: m.group(0).zfill(12), folded))
    # U+0001 separates fields and sorts below any character a field can contain.
    return "\u0001".join(parts)

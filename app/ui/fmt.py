"""The viewer's short names for the presentation layer, plus matching and sorting helpers.

No I/O and no Flet. Words, dates, times and ages come from app.present (German "29.11.2026 14:05",
English "29 Nov 2026 14:05": never a bare 11/12 that could be read either way), so the screen says
what the printouts say; the census filter folds text with app.present.search, the snapshot
search's folding.
"""

from __future__ import annotations

import re
from datetime import date, datetime, tzinfo
from functools import lru_cache

from app import i18n
from app.present import clinical
from app.present.search import fold as _fold
from app.present.search import fold_forms as _fold_forms
from sync.model import DatePrecision, Sex


# Pure and called for every census row on every redraw: the few distinct dates, languages and
# sexes repeat, so small caches spare babel's formatting (bounded: at most 4096 entries each).
@lru_cache(maxsize=4096)
def age_text(
    birth: date | None, today: date, lang: str, precision: DatePrecision = DatePrecision.DAY
) -> str:
    """Age for display: "78 J." / "78 y", infants in months/weeks/days; "?" if unknown;
    "29–30 J." when only the birth year is known (app.present.clinical.age_text)."""
    return clinical.age_text(birth, today, lang, precision)


@lru_cache(maxsize=4096)
def birth_text(birth: date | None, lang: str, precision: DatePrecision = DatePrecision.DAY) -> str:
    """A birth date as far as known: "03.05.1948" / "3 May 1948", "07.1996", "1996"; "–"."""
    return clinical.birth_text(birth, lang, precision)


@lru_cache(maxsize=64)
def sex_short(sex: Sex, lang: str) -> str:
    """ "w" / "F": the census column, as on the printed census."""
    return clinical.sex_word(sex, lang, short=True)


@lru_cache(maxsize=64)
def sex_long(sex: Sex, lang: str) -> str:
    return clinical.sex_word(sex, lang)


@lru_cache(maxsize=4096)
def date_text(d: date | None, lang: str) -> str:
    """A calendar date: "03.05.1948" (de) or "3 May 1948" (en); "–" when unknown."""
    return "–" if d is None else i18n.fmt_date(d, lang)


def datetime_text(dt: datetime | None, tz: tzinfo | None, lang: str) -> str:
    """A moment in the ward's time zone: "29.11.2026 14:05" / "29 Nov 2026 14:05"; "–" if None."""
    return "–" if dt is None else i18n.fmt_datetime(dt, lang, tz)


def time_text(dt: datetime | None, tz: tzinfo | None, lang: str, today: date | None = None) -> str:
    """Only "HH:MM" when the moment is on `today` (local), else the full date and time."""
    if dt is None:
        return "–"
    if today is not None and dt.astimezone(tz).date() == today:
        return i18n.fmt_time(dt, lang, tz)
    return datetime_text(dt, tz, lang)


def days_since(start: datetime | None, now: datetime) -> int | None:
    """Whole calendar days from `start` to `now` in `now`'s zone (admission day = day 0)."""
    if start is None:
        return None
    return (now.date() - start.astimezone(now.tzinfo).date()).days


def fold(text: str) -> str:
    """Lower-case, diacritics removed, ß -> ss, Ł -> l: "Müller" -> "muller" (for matching only).

    The one folding of every search path (`app.present.search`, the same as the snapshot's
    search index), so the instant filter finds "Łukasz" for "lukasz" as the index search does.
    """
    return _fold(text)


def fold_forms(text: str) -> tuple[str, str]:
    """Both ways people type umlauts: "Müller" -> ("muller", "mueller")."""
    return _fold_forms(text)


_WORD_SPLIT = re.compile(r"[^\w]+")


def query_words(query: str) -> list[str]:
    """The folded words of a search box text (what `matches` looks for)."""
    return [fold(w) for w in _WORD_SPLIT.split(query) if w]


def match_tokens(*fields: str | None) -> list[str]:
    """The folded tokens of `fields` that query words must start (both umlaut forms, whole
    field, each whitespace-separated chunk joined, each word): what `matches` compares
    against, to be computed once per row."""
    tokens: list[str] = []
    for field in fields:
        if field:
            for form in fold_forms(field):
                tokens.append(form)
                for chunk in form.split():
                    words = [t for t in _WORD_SPLIT.split(chunk) if t]
                    if len(words) > 1:
                        # Each chunk joined, as the snapshot's index holds it: "A-2024-0815"
                        # is found by "a20240815" too.
                        tokens.append("".join(words))
                tokens.extend(t for t in _WORD_SPLIT.split(form) if t)
    return tokens


def matches(query: str, *fields: str | None) -> bool:
    """True when every word of `query` starts a word of one of `fields` (folded).

    "Muller" and "Mueller" both find "Müller"; "mul 101" finds Müller in room 101; "101" does
    not find MRN 40001010 (prefixes, like the snapshot's own search, not any substring).
    """
    words = query_words(query)
    if not words:
        return True
    tokens = match_tokens(*fields)
    return all(any(token.startswith(word) for token in tokens) for word in words)


def short_place(text: str | None) -> str:
    """A room or bed without its label word: "Zimmer 301" -> "301", "Bett 1" -> "1"."""
    return clinical.short_place(text)


def room_bed(room: str | None, bed: str | None) -> str:
    """Compact "room/bed" for the census column: "301/1"; "–" when neither is known."""
    return clinical.room_bed_short(room, bed)


_NATURAL_PART = re.compile(r"(\d+)")


def natural_key(text: str | None) -> tuple[tuple[int, int | str], ...]:
    """Sort key so that room "2" comes before "10", and "12a" before "12b"; missing sorts last."""
    if not text:
        return ((2, ""),)
    parts: list[tuple[int, int | str]] = []
    for part in _NATURAL_PART.split(text.casefold()):
        if not part:
            continue
        parts.append((0, int(part)) if part.isdigit() else (1, part))
    return tuple(parts)

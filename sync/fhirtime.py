"""Parse FHIR R4 `date`, `dateTime` and `instant` strings into Python values.

Pure functions, no I/O. They never raise on bad input: real exports contain garbage, and one bad
timestamp must not stop a patient from being mapped. They return None instead, and the caller
counts the problem.

Rules (FHIR R4 datatypes, made lenient where real data is sloppy):
- "2020", "2020-05", "2020-05-17": partial dates become the first instant of that period, at
  midnight in the hospital time zone `tz`.
- "2020-05-17T10:30:00+02:00", "...Z": the given offset is kept (an aware datetime).
- "2020-05-17T10:30:00" (no offset; not valid FHIR but common): read in the hospital time zone.
- Seconds may be missing ("T10:30"), fractions may have up to 9 digits (truncated to
  microseconds), a leap second "60" is read as 59; a space instead of "T" is accepted.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo

__all__ = ["fhir_date_precision", "parse_fhir_date", "parse_fhir_datetime"]

# One regex for every accepted form; groups: year, month, day, hour, minute, second, fraction, tz.
_DATETIME_RE = re.compile(
    r"(\d{4})"
    r"(?:-(\d{2})"
    r"(?:-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r"(Z|[+-]\d{2}:?\d{2})?"
    r")?)?)?"
)

# A cache of fixed offsets: real data repeats a handful of offsets millions of times.
_OFFSETS: dict[str, tzinfo] = {"Z": UTC, "+00:00": UTC, "-00:00": UTC}


def _offset(text: str) -> tzinfo | None:
    """Return the tzinfo for "Z" or "+HH:MM" / "+HHMM", or None if out of range."""
    found = _OFFSETS.get(text)
    if found is not None:
        return found
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 14 or minutes > 59:
        return None
    delta = timedelta(hours=hours, minutes=minutes)
    tz = timezone(-delta if text[0] == "-" else delta)
    if len(_OFFSETS) < 256:
        _OFFSETS[text] = tz
    return tz


def _fast(value: str, tz: tzinfo) -> datetime | None:
    """The two shapes that make up nearly all real data, via the C parser; None to fall back.

    "YYYY-MM-DD" and "YYYY-MM-DDThh:mm:ss[.fff](Z|+hh:mm)". The separator checks keep
    `fromisoformat`'s extra ISO forms (week dates, basic format) out.
    """
    n = len(value)
    if n == 10 and value[4] == "-" and value[7] == "-":
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return None
        return datetime(day.year, day.month, day.day, tzinfo=tz)
    if (
        n >= 20
        and value[10] == "T"
        and value[4] == "-"
        and value[7] == "-"
        and value[13] == ":"
        and value[16] == ":"
        and value[17:19] != "60"  # leap second: the slow path clamps it
        and (n == 20 or value[19] in ".Z+-")
    ):
        offset_ok = value[-1] == "Z" or (
            value[-6] in "+-" and value[-3] == ":" and value[-5:-3] <= "14"
        )
        if not offset_ok:
            return None  # no offset, or out of range: the slow path decides
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def parse_fhir_datetime(value: object, tz: tzinfo) -> datetime | None:
    """Parse a FHIR date, dateTime or instant into an aware datetime.

    `tz` is the hospital time zone used for partial dates and offset-less times.
    Returns None (never raises) when `value` is not a string or not a valid timestamp.
    """
    if not isinstance(value, str):
        return None
    fast = _fast(value, tz)
    if fast is not None:
        return fast
    match = _DATETIME_RE.fullmatch(value.strip())
    if match is None:
        return None
    year_s, month_s, day_s, hour_s, minute_s, second_s, fraction_s, offset_s = match.groups()
    try:
        year = int(year_s)
        month = int(month_s) if month_s else 1
        day = int(day_s) if day_s else 1
        if hour_s is None:
            # A partial date carries no offset: midnight in the hospital's zone.
            return datetime(year, month, day, tzinfo=tz)
        second = min(int(second_s), 59) if second_s else 0  # leap second 60 -> 59
        micro = int(fraction_s[:6].ljust(6, "0")) if fraction_s else 0
        zone = _offset(offset_s) if offset_s else tz
        if zone is None:
            return None
        return datetime(year, month, day, int(hour_s), int(minute_s), second, micro, tzinfo=zone)
    except (ValueError, OverflowError):
        # Day 31 in a 30-day month, hour 25, year 0, ...
        return None


def parse_fhir_date(value: object) -> date | None:
    """Parse a FHIR date ("2020", "2020-05", "2020-05-17"; a dateTime is cut to its date part).

    Partial dates become the first day of the period. Returns None (never raises) on bad input.
    """
    if not isinstance(value, str):
        return None
    match = _DATETIME_RE.fullmatch(value.strip())
    if match is None:
        return None
    year_s, month_s, day_s = match.group(1, 2, 3)
    try:
        return date(int(year_s), int(month_s) if month_s else 1, int(day_s) if day_s else 1)
    except ValueError:
        return None


def fhir_date_precision(value: object) -> str:
    """How much of a FHIR date `value` gives: "year" ("1996"), "month" ("1996-07") or "day"
    (a full date or a dateTime; also for anything unparseable, which `parse_fhir_date`
    rejects anyway). The names are `sync.model.DatePrecision`'s values. Never raises."""
    if isinstance(value, str):
        match = _DATETIME_RE.fullmatch(value.strip())
        if match is not None:
            if match.group(2) is None:
                return "year"
            if match.group(3) is None:
                return "month"
    return "day"

"""Locale formatting of dates, times, numbers, ages and durations (babel).

Formats (chosen to be unambiguous when read quickly on a ward, 24-hour clock in both languages):

| what       | de                  | en                  |
|------------|---------------------|---------------------|
| date       | 07.03.2026          | 7 Mar 2026          |
| date+time  | 07.03.2026 14:05    | 7 Mar 2026 14:05    |
| time       | 14:05               | 14:05               |
| number     | 1.234,5             | 1,234.5             |
| age        | 84 J. / 14 Mon. / 6 Wo. / 5 T. | 84 y / 14 mo / 6 wk / 5 d |
| duration   | vor 3 h 5 min       | 3 h 5 min ago       |

The English date spells the month so that 03/07 cannot be read as 7 March or 3 July.
Clinical values (doses, lab values, reference ranges) use `clinical_number`: the locale's decimal
sign and never a grouping separator, so that one thousand and sixty-seven reads "1067" in both
languages and never "1.067" (which a German reader takes for one point zero six seven).
`localize_numbers` gives numbers inside texts written by the mapping ("4.5 g", "1.5-2 mg") the
same decimal sign. Dates and times are converted to the zone the caller passes: the hospital's
zone (`app.present.zone`), never the laptop's. FHIR dates without a time stay calendar dates.

All functions are pure.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal

from babel.dates import format_date as _babel_date
from babel.dates import format_datetime as _babel_datetime
from babel.dates import format_time as _babel_time
from babel.numbers import format_decimal as _babel_decimal

from app.present.catalog import normalize_language

_DATE_PATTERN = {"de": "dd.MM.yyyy", "en": "d MMM yyyy"}
_TIME_PATTERN = {"de": "HH:mm", "en": "HH:mm"}


# --- dates and times -----------------------------------------------------------------------


def _lang(lang: str) -> str:
    return normalize_language(lang)


def _aware_in(dt: datetime, tz: tzinfo | None) -> datetime:
    """Convert to `tz` (if given). A naive datetime is taken as already being local time."""
    if tz is None or dt.tzinfo is None:
        return dt
    return dt.astimezone(tz)


def fmt_date(d: date | datetime, lang: str, tz: tzinfo | None = None) -> str:
    """Pure: "07.03.2026" (de) / "7 Mar 2026" (en).

    A `date` (a FHIR date without time) is shown as the calendar date it is, never shifted. An
    aware datetime is first converted to `tz` (the hospital's zone) when given, so that a start
    at 23:30 UTC shows the next day in Berlin; without `tz` it is shown as its own date.
    """
    day = _aware_in(d, tz).date() if isinstance(d, datetime) else d
    return _babel_date(day, _DATE_PATTERN[_lang(lang)], locale=_lang(lang))


# A date of which only the month or the year is known (FHIR "1996-07", "1996"): the digits of
# what is known, never a made-up day. "07.1996" (de), "07/1996" (en): month and a 4-digit
# year cannot be read the other way round.
_MONTH_PATTERN = {"de": "MM.yyyy", "en": "MM/yyyy"}


def fmt_partial_date(day: date, precision: str, lang: str) -> str:
    """Pure: a date as far as it is known. `precision` is "year" ("1996"), "month"
    ("07.1996" / "07/1996") or "day" (`fmt_date`: "17.07.1996" / "17 Jul 1996")."""
    if precision == "year":
        return f"{day.year:04d}"
    if precision == "month":
        return _babel_date(day, _MONTH_PATTERN[_lang(lang)], locale=_lang(lang))
    return fmt_date(day, lang)


def period_end(day: date, precision: str) -> date:
    """Pure: the last day of the period a partial date stands for (Dec 31 of a year, the last
    day of a month); `day` itself for a full date."""
    if precision == "year":
        return date(day.year, 12, 31)
    if precision == "month":
        following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
        return following - timedelta(days=1)
    return day


def fmt_time(value: datetime | time, lang: str, tz: tzinfo | None = None) -> str:
    """Pure: "14:05" in both languages; an aware datetime is first converted to `tz`."""
    if isinstance(value, datetime):
        value = _aware_in(value, tz).time().replace(tzinfo=None)
    return _babel_time(value, _TIME_PATTERN[_lang(lang)], locale=_lang(lang))


def fmt_datetime(dt: datetime, lang: str, tz: tzinfo | None = None) -> str:
    """Pure: "07.03.2026 14:05" (de) / "7 Mar 2026 14:05" (en), in time zone `tz`.

    An aware `dt` is converted to `tz` (the hospital's zone) when given; a naive `dt` is shown
    as is. Seconds are dropped: nothing on a ward chart needs them.
    """
    local = _aware_in(dt, tz).replace(tzinfo=None)
    code = _lang(lang)
    return _babel_datetime(local, f"{_DATE_PATTERN[code]} {_TIME_PATTERN[code]}", locale=code)


# --- numbers -------------------------------------------------------------------------------


def fmt_number(x: float | int | Decimal, lang: str, decimals: int | None = None) -> str:
    """Pure: a number with the language's separators: "1.234,5" (de) / "1,234.5" (en).

    `decimals` fixes the number of decimal places (rounded half-even by babel); None shows the
    value's own digits (up to 6). NaN and infinities come back as "–" (not a value to act on).
    """
    if isinstance(x, float) and not math.isfinite(x):
        return "–"
    if decimals is None:
        pattern = "#,##0.######"
    elif decimals <= 0:
        pattern = "#,##0"
    else:
        pattern = "#,##0." + "0" * decimals
    value = Decimal(str(x)) if isinstance(x, float) else x
    return _babel_decimal(value, format=pattern, locale=_lang(lang))


# --- ages and durations --------------------------------------------------------------------

_AGE_UNITS = {
    "de": {"y": "J.", "mo": "Mon.", "wk": "Wo.", "d": "T."},
    "en": {"y": "y", "mo": "mo", "wk": "wk", "d": "d"},
}


def _whole_months(birth: date, today: date) -> int:
    months = (today.year - birth.year) * 12 + (today.month - birth.month)
    if today.day < birth.day:
        months -= 1
    return months


def age_parts(birth_date: date, today: date) -> tuple[int, str] | None:
    """Pure: (amount, unit) with unit "y", "mo", "wk" or "d"; None if born after `today`.

    Years from age 2, months from 3 months to 2 years, weeks from 4 weeks to 3 months, days
    below 4 weeks: the resolution paediatric dosing and charts use.
    """
    if birth_date > today:
        return None
    months = _whole_months(birth_date, today)
    if months >= 24:
        return months // 12, "y"
    if months >= 3:
        return months, "mo"
    days = (today - birth_date).days
    if days >= 28:
        return days // 7, "wk"
    return days, "d"


def fmt_age(birth_date: date, today: date, lang: str) -> str:
    """Pure: "84 J." / "84 y"; infants "14 Mon." / "14 mo", "6 Wo." / "6 wk", "5 T." / "5 d".

    A birth date after `today` (bad data) gives "–" rather than a negative age.
    """
    parts = age_parts(birth_date, today)
    if parts is None:
        return "–"
    amount, unit = parts
    return f"{amount} {_AGE_UNITS[_lang(lang)][unit]}"


def fmt_age_between(earliest: date, latest: date, today: date, lang: str) -> str:
    """Pure: the age of someone born between `earliest` and `latest` (a birth year or month):
    one age when the whole period gives the same ("84 J."), else the range ("29–30 J.",
    "11–23 Mon.", "3 Wo.–11 Mon."). A period partly after `today` counts from today."""
    oldest = age_parts(earliest, today)
    youngest = age_parts(min(latest, today), today)
    if oldest is None or youngest is None:
        return "–"
    if oldest == youngest:
        return fmt_age(earliest, today, lang)
    units = _AGE_UNITS[_lang(lang)]
    if oldest[1] == youngest[1]:
        return f"{youngest[0]}–{oldest[0]} {units[oldest[1]]}"
    return f"{youngest[0]} {units[youngest[1]]}–{oldest[0]} {units[oldest[1]]}"


def fmt_span(td: timedelta, lang: str) -> str:
    """Pure: the length of `td` without direction, e.g. "3 h 5 min".

    "< 1 min" below a minute; "12 min"; "3 h 5 min"; from one day on "1 Tag 3 h" /
    "2 days 3 h" (minutes are dropped then). The sign of `td` is ignored.
    """
    code = _lang(lang)
    total_minutes = int(abs(td).total_seconds() // 60)
    if total_minutes < 1:
        return "< 1 min"
    days, rest = divmod(total_minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        if code == "de":
            day_text = f"{days} Tag" if days == 1 else f"{days} Tage"
        else:
            day_text = f"{days} day" if days == 1 else f"{days} days"
        return f"{day_text} {hours} h" if hours else day_text
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


def fmt_duration(td: timedelta, lang: str) -> str:
    """Pure: how long ago (positive `td`) or how far ahead (negative `td`), in words.

    de: "vor 3 h 5 min", "vor 2 Tagen 3 h", "in 20 min", "gerade eben";
    en: "3 h 5 min ago", "2 days 3 h ago", "in 20 min", "just now" (under one minute).
    """
    code = _lang(lang)
    if abs(td) < timedelta(minutes=1):
        return "gerade eben" if code == "de" else "just now"
    span = fmt_span(td, code)
    if td < timedelta(0):
        return f"in {span}"
    if code == "de":
        # Dative after "vor": "vor 2 Tagen", "vor 1 Tag".
        if span.split(" ", 2)[1] == "Tage":
            span = span.replace(" Tage", " Tagen", 1)
        return f"vor {span}"
    return f"{span} ago"


# --- clinical values -----------------------------------------------------------------------

DASH = "–"  # what an unknown value reads as, on screen and on paper


def clinical_number(x: float | int | Decimal | None, lang: str, decimals: int | None = None) -> str:
    """Pure: a clinical value (dose, lab value, limit): the language's decimal sign, no grouping.

    "4,5" (de) / "4.5" (en); 1067 -> "1067" in both (a German "1.067" reads as 1.067). `decimals`
    fixes the decimal places; None shows the value's own digits (up to 6). None, NaN and
    infinities give "–".
    """
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return DASH
    if decimals is None:
        pattern = "0.######"
    elif decimals <= 0:
        pattern = "0"
    else:
        pattern = "0." + "0" * decimals
    value = Decimal(str(x)) if isinstance(x, float) else x
    return _babel_decimal(value, format=pattern, locale=_lang(lang))


# A decimal number inside a text written by the mapping ("4.5 g", "0.5-1 mg/h"): digits, one
# point, digits, and not part of a date or version ("07.03.2026", "1.2.3") on either side.
_DECIMAL_IN_TEXT = re.compile(r"(?<![\d.,])(\d+)\.(\d+)(?![.,]?\d)")


def localize_numbers(text: str | None, lang: str) -> str:
    """Pure: decimal points in `text` as the language writes them ("4.5 g" -> "4,5 g" in German).

    For texts the mapping formats with a point (doses, rates, maxima, value texts, ranges), so a
    German page never shows "4.5 g" beside "4,5 g". Dates ("07.03.2026") and dotted versions are
    left alone; English text is returned unchanged. None gives "".
    """
    if not text:
        return ""
    if _lang(lang) != "de":
        return text
    return _DECIMAL_IN_TEXT.sub(r"\1,\2", text)


_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def short_day(value: date | datetime, lang: str, tz: tzinfo | None = None) -> str:
    """The day without the year, for grids of times: "30.11." (de) / "30 Nov" (en).

    An aware datetime is taken in `tz` first (a dose at 00:30 Berlin is on the Berlin day).
    Plain string building, not babel: a 72-hour MAR labels thousands of boxes.
    """
    day = _aware_in(value, tz).date() if isinstance(value, datetime) else value
    if _lang(lang) == "de":
        return f"{day.day:02d}.{day.month:02d}."
    return f"{day.day} {_EN_MONTHS[day.month - 1]}"


def date_text(value: date | datetime | None, lang: str, tz: tzinfo | None = None) -> str:
    """A calendar date ("03.05.1948" / "3 May 1948"), a datetime's date in `tz`; "–" if None."""
    return DASH if value is None else fmt_date(value, lang, tz)


def datetime_text(value: datetime | None, lang: str, tz: tzinfo | None) -> str:
    """A moment in the hospital's zone: "29.11.2026 14:05" / "29 Nov 2026 14:05"; "–" if None."""
    return DASH if value is None else fmt_datetime(value, lang, tz)


def day_time_text(value: datetime, lang: str, tz: tzinfo | None, today: date | None) -> str:
    """ "14:05" on `today` (in `tz`), else "30.11. 14:05" / "30 Nov 14:05": for narrow cells
    whose moments lie within days of now (a due dose), where the year says nothing."""
    clock = fmt_time(value, lang, tz)
    if today is not None and _aware_in(value, tz).date() == today:
        return clock
    return f"{short_day(value, lang, tz)} {clock}"


def time_text(value: datetime | None, lang: str, tz: tzinfo | None, today: date | None) -> str:
    """Only "HH:MM" when the moment falls on `today` in `tz`, else date and time; "–" if None."""
    if value is None:
        return DASH
    if today is not None and _aware_in(value, tz).date() == today:
        return fmt_time(value, lang, tz)
    return fmt_datetime(value, lang, tz)

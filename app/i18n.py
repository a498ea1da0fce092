"""German and English UI text, and locale formatting for clinical display.

Catalogs: each module registers its own messages with `register({"id": {"de": ..., "en": ...}})`
at import time; `t(id, lang, **fields)` looks them up. A missing id or a bad format field never
raises: a screen with a raw message id is better than a crashed viewer in a downtime.

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
Everything here is pure except `detect_language`, which reads the environment.
"""

from __future__ import annotations

import locale
import math
import os
import sys
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal

from babel.dates import format_date as _babel_date
from babel.dates import format_datetime as _babel_datetime
from babel.dates import format_time as _babel_time
from babel.numbers import format_decimal as _babel_decimal

LANGUAGES: tuple[str, ...] = ("de", "en")
DEFAULT_LANGUAGE = "en"

_DATE_PATTERN = {"de": "dd.MM.yyyy", "en": "d MMM yyyy"}
_TIME_PATTERN = {"de": "HH:mm", "en": "HH:mm"}

_CATALOG: dict[str, dict[str, str]] = {}


def normalize_language(lang: str | None) -> str:
    """Pure: map any language or locale string ("de_DE.UTF-8", "EN", None) to "de" or "en"."""
    if lang and lang.strip().lower().startswith("de"):
        return "de"
    return DEFAULT_LANGUAGE


def detect_language(setting: str | None, environ: Mapping[str, str] | None = None) -> str:
    """Return the UI language: the setting if it is "de"/"en", else from the locale environment.

    `setting` "auto", "" or None means: look at LC_ALL, then LC_MESSAGES, then LANG (POSIX
    precedence); "de*" gives "de", anything else (including "C" or nothing) gives "en".
    `environ` defaults to `os.environ` (tests pass their own). On Windows, where those variables
    are usually unset, the process locale is used. Never raises.
    """
    if setting:
        wanted = setting.strip().lower()
        if wanted in LANGUAGES:
            return wanted
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:
            return normalize_language(value)
    if environ is None and sys.platform == "win32":
        try:
            return normalize_language(locale.getlocale()[0])
        except (ValueError, TypeError):
            return DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE


# --- catalog -------------------------------------------------------------------------------


def register(catalog: Mapping[str, Mapping[str, str]]) -> None:
    """Add messages to the global catalog: {message_id: {"de": text, "en": text}}.

    Side effect: mutates the process-wide catalog. Registering an id again replaces the texts
    given for it (so a module reload is harmless). Raises ValueError if an entry has no text in
    any supported language, because such a message could never be shown.
    """
    for key, texts in catalog.items():
        known = {lang: text for lang, text in texts.items() if lang in LANGUAGES}
        if not known:
            raise ValueError(f"message {key!r} has no text in {', '.join(LANGUAGES)}")
        _CATALOG.setdefault(key, {}).update(known)


def has_message(key: str) -> bool:
    """Pure: whether `key` is registered."""
    return key in _CATALOG


def t(key: str, lang: str, **fmt: object) -> str:
    """Return message `key` in `lang`, with `{field}` placeholders filled from `fmt`.

    Falls back to English, then to any language; a missing key returns the key itself; a
    template whose fields do not match `fmt` is returned unformatted. Never raises.
    """
    texts = _CATALOG.get(key)
    if not texts:
        return key
    template = texts.get(normalize_language(lang)) or texts.get(DEFAULT_LANGUAGE)
    if template is None:
        template = next(iter(texts.values()))
    if not fmt:
        return template
    try:
        return template.format(**fmt)
    except (KeyError, IndexError, ValueError, AttributeError, TypeError):
        return template


# --- dates and times -----------------------------------------------------------------------


def _lang(lang: str) -> str:
    return normalize_language(lang)


def _aware_in(dt: datetime, tz: tzinfo | None) -> datetime:
    """Convert to `tz` (if given). A naive datetime is taken as already being local time."""
    if tz is None or dt.tzinfo is None:
        return dt
    return dt.astimezone(tz)


def fmt_date(d: date | datetime, lang: str) -> str:
    """Pure: "07.03.2026" (de) / "7 Mar 2026" (en). A datetime is shown as its own date."""
    day = d.date() if isinstance(d, datetime) else d
    return _babel_date(day, _DATE_PATTERN[_lang(lang)], locale=_lang(lang))


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

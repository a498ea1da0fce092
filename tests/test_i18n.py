"""UI language detection, the message catalog, and clinical date/number/age formats."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from app import i18n
from app.i18n import (
    detect_language,
    fmt_age,
    fmt_date,
    fmt_datetime,
    fmt_duration,
    fmt_number,
    fmt_span,
    fmt_time,
    register,
    t,
)

BERLIN = ZoneInfo("Europe/Berlin")


# --- language detection --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "env", "expected"),
    [
        ("de", {"LANG": "en_US.UTF-8"}, "de"),
        ("en", {"LANG": "de_DE.UTF-8"}, "en"),
        ("DE", {}, "de"),
        ("auto", {"LANG": "de_DE.UTF-8"}, "de"),
        (None, {"LANG": "de_AT"}, "de"),
        (None, {"LANG": "fr_FR.UTF-8"}, "en"),
        (None, {"LANG": "C"}, "en"),
        (None, {}, "en"),
        # POSIX precedence: LC_ALL over LC_MESSAGES over LANG.
        (None, {"LC_ALL": "en_GB.UTF-8", "LANG": "de_DE.UTF-8"}, "en"),
        (None, {"LC_MESSAGES": "de_CH.UTF-8", "LANG": "en_US"}, "de"),
        (None, {"LC_ALL": "", "LC_MESSAGES": "", "LANG": "de_DE"}, "de"),
        ("klingon", {"LANG": "de_DE"}, "de"),
    ],
)
def test_detect_language(setting: str | None, env: dict[str, str], expected: str) -> None:
    assert detect_language(setting, env) == expected


def test_detect_language_reads_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    assert detect_language("auto") == "de"
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    assert detect_language(None) == "en"


# --- catalog -------------------------------------------------------------------------------


def test_catalog_lookup_in_both_languages() -> None:
    register(
        {
            "test.greeting": {"de": "Guten Tag, {name}", "en": "Good day, {name}"},
            "test.only_en": {"en": "English only"},
        }
    )
    assert t("test.greeting", "de", name="Sr. Anna") == "Guten Tag, Sr. Anna"
    assert t("test.greeting", "en", name="Anna") == "Good day, Anna"
    # A missing translation falls back to English rather than showing nothing.
    assert t("test.only_en", "de") == "English only"


def test_missing_key_and_bad_fields_never_raise() -> None:
    register({"test.fields": {"de": "{count} Patienten", "en": "{count} patients"}})
    assert t("test.no.such.message", "de") == "test.no.such.message"
    assert t("test.fields", "en") == "{count} patients"  # no fields given: template as is
    assert t("test.fields", "en", other=1) == "{count} patients"
    assert t("test.fields", "xx", count=3) == "3 patients"


def test_register_rejects_message_without_supported_language() -> None:
    with pytest.raises(ValueError, match=r"test\.bad"):
        register({"test.bad": {"fr": "Bonjour"}})
    assert not i18n.has_message("test.bad")


@hyp_settings(deadline=None)
@given(st.text(min_size=1, max_size=30), st.sampled_from(["de", "en", "", "xx"]))
def test_t_never_raises_and_returns_key_when_unknown(key: str, lang: str) -> None:
    result = t("unregistered::" + key, lang, x=1)
    assert result == "unregistered::" + key


# --- dates and times -----------------------------------------------------------------------


def test_date_and_time_formats() -> None:
    instant = datetime(2026, 3, 7, 13, 5, tzinfo=UTC)  # 14:05 in Berlin (CET)
    assert fmt_date(date(2026, 3, 7), "de") == "07.03.2026"
    assert fmt_date(date(2026, 3, 7), "en") == "7 Mar 2026"
    assert fmt_datetime(instant, "de", BERLIN) == "07.03.2026 14:05"
    assert fmt_datetime(instant, "en", BERLIN) == "7 Mar 2026 14:05"
    assert fmt_time(instant, "de", BERLIN) == "14:05"
    assert fmt_time(time(7, 30), "en") == "07:30"
    assert fmt_date(datetime(2026, 12, 1, 9, 0), "en") == "1 Dec 2026"


def test_datetime_conversion_across_midnight_and_dst() -> None:
    # 23:30 UTC on 28 Mar 2026 is 00:30 on 29 Mar in Berlin (CET, before the DST switch at 02:00).
    assert fmt_datetime(datetime(2026, 3, 28, 23, 30, tzinfo=UTC), "de", BERLIN) == (
        "29.03.2026 00:30"
    )
    # After the switch Berlin is UTC+2.
    assert fmt_datetime(datetime(2026, 7, 1, 12, 0, tzinfo=UTC), "en", BERLIN) == (
        "1 Jul 2026 14:00"
    )
    # A naive datetime is shown as it is (already local).
    assert fmt_datetime(datetime(2026, 7, 1, 12, 0), "de", BERLIN) == "01.07.2026 12:00"


@hyp_settings(deadline=None)
@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 12, 31)))
def test_german_datetime_round_trips(dt: datetime) -> None:
    text = fmt_datetime(dt, "de")
    assert datetime.strptime(text, "%d.%m.%Y %H:%M") == dt.replace(second=0, microsecond=0)


@hyp_settings(deadline=None)
@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)))
def test_english_date_spells_the_month(d: date) -> None:
    text = fmt_date(d, "en")
    assert datetime.strptime(text, "%d %b %Y").date() == d


# --- numbers -------------------------------------------------------------------------------


def test_number_formats() -> None:
    assert fmt_number(1234.5, "de") == "1.234,5"
    assert fmt_number(1234.5, "en") == "1,234.5"
    assert fmt_number(0.1, "de", 2) == "0,10"
    assert fmt_number(7, "en", 1) == "7.0"
    assert fmt_number(36.66, "de", 0) == "37"
    assert fmt_number(Decimal("4.25"), "de") == "4,25"
    assert fmt_number(float("nan"), "en") == "–"


@hyp_settings(deadline=None)
@given(
    st.decimals(min_value=-(10**9), max_value=10**9, places=3, allow_nan=False),
    st.integers(min_value=0, max_value=3),
)
def test_german_number_parses_back(value: Decimal, decimals: int) -> None:
    text = fmt_number(value, "de", decimals)
    parsed = Decimal(text.replace(".", "").replace(",", "."))
    assert abs(parsed - value) <= Decimal(1).scaleb(-decimals) / 2
    assert "," in text or decimals == 0


# --- ages and durations --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "today", "de", "en"),
    [
        (date(1941, 3, 8), date(2026, 3, 7), "84 J.", "84 y"),
        (date(1941, 3, 7), date(2026, 3, 7), "85 J.", "85 y"),
        (date(2024, 3, 8), date(2026, 3, 7), "23 Mon.", "23 mo"),
        (date(2025, 12, 1), date(2026, 3, 7), "3 Mon.", "3 mo"),
        (date(2026, 1, 20), date(2026, 3, 7), "6 Wo.", "6 wk"),
        (date(2026, 3, 2), date(2026, 3, 7), "5 T.", "5 d"),
        (date(2026, 3, 7), date(2026, 3, 7), "0 T.", "0 d"),
        (date(2026, 3, 8), date(2026, 3, 7), "–", "–"),
    ],
)
def test_age(birth: date, today: date, de: str, en: str) -> None:
    assert fmt_age(birth, today, "de") == de
    assert fmt_age(birth, today, "en") == en


def test_age_on_leap_day_birthday() -> None:
    assert fmt_age(date(2000, 2, 29), date(2026, 2, 28), "en") == "25 y"
    assert fmt_age(date(2000, 2, 29), date(2026, 3, 1), "en") == "26 y"


@hyp_settings(deadline=None)
@given(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2030, 1, 1)),
    st.integers(min_value=0, max_value=40000),
)
def test_age_matches_calendar_years_for_adults(birth: date, days: int) -> None:
    today = birth + timedelta(days=days)
    years = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
    text = fmt_age(birth, today, "en")
    if years >= 2:
        assert text == f"{years} y"
    else:
        assert text.split()[1] in {"mo", "wk", "d"}


@pytest.mark.parametrize(
    ("td", "de", "en"),
    [
        (timedelta(hours=3, minutes=5), "vor 3 h 5 min", "3 h 5 min ago"),
        (timedelta(minutes=12, seconds=40), "vor 12 min", "12 min ago"),
        (timedelta(hours=4), "vor 4 h", "4 h ago"),
        (timedelta(seconds=20), "gerade eben", "just now"),
        (timedelta(days=1, hours=2), "vor 1 Tag 2 h", "1 day 2 h ago"),
        (timedelta(days=3, minutes=30), "vor 3 Tagen", "3 days ago"),
        (-timedelta(minutes=20), "in 20 min", "in 20 min"),
    ],
)
def test_duration(td: timedelta, de: str, en: str) -> None:
    assert fmt_duration(td, "de") == de
    assert fmt_duration(td, "en") == en


@hyp_settings(deadline=None)
@given(st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(hours=23, minutes=59)))
def test_span_under_a_day_adds_up(td: timedelta) -> None:
    text = fmt_span(td, "en")
    hours = int(text.split(" h")[0]) if " h" in text else 0
    minutes = int(text.split(" min")[0].split()[-1]) if "min" in text else 0
    assert hours * 60 + minutes == int(td.total_seconds() // 60)

"""How loudly the viewer warns about the age of the data shown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from pydantic import ValidationError

from app.freshness import FreshnessLevel, FreshnessThresholds, classify, describe

NOW = datetime(2026, 3, 7, 14, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("age", "level", "colour", "warning"),
    [
        (timedelta(0), FreshnessLevel.FRESH, "green", False),
        (timedelta(minutes=29, seconds=59), FreshnessLevel.FRESH, "green", False),
        (timedelta(minutes=30), FreshnessLevel.AGING, "amber", False),
        (timedelta(hours=3, minutes=59), FreshnessLevel.AGING, "amber", False),
        (timedelta(hours=4), FreshnessLevel.STALE, "red", True),
        (timedelta(hours=71, minutes=59), FreshnessLevel.STALE, "red", True),
        (timedelta(hours=72), FreshnessLevel.EXPIRED, "red", True),
        (timedelta(days=30), FreshnessLevel.EXPIRED, "red", True),
        # A little clock skew between server and laptop is tolerated...
        (-timedelta(minutes=4), FreshnessLevel.FRESH, "green", False),
        # ...but data from the future means this laptop's clock is wrong.
        (-timedelta(minutes=6), FreshnessLevel.FUTURE, "red", True),
    ],
)
def test_default_levels(age: timedelta, level: FreshnessLevel, colour: str, warning: bool) -> None:
    result = classify(NOW - age, NOW)
    assert result.level == level
    assert result.colour == colour
    assert result.is_warning is warning
    assert result.message_key == f"freshness.{level.value}"


def test_missing_data_as_of_is_a_warning() -> None:
    result = classify(None, NOW)
    assert result.level == FreshnessLevel.UNKNOWN
    assert result.is_warning
    assert "unknown" in describe(result, None, "en")


def test_custom_thresholds() -> None:
    limits = FreshnessThresholds(fresh_minutes=5, aging_minutes=60, expired_minutes=24 * 60)
    assert classify(NOW - timedelta(minutes=10), NOW, limits).level == FreshnessLevel.AGING
    assert classify(NOW - timedelta(hours=2), NOW, limits).level == FreshnessLevel.STALE
    assert classify(NOW - timedelta(hours=25), NOW, limits).level == FreshnessLevel.EXPIRED


def test_thresholds_must_increase() -> None:
    with pytest.raises(ValidationError, match="must increase"):
        FreshnessThresholds(fresh_minutes=300, aging_minutes=240)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        classify(datetime(2026, 3, 7, 13, 0), NOW)


def test_messages_in_both_languages() -> None:
    as_of = NOW - timedelta(hours=3, minutes=5)
    result = classify(as_of, NOW)
    assert describe(result, as_of, "de", BERLIN) == (
        "Datenstand 07.03.2026 11:55 (vor 3 h 5 min) – neuere Änderungen beim Team erfragen"
    )
    assert describe(result, as_of, "en", BERLIN).startswith(
        "Data as of 7 Mar 2026 11:55 (3 h 5 min ago)"
    )
    expired = NOW - timedelta(days=4)
    assert describe(classify(expired, NOW), expired, "de").startswith("ABGELAUFEN")
    future = NOW + timedelta(hours=1)
    assert "clock" in describe(classify(future, NOW), future, "en")
    skewed = NOW + timedelta(minutes=2)
    assert "(just now)" in describe(classify(skewed, NOW), skewed, "en")


@hyp_settings(deadline=None)
@given(
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=10)),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=10)),
)
def test_older_data_is_never_classified_fresher(a: timedelta, b: timedelta) -> None:
    order = [FreshnessLevel.FRESH, FreshnessLevel.AGING, FreshnessLevel.STALE]
    order.append(FreshnessLevel.EXPIRED)
    younger, older = sorted((a, b))
    assert order.index(classify(NOW - younger, NOW).level) <= order.index(
        classify(NOW - older, NOW).level
    )

"""The viewer's clock checks: a laptop zone other than the hospital's is named, a laptop clock
that is implausible (before the copy was built, far ahead of data-as-of) is a warning, and the
"older snapshot" notice is a translated sentence in the hospital's zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from app.freshness import FreshnessLevel, classify, describe
from app.present.snapshot import older_snapshot_text
from app.present.zone import differs_from_laptop, zone_label
from app.ui.viewmodels.banner import banner_view

NOW = datetime(2026, 11, 30, 13, 0, tzinfo=UTC)  # 14:00 in Berlin (CET)
BERLIN = ZoneInfo("Europe/Berlin")


def test_laptop_zone_other_than_hospital_is_named_in_the_banner() -> None:
    as_of = NOW - timedelta(minutes=10)
    view = banner_view(
        ward="3A",
        data_as_of=as_of,
        now=NOW,
        user=None,
        tz=BERLIN,
        lang="en",
        laptop_tz=UTC,
        check_laptop_zone=True,
    )
    assert view.zone_notice == "times in Europe/Berlin (hospital)"
    assert "13:50 CET" in view.as_of_short  # Berlin time, saying so; never the laptop's 12:50
    assert "12:50" not in view.as_of_short
    assert "Europe/Berlin" in view.as_of_text
    de = banner_view(
        ward="3A",
        data_as_of=as_of,
        now=NOW,
        user=None,
        tz=BERLIN,
        lang="de",
        laptop_tz=UTC,
        check_laptop_zone=True,
    )
    assert de.zone_notice == "Zeiten in Europe/Berlin (Klinik)"


def test_laptop_in_the_hospital_zone_shows_no_zone_notice() -> None:
    for laptop in (BERLIN, ZoneInfo("Europe/Paris")):  # same wall time: nothing to say
        view = banner_view(
            ward="3A",
            data_as_of=NOW,
            now=NOW,
            user=None,
            tz=BERLIN,
            lang="de",
            laptop_tz=laptop,
            check_laptop_zone=True,
        )
        assert view.zone_notice is None
        assert "CET" not in view.as_of_short and "Europe" not in view.as_of_text
    assert differs_from_laptop(BERLIN, None, NOW)  # unknown laptop zone: say it
    assert zone_label(BERLIN, NOW) == "CET"
    assert zone_label(BERLIN, datetime(2026, 7, 1, tzinfo=UTC)) == "CEST"
    assert zone_label(BERLIN, datetime(2026, 7, 1, tzinfo=UTC), "de") == "MESZ"
    assert zone_label(ZoneInfo("America/Sao_Paulo"), NOW) == "America/Sao_Paulo"


def test_laptop_clock_before_the_copy_was_built_is_a_clock_warning() -> None:
    built = NOW + timedelta(hours=2)  # the laptop clock stands two hours before the build
    as_of = NOW - timedelta(minutes=5)
    fresh = classify(as_of, NOW, built_at=built)
    assert fresh.level == FreshnessLevel.FUTURE and fresh.is_warning
    assert "CHECK CLOCK" in describe(fresh, as_of, "en", BERLIN)
    assert "UHRZEIT PRÜFEN" in describe(fresh, as_of, "de", BERLIN)
    view = banner_view(
        ward="3A", data_as_of=as_of, now=NOW, user=None, tz=BERLIN, lang="de", built_at=built
    )
    assert view.warning and view.colour == "red"
    assert "Uhr dieses Laptops" in view.as_of_text
    # Within the tolerated skew (5 min) a build time just ahead is not a warning.
    assert not classify(as_of, NOW, built_at=NOW + timedelta(minutes=3)).is_warning


def test_laptop_clock_far_ahead_of_data_as_of_is_a_clock_warning() -> None:
    as_of = NOW - timedelta(days=90)
    result = classify(as_of, NOW)
    assert result.level == FreshnessLevel.CLOCK_AHEAD and result.is_warning
    assert result.colour == "red"
    text = describe(result, as_of, "en", BERLIN)
    assert text.startswith("CHECK CLOCK") and "ahead" in text
    assert "UHRZEIT PRÜFEN" in describe(result, as_of, "de", BERLIN)
    # Days-old data on a plausible clock is expired, not a clock problem.
    assert classify(NOW - timedelta(days=30), NOW).level == FreshnessLevel.EXPIRED


def test_older_snapshot_notice_is_translated_and_in_hospital_time() -> None:
    as_of = datetime(2026, 11, 30, 6, 15, tzinfo=UTC)  # 07:15 in Berlin
    de = older_snapshot_text(as_of, "de", BERLIN, newer_unreadable=True)
    assert "30.11.2026 07:15 MEZ" in de
    assert "neueste Kopie" in de and "IT" in de
    assert "T06:15" not in de and "snapshot" not in de and "Z)" not in de
    en = older_snapshot_text(as_of, "en", BERLIN, newer_unreadable=False)
    assert "30 Nov 2026 07:15 CET" in en and "older copy" in en

"""The banner on every screen: ward, age of the data, read-only notice, who is in (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from app import i18n
from app.freshness import FreshnessThresholds, classify, describe
from app.present.zone import differs_from_laptop, zone_label
from app.ui import fmt
from app.ui.strings import tr


@dataclass(frozen=True)
class UserView:
    user_id: str
    display_name: str
    role: str | None = None
    break_glass: bool = False
    break_glass_reason: str | None = None


@dataclass(frozen=True)
class BannerView:
    ward: str
    as_of_text: str  # "Datenstand 29.11.2026 14:05 (vor 12 min)", with the warning when old
    as_of_short: str  # "Datenstand 14:05 (vor 12 min)": fits the banner beside everything else
    level: str  # app.freshness level: fresh | aging | stale | expired | future | unknown
    colour: str  # "green" | "amber" | "red"
    warning: bool  # stale or worse: the banner turns into a warning bar
    read_only: str  # always visible
    read_only_short: str  # the same in the session's language only (compact banner)
    user_text: str | None  # "Pflege Anna Berg" / "NOTFALLZUGRIFF: Anna Berg"
    break_glass: bool
    # "times in Europe/Berlin (hospital)" when the laptop's clock zone differs, else None
    zone_notice: str | None = None


def _as_of_short(
    data_as_of: datetime | None, now: datetime, tz: tzinfo | None, lang: str, show_zone: bool
) -> str:
    if data_as_of is None:
        return tr("banner.as_of_unknown", lang)
    today = now.astimezone(tz).date()
    when = fmt.time_text(data_as_of, tz, lang, today)
    if show_zone and tz is not None:  # "14:05 CET": not to be read as the laptop clock's time
        when = f"{when} {zone_label(tz, data_as_of, lang)}"
    age = i18n.fmt_duration(max(now - data_as_of, timedelta(0)), lang)
    return tr("banner.as_of", lang, when=when, age=age)


def banner_view(
    *,
    ward: str,
    data_as_of: datetime | None,
    now: datetime,
    user: UserView | None,
    tz: tzinfo | None,
    lang: str,
    thresholds: FreshnessThresholds | None = None,
    built_at: datetime | None = None,
    laptop_tz: tzinfo | None = None,
    check_laptop_zone: bool = False,
) -> BannerView:
    """The banner shown on every screen: ward, age of the data, read-only notice, who is in.

    The wording and colour of the data age come from app.freshness, so every screen (and the
    printouts) agree on what "stale" means. `built_at` (the snapshot's build time) lets it
    warn about a laptop clock set before the copy existed. With `check_laptop_zone`, a
    `laptop_tz` (the laptop clock's zone) that differs from `tz` adds a quiet notice naming
    the hospital zone, and the data-as-of times say their zone.
    """
    fresh = classify(data_as_of, now, thresholds, built_at=built_at)
    show_zone = check_laptop_zone and tz is not None and differs_from_laptop(tz, laptop_tz, now)
    zone_name = str(getattr(tz, "key", "") or "") if show_zone else ""
    user_text = None
    if user is not None:
        name = user.display_name or user.user_id
        user_text = tr("banner.break_glass_user", lang, name=name) if user.break_glass else name
    return BannerView(
        ward=ward,
        as_of_text=describe(fresh, data_as_of, lang, tz, show_zone=show_zone),
        as_of_short=_as_of_short(data_as_of, now, tz, lang, show_zone),
        level=fresh.level.value,
        colour=fresh.colour,
        warning=fresh.is_warning,
        read_only=tr("banner.read_only", lang),
        read_only_short=tr("banner.read_only_short", lang),
        user_text=user_text,
        break_glass=bool(user and user.break_glass),
        zone_notice=tr("banner.zone_notice", lang, zone=zone_name) if zone_name else None,
    )

"""PURE: how old the shown data is, as a level the viewer can colour and a message to show.

Every view shows "data as of"; this module decides how loudly. Levels, with default thresholds:

| level     | age of the data           | colour | meaning for the ward                          |
|-----------|---------------------------|--------|-----------------------------------------------|
| fresh     | under 30 min              | green  | current                                       |
| aging     | 30 min to under 4 h       | amber  | check recent changes with the team            |
| stale     | 4 h to under 72 h         | red    | orders and results may have changed           |
| expired   | 72 h or more              | red    | strong warning: treat as historical only      |
| future    | more than 5 min ahead     | red    | this laptop's clock is wrong; ages unreliable |
|           | (or clock before build)   |        |                                               |
| clock_ahead | 60 days or more         | red    | clock probably ahead; due/overdue unreliable  |
| unknown   | no data-as-of time        | red    | nothing installed or the time is missing      |

No I/O, no clock: the caller passes `now`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app import i18n


class FreshnessLevel(StrEnum):
    FRESH = "fresh"
    AGING = "aging"
    STALE = "stale"
    EXPIRED = "expired"
    FUTURE = "future"
    CLOCK_AHEAD = "clock_ahead"
    UNKNOWN = "unknown"


class FreshnessThresholds(BaseModel):
    """Upper bounds (exclusive) of each level, in minutes; must increase strictly."""

    model_config = ConfigDict(extra="forbid")

    fresh_minutes: int = Field(30, ge=1, description="below this age the data is 'fresh' (green)")
    aging_minutes: int = Field(240, ge=1, description="below this age it is 'aging' (amber)")
    expired_minutes: int = Field(
        72 * 60, ge=1, description="from this age on it is 'expired' (strong warning)"
    )
    clock_skew_minutes: int = Field(
        5, ge=0, description="data-as-of this far in the future is tolerated as clock skew"
    )
    clock_ahead_days: int = Field(
        60,
        ge=1,
        description="data this old (or older) means the laptop clock is probably ahead: "
        "due/overdue times depend on it, so the viewer says to check the clock",
    )

    @model_validator(mode="after")
    def _increasing(self) -> FreshnessThresholds:
        if not self.fresh_minutes < self.aging_minutes < self.expired_minutes:
            raise ValueError(
                "freshness thresholds must increase: fresh_minutes < aging_minutes < "
                f"expired_minutes (got {self.fresh_minutes}, {self.aging_minutes}, "
                f"{self.expired_minutes})"
            )
        return self


# Colours are semantic names; the UI maps them to its palette.
COLOUR = {
    FreshnessLevel.FRESH: "green",
    FreshnessLevel.AGING: "amber",
    FreshnessLevel.STALE: "red",
    FreshnessLevel.EXPIRED: "red",
    FreshnessLevel.FUTURE: "red",
    FreshnessLevel.CLOCK_AHEAD: "red",
    FreshnessLevel.UNKNOWN: "red",
}


@dataclass(frozen=True)
class Freshness:
    """The classification of one data-as-of time at one moment."""

    level: FreshnessLevel
    age: timedelta | None  # now - data_as_of; None when unknown; negative when in the future
    message_key: str  # i18n id; fields: as_of, ago

    @property
    def colour(self) -> str:
        """ "green", "amber" or "red"."""
        return COLOUR[self.level]

    @property
    def is_warning(self) -> bool:
        """True when the viewer should show a warning banner, not just the coloured time."""
        return self.level not in (FreshnessLevel.FRESH, FreshnessLevel.AGING)


def classify(
    data_as_of: datetime | None,
    now: datetime,
    thresholds: FreshnessThresholds | None = None,
    built_at: datetime | None = None,
) -> Freshness:
    """Classify the age of `data_as_of` at `now` (both timezone-aware).

    The laptop clock is checked too, since due/overdue and every age depend on it: a `now`
    before the copy was built (`built_at`, the snapshot's build time) or before data-as-of
    (beyond the tolerated skew) is FUTURE ("check clock"); data `clock_ahead_days` old or older
    is CLOCK_AHEAD (the clock is probably ahead, or the copy is useless anyway).

    Raises ValueError if either datetime is naive: an age computed across unknown offsets could
    show hours-old data as fresh.
    """
    limits = thresholds or FreshnessThresholds()
    if data_as_of is None:
        return Freshness(FreshnessLevel.UNKNOWN, None, "freshness.unknown")
    if data_as_of.tzinfo is None or now.tzinfo is None:
        raise ValueError("freshness needs timezone-aware datetimes (data_as_of and now)")
    age = now - data_as_of
    skew = timedelta(minutes=limits.clock_skew_minutes)
    if age < -skew:
        return Freshness(FreshnessLevel.FUTURE, age, "freshness.future")
    if built_at is not None and built_at.tzinfo is not None and now < built_at - skew:
        return Freshness(FreshnessLevel.FUTURE, age, "freshness.clock_behind")
    if age >= timedelta(days=limits.clock_ahead_days):
        return Freshness(FreshnessLevel.CLOCK_AHEAD, age, "freshness.clock_ahead")
    if age < timedelta(minutes=limits.fresh_minutes):
        level = FreshnessLevel.FRESH
    elif age < timedelta(minutes=limits.aging_minutes):
        level = FreshnessLevel.AGING
    elif age < timedelta(minutes=limits.expired_minutes):
        level = FreshnessLevel.STALE
    else:
        level = FreshnessLevel.EXPIRED
    return Freshness(level, age, f"freshness.{level.value}")


def describe(
    freshness: Freshness,
    data_as_of: datetime | None,
    lang: str,
    tz: tzinfo | None = None,
    *,
    show_zone: bool = False,
) -> str:
    """Pure: the sentence to show, e.g. "Datenstand 07.03.2026 14:05 (vor 3 h 5 min)".

    `show_zone` names the zone after the time ("14:05 Europe/Berlin"): the viewer sets it when
    the laptop's clock zone differs from the hospital's, so nobody reads it as laptop time."""
    if data_as_of is None or freshness.age is None:
        return i18n.t(freshness.message_key, lang)
    as_of = i18n.fmt_datetime(data_as_of, lang, tz)
    zone = getattr(tz, "key", None) if tz is not None else None
    if show_zone and zone:
        as_of = f"{as_of} {zone}"
    # Within the tolerated skew a slightly future time reads as "just now", not "in 2 min".
    age = max(freshness.age, timedelta(0)) if freshness.level != FreshnessLevel.FUTURE else None
    ago = i18n.fmt_duration(age, lang) if age is not None else ""
    return i18n.t(freshness.message_key, lang, as_of=as_of, ago=ago)

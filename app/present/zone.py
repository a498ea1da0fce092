"""The hospital's time zone: every time a clinician reads is shown in it, never in the laptop's.

A ward laptop's clock zone may be anything (UTC on a freshly imaged machine, the vendor's zone);
a dose due at 08:00 in Berlin must read 08:00. The zone comes, in this order, from: an explicit
choice (`wardcopy print --tz`, the laptop setting `time_zone` an administrator may set), the
snapshot (`SnapshotMeta.time_zone`, written by the sync server from its config), else
`DEFAULT_TIME_ZONE` (the sync config's default) for snapshots built before the field existed.

Pure; never raises.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: The sync config's default zone (sync.config.SyncConfig.timezone); used for old snapshots.
DEFAULT_TIME_ZONE = "Europe/Berlin"


def zone_or_none(name: str | None) -> ZoneInfo | None:
    """`ZoneInfo(name)`, or None when `name` is empty or not a known IANA zone."""
    if not name or not name.strip():
        return None
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        return None


def hospital_zone(*names: str | None) -> ZoneInfo:
    """The first valid zone of `names` (most explicit first), else `DEFAULT_TIME_ZONE`.

    Typical call: `hospital_zone(settings.time_zone, meta.time_zone)`.
    """
    for name in names:
        zone = zone_or_none(name)
        if zone is not None:
            return zone
    return ZoneInfo(DEFAULT_TIME_ZONE)


def differs_from_laptop(hospital: tzinfo, laptop: tzinfo | None, now: datetime) -> bool:
    """True when the laptop's clock zone shows a different wall time than the hospital's at `now`
    (an aware moment): the viewer then says which zone its times are in. A laptop zone that is
    unknown (None) counts as different, since nobody can tell what the clock shows."""
    if laptop is None:
        return True
    return now.astimezone(hospital).utcoffset() != now.astimezone(laptop).utcoffset()


def zone_label(tz: tzinfo, when: datetime, lang: str = "en") -> str:
    """The zone's short name at `when` in `lang` ("MEZ"/"MESZ" in German, "CET"/"CEST" in
    English), else its IANA name, else ""."""
    local = when.astimezone(tz)
    abbreviation = local.tzname() or ""
    if lang == "de":
        # babel knows the German names (CLDR); English CLDR has none for Central Europe.
        from babel.dates import get_timezone_name

        try:
            german = get_timezone_name(local, width="short", locale="de")
        except (LookupError, ValueError):
            german = ""
        if german[:1].isalpha():
            abbreviation = german
    # Zones without a letter abbreviation give "+03"; the IANA name reads better then.
    if abbreviation and abbreviation[0].isalpha():
        return abbreviation
    return str(getattr(tz, "key", "") or abbreviation)

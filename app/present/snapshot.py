"""Sentences about which snapshot the viewer shows, for screen and paper alike (pure).

The receive layer explains a fallback to an older snapshot in technical English for the log and
for IT (`InstalledSnapshot.fallback_reason`); a nurse reads this sentence instead: translated,
with the shown copy's data-as-of time in the hospital's zone.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from app.present.catalog import t
from app.present.formats import fmt_datetime
from app.present.zone import zone_label


def older_snapshot_text(
    data_as_of: datetime, lang: str, tz: tzinfo, *, newer_unreadable: bool
) -> str:
    """The notice shown while an older snapshot than the newest received one is open.

    `newer_unreadable`: the newest copy on this laptop could not be opened (damaged, missing);
    otherwise it is merely not the one shown. The time is in `tz` and says its zone.
    """
    when = f"{fmt_datetime(data_as_of, lang, tz)} {zone_label(tz, data_as_of, lang)}".strip()
    key = "snapshot.older_unreadable" if newer_unreadable else "snapshot.older"
    return t(key, lang, when=when)

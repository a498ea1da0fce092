"""Who sees patient data, and the status screen shown instead of the census to the IT admin.

Pure: no I/O, no Flet. The admin role keeps the laptop working (settings, snapshot status) and
sees no patient data unless it also holds a clinical role; break-glass access is always clinical
(the roster allows only clinical roles for it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.settings import Settings
from app.ui.strings import tr
from app.ui.viewmodels.banner import BannerView, UserView

CLINICAL_ROLES = frozenset({"nurse", "physician"})


def sees_patients(user: UserView | None) -> bool:
    """True when `user` may see the census and charts: a clinical role or break-glass.

    A user without a recorded role (older sessions) is treated as clinical, as before roles
    were told apart; the roster always records one.
    """
    if user is None:
        return False
    if user.break_glass or user.role is None:
        return True
    roles = {r.strip().casefold() for r in user.role.replace("+", ",").split(",") if r.strip()}
    return bool(roles & CLINICAL_ROLES)


@dataclass(frozen=True)
class StatusLine:
    label: str
    value: str
    warning: bool = False


@dataclass(frozen=True)
class StatusView:
    title: str
    intro: str  # why no patient data is shown
    lines: list[StatusLine]


def status_view(
    *,
    banner: BannerView,
    wards: Sequence[str],
    settings: Settings,
    zone_name: str,
    notices: Sequence[str],
    lang: str,
) -> StatusView:
    """The status screen's content: the snapshot's age and the laptop's settings, no patients."""
    lines = [
        StatusLine(tr("status.ward", lang), banner.ward or "–"),
        StatusLine(tr("status.data_as_of", lang), banner.as_of_text, banner.warning),
        StatusLine(tr("status.wards", lang), ", ".join(wards) or "–"),
        StatusLine(tr("status.time_zone", lang), zone_name),
        StatusLine(
            tr("status.idle", lang), tr("status.minutes", lang, n=settings.idle_lock_minutes)
        ),
        StatusLine(
            tr("status.printer", lang), settings.default_printer or tr("settings.printer_os", lang)
        ),
        StatusLine(tr("status.mar_hours", lang), tr("status.hours", lang, n=settings.mar_hours)),
    ]
    lines.extend(StatusLine(tr("status.notice", lang), n, True) for n in notices)
    return StatusView(tr("status.title", lang), tr("status.no_patients", lang), lines)

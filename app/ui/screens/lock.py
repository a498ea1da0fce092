"""The idle lock: after the idle time everything is covered and a new login is needed.

The lock screen is the login form (app.ui.screens.login) under the lock's title; this module
holds that title, the locking itself and the timer that triggers it.
"""

from __future__ import annotations

import asyncio
import time

import flet as ft

from app.ui import theme
from app.ui.screens.host import ScreenHost
from app.ui.viewmodels.login import LoginForm
from app.ui.widgets.basic import text

BANNER_REFRESH_SECONDS = 30  # "data as of (age)" and its colour stay current without input


def lock_intro(host: ScreenHost) -> list[ft.Control]:
    """The lock screen's title and help text (above the login fields)."""
    title = ft.Row(
        [
            ft.Icon(ft.Icons.LOCK, color=theme.NAVY, size=34),
            text(host.translate("lock.title"), theme.FONT_NAME, bold=True, color=theme.NAVY),
        ],
        spacing=10,
    )
    minutes = max(1, round(host.idle.timeout.total_seconds() / 60))
    return [title, text(host.translate("lock.help", minutes=minutes), theme.FONT_BODY)]


class IdleLocker:
    """Locks the session when the idle time is reached (polled once a second)."""

    def __init__(self, host: ScreenHost) -> None:
        self.host = host

    async def lock(self) -> None:
        """Cover everything: patient data leaves the page; a new login is needed."""
        host = self.host
        user = host.user
        if user is None:
            return
        # Take the data off the screen first, then record the lock.
        host.user = None
        host.may_change_settings = False
        host.reopen_patient = (user.user_id, host.chart.record.id if host.chart else "")
        host.chart = None
        host.census.set_query("")
        host.login_form = LoginForm()
        host.show_login(locked=True)
        await host.on_worker(host.backend.lock)
        if user.break_glass:
            # No password to unlock with: the person starts break-glass again, with a reason.
            host.reopen_patient = None
            await host.on_worker(host.backend.logout, "idle")
            host.show_login(locked=True)

    async def run(self) -> None:
        """The session's timer: lock when idle, refresh the banner now and then. Ends with the
        session."""
        host = self.host
        last_banner = time.monotonic()
        while not host.closed:
            await asyncio.sleep(1)
            if host.user is not None and host.idle.should_lock(host.now()):
                await self.lock()
            elif (
                time.monotonic() - last_banner >= BANNER_REFRESH_SECONDS
                and host.screen != "problem"
            ):
                last_banner = time.monotonic()
                host.render_banner()
                host.update()

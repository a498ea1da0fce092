"""The viewer's shell: the window frame (banner, notices, body) and the routes between screens.

Screen flow: snapshot problem -> login -> census/search -> chart; idle lock over everything.
`make_main(home, ward)` returns the Flet `main(page)` coroutine; one `Viewer` per page session.
Each screen is its own module in app.ui.screens; the shared state and plumbing (worker thread,
banner, language) are `ScreenHost`'s.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import flet as ft

from app.ui import theme
from app.ui.screens.census import LIST_LIMIT, CensusScreen
from app.ui.screens.chart import ChartScreen
from app.ui.screens.due import DueScreen
from app.ui.screens.host import ScreenHost, idle_timeout, suppress
from app.ui.screens.lock import IdleLocker
from app.ui.screens.login import LoginScreen
from app.ui.screens.print_dialog import PrintDialog
from app.ui.screens.problem import ProblemScreen
from app.ui.screens.settings import SettingsDialog
from app.ui.screens.status import StatusScreen
from app.ui.session import SnapshotProblem
from app.ui.viewmodels import fit
from app.ui.viewmodels.census import CensusModel
from app.ui.viewmodels.chart import ChartModel
from app.ui.viewmodels.layout import layout_for
from app.ui.viewmodels.status import sees_patients

log = logging.getLogger(__name__)
DUES_MAX_AGE = 120.0  # seconds: the census due column is recomputed when older on return
DUES_CHUNK = 50  # patients whose due state one worker job computes
DUES_YIELD = 1.0  # seconds after the last key before the due column reads on
DUES_POLL = 0.5  # seconds between looks at the shared due inputs while they are being read

DIALOG_ESC_GRACE = 0.6  # s: an Esc this soon after a dialog closed was meant for the dialog


class Viewer(ScreenHost):
    """One viewer session (one window or browser tab): routes between the screens."""

    def __init__(
        self,
        page: ft.Page,
        home: Path,
        ward: str | None,
        sessions: SessionCounter | None = None,
    ) -> None:
        super().__init__(page, home, ward)
        self.sessions = sessions
        self.problem_screen = ProblemScreen(self)
        self.login_screen = LoginScreen(self)
        self.locker = IdleLocker(self)
        self.census_screen = CensusScreen(self)
        self.due_screen = DueScreen(self)
        self.chart_screen = ChartScreen(self)
        self.print_dialog = PrintDialog(self)
        self.settings_dialog = SettingsDialog(self)
        self.status_screen = StatusScreen(self)
        self.dues_loaded_at = float("-inf")  # time.monotonic() of the last due column load
        self._dues_gen = 0  # bumped per due column load; an older load stops

    # -- start ------------------------------------------------------------------------------------

    async def start(self) -> None:
        page = self.page
        page.title = self.translate("app.title")
        page.padding = 0
        page.spacing = 0
        page.bgcolor = theme.CANVAS
        page.theme_mode = ft.ThemeMode.LIGHT
        page.theme = ft.Theme(color_scheme_seed=theme.NAVY)
        page.on_keyboard_event = self._on_key
        page.on_close = self._on_close
        page.on_disconnect = self._on_disconnect
        page.on_connect = self._on_connect
        page.on_resize = self._on_resize
        if self.sessions is not None:
            self.sessions.opened()
        with suppress():
            page.window.min_width = 1024
            page.window.min_height = 700
            page.window.width = 1366
            page.window.height = 768
        page.add(
            ft.Column(
                [self.banner_slot, self.notice_slot, self.body],
                spacing=0,
                expand=True,
                # Full width: the banner's halves sit at both ends (and wrap when narrow).
                horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
            )
        )
        self.show_loading()
        page.run_task(self.locker.run)
        await self.open_snapshot()

    async def open_snapshot(self, ward: str | None = None) -> None:
        result = await self.on_worker(self.backend.open, ward)
        if isinstance(result, SnapshotProblem):
            self.problem = result
            self.show_problem()
            return
        self.problem = None
        self.tz = self.backend.tz()  # the hospital's zone, as this snapshot records it
        self.break_glass_ok = await self.on_worker(self.backend.break_glass_allowed)
        self.ward_choices = await self.on_worker(self.backend.ward_choices)
        rows = await self.on_worker(self.backend.census)
        self.census = CensusModel(rows, ward_id=result.ward)
        # The due/overdue column needs every record decoded: after the census is shown.
        self.page.run_task(self.load_dues)
        if self.freshness_level() == "expired" and not self.expired_ack:
            self.show_problem(expired=True)
            return
        if self.user is None:
            self.show_login()
        else:
            self.show_census()

    async def load_dues(self) -> None:
        """Fill the census due/overdue column (app.duelist) from the due inputs every session of
        this viewer shares (app.snapcache: one background thread reads each snapshot's records
        once, the patients listed here first); a damaged record must not break the census (its
        cell stays empty).

        The answers are computed here, DUES_CHUNK patients per job of the session's worker
        thread (a login or a search waits for one part, not for all). The listed patients are
        shown as soon as they are read; the others fill in when all are, the work pausing while
        the user types (DUES_YIELD) and polling every DUES_POLL s while the shared reading is
        behind. A patient not yet read shows an empty cell, never "nothing due". A newer load
        (back to the census later) stops an older one."""
        census = self.census
        self.dues_loaded_at = time.monotonic()
        self._dues_gen += 1
        gen = self._dues_gen
        now, tz = self.now(), self.tz
        first = [r.patient_id for r in census.visible()[:LIST_LIMIT]]
        listed = set(first)
        pending = first + [r.patient_id for r in census.rows if r.patient_id not in listed]
        dues = dict(census.dues)  # the previous figures stay until their patient is read again
        shown_listed = False
        try:
            await self.on_worker(self.backend.want_dues, first)
            while pending:
                # While the user types or moves, the rest waits: each key's update comes first.
                while shown_listed and time.monotonic() - self.input_at < DUES_YIELD:
                    await asyncio.sleep(DUES_YIELD / 2)
                part = await self.on_worker(
                    self.backend.census_dues_ready, pending, now, tz, DUES_CHUNK
                )
                if census is not self.census or gen != self._dues_gen or self.closed:
                    return  # another ward, or a newer load
                dues.update(part.dues)
                pending = part.pending
                listed_done = not pending or pending[0] not in listed  # first come first
                if (listed_done and not shown_listed) or not pending:
                    shown_listed = True
                    census.set_dues(dues)
                    self.census_screen.refresh()
                if pending and not part.dues:
                    await asyncio.sleep(DUES_POLL)  # the shared reading is behind: wait for it
        except Exception as exc:
            log.warning("due/overdue column: %s", exc)

    # -- routes -----------------------------------------------------------------------------------

    def show_problem(self, *, expired: bool = False) -> None:
        self.problem_screen.show(expired=expired)

    def show_login(self, *, locked: bool = False) -> None:
        # Nothing of the previous screen may stay in the tree (or the accessibility tree).
        self.chart_screen.clear()
        self.census_screen.drop()
        self.login_screen.show(locked=locked)

    def show_census(self, *, reuse: bool = False) -> None:
        # The IT admin role (without a clinical one) gets the status screen: no patient data.
        if not sees_patients(self.user):
            self.census_screen.drop()
            self.status_screen.show()
            return
        self.census_screen.show(reuse=reuse)
        if time.monotonic() - self.dues_loaded_at > DUES_MAX_AGE:
            # Due and overdue change with the clock: recompute when the census comes back.
            self.page.run_task(self.load_dues)

    def show_chart(self) -> None:
        if sees_patients(self.user):
            self.chart_screen.show()

    async def open_patient(self, patient_id: str) -> None:
        if sees_patients(self.user):
            await self.chart_screen.open_patient(patient_id)

    async def open_print_dialog(self, *, patient: bool, docs: list[str] | None = None) -> None:
        if sees_patients(self.user):
            await self.print_dialog.open(patient=patient, docs=docs)

    async def open_due(self) -> None:
        if sees_patients(self.user):
            await self.due_screen.open()

    async def open_settings(self, e: Any) -> None:
        await self.settings_dialog.open(e)

    async def on_logout(self, e: Any) -> None:
        await self.login_screen.logout(e)

    async def lock(self) -> None:
        await self.locker.lock()

    async def on_ward(self, e: Any) -> None:
        ward = e.control.value
        if not ward or (self.backend.current and ward == self.backend.current.ward):
            return
        if not self.may_see(ward):
            return
        self.show_loading()
        await self.open_snapshot(ward)
        if self.user is not None:
            await self.audit("ward_open", new_ward=ward)

    def apply_settings(self) -> None:
        """Use changed settings at once: language, time zone, idle time, break-glass offer."""
        settings = self.backend.settings
        if settings.language != "auto":
            self.lang = settings.language
        self.tz = self.backend.tz()
        self.idle.timeout = idle_timeout(settings.idle_lock_minutes)
        self.rerender()

    # -- keys, language, close --------------------------------------------------------------------

    async def _on_key(self, e: ft.KeyboardEvent) -> None:
        self.touch()
        log.debug("key %r ctrl=%s screen=%s", e.key, e.ctrl, self.screen)
        if e.key == "Escape" and self.menu_open:
            # Esc closed an open drop-down list (Flutter does that itself): nothing else.
            self.menu_open = False
            return
        if self.open_dialog is not None:
            # A dialog has the keys: Esc closes it and nothing else (not the chart as well).
            if e.key == "Escape":
                self.close_dialog()
            return
        if e.key == "Escape" and time.monotonic() - self.dialog_closed_at < DIALOG_ESC_GRACE:
            return
        if self.screen == "census":
            await self.census_screen.on_key(e)
        elif self.screen == "chart":
            await self.chart_screen.on_key(e)
        elif self.screen == "due":
            await self.due_screen.on_key(e)

    async def on_language(self, _e: Any) -> None:
        self.lang = "en" if self.lang == "de" else "de"
        self.page.title = self.translate("app.title")
        if self.chart is not None:
            self.chart = ChartModel(
                self.chart.record,
                now=self.now(),
                tz=self.tz,
                lang=self.lang,
                data_as_of=self.chart.data_as_of,
                windows=self.chart.windows,
            )
        self.rerender()

    def rerender(self) -> None:
        """Draw the current screen again (after a language or settings change)."""
        if self.screen == "census":
            self.show_census()
        elif self.screen == "chart":
            self.show_chart()
        elif self.screen in ("login", "lock"):
            self.show_login(locked=self.screen == "lock")
        elif self.screen == "problem":
            self.show_problem(expired=self.problem is None)
        elif self.screen == "status":
            self.status_screen.show()
        elif self.screen == "due":
            self.due_screen.show()
        else:
            self.render_banner()
            self.update()

    async def _on_resize(self, e: ft.PageResizeEvent) -> None:
        """A narrower or wider window: switch between the compact and the full layout."""
        layout = layout_for(e.width, e.height)  # the height: rows drawn after a key
        changed = layout.compact != self.layout.compact
        self.layout = layout
        if not changed:
            return
        if self.screen in ("census", "chart"):
            self.rerender()
        else:
            # Forms are not rebuilt (what is being typed stays); only the banner changes.
            self.render_banner()
            self.update()

    async def _on_connect(self, _e: Any) -> None:
        if self.sessions is not None:
            self.sessions.opened()

    async def _on_disconnect(self, _e: Any) -> None:
        """The window or tab was closed: end the session (audited) and drop the patient data."""
        if self.sessions is not None:
            self.sessions.closed()
        # Nobody sees this census now: its due column stops (and is computed afresh on return),
        # so a closed tab takes no time from the sessions still open.
        self._dues_gen += 1
        self.dues_loaded_at = float("-inf")
        if self.user is not None:
            self.user = None
            self.chart = None
            self.reopen_patient = None
            await self.on_worker(self.backend.logout, "shutdown")
            self.show_login()

    async def _on_close(self, _e: Any) -> None:
        await self.shutdown()

    async def shutdown(self) -> None:
        """End the session: log out (audited) and close the snapshots, on the worker."""
        if self.closed:
            return
        self.closed = True
        if self.user is not None:
            self.worker.submit(self.backend.logout, "shutdown")
        self.worker.submit(self.backend.close)
        self.worker.shutdown(wait=False)


class SessionCounter:
    """Counts open windows (connected sessions); thread-safe. Lets the web server stop once the
    last window has been closed for a while (see app.ui.launch)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.open = 0
        self.ever = False
        self.last_change = time.monotonic()

    def opened(self) -> None:
        with self._lock:
            self.open += 1
            self.ever = True
            self.last_change = time.monotonic()

    def closed(self) -> None:
        with self._lock:
            self.open = max(0, self.open - 1)
            self.last_change = time.monotonic()

    def idle_for(self) -> float | None:
        """Seconds since the last window closed, or None while one is open (or none ever was)."""
        with self._lock:
            if self.open or not self.ever:
                return None
            return time.monotonic() - self.last_change


def make_main(
    home: Path, ward: str | None = None, sessions: SessionCounter | None = None
) -> Callable[[ft.Page], Awaitable[None]]:
    """The Flet entry point for `home` (a laptop home with installed snapshots).

    Side effect: starts a daemon thread that loads the census's hyphenation dictionary, so no
    login waits for it.
    """
    threading.Thread(target=fit.warm_up, name="hyphenation-warm-up", daemon=True).start()

    async def main(page: ft.Page) -> None:
        viewer = Viewer(page, home, ward, sessions)
        page.data = viewer
        await viewer.start()

    return main

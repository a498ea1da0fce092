"""What every screen shares: the page, the backend, the session's worker thread, who is logged in,
the census and chart models, the banner, and the routes to the other screens.

`ScreenHost` holds that state and the plumbing; `app.ui.shell.Viewer` subclasses it and supplies
the routes (it alone knows every screen). Screens take the host and never import each other, so
there are no import cycles: screens -> host -> view-models/widgets.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, tzinfo
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import flet as ft

from app import i18n
from app.present.snapshot import older_snapshot_text
from app.ui import theme
from app.ui.session import SnapshotProblem, ViewerBackend, WardChoice
from app.ui.strings import tr
from app.ui.viewmodels.banner import BannerView, UserView, banner_view
from app.ui.viewmodels.census import CensusModel
from app.ui.viewmodels.chart import ChartModel
from app.ui.viewmodels.layout import layout_for
from app.ui.viewmodels.lock import IdleLock
from app.ui.viewmodels.login import LoginForm
from app.ui.widgets import banner as banner_widget
from app.ui.widgets.basic import choice_dropdown, text

log = logging.getLogger(__name__)

T = TypeVar("T")

ENV_IDLE_SECONDS = "WARDCOPY_IDLE_LOCK_SECONDS"  # tests only: may shorten, never lengthen


def idle_timeout(minutes: int, environ: dict[str, str] | None = None) -> timedelta:
    """The idle lock time: settings' minutes, or shorter if WARDCOPY_IDLE_LOCK_SECONDS says so."""
    configured = timedelta(minutes=minutes)
    raw = (environ if environ is not None else os.environ).get(ENV_IDLE_SECONDS, "").strip()
    try:
        override = timedelta(seconds=float(raw)) if raw else None
    except ValueError:
        override = None
    if override is not None and timedelta(0) < override < configured:
        return override
    return configured


class suppress:
    """Context manager: ignore errors of optional niceties (window size in the browser, ...)."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return True


def empty_banner(lang: str) -> BannerView:
    """The banner before any snapshot is open (no ward, no data age)."""
    return banner_view(
        ward="", data_as_of=None, now=datetime.now(UTC), user=None, tz=None, lang=lang
    )


class ScreenHost:
    """One viewer session's shared state and plumbing (one window or browser tab).

    Slow work runs on one worker thread per session (`on_worker`), so the window never freezes
    and the SQLCipher connections are only ever used from one thread.
    """

    def __init__(self, page: ft.Page, home: Path, ward: str | None) -> None:
        self.page = page
        self.backend = ViewerBackend(home, ward)
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wardcopy-data")
        self.input_at = float("-inf")  # time.monotonic() of the last user input
        settings = self.backend.settings
        self.lang = i18n.detect_language(None if settings.language == "auto" else settings.language)
        self.tz: tzinfo = self.backend.tz()
        self.user: UserView | None = None
        self.allowed_wards: tuple[str, ...] = ()
        # Which screen is shown: loading | problem | login | lock | census | chart.
        self.screen = "loading"
        self.census = CensusModel()
        self.chart: ChartModel | None = None
        self.chart_hospital = False  # the open chart came from the hospital-wide snapshot
        self.login_form = LoginForm()
        self.idle = IdleLock(idle_timeout(settings.idle_lock_minutes), self.now())
        self.idle.pause(True)
        self.problem: SnapshotProblem | None = None
        self.expired_ack = False
        self.break_glass_ok = False
        self.may_change_settings = False
        self.ward_choices: list[WardChoice] = []
        self.reopen_patient: tuple[str, str] | None = None  # (user id, patient id) after a lock
        self.closed = False
        self.last_metrics: dict[str, float] = {}
        self.open_dialog: ft.AlertDialog | None = None  # Esc closes it before anything else
        # When the client last closed a dialog by itself (Esc, a click outside): it may report
        # that Esc after the dialog is gone; such an Esc belongs to the dialog, not the screen.
        self.dialog_closed_at = 0.0
        # A drop-down's list is open (ScreenHost.dropdown): Esc then closes only the list.
        self.menu_open = False
        self.layout = layout_for(page.width, page.height)  # updated on resize (app.ui.shell)
        # The frame: banner, notices, and the body that each screen fills.
        self.banner_slot = ft.Container()
        self.notice_slot = ft.Container()
        self.body = ft.Container(expand=True, bgcolor=theme.CANVAS)

    # -- plumbing ---------------------------------------------------------------------------------

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def on_worker(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking `fn` on the session's worker thread and await its result."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.worker, partial(fn, *args, **kwargs))

    def touch(self) -> None:
        """Count user input for the idle lock (and for background work that waits while the
        user types: `input_at`, and the due inputs shared by all sessions, app.snapcache)."""
        self.idle.touch(self.now())
        self.input_at = time.monotonic()
        self.backend.snapshot_cache.note_input()

    def handler(self, fn: Callable[..., Any]) -> Callable[[Any], Awaitable[None]]:
        """Wrap an event handler: every user action counts as input for the idle lock."""

        async def handle(e: Any) -> None:
            self.touch()
            result = fn(e)
            if asyncio.iscoroutine(result):
                await result

        return handle

    def translate(self, key: str, **fields: object) -> str:
        """The UI text `key` in the session's language."""
        return tr(key, self.lang, **fields)

    def update(self, control: ft.Control | None = None) -> None:
        """Send pending changes to the client (the page may already be gone: then nothing).
        With `control`, only the changes inside it: Flet then compares that part of the page
        with what the client has instead of the whole page (banner, toolbar, dialogs)."""
        try:
            if control is None:
                self.page.update()
            else:
                control.update()
        except Exception as exc:  # the page may be gone (window closed) while a task finishes
            log.debug("page update failed: %s", exc)

    @staticmethod
    def no_auto_update() -> None:
        """Tell Flet not to compare the whole page after the running event handler: the
        handler sends what it changed itself (or changed nothing). Flet otherwise walks the
        whole page once more after every event whose handler did not call update(), e.g.
        after each key of the page's keyboard handler. Side effect: for this event only."""
        with suppress():
            ft.context.disable_auto_update()

    def show_dialog(self, dialog: ft.AlertDialog) -> None:
        """Open `dialog` over the current screen; Esc then closes only the dialog."""

        def dismissed(_e: Any) -> None:
            if self.open_dialog is dialog:
                self.open_dialog = None
                self.dialog_closed_at = time.monotonic()

        dialog.on_dismiss = dismissed
        self.open_dialog = dialog
        self.page.show_dialog(dialog)

    def close_dialog(self, _e: Any = None) -> None:
        """Close the open dialog (its Close/Cancel button, or Esc); the screen stays."""
        if self.open_dialog is not None:
            self.open_dialog = None
            try:
                self.page.pop_dialog()
            except Exception as exc:  # already closed by the client (Esc)
                log.debug("pop_dialog: %s", exc)
            self.update()

    def close_dialogs(self) -> None:
        """Close every dialog (leaving a screen, locking)."""
        self.open_dialog = None
        for _ in range(10):
            try:
                if self.page.pop_dialog() is None:
                    break
            except Exception:
                break

    async def audit(self, event: str, **fields: Any) -> None:
        """Write an audit entry (on the worker, in order). A failure is shown, not swallowed."""
        try:
            await self.on_worker(self.backend.audit, event, self.user, **fields)
        except Exception as exc:
            log.error("audit log write failed: %s", exc)
            self.page.show_dialog(
                ft.SnackBar(
                    text(
                        self.translate("audit.failed", reason=str(exc)),
                        theme.FONT_BODY,
                        color="#FFFFFF",
                    ),
                    bgcolor=theme.DANGER,
                    duration=ft.Duration(seconds=8),
                )
            )

    def show_loading(self) -> None:
        self.body.content = ft.Container(
            ft.Column(
                [ft.ProgressRing(), text(self.translate("loading"), theme.FONT_BODY)],
                horizontal_alignment=ft.CrossAxisAlignment.CENTER,
                tight=True,
            ),
            alignment=ft.Alignment.CENTER,
            expand=True,
        )
        self.update()

    # -- banner -----------------------------------------------------------------------------------

    def ward_name(self) -> str:
        snap = self.backend.current
        if snap is None:
            return ""
        return snap.reader.meta.ward_name or snap.ward

    def banner_view(self) -> BannerView:
        return banner_view(
            ward=self.ward_name(),
            # A chart opened from the hospital-wide search shows that snapshot's age.
            data_as_of=self.backend.data_as_of(
                hospital=self.screen == "chart" and self.chart_hospital
            ),
            now=self.now(),
            user=self.user,
            tz=self.tz,
            lang=self.lang,
            thresholds=self.backend.settings.freshness,
            built_at=self.built_at(),
            laptop_tz=self.laptop_tz(),
            check_laptop_zone=True,
        )

    def built_at(self) -> datetime | None:
        """When the open snapshot was built (a laptop clock before it is wrong)."""
        snap = self.backend.current
        return snap.reader.meta.built_at if snap is not None else None

    def laptop_tz(self) -> tzinfo | None:
        """The zone of this laptop's clock (reads the process's local time settings)."""
        return datetime.now().astimezone().tzinfo

    def freshness_level(self) -> str:
        return self.banner_view().level

    def may_see(self, ward: str) -> bool:
        """Before login any installed ward may be chosen (the login then checks it)."""
        if self.user is None:
            return True
        if self.user.break_glass:
            return False
        allowed = {w.casefold() for w in self.allowed_wards}
        return "*" in allowed or ward.casefold() in allowed

    def dropdown(
        self,
        label: str,
        value: str | None,
        options: list[tuple[str, str]],
        *,
        width: int,
        on_change: Any = None,
    ) -> ft.DropdownM2:
        """A keyboard-usable drop-down (widgets.basic.choice_dropdown) whose open list the
        shell knows about, so that Esc closes the list and not the dialog or screen below."""

        def opened(_e: Any) -> None:
            self.menu_open = True

        def returned(_e: Any) -> None:
            self.menu_open = False

        return choice_dropdown(
            label,
            value,
            options,
            width=width,
            on_change=on_change,
            on_open=opened,
            on_return=returned,
        )

    def ward_picker(self) -> ft.Control | None:
        """A ward switcher when several wards are installed and the user may see them."""
        choices = [c for c in self.ward_choices if self.may_see(c.ward_id)]
        if len(choices) < 2:
            return None
        # The classic drop-down (widgets.basic.choice_dropdown): Tab reaches it in the browser.
        return self.dropdown(
            self.translate("banner.ward"),
            self.backend.current.ward if self.backend.current else None,
            [(c.ward_id, c.name) for c in choices],
            width=260,
            on_change=self.handler(self.on_ward),
        )

    def render_banner(self) -> None:
        self.banner_slot.content = banner_widget.banner(
            self.banner_view() if self.backend.current is not None else empty_banner(self.lang),
            on_logout=self.handler(self.on_logout) if self.user is not None else None,
            on_language=self.handler(self.on_language),
            lang=self.lang,
            on_settings=self.handler(self.open_settings) if self.may_change_settings else None,
            compact=self.layout.compact,
        )
        notices: list[str] = []
        snap = self.backend.current
        if snap is not None and snap.is_older:  # never show an older snapshot silently
            notices.append(
                older_snapshot_text(
                    snap.manifest.data_as_of, self.lang, self.tz, newer_unreadable=bool(snap.tried)
                )
            )
        if self.backend.settings_problem:
            notices.append(self.backend.settings_problem)
        self.notice_slot.content = (
            ft.Container(
                ft.Column(
                    [text(n, theme.FONT_SMALL, bold=True, color=theme.WARN) for n in notices],
                    spacing=2,
                ),
                bgcolor=theme.WARN_BG,
                padding=ft.Padding.symmetric(horizontal=16, vertical=6),
            )
            if notices
            else None
        )

    # -- routes (supplied by app.ui.shell.Viewer, which knows every screen) -----------------------

    async def open_snapshot(self, ward: str | None = None) -> None:
        raise NotImplementedError

    def show_problem(self, *, expired: bool = False) -> None:
        raise NotImplementedError

    def show_login(self, *, locked: bool = False) -> None:
        raise NotImplementedError

    def show_census(self, *, reuse: bool = False) -> None:
        raise NotImplementedError

    def show_chart(self) -> None:
        raise NotImplementedError

    async def open_patient(self, patient_id: str) -> None:
        raise NotImplementedError

    async def open_print_dialog(self, *, patient: bool, docs: list[str] | None = None) -> None:
        raise NotImplementedError

    async def open_due(self) -> None:
        """The ward's "medications due" screen."""
        raise NotImplementedError

    async def open_settings(self, _e: Any) -> None:
        raise NotImplementedError

    def apply_settings(self) -> None:
        raise NotImplementedError

    async def on_ward(self, e: Any) -> None:
        raise NotImplementedError

    async def on_logout(self, _e: Any) -> None:
        raise NotImplementedError

    async def on_language(self, _e: Any) -> None:
        raise NotImplementedError

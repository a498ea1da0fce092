"""The viewer's screen flow: snapshot problem -> login -> census/search -> chart; idle lock.

`make_main(home, ward)` returns the Flet `main(page)` coroutine. One `Viewer` per page session.
Slow work (opening the snapshot, Argon2id login, search, loading a record, rendering a PDF) runs
on one worker thread per session (`Viewer.bg`), so the window never freezes and the SQLCipher
connections are only ever used from one thread.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, tzinfo
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import flet as ft

from app import i18n
from app.ui import theme, views
from app.ui.session import LoginOutcome, SnapshotProblem, ViewerBackend, WardChoice
from app.ui.state import (
    BannerView,
    CensusLine,
    CensusModel,
    ChartModel,
    IdleLock,
    LoginForm,
    Section,
    SortKey,
    TestHistory,
    TextItem,
    UserView,
    banner_view,
    changed_keys,
    settings_changes,
)
from app.ui.strings import tr

log = logging.getLogger(__name__)

T = TypeVar("T")

ENV_IDLE_SECONDS = "WARDCOPY_IDLE_LOCK_SECONDS"  # tests only: may shorten, never lengthen
SEARCH_DEBOUNCE = 0.12  # seconds: fast typists do not trigger a query per key
LIST_LIMIT = 400  # rows rendered at once; a ward has far fewer
# A long list is drawn in steps: the first screenfuls at once (what the eye sees after a key),
# the rest up to LIST_LIMIT in chunks once typing pauses, or at once when scrolled near the end.
# Building and sending hundreds of rows per key is what made a hospital-wide census slow to type
# in; a chunk at a time keeps a key pressed meanwhile waiting for one chunk at most.
FIRST_ROWS = 24  # a screenful of a tall display (rows are 56 px); scrolling draws more
FILL_DELAY = 0.6  # seconds without a new render before the rest of the list is drawn
FILL_GAP = 0.05  # seconds between chunks: input is handled in between


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


def _local_tz() -> tzinfo:
    tz = datetime.now().astimezone().tzinfo
    return tz if tz is not None else UTC


class Viewer:
    """One viewer session (one window or browser tab)."""

    def __init__(
        self,
        page: ft.Page,
        home: Path,
        ward: str | None,
        sessions: SessionCounter | None = None,
    ) -> None:
        self.page = page
        self.sessions = sessions
        self.backend = ViewerBackend(home, ward)
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wardcopy-data")
        settings = self.backend.settings
        self.lang = i18n.detect_language(None if settings.language == "auto" else settings.language)
        self.tz: tzinfo = settings.zone() or _local_tz()
        self.user: UserView | None = None
        self.allowed_wards: tuple[str, ...] = ()
        self.screen = "loading"
        self.census = CensusModel()
        self.chart: ChartModel | None = None
        self.chart_hospital = False
        self.login_form = LoginForm()
        self.idle = IdleLock(idle_timeout(settings.idle_lock_minutes), self.now())
        self.idle.pause(True)
        self.problem: SnapshotProblem | None = None
        self.expired_ack = False
        self.break_glass_ok = False
        self.may_change_settings = False
        self.ward_choices: list[WardChoice] = []
        self.reopen_patient: tuple[str, str] | None = None  # (user id, patient id) after a lock
        self._search_gen = 0
        self._closed = False
        self.last_metrics: dict[str, float] = {}
        self._rendered: object = None  # what the census list shows now (skip equal re-renders)
        # The census screen's controls, kept while a chart is open so that going back does not
        # rebuild them, and each shown row's control by patient (reused while its line and
        # highlight are unchanged: Flet then sends nothing for it). Dropped at login/lock.
        self._census_view: ft.Control | None = None
        self._census_view_key: tuple[object, ...] | None = None
        self._row_controls: dict[str, tuple[CensusLine, bool, ft.Control]] = {}
        self._render_gen = 0  # bumped per census render; a pending fill of an older one stops
        self._fill: tuple[list[CensusLine], str | None] = ([], None)  # lines still to draw
        # Controls that handlers update in place.
        self.banner_slot = ft.Container()
        self.notice_slot = ft.Container()
        self.body = ft.Container(expand=True, bgcolor=theme.CANVAS)
        self.search_field: ft.TextField | None = None
        self.census_list: ft.ListView | None = None
        self.census_header_slot = ft.Container()
        self.census_count = views.text("", theme.FONT_SMALL, color=theme.MUTED)
        self.chart_content = ft.Container(expand=True)
        self.chart_nav_slot = ft.Container()

    # -- plumbing ---------------------------------------------------------------------------------

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def bg(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking `fn` on the session's worker thread and await its result."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.worker, partial(fn, *args, **kwargs))

    def touch(self) -> None:
        self.idle.touch(self.now())

    def h(self, fn: Callable[..., Any]) -> Callable[[Any], Awaitable[None]]:
        """Wrap an event handler: every user action counts as input for the idle lock."""

        async def handler(e: Any) -> None:
            self.touch()
            result = fn(e)
            if asyncio.iscoroutine(result):
                await result

        return handler

    def t(self, key: str, **fields: object) -> str:
        return tr(key, self.lang, **fields)

    def update(self) -> None:
        try:
            self.page.update()
        except Exception as exc:  # the page may be gone (window closed) while a task finishes
            log.debug("page update failed: %s", exc)

    def close_dialogs(self) -> None:
        for _ in range(10):
            try:
                if self.page.pop_dialog() is None:
                    break
            except Exception:
                break

    async def audit(self, event: str, **fields: Any) -> None:
        """Write an audit entry (on the worker, in order). A failure is shown, not swallowed."""
        try:
            await self.bg(self.backend.audit, event, self.user, **fields)
        except Exception as exc:
            log.error("audit log write failed: %s", exc)
            self.page.show_dialog(
                ft.SnackBar(
                    views.text(
                        self.t("audit.failed", reason=str(exc)), theme.FONT_BODY, color="#FFFFFF"
                    ),
                    bgcolor=theme.DANGER,
                    duration=ft.Duration(seconds=8),
                )
            )

    # -- start ------------------------------------------------------------------------------------

    async def start(self) -> None:
        page = self.page
        page.title = self.t("app.title")
        page.padding = 0
        page.spacing = 0
        page.bgcolor = theme.CANVAS
        page.theme_mode = ft.ThemeMode.LIGHT
        page.theme = ft.Theme(color_scheme_seed=theme.NAVY)
        page.on_keyboard_event = self._on_key
        page.on_close = self._on_close
        page.on_disconnect = self._on_disconnect
        page.on_connect = self._on_connect
        if self.sessions is not None:
            self.sessions.opened()
        with _suppress():
            page.window.min_width = 1024
            page.window.min_height = 700
            page.window.width = 1366
            page.window.height = 768
        page.add(
            ft.Column(
                [self.banner_slot, self.notice_slot, self.body],
                spacing=0,
                expand=True,
            )
        )
        self._loading()
        page.run_task(self._idle_loop)
        await self.open_snapshot()

    def _loading(self) -> None:
        self.body.content = ft.Container(
            ft.Column(
                [ft.ProgressRing(), views.text(self.t("loading"), theme.FONT_BODY)],
                horizontal_alignment=ft.CrossAxisAlignment.CENTER,
                tight=True,
            ),
            alignment=ft.Alignment.CENTER,
            expand=True,
        )
        self.update()

    async def open_snapshot(self, ward: str | None = None) -> None:
        result = await self.bg(self.backend.open, ward)
        if isinstance(result, SnapshotProblem):
            self.problem = result
            self.show_problem()
            return
        self.problem = None
        self.break_glass_ok = await self.bg(self.backend.break_glass_allowed)
        self.ward_choices = await self.bg(self.backend.ward_choices)
        rows = await self.bg(self.backend.census)
        self.census = CensusModel(rows, ward_id=result.ward)
        level = self._freshness_level()
        if level == "expired" and not self.expired_ack:
            self.show_problem(expired=True)
            return
        if self.user is None:
            self.show_login()
        else:
            self.show_census()

    def _freshness_level(self) -> str:
        return self._banner().level

    # -- banner -----------------------------------------------------------------------------------

    def _ward_name(self) -> str:
        snap = self.backend.current
        if snap is None:
            return ""
        return snap.reader.meta.ward_name or snap.ward

    def _banner(self) -> BannerView:
        return banner_view(
            ward=self._ward_name(),
            # A chart opened from the hospital-wide search shows that snapshot's age.
            data_as_of=self.backend.data_as_of(
                hospital=self.screen == "chart" and self.chart_hospital
            ),
            now=self.now(),
            user=self.user,
            tz=self.tz,
            lang=self.lang,
            thresholds=self.backend.settings.freshness,
        )

    def ward_picker(self) -> ft.Control | None:
        """A ward switcher when several wards are installed and the user may see them."""
        choices = [c for c in self.ward_choices if self._may_see(c.ward_id)]
        if len(choices) < 2:
            return None
        return ft.Dropdown(
            label=self.t("banner.ward"),
            value=self.backend.current.ward if self.backend.current else None,
            options=[ft.DropdownOption(key=c.ward_id, text=c.name) for c in choices],
            on_select=self.h(self._on_ward),
            width=260,
            text_style=ft.TextStyle(size=theme.FONT_BODY, color=theme.INK),
            bgcolor=theme.PAPER,
            filled=True,
            fill_color=theme.PAPER,
        )

    def render_banner(self) -> None:
        self.banner_slot.content = views.banner(
            self._banner() if self.backend.current is not None else _empty_banner(self.lang),
            on_logout=self.h(self._on_logout) if self.user is not None else None,
            on_language=self.h(self._on_language),
            lang=self.lang,
            on_settings=self.h(self._settings_dialog) if self.may_change_settings else None,
        )
        notices: list[str] = []
        snap = self.backend.current
        if snap is not None and snap.fallback_reason:
            notices.append(self.t("problem.fallback", reason=snap.fallback_reason))
        if self.backend.settings_problem:
            notices.append(self.backend.settings_problem)
        self.notice_slot.content = (
            ft.Container(
                ft.Column(
                    [views.text(n, theme.FONT_SMALL, bold=True, color=theme.WARN) for n in notices],
                    spacing=2,
                ),
                bgcolor=theme.WARN_BG,
                padding=ft.Padding.symmetric(horizontal=16, vertical=6),
            )
            if notices
            else None
        )

    def _may_see(self, ward: str) -> bool:
        """Before login any installed ward may be chosen (the login then checks it)."""
        if self.user is None:
            return True
        if self.user.break_glass:
            return False
        allowed = {w.casefold() for w in self.allowed_wards}
        return "*" in allowed or ward.casefold() in allowed

    # -- problem screen ---------------------------------------------------------------------------

    def show_problem(self, *, expired: bool = False) -> None:
        self.screen = "problem"
        self.idle.pause(True)
        self.render_banner()
        problem = self.problem
        if expired:
            title = self.t("problem.expired_title")
            lines = [self._banner().as_of_text, self.t("problem.expired_todo")]
        elif problem is not None and problem.kind == "missing":
            title = self.t("problem.title")
            lines = [self.t("problem.missing"), self.t("problem.missing_todo")]
        else:
            title = self.t("problem.title")
            lines = [self.t("problem.unreadable"), self.t("problem.unreadable_todo")]
        detail = self.t("problem.detail", reason=problem.reason) if problem is not None else None
        buttons: list[ft.Control] = [
            ft.Button(self.t("problem.retry"), icon=ft.Icons.REFRESH, on_click=self.h(self._retry))
        ]
        if expired:
            buttons.append(
                ft.OutlinedButton(
                    self.t("problem.continue"), on_click=self.h(self._continue_expired)
                )
            )
        self.body.content = ft.Container(
            views.card(
                [
                    ft.Row(
                        [
                            ft.Icon(ft.Icons.ERROR_OUTLINE, color=theme.DANGER, size=40),
                            views.text(title, theme.FONT_NAME, bold=True, color=theme.DANGER),
                        ],
                        spacing=12,
                    ),
                    *[views.text(x, theme.FONT_TITLE - 2) for x in lines],
                    *(
                        [views.text(detail, theme.FONT_BODY, color=theme.MUTED, selectable=True)]
                        if detail
                        else []
                    ),
                    ft.Row(buttons, spacing=12),
                ]
            ),
            alignment=ft.Alignment.CENTER,
            padding=40,
            width=900,
        )
        self.body.alignment = ft.Alignment.TOP_CENTER
        self.update()

    async def _retry(self, _e: Any) -> None:
        self._loading()
        await self.open_snapshot()

    async def _continue_expired(self, _e: Any) -> None:
        self.expired_ack = True
        if self.user is None:
            self.show_login()
        else:
            self.show_census()

    # -- login and lock ---------------------------------------------------------------------------

    def show_login(self, *, locked: bool = False) -> None:
        self.screen = "lock" if locked else "login"
        self.idle.pause(True)
        self.close_dialogs()
        # Nothing of the previous screen may stay in the tree (or the accessibility tree).
        self.chart_content.content = None
        self.census_list = None
        self._drop_census_view()
        self.render_banner()
        form = self.login_form
        prefilled = bool(locked and self.reopen_patient)
        user_field = ft.TextField(
            label=self.t("login.user"),
            autofocus=not form.break_glass and not prefilled,
            text_size=theme.FONT_TITLE - 2,
            on_submit=self.h(self._submit_login),
            value=self.reopen_patient[0] if (locked and self.reopen_patient) else "",
        )
        password_field = ft.TextField(
            label=self.t("login.password"),
            autofocus=prefilled and not form.break_glass,
            password=True,
            can_reveal_password=True,
            text_size=theme.FONT_TITLE - 2,
            on_submit=self.h(self._submit_login),
        )
        name_field = ft.TextField(
            label=self.t("login.name"),
            text_size=theme.FONT_TITLE - 2,
            on_submit=self.h(self._submit_login),
            autofocus=form.break_glass,
        )
        reason_field = ft.TextField(
            label=self.t("login.reason"),
            text_size=theme.FONT_TITLE - 2,
            multiline=False,
            on_submit=self.h(self._submit_login),
        )
        self._login_fields = (user_field, password_field, name_field, reason_field)
        message = (
            views.text(
                form.message,
                theme.FONT_BODY,
                bold=True,
                color=theme.DANGER if form.message_is_error else theme.INK,
            )
            if form.message
            else ft.Container()
        )
        if locked:
            title = ft.Row(
                [
                    ft.Icon(ft.Icons.LOCK, color=theme.NAVY, size=34),
                    views.text(self.t("lock.title"), theme.FONT_NAME, bold=True, color=theme.NAVY),
                ],
                spacing=10,
            )
            minutes = max(1, round(self.idle.timeout.total_seconds() / 60))
            intro: list[ft.Control] = [
                title,
                views.text(self.t("lock.help", minutes=minutes), theme.FONT_BODY),
            ]
        else:
            intro = [
                views.text(self.t("login.title"), theme.FONT_NAME, bold=True, color=theme.NAVY)
            ]
        if form.break_glass:
            fields: list[ft.Control] = [
                views.text(
                    self.t("login.break_glass_title"),
                    theme.FONT_TITLE,
                    bold=True,
                    color=theme.DANGER,
                ),
                views.text(self.t("login.break_glass_help"), theme.FONT_BODY),
                name_field,
                reason_field,
            ]
            submit = ft.Button(
                self.t("login.break_glass_submit"),
                icon=ft.Icons.WARNING_ROUNDED,
                on_click=self.h(self._submit_login),
                style=ft.ButtonStyle(bgcolor=theme.DANGER, color="#FFFFFF"),
                height=48,
            )
            switch: ft.Control = ft.TextButton(
                self.t("login.back"), on_click=self.h(self._toggle_break_glass)
            )
        else:
            picker = self.ward_picker() if not locked else None
            fields = [user_field, password_field]
            if picker is not None:
                fields.insert(0, picker)
            submit = ft.Button(
                self.t("login.submit"),
                icon=ft.Icons.LOGIN,
                on_click=self.h(self._submit_login),
                height=48,
                style=ft.ButtonStyle(bgcolor=theme.NAVY, color="#FFFFFF"),
            )
            switch = (
                ft.TextButton(
                    self.t("login.break_glass_link"),
                    icon=ft.Icons.WARNING_AMBER_ROUNDED,
                    on_click=self.h(self._toggle_break_glass),
                )
                if self.break_glass_ok
                else ft.Container()
            )
        self.body.content = ft.Container(
            ft.Container(
                views.card(
                    [*intro, *fields, message, ft.Row([submit, switch], spacing=16, wrap=True)],
                    stretch=True,
                ),
                width=520,
            ),
            alignment=ft.Alignment.TOP_CENTER,
            padding=ft.Padding.only(top=40),
            expand=True,
        )
        self.update()

    async def _toggle_break_glass(self, _e: Any) -> None:
        self.login_form.break_glass = not self.login_form.break_glass
        self.login_form.message = None
        self.show_login(locked=self.screen == "lock")

    async def _submit_login(self, _e: Any) -> None:
        log.debug("submit event data %r", getattr(_e, "data", None))
        user_field, password_field, name_field, reason_field = self._login_fields
        form = self.login_form
        user_id = (user_field.value or "").strip()
        password = password_field.value or ""
        name = name_field.value or ""
        reason = reason_field.value or ""
        log.debug("login submit: user %d chars, password %d chars", len(user_id), len(password))
        problem = form.validate(user_id, password, name, reason, self.lang)
        if problem:
            form.message, form.message_is_error = problem, True
            self.show_login(locked=self.screen == "lock")
            return
        ward = self.backend.current.ward if self.backend.current else ""
        outcome: LoginOutcome = await self.bg(
            self.backend.login,
            user_id,
            password,
            ward,
            lang=self.lang,
            break_glass=(name, reason) if form.break_glass else None,
        )
        password_field.value = ""
        if outcome.user is None:
            form.message, form.message_is_error = outcome.message, True
            self.show_login(locked=self.screen == "lock")
            return
        was_locked = self.screen == "lock"
        self.user = outcome.user
        self.allowed_wards = outcome.wards
        self.may_change_settings = await self.bg(self.backend.may_change_settings)
        self.login_form = LoginForm()
        self.idle.unlock(self.now())
        self.idle.pause(False)
        reopen = self.reopen_patient
        self.reopen_patient = None
        if was_locked and reopen and reopen[0].casefold() == self.user.user_id.casefold():
            self.show_census()
            await self.open_patient(reopen[1])
        else:
            self.census.set_query("")
            self.show_census()
        # Fold the census's search text now, on the worker, rather than on the first key.
        self.page.run_task(self.bg, self.census.prepare)

    async def _on_logout(self, _e: Any) -> None:
        await self.bg(self.backend.logout, "user")
        self.user = None
        self.may_change_settings = False
        self.allowed_wards = ()
        self.chart = None
        self.reopen_patient = None
        self.census.set_query("")
        self.login_form = LoginForm()
        self.show_login()

    async def lock(self) -> None:
        """Cover everything: patient data leaves the page; a new login is needed."""
        user = self.user
        if user is None:
            return
        # Take the data off the screen first, then record the lock.
        self.user = None
        self.may_change_settings = False
        self.reopen_patient = (user.user_id, self.chart.record.id if self.chart else "")
        self.chart = None
        self.census.set_query("")
        self.login_form = LoginForm()
        self.show_login(locked=True)
        await self.bg(self.backend.lock)
        if user.break_glass:
            # No password to unlock with: the person starts break-glass again, with a reason.
            self.reopen_patient = None
            await self.bg(self.backend.logout, "idle")
            self.show_login(locked=True)

    async def _idle_loop(self) -> None:
        last_banner = time.monotonic()
        while not self._closed:
            await asyncio.sleep(1)
            if self.user is not None and self.idle.should_lock(self.now()):
                await self.lock()
            elif time.monotonic() - last_banner >= 30 and self.screen != "problem":
                # Keep "data as of (age)" and its colour current without user input.
                last_banner = time.monotonic()
                self.render_banner()
                self.update()

    # -- census -----------------------------------------------------------------------------------

    def _census_key(self) -> tuple[object, ...]:
        """What the census screen's controls (toolbar, list) were built for."""
        return (self.census, self.lang, self.census.hospital_scope, self.user)

    def _drop_census_view(self) -> None:
        """Forget the kept census controls (they hold patient rows)."""
        self._census_view = None
        self._census_view_key = None
        self._row_controls = {}
        self._rendered = None

    def show_census(self, *, reuse: bool = False) -> None:
        """Show the census. With `reuse` (back from a chart) the kept controls are shown again
        when they were built for the same census, language, scope and user; else rebuilt."""
        self.screen = "census"
        self.chart = None
        self.render_banner()
        if (
            reuse
            and self._census_view is not None
            and self.census_list is not None
            and self._census_view_key == self._census_key()
        ):
            self.body.content = self._census_view
            self.body.alignment = None
            if self.search_field is not None:
                self.search_field.value = self.census.query
            if not self.refresh_census():
                self.update()
            return
        self._row_controls = {}
        field = ft.TextField(
            hint_text=self.t("census.search"),
            prefix_icon=ft.Icons.SEARCH,
            value=self.census.query,
            autofocus=True,
            text_size=theme.FONT_TITLE - 2,
            on_change=self.h(self._on_search),
            expand=True,
            bgcolor=theme.PAPER,
            border_color=theme.NAVY,
            focused_border_width=3,
            label=self.t("census.search_label"),
        )
        self.search_field = field
        picker = self.ward_picker()
        tools: list[ft.Control] = [picker, field] if picker is not None else [field]
        if self.backend.hospital_search_available():
            tools.append(
                ft.SegmentedButton(
                    segments=[
                        ft.Segment(value="ward", label=ft.Text(self.t("census.scope_ward"))),
                        ft.Segment(
                            value="hospital", label=ft.Text(self.t("census.scope_hospital"))
                        ),
                    ],
                    selected=["hospital" if self.census.hospital_scope else "ward"],
                    on_change=self.h(self._on_scope),
                )
            )
        tools.append(self.census_count)
        tools.append(
            ft.OutlinedButton(
                self.t("census.print"), icon=ft.Icons.PRINT, on_click=self.h(self._print_census)
            )
        )
        toolbar = ft.Container(
            ft.Row(tools, spacing=12, vertical_alignment=ft.CrossAxisAlignment.CENTER),
            padding=ft.Padding.symmetric(horizontal=12, vertical=8),
        )
        self._rendered = None
        self.census_list = ft.ListView(
            expand=True,
            spacing=0,
            item_extent=views.ROW_HEIGHT,
            on_scroll=self._on_scroll,
            scroll_interval=150,
        )
        footer = ft.Container(
            views.text(self.t("census.keys"), theme.FONT_SMALL, color=theme.MUTED),
            padding=ft.Padding.symmetric(horizontal=12, vertical=4),
        )
        self.body.content = ft.Column(
            [
                toolbar,
                self.census_header_slot,
                ft.Container(self.census_list, expand=True, bgcolor=theme.PAPER),
                footer,
            ],
            spacing=0,
            expand=True,
        )
        self._census_view = self.body.content
        self._census_view_key = self._census_key()
        self.body.alignment = None
        self.refresh_census()

    def refresh_census(self) -> bool:
        """Re-render the header and the rows from the model (fast: no I/O).

        Only the shown rows (LIST_LIMIT) get display lines; a row whose line and highlight are
        unchanged keeps its control. Returns False when nothing changed (nothing sent).
        """
        if self.screen != "census" or self.census_list is None:
            return False
        model = self.census
        lines = model.lines(self.now(), self.tz, self.lang, limit=LIST_LIMIT)
        selected = model.selected_id()
        # Typing often leaves the list as it was (the search confirms the local filter): then
        # nothing is rebuilt or sent to the client. "Searching..." shows only in an empty list.
        pending = model.search_pending and not lines
        state = (lines, selected, model.sort, model.descending, pending, self.lang)
        if state == self._rendered and self.census_list.controls:
            return False
        self._rendered = state
        self._render_gen += 1
        self.census_header_slot.content = views.census_header(
            model.sort, model.descending, self._on_sort, self.lang
        )
        # The highlight must be among the rows drawn at once (arrow keys, Page Down).
        first = max(FIRST_ROWS, model.selected + FIRST_ROWS // 2)
        rows = self._row_list(lines[:first], selected)
        self._fill = (lines, selected)
        if len(lines) > first:
            self.page.run_task(self._fill_census, self._render_gen)
        if not rows:
            hint = (
                self.t("census.hospital_hint")
                if model.hospital_scope and not model.query.strip()
                else self.t("census.searching")
                if model.search_pending
                else self.t("census.none")
            )
            rows = [
                ft.Container(
                    views.text(hint, theme.FONT_BODY + 2, color=theme.MUTED),
                    padding=ft.Padding.symmetric(horizontal=20, vertical=12),
                )
            ]
        self.census_list.controls = rows
        total = len(model.rows)
        if model.hospital_scope:
            self.census_count.value = self.t("census.hits", shown=len(lines))
        else:
            self.census_count.value = self.t("census.count", shown=len(lines), total=total)
        self.update()
        return True

    async def _fill_census(self, gen: int) -> None:
        """Draw the rest of a long census list chunk by chunk, unless it was redrawn meanwhile."""
        delay = FILL_DELAY
        while True:
            await asyncio.sleep(delay)
            delay = FILL_GAP
            if gen != self._render_gen:
                return  # a newer render draws (and fills) its own list
            if self.screen != "census" or self.census_list is None:
                self._rendered = None  # left the census first: the next refresh draws it all
                return
            if not self._fill_chunk():
                return

    def _fill_chunk(self) -> bool:
        """Append the next FIRST_ROWS rows of the pending lines; False when all are drawn."""
        lines, selected = self._fill
        if self.census_list is None:
            return False
        drawn = len(self.census_list.controls)
        if drawn >= len(lines) or not self._row_controls:
            return False  # complete, or a hint ("none found") is shown instead of rows
        self.census_list.controls = self._row_list(lines[: drawn + FIRST_ROWS], selected)
        self.update()
        return drawn + FIRST_ROWS < len(lines)

    def _row_list(self, lines: list[CensusLine], selected: str | None) -> list[ft.Control]:
        """The row controls for `lines`, reusing each unchanged row's control from last time.

        Side effect: the kept controls become exactly these rows (bounded by LIST_LIMIT).
        """
        kept = self._row_controls
        fresh: dict[str, tuple[CensusLine, bool, ft.Control]] = {}
        rows: list[ft.Control] = []
        for line in lines:
            is_selected = line.patient_id == selected
            old = kept.get(line.patient_id)
            if old is not None and old[1] == is_selected and old[0] == line:
                control = old[2]
            else:
                control = views.census_row(
                    line, selected=is_selected, on_open=self.h(self._on_row), lang=self.lang
                )
            fresh[line.patient_id] = (line, is_selected, control)
            rows.append(control)
        self._row_controls = fresh
        return rows

    def _on_sort(self, key: SortKey) -> None:
        self.touch()
        self.census.toggle_sort(key)
        self.refresh_census()

    async def _on_scroll(self, e: Any) -> None:
        self.touch()
        # Near the end of what is drawn: draw the next rows now rather than after the pause.
        pixels = getattr(e, "pixels", None)
        end = getattr(e, "max_scroll_extent", None)
        if pixels is not None and end is not None and pixels >= end - 10 * views.ROW_HEIGHT:
            self._fill_chunk()

    async def _on_search(self, e: Any) -> None:
        started = time.perf_counter()
        query = e.control.value or ""
        self.census.set_query(query)
        self.refresh_census()  # the local filter answers at once
        self._search_gen += 1
        gen = self._search_gen
        if not query.strip():
            return
        await asyncio.sleep(SEARCH_DEBOUNCE)
        if gen != self._search_gen:
            return
        try:
            hits = await self.bg(self.backend.search, query, hospital=self.census.hospital_scope)
        except Exception as exc:  # a damaged search index must not break the census
            log.warning("search failed: %s", exc)
            hits = []
        if gen == self._search_gen and self.census.apply_search(query, hits):
            self.refresh_census()
            self.last_metrics["search_s"] = time.perf_counter() - started

    async def _on_scope(self, e: Any) -> None:
        selected = e.control.selected or ["ward"]
        self.census.set_hospital_scope("hospital" in selected)
        self.show_census()
        if self.census.query.strip():
            hits = await self.bg(
                self.backend.search, self.census.query, hospital=self.census.hospital_scope
            )
            if self.census.apply_search(self.census.query, hits):
                self.refresh_census()

    async def _on_ward(self, e: Any) -> None:
        ward = e.control.value
        if not ward or (self.backend.current and ward == self.backend.current.ward):
            return
        if not self._may_see(ward):
            return
        self._loading()
        await self.open_snapshot(ward)
        if self.user is not None:
            await self.audit("ward_open", new_ward=ward)

    async def _on_row(self, e: Any) -> None:
        await self.open_patient(e.control.data)

    async def _move(self, delta: int) -> None:
        self.census.move(delta)
        self.refresh_census()
        if self.census_list is not None:
            offset = max(0, (self.census.selected - 3) * views.ROW_HEIGHT)
            with _suppress():
                await self.census_list.scroll_to(offset=offset, duration=0)

    # -- chart ------------------------------------------------------------------------------------

    async def open_patient(self, patient_id: str) -> None:
        if not patient_id or self.user is None:
            return
        started = time.perf_counter()
        hospital = self.census.hospital_scope
        record = await self.bg(self.backend.record, patient_id, hospital=hospital)
        if record is None or self.user is None:
            return
        self.chart = ChartModel(record, now=self.now(), tz=self.tz, lang=self.lang)
        # From the hospital-wide snapshot only when the ward snapshot does not have the patient.
        self.chart_hospital = hospital and not self.census.has_patient(patient_id)
        await self.audit("patient_open", patient_id=patient_id, hospital_wide=hospital or None)
        self.show_chart()
        self.last_metrics["chart_s"] = time.perf_counter() - started

    def show_chart(self) -> None:
        chart = self.chart
        if chart is None:
            return
        self.screen = "chart"
        self.render_banner()
        header = views.chart_header(
            chart.header(),
            lang=self.lang,
            on_back=self.h(self._back),
            on_print=self.h(self._print_patient),
        )
        self.render_section()
        self.body.content = ft.Column(
            [
                header,
                ft.Row(
                    [self.chart_nav_slot, ft.Container(self.chart_content, expand=True)],
                    expand=True,
                    spacing=0,
                    vertical_alignment=ft.CrossAxisAlignment.STRETCH,
                ),
            ],
            spacing=0,
            expand=True,
        )
        self.body.alignment = None
        self.update()

    def render_section(self) -> None:
        chart = self.chart
        if chart is None:
            return
        items = [(s.value, self.t(f"section.{s.value}"), chart.section_count(s)) for s in Section]
        self.chart_nav_slot.content = views.section_nav(
            items, chart.section.value, self._on_section
        )
        self.chart_content.content = ft.Container(
            ft.Column(
                self._section_controls(chart), spacing=8, scroll=ft.ScrollMode.AUTO, expand=True
            ),
            padding=ft.Padding.symmetric(horizontal=16, vertical=8),
            expand=True,
        )

    def _on_section(self, section: str) -> None:
        self.touch()
        if self.chart is None:
            return
        self.chart.section = Section(section)
        self.render_section()
        self.update()

    def _section_controls(self, chart: ChartModel) -> list[ft.Control]:
        lang = self.lang
        s = chart.section
        if s is Section.SUMMARY:
            left = views.card(
                [
                    views.heading(self.t("summary.problems")),
                    views.text_items(chart.problems(), lang),
                    views.heading(self.t("summary.alerts")),
                    views.text_items(chart.alerts(), lang),
                    *(
                        [
                            views.heading(self.t("summary.devices")),
                            views.text_items(chart.devices(), lang),
                        ]
                        if chart.record.devices
                        else []
                    ),
                ],
                expand=1,
            )
            right = views.card(
                [
                    views.heading(self.t("summary.meds")),
                    views.med_table(chart.medications(), lang, compact=True),
                    views.heading(self.t("summary.vitals")),
                    views.obs_table(chart.latest_vitals(), lang, with_ref=False),
                    views.heading(self.t("summary.labs")),
                    views.obs_table(chart.abnormal_recent_labs(), lang),
                ],
                expand=1,
            )
            return [
                ft.Row([left, right], spacing=12, vertical_alignment=ft.CrossAxisAlignment.START)
            ]
        if s is Section.MEDS:
            return [
                views.card(
                    [
                        views.heading(self.t("meds.active")),
                        views.med_table(chart.medications(), lang),
                        views.heading(self.t("meds.given")),
                        views.admin_table(chart.administrations(), lang),
                    ]
                )
            ]
        if s is Section.VITALS:
            vitals = chart.vitals()
            history = [line for h in vitals for line in h.history]
            history.sort(key=lambda x: x.when, reverse=False)
            return [
                views.card([views.heading(self.t("vitals.trend")), views.trend_rows(vitals, lang)]),
                views.card(
                    [
                        views.heading(self.t("section.vitals")),
                        views.obs_table(
                            [line for h in vitals for line in h.history[:12]], lang, with_ref=False
                        ),
                    ]
                ),
            ]
        if s is Section.LABS:
            return [views.card([views.lab_groups(chart.lab_groups(), lang, self._show_history)])]
        if s is Section.NOTES:
            return [
                views.card([views.text_items(chart.notes(), lang, on_open=self.h(self._open_note))])
            ]
        mapping = {
            Section.ORDERS: chart.orders,
            Section.PROCEDURES: chart.procedures,
            Section.IMMUNIZATIONS: chart.immunizations,
            Section.CONTACTS: chart.contacts,
        }
        return [views.card([views.text_items(mapping[s](), lang)])]

    def _show_history(self, test: TestHistory) -> None:
        self.touch()
        dialog = ft.AlertDialog(
            title=views.text(self.t("obs.history", name=test.name), theme.FONT_TITLE, bold=True),
            content=ft.Container(
                ft.Column(
                    [
                        views.sparkline(test.series, 560, 90),
                        views.obs_table(test.history, self.lang),
                    ],
                    scroll=ft.ScrollMode.AUTO,
                    tight=True,
                ),
                width=640,
                height=460,
            ),
            actions=[
                ft.TextButton(self.t("close"), on_click=self.h(lambda _e: self.page.pop_dialog()))
            ],
        )
        self.page.show_dialog(dialog)

    async def _open_note(self, e: Any) -> None:
        item: TextItem = e.control.data
        dialog = ft.AlertDialog(
            title=views.text(item.title, theme.FONT_TITLE, bold=True),
            content=ft.Container(
                ft.Column(
                    [
                        views.text(
                            " · ".join(x for x in (item.when, item.detail) if x),
                            theme.FONT_SMALL,
                            color=theme.MUTED,
                        ),
                        views.text(item.body, theme.FONT_BODY),
                    ],
                    scroll=ft.ScrollMode.AUTO,
                    tight=True,
                ),
                width=760,
                height=480,
            ),
            actions=[
                ft.TextButton(self.t("close"), on_click=self.h(lambda _e: self.page.pop_dialog()))
            ],
        )
        self.page.show_dialog(dialog)

    async def _back(self, _e: Any) -> None:
        self.close_dialogs()
        self.show_census(reuse=True)

    # -- printing ---------------------------------------------------------------------------------

    async def _print_patient(self, _e: Any) -> None:
        await self._print_dialog(patient=True)

    async def _print_census(self, _e: Any) -> None:
        await self._print_dialog(patient=False)

    async def _print_dialog(self, *, patient: bool) -> None:
        printers = await self.bg(self.backend.printers)
        docs = ["summary", "mar24", "mar72"] if patient else ["census"]
        doc_group = ft.RadioGroup(
            value=docs[0],
            content=ft.Column(
                [ft.Radio(value=d, label=self.t(f"print.{d}")) for d in docs], tight=True
            ),
        )
        default = self.backend.settings.default_printer
        printer_dd = (
            ft.Dropdown(
                label=self.t("print.printer"),
                value=default if default in printers else printers[0],
                options=[ft.DropdownOption(key=p, text=p) for p in printers],
                width=420,
            )
            if printers
            else None
        )
        status = views.text("", theme.FONT_BODY)

        async def run(to_pdf: bool) -> None:
            self.touch()
            doc = doc_group.value or docs[0]
            status.value, status.color = self.t("loading"), theme.INK
            self.update()
            try:
                message = await self._print(
                    doc, None if printer_dd is None else printer_dd.value, to_pdf
                )
                status.value, status.color = message, theme.INK
            except Exception as exc:  # show the reason; never crash the viewer over a printer
                log.warning("printing failed: %s", exc)
                status.value = self.t("print.failed", reason=str(exc) or type(exc).__name__)
                status.color = theme.DANGER
            self.update()

        content: list[ft.Control] = [
            views.text(self.t("print.document"), theme.FONT_BODY, bold=True),
            doc_group,
        ]
        if printer_dd is not None:
            content.append(printer_dd)
        else:
            content.append(
                views.text(self.t("print.no_printer"), theme.FONT_BODY, bold=True, color=theme.WARN)
            )
        content.append(views.text(self.t("print.pdf_warning"), theme.FONT_SMALL, color=theme.MUTED))
        content.append(status)

        async def pdf(_e: Any) -> None:
            await run(True)

        async def send(_e: Any) -> None:
            await run(False)

        actions: list[ft.Control] = [
            ft.TextButton(self.t("cancel"), on_click=self.h(lambda _e: self.page.pop_dialog())),
            ft.OutlinedButton(
                self.t("print.save_pdf"), icon=ft.Icons.PICTURE_AS_PDF, on_click=self.h(pdf)
            ),
        ]
        if printer_dd is not None:
            actions.append(
                ft.Button(self.t("print.do_print"), icon=ft.Icons.PRINT, on_click=self.h(send))
            )
        self.page.show_dialog(
            ft.AlertDialog(
                title=views.text(self.t("print.title"), theme.FONT_TITLE, bold=True),
                content=ft.Container(ft.Column(content, tight=True, spacing=10), width=480),
                actions=actions,
            )
        )

    async def _print(self, doc: str, printer: str | None, to_pdf: bool) -> str:
        """Render `doc` on the worker, then print it or offer it for saving. Returns status text."""
        who = self.user.display_name if self.user else ""
        now = self.now()
        record = None if doc == "census" or self.chart is None else self.chart.record
        rows = None
        if doc == "census":
            rows = self.census.visible() if self.census.query.strip() else self.census.rows
        pdf: bytes = await self.bg(
            self.backend.render_document,
            doc,
            record=record,
            rows=rows,
            printed_by=who,
            lang=self.lang,
            now=now,
            tz=self.tz,
            hospital=self.chart_hospital and record is not None,
        )
        patient_id = record.id if record is not None else None
        if to_pdf:
            picker = ft.FilePicker()
            name = f"wardcopy-{doc}-{now.astimezone(self.tz):%Y%m%d-%H%M}.pdf"
            saved = await picker.save_file(
                dialog_title=self.t("print.save_pdf"), file_name=name, src_bytes=pdf
            )
            await self.audit("print", patient_id=patient_id, document=doc, output="pdf")
            return self.t("print.saved", path=saved or name)
        result = await self.bg(self.backend.print_pdf, pdf, printer, self.lang)
        if result.ok:
            await self.audit(
                "print", patient_id=patient_id, document=doc, printer=result.printer or printer
            )
            return self.t("print.sent", printer=result.printer or printer or "")
        raise RuntimeError(result.message)

    # -- settings (admin) ------------------------------------------------------------------------

    async def _settings_dialog(self, _e: Any) -> None:
        current = self.backend.settings
        printers = await self.bg(self.backend.printers)
        language = ft.Dropdown(
            label=self.t("settings.language"),
            value=current.language,
            options=[
                ft.DropdownOption(key="auto", text=self.t("settings.language_auto")),
                ft.DropdownOption(key="de", text="Deutsch"),
                ft.DropdownOption(key="en", text="English"),
            ],
            width=420,
        )
        zone = ft.TextField(
            label=self.t("settings.time_zone"),
            hint_text=self.t("settings.time_zone_hint"),
            value=current.time_zone or "",
            width=420,
        )
        idle = ft.TextField(
            label=self.t("settings.idle"),
            value=str(current.idle_lock_minutes),
            keyboard_type=ft.KeyboardType.NUMBER,
            width=420,
        )
        printer = ft.Dropdown(
            label=self.t("settings.printer"),
            value=current.default_printer or "",
            options=[
                ft.DropdownOption(key="", text=self.t("settings.printer_os")),
                *[ft.DropdownOption(key=p, text=p) for p in printers],
            ],
            width=420,
        )
        bg_value = {None: "roster", False: "off", True: "on"}[current.break_glass_allowed]
        break_glass = ft.Dropdown(
            label=self.t("settings.break_glass"),
            value=bg_value,
            options=[
                ft.DropdownOption(key="roster", text=self.t("settings.bg_roster")),
                ft.DropdownOption(key="off", text=self.t("settings.bg_off")),
                ft.DropdownOption(key="on", text=self.t("settings.bg_on")),
            ],
            width=420,
        )
        status = views.text("", theme.FONT_BODY)

        async def save(_e: Any) -> None:
            self.touch()
            form = {
                "language": language.value or "auto",
                "time_zone": zone.value or "",
                "idle_lock_minutes": idle.value or "",
                "default_printer": printer.value or "",
                "break_glass": break_glass.value or "roster",
            }
            new, problem = settings_changes(self.backend.settings, form)
            if new is None:
                status.value, status.color = (
                    self.t("settings.invalid", reason=problem),
                    theme.DANGER,
                )
                self.update()
                return
            try:
                await self.bg(self.backend.save_settings, new, changed_keys(current, new))
            except (OSError, PermissionError) as exc:
                status.value, status.color = (
                    self.t("settings.invalid", reason=str(exc)),
                    theme.DANGER,
                )
                self.update()
                return
            self.apply_settings()
            status.value, status.color = self.t("settings.saved"), theme.OK
            self.update()

        self.page.show_dialog(
            ft.AlertDialog(
                title=views.text(self.t("settings.title"), theme.FONT_TITLE, bold=True),
                content=ft.Container(
                    ft.Column([language, zone, idle, printer, break_glass, status], tight=True),
                    width=460,
                ),
                actions=[
                    ft.TextButton(
                        self.t("close"), on_click=self.h(lambda _e: self.page.pop_dialog())
                    ),
                    ft.Button(self.t("settings.save"), icon=ft.Icons.SAVE, on_click=self.h(save)),
                ],
            )
        )

    def apply_settings(self) -> None:
        """Use changed settings at once: language, time zone, idle time, break-glass offer."""
        settings = self.backend.settings
        if settings.language != "auto":
            self.lang = settings.language
        self.tz = settings.zone() or _local_tz()
        self.idle.timeout = idle_timeout(settings.idle_lock_minutes)
        self.rerender()

    # -- keys, language, close --------------------------------------------------------------------

    async def _on_key(self, e: ft.KeyboardEvent) -> None:
        self.touch()
        log.debug("key %r ctrl=%s screen=%s", e.key, e.ctrl, self.screen)
        key = e.key
        if self.screen == "census":
            if e.ctrl and key.upper() == "F":
                if self.search_field is not None:
                    await self.search_field.focus()
            elif key == "Arrow Down":
                await self._move(1)
            elif key == "Arrow Up":
                await self._move(-1)
            elif key in ("Page Down",):
                await self._move(8)
            elif key in ("Page Up",):
                await self._move(-8)
            elif key == "Enter":
                pid = self.census.selected_id()
                if pid:
                    await self.open_patient(pid)
            elif key == "Escape":
                # Clear the search in place (no rebuild): the box keeps the focus.
                self._search_gen += 1
                self.census.set_query("")
                if self.search_field is not None:
                    self.search_field.value = ""
                    await self.search_field.focus()
                self.refresh_census()
        elif self.screen == "chart":
            if key == "Escape" or (e.ctrl and key.upper() == "F"):
                self.close_dialogs()
                self.show_census(reuse=True)
            elif e.ctrl and key.upper() == "P":
                await self._print_dialog(patient=True)

    async def _on_language(self, _e: Any) -> None:
        self.lang = "en" if self.lang == "de" else "de"
        self.page.title = self.t("app.title")
        if self.chart is not None:
            self.chart = ChartModel(self.chart.record, now=self.now(), tz=self.tz, lang=self.lang)
        self.rerender()

    def rerender(self) -> None:
        if self.screen == "census":
            self.show_census()
        elif self.screen == "chart":
            self.show_chart()
        elif self.screen in ("login", "lock"):
            self.show_login(locked=self.screen == "lock")
        elif self.screen == "problem":
            self.show_problem(expired=self.problem is None)
        else:
            self.render_banner()
            self.update()

    async def _on_connect(self, _e: Any) -> None:
        if self.sessions is not None:
            self.sessions.opened()

    async def _on_disconnect(self, _e: Any) -> None:
        """The window or tab was closed: end the session (audited) and drop the patient data."""
        if self.sessions is not None:
            self.sessions.closed()
        if self.user is not None:
            self.user = None
            self.chart = None
            self.reopen_patient = None
            await self.bg(self.backend.logout, "shutdown")
            self.show_login()

    async def _on_close(self, _e: Any) -> None:
        await self.shutdown()

    async def shutdown(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.user is not None:
            self.worker.submit(self.backend.logout, "shutdown")
        self.worker.submit(self.backend.close)
        self.worker.shutdown(wait=False)


class _suppress:
    """Context manager: ignore errors of optional niceties (window size in the browser, ...)."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return True


def _empty_banner(lang: str) -> Any:
    return banner_view(
        ward="", data_as_of=None, now=datetime.now(UTC), user=None, tz=None, lang=lang
    )


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
    """The Flet entry point for `home` (a laptop home with installed snapshots)."""

    async def main(page: ft.Page) -> None:
        viewer = Viewer(page, home, ward, sessions)
        page.data = viewer
        await viewer.start()

    return main

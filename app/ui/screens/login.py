"""The login screen (also shown, with the lock's title, after the idle lock): a user id and
password, or break-glass access with a name and a reason."""

from __future__ import annotations

import logging
from typing import Any

import flet as ft

from app.ui import theme
from app.ui.screens.host import ScreenHost
from app.ui.screens.lock import lock_intro
from app.ui.session import LoginOutcome
from app.ui.viewmodels.login import LoginForm
from app.ui.widgets.basic import card, text

log = logging.getLogger(__name__)


class LoginScreen:
    """Builds the login form and handles submit, the break-glass switch and logout."""

    def __init__(self, host: ScreenHost) -> None:
        self.host = host
        self.fields: tuple[ft.TextField, ft.TextField, ft.TextField, ft.TextField] | None = None

    def show(self, *, locked: bool = False) -> None:
        host = self.host
        tr = host.translate
        if host.screen in ("login", "lock"):
            self._remember_typed()  # a redraw (language, break-glass switch) keeps the text
        else:
            self.fields = None  # a new login: nothing of the last one
        host.screen = "lock" if locked else "login"
        host.idle.pause(True)
        host.close_dialogs()
        host.render_banner()
        form = host.login_form
        prefilled = bool(locked and host.reopen_patient)
        submit_login = host.handler(self._submit)
        user_field = ft.TextField(
            label=tr("login.user"),
            autofocus=not form.break_glass and not prefilled,
            text_size=theme.FONT_TITLE - 2,
            on_submit=submit_login,
            value=form.user_id
            or (host.reopen_patient[0] if (locked and host.reopen_patient) else ""),
        )
        password_field = ft.TextField(
            label=tr("login.password"),
            autofocus=prefilled and not form.break_glass,
            password=True,
            can_reveal_password=True,
            text_size=theme.FONT_TITLE - 2,
            on_submit=submit_login,
        )
        name_field = ft.TextField(
            label=tr("login.name"),
            text_size=theme.FONT_TITLE - 2,
            on_submit=submit_login,
            autofocus=form.break_glass,
            value=form.name,
        )
        reason_field = ft.TextField(
            label=tr("login.reason"),
            text_size=theme.FONT_TITLE - 2,
            multiline=False,
            on_submit=submit_login,
            value=form.reason,
        )
        self.fields = (user_field, password_field, name_field, reason_field)
        message = (
            text(
                form.message,
                theme.FONT_BODY,
                bold=True,
                color=theme.DANGER if form.message_is_error else theme.INK,
            )
            if form.message
            else ft.Container()
        )
        if locked:
            intro = lock_intro(host)
        else:
            intro = [text(tr("login.title"), theme.FONT_NAME, bold=True, color=theme.NAVY)]
        if form.break_glass:
            fields: list[ft.Control] = [
                text(
                    tr("login.break_glass_title"),
                    theme.FONT_TITLE,
                    bold=True,
                    color=theme.DANGER,
                ),
                text(tr("login.break_glass_help"), theme.FONT_BODY),
                name_field,
                reason_field,
            ]
            submit = ft.Button(
                tr("login.break_glass_submit"),
                icon=ft.Icons.WARNING_ROUNDED,
                on_click=submit_login,
                style=ft.ButtonStyle(bgcolor=theme.DANGER, color="#FFFFFF"),
                height=48,
            )
            switch: ft.Control = ft.TextButton(
                tr("login.back"), on_click=host.handler(self._toggle_break_glass)
            )
        else:
            picker = host.ward_picker() if not locked else None
            fields = [user_field, password_field]
            if picker is not None:
                fields.insert(0, picker)
            submit = ft.Button(
                tr("login.submit"),
                icon=ft.Icons.LOGIN,
                on_click=submit_login,
                height=48,
                style=ft.ButtonStyle(bgcolor=theme.NAVY, color="#FFFFFF"),
            )
            switch = (
                ft.TextButton(
                    tr("login.break_glass_link"),
                    icon=ft.Icons.WARNING_AMBER_ROUNDED,
                    on_click=host.handler(self._toggle_break_glass),
                )
                if host.break_glass_ok
                else ft.Container()
            )
        host.body.content = ft.Container(
            ft.Container(
                card(
                    [*intro, *fields, message, ft.Row([submit, switch], spacing=16, wrap=True)],
                    stretch=True,
                ),
                width=520,
            ),
            alignment=ft.Alignment.TOP_CENTER,
            padding=ft.Padding.only(top=40),
            expand=True,
        )
        host.update()

    def _remember_typed(self) -> None:
        """Keep what was typed (not the password) in the form's model before a redraw."""
        if self.fields is None:
            return
        user_field, _password, name_field, reason_field = self.fields
        self.host.login_form.remember(
            user_field.value or "", name_field.value or "", reason_field.value or ""
        )

    async def _toggle_break_glass(self, _e: Any) -> None:
        host = self.host
        host.login_form.break_glass = not host.login_form.break_glass
        host.login_form.message = None
        self.show(locked=host.screen == "lock")

    async def _submit(self, e: Any) -> None:
        host = self.host
        log.debug("submit event data %r", getattr(e, "data", None))
        if self.fields is None:
            return
        user_field, password_field, name_field, reason_field = self.fields
        form = host.login_form
        user_id = (user_field.value or "").strip()
        password = password_field.value or ""
        name = name_field.value or ""
        reason = reason_field.value or ""
        log.debug("login submit: user %d chars, password %d chars", len(user_id), len(password))
        form.remember(user_field.value or "", name, reason)
        problem = form.validate(user_id, password, name, reason, host.lang)
        if problem:
            form.message, form.message_is_error = problem, True
            self.show(locked=host.screen == "lock")
            return
        ward = host.backend.current.ward if host.backend.current else ""
        outcome: LoginOutcome = await host.on_worker(
            host.backend.login,
            user_id,
            password,
            ward,
            lang=host.lang,
            break_glass=(name, reason) if form.break_glass else None,
        )
        password_field.value = ""
        if outcome.user is None:
            form.message, form.message_is_error = outcome.message, True
            self.show(locked=host.screen == "lock")
            return
        was_locked = host.screen == "lock"
        host.user = outcome.user
        host.allowed_wards = outcome.wards
        host.may_change_settings = await host.on_worker(host.backend.may_change_settings)
        host.login_form = LoginForm()
        host.idle.unlock(host.now())
        host.idle.pause(False)
        reopen = host.reopen_patient
        host.reopen_patient = None
        if was_locked and reopen and reopen[0].casefold() == host.user.user_id.casefold():
            host.show_census()
            await host.open_patient(reopen[1])
        else:
            host.census.set_query("")
            host.show_census()
        # Fold the census's search text now, on the worker, rather than on the first key.
        host.page.run_task(host.on_worker, host.census.prepare)

    async def logout(self, _e: Any) -> None:
        """The user logs out (banner button): audited; patient data leaves the screen."""
        host = self.host
        await host.on_worker(host.backend.logout, "user")
        host.user = None
        host.may_change_settings = False
        host.allowed_wards = ()
        host.chart = None
        host.reopen_patient = None
        host.census.set_query("")
        host.login_form = LoginForm()
        host.show_login()

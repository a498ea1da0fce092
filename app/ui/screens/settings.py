"""The settings dialog (IT admin only): language, hospital time zone, idle lock, default printer,
MAR period (24/72 h), break-glass offer. Saved settings take effect at once
(`ScreenHost.apply_settings`)."""

from __future__ import annotations

from typing import Any

import flet as ft

from app.ui import theme
from app.ui.screens.host import ScreenHost
from app.ui.viewmodels.settings import changed_keys, settings_changes
from app.ui.widgets.basic import text

# The key of "the operating system's default printer" in the printer drop-down.
OS_DEFAULT = "(os-default)"  # not a CUPS or Windows printer name


class SettingsDialog:
    """Opens the dialog over the current screen; saving is audited by the backend."""

    def __init__(self, host: ScreenHost) -> None:
        self.host = host

    async def open(self, _e: Any) -> None:
        host = self.host
        tr = host.translate
        current = host.backend.settings
        printers = await host.on_worker(host.backend.printers)
        # choice_dropdown: Tab reaches each drop-down and the keys operate it (browser build).
        language = host.dropdown(
            tr("settings.language"),
            current.language,
            [("auto", tr("settings.language_auto")), ("de", "Deutsch"), ("en", "English")],
            width=420,
        )
        zone = ft.TextField(
            label=tr("settings.time_zone"),
            hint_text=tr("settings.time_zone_hint"),
            value=current.time_zone or "",
            width=420,
        )
        idle = ft.TextField(
            label=tr("settings.idle"),
            value=str(current.idle_lock_minutes),
            keyboard_type=ft.KeyboardType.NUMBER,
            width=420,
        )
        # The OS default has a key of its own: an empty key is no choice in the browser build.
        printer = host.dropdown(
            tr("settings.printer"),
            current.default_printer or OS_DEFAULT,
            [(OS_DEFAULT, tr("settings.printer_os")), *[(p, p) for p in printers]],
            width=420,
        )
        break_glass_value = {None: "roster", False: "off", True: "on"}[current.break_glass_allowed]
        break_glass = host.dropdown(
            tr("settings.break_glass"),
            break_glass_value,
            [
                ("roster", tr("settings.bg_roster")),
                ("off", tr("settings.bg_off")),
                ("on", tr("settings.bg_on")),
            ],
            width=420,
        )
        mar_hours = ft.Dropdown(
            label=tr("settings.mar_hours"),
            value=str(current.mar_hours),
            options=[
                ft.DropdownOption(key=str(n), text=tr("settings.hours", n=n)) for n in (24, 72)
            ],
            width=420,
        )
        status = text("", theme.FONT_BODY)

        async def save(_e: Any) -> None:
            host.touch()
            form = {
                "language": language.value or "auto",
                "time_zone": zone.value or "",
                "idle_lock_minutes": idle.value or "",
                "default_printer": "" if printer.value == OS_DEFAULT else printer.value or "",
                "break_glass": break_glass.value or "roster",
                "mar_hours": mar_hours.value or str(current.mar_hours),
            }
            new, problem = settings_changes(host.backend.settings, form)
            if new is None:
                status.value, status.color = tr("settings.invalid", reason=problem), theme.DANGER
                host.update()
                return
            try:
                await host.on_worker(host.backend.save_settings, new, changed_keys(current, new))
            except (OSError, PermissionError) as exc:
                status.value, status.color = tr("settings.invalid", reason=str(exc)), theme.DANGER
                host.update()
                return
            host.apply_settings()
            status.value, status.color = tr("settings.saved"), theme.OK
            host.update()

        host.show_dialog(
            ft.AlertDialog(
                title=text(tr("settings.title"), theme.FONT_TITLE, bold=True),
                content=ft.Container(
                    ft.Column(
                        [language, zone, idle, printer, mar_hours, break_glass, status], tight=True
                    ),
                    width=460,
                ),
                actions=[
                    ft.TextButton(tr("close"), on_click=host.handler(host.close_dialog)),
                    ft.Button(tr("settings.save"), icon=ft.Icons.SAVE, on_click=host.handler(save)),
                ],
            )
        )

"""The settings dialog (IT admin only): language, hospital time zone, idle lock, default printer,
break-glass offer. Saved settings take effect at once (`ScreenHost.apply_settings`)."""

from __future__ import annotations

from typing import Any

import flet as ft

from app.ui import theme
from app.ui.screens.host import ScreenHost
from app.ui.viewmodels.settings import changed_keys, settings_changes
from app.ui.widgets.basic import text


class SettingsDialog:
    """Opens the dialog over the current screen; saving is audited by the backend."""

    def __init__(self, host: ScreenHost) -> None:
        self.host = host

    async def open(self, _e: Any) -> None:
        host = self.host
        tr = host.translate
        current = host.backend.settings
        printers = await host.on_worker(host.backend.printers)
        language = ft.Dropdown(
            label=tr("settings.language"),
            value=current.language,
            options=[
                ft.DropdownOption(key="auto", text=tr("settings.language_auto")),
                ft.DropdownOption(key="de", text="Deutsch"),
                ft.DropdownOption(key="en", text="English"),
            ],
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
        printer = ft.Dropdown(
            label=tr("settings.printer"),
            value=current.default_printer or "",
            options=[
                ft.DropdownOption(key="", text=tr("settings.printer_os")),
                *[ft.DropdownOption(key=p, text=p) for p in printers],
            ],
            width=420,
        )
        break_glass_value = {None: "roster", False: "off", True: "on"}[current.break_glass_allowed]
        break_glass = ft.Dropdown(
            label=tr("settings.break_glass"),
            value=break_glass_value,
            options=[
                ft.DropdownOption(key="roster", text=tr("settings.bg_roster")),
                ft.DropdownOption(key="off", text=tr("settings.bg_off")),
                ft.DropdownOption(key="on", text=tr("settings.bg_on")),
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
                "default_printer": printer.value or "",
                "break_glass": break_glass.value or "roster",
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
                    ft.Column([language, zone, idle, printer, break_glass, status], tight=True),
                    width=460,
                ),
                actions=[
                    ft.TextButton(tr("close"), on_click=host.handler(host.close_dialog)),
                    ft.Button(tr("settings.save"), icon=ft.Icons.SAVE, on_click=host.handler(save)),
                ],
            )
        )

"""The status screen: what the IT admin role sees instead of the census (no patient data)."""

from __future__ import annotations

from typing import Any

import flet as ft

from app.ui import theme
from app.ui.screens.host import ScreenHost
from app.ui.viewmodels.status import status_view
from app.ui.widgets.basic import card, text


class StatusScreen:
    """Snapshot age, installed wards and the laptop's settings; a button opens the settings."""

    def __init__(self, host: ScreenHost) -> None:
        self.host = host

    def show(self) -> None:
        host = self.host
        host.screen = "status"
        host.chart = None
        host.close_dialogs()
        host.render_banner()
        snap = host.backend.current
        notices = []
        if snap is not None and snap.fallback_reason:
            notices.append(host.translate("problem.fallback", reason=snap.fallback_reason))
        if host.backend.settings_problem:
            notices.append(host.backend.settings_problem)
        view = status_view(
            banner=host.banner_view(),
            wards=[c.name for c in host.ward_choices] or [host.ward_name()],
            settings=host.backend.settings,
            zone_name=getattr(host.tz, "key", None) or str(host.tz),
            notices=notices,
            lang=host.lang,
        )
        rows: list[ft.Control] = [
            ft.Row(
                [
                    ft.Container(
                        text(line.label, theme.FONT_BODY, bold=True, color=theme.MUTED), width=220
                    ),
                    ft.Container(
                        text(
                            line.value,
                            theme.FONT_BODY,
                            bold=line.warning,
                            color=theme.WARN if line.warning else theme.INK,
                        ),
                        expand=True,
                    ),
                ],
                vertical_alignment=ft.CrossAxisAlignment.START,
            )
            for line in view.lines
        ]
        buttons: list[ft.Control] = []
        if host.may_change_settings:
            buttons.append(
                ft.Button(
                    host.translate("settings.open"),
                    icon=ft.Icons.SETTINGS,
                    on_click=host.handler(self._settings),
                )
            )
        host.body.content = ft.Container(
            ft.Container(
                card(
                    [
                        text(view.title, theme.FONT_NAME, bold=True, color=theme.NAVY),
                        text(view.intro, theme.FONT_BODY),
                        *rows,
                        ft.Row(buttons, spacing=12),
                    ],
                    stretch=True,
                ),
                width=760,
            ),
            alignment=ft.Alignment.TOP_CENTER,
            padding=ft.Padding.only(top=32),
            expand=True,
        )
        host.body.alignment = None
        host.update()

    async def _settings(self, e: Any) -> None:
        await self.host.open_settings(e)

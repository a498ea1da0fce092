"""The snapshot problem screen: no snapshot, an unreadable one, or one past its expiry."""

from __future__ import annotations

from typing import Any

import flet as ft

from app.ui import theme
from app.ui.screens.host import ScreenHost
from app.ui.widgets.basic import card, text


class ProblemScreen:
    """Says what is wrong with the snapshot and what to do; offers a retry (and, for an expired
    snapshot, to continue knowingly)."""

    def __init__(self, host: ScreenHost) -> None:
        self.host = host

    def show(self, *, expired: bool = False) -> None:
        host = self.host
        host.screen = "problem"
        host.idle.pause(True)
        host.render_banner()
        problem = host.problem
        tr = host.translate
        if expired:
            title = tr("problem.expired_title")
            lines = [host.banner_view().as_of_text, tr("problem.expired_todo")]
        elif problem is not None and problem.kind == "missing":
            title = tr("problem.title")
            lines = [tr("problem.missing"), tr("problem.missing_todo")]
        else:
            title = tr("problem.title")
            lines = [tr("problem.unreadable"), tr("problem.unreadable_todo")]
        detail = tr("problem.detail", reason=problem.reason) if problem is not None else None
        buttons: list[ft.Control] = [
            ft.Button(
                tr("problem.retry"), icon=ft.Icons.REFRESH, on_click=host.handler(self._retry)
            )
        ]
        if expired:
            buttons.append(
                ft.OutlinedButton(
                    tr("problem.continue"), on_click=host.handler(self._continue_expired)
                )
            )
        host.body.content = ft.Container(
            card(
                [
                    ft.Row(
                        [
                            ft.Icon(ft.Icons.ERROR_OUTLINE, color=theme.DANGER, size=40),
                            text(title, theme.FONT_NAME, bold=True, color=theme.DANGER),
                        ],
                        spacing=12,
                    ),
                    *[text(x, theme.FONT_TITLE - 2) for x in lines],
                    *(
                        [text(detail, theme.FONT_BODY, color=theme.MUTED, selectable=True)]
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
        host.body.alignment = ft.Alignment.TOP_CENTER
        host.update()

    async def _retry(self, _e: Any) -> None:
        self.host.show_loading()
        await self.host.open_snapshot()

    async def _continue_expired(self, _e: Any) -> None:
        self.host.expired_ack = True
        if self.host.user is None:
            self.host.show_login()
        else:
            self.host.show_census()

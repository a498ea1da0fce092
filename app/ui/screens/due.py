"""The ward's "medications due" screen: every patient's doses of the next 2/4/8/12 hours,
overdue first and marked in words and with an icon (never colour alone).

Reached from the census with Ctrl+M (or its toolbar button). Keys: arrows move, Enter opens the
patient, 2/4/8 and 1 (= 12) choose the hours, Ctrl+P prints the same list, Esc goes back.
Rows are computed on the session's worker (`ViewerBackend.due_list`); all words come from
app.present.due (the printout uses the same).
"""

from __future__ import annotations

import logging
from typing import Any

import flet as ft

from app.duelist import DEFAULT_HOURS, HOURS_CHOICES
from app.present.catalog import t
from app.present.due import DueRowText, due_rule_text
from app.ui import theme
from app.ui.screens.host import ScreenHost, suppress
from app.ui.viewmodels.due import DueListModel
from app.ui.widgets.basic import text

log = logging.getLogger(__name__)

ROW_HEIGHT = 44
# Column widths (px) for time, room/bed, patient, drug, dose, route: fit 1024 px.
WIDTHS = (128, 64, 200, 0, 130, 70)  # 0: the drug takes the rest


class DueScreen:
    """Builds the due list and handles its keys; the model keeps hours and highlight."""

    def __init__(self, host: ScreenHost) -> None:
        self.host = host
        self.model = DueListModel()
        self.list_view: ft.ListView | None = None

    async def open(self, hours: int | None = None) -> None:
        """Compute the rows for `hours` (default: as last chosen, else 4) and show them."""
        host = self.host
        hours = hours or self.model.hours or DEFAULT_HOURS
        try:
            doses = await host.on_worker(host.backend.due_list, host.now(), hours, host.tz)
        except Exception as exc:  # a damaged record must not break the viewer
            log.warning("medications due: %s", exc)
            doses = []
        self.model.set_doses(doses, hours)
        self.show()

    def show(self) -> None:
        host = self.host
        lang = host.lang
        host.screen = "due"
        host.chart = None
        host.render_banner()
        model = self.model
        hours_picker = ft.SegmentedButton(
            segments=[
                ft.Segment(value=str(h), label=ft.Text(t("due.hours", lang, hours=h)))
                for h in HOURS_CHOICES
            ],
            selected=[str(model.hours)],
            on_change=host.handler(self._on_hours),
        )
        toolbar = ft.Container(
            ft.Row(
                [
                    ft.IconButton(
                        ft.Icons.ARROW_BACK,
                        tooltip=None,
                        on_click=host.handler(self._back),
                    ),
                    text(model.title(lang), theme.FONT_TITLE, bold=True),
                    ft.Container(expand=True),
                    hours_picker,
                    ft.OutlinedButton(
                        host.translate("census.print_due"),
                        icon=ft.Icons.PRINT,
                        on_click=host.handler(self._print),
                    ),
                ],
                spacing=12,
                vertical_alignment=ft.CrossAxisAlignment.CENTER,
            ),
            padding=ft.Padding.symmetric(horizontal=12, vertical=8),
        )
        header = self._row(list(model.columns(lang)), head=True)
        self.list_view = ft.ListView(expand=True, spacing=0, item_extent=ROW_HEIGHT)
        self._fill()
        footer = ft.Container(
            ft.Column(
                [
                    text(model.summary(lang), theme.FONT_BODY, bold=True),
                    text(due_rule_text(lang), theme.FONT_SMALL, color=theme.MUTED),
                    text(t("due.keys", lang), theme.FONT_SMALL, color=theme.MUTED),
                ],
                spacing=2,
                tight=True,
            ),
            padding=ft.Padding.symmetric(horizontal=12, vertical=4),
        )
        host.body.content = ft.Column(
            [
                toolbar,
                header,
                ft.Container(self.list_view, expand=True, bgcolor=theme.PAPER),
                footer,
            ],
            spacing=0,
            expand=True,
        )
        host.body.alignment = None
        host.update()

    def _fill(self) -> None:
        host = self.host
        if self.list_view is None:
            return
        selected = self.model.selected
        rows: list[ft.Control] = []
        for i, line in enumerate(self.model.lines(host.now(), host.tz, host.lang)):
            rows.append(self._line(line, i == selected))
        self.list_view.controls = rows

    def _row(self, cells: list[str], *, head: bool = False) -> ft.Control:
        controls: list[ft.Control] = []
        for value, width in zip(cells, WIDTHS, strict=False):
            label = text(value, theme.FONT_SMALL if head else theme.FONT_TABLE, bold=head,
                         color=theme.MUTED if head else theme.INK, max_lines=2)  # fmt: skip
            controls.append(
                ft.Container(label, width=width, alignment=ft.Alignment.CENTER_LEFT)
                if width
                else ft.Container(label, expand=True, alignment=ft.Alignment.CENTER_LEFT)
            )
        return ft.Container(
            ft.Row(controls, spacing=8),
            padding=ft.Padding.only(left=17, right=12, top=4, bottom=4),
            bgcolor=theme.CANVAS,
            border=ft.Border.only(bottom=ft.BorderSide(2, theme.LINE)),
        )

    def _line(self, line: DueRowText, selected: bool) -> ft.Control:
        if line.overdue:
            when: ft.Control = ft.Container(
                ft.Row(
                    [
                        ft.Icon(ft.Icons.WARNING, color=theme.DANGER, size=theme.FONT_TABLE + 2),
                        ft.Column(
                            [
                                text(line.time, theme.FONT_TABLE, bold=True, color=theme.DANGER),
                                text(line.mark.lstrip("⚠ "), theme.FONT_SMALL - 1, bold=True,
                                     color=theme.DANGER),
                            ],
                            spacing=0,
                            tight=True,
                        ),
                    ],
                    spacing=4,
                    tight=True,
                ),
                bgcolor=theme.DANGER_BG,
                padding=ft.Padding.symmetric(horizontal=4, vertical=1),
                border_radius=6,
            )  # fmt: skip
        else:
            when = text(line.time, theme.FONT_TABLE, bold=True)
        cells: list[ft.Control] = [
            when,
            text(line.room_bed, theme.FONT_TABLE, bold=True),
            text(line.patient, theme.FONT_TABLE, bold=True, max_lines=2),
            text(line.drug, theme.FONT_TABLE, max_lines=2),
            text(line.dose, theme.FONT_TABLE, max_lines=2),
            text(line.route, theme.FONT_TABLE, max_lines=1),
        ]
        controls: list[ft.Control] = [
            ft.Container(c, width=w, alignment=ft.Alignment.CENTER_LEFT)
            if w
            else ft.Container(c, expand=True, alignment=ft.Alignment.CENTER_LEFT)
            for c, w in zip(cells, WIDTHS, strict=True)
        ]
        return ft.Container(
            ft.Row(controls, spacing=8, vertical_alignment=ft.CrossAxisAlignment.CENTER),
            height=ROW_HEIGHT,
            padding=ft.Padding.symmetric(horizontal=12),
            bgcolor=theme.SELECT if selected else theme.PAPER,
            border=ft.Border.only(
                left=ft.BorderSide(5, theme.NAVY if selected else theme.PAPER),
                bottom=ft.BorderSide(1, theme.LINE),
            ),
            on_click=self.host.handler(self._on_row),
            data=line.patient_id,
        )

    # -- events -----------------------------------------------------------------------------------

    async def _on_row(self, e: Any) -> None:
        await self.host.open_patient(e.control.data)

    async def _on_hours(self, e: Any) -> None:
        chosen = (e.control.selected or [str(DEFAULT_HOURS)])[0]
        await self.open(int(chosen))

    async def _back(self, _e: Any = None) -> None:
        self.host.show_census(reuse=True)

    async def _print(self, _e: Any = None) -> None:
        await self.host.open_print_dialog(patient=False, docs=[f"due{self.model.hours}"])

    async def _move(self, delta: int) -> None:
        self.model.move(delta)
        self._fill()
        self.host.update()
        if self.list_view is not None:
            offset = max(0, (self.model.selected - 3) * ROW_HEIGHT)
            with suppress():
                await self.list_view.scroll_to(offset=offset, duration=0)

    async def on_key(self, e: ft.KeyboardEvent) -> None:
        """Arrows/Page keys move, Enter opens the patient, 2/4/8/1 hours, Ctrl+P prints,
        Esc goes back to the census."""
        key = e.key
        if e.ctrl and key.upper() == "P":
            await self._print()
        elif key == "Arrow Down":
            await self._move(1)
        elif key == "Arrow Up":
            await self._move(-1)
        elif key == "Page Down":
            await self._move(8)
        elif key == "Page Up":
            await self._move(-8)
        elif key == "Enter":
            pid = self.model.selected_patient()
            if pid:
                await self.host.open_patient(pid)
        elif key == "Escape":
            await self._back()
        elif not e.ctrl and not e.alt and self.model.hour_for_key(key) is not None:
            await self.open(self.model.hour_for_key(key))

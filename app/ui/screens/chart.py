"""The patient chart screen: header (identity, allergies, code status), the section list and the
chosen section; result history and note dialogs."""

from __future__ import annotations

import time
from typing import Any

import flet as ft

from app.present.catalog import t
from app.ui import theme
from app.ui.screens.host import ScreenHost
from app.ui.viewmodels.chart import ChartModel, Section, TestHistory, TextItem
from app.ui.widgets.basic import card, heading, text
from app.ui.widgets.chart import (
    admin_table,
    chart_header,
    lab_groups,
    med_table,
    obs_table,
    section_nav,
    sparkline,
    text_items,
    trend_rows,
)


class ChartScreen:
    """Opens a patient (audited) and shows the chart; Esc or "back" returns to the census."""

    def __init__(self, host: ScreenHost) -> None:
        self.host = host
        self.content = ft.Container(expand=True)
        self.nav_slot = ft.Container()

    def clear(self) -> None:
        """Take the chart's controls out of the page (they hold patient data)."""
        self.content.content = None

    async def open_patient(self, patient_id: str) -> None:
        host = self.host
        if not patient_id or host.user is None:
            return
        started = time.perf_counter()
        hospital = host.census.hospital_scope
        record = await host.on_worker(host.backend.record, patient_id, hospital=hospital)
        if record is None or host.user is None:
            return
        # From the hospital-wide snapshot only when the ward snapshot does not have the patient.
        host.chart_hospital = hospital and not host.census.has_patient(patient_id)
        host.chart = ChartModel(
            record,
            now=host.now(),
            tz=host.tz,
            lang=host.lang,
            # Overdue only before the data-as-of of the snapshot the record came from.
            data_as_of=host.backend.data_as_of(hospital=host.chart_hospital),
            windows=host.backend.windows(hospital=host.chart_hospital),
        )
        await host.audit("patient_open", patient_id=patient_id, hospital_wide=hospital or None)
        self.show()
        host.last_metrics["chart_s"] = time.perf_counter() - started

    def show(self) -> None:
        host = self.host
        chart = host.chart
        if chart is None:
            return
        host.screen = "chart"
        host.render_banner()
        header = chart_header(
            chart.header(),
            lang=host.lang,
            on_back=host.handler(self._back),
            on_print=host.handler(self._print_patient),
        )
        self.render_section()
        host.body.content = ft.Column(
            [
                header,
                ft.Row(
                    [self.nav_slot, ft.Container(self.content, expand=True)],
                    expand=True,
                    spacing=0,
                    vertical_alignment=ft.CrossAxisAlignment.STRETCH,
                ),
            ],
            spacing=0,
            expand=True,
        )
        host.body.alignment = None
        host.update()

    def render_section(self) -> None:
        host = self.host
        chart = host.chart
        if chart is None:
            return
        items = [
            (s.value, host.translate(f"section.{s.value}"), chart.section_count(s)) for s in Section
        ]
        self.nav_slot.content = section_nav(items, chart.section.value, self._on_section)
        self.content.content = ft.Container(
            ft.Column(
                self._section_controls(chart), spacing=8, scroll=ft.ScrollMode.AUTO, expand=True
            ),
            padding=ft.Padding.symmetric(horizontal=16, vertical=8),
            expand=True,
        )

    def _on_section(self, section: str) -> None:
        host = self.host
        host.touch()
        if host.chart is None:
            return
        host.chart.section = Section(section)
        self.render_section()
        host.update()

    def _section_controls(self, chart: ChartModel) -> list[ft.Control]:
        host = self.host
        tr = host.translate
        lang = host.lang
        section = chart.section
        if section is Section.SUMMARY:
            left = card(
                [
                    heading(tr("summary.problems")),
                    text_items(chart.problems(), lang),
                    heading(tr("summary.alerts")),
                    text_items(chart.alerts(), lang),
                    *(
                        [
                            heading(tr("summary.devices")),
                            text_items(chart.devices(), lang),
                        ]
                        if chart.record.devices
                        else []
                    ),
                ],
                expand=1,
            )
            right = card(
                [
                    heading(tr("summary.meds")),
                    med_table(chart.medications(), lang, compact=True),
                    heading(tr("summary.vitals")),
                    obs_table(chart.latest_vitals(), lang, with_ref=False),
                    heading(tr("summary.labs")),
                    obs_table(chart.abnormal_recent_labs(), lang),
                ],
                expand=1,
            )
            return [
                ft.Row([left, right], spacing=12, vertical_alignment=ft.CrossAxisAlignment.START)
            ]
        if section is Section.MEDS:
            return [
                card(
                    [
                        heading(tr("meds.active")),
                        med_table(chart.medications(), lang),
                        # On hold, stopped in the sync's window, home medication: apart, never
                        # mixed with what is to be given.
                        *[
                            control
                            for title, items in chart.other_medications()
                            for control in (heading(title), text_items(items, lang))
                        ],
                        heading(chart.administrations_title()),
                        admin_table(chart.administrations(), lang),
                    ]
                )
            ]
        window_note = (
            chart.history_note("vitals" if section is Section.VITALS else "labs")
            if section in (Section.VITALS, Section.LABS)
            else None
        )
        # Said first, above the values: a short list must not pass for the whole stay.
        notes = [card([text(window_note, theme.FONT_SMALL, italic=True)])] if window_note else []
        if section is Section.VITALS:
            vitals = chart.vitals()
            return [
                *notes,
                card([heading(tr("vitals.trend")), trend_rows(vitals, lang)]),
                card(
                    [
                        heading(tr("section.vitals")),
                        obs_table(
                            [line for h in vitals for line in h.history[:12]], lang, with_ref=False
                        ),
                    ]
                ),
            ]
        if section is Section.LABS:
            return [*notes, card([lab_groups(chart.lab_groups(), lang, self._show_history)])]
        if section is Section.NOTES:
            note_list = text_items(
                chart.notes(),
                lang,
                on_open=host.handler(self._open_note),
                on_versions=host.handler(self._open_versions),
            )
            return [card([note_list])]
        mapping = {
            Section.ORDERS: chart.orders,
            Section.PROCEDURES: chart.procedures,
            Section.IMMUNIZATIONS: chart.immunizations,
            Section.CONTACTS: chart.contacts,
        }
        return [card([text_items(mapping[section](), lang)])]

    def _close_button(self) -> ft.Control:
        host = self.host
        return ft.TextButton(host.translate("close"), on_click=host.handler(host.close_dialog))

    def _show_history(self, test: TestHistory) -> None:
        host = self.host
        host.touch()
        dialog = ft.AlertDialog(
            title=text(host.translate("obs.history", name=test.name), theme.FONT_TITLE, bold=True),
            content=ft.Container(
                ft.Column(
                    [
                        sparkline(test.series, 560, 90),
                        obs_table(test.history, host.lang),
                    ],
                    scroll=ft.ScrollMode.AUTO,
                    tight=True,
                ),
                width=640,
                height=460,
            ),
            actions=[self._close_button()],
        )
        host.show_dialog(dialog)

    async def _open_note(self, e: Any) -> None:
        item: TextItem = e.control.data
        dialog = ft.AlertDialog(
            title=text(item.title, theme.FONT_TITLE, bold=True),
            content=ft.Container(
                ft.Column(
                    [
                        text(
                            " · ".join(x for x in (item.when, item.detail) if x),
                            theme.FONT_SMALL,
                            color=theme.MUTED,
                        ),
                        text(item.body, theme.FONT_BODY),
                    ],
                    scroll=ft.ScrollMode.AUTO,
                    tight=True,
                ),
                width=760,
                height=480,
            ),
            actions=[self._close_button()],
        )
        self.host.show_dialog(dialog)

    async def _open_versions(self, e: Any) -> None:
        """The other versions of a note in one dialog, newest first, each marked (superseded,
        or a copy of the same content) with its whole text; Esc or Close returns to the chart."""
        item: TextItem = e.control.data
        host = self.host
        host.touch()
        blocks: list[ft.Control] = []
        for version in item.versions:
            head = " · ".join(x for x in (version.when, version.detail) if x)
            blocks += [
                text(
                    version.title,
                    theme.FONT_BODY,
                    bold=True,
                    color=theme.MUTED if version.muted else theme.INK,
                ),
                text(head, theme.FONT_SMALL, color=theme.DANGER if version.muted else theme.MUTED),
                text(version.body, theme.FONT_BODY),
                ft.Divider(height=12, color=theme.LINE),
            ]
        dialog = ft.AlertDialog(
            title=text(
                t("note.versions.title", host.lang, title=item.title),
                theme.FONT_TITLE,
                bold=True,
            ),
            content=ft.Container(
                ft.Column(blocks, scroll=ft.ScrollMode.AUTO, tight=True),
                width=760,
                height=480,
            ),
            actions=[self._close_button()],
        )
        host.show_dialog(dialog)

    async def _back(self, _e: Any) -> None:
        self.host.close_dialogs()
        self.host.show_census(reuse=True)

    async def _print_patient(self, _e: Any) -> None:
        await self.host.open_print_dialog(patient=True)

    async def on_key(self, e: ft.KeyboardEvent) -> None:
        """Keys on the chart: Esc or Ctrl+F back to the census, Ctrl+P print."""
        key = e.key
        if key == "Escape" or (e.ctrl and key.upper() == "F"):
            self.host.close_dialogs()
            self.host.show_census(reuse=True)
        elif e.ctrl and key.upper() == "P":
            await self.host.open_print_dialog(patient=True)

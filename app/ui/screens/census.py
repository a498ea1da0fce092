"""The census screen: the ward's patients (or hospital-wide search hits), search box, sorting,
keyboard highlight, and the census printout button."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import flet as ft

from app.present.catalog import t
from app.ui import theme
from app.ui.screens.host import ScreenHost, suppress
from app.ui.viewmodels.census import CensusLine, SortKey, ward_counts
from app.ui.widgets.basic import icon_button, text
from app.ui.widgets.census import census_header, census_row, row_height

log = logging.getLogger(__name__)

SEARCH_DEBOUNCE = 0.12  # seconds: fast typists do not trigger a query per key
LIST_LIMIT = 400  # rows rendered at once; a ward has far fewer
# A long list is drawn in steps: the first screenfuls at once (what the eye sees after a key),
# the rest up to LIST_LIMIT in chunks once typing pauses, or at once when scrolled near the end.
# Building and sending hundreds of rows per key is what made a hospital-wide census slow to type
# in; a chunk at a time keeps a key pressed meanwhile waiting for one chunk at most.
FIRST_ROWS = 24  # a screenful of a tall display (rows are 56 px); scrolling draws more
FILL_DELAY = 0.6  # seconds without a new render before the rest of the list is drawn
FILL_GAP = 0.05  # seconds between chunks: input is handled in between


class CensusScreen:
    """Builds the census screen and keeps its controls while a chart is open, so that going
    back does not rebuild them; each shown row's control is reused while its line and highlight
    are unchanged (Flet then sends nothing for it). `drop` forgets them (login, lock)."""

    def __init__(self, host: ScreenHost) -> None:
        self.host = host
        self.search_field: ft.TextField | None = None
        self.list_view: ft.ListView | None = None
        self.header_slot = ft.Container()
        self.count_text = text("", theme.FONT_SMALL, color=theme.MUTED)
        # Enter opens the highlighted patient only while the search box has the focus: on a
        # focused button (a sort heading, "print") Enter means that button.
        self.search_focused = False
        self._search_gen = 0  # bumped per keystroke; an older search's answer is dropped
        self._rendered: object = None  # what the census list shows now (skip equal re-renders)
        self._view: ft.Control | None = None
        self._view_key: tuple[object, ...] | None = None
        self._row_controls: dict[str, tuple[CensusLine, bool, ft.Control]] = {}
        self._render_gen = 0  # bumped per census render; a pending fill of an older one stops
        self._fill: tuple[list[CensusLine], str | None] = ([], None)  # lines still to draw

    def _key(self) -> tuple[object, ...]:
        """What the census screen's controls (toolbar, list) were built for."""
        host = self.host
        return (host.census, host.lang, host.census.hospital_scope, host.user, host.layout.compact)

    def drop(self) -> None:
        """Forget the kept census controls (they hold patient rows)."""
        self.list_view = None
        self._view = None
        self._view_key = None
        self._row_controls = {}
        self._rendered = None

    def show(self, *, reuse: bool = False) -> None:
        """Show the census. With `reuse` (back from a chart) the kept controls are shown again
        when they were built for the same census, language, scope and user; else rebuilt."""
        host = self.host
        tr = host.translate
        host.screen = "census"
        host.chart = None
        host.render_banner()
        if (
            reuse
            and self._view is not None
            and self.list_view is not None
            and self._view_key == self._key()
        ):
            host.body.content = self._view
            host.body.alignment = None
            if self.search_field is not None:
                self.search_field.value = host.census.query
            if not self.refresh():
                host.update()
            if self.search_field is not None:
                # Back from a chart, the keys work as before it: the search box has the focus.
                self.search_focused = True
                host.page.run_task(self.search_field.focus)
            return
        self._row_controls = {}
        compact = host.layout.compact
        field = ft.TextField(
            hint_text=tr("census.search"),
            # Compact: a smaller hint, so that it fits beside the tools at 1024 px.
            hint_style=ft.TextStyle(size=theme.FONT_BODY) if compact else None,
            prefix_icon=ft.Icons.SEARCH,
            value=host.census.query,
            autofocus=True,
            text_size=theme.FONT_TITLE - 2,
            on_change=host.handler(self._on_search),
            expand=True,
            bgcolor=theme.PAPER,
            border_color=theme.NAVY,
            focused_border_width=3,
            label=tr("census.search_label"),
            on_focus=self._on_search_focus,
            on_blur=self._on_search_blur,
        )
        self.search_focused = True  # autofocus
        self.search_field = field
        picker = host.ward_picker()
        tools: list[ft.Control] = [picker, field] if picker is not None else [field]
        if host.backend.hospital_search_available():
            tools.append(
                ft.SegmentedButton(
                    segments=[
                        ft.Segment(value="ward", label=ft.Text(tr("census.scope_ward"))),
                        ft.Segment(value="hospital", label=ft.Text(tr("census.scope_hospital"))),
                    ],
                    selected=["hospital" if host.census.hospital_scope else "ward"],
                    on_change=host.handler(self._on_scope),
                )
            )
        if not compact:
            tools.append(self.count_text)
        if compact:
            tools.append(icon_button(ft.Icons.MEDICATION, t("due.open", host.lang),
                                     host.handler(self._open_due)))  # fmt: skip
            tools.append(
                icon_button(ft.Icons.PRINT, tr("census.print"), host.handler(self._print_census))
            )
        else:
            tools.append(
                ft.OutlinedButton(
                    t("due.open", host.lang),
                    icon=ft.Icons.MEDICATION,
                    on_click=host.handler(self._open_due),
                )
            )
            tools.append(
                ft.OutlinedButton(
                    tr("census.print"),
                    icon=ft.Icons.PRINT,
                    on_click=host.handler(self._print_census),
                )
            )
        toolbar = ft.Container(
            ft.Row(tools, spacing=12, vertical_alignment=ft.CrossAxisAlignment.CENTER),
            padding=ft.Padding.symmetric(horizontal=12, vertical=8),
        )
        self._rendered = None
        self.list_view = ft.ListView(
            expand=True,
            spacing=0,
            item_extent=row_height(compact),
            on_scroll=self._on_scroll,
            scroll_interval=150,
        )
        keys = text(tr("census.keys"), theme.FONT_SMALL, color=theme.MUTED)
        footer = ft.Container(
            # Compact: the count moves down here, so that the search box keeps its width.
            ft.Row(
                [ft.Container(keys, expand=True), self.count_text],
                vertical_alignment=ft.CrossAxisAlignment.CENTER,
            )
            if compact
            else keys,
            padding=ft.Padding.symmetric(horizontal=12, vertical=4),
        )
        host.body.content = ft.Column(
            [
                toolbar,
                self.header_slot,
                ft.Container(self.list_view, expand=True, bgcolor=theme.PAPER),
                footer,
            ],
            spacing=0,
            expand=True,
        )
        self._view = host.body.content
        self._view_key = self._key()
        host.body.alignment = None
        self.refresh()

    def refresh(self) -> bool:
        """Re-render the header and the rows from the model (fast: no I/O).

        Only the shown rows (LIST_LIMIT) get display lines; a row whose line and highlight are
        unchanged keeps its control. Returns False when nothing changed (nothing sent).
        """
        host = self.host
        if host.screen != "census" or self.list_view is None:
            return False
        model = host.census
        lines = model.lines(host.now(), host.tz, host.lang, limit=LIST_LIMIT)
        selected = model.selected_id()
        # Typing often leaves the list as it was (the search confirms the local filter): then
        # nothing is rebuilt or sent to the client. "Searching..." shows only in an empty list.
        pending = model.search_pending and not lines
        state = (lines, selected, model.sort, model.descending, pending, host.lang, host.layout)
        if state == self._rendered and self.list_view.controls:
            return False
        self._rendered = state
        self._render_gen += 1
        self.header_slot.content = census_header(
            model.sort, model.descending, self._on_sort, host.lang, compact=host.layout.compact
        )
        # The highlight must be among the rows drawn at once (arrow keys, Page Down).
        first = max(FIRST_ROWS, model.selected + FIRST_ROWS // 2)
        rows = self._row_list(lines[:first], selected)
        self._fill = (lines, selected)
        if len(lines) > first:
            host.page.run_task(self._fill_later, self._render_gen)
        if not rows:
            hint = (
                host.translate("census.hospital_hint")
                if model.hospital_scope and not model.query.strip()
                else host.translate("census.searching")
                if model.search_pending
                else host.translate("census.none")
            )
            rows = [
                ft.Container(
                    text(hint, theme.FONT_BODY + 2, color=theme.MUTED),
                    padding=ft.Padding.symmetric(horizontal=20, vertical=12),
                )
            ]
            if self._offers_hospital_search():
                # Nobody on this ward: the same words may find the patient elsewhere in the
                # house (a button: Tab reaches it; Enter in the search box does the same).
                rows.append(
                    ft.Container(
                        ft.Row(  # the button's own width, not the list's
                            [
                                ft.FilledButton(
                                    host.translate("census.search_hospital"),
                                    icon=ft.Icons.TRAVEL_EXPLORE,
                                    on_click=host.handler(self._search_hospital),
                                )
                            ]
                        ),
                        padding=ft.Padding.symmetric(horizontal=20, vertical=4),
                    )
                )
        self.list_view.controls = rows
        total = len(model.rows)
        if model.hospital_scope:
            self.count_text.value = host.translate("census.hits", shown=len(lines))
        else:
            count = host.translate("census.count", shown=len(lines), total=total)
            on_ward, gone = ward_counts(model.rows, host.now())
            if gone or on_ward != total:
                # "N on the ward, M discharged in the last 24 h": who is really here.
                # On a second line: the toolbar keeps the search box's width at 1024 px.
                count += "\n" + t("census.on_ward", host.lang, on_ward=on_ward, discharged=gone)
            self.count_text.value = count
        host.update()
        return True

    async def _fill_later(self, gen: int) -> None:
        """Draw the rest of a long census list chunk by chunk, unless it was redrawn meanwhile."""
        delay = FILL_DELAY
        while True:
            await asyncio.sleep(delay)
            delay = FILL_GAP
            if gen != self._render_gen:
                return  # a newer render draws (and fills) its own list
            if self.host.screen != "census" or self.list_view is None:
                self._rendered = None  # left the census first: the next refresh draws it all
                return
            if not self._fill_chunk():
                return

    def _fill_chunk(self) -> bool:
        """Append the next FIRST_ROWS rows of the pending lines; False when all are drawn."""
        lines, selected = self._fill
        if self.list_view is None:
            return False
        drawn = len(self.list_view.controls)
        if drawn >= len(lines) or not self._row_controls:
            return False  # complete, or a hint ("none found") is shown instead of rows
        self.list_view.controls = self._row_list(lines[: drawn + FIRST_ROWS], selected)
        self.host.update()
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
                control = census_row(
                    line,
                    selected=is_selected,
                    on_open=self.host.handler(self._on_row),
                    lang=self.host.lang,
                    compact=self.host.layout.compact,
                )
            fresh[line.patient_id] = (line, is_selected, control)
            rows.append(control)
        self._row_controls = fresh
        return rows

    # -- events -----------------------------------------------------------------------------------

    def _on_sort(self, key: SortKey) -> None:
        self.host.touch()
        self.host.census.toggle_sort(key)
        self.refresh()

    async def _on_scroll(self, e: Any) -> None:
        self.host.touch()
        # Near the end of what is drawn: draw the next rows now rather than after the pause.
        pixels = getattr(e, "pixels", None)
        end = getattr(e, "max_scroll_extent", None)
        if (
            pixels is not None
            and end is not None
            and pixels >= end - 10 * row_height(self.host.layout.compact)
        ):
            self._fill_chunk()

    async def _on_search(self, e: Any) -> None:
        host = self.host
        started = time.perf_counter()
        query = e.control.value or ""
        host.census.set_query(query)
        self.refresh()  # the local filter answers at once
        self._search_gen += 1
        gen = self._search_gen
        if not query.strip():
            return
        await asyncio.sleep(SEARCH_DEBOUNCE)
        if gen != self._search_gen:
            return
        try:
            hits = await host.on_worker(
                host.backend.search, query, hospital=host.census.hospital_scope
            )
        except Exception as exc:  # a damaged search index must not break the census
            log.warning("search failed: %s", exc)
            hits = []
        if gen == self._search_gen and host.census.apply_search(query, hits):
            self.refresh()
            host.last_metrics["search_s"] = time.perf_counter() - started

    def _offers_hospital_search(self) -> bool:
        """True when the ward list is empty for a query whose search has answered, and a
        hospital-wide snapshot is installed: "no patients found" then offers the whole house."""
        model = self.host.census
        return (
            not model.hospital_scope
            and bool(model.query.strip())
            and not model.search_pending
            and not model.visible_count()
            and self.host.backend.hospital_search_available()
        )

    async def _search_hospital(self, _e: Any = None) -> None:
        """Run the query in the search box hospital-wide (the "whole hospital" scope)."""
        await self._set_scope(hospital=True)

    async def _on_scope(self, e: Any) -> None:
        selected = e.control.selected or ["ward"]
        await self._set_scope(hospital="hospital" in selected)

    async def _set_scope(self, *, hospital: bool) -> None:
        """Switch between this ward and the whole hospital, keeping the query and searching
        with it at once. Side effects: rebuilds the census screen, runs a search."""
        host = self.host
        host.census.set_hospital_scope(hospital)
        self.show()
        if host.census.query.strip():
            hits = await host.on_worker(
                host.backend.search, host.census.query, hospital=host.census.hospital_scope
            )
            if host.census.apply_search(host.census.query, hits):
                self.refresh()

    def _on_search_focus(self, _e: Any) -> None:
        self.search_focused = True

    def _on_search_blur(self, _e: Any) -> None:
        self.search_focused = False

    async def _on_row(self, e: Any) -> None:
        await self.host.open_patient(e.control.data)

    async def _open_due(self, _e: Any = None) -> None:
        await self.host.open_due()

    async def _print_census(self, _e: Any) -> None:
        await self.host.open_print_dialog(patient=False)

    async def _move(self, delta: int) -> None:
        self.host.census.move(delta)
        self.refresh()
        if self.list_view is not None:
            offset = max(0, (self.host.census.selected - 3) * row_height(self.host.layout.compact))
            with suppress():
                await self.list_view.scroll_to(offset=offset, duration=0)

    async def on_key(self, e: ft.KeyboardEvent) -> None:
        """Keys on the census: Ctrl+F search, arrows/Page keys move, Enter opens, Esc clears."""
        host = self.host
        key = e.key
        if e.ctrl and key.upper() == "F":
            if self.search_field is not None:
                await self.search_field.focus()
                self.search_focused = True
        elif e.ctrl and key.upper() == "M":
            await self._open_due()
        elif key == "Arrow Down":
            await self._move(1)
        elif key == "Arrow Up":
            await self._move(-1)
        elif key in ("Page Down",):
            await self._move(8)
        elif key in ("Page Up",):
            await self._move(-8)
        elif key == "Enter" and self.search_focused:
            pid = host.census.selected_id()
            if pid:
                await host.open_patient(pid)
            elif self._offers_hospital_search():
                await self._search_hospital()
        elif key == "Escape":
            # Clear the search in place (no rebuild): the box keeps the focus.
            self._search_gen += 1
            host.census.set_query("")
            if self.search_field is not None:
                self.search_field.value = ""
                await self.search_field.focus()
            self.refresh()

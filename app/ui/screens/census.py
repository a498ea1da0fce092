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
from app.ui.viewmodels.census import CensusLine, SortKey, list_window, on_ward_line
from app.ui.widgets.basic import icon_button, text
from app.ui.widgets.census import (
    census_header,
    census_row,
    empty_list_rows,
    more_row,
    row_height,
    set_row_selected,
)

log = logging.getLogger(__name__)

SEARCH_DEBOUNCE = 0.12  # seconds: fast typists do not trigger a query per key
# A long list is a window: at most LIST_LIMIT matches are listed, then a row "N more not shown:
# type to narrow the list, or [Show 50 more]" (the count above the list is always all matches).
# A ward (about 32 patients) is listed whole. Sending hundreds of rows per key is what made a
# hospital-wide census slow to type in.
LIST_LIMIT = 50
# A list longer than LIST_LIMIT draws a screenful after a key (Layout.screenful: the rows the
# window's height shows and two more, 12 at 768 px, 17 at 1080 px; rows are 56 px) and as many
# more whenever it is scrolled near its end (or the highlight moves there), up to the window;
# nothing is drawn behind the user's back, so that typing on never waits for rows nobody
# looked at. Each drawn row is built, sent and laid out: half as many rows, half the work.
ROW_CACHE = 4 * LIST_LIMIT  # row controls kept by patient (backspace draws them again for free)


class CensusScreen:
    """Builds the census screen and keeps its controls while a chart is open, so that going
    back does not rebuild them. Each row's control is kept by patient while its line is
    unchanged (Flet matches list items by key: a kept row is never sent again, so narrowing the
    search only removes rows); the keyboard highlight is changed in place. `drop` forgets them
    (login, lock)."""

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
        # Per patient: the line its row shows, the row, and whether it shows the highlight.
        self._row_controls: dict[str, tuple[CensusLine, ft.Container, bool]] = {}
        self._fill: tuple[list[CensusLine], str | None] = ([], None)  # the window's lines
        self._header_for: tuple[object, ...] | None = None  # what the column header shows
        self._drawn = 0  # patient rows in the list now (the "more" row not counted)
        self._count = 0  # matches of the list now
        self._limit = LIST_LIMIT  # raised by "show more" until the query, sort or scope change
        self._limit_for: tuple[object, ...] | None = None
        self._more_text = text("", theme.FONT_BODY, color=theme.MUTED)
        self._more_button: ft.TextButton | None = None
        self._more_row: ft.Control | None = None

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
        self._more_row = None
        self._fill = ([], None)

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
            if not self.refresh(whole=True):
                host.update()
            if self.search_field is not None:
                # Back from a chart, the keys work as before it: the search box has the focus.
                self.search_focused = True
                host.page.run_task(self.search_field.focus)
            return
        self._row_controls = {}
        self._more_row = None
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
        self._more_button = ft.TextButton(
            tr("census.show_more", n=LIST_LIMIT), on_click=host.handler(self._on_show_more)
        )
        self._more_row = more_row(self._more_text, self._more_button, compact=compact)
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
        self.refresh(whole=True)

    def refresh(self, *, draw_all: bool = False, whole: bool = False) -> bool:
        """Re-render the header and the rows from the model (fast: no I/O).

        Only the listed rows (the window, LIST_LIMIT unless raised) get display lines and
        controls; `draw_all` draws all of them now instead of a screenful first. Sends the
        census screen's changes only (toolbar, header, list, count), or with `whole` the
        page's (a new screen). Returns False when nothing changed (nothing sent).
        """
        host = self.host
        if host.screen != "census" or self.list_view is None:
            return False
        model = host.census
        limit_for = (model.query, model.sort, model.descending, model.hospital_scope)
        same_list = limit_for == self._limit_for
        if not same_list:
            self._limit, self._limit_for = LIST_LIMIT, limit_for  # a new list: a new window
        count = model.visible_count()
        window = list_window(count, self._limit, model.selected, self._screenful())
        # The highlight walked past the window (arrow keys): the window follows and stays.
        self._limit = max(self._limit, window.listed)
        lines = model.lines(host.now(), host.tz, host.lang, limit=window.listed)
        selected = model.selected_id()
        # Typing often leaves the list as it was (the search confirms the local filter): then
        # nothing is rebuilt or sent to the client. "Searching..." shows only in an empty list.
        pending = model.search_pending and not lines
        state = (
            lines, count, selected, model.sort, model.descending, pending, host.lang,
            host.layout, draw_all,
        )  # fmt: skip
        if state == self._rendered and self.list_view.controls:
            return False
        self._rendered = state
        header_for = (model.sort, model.descending, host.lang, host.layout.compact)
        if header_for != self._header_for or self.header_slot.content is None:
            # Built only when it changes: a new header per key would be sent per key.
            self._header_for = header_for
            self.header_slot.content = census_header(
                model.sort, model.descending, self._on_sort, host.lang, compact=host.layout.compact
            )
        # A ward is drawn whole, a longer list a screenful first; the same list keeps its rows.
        drawn = len(lines) if draw_all or count <= LIST_LIMIT else window.drawn
        if same_list:
            drawn = min(len(lines), max(drawn, self._drawn))
        self._count = matched = model.matched_count()  # hospital-wide: all, not only loaded
        self._fill = (lines, selected)
        rows = self._row_list(lines[:drawn], selected)
        if not rows:
            hint = (
                host.translate("census.hospital_hint")
                if model.hospital_scope and not model.query.strip()
                else host.translate("census.searching")
                if model.search_pending
                else host.translate("census.none")
            )
            # Nobody on this ward: the same words may find the patient elsewhere in the house
            # (a button: Tab reaches it; Enter in the search box does the same).
            offer = self._offers_hospital_search()
            rows = empty_list_rows(
                hint,
                host.translate("census.search_hospital") if offer else None,
                host.handler(self._search_hospital),
            )
        self.list_view.controls = rows + self._more(matched)
        total = len(model.rows)
        if model.hospital_scope:
            self.count_text.value = host.translate("census.hits", shown=matched)
        else:
            # All matches, never only the listed ones: the "more" row says what is not listed.
            text_ = host.translate("census.count", shown=count, total=total)
            hours = host.backend.windows().discharged_within_hours  # the sync's window
            on_ward, gone = model.ward_counts_at(host.now(), hours)
            if gone or on_ward != total:
                # "N on the ward, M discharged in the last 24 h", second line (1024 px).
                text_ += "\n" + on_ward_line(on_ward, gone, hours, host.lang)
            self.count_text.value = text_
        # Per key Flet compares the census part only, not the whole page (banner, dialogs).
        host.update(None if whole else self._view)
        return True

    def _more(self, count: int) -> list[ft.Control]:
        """The last row while matches are not drawn: how many, and a button that lists more
        (reached with Tab; arrow keys past the last row list more too). Empty otherwise."""
        more = count - self._drawn
        if more <= 0 or self._more_row is None or self._more_button is None:
            return []
        self._more_text.value = self.host.translate("census.more", more=more)
        self._more_button.content = self.host.translate("census.show_more", n=min(more, LIST_LIMIT))
        return [self._more_row]

    def _screenful(self) -> int:
        """Rows drawn after a key, and per scroll near the end (Layout.screenful)."""
        return self.host.layout.screenful(row_height(self.host.layout.compact))

    def _fill_chunk(self) -> bool:
        """Append the next screenful of rows of the window (scrolled near the end of what is
        drawn); False when all are drawn."""
        lines, selected = self._fill
        if self.list_view is None:
            return False
        drawn = self._drawn
        if drawn >= len(lines) or not drawn:
            return False  # complete, or a hint ("none found") is shown instead of rows
        chunk = self._screenful()
        rows = self._row_list(lines[: drawn + chunk], selected)
        self.list_view.controls = rows + self._more(self._count)
        self.host.update(self.list_view)
        return drawn + chunk < len(lines)

    def _row_list(self, lines: list[CensusLine], selected: str | None) -> list[ft.Control]:
        """The row controls for `lines`: a patient's row is reused while its line is unchanged,
        its highlight set in place.

        Side effects: sets the drawn count; keeps these rows' controls and, up to ROW_CACHE,
        the most recently shown others (typing back draws them without building them again).
        """
        kept = self._row_controls
        rows: list[ft.Control] = []
        for line in lines:
            pid = line.patient_id
            want = pid == selected
            old = kept.pop(pid, None)
            if old is not None and old[0] == line:
                _line, control, shown = old
                if shown != want:
                    set_row_selected(control, want)
            else:
                control = census_row(
                    line,
                    selected=want,
                    on_open=self.host.handler(self._on_row),
                    lang=self.host.lang,
                    compact=self.host.layout.compact,
                )
            kept[pid] = (line, control, want)  # re-inserted: the newest at the end
            rows.append(control)
        # Forget the rows shown longest ago (dicts keep insertion order), never listed ones.
        for pid in list(kept)[: max(0, len(kept) - max(ROW_CACHE, len(rows)))]:
            del kept[pid]
        self._drawn = len(rows)
        return rows

    # -- events -----------------------------------------------------------------------------------

    def _on_sort(self, key: SortKey) -> None:
        self.host.touch()
        self.host.census.toggle_sort(key)
        self.refresh()

    async def _on_show_more(self, _e: Any) -> None:
        """List the next LIST_LIMIT matches at once (hospital-wide: loaded first if missing)."""
        self.host.touch()
        self._limit = self._drawn + LIST_LIMIT
        if self.host.census.hits_missing(self._limit):
            await self._search(self.host.census.query, limit=self._limit)
        self.refresh(draw_all=True)

    async def _search(self, query: str, limit: int = 60) -> bool:
        """The snapshot search for `query` in the current scope, its first `limit` hits and
        their total handed to the model; True when taken (the query is still the one typed)."""
        host = self.host
        found = await host.on_worker(
            host.backend.search_counted, query, hospital=host.census.hospital_scope, limit=limit
        )
        return host.census.apply_search(query, *found)

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
        host.no_auto_update()  # refresh() sends what changed, and only that
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
            taken = await self._search(query)
        except Exception as exc:  # a damaged search index must not break the census
            log.warning("search failed: %s", exc)
            taken = host.census.apply_search(query, [])
        if taken and gen == self._search_gen:
            self.refresh()
            host.last_metrics["search_s"] = time.perf_counter() - started

    def _offers_hospital_search(self) -> bool:
        """True when the ward list is empty for a query whose search has answered, and a
        hospital-wide snapshot is installed: "no patients found" then offers the whole house."""
        found_none = self.host.census.found_none_on_ward()
        return found_none and self.host.backend.hospital_search_available()

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
        if host.census.query.strip() and await self._search(host.census.query):
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
        else:
            # A letter changes nothing here (the box's change event updates the list): else
            # Flet compares the whole page after this handler, in front of that update.
            self.host.no_auto_update()

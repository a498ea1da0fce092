"""The census table: sortable header and rows. Layout only: handlers are passed in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flet as ft

from app.ui import theme
from app.ui.strings import tr
from app.ui.viewmodels.census import CensusLine, SortKey
from app.ui.viewmodels.fit import clipped, fit_items
from app.ui.viewmodels.layout import Column, census_column_width, census_columns
from app.ui.widgets.basic import Handler, text
from app.ui.widgets.markers import allergy_marker, allergy_status_marker, code_marker


def _cell(content: ft.Control, column: Column) -> ft.Control:
    """`content` sized as `column`: a pill (a Container with a background) inside a
    left-aligned box of the column's size, so that its colour stays as wide as its words."""
    if column.width is not None:
        return ft.Container(content, width=column.width, alignment=ft.Alignment.CENTER_LEFT)
    return ft.Container(content, expand=column.flex, alignment=ft.Alignment.CENTER_LEFT)


def _row_cell(content: ft.Control, column: Column) -> ft.Control:
    """A census row's cell: plain text and a column of texts take the column's size
    themselves; pills and labelled groups get a box (_cell). A row has ten cells and a census
    list many rows: one wrapper Container less per cell is a tenth of what a key sends."""
    if isinstance(content, ft.Text | ft.Column):
        if column.width is not None:
            content.width = column.width
        else:
            content.expand = column.flex
        return content
    # A labelled group (ft.Semantics) keeps its box: sized itself, it turned the whole row
    # from a button into a group in the accessibility tree.
    return _cell(content, column)


ROW_HEIGHT = 56
COMPACT_ROW_HEIGHT = 64  # compact rows hold diagnosis (2 lines) and attending


def row_height(compact: bool) -> int:
    return COMPACT_ROW_HEIGHT if compact else ROW_HEIGHT


def _sort_button(
    key: SortKey,
    label: str,
    sort: SortKey,
    descending: bool,
    on_sort: Callable[[SortKey], Any],
    lang: str,
) -> ft.Control:
    """A column heading that sorts (a button: reachable with Tab; Enter sorts)."""

    def _click(_e: Any) -> Any:
        return on_sort(key)

    label_row: list[ft.Control] = [
        text(label, theme.FONT_SMALL, bold=True, color=theme.INK if key is sort else theme.MUTED)
    ]
    if key is sort:
        # An icon, not a "▲" glyph: the offline web build has no font with arrows.
        label_row.append(
            ft.Icon(
                ft.Icons.ARROW_DOWNWARD if descending else ft.Icons.ARROW_UPWARD,
                size=16,
                color=theme.INK,
            )
        )
    return ft.TextButton(
        content=ft.Row(label_row, spacing=2, tight=True),
        on_click=_click,
        # No tooltip: a tooltip appearing under the mouse takes the keyboard focus from the
        # search box in the browser build; the heading's words are its name.
        style=ft.ButtonStyle(
            padding=ft.Padding.symmetric(horizontal=0, vertical=6),
            alignment=ft.Alignment.CENTER_LEFT,
            shape=ft.RoundedRectangleBorder(radius=4),
        ),
    )  # fmt: skip


def census_header(
    sort: SortKey,
    descending: bool,
    on_sort: Callable[[SortKey], Any],
    lang: str,
    *,
    compact: bool = False,
) -> ft.Control:
    cells: list[ft.Control] = []
    for column in census_columns(compact):
        label = tr(column.label_id, lang)
        if column.sort is None:
            content: ft.Control = text(label, theme.FONT_SMALL, bold=True, color=theme.MUTED)
        elif compact and column.id == "diagnosis":
            # The attending lives in this column when compact: both headings sort.
            content = ft.Row(
                [
                    _sort_button(column.sort, label, sort, descending, on_sort, lang),
                    _sort_button(
                        SortKey.ATTENDING,
                        tr("census.col.attending", lang),
                        sort,
                        descending,
                        on_sort,
                        lang,
                    ),
                ],
                spacing=10,
                run_spacing=0,
                wrap=True,  # "Diagnosis" over "Attending", as in the rows
            )
        else:
            content = _sort_button(column.sort, label, sort, descending, on_sort, lang)
        cells.append(_cell(content, column))
    return ft.Container(
        content=ft.Row(cells, spacing=8),
        padding=ft.Padding.only(left=17, right=12, top=2, bottom=2),
        bgcolor=theme.CANVAS,
        border=ft.Border.only(bottom=ft.BorderSide(2, theme.LINE)),
    )


def due_marker(line: CensusLine, *, compact: bool = False) -> ft.Control:
    """Due/overdue: an icon AND words (never colour alone); red for overdue, amber for due
    within the hour, a quiet dash otherwise."""
    if line.due_state == "none" or not line.due:
        return text(line.due or "", theme.FONT_TABLE, color=theme.MUTED)
    overdue = line.due_state == "overdue"
    fg, bg = (theme.DANGER, theme.DANGER_BG) if overdue else (theme.WARN, theme.WARN_BG)
    size = theme.FONT_SMALL if compact else theme.FONT_TABLE
    return ft.Container(
        content=ft.Row(
            [
                ft.Icon(
                    ft.Icons.WARNING if overdue else ft.Icons.SCHEDULE, color=fg, size=size + 2
                ),
                ft.Container(
                    text(line.due, size, bold=overdue, color=fg, max_lines=2), expand=True
                ),
            ],
            spacing=4,
            tight=True,
        ),
        bgcolor=bg,
        padding=ft.Padding.symmetric(horizontal=4, vertical=2),
        border_radius=6,
    )


FLAG_PAD = 4  # px each side of a flag pill's words
MORE_PAD = 4


def _more(label: str, size: int, hidden: str) -> ft.Control:
    """The visible "+N" for items a cell leaves out (the chart lists them all); a screen
    reader reads the `hidden` items instead of "+N"."""
    words = text(label, size, bold=True, color=theme.INK)
    words.semantics_label = hidden
    return ft.Container(
        content=words,
        border=ft.Border.all(1, theme.INK),
        padding=ft.Padding.symmetric(horizontal=MORE_PAD, vertical=1),
        border_radius=6,
    )


def _flags_cell(line: CensusLine, lang: str, *, compact: bool) -> ft.Control:
    """Flags as pills, whole words only: the ones that fit the fixed row height, then "+N",
    which a screen reader reads as the flags it stands for. (Not an ft.Semantics label: that
    made the whole row a group instead of a button in the accessibility tree.)"""
    size = 11 if compact else 12
    items: list[tuple[str, str, str, bool]] = []  # text, fg, bg, bold
    if line.discharged:
        # A finished stay: never looks like a patient on the ward. First, so that it is always
        # drawn (never folded into "+N" behind the ward chip of a hospital-wide hit).
        items.append((line.discharged, "#FFFFFF", theme.NAVY, True))
    if line.other_ward and line.ward:
        items.append((line.ward, theme.WARN, theme.WARN_BG, True))
    if line.deceased:
        items.append((tr("flag.deceased", lang), "#FFFFFF", theme.MUTED, True))
    for flag_text, isolation in line.flags:
        if isolation:
            items.append((flag_text, theme.ISOLATION_TEXT, theme.ISOLATION_BG, True))
        else:
            items.append((flag_text, theme.INK, theme.CANVAS, False))
    if not items:
        return text("", theme.FONT_SMALL)
    fitted = fit_items(
        [i[0] for i in items],
        width=census_column_width("flags", compact) - 2 * FLAG_PAD,
        lines=3 if compact else 2,
        font_px=size,
    )
    # As drawn: a word wider than the column hyphenated onto its own line (never cut mid-word).
    labels, more = list(fitted.display), fitted.more
    if not labels:
        # Never only "+N": the first (most important) flag shows even when it needs more lines
        # than the row has; it ends in "…" then, a visible cut, never a silent one.
        room = census_column_width("flags", compact) - 2 * FLAG_PAD
        labels, more = [clipped(items[0][0], room, size, 2)], fitted.more - 1
    pills: list[ft.Control] = []
    for label, (whole, fg, bg, bold) in zip(labels, items, strict=False):
        words = text(label, size, bold=bold, color=fg, max_lines=2)
        if label != whole:
            words.semantics_label = whole  # read as the word, not as its hyphenated pieces
        pills.append(
            ft.Container(
                content=words,
                bgcolor=bg,
                padding=ft.Padding.symmetric(horizontal=FLAG_PAD, vertical=2),
                border_radius=6,
            )
        )
    shown = len(labels)
    if more:
        pills.append(_more(f"+{more}", size, ", ".join(i[0] for i in items[shown:])))
    return ft.Row(pills, spacing=4, run_spacing=2, wrap=True)


def _allergy_cell(line: CensusLine, *, compact: bool) -> ft.Control:
    """Allergies as words that fit two lines whole, then "+N" (the chart lists them all); a
    screen reader reads every listed allergy."""
    size = theme.FONT_SMALL if compact else theme.FONT_TABLE
    if not line.allergy_items:
        return allergy_marker(line.allergy, line.allergy_severe, size=size)
    room = census_column_width("allergy", compact) - 12 - (size + 6 if line.allergy_severe else 0)
    fitted = fit_items(
        list(line.allergy_items),
        width=room,
        lines=2,
        font_px=size,
        inline=True,
        total=line.allergy_count,
    )
    # As drawn: "Hausstaub-" / "milbe" on two lines at 1024 px, never "Hausstaubmil" / "be".
    shown, more = list(fitted.display), fitted.more
    if not shown:
        # Never only "+N": the first allergy shows (ending in "…" if it must), then the rest.
        shown, more = [clipped(line.allergy_items[0], room, size, 2)], fitted.more - 1
    label = ", ".join(shown)
    if more:
        label = f"{label} +{more}"
    return allergy_marker(
        label, line.allergy_severe, size=size, semantics=", ".join(line.allergy_items)
    )


def census_row(
    line: CensusLine, *, selected: bool, on_open: Handler, lang: str, compact: bool = False
) -> ft.Container:
    """One patient. Name, birth date, MRN and case number always show in full (hospital-wide
    hits too: their ward is a marker among the flags)."""
    name_bits: list[ft.Control] = [
        text(line.name, theme.FONT_BODY, bold=True, max_lines=1),
        text(
            f"{tr('chart.born', lang)} {line.birth} · {line.mrn}",
            theme.FONT_SMALL - (1 if compact else 0),
            color=theme.MUTED,
            max_lines=1,
        ),
    ]
    if line.case:
        # The case number under the MRN: searchable, so it is shown where it is found.
        name_bits.append(text(line.case, theme.FONT_SMALL - 1, color=theme.MUTED, max_lines=1))
    flags = _flags_cell(line, lang, compact=compact)
    if compact:
        diagnosis: ft.Control = ft.Column(
            [
                text(line.diagnosis, theme.FONT_SMALL - 1, max_lines=2),
                text(line.attending, theme.FONT_SMALL - 1, color=theme.MUTED, max_lines=1),
            ],
            spacing=0,
            tight=True,
        )
    else:
        diagnosis = text(line.diagnosis, theme.FONT_TABLE, max_lines=2)
    cells: dict[str, ft.Control] = {
        "bed": text(line.room_bed, theme.FONT_BODY, bold=True),
        "name": ft.Column(name_bits, spacing=0, tight=True),
        "age": text(line.age_sex, theme.FONT_TABLE),
        "admitted": ft.Column(
            [
                text(line.admitted, theme.FONT_TABLE, max_lines=1),
                text(line.admitted_day, theme.FONT_SMALL, color=theme.MUTED),
            ],
            spacing=0,
            tight=True,
        ),
        # Free text wraps to two lines (the chart shows all of it).
        "attending": text(line.attending, theme.FONT_TABLE, max_lines=2),
        "diagnosis": diagnosis,
        "allergy": (
            _allergy_cell(line, compact=compact)
            if line.allergy_state == "allergies"
            else allergy_status_marker(line.allergy_none, line.allergy_state)
        ),
        "code": code_marker(line.code),
        "due": due_marker(line, compact=compact),
        "flags": flags,
    }
    row = ft.Row(
        [_row_cell(cells[column.id], column) for column in census_columns(compact)],
        spacing=8,
        vertical_alignment=ft.CrossAxisAlignment.CENTER,
    )
    control = ft.Container(
        content=row,
        height=row_height(compact),
        padding=ft.Padding.symmetric(horizontal=12),
        on_click=on_open,
        data=line.patient_id,
        # Flet matches list items by key: a row kept across keystrokes is never re-sent.
        key=f"row-{line.patient_id}",
    )
    # Isolated (Flet): a page update compares the row's own properties (the highlight) but
    # never walks into its cells. Rows are never changed inside, only replaced when their line
    # changes, and walking fifty rows of twenty controls per key cost more than the key itself.
    object.__setattr__(control, "_isolated", True)
    set_row_selected(control, selected)
    return control


def set_row_selected(control: ft.Container, selected: bool) -> None:
    """Show or clear the keyboard highlight of a census row in place (a background and a bar
    at the left edge, not colour alone). Side effect: changes `control`; the next update
    sends these two properties only, not the row."""
    control.bgcolor = theme.SELECT if selected else theme.PAPER
    control.border = ft.Border.only(
        left=ft.BorderSide(5, theme.NAVY if selected else theme.PAPER),
        bottom=ft.BorderSide(1, theme.LINE),
    )


def more_row(words: ft.Text, button: ft.Control, *, compact: bool) -> ft.Container:
    """The last row of a census list that does not show every match: `words` ("N more not
    shown: type to narrow the list, or") and `button` ("Show 50 more"), one row high."""
    return ft.Container(
        ft.Row(
            [words, button],
            spacing=8,
            wrap=True,
            vertical_alignment=ft.CrossAxisAlignment.CENTER,
        ),
        height=row_height(compact),
        padding=ft.Padding.symmetric(horizontal=20),
        alignment=ft.Alignment.CENTER_LEFT,
        key="more",
    )


def empty_list_rows(hint: str, offer: str | None, on_offer: Handler) -> list[ft.Control]:
    """What an empty census list shows: `hint` ("No patients found", "Searching ..."), and with
    `offer` a button of that name (the whole-hospital search) that calls `on_offer`."""
    rows: list[ft.Control] = [
        ft.Container(
            text(hint, theme.FONT_BODY + 2, color=theme.MUTED),
            padding=ft.Padding.symmetric(horizontal=20, vertical=12),
        )
    ]
    if offer is not None:
        button = ft.FilledButton(offer, icon=ft.Icons.TRAVEL_EXPLORE, on_click=on_offer)
        rows.append(
            ft.Container(
                ft.Row([button]),  # the button's own width, not the list's
                padding=ft.Padding.symmetric(horizontal=20, vertical=4),
            )
        )
    return rows

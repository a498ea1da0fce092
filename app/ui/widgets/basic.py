"""Basic building blocks of every screen: text, pill, card, heading, grid. Layout only."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import flet as ft

from app.ui import theme
from app.ui.strings import tr

Handler = Callable[[Any], Any]


def text(
    value: str,
    size: int = theme.FONT_BODY,
    *,
    bold: bool = False,
    color: str = theme.INK,
    selectable: bool = False,
    max_lines: int | None = None,
    italic: bool = False,
) -> ft.Text:
    # Flutter's defaults (normal weight, not selectable, clipped) are left unset: Flet sends
    # only what differs from a default, and a census list holds hundreds of these.
    return ft.Text(
        value,
        size=size,
        weight=ft.FontWeight.BOLD if bold else None,
        color=color,
        selectable=True if selectable else None,
        max_lines=max_lines,
        overflow=ft.TextOverflow.ELLIPSIS if max_lines else ft.TextOverflow.CLIP,
        italic=italic,
    )


def pill(
    label: str, fg: str, bg: str, *, size: int = theme.FONT_SMALL, bold: bool = True
) -> ft.Container:
    return ft.Container(
        content=text(label, size, bold=bold, color=fg),
        bgcolor=bg,
        padding=ft.Padding.symmetric(horizontal=8, vertical=3),
        border_radius=6,
    )


def heading(label: str) -> ft.Control:
    return ft.Container(
        content=text(label, theme.FONT_TITLE - 3, bold=True, color=theme.NAVY),
        padding=ft.Padding.only(top=8, bottom=2),
    )


def none_recorded(lang: str) -> ft.Control:
    return text(tr("chart.none", lang), theme.FONT_BODY, color=theme.MUTED, italic=True)


def card(
    controls: list[ft.Control], *, expand: bool | int | None = None, stretch: bool = False
) -> ft.Control:
    return ft.Container(
        content=ft.Column(
            controls,
            spacing=10 if stretch else 4,
            tight=True,
            horizontal_alignment=ft.CrossAxisAlignment.STRETCH
            if stretch
            else ft.CrossAxisAlignment.START,
        ),
        bgcolor=theme.PAPER,
        padding=12,
        border_radius=8,
        border=ft.Border.all(1, theme.LINE),
        expand=expand,
    )


def grid(
    headers: Sequence[str],
    rows: Sequence[Sequence[ft.Control]],
    flex: Sequence[int],
) -> ft.Control:
    """A simple table with flexible column widths (wraps long text instead of overflowing)."""
    head = ft.Row(
        [
            ft.Container(text(label, theme.FONT_SMALL, bold=True, color=theme.MUTED), expand=f)
            for label, f in zip(headers, flex, strict=True)
        ],
        spacing=8,
    )
    body: list[ft.Control] = [
        ft.Container(head, border=ft.Border.only(bottom=ft.BorderSide(2, theme.LINE)), padding=4)
    ]
    for cells in rows:
        body.append(
            ft.Container(
                ft.Row(
                    [ft.Container(c, expand=f) for c, f in zip(cells, flex, strict=True)],
                    spacing=8,
                    vertical_alignment=ft.CrossAxisAlignment.START,
                ),
                border=ft.Border.only(bottom=ft.BorderSide(1, theme.LINE)),
                padding=ft.Padding.symmetric(horizontal=4, vertical=5),
            )
        )
    return ft.Column(body, spacing=0, tight=True)


def icon_button(
    icon: ft.IconData,
    label: str,
    on_click: Handler,
    *,
    color: str = theme.NAVY,
    size: int = 24,
) -> ft.IconButton:
    """An icon-only button with a name: the tooltip for the mouse and the same words as its
    accessible name (screen readers, keyboard users, tests find it by that name)."""
    return ft.IconButton(
        icon=ft.Icon(icon, color=color, size=size, semantics_label=label),
        on_click=on_click,
        tooltip=label,
    )


def choice_dropdown(
    label: str,
    value: str | None,
    options: Sequence[tuple[str, str]],
    *,
    width: int,
    on_change: Handler | None = None,
    on_open: Handler | None = None,
    on_return: Handler | None = None,
) -> ft.DropdownM2:
    """A drop-down that the keyboard alone can use in the browser build: Tab reaches it,
    Enter or Space opens it, the arrows choose, Enter takes the choice, Esc closes only the
    list. This is the classic DropdownM2; Flet's ft.Dropdown (a menu with a text field) is
    skipped by Tab in Flet web. `options` are (key, shown text) pairs. `on_open` runs when
    the list opens, `on_return` when the focus comes back to the field (list closed); screens
    use `ScreenHost.dropdown`, which wires both."""
    return ft.DropdownM2(
        label=label,
        value=value,
        # The shown words as the option's content too: without it the field shows the key.
        options=[
            ft.dropdownm2.Option(key=key, text=shown, content=ft.Text(shown))
            for key, shown in options
        ],
        on_change=on_change,
        width=width,
        text_style=ft.TextStyle(size=theme.FONT_BODY, color=theme.INK),
        bgcolor=theme.PAPER,
        filled=True,
        fill_color=theme.PAPER,
        # The list opening (a click or Enter/Space) and focus coming back (a choice, Esc, a
        # click outside): the shell lets an Esc close the open list, not the dialog as well.
        on_click=on_open,
        on_focus=on_return,
    )

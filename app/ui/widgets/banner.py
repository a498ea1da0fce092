"""The banner shown on every screen (ward, data age, read-only notice, user). Layout only."""

from __future__ import annotations

import flet as ft

from app.ui import theme
from app.ui.strings import tr
from app.ui.viewmodels.banner import BannerView
from app.ui.widgets.basic import Handler, icon_button, pill, text


def banner(
    view: BannerView,
    *,
    on_logout: Handler | None,
    on_language: Handler,
    lang: str,
    ward_picker: ft.Control | None = None,
    on_settings: Handler | None = None,
    compact: bool = False,
) -> ft.Control:
    """Top bar on every screen: ward, data age (coloured), read-only notice, user, logout.

    `compact` (narrow windows) says "read-only" in one language and shows logout as an icon
    with its name as tooltip; if it still does not fit, the right half wraps below the left
    rather than covering the data age.
    """
    fg, bg = theme.FRESHNESS.get(view.colour, theme.FRESHNESS["red"])
    age = ft.Container(
        content=ft.Row(
            [
                ft.Icon(
                    ft.Icons.WARNING_ROUNDED if view.warning else ft.Icons.SCHEDULE,
                    color=fg,
                    size=20,
                ),
                text(view.as_of_short, theme.FONT_BODY, bold=True, color=fg, max_lines=1),
            ],
            spacing=6,
            tight=True,
        ),
        bgcolor=bg,
        padding=ft.Padding.symmetric(horizontal=10, vertical=6),
        border_radius=6,
        border=ft.Border.all(2 if view.warning else 0, fg),
    )
    right: list[ft.Control] = [
        pill(
            view.read_only_short if compact else view.read_only,
            theme.NAVY,
            "#FFFFFF",
            size=theme.FONT_SMALL,
        ),
    ]
    if view.user_text:
        if view.break_glass:
            right.append(pill(view.user_text, "#FFFFFF", theme.DANGER))
        else:
            right.append(
                ft.Row(
                    [
                        ft.Icon(ft.Icons.PERSON, color=theme.NAVY_TEXT, size=20),
                        text(view.user_text, theme.FONT_BODY, color=theme.NAVY_TEXT),
                    ],
                    spacing=4,
                    tight=True,
                )
            )
    right.append(
        ft.TextButton(
            tr("banner.language", lang),
            on_click=on_language,
            style=ft.ButtonStyle(color=theme.NAVY_TEXT),
            tooltip="Deutsch / English",
        )
    )
    if on_settings is not None:
        right.append(
            icon_button(
                ft.Icons.SETTINGS, tr("settings.open", lang), on_settings, color=theme.NAVY_TEXT
            )
        )
    if on_logout is not None and compact:
        right.append(
            icon_button(
                ft.Icons.LOGOUT, tr("banner.logout", lang), on_logout, color=theme.NAVY_TEXT
            )
        )
    elif on_logout is not None:
        right.append(
            ft.OutlinedButton(
                tr("banner.logout", lang),
                icon=ft.Icons.LOGOUT,
                on_click=on_logout,
                style=ft.ButtonStyle(color=theme.NAVY_TEXT, side=ft.BorderSide(1, theme.NAVY_TEXT)),
            )
        )
    left: list[ft.Control] = [
        ft.Container(
            text(view.ward, theme.FONT_TITLE, bold=True, color=theme.NAVY_TEXT, max_lines=1),
            tooltip="Wardcopy",
        ),
        age,
    ]
    if view.zone_notice:  # quiet: the laptop's clock zone is not the hospital's
        left.append(text(view.zone_notice, theme.FONT_SMALL, color=theme.NAVY_TEXT, max_lines=1))
    bar = ft.Container(
        content=ft.Row(
            [
                ft.Row(left, spacing=14, tight=True),
                ft.Row(right, spacing=10, tight=True),
            ],
            alignment=ft.MainAxisAlignment.SPACE_BETWEEN,
            vertical_alignment=ft.CrossAxisAlignment.CENTER,
            wrap=True,
            run_spacing=6,
        ),
        bgcolor=theme.NAVY,
        padding=ft.Padding.symmetric(horizontal=16, vertical=8),
    )
    if not view.warning:
        return bar
    # Stale, expired, clock wrong, unknown: the whole sentence, full width, impossible to miss.
    warning = ft.Container(
        ft.Row(
            [
                ft.Icon(ft.Icons.WARNING_ROUNDED, color="#FFFFFF", size=24),
                ft.Container(
                    text(view.as_of_text, theme.FONT_BODY + 1, bold=True, color="#FFFFFF"),
                    expand=True,
                ),
            ],
            spacing=8,
        ),
        bgcolor=theme.DANGER,
        padding=ft.Padding.symmetric(horizontal=16, vertical=6),
    )
    return ft.Column([bar, warning], spacing=0)

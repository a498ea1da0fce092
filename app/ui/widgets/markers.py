"""Code status, allergy and isolation markers: the facts that must never be missed."""

from __future__ import annotations

import flet as ft

from app.ui import theme
from app.ui.strings import tr
from app.ui.viewmodels.common import CodeStatusView
from app.ui.widgets.basic import pill, text


def code_box(code: CodeStatusView, lang: str, *, width: int = 340) -> ft.Control:
    """The chart's code status block: red for any limitation, always labelled, never hidden."""
    restrictive = code.restrictive
    fg = "#FFFFFF" if restrictive else (theme.WARN if code.unknown else theme.INK)
    bg = theme.DANGER if restrictive else (theme.WARN_BG if code.unknown else theme.CANVAS)
    lines: list[ft.Control] = [
        text(tr("census.col.code", lang).upper(), theme.FONT_SMALL, bold=True, color=fg),
        ft.Row(
            [
                *(
                    [ft.Icon(ft.Icons.DO_NOT_DISTURB_ON, color=fg, size=24)]
                    if restrictive
                    else []
                ),
                # Expanded, so that a long label ("DNR/DNI - do not resuscitate, do not
                # intubate", the printout's words) wraps in the box instead of being cut off.
                ft.Container(
                    # 18 px bold on red: unmissable, yet two lines at most in the chart header.
                    text(code.label, theme.FONT_BODY + 2 if restrictive else theme.FONT_BODY + 1,
                         bold=True, color=fg, max_lines=3),
                    expand=True,
                ),
            ],
            spacing=6,
            tight=True,
        ),
    ]  # fmt: skip
    if code.detail:
        lines.append(text(code.detail, theme.FONT_SMALL, color=fg, max_lines=2))
    return ft.Container(
        content=ft.Column(lines, spacing=0, tight=True),
        bgcolor=bg,
        padding=ft.Padding.symmetric(horizontal=12, vertical=6),
        border_radius=8,
        width=width,
    )


def code_marker(code: CodeStatusView, *, large: bool = False) -> ft.Control:
    """Code status: a red alarm block for any limitation, quiet text for full code."""
    size = theme.FONT_TITLE if large else theme.FONT_TABLE
    if code.restrictive:
        label = code.label + (f" · {code.detail}" if large and code.detail else "")
        return ft.Container(
            content=ft.Row(
                [
                    ft.Icon(ft.Icons.DO_NOT_DISTURB_ON, color="#FFFFFF", size=size + 2),
                    text(label, size, bold=True, color="#FFFFFF", max_lines=2),
                ],
                spacing=6,
                tight=True,
            ),
            bgcolor=theme.DANGER,
            padding=ft.Padding.symmetric(horizontal=10 if large else 6, vertical=6 if large else 2),
            border_radius=6,
        )
    if code.unknown:
        return text(code.label, size, color=theme.MUTED if not large else theme.WARN, bold=large)
    label = code.label + (f" ({code.detail})" if large and code.detail else "")
    return text(label, size, color=theme.INK, bold=large)


def allergy_status_marker(label: str, state: str, *, size: int = theme.FONT_TABLE) -> ft.Control:
    """No allergy listed: "none known" (documented, quiet green) and "not documented" (amber:
    ask!) must never look alike, and neither like a dash."""
    fg, bg = (theme.OK, theme.OK_BG) if state == "no-known" else (theme.WARN, theme.WARN_BG)
    return ft.Container(
        content=text(label, size - 1, color=fg, max_lines=2),
        bgcolor=bg,
        padding=ft.Padding.symmetric(horizontal=6, vertical=2),
        border_radius=6,
    )


def allergy_marker(
    label: str, severe: bool, *, size: int = theme.FONT_TABLE, semantics: str | None = None
) -> ft.Control:
    """Allergies in words: white on red with a warning icon when one is severe. `semantics`:
    what a screen reader reads instead of `label` (e.g. every allergy where "+N" shows)."""
    if not label:
        return text("–", size, color=theme.MUTED)
    words = text(label, size, bold=True, color="#FFFFFF" if severe else theme.ALLERGY, max_lines=2)
    words.semantics_label = semantics
    if severe:
        return ft.Container(
            content=ft.Row(
                [
                    ft.Icon(ft.Icons.WARNING_ROUNDED, color="#FFFFFF", size=size + 2),
                    ft.Container(words, expand=True),
                ],
                spacing=4,
            ),
            bgcolor=theme.DANGER,
            padding=ft.Padding.symmetric(horizontal=6, vertical=2),
            border_radius=6,
        )
    return ft.Container(
        content=words,
        bgcolor=theme.ALLERGY_BG,
        padding=ft.Padding.symmetric(horizontal=6, vertical=2),
        border_radius=6,
    )


def isolation_marker(lang: str, size: int = theme.FONT_SMALL) -> ft.Control:
    return pill(
        tr("flag.isolation", lang).upper(), theme.ISOLATION_TEXT, theme.ISOLATION_BG, size=size
    )

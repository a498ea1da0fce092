"""The census table: sortable header and rows. Layout only: handlers are passed in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flet as ft

from app.ui import theme
from app.ui.strings import tr
from app.ui.viewmodels.census import CensusLine, SortKey
from app.ui.widgets.basic import Handler, pill, text
from app.ui.widgets.markers import allergy_marker, code_marker

# (sort key or None, i18n id, flex weight)
CENSUS_COLUMNS: list[tuple[SortKey | None, str, int]] = [
    (SortKey.BED, "census.col.bed", 9),
    (SortKey.NAME, "census.col.name", 24),
    (SortKey.AGE, "census.col.age", 8),
    (SortKey.ADMITTED, "census.col.admitted", 12),
    (SortKey.ATTENDING, "census.col.attending", 11),
    (SortKey.DIAGNOSIS, "census.col.diagnosis", 22),
    (None, "census.col.allergy", 17),
    (SortKey.CODE, "census.col.code", 12),
    (None, "census.col.flags", 19),
]

ROW_HEIGHT = 56


def census_header(
    sort: SortKey, descending: bool, on_sort: Callable[[SortKey], Any], lang: str
) -> ft.Control:
    cells: list[ft.Control] = []
    for key, label_id, flex in CENSUS_COLUMNS:
        label = tr(label_id, lang)
        if key is None:
            cells.append(
                ft.Container(
                    text(label, theme.FONT_SMALL, bold=True, color=theme.MUTED), expand=flex
                )
            )
            continue

        def _click(_e: Any, k: SortKey = key) -> Any:
            return on_sort(k)

        label_row: list[ft.Control] = [
            text(
                label, theme.FONT_SMALL, bold=True, color=theme.INK if key is sort else theme.MUTED
            )
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
        cells.append(
            ft.Container(
                content=ft.Row(label_row, spacing=2, tight=True),
                expand=flex,
                on_click=_click,
                tooltip=label,
                padding=ft.Padding.symmetric(vertical=6),
            )
        )
    return ft.Container(
        content=ft.Row(cells, spacing=8),
        padding=ft.Padding.symmetric(horizontal=12, vertical=2),
        bgcolor=theme.CANVAS,
        border=ft.Border.only(bottom=ft.BorderSide(2, theme.LINE)),
    )


def census_row(line: CensusLine, *, selected: bool, on_open: Handler, lang: str) -> ft.Control:
    name_bits: list[ft.Control] = [
        text(line.name, theme.FONT_BODY, bold=True, max_lines=1),
        text(
            f"{tr('chart.born', lang)} {line.birth} · {line.mrn}",
            theme.FONT_SMALL,
            color=theme.MUTED,
            max_lines=1,
        ),
    ]
    if line.other_ward and line.ward:
        name_bits[1] = text(
            f"{line.ward} · {tr('chart.born', lang)} {line.birth}",
            theme.FONT_SMALL,
            color=theme.WARN,
            max_lines=1,
        )
    small = theme.FONT_SMALL - 1
    flags: list[ft.Control] = []
    if line.deceased:
        flags.append(pill(tr("flag.deceased", lang), "#FFFFFF", theme.MUTED, size=small))
    for flag_text, isolation in line.flags:
        if isolation:
            flags.append(pill(flag_text, theme.ISOLATION_TEXT, theme.ISOLATION_BG, size=small))
        else:
            flags.append(pill(flag_text, theme.INK, theme.CANVAS, size=small, bold=False))
    cells: list[ft.Control] = [
        text(line.room_bed, theme.FONT_BODY, bold=True),
        ft.Column(name_bits, spacing=0, tight=True),
        text(line.age_sex, theme.FONT_TABLE),
        ft.Column(
            [
                text(line.admitted, theme.FONT_TABLE, max_lines=1),
                text(line.admitted_day, theme.FONT_SMALL, color=theme.MUTED),
            ],
            spacing=0,
            tight=True,
        ),
        text(line.attending, theme.FONT_TABLE, max_lines=2),
        text(line.diagnosis, theme.FONT_TABLE, max_lines=2),
        allergy_marker(line.allergy, line.allergy_severe),
        code_marker(line.code),
        ft.Row(flags, spacing=4, run_spacing=2, wrap=True) if flags else text("", theme.FONT_SMALL),
    ]
    row = ft.Row(
        [
            ft.Container(cell, expand=flex, alignment=ft.Alignment.CENTER_LEFT)
            for cell, (_k, _l, flex) in zip(cells, CENSUS_COLUMNS, strict=True)
        ],
        spacing=8,
        vertical_alignment=ft.CrossAxisAlignment.CENTER,
    )
    return ft.Container(
        content=row,
        height=ROW_HEIGHT,
        padding=ft.Padding.symmetric(horizontal=12),
        bgcolor=theme.SELECT if selected else theme.PAPER,
        border=ft.Border.only(
            left=ft.BorderSide(5, theme.NAVY if selected else theme.PAPER),
            bottom=ft.BorderSide(1, theme.LINE),
        ),
        on_click=on_open,
        data=line.patient_id,
        key=f"row-{line.patient_id}",
    )

"""Flet controls built from the view-models in app.ui.state. Layout only: no state, no I/O.

Each function takes display values and returns a control; event handlers are passed in by
app.ui.main. Sizes are chosen for 1366x768 at 100 % zoom.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import flet as ft
import flet.canvas as cv

from app.ui import theme
from app.ui.state import (
    AdminLine,
    BannerView,
    CensusLine,
    ChartHeader,
    CodeStatusView,
    LabGroup,
    MedLine,
    ObsLine,
    SortKey,
    TestHistory,
    TextItem,
)
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
    return ft.Text(
        value,
        size=size,
        weight=ft.FontWeight.BOLD if bold else ft.FontWeight.NORMAL,
        color=color,
        selectable=selectable,
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


# ---------------------------------------------------------------------------------------------
# Banner


def banner(
    view: BannerView,
    *,
    on_logout: Handler | None,
    on_language: Handler,
    lang: str,
    ward_picker: ft.Control | None = None,
    on_settings: Handler | None = None,
) -> ft.Control:
    """Top bar on every screen: ward, data age (coloured), read-only notice, user, logout."""
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
        pill(view.read_only, theme.NAVY, "#FFFFFF", size=theme.FONT_SMALL),
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
            ft.IconButton(
                ft.Icons.SETTINGS,
                icon_color=theme.NAVY_TEXT,
                on_click=on_settings,
                tooltip=tr("settings.open", lang),
            )
        )
    if on_logout is not None:
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
    bar = ft.Container(
        content=ft.Row(
            [ft.Row(left, spacing=14, expand=True), ft.Row(right, spacing=10, tight=True)],
            alignment=ft.MainAxisAlignment.SPACE_BETWEEN,
            vertical_alignment=ft.CrossAxisAlignment.CENTER,
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


# ---------------------------------------------------------------------------------------------
# Markers


def code_box(code: CodeStatusView, lang: str) -> ft.Control:
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
                text(code.label, theme.FONT_TITLE if restrictive else theme.FONT_BODY + 1,
                     bold=True, color=fg, max_lines=2),
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
        width=340,
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


def allergy_marker(label: str, severe: bool, *, size: int = theme.FONT_TABLE) -> ft.Control:
    if not label:
        return text("–", size, color=theme.MUTED)
    if severe:
        return ft.Container(
            content=ft.Row(
                [
                    ft.Icon(ft.Icons.WARNING_ROUNDED, color="#FFFFFF", size=size + 2),
                    ft.Container(
                        text(label, size, bold=True, color="#FFFFFF", max_lines=2), expand=True
                    ),
                ],
                spacing=4,
            ),
            bgcolor=theme.DANGER,
            padding=ft.Padding.symmetric(horizontal=6, vertical=2),
            border_radius=6,
        )
    return ft.Container(
        content=text(label, size, bold=True, color=theme.ALLERGY, max_lines=2),
        bgcolor=theme.ALLERGY_BG,
        padding=ft.Padding.symmetric(horizontal=6, vertical=2),
        border_radius=6,
    )


def isolation_marker(lang: str, size: int = theme.FONT_SMALL) -> ft.Control:
    return pill(
        tr("flag.isolation", lang).upper(), theme.ISOLATION_TEXT, theme.ISOLATION_BG, size=size
    )


# ---------------------------------------------------------------------------------------------
# Census table

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


# ---------------------------------------------------------------------------------------------
# Chart


def chart_header(h: ChartHeader, *, lang: str, on_back: Handler, on_print: Handler) -> ft.Control:
    ident = ft.Column(
        [
            ft.Row(
                [
                    text(h.name, theme.FONT_NAME, bold=True),
                    *(
                        [pill(tr("flag.deceased", lang), "#FFFFFF", theme.MUTED)]
                        if h.deceased
                        else []
                    ),
                ],
                spacing=10,
            ),
            text(
                f"{tr('chart.born', lang)} {h.birth} ({h.age}) · {h.sex} · "
                f"{tr('chart.mrn', lang)} {h.mrn}",
                theme.FONT_BODY,
                bold=True,
            ),
            text(
                f"{h.location} · {tr('chart.admitted', lang)} {h.admitted}",
                theme.FONT_BODY,
                color=theme.MUTED,
            ),
        ],
        spacing=2,
        expand=True,
    )
    # Severe: red; present: orange; none known: green; not documented: amber (ask!).
    fg, bg = {
        "severe": ("#FFFFFF", theme.DANGER),
        "present": (theme.ALLERGY, theme.ALLERGY_BG),
        "none-known": (theme.OK, theme.OK_BG),
        "not-documented": (theme.WARN, theme.WARN_BG),
    }[h.allergy_state]
    allergy_box = ft.Container(
        content=ft.Column(
            [
                text(tr("allergy.label", lang).upper(), theme.FONT_SMALL, bold=True, color=fg),
                text(h.allergy_summary, theme.FONT_BODY + 1, bold=True, color=fg, max_lines=3),
            ],
            spacing=0,
            tight=True,
        ),
        bgcolor=bg,
        padding=ft.Padding.symmetric(horizontal=12, vertical=6),
        border_radius=8,
        width=340,
    )
    flags: list[ft.Control] = []
    if h.isolation:
        flags.append(isolation_marker(lang, theme.FONT_BODY))
    flags.extend(pill(f, theme.INK, theme.WARN_BG, size=theme.FONT_SMALL) for f in h.flags)
    top = ft.Row(
        [
            ft.IconButton(
                ft.Icons.ARROW_BACK,
                on_click=on_back,
                tooltip=tr("chart.back", lang),
                icon_size=28,
            ),
            ident,
            code_box(h.code, lang),
            allergy_box,
            ft.OutlinedButton(
                tr("chart.print", lang),
                icon=ft.Icons.PRINT,
                on_click=on_print,
                style=ft.ButtonStyle(color=theme.NAVY, side=ft.BorderSide(1, theme.NAVY)),
            ),
        ],
        spacing=14,
        vertical_alignment=ft.CrossAxisAlignment.START,
    )
    controls: list[ft.Control] = [top]
    if flags:
        controls.append(ft.Row(flags, spacing=6, wrap=True))
    return ft.Container(
        content=ft.Column(controls, spacing=6, tight=True),
        bgcolor=theme.PAPER,
        padding=ft.Padding.symmetric(horizontal=12, vertical=8),
        border=ft.Border.only(bottom=ft.BorderSide(2, theme.LINE)),
    )


def section_nav(
    items: Sequence[tuple[str, str, int]], selected: str, on_select: Callable[[str], Any]
) -> ft.Control:
    """Left side list of chart sections: (id, label, count). Empty sections are greyed."""
    buttons: list[ft.Control] = []
    for sid, label, count in items:
        active = sid == selected

        def _click(_e: Any, s: str = sid) -> Any:
            return on_select(s)

        buttons.append(
            ft.Container(
                content=ft.Row(
                    [
                        text(
                            label,
                            theme.FONT_BODY,
                            bold=active,
                            color=theme.INK if count else theme.MUTED,
                        ),
                        text(
                            str(count) if sid != "summary" else "",
                            theme.FONT_SMALL,
                            color=theme.MUTED,
                        ),
                    ],
                    alignment=ft.MainAxisAlignment.SPACE_BETWEEN,
                ),
                padding=ft.Padding.symmetric(horizontal=12, vertical=9),
                bgcolor=theme.SELECT if active else None,
                border=ft.Border.only(
                    left=ft.BorderSide(5, theme.NAVY if active else theme.CANVAS)
                ),
                on_click=_click,
                border_radius=4,
            )
        )
    return ft.Container(
        content=ft.Column(buttons, spacing=2, scroll=ft.ScrollMode.AUTO),
        width=210,
        bgcolor=theme.CANVAS,
        padding=ft.Padding.symmetric(vertical=8, horizontal=6),
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
            ft.Container(text(h, theme.FONT_SMALL, bold=True, color=theme.MUTED), expand=f)
            for h, f in zip(headers, flex, strict=True)
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


def text_items(items: Sequence[TextItem], lang: str, on_open: Handler | None = None) -> ft.Control:
    if not items:
        return none_recorded(lang)
    rows: list[ft.Control] = []
    for item in items:
        title = text(
            item.title,
            theme.FONT_BODY,
            bold=True,
            color=theme.DANGER if item.danger else (theme.NAVY if item.emphasis else theme.INK),
        )
        sub = [x for x in (item.when, item.detail) if x]
        col = ft.Column(
            [title, *([text(" · ".join(sub), theme.FONT_SMALL, color=theme.MUTED)] if sub else [])],
            spacing=0,
            tight=True,
            expand=True,
        )
        row_controls: list[ft.Control] = [col]
        if on_open is not None and item.body:
            row_controls.append(
                ft.OutlinedButton(tr("notes.open", lang), on_click=on_open, data=item)
            )
        rows.append(
            ft.Container(
                ft.Row(row_controls, vertical_alignment=ft.CrossAxisAlignment.CENTER),
                padding=ft.Padding.symmetric(vertical=6, horizontal=4),
                border=ft.Border.only(bottom=ft.BorderSide(1, theme.LINE)),
            )
        )
    return ft.Column(rows, spacing=0, tight=True)


def med_table(lines: Sequence[MedLine], lang: str, *, compact: bool = False) -> ft.Control:
    if not lines:
        return none_recorded(lang)
    rows = []
    for m in lines:
        due_color = theme.DANGER if m.due.overdue else (theme.WARN if m.due.due_now else theme.INK)
        drug = ft.Column(
            [
                text(m.drug, theme.FONT_BODY, bold=True),
                *(
                    [text(m.note, theme.FONT_SMALL, color=theme.MUTED)]
                    if m.note and not compact
                    else []
                ),
            ],
            spacing=0,
            tight=True,
        )
        cells: list[ft.Control] = [drug, text(m.dose, theme.FONT_TABLE)]
        if not compact:
            cells += [text(m.route, theme.FONT_TABLE), text(m.schedule, theme.FONT_TABLE)]
        cells.append(
            text(m.due.text, theme.FONT_TABLE, bold=m.due.overdue or m.due.due_now, color=due_color)
        )
        rows.append(cells)
    if compact:
        headers = [tr("meds.col.drug", lang), tr("meds.col.dose", lang), tr("meds.col.due", lang)]
        flex = [5, 3, 4]
    else:
        headers = [
            tr("meds.col.drug", lang),
            tr("meds.col.dose", lang),
            tr("meds.col.route", lang),
            tr("meds.col.schedule", lang),
            tr("meds.col.due", lang),
        ]
        flex = [5, 3, 2, 5, 4]
    return grid(headers, rows, flex)


def admin_table(lines: Sequence[AdminLine], lang: str) -> ft.Control:
    if not lines:
        return none_recorded(lang)
    rows = [
        [
            text(a.when, theme.FONT_TABLE),
            text(a.drug, theme.FONT_TABLE, bold=True),
            text(a.dose, theme.FONT_TABLE),
            text(a.route, theme.FONT_TABLE),
            text(
                a.status,
                theme.FONT_TABLE,
                color=theme.DANGER if a.status == "not-done" else theme.INK,
            ),
            text(a.performer, theme.FONT_TABLE),
        ]
        for a in lines
    ]
    headers = [
        tr("meds.col.when", lang),
        tr("meds.col.drug", lang),
        tr("meds.col.dose", lang),
        tr("meds.col.route", lang),
        tr("meds.col.status", lang),
        tr("meds.col.by", lang),
    ]
    return grid(headers, rows, [3, 5, 3, 2, 2, 3])


def _flag_color(line: ObsLine) -> str:
    if line.critical:
        return theme.DANGER
    if line.abnormal:
        return theme.WARN
    return theme.INK


def obs_table(
    lines: Sequence[ObsLine],
    lang: str,
    *,
    on_name: Callable[[int], Any] | None = None,
    with_ref: bool = True,
) -> ft.Control:
    if not lines:
        return none_recorded(lang)
    rows = []
    for i, o in enumerate(lines):
        name: ft.Control = text(o.name, theme.FONT_TABLE)
        if on_name is not None:

            def _click(_e: Any, idx: int = i) -> Any:
                return on_name(idx)

            name = ft.Container(
                text(o.name, theme.FONT_TABLE, color=theme.NAVY), on_click=_click, tooltip=o.name
            )
        cells: list[ft.Control] = [
            name,
            text(o.value, theme.FONT_TABLE, bold=o.abnormal, color=_flag_color(o)),
            text(o.flag, theme.FONT_TABLE, bold=True, color=_flag_color(o)),
        ]
        if with_ref:
            cells.append(text(o.ref, theme.FONT_SMALL, color=theme.MUTED))
        cells.append(text(o.when, theme.FONT_SMALL, color=theme.MUTED))
        rows.append(cells)
    headers = [tr("obs.col.test", lang), tr("obs.col.result", lang), tr("obs.col.flag", lang)]
    flex = [5, 3, 1]
    if with_ref:
        headers.append(tr("obs.col.ref", lang))
        flex.append(3)
    headers.append(tr("obs.col.when", lang))
    flex.append(3)
    return grid(headers, rows, flex)


def sparkline(
    series: Sequence[tuple[datetime, float]], width: float = 260, height: float = 54
) -> ft.Control:
    """A small trend line drawn with ft.canvas (no chart package needed, works offline)."""
    if len(series) < 2:
        return ft.Container(width=width, height=height)
    t0 = series[0][0].timestamp()
    t1 = series[-1][0].timestamp()
    values = [v for _, v in series]
    lo, hi = min(values), max(values)
    span_t = (t1 - t0) or 1.0
    span_v = (hi - lo) or 1.0
    pad = 6.0

    def xy(point: tuple[datetime, float]) -> tuple[float, float]:
        x = pad + (point[0].timestamp() - t0) / span_t * (width - 2 * pad)
        y = pad + (1 - (point[1] - lo) / span_v) * (height - 2 * pad)
        return x, y

    pts = [xy(p) for p in series]
    elements: list[cv.Path.PathElement] = [cv.Path.MoveTo(*pts[0])]
    elements.extend(cv.Path.LineTo(x, y) for x, y in pts[1:])
    stroke = ft.Paint(stroke_width=2, style=ft.PaintingStyle.STROKE, color=theme.NAVY)
    dot = ft.Paint(style=ft.PaintingStyle.FILL, color=theme.NAVY)
    shapes: list[cv.Shape] = [
        cv.Line(0, height - 1, width, height - 1, paint=ft.Paint(stroke_width=1, color=theme.LINE)),
        cv.Path(elements, paint=stroke),
        cv.Circle(pts[-1][0], pts[-1][1], 3.5, paint=dot),
    ]
    return ft.Container(
        cv.Canvas(shapes, width=width, height=height),
        width=width,
        height=height,
    )


def trend_rows(histories: Sequence[TestHistory], lang: str) -> ft.Control:
    """Vital signs: latest value, flag and a trend line per sign."""
    if not histories:
        return none_recorded(lang)
    rows: list[ft.Control] = []
    for h in histories:
        o = h.latest
        rows.append(
            ft.Container(
                ft.Row(
                    [
                        ft.Container(text(h.name, theme.FONT_BODY, bold=True), expand=4),
                        ft.Container(
                            text(o.value, theme.FONT_BODY + 2, bold=True, color=_flag_color(o)),
                            expand=3,
                        ),
                        ft.Container(text(o.when, theme.FONT_SMALL, color=theme.MUTED), expand=3),
                        sparkline(h.series),
                    ],
                    vertical_alignment=ft.CrossAxisAlignment.CENTER,
                ),
                padding=ft.Padding.symmetric(vertical=4, horizontal=4),
                border=ft.Border.only(bottom=ft.BorderSide(1, theme.LINE)),
            )
        )
    return ft.Column(rows, spacing=0, tight=True)


def lab_groups(
    groups: Sequence[LabGroup], lang: str, on_test: Callable[[TestHistory], Any]
) -> ft.Control:
    if not groups:
        return none_recorded(lang)
    out: list[ft.Control] = []
    for g in groups:
        out.append(heading(g.name))

        def _open(idx: int, tests: list[TestHistory] = g.tests) -> Any:
            return on_test(tests[idx])

        out.append(obs_table([t.latest for t in g.tests], lang, on_name=_open))
    return ft.Column(out, spacing=4, tight=True)

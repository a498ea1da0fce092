"""The patient chart: header, section list, tables, trends, lab groups. Layout only."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import flet as ft
import flet.canvas as cv

from app.ui import theme
from app.ui.strings import tr
from app.ui.viewmodels.chart import (
    AdminLine,
    ChartHeader,
    LabGroup,
    MedLine,
    ObsLine,
    TestHistory,
    TextItem,
)
from app.ui.widgets.basic import Handler, grid, heading, icon_button, none_recorded, pill, text
from app.ui.widgets.markers import code_box, isolation_marker

BOX_WIDTH = 250  # code status and allergy boxes: beside the name from 1366 px on
CODE_WIDTH = 340  # a limitation's words ("DNR/DNI - do not resuscitate, ...") in two lines


def chart_header(
    header: ChartHeader, *, lang: str, on_back: Handler, on_print: Handler
) -> ft.Control:
    ident = ft.Column(
        [
            ft.Row(
                [
                    text(header.name, theme.FONT_NAME, bold=True),
                    *(
                        [pill(tr("flag.deceased", lang), "#FFFFFF", theme.MUTED)]
                        if header.deceased
                        else []
                    ),
                ],
                spacing=10,
                tight=True,
            ),
            text(
                f"{tr('chart.born', lang)} {header.birth} ({header.age}) · {header.sex} · "
                f"{tr('chart.mrn', lang)} {header.mrn}",
                theme.FONT_BODY,
                bold=True,
            ),
            text(
                f"{header.location} · {tr('chart.admitted', lang)} {header.admitted}",
                theme.FONT_BODY,
                color=theme.MUTED,
            ),
        ],
        spacing=2,
        tight=True,
    )
    # Severe: red; present: orange; none known: green; not documented: amber (ask!).
    fg, bg = {
        "severe": ("#FFFFFF", theme.DANGER),
        "present": (theme.ALLERGY, theme.ALLERGY_BG),
        "none-known": (theme.OK, theme.OK_BG),
        "not-documented": (theme.WARN, theme.WARN_BG),
    }[header.allergy_state]
    allergy_box = ft.Container(
        content=ft.Column(
            [
                text(tr("allergy.label", lang).upper(), theme.FONT_SMALL, bold=True, color=fg),
                text(header.allergy_summary, theme.FONT_BODY + 1, bold=True, color=fg, max_lines=3),
            ],
            spacing=0,
            tight=True,
        ),
        bgcolor=bg,
        padding=ft.Padding.symmetric(horizontal=12, vertical=6),
        border_radius=8,
        width=BOX_WIDTH,
    )
    flags: list[ft.Control] = []
    if header.isolation:
        flags.append(isolation_marker(lang, theme.FONT_BODY))
    flags.extend(pill(f, theme.INK, theme.WARN_BG, size=theme.FONT_SMALL) for f in header.flags)
    # Identity, code status, allergies and flags flow in one wrapping row: side by side on a
    # wide window (a compact header leaves the height to the chart), on two lines at 1024 px,
    # never clipped.
    facts = ft.Row(
        [
            ident,
            code_box(header.code, lang, width=CODE_WIDTH if header.code.restrictive else BOX_WIDTH),
            allergy_box,
            *flags,
        ],
        spacing=14,
        run_spacing=8,
        wrap=True,
        vertical_alignment=ft.CrossAxisAlignment.START,
        expand=True,
    )
    top = ft.Row(
        [
            icon_button(ft.Icons.ARROW_BACK, tr("chart.back", lang), on_back, size=28),
            facts,
            ft.OutlinedButton(
                tr("chart.print", lang),
                icon=ft.Icons.PRINT,
                on_click=on_print,
                style=ft.ButtonStyle(color=theme.NAVY, side=ft.BorderSide(1, theme.NAVY)),
            ),
        ],
        spacing=10,
        vertical_alignment=ft.CrossAxisAlignment.START,
    )
    return ft.Container(
        content=top,
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

        # A button, not a clickable container: reachable with Tab, Enter/Space opens it.
        buttons.append(
            ft.TextButton(
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
                on_click=_click,
                style=ft.ButtonStyle(
                    padding=ft.Padding.symmetric(horizontal=12, vertical=9),
                    bgcolor=theme.SELECT if active else None,
                    side=ft.BorderSide(0, theme.CANVAS),
                    shape=ft.RoundedRectangleBorder(radius=4),
                    alignment=ft.Alignment.CENTER_LEFT,
                ),
            )
        )
    return ft.Container(
        content=ft.Column(buttons, spacing=2, scroll=ft.ScrollMode.AUTO),
        width=210,
        bgcolor=theme.CANVAS,
        padding=ft.Padding.symmetric(vertical=8, horizontal=6),
    )


def text_items(
    items: Sequence[TextItem],
    lang: str,
    on_open: Handler | None = None,
    on_versions: Handler | None = None,
) -> ft.Control:
    """A list of entries; with `on_open` a "Read" button per entry with a text, with
    `on_versions` a button naming the other versions of a note ("2 other versions"). Both are
    buttons, so Tab reaches them and Enter/Space opens them."""
    if not items:
        return none_recorded(lang)
    rows: list[ft.Control] = []
    for item in items:
        color = theme.DANGER if item.danger else (theme.NAVY if item.emphasis else theme.INK)
        title = text(
            item.title,
            theme.FONT_BODY,
            bold=not item.muted,
            color=theme.MUTED if item.muted else color,
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
        if on_versions is not None and item.versions:
            row_controls.append(
                ft.OutlinedButton(item.versions_label, on_click=on_versions, data=item)
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
                # A dose documented as not given since the last given one, with its reason:
                # in words (not by colour alone), as the printed MAR shows it.
                *(
                    [text(m.not_given, theme.FONT_SMALL, color=theme.DANGER, max_lines=2)]
                    if m.not_given
                    else []
                ),
                # The same drug also has an order on hold: both orders seen together.
                *(
                    [text(m.related, theme.FONT_SMALL, color=theme.DANGER, max_lines=2)]
                    if m.related
                    else []
                ),
                # Last dose given and by whom, as the printed MAR shows it.
                *(
                    [text(m.last_given, theme.FONT_SMALL, color=theme.MUTED, max_lines=1)]
                    if m.last_given and not compact
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

            # A button (Tab reaches it) that opens the test's history.
            name = ft.TextButton(
                content=text(o.name, theme.FONT_TABLE, color=theme.NAVY),
                on_click=_click,
                style=ft.ButtonStyle(
                    padding=ft.Padding.symmetric(horizontal=2, vertical=0),
                    alignment=ft.Alignment.CENTER_LEFT,
                    shape=ft.RoundedRectangleBorder(radius=4),
                ),
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
    # The flag column holds "H", "LL", "!", but its heading "Flag" must fit whole: at 1024 px a
    # flex of 1 broke it "Fla" / "g" in the summary's half-width vital signs.
    flex = [5, 3, 2]
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
    for test in histories:
        o = test.latest
        rows.append(
            ft.Container(
                ft.Row(
                    [
                        ft.Container(text(test.name, theme.FONT_BODY, bold=True), expand=4),
                        ft.Container(
                            text(o.value, theme.FONT_BODY + 2, bold=True, color=_flag_color(o)),
                            expand=3,
                        ),
                        ft.Container(text(o.when, theme.FONT_SMALL, color=theme.MUTED), expand=3),
                        sparkline(test.series),
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

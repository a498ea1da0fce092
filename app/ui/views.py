"""The viewer's Flet controls under their old import name (they live in app.ui.widgets).

Kept so that `from app.ui import views` keeps working; new code imports from the modules in
app.ui.widgets.
"""

from __future__ import annotations

from app.ui.widgets.banner import banner
from app.ui.widgets.basic import Handler, card, grid, heading, none_recorded, pill, text
from app.ui.widgets.census import ROW_HEIGHT, census_header, census_row
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
from app.ui.widgets.markers import allergy_marker, code_box, code_marker, isolation_marker

__all__ = [
    "ROW_HEIGHT",
    "Handler",
    "admin_table",
    "allergy_marker",
    "banner",
    "card",
    "census_header",
    "census_row",
    "chart_header",
    "code_box",
    "code_marker",
    "grid",
    "heading",
    "isolation_marker",
    "lab_groups",
    "med_table",
    "none_recorded",
    "obs_table",
    "pill",
    "section_nav",
    "sparkline",
    "text",
    "text_items",
    "trend_rows",
]

"""How much room a screen has: the window width decides between the full and the compact layout.

Pure: the shell passes the page width in; the widgets read `compact`. Ward laptops are often
1024x768 or 1366x768, so every screen is laid out for 1024 px without clipping what identifies a
patient or warns about one (name, birth date, MRN, bed, code status, allergies, data age).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.ui.viewmodels.census import SortKey

COMPACT_BELOW = 1280  # px: below this the banner and the census use their compact forms
DEFAULT_WIDTH = 1366  # before the client has reported its size
# The census screen's parts above and below its list (banner, toolbar, column header, footer)
# are at least this tall; the list has the rest of the window's height.
CENSUS_CHROME = 200
SCREENFUL_UNKNOWN = 24  # rows: a 1920x1080 screenful, drawn while the height is not known
SCREENFUL_MIN = 8


@dataclass(frozen=True)
class Layout:
    width: float
    height: float | None = None  # None: not reported yet

    @property
    def compact(self) -> bool:
        return self.width < COMPACT_BELOW

    def screenful(self, row_height: int) -> int:
        """Census rows that fill the list on this window and one more (with the "N more" row
        under them the list is always longer than its room, so it can be scrolled, which
        draws more): 12 at 768 px, 17 at 1080 px; SCREENFUL_UNKNOWN while the height is not
        known."""
        if not self.height:
            return SCREENFUL_UNKNOWN
        rows = -(-(self.height - CENSUS_CHROME) // row_height) + 1  # ceil, and one more
        return int(max(SCREENFUL_MIN, rows))


def layout_for(width: float | None, height: float | None = None) -> Layout:
    """The layout for a page `width` x `height` in logical pixels (None or 0: not known
    yet)."""
    return Layout(
        float(width) if width else float(DEFAULT_WIDTH), float(height) if height else None
    )


@dataclass(frozen=True)
class Column:
    """One census column: its sort key (None: not sortable), heading, and either a fixed width
    (px: short facts that must never be cut, e.g. bed, name, birth date, MRN, code status) or a
    flex weight (free text that wraps: diagnosis, allergies, flags)."""

    id: str
    sort: SortKey | None
    label_id: str
    width: int | None = None
    flex: int = 0


# Wide windows (1280 px and more): every fact in its own column.
WIDE_COLUMNS: list[Column] = [
    Column("bed", SortKey.BED, "census.col.bed", width=80),
    Column("name", SortKey.NAME, "census.col.name", width=220),
    Column("age", SortKey.AGE, "census.col.age", width=70),
    Column("admitted", SortKey.ADMITTED, "census.col.admitted", width=110),
    Column("attending", SortKey.ATTENDING, "census.col.attending", flex=13),
    Column("diagnosis", SortKey.DIAGNOSIS, "census.col.diagnosis", flex=21),
    Column("allergy", None, "census.col.allergy", flex=17),
    Column("code", SortKey.CODE, "census.col.code", width=120),
    Column("due", SortKey.DUE, "census.col.due", width=150),
    Column("flags", None, "census.col.flags", flex=21),
]
# Compact (1024 px): the attending goes under the diagnosis, so that the facts keep their width.
COMPACT_COLUMNS: list[Column] = [
    Column("bed", SortKey.BED, "census.col.bed", width=76),
    Column("name", SortKey.NAME, "census.col.name", width=196),
    Column("age", SortKey.AGE, "census.col.age", width=56),
    Column("admitted", SortKey.ADMITTED, "census.col.admitted", width=90),
    # Diagnosis gives way (it ends in "…"; the chart has it): allergies and flags show whole.
    Column("diagnosis", SortKey.DIAGNOSIS, "census.col.diagnosis_short", flex=21),
    Column("allergy", None, "census.col.allergy", flex=21),
    Column("code", SortKey.CODE, "census.col.code", width=100),
    Column("due", SortKey.DUE, "census.col.due", width=96),
    # Wide enough for "Kontaktisolation:" whole at 1024 px (no mid-word break).
    Column("flags", None, "census.col.flags", flex=21),
]


def census_columns(compact: bool) -> list[Column]:
    return COMPACT_COLUMNS if compact else WIDE_COLUMNS


# Space the census row needs besides its columns: padding, highlight border, gaps (8 px).
ROW_CHROME = 12 + 12 + 5


def census_free_width(window_width: float) -> float:
    """Pixels left for the flexible (free-text) census columns in a window this wide."""
    columns = census_columns(layout_for(window_width).compact)
    fixed = sum(c.width or 0 for c in columns)
    return window_width - ROW_CHROME - 8 * (len(columns) - 1) - fixed


ROW_CHROME_PX = 12 + 12 + 5  # census row: horizontal padding both sides and the selection edge
CELL_GAP_PX = 8


def census_column_width(column_id: str, compact: bool) -> float:
    """The narrowest width (px) of one census column: at 1024 px when compact, at 1280 px
    otherwise. Used to decide what fits a cell whole (a wider window only has more room)."""
    columns = census_columns(compact)
    page = 1024.0 if compact else float(COMPACT_BELOW)
    fixed = sum(c.width or 0 for c in columns)
    flex_total = sum(c.flex for c in columns if c.width is None)
    room = page - ROW_CHROME_PX - CELL_GAP_PX * (len(columns) - 1) - fixed
    for c in columns:
        if c.id == column_id:
            return float(c.width) if c.width is not None else room * c.flex / flex_total
    raise KeyError(column_id)

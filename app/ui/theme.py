"""Colours and type sizes of the viewer: high contrast, calm, readable at arm's length.

Red is reserved for what can kill (restricted code status, severe allergy, overdue doses, stale
data); yellow for isolation (the colour of the door sign); everything else is ink on paper.
"""

from __future__ import annotations

INK = "#111418"
MUTED = "#4A5260"  # secondary text; still 7:1 on PAPER
PAPER = "#FFFFFF"
CANVAS = "#F1F3F6"  # page background behind cards
LINE = "#C9CED6"
NAVY = "#1C2B4A"  # banner
NAVY_TEXT = "#FFFFFF"
SELECT = "#D6E4FF"
HOVER = "#EEF3FF"
DANGER = "#B3261E"
DANGER_BG = "#FDECEA"
WARN = "#8A5300"
WARN_BG = "#FFF4D6"
ALLERGY = "#8A3B00"
ALLERGY_BG = "#FFE9D6"
ISOLATION_BG = "#FFD400"
ISOLATION_TEXT = "#111418"
OK = "#1B6E35"
OK_BG = "#E4F4E8"

FRESHNESS = {
    "green": (OK, OK_BG),
    "amber": (WARN, WARN_BG),
    "red": (DANGER, DANGER_BG),
}

FONT_BODY = 16
FONT_SMALL = 14
FONT_TABLE = 15
FONT_TITLE = 22
FONT_NAME = 26

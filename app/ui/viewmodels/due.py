"""The ward's "medications due" screen: rows, hours, keyboard highlight (pure, Flet-free).

The doses come from `app.duelist.ward_due` (computed by the backend off the UI thread), the
words from `app.present.due`, the same as the printout: screen and paper list the same rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from app.duelist import DEFAULT_HOURS, HOURS_CHOICES, DueDose
from app.present.catalog import t
from app.present.due import DueRowText, due_columns, due_row

#: Keys that choose the hours ("1" stands for 12: one key press).
HOUR_KEYS: dict[str, int] = {"2": 2, "4": 4, "8": 8, "1": 12}


class DueListModel:
    """The due list as shown: overdue first (app.duelist's order), the highlighted row."""

    def __init__(self, doses: Sequence[DueDose] = (), hours: int = DEFAULT_HOURS) -> None:
        self.doses = list(doses)
        self.hours = hours if hours in HOURS_CHOICES else DEFAULT_HOURS
        self.selected = 0

    def set_doses(self, doses: Sequence[DueDose], hours: int) -> None:
        """New rows (after a change of hours or a reload); the highlight goes to the top."""
        self.doses = list(doses)
        self.hours = hours
        self.selected = 0

    def move(self, delta: int) -> None:
        """Arrow keys: move the highlight, staying inside the list."""
        self.selected = min(max(self.selected + delta, 0), max(len(self.doses) - 1, 0))

    def selected_patient(self) -> str | None:
        if not self.doses:
            return None
        return self.doses[min(self.selected, len(self.doses) - 1)].patient_id

    def lines(self, now: datetime, tz: tzinfo, lang: str) -> list[DueRowText]:
        today = now.astimezone(tz).date()
        return [due_row(d, lang, tz, today) for d in self.doses]

    def title(self, lang: str) -> str:
        return t("due.title", lang, hours=self.hours)

    def summary(self, lang: str) -> str:
        """ "12 Gaben, davon 2 überfällig", or the empty-list sentence."""
        if not self.doses:
            return t("due.empty", lang, hours=self.hours)
        overdue = sum(1 for d in self.doses if d.overdue)
        return t("due.count", lang, count=len(self.doses), overdue=overdue)

    @staticmethod
    def columns(lang: str) -> tuple[str, ...]:
        return due_columns(lang)

    @staticmethod
    def hour_for_key(key: str) -> int | None:
        """The hours a key chooses ("2", "4", "8", "1" = 12), else None."""
        return HOUR_KEYS.get(key)

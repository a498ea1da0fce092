"""Medication wording shared by screen and paper: dose, schedule (timing) and the medications-due
words (census column, due screen, due printout)."""

from __future__ import annotations

from app.present.messages.base import Messages, same

MESSAGES: Messages = {
    "med.per_dose": {"de": "pro Gabe", "en": "per dose"},
    "timing.daily": {"de": "{n}× täglich", "en": "{n}× daily"},
    "timing.once": {"de": "1× täglich", "en": "once daily"},
    "timing.every_h": {"de": "alle {n} h", "en": "every {n} h"},
    "timing.every_min": {"de": "alle {n} min", "en": "every {n} min"},
    "timing.every_days": {"de": "alle {n} Tage", "en": "every {n} days"},
    "timing.weekly": {"de": "wöchentlich", "en": "weekly"},
    "timing.monthly": {"de": "monatlich", "en": "monthly"},
    "timing.yearly": {"de": "jährlich", "en": "yearly"},
    "timing.on": {"de": "an {days}", "en": "on {days}"},
    "timing.none": {"de": "keine festen Zeiten", "en": "no fixed times"},
    # weekday abbreviations, Monday first (FHIR days_of_week)
    "timing.day.0": {"de": "Mo", "en": "Mon"},
    "timing.day.1": {"de": "Di", "en": "Tue"},
    "timing.day.2": {"de": "Mi", "en": "Wed"},
    "timing.day.3": {"de": "Do", "en": "Thu"},
    "timing.day.4": {"de": "Fr", "en": "Fri"},
    "timing.day.5": {"de": "Sa", "en": "Sat"},
    "timing.day.6": {"de": "So", "en": "Sun"},
    "due.col": {"de": "Fällig", "en": "Due"},
    # The screen puts an icon before these words (its font has no warning sign).
    "due.overdue": {"de": "überfällig {time}", "en": "overdue {time}"},
    "due.overdue_more": {
        "de": "überfällig {time} (+{more})",
        "en": "overdue {time} (+{more})",
    },
    "due.soon": {"de": "fällig {time}", "en": "due {time}"},
    "due.none": {"de": "–", "en": "–"},
    "due.title": {
        "de": "Fällige Medikamente (nächste {hours} h)",
        "en": "Medications due (next {hours} h)",
    },
    "due.col.time": same("col.time"),
    "due.col.bed": same("col.bed"),
    "due.col.patient": {"de": "Patient", "en": "Patient"},
    "due.col.drug": same("col.drug"),
    "due.col.dose": same("col.dose"),
    "due.col.route": same("col.route"),
    "due.col.given": {"de": "Gegeben (Zeit, Kürzel)", "en": "Given (time, initials)"},
    "due.mark.overdue": {"de": "⚠ ÜBERFÄLLIG", "en": "⚠ OVERDUE"},
    "due.count": {
        "de": "{count} Gaben, davon {overdue} überfällig",
        "en": "{count} doses, {overdue} of them overdue",
    },
    "due.empty": {
        "de": "Keine geplanten Gaben in den nächsten {hours} h.",
        "en": "No scheduled doses in the next {hours} h.",
    },
    "due.rule": {
        # Filled from app.schedule (TOLERANCE, OVERDUE_LOOKBACK) by app.present.due.due_rule_text:
        # a dose 20 min late is not yet overdue, and the text must say so.
        "de": "Überfällig: mehr als {minutes} min vor dem Datenstand fällig (Rückblick "
        "{hours} h) und nicht dokumentiert. Bedarfsmedikation (PRN) ist nicht aufgeführt.",
        "en": "Overdue: due more than {minutes} min before data-as-of (looking back "
        "{hours} h) and not documented. As-needed (PRN) medication is not listed.",
    },
    "due.hours": {"de": "{hours} h", "en": "{hours} h"},
    "due.open": {"de": "Fällige Medikamente", "en": "Medications due"},
    "due.keys": {
        "de": "Pfeiltasten: Zeile · Enter: Patient öffnen · Tasten 2, 4, 8, 1 (= 12): "
        "Stunden · Strg+P: drucken · Esc: zurück",
        "en": "Arrows: row · Enter: open patient · keys 2, 4, 8, 1 (= 12): hours · "
        "Ctrl+P: print · Esc: back",
    },
}

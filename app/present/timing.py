"""The schedule text of a dosage: "alle 8 h: 06:00, 14:00, 22:00" / "3× daily: 06:00, ...".

`app.schedule.timing_shape` says what a timing means (pure due-time logic, no words); this
module words it once, in the reader's language, with the locale's numbers ("alle 1,5 h").
Texts from the source (the timing text, a "1-0-1" schema, the as-needed reason) get the
language's decimal sign too. Pure; no I/O.
"""

from __future__ import annotations

from datetime import datetime

from app.present.catalog import t
from app.present.formats import clinical_number, fmt_time, localize_numbers
from app.schedule import timing_shape
from sync.model import Dosage, Timing


def _hours(hours: float, lang: str) -> str:
    """ "alle 8 h" / "alle 1,5 h"; under an hour in minutes ("alle 30 min")."""
    if hours * 60 < 60:
        return t("timing.every_min", lang, n=clinical_number(round(hours * 60, 1), lang))
    return t("timing.every_h", lang, n=clinical_number(round(hours, 2), lang))


def describe_timing(
    timing: Timing | None,
    lang: str = "de",
    dosage_text: str | None = None,
    anchor: datetime | None = None,
) -> str:
    """Short text of a timing, e.g. "3× täglich: 06:00, 14:00, 22:00" / "alle 8 h: ...".

    `anchor` is the order start in local time (intervals are anchored there, as in
    `app.schedule.scheduled_times`); without it the 06:00 default applies. Keeps the original
    text in parentheses when it says more than the computed times. Pure; never raises.
    """
    shape = timing_shape(timing, dosage_text, anchor)
    if shape.kind == "none":
        return t("timing.none", lang)
    if shape.kind == "text":
        return localize_numbers(shape.original, lang)
    parts: list[str] = []
    if shape.kind == "interval":
        parts.append(_hours(shape.hours or 0, lang))
    else:
        if shape.kind == "every_days":
            head = t("timing.every_days", lang, n=shape.days)
        elif shape.kind == "every_hours":
            head = _hours(shape.hours or 0, lang)
        elif shape.kind in ("weekly", "monthly", "yearly"):
            head = t(f"timing.{shape.kind}", lang)
        elif len(shape.clocks) == 1:
            head = t("timing.once", lang)
        else:
            head = t("timing.daily", lang, n=len(shape.clocks))
        clocks = ", ".join(fmt_time(c, lang) for c in shape.clocks)
        parts.append(f"{head}: {clocks}")
    if shape.weekdays:
        days = ", ".join(t(f"timing.day.{d}", lang) for d in shape.weekdays)
        parts.append(t("timing.on", lang, days=days))
    out = "; ".join(parts)
    original = localize_numbers(shape.original, lang)
    if original and original not in out:
        out = f"{out} ({original})"
    return out


def describe_dosage_timing(dosage: Dosage, lang: str = "de", anchor: datetime | None = None) -> str:
    """`describe_timing` for a whole dosage: an as-needed dosage reads "bei Bedarf (reason)"."""
    if dosage.as_needed:
        reason = dosage.as_needed_reason
        return t("med.prn", lang) + (f" ({localize_numbers(reason, lang)})" if reason else "")
    return describe_timing(dosage.timing, lang, dosage.text, anchor)


__all__ = ["describe_dosage_timing", "describe_timing"]

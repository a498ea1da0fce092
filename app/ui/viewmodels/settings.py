"""The settings form (admin only): text values to validated Settings (pure)."""

from __future__ import annotations

from pydantic import ValidationError

from app.settings import Settings


def settings_changes(current: Settings, form: dict[str, str]) -> tuple[Settings | None, str]:
    """Apply the settings form's text values to `current`.

    Returns (new settings, "") or (None, a message naming the field that is wrong). Pure: the
    caller saves the result. Keys: language, time_zone, idle_lock_minutes, default_printer,
    break_glass ("roster" | "off" | "on"), mar_hours ("24" | "72"; absent keeps the current).
    """
    data = current.model_dump()
    data["language"] = form.get("language") or current.language
    data["time_zone"] = (form.get("time_zone") or "").strip() or None
    data["default_printer"] = (form.get("default_printer") or "").strip() or None
    choices: dict[str, bool | None] = {"roster": None, "off": False, "on": True}
    data["break_glass_allowed"] = choices.get(form.get("break_glass", "roster"))
    hours = (form.get("mar_hours") or "").strip()
    if hours:
        try:
            data["mar_hours"] = int(hours)
        except ValueError:
            return None, f"mar_hours: {hours!r} is not 24 or 72"
    minutes = (form.get("idle_lock_minutes") or "").strip()
    try:
        data["idle_lock_minutes"] = int(minutes)
    except ValueError:
        return None, f"idle_lock_minutes: {minutes!r} is not a whole number"
    try:
        return Settings.model_validate(data), ""
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        return None, f"{where}: {first['msg']}"


def changed_keys(old: Settings, new: Settings) -> list[str]:
    """The settings that differ (for the audit entry; values are not secret but kept short)."""
    a, b = old.model_dump(), new.model_dump()
    return sorted(k for k in b if a.get(k) != b[k])


MAR_DOCS = ("mar24", "mar72")


def print_documents(*, patient: bool, mar_hours: int) -> list[str]:
    """The print dialog's documents: for a patient the summary, then the MAR of the laptop's
    configured period (setting `mar_hours`) before the other period; else the census. Pure."""
    if not patient:
        return ["census"]
    first = f"mar{mar_hours}" if f"mar{mar_hours}" in MAR_DOCS else MAR_DOCS[0]
    return ["summary", first, *[d for d in MAR_DOCS if d != first]]


def is_default_document(doc: str, mar_hours: int) -> bool:
    """Whether `doc` is the MAR of the configured period (the dialog marks it "default")."""
    return doc == f"mar{mar_hours}"

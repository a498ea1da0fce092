"""Viewer settings, stored as JSON in `<laptop home>/settings.json`.

Only an admin changes them (in the viewer's settings view or by editing the file); the file is
written atomically with mode 0600. Unknown keys are refused so a typo ("idle_lock_minute") is
reported instead of silently ignored. A missing file means defaults.

Break-glass is hospital policy from the signed roster; the local setting can only turn it
OFF on this laptop, never on where the roster forbids it (see `break_glass_effective`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from app.freshness import FreshnessThresholds
from app.paths import ensure_private_dir, settings_path
from sync import fsutil

log = logging.getLogger(__name__)

SETTINGS_VERSION = 1


class SettingsError(Exception):
    """The settings file exists but cannot be read or is invalid (message names the file)."""


class Settings(BaseModel):
    """Everything the viewer lets an admin configure on one laptop."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    version: int = Field(SETTINGS_VERSION, description="settings file format version")
    language: Literal["auto", "de", "en"] = Field(
        "auto", description="UI language; auto follows the system locale"
    )
    time_zone: str | None = Field(
        None,
        description="IANA zone for displayed times (e.g. Europe/Berlin); "
        "None = the hospital's zone recorded in the snapshot",
    )
    idle_lock_minutes: int = Field(5, ge=1, le=240, description="lock the screen after idle")
    freshness: FreshnessThresholds = Field(default_factory=FreshnessThresholds)
    break_glass_allowed: bool | None = Field(
        None, description="None follows the roster policy; False disables it on this laptop"
    )
    default_printer: str | None = Field(None, description="OS printer name; None = OS default")
    mar_hours: Literal[24, 72] = Field(
        24, description="default period of a printed MAR in hours; `print mar --hours` overrides"
    )
    max_failed_logins: int = Field(5, ge=1, le=100, description="failures before a lockout")
    lockout_minutes: int = Field(5, ge=1, le=24 * 60, description="length of a lockout")
    max_failed_logins_laptop: int = Field(
        10,
        ge=1,
        le=1000,
        description="failures on this laptop, over all user ids, before every password "
        "attempt waits 1, 2, 4 ... 30 s",
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name like Europe/Berlin)"
            ) from exc
        return value

    def zone(self) -> ZoneInfo | None:
        """The configured display time zone, or None for the system's local zone."""
        return ZoneInfo(self.time_zone) if self.time_zone else None


def break_glass_effective(settings: Settings, roster_allows: bool) -> bool:
    """Pure: whether break-glass may be offered: the roster must allow it and this laptop must
    not have switched it off. A local file can restrict hospital policy, never widen it."""
    return roster_allows and settings.break_glass_allowed is not False


def load_settings(home: Path) -> Settings:
    """Read `<home>/settings.json`; defaults if the file does not exist.

    Raises SettingsError naming the file and the first problems if it is unreadable or invalid.
    """
    path = settings_path(home)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Settings()
    except OSError as exc:
        raise SettingsError(f"cannot read settings file {path}: {exc.strerror or exc}") from exc
    try:
        return Settings.model_validate(orjson.loads(raw))
    except orjson.JSONDecodeError as exc:
        raise SettingsError(
            f"settings file {path} is not valid JSON ({exc}); fix it or delete it for defaults"
        ) from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'file'}: {err['msg']}"
            for err in exc.errors()[:5]
        )
        raise SettingsError(f"settings file {path} is invalid: {problems}") from exc


def load_settings_or_defaults(home: Path) -> tuple[Settings, str | None]:
    """Like `load_settings`, but never fails: a broken file gives defaults and the problem text.

    The viewer uses this so a damaged settings file cannot block access in a downtime; it shows
    the returned problem to the user. Side effect: logs a warning when falling back.
    """
    try:
        return load_settings(home), None
    except SettingsError as exc:
        log.warning("%s; using default settings", exc)
        return Settings(), str(exc)


def save_settings(home: Path, settings: Settings) -> Path:
    """Write the settings atomically (`sync.fsutil.atomic_write`), mode 0600.

    Side effects: creates the home if needed; replaces settings.json. Raises OSError naming the
    file if it cannot be written.
    """
    ensure_private_dir(home)
    path = settings_path(home)
    data = orjson.dumps(settings.model_dump(mode="json"), option=orjson.OPT_INDENT_2) + b"\n"
    try:
        fsutil.atomic_write(path, data, 0o600)
    except OSError as exc:
        raise OSError(f"cannot write settings file {path}: {exc.strerror or exc}") from exc
    return path

"""Configuration of a sync server: hospital, time zone, wards and how patients are placed on them.

Loaded from TOML (`load_config(path)`), validated by pydantic; `check_config_file(path)` collects
every problem as a readable line for `wardcopy-sync config check FILE`. See docs/configuration.md
for the file format and the order in which ward rules are applied (sync.wards implements it).

Example:

    hospital = "Klinikum Beispielstadt"
    timezone = "Europe/Berlin"
    discharged_within_hours = 24
    source = "/srv/fhir/export"
    outbox = "/srv/wardcopy/outbox"

    [[wards]]
    id = "kardio"
    name = "Kardiologie 3B"
      [[wards.rules]]
      location_names = ["Station 3B"]
      [[wards.rules]]
      organization_names = ["Kardiologie"]
      stay = "latest"
      max_age_days = 365
"""

from __future__ import annotations

import os
import re
import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sync.mapping.meanings import MEANINGS, NEWS2_RANGES, VitalRange, VitalRanges
from sync.model import DataWindows

__all__ = [
    "DEFAULT_INPATIENT_CLASSES",
    "Config",
    "ConfigError",
    "FhirAuth",
    "FhirSettings",
    "HistoryWindows",
    "HospitalWard",
    "RangeConfig",
    "StayScope",
    "VitalRangesConfig",
    "WardConfig",
    "WardRule",
    "WatchSettings",
    "check_config_file",
    "load_config",
    "parse_config",
]

# Encounter.class codes (v3 ActCode and common local spellings) counted as an inpatient stay.
DEFAULT_INPATIENT_CLASSES: tuple[str, ...] = ("IMP", "ACUTE", "NONAC", "OBSENC", "SS", "stationaer")

_WARD_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class ConfigError(ValueError):
    """The configuration is invalid. `problems` holds one readable line per problem."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{source}: {len(problems)} problem(s) in the configuration:\n{lines}")


class _Strict(BaseModel):
    # A typo in a key ("location_name" for "location_names") must be an error, not silently
    # ignored: a ward rule that never matches empties a ward.
    model_config = ConfigDict(extra="forbid", frozen=False)


class StayScope(StrEnum):
    """Which of a patient's encounters a ward rule looks at."""

    CURRENT = "current"  # in-progress inpatient stays, and those discharged within N hours
    LATEST = "latest"  # the latest inpatient stay of any status (Synthea: all are finished)


class WardRule(_Strict):
    """One way onto a ward. Criteria given together must all match (AND); a ward's rules are
    alternatives (OR). Values match as documented in docs/configuration.md."""

    location_ids: list[str] = Field(default_factory=list)  # "Location/abc" or "abc"
    location_identifiers: list[str] = Field(default_factory=list)  # "system|value" or "value"
    location_names: list[str] = Field(default_factory=list)  # case-insensitive substring
    organization_ids: list[str] = Field(default_factory=list)
    organization_identifiers: list[str] = Field(default_factory=list)
    organization_names: list[str] = Field(default_factory=list)
    encounter_classes: list[str] = Field(default_factory=list)  # "IMP", "EMER", ...
    patients: list[str] = Field(default_factory=list)  # Patient ids or "system|value" identifiers
    everyone: bool = False  # match any patient with a stay of the chosen scope
    stay: StayScope = StayScope.CURRENT
    max_age_days: float | None = Field(default=None, gt=0)  # for stay = "latest"; None: unlimited

    @model_validator(mode="after")
    def _has_criterion(self) -> WardRule:
        if not self.everyone and not self.encounter_criteria and not self.patients:
            raise ValueError(
                "a rule needs at least one criterion (location_*, organization_*, "
                "encounter_classes, patients), or everyone = true"
            )
        if self.max_age_days is not None and self.stay != StayScope.LATEST:
            raise ValueError('max_age_days only applies to stay = "latest"')
        return self

    @property
    def encounter_criteria(self) -> bool:
        """True when the rule tests the encounter (not just a patient list)."""
        return bool(
            self.location_ids
            or self.location_identifiers
            or self.location_names
            or self.organization_ids
            or self.organization_identifiers
            or self.organization_names
            or self.encounter_classes
        )


class WardConfig(_Strict):
    """A ward: one snapshot, one package, the laptops enrolled for it."""

    id: str
    name: str
    rules: list[WardRule] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        if not _WARD_ID.match(value):
            raise ValueError(
                f"ward id {value!r} must be 1-64 letters, digits, '.', '_' or '-' "
                "(it names folders and packages)"
            )
        return value

    @field_validator("name")
    @classmethod
    def _nonempty_name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("ward name must not be empty (it is shown on every screen)")
        return value


class HospitalWard(_Strict):
    """The hospital-wide pseudo-ward: every patient placed on any ward, in one snapshot (for a
    laptop that must search the whole hospital, e.g. at the admission desk)."""

    enabled: bool = True
    id: str = "hospital"
    name: str = "Whole hospital"

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        return WardConfig._valid_id(value)


class RangeConfig(_Strict):
    """One vital sign's adult range (see sync.mapping.meanings.VitalRange); unset values keep
    the NEWS2 default."""

    low: float | None = None
    high: float | None = None
    critical_low: float | None = None
    critical_high: float | None = None


class VitalRangesConfig(_Strict):
    """`[vital_ranges]`: the ranges that flag vital signs the source did not flag."""

    name: str = "NEWS2"  # shown next to such a flag: say which ranges are used
    ranges: dict[str, RangeConfig] = Field(default_factory=dict)

    @field_validator("ranges")
    @classmethod
    def _known_vitals(cls, value: dict[str, RangeConfig]) -> dict[str, RangeConfig]:
        unknown = sorted(set(value) - set(NEWS2_RANGES))
        if unknown:
            raise ValueError(
                f"no range can be set for {', '.join(unknown)}; "
                f"use one of {', '.join(sorted(NEWS2_RANGES))}"
            )
        return value

    def resolved(self) -> VitalRanges:
        """The NEWS2 defaults with this table's values laid over them."""
        ranges = dict(NEWS2_RANGES)
        for meaning, override in self.ranges.items():
            base = ranges[meaning]
            ranges[meaning] = VitalRange(
                low=override.low if override.low is not None else base.low,
                high=override.high if override.high is not None else base.high,
                critical_low=override.critical_low
                if override.critical_low is not None
                else base.critical_low,
                critical_high=override.critical_high
                if override.critical_high is not None
                else base.critical_high,
            )
        return VitalRanges(name=self.name, ranges=ranges)


class FhirAuth(_Strict):
    """How the sync server proves itself to a FHIR server (docs/configuration.md, [fhir.auth]).
    Secrets are never in this file: only where to find them (a 0600 file or the OS keyring)."""

    method: Literal["none", "bearer", "smart"] = "none"
    token_file: Path | None = None  # bearer: a 0600 file holding the token
    token_keyring: str | None = None  # bearer: keyring name under service "wardcopy-sync"
    client_id: str | None = None  # smart
    token_url: str | None = None  # smart; None: from .well-known/smart-configuration
    key_file: Path | None = None  # smart: PEM private key, mode 0600
    key_keyring: str | None = None  # smart: keyring name holding the PEM
    algorithm: Literal["RS384", "ES384"] = "RS384"
    key_id: str | None = None  # the JWT header's kid (the key's id in the registered JWKS)
    scope: str = "system/*.read"

    @model_validator(mode="after")
    def _complete(self) -> FhirAuth:
        if self.method == "bearer" and not (self.token_file or self.token_keyring):
            raise ValueError('method = "bearer" needs token_file or token_keyring')
        if self.method == "smart":
            if not self.client_id:
                raise ValueError('method = "smart" needs client_id')
            if not (self.key_file or self.key_keyring):
                raise ValueError('method = "smart" needs key_file or key_keyring')
        return self


class FhirSettings(_Strict):
    """How a FHIR server `source` is read ([fhir]; docs/configuration.md)."""

    mode: Literal["auto", "bulk", "rest"] = "auto"  # auto: bulk when the server offers $export
    export_level: Literal["system", "patient", "group"] = "system"
    group_id: str | None = None
    types: list[str] = Field(default_factory=list)  # _type for $export; [] = everything
    type_filters: list[str] = Field(default_factory=list)  # _typeFilter values
    encounter_statuses: list[str] = Field(
        default_factory=lambda: ["arrived", "triaged", "in-progress", "onleave"]
    )
    locations: list[str] = Field(default_factory=list)  # REST: Location ids of in-scope stays
    page_size: int = Field(default=200, ge=1, le=10_000)  # REST _count
    # REST increments start this long before the server's Date of the last read (clock skew
    # between its write stamps and its Date header; re-read resources are applied idempotently)
    rest_overlap_seconds: float = Field(default=5.0, ge=0)
    attempts: int = Field(default=6, ge=1, le=50)
    min_wait_seconds: float = Field(default=1.0, ge=0)
    max_wait_seconds: float = Field(default=120.0, gt=0)
    timeout_seconds: float = Field(default=60.0, gt=0)
    max_export_wait_seconds: float = Field(default=6 * 3600.0, gt=0)
    auth: FhirAuth = Field(default_factory=FhirAuth)

    @model_validator(mode="after")
    def _consistent(self) -> FhirSettings:
        if self.export_level == "group" and not self.group_id:
            raise ValueError('export_level = "group" needs group_id')
        if self.min_wait_seconds > self.max_wait_seconds:
            raise ValueError("min_wait_seconds is larger than max_wait_seconds")
        return self


class WatchSettings(_Strict):
    """`[watch]`: the schedule of `wardcopy-sync watch` and its publishing guards."""

    interval_minutes: float = Field(default=5.0, gt=0)
    full_refresh_at: str = "02:00"  # hospital time; "" = never a scheduled full read
    hospital_every_minutes: float = Field(default=60.0, ge=0)  # the hospital-wide ward
    max_census_drop: float = Field(default=0.5, gt=0, le=1)  # fraction; refused beyond it
    status_file: Path | None = None  # default: <sync home>/watch-status.json

    @field_validator("full_refresh_at")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        if value and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            raise ValueError(f"full_refresh_at {value!r} must be HH:MM (24 h), or empty")
        return value


class HistoryWindows(_Strict):
    """`[history]`: how far back each kind of value goes into the ward packages (None: all of
    the stay). Older values are left out except the newest of each kind (each vital sign, each
    lab test), so the last known value never disappears; the viewer and the printouts say
    which window was applied (docs/configuration.md, "History windows"). For wards whose
    packages would otherwise be too heavy to fetch every few minutes, e.g. an ICU with the
    monitor's vitals every minute (docs/performance.md)."""

    vitals_hours: float | None = Field(default=None, ge=1, le=24 * 366)
    labs_days: float | None = Field(default=None, ge=1, le=366)


class Config(_Strict):
    """A sync server's configuration. `Config()` is the default used without a file: wards are
    derived from the source's Location resources with physicalType "wa"."""

    hospital: str = "Hospital"
    timezone: str = "Europe/Berlin"
    discharged_within_hours: float = Field(default=24, ge=0)
    # Stopped / completed medication orders stay visible (apart) this long after they ended.
    stopped_medications_hours: float = Field(default=72, ge=0)
    # MedicationAdministrations kept in a snapshot: those of this many hours before the build.
    administrations_hours: float = Field(default=72, gt=0)
    # "system|code" -> meaning (sync.mapping.meanings.MEANINGS): vital signs and key labs coded
    # outside LOINC and SNOMED CT (local codes, CIEL / OpenMRS concepts).
    code_map: dict[str, str] = Field(default_factory=dict)
    vital_ranges: VitalRangesConfig = Field(default_factory=VitalRangesConfig)
    keep_packages: int = Field(default=5, ge=1)
    outbox: Path | None = None
    source: str | None = None  # a folder or file path, or an http(s) URL of a FHIR server
    inpatient_classes: list[str] = Field(default_factory=lambda: list(DEFAULT_INPATIENT_CLASSES))
    wards: list[WardConfig] = Field(default_factory=list)
    # With no [[wards]]: one ward per Location of physicalType "wa" (see docs/configuration.md).
    wards_from_locations: bool = True
    hospital_ward: HospitalWard = Field(default_factory=HospitalWard)
    # Fold an inactive Patient into the one active Patient sharing an identifier with it, when
    # the source marks a merge only by `active = false` (no Patient.link), as ISiK examples do.
    merge_inactive_duplicates: bool = True
    fhir: FhirSettings = Field(default_factory=FhirSettings)
    watch: WatchSettings = Field(default_factory=WatchSettings)
    history: HistoryWindows = Field(default_factory=HistoryWindows)
    # Read files that a symbolic link in the source folder points to outside that folder. Off:
    # such links are reported as problems and not read (a link to /etc/passwd must not end up
    # in a build). Links inside the folder are always read.
    follow_symlinks_outside_source: bool = False

    def data_windows(self) -> DataWindows:
        """The windows a build with this configuration applies (SnapshotMeta.windows)."""
        return DataWindows(
            administrations_hours=self.administrations_hours,
            stopped_medications_hours=self.stopped_medications_hours,
            discharged_within_hours=self.discharged_within_hours,
        )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as 'Europe/Berlin'"
            ) from None
        return value

    @field_validator("code_map")
    @classmethod
    def _valid_code_map(cls, value: dict[str, str]) -> dict[str, str]:
        problems: list[str] = []
        for key, meaning in value.items():
            system, sep, code = key.rpartition("|")
            if not sep or not system.strip() or not code.strip():
                problems.append(f"{key!r} must be 'SYSTEM|CODE' (both parts given)")
            if meaning not in MEANINGS:
                problems.append(
                    f"{key!r}: unknown meaning {meaning!r}; use one of {', '.join(MEANINGS)}"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return value

    @property
    def mapping_code_map(self) -> dict[tuple[str, str], str]:
        """code_map as (system, code) -> meaning, for sync.mapping.MappingContext."""
        out: dict[tuple[str, str], str] = {}
        for key, meaning in self.code_map.items():
            system, _, code = key.rpartition("|")
            out[(system.strip(), code.strip())] = meaning
        return out

    @field_validator("source")
    @classmethod
    def _source_form(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("source must be a path or an http(s) URL, not empty")
        return value

    @model_validator(mode="after")
    def _unique_ward_ids(self) -> Config:
        problems: list[str] = []
        seen: set[str] = set()
        for ward in self.wards:
            if ward.id in seen:
                problems.append(f"ward id {ward.id!r} is used twice; ward ids must be unique")
            seen.add(ward.id)
            if not ward.rules:
                problems.append(f"ward {ward.id!r} has no [[wards.rules]]: nobody would be placed")
        if self.hospital_ward.enabled and self.hospital_ward.id in seen:
            problems.append(
                f"ward id {self.hospital_ward.id!r} is also the hospital-wide ward's id; "
                "rename one of them ([hospital_ward] id = ...)"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def tz(self) -> ZoneInfo:
        """The hospital's time zone (validated on load)."""
        return ZoneInfo(self.timezone)

    @property
    def source_is_url(self) -> bool:
        return bool(self.source) and str(self.source).lower().startswith(("http://", "https://"))


def _format_error(err: Any) -> str:
    loc = ".".join(str(p) for p in err.get("loc", ()) if p != "__root__")
    msg = str(err.get("msg", "invalid"))
    msg = msg.removeprefix("Value error, ")
    if err.get("type") == "extra_forbidden":
        msg = "unknown setting (check the spelling; see docs/configuration.md)"
    return f"{loc}: {msg}" if loc else msg


def parse_config(data: dict[str, Any], source: str = "configuration") -> Config:
    """Validate a parsed TOML table. Raises ConfigError listing every problem found."""
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, [_format_error(e) for e in exc.errors()]) from None


def load_config(path: Path) -> Config:
    """Read and validate a TOML config file.

    Raises ConfigError (with every problem) for invalid content or TOML syntax, and
    FileNotFoundError / PermissionError when the file cannot be read.
    """
    text = Path(path).read_bytes().decode("utf-8", errors="replace")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), [f"TOML syntax: {exc}"]) from None
    config = parse_config(data, str(path))
    if config.outbox is not None and not config.outbox.is_absolute():
        # Relative paths are relative to the config file, not to wherever cron starts us.
        config.outbox = (Path(path).parent / config.outbox).resolve()
    if (
        config.source
        and not config.source_is_url
        and not Path(config.source).expanduser().is_absolute()
    ):
        config.source = str((Path(path).parent / config.source).resolve())
    auth = config.fhir.auth
    for name in ("token_file", "key_file"):
        value = getattr(auth, name)
        if value is not None and not Path(value).expanduser().is_absolute():
            setattr(auth, name, (Path(path).parent / value).resolve())
    return config


def check_config_file(path: Path) -> list[str]:
    """Every problem in a config file, as readable lines; [] when it is valid.

    Beyond validation, warns about a source folder that does not exist. Never raises.
    """
    try:
        config = load_config(path)
    except ConfigError as exc:
        return exc.problems
    except OSError as exc:
        return [f"{path}: cannot read ({exc.strerror or exc})"]
    problems: list[str] = []
    if config.source and not config.source_is_url and not Path(config.source).exists():
        problems.append(f"source: {config.source} does not exist")
    auth = config.fhir.auth
    for name in ("token_file", "key_file"):
        value = getattr(auth, name)
        if value is None:
            continue
        file = Path(value).expanduser()
        if not file.is_file():
            problems.append(f"fhir.auth.{name}: {file} does not exist")
        elif os.name == "posix" and file.stat().st_mode & 0o077:
            problems.append(
                f"fhir.auth.{name}: {file} can be read by other users; run: chmod 600 {file}"
            )
    if config.source_is_url and str(config.source).lower().startswith("http://"):
        host = (urlsplit(str(config.source)).hostname or "").lower()
        if host not in ("127.0.0.1", "localhost", "::1") and auth.method != "none":
            problems.append(
                "source: credentials would travel unencrypted over http://; use https://"
            )
    return problems

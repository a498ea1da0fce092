"""Which ward(s) a patient record belongs on. PURE: no I/O, no clock (`now` is passed in).

`summarize_encounter` reduces an Encounter to what ward rules test (class, status, period, the
locations with their `partOf` ancestors, the service provider organization and its parents),
resolving references through the in-memory `RefIndex` of shared resources.
`place_record` applies the configured rules in the order documented in docs/configuration.md
and sets `record.stay.ward_id` / `record.stay.ward` to the first ward matched.
`derive_wards` makes the default wards from Locations of physicalType "wa".
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sync.config import Config, HospitalWard, StayScope, WardConfig, WardRule
from sync.fhirtime import parse_fhir_datetime
from sync.model import PatientRecord, Stay
from sync.refs import RefIndex

__all__ = [
    "ACTIVE_STATUSES",
    "EncounterInfo",
    "derive_wards",
    "effective_wards",
    "place_record",
    "summarize_encounter",
]

# Encounter.status values meaning "the patient is here now".
ACTIVE_STATUSES = frozenset({"in-progress", "arrived", "triaged", "onleave"})
_FINISHED_STATUSES = frozenset({"finished"})
_TICK = timedelta(microseconds=1)  # "past t" is "from t + _TICK"
# Told an instant at which a placement changes with the clock alone (MappingContext.changes_from).
ChangeNote = Callable[[datetime], None]
_MAX_CHAIN = 12  # partOf chains deeper than a campus/building/floor/ward/room/bed are broken data


@dataclass(slots=True)
class EncounterInfo:
    """What ward rules test about one Encounter. Identifiers are "system|value" strings."""

    key: str
    status: str | None = None
    class_code: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    location_keys: set[str] = field(default_factory=set)
    location_identifiers: set[str] = field(default_factory=set)
    location_names: list[str] = field(default_factory=list)
    organization_keys: set[str] = field(default_factory=set)
    organization_identifiers: set[str] = field(default_factory=set)
    organization_names: list[str] = field(default_factory=list)

    @property
    def sort_time(self) -> datetime | None:
        return self.start or self.end


def _ident_strings(identifiers: Any) -> set[str]:
    if isinstance(identifiers, dict):
        identifiers = [identifiers]
    out: set[str] = set()
    if not isinstance(identifiers, list):
        return out
    for ident in identifiers:
        if not isinstance(ident, dict):
            continue
        value = ident.get("value")
        if isinstance(value, str) and value:
            system = ident.get("system")
            out.add(f"{system}|{value}" if isinstance(system, str) and system else f"|{value}")
    return out


def _collect_chain(
    ref: Any,
    index: RefIndex,
    expected_type: str,
    parent_field: str,
    keys: set[str],
    identifiers: set[str],
    names: list[str],
) -> None:
    """Add the referenced resource and its `parent_field` ancestors to keys/identifiers/names."""
    if not isinstance(ref, dict):
        return
    identifiers |= _ident_strings(ref.get("identifier"))
    display = ref.get("display")
    if isinstance(display, str) and display:
        names.append(display)
    current: Any = ref
    for _ in range(_MAX_CHAIN):
        key = index.key_of(current, expected_type)
        if key is None or key in keys:
            return  # unknown, or a cycle
        keys.add(key)
        resource = index.get(key)
        if resource is None:
            return
        identifiers |= _ident_strings(resource.get("identifier"))
        for name_field in ("name", "alias"):
            value = resource.get(name_field)
            for name in value if isinstance(value, list) else [value]:
                if isinstance(name, str) and name:
                    names.append(name)
        current = resource.get(parent_field)
        if not isinstance(current, dict):
            return


def _current_locations(entries: list[Any]) -> list[dict[str, Any]]:
    """The Encounter.location entries that say where the patient is (or was last)."""
    valid = [e for e in entries if isinstance(e, dict) and isinstance(e.get("location"), dict)]
    active = [e for e in valid if e.get("status") == "active"]
    if active:
        return active
    if not valid:
        return []

    def when(entry: dict[str, Any]) -> str:
        period = entry.get("period")
        if isinstance(period, dict):
            return str(period.get("end") or period.get("start") or "")
        return ""

    # The last location the patient was in: the latest period, else the last listed.
    best = max(range(len(valid)), key=lambda i: (when(valid[i]), i))
    return [valid[best]]


def summarize_encounter(encounter: dict[str, Any], index: RefIndex, tz: tzinfo) -> EncounterInfo:
    """Reduce an Encounter resource to an EncounterInfo. Never raises on malformed content."""
    info = EncounterInfo(key=f"Encounter/{encounter.get('id')}")
    status = encounter.get("status")
    info.status = status if isinstance(status, str) else None
    klass = encounter.get("class")
    if isinstance(klass, dict) and isinstance(klass.get("code"), str):
        info.class_code = klass["code"]
    period = encounter.get("period")
    if isinstance(period, dict):
        info.start = parse_fhir_datetime(period.get("start"), tz)
        info.end = parse_fhir_datetime(period.get("end"), tz)
    entries = encounter.get("location")
    for entry in _current_locations(entries if isinstance(entries, list) else []):
        _collect_chain(
            entry["location"],
            index,
            "Location",
            "partOf",
            info.location_keys,
            info.location_identifiers,
            info.location_names,
        )
    _collect_chain(
        encounter.get("serviceProvider"),
        index,
        "Organization",
        "partOf",
        info.organization_keys,
        info.organization_identifiers,
        info.organization_names,
    )
    # A Location's managing organization (a department) also says where the patient is.
    for key in list(info.location_keys):
        location = index.get(key)
        if location is not None:
            _collect_chain(
                location.get("managingOrganization"),
                index,
                "Organization",
                "partOf",
                info.organization_keys,
                info.organization_identifiers,
                info.organization_names,
            )
    return info


def _id_match(wanted: Sequence[str], keys: set[str], rtype: str) -> bool:
    return any((w if "/" in w else f"{rtype}/{w}") in keys for w in wanted)


def _identifier_match(wanted: Sequence[str], have: set[str]) -> bool:
    for w in wanted:
        if "|" in w:
            if w in have:
                return True
        elif any(h.rpartition("|")[2] == w for h in have):
            return True
    return False


def _name_match(wanted: Sequence[str], names: Sequence[str]) -> bool:
    folded = [n.casefold() for n in names]
    return any(w.casefold() in n for w in wanted for n in folded)


def _encounter_matches(rule: WardRule, enc: EncounterInfo) -> bool:
    """All of the rule's encounter criteria hold for `enc` (AND)."""
    checks: list[bool] = []
    if rule.encounter_classes:
        checks.append(enc.class_code in rule.encounter_classes)
    if rule.location_ids:
        checks.append(_id_match(rule.location_ids, enc.location_keys, "Location"))
    if rule.location_identifiers:
        checks.append(_identifier_match(rule.location_identifiers, enc.location_identifiers))
    if rule.location_names:
        checks.append(_name_match(rule.location_names, enc.location_names))
    if rule.organization_ids:
        checks.append(_id_match(rule.organization_ids, enc.organization_keys, "Organization"))
    if rule.organization_identifiers:
        checks.append(
            _identifier_match(rule.organization_identifiers, enc.organization_identifiers)
        )
    if rule.organization_names:
        checks.append(_name_match(rule.organization_names, enc.organization_names))
    return all(checks)


def _in_scope(
    rule: WardRule,
    encounters: Sequence[EncounterInfo],
    config: Config,
    now: datetime,
    changes: ChangeNote | None = None,
) -> list[EncounterInfo]:
    """The encounters a rule looks at: current stays, or the one latest stay. `changes` is
    told each instant after `now` at which the answer flips with the clock alone."""
    classes = set(rule.encounter_classes or config.inpatient_classes)
    stays = [e for e in encounters if e.class_code in classes]
    if rule.stay == StayScope.LATEST:
        dated = [e for e in stays if e.sort_time is not None]
        if not dated:
            return []
        latest = max(dated, key=lambda e: (e.sort_time, e.end or e.sort_time, e.key))
        if rule.max_age_days is not None:
            newest = latest.end or latest.sort_time
            assert newest is not None
            age = timedelta(days=rule.max_age_days)
            if newest < now - age:
                return []
            if changes is not None:  # too old once the clock is past newest + age
                with contextlib.suppress(OverflowError):
                    changes(newest + age + _TICK)
        return [latest]
    window = timedelta(hours=config.discharged_within_hours)
    ahead = timedelta(hours=1)
    current: list[EncounterInfo] = []
    for enc in stays:
        if enc.status in ACTIVE_STATUSES:
            current.append(enc)
        elif enc.status in _FINISHED_STATUSES and enc.end is not None:
            try:
                if now - window <= enc.end <= now + ahead:
                    current.append(enc)
                    if changes is not None:  # leaves the discharged-within window
                        changes(enc.end + window + _TICK)
                elif enc.end > now + ahead and changes is not None:  # enters it
                    changes(enc.end - ahead)
            except OverflowError:
                continue
    return current


def _patient_match(wanted: Sequence[str], record: PatientRecord) -> bool:
    ids = {record.id, *record.merged_from}
    idents = {f"{i.system}|{i.value}" if i.system else f"|{i.value}" for i in record.identifiers}
    for w in wanted:
        if w.removeprefix("Patient/") in ids:
            return True
        if _identifier_match([w], idents):
            return True
    return False


def rule_matches(
    rule: WardRule,
    record: PatientRecord,
    encounters: Sequence[EncounterInfo],
    config: Config,
    now: datetime,
    changes: ChangeNote | None = None,
) -> EncounterInfo | bool:
    """Whether `rule` places `record`: the matching encounter, True (patient list only), or
    False. `changes`: see `_in_scope`."""
    if rule.patients and not _patient_match(rule.patients, record):
        return False
    if not rule.encounter_criteria and not rule.everyone:
        return True  # a patient list alone places the patient, whatever the stay
    for enc in _in_scope(rule, encounters, config, now, changes):
        if rule.everyone and not rule.encounter_criteria:
            return enc
        if _encounter_matches(rule, enc):
            return enc
    return False


def place_record(
    record: PatientRecord,
    encounters: Sequence[EncounterInfo],
    config: Config,
    wards: Sequence[WardConfig],
    now: datetime,
    changes: ChangeNote | None = None,
) -> list[str]:
    """Ward ids `record` belongs on, in `wards` order, plus the hospital-wide ward last when
    enabled and the record was placed at all. Side effect: sets record.stay.ward_id/ward to the
    first ward (creating a Stay when mapping found none, e.g. placed by a patient list).
    `changes` is told each instant after `now` at which the placement can change with the
    clock alone (a stay leaving the discharged-within window, ...)."""
    placed: list[str] = []
    first: WardConfig | None = None
    for ward in wards:
        for rule in ward.rules:
            if rule_matches(rule, record, encounters, config, now, changes) is not False:
                placed.append(ward.id)
                first = first or ward
                break
    if first is None:
        return []
    if record.stay is None:
        record.stay = Stay()
    record.stay.ward_id = first.id
    record.stay.ward = first.name
    hospital = config.hospital_ward
    if hospital.enabled and hospital.id not in placed:
        placed.append(hospital.id)
    return placed


_SLUG = re.compile(r"[^A-Za-z0-9_.-]+")


def _ward_id_from(location_id: str) -> str:
    slug = _SLUG.sub("-", location_id).strip("-.") or "ward"
    if not slug[0].isalnum():
        slug = f"w{slug}"
    return slug[:64]


def _is_ward(location: dict[str, Any]) -> bool:
    physical = location.get("physicalType")
    if not isinstance(physical, dict):
        return False
    for coding in physical.get("coding") or ():
        if isinstance(coding, dict) and coding.get("code") == "wa":
            return True
    return False


def derive_wards(locations: Iterable[dict[str, Any]], hospital: HospitalWard) -> list[WardConfig]:
    """One ward per Location of physicalType "wa" (sorted by name), matching the Location and
    everything `partOf` it (rooms, beds). Ids colliding with the hospital ward get a suffix."""
    wards: list[WardConfig] = []
    used = {hospital.id} if hospital.enabled else set()
    for location in locations:
        if location.get("resourceType") != "Location" or not _is_ward(location):
            continue
        lid = location.get("id")
        if not isinstance(lid, str) or not lid:
            continue
        ward_id = _ward_id_from(lid)
        while ward_id in used:
            ward_id = f"{ward_id[:60]}-{len(used)}"
        used.add(ward_id)
        name = location.get("name")
        wards.append(
            WardConfig(
                id=ward_id,
                name=name if isinstance(name, str) and name.strip() else lid,
                rules=[WardRule(location_ids=[f"Location/{lid}"])],
            )
        )
    return sorted(wards, key=lambda w: (w.name.casefold(), w.id))


def effective_wards(config: Config, locations: Iterable[dict[str, Any]]) -> list[WardConfig]:
    """The configured wards, or (none configured) the wards derived from Locations."""
    if config.wards or not config.wards_from_locations:
        return list(config.wards)
    return derive_wards(locations, config.hospital_ward)

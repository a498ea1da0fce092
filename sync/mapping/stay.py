"""The current stay: which inpatient Encounter, and ward / room / bed from its Locations."""

from __future__ import annotations

from typing import Any

from sync.mapping._common import (
    Mapper,
    cc_text,
    codes_of,
    dicts,
    looks_opaque,
    obj,
    party_name,
    sort_ts,
    status_of,
    text_of,
)
from sync.model import Stay

INPATIENT_CLASSES = frozenset({"IMP", "ACUTE", "NONAC", "inpatient encounter", "inpatient"})
_CURRENT = frozenset({"in-progress", "onleave", "arrived", "triaged"})
_IGNORED_STATUS = frozenset({"entered-in-error", "cancelled"})
# Preference among participant types for the attending physician.
_ATTENDING_TYPES = ("ATND", "PPRF", "ADM", "SPRF", "CON", "PART")
_PHYSICAL_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/location-physical-type"
_SLOTS = {"wa": "ward", "ro": "room", "bd": "bed"}
_MAX_CHAIN = 8  # Location.partOf levels walked (bed -> room -> ward -> level -> building -> site)


def is_inpatient(enc: dict[str, Any]) -> bool:
    """True when Encounter.class says inpatient (code or display)."""
    cls = enc.get("class")
    if not isinstance(cls, dict):
        return False
    for key in ("code", "display"):
        value = cls.get(key)
        if isinstance(value, str) and (
            value in INPATIENT_CLASSES or value.lower() in INPATIENT_CLASSES
        ):
            return True
    return False


def choose_stay_encounter(m: Mapper, encounters: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The newest inpatient Encounter: an in-progress one if any, else the latest finished, else
    the latest of any other status (never entered-in-error or cancelled)."""
    best: dict[str, Any] | None = None
    best_key: tuple[int, float] | None = None
    for enc in encounters:
        if not is_inpatient(enc):
            continue
        status = status_of(enc)
        if status in _IGNORED_STATUS:
            continue
        rank = 2 if status in _CURRENT else 1 if status == "finished" else 0
        period = obj(enc.get("period"))
        start = m.dt(period.get("start")) or m.dt(period.get("end"))
        key = (rank, sort_ts(start))
        if best_key is None or key > best_key:
            best, best_key = enc, key
    return best


def _physical_slot(cc: Any) -> str | None:
    """ "ward" / "room" / "bed" for a location-physical-type CodeableConcept, else None."""
    if not isinstance(cc, dict):
        return None
    for coding in dicts(cc.get("coding")):
        system = coding.get("system")
        code = coding.get("code")
        if isinstance(code, str) and (system in (None, _PHYSICAL_TYPE_SYSTEM)) and code in _SLOTS:
            return _SLOTS[code]
    return None


def location_name(loc: dict[str, Any]) -> str | None:
    """Display name of a Location: name, alias, identifier value, else a readable id."""
    name = text_of(loc.get("name"))
    if name:
        return name
    for alias in loc.get("alias") or ():
        if text_of(alias):
            return str(alias).strip()
    for ident in dicts(loc.get("identifier")):
        value = text_of(ident.get("value"))
        if value:
            return value
    rid = loc.get("id")
    if isinstance(rid, str) and rid and not looks_opaque(rid):
        return rid
    return None


def _fill_from_entry(
    m: Mapper, enc: dict[str, Any], entry: dict[str, Any], slots: dict[str, str]
) -> str | None:
    """Fill ward/room/bed from one Encounter.location entry; returns an untyped display for
    the fallback. Walks Location.partOf upwards via the resolver."""
    ref = entry.get("location")
    if not isinstance(ref, dict):
        return None
    display = text_of(ref.get("display"))
    loc = m.lookup(ref, enc)
    entry_slot = _physical_slot(entry.get("physicalType"))
    untyped: str | None = None
    if loc is None:
        if entry_slot and display:
            slots.setdefault(entry_slot, display)
        elif display:
            untyped = display
        return untyped
    seen: set[int] = set()
    level = 0
    while loc is not None and level < _MAX_CHAIN and id(loc) not in seen:
        seen.add(id(loc))
        slot = _physical_slot(loc.get("physicalType")) or (entry_slot if level == 0 else None)
        name = location_name(loc)
        if level == 0 and not text_of(loc.get("name")) and display:
            name = display  # the reference's display beats an identifier or id
        if slot and name:
            slots.setdefault(slot, name)
        elif level == 0 and name:
            untyped = name
        part_of = loc.get("partOf")
        loc = m.lookup(part_of, loc) if isinstance(part_of, dict) else None
        level += 1
    return untyped


def _current_entries(enc: dict[str, Any]) -> list[dict[str, Any]]:
    """Encounter.location entries that describe where the patient is now (or was last)."""
    entries = [e for e in dicts(enc.get("location")) if e.get("status") != "entered-in-error"]
    active = [e for e in entries if e.get("status") in (None, "active")]
    if active:
        return active

    # Finished stays: every entry is "completed"; the newest one is where the patient was.
    def start(e: dict[str, Any]) -> str:
        period = e.get("period")
        value = period.get("start") if isinstance(period, dict) else None
        return value if isinstance(value, str) else ""

    return sorted(entries, key=start, reverse=True)[:1] if entries else []


def _attending(m: Mapper, enc: dict[str, Any]) -> str | None:
    participants = list(dicts(enc.get("participant")))
    by_type: dict[str, dict[str, Any]] = {}
    for part in participants:
        for cc in dicts(part.get("type")):
            for code in codes_of(cc):
                by_type.setdefault(code, part)
    ordered = [by_type[t] for t in _ATTENDING_TYPES if t in by_type] + participants
    for part in ordered:
        name = party_name(m, part.get("individual"), enc)
        if name:
            return name
    return None


def _reason(m: Mapper, enc: dict[str, Any]) -> str | None:
    for cc in dicts(enc.get("reasonCode")):
        text = cc_text(cc)
        if text:
            return text
    for ref in dicts(enc.get("reasonReference")):
        text = text_of(ref.get("display"))
        if not text:
            target = m.lookup(ref, enc)
            text = cc_text(target.get("code")) if target else None
        if text:
            return text
    return None


# Words in an Encounter.identifier's type text that name the case number when it is not coded.
_CASE_WORDS = (
    "fallnummer",
    "fall-nr",
    "fallnr",
    "aufnahmenummer",
    "besuchsnummer",
    "visit",
    "case",
)


def _ranked_identifier(resource: dict[str, Any], typed: tuple[str, ...]) -> str | None:
    """The identifier value of `resource` that names its case number best: one typed with a
    code of `typed` (HL7 v2-0203); else one whose type text names a case/visit number; else
    the first with use official or usual; else the first at all. Never a value that repeats
    the resource's own id (Synthea copies it there), never one of use old or temp. A period
    that has ended does not exclude a value: a case number stays the case number."""
    rid = resource.get("id")
    candidates: list[tuple[int, str]] = []
    for position, ident in enumerate(dicts(resource.get("identifier"))):
        value = text_of(ident.get("value"))
        if not value or value == rid or ident.get("use") in ("old", "temp"):
            continue
        itype = ident.get("type")
        type_text = (cc_text(itype) or "").casefold()
        if set(typed) & set(codes_of(itype)):
            rank = 0
        elif any(word in type_text for word in _CASE_WORDS):
            rank = 1
        elif ident.get("use") in ("official", "usual"):
            rank = 2
        else:
            rank = 3
        candidates.append((rank * 1000 + position, value))
    return min(candidates)[1] if candidates else None


def account_number(m: Mapper | None, enc: dict[str, Any]) -> str | None:
    """The Fallnummer as ISiK sends it, or None: ISiK (ISiKKontaktGesundheitseinrichtung) puts
    the billing case number ("(Abrechnungs-)Fallnummer") not in Encounter.identifier but in
    `Encounter.account`, as a logical reference (`account.identifier`, mandatory when an
    account is given) and/or a link to the Account (ISiKAbrechnungsfall), whose identifier is
    then the number. The logical identifier wins; else the linked Account is looked up
    (contained, among the patient's resources, or through the source's resolver)."""
    refs = dicts(enc.get("account"))
    for ref in refs:
        value = text_of(obj(ref.get("identifier")).get("value"))
        if value:
            return value
    if m is None:
        return None
    for ref in refs:
        if not ref.get("reference"):
            continue
        account = m.lookup(ref, enc)
        if account is not None and account.get("resourceType") == "Account":
            value = _ranked_identifier(account, ("AN", "VN"))
            if value:
                return value
    return None


def case_number(enc: dict[str, Any], m: Mapper | None = None) -> str | None:
    """The hospital's case number of an Encounter, or None.

    Preference: the billing case number of `Encounter.account` (ISiK's Fallnummer, see
    `account_number`); else the Encounter's identifier typed VN (HL7 v2-0203 "visit number":
    ISiK's Aufnahmenummer, which many German hospitals fill with the Fallnummer); else one whose
    type text names a case/visit number; else the first with use official or usual, else the
    first at all (`_ranked_identifier`). The Encounter's own resource id is never one: the FHIR
    id means nothing to a clinician and must not pose as a case number.
    """
    return account_number(m, enc) or _ranked_identifier(enc, ("VN",))


def map_stay(m: Mapper, enc: dict[str, Any]) -> Stay:
    """Stay from the chosen Encounter (location chain, attending, reason, department)."""
    status = status_of(enc)
    period = obj(enc.get("period"))
    slots: dict[str, str] = {}
    untyped: list[str] = []
    for entry in _current_entries(enc):
        fallback = _fill_from_entry(m, enc, entry, slots)
        if fallback:
            untyped.append(fallback)
    if untyped and "ward" not in slots:
        # No physical type anywhere: a plain location name is the best guess for the ward.
        slots["ward"] = untyped[0]
    department = None
    provider = enc.get("serviceProvider")
    if isinstance(provider, dict):
        department = party_name(m, provider, enc)
    if not department:
        department = cc_text(enc.get("serviceType"))
    cls = obj(enc.get("class"))
    rid = enc.get("id")
    return Stay(
        encounter_id=rid if isinstance(rid, str) else None,
        case_number=case_number(enc, m),
        status=status,
        encounter_class=text_of(cls.get("code")) or text_of(cls.get("display")),
        admitted=m.dt(period.get("start")),
        discharged=None if status in _CURRENT else m.dt(period.get("end")),
        ward=slots.get("ward"),
        room=slots.get("room"),
        bed=slots.get("bed"),
        attending=_attending(m, enc),
        department=department,
        reason=_reason(m, enc),
        source=m.source(enc),
    )

"""The generated hospital: organisation, departments, wards, rooms, beds, staff, drug catalogue.

Pure apart from `random.Random` state: `build_hospital` returns plain objects and
`hospital_resources` yields the FHIR resources for them (shared resources, written once).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sync.generate import vocab
from sync.generate.vocab import (
    ATC,
    DEPARTMENTS,
    DRUGS,
    FACHABTEILUNG,
    LOCATION_TYPE,
    ORG_TYPE,
    PZN,
    WARD_LETTERS,
    WARD_ORDER,
    Department,
)

# The first wards of each department get these numbers, so a small demo looks familiar.
_FIRST_SHORT = {
    "inn": "3A", "chir": "2B", "icu": "1A", "kard": "4C", "geri": "5A", "neuro": "6B",
    "unfall": "2A", "pneumo": "7A", "gastro": "3B", "onko": "8A", "nephro": "7C",
}  # fmt: skip

HOSPITAL_ORG_ID = "org-klinikum"
LAB_ORG_ID = "org-labor"
BUILDING_ID = "loc-haus-a"


@dataclass
class Practitioner:
    id: str
    display: str  # "Dr. med. Anna Becker"
    family: str
    given: str
    prefix: str | None
    role: str  # Oberarzt/Oberärztin, Assistenzarzt/-ärztin, Pflegefachkraft, Chefarzt
    phone: str
    female: bool

    @property
    def ref(self) -> dict[str, str]:
        return {"reference": f"Practitioner/{self.id}", "display": self.display}


@dataclass
class Bed:
    id: str
    name: str  # "Bett 1"


@dataclass
class Room:
    id: str
    name: str  # "Zimmer 312"
    beds: list[Bed]


@dataclass
class Ward:
    id: str
    name: str
    short: str  # "3A"
    dept: Department
    org_id: str
    phone: str
    rooms: list[Room]
    doctors: list[Practitioner] = field(default_factory=list)
    nurses: list[Practitioner] = field(default_factory=list)
    occupied: int = 0

    @property
    def beds(self) -> int:
        return sum(len(r.beds) for r in self.rooms)


@dataclass
class Hospital:
    wards: list[Ward]
    departments: dict[str, tuple[Department, str]]  # key -> (department, organization id)
    chiefs: dict[str, Practitioner]
    medication_ids: dict[str, str]  # drug key -> Medication id
    pzn: dict[str, str]  # drug key -> synthetic PZN


def pzn_check_digit(first7: str) -> int | None:
    """PZN check digit (weights 1..7, mod 11); None when it would be 10 (number not issued)."""
    total = sum(int(c) * w for c, w in zip(first7, range(1, 8), strict=True))
    digit = total % 11
    return None if digit == 10 else digit


def synthetic_pzn(rng: random.Random) -> str:
    """An 8-digit PZN with a valid check digit (synthetic, not a real product)."""
    while True:
        first7 = f"{rng.randrange(1_000_000, 9_999_999):07d}"
        digit = pzn_check_digit(first7)
        if digit is not None:
            return first7 + str(digit)


def ward_count(inpatients: int) -> int:
    """Wards needed for `inpatients` at about 30 per ward, at least 3."""
    return max(3, math.ceil(inpatients / 30))


def _shorts() -> Iterator[str]:
    """Ward numbers not used by `_FIRST_SHORT`: 1B, 1C, 2C, 3C, 4A, ... 9C, 10A, ..."""
    used = set(_FIRST_SHORT.values())
    floor = 1
    while True:
        for letter in WARD_LETTERS:
            short = f"{floor}{letter}"
            if short not in used:
                yield short
        floor += 1


def _person_name(rng: random.Random, female: bool) -> tuple[str, str]:
    """(given, family) for staff: mostly German names, some from other pools (Latin only)."""
    pools = [p for p in vocab.NAME_POOLS if not p.female_latin and not p.given_is_compound]
    pool = pools[0] if rng.random() < 0.8 else rng.choice(pools[1:])
    given = rng.choice(pool.female if female else pool.male)
    fam = rng.choice(pool.family)
    family = fam if isinstance(fam, str) else fam[1 if female else 0]
    return given, family


def _practitioner(rng: random.Random, pid: str, role: str, doctor: bool, ext: str) -> Practitioner:
    female = rng.random() < (0.55 if doctor else 0.8)
    given, family = _person_name(rng, female)
    prefix = None
    if doctor:
        if role.startswith("Chef"):
            prefix = "Prof. Dr. med."
        elif role.startswith("Ober") or rng.random() < 0.4:
            prefix = "Dr. med."
    display = f"{prefix + ' ' if prefix else ''}{given} {family}"
    if doctor and prefix is None:
        display = f"{given} {family}"
    role_text = role
    if female:
        role_text = {
            "Oberarzt": "Oberärztin",
            "Assistenzarzt": "Assistenzärztin",
            "Chefarzt": "Chefärztin",
        }.get(role, role)
    return Practitioner(pid, display, family, given, prefix, role_text, ext, female)


def ward_shares(inpatients: int, n_wards: int, icu_index: int | None, icu_beds: int) -> list[int]:
    """Inpatients per ward: evenly spread; with `icu_index`, that ward gets at most `icu_beds`
    and the rest are spread over the others (pure)."""
    if icu_index is None or n_wards < 2:
        return [
            inpatients // n_wards + (1 if w < inpatients % n_wards else 0) for w in range(n_wards)
        ]
    even = inpatients // n_wards + (1 if icu_index < inpatients % n_wards else 0)
    icu = min(icu_beds, even)
    rest = inpatients - icu
    others = n_wards - 1
    shares = [rest // others + (1 if k < rest % others else 0) for k in range(others)]
    shares.insert(icu_index, icu)
    return shares


def build_hospital(inpatients: int, rng: random.Random, icu_beds: int | None = None) -> Hospital:
    """Wards, rooms, beds and staff for `inpatients` current inpatients (see ward_count).

    `icu_beds`: the first ICU ward gets exactly this many beds, in single rooms (boxes), all
    occupied when there are enough inpatients; the other wards take the rest. None: every ward
    28-32 beds, inpatients spread evenly (the default demo)."""
    departments = {d.key: d for d in DEPARTMENTS}
    dept_orgs = {key: (dept, f"org-{key}") for key, dept in departments.items()}
    n_wards = ward_count(inpatients)
    icu_index = None
    if icu_beds is not None:
        icu_index = next(
            w for w in range(n_wards) if departments[WARD_ORDER[w % len(WARD_ORDER)]].icu
        )
    shares = ward_shares(inpatients, n_wards, icu_index, icu_beds or 0)
    shorts = _shorts()
    seen: dict[str, int] = {}
    wards: list[Ward] = []
    prac_no = 0
    for w in range(n_wards):
        key = WARD_ORDER[w % len(WARD_ORDER)]
        dept = departments[key]
        nth = seen.get(key, 0)
        seen[key] = nth + 1
        short = _FIRST_SHORT[key] if nth == 0 else next(shorts)
        template = dept.ward_names[0] if nth == 0 else dept.ward_names[nth % len(dept.ward_names)]
        name = template.format(n=short)
        ward_id = f"station-{short.lower()}"  # Location id; derived wards take it as ward id
        floor = int(short[:-1])
        letter = WARD_LETTERS.index(short[-1])
        # 28-32 beds; the ICU in 1- and 2-bed rooms, the others in 2- and 3-bed rooms.
        share = shares[w]
        target = max(rng.randint(28, 32), share + 1)  # always a free bed or two
        sizes: tuple[int, ...] = (1, 2, 2) if dept.icu else (2, 3, 3)
        if w == icu_index:
            target, sizes = max(1, icu_beds or 1), (1,)
        rooms: list[Room] = []
        total = 0
        k = 0
        while total < target:
            k += 1
            size = min(rng.choice(sizes), target - total)
            number = floor * 100 + letter * 20 + k if k < 20 else floor * 1000 + letter * 50 + k
            room_id = f"loc-zimmer-{number}"
            beds = [Bed(f"loc-bett-{number}-{b}", f"Bett {b}") for b in range(1, size + 1)]
            rooms.append(Room(room_id, f"Zimmer {number}", beds))
            total += size
        ward = Ward(
            ward_id, name, short, dept, f"org-{key}", f"+49 5121 894-{floor}{letter + 1}00", rooms
        )
        ward.occupied = min(share, ward.beds)
        for role, count in (("Oberarzt", 1), ("Assistenzarzt", 2)):
            for _ in range(count):
                prac_no += 1
                ext = f"+49 5121 894-{4000 + prac_no % 6000}"
                ward.doctors.append(_practitioner(rng, f"prac-{prac_no:05d}", role, True, ext))
        for _ in range(5):
            prac_no += 1
            ward.nurses.append(
                _practitioner(rng, f"prac-{prac_no:05d}", "Pflegefachkraft", False, ward.phone)
            )
        wards.append(ward)
    chiefs: dict[str, Practitioner] = {}
    for key in departments:
        prac_no += 1
        chiefs[key] = _practitioner(
            rng, f"prac-{prac_no:05d}", "Chefarzt", True, f"+49 5121 894-{1000 + prac_no}"
        )
    medication_ids = {k: f"med-{k.replace('_', '-')}" for k, d in DRUGS.items() if d.as_medication}
    pzn = {k: synthetic_pzn(rng) for k, d in DRUGS.items() if d.with_pzn}
    return Hospital(wards, dept_orgs, chiefs, medication_ids, pzn)


# ----------------------------------------------------------------------------- FHIR resources


def _meta(last_updated: str) -> dict[str, Any]:
    return {"versionId": "1", "lastUpdated": last_updated}


def _loc_type(code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": LOCATION_TYPE, "code": code, "display": display}]}


def _practitioner_resource(p: Practitioner, updated: str) -> dict[str, Any]:
    name: dict[str, Any] = {"use": "official", "family": p.family, "given": [p.given]}
    if p.prefix:
        name["prefix"] = [p.prefix]
        name["text"] = p.display
    return {
        "resourceType": "Practitioner",
        "id": p.id,
        "meta": _meta(updated),
        "active": True,
        "name": [name],
        "telecom": [{"system": "phone", "value": p.phone, "use": "work"}],
        "gender": "female" if p.female else "male",
        "qualification": [{"code": {"text": p.role}}],
    }


def hospital_resources(h: Hospital, updated: str) -> Iterator[dict[str, Any]]:
    """Organization, Location, Practitioner and Medication resources of the hospital."""
    street, postal, city = vocab.HOSPITAL_ADDRESS
    yield {
        "resourceType": "Organization",
        "id": HOSPITAL_ORG_ID,
        "meta": _meta(updated),
        "identifier": [{"system": vocab.IKNR, "value": "260326822"}],
        "active": True,
        "type": [
            {"coding": [{"system": ORG_TYPE, "code": "prov", "display": "Healthcare Provider"}]}
        ],
        "name": vocab.HOSPITAL_NAME,
        "telecom": [{"system": "phone", "value": vocab.HOSPITAL_PHONE}],
        "address": [{"line": [street], "postalCode": postal, "city": city, "country": "DE"}],
    }
    yield {
        "resourceType": "Organization",
        "id": LAB_ORG_ID,
        "meta": _meta(updated),
        "active": True,
        "type": [
            {"coding": [{"system": ORG_TYPE, "code": "dept", "display": "Hospital Department"}]}
        ],
        "name": "Institut für Laboratoriumsmedizin",
        "partOf": {"reference": f"Organization/{HOSPITAL_ORG_ID}"},
    }
    for key, (dept, org_id) in h.departments.items():
        chief = h.chiefs[key]
        yield {
            "resourceType": "Organization",
            "id": org_id,
            "meta": _meta(updated),
            "active": True,
            "type": [
                {"coding": [{"system": ORG_TYPE, "code": "dept", "display": "Hospital Department"}]}
            ],
            "name": dept.name,
            "partOf": {
                "reference": f"Organization/{HOSPITAL_ORG_ID}",
                "display": vocab.HOSPITAL_NAME,
            },
            "contact": [{"name": {"text": chief.display}, "purpose": {"text": "Chefarzt"}}],
            "extension": [
                {
                    "url": "http://example.org/fhir/StructureDefinition/fachabteilungsschluessel",
                    "valueCoding": {"system": FACHABTEILUNG, "code": dept.code},
                }
            ],
        }
    yield {
        "resourceType": "Location",
        "id": BUILDING_ID,
        "meta": _meta(updated),
        "status": "active",
        "name": "Haus A (Bettenhaus)",
        "mode": "instance",
        "physicalType": _loc_type("bu", "Building"),
        "managingOrganization": {"reference": f"Organization/{HOSPITAL_ORG_ID}"},
    }
    for ward in h.wards:
        yield {
            "resourceType": "Location",
            "id": ward.id,
            "meta": _meta(updated),
            "identifier": [{"system": f"{vocab.HOSPITAL_BASE}/sid/station", "value": ward.short}],
            "status": "active",
            "name": ward.name,
            "alias": [f"Station {ward.short}"],
            "mode": "instance",
            "telecom": [{"system": "phone", "value": ward.phone}],
            "physicalType": _loc_type("wa", "Ward"),
            "managingOrganization": {"reference": f"Organization/{ward.org_id}"},
            "partOf": {"reference": f"Location/{BUILDING_ID}", "display": "Haus A (Bettenhaus)"},
        }
        for room in ward.rooms:
            yield {
                "resourceType": "Location",
                "id": room.id,
                "meta": _meta(updated),
                "status": "active",
                "name": room.name,
                "mode": "instance",
                "physicalType": _loc_type("ro", "Room"),
                "partOf": {"reference": f"Location/{ward.id}", "display": ward.name},
            }
            for i, bed in enumerate(room.beds):
                res: dict[str, Any] = {
                    "resourceType": "Location",
                    "id": bed.id,
                    "meta": _meta(updated),
                    "status": "active",
                    "name": bed.name,
                    "mode": "instance",
                    "physicalType": _loc_type("bd", "Bed"),
                    "partOf": {"reference": f"Location/{room.id}", "display": room.name},
                }
                if len(room.beds) > 1:
                    res["description"] = "Fensterseite" if i == len(room.beds) - 1 else "Türseite"
                yield res
    for ward in h.wards:
        for p in (*ward.doctors, *ward.nurses):
            yield _practitioner_resource(p, updated)
    for chief in h.chiefs.values():
        yield _practitioner_resource(chief, updated)
    for key, med_id in h.medication_ids.items():
        drug = DRUGS[key]
        coding = [{"system": ATC, "code": drug.atc}]
        if key in h.pzn:
            coding.insert(0, {"system": PZN, "code": h.pzn[key], "display": drug.text})
        yield {
            "resourceType": "Medication",
            "id": med_id,
            "meta": _meta(updated),
            "code": {"coding": coding, "text": drug.text},
            "status": "active",
        }

"""One generated patient: every FHIR resource of their record, built from a seeded RNG.

Pure apart from the RNG it is given: `PatientBuilder.resources()` yields resource dicts and
never touches files. Times are POSIX seconds internally and formatted on output in a mix of
styles (see `sync.generate.output.fmt_ts`).
"""

from __future__ import annotations

import base64
import bisect
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import accumulate
from typing import Any

from sync.generate import vocab
from sync.generate.hospital import LAB_ORG_ID, Bed, Hospital, Practitioner, Room, Ward
from sync.generate.output import (
    LOCAL,
    LOCAL_MS,
    UTC_OFFSET_MS,
    ZULU,
    ZULU_MS,
    LocalClock,
    fmt_ts,
)
from sync.generate.profiles import (
    DEVICES,
    ORDER_CATEGORY,
    ORDERS,
    PROCEDURES,
    PROFILES,
    Profile,
)
from sync.generate.vocab import (
    ATC,
    DRUGS,
    DX,
    LABS,
    LOINC,
    PZN,
    ROUTES,
    SNOMED,
    UCUM,
    AllergyDef,
    Drug,
    NamePool,
)

HOUR = 3600.0
DAY = 86400.0

# Code status convention (see the package docstring): Observation, LOINC 100822-6.
CODE_STATUS_LOINC = "100822-6"
CODE_STATUS_LOINC_DISPLAY = "Cardiopulmonary resuscitation orders"
CODE_STATUS_SYSTEM = f"{vocab.WARDCOPY_CS}/code-status"
LOINC_YES_CPR = ("LA33470-8", "Yes CPR")
LOINC_NO_CPR = ("LA33471-6", "No CPR: Do Not Attempt Resuscitation")
CODE_STATUS_TEXT: dict[str, str] = {
    "full": "Volle Reanimation (Full Code)",
    "dnr": "Keine Reanimation (DNR), Intubation erlaubt",
    "dni": "Reanimation ja, keine Intubation (DNI)",
    "dnr-dni": "Keine Reanimation, keine Intubation (DNR/DNI)",
    "comfort": "Palliatives Therapieziel: nur symptomlindernde Maßnahmen (Comfort Care), "
    "keine Reanimation",
}
FLAG_KIND_SYSTEM = f"{vocab.WARDCOPY_CS}/flag-kind"

_ATND = [{"coding": [{"system": vocab.V3_PARTICIPATION, "code": "ATND", "display": "attender"}]}]
_IMP = {"system": vocab.V3_ACT, "code": "IMP", "display": "inpatient encounter"}
_AMB = {"system": vocab.V3_ACT, "code": "AMB", "display": "ambulatory"}
_VITAL_CAT = [
    {"coding": [{"system": vocab.OBS_CATEGORY, "code": "vital-signs", "display": "Vital Signs"}]}
]
_LAB_CAT = [
    {"coding": [{"system": vocab.OBS_CATEGORY, "code": "laboratory", "display": "Laboratory"}]}
]
_SURVEY_CAT = [{"coding": [{"system": vocab.OBS_CATEGORY, "code": "survey"}]}]
_DR_CAT = [{"coding": [{"system": vocab.V2_0074, "code": "LAB", "display": "Laboratory"}]}]


def _cc(
    system: str, code: str, display: str | None = None, text: str | None = None
) -> dict[str, Any]:
    coding: dict[str, str] = {"system": system, "code": code}
    if display:
        coding["display"] = display
    out: dict[str, Any] = {"coding": [coding]}
    if text:
        out["text"] = text
    return out


def _vital_code(code: str, display: str, text: str) -> dict[str, Any]:
    return {"coding": [{"system": LOINC, "code": code, "display": display}], "text": text}


_BP = _vital_code("85354-9", "Blood pressure panel with all children optional", "Blutdruck")
_SYS = _vital_code("8480-6", "Systolic blood pressure", "Systolisch")
_DIA = _vital_code("8462-4", "Diastolic blood pressure", "Diastolisch")
_HR = _vital_code("8867-4", "Heart rate", "Herzfrequenz")
_RR = _vital_code("9279-1", "Respiratory rate", "Atemfrequenz")
_TEMP = _vital_code("8310-5", "Body temperature", "Körpertemperatur")
_SPO2 = {
    "coding": [
        {
            "system": LOINC,
            "code": "59408-5",
            "display": "Oxygen saturation in Arterial blood by Pulse oximetry",
        },
        {"system": LOINC, "code": "2708-6", "display": "Oxygen saturation in Arterial blood"},
    ],
    "text": "SpO2",
}
_WEIGHT = _vital_code("29463-7", "Body weight", "Körpergewicht")
_HEIGHT = _vital_code("8302-2", "Body height", "Körpergröße")


def _qty(value: float, unit: str, code: str | None = None) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": code or unit}


def _de_num(value: float, decimals: int) -> str:
    """German decimal comma: 1.5 -> '1,5'."""
    return f"{value:.{decimals}f}".replace(".", ",")


_INTERP = {
    code: [_cc(vocab.V3_INTERP, code, display)]
    for code, display in (
        ("LL", "Critical low"),
        ("L", "Low"),
        ("HH", "Critical high"),
        ("H", "High"),
    )
}


def _lab_static(
    key: str, male: bool
) -> tuple[float | None, float | None, list[dict[str, Any]], dict[str, Any]]:
    """(low, high, referenceRange list, code) of a lab test; shared by every result."""
    lab = LABS[key]
    low, high = lab.low, lab.high
    if key == "hb" and male:
        low, high = 13.5, 17.5
    if key == "krea":
        high = 1.2 if male else 0.9
    rr: dict[str, Any] = {}
    if low is not None:
        rr["low"] = _qty(low, lab.unit)
    if high is not None:
        rr["high"] = _qty(high, lab.unit)
    if low is not None and high is not None:
        rr["text"] = f"{_de_num(low, lab.decimals)} - {_de_num(high, lab.decimals)}"
    elif high is not None:
        rr["text"] = f"< {_de_num(high, lab.decimals)}"
    code = {
        "coding": [{"system": LOINC, "code": lab.loinc, "display": lab.loinc_display}],
        "text": lab.text,
    }
    return low, high, [rr], code


_LAB_STATIC = {(key, male): _lab_static(key, male) for key in LABS for male in (False, True)}

_NOTE_TYPES = {
    "admission": ("34117-2", "History and physical note", "Aufnahmebefund"),
    "progress": ("11506-3", "Progress note", "Ärztlicher Verlaufsbericht"),
    "nursing": ("34746-8", "Nurse Note", "Pflegebericht"),
    "discharge": ("18842-5", "Discharge summary", "Entlassbrief"),
}


def _amount(value: float) -> str:
    """German amount without needless decimals: 40 -> '40', 47.5 -> '47,5', 0.4 -> '0,4'."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.3f}".rstrip("0").replace(".", ",")


def _kvnr(rng: random.Random) -> str:
    """A German KVNR (letter, 8 digits, check digit; same weighting as the Versichertennummer)."""
    letter = chr(ord("A") + rng.randrange(26))
    digits = f"{ord(letter) - ord('A') + 1:02d}" + "".join(str(rng.randrange(10)) for _ in range(8))
    total = 0
    for i, ch in enumerate(digits):
        product = int(ch) * (1 if i % 2 == 0 else 2)
        total += product // 10 + product % 10
    return letter + digits[2:] + str(total % 10)


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:32]}"


@dataclass
class Slot:
    """Where an inpatient lies."""

    ward: Ward
    room: Room
    bed: Bed


@dataclass
class Context:
    """Shared state of one generation run (read-only for patients apart from the clock cache)."""

    now: float
    hospital: Hospital
    clock: LocalClock
    icu_ward: Ward
    minute_vitals: bool = False  # ICU inpatients get monitor vitals every minute of the stay
    name_weights: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.name_weights = list(accumulate(p.weight for p in vocab.NAME_POOLS))


@dataclass
class PatientInfo:
    """What the summary shows about a generated patient."""

    id: str
    name: str
    mrn: str
    role: str
    ward_id: str | None
    ward: str | None
    room: str | None
    bed: str | None
    code_status: str | None
    severe_allergy: str | None
    flags: list[str]


@dataclass
class _Order:
    id: str
    drug: Drug
    key: str
    authored: float
    end: float | None
    first_dose: float | None
    minutes: tuple[int, ...]  # scheduled local minutes of day; empty for PRN / continuous
    medication: dict[str, Any]  # medicationCodeableConcept or medicationReference, as one item
    status: str


_SCHEMA_MINUTES = {
    "1-0-0": (480,),
    "0-1-0": (720,),
    "0-0-1": (1080,),
    "1-0-1": (480, 1200),
    "1-1-0": (480, 840),
    "1-1-1": (480, 720, 1080),
    "1-1-1-1": (480, 720, 1080, 1320),
    "0-0-0-1": (1320,),
}
_WHEN_MINUTES = {"ACM": (450,), "AC": (450, 690, 1050), "HS": (1320,)}
_WHEN_TEXT = {"ACM": "1-0-0 vor dem Frühstück", "AC": "vor den Mahlzeiten", "HS": "zur Nacht"}
_INTERVAL_ANCHOR = {6: 360, 8: 360, 12: 480, 24: 600}


def _schedule_text(schedule: str) -> str:
    """A catalogue schedule as a chart writes it: "q8h" -> "alle 8 h"; "1-0-1" stays."""
    if schedule.startswith("q") and schedule.endswith("h"):
        return f"alle {schedule[1:-1]} h"
    if schedule.startswith("when:"):
        return "vor den Mahlzeiten" if schedule == "when:ACM" else "nach Plan"
    return schedule


_STOPPED_DRUGS = ("ceftriaxon", "enoxaparin", "ramipril", "metformin")
_STOP_REASONS = ("Therapie beendet", "Nierenfunktion verschlechtert", "Umstellung", "Allergie?")
_HOLD_DRUGS = ("metoprolol", "ramipril", "torasemid", "ass")
_HOLD_REASONS = ("OP geplant", "Hypotonie", "Patient nüchtern", "Blutungsrisiko")
_HOME_DRUGS = ("ass", "atorvastatin", "pantoprazol", "amlodipin", "bisoprolol")
_NOT_DONE_REASONS = (
    "Patient verweigert",
    "Patient nüchtern (OP/Untersuchung)",
    "Patient nicht auf Station (Diagnostik)",
    "Pausiert wegen niedrigem Blutdruck",
    "Übelkeit, Einnahme nicht möglich",
)


class PatientBuilder:
    """Builds all resources of patient number `index` (role "in", "dis" or "out")."""

    def __init__(
        self, ctx: Context, index: int, role: str, slot: Slot | None, rng: random.Random
    ) -> None:
        self.ctx = ctx
        self.index = index
        self.role = role
        self.slot = slot
        self.rng = rng
        self.now = ctx.now
        self._n = 0
        self._id_infix = f"-{index:06d}-"
        r = rng.random
        self.st_clin = LOCAL if r() < 0.7 else ZULU
        self.st_vital = LOCAL if r() < 0.6 else (ZULU if r() < 0.5 else LOCAL_MS)
        self.st_lab = ZULU_MS if r() < 0.5 else (LOCAL if r() < 0.6 else LOCAL_MS)
        self.st_lu = UTC_OFFSET_MS if r() < 0.5 else (ZULU_MS if r() < 0.6 else LOCAL_MS)
        self.id = _uuid(rng)
        self.pref = f"Patient/{self.id}"
        self.info: PatientInfo | None = None

    # ------------------------------------------------------------------ small helpers

    def _nid(self, abbr: str) -> str:
        self._n += 1
        return f"{abbr}{self._id_infix}{self._n}"

    def _meta(self, ts: float) -> dict[str, str]:
        upd = min(self.now, ts + 60 + self.rng.random() * 1500)
        return {"lastUpdated": fmt_ts(upd, self.st_lu)}

    def _subject(self) -> dict[str, str]:
        return {"reference": self.pref}

    # ------------------------------------------------------------------ the record

    def resources(self) -> Iterator[dict[str, Any]]:
        """Every resource of this patient, Patient first."""
        rng = self.rng
        ctx = self.ctx
        ward = self.slot.ward if self.slot is not None else rng.choice(ctx.hospital.wards)
        self.ward = ward
        self.profile: Profile = PROFILES[rng.choice(ward.dept.profiles)]
        self.female = rng.random() < 0.52
        self._demographics()
        self._timeline()
        self._kin()
        self._plan()
        yield self._patient()
        yield from self._contacts()
        yield from self._encounters()
        yield from self._conditions()
        yield from self._allergies()
        yield from self._code_status()
        yield from self._flags()
        yield from self._medications()
        yield from self._vitals()
        yield from self._labs()
        yield from self._procedures_devices()
        yield from self._orders()
        yield from self._immunizations()
        yield from self._care_team()
        yield from self._notes()
        yield from self._fidelity_cases()
        self.info = PatientInfo(
            id=self.id,
            name=self.display,
            mrn=self.mrn,
            role=self.role,
            ward_id=self.slot.ward.id if self.slot else None,
            ward=self.slot.ward.name if self.slot else None,
            room=self.slot.room.name if self.slot else None,
            bed=self.slot.bed.name if self.slot else None,
            code_status=self.code_status,
            severe_allergy=self.severe_allergy,
            flags=self.flag_texts,
        )

    # ------------------------------------------------------------------ demographics

    def _demographics(self) -> None:
        rng = self.rng
        pools = vocab.NAME_POOLS
        pool: NamePool = pools[
            bisect.bisect_right(self.ctx.name_weights, rng.randrange(self.ctx.name_weights[-1]))
        ]
        female = self.female
        givens = pool.female if female else pool.male
        gi = rng.randrange(len(givens))
        fi = rng.randrange(len(pool.family))
        fam = pool.family[fi]
        family = fam if isinstance(fam, str) else fam[1 if female else 0]
        given = givens[gi].split() if pool.given_is_compound else [givens[gi]]
        if pool.key == "de" and rng.random() < 0.22:
            second = rng.choice(givens)
            if second != given[0]:
                given.append(second)
        official: dict[str, Any] = {"use": "official", "family": family, "given": given}
        if rng.random() < 0.03:
            official["prefix"] = ["Dr."]
        names = [official]
        if pool.female_latin and rng.random() < 0.5:
            glat = (pool.female_latin if female else pool.male_latin)[gi]
            flat_ = pool.family_latin[fi]
            flat = flat_ if isinstance(flat_, str) else flat_[1 if female else 0]
            names.append(
                {"use": "usual", "family": flat, "given": [glat], "text": f"{glat} {flat}"}
            )
        if female and pool.key == "de" and rng.random() < 0.25:
            maiden = rng.choice(pool.family)
            if isinstance(maiden, str) and maiden != family:
                names.append({"use": "maiden", "family": maiden, "given": given})
        self.names = names
        self.family = family
        self.given = given
        self.display = f"{family}, {' '.join(given)}"
        lo, hi, mode = self.profile.age
        if self.ward.dept.key == "geri":
            lo, mode = max(lo, 72), max(mode, 84)
        age = int(rng.triangular(max(lo, 18), min(hi, 99), min(max(mode, lo), hi)))
        age = min(max(age, 18), 99)
        now_day = LocalClock.day_of(self.now)
        days = int(age * 365.2425) + rng.randrange(1, 360)
        self.birth = date.fromordinal(now_day.toordinal() - days)
        self.age = age
        self.mrn = f"{10_000_000 + self.index * 3 + rng.randrange(3)}"
        self.pronoun = "Patientin" if female else "Patient"

    def _birth_date_text(self) -> str:
        """FHIR birthDate: mostly the full date; for a few patients only the year or the month
        and year, as EHRs send when the day of birth is not known (issue 9: the viewer must
        show "1961" / "07.1961", never 01.01.1961). Chosen by index, not by the random
        stream, so every other value stays as it was."""
        if self.index % 40 == 23:
            return f"{self.birth.year:04d}"
        if self.index % 40 == 37:
            return f"{self.birth.year:04d}-{self.birth.month:02d}"
        return self.birth.isoformat()

    def _timeline(self) -> None:
        """Admission, discharge, and the window of this patient's data."""
        rng = self.rng
        now = self.now
        self.deceased = False
        if self.role == "in":
            elapsed = rng.triangular(0.15, 14.0, 1.5) * DAY
            self.admit = now - elapsed
            self.discharge: float | None = None
        elif self.role == "dis":
            end = now - rng.uniform(0.5, 47.5) * HOUR
            self.discharge = end
            self.admit = end - rng.triangular(1.0, 14.0, 4.0) * DAY
            self.deceased = self.age > 60 and rng.random() < 0.06
        else:
            end = now - rng.uniform(60, 700) * DAY
            self.discharge = end
            self.admit = end - rng.triangular(1.5, 10.0, 4.0) * DAY
        self.admit = math.floor(self.admit / 60) * 60
        self.end = self.discharge if self.discharge is not None else now
        self.attending: Practitioner = rng.choice(self.ward.doctors)
        self.senior: Practitioner = self.ward.doctors[0]
        self.nurses = self.ward.nurses

    def _patient(self) -> dict[str, Any]:
        rng = self.rng
        postal, city, area = rng.choice(vocab.CITIES)
        street = f"{rng.choice(vocab.STREETS)} {rng.randint(1, 120)}{rng.choice('  ab')}".strip()
        res: dict[str, Any] = {
            "resourceType": "Patient",
            "id": self.id,
            "meta": self._meta(self.admit),
            "identifier": [
                {
                    "use": "usual",
                    "type": _cc(vocab.V2_0203, "MR", "Medical record number"),
                    "system": vocab.MRN_SYSTEM,
                    "value": self.mrn,
                }
            ],
            "active": True,
            "name": self.names,
            "gender": "female" if self.female else "male",
            "birthDate": self._birth_date_text(),
            "address": [
                {
                    "use": "home",
                    "type": "both",
                    "line": [street],
                    "city": city,
                    "postalCode": postal,
                    "country": "DE",
                }
            ],
        }
        if rng.random() < 0.004:
            res["gender"] = "other"
            res["_gender"] = {
                "extension": [
                    {
                        "url": vocab.GENDER_DE_EXT,
                        "valueCoding": {
                            "system": vocab.GENDER_DE,
                            "code": "D",
                            "display": "divers",
                        },
                    }
                ]
            }
        if rng.random() < 0.6:
            res["identifier"].append(
                {
                    "use": "official",
                    "type": _cc(vocab.IDTYPE_DE, "KVZ10", "Krankenversichertennummer"),
                    "system": vocab.KVID_SYSTEM,
                    "value": _kvnr(rng),
                }
            )
        telecom = []
        if rng.random() < 0.75:
            number = f"{rng.randrange(100000, 9999999)}"
            fmt = rng.randrange(3)
            landline = (
                f"{area}/{number}"
                if fmt == 0
                else (f"+49 {area[1:]} {number}" if fmt == 1 else f"{area} {number}")
            )
            telecom.append({"system": "phone", "value": landline, "use": "home"})
        if rng.random() < 0.55:
            telecom.append({"system": "phone", "value": self._mobile(), "use": "mobile"})
        if telecom:
            res["telecom"] = telecom
        if self.kin_mode == "contact":
            res["contact"] = [self._patient_contact()]
        if self.deceased and self.discharge is not None:
            res["deceasedDateTime"] = fmt_ts(self.discharge, self.st_clin)
            res["active"] = True
        elif rng.random() < 0.3:
            res["deceasedBoolean"] = False
        if rng.random() < 0.5:
            lang = "de" if rng.random() < 0.9 else rng.choice(("tr", "pl", "ru", "en"))
            res["communication"] = [{"language": _cc("urn:ietf:bcp:47", lang), "preferred": True}]
        return res

    def _mobile(self) -> str:
        rng = self.rng
        prefix = rng.choice(vocab.MOBILE_PREFIXES)
        number = f"{rng.randrange(1000000, 99999999)}"
        style = rng.randrange(3)
        if style == 0:
            return f"{prefix} {number}"
        if style == 1:
            return f"+49 {prefix[1:]} {number}"
        return f"{prefix}-{number}"

    def _kin(self) -> None:
        """Next of kin: 60 % as Patient.contact, 25 % as a RelatedPerson, 15 % none."""
        rng = self.rng
        roll = rng.random()
        self.kin_mode = "contact" if roll < 0.6 else ("related" if roll < 0.85 else None)
        options = [
            ("Ehefrau", "WIFE", "wife") if not self.female else ("Ehemann", "HUSB", "husband"),
            ("Tochter", "DAU", "daughter"),
            ("Sohn", "SON", "son"),
            ("Schwester", "SIS", "sister"),
            ("Gesetzliche Betreuerin", "GUARD", "guardian"),
            ("Nachbarin", "NBOR", "neighbor"),
        ]
        label, code, display = rng.choice(options[:4] if rng.random() < 0.85 else options)
        kin_female = code in ("WIFE", "DAU", "SIS", "GUARD", "NBOR")
        pool = vocab.NAME_POOLS[0]
        given = rng.choice(pool.female if kin_female else pool.male)
        if code in ("WIFE", "HUSB", "DAU", "SON", "SIS"):
            family = self.family
        else:
            family = rng.choice([f for f in pool.family if isinstance(f, str)])
        self.kin = (label, code, display, given, family, kin_female, self._mobile())

    def _patient_contact(self) -> dict[str, Any]:
        label, code, _display, given, family, kin_female, phone = self.kin
        v2 = "C" if code in ("GUARD", "NBOR") else "N"
        v2_display = "Emergency Contact" if v2 == "C" else "Next-of-Kin"
        return {
            "relationship": [
                {"coding": [{"system": vocab.V2_0131, "code": v2, "display": v2_display}]},
                {"text": label},
            ],
            "name": {"family": family, "given": [given]},
            "telecom": [{"system": "phone", "value": phone}],
            "gender": "female" if kin_female else "male",
        }

    def _contacts(self) -> Iterator[dict[str, Any]]:
        if self.kin_mode != "related":
            return
        label, code, display, given, family, kin_female, phone = self.kin
        yield {
            "resourceType": "RelatedPerson",
            "id": self._nid("rp"),
            "meta": self._meta(self.admit),
            "active": True,
            "patient": self._subject(),
            "relationship": [
                {
                    "coding": [
                        {"system": vocab.V3_ROLE, "code": code, "display": display},
                        {"system": vocab.V2_0131, "code": "N", "display": "Next-of-Kin"},
                    ],
                    "text": label,
                }
            ],
            "name": [{"family": family, "given": [given], "text": f"{given} {family}"}],
            "telecom": [{"system": "phone", "value": phone, "use": "mobile"}],
            "gender": "female" if kin_female else "male",
        }

    # ------------------------------------------------------------------ stay

    def _plan(self) -> None:
        """Decide diagnoses and allergies up front: the Encounter and the orders depend on them."""
        rng = self.rng
        prof = self.profile
        self.enc_id = self._nid("enc")
        self.eref = {"reference": f"Encounter/{self.enc_id}"}
        main_code = rng.choice(prof.main)
        comorbid = [
            c
            for c in prof.comorbid
            if c != main_code
            and not (c == "N40" and self.female)
            and not (c == "M81.09" and not self.female)
        ]
        rng.shuffle(comorbid)
        count = min(len(comorbid), rng.choice((1, 1, 2, 2, 3, 4)))
        chosen = comorbid[:count]
        if rng.random() < 0.05 and "Z22.3" not in chosen:
            chosen.append("Z22.3")  # MRSA carrier: goes with an isolation flag
        self.main_dx = DX[main_code]
        self.conditions = [(self._nid("cond"), DX[main_code], True)] + [
            (self._nid("cond"), DX[c], False) for c in chosen
        ]
        self.comorbid_codes = chosen
        # Allergies: ~40 % have some, ~25 % explicitly none, the rest undocumented.
        roll = rng.random()
        self.allergies: list[AllergyDef] = []
        self.nka = False
        if roll < 0.4:
            n = 1 if rng.random() < 0.7 else (2 if rng.random() < 0.75 else 3)
            weights = [w for w, _ in vocab.ALLERGIES]
            seen: set[str] = set()
            for _ in range(n):
                a = rng.choices(vocab.ALLERGIES, weights=weights)[0][1]
                if a.text not in seen:
                    seen.add(a.text)
                    self.allergies.append(a)
        elif roll < 0.65:
            self.nka = True
        severe = [a for a in self.allergies if a.criticality == "high"]
        self.severe_allergy = severe[0].text if severe else None

    def _loc_entry(
        self,
        ref_id: str,
        display: str,
        code: str,
        code_display: str,
        status: str,
        start: float,
        end: float | None,
    ) -> dict[str, Any]:
        period = {"start": fmt_ts(start, self.st_clin)}
        if end is not None:
            period["end"] = fmt_ts(end, self.st_clin)
        return {
            "location": {"reference": f"Location/{ref_id}", "display": display},
            "status": status,
            "physicalType": _cc(vocab.LOCATION_TYPE, code, code_display),
            "period": period,
        }

    def _encounters(self) -> Iterator[dict[str, Any]]:
        rng = self.rng
        ward = self.ward
        dept = ward.dept
        st = self.st_clin
        finished = self.discharge is not None
        period: dict[str, str] = {"start": fmt_ts(self.admit, st)}
        if finished:
            assert self.discharge is not None
            period["end"] = fmt_ts(self.discharge, st)
        if self.slot is not None:
            room, bed = self.slot.room, self.slot.bed
        else:
            room = rng.choice(ward.rooms)
            bed = rng.choice(room.beds)
        self.room_name, self.bed_name = room.name, bed.name
        loc_status = "completed" if finished else "active"
        loc_end = self.discharge
        locations = []
        moved_at = self.admit
        if not dept.icu and self.role != "out" and rng.random() < 0.1:
            icu = self.ctx.icu_ward
            moved_at = self.admit + min(self.end - self.admit, DAY) * rng.uniform(0.3, 0.9)
            locations.append(
                self._loc_entry(icu.id, icu.name, "wa", "Ward", "completed", self.admit, moved_at)
            )
        locations += [
            self._loc_entry(ward.id, ward.name, "wa", "Ward", loc_status, moved_at, loc_end),
            self._loc_entry(room.id, room.name, "ro", "Room", loc_status, moved_at, loc_end),
            self._loc_entry(bed.id, bed.name, "bd", "Bed", loc_status, moved_at, loc_end),
        ]
        diagnosis = []
        for rank, (cid, dx, is_main) in enumerate(self.conditions, start=1):
            use = (
                _cc(vocab.DIAGNOSIS_ROLE, "CC", "Chief complaint")
                if is_main
                else _cc(vocab.DIAGNOSIS_ROLE, "CM", "Comorbidity diagnosis")
            )
            diagnosis.append(
                {
                    "condition": {"reference": f"Condition/{cid}", "display": dx.text},
                    "use": use,
                    "rank": rank,
                }
            )
        hosp: dict[str, Any] = {
            "admitSource": _cc(
                vocab.ADMIT_SOURCE,
                *rng.choice(
                    (
                        ("emd", "From accident/emergency department"),
                        ("emd", "From accident/emergency department"),
                        ("gp", "General Practitioner referral"),
                        ("hosp-trans", "Transferred from other hospital"),
                    )
                ),
            )
        }
        if finished:
            if self.deceased:
                hosp["dischargeDisposition"] = _cc(vocab.DISCHARGE_DISPOSITION, "exp", "Expired")
            else:
                hosp["dischargeDisposition"] = _cc(
                    vocab.DISCHARGE_DISPOSITION,
                    *rng.choice(
                        (
                            ("home", "Home"),
                            ("home", "Home"),
                            ("snf", "Skilled nursing facility"),
                            ("rehab", "Rehabilitation"),
                        )
                    ),
                )
        dept_org = self.ctx.hospital.departments[dept.key][1]
        enc: dict[str, Any] = {
            "resourceType": "Encounter",
            "id": self.enc_id,
            "meta": self._meta(self.discharge or self.admit),
            "identifier": [
                {
                    "type": _cc(vocab.V2_0203, "VN", "Visit number"),
                    "system": vocab.VISIT_SYSTEM,
                    "value": f"{26000000 + self.index * 2 + 1}",
                }
            ],
            "status": "finished" if finished else "in-progress",
            "class": _IMP,
            "type": [
                _cc(
                    "http://fhir.de/CodeSystem/Kontaktebene",
                    "abteilungskontakt",
                    "Abteilungskontakt",
                )
            ],
            "serviceType": _cc(vocab.FACHABTEILUNG, dept.code, dept.name),
            "subject": {"reference": self.pref, "display": self.display},
            "participant": [
                {
                    "type": _ATND,
                    "individual": self.attending.ref,
                    "period": {"start": fmt_ts(self.admit, st)},
                }
            ],
            "period": period,
            "reasonCode": [{"text": rng.choice(self.profile.reason)}],
            "diagnosis": diagnosis,
            "hospitalization": hosp,
            "location": locations,
            "serviceProvider": {"reference": f"Organization/{dept_org}", "display": dept.name},
        }
        yield enc
        if self.role == "out" and rng.random() < 0.5:
            start = self.now - rng.uniform(2, 40) * DAY
            yield {
                "resourceType": "Encounter",
                "id": self._nid("enc"),
                "meta": self._meta(start + HOUR),
                "status": "finished",
                "class": _AMB,
                "serviceType": _cc(vocab.FACHABTEILUNG, dept.code, dept.name),
                "subject": {"reference": self.pref},
                "period": {"start": fmt_ts(start, st), "end": fmt_ts(start + 1.5 * HOUR, st)},
                "reasonCode": [{"text": "Ambulante Nachkontrolle"}],
                "serviceProvider": {"reference": f"Organization/{dept_org}"},
            }

    def _conditions(self) -> Iterator[dict[str, Any]]:
        rng = self.rng
        resolved = self.role == "out"
        for cid, dx, is_main in self.conditions:
            provisional = is_main and not resolved and rng.random() < 0.08
            icd: dict[str, Any] = {
                "system": vocab.ICD10GM,
                "version": "2026",
                "code": dx.icd,
                "display": dx.display,
            }
            if rng.random() < 0.7:
                icd["extension"] = [
                    {
                        "url": vocab.DIAGNOSESICHERHEIT_EXT,
                        "valueCoding": {
                            "system": vocab.DIAGNOSESICHERHEIT,
                            "code": "V" if provisional else "G",
                        },
                    }
                ]
            coding = [icd]
            if dx.snomed and rng.random() < 0.6:
                coding.append({"system": SNOMED, "code": dx.snomed, "display": dx.snomed_display})
            category = (
                "encounter-diagnosis" if is_main or rng.random() < 0.5 else ("problem-list-item")
            )
            main_resolved = resolved and is_main
            res: dict[str, Any] = {
                "resourceType": "Condition",
                "id": cid,
                "meta": self._meta(self.admit + HOUR),
                "clinicalStatus": _cc(
                    vocab.COND_CLINICAL, "resolved" if main_resolved else "active"
                ),
                "verificationStatus": _cc(
                    vocab.COND_VERIFICATION, "provisional" if provisional else "confirmed"
                ),
                "category": [_cc(vocab.COND_CATEGORY, category)],
                "code": {
                    "coding": coding,
                    "text": ("V.a. " if provisional else "") + dx.text,
                },
                "subject": self._subject(),
                "encounter": self.eref,
                "recordedDate": fmt_ts(self.admit + rng.uniform(0.5, 4) * HOUR, self.st_clin),
            }
            if not is_main and rng.random() < 0.5:
                res["onsetDateTime"] = str(self.birth.year + rng.randint(20, max(21, self.age - 1)))
            if main_resolved and self.discharge is not None:
                res["abatementDateTime"] = fmt_ts(self.discharge, self.st_clin)[:10]
            yield res

    def _allergies(self) -> Iterator[dict[str, Any]]:
        rng = self.rng
        recorded = fmt_ts(self.admit + rng.uniform(0.3, 3) * HOUR, self.st_clin)
        if self.nka:
            yield {
                "resourceType": "AllergyIntolerance",
                "id": self._nid("alg"),
                "meta": self._meta(self.admit + HOUR),
                "clinicalStatus": _cc(vocab.ALLERGY_CLINICAL, "active"),
                "verificationStatus": _cc(vocab.ALLERGY_VERIFICATION, "confirmed"),
                "code": _cc(SNOMED, *vocab.NKA_SNOMED, text="Keine bekannten Allergien"),
                "patient": self._subject(),
                "recordedDate": recorded,
            }
            return
        for a in self.allergies:
            code: dict[str, Any] = {"text": a.text}
            if a.system and a.code:
                code["coding"] = [{"system": a.system, "code": a.code, "display": a.display}]
            res: dict[str, Any] = {
                "resourceType": "AllergyIntolerance",
                "id": self._nid("alg"),
                "meta": self._meta(self.admit + HOUR),
                "clinicalStatus": _cc(vocab.ALLERGY_CLINICAL, "active"),
                "verificationStatus": _cc(
                    vocab.ALLERGY_VERIFICATION,
                    "confirmed" if rng.random() < 0.8 else "unconfirmed",
                ),
                "type": a.kind,
                "category": [a.category],
                "criticality": a.criticality,
                "code": code,
                "patient": self._subject(),
                "recordedDate": recorded,
                "recorder": self.attending.ref,
                "reaction": [
                    {
                        "manifestation": [
                            {"coding": [{"system": SNOMED, "code": c, "display": d}], "text": t}
                            for c, d, t in a.reactions
                        ],
                        "severity": a.severity,
                    }
                ],
            }
            if a.criticality == "high" and rng.random() < 0.6:
                year = rng.randint(
                    max(self.birth.year + 5, 1960), LocalClock.day_of(self.now).year - 1
                )
                res["note"] = [{"text": f"Reaktion {year}, laut Allergiepass"}]
                res["onsetDateTime"] = str(year)
            yield res

    def _code_status(self) -> Iterator[dict[str, Any]]:
        """Reanimationsstatus as Observation LOINC 100822-6 (see the package docstring)."""
        rng = self.rng
        self.code_status: str | None = None
        if self.role == "out" and rng.random() < 0.8:
            return
        p_limit = 0.08 + max(0, self.age - 60) * 0.007  # ~15 % overall, more in the very old
        roll = rng.random()
        if rng.random() < self.profile.comfort_chance + (0.02 if self.age > 85 else 0.0):
            kind = "comfort"
        elif roll < p_limit:
            kind = rng.choice(("dnr-dni", "dnr-dni", "dnr", "dni"))
        elif roll < p_limit + 0.2:
            return  # not documented: the viewer must show "unknown", not "full"
        else:
            kind = "full"
        self.code_status = kind
        yes = kind in ("full", "dni")
        loinc_answer = LOINC_YES_CPR if yes else LOINC_NO_CPR
        ts = self.admit + rng.uniform(0.5, 20) * HOUR
        ts = min(ts, self.end - 60)
        res: dict[str, Any] = {
            "resourceType": "Observation",
            "id": self._nid("cs"),
            "meta": self._meta(ts),
            "status": "final" if rng.random() < 0.9 else "amended",
            "category": _SURVEY_CAT,
            "code": {
                "coding": [
                    {
                        "system": LOINC,
                        "code": CODE_STATUS_LOINC,
                        "display": CODE_STATUS_LOINC_DISPLAY,
                    }
                ],
                "text": "Reanimationsstatus",
            },
            "subject": self._subject(),
            "encounter": self.eref,
            "effectiveDateTime": fmt_ts(ts, self.st_clin),
            "performer": [self.attending.ref],
            "valueCodeableConcept": {
                "coding": [
                    {"system": LOINC, "code": loinc_answer[0], "display": loinc_answer[1]},
                    {"system": CODE_STATUS_SYSTEM, "code": kind},
                ],
                "text": CODE_STATUS_TEXT[kind],
            },
        }
        if kind != "full":
            res["note"] = [
                {
                    "text": rng.choice(
                        (
                            "Mit Patient/in und Angehörigen besprochen, "
                            "Patientenverfügung liegt vor.",
                            "Entscheidung im Rahmen der Oberarztvisite, Betreuer informiert.",
                            "Patientenverfügung in Kopie in der Akte.",
                            "Mutmaßlicher Patientenwille laut Tochter.",
                        )
                    )
                }
            ]
        yield res

    def _flags(self) -> Iterator[dict[str, Any]]:
        rng = self.rng
        self.flag_texts: list[str] = []
        wanted: list[tuple[str, str, str, str | None, str | None]] = []
        # (text, fhir category, wardcopy kind, snomed code, snomed display)
        if "Z22.3" in self.comorbid_codes:
            wanted.append(("Kontaktisolation: MRSA", "safety", "isolation", None, None))
        elif rng.random() < self.profile.isolation_chance:
            wanted.append(
                rng.choice(
                    (
                        ("Kontaktisolation: 3MRGN E. coli", "safety", "isolation", None, None),
                        (
                            "Kontaktisolation: 4MRGN K. pneumoniae",
                            "safety",
                            "isolation",
                            None,
                            None,
                        ),
                        ("Kontaktisolation: VRE", "safety", "isolation", None, None),
                        ("Isolation: Clostridioides difficile", "safety", "isolation", None, None),
                    )
                )
            )
        if "noro" in self.profile.flags:
            wanted.append(("Isolation: Norovirus", "safety", "isolation", None, None))
        if "umkehr" in self.profile.flags:
            wanted.append(("Umkehrisolation (Neutropenie)", "safety", "isolation", None, None))
        fall_p = 0.7 if "fall" in self.profile.flags else (0.35 if self.age > 80 else 0.04)
        if rng.random() < fall_p:
            wanted.append(("Sturzgefahr", "safety", "fall-risk", "129839007", "At risk for falls"))
        if "weglauf" in self.profile.flags and rng.random() < 0.6:
            wanted.append(("Weglauftendenz", "behavioral", "behavior", None, None))
        if "dysphagie" in self.profile.flags and rng.random() < 0.6:
            wanted.append(("Dysphagie: nur angedickte Flüssigkeiten", "diet", "diet", None, None))
        if rng.random() < 0.01:
            wanted.append(
                ("Zeugin/Zeuge Jehovas: keine Bluttransfusion", "clinical", "other", None, None)
            )
        if rng.random() < 0.01:
            wanted.append(
                ("Keine Blutentnahme/RR am linken Arm (Shunt)", "clinical", "other", None, None)
            )
        for text, category, kind, snomed, snomed_display in wanted:
            code: dict[str, Any] = {"text": text}
            coding: list[dict[str, str]] = [{"system": FLAG_KIND_SYSTEM, "code": kind}]
            if snomed and snomed_display:
                coding.insert(0, {"system": SNOMED, "code": snomed, "display": snomed_display})
            code["coding"] = coding
            start = self.admit + rng.uniform(0.2, 6) * HOUR
            # An old stay's flags have ended, except a carrier state (MRSA) which stays.
            active = self.role != "out" or "MRSA" in text
            if active:
                self.flag_texts.append(text)
            yield {
                "resourceType": "Flag",
                "id": self._nid("flag"),
                "meta": self._meta(start),
                "status": "active" if active else "inactive",
                "category": [_cc(vocab.FLAG_CATEGORY, category)],
                "code": code,
                "subject": self._subject(),
                "period": {"start": fmt_ts(start, self.st_clin)},
                "encounter": self.eref,
                "author": self.attending.ref,
            }

    # ------------------------------------------------------------------ medication

    def _pick_drugs(self) -> list[str]:
        rng = self.rng
        prof = self.profile
        keys: list[str] = list(prof.drugs)
        for code in self.comorbid_codes:
            options = vocab.COMORBID_DRUGS.get(code)
            if options:
                keys.append(rng.choice(options))
        extra = list(prof.optional_drugs) + list(vocab.GENERAL_DRUGS)
        rng.shuffle(extra)
        target = rng.randint(3, 12)
        if self.role == "out":
            target = rng.randint(2, 5)
        for k in extra:
            if len(keys) >= target:
                break
            keys.append(k)
        if self.code_status == "comfort":
            keys += ["morphin_prn", "midazolam_prn"]
        if self.profile.key in ("aki", "ckd"):
            # nephrotoxic or renally cleared: paused on admission (the notes say so)
            keys = [k for k in keys if k not in ("metformin", "ramipril", "candesartan")]
        allergic = {a.text for a in self.allergies}
        swap = {}
        if "Penicillin" in allergic:
            swap.update({"piptazo": "meropenem", "ampisulb": "ceftriaxon"})
        if "Metamizol" in allergic:
            swap.update({"metamizol": "paracetamol_prn", "metamizol_iv": "paracetamol_prn"})
        if "Ibuprofen" in allergic or "Acetylsalicylsäure" in allergic:
            swap.update({"ibuprofen_prn": "paracetamol_prn"})
        out: list[str] = []
        seen_atc: set[str] = set()
        for k in keys:
            k = swap.get(k, k)
            atc = DRUGS[k].atc
            if atc in seen_atc:
                continue
            seen_atc.add(atc)
            out.append(k)
        return out[:12]

    def _medication_item(self, key: str, drug: Drug) -> dict[str, Any]:
        h = self.ctx.hospital
        med_id = h.medication_ids.get(key)
        if med_id is not None:
            return {
                "medicationReference": {"reference": f"Medication/{med_id}", "display": drug.text}
            }
        coding = [{"system": ATC, "code": drug.atc}]
        pzn = h.pzn.get(key)
        if pzn:
            coding.append({"system": PZN, "code": pzn, "display": drug.text})
        return {"medicationCodeableConcept": {"coding": coding, "text": drug.text}}

    def _dose_quantity(self, drug: Drug) -> dict[str, Any] | None:
        if drug.dose is None or drug.unit is None:
            return None
        value = int(drug.dose) if float(drug.dose).is_integer() else drug.dose
        return {
            "value": value,
            "unit": drug.unit_text or drug.unit,
            "system": UCUM,
            "code": drug.unit,
        }

    def _dosage(self, order: _Order) -> dict[str, Any]:
        rng = self.rng
        drug = order.drug
        route = ROUTES[drug.route]
        dose = self._dose_quantity(drug)
        dose_text = ""
        if drug.dose is not None and drug.unit_text:
            dose_text = f"{_amount(drug.dose)} {drug.unit_text}"
        d: dict[str, Any] = {
            "sequence": 1,
            "route": {
                "coding": [{"system": SNOMED, "code": route.snomed, "display": route.display}],
                "text": route.text,
            },
        }
        sched = drug.schedule
        bounds = {"start": fmt_ts(order.first_dose or order.authored, self.st_clin)}
        if order.end is not None:
            bounds["end"] = fmt_ts(order.end, self.st_clin)
        if sched in _SCHEMA_MINUTES:
            times = [f"{m // 60:02d}:{m % 60:02d}:00" for m in order.minutes]
            d["timing"] = {
                "repeat": {
                    "boundsPeriod": bounds,
                    "frequency": len(times),
                    "period": 1,
                    "periodUnit": "d",
                    "timeOfDay": times,
                }
            }
            d["text"] = sched if rng.random() < 0.6 else f"{dose_text} {sched}".strip()
        elif sched.startswith("times:"):
            times = [f"{m // 60:02d}:{m % 60:02d}:00" for m in order.minutes]
            d["timing"] = {"repeat": {"boundsPeriod": bounds, "timeOfDay": times}}
            d["text"] = " - ".join(t[:5] for t in times) + " Uhr"
        elif sched.startswith("when:"):
            code = sched[5:]
            repeat: dict[str, Any] = {"boundsPeriod": bounds, "when": [code]}
            if code == "ACM" and drug.key == "lthyroxin":
                repeat["offset"] = 30
            d["timing"] = {"repeat": repeat}
            d["text"] = _WHEN_TEXT[code]
        elif sched.startswith("q"):
            hours = int(sched[1:-1])
            d["timing"] = {
                "repeat": {
                    "boundsPeriod": bounds,
                    "frequency": 1,
                    "period": hours,
                    "periodUnit": "h",
                },
            }
            if rng.random() < 0.4:
                d["timing"]["code"] = _cc(
                    "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation",
                    f"Q{hours}H" if hours != 24 else "QD",
                )
            d["text"] = f"alle {hours} h" if hours != 24 else "1x täglich"
        elif sched == "prn":
            if rng.random() < 0.3:
                d["asNeededBoolean"] = True
            else:
                d["asNeededCodeableConcept"] = {"text": drug.prn_reason}
            if drug.max_per_day and drug.unit:
                d["maxDosePerPeriod"] = {
                    "numerator": _qty(drug.max_per_day, drug.unit_text or drug.unit, drug.unit),
                    "denominator": _qty(1, "d"),
                }
            max_txt = ""
            if drug.max_per_day:
                max_txt = f", max. {_amount(drug.max_per_day)} {drug.unit_text}/24 h"
            d["text"] = f"bei Bedarf: {dose_text} {drug.prn_reason}{max_txt}"
        elif sched == "cont":
            rate = drug.rate_ml_h or 1.0
            d["doseAndRate"] = [{"rateQuantity": _qty(rate, "ml/h", "mL/h")}]
            d["text"] = f"kontinuierlich {_de_num(rate, 1)} ml/h" + (
                f", {drug.note}" if drug.note else ""
            )
            return d
        elif sched == "once":
            d["timing"] = {"event": [bounds["start"]]}
            d["text"] = "einmalig"
        else:  # "text": the dose depends on a lab value
            d["text"] = drug.note or "nach Anordnung"
            d["additionalInstruction"] = [{"text": "Dosis täglich nach INR-Wert festlegen"}]
        if dose is not None:
            d["doseAndRate"] = [{"doseQuantity": dose}]
        if drug.note and sched not in ("text",):
            d["patientInstruction"] = drug.note
        return d

    def _schedule_minutes(self, drug: Drug) -> tuple[int, ...]:
        sched = drug.schedule
        if sched in _SCHEMA_MINUTES:
            return _SCHEMA_MINUTES[sched]
        if sched.startswith("times:"):
            return tuple(int(t[:2]) * 60 + int(t[3:]) for t in sched[6:].split(","))
        if sched.startswith("when:"):
            return _WHEN_MINUTES[sched[5:]]
        if sched.startswith("q"):
            hours = int(sched[1:-1])
            anchor = _INTERVAL_ANCHOR[hours]
            return tuple(sorted((anchor + k * hours * 60) % 1440 for k in range(24 // hours)))
        if sched == "text":
            return (1080,)  # Marcumar: evening, dose decided after the INR
        return ()

    def _times_between(self, minutes: tuple[int, ...], lo: float, hi: float) -> list[float]:
        if not minutes or hi <= lo:
            return []
        clock = self.ctx.clock
        day = LocalClock.day_of(lo)
        last = LocalClock.day_of(hi)
        out = []
        while day <= last:
            for m in minutes:
                t = clock.at(day, m)
                if lo <= t <= hi:
                    out.append(t)
            day = date.fromordinal(day.toordinal() + 1)
        return out

    def _medications(self) -> Iterator[dict[str, Any]]:
        rng = self.rng
        keys = self._pick_drugs()
        finished = self.discharge is not None
        orders: list[_Order] = []
        stay = self.end - self.admit
        for i, key in enumerate(keys):
            drug = DRUGS[key]
            if i < len(self.profile.drugs) or rng.random() < 0.7:
                authored = self.admit + rng.uniform(0.3, 3.0) * HOUR
            else:
                authored = self.admit + rng.uniform(0.1, 0.9) * stay
            authored = min(authored, self.end - 120)
            minutes = self._schedule_minutes(drug)
            first = None
            if minutes:
                slots = self._times_between(minutes, authored + 900, authored + 2 * DAY)
                first = slots[0] if slots else None
            status = "completed" if finished else "active"
            if drug.schedule == "once":
                first = authored + rng.uniform(0.5, 2) * HOUR
                if first < self.end:
                    status = "completed"
            orders.append(
                _Order(
                    self._nid("mr"),
                    drug,
                    key,
                    authored,
                    self.discharge,
                    first,
                    minutes,
                    self._medication_item(key, drug),
                    status,
                )
            )
        self.orders_planned = orders
        prescribers = self.ward.doctors
        for o in orders:
            res: dict[str, Any] = {
                "resourceType": "MedicationRequest",
                "id": o.id,
                "meta": self._meta(o.authored),
                "status": o.status,
                "intent": "order",
                **o.medication,
                "subject": self._subject(),
                "encounter": self.eref,
                "authoredOn": fmt_ts(o.authored, self.st_clin),
                "requester": rng.choice(prescribers).ref,
                "dosageInstruction": [self._dosage(o)],
            }
            if o.drug.atc.startswith("J01"):
                res["reasonReference"] = [{"reference": f"Condition/{self.conditions[0][0]}"}]
            if o.drug.note and rng.random() < 0.5:
                res["note"] = [{"text": o.drug.note}]
            yield res
        yield from self._administrations(orders)

    def _administrations(self, orders: list[_Order]) -> Iterator[dict[str, Any]]:
        rng = self.rng
        window_lo = self.now - 72 * HOUR
        hi = min(self.now - 600, self.end)
        nurses = self.nurses
        route_cache: dict[str, dict[str, Any]] = {}
        for o in orders:
            drug = o.drug
            lo = max(window_lo, o.first_dose or o.authored)
            if drug.schedule == "prn":
                span = hi - max(window_lo, o.authored)
                n = rng.choice((0, 0, 1, 1, 2, 3, 4)) if span > HOUR else 0
                times = sorted(max(window_lo, o.authored) + rng.random() * span for _ in range(n))
            elif drug.schedule == "cont":
                yield from self._infusion_changes(o, max(window_lo, o.authored), hi)
                continue
            elif drug.schedule == "once":
                times = [o.first_dose] if o.first_dose and lo <= o.first_dose <= hi else []
            else:
                times = self._times_between(o.minutes, lo, hi)
            route = route_cache.get(drug.route)
            if route is None:
                r = ROUTES[drug.route]
                route = {
                    "coding": [{"system": SNOMED, "code": r.snomed, "display": r.display}],
                    "text": r.text,
                }
                route_cache[drug.route] = route
            dose = self._dose_quantity(drug)
            dosage: dict[str, Any] = {"route": route}
            if dose is not None:
                dosage["dose"] = dose
            elif drug.key == "insulin_schema":
                dosage["text"] = "nach BZ-Schema"
            elif drug.key == "phenprocoumon":
                dosage["text"] = "1 Tbl. nach INR"
            for t in times:
                roll = rng.random()
                if roll < 0.015 and t > self.now - 6 * HOUR:
                    continue  # undocumented dose: the viewer should show it as overdue
                not_done = roll > 0.975
                eff = t if drug.schedule == "prn" else t + rng.gauss(6 * 60, 12 * 60)
                eff = min(eff, self.now - 60)
                res: dict[str, Any] = {
                    "resourceType": "MedicationAdministration",
                    "id": self._nid("ma"),
                    "meta": self._meta(eff),
                    "status": "not-done" if not_done else "completed",
                    **o.medication,
                    "subject": self._subject(),
                    "context": self.eref,
                    "effectiveDateTime": fmt_ts(eff, self.st_clin),
                    "performer": [{"actor": rng.choice(nurses).ref}],
                    "request": {"reference": f"MedicationRequest/{o.id}"},
                    "dosage": dosage,
                }
                if not_done:
                    res["statusReason"] = [{"text": rng.choice(_NOT_DONE_REASONS)}]
                yield res

    def _infusion_changes(self, o: _Order, lo: float, hi: float) -> Iterator[dict[str, Any]]:
        """Continuous infusions: one administration per syringe/bag, the last one running."""
        rng = self.rng
        t = lo
        rate = o.drug.rate_ml_h or 1.0
        while t < hi:
            end = t + 12 * HOUR
            running = end >= hi and self.discharge is None
            period = {"start": fmt_ts(t, self.st_clin)}
            if not running:
                period["end"] = fmt_ts(min(end, hi), self.st_clin)
            yield {
                "resourceType": "MedicationAdministration",
                "id": self._nid("ma"),
                "meta": self._meta(t),
                "status": "in-progress" if running else "completed",
                **o.medication,
                "subject": self._subject(),
                "context": self.eref,
                "effectivePeriod": period,
                "performer": [{"actor": rng.choice(self.nurses).ref}],
                "request": {"reference": f"MedicationRequest/{o.id}"},
                "dosage": {
                    "rateQuantity": _qty(rate, "ml/h", "mL/h"),
                    "text": f"{_de_num(rate, 1)} ml/h",
                },
            }
            t = end

    # ------------------------------------------------------------------ observations

    def _severity(self, ts: float) -> float:
        return math.exp(-(ts - self.admit) / (self.profile.tau_days * DAY))

    def _vital_times(self) -> list[float]:
        rng = self.rng
        icu = self.ward.dept.icu
        minutes = (120, 360, 600, 840, 1080, 1320) if icu else (390, 840, 1290)
        jitter = 20 * 60 if icu else 40 * 60
        start = self.admit + rng.uniform(10, 40) * 60
        hi = self.end - 60
        times = [start]
        for t in self._times_between(minutes, start + HOUR, hi):
            t = min(t + rng.uniform(-jitter, jitter), hi)
            times.append(math.floor(t / 60) * 60)
        return times

    def _vitals(self) -> Iterator[dict[str, Any]]:
        rng = self.rng
        gauss = rng.gauss
        prof = self.profile
        acute = prof.acute
        chronic = prof.chronic
        st = self.st_vital
        subj = self._subject()
        eref = self.eref
        nid = self._nid
        meta = self._meta
        # Personal baselines
        hr0 = gauss(76, 9) + chronic.get("hr", 0)
        sys0 = gauss(132, 14) + chronic.get("sys", 0) + (0.3 * max(0, self.age - 50))
        dia0 = sys0 * 0.58 + gauss(0, 4)
        rr0 = gauss(15, 1.5)
        t0 = gauss(36.8, 0.2)
        spo0 = min(99.0, gauss(96.5, 1.0) + chronic.get("spo2", 0))
        a_hr, a_sys, a_dia = acute.get("hr", 0), acute.get("sys", 0), acute.get("dia", 0)
        a_rr, a_t, a_spo = acute.get("rr", 0), acute.get("temp", 0), acute.get("spo2", 0)
        resp = a_rr > 0 or a_spo < 0
        weight = round(gauss(82 if not self.female else 70, 12) + acute.get("weight", 0), 1)
        height = round(gauss(178 if not self.female else 165, 7))
        daily_weight = prof.key in ("hf", "ckd", "aki", "cirrhosis")
        self.vital_snapshots: dict[int, dict[str, float]] = {}
        times = self._vital_times()
        for i, ts in enumerate(times):
            sev = self._severity(ts)
            wave = 0.3 * math.sin(ts / 40000.0 + self.index)  # evening fever peaks, roughly
            temp = round(t0 + a_t * sev * (1 + wave) + gauss(0, 0.15), 1)
            hr = round(hr0 + a_hr * sev + (temp - 37.0) * 8 * (temp > 37.5) + gauss(0, 5))
            sys = round(sys0 + a_sys * sev + gauss(0, 8))
            dia = round(dia0 + a_dia * sev + gauss(0, 5))
            rr = round(rr0 + a_rr * sev + gauss(0, 1.2))
            spo2 = round(min(100.0, spo0 + a_spo * sev + gauss(0, 0.8)))
            sys = max(sys, dia + 15)
            eff = fmt_ts(ts, st)
            m = meta(ts)
            self.vital_snapshots[int(ts // DAY)] = {
                "hr": hr,
                "sys": sys,
                "dia": dia,
                "temp": temp,
                "spo2": spo2,
                "rr": rr,
            }
            yield {
                "resourceType": "Observation",
                "id": nid("vs"),
                "meta": m,
                "status": "final",
                "category": _VITAL_CAT,
                "code": _BP,
                "subject": subj,
                "encounter": eref,
                "effectiveDateTime": eff,
                "component": [
                    {"code": _SYS, "valueQuantity": _qty(sys, "mmHg", "mm[Hg]")},
                    {"code": _DIA, "valueQuantity": _qty(dia, "mmHg", "mm[Hg]")},
                ],
            }
            yield {
                "resourceType": "Observation",
                "id": nid("vs"),
                "meta": m,
                "status": "final",
                "category": _VITAL_CAT,
                "code": _HR,
                "subject": subj,
                "encounter": eref,
                "effectiveDateTime": eff,
                "valueQuantity": _qty(hr, "/min"),
            }
            yield {
                "resourceType": "Observation",
                "id": nid("vs"),
                "meta": m,
                "status": "final",
                "category": _VITAL_CAT,
                "code": _SPO2,
                "subject": subj,
                "encounter": eref,
                "effectiveDateTime": eff,
                "valueQuantity": _qty(spo2, "%"),
            }
            if i % 2 == 0 or temp >= 37.8 or self.ward.dept.icu:
                yield {
                    "resourceType": "Observation",
                    "id": nid("vs"),
                    "meta": m,
                    "status": "final",
                    "category": _VITAL_CAT,
                    "code": _TEMP,
                    "subject": subj,
                    "encounter": eref,
                    "effectiveDateTime": eff,
                    "valueQuantity": _qty(temp, "°C", "Cel"),
                }
            if resp or i % 3 == 0 or self.ward.dept.icu:
                yield {
                    "resourceType": "Observation",
                    "id": nid("vs"),
                    "meta": m,
                    "status": "final",
                    "category": _VITAL_CAT,
                    "code": _RR,
                    "subject": subj,
                    "encounter": eref,
                    "effectiveDateTime": eff,
                    "valueQuantity": _qty(rr, "/min"),
                }
            if i == 0 or (daily_weight and i % 3 == 1):
                if daily_weight:
                    weight = round(weight - 0.25 * sev + gauss(0, 0.3), 1)
                yield {
                    "resourceType": "Observation",
                    "id": nid("vs"),
                    "meta": m,
                    "status": "final",
                    "category": _VITAL_CAT,
                    "code": _WEIGHT,
                    "subject": subj,
                    "encounter": eref,
                    "effectiveDateTime": eff,
                    "valueQuantity": _qty(weight, "kg"),
                }
            if i == 0:
                yield {
                    "resourceType": "Observation",
                    "id": nid("vs"),
                    "meta": m,
                    "status": "final",
                    "category": _VITAL_CAT,
                    "code": _HEIGHT,
                    "subject": subj,
                    "encounter": eref,
                    "effectiveDateTime": eff,
                    "valueQuantity": _qty(height, "cm"),
                }
            if self.role == "out":
                break  # one set from the old stay is enough
        if self.ctx.minute_vitals and self.role == "in" and self.ward.dept.icu:
            yield from self._monitor_vitals(hr0, sys0, dia0, rr0, spo0)

    def _monitor_vitals(
        self, hr0: float, sys0: float, dia0: float, rr0: float, spo0: float
    ) -> Iterator[dict[str, Any]]:
        """The bedside monitor's values every minute from admission to now (a PDMS export):
        heart rate, SpO2, respiratory rate and blood pressure as a slow random walk around the
        patient's baselines. Its own random stream, so the rest of the record is unchanged."""
        rng = random.Random(f"monitor:{self.id}")
        gauss = rng.gauss
        subj = self._subject()
        eref = self.eref
        device = {"display": "Patientenmonitor"}
        start = math.ceil(self.admit / 60) * 60 + 60
        hr, sys, dia, rr, spo = hr0, sys0, dia0, rr0, spo0
        t = start
        n = 0
        while t < self.now:
            # Mean-reverting walk: minute-to-minute noise without drifting off.
            hr += 0.1 * (hr0 - hr) + gauss(0, 1.5)
            sys += 0.1 * (sys0 - sys) + gauss(0, 2.5)
            dia += 0.1 * (dia0 - dia) + gauss(0, 1.5)
            rr += 0.1 * (rr0 - rr) + gauss(0, 0.5)
            spo += 0.1 * (spo0 - spo) + gauss(0, 0.4)
            eff = fmt_ts(t, ZULU)
            meta = {"lastUpdated": fmt_ts(t + 45, ZULU)}
            n += 1
            base = f"mon{self._id_infix}{n}"
            common = {
                "meta": meta,
                "status": "final",
                "category": _VITAL_CAT,
                "subject": subj,
                "encounter": eref,
                "effectiveDateTime": eff,
                "device": device,
            }
            s_val = round(sys)
            d_val = min(round(dia), s_val - 15)
            yield {
                "resourceType": "Observation",
                "id": f"{base}-bp",
                **common,
                "code": _BP,
                "component": [
                    {"code": _SYS, "valueQuantity": _qty(s_val, "mmHg", "mm[Hg]")},
                    {"code": _DIA, "valueQuantity": _qty(d_val, "mmHg", "mm[Hg]")},
                ],
            }
            yield {
                "resourceType": "Observation",
                "id": f"{base}-hr",
                **common,
                "code": _HR,
                "valueQuantity": _qty(round(hr), "/min"),
            }
            yield {
                "resourceType": "Observation",
                "id": f"{base}-spo2",
                **common,
                "code": _SPO2,
                "valueQuantity": _qty(round(min(100.0, spo)), "%"),
            }
            yield {
                "resourceType": "Observation",
                "id": f"{base}-rr",
                **common,
                "code": _RR,
                "valueQuantity": _qty(round(rr), "/min"),
            }
            t += 60

    def _lab_times(self) -> list[tuple[float, tuple[str, ...]]]:
        rng = self.rng
        prof = self.profile
        extra: list[str] = []
        key = prof.key
        if key in ("hf", "nstemi", "stemi_icu", "af", "pe", "syncope"):
            extra.append("trop")
        if key in ("sepsis", "resp_failure", "ileus") or self.ward.dept.icu:
            extra.append("lac")
        if "E11.90" in self.comorbid_codes or key == "dm_derail" or key == "pancreatitis":
            extra.append("glc")
        if key == "cirrhosis" or "I48.0" in self.comorbid_codes:
            extra.append("inr")
        adm = self.admit + rng.uniform(20, 70) * 60
        panel = tuple(
            dict.fromkeys(
                (*vocab.ADMISSION_LABS, *extra, *(("trop", "lac") if self.ward.dept.icu else ()))
            )
        )
        out = [(adm, panel)]
        if "trop" in extra:
            out.append((adm + 3 * HOUR, ("trop",)))
        if self.role == "out":
            return out
        daily = tuple(dict.fromkeys((*vocab.DAILY_LABS, *extra)))
        hi = self.end - 30 * 60
        for t in self._times_between((375,), adm + 6 * HOUR, hi):
            t += rng.uniform(-25, 35) * 60
            if t < hi:
                out.append((math.floor(t / 60) * 60, daily))
        return out

    def _lab_value(self, key: str, ts: float, base: float) -> float:
        prof = self.profile
        sev = self._severity(ts)
        v = base + prof.chronic.get(key, 0.0) + prof.acute.get(key, 0.0) * sev
        if key == "trop" and prof.acute.get("trop"):
            # troponin rises for ~12 h before it falls
            hours = (ts - self.admit) / HOUR
            rise = min(1.0, 0.3 + hours / 12.0)
            v = base + prof.acute["trop"] * rise * math.exp(-max(0.0, hours - 12) / 30.0)
        lab = LABS[key]
        v += self.rng.gauss(0, lab.normal[1] * 0.25)
        floor = {
            "crp": 0.3,
            "trop": 3.0,
            "leuko": 0.2,
            "thrombo": 8,
            "lac": 0.4,
            "inr": 0.8,
            "krea": 0.3,
            "hb": 4.0,
            "glc": 40.0,
            "k": 2.4,
            "na": 118.0,
        }.get(key, 0.0)
        return round(max(v, floor), lab.decimals)

    def _labs(self) -> Iterator[dict[str, Any]]:
        rng = self.rng
        st = self.st_lab
        subj = self._subject()
        male = not self.female
        bases = {k: rng.gauss(lab.normal[0], lab.normal[1] * 0.6) for k, lab in LABS.items()}
        if male:
            bases["hb"] += 1.2
            bases["krea"] += 0.15
        self.lab_snapshots: dict[int, dict[str, float]] = {}
        lab_org = {"reference": f"Organization/{LAB_ORG_ID}", "display": "Zentrallabor"}
        draws = self._lab_times()
        for n, (ts, keys) in enumerate(draws):
            results = []
            eff = fmt_ts(ts, st)
            issued_ts = min(self.now, ts + rng.uniform(40, 150) * 60)
            preliminary = issued_ts > self.now - 30 * 60 and n == len(draws) - 1
            issued = fmt_ts(issued_ts, st)
            m = self._meta(issued_ts)
            snap = self.lab_snapshots.setdefault(int(ts // DAY), {})
            for key in keys:
                lab = LABS[key]
                value = self._lab_value(key, ts, bases[key])
                snap[key] = value
                low, high, ranges, code = _LAB_STATIC[key, male]
                interp = None
                if lab.crit_low is not None and value < lab.crit_low:
                    interp = _INTERP["LL"]
                elif low is not None and value < low:
                    interp = _INTERP["L"]
                elif lab.crit_high is not None and value > lab.crit_high:
                    interp = _INTERP["HH"]
                elif high is not None and value > high:
                    interp = _INTERP["H"]
                oid = self._nid("lab")
                res: dict[str, Any] = {
                    "resourceType": "Observation",
                    "id": oid,
                    "meta": m,
                    "status": "preliminary" if preliminary else "final",
                    "category": _LAB_CAT,
                    "code": code,
                    "subject": subj,
                    "encounter": self.eref,
                    "effectiveDateTime": eff,
                    "issued": issued,
                    "valueQuantity": _qty(value, lab.unit),
                    "referenceRange": ranges,
                }
                if interp:
                    res["interpretation"] = interp
                results.append({"reference": f"Observation/{oid}", "display": lab.text})
                yield res
            yield {
                "resourceType": "DiagnosticReport",
                "id": self._nid("dr"),
                "meta": m,
                "status": "partial" if preliminary else "final",
                "category": _DR_CAT,
                "code": _cc(LOINC, "11502-2", "Laboratory report", text="Laborbefund"),
                "subject": subj,
                "encounter": self.eref,
                "effectiveDateTime": eff,
                "issued": issued,
                "performer": [lab_org],
                "result": results,
            }

    # ------------------------------------------------------------------ other clinical items

    def _procedures_devices(self) -> Iterator[dict[str, Any]]:
        rng = self.rng
        self.procedure_texts: list[str] = []
        for key in self.profile.procedures:
            p = PROCEDURES[key]
            ts = self.admit + p.day_offset * DAY + rng.uniform(0, 3) * HOUR
            if ts >= self.end - 60:
                continue
            self.procedure_texts.append(p.text)
            yield {
                "resourceType": "Procedure",
                "id": self._nid("proc"),
                "meta": self._meta(ts + HOUR),
                "status": "completed",
                "code": {
                    "coding": [
                        {
                            "system": p.system,
                            "version": "2026",
                            "code": p.code,
                            "display": p.display,
                        }
                    ],
                    "text": p.text,
                },
                "subject": self._subject(),
                "encounter": self.eref,
                "performedDateTime": fmt_ts(ts, self.st_clin),
                "performer": [{"actor": self.senior.ref}],
            }
        keys = [k for k in self.profile.devices if rng.random() < 0.75]
        if "Z95.0" in self.comorbid_codes:
            keys.append("pacemaker")
        if self.age > 75 and rng.random() < 0.12:
            keys.append("hearing")
        finished = self.discharge is not None
        for key in keys:
            d = DEVICES[key]
            placed = self.admit + rng.uniform(0.05, 0.6) * max(HOUR, self.end - self.admit)
            if key in ("pacemaker", "hearing"):
                placed = self.admit - rng.uniform(200, 3000) * DAY
            type_: dict[str, Any] = {"text": d.text}
            if d.snomed:
                type_["coding"] = [{"system": SNOMED, "code": d.snomed, "display": d.display}]
            implanted = key in ("pacemaker", "hearing", "port")
            res: dict[str, Any] = {
                "resourceType": "Device",
                "id": self._nid("dev"),
                "meta": self._meta(max(placed, self.admit)),
                "status": "active" if (implanted or not finished) else "inactive",
                "deviceName": [{"name": d.text, "type": "user-friendly-name"}],
                "type": type_,
                "patient": self._subject(),
                "note": [
                    {
                        "text": f"Angelegt am {LocalClock.local_date_text(placed)} "
                        f"{LocalClock.local_time_text(placed)}"
                    }
                ],
            }
            if key in ("zvk", "dk", "pvk", "arterie"):
                res["note"].append({"text": "Täglich auf Notwendigkeit prüfen"})
            yield res

    def _orders(self) -> Iterator[dict[str, Any]]:
        if self.role == "out":
            return
        rng = self.rng
        finished = self.discharge is not None
        keys = list(self.profile.orders)
        if rng.random() < 0.15 and "konsil_kardio" not in keys:
            keys.append("konsil_kardio")
        clock = self.ctx.clock
        tomorrow = date.fromordinal(LocalClock.day_of(self.now).toordinal() + 1)
        midnight = clock.at(tomorrow, 0)
        for key in keys:
            if rng.random() < 0.25:
                continue
            o = ORDERS[key]
            authored = max(self.admit + HOUR, self.now - rng.uniform(1, 30) * HOUR)
            authored = min(authored, self.end - 60)
            occurrence = midnight + o.hours_ahead * HOUR
            if o.hours_ahead < 0:
                occurrence = self.now + rng.uniform(0.2, 2) * HOUR
            cat_code, cat_display, cat_text = ORDER_CATEGORY[o.category]
            code: dict[str, Any] = {"text": o.text}
            if o.system and o.code:
                code["coding"] = [{"system": o.system, "code": o.code, "display": o.display}]
            res: dict[str, Any] = {
                "resourceType": "ServiceRequest",
                "id": self._nid("sr"),
                "meta": self._meta(authored),
                "status": "completed" if finished else "active",
                "intent": "order",
                "category": [_cc(SNOMED, cat_code, cat_display, text=cat_text)],
                "priority": o.priority,
                "code": code,
                "subject": self._subject(),
                "encounter": self.eref,
                "authoredOn": fmt_ts(authored, self.st_clin),
                "requester": rng.choice(self.ward.doctors).ref,
            }
            if not finished:
                res["occurrenceDateTime"] = fmt_ts(occurrence, self.st_clin)
            if key == "lab_tomorrow" and rng.random() < 0.5:
                res["note"] = [{"text": "Bitte auch Gerinnung mitbestimmen"}]
            yield res

    def _immunizations(self) -> Iterator[dict[str, Any]]:
        rng = self.rng
        if rng.random() > 0.3:
            return
        today = LocalClock.day_of(self.now)
        year = today.year
        flu_year = year if today.month > 10 else year - 1  # the last October that has passed
        day, month = rng.randint(1, 28), rng.randint(9, 12)
        options = [
            ("J07BB02", "Influenza-Impfstoff (saisonal, tetravalent)", f"{flu_year}-10-{day:02d}"),
            ("J07BN01", "COVID-19-mRNA-Impfstoff (angepasst)", f"{year - 1}-{month:02d}-{day:02d}"),
            ("J07AM51", "Tetanus-Diphtherie-Impfstoff (Td)", f"{year - rng.randint(1, 9)}"),
            (
                "J07AL02",
                "Pneumokokken-Konjugatimpfstoff (PCV20)",
                f"{year - rng.randint(1, 4)}-0{rng.randint(1, 9)}",
            ),
        ]
        rng.shuffle(options)
        for atc, text, when in options[: rng.choice((1, 1, 2))]:
            yield {
                "resourceType": "Immunization",
                "id": self._nid("imm"),
                "meta": self._meta(self.admit),
                "status": "completed",
                "vaccineCode": {"coding": [{"system": ATC, "code": atc}], "text": text},
                "patient": self._subject(),
                "occurrenceDateTime": when,
                "primarySource": False,
                "reportOrigin": {"text": "Impfpass"},
            }

    def _care_team(self) -> Iterator[dict[str, Any]]:
        if self.role != "in":
            return
        primary = self.rng.choice(self.nurses)
        yield {
            "resourceType": "CareTeam",
            "id": self._nid("ct"),
            "meta": self._meta(self.admit),
            "status": "active",
            "name": f"Behandlungsteam {self.ward.name}",
            "subject": self._subject(),
            "encounter": self.eref,
            "participant": [
                {"role": [{"text": "Stationsarzt/-ärztin"}], "member": self.attending.ref},
                {"role": [{"text": "Oberarzt/-ärztin"}], "member": self.senior.ref},
                {"role": [{"text": "Bezugspflege"}], "member": primary.ref},
            ],
        }

    # ------------------------------------------------------------------ real-world cases

    def _fidelity_cases(self) -> Iterator[dict[str, Any]]:
        """What real records hold and the demo must show (issue 9): an order stopped yesterday,
        one on hold, home medication (MedicationStatement), a superseded note, and vitals
        from a bedside monitor coded in a local system (DEMO_CODE_MAP makes them vitals).

        A generator of its own (seeded by this patient): the resources made before keep
        exactly the values they had without these cases.
        """
        if self.role != "in":
            return
        rng = random.Random(f"wardcopy-fidelity:{self.id}")
        now = self.now
        subj = self._subject()

        def meta(ts: float) -> dict[str, str]:
            return {"lastUpdated": fmt_ts(min(now, ts + 120), self.st_lu)}

        def order(key: str, status: str, reason: str, authored: float) -> dict[str, Any]:
            drug = DRUGS[key]
            return {
                "resourceType": "MedicationRequest",
                "id": self._nid("mr"),
                "meta": meta(authored),
                "status": status,
                "statusReason": {"text": reason},
                "intent": "order",
                **self._medication_item(key, drug),
                "subject": subj,
                "encounter": self.eref,
                "authoredOn": fmt_ts(authored, self.st_clin),
                "requester": self.attending.ref,
                "dosageInstruction": [
                    {
                        "text": _schedule_text(drug.schedule),
                        "route": {"text": ROUTES[drug.route].text},
                    }
                ],
            }

        if rng.random() < 0.35 and now - self.admit > DAY:
            key = rng.choice(_STOPPED_DRUGS)
            stopped = now - rng.uniform(14, 34) * HOUR
            res = order(key, "stopped", rng.choice(_STOP_REASONS), max(self.admit, stopped - DAY))
            res["meta"] = meta(stopped)
            res["dispenseRequest"] = {
                "validityPeriod": {
                    "start": res["authoredOn"],
                    "end": fmt_ts(stopped, self.st_clin),
                }
            }
            yield res
        if rng.random() < 0.12:
            key = rng.choice(_HOLD_DRUGS)
            yield order(key, "on-hold", rng.choice(_HOLD_REASONS), self.admit + HOUR)
        if rng.random() < 0.45:
            for key in rng.sample(_HOME_DRUGS, rng.choice((1, 1, 2, 3))):
                drug = DRUGS[key]
                yield {
                    "resourceType": "MedicationStatement",
                    "id": self._nid("ms"),
                    "meta": meta(self.admit + HOUR),
                    "status": "active",
                    **self._medication_item(key, drug),
                    "subject": subj,
                    "context": self.eref,
                    "dateAsserted": fmt_ts(self.admit + HOUR, self.st_clin),
                    "informationSource": subj,
                    "dosage": [{"text": _schedule_text(drug.schedule)}],
                }
        if rng.random() < 0.15 and now - self.admit > 6 * HOUR:
            draft_at = self.admit + 2 * HOUR
            draft = self._note(
                "admission",
                draft_at,
                self.attending,
                "Aufnahmebefund (ENTWURF, vorläufig)\n"
                "Anamnese: unvollständig, Patient schläfrig.\n"
                "Hausmedikation: ungeklärt, Angehörige bringen Medikamentenplan.\n"
                "Procedere: Befund wird nach Rücksprache vervollständigt.",
                "de",
                title="Aufnahmebefund (Entwurf)",
            )
            draft["status"] = "superseded"
            draft["docStatus"] = "preliminary"
            draft["meta"] = meta(draft_at + 3 * HOUR)
            final = self._note(
                "admission",
                draft_at + 3 * HOUR,
                self.attending,
                "Aufnahmebefund\n"
                "Anamnese: vollständig erhoben, mit Angehörigen abgeglichen.\n"
                "Hausmedikation: mit Medikamentenplan abgeglichen (siehe Hausmedikation).\n"
                "Procedere: wie besprochen; ersetzt den Entwurf vom Aufnahmetag.",
                "de",
                title="Aufnahmebefund",
            )
            final["relatesTo"] = [
                {"code": "replaces", "target": {"reference": f"DocumentReference/{draft['id']}"}}
            ]
            yield draft
            yield final
        if rng.random() < 0.3:
            at = math.floor((now - rng.uniform(0.2, 2.5) * HOUR) / 60) * 60
            if at > self.admit:
                snap = self.vital_snapshots.get(int(at // DAY)) or next(
                    iter(self.vital_snapshots.values()), {}
                )
                hr = snap.get("hr", 80) + rng.randint(-3, 3)
                rr = snap.get("rr", 16) + rng.randint(-1, 1)
                spo2 = min(100, snap.get("spo2", 96) + rng.randint(-1, 1))
                for code, display, value, unit in (
                    ("HF", "Puls (Monitor)", hr, "/min"),
                    ("AF", "Atemfrequenz (Monitor)", rr, "/min"),
                    ("SPO2", "SpO2 (Monitor)", spo2, "%"),
                ):
                    yield {
                        "resourceType": "Observation",
                        "id": self._nid("mon"),
                        "meta": meta(at),
                        "status": "final",
                        "code": {
                            "coding": [{"system": vocab.DEMO_MONITOR_SYSTEM, "code": code}],
                            "text": display,
                        },
                        "subject": subj,
                        "encounter": self.eref,
                        "effectiveDateTime": fmt_ts(at, self.st_vital),
                        "valueQuantity": {"value": value, "unit": unit},
                    }

    # ------------------------------------------------------------------ notes

    def _note(
        self,
        kind: str,
        ts: float,
        author: Practitioner,
        text: str,
        lang: str,
        title: str | None = None,
    ) -> dict[str, Any]:
        code, display, german = _NOTE_TYPES[kind]
        data = base64.b64encode(text.encode("utf-8")).decode("ascii")
        return {
            "resourceType": "DocumentReference",
            "id": self._nid("doc"),
            "meta": self._meta(ts),
            "status": "current",
            "docStatus": "final",
            "type": _cc(LOINC, code, display, text=german),
            "category": [
                {
                    "text": "Pflegedokumentation"
                    if kind == "nursing"
                    else "Arztbrief"
                    if kind == "discharge"
                    else "Ärztliche Dokumentation"
                }
            ],
            "subject": self._subject(),
            "date": fmt_ts(ts, self.st_clin),
            "author": [author.ref],
            "content": [
                {
                    "attachment": {
                        "contentType": "text/plain; charset=utf-8",
                        "language": lang,
                        "data": data,
                        "title": title or german,
                        "creation": fmt_ts(ts, self.st_clin),
                    }
                }
            ],
            "context": {"encounter": [self.eref]},
        }

    def _snapshot(self, ts: float) -> tuple[dict[str, float], dict[str, float]]:
        day = int(ts // DAY)
        vit: dict[str, float] = {}
        lab: dict[str, float] = {}
        for d in (day - 1, day):
            vit.update(self.vital_snapshots.get(d, {}))
            lab.update(self.lab_snapshots.get(d, {}))
        return vit, lab

    def _vital_line(self, vit: dict[str, float]) -> str:
        if not vit:
            return "Vitalwerte: siehe Kurve."
        return (
            f"RR {vit['sys']:.0f}/{vit['dia']:.0f} mmHg, HF {vit['hr']:.0f}/min, "
            f"Temp. {_de_num(vit['temp'], 1)} °C, SpO2 {vit['spo2']:.0f} %, AF {vit['rr']:.0f}/min."
        )

    def _lab_line(self, lab: dict[str, float]) -> str:
        parts = []
        for key in ("hb", "leuko", "crp", "krea", "k", "na", "trop", "lac", "glc", "inr"):
            if key in lab:
                d = LABS[key]
                parts.append(f"{d.text} {_de_num(lab[key], d.decimals)}")
        return ("Labor: " + ", ".join(parts) + ".") if parts else "Labor: ausstehend."

    def _notes(self) -> Iterator[dict[str, Any]]:
        rng = self.rng
        prof = self.profile
        dx = self.main_dx.text
        comorb = ", ".join(DX[c].text for c in self.comorbid_codes) or "keine"
        allergies = ", ".join(
            f"{a.text} ({'; '.join(r[2] for r in a.reactions)})" for a in self.allergies
        ) or ("keine bekannt" if self.nka else "nicht erhoben")
        meds = ", ".join(o.drug.text for o in self.orders_planned[:8])
        who = f"{self.age}-jährige{'' if self.female else 'r'} {self.pronoun}"
        adm_ts = min(self.admit + rng.uniform(1.0, 3.0) * HOUR, self.end - 120)
        vit, lab = self._snapshot(adm_ts + 2 * HOUR)
        lines = [
            f"Aufnahmebefund {self.ward.name}",
            f"Aufnahmegrund: {rng.choice(prof.reason)}",
            f"Anamnese: {who}, Aufnahme über die {rng.choice(('ZNA', 'Notaufnahme', 'Ambulanz'))}. "
            f"Vorerkrankungen: {comorb}.",
            f"Befund: {rng.choice(prof.findings) if prof.findings else 'unauffällig'}. "
            + self._vital_line(vit),
            self._lab_line(lab),
            f"Allergien: {allergies}.",
            f"Diagnose: {dx}.",
            "Procedere: " + "; ".join(prof.plan[:3]) + "." if prof.plan else "Procedere: s. Kurve.",
            f"Medikation: {meds}.",
            self.attending.display,
        ]
        yield self._note("admission", adm_ts, self.attending, "\n".join(lines), "de")
        if self.role == "out":
            yield from self._discharge_note()
            return
        # Physician progress notes: most days, mid-morning after the round.
        for t in self._times_between((660,), self.admit + 12 * HOUR, self.end - 60):
            if rng.random() < 0.2:
                continue
            t += rng.uniform(-60, 90) * 60
            if t >= self.end:
                continue
            vit, lab = self._snapshot(t)
            author = rng.choice(self.ward.doctors)
            sev = self._severity(t)
            better = sev < 0.5
            if rng.random() < 0.1:
                yield self._note(
                    "progress",
                    t,
                    author,
                    self._english_note(vit, lab, better),
                    "en",
                    "Progress note (consultant)",
                )
                continue
            lines = [
                f"Visite {LocalClock.local_date_text(t)} ({self.ward.short})",
                "S: "
                + rng.choice(
                    (
                        "Pat. fühlt sich besser, Schmerzen rückläufig.",
                        "Pat. gibt weiterhin Atemnot bei Belastung an.",
                        "Nachts unruhig, tagsüber orientiert.",
                        "Keine neuen Beschwerden.",
                    )
                    if better
                    else (
                        "Pat. klagt über Schwäche und Appetitlosigkeit.",
                        "Weiterhin Schmerzen, NRS 5.",
                        "Pat. fühlt sich unverändert krank.",
                    )
                ),
                "O: "
                + self._vital_line(vit)
                + (f" {rng.choice(prof.findings)}." if prof.findings else ""),
                self._lab_line(lab),
                f"A: {dx}, " + ("klinisch gebessert." if better else "noch nicht stabil."),
                "P: "
                + (
                    "; ".join(rng.sample(prof.plan, min(2, len(prof.plan))))
                    if prof.plan
                    else "Therapie fortführen"
                )
                + ".",
                author.display,
            ]
            yield self._note("progress", t, author, "\n".join(lines), "de", "Visite")
        # Nursing notes: each shift over the last 48 h, one a day before that.
        shifts = ((810, "Frühdienst"), (1290, "Spätdienst"), (345, "Nachtdienst"))
        recent = self.end - 48 * HOUR
        for minute, shift in shifts:
            for t in self._times_between((minute,), self.admit + 2 * HOUR, self.end - 60):
                if t < recent and minute != 1290:
                    continue
                t += rng.uniform(-20, 40) * 60
                if t >= self.end:
                    continue
                vit, _ = self._snapshot(t)
                nurse = rng.choice(self.nurses)
                text = "\n".join(self._nursing_lines(shift, vit, t)) + f"\n{nurse.display}"
                yield self._note("nursing", t, nurse, text, "de", f"Pflegebericht {shift}")
        if self.discharge is not None:
            yield from self._discharge_note()

    def _nursing_lines(self, shift: str, vit: dict[str, float], t: float) -> list[str]:
        rng = self.rng
        old = self.age > 80
        lines = [f"Pflegebericht {shift} {LocalClock.local_date_text(t)}"]
        lines.append(
            rng.choice(
                (
                    f"{self.pronoun} wach und orientiert, kooperativ.",
                    f"{self.pronoun} zeitweise desorientiert, mehrfach reorientiert.",
                    f"{self.pronoun} hat gut geschlafen.",
                    f"{self.pronoun} schläft viel, gut erweckbar.",
                )
                if not old
                else (
                    f"{self.pronoun} zeitweise desorientiert, mehrfach reorientiert.",
                    f"{self.pronoun} nachts unruhig, Bettgitter auf Wunsch.",
                    f"{self.pronoun} schläft viel, gut erweckbar.",
                )
            )
        )
        lines.append(self._vital_line(vit))
        lines.append(
            rng.choice(
                (
                    "Mobilisation: selbstständig auf Stationsebene.",
                    "Mobilisation: mit Rollator und Begleitung.",
                    "Mobilisation: mit Hilfe an die Bettkante, Sturzprophylaxe beachtet.",
                    "Bettruhe, Lagerung 2-stündlich (30°-Lagerung).",
                )
            )
        )
        lines.append(
            rng.choice(
                (
                    "Ernährung: Kost gut toleriert, Trinkmenge ca. 1200 ml.",
                    "Ernährung: appetitlos, Trinkmenge ca. 800 ml, Trinkprotokoll geführt.",
                    "Ernährung: nüchtern für Untersuchung morgen ab 24:00 Uhr.",
                    "Ernährung: passierte Kost, Getränke angedickt.",
                )
            )
        )
        lines.append(
            rng.choice(
                (
                    "Ausscheidung: Miktion spontan, Stuhlgang heute.",
                    "Ausscheidung: DK fördert klaren Urin.",
                    "Ausscheidung: inkontinent, Vorlagen gewechselt.",
                    "Ausscheidung: kein Stuhlgang seit 3 Tagen, Arzt informiert.",
                )
            )
        )
        lines.append(
            rng.choice(
                (
                    "Schmerzen: NRS 2 in Ruhe.",
                    "Schmerzen: NRS 5 bei Belastung, Bedarfsmedikation verabreicht.",
                    "Schmerzen: keine.",
                )
            )
        )
        lines.append(
            rng.choice(
                (
                    "Haut: intakt.",
                    "Haut: Rötung sakral (Dekubitus Kat. 1), Lagerung und Hautpflege.",
                    "Haut: Verband trocken, Wunde reizlos.",
                    "Haut: Hämatom am rechten Unterarm (Z.n. Blutentnahme).",
                )
            )
        )
        if self.flag_texts and rng.random() < 0.5:
            lines.append(f"Hinweis: {self.flag_texts[0]}.")
        lines.append(
            rng.choice(
                (
                    "Angehörige telefonisch informiert.",
                    "Besonderheiten: keine.",
                    "Besonderheiten: Blutzucker 212 mg/dl, nach Schema korrigiert.",
                    "Besonderheiten: Patient möchte mit dem Sozialdienst sprechen.",
                )
            )
        )
        return lines

    def _english_note(self, vit: dict[str, float], lab: dict[str, float], better: bool) -> str:
        sex = "female" if self.female else "male"
        lines = [
            "Progress note (consultant, English)",
            f"{self.age} y/o {sex} admitted with "
            f"{self.main_dx.snomed_display or self.main_dx.text}.",
            "Patient seen and examined on the ward round.",
        ]
        if vit:
            lines.append(
                f"Vitals: BP {vit['sys']:.0f}/{vit['dia']:.0f}, HR {vit['hr']:.0f}, "
                f"T {vit['temp']:.1f} C, SpO2 {vit['spo2']:.0f} %."
            )
        if "crp" in lab:
            lines.append(f"CRP {lab['crp']:.1f} mg/L, creatinine {lab.get('krea', 0):.2f} mg/dL.")
        lines.append("Impression: " + ("improving." if better else "not yet stable."))
        lines.append("Plan: continue current management, review tomorrow.")
        return "\n".join(lines)

    def _discharge_note(self) -> Iterator[dict[str, Any]]:
        if self.discharge is None:
            return
        rng = self.rng
        prof = self.profile
        ts = self.discharge - rng.uniform(0.3, 2.0) * HOUR
        ts = max(ts, self.admit + 60)
        if self.deceased:
            lines = [
                "Todesfeststellung / Verlegungsbericht",
                f"{self.pronoun} ist am {LocalClock.local_date_text(self.discharge)} um "
                f"{LocalClock.local_time_text(self.discharge)} Uhr verstorben.",
                f"Grunderkrankung: {self.main_dx.text}.",
                "Angehörige wurden informiert. Leichenschau durchgeführt.",
                self.senior.display,
            ]
            yield self._note(
                "discharge",
                self.discharge + HOUR / 2,
                self.senior,
                "\n".join(lines),
                "de",
                "Exitus letalis",
            )
            return
        lines = [
            f"Entlassbrief {self.ward.name}",
            "Sehr geehrte Kolleginnen und Kollegen, wir berichten über "
            f"{'die Patientin' if self.female else 'den Patienten'} "
            f"{' '.join(self.given)} {self.family}, geb. {self.birth.strftime('%d.%m.%Y')}, "
            f"in stationärer Behandlung vom {LocalClock.local_date_text(self.admit)} bis "
            f"{LocalClock.local_date_text(self.discharge)}.",
            f"Diagnosen: {self.main_dx.text} ({self.main_dx.icd}); "
            + ", ".join(DX[c].text for c in self.comorbid_codes),
            "Verlauf: " + ("; ".join(prof.plan) if prof.plan else "komplikationslos") + ".",
            "Entlassmedikation: "
            + ", ".join(
                o.drug.text
                for o in self.orders_planned
                if o.drug.schedule not in ("cont", "prn", "once") and o.drug.route != "iv"
            )
            + ".",
            "Mit freundlichen kollegialen Grüßen",
            f"{self.senior.display}, {self.senior.role}",
        ]
        yield self._note("discharge", ts, self.senior, "\n".join(lines), "de")

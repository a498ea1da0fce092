"""Seeded, realistic demo data for a German hospital, written as FHIR R4 Bulk Data NDJSON.

`generate(out_dir, patients, seed, now)` writes one file series per resource type
(`Patient.000.ndjson`, `Encounter.000.ndjson`, `Observation.000.ndjson`, `Observation.001...`)
like a Bulk Data `$export`, so the demo runs the same import path as real data. Output is a pure
function of (patients, seed, now): same inputs, identical bytes. `now` anchors every time stamp
(admissions 1-14 days before it, administrations in the 72 h before it, orders due after it).

What is in it: the hospital Organization and its departments; wards as Location (physicalType
`wa`), rooms (`ro`, partOf ward), beds (`bd`, partOf room), all partOf a building (`bu`);
Practitioners; Medications for some drugs (others are coded inline). About 85 % of patients are
current inpatients (Encounter IMP in-progress with ward, room and bed), the rest were discharged
in the last 48 h (a few died) or are outpatients with an older stay. wards = max(3,
ceil(inpatients / 30)), 28-32 beds each. Per inpatient: Patient (MRN, often a KVNR, next of kin
as Patient.contact or RelatedPerson), Encounter, Conditions (ICD-10-GM, some SNOMED CT; the main
diagnosis is Encounter.diagnosis rank 1 with use CC, the others CM), AllergyIntolerance (or
explicit "no known allergy", SNOMED 716186003), code status, Flags, MedicationRequests with real
timing, MedicationAdministrations of the last 72 h, vital signs, labs with DiagnosticReports,
DocumentReference notes (base64 text/plain), ServiceRequests, Procedures, Devices,
Immunizations, a CareTeam.

Conventions a mapping can rely on (exact codes):

- Code status (Reanimationsstatus) is an Observation with
  `code.coding` = LOINC `100822-6` "Cardiopulmonary resuscitation orders" and
  `valueCodeableConcept.coding` holding
  * LOINC answer `LA33470-8` "Yes CPR" or `LA33471-6` "No CPR: Do Not Attempt Resuscitation", and
  * `https://wardcopy.example/fhir/CodeSystem/code-status` with code `full`, `dnr`, `dni`,
    `dnr-dni` or `comfort` (the values of `sync.model.CodeStatusKind`);
  `valueCodeableConcept.text` is the German wording shown to staff, e.g. "Keine Reanimation,
  keine Intubation (DNR/DNI)". About 20 % of inpatients have no code status documented (the
  viewer must show "unknown", not "full").
- Flags carry `category` from `http://terminology.hl7.org/CodeSystem/flag-category` (isolation
  is `safety`) and, in `code.coding`, `https://wardcopy.example/fhir/CodeSystem/flag-kind` with
  `isolation`, `fall-risk`, `behavior`, `diet` or `other`; fall risk also has SNOMED 129839007.
- German dosing schemas are sent with explicit `timing.repeat.timeOfDay` (1-0-1 = 08:00 and
  20:00, 1-1-1-1 = 08:00, 12:00, 18:00, 22:00, 0-0-1 = 18:00, 0-0-0-1 = 22:00) and the schema
  in `dosage.text`; intervals as frequency 1 per N h with `boundsPeriod.start` at the first
  dose (q8h = 06/14/22); `when` codes ACM/AC/HS (07:30; 07:30/11:30/17:30; 22:00); PRN as
  `asNeededBoolean` or `asNeededCodeableConcept` with `maxDosePerPeriod`; infusions as
  `doseAndRate.rateQuantity` (mL/h) and administrations with `effectivePeriod`.
- Time stamps mix `+01:00`/`+02:00` (Europe/Berlin), `Z` and `+00:00`, with and without
  milliseconds; every resource has `meta.lastUpdated`.
- PZNs are synthetic (valid check digit, no real product); ATC, ICD-10-GM, OPS, LOINC and the
  SNOMED CT codes used are real.

With `icu_monitoring=True` (`wardcopy-sync generate --icu-monitoring`) the first ICU ward is the
heaviest realistic ward: ICU_BEDS (12) single boxes, all occupied, and for each of its patients
the bedside monitor's vital signs every minute of the stay (heart rate, SpO2, respiratory rate,
blood pressure; LOINC codes as above, `device.display` "Patientenmonitor"), as a PDMS exports
them, on top of the nurses' charted vitals. The other wards take the remaining inpatients. It is
for measuring package sizes and transfer volumes (bench/live_cycle.py); the default demo does
not use it.

Side effects: `generate` creates `out_dir` and writes files there; nothing else.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sync.generate.hospital import Hospital, build_hospital, hospital_resources, ward_count
from sync.generate.output import ZULU_MS, LocalClock, NdjsonWriter, fmt_ts
from sync.generate.patient import (
    CODE_STATUS_LOINC,
    CODE_STATUS_SYSTEM,
    FLAG_KIND_SYSTEM,
    LOINC_NO_CPR,
    LOINC_YES_CPR,
    Context,
    PatientBuilder,
    PatientInfo,
    Slot,
)

log = logging.getLogger(__name__)

__all__ = [
    "CODE_STATUS_LOINC",
    "CODE_STATUS_SYSTEM",
    "FLAG_KIND_SYSTEM",
    "ICU_BEDS",
    "INPATIENT_SHARE",
    "LOINC_NO_CPR",
    "LOINC_YES_CPR",
    "ExamplePatient",
    "GenerateSummary",
    "WardSummary",
    "default_now",
    "generate",
]

#: Beds of the ICU with `icu_monitoring` (single boxes, minute-resolution monitor vitals).
ICU_BEDS = 12
#: Share of generated patients who are current inpatients.
INPATIENT_SHARE = 0.85
#: Of the others, this share was discharged in the last 48 h; the rest are outpatients.
DISCHARGED_SHARE = 0.4


@dataclass(frozen=True)
class WardSummary:
    id: str  # Location id
    name: str
    beds: int
    occupied: int


@dataclass(frozen=True)
class ExamplePatient:
    """A patient worth showing in the demo (ids and names only)."""

    id: str
    name: str
    mrn: str
    ward: str | None
    room: str | None
    bed: str | None
    why: str  # "inpatient", "DNR/DNI", "severe allergy: Penicillin", "isolation: ..."


@dataclass(frozen=True)
class GenerateSummary:
    out_dir: Path
    patients: int
    seed: int
    now: datetime
    inpatients: int
    discharged: int
    outpatients: int
    counts: dict[str, int]  # resource type -> number written
    wards: list[WardSummary]
    examples: list[ExamplePatient]
    files: list[Path]
    elapsed_seconds: float = field(default=0.0, compare=False)

    @property
    def total_resources(self) -> int:
        return sum(self.counts.values())

    @property
    def resources_per_second(self) -> float:
        return self.total_resources / self.elapsed_seconds if self.elapsed_seconds else 0.0


def default_now() -> datetime:
    """The current time in UTC, rounded down to the minute."""
    return datetime.now(UTC).replace(second=0, microsecond=0)


def _split(patients: int) -> tuple[int, int, int]:
    inpatients = round(patients * INPATIENT_SHARE)
    discharged = round((patients - inpatients) * DISCHARGED_SHARE)
    return inpatients, discharged, patients - inpatients - discharged


def _bed_slots(hospital: Hospital, inpatients: int, rng: random.Random) -> list[Slot]:
    """One bed per inpatient, spread evenly over the wards, in random order."""
    slots: list[Slot] = []
    for ward in hospital.wards:
        beds = [Slot(ward, room, bed) for room in ward.rooms for bed in room.beds]
        slots.extend(rng.sample(beds, ward.occupied))  # build_hospital set the share
    assert len(slots) == inpatients
    rng.shuffle(slots)
    return slots


def _why(info: PatientInfo) -> list[str]:
    reasons = []
    if info.code_status in ("dnr", "dnr-dni", "comfort", "dni"):
        reasons.append(f"code status {info.code_status}")
    if info.severe_allergy:
        reasons.append(f"severe allergy: {info.severe_allergy}")
    isolation = [f for f in info.flags if "isolation" in f.lower()]
    if isolation:
        reasons.append(isolation[0])
    return reasons


def generate(
    out_dir: Path,
    patients: int,
    seed: int,
    now: datetime | None = None,
    *,
    max_lines_per_file: int = 100_000,
    icu_monitoring: bool = False,
) -> GenerateSummary:
    """Write `patients` generated patients and their hospital as FHIR R4 NDJSON to `out_dir`.

    `now` (timezone-aware; default: the current minute) anchors every time. Deterministic for
    (patients, seed, now, max_lines_per_file, icu_monitoring). `icu_monitoring`: a 12-bed
    ICU with minute-resolution monitor vitals (module docstring). Streams patient by patient:
    memory does not grow with `patients` beyond the hospital's wards and beds.

    Side effects: creates `out_dir` and writes `<Type>.NNN.ndjson` files into it.
    Raises ValueError for a negative patient count or a naive `now`; FileExistsError when
    `out_dir` already holds NDJSON files; OSError when writing fails.
    """
    if patients < 0:
        raise ValueError(f"patients must be 0 or more, got {patients}")
    if now is None:
        now = default_now()
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware (e.g. datetime(..., tzinfo=UTC))")
    started = time.perf_counter()
    log.info("generating %d demo patients (seed %d)", patients, seed)
    inpatients, discharged, outpatients = _split(patients)
    master = random.Random(f"wardcopy-generate:{seed}")
    hospital = build_hospital(inpatients, master, ICU_BEDS if icu_monitoring else None)
    assert len(hospital.wards) == ward_count(inpatients)
    slots = _bed_slots(hospital, inpatients, master)
    roles = ["in"] * inpatients + ["dis"] * discharged + ["out"] * outpatients
    master.shuffle(roles)
    now_ts = now.timestamp()
    icu = next(w for w in hospital.wards if w.dept.icu)
    ctx = Context(
        now=now_ts,
        hospital=hospital,
        clock=LocalClock(),
        icu_ward=icu,
        minute_vitals=icu_monitoring,
    )
    examples: list[ExamplePatient] = []
    shown_reasons: set[str] = set()
    with NdjsonWriter(out_dir, max_lines_per_file) as writer:
        setup_time = fmt_ts(now_ts - 30 * 86400 + 1234.5, ZULU_MS)
        for resource in hospital_resources(hospital, setup_time):
            writer.write(resource)
        next_slot = 0
        for index, role in enumerate(roles):
            slot = None
            if role == "in":
                slot = slots[next_slot]
                next_slot += 1
            rng = random.Random(f"wardcopy-generate:{seed}:{index}")
            builder = PatientBuilder(ctx, index, role, slot, rng)
            for resource in builder.resources():
                writer.write(resource)
            info = builder.info
            if info is None or role != "in" or len(examples) >= 8:
                continue
            reasons = [r for r in _why(info) if r.split(":")[0] not in shown_reasons]
            if reasons or len(examples) < 3:
                why = reasons[0] if reasons else "inpatient"
                shown_reasons.add(why.split(":")[0])
                examples.append(
                    ExamplePatient(
                        info.id, info.name, info.mrn, info.ward, info.room, info.bed, why
                    )
                )
        counts = dict(sorted(writer.counts.items()))
        files = list(writer.files)
    log.info(
        "generated %d resources in %d file(s) in %.1f s",
        sum(counts.values()),
        len(files),
        time.perf_counter() - started,
    )
    return GenerateSummary(
        out_dir=Path(out_dir),
        patients=patients,
        seed=seed,
        now=now,
        inpatients=inpatients,
        discharged=discharged,
        outpatients=outpatients,
        counts=counts,
        wards=[WardSummary(w.id, w.name, w.beds, w.occupied) for w in hospital.wards],
        examples=examples,
        files=files,
        elapsed_seconds=time.perf_counter() - started,
    )

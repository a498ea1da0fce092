"""The record model: what a clinician needs about one patient in a downtime.

Pure data, no I/O. `sync.mapping` fills it from FHIR R4; `sync.snapshot` stores it (as JSON, via
`PatientRecord.to_json` / `PatientRecord.from_json`); the viewer and the printed documents read it.

Conventions:
- Every timestamp is timezone-aware (`datetime` with tzinfo). Mapping interprets a FHIR dateTime
  without offset in the hospital's configured time zone. Partial dates ("2020", "2020-05") become
  the first instant of that period and keep the original text in a `*_text` field where it matters.
- Every fact keeps `source`: the FHIR resource it came from (type, id, meta.lastUpdated), so it can
  be traced back after recovery.
- Lists are ordered for display: newest first for observations, administrations, notes.
- Free text is kept as written (umlauts, non-Latin scripts); nothing is transliterated here.

Bump `MODEL_VERSION` whenever a stored field changes meaning or is removed; adding an optional
field does not need a bump (readers ignore unknown fields, and old records lack the new one).
"""

from __future__ import annotations

import datetime as _dt
from datetime import date, datetime, timedelta
from enum import StrEnum

import orjson
from pydantic import BaseModel, ConfigDict, Field

MODEL_VERSION = 2
# 2: records say what is current and what is not (Stay.is_current, stopped / on-hold / home
#    medications apart, superseded notes, not-given doses, NKA vs not documented, marked coded-only
#    problem names, calendar dates kept as dates, vital-sign flags with their range source).
#    Every new field is optional: a version-1 record reads as before (see docs/snapshot-schema.md).

# Encounter.status values meaning "the patient is here now" (FHIR R4 EncounterStatus).
CURRENT_STAY_STATUSES = frozenset({"in-progress", "onleave", "arrived", "triaged"})
# Truncation marker appended to any text field cut at sync time (sync.mapping caps them).
TRUNCATED_MARK = " … [truncated]"


class _Base(BaseModel):
    # defer_build: a model's validator is built when it is first used, not at import. A
    # command that prints one patient builds only what it reads (issue 7: start-up time).
    model_config = ConfigDict(extra="ignore", frozen=False, populate_by_name=True, defer_build=True)


class DataWindows(_Base):
    """The time windows the sync applied when it built a snapshot (from its configuration).

    They travel in the snapshot's metadata (`SnapshotMeta.windows`) so that a screen or paper
    saying "given in the last 72 h" or "stopped within 72 h" states what was really applied.
    The defaults are the values of snapshots built before the field existed.
    """

    administrations_hours: float = 72  # MedicationAdministrations kept (before the build)
    stopped_medications_hours: float = 72  # stopped / completed orders kept, apart
    discharged_within_hours: float = 24  # discharged patients still listed on the ward


class SourceRef(_Base):
    """Provenance of one fact: the FHIR resource it was mapped from."""

    resource_type: str
    id: str
    last_updated: datetime | None = None


class Coding(_Base):
    system: str | None = None
    code: str | None = None
    display: str | None = None


class Identifier(_Base):
    system: str | None = None
    value: str
    label: str | None = None  # e.g. "MRN", "KVNR", "SSN", from Identifier.type


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"
    OTHER = "other"
    UNKNOWN = "unknown"


class DatePrecision(StrEnum):
    """How much of a FHIR date the source gave: "1996" (year), "1996-07" (month) or a day.

    The date field then holds the first day of that period; it must never be shown as that
    day ("01.01.1996" for a birth year would be a fact nobody recorded)."""

    YEAR = "year"
    MONTH = "month"
    DAY = "day"


class Stay(_Base):
    """The current (or latest) inpatient Encounter and where the patient is."""

    encounter_id: str | None = None  # the FHIR resource id (never shown as the case number)
    # The hospital's case (visit, encounter) number, "Fallnummer": Encounter.identifier typed VN
    # (HL7 v2-0203), else the official/usual one (see sync.mapping.stay.case_number).
    case_number: str | None = None
    status: str | None = None  # FHIR Encounter.status: in-progress, finished, ...
    encounter_class: str | None = None  # IMP, EMER, ACUTE, ...
    admitted: datetime | None = None
    discharged: datetime | None = None
    ward_id: str | None = None  # the ward this record was placed on (see sync.config)
    ward: str | None = None  # display name of the ward
    room: str | None = None
    bed: str | None = None
    attending: str | None = None
    department: str | None = None
    reason: str | None = None
    source: SourceRef | None = None

    @property
    def is_current(self) -> bool:
        """True while the patient is in this stay: an in-progress (or on-leave, arrived, triaged)
        Encounter without a past discharge. A finished stay is never current."""
        if self.discharged is not None:
            return False
        return self.status in CURRENT_STAY_STATUSES or self.status is None

    @property
    def is_finished(self) -> bool:
        """True for a stay that ended (finished Encounter, or one with a discharge time)."""
        return self.discharged is not None or self.status == "finished"


class AllergyStatus(StrEnum):
    """What the record says about allergies as a whole: three different things for a nurse."""

    ALLERGIES = "allergies"  # at least one allergy or intolerance is listed
    NO_KNOWN = "no-known"  # an explicit "no known allergies" statement, nothing listed
    NOT_DOCUMENTED = "not-documented"  # nothing at all: unknown, NOT "none"


class Criticality(StrEnum):
    HIGH = "high"
    LOW = "low"
    UNABLE = "unable-to-assess"
    UNKNOWN = "unknown"


class Allergy(_Base):
    substance: str
    coding: list[Coding] = Field(default_factory=list)
    category: list[str] = Field(default_factory=list)  # food, medication, environment, biologic
    kind: str | None = None  # allergy | intolerance
    criticality: Criticality = Criticality.UNKNOWN
    clinical_status: str | None = None
    verification_status: str | None = None
    reactions: list[str] = Field(default_factory=list)  # manifestations as text
    severity: str | None = None  # mild | moderate | severe (worst reaction)
    recorded: datetime | None = None
    note: str | None = None
    source: SourceRef | None = None


class CodeStatusKind(StrEnum):
    FULL = "full"  # full resuscitation
    DNR = "dnr"  # do not resuscitate
    DNI = "dni"  # do not intubate
    DNR_DNI = "dnr-dni"
    COMFORT = "comfort"  # comfort care only
    OTHER = "other"
    UNKNOWN = "unknown"


class CodeStatus(_Base):
    kind: CodeStatusKind = CodeStatusKind.UNKNOWN
    text: str  # as documented, e.g. "DNR/DNI", "Keine Reanimation"
    recorded: datetime | None = None
    source: SourceRef | None = None


class Flag(_Base):
    """An alert shown prominently: isolation, fall risk, MRSA, ..."""

    text: str
    category: str | None = None  # isolation | safety | clinical | admin | ...
    coding: list[Coding] = Field(default_factory=list)
    start: datetime | None = None
    source: SourceRef | None = None


class Problem(_Base):
    # Condition.code.text, else a coding display, else "code SYSTEM|CODE (no text)" with
    # `text_is_code` set, so a viewer can mute it: a bare code never poses as a name.
    text: str
    text_is_code: bool = False
    coding: list[Coding] = Field(default_factory=list)  # ICD-10-GM, SNOMED CT, ...
    clinical_status: str | None = None
    category: str | None = None  # encounter-diagnosis | problem-list-item
    is_main_diagnosis: bool = False
    onset: datetime | None = None
    # The calendar date when the source gave only a date ("2019-04-02"): shown as that date in
    # any time zone, never shifted (`onset` is then midnight of it in the hospital zone).
    onset_date: date | None = None
    recorded: datetime | None = None
    source: SourceRef | None = None


class Timing(_Base):
    """FHIR Timing, reduced to what due-time computation needs.

    A scheduled order has either explicit `times_of_day` ("08:00", "20:00"), or a frequency per
    period (`frequency` times every `period` `period_unit`, e.g. 1 per 8 h), optionally with
    `when` event codes (MORN, NOON, EVE, NIGHT, HS, ...). `text` keeps a human form such as
    "1-0-1" or "alle 8 h".
    """

    code: str | None = None  # BID, TID, QID, Q8H, ...
    text: str | None = None
    frequency: int | None = None
    period: float | None = None
    period_unit: str | None = None  # s | min | h | d | wk | mo | a
    times_of_day: list[str] = Field(default_factory=list)  # "HH:MM[:SS]"
    when: list[str] = Field(default_factory=list)
    days_of_week: list[str] = Field(default_factory=list)  # mon, tue, ...
    bounds_start: datetime | None = None
    bounds_end: datetime | None = None


class Dosage(_Base):
    text: str | None = None  # the prescriber's text, shown as is
    dose_value: float | None = None
    dose_unit: str | None = None
    dose_text: str | None = None  # "500 mg" or a range, formatted
    route: str | None = None
    site: str | None = None
    method: str | None = None
    timing: Timing | None = None
    as_needed: bool = False
    as_needed_reason: str | None = None
    max_per_period: str | None = None


class MedicationOrder(_Base):
    id: str  # MedicationRequest id (administrations point at it)
    drug: str
    coding: list[Coding] = Field(default_factory=list)  # RxNorm, ATC, PZN, ...
    status: str | None = None  # active, on-hold, stopped, completed, ...
    status_reason: str | None = None  # MedicationRequest.statusReason (why on hold / stopped)
    intent: str | None = None
    dosages: list[Dosage] = Field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None
    # When a stopped or completed order ended (the end of its validity or last known change);
    # only set on `PatientRecord.stopped_medications`.
    stopped: datetime | None = None
    prescriber: str | None = None
    reason: str | None = None
    note: str | None = None
    # The newest dose given for this order within the administration window, and by whom
    # (from MedicationAdministration with status completed / in-progress).
    last_given: datetime | None = None
    last_given_by: str | None = None
    source: SourceRef | None = None

    @property
    def as_needed(self) -> bool:
        return any(d.as_needed for d in self.dosages)

    @property
    def on_hold(self) -> bool:
        return self.status == "on-hold"


class Administration(_Base):
    order_id: str | None = None  # MedicationOrder.id it fulfils, when known
    drug: str
    status: str | None = None  # completed, not-done, ...
    status_reason: str | None = None  # why not given (statusReason), for status not-done
    when: datetime | None = None
    dose_text: str | None = None
    route: str | None = None
    performer: str | None = None
    note: str | None = None
    source: SourceRef | None = None

    @property
    def not_given(self) -> bool:
        return self.status == "not-done"


class Interpretation(StrEnum):
    NORMAL = "N"
    HIGH = "H"
    LOW = "L"
    CRITICAL_HIGH = "HH"
    CRITICAL_LOW = "LL"
    ABNORMAL = "A"
    CRITICAL = "AA"
    UNKNOWN = ""


class Observation(_Base):
    """One vital sign or lab result (a component of a panel becomes its own Observation)."""

    code: str | None = None  # LOINC where known
    system: str | None = None
    name: str  # display name
    kind: str = "lab"  # vital | lab | other
    # What is measured, whatever the code system (see sync.mapping.meanings): "heart-rate",
    # "resp-rate", "spo2", "temperature", "systolic", "diastolic", "bp", "potassium", ...
    meaning: str | None = None
    group: str | None = None  # lab section or panel name for grouping
    value: float | None = None
    value_text: str | None = None  # non-numeric value, or the formatted one ("120/80")
    unit: str | None = None
    ref_low: float | None = None
    ref_high: float | None = None
    ref_text: str | None = None
    interpretation: Interpretation = Interpretation.UNKNOWN
    # Set when the flag and ref_low/ref_high come from the configured vital-sign ranges (the
    # source gave none), e.g. "NEWS2": the viewer says which ranges were used.
    range_source: str | None = None
    effective: datetime | None = None
    status: str | None = None
    source: SourceRef | None = None
    # Other Observations with the same code and time whose values are joined into this one
    # (value_text "x; y"): every value stays visible in one row.
    also_from: list[SourceRef] = Field(default_factory=list)

    @property
    def is_abnormal(self) -> bool:
        return self.interpretation not in (Interpretation.NORMAL, Interpretation.UNKNOWN)


class NoteVersion(_Base):
    """Another copy or an older version of a note (`Note.versions`): reachable on request,
    marked superseded or "same content"."""

    title: str
    kind: str | None = None
    date: datetime | None = None
    author: str | None = None
    # None: the same content as the note shown (a DocumentReference repeating a report): the
    # text is not stored twice.
    text: str | None = None
    status: str | None = None
    superseded: bool = False
    source: SourceRef | None = None


class Note(_Base):
    title: str
    kind: str | None = None  # discharge summary, progress note, Pflegebericht, ...
    date: datetime | None = None
    author: str | None = None
    text: str  # decoded plain text (HTML/markup stripped)
    content_type: str | None = None
    # DocumentReference.docStatus / status or DiagnosticReport.status as sent: preliminary,
    # final, amended, superseded, ...
    status: str | None = None
    # Replaced by a newer document (DocumentReference.status "superseded", or named in another
    # one's relatesTo "replaces"): shown marked, after the current notes.
    superseded: bool = False
    # Other resources with the same content (a DocumentReference repeating a DiagnosticReport,
    # an older copy): one note is shown, these stay traceable.
    also_in: list[SourceRef] = Field(default_factory=list)
    # The other copies and the versions this note replaces (relatesTo "replaces"), newest first:
    # the newest current note is shown, these are one action away, marked.
    versions: list[NoteVersion] = Field(default_factory=list)
    source: SourceRef | None = None


class Order(_Base):
    """A pending order (ServiceRequest): lab draw, imaging, consult, nursing task."""

    text: str
    coding: list[Coding] = Field(default_factory=list)
    status: str | None = None
    intent: str | None = None
    priority: str | None = None  # routine | urgent | asap | stat
    category: str | None = None
    authored: datetime | None = None
    occurrence: datetime | None = None
    requester: str | None = None
    note: str | None = None
    source: SourceRef | None = None


class Procedure(_Base):
    text: str
    coding: list[Coding] = Field(default_factory=list)
    status: str | None = None
    performed: datetime | None = None
    source: SourceRef | None = None


class Immunization(_Base):
    vaccine: str
    coding: list[Coding] = Field(default_factory=list)
    status: str | None = None
    date: datetime | None = None
    # The calendar date when the source gave only a date: shown as is, never shifted by zone.
    day: _dt.date | None = None
    source: SourceRef | None = None


class Device(_Base):
    text: str
    coding: list[Coding] = Field(default_factory=list)
    status: str | None = None
    source: SourceRef | None = None


class CareTeamMember(_Base):
    name: str
    role: str | None = None
    phone: str | None = None


class Contact(_Base):
    """Next of kin, legal guardian, emergency contact."""

    name: str
    relationship: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    source: SourceRef | None = None


class PatientRecord(_Base):
    """Everything one ward snapshot holds about one patient."""

    id: str  # FHIR Patient id
    mrn: str | None = None  # the hospital's medical record number, when identifiable
    identifiers: list[Identifier] = Field(default_factory=list)
    family: str | None = None
    given: list[str] = Field(default_factory=list)
    prefix: list[str] = Field(default_factory=list)
    name: str  # display name, "Family, Given" form
    other_names: list[str] = Field(default_factory=list)  # maiden, alias
    birth_date: date | None = None  # the first day of the period when only part is known
    birth_precision: DatePrecision = DatePrecision.DAY  # "1996" -> YEAR, "1996-07" -> MONTH
    sex: Sex = Sex.UNKNOWN
    deceased: bool = False
    deceased_at: datetime | None = None
    language: str | None = None
    address: str | None = None
    phone: str | None = None

    stay: Stay | None = None
    allergies: list[Allergy] = Field(default_factory=list)
    no_known_allergies: bool = False  # explicitly documented NKA
    code_status: CodeStatus | None = None
    flags: list[Flag] = Field(default_factory=list)
    problems: list[Problem] = Field(default_factory=list)
    # Current orders: active and on-hold (status tells them apart; see active_medications and
    # on_hold_medications). Stopped and completed orders are never here.
    medications: list[MedicationOrder] = Field(default_factory=list)
    # Orders stopped / completed within the configured window (default 72 h), newest stop first,
    # each with its `stopped` time: so a nurse sees that a drug was stopped yesterday.
    stopped_medications: list[MedicationOrder] = Field(default_factory=list)
    administrations: list[Administration] = Field(default_factory=list)  # last 72 h
    # Active MedicationStatements: what the patient takes (home medication, IPS), NOT orders
    # here, so never scheduled on the MAR. intent="statement".
    home_medications: list[MedicationOrder] = Field(default_factory=list)
    vitals: list[Observation] = Field(default_factory=list)
    labs: list[Observation] = Field(default_factory=list)
    # Set when the configured history window ([history] in the sync config) left out older
    # values: vitals / labs before this time are not in this copy, apart from the newest of each
    # kind. The viewer and the printouts say so (the EHR has them). None: nothing left out.
    vitals_since: datetime | None = None
    labs_since: datetime | None = None
    notes: list[Note] = Field(default_factory=list)
    orders: list[Order] = Field(default_factory=list)
    procedures: list[Procedure] = Field(default_factory=list)
    immunizations: list[Immunization] = Field(default_factory=list)
    devices: list[Device] = Field(default_factory=list)
    care_team: list[CareTeamMember] = Field(default_factory=list)
    contacts: list[Contact] = Field(default_factory=list)

    merged_from: list[str] = Field(default_factory=list)  # Patient ids merged into this one
    last_updated: datetime | None = None  # newest meta.lastUpdated of any source resource
    source: SourceRef | None = None

    def to_json(self) -> bytes:
        """Serialise for storage (compact JSON, None fields and empty lists omitted)."""
        return orjson.dumps(self.model_dump(mode="json", exclude_none=True, exclude_defaults=True))

    @classmethod
    def from_json(cls, data: bytes | str) -> PatientRecord:
        """Parse what `to_json` wrote. Raises pydantic.ValidationError on malformed input."""
        return cls.model_validate(orjson.loads(data))

    @property
    def main_diagnosis(self) -> Problem | None:
        for problem in self.problems:
            if problem.is_main_diagnosis:
                return problem
        return self.problems[0] if self.problems else None

    @property
    def has_severe_allergy(self) -> bool:
        return any(a.criticality == Criticality.HIGH for a in self.allergies)

    @property
    def allergy_status(self) -> AllergyStatus:
        """Allergies listed, explicitly none known, or not documented at all."""
        if self.allergies:
            return AllergyStatus.ALLERGIES
        return AllergyStatus.NO_KNOWN if self.no_known_allergies else AllergyStatus.NOT_DOCUMENTED

    @property
    def active_medications(self) -> list[MedicationOrder]:
        """Current orders that are not on hold (what the MAR schedules)."""
        return [o for o in self.medications if not o.on_hold]

    @property
    def on_hold_medications(self) -> list[MedicationOrder]:
        return [o for o in self.medications if o.on_hold]


class CensusRow(_Base):
    """One line of the ward census: what fits on the ward overview, derived from a record."""

    patient_id: str
    mrn: str | None = None
    name: str
    birth_date: date | None = None
    birth_precision: DatePrecision = DatePrecision.DAY  # (in census.extra)
    sex: Sex = Sex.UNKNOWN
    case_number: str | None = None  # Stay.case_number (in census.extra)
    ward_id: str | None = None
    ward: str | None = None
    room: str | None = None
    bed: str | None = None
    admitted: datetime | None = None
    discharged: datetime | None = None
    stay_status: str | None = None  # Encounter.status of the stay shown (finished, ...)
    attending: str | None = None
    main_diagnosis: str | None = None
    main_diagnosis_is_code: bool = False  # main_diagnosis is a marked code, not a name
    allergy_count: int = 0
    no_known_allergies: bool = False  # explicit NKA (allergy_count 0); else 0 = not documented
    severe_allergy: bool = False
    allergies_short: str | None = None  # "Penicillin, Latex"
    code_status: CodeStatusKind = CodeStatusKind.UNKNOWN
    code_status_text: str | None = None
    flags: list[str] = Field(default_factory=list)
    deceased: bool = False

    @classmethod
    def from_record(cls, record: PatientRecord) -> CensusRow:
        stay = record.stay or Stay()
        main = record.main_diagnosis
        return cls(
            patient_id=record.id,
            mrn=record.mrn,
            name=record.name,
            birth_date=record.birth_date,
            birth_precision=record.birth_precision,
            sex=record.sex,
            case_number=stay.case_number,
            ward_id=stay.ward_id,
            ward=stay.ward,
            room=stay.room,
            bed=stay.bed,
            admitted=stay.admitted,
            discharged=stay.discharged,
            stay_status=stay.status,
            attending=stay.attending,
            main_diagnosis=main.text if main else None,
            main_diagnosis_is_code=bool(main and main.text_is_code),
            allergy_count=len(record.allergies),
            no_known_allergies=record.allergy_status is AllergyStatus.NO_KNOWN,
            severe_allergy=record.has_severe_allergy,
            allergies_short=", ".join(a.substance for a in record.allergies[:4]) or None,
            code_status=record.code_status.kind if record.code_status else CodeStatusKind.UNKNOWN,
            code_status_text=record.code_status.text if record.code_status else None,
            flags=[f.text for f in record.flags],
            deceased=record.deceased,
        )

    @property
    def is_current(self) -> bool:
        """The patient is in the stay shown (not discharged). See Stay.is_current."""
        if self.discharged is not None:  # the rule of Stay.is_current, without a model copy
            return False
        return self.stay_status in CURRENT_STAY_STATUSES or self.stay_status is None

    def discharged_within(self, now: datetime, window: timedelta) -> bool:
        """True when the stay ended within `window` before `now` (a clock ahead by a little is
        tolerated: a discharge "in the future" counts as recent)."""
        if self.discharged is None:
            return False
        return self.discharged >= now - window

    @property
    def allergy_status(self) -> AllergyStatus:
        if self.allergy_count:
            return AllergyStatus.ALLERGIES
        return AllergyStatus.NO_KNOWN if self.no_known_allergies else AllergyStatus.NOT_DOCUMENTED

"""PURE mapping of one patient's FHIR R4 resources to `sync.model.PatientRecord`.

    from sync.mapping import map_patient, MappingContext

`map_patient` never raises for one bad resource: it skips the resource and counts a reason in
`ctx.problems` ("Observation: no value", "MedicationRequest: no medication", ...). Only a
top-level Patient that is not a Patient with an id raises `MappingError`.

No I/O: shared resources (Location, Practitioner, Organization, Medication, ...) come from
`ctx.resolve`; the caller (sync.build) groups each patient's compartment resources.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sync.mapping import alerts, clinical, identity, meds, notes, observations, stay
from sync.mapping._common import Mapper, MappingContext, MappingError, sort_ts, status_of
from sync.model import (
    Allergy,
    CodeStatus,
    Contact,
    Criticality,
    Flag,
    MedicationOrder,
    Observation,
    PatientRecord,
    Problem,
)

__all__ = ["MappingContext", "MappingError", "map_patient"]

T = TypeVar("T")

_CRITICALITY_RANK = {
    Criticality.HIGH: 0,
    Criticality.UNABLE: 1,
    Criticality.UNKNOWN: 2,
    Criticality.LOW: 3,
}
_MED_STATUS_RANK = {"active": 0, "intended": 1, "on-hold": 2}


def _each(
    m: Mapper, rtype: str, items: list[dict[str, Any]], fn: Callable[[dict[str, Any]], T | None]
) -> list[T]:
    """Apply `fn` to each resource, dropping None results; an exception skips that resource and
    is counted as "<type>: malformed (<error>)" instead of stopping the patient."""
    out: list[T] = []
    for res in items:
        try:
            value = fn(res)
        except Exception as exc:  # one malformed resource must not lose the patient
            m.problem(f"{rtype}: malformed ({type(exc).__name__})")
            continue
        if value is not None:
            out.append(value)
    return out


def _newest_first(items: list[T], key: Callable[[T], Any]) -> list[T]:
    return sorted(items, key=lambda item: sort_ts(key(item)), reverse=True)


def map_patient(
    patient: dict[str, Any], resources: Sequence[dict[str, Any]], ctx: MappingContext
) -> PatientRecord:
    """Map one Patient and its compartment resources to a PatientRecord.

    Side effect: adds counts to `ctx.problems`. Raises MappingError only when `patient` itself is
    not a Patient resource with an id.
    """
    m = Mapper(ctx, resources)
    try:
        fields = identity.identity_fields(m, patient)
    except MappingError:
        raise
    except Exception as exc:  # a Patient too broken to read at all
        raise MappingError(
            f"Patient {patient.get('id') if isinstance(patient, dict) else '?'!r} is malformed "
            f"({type(exc).__name__}: {exc}); fix the source record"
        ) from exc
    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    newest = fields["source"].last_updated
    newest_key = sort_ts(newest)
    for res in resources:
        if not isinstance(res, dict) or not isinstance(res.get("resourceType"), str):
            m.problem("resource: not a FHIR resource")
            continue
        by_type[res["resourceType"]].append(res)
        meta = res.get("meta")
        if isinstance(meta, dict) and meta.get("lastUpdated"):
            updated = m.dt(meta["lastUpdated"])
            if updated is not None and sort_ts(updated) > newest_key:
                newest, newest_key = updated, sort_ts(updated)
    fields["last_updated"] = newest
    get = by_type.get
    empty: list[dict[str, Any]] = []

    # Stay
    stay_enc = None
    try:
        stay_enc = stay.choose_stay_encounter(m, get("Encounter", empty))
        if stay_enc is not None:
            fields["stay"] = stay.map_stay(m, stay_enc)
    except Exception as exc:
        m.problem(f"Encounter: malformed ({type(exc).__name__})")

    # Allergies
    allergy_res = get("AllergyIntolerance", empty)
    nka = False
    real: list[dict[str, Any]] = []
    for res in allergy_res:
        try:
            if alerts.allergy_skipped(res):
                continue
            if alerts.is_nka(res):
                nka = True
            else:
                real.append(res)
        except Exception as exc:
            m.problem(f"AllergyIntolerance: malformed ({type(exc).__name__})")
    allergies: list[Allergy] = _each(
        m, "AllergyIntolerance", real, lambda r: alerts.map_allergy(m, r)
    )
    allergies = _newest_first(allergies, lambda a: a.recorded)
    allergies.sort(key=lambda a: _CRITICALITY_RANK.get(a.criticality, 2))
    fields["allergies"] = allergies
    fields["no_known_allergies"] = nka and not allergies

    # Code status (Observation / Consent / Flag) and flags
    code_status: list[CodeStatus] = []
    obs_res: list[dict[str, Any]] = []
    for res in get("Observation", empty):
        try:
            if alerts.is_code_status_observation(res):
                found = alerts.code_status_from_observation(m, res)
                if found:
                    code_status.append(found)
                continue
        except Exception as exc:
            m.problem(f"Observation: malformed ({type(exc).__name__})")
            continue
        obs_res.append(res)
    code_status += _each(
        m, "Consent", get("Consent", empty), lambda r: alerts.code_status_from_consent(m, r)
    )
    flags: list[Flag] = []
    for res in get("Flag", empty):
        try:
            if alerts.flag_skipped(m, res):
                continue
            flag = alerts.map_flag(m, res)
            if flag is None:
                continue
            found = alerts.code_status_from_flag(m, res, flag)
            if found is not None:
                code_status.append(found)
            else:
                flags.append(flag)
        except Exception as exc:
            m.problem(f"Flag: malformed ({type(exc).__name__})")
    fields["code_status"] = alerts.newest_code_status(code_status)
    flags = _newest_first(flags, lambda f: f.start)
    flags.sort(key=lambda f: f.category != "isolation")
    fields["flags"] = flags

    # Problems
    try:
        main_ids = clinical.main_diagnosis_ids(stay_enc)
    except Exception as exc:
        m.problem(f"Encounter: malformed diagnosis ({type(exc).__name__})")
        main_ids = set()
    problems: list[Problem] = _each(
        m, "Condition", get("Condition", empty), lambda r: clinical.map_condition(m, r, main_ids)
    )
    problems = _newest_first(problems, lambda p: p.recorded or p.onset)
    problems.sort(key=lambda p: not p.is_main_diagnosis)
    fields["problems"] = problems

    # Medications
    orders: list[MedicationOrder] = _each(
        m,
        "MedicationRequest",
        [r for r in get("MedicationRequest", empty) if status_of(r) in meds.ORDER_STATUSES],
        lambda r: meds.map_order(m, r),
    )
    orders.sort(key=lambda o: (_MED_STATUS_RANK.get(o.status or "", 3), o.drug.casefold()))
    fields["medications"] = orders
    statements = _each(
        m,
        "MedicationStatement",
        [r for r in get("MedicationStatement", empty) if status_of(r) in meds.STATEMENT_STATUSES],
        lambda r: meds.map_statement(m, r),
    )
    statements.sort(key=lambda o: o.drug.casefold())
    fields["home_medications"] = statements
    administrations = _each(
        m, "MedicationAdministration", get("MedicationAdministration", empty),
        lambda r: meds.map_administration(m, r),
    )  # fmt: skip
    fields["administrations"] = _newest_first(administrations, lambda a: a.when)

    # Observations
    reports = get("DiagnosticReport", empty)
    try:
        groups = observations.report_groups(reports)
    except Exception as exc:
        m.problem(f"DiagnosticReport: malformed ({type(exc).__name__})")
        groups = {}
    mapped: list[Observation] = []
    for batch in _each(
        m,
        "Observation",
        obs_res,
        lambda r: observations.map_observation(m, r, groups.get(r.get("id"))),  # type: ignore[arg-type]
    ):
        mapped.extend(batch)
    mapped = _newest_first(mapped, lambda o: o.effective)
    fields["vitals"] = [o for o in mapped if o.kind == "vital"]
    fields["labs"] = [o for o in mapped if o.kind != "vital"]

    # Notes
    note_list = _each(
        m, "DocumentReference", get("DocumentReference", empty), lambda r: notes.map_document(m, r)
    )
    note_list += _each(m, "DiagnosticReport", reports, lambda r: notes.map_report_note(m, r))
    fields["notes"] = _newest_first(note_list, lambda n: n.date)

    # Orders, procedures, immunizations, devices, care team, contacts
    pending = [r for r in get("ServiceRequest", empty) if status_of(r) in clinical.PENDING_ORDER]
    order_list = _each(m, "ServiceRequest", pending, lambda r: clinical.map_service_request(m, r))
    fields["orders"] = _newest_first(order_list, lambda o: o.occurrence or o.authored)
    fields["procedures"] = _newest_first(
        _each(m, "Procedure", get("Procedure", empty), lambda r: clinical.map_procedure(m, r)),
        lambda p: p.performed,
    )
    fields["immunizations"] = _newest_first(
        _each(
            m, "Immunization", get("Immunization", empty), lambda r: clinical.map_immunization(m, r)
        ),
        lambda i: i.date,
    )
    devices = _each(m, "Device", get("Device", empty), lambda r: clinical.map_device(m, r))
    devices += _each(
        m,
        "DeviceUseStatement",
        get("DeviceUseStatement", empty),
        lambda r: clinical.map_device_use(m, r),
    )
    fields["devices"] = devices
    members = []
    seen_members: set[tuple[str, str | None]] = set()
    for team in _each(
        m, "CareTeam", get("CareTeam", empty), lambda r: clinical.map_care_team(m, r, fields["id"])
    ):
        for member in team:
            key = (member.name, member.role)
            if key not in seen_members:
                seen_members.add(key)
                members.append(member)
    fields["care_team"] = members
    contacts: list[Contact] = []
    try:
        contacts = identity.patient_contacts(m, patient)
    except Exception as exc:
        m.problem(f"Patient.contact: malformed ({type(exc).__name__})")
    contacts += _each(
        m, "RelatedPerson", get("RelatedPerson", empty), lambda r: identity.related_person(m, r)
    )
    seen_contacts: set[tuple[str, str | None]] = set()
    unique: list[Contact] = []
    for contact in contacts:
        key = (contact.name, contact.relationship)
        if key not in seen_contacts:
            seen_contacts.add(key)
            unique.append(contact)
    fields["contacts"] = unique
    return PatientRecord(**fields)

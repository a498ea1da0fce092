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
from datetime import timedelta
from typing import Any, TypeVar

from sync.mapping import alerts, clinical, identity, meds, notes, observations, stay
from sync.mapping._common import (
    Mapper,
    MappingContext,
    MappingError,
    is_entered_in_error,
    sort_ts,
    status_of,
    truncated_fields,
)
from sync.mapping.meanings import DEFAULT_RANGES
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

__all__ = ["MappingContext", "MappingError", "map_patient", "truncated_fields"]

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


Resources = list[dict[str, Any]]
ByType = dict[str, Resources]
_NONE: Resources = []
_HOUR = timedelta(hours=1)


def _unique(items: list[T], key: Callable[[T], Any]) -> list[T]:
    """Drop later duplicates (same key), keeping order."""
    seen: set[Any] = set()
    out: list[T] = []
    for item in items:
        k = key(item)
        if k not in seen:
            seen.add(k)
            out.append(item)
    return out


def _guarded(m: Mapper, reason: str, fn: Callable[[], T], default: T) -> T:
    """Run one mapping section; a failure costs that section (counted), not the patient."""
    try:
        return fn()
    except Exception as exc:
        m.problem(f"{reason} ({type(exc).__name__})")
        return default


def map_patient(
    patient: dict[str, Any], resources: Sequence[dict[str, Any]], ctx: MappingContext
) -> PatientRecord:
    """Map one Patient and its compartment resources to a PatientRecord.

    Side effect: adds counts to `ctx.problems`. Raises MappingError only when `patient` itself is
    not a Patient resource with an id, or too malformed to read (no patient data in the message).
    """
    m = Mapper(ctx, resources)
    try:
        fields = identity.identity_fields(m, patient)
    except MappingError:
        raise
    except Exception as exc:  # a Patient too broken to read at all
        raise MappingError(
            f"a Patient resource is malformed ({type(exc).__name__}); fix it in the source"
        ) from exc
    by_type = _group(m, resources, fields)
    stay_enc = _guarded(
        m,
        "Encounter: malformed",
        lambda: stay.choose_stay_encounter(m, _get(by_type, "Encounter")),
        None,
    )
    if stay_enc is not None:
        fields["stay"] = _guarded(
            m, "Encounter: malformed", lambda: stay.map_stay(m, stay_enc), None
        )
    _allergies(m, by_type, fields)
    other_observations = _alerts(m, by_type, fields)
    _problems(m, by_type, fields, stay_enc)
    _medications(m, by_type, fields)
    _observations(m, by_type, fields, other_observations)
    _notes(m, by_type, fields)
    _orders_and_history(m, by_type, fields)
    _people(m, by_type, fields, patient)
    return PatientRecord(**fields)


def _get(by_type: ByType, rtype: str) -> Resources:
    return by_type.get(rtype, _NONE)


def _group(m: Mapper, resources: Sequence[Any], fields: dict[str, Any]) -> ByType:
    """Resources by type (non-resources counted and dropped); sets fields["last_updated"]."""
    by_type: ByType = defaultdict(list)
    newest = fields["source"].last_updated
    newest_key = sort_ts(newest)
    # A patient's resources repeat lastUpdated values (a batch load stamps many alike): each
    # distinct string is parsed and compared once; a repeat cannot be newer than itself.
    seen: set[str] = set()
    for res in resources:
        if not isinstance(res, dict) or not isinstance(res.get("resourceType"), str):
            m.problem("resource: not a FHIR resource")
            continue
        if is_entered_in_error(res):
            continue  # entered in error: never shown, whatever the type
        by_type[res["resourceType"]].append(res)
        meta = res.get("meta")
        if isinstance(meta, dict):
            value = meta.get("lastUpdated")
            if value and isinstance(value, str) and value not in seen:
                seen.add(value)
                updated = m.dt(value)
                if updated is not None:
                    updated_key = sort_ts(updated)
                    if updated_key > newest_key:
                        newest, newest_key = updated, updated_key
    fields["last_updated"] = newest
    return by_type


def _allergies(m: Mapper, by_type: ByType, fields: dict[str, Any]) -> None:
    """Shown allergies (severe first) and the NKA flag (only when no allergy is listed)."""
    nka = False
    real: Resources = []
    for res in _get(by_type, "AllergyIntolerance"):
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


def _alerts(m: Mapper, by_type: ByType, fields: dict[str, Any]) -> Resources:
    """Code status (Observation / Consent / Flag, newest wins) and Flags (isolation first).

    Returns the Observations that are not code status, for the vitals and labs.
    """
    code_status: list[CodeStatus] = []
    other: Resources = []
    for res in _get(by_type, "Observation"):
        try:
            if alerts.is_code_status_observation(res):
                found = alerts.code_status_from_observation(m, res)
                if found:
                    code_status.append(found)
                continue
        except Exception as exc:
            m.problem(f"Observation: malformed ({type(exc).__name__})")
            continue
        other.append(res)
    code_status += _each(
        m, "Consent", _get(by_type, "Consent"), lambda r: alerts.code_status_from_consent(m, r)
    )
    flags: list[Flag] = []
    for res in _get(by_type, "Flag"):
        try:
            if alerts.flag_skipped(m, res):
                continue
            flag = alerts.map_flag(m, res)
            if flag is None:
                continue
            found = alerts.code_status_from_flag(m, res, flag)
            if found is not None:
                code_status.append(found)  # a DNR flag is the code status, not another flag
            else:
                flags.append(flag)
        except Exception as exc:
            m.problem(f"Flag: malformed ({type(exc).__name__})")
    fields["code_status"] = alerts.newest_code_status(code_status)
    flags = _newest_first(flags, lambda f: f.start)
    flags.sort(key=lambda f: f.category != "isolation")
    fields["flags"] = flags
    return other


def _problems(
    m: Mapper, by_type: ByType, fields: dict[str, Any], stay_enc: dict[str, Any] | None
) -> None:
    """Active Conditions, the stay's main diagnosis first, then newest first."""
    main_ids: set[str] = _guarded(
        m, "Encounter: malformed diagnosis", lambda: clinical.main_diagnosis_ids(stay_enc), set()
    )
    problems: list[Problem] = _each(
        m, "Condition", _get(by_type, "Condition"), lambda r: clinical.map_condition(m, r, main_ids)
    )
    problems = _newest_first(problems, lambda p: p.recorded or p.onset)
    problems.sort(key=lambda p: not p.is_main_diagnosis)
    fields["problems"] = problems


def _medications(m: Mapper, by_type: ByType, fields: dict[str, Any]) -> None:
    """Orders (active before on-hold, by drug), orders stopped within the window (newest stop
    first), home medication, administrations in the window, each order's last dose given."""
    all_requests = _get(by_type, "MedicationRequest")
    requests = [r for r in all_requests if status_of(r) in meds.ORDER_STATUSES]
    orders: list[MedicationOrder] = _each(
        m, "MedicationRequest", requests, lambda r: meds.map_order(m, r)
    )
    orders.sort(key=lambda o: (_MED_STATUS_RANK.get(o.status or "", 3), o.drug.casefold()))
    fields["medications"] = orders
    ended = [r for r in all_requests if status_of(r) in meds.STOPPED_STATUSES]
    stopped = _each(m, "MedicationRequest", ended, lambda r: meds.map_stopped_order(m, r))
    fields["stopped_medications"] = _newest_first(stopped, lambda o: o.stopped)
    taken = [
        r for r in _get(by_type, "MedicationStatement") if status_of(r) in meds.STATEMENT_STATUSES
    ]
    statements = _each(m, "MedicationStatement", taken, lambda r: meds.map_statement(m, r))
    statements.sort(key=lambda o: o.drug.casefold())
    fields["home_medications"] = statements
    given = _each(
        m,
        "MedicationAdministration",
        _get(by_type, "MedicationAdministration"),
        lambda r: meds.map_administration(m, r),
    )
    fields["administrations"] = _newest_first(given, lambda a: a.when)
    meds.attach_last_given(orders, fields["administrations"])


def _observations(m: Mapper, by_type: ByType, fields: dict[str, Any], resources: Resources) -> None:
    """Vitals and labs (others go with the labs), newest first, grouped by DiagnosticReport."""
    groups: dict[str, str] = _guarded(
        m,
        "DiagnosticReport: malformed",
        lambda: observations.report_groups(_get(by_type, "DiagnosticReport")),
        {},
    )
    mapped: list[Observation] = []
    vitals_window, labs_window = m.ctx.vitals_window, m.ctx.labs_window
    cut_before: set[str] = set()
    if vitals_window is not None and labs_window is not None:
        # An ICU patient has tens of thousands of monitor values: map only what the windows
        # can keep (apply_window below still decides, exactly as without this step).
        resources, cut_before = observations.prefilter_window(
            m,
            resources,
            {
                "vital": observations.window_start(m.ctx.now, vitals_window),
                "lab": observations.window_start(m.ctx.now, labs_window),
            },
        )
    for batch in _each(
        m,
        "Observation",
        resources,
        lambda r: observations.map_observation(m, r, groups.get(status_of(r, "id") or "")),
    ):
        mapped.extend(batch)
    mapped = _newest_first(mapped, lambda o: o.effective)
    mapped = observations.merge_same_time(mapped, m.ctx.vital_ranges or DEFAULT_RANGES)
    vitals = [o for o in mapped if o.kind == "vital"]
    labs = [o for o in mapped if o.kind != "vital"]
    for name, kind, values, window in (
        ("vitals", "vital", vitals, vitals_window),
        ("labs", "lab", labs, labs_window),
    ):
        if window is not None:
            since = observations.window_start(m.ctx.now, window)
            values, cut = observations.apply_window(values, since)
            if cut or kind in cut_before:
                fields[f"{name}_since"] = since
                m.ctx.changes_from(since + _HOUR + window)  # the start moves on
            else:
                leaves = observations.window_changes_at(values, since, window)
                if leaves is not None:
                    m.ctx.changes_from(leaves)
        fields[name] = values


def _notes(m: Mapper, by_type: ByType, fields: dict[str, Any]) -> None:
    documents = _get(by_type, "DocumentReference")
    found = _each(m, "DocumentReference", documents, lambda r: notes.map_document(m, r))
    reports = _get(by_type, "DiagnosticReport")
    found += _each(m, "DiagnosticReport", reports, lambda r: notes.map_report_note(m, r))
    found = _guarded(
        m,
        "DocumentReference: malformed relatesTo",
        lambda: notes.mark_superseded(found, documents),
        found,
    )
    found = notes.one_per_content(_newest_first(found, lambda n: n.date), documents)
    found = _guarded(
        m,
        "DocumentReference: malformed relatesTo",
        lambda: notes.fold_replaced(found, documents),
        found,
    )
    # Current notes first (newest first), superseded ones after them, marked.
    found.sort(key=lambda n: n.superseded)
    fields["notes"] = found


def _orders_and_history(m: Mapper, by_type: ByType, fields: dict[str, Any]) -> None:
    """Pending ServiceRequests, procedures, immunizations, devices."""
    pending = [r for r in _get(by_type, "ServiceRequest") if status_of(r) in clinical.PENDING_ORDER]
    found = _each(m, "ServiceRequest", pending, lambda r: clinical.map_service_request(m, r))
    fields["orders"] = _newest_first(found, lambda o: o.occurrence or o.authored)
    procedures = _each(
        m, "Procedure", _get(by_type, "Procedure"), lambda r: clinical.map_procedure(m, r)
    )
    fields["procedures"] = _newest_first(procedures, lambda p: p.performed)
    shots = _each(
        m, "Immunization", _get(by_type, "Immunization"), lambda r: clinical.map_immunization(m, r)
    )
    fields["immunizations"] = _newest_first(shots, lambda i: i.date)
    devices = _each(m, "Device", _get(by_type, "Device"), lambda r: clinical.map_device(m, r))
    devices += _each(
        m,
        "DeviceUseStatement",
        _get(by_type, "DeviceUseStatement"),
        lambda r: clinical.map_device_use(m, r),
    )
    fields["devices"] = devices


def _people(m: Mapper, by_type: ByType, fields: dict[str, Any], patient: dict[str, Any]) -> None:
    """Care team members and contacts (Patient.contact, RelatedPerson), without duplicates."""
    teams = _each(
        m,
        "CareTeam",
        _get(by_type, "CareTeam"),
        lambda r: clinical.map_care_team(m, r, fields["id"]),
    )
    members = [member for team in teams for member in team]
    fields["care_team"] = _unique(members, lambda c: (c.name, c.role))
    contacts: list[Contact] = _guarded(
        m, "Patient.contact: malformed", lambda: identity.patient_contacts(m, patient), []
    )
    contacts += _each(
        m, "RelatedPerson", _get(by_type, "RelatedPerson"), lambda r: identity.related_person(m, r)
    )
    fields["contacts"] = _unique(contacts, lambda c: (c.name, c.relationship))

"""Problems (Conditions), pending orders, procedures, immunizations, devices, care team."""

from __future__ import annotations

from typing import Any

from sync.mapping._common import (
    Mapper,
    calendar_date,
    cc_text,
    codes_of,
    codings,
    dicts,
    display_name,
    name_or_code,
    notes_text,
    obj,
    party_name,
    ref_id,
    status_code,
    status_of,
    text_of,
)
from sync.model import CareTeamMember, Device, Immunization, Order, Problem, Procedure

ACTIVE_CONDITION = frozenset({"active", "recurrence", "relapse"})
_SKIP_VERIFICATION = frozenset({"entered-in-error", "refuted"})
# Encounter.diagnosis.use codes meaning "main diagnosis" (diagnosis-role CC, German
# KontaktDiagnoseProzedur / Diagnosetyp).
MAIN_DIAGNOSIS_USES = frozenset(
    {"CC", "hauptdiagnose", "department-main-diagnosis", "hospital-main-diagnosis",
     "main-diagnosis", "principal"}
)  # fmt: skip
_CATEGORY_CODES = {"encounter-diagnosis", "problem-list-item", "health-concern"}
PENDING_ORDER = frozenset({"active", "on-hold", "draft"})
_SKIP_PROCEDURE = frozenset({"entered-in-error", "not-done", "preparation"})
_ACTIVE_DEVICE = frozenset({"active"})


def main_diagnosis_ids(encounter: dict[str, Any] | None) -> set[str]:
    """Condition ids the stay Encounter marks as main diagnosis (rank 1 or a main-diagnosis use)."""
    found: set[str] = set()
    if not encounter:
        return found
    for diag in dicts(encounter.get("diagnosis")):
        rank = diag.get("rank")
        use_codes = codes_of(diag.get("use"))
        if rank == 1 or use_codes & MAIN_DIAGNOSIS_USES:
            rid = ref_id(diag.get("condition"))
            if rid:
                found.add(rid)
    return found


def map_condition(m: Mapper, res: dict[str, Any], main_ids: set[str]) -> Problem | None:
    """An active Condition -> Problem; None when not active (silently) or without code (counted)."""
    clinical = status_code(res.get("clinicalStatus"))
    verification = status_code(res.get("verificationStatus"))
    if verification in _SKIP_VERIFICATION:
        return None
    if clinical is None:
        # No clinical status: only show it when nothing says it is over.
        if any(
            k in res
            for k in ("abatementDateTime", "abatementPeriod", "abatementString", "abatementAge")
        ):
            return None
    elif clinical not in ACTIVE_CONDITION:
        return None
    code = res.get("code")
    text, text_is_code = name_or_code(code)
    if not text:
        m.problem("Condition: no code")
        return None
    category = None
    is_main = isinstance(res.get("id"), str) and res["id"] in main_ids
    for cc in dicts(res.get("category")):
        codes = codes_of(cc)
        if codes & MAIN_DIAGNOSIS_USES:
            is_main = True
        for value in sorted(codes & _CATEGORY_CODES):
            category = value
        if category is None:
            category = cc_text(cc)
    onset_period = obj(res.get("onsetPeriod"))
    return Problem(
        text=text,
        text_is_code=text_is_code,
        coding=codings(code),
        clinical_status=clinical,
        category=category,
        is_main_diagnosis=is_main,
        onset=m.dt(res.get("onsetDateTime")) or m.dt(onset_period.get("start")),
        onset_date=calendar_date(res.get("onsetDateTime") or onset_period.get("start")),
        recorded=m.dt(res.get("recordedDate")),
        source=m.source(res),
    )


def map_service_request(m: Mapper, res: dict[str, Any]) -> Order | None:
    """A pending ServiceRequest -> Order; None (counted) when it has no code."""
    code = res.get("code")
    text = cc_text(code)
    if not text:
        m.problem("ServiceRequest: no code")
        return None
    occurrence = m.dt(res.get("occurrenceDateTime"))
    if occurrence is None and isinstance(res.get("occurrencePeriod"), dict):
        occurrence = m.dt(res["occurrencePeriod"].get("start"))
    if occurrence is None and isinstance(res.get("occurrenceTiming"), dict):
        events = res["occurrenceTiming"].get("event")
        if isinstance(events, list) and events:
            occurrence = m.dt(events[0])
    category = None
    for cc in dicts(res.get("category")):
        category = cc_text(cc)
        if category:
            break
    return Order(
        text=text,
        coding=codings(code),
        status=res.get("status"),
        intent=res.get("intent") if isinstance(res.get("intent"), str) else None,
        priority=res.get("priority") if isinstance(res.get("priority"), str) else None,
        category=category,
        authored=m.dt(res.get("authoredOn")),
        occurrence=occurrence,
        requester=party_name(m, res.get("requester"), res),
        note=notes_text(res),
        source=m.source(res),
    )


def map_procedure(m: Mapper, res: dict[str, Any]) -> Procedure | None:
    if status_of(res) in _SKIP_PROCEDURE:
        return None
    code = res.get("code")
    text = cc_text(code)
    if not text:
        m.problem("Procedure: no code")
        return None
    performed = m.dt(res.get("performedDateTime"))
    if performed is None and isinstance(res.get("performedPeriod"), dict):
        performed = m.dt(res["performedPeriod"].get("start"))
    return Procedure(
        text=text,
        coding=codings(code),
        status=res.get("status") if isinstance(res.get("status"), str) else None,
        performed=performed,
        source=m.source(res),
    )


def map_immunization(m: Mapper, res: dict[str, Any]) -> Immunization | None:
    if res.get("status") == "entered-in-error":
        return None
    code = res.get("vaccineCode")
    text = cc_text(code)
    if not text:
        m.problem("Immunization: no vaccine code")
        return None
    return Immunization(
        vaccine=text,
        coding=codings(code),
        status=res.get("status") if isinstance(res.get("status"), str) else None,
        date=m.dt(res.get("occurrenceDateTime")) or m.dt(res.get("recorded")),
        day=calendar_date(res.get("occurrenceDateTime") or res.get("recorded")),
        source=m.source(res),
    )


def map_device(m: Mapper, res: dict[str, Any]) -> Device | None:
    """A Device assigned to the patient, if active (or without status)."""
    status = status_of(res)
    if "status" in res and status not in _ACTIVE_DEVICE:
        return None
    text = display_name(res) or text_of(res.get("modelNumber"))
    if not text:
        m.problem("Device: no name or type")
        return None
    return Device(
        text=text,
        coding=codings(res.get("type")),
        status=status,
        source=m.source(res),
    )


def map_device_use(m: Mapper, res: dict[str, Any]) -> Device | None:
    """An active DeviceUseStatement -> Device (the device resolved for its name)."""
    status = status_of(res)
    if "status" in res and status not in ("active", "intended"):
        return None
    ref = res.get("device")
    text = None
    coding: list[Any] = []
    if isinstance(ref, dict):
        device = m.lookup(ref, res)
        text = display_name(device) or text_of(ref.get("display"))
        coding = codings(device.get("type")) if device else []
    if not text:
        m.problem("DeviceUseStatement: device unknown")
        return None
    return Device(text=text, coding=coding, status=status, source=m.source(res))


def map_care_team(m: Mapper, res: dict[str, Any], patient_id: str) -> list[CareTeamMember]:
    """Members of an active CareTeam (the patient themself left out)."""
    if res.get("status") not in (None, "active", "proposed"):
        return []
    members: list[CareTeamMember] = []
    for part in dicts(res.get("participant")):
        member = part.get("member")
        if not isinstance(member, dict):
            continue
        if ref_id(member) == patient_id or str(member.get("reference", "")).startswith("Patient/"):
            continue
        name = party_name(m, member, res)
        if not name:
            continue
        role = None
        for cc in dicts(part.get("role")):
            role = cc_text(cc)
            if role:
                break
        phone = None
        target = m.lookup(member, res)
        if target:
            for point in dicts(target.get("telecom")):
                if point.get("system") == "phone" and text_of(point.get("value")):
                    phone = str(point["value"]).strip()
                    break
        members.append(CareTeamMember(name=name, role=role, phone=phone))
    return members

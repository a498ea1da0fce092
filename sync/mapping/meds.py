"""Medications: orders (MedicationRequest), statements, administrations, with dosage and timing."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

from sync.mapping._common import (
    Mapper,
    as_list,
    cc_text,
    codings,
    dicts,
    fmt_quantity,
    fmt_range,
    fmt_ratio,
    notes_text,
    number,
    obj,
    party_name,
    ref_id,
    text_of,
)
from sync.model import Administration, Coding, Dosage, MedicationOrder, Timing

_CLOCK_SKEW = timedelta(hours=1)
ORDER_STATUSES = frozenset({"active", "on-hold"})
STOPPED_STATUSES = frozenset({"stopped", "completed"})
_GIVEN = frozenset({"completed", "in-progress"})
STATEMENT_STATUSES = frozenset({"active", "intended"})


def _hhmm(value: Any) -> str | None:
    """FHIR time "08:00:00" -> "08:00" (seconds kept when not zero)."""
    text = text_of(value)
    if not text or len(text) < 5 or text[2] != ":":
        return None
    return text[:5] if text[5:] in ("", ":00") else text[:8]


def map_timing(m: Mapper, timing: Any) -> Timing | None:
    """FHIR Timing -> model Timing; None when it says nothing.

    Timing.code (BID, TID, Q8H, ...) is kept as a code, not expanded: app.schedule owns the
    hospital's clock times for those.
    """
    if not isinstance(timing, dict):
        return None
    code_cc = obj(timing.get("code"))
    code = None
    if isinstance(code_cc, dict):
        for coding in dicts(code_cc.get("coding")):
            if text_of(coding.get("code")):
                code = str(coding["code"]).strip()
                break
    repeat = obj(timing.get("repeat"))
    frequency = repeat.get("frequency")
    period = number(repeat.get("period"))
    unit = text_of(repeat.get("periodUnit"))
    when = [w for w in as_list(repeat.get("when")) if isinstance(w, str)]
    bounds = obj(repeat.get("boundsPeriod"))
    result = Timing(
        code=code,
        text=text_of(code_cc.get("text")),
        frequency=frequency
        if isinstance(frequency, int) and not isinstance(frequency, bool)
        else None,
        period=period,
        period_unit=unit,
        times_of_day=[t for t in (_hhmm(v) for v in as_list(repeat.get("timeOfDay"))) if t],
        when=when,
        days_of_week=[d for d in as_list(repeat.get("dayOfWeek")) if isinstance(d, str)],
        bounds_start=m.dt(bounds.get("start")),
        bounds_end=m.dt(bounds.get("end")),
    )
    if result == Timing():
        return None
    return result


def map_dosage(m: Mapper, dosage: dict[str, Any]) -> Dosage:
    """FHIR Dosage -> model Dosage (dose, route, timing, PRN, maximum)."""
    dose_value = dose_unit = dose_text = None
    for dr in dicts(dosage.get("doseAndRate")):
        quantity = dr.get("doseQuantity")
        if isinstance(quantity, dict):
            dose_value = number(quantity.get("value"))
            dose_unit = text_of(quantity.get("unit")) or text_of(quantity.get("code"))
            dose_text = fmt_quantity(quantity)
        elif isinstance(dr.get("doseRange"), dict):
            dose_text = fmt_range(dr["doseRange"])
        rate = (
            fmt_quantity(dr.get("rateQuantity"))
            or fmt_ratio(dr.get("rateRatio"))
            or fmt_range(dr.get("rateRange"))
        )
        if rate:
            dose_text = f"{dose_text}, {rate}" if dose_text else rate
        if dose_text:
            break
    as_needed = dosage.get("asNeededBoolean") is True
    reason = None
    if isinstance(dosage.get("asNeededCodeableConcept"), dict):
        as_needed = True
        reason = cc_text(dosage["asNeededCodeableConcept"])
    maxima = []
    per_period = fmt_ratio(dosage.get("maxDosePerPeriod"))
    if per_period:
        maxima.append(per_period)
    per_dose = fmt_quantity(dosage.get("maxDosePerAdministration"))
    if per_dose:
        maxima.append(f"{per_dose} per dose")
    return Dosage(
        text=text_of(dosage.get("text")) or text_of(dosage.get("patientInstruction")),
        dose_value=dose_value,
        dose_unit=dose_unit,
        dose_text=dose_text,
        route=cc_text(dosage.get("route")),
        site=cc_text(dosage.get("site")),
        method=cc_text(dosage.get("method")),
        timing=map_timing(m, dosage.get("timing")),
        as_needed=as_needed,
        as_needed_reason=reason,
        max_per_period="; ".join(maxima) or None,
    )


def medication_of(m: Mapper, res: dict[str, Any]) -> tuple[str | None, list[Coding]]:
    """Drug name and codes from medicationCodeableConcept or medicationReference (resolved)."""
    cc = res.get("medicationCodeableConcept")
    if isinstance(cc, dict):
        name = cc_text(cc)
        if name:
            return name, codings(cc)
    ref = res.get("medicationReference")
    if isinstance(ref, dict):
        med = m.lookup(ref, res)
        if med is not None:
            code = med.get("code")
            name = cc_text(code)
            if not name:
                # Compounded: name the ingredients ("Doxorubicin + Glucose").
                parts = []
                for ing in dicts(med.get("ingredient")):
                    item = cc_text(ing.get("itemCodeableConcept"))
                    if not item and isinstance(ing.get("itemReference"), dict):
                        item = text_of(ing["itemReference"].get("display"))
                        if not item:
                            sub = m.lookup(ing["itemReference"], med)
                            item = cc_text(sub.get("code")) if sub else None
                    if item:
                        parts.append(item)
                name = " + ".join(parts) or None
            if name:
                return name, codings(code)
        display = text_of(ref.get("display"))
        if display:
            return display, []
    return None, []


def _reason(m: Mapper, res: dict[str, Any]) -> str | None:
    texts = [t for t in (cc_text(cc) for cc in dicts(res.get("reasonCode"))) if t]
    for ref in dicts(res.get("reasonReference")):
        text = text_of(ref.get("display"))
        if not text:
            target = m.lookup(ref, res)
            text = cc_text(target.get("code")) if target else None
        if text:
            texts.append(text)
    return "; ".join(dict.fromkeys(texts)) or None


def map_order(m: Mapper, res: dict[str, Any]) -> MedicationOrder | None:
    """An active / on-hold MedicationRequest -> MedicationOrder; None (counted) without a drug."""
    drug, coding = medication_of(m, res)
    if not drug:
        m.problem("MedicationRequest: no medication")
        return None
    dosages = [map_dosage(m, d) for d in dicts(res.get("dosageInstruction"))]
    start = end = None
    for dosage in dosages:
        if dosage.timing and (dosage.timing.bounds_start or dosage.timing.bounds_end):
            start = start or dosage.timing.bounds_start
            end = end or dosage.timing.bounds_end
    dispense = res.get("dispenseRequest")
    validity = dispense.get("validityPeriod") if isinstance(dispense, dict) else None
    if isinstance(validity, dict):
        start = start or m.dt(validity.get("start"))
        end = end or m.dt(validity.get("end"))
    start = start or m.dt(res.get("authoredOn"))
    rid = res.get("id")
    intent = res.get("intent")
    return MedicationOrder(
        id=rid if isinstance(rid, str) else "",
        drug=drug,
        coding=coding,
        status=res.get("status") if isinstance(res.get("status"), str) else None,
        status_reason=_status_reason(res),
        intent=intent if isinstance(intent, str) else None,
        dosages=dosages,
        start=start,
        end=end,
        prescriber=party_name(m, res.get("requester"), res),
        reason=_reason(m, res),
        note=notes_text(res),
        source=m.source(res),
    )


def _status_reason(res: dict[str, Any]) -> str | None:
    """statusReason as text (a CodeableConcept in MedicationRequest, a list of them in
    MedicationAdministration and MedicationStatement)."""
    texts = [t for t in (cc_text(cc) for cc in dicts(res.get("statusReason"))) if t]
    return "; ".join(dict.fromkeys(texts)) or None


def map_stopped_order(m: Mapper, res: dict[str, Any]) -> MedicationOrder | None:
    """A stopped / completed MedicationRequest whose stop time is within ctx.stopped_window ->
    MedicationOrder with `stopped` set; None when older.

    R4 has no "stopped at" element: the stop time is the order's end (dosage bounds or
    dispense validity) when that is not in the future, else meta.lastUpdated (when the status
    last changed). Without either it is left out (not known to be recent).
    """
    order = map_order(m, res)
    if order is None:
        return None
    ctx = m.ctx
    now = ctx.now
    stopped = None
    if order.end is not None and order.end <= now + _CLOCK_SKEW:
        stopped = order.end
    else:
        if order.end is not None:  # its end becomes the stop time when the clock gets there
            with contextlib.suppress(OverflowError):
                ctx.changes_from(order.end - _CLOCK_SKEW)
        if order.source is not None and order.source.last_updated is not None:
            stopped = order.source.last_updated
    if stopped is None:
        # No time at all: nothing says it ended recently (typical of old exported history),
        # so it is treated as outside the window, like any long-stopped order.
        return None
    try:
        if stopped < now - ctx.stopped_window:
            return None
    except OverflowError:
        return None
    ctx.changes_after(stopped, ctx.stopped_window)  # it leaves the window then
    order.stopped = stopped
    return order


def attach_last_given(orders: list[MedicationOrder], given: list[Administration]) -> None:
    """Set each order's last_given / last_given_by from the newest administration given for it
    (`given` newest first). Side effect: changes `orders` in place."""
    newest: dict[str, Administration] = {}
    for admin in given:
        if admin.order_id and admin.status in _GIVEN and admin.order_id not in newest:
            newest[admin.order_id] = admin
    for order in orders:
        last = newest.get(order.id)
        if last is not None:
            order.last_given = last.when
            order.last_given_by = last.performer


def map_statement(m: Mapper, res: dict[str, Any]) -> MedicationOrder | None:
    """An active MedicationStatement (what the patient takes, not an order here)."""
    drug, coding = medication_of(m, res)
    if not drug:
        m.problem("MedicationStatement: no medication")
        return None
    period = obj(res.get("effectivePeriod"))
    rid = res.get("id")
    return MedicationOrder(
        id=rid if isinstance(rid, str) else "",
        drug=drug,
        coding=coding,
        status=res.get("status") if isinstance(res.get("status"), str) else None,
        intent="statement",
        dosages=[map_dosage(m, d) for d in dicts(res.get("dosage"))],
        start=m.dt(period.get("start")) or m.dt(res.get("effectiveDateTime")),
        end=m.dt(period.get("end")),
        prescriber=party_name(m, res.get("informationSource"), res),
        reason=_reason(m, res),
        note=notes_text(res),
        source=m.source(res),
    )


def map_administration(m: Mapper, res: dict[str, Any]) -> Administration | None:
    """A MedicationAdministration inside the window -> Administration.

    Returns None silently when it is outside the window or entered in error; counts a problem
    when it has no time or no drug.
    """
    status = res.get("status") if isinstance(res.get("status"), str) else None
    if status == "entered-in-error":
        return None
    period = res.get("effectivePeriod")
    when = m.dt(res.get("effectiveDateTime")) or (
        m.dt(period.get("start")) if isinstance(period, dict) else None
    )
    if when is None:
        m.problem("MedicationAdministration: no time")
        return None
    ctx = m.ctx
    now = ctx.now
    try:
        # Up to an hour ahead is tolerated: ward PCs' clocks drift, a dose is never "future".
        if when < now - ctx.administration_window:
            return None
        if when > now + _CLOCK_SKEW:
            ctx.changes_from(when - _CLOCK_SKEW)  # it enters the window then
            return None
    except OverflowError:
        return None
    ctx.changes_after(when, ctx.administration_window)  # it leaves the window then
    drug, _ = medication_of(m, res)
    if not drug:
        m.problem("MedicationAdministration: no medication")
        return None
    dosage = obj(res.get("dosage"))
    dose = fmt_quantity(dosage.get("dose"))
    rate = fmt_quantity(dosage.get("rateQuantity")) or fmt_ratio(dosage.get("rateRatio"))
    dose_text = ", ".join(t for t in (dose, rate) if t) or text_of(dosage.get("text"))
    performer = None
    for perf in dicts(res.get("performer")):
        performer = party_name(m, perf.get("actor"), res)
        if performer:
            break
    return Administration(
        order_id=ref_id(res.get("request")),
        drug=drug,
        status=status,
        status_reason=_status_reason(res),
        when=when,
        dose_text=dose_text,
        route=cc_text(dosage.get("route")),
        performer=performer,
        note=notes_text(res),
        source=m.source(res),
    )

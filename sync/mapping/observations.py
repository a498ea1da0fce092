"""Observations: vital signs and lab results (components split out, BP combined), with ranges
and interpretation; DiagnosticReport group names."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import orjson

from sync.fhirtime import parse_fhir_datetime
from sync.mapping._common import (
    Mapper,
    cc_text,
    codes_of,
    dicts,
    fmt_number,
    fmt_quantity,
    fmt_range,
    fmt_ratio,
    is_entered_in_error,
    number,
    quantity_unit,
    ref_id,
    text_of,
)
from sync.mapping.alerts import is_code_status_observation
from sync.mapping.meanings import DEFAULT_RANGES, MEANINGS, VitalRanges, flaggable, meaning_of
from sync.model import Interpretation, Observation, SourceRef

LOINC = "http://loinc.org"
BP_PANELS = frozenset({"85354-9", "55284-4", "35094-2"})
SYSTOLIC = frozenset({"8480-6", "8459-0", "76534-7"})
DIASTOLIC = frozenset({"8462-4", "8453-3", "76535-4"})
# LOINC codes of vital signs (the FHIR vital-signs profile codes and common variants).
VITAL_CODES = frozenset(
    {
        "85353-1", "9279-1", "8867-4", "8889-8", "2708-6", "59408-5", "20564-1", "2710-2",
        "8310-5", "8331-1", "8332-9", "8328-7", "8333-7", "8334-5", "8302-2", "8306-3",
        "8308-9", "9843-4", "8287-5", "29463-7", "3141-9", "8335-2", "39156-5", "85354-9",
        "55284-4", "35094-2", "8480-6", "8462-4", "8478-0", "8459-0", "8453-3", "76534-7",
        "76535-4", "59576-9", "77606-2", "8289-1", "72514-3", "3150-0", "3151-8", "19889-5",
        "9269-2", "8693-4",
    }
)  # fmt: skip
_VITAL_CATEGORIES = frozenset({"vital-signs", "vital signs", "vitalsigns"})
_LAB_CATEGORIES = frozenset({"laboratory", "LAB", "lab"})
_SKIP_STATUS = frozenset({"entered-in-error", "cancelled"})

_INTERPRETATION = {
    "N": Interpretation.NORMAL,
    "H": Interpretation.HIGH,
    "L": Interpretation.LOW,
    "HH": Interpretation.CRITICAL_HIGH,
    "LL": Interpretation.CRITICAL_LOW,
    "HU": Interpretation.CRITICAL_HIGH,
    "H>": Interpretation.CRITICAL_HIGH,
    "LU": Interpretation.CRITICAL_LOW,
    "L<": Interpretation.CRITICAL_LOW,
    "A": Interpretation.ABNORMAL,
    "AA": Interpretation.CRITICAL,
    ">": Interpretation.HIGH,
    "<": Interpretation.LOW,
    "POS": Interpretation.ABNORMAL,
    "DET": Interpretation.ABNORMAL,
    "R": Interpretation.ABNORMAL,
    "NEG": Interpretation.NORMAL,
    "ND": Interpretation.NORMAL,
    "S": Interpretation.NORMAL,
}
_INTERPRETATION_TEXT = (
    ("critical", Interpretation.CRITICAL),
    ("kritisch", Interpretation.CRITICAL),
    ("high", Interpretation.HIGH),
    ("above", Interpretation.HIGH),
    ("hoch", Interpretation.HIGH),
    ("erhöht", Interpretation.HIGH),
    ("low", Interpretation.LOW),
    ("below", Interpretation.LOW),
    ("niedrig", Interpretation.LOW),
    ("erniedrigt", Interpretation.LOW),
    ("abnormal", Interpretation.ABNORMAL),
    ("pathologisch", Interpretation.ABNORMAL),
    ("normal", Interpretation.NORMAL),
)


def interpretation_of(items: Any) -> Interpretation | None:
    """Normalise Observation.interpretation (v3 codes or text) to the model's Interpretation."""
    for cc in dicts(items):
        for code in codes_of(cc):
            found = _INTERPRETATION.get(code) or _INTERPRETATION.get(code.upper())
            if found is not None:
                return found
        text = cc_text(cc)
        if text:
            lowered = text.lower()
            for needle, value in _INTERPRETATION_TEXT:
                if needle in lowered:
                    return value
    return None


def _from_range(value: float | None, low: float | None, high: float | None) -> Interpretation:
    """Compute H / L / N from the reference range when the source gave no flag."""
    if value is None or (low is None and high is None):
        return Interpretation.UNKNOWN
    if low is not None and value < low:
        return Interpretation.LOW
    if high is not None and value > high:
        return Interpretation.HIGH
    return Interpretation.NORMAL


def _code(cc: Any) -> tuple[str | None, str | None]:
    """(code, system): the LOINC coding if any, else the first coding."""
    if not isinstance(cc, dict):
        return None, None
    first: tuple[str | None, str | None] = (None, None)
    for coding in dicts(cc.get("coding")):
        code = text_of(coding.get("code"))
        if not code:
            continue
        system = coding.get("system") if isinstance(coding.get("system"), str) else None
        if system == LOINC:
            return code, system
        if first == (None, None):
            first = (code, system)
    return first


def _name(cc: Any) -> str | None:
    """Display name: code.text, the LOINC display, any display, a code."""
    if not isinstance(cc, dict):
        return None
    text = text_of(cc.get("text"))
    if text:
        return text
    for coding in dicts(cc.get("coding")):
        if coding.get("system") == LOINC and text_of(coding.get("display")):
            return str(coding["display"]).strip()
    return cc_text(cc)


def _value(el: dict[str, Any]) -> tuple[bool, float | None, str | None, str | None]:
    """(has value, numeric value, text value, unit) of an Observation or component."""
    q = el.get("valueQuantity")
    if isinstance(q, dict):
        value = number(q.get("value"))
        comparator = q.get("comparator")
        text = fmt_quantity(q) if isinstance(comparator, str) else None
        if value is None and text is None:
            return False, None, None, None
        unit = quantity_unit(q)
        if text and unit:
            text = text.removesuffix(f" {unit}")
        return True, value, text, unit
    if "valueInteger" in el:
        value = number(el.get("valueInteger"))
        return value is not None, value, None, None
    text = text_of(el.get("valueString"))
    if text:
        return True, None, text, None
    cc = el.get("valueCodeableConcept")
    if isinstance(cc, dict):
        text = cc_text(cc)
        return bool(text), None, text, None
    boolean = el.get("valueBoolean")
    if isinstance(boolean, bool):
        return True, None, "yes" if boolean else "no", None
    for key, fmt in (("valueRange", fmt_range), ("valueRatio", fmt_ratio)):
        text = fmt(el.get(key))
        if text:
            return True, None, text, None
    for key in ("valueDateTime", "valueTime"):
        text = text_of(el.get(key))
        if text:
            return True, None, text, None
    absent = el.get("dataAbsentReason")
    if isinstance(absent, dict):
        text = cc_text(absent)
        return bool(text), None, f"({text})" if text else None, None
    return False, None, None, None


def _reference_range(el: dict[str, Any]) -> tuple[float | None, float | None, str | None]:
    for rr in dicts(el.get("referenceRange")):
        low = rr.get("low")
        high = rr.get("high")
        low_v = number(low.get("value")) if isinstance(low, dict) else None
        high_v = number(high.get("value")) if isinstance(high, dict) else None
        text = text_of(rr.get("text"))
        if low_v is not None or high_v is not None or text:
            return low_v, high_v, text
    return None, None, None


def observation_kind(res: dict[str, Any]) -> str:
    """ "vital" | "lab" | "other": from category, else by LOINC vital-sign code."""
    # Direct loops, not codes_of() sets: this runs for every Observation (the most common
    # resource), and building throwaway sets was a visible part of the mapping time.
    for cc in dicts(res.get("category")):
        for coding in dicts(cc.get("coding")):
            code = coding.get("code")
            if not isinstance(code, str):
                continue
            if code in _VITAL_CATEGORIES:
                return "vital"
            if code in _LAB_CATEGORIES:
                return "lab"
    code_cc = res.get("code")
    if isinstance(code_cc, dict):
        for coding in dicts(code_cc.get("coding")):
            code = coding.get("code")
            if isinstance(code, str) and code in VITAL_CODES:
                return "vital"
    return "other"


def _pairs(cc: Any) -> list[tuple[str, str]]:
    """(system, code) pairs of a CodeableConcept in order; system "" when absent."""
    out: list[tuple[str, str]] = []
    if isinstance(cc, dict):
        for coding in dicts(cc.get("coding")):
            code = coding.get("code")
            if isinstance(code, str):
                system = coding.get("system")
                out.append((system if isinstance(system, str) else "", code.strip()))
    return out


def _kind_and_meaning(m: Mapper, res: dict[str, Any]) -> tuple[str, str | None]:
    return kind_and_meaning(res, m.ctx.code_map)


def kind_and_meaning(
    res: dict[str, Any], code_map: dict[tuple[str, str], str]
) -> tuple[str, str | None]:
    """(kind, meaning) of an Observation: "vital" | "lab" | "other" and its meaning, if any
    (pure)."""
    kind = observation_kind(res)
    meaning = meaning_of(_pairs(res.get("code")), code_map)
    if kind == "other" and meaning is not None:
        # Coded outside LOINC's vital-sign list (SNOMED CT, a configured local code): the
        # meaning decides, so such a hospital's vitals are not filed as "other" labs.
        kind = "vital" if MEANINGS.get(meaning) else "lab"
    return kind, meaning


def map_observation(m: Mapper, res: dict[str, Any], group: str | None) -> list[Observation]:
    """One Observation -> model Observations: itself (when it has a value), each component
    with a value, and for a blood-pressure panel a combined "120/80" entry.

    Returns [] and counts "Observation: no value" when nothing has a value.
    """
    status = res.get("status") if isinstance(res.get("status"), str) else None
    if status in _SKIP_STATUS:
        return []
    code_cc = res.get("code")
    name = _name(code_cc)
    if not name:
        m.problem("Observation: no code")
        return []
    kind, meaning = _kind_and_meaning(m, res)
    code_map = m.ctx.code_map
    pairs = _pairs(code_cc)
    ranges: VitalRanges = m.ctx.vital_ranges or DEFAULT_RANGES
    period = res.get("effectivePeriod")
    effective = (
        m.dt(res.get("effectiveDateTime"))
        or m.dt(res.get("effectiveInstant"))
        or (m.dt(period.get("start")) if isinstance(period, dict) else None)
        or m.dt(res.get("issued"))
    )
    source = m.source(res)
    out: list[Observation] = []
    code, system = _code(code_cc)

    def make(
        el: dict[str, Any],
        el_name: str,
        el_code: str | None,
        el_system: str | None,
        el_group: str | None,
        el_meaning: str | None,
        el_flaggable: bool,
    ) -> Observation | None:
        has, value, text, unit = _value(el)
        if not has:
            return None
        low, high, ref_text = _reference_range(el)
        interp = interpretation_of(el.get("interpretation"))
        range_source = None
        if (
            interp is None
            and kind == "vital"
            and el_flaggable
            and low is None
            and high is None
            and not ref_text
        ):
            # The source gave neither flag nor range: flag against the configured adult ranges
            # and say so (range_source), instead of leaving an abnormal vital unflagged.
            interp = ranges.flag(el_meaning, value, unit)
            if interp is not None:
                used = ranges.ranges[el_meaning or ""]
                low, high, range_source = used.low, used.high, ranges.name
        if interp is None:
            interp = _from_range(value, low, high)
        # model_validate of a dict: the same validation as Observation(**fields) without
        # the keyword-argument packing (measurably cheaper at ~150k Observations per 1,000
        # patients).
        return Observation.model_validate(
            {
                "code": el_code, "system": el_system, "name": el_name, "kind": kind,
                "group": el_group, "value": value, "value_text": text, "unit": unit,
                "ref_low": low, "ref_high": high, "ref_text": ref_text, "meaning": el_meaning,
                "interpretation": interp, "effective": effective, "status": status,
                "source": source, "range_source": range_source,
            }
        )  # fmt: skip

    main = make(res, name, code, system, group, meaning, flaggable(pairs, code_map))
    if main is not None:
        out.append(main)
    components = list(dicts(res.get("component")))
    systolic = diastolic = None
    bp_unit = None
    bp_flag: Observation | None = None
    comp_group = name if components else group
    for comp in components:
        comp_cc = comp.get("code")
        comp_name = _name(comp_cc)
        if not comp_name:
            continue
        comp_code, comp_system = _code(comp_cc)
        comp_pairs = _pairs(comp_cc)
        comp_meaning = meaning_of(comp_pairs, code_map)
        obs = make(
            comp,
            comp_name,
            comp_code,
            comp_system,
            comp_group,
            comp_meaning,
            flaggable(comp_pairs, code_map),
        )
        if obs is None:
            continue
        # An interpretation on the panel applies to the panel, not to each component.
        if comp_meaning == "systolic" and obs.value is not None:
            systolic, bp_unit, bp_flag = obs.value, obs.unit, obs
        elif comp_meaning == "diastolic" and obs.value is not None:
            diastolic = obs.value
        out.append(obs)
    if systolic is not None and diastolic is not None and (meaning == "bp" or main is None):
        panel_flag = interpretation_of(res.get("interpretation"))
        out.insert(
            0,
            Observation(
                code=code,
                system=system,
                name=name,
                kind=kind,
                meaning=meaning,
                group=group,
                value_text=f"{fmt_number(systolic)}/{fmt_number(diastolic)}",
                unit=bp_unit,
                # The systolic flag stands for the panel when the panel has none (NEWS2
                # scores the systolic pressure only).
                interpretation=panel_flag
                or (bp_flag.interpretation if bp_flag else Interpretation.UNKNOWN),
                range_source=None if panel_flag or not bp_flag else bp_flag.range_source,
                effective=effective,
                status=status,
                source=source,
            ),
        )
    if not out:
        has_sampled = "valueSampledData" in res or any("valueSampledData" in c for c in components)
        m.problem("Observation: waveform not shown" if has_sampled else "Observation: no value")
    return out


def report_groups(reports: list[dict[str, Any]]) -> dict[str, str]:
    """Observation id -> name of the DiagnosticReport that lists it in `result`."""
    groups: dict[str, str] = {}
    for rep in reports:
        name = _name(rep.get("code"))
        if not name:
            continue
        for ref in dicts(rep.get("result")):
            # Results are in the patient's own compartment: the id is enough, no resolver call.
            rid = ref_id(ref)
            if rid:
                groups.setdefault(rid, name)
    return groups


_FLAG_RANK = {
    Interpretation.CRITICAL: 6, Interpretation.CRITICAL_HIGH: 6, Interpretation.CRITICAL_LOW: 6,
    Interpretation.HIGH: 4, Interpretation.LOW: 4, Interpretation.ABNORMAL: 3,
    Interpretation.NORMAL: 1, Interpretation.UNKNOWN: 0,
}  # fmt: skip


def _shown_value(obs: Observation) -> str:
    if obs.value_text:
        with_unit = obs.unit and obs.value is not None
        return f"{obs.value_text} {obs.unit}" if with_unit else obs.value_text
    number_text = fmt_number(obs.value) or ""
    return f"{number_text} {obs.unit}" if obs.unit else number_text


def merge_same_time(
    items: list[Observation], ranges: VitalRanges = DEFAULT_RANGES
) -> list[Observation]:
    """Observations of one test at one time from several resources become one row showing every
    value: two blood-pressure Observations with the panel code become "120/80" plus systolic
    and diastolic (as a proper panel); any other repeat becomes "a; b" (repeated values once).
    Identical repeats stay as they are (nothing is hidden). Order is kept (the merged row takes
    the place of the first)."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, obs in enumerate(items):
        if obs.effective is None or obs.source is None:
            continue
        key = (obs.kind, obs.system, obs.code or obs.name, obs.group, obs.effective)
        groups.setdefault(key, []).append(i)
    replace: dict[int, list[Observation]] = {}
    drop: set[int] = set()
    for indexes in groups.values():
        if len(indexes) < 2:
            continue
        same = [items[i] for i in indexes]
        sources = {(o.source.resource_type, o.source.id) for o in same if o.source}
        if len(sources) < 2:
            continue  # one resource's own rows (a panel and its parts) are not repeats
        shown = list(dict.fromkeys(_shown_value(o) for o in same))
        if len(shown) < 2:
            continue  # the same value sent twice (a merged patient's copy): nothing hidden
        first = same[0]
        others = [o.source for o in same[1:] if o.source is not None]
        values = [o.value for o in same]
        if (
            first.meaning == "bp"
            and len(same) == 2
            and all(v is not None for v in values)
            and not any(o.value_text for o in same)
        ):
            high, low = max(values), min(values)  # type: ignore[type-var]
            replace[indexes[0]] = _split_bp(first, high, low, others)  # type: ignore[arg-type]
        else:
            worst = max(same, key=lambda o: _FLAG_RANK.get(o.interpretation, 0))
            merged = first.model_copy(
                update={
                    "also_from": others,
                    "interpretation": worst.interpretation,
                    "range_source": worst.range_source,
                }
            )
            merged.value = None
            merged.value_text = "; ".join(shown)
            merged.unit = None
            replace[indexes[0]] = [merged]
        drop.update(indexes[1:])
    if not replace:
        return items
    out: list[Observation] = []
    for i, obs in enumerate(items):
        if i in drop:
            continue
        out.extend(replace.get(i, [obs]))
    return out


def _split_bp(
    first: Observation,
    systolic: float,
    diastolic: float,
    others: list[SourceRef],
) -> list[Observation]:
    """A BP sent as two Observations with the panel code: the higher value is the systolic.

    Not flagged against adult ranges: which vessel or chamber the values came from is unknown
    here (an invasive pressure may carry the generic BP code too)."""
    base = {"kind": first.kind, "group": first.name, "unit": first.unit,
            "effective": first.effective, "status": first.status, "source": first.source,
            "also_from": others}  # fmt: skip
    parts = []
    for meaning, loinc, label, value in (
        ("systolic", "8480-6", "Systolic blood pressure", systolic),
        ("diastolic", "8462-4", "Diastolic blood pressure", diastolic),
    ):
        parts.append(
            Observation.model_validate(
                {
                    **base,
                    "code": loinc,
                    "system": LOINC,
                    "name": label,
                    "meaning": meaning,
                    "value": value,
                    "interpretation": Interpretation.UNKNOWN,
                }
            )
        )
    panel = first.model_copy(
        update={
            "value": None,
            "value_text": f"{fmt_number(systolic)}/{fmt_number(diastolic)}",
            "also_from": others,
            "interpretation": Interpretation.UNKNOWN,
        }
    )
    return [panel, *parts]


_HOUR = timedelta(hours=1)


def window_start(now: datetime, window: timedelta) -> datetime:
    """Where a [history] window ending at `now` starts: `now - window` rounded down to the
    whole hour (UTC), so a patient's windowed record changes at most once an hour with the
    clock, not at every cycle (the start is stored in the record and shown). Pure."""
    start = (now - window).astimezone(UTC)
    return start.replace(minute=0, second=0, microsecond=0)


def window_changes_at(
    values: list[Observation], since: datetime, window: timedelta
) -> datetime | None:
    """The first instant at which the window (see `window_start`) leaves out one of `values`
    (newest first, as `apply_window` kept them) that it keeps now, or moves on when it has
    already cut something: None when it never will. Pure."""
    first: datetime | None = None
    seen: set[tuple[str | None, str | None, str]] = set()
    for obs in values:
        key = (obs.meaning, obs.code, obs.name)
        if key in seen and obs.effective is not None:
            # Left out once the start is past it: from the whole hour after it plus the window.
            start = obs.effective.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
            if first is None or start < first:
                first = start
        seen.add(key)
    return None if first is None else first + _HOUR + window


def apply_window(values: list[Observation], since: datetime) -> tuple[list[Observation], bool]:
    """The values (newest first) taken at or after `since`, plus the newest value of each kind
    (meaning, else code, else name) even when older: the last known potassium must not vanish
    because it is eight days old. Values without a time stay. Returns (kept, whether anything
    was left out). Pure."""
    kept: list[Observation] = []
    seen: set[tuple[str | None, str | None, str]] = set()
    cut = False
    for obs in values:
        key = (obs.meaning, obs.code, obs.name)
        if obs.effective is None or obs.effective >= since or key not in seen:
            kept.append(obs)
        else:
            cut = True
        seen.add(key)
    return kept, cut


def _raw_time(m: Mapper, res: dict[str, Any]) -> datetime | None:
    """The time map_observation gives `res` (same precedence), None when it has none."""
    period = res.get("effectivePeriod")
    return (
        m.dt(res.get("effectiveDateTime"))
        or m.dt(res.get("effectiveInstant"))
        or (m.dt(period.get("start")) if isinstance(period, dict) else None)
        or m.dt(res.get("issued"))
    )


def prefilter_window(
    m: Mapper, resources: list[dict[str, Any]], since: dict[str, datetime]
) -> tuple[list[dict[str, Any]], set[str]]:
    """Before mapping: drop raw Observations taken before `since[kind]` ("vital", "lab") that
    are not the newest of their code and category as sent. A superset of what `apply_window`
    keeps afterwards (values of one kind after mapping share code and category, so the newest
    of a kind is the newest of one of its raw groups, and a group has one kind), hence the same
    record, with far fewer values mapped. Anything without a readable time or code is kept for
    the mapping to judge. Returns the kept resources and the kinds of those left out, so the
    record still says that its window cut something. Pure apart from `m`'s date cache."""
    newest: dict[bytes, datetime] = {}
    group_kind: dict[bytes, str] = {}
    stamped: list[tuple[datetime, bytes] | None] = []
    for res in resources:
        try:
            when = _raw_time(m, res)
            key = orjson.dumps([res.get("code"), res.get("category")])
            if key not in group_kind:
                kind = "vital" if _kind_and_meaning(m, res)[0] == "vital" else "lab"
                group_kind[key] = kind
        except Exception:  # malformed: the mapping counts it
            when = None
        if when is None:
            stamped.append(None)
            continue
        stamped.append((when, key))
        if key not in newest or when > newest[key]:
            newest[key] = when
    kept: list[dict[str, Any]] = []
    cut: set[str] = set()
    for res, stamp in zip(resources, stamped, strict=True):
        # Values at the newest time of their group all stay: mapping joins same-time values.
        if stamp is None:
            kept.append(res)
            continue
        when, key = stamp
        kind = group_kind[key]
        if when >= since[kind] or when == newest[key]:
            kept.append(res)
        elif res.get("status") not in _SKIP_STATUS:
            cut.add(kind)
    return kept, cut


def utc_text(when: datetime) -> str | None:
    """A sortable UTC text of an aware datetime, to the microsecond: equal texts are equal
    instants, and text order is time order (None before the year 1000, where it would not
    sort). Pure."""
    utc = when.astimezone(UTC)
    return None if utc.year < 1000 else utc.strftime("%Y-%m-%dT%H:%M:%S.%f")


@dataclass(frozen=True, slots=True)
class WindowKeys:
    """What the resource store keeps of one patient Observation so that an increment reads
    only what `prefilter_window` can keep (sync.store, sync.incremental): the time
    `prefilter_window` reads (`utc_text`), its group (a hash of code and category as sent),
    whether that group is a vital sign, the time of `meta.lastUpdated` (the record's "last
    updated" is the newest of all its resources; None when it has none or none readable),
    and whether its status is one the mapping skips."""

    at: str
    group: bytes
    vital: bool
    updated: str | None
    skip: bool


def window_keys(
    res: dict[str, Any], tz: tzinfo, code_map: dict[tuple[str, str], str]
) -> WindowKeys | None:
    """The `WindowKeys` of a raw Observation as mapping with `tz` and `code_map` sees it, or
    None when the store must always read it: entered in error (the mapping drops it, but it
    then never counts as newest), a code status (mapped apart from the windows), no readable
    time, anything malformed. The same steps as `prefilter_window` and the record's "last
    updated", so a store read by these keys gives `prefilter_window` the same input as far as
    its output goes. Pure."""
    try:
        if is_entered_in_error(res) or is_code_status_observation(res):
            return None
        period = res.get("effectivePeriod")
        when = (
            parse_fhir_datetime(res.get("effectiveDateTime"), tz)
            or parse_fhir_datetime(res.get("effectiveInstant"), tz)
            or (parse_fhir_datetime(period.get("start"), tz) if isinstance(period, dict) else None)
            or parse_fhir_datetime(res.get("issued"), tz)
        )
        if when is None:
            return None
        at = utc_text(when)
        if at is None:
            return None
        key = orjson.dumps([res.get("code"), res.get("category")])
        vital = kind_and_meaning(res, code_map)[0] == "vital"
        skip = res.get("status") in _SKIP_STATUS
        updated = None
        meta = res.get("meta")
        if isinstance(meta, dict):
            value = meta.get("lastUpdated")
            if value and isinstance(value, str):
                parsed = parse_fhir_datetime(value, tz)
                if parsed is not None:
                    updated = utc_text(parsed)
                    if updated is None:
                        return None
    except Exception:  # malformed: read it, the mapping judges it
        return None
    group = hashlib.blake2b(key, digest_size=16).digest()
    return WindowKeys(at=at, group=group, vital=vital, updated=updated, skip=skip)

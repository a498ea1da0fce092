"""Helpers shared by the mapping modules: reading FHIR datatypes defensively.

Everything here is pure. FHIR JSON from real systems may have any field missing, of the wrong
type, or empty; these helpers return None / empty values instead of raising, so the per-resource
mappers can stay short.
"""

from __future__ import annotations

import contextlib
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from sync.fhirtime import parse_fhir_datetime
from sync.model import TRUNCATED_MARK, Coding, SourceRef

# Longest single text field kept (names, comments, conclusions, values); longer text is cut and
# ends in TRUNCATED_MARK, so nobody mistakes the cut text for the whole. Note bodies have their
# own, larger cap (sync.mapping.notes.MAX_NOTE_CHARS).
MAX_TEXT_CHARS = 20_000
# The smallest step of a datetime: "once the clock is past t" is "from t + _TICK".
_TICK = timedelta(microseconds=1)
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Short names of well-known code systems, for a coded-only name ("code SNOMED CT|123 (no text)").
_SYSTEM_NAMES = {
    "http://snomed.info/sct": "SNOMED CT",
    "http://loinc.org": "LOINC",
    "http://hl7.org/fhir/sid/icd-10": "ICD-10",
    "http://fhir.de/CodeSystem/bfarm/icd-10-gm": "ICD-10-GM",
    "http://fhir.de/CodeSystem/dimdi/icd-10-gm": "ICD-10-GM",
    "http://hl7.org/fhir/sid/icd-10-cm": "ICD-10-CM",
    "http://www.nlm.nih.gov/research/umls/rxnorm": "RxNorm",
}

Resolver = Callable[[dict[str, Any] | str, dict[str, Any] | None], dict[str, Any] | None]

_UUID_RE = re.compile(
    r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
)


class MappingError(ValueError):
    """The top-level Patient resource cannot be mapped at all (not a Patient, no id).

    Only `map_patient` raises it, and only for the Patient itself; the caller counts it and goes on
    with the next patient.
    """


def _no_resolve(reference: dict[str, Any] | str, from_resource: dict[str, Any] | None) -> None:
    """The default resolver: shared resources are unknown, so only display texts are used."""
    return None


@dataclass
class MappingContext:
    """What `map_patient` needs besides the patient's own resources.

    resolve: reference (a Reference dict or a reference string) plus the resource it appears in
        -> the shared resource (Location, Practitioner, PractitionerRole, Organization,
        Medication, RelatedPerson, Encounter), or None when unknown. It may raise; mapping
        treats that as "unknown" and counts it.
    tz: the hospital's time zone, for timestamps without offset and partial dates.
    now: an aware datetime; the 72 h administration window and "still active" are relative to it.
    problems: reason -> count of what could not be mapped (mapping adds to it; side effect).
    stopped_window: how long a stopped / completed order stays visible (default 72 h).
    code_map: local codes mapped to the meanings of sync.mapping.meanings.
    vital_ranges: a sync.mapping.meanings.VitalRanges, or None for the NEWS2 defaults.
    vitals_window, labs_window: the [history] windows (sync.mapping.observations.apply_window).
    changes_at: the earliest instant after `now` at which mapping the same resources would give
        another record or placement (an order leaving its window, a stay leaving the
        discharged-within window, ...), None when time alone never changes it. Every comparison
        with `now` reports its next flip through `changes_from` / `changes_after` (side effect);
        the caller resets it before each patient. The live source re-maps a patient only when
        it changed in the source or this instant has passed (sync.incremental).
    """

    resolve: Resolver = _no_resolve
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Berlin"))
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    problems: Counter[str] = field(default_factory=Counter)
    administration_window: timedelta = timedelta(hours=72)
    # Stopped / completed orders whose stop time is within this window are kept (apart).
    stopped_window: timedelta = timedelta(hours=72)
    # (system, code) -> meaning ("heart-rate", ...) for codes outside LOINC / SNOMED CT (sync
    # configuration [code_map]); see sync.mapping.meanings.
    code_map: dict[tuple[str, str], str] = field(default_factory=dict)
    # meaning -> adult range for flagging vital signs the source did not flag; None: NEWS2.
    vital_ranges: Any = None
    # [history] windows: vitals / labs older than now minus these are left out (the newest of
    # each kind stays); None keeps the whole stay.
    vitals_window: timedelta | None = None
    labs_window: timedelta | None = None
    changes_at: datetime | None = None

    def changes_from(self, when: datetime) -> None:
        """The output changes once the clock reaches `when` (ignored unless after `now`).
        Side effect: lowers `changes_at`."""
        try:
            later = when > self.now
        except TypeError:  # a naive time cannot come from the parsers; be safe anyway
            return
        if later and (self.changes_at is None or when < self.changes_at):
            self.changes_at = when

    def changes_after(self, when: datetime, delta: timedelta = timedelta(0)) -> None:
        """The output changes once the clock is past `when + delta` (a strict comparison:
        at that very instant it is still the same). Side effect: lowers `changes_at`."""
        with contextlib.suppress(OverflowError):  # beyond the year 9999: never
            self.changes_from(when + delta + _TICK)


class Mapper:
    """Per-patient state shared by the resource mappers: the context and a local index.

    The local index holds the patient's own compartment resources by "Type/id" and "urn:uuid:id",
    so that references between them (DiagnosticReport.result, reasonReference, request) resolve
    without the caller's resolver.
    """

    __slots__ = ("_dt_cache", "_index", "ctx", "tz")

    def __init__(self, ctx: MappingContext, resources: Iterable[dict[str, Any]]) -> None:
        self.ctx = ctx
        self.tz = ctx.tz
        index: dict[str, dict[str, Any]] = {}
        for res in resources:
            if not isinstance(res, dict):
                continue
            rid = res.get("id")
            rtype = res.get("resourceType")
            if isinstance(rid, str) and isinstance(rtype, str):
                index[f"{rtype}/{rid}"] = res
                index[f"urn:uuid:{rid}"] = res
        self._index = index
        self._dt_cache: dict[str, datetime | None] = {}

    def problem(self, reason: str) -> None:
        """Count one thing that could not be mapped (side effect on ctx.problems)."""
        self.ctx.problems[reason] += 1

    def dt(self, value: Any) -> datetime | None:
        """parse_fhir_datetime in the hospital zone, cached: one patient repeats timestamps."""
        if not isinstance(value, str):
            return None
        cache = self._dt_cache
        if value in cache:  # not try/except: most timestamps are unique, and raising is slow
            return cache[value]
        parsed = cache[value] = parse_fhir_datetime(value, self.tz)
        return parsed

    def source(self, res: dict[str, Any]) -> SourceRef:
        """Provenance of a resource (meta.lastUpdated parsed through the cache)."""
        meta = res.get("meta")
        rid = res.get("id")
        return SourceRef(
            resource_type=str(res.get("resourceType") or "?"),
            id=rid if isinstance(rid, str) else "",
            last_updated=self.dt(meta.get("lastUpdated")) if isinstance(meta, dict) else None,
        )

    def lookup(self, ref: Any, from_resource: dict[str, Any] | None) -> dict[str, Any] | None:
        """Resolve a Reference: contained "#id", the patient's own resources, then ctx.resolve."""
        if not ref:
            return None
        ref_str = ref.get("reference") if isinstance(ref, dict) else ref
        if isinstance(ref_str, str) and ref_str:
            if ref_str.startswith("#") and from_resource:
                for contained in from_resource.get("contained") or ():
                    if isinstance(contained, dict) and contained.get("id") == ref_str[1:]:
                        return contained
                return None
            local = self._index.get(ref_str)
            if local is None and "/" in ref_str and "?" not in ref_str:
                # Absolute URL or versioned reference: try the last "Type/id" pair.
                parts = ref_str.split("/_history/")[0].rstrip("/").split("/")
                if len(parts) >= 2:
                    local = self._index.get(f"{parts[-2]}/{parts[-1]}")
            if local is not None:
                return local
        elif not isinstance(ref, dict) or not ref.get("identifier"):
            return None  # display-only or malformed: nothing a resolver could find
        try:
            found = self.ctx.resolve(ref, from_resource)
        except Exception:  # the caller's resolver failing must not lose the patient
            self.problem("reference: resolver failed")
            return None
        return found if isinstance(found, dict) else None


def status_of(res: dict[str, Any], key: str = "status") -> str | None:
    """A code-valued element (status, use, severity) as str, None when missing or malformed.

    Always use this before a set or dict lookup: a list in a code field would raise TypeError.
    """
    value = res.get(key)
    return value if isinstance(value, str) else None


def obj(value: Any) -> dict[str, Any]:
    """A FHIR complex element as a dict ({} when missing or malformed)."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """A FHIR repeating element as a list (a lone object becomes a one-item list)."""
    if isinstance(value, list):
        return value
    if value is None:
        return []
    return [value]


def dicts(value: Any) -> list[dict[str, Any]]:
    """The dict items of a repeating element, silently dropping anything malformed."""
    if isinstance(value, list):
        for item in value:
            if not isinstance(item, dict):
                return [v for v in value if isinstance(v, dict)]
        return value  # the common case: no copy
    if isinstance(value, dict):
        return [value]
    return []


def text_of(value: Any) -> str | None:
    """A non-empty stripped string, or None; longer than MAX_TEXT_CHARS: cut, ending in
    TRUNCATED_MARK."""
    if isinstance(value, str):
        stripped = value.strip()
        if len(stripped) > MAX_TEXT_CHARS:
            return stripped[:MAX_TEXT_CHARS] + TRUNCATED_MARK
        return stripped or None
    return None


def is_truncated(text: str | None) -> bool:
    """True for a text that text_of cut."""
    return bool(text) and text.endswith(TRUNCATED_MARK)  # type: ignore[union-attr]


def truncated_fields(record: BaseModel, owner: str = "") -> list[tuple[str, str]]:
    """Every text field of a mapped record that mapping cut (ends in TRUNCATED_MARK), as
    ("Type/id", "field") pairs: the resource it came from (the nearest `source` in the model)
    and the field's path inside that fact ("note", "dosages.text"), for the build report.

    Pure. `owner` names the resource of the top level ("Patient/id" for a PatientRecord).
    """
    found: list[tuple[str, str]] = []

    def walk(model: BaseModel, owner: str, path: str) -> None:
        src = getattr(model, "source", None)
        if isinstance(src, SourceRef) and src.id:
            owner, path = f"{src.resource_type}/{src.id}", ""
        for name, value in model.__dict__.items():
            if name in ("source", "also_in", "also_from"):
                continue
            where = f"{path}.{name}" if path else name
            items = value if isinstance(value, list) else [value]
            for item in items:
                if isinstance(item, str):
                    if item.endswith(TRUNCATED_MARK):
                        found.append((owner, where))
                elif isinstance(item, BaseModel):
                    walk(item, owner, where)

    rid = getattr(record, "id", "")
    walk(record, owner or (f"Patient/{rid}" if isinstance(rid, str) and rid else "?"), "")
    return found


def calendar_date(value: Any) -> date | None:
    """The calendar date of a FHIR date/dateTime written without a time ("2019-04-02"), else
    None. Such a date is a day, not an instant: it must never shift with a time zone."""
    if isinstance(value, str) and _DATE_ONLY.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def is_entered_in_error(res: dict[str, Any]) -> bool:
    """True when any resource says it was entered in error (status, docStatus or
    verificationStatus): such a resource is never shown, for any type."""
    if res.get("status") == "entered-in-error" or res.get("docStatus") == "entered-in-error":
        return True
    verification = res.get("verificationStatus")
    if verification is None:
        return False
    return status_code(verification) == "entered-in-error"


def name_or_code(cc: Any) -> tuple[str | None, bool]:
    """(name, is_code) of a CodeableConcept: text, else a coding display (False); else a marked
    "code SYSTEM|CODE (no text)" (True), so a bare code never poses as a name; (None, False)
    when it has neither."""
    if not isinstance(cc, dict):
        return None, False
    text = text_of(cc.get("text"))
    if text:
        return text, False
    codes = dicts(cc.get("coding"))
    for coding in codes:
        display = text_of(coding.get("display"))
        if display:
            return display, False
    for coding in codes:
        code = text_of(coding.get("code"))
        if code:
            system = text_of(coding.get("system"))
            label = _SYSTEM_NAMES.get(system, system) if system else None
            return (f"code {label}|{code} (no text)" if label else f"code {code} (no text)"), True
    return None, False


def cc_text(cc: Any) -> str | None:
    """Human text of a CodeableConcept: text, else the first coding display, else a code."""
    if not isinstance(cc, dict):
        return None
    text = text_of(cc.get("text"))
    if text:
        return text
    codes = cc.get("coding")
    if isinstance(codes, list):
        for coding in codes:
            if isinstance(coding, dict):
                display = text_of(coding.get("display"))
                if display:
                    return display
        for coding in codes:
            if isinstance(coding, dict):
                code = text_of(coding.get("code"))
                if code:
                    return code
    return None


def codings(cc: Any) -> list[Coding]:
    """The codings of a CodeableConcept as model Codings (empty ones dropped)."""
    if not isinstance(cc, dict):
        return []
    out: list[Coding] = []
    for coding in dicts(cc.get("coding")):
        code = text_of(coding.get("code"))
        display = text_of(coding.get("display"))
        if code or display:
            system = coding.get("system")
            out.append(
                Coding(
                    system=system if isinstance(system, str) else None, code=code, display=display
                )
            )
    return out


def coding_codes(cc: Any) -> set[tuple[str, str]]:
    """(system, code) pairs of a CodeableConcept; system "" when absent."""
    pairs: set[tuple[str, str]] = set()
    if isinstance(cc, dict):
        for coding in dicts(cc.get("coding")):
            code = coding.get("code")
            if isinstance(code, str):
                system = coding.get("system")
                pairs.add((system if isinstance(system, str) else "", code))
    return pairs


def codes_of(cc: Any) -> set[str]:
    """Bare codes of a CodeableConcept (any system)."""
    found: set[str] = set()
    if isinstance(cc, dict):
        for coding in dicts(cc.get("coding")):
            code = coding.get("code")
            if isinstance(code, str):
                found.add(code)
    return found


def status_code(cc: Any) -> str | None:
    """The code of a status CodeableConcept (clinicalStatus, verificationStatus)."""
    if isinstance(cc, str):
        return cc
    if isinstance(cc, dict):
        for coding in dicts(cc.get("coding")):
            code = coding.get("code")
            if isinstance(code, str):
                return code
        return text_of(cc.get("text"))
    return None


def notes_text(res: dict[str, Any]) -> str | None:
    """All Annotation texts of `note`, one per line."""
    texts = [t for t in (text_of(n.get("text")) for n in dicts(res.get("note"))) if t]
    return "\n".join(texts) or None


def fmt_number(value: Any) -> str | None:
    """A quantity value as written: 500.0 -> "500", 0.25 -> "0.25"."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


def number(value: Any) -> float | None:
    """A JSON number as float (bools and non-finite values rejected)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    result = float(value)
    if result != result or result in (float("inf"), float("-inf")):
        return None
    return result


def quantity_unit(q: dict[str, Any]) -> str | None:
    return text_of(q.get("unit")) or text_of(q.get("code"))


def fmt_quantity(q: Any) -> str | None:
    """A Quantity as text, "500 mg", "<5 mmol/L"; None when it has no value."""
    if not isinstance(q, dict):
        return None
    num = fmt_number(q.get("value"))
    if num is None:
        return None
    comparator = q.get("comparator") if isinstance(q.get("comparator"), str) else ""
    unit = quantity_unit(q)
    if unit in ("1", "{count}"):
        unit = None
    return f"{comparator}{num} {unit}" if unit else f"{comparator}{num}"


def fmt_range(r: Any) -> str | None:
    """A Range as text, "1–2 tablets"."""
    if not isinstance(r, dict):
        return None
    low, high = r.get("low"), r.get("high")
    low_s = fmt_number(low.get("value")) if isinstance(low, dict) else None
    high_s = fmt_number(high.get("value")) if isinstance(high, dict) else None
    unit = None
    for q in (high, low):
        if isinstance(q, dict) and quantity_unit(q):
            unit = quantity_unit(q)
            break
    if unit in ("1", "{count}"):
        unit = None
    if low_s and high_s:
        core = f"{low_s}–{high_s}"
    elif low_s:
        core = f"≥{low_s}"
    elif high_s:
        core = f"≤{high_s}"
    else:
        return None
    return f"{core} {unit}" if unit else core


def fmt_ratio(r: Any) -> str | None:
    """A Ratio as text, "4 tablets / 1 d"."""
    if not isinstance(r, dict):
        return None
    num = fmt_quantity(r.get("numerator"))
    den = fmt_quantity(r.get("denominator"))
    if num and den:
        return f"{num} / {den}"
    return num


def human_name(name: dict[str, Any], *, family_first: bool) -> str | None:
    """Format a HumanName: "Family, Given Given" or "Prefix Given Family"."""
    given = [g.strip() for g in as_list(name.get("given")) if isinstance(g, str) and g.strip()]
    family = text_of(name.get("family"))
    if family_first:
        if family and given:
            return f"{family}, {' '.join(given)}"
        if family or given:
            return family or " ".join(given)
        return text_of(name.get("text"))
    text = text_of(name.get("text"))
    if text:
        return text
    prefix = [p.strip() for p in as_list(name.get("prefix")) if isinstance(p, str) and p.strip()]
    parts = [*prefix, *given, *([family] if family else [])]
    return " ".join(parts) if (given or family) else None


_NAME_USE_RANK = {"official": 0, "usual": 1, None: 2, "temp": 3, "nickname": 4, "anonymous": 5}


def best_name(names: Any) -> dict[str, Any] | None:
    """The HumanName to show: official first, then usual, then one without use; never old/maiden
    unless nothing else exists."""
    candidates = [n for n in dicts(names)]
    if not candidates:
        return None
    return min(candidates, key=lambda n: _NAME_USE_RANK.get(status_of(n, "use"), 9))


def display_name(res: dict[str, Any] | None) -> str | None:
    """A short human display for a resolved Practitioner, PractitionerRole, RelatedPerson,
    Patient, Organization, Location, Device or CareTeam."""
    if not isinstance(res, dict):
        return None
    rtype = res.get("resourceType")
    if rtype in ("Practitioner", "RelatedPerson", "Patient", "Person"):
        chosen = best_name(res.get("name"))
        return human_name(chosen, family_first=False) if chosen else None
    if rtype == "PractitionerRole":
        practitioner = res.get("practitioner")
        if isinstance(practitioner, dict):
            text = text_of(practitioner.get("display"))
            if text:
                return text
        for code in dicts(res.get("code")):
            text = cc_text(code)
            if text:
                return text
        return None
    name = text_of(res.get("name"))
    if name:
        return name
    if rtype == "Device":
        for dn in dicts(res.get("deviceName")):
            text = text_of(dn.get("name"))
            if text:
                return text
        return cc_text(res.get("type"))
    return None


def looks_opaque(value: str) -> bool:
    """True for ids that mean nothing to a person (UUIDs, long hex), which we do not display."""
    return bool(_UUID_RE.fullmatch(value)) or (
        len(value) >= 16 and value.isalnum() and not value.isalpha()
    )


def party_name(m: Mapper, ref: Any, from_resource: dict[str, Any] | None) -> str | None:
    """Who a Reference points at, for people and organisations: its display, else the resolved
    resource's name (a PractitionerRole is followed to its Practitioner)."""
    if not isinstance(ref, dict):
        return None
    text = text_of(ref.get("display"))
    if text:
        return text
    res = m.lookup(ref, from_resource)
    if res is None:
        return None
    if res.get("resourceType") == "PractitionerRole":
        practitioner = res.get("practitioner")
        if isinstance(practitioner, dict):
            name = text_of(practitioner.get("display")) or display_name(m.lookup(practitioner, res))
            if name:
                return name
    return display_name(res)


def ref_id(ref: Any) -> str | None:
    """The logical id a literal reference points at ("MedicationRequest/1" -> "1",
    "urn:uuid:abc" -> "abc"); None for conditional or missing references."""
    ref_str = ref.get("reference") if isinstance(ref, dict) else ref
    if not isinstance(ref_str, str) or not ref_str or "?" in ref_str:
        return None
    if ref_str.startswith("urn:uuid:"):
        return ref_str[9:] or None
    if ref_str.startswith("#"):
        return None
    return ref_str.split("/_history/")[0].rstrip("/").rsplit("/", 1)[-1] or None


def sort_ts(value: datetime | None) -> float:
    """A sort key for optional aware datetimes: None sorts as the oldest."""
    if value is None:
        return float("-inf")
    try:
        return value.timestamp()
    except (OverflowError, ValueError, OSError):
        return float("-inf")

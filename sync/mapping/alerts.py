"""Alerts: allergies and intolerances, code status (resuscitation orders), Flags."""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet
from datetime import datetime
from typing import Any

from sync.mapping._common import (
    Mapper,
    cc_text,
    codes_of,
    coding_codes,
    codings,
    dicts,
    notes_text,
    obj,
    sort_ts,
    status_code,
    status_of,
    text_of,
)
from sync.model import Allergy, CodeStatus, CodeStatusKind, Criticality, Flag

# --- allergies -------------------------------------------------------------------------------

# "No known allergy" assertions (SNOMED CT and the IPS absent/unknown code system). "No
# information" codes are NOT here: unknown is not the same as none.
NKA_CODES = frozenset(
    {
        "716186003",  # No known allergy
        "409137002",  # No known history of drug allergy
        "428607008",  # No known environmental allergy
        "429625007",  # No known food allergy
        "428197003",  # No known insect allergy
        "no-known-allergies",
        "no-known-medication-allergies",
        "no-known-environmental-allergies",
        "no-known-food-allergies",
        "no-known-biologic-allergies",
    }
)
_NKA_TEXT = re.compile(
    r"^\s*(nka|nkda|no known (drug |food |medication )?allerg(y|ies)|"
    r"keine (bekannten )?(arzneimittel)?allergien( bekannt)?)\s*\.?\s*$",
    re.IGNORECASE,
)
_CRITICALITY = {
    "high": Criticality.HIGH,
    "low": Criticality.LOW,
    "unable-to-assess": Criticality.UNABLE,
}
_SEVERITY_RANK = {"mild": 1, "moderate": 2, "severe": 3}
_SKIP_VERIFICATION = frozenset({"entered-in-error", "refuted"})
_SKIP_CLINICAL = frozenset({"inactive", "resolved"})


def is_nka(res: dict[str, Any]) -> bool:
    """True when an AllergyIntolerance asserts that there is no known allergy."""
    code = res.get("code")
    if codes_of(code) & NKA_CODES:
        return True
    text = cc_text(code)
    return bool(text and _NKA_TEXT.match(text))


def allergy_skipped(res: dict[str, Any]) -> bool:
    """Entered in error, refuted, inactive or resolved allergies are not shown."""
    return (
        status_code(res.get("verificationStatus")) in _SKIP_VERIFICATION
        or status_code(res.get("clinicalStatus")) in _SKIP_CLINICAL
    )


def map_allergy(m: Mapper, res: dict[str, Any]) -> Allergy | None:
    """One shown AllergyIntolerance -> Allergy; None (counted) when it names no substance."""
    code = res.get("code")
    substance = cc_text(code)
    reactions: list[str] = []
    worst = 0
    for reaction in dicts(res.get("reaction")):
        if not substance:
            substance = cc_text(reaction.get("substance"))
        for manifestation in dicts(reaction.get("manifestation")):
            text = cc_text(manifestation)
            if text and text not in reactions:
                reactions.append(text)
        worst = max(worst, _SEVERITY_RANK.get(status_of(reaction, "severity") or "", 0))
    if not substance:
        m.problem("AllergyIntolerance: no substance")
        return None
    crit = res.get("criticality")
    category = [c for c in res.get("category") or () if isinstance(c, str)]
    kind = res.get("type")
    return Allergy(
        substance=substance,
        coding=codings(code),
        category=category,
        kind=kind if isinstance(kind, str) else None,
        criticality=_CRITICALITY.get(crit, Criticality.UNKNOWN)
        if isinstance(crit, str)
        else Criticality.UNKNOWN,
        clinical_status=status_code(res.get("clinicalStatus")),
        verification_status=status_code(res.get("verificationStatus")),
        reactions=reactions,
        severity={1: "mild", 2: "moderate", 3: "severe"}.get(worst),
        recorded=m.dt(res.get("recordedDate")) or m.dt(res.get("onsetDateTime")),
        note=notes_text(res),
        source=m.source(res),
    )


# --- code status -----------------------------------------------------------------------------

LOINC_CODE_STATUS = frozenset({"100822-6"})
# SNOMED CT findings and LOINC answers that state the resuscitation decision.
_SNOMED_KIND = {
    "304253006": CodeStatusKind.DNR,  # Not for resuscitation
    "450476008": CodeStatusKind.DNR,  # Not for attempted cardiopulmonary resuscitation
    "304252001": CodeStatusKind.FULL,  # For resuscitation
}
_SNOMED_KIND_CODES = frozenset(_SNOMED_KIND)
_CODED_KIND = {
    **_SNOMED_KIND,
    "LA33471-6": CodeStatusKind.DNR,  # No CPR: Do Not Attempt Resuscitation
    "LA33470-8": CodeStatusKind.FULL,  # Yes CPR
}
_KIND_VALUES = frozenset(k.value for k in CodeStatusKind)
# Codes that make a Consent or Flag about advance directives / resuscitation.
_ADR_CODES = frozenset({"adr", "acd", "dnr", "59284-0", "75320-2", "advance-directive"})
# Consent.provision.code values meaning "resuscitation" / "intubation".
_CPR_CODES = frozenset({"89666000", "439569004"})
_INTUBATION_CODES = frozenset({"112798008", "52765003", "232674004"})

_COMFORT = re.compile(
    r"comfort (care|measures)|\bcmo\b|palliative (care )?only|nur palliativ|"
    r"palliative (therapie|versorgung) ausschlie|therapiezieländerung|komfort",
    re.IGNORECASE,
)
_DNR = re.compile(
    r"\bdnr\b|\bdnar\b|\bdnacpr\b|\bnfr\b|do not (attempt )?resuscitat|not for (attempted )?"
    r"(cardiopulmonary )?resuscitation|no (cpr|resuscitation)|\bno code\b|"
    r"keine? (reanimation|wiederbelebung|rea\b|cpr)|nicht reanimieren|"
    r"(reanimation|wiederbelebung|rea|cpr)\s*[:=]?\s*(nein|no)\b",
    re.IGNORECASE,
)
_DNI = re.compile(
    r"\bdni\b|do not intubate|not for intubation|no intubation|keine intubation|"
    r"nicht intubieren|(intubation)\s*[:=]?\s*(nein|no)\b",
    re.IGNORECASE,
)
_FULL = re.compile(
    r"full code|full resuscitation|\bfor (attempted )?(cardiopulmonary )?resuscitation|"
    r"attempt resuscitation|volle reanimation|"
    r"(reanimation|wiederbelebung|rea|cpr)\s*[:=]?\s*(ja|yes)\b",
    re.IGNORECASE,
)


def classify_code_status(
    text: str | None, codes: AbstractSet[str] = frozenset()
) -> CodeStatusKind | None:
    """Map documented text / codes to a CodeStatusKind; None when nothing recognisable.

    The text wins over generic codes: "Reanimation ja, keine Intubation" is coded "Yes CPR" but
    means DNI. English and German phrasings: DNR, DNI, "keine Reanimation", "Reanimation: nein",
    "full code", "comfort care", ...
    """
    if text:
        if _COMFORT.search(text):
            return CodeStatusKind.COMFORT
        dnr = bool(_DNR.search(text))
        dni = bool(_DNI.search(text))
        if dnr and dni:
            return CodeStatusKind.DNR_DNI
        if dnr:
            return CodeStatusKind.DNR
        if dni:
            return CodeStatusKind.DNI
        if _FULL.search(text):
            return CodeStatusKind.FULL
    for code in sorted(codes):
        if code in _CODED_KIND:
            return _CODED_KIND[code]
    return None


def _explicit_kind(cc: Any) -> CodeStatusKind | None:
    """A coding in a code-status code system whose code is a CodeStatusKind value."""
    for system, code in coding_codes(cc):
        if system.endswith("/code-status") and code in _KIND_VALUES:
            return CodeStatusKind(code)
    return None


def _value_text(res: dict[str, Any]) -> tuple[str | None, set[str]]:
    """The documented value of a code-status Observation as text and codes."""
    cc = res.get("valueCodeableConcept")
    if isinstance(cc, dict):
        return cc_text(cc), codes_of(cc)
    value = res.get("valueString")
    if isinstance(value, str):
        return value.strip() or None, set()
    return None, set()


def is_code_status_observation(res: dict[str, Any]) -> bool:
    code = res.get("code")
    codes = codes_of(code)
    # Runs for every Observation: test against prebuilt frozensets instead of building a set.
    return not (codes.isdisjoint(LOINC_CODE_STATUS) and codes.isdisjoint(_SNOMED_KIND_CODES))


def code_status_from_observation(m: Mapper, res: dict[str, Any]) -> CodeStatus | None:
    """A code-status Observation (LOINC 100822-6 or a SNOMED DNR finding as code)."""
    if res.get("status") in ("entered-in-error", "cancelled"):
        return None
    text, codes = _value_text(res)
    own_codes = codes_of(res.get("code")) & set(_SNOMED_KIND)
    if not text and own_codes:
        text = cc_text(res.get("code"))
        codes = own_codes
    if not text:
        m.problem("Observation: code status without value")
        return None
    kind = (
        _explicit_kind(res.get("valueCodeableConcept"))
        or classify_code_status(text, codes)
        or CodeStatusKind.OTHER
    )
    when = (
        m.dt(res.get("effectiveDateTime"))
        or m.dt(
            (res.get("effectivePeriod") or {}).get("start")
            if isinstance(res.get("effectivePeriod"), dict)
            else None
        )
        or m.dt(res.get("issued"))
    )
    return CodeStatus(kind=kind, text=text, recorded=when, source=m.source(res))


def _is_adr_consent(res: dict[str, Any]) -> bool:
    codes = codes_of(res.get("scope"))
    for cc in dicts(res.get("category")):
        codes |= codes_of(cc)
    return bool(codes & _ADR_CODES)


def _provision_texts(provision: Any, out: list[tuple[str, str | None, set[str]]]) -> None:
    """Collect (type, text, codes) of a Consent.provision tree."""
    if not isinstance(provision, dict):
        return
    ptype = provision.get("type")
    if not isinstance(ptype, str):
        ptype = "permit"
    for cc in [*dicts(provision.get("code")), *dicts(provision.get("action"))]:
        out.append((ptype, cc_text(cc), codes_of(cc)))
    for child in dicts(provision.get("provision")):
        _provision_texts(child, out)


def code_status_from_consent(m: Mapper, res: dict[str, Any]) -> CodeStatus | None:
    """An active advance-directive Consent (scope adr / category) -> CodeStatus."""
    if res.get("status") != "active" or not _is_adr_consent(res):
        return None
    parts: list[tuple[str, str | None, set[str]]] = []
    _provision_texts(res.get("provision"), parts)
    dnr = dni = full = False
    texts: list[str] = []
    for ptype, text, codes in parts:
        if text:
            texts.append(
                f"{text}: {'nein' if ptype == 'deny' else 'ja'}"
                if codes & (_CPR_CODES | _INTUBATION_CODES)
                else text
            )
        if codes & _CPR_CODES or (text and re.search(r"resusc|reanim|\bcpr\b", text, re.I)):
            if ptype == "deny":
                dnr = True
            else:
                full = True
        if codes & _INTUBATION_CODES or (text and re.search(r"intubat", text, re.I)):
            dni = dni or ptype == "deny"
    described = [
        t
        for t in (
            *texts,
            *(cc_text(cc) for cc in dicts(res.get("category"))),
            *(text_of(a.get("title")) for a in dicts(res.get("sourceAttachment"))),
        )
        if t
    ]
    text = "; ".join(dict.fromkeys(described)) or "Advance directive"
    if dnr and dni:
        kind = CodeStatusKind.DNR_DNI
    elif dnr:
        kind = CodeStatusKind.DNR
    elif dni:
        kind = CodeStatusKind.DNI
    elif full:
        kind = CodeStatusKind.FULL
    else:
        kind = classify_code_status(text) or CodeStatusKind.OTHER
    return CodeStatus(
        kind=kind, text=text, recorded=m.dt(res.get("dateTime")), source=m.source(res)
    )


# --- flags -----------------------------------------------------------------------------------

_ISOLATION = re.compile(
    r"isolat|isolier|\bmrsa\b|\bvre\b|\b[34]\s?mrgn\b|\besbl\b|c\.?\s?diff|clostridi|"
    r"contact precaution|droplet precaution|airborne precaution|kontaktisolation|"
    r"tröpfchen|aerogen|schutzisolierung|umkehrisolation|norovirus",
    re.IGNORECASE,
)
_ISOLATION_CODES = frozenset(
    {"isolation", "40174006", "1217008", "409524006", "409526008", "183919006"}
)


def flag_skipped(m: Mapper, res: dict[str, Any]) -> bool:
    """Inactive, entered in error, or ended before now."""
    if res.get("status") not in (None, "active"):
        return True
    period = res.get("period")
    if isinstance(period, dict):
        end = m.dt(period.get("end"))
        if end is not None:
            if end < m.ctx.now:
                return True
            m.ctx.changes_after(end)  # it has ended then
    return False


def flag_category(res: dict[str, Any], text: str) -> str | None:
    """ "isolation" when the flag is about isolation, else the flag-category code."""
    code = res.get("code")
    if codes_of(code) & _ISOLATION_CODES or _ISOLATION.search(text):
        return "isolation"
    for cc in dicts(res.get("category")):
        for _system, value in sorted(coding_codes(cc)):
            return value
        text_cat = cc_text(cc)
        if text_cat:
            return text_cat
    return None


def map_flag(m: Mapper, res: dict[str, Any]) -> Flag | None:
    text = cc_text(res.get("code"))
    if not text:
        m.problem("Flag: no code")
        return None
    period = obj(res.get("period"))
    return Flag(
        text=text,
        category=flag_category(res, text),
        coding=codings(res.get("code")),
        start=m.dt(period.get("start")),
        source=m.source(res),
    )


def code_status_from_flag(m: Mapper, res: dict[str, Any], flag: Flag) -> CodeStatus | None:
    """A Flag that states a resuscitation decision also gives the code status."""
    kind = classify_code_status(flag.text, codes_of(res.get("code")))
    if kind is None:
        is_adr = any(codes_of(cc) & {"advance-directive"} for cc in dicts(res.get("category")))
        if not is_adr:
            return None
        kind = CodeStatusKind.OTHER
    return CodeStatus(kind=kind, text=flag.text, recorded=flag.start, source=flag.source)


def newest_code_status(candidates: list[CodeStatus]) -> CodeStatus | None:
    """The newest documented code status wins; undated ones lose to dated ones."""
    best: CodeStatus | None = None
    best_key: float | None = None
    for candidate in candidates:
        key = _key(candidate.recorded)
        if best_key is None or key >= best_key:
            best, best_key = candidate, key
    return best


def _key(value: datetime | None) -> float:
    return sort_ts(value)

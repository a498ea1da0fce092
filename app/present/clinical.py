"""Clinical facts as the words a clinician reads: code status, allergies, status words, patient,
place, observations. The screen (app.ui) and every printout (app.printing) call these; neither
words a clinical value on its own.

Pure: record model in, text out; no I/O. Times are shown in the zone the caller passes (the
hospital's, see `app.present.zone`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Literal

from app.present.catalog import has_message, t
from app.present.formats import (
    DASH,
    clinical_number,
    datetime_text,
    fmt_age,
    fmt_age_between,
    fmt_partial_date,
    localize_numbers,
    period_end,
)
from app.present.units import unit_text, units_in_text
from sync.model import (
    Allergy,
    CodeStatusKind,
    Criticality,
    DatePrecision,
    Interpretation,
    Observation,
    Sex,
)

# --- code status ---------------------------------------------------------------------------

#: Any limitation of resuscitation is shown as an alarm (red), never as a quiet grey word.
LIMITING_CODE_STATUS = frozenset(
    {CodeStatusKind.DNR, CodeStatusKind.DNI, CodeStatusKind.DNR_DNI, CodeStatusKind.COMFORT}
)


@dataclass(frozen=True)
class CodeStatusText:
    label: str  # "DNR – keine Reanimation" (long) or "DNR" (short)
    documented: str | None  # the text as documented, when it says more than the label
    limiting: bool  # DNR/DNI/comfort: red on screen and paper
    unknown: bool  # nothing documented: say so, never "full code" by default


def code_status_label(kind: CodeStatusKind, lang: str, *, short: bool = False) -> str:
    """ "DNR – keine Reanimation" / "DNR - do not resuscitate"; `short`: "DNR" (census, badges)."""
    return t(f"cs.short.{kind.value}" if short else f"cs.{kind.value}", lang)


def code_status_text(
    kind: CodeStatusKind | None, documented: str | None, lang: str, *, short: bool = False
) -> CodeStatusText:
    """The code status in words; `documented` is kept when it says more than the label."""
    kind = kind or CodeStatusKind.UNKNOWN
    label = code_status_label(kind, lang, short=short)
    text = (documented or "").strip()
    keep = text and text.casefold() != label.casefold()
    return CodeStatusText(
        label=label,
        documented=text if keep else None,
        limiting=kind in LIMITING_CODE_STATUS,
        unknown=kind == CodeStatusKind.UNKNOWN,
    )


# --- FHIR codes as words -------------------------------------------------------------------

StatusKind = Literal["generic", "medication", "administration", "order", "problem", "allergy"]


def code_word(code: str | None, lang: str) -> str:
    """Allergy type/category/severity and request priority in words ("medication" ->
    "Medikament", "stat" -> "sofort"); an unknown code as written; None gives ""."""
    if not code:
        return ""
    key = f"code.{code.strip().lower()}"
    return t(key, lang) if has_message(key) else code


def status_word(code: str | None, lang: str, kind: StatusKind = "generic") -> str:
    """A FHIR status code in words: "on-hold" -> "pausiert", "not-done" -> "nicht gegeben".

    `kind` picks the meaning where one code means different things: an administration that is
    "completed" was "gegeben" (given). An unknown code is shown as written; None gives "–".
    """
    if not code or not code.strip():
        return DASH
    value = code.strip().lower()
    for key in (f"status.{_KIND_PREFIX.get(kind, '')}{value}", f"status.{value}"):
        if has_message(key):
            return t(key, lang)
    return code.strip()


_KIND_PREFIX = {"administration": "admin."}


def flag_category_word(category: str | None, lang: str) -> str:
    """A flag's category in words ("safety" -> "Sicherheit"); unknown as written; None -> ""."""
    if not category or not category.strip():
        return ""
    key = f"flagcat.{category.strip().lower()}"
    return t(key, lang) if has_message(key) else category.strip()


def criticality_word(criticality: Criticality, lang: str) -> str:
    """ "HOCH" / "HIGH", "niedrig" / "low", "nicht beurteilbar", "unbekannt"."""
    return t(f"crit.{criticality.value}", lang)


@dataclass(frozen=True)
class AllergyText:
    substance: str
    criticality: str  # "HOCH", "niedrig", ...
    reactions: str  # "Anaphylaxie, Urtikaria (schwer)" or "–"
    kind: str  # "Allergie, Medikament" or "–"
    status: str  # "" when confirmed/active; else "unbestätigt", "abgeheilt", ...
    high: bool  # high criticality: red on screen and paper
    severe: bool  # high criticality or a severe reaction


def allergy_text(allergy: Allergy, lang: str) -> AllergyText:
    """One allergy in words, the same on the chart and the printed block."""
    high = allergy.criticality == Criticality.HIGH
    reactions = ", ".join(allergy.reactions)
    if allergy.severity:
        severity = code_word(allergy.severity, lang)
        reactions = f"{reactions} ({severity})" if reactions else severity
    kinds = [allergy.kind or "", *allergy.category]
    kind = ", ".join(code_word(x, lang) for x in kinds if x)
    # Confirmed and active are the normal case; anything else changes how much to trust it.
    doubts = [
        status_word(value, lang, "allergy")
        for value in (allergy.verification_status, allergy.clinical_status)
        if value and value.strip().lower() not in ("confirmed", "active")
    ]
    return AllergyText(
        substance=allergy.substance,
        criticality=criticality_word(allergy.criticality, lang),
        reactions=reactions or DASH,
        kind=kind or DASH,
        status=", ".join(doubts),
        high=high,
        severe=high or (allergy.severity or "").strip().lower() == "severe",
    )


# --- patient and place ---------------------------------------------------------------------


def sex_word(sex: Sex, lang: str, *, short: bool = False) -> str:
    """ "weiblich" / "female"; `short`: "w" / "F" (census)."""
    return t(f"sex.short.{sex.value}" if short else f"sex.{sex.value}", lang)


def age_text(
    birth: date | None, today: date, lang: str, precision: DatePrecision = DatePrecision.DAY
) -> str:
    """ "84 J." / "84 y", infants in months, weeks, days; "?" when unknown. With only the
    birth year or month known (`precision`), the ages that period allows: "29–30 J."."""
    if birth is None:
        return "?"
    if precision is DatePrecision.DAY:
        return fmt_age(birth, today, lang)
    return fmt_age_between(birth, period_end(birth, precision.value), today, lang)


def birth_text(birth: date | None, lang: str, precision: DatePrecision = DatePrecision.DAY) -> str:
    """The birth date as far as the record knows it: "17.03.1941" / "17 Mar 1941", "07.1996" /
    "07/1996" (month known), "1996" (year known); "–" when unknown. Never 01.01. for a year."""
    if birth is None:
        return DASH
    return fmt_partial_date(birth, precision.value, lang)


def born_text(
    birth: date | None, today: date, lang: str, precision: DatePrecision = DatePrecision.DAY
) -> str:
    """ "geb. 17.03.1941 (85 J.)" / "born 17 Mar 1941 (85 y)"; "geb. 1996 (29–30 J.)" when
    only the year is known; "Geburtsdatum unbekannt"."""
    if birth is None:
        return t("patient.birth_unknown", lang)
    return t(
        "patient.born",
        lang,
        date=birth_text(birth, lang, precision),
        age=age_text(birth, today, lang, precision),
    )


def case_text(case_number: str | None, lang: str) -> str:
    """The hospital's case (visit) number as the census, the chart and every printout show it:
    "Fall 26000123" / "Case 26000123"; "" when the stay has none (never the FHIR resource id)."""
    return t("stay.case", lang, case=case_number) if case_number else ""


_PLACE_WORD = re.compile(
    r"^\s*(zimmer|raum|room|bett|bed|platz|stellplatz|zi|rm)\b\.?\s*[:#-]?\s*(?=\S)",
    re.IGNORECASE,
)


def short_place(text: str | None) -> str:
    """A room or bed without its label word: "Zimmer 301" -> "301", "Bett 1" -> "1"."""
    if not text:
        return ""
    return _PLACE_WORD.sub("", text).strip()


def room_bed_short(room: str | None, bed: str | None) -> str:
    """Compact "301/1" for census columns; "–" when neither is known."""
    parts = [short_place(room), short_place(bed)]
    return "/".join(p for p in parts if p) or DASH


def room_bed_text(room: str | None, bed: str | None, lang: str) -> str:
    """ "Zimmer 301 / Bett 1" / "Room 301 / bed 1", with "–" for a missing part."""
    return t(
        "place.room_bed",
        lang,
        room=short_place(room) or DASH,
        bed=short_place(bed) or DASH,
    )


# --- observations --------------------------------------------------------------------------

CRITICAL_INTERPRETATIONS = frozenset(
    {Interpretation.CRITICAL_HIGH, Interpretation.CRITICAL_LOW, Interpretation.CRITICAL}
)


def observation_value(obs: Observation, lang: str) -> str:
    """ "7,2 mmol/l" / "120/80 mmHg" / "positiv"; "–" when there is no value. The unit in print
    form (`app.present.units`: "10³/µL" for "10*3/uL", "°C" for "Cel"), also inside a value text
    the mapping joined ("120 mmHg; 125 mmHg")."""
    if obs.value_text:
        value = units_in_text(localize_numbers(obs.value_text, lang), lang)
    elif obs.value is not None:
        value = clinical_number(obs.value, lang)
    else:
        return DASH
    unit = unit_text(obs.unit, lang)
    return f"{value} {unit}" if unit else value


_NUMBER_IN_TEXT = re.compile(r"\d+(?:[.,](\d+))?")


def _bound(value: float | None, text: str | None, lang: str) -> str | None:
    """One limit of a range in `lang`'s decimal sign, with as many decimals as the lab's own
    text gives that number ("4,0 - 10,0": 4.0 -> "4.0", not "4"); None when there is none."""
    if value is None:
        return None
    for match in _NUMBER_IN_TEXT.finditer(text or ""):
        try:
            written = float(match.group(0).replace(",", "."))
        except ValueError:
            continue
        if written == value:
            return clinical_number(value, lang, len(match.group(1) or ""))
    return clinical_number(value, lang)


def reference_range(obs: Observation, lang: str) -> str:
    """ "3,5–5,1" / "≥ 60" / "≤ 5"; "" when none; "12–20 (NEWS2)" when the range is the
    configured vital-sign range, not the source's.

    A range with a numeric low or high is formatted from those numbers in the reader's
    language, like the value beside it: an English page shows "13.5–17.5" next to "15.3" even
    when the lab's text says "13,5 - 17,5", and a German page never "4.5" next to "4,5". The
    source's text is shown only when the range has no number (e.g. "negativ", "< 1:80"), as
    written (German decimal points as commas)."""
    low = _bound(obs.ref_low, obs.ref_text, lang)
    high = _bound(obs.ref_high, obs.ref_text, lang)
    if low and high:
        text = f"{low}–{high}"
    elif low:
        text = f"≥ {low}"
    elif high:
        text = f"≤ {high}"
    elif obs.ref_text:
        return localize_numbers(obs.ref_text, lang)
    else:
        return ""
    # A range the source did not send (adult vital-sign ranges, e.g. NEWS2) says whose it is.
    return f"{text} ({obs.range_source})" if obs.range_source else text


def interpretation_flag(obs: Observation) -> str:
    """ "H", "L", "HH!" (critical, with "!"); "" for normal or none: the column draws the eye
    only to abnormal values."""
    if obs.interpretation in (Interpretation.NORMAL, Interpretation.UNKNOWN):
        return ""
    value = obs.interpretation.value
    return f"{value}!" if obs.interpretation in CRITICAL_INTERPRETATIONS else value


__all__ = [
    "CRITICAL_INTERPRETATIONS",
    "LIMITING_CODE_STATUS",
    "AllergyText",
    "CodeStatusText",
    "age_text",
    "allergy_text",
    "born_text",
    "code_status_label",
    "code_status_text",
    "code_word",
    "criticality_word",
    "flag_category_word",
    "interpretation_flag",
    "observation_value",
    "reference_range",
    "room_bed_short",
    "room_bed_text",
    "sex_word",
    "short_place",
    "status_word",
]


def history_window_text(
    kind: Literal["vitals", "labs"], since: datetime | None, lang: str, tz: tzinfo | None
) -> str | None:
    """The sentence that says a history window left older values out of this copy (the
    record's `vitals_since` / `labs_since`), so nobody takes a short list for the whole stay;
    None when nothing was left out. Pure."""
    if since is None:
        return None
    return t(f"history.{kind}", lang, date=datetime_text(since, lang, tz))

"""Units as a clinician reads them: "10³/µL" for UCUM's "10*3/uL", "mmHg" for "mm[Hg]".

FHIR Quantities carry UCUM codes, and many EHRs put the code into `Quantity.unit` too, so a
chart would read "10*3/uL", "mm[Hg]", "Cel" or "%{HemoglobinSaturation}". `unit_text` shows
the same unit in the usual print form, from a small table and a few general rules, each of
which keeps the unit what it is (tests/test_units.py checks it on generated units):

- table (whole units): `Cel` °C, `[degF]` °F, `mm[Hg]` mmHg, `cm[H2O]` cmH₂O, `[iU]` and
  `[IU]` IU, `mL/min/{1.73_m2}` "mL/min/1,73 m²" (de) / "mL/min/1.73 m²" (en); print names
  an EHR sends as `unit`: `degree Celsius` °C, `millimeter Mercury column` mmHg, `percent` %
- power of ten: `10*3`, `10^9`, `10*-3` -> 10³, 10⁹, 10⁻³
- micro: `u` before a known unit only (g, mol, L, l, U, IU, eq, kat, m, s, V, Sv, Gy):
  `ug` µg, `umol` µmol, `uL` µL, `u[iU]` µIU; "mcg" or "u" before anything else stay
- arbitrary units inside a unit: `[iU]` IU (`m[iU]/L` mIU/L), `[arb'U]` arb. U
- area and volume of metres only: `m2` m², `cm3` cm³ (`kg/m2` kg/m²)
- UCUM's multiplication dot between two units: `mg.kg` mg·kg (never in "Tbl." or "1.5")
- an annotation after a unit is dropped (UCUM: it does not change the unit):
  `%{HemoglobinSaturation}` %, `mg{creat}/g` mg/g
- an annotation standing as a term of its own keeps its words, without braces:
  `{score}` score, `{beats}/min` beats/min

Anything else is shown as sent: an unknown unit is never guessed at ("mcg", "Tbl.", "IE",
"Hub" stay). The rules apply to a unit as a whole and to the unit tokens of texts the mapping
wrote ("500 ug", "1.5-2 [iU]"), never to free text a person wrote.

Pure: no I/O.
"""

from __future__ import annotations

import re

from app.present.catalog import normalize_language

_SUPERSCRIPT = str.maketrans("0123456789-+", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺")

# Whole units with a print form of their own (UCUM code, or a UCUM print name an EHR sends as
# `Quantity.unit`). Values are per language where a number is in them.
_TABLE: dict[str, dict[str, str] | str] = {
    "Cel": "°C",
    "[degF]": "°F",
    "mm[Hg]": "mmHg",
    "cm[H2O]": "cmH₂O",
    "[iU]": "IU",
    "[IU]": "IU",
    "mL/min/{1.73_m2}": {"de": "mL/min/1,73 m²", "en": "mL/min/1.73 m²"},
    "mL/min/1.73m2": {"de": "mL/min/1,73 m²", "en": "mL/min/1.73 m²"},
    "degree Celsius": "°C",
    "degree Fahrenheit": "°F",
    "millimeter Mercury column": "mmHg",
    "millimeter of mercury": "mmHg",
    "percent": "%",
}

# Units a "u" prefix can stand before as "micro" (UCUM's ASCII for µ). Only these: "u" before
# anything else is left alone ("umin" is not a unit anyone sends; "U" is the enzyme unit).
_MICRO_BASES = frozenset(
    {"g", "mol", "L", "l", "U", "[iU]", "[IU]", "IU", "eq", "Eq", "kat", "m", "s", "V", "Sv", "Gy"}
)
_ARBITRARY = {
    "[iU]": "IU", "[IU]": "IU", "[arb'U]": "arb. U", "mm[Hg]": "mmHg", "cm[H2O]": "cmH₂O"
}  # fmt: skip
_METRES = frozenset({"m", "cm", "mm", "dm", "km", "um"})

_POWER_OF_TEN = re.compile(r"^10[*^](-?\d{1,2})$")
_POWER = re.compile(r"^([a-zA-Z]+)([23])$")
# A unit as one string: atoms joined by "/" or "." (UCUM's multiplication), optional
# annotations; no spaces (a text with spaces is not a UCUM code).
_UNITISH = re.compile(r"[A-Za-z%*\[{]")
_TOKEN = re.compile(r"[/.]|(?:[^/.{}]|\{[^{}]*\})+|[{}]")


def _annotation_free(atom: str) -> tuple[str, str | None]:
    """(`atom` without a trailing annotation, the annotation's words) of "mg{creat}"."""
    match = re.fullmatch(r"([^{}]*)\{([^{}]*)\}", atom)
    if match is None:
        return atom, None
    return match.group(1), match.group(2)


def _atom(atom: str) -> str | None:
    """The print form of one atom ("ug" -> "µg", "10*3" -> "10³", "m2" -> "m²"), or None when
    no rule knows it (the caller then leaves the whole unit as sent)."""
    if not atom:
        return None
    power = _POWER_OF_TEN.match(atom)
    if power:
        return "10" + power.group(1).translate(_SUPERSCRIPT)
    if atom in _ARBITRARY:
        return _ARBITRARY[atom]
    if atom.startswith("u") and atom[1:] in _MICRO_BASES:
        rest = atom[1:]
        return "µ" + _ARBITRARY.get(rest, rest)
    if atom.startswith("m") and atom[1:] in _ARBITRARY:
        return "m" + _ARBITRARY[atom[1:]]
    squared = _POWER.match(atom)
    if squared and squared.group(1) in _METRES:
        base = squared.group(1)
        base = "µm" if base == "um" else base
        return base + squared.group(2).translate(_SUPERSCRIPT)
    return atom


def _is_plain_atom(atom: str) -> bool:
    """An atom the rules may leave as it is: letters, "%", digits of an exponent; nothing
    that could be the rest of an unknown notation (brackets, quotes, spaces)."""
    return re.fullmatch(r"[A-Za-z%]+[0-9]*|[0-9]+", atom) is not None


def unit_text(unit: str | None, lang: str) -> str:
    """Pure: `unit` as it is printed ("10*3/uL" -> "10³/µL", "mm[Hg]" -> "mmHg", "Cel" -> "°C",
    "%{HemoglobinSaturation}" -> "%", "[iU]/L" -> "IU/L"); an unknown unit as sent; None -> "".

    The rules are in the module docstring. A unit some part of which no rule knows is returned
    unchanged as a whole, so no unit is half-translated into another.
    """
    if unit is None:
        return ""
    text = unit.strip()
    if not text:
        return ""
    entry = _TABLE.get(text)
    if entry is not None:
        return entry if isinstance(entry, str) else entry[normalize_language(lang)]
    if " " in text:
        return text  # a print name or free text: as sent
    tokens = _TOKEN.findall(text)
    out: list[str] = []
    for i, token in enumerate(tokens):
        if token == "/":
            out.append(token)
            continue
        if token == ".":
            # UCUM's "." multiplies ("mg.kg"): shown as "·", not read as a decimal point. Only
            # between two unit atoms: "Tbl." or "1.5" are not multiplications.
            before = tokens[i - 1] if i else ""
            after = tokens[i + 1] if i + 1 < len(tokens) else ""
            if not (_UNITISH.search(before) and _UNITISH.search(after)):
                return text
            out.append("·")
            continue
        if token in "{}":
            return text  # an unbalanced brace: not a unit the rules can read
        atom, note = _annotation_free(token)
        if note is not None and not atom:
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9 _.\-]*", note):
                return text  # an annotation we would have to interpret: as sent
            out.append(note.replace("_", " "))  # "{score}" -> "score": the words stay
            continue
        if "{" in atom or "}" in atom:
            return text
        shown = _atom(atom)
        if shown is None or (shown == atom and not _is_plain_atom(atom)):
            return text
        out.append(shown)
    return "".join(out)


# A unit token inside a text the mapping wrote ("500 ug", "2–4 [iU]", "7.2 10*9/L"): after a
# number and a space, up to the next space or the end, ";" or ","; only tokens a rule changes.
_UNIT_IN_TEXT = re.compile(r"(?<=\d )([^\s;,()]+)")


def units_in_text(text: str | None, lang: str) -> str:
    """Pure: the unit after each number of a mapping-written text in print form ("500 ug" ->
    "500 µg", "120 mm[Hg]; 125 mm[Hg]" -> "120 mmHg; 125 mmHg"); words that are not units a
    rule knows stay as they are ("1 Tbl.", "2 Hübe"). None gives ""."""
    if not text:
        return ""
    return _UNIT_IN_TEXT.sub(lambda m: unit_text(m.group(1), lang), text)


__all__ = ["unit_text", "units_in_text"]

"""What an Observation measures, whatever the code system, and the adult vital-sign ranges.

PURE data and functions. A hospital that codes vitals in SNOMED CT, a local system or CIEL
(OpenMRS) must get the same Vitals section as one that uses LOINC: each code is reduced to a
*meaning* ("heart-rate", "spo2", ...). LOINC and SNOMED CT codes are known here; any other
system is mapped by the sync configuration's `[code_map]` (validated against `MEANINGS`).

Vital signs the source sent without interpretation and without reference range are flagged
against `VitalRanges` (defaults: the score-0 band of NEWS2, Royal College of Physicians 2017,
for adults; score-3 values are critical), and the Observation says which ranges were used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sync.model import Interpretation

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"

#: meaning -> is it a vital sign (True) or a key lab (False)
MEANINGS: dict[str, bool] = {
    "heart-rate": True,
    "resp-rate": True,
    "spo2": True,
    "temperature": True,
    "bp": True,
    "systolic": True,
    "diastolic": True,
    "mean-bp": True,
    "weight": True,
    "height": True,
    "bmi": True,
    "pain": True,
    "potassium": False,
    "sodium": False,
    "creatinine": False,
    "hemoglobin": False,
    "glucose": False,
    "lactate": False,
    "leukocytes": False,
    "platelets": False,
    "crp": False,
    "inr": False,
}

_LOINC: dict[str, str] = {
    "8867-4": "heart-rate", "8889-8": "heart-rate",
    "9279-1": "resp-rate",
    "59408-5": "spo2", "2708-6": "spo2", "20564-1": "spo2",
    "8310-5": "temperature", "8331-1": "temperature", "8332-9": "temperature",
    "8328-7": "temperature", "8333-7": "temperature", "8334-5": "temperature",
    "85354-9": "bp", "55284-4": "bp", "35094-2": "bp",
    "8480-6": "systolic", "8459-0": "systolic", "76534-7": "systolic",
    "8462-4": "diastolic", "8453-3": "diastolic", "76535-4": "diastolic",
    "8478-0": "mean-bp",
    "29463-7": "weight", "3141-9": "weight",
    "8302-2": "height", "8306-3": "height", "8308-9": "height",
    "39156-5": "bmi",
    "72514-3": "pain", "38208-5": "pain",
    "2823-3": "potassium", "6298-4": "potassium",
    "2951-2": "sodium", "2947-0": "sodium",
    "2160-0": "creatinine", "38483-4": "creatinine",
    "718-7": "hemoglobin", "30313-1": "hemoglobin",
    "2339-0": "glucose", "2345-7": "glucose", "15074-8": "glucose",
    "2524-7": "lactate", "32693-4": "lactate",
    "6690-2": "leukocytes", "26464-8": "leukocytes",
    "777-3": "platelets", "26515-7": "platelets",
    "1988-5": "crp",
    "6301-6": "inr", "34714-6": "inr",
}  # fmt: skip
_SNOMED: dict[str, str] = {
    "364075005": "heart-rate",  # Heart rate
    "78564009": "heart-rate",  # Pulse rate
    "86290005": "resp-rate",  # Respiratory rate
    "431314004": "spo2",  # Peripheral oxygen saturation
    "442476006": "spo2",  # Arterial oxygen saturation (like LOINC 2708-6)
    "386725007": "temperature",  # Body temperature
    "276885007": "temperature",  # Core body temperature
    "75367002": "bp",  # Blood pressure
    "271649006": "systolic",  # Systolic blood pressure
    "271650006": "diastolic",  # Diastolic blood pressure
    "6797001": "mean-bp",  # Mean blood pressure
    "27113001": "weight",  # Body weight
    "50373000": "height",  # Body height
    "60621009": "bmi",  # Body mass index
}
KNOWN: dict[tuple[str, str], str] = {
    **{(LOINC, code): meaning for code, meaning in _LOINC.items()},
    **{(SNOMED, code): meaning for code, meaning in _SNOMED.items()},
}


def meaning_of(
    codings: list[tuple[str, str]], code_map: Mapping[tuple[str, str], str]
) -> str | None:
    """The meaning of the first (system, code) pair known to the configured map (first, so a
    hospital can override) or to LOINC / SNOMED CT; None when none is known."""
    for pair in codings:
        found = code_map.get(pair)
        if found is not None:
            return found
    for pair in codings:
        found = KNOWN.get(pair)
        if found is not None:
            return found
    return None


def flaggable(codings: list[tuple[str, str]], code_map: Mapping[tuple[str, str], str]) -> bool:
    """True when every LOINC / SNOMED CT coding of an Observation is one we know (or one the
    hospital mapped). A more specific code beside a generic one (an intracardiac "left atrial
    pressure, systolic" that also carries the generic systolic code) keeps its meaning for
    grouping but is never flagged against adult ranges made for something else."""
    for pair in codings:
        if pair[0] in (LOINC, SNOMED) and pair not in KNOWN and pair not in code_map:
            return False
    return True


@dataclass(frozen=True, slots=True)
class VitalRange:
    """A normal adult range (inclusive) and the values from which a result is critical
    (value <= critical_low or >= critical_high). Units: /min, %, degrees Celsius, mmHg."""

    low: float | None = None
    high: float | None = None
    critical_low: float | None = None
    critical_high: float | None = None

    def flag(self, value: float) -> Interpretation:
        """N, L, H, LL or HH for `value`."""
        if self.critical_low is not None and value <= self.critical_low:
            return Interpretation.CRITICAL_LOW
        if self.critical_high is not None and value >= self.critical_high:
            return Interpretation.CRITICAL_HIGH
        if self.low is not None and value < self.low:
            return Interpretation.LOW
        if self.high is not None and value > self.high:
            return Interpretation.HIGH
        return Interpretation.NORMAL


#: NEWS2 (RCP 2017): score 0 is normal, score 3 critical. SpO2 is scale 1 (no hypercapnic
#: target); temperature has no score-3 high, so no critical high.
NEWS2_RANGES: dict[str, VitalRange] = {
    "resp-rate": VitalRange(low=12, high=20, critical_low=8, critical_high=25),
    "spo2": VitalRange(low=96, critical_low=91),
    "systolic": VitalRange(low=111, high=219, critical_low=90, critical_high=220),
    "heart-rate": VitalRange(low=51, high=90, critical_low=40, critical_high=131),
    "temperature": VitalRange(low=36.1, high=38.0, critical_low=35.0),
}
#: Units a range applies to (case-insensitive); a value in another unit is not flagged.
_PER_MIN = ("/min", "1/min", "per minute", "pro minute", "/minute")
RANGE_UNITS: dict[str, frozenset[str]] = {
    "resp-rate": frozenset({*_PER_MIN, "{breaths}/min", "breaths/min", "breaths per minute", ""}),
    "spo2": frozenset({"%", "percent", "prozent", ""}),
    "systolic": frozenset({"mm[hg]", "mmhg", "millimeter mercury column", ""}),
    "heart-rate": frozenset({*_PER_MIN, "{beats}/min", "beats/min", "beats per minute", "bpm", ""}),
    "temperature": frozenset({"cel", "°c", "degc", "c", "degree celsius", "grad celsius"}),
}


@dataclass(frozen=True)
class VitalRanges:
    """The ranges in use and their name (shown next to a flag that comes from them)."""

    name: str = "NEWS2"
    ranges: dict[str, VitalRange] = field(default_factory=lambda: dict(NEWS2_RANGES))

    def flag(
        self, meaning: str | None, value: float | None, unit: str | None
    ) -> Interpretation | None:
        """The flag for a vital sign, or None when no range applies (unknown meaning, no
        number, or a unit the range is not for)."""
        if meaning is None or value is None:
            return None
        rng = self.ranges.get(meaning)
        if rng is None:
            return None
        units = RANGE_UNITS.get(meaning)
        if units is not None and (unit or "").strip().lower() not in units:
            return None
        return rng.flag(value)


DEFAULT_RANGES = VitalRanges()

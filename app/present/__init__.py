"""The presentation layer: the one place that turns the record model into words and numbers.

The viewer (app.ui) and every printout (app.printing) read clinical facts through it; neither
formats a clinical value on its own, so the screen and the paper say the same thing.

- `catalog`  the one de/en message catalogue (`t`, `register`) and the user's language
- `words`    the clinical vocabulary shared by screen and paper (code status, status words, ...)
- `formats`  dates, times, numbers (no grouping in clinical values), ages, durations (babel)
- `clinical` code status, allergies, FHIR status codes, patient, room/bed, observations
- `dose`     dose, route and schedule text of a medication order
- `units`    units in print form ("10³/µL" for UCUM's "10*3/uL", "mmHg" for "mm[Hg]")
- `timing`   the schedule text ("alle 8 h: 06:00, 14:00, 22:00") in the reader's locale
- `due`      next-due text of chart and paper ("ÜBERFÄLLIG seit 08:00 · nächste 20:00"), due lists
- `zone`     the hospital's time zone (never the laptop's), its short name
- `snapshot` sentences about which snapshot is shown (the older-copy notice)
- `search`   the one text folding for every search path

Import the submodule you need (`from app.present.dose import medication_text`); this package
imports nothing itself, so that importing the catalogue stays cheap.
"""

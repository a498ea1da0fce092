"""Texts only the printed documents carry ("print."), and the messages of sending a document to the
operating system's printer ("print.os.")."""

from __future__ import annotations

from app.present.messages.base import Messages, same

MESSAGES: Messages = {
    # every page
    "print.downtime": {
        "de": "AUSFALLKOPIE – Datenstand {time}",
        "en": "DOWNTIME COPY - data as of {time}",
    },
    "print.printed": {
        "de": "Gedruckt von {user} am {time} · vertraulich: Patientendaten",
        "en": "Printed by {user} on {time} · confidential: patient data",
    },
    "print.page": {"de": "Seite {page} von {total}", "en": "Page {page} of {total}"},
    "print.mrn": {"de": "MRN {mrn}", "en": "MRN {mrn}"},
    "print.no_mrn": {"de": "keine MRN", "en": "no MRN"},
    "print.allergy_more": {"de": "+{count} weitere", "en": "+{count} more"},
    "print.case": same("stay.case"),
    "print.break_glass": {
        "de": "NOTFALLZUGANG (Break-Glass): {user}",
        "en": "EMERGENCY ACCESS (break-glass): {user}",
    },
    # document titles
    "print.title.mar": {
        "de": "Medikationsplan / Verabreichungsnachweis ({hours} h)",
        "en": "Medication administration record ({hours} h)",
    },
    "print.title.census": {"de": "Stationsliste", "en": "Ward census"},
    "print.census.allergy_ask": {"de": "nachfragen!", "en": "ask!"},
    # alerts
    "print.allergy_badge": {"de": "⚠ ALLERGIEN", "en": "⚠ ALLERGIES"},
    "print.allergies": {
        "de": "Allergien und Unverträglichkeiten",
        "en": "Allergies and intolerances",
    },
    "print.col.substance": {"de": "Substanz", "en": "Substance"},
    "print.col.criticality": {"de": "Kritikalität", "en": "Criticality"},
    "print.col.reactions": {"de": "Reaktionen", "en": "Reactions"},
    "print.col.type": {"de": "Art", "en": "Type"},
    # sections
    "print.stay": {"de": "Aufenthalt", "en": "Stay"},
    "print.attending": {"de": "Behandelnd", "en": "Attending"},
    "print.department": {"de": "Fachabteilung", "en": "Department"},
    "print.reason": {"de": "Aufnahmegrund", "en": "Reason"},
    "print.problems": {"de": "Diagnosen und Probleme", "en": "Problems and diagnoses"},
    "print.col.drug": same("col.drug"),
    "print.col.timing": {"de": "Zeiten", "en": "Timing"},
    "print.col.since": {"de": "Seit", "en": "Since"},
    "print.vitals": {"de": "Vitalzeichen (zuletzt)", "en": "Vital signs (latest)"},
    "print.labs": {"de": "Laborwerte", "en": "Lab results"},
    "print.labs_older": {
        "de": "{count} ältere Laborwerte (vor {date}) nicht gedruckt – im Viewer einsehbar.",
        "en": "{count} older results (before {date}) not printed - see them in the viewer.",
    },
    "print.col.requester": {"de": "Angefordert von", "en": "Requested by"},
    "print.col.test": {"de": "Parameter", "en": "Test"},
    "print.col.value": {"de": "Wert", "en": "Value"},
    "print.orders": {"de": "Offene Anordnungen", "en": "Pending orders"},
    "print.col.order": {"de": "Anordnung", "en": "Order"},
    "print.col.priority": {"de": "Priorität", "en": "Priority"},
    "print.col.due": {"de": "Geplant", "en": "Planned"},
    "print.notes": {"de": "Letzte Berichte (gekürzt)", "en": "Recent notes (abridged)"},
    "print.more_text": {"de": "[… gekürzt]", "en": "[… abridged]"},
    "print.contacts": {"de": "Kontakte und Angehörige", "en": "Contacts and next of kin"},
    "print.care_team": {"de": "Behandlungsteam", "en": "Care team"},
    "print.none": {"de": "keine", "en": "none"},
    # MAR
    "print.mar.scheduled": {"de": "Regelmedikation", "en": "Scheduled medications"},
    "print.mar.prn": {"de": "Bedarfsmedikation", "en": "As-needed (PRN) medications"},
    "print.mar.on_hold": {
        "de": "Pausierte Verordnungen – nicht geben",
        "en": "Orders on hold – do not give",
    },
    "print.mar.on_hold_hint": {
        "de": "Keine Kästchen: pausiert. Erst nach neuer ärztlicher Anordnung geben.",
        "en": "No boxes: on hold. Give only after a new prescriber's order.",
    },
    "print.mar.hint": {
        "de": "Je Gabe: Kästchen mit Handzeichen abzeichnen; nicht gegeben: Kürzel + Grund. "
        "„!“ = überfällig, im System nicht dokumentiert. „nicht gegeben (1)“ = im System als "
        "nicht gegeben dokumentiert, Grund unter der Tabelle. Grau „–“ = außerhalb des Zeitraums.",
        "en": "Initial each box when given; not given: code + reason. "
        '"!" = overdue, not documented in the system. "not given (1)" = documented as not '
        'given in the system, reason below the table. Grey "–" = outside the period.',
    },
    "print.mar.window": {"de": "Zeitraum {start} bis {end}", "en": "Period {start} to {end}"},
    "print.mar.times": {"de": "Geplante Zeiten (Handzeichen)", "en": "Scheduled times (initials)"},
    "print.mar.last": {"de": "Zuletzt gegeben", "en": "Last given"},
    "print.mar.no_times": {
        "de": "Zeiten nicht berechenbar – Anordnung lesen, Zeiten von Hand eintragen "
        "({count} Kästchen je 24 h)",
        "en": "Times cannot be computed - read the order, write times by hand "
        "({count} boxes per 24 h)",
    },
    "print.mar.hand_time": {"de": "Zeit ____:____", "en": "Time ____:____"},
    "print.mar.hand_dose": {"de": "Dosis _____ Hz ____", "en": "Dose _____ Init. ____"},
    "print.mar.hand_init": {"de": "Hz ____", "en": "Init. ____"},
    "print.mar.prn_boxes": {
        "de": "Je Gabe ein Kästchen: Zeit, Dosis, Handzeichen (Spalten je 24 h)",
        "en": "One box per dose: time, dose, initials (columns of 24 h)",
    },
    "print.mar.prn_max": {
        "de": "Höchstens {count} Gaben je 24 h: {count} Kästchen je 24 h",
        "en": "At most {count} doses per 24 h: {count} boxes per 24 h",
    },
    "print.mar.prn_no_max": {
        "de": "Keine Höchstmenge angeordnet: {count} Kästchen je 24 h",
        "en": "No maximum ordered: {count} boxes per 24 h",
    },
    "print.mar.prn_capped": {
        "de": "Höchstens {most} Gaben je 24 h; hier {count} Kästchen je 24 h, weitere Gaben "
        "auf einem Zusatzblatt",
        "en": "At most {most} doses per 24 h; {count} boxes per 24 h here, further doses on "
        "an extra sheet",
    },
    "print.mar.scale_no_times": {
        "de": "Insulin nach BZ ohne angeordnete Zeiten: je BZ-Kontrolle Zeit, BZ, IE und "
        "Handzeichen ({count} Kästchen je 24 h)",
        "en": "Insulin by glucose with no ordered times: per glucose check time, glucose, "
        "units and initials ({count} boxes per 24 h)",
    },
    "print.mar.value.glucose": {"de": "BZ ____ IE ____", "en": "glucose ____ units ____"},
    "print.mar.value.pulse_bp": {"de": "HF/RR ____", "en": "pulse/BP ____"},
    "print.mar.second_clock": {"de": "(2.)", "en": "(2nd)"},
    "print.mar.infusions": {
        "de": "Kontinuierliche Infusionen / Perfusoren",
        "en": "Continuous infusions",
    },
    "print.mar.inf_current": {
        "de": "Laufrate laut Anordnung: {rate}",
        "en": "Ordered rate: {rate}",
    },
    "print.mar.inf_time": {"de": "Datum, Zeit", "en": "Date, time"},
    "print.mar.inf_rate": {"de": "Neue Rate (ml/h)", "en": "New rate (ml/h)"},
    "print.mar.inf_change": {
        "de": "Spritze/Beutel gewechselt (Konz.)",
        "en": "Syringe/bag changed (conc.)",
    },
    "print.mar.note": {"de": "Hinweis", "en": "Note"},
    "print.mar.site": {"de": "Injektionsstelle:", "en": "Injection site:"},
    "print.mar.measures": {
        "de": "Gewicht: {weight} · Größe: {height}",
        "en": "Weight: {weight} · Height: {height}",
    },
    "print.mar.fresh": {
        "de": "Datenstand {time} ({age} vor dem Druck).",
        "en": "Data as of {time} ({age} before printing).",
    },
    "print.mar.stale": {
        "de": "ACHTUNG: Die Daten sind {age} alt (Datenstand {time}). Gaben danach kennt "
        "dieser Ausdruck nicht: die Kästchen beginnen am Datenstand; vor jeder Gabe klären, "
        "ob sie schon erfolgt ist. „!“ (überfällig) nur vor dem Datenstand.",
        "en": "WARNING: the data is {age} old (as of {time}). Doses given since are not known "
        "to this printout: boxes start at data-as-of; before each dose check whether it was "
        'already given. "!" (overdue) only before data-as-of.',
    },
    "print.mar.not_given_codes": {
        "de": "Nicht gegeben – Kürzel ins Kästchen + Grund: V = verweigert · P = pausiert/"
        "zurückgehalten · N = nüchtern · A = nicht verfügbar · S = sonstiges",
        "en": "Not given - code in the box + reason: R = refused · H = held · "
        "N = NPO (nil by mouth) · U = unavailable · O = other",
    },
    "print.mar.new_orders": {
        "de": "Neue Anordnungen (handschriftlich)",
        "en": "New orders (handwritten)",
    },
    "print.mar.frequency": {"de": "Häufigkeit/Zeiten", "en": "Frequency/times"},
    "print.mar.start": {"de": "Beginn (Datum, Zeit)", "en": "Start (date, time)"},
    "print.mar.prescriber_sign": {
        "de": "Arzt/Ärztin: Unterschrift",
        "en": "Prescriber signature",
    },
    "print.mar.signatures": {
        "de": "Handzeichen-Liste",
        "en": "Signature and initials legend",
    },
    "print.mar.sig_name": same("col.name"),
    "print.mar.sig_signature": {"de": "Unterschrift", "en": "Signature"},
    "print.mar.sig_initials": {"de": "Handzeichen", "en": "Initials"},
    "print.mar.sig_role": {"de": "Funktion", "en": "Role"},
    "print.mar.recent": {
        "de": "Verabreichungen (letzte {hours} h)",
        "en": "Administrations (last {hours} h)",
    },
    # census
    "print.census.count": {"de": "{count} Patienten anwesend", "en": "{count} patients present"},
    "print.census.gone": {
        "de": "{count} entlassen (gelistet, nicht gezählt)",
        "en": "{count} discharged (listed, not counted)",
    },
    "print.census.group": {"de": "{ward} ({count} anwesend)", "en": "{ward} ({count} present)"},
    "print.census.discharged": {"de": "ENTLASSEN {date}", "en": "DISCHARGED {date}"},
    "print.col.bed": same("col.bed"),
    "print.col.born": {"de": "Geb.", "en": "Born"},
    "print.col.diagnosis": same("col.diagnosis"),
    "print.col.code": {"de": "REA", "en": "Code"},
    "print.col.admitted": {"de": "Aufn.", "en": "Adm."},
    "print.os.printed": {
        "de": "An Drucker {printer} gesendet (Auftrag {job}).",
        "en": "Sent to printer {printer} (job {job}).",
    },
    "print.os.no_lp": {
        "de": "Drucken nicht möglich: Befehl 'lp' fehlt (CUPS nicht installiert).",
        "en": "Cannot print: the 'lp' command is missing (CUPS not installed).",
    },
    "print.os.no_printer": {
        "de": "Kein Drucker angegeben und kein Standarddrucker eingerichtet.",
        "en": "No printer given and no default printer is set up.",
    },
    "print.os.failed": {
        "de": "Drucken fehlgeschlagen ({printer}): {error}.",
        "en": "Printing failed ({printer}): {error}.",
    },
    "print.os.unsupported": {
        "de": "Drucken wird auf diesem System nicht unterstützt.",
        "en": "Printing is not supported on this system.",
    },
    "print.os.printers": {
        "de": "Vorhandene Drucker: {names}.",
        "en": "Printers on this computer: {names}.",
    },
    "print.os.no_printers": {
        "de": "Auf diesem Computer ist kein Drucker eingerichtet.",
        "en": "No printer is set up on this computer.",
    },
    "print.os.no_service": {
        "de": "Es läuft kein Druckdienst (CUPS).",
        "en": "No print service (CUPS) is running.",
    },
    "print.os.fallback": {
        "de": "Stattdessen als PDF speichern ({how}) und an einem anderen Gerät drucken.",
        "en": "Save as PDF instead ({how}) and print it from another device.",
    },
    "print.os.fallback_ui": {"de": "Knopf „Als PDF speichern“", "en": "button 'Save as PDF'"},
    "print.os.default": {"de": "Standarddrucker", "en": "default printer"},
}

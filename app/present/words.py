"""The clinical vocabulary shared by the screen and the paper, in German and English.

One entry per word: the chart, the census and every printout read the same text for the same
fact. FHIR codes (status, criticality, category, priority) never reach a user untranslated:
`app.present.clinical` maps each code to one of these entries and shows an unknown code as
written (it is still better than nothing). Screen- or paper-only texts (buttons, page furniture)
stay with their module (`app.ui.strings`, `app.printing.texts`).

Side effect on import: registers the entries with `app.present.catalog` (idempotent).
"""

from __future__ import annotations

from app.present.catalog import register

WORDS: dict[str, dict[str, str]] = {
    # -- code status: long (chart, printed box) and short (census, badges) ------------------
    "cs.heading": {"de": "Reanimationsstatus", "en": "Code status"},
    "cs.full": {"de": "Volle Reanimation", "en": "Full code"},
    "cs.dnr": {"de": "DNR – keine Reanimation", "en": "DNR - do not resuscitate"},
    "cs.dni": {"de": "DNI – keine Intubation", "en": "DNI - do not intubate"},
    "cs.dnr-dni": {
        "de": "DNR/DNI – keine Reanimation, keine Intubation",
        "en": "DNR/DNI - do not resuscitate, do not intubate",
    },
    "cs.comfort": {"de": "Nur palliative Maßnahmen", "en": "Comfort care only"},
    "cs.other": {"de": "Siehe Dokumentation", "en": "See documentation"},
    "cs.unknown": {"de": "REA-Status nicht dokumentiert", "en": "Code status not documented"},
    "cs.short.full": {"de": "REA: ja", "en": "Full code"},
    "cs.short.dnr": {"de": "DNR", "en": "DNR"},
    "cs.short.dni": {"de": "DNI", "en": "DNI"},
    "cs.short.dnr-dni": {"de": "DNR/DNI", "en": "DNR/DNI"},
    "cs.short.comfort": {"de": "Palliativ", "en": "Comfort"},
    "cs.short.other": {"de": "Siehe Text", "en": "See text"},
    "cs.short.unknown": {"de": "nicht dok.", "en": "not doc."},
    "cs.documented": {"de": "Dokumentiert", "en": "Documented"},
    # -- allergies ------------------------------------------------------------------------------
    "allergy.heading": {"de": "Allergien", "en": "Allergies"},
    "allergy.nka": {
        "de": "Keine bekannten Allergien (dokumentiert)",
        "en": "No known allergies (documented)",
    },
    "allergy.not_documented": {
        "de": "Keine Allergien dokumentiert – das heißt NICHT: keine Allergien. Nachfragen!",
        "en": "No allergies documented - this does NOT mean no allergies. Ask!",
    },
    "crit.high": {"de": "HOCH", "en": "HIGH"},
    "crit.low": {"de": "niedrig", "en": "low"},
    "crit.unable-to-assess": {"de": "nicht beurteilbar", "en": "unable to assess"},
    "crit.unknown": {"de": "unbekannt", "en": "unknown"},
    "crit.high_risk": {"de": "hohes Risiko", "en": "high risk"},
    # FHIR codes shown as words (AllergyIntolerance type/category/severity, request priority)
    "code.allergy": {"de": "Allergie", "en": "allergy"},
    "code.intolerance": {"de": "Unverträglichkeit", "en": "intolerance"},
    "code.food": {"de": "Nahrungsmittel", "en": "food"},
    "code.medication": {"de": "Medikament", "en": "medication"},
    "code.environment": {"de": "Umwelt", "en": "environment"},
    "code.biologic": {"de": "Biologikum", "en": "biologic"},
    "code.mild": {"de": "leicht", "en": "mild"},
    "code.moderate": {"de": "mittel", "en": "moderate"},
    "code.severe": {"de": "schwer", "en": "severe"},
    "code.routine": {"de": "Routine", "en": "routine"},
    "code.urgent": {"de": "dringend", "en": "urgent"},
    "code.asap": {"de": "baldmöglichst", "en": "asap"},
    "code.stat": {"de": "sofort", "en": "stat"},
    # Flag.category (FHIR flag-category) and the mapping's "isolation"
    "flagcat.isolation": {"de": "Isolation", "en": "isolation"},
    "flagcat.diet": {"de": "Ernährung", "en": "diet"},
    "flagcat.drug": {"de": "Medikation", "en": "drug"},
    "flagcat.lab": {"de": "Labor", "en": "lab"},
    "flagcat.admin": {"de": "Verwaltung", "en": "administrative"},
    "flagcat.behavioral": {"de": "Verhalten", "en": "behavioural"},
    "flagcat.research": {"de": "Studie", "en": "research"},
    "flagcat.advance-directive": {"de": "Patientenverfügung", "en": "advance directive"},
    "flagcat.safety": {"de": "Sicherheit", "en": "safety"},
    "flagcat.clinical": {"de": "klinisch", "en": "clinical"},
    "flagcat.contact": {"de": "Kontakt", "en": "contact"},
    # -- status words (FHIR status codes of every resource the record holds) ------------------
    "status.active": {"de": "aktiv", "en": "active"},
    "status.on-hold": {"de": "pausiert", "en": "on hold"},
    "status.cancelled": {"de": "storniert", "en": "cancelled"},
    "status.completed": {"de": "abgeschlossen", "en": "completed"},
    "status.entered-in-error": {"de": "irrtümlich erfasst", "en": "entered in error"},
    "status.stopped": {"de": "abgesetzt", "en": "stopped"},
    "status.draft": {"de": "Entwurf", "en": "draft"},
    "status.unknown": {"de": "unbekannt", "en": "unknown"},
    "status.revoked": {"de": "widerrufen", "en": "revoked"},
    "status.in-progress": {"de": "läuft", "en": "in progress"},
    "status.not-done": {"de": "nicht gegeben", "en": "not given"},
    "status.preparation": {"de": "in Vorbereitung", "en": "in preparation"},
    "status.intended": {"de": "geplant", "en": "intended"},
    "status.not-taken": {"de": "nicht eingenommen", "en": "not taken"},
    "status.inactive": {"de": "inaktiv", "en": "inactive"},
    "status.recurrence": {"de": "Rezidiv", "en": "recurrence"},
    "status.relapse": {"de": "Rückfall", "en": "relapse"},
    "status.remission": {"de": "in Remission", "en": "in remission"},
    "status.resolved": {"de": "abgeheilt", "en": "resolved"},
    "status.unconfirmed": {"de": "unbestätigt", "en": "unconfirmed"},
    "status.provisional": {"de": "vorläufig", "en": "provisional"},
    "status.differential": {"de": "Differentialdiagnose", "en": "differential"},
    "status.confirmed": {"de": "bestätigt", "en": "confirmed"},
    "status.refuted": {"de": "widerlegt", "en": "refuted"},
    "status.planned": {"de": "geplant", "en": "planned"},
    "status.arrived": {"de": "angekommen", "en": "arrived"},
    "status.triaged": {"de": "triagiert", "en": "triaged"},
    "status.onleave": {"de": "beurlaubt", "en": "on leave"},
    "status.finished": {"de": "entlassen", "en": "discharged"},
    "status.registered": {"de": "registriert", "en": "registered"},
    "status.preliminary": {"de": "vorläufig", "en": "preliminary"},
    "status.final": {"de": "endgültig", "en": "final"},
    "status.amended": {"de": "korrigiert", "en": "amended"},
    "status.corrected": {"de": "korrigiert", "en": "corrected"},
    # MedicationAdministration: "completed" means the dose was given
    "status.admin.completed": {"de": "gegeben", "en": "given"},
    # -- patient --------------------------------------------------------------------------------
    "sex.male": {"de": "männlich", "en": "male"},
    "sex.female": {"de": "weiblich", "en": "female"},
    "sex.other": {"de": "divers", "en": "other"},
    "sex.unknown": {"de": "Geschlecht unbekannt", "en": "sex unknown"},
    "sex.short.male": {"de": "m", "en": "M"},
    "sex.short.female": {"de": "w", "en": "F"},
    "sex.short.other": {"de": "d", "en": "X"},
    "sex.short.unknown": {"de": "?", "en": "?"},
    "patient.born": {"de": "geb. {date} ({age})", "en": "born {date} ({age})"},
    "patient.birth_unknown": {"de": "Geburtsdatum unbekannt", "en": "birth date unknown"},
    "patient.deceased": {"de": "VERSTORBEN", "en": "DECEASED"},
    "place.ward": {"de": "Station", "en": "Ward"},
    "place.room_bed": {"de": "Zimmer {room} / Bett {bed}", "en": "Room {room} / bed {bed}"},
    # -- medications ----------------------------------------------------------------------------
    "med.prn": {"de": "bei Bedarf", "en": "as needed"},
    "med.prn_short": {"de": "Bedarf", "en": "PRN"},
    "med.max": {"de": "Max.", "en": "Max"},
    "med.active": {"de": "Aktive Medikation", "en": "Active medications"},
    # the next-due column (app.present.due), on screen and on paper alike
    "med.overdue_since": {"de": "ÜBERFÄLLIG seit {when}", "en": "OVERDUE since {when}"},
    "med.next": {"de": "nächste {when}", "en": "next {when}"},
    # issue 9: what is current and what is not
    "med.on_hold": {"de": "Pausierte Verordnungen", "en": "Orders on hold"},
    "med.stopped": {"de": "Abgesetzt (letzte {hours} h)", "en": "Stopped (last {hours} h)"},
    "med.stopped_at": {"de": "abgesetzt {when}", "en": "stopped {when}"},
    "med.home": {"de": "Hausmedikation (nicht verordnet)", "en": "Home medication (not ordered)"},
    "med.last_given": {"de": "zuletzt gegeben {when} · {who}", "en": "last given {when} · {who}"},
    "med.not_given_because": {"de": "nicht gegeben: {reason}", "en": "not given: {reason}"},
    "note.superseded": {
        "de": "ersetzt durch neuere Fassung",
        "en": "superseded by a newer version",
    },
    "note.copies": {"de": "auch in {n} weiteren Dokumenten", "en": "also in {n} more documents"},
    "problem.no_text": {"de": "nur Code, kein Text", "en": "code only, no text"},
    "range.source": {"de": "{range} ({source})", "en": "{range} ({source})"},
    "stay.discharged": {"de": "entlassen {when}", "en": "discharged {when}"},
    "stay.finished": {"de": "Aufenthalt beendet", "en": "stay finished"},
    "stay.case": {"de": "Fall {case}", "en": "Case {case}"},  # the case (visit) number
    "census.on_ward": {
        "de": "{on_ward} auf Station, {discharged} entlassen (24 h)",
        "en": "{on_ward} on the ward, {discharged} discharged (24 h)",
    },
    "allergy.nka_short": {"de": "keine bekannt", "en": "none known"},
    "allergy.not_documented_short": {"de": "nicht dokumentiert", "en": "not documented"},
    # -- headings and column names used on screen and on paper ----------------------------------
    "col.name": {"de": "Name", "en": "Name"},
    "col.admitted": {"de": "Aufnahme", "en": "Admitted"},
    "col.dose": {"de": "Dosis", "en": "Dose"},
    "col.route": {"de": "Weg", "en": "Route"},
    "col.next": {"de": "Nächste Gabe", "en": "Next due"},
    "col.time": {"de": "Zeit", "en": "Time"},
    "col.status": {"de": "Status", "en": "Status"},
    "col.performer": {"de": "Durch", "en": "By"},
    "col.flag": {"de": "Flag", "en": "Flag"},
    "col.range": {"de": "Referenz", "en": "Reference"},
    "flags.heading": {"de": "Hinweise", "en": "Alerts"},
    "problem.main": {"de": "Hauptdiagnose", "en": "main diagnosis"},
    "doc.summary": {"de": "Patientenübersicht", "en": "Patient summary"},
}

register(WORDS)

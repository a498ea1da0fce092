"""Texts only the viewer shows ("ui." + area + name). Clinical words follow German ward usage
("REA", "Isolation", "überfällig"); English follows UK/US hospital usage ("DNR", "isolation",
"overdue"). A word the paper or the clinical vocabulary already has is not written again:
its entry is `same("that.key")`."""

from __future__ import annotations

from app.present.messages.base import Messages, same

MESSAGES: Messages = {
    # -- app, banner ---------------------------------------------------------------------------
    "ui.app.title": {"de": "Wardcopy – Ausfallkopie", "en": "Wardcopy – downtime copy"},
    "ui.banner.read_only": {
        "de": "Nur-Lese-Kopie · read-only copy",
        "en": "Read-only copy · Nur-Lese-Kopie",
    },
    "ui.banner.read_only_short": {"de": "Nur-Lese-Kopie", "en": "Read-only copy"},
    "ui.banner.break_glass_user": {
        "de": "NOTFALLZUGRIFF: {name}",
        "en": "BREAK-GLASS: {name}",
    },
    "ui.banner.as_of": {"de": "Datenstand {when} ({age})", "en": "Data as of {when} ({age})"},
    "ui.banner.zone_notice": {
        "de": "Zeiten in {zone} (Klinik)",
        "en": "times in {zone} (hospital)",
    },
    "ui.banner.as_of_unknown": {"de": "Datenstand unbekannt", "en": "Data as of: unknown"},
    "ui.banner.logout": {"de": "Abmelden", "en": "Log out"},
    "ui.banner.ward": same("place.ward"),
    "ui.banner.language": {"de": "English", "en": "Deutsch"},
    "ui.audit.failed": {
        "de": "Zugriffsprotokoll kann nicht geschrieben werden: {reason}. Bitte IT verständigen.",
        "en": "The access log cannot be written: {reason}. Call IT.",
    },
    # -- snapshot problems ---------------------------------------------------------------------
    "ui.problem.title": {
        "de": "Keine lesbare Ausfallkopie",
        "en": "No readable downtime copy",
    },
    "ui.problem.missing": {
        "de": "Auf diesem Laptop ist noch keine Ausfallkopie installiert.",
        "en": "No downtime copy is installed on this laptop yet.",
    },
    "ui.problem.missing_todo": {
        "de": "Bitte die IT (Rufbereitschaft) verständigen: `wardcopy receive` muss einmal "
        "erfolgreich laufen. Bis dahin die Papier-Ausfallunterlagen verwenden.",
        "en": "Call IT (on call): `wardcopy receive` must run successfully once. Until then use "
        "the paper downtime forms.",
    },
    "ui.problem.unreadable": {
        "de": "Die installierte Ausfallkopie lässt sich nicht öffnen.",
        "en": "The installed downtime copy cannot be opened.",
    },
    "ui.problem.unreadable_todo": {
        "de": "Einen anderen Laptop der Station verwenden und die IT verständigen "
        "(`wardcopy verify --installed` zeigt den Grund).",
        "en": "Use another laptop on the ward and call IT (`wardcopy verify --installed` shows "
        "the reason).",
    },
    "ui.problem.detail": {"de": "Grund: {reason}", "en": "Reason: {reason}"},
    "ui.problem.retry": {"de": "Erneut versuchen", "en": "Try again"},
    "ui.problem.fallback": {
        "de": "Achtung: Die neueste Kopie war nicht lesbar; angezeigt wird die letzte gute "
        "Kopie. Grund: {reason}",
        "en": "Warning: the newest copy could not be read; showing the last good copy. "
        "Reason: {reason}",
    },
    "ui.problem.expired_title": {
        "de": "Die Ausfallkopie ist abgelaufen",
        "en": "The downtime copy has expired",
    },
    "ui.problem.expired_todo": {
        "de": "Die Daten sind so alt, dass sie nur noch als Vorgeschichte taugen. Alles "
        "Wichtige am Patienten prüfen und die IT verständigen.",
        "en": "The data is so old that it is history only. Verify everything at the bedside "
        "and call IT.",
    },
    "ui.problem.continue": {
        "de": "Trotzdem öffnen (nur Vorgeschichte)",
        "en": "Open anyway (history only)",
    },
    "ui.loading": {"de": "Wird geladen …", "en": "Loading …"},
    # -- login ---------------------------------------------------------------------------------
    "ui.login.title": {"de": "Anmelden", "en": "Log in"},
    "ui.login.user": {"de": "Benutzerkennung", "en": "User id"},
    "ui.login.password": {"de": "Passwort", "en": "Password"},
    "ui.login.submit": same("ui.login.title"),
    "ui.login.break_glass_link": {
        "de": "Notfallzugriff (ohne eigenes Konto)",
        "en": "Break-glass access (no account)",
    },
    "ui.login.break_glass_title": {"de": "Notfallzugriff", "en": "Break-glass access"},
    "ui.login.break_glass_help": {
        "de": "Nur im Notfall. Name und Grund werden protokolliert und geprüft.",
        "en": "Emergencies only. Your name and reason are logged and reviewed.",
    },
    "ui.login.break_glass_submit": {
        "de": "Notfallzugriff öffnen",
        "en": "Open break-glass access",
    },
    "ui.login.back": {"de": "Zurück zur Anmeldung", "en": "Back to login"},
    "ui.login.name": {"de": "Ihr vollständiger Name", "en": "Your full name"},
    "ui.login.reason": {"de": "Grund des Zugriffs", "en": "Reason for access"},
    "ui.login.need_user": {
        "de": "Bitte die Benutzerkennung eingeben.",
        "en": "Enter your user id.",
    },
    "ui.login.need_password": {"de": "Bitte das Passwort eingeben.", "en": "Enter your password."},
    "ui.login.need_name": {"de": "Bitte Ihren Namen eingeben.", "en": "Enter your name."},
    "ui.login.need_reason": {
        "de": "Bitte den Grund angeben (mindestens 5 Zeichen).",
        "en": "Enter the reason (at least 5 characters).",
    },
    "ui.login.failed": {
        "de": "Benutzerkennung oder Passwort falsch.",
        "en": "Wrong user id or password.",
    },
    "ui.login.locked": {
        "de": "Zu viele Fehlversuche. Bitte in {minutes} min erneut versuchen.",
        "en": "Too many failed attempts. Try again in {minutes} min.",
    },
    "ui.login.no_ward": {
        "de": "Dieses Konto darf die Station {ward} nicht sehen.",
        "en": "This account may not see ward {ward}.",
    },
    "ui.login.no_roster": {
        "de": "Keine Benutzerliste installiert; Anmeldung nur per Notfallzugriff möglich.",
        "en": "No staff roster installed; only break-glass access is possible.",
    },
    "ui.login.error": {"de": "Anmeldung nicht möglich: {reason}", "en": "Cannot log in: {reason}"},
    "ui.lock.title": {"de": "Bildschirm gesperrt", "en": "Screen locked"},
    "ui.lock.help": {
        "de": "Nach {minutes} min ohne Eingabe gesperrt. Zum Fortfahren erneut anmelden.",
        "en": "Locked after {minutes} min without input. Log in again to continue.",
    },
    # -- census --------------------------------------------------------------------------------
    "ui.census.title": {"de": "Belegung", "en": "Census"},
    "ui.census.search": {
        # Short enough to show whole in the search box at 1024 px, in either scope.
        "de": "Name, Geb.-Datum, Nr., Zimmer",
        "en": "Name, DOB, MRN, case, room",
    },
    "ui.census.search_label": {"de": "Suche (Strg+F)", "en": "Search (Ctrl+F)"},
    "ui.census.scope_ward": {"de": "Diese Station", "en": "This ward"},
    "ui.census.scope_hospital": {"de": "Ganzes Haus", "en": "Whole hospital"},
    "ui.census.hospital_hint": {
        "de": "Suche im ganzen Haus: Name oder Nummer eingeben.",
        "en": "Hospital-wide search: type a name or number.",
    },
    "ui.census.count": {"de": "{shown} von {total} Patienten", "en": "{shown} of {total} patients"},
    "ui.census.hits": {"de": "{shown} Treffer im Haus", "en": "{shown} found in the hospital"},
    "ui.census.none": {"de": "Keine Patienten gefunden.", "en": "No patients found."},
    "ui.census.more": {
        "de": "{more} weitere nicht angezeigt: zum Eingrenzen weitertippen, oder",
        "en": "{more} more not shown: type to narrow the list, or",
    },
    "ui.census.show_more": {"de": "{n} weitere zeigen", "en": "Show {n} more"},
    "ui.census.search_hospital": {
        "de": "Im ganzen Haus suchen (Enter)",
        "en": "Search the whole hospital (Enter)",
    },
    "ui.census.searching": {"de": "Suche …", "en": "Searching …"},
    "ui.census.days": {"de": "(Tag {days})", "en": "(day {days})"},
    "ui.census.allergies_n": {"de": "{n} Allergien", "en": "{n} allergies"},
    "ui.status.title": {"de": "Status dieses Laptops", "en": "Status of this laptop"},
    "ui.status.no_patients": {
        "de": "Die Rolle IT-Administration sieht keine Patientendaten, nur Status und "
        "Einstellungen.",
        "en": "The IT admin role sees no patient data: only status and settings.",
    },
    "ui.status.ward": same("place.ward"),
    "ui.status.data_as_of": {"de": "Datenstand", "en": "Data as of"},
    "ui.status.wards": {"de": "Installierte Stationen", "en": "Installed wards"},
    "ui.status.time_zone": {"de": "Zeitzone", "en": "Time zone"},
    "ui.status.idle": {"de": "Sperre nach", "en": "Lock after"},
    "ui.status.minutes": {"de": "{n} min ohne Eingabe", "en": "{n} min without input"},
    "ui.status.printer": {"de": "Drucker", "en": "Printer"},
    "ui.status.mar_hours": {"de": "Medikationsplan-Zeitraum", "en": "MAR period"},
    "ui.status.hours": {
        "de": "{n} h (Standard beim Drucken)",
        "en": "{n} h (default when printing)",
    },
    "ui.status.notice": {"de": "Hinweis", "en": "Notice"},
    "ui.census.col.bed": {"de": "Zi./Bett", "en": "Room/bed"},
    "ui.census.col.name": same("col.name"),
    "ui.census.col.age": {"de": "Alter", "en": "Age"},
    "ui.census.col.admitted": same("col.admitted"),
    "ui.census.col.attending": {"de": "Arzt", "en": "Attending"},
    "ui.census.col.diagnosis_short": same("col.diagnosis"),
    "ui.census.col.diagnosis": {"de": "Hauptdiagnose", "en": "Main diagnosis"},
    "ui.census.col.allergy": same("allergy.heading"),
    "ui.census.col.code": {"de": "REA-Status", "en": "Code status"},
    "ui.census.col.flags": {"de": "Hinweise", "en": "Flags"},
    "ui.census.col.due": {"de": "Medikation fällig", "en": "Meds due"},
    "ui.census.print_due": {"de": "Liste drucken", "en": "Print list"},
    "ui.census.print": {"de": "Belegung drucken", "en": "Print census"},
    "ui.census.keys": {
        "de": "Pfeiltasten: Patient wählen · Enter: öffnen · Esc: Suche leeren · "
        "Spaltenkopf: sortieren · Strg+M: fällige Medikamente",
        "en": "Arrow keys: choose a patient · Enter: open · Esc: clear search · "
        "column header: sort · Ctrl+M: medications due",
    },
    "ui.census.day": {"de": "Tag {days}", "en": "day {days}"},
    "ui.census.open": {"de": "Öffnen: {name}", "en": "Open: {name}"},
    # -- code status, allergies ----------------------------------------------------------------
    "ui.allergy.label": same("allergy.heading"),
    "ui.allergy.severe": same("code.severe"),
    "ui.allergy.high_risk": same("crit.high_risk"),
    "ui.allergy.intolerance": same("code.intolerance"),
    "ui.allergy.nka": {"de": "Keine bekannten Allergien", "en": "No known allergies"},
    "ui.allergy.not_documented": {
        "de": "Allergien nicht dokumentiert",
        "en": "Allergies not documented",
    },
    "ui.flag.isolation": {"de": "Isolation", "en": "Isolation"},
    "ui.flag.deceased": {"de": "verstorben", "en": "deceased"},
    # -- chart ---------------------------------------------------------------------------------
    "ui.chart.back": {"de": "Zurück zur Belegung (Esc)", "en": "Back to census (Esc)"},
    "ui.chart.born": {"de": "geb.", "en": "born"},
    "ui.chart.mrn": {"de": "Pat.-Nr.", "en": "MRN"},
    "ui.chart.admitted": same("col.admitted"),
    "ui.chart.print": {"de": "Drucken", "en": "Print"},
    "ui.chart.none": {"de": "Nichts dokumentiert.", "en": "None recorded."},
    "ui.section.summary": {"de": "Übersicht", "en": "Summary"},
    "ui.section.meds": {"de": "Medikamente", "en": "Medications"},
    "ui.section.vitals": {"de": "Vitalwerte", "en": "Vital signs"},
    "ui.section.labs": {"de": "Labor", "en": "Labs"},
    "ui.section.notes": {"de": "Berichte", "en": "Notes"},
    "ui.section.orders": {"de": "Anordnungen", "en": "Orders"},
    "ui.section.procedures": {"de": "Eingriffe", "en": "Procedures"},
    "ui.section.immunizations": {"de": "Impfungen", "en": "Immunizations"},
    "ui.section.contacts": {"de": "Kontakte", "en": "Contacts"},
    "ui.summary.problems": {"de": "Diagnosen / Probleme", "en": "Problems"},
    "ui.summary.alerts": same("flags.heading"),
    "ui.summary.meds": same("med.active"),
    "ui.summary.vitals": {"de": "Letzte Vitalwerte", "en": "Latest vital signs"},
    "ui.summary.labs": {
        "de": "Auffällige Laborwerte (3 Tage)",
        "en": "Abnormal labs (3 days)",
    },
    "ui.summary.devices": {"de": "Geräte / Zugänge", "en": "Devices / lines"},
    "ui.problems.main": same("problem.main"),
    "ui.meds.active": {"de": "Aktive Verordnungen", "en": "Active orders"},
    "ui.meds.given": {"de": "Gegeben (letzte {hours} h)", "en": "Given (last {hours} h)"},
    "ui.meds.col.drug": {"de": "Medikament", "en": "Drug"},
    "ui.meds.col.dose": same("col.dose"),
    "ui.meds.col.route": same("col.route"),
    "ui.meds.col.schedule": {"de": "Schema", "en": "Schedule"},
    "ui.meds.col.due": same("col.next"),
    "ui.meds.col.when": same("col.time"),
    "ui.meds.col.status": same("col.status"),
    "ui.meds.col.by": same("col.performer"),
    "ui.vitals.trend": {"de": "Verlauf", "en": "Trend"},
    "ui.obs.col.test": {"de": "Wert", "en": "Test"},
    "ui.obs.col.result": {"de": "Ergebnis", "en": "Result"},
    "ui.obs.col.flag": same("col.flag"),
    "ui.obs.col.ref": same("col.range"),
    "ui.obs.col.when": same("col.time"),
    "ui.obs.history": {"de": "Verlauf: {name}", "en": "History: {name}"},
    "ui.labs.other_group": {"de": "Sonstige", "en": "Other"},
    "ui.notes.open": {"de": "Lesen", "en": "Read"},
    "ui.close": {"de": "Schließen", "en": "Close"},
    "ui.cancel": {"de": "Abbrechen", "en": "Cancel"},
    # -- settings (admin) ----------------------------------------------------------------------
    "ui.settings.title": {"de": "Einstellungen dieses Laptops", "en": "Settings of this laptop"},
    "ui.settings.open": {"de": "Einstellungen", "en": "Settings"},
    "ui.settings.language": {"de": "Sprache", "en": "Language"},
    "ui.settings.language_auto": {"de": "wie das System", "en": "as the system"},
    "ui.settings.time_zone": same("ui.status.time_zone"),
    "ui.settings.time_zone_hint": {
        "de": "z. B. Europe/Berlin; leer = Zeitzone des Krankenhauses (aus der Kopie)",
        "en": "e.g. Europe/Berlin; empty = the hospital's zone (from the copy)",
    },
    "ui.settings.idle": {"de": "Sperre nach Minuten ohne Eingabe", "en": "Lock after idle minutes"},
    "ui.settings.printer": {"de": "Standarddrucker", "en": "Default printer"},
    "ui.settings.printer_os": {"de": "Standard des Systems", "en": "system default"},
    "ui.settings.mar_hours": {
        "de": "Medikationsplan: Zeitraum beim Drucken",
        "en": "MAR: period when printing",
    },
    "ui.settings.hours": {"de": "{n} Stunden", "en": "{n} hours"},
    "ui.settings.break_glass": same("ui.login.break_glass_title"),
    "ui.settings.bg_roster": {"de": "wie Benutzerliste", "en": "as the roster says"},
    "ui.settings.bg_off": {"de": "auf diesem Laptop aus", "en": "off on this laptop"},
    "ui.settings.bg_on": {"de": "an (nur ohne Benutzerliste)", "en": "on (only without roster)"},
    "ui.settings.save": {"de": "Speichern", "en": "Save"},
    "ui.settings.saved": {"de": "Gespeichert.", "en": "Saved."},
    "ui.settings.invalid": {"de": "Nicht gespeichert: {reason}", "en": "Not saved: {reason}"},
    # -- print ---------------------------------------------------------------------------------
    "ui.print.title": same("ui.chart.print"),
    "ui.print.document": {"de": "Dokument", "en": "Document"},
    "ui.print.summary": same("doc.summary"),
    "ui.print.mar24": {"de": "Medikationsplan 24 h", "en": "MAR 24 h"},
    "ui.print.mar72": {"de": "Medikationsplan 72 h", "en": "MAR 72 h"},
    "ui.print.default": {"de": "{label} (Standard)", "en": "{label} (default)"},
    "ui.print.census": {"de": "Belegungsliste", "en": "Census list"},
    "ui.print.printer": same("ui.status.printer"),
    "ui.print.no_printer": {
        "de": "Kein Drucker gefunden. Als PDF speichern und an einem anderen Gerät drucken.",
        "en": "No printer found. Save as PDF and print it from another device.",
    },
    "ui.print.do_print": same("ui.chart.print"),
    "ui.print.save_pdf": {"de": "Als PDF speichern", "en": "Save as PDF"},
    "ui.print.pdf_folder": {"de": "Ordner für das PDF", "en": "Folder for the PDF"},
    "ui.print.sent": {"de": "An {printer} gesendet.", "en": "Sent to {printer}."},
    "ui.print.saved": {"de": "Gespeichert: {path}", "en": "Saved: {path}"},
    "ui.print.downloaded": {
        "de": "Als {name} heruntergeladen: im Download-Ordner des Browsers "
        "(Downloads-Liste des Browsers öffnen).",
        "en": "Downloaded as {name} into the browser's download folder "
        "(open the browser's downloads list).",
    },
    "ui.print.save_cancelled": {
        "de": "Nicht gespeichert (abgebrochen).",
        "en": "Not saved (cancelled).",
    },
    "ui.print.failed": {
        "de": "Drucken fehlgeschlagen: {reason}",
        "en": "Printing failed: {reason}",
    },
    "ui.print.pdf_warning": {
        "de": "Das PDF enthält Patientendaten unverschlüsselt: nach dem Drucken löschen.",
        "en": "The PDF holds patient data unencrypted: delete it after printing.",
    },
}

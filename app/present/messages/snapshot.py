"""How old and which copy the user sees: the data-age banner ("freshness.") and the warnings when an
older snapshot is shown ("snapshot.")."""

from __future__ import annotations

from app.present.messages.base import Messages

MESSAGES: Messages = {
    "freshness.fresh": {
        "de": "Datenstand {as_of} ({ago})",
        "en": "Data as of {as_of} ({ago})",
    },
    "freshness.aging": {
        "de": "Datenstand {as_of} ({ago}) – neuere Änderungen beim Team erfragen",
        "en": "Data as of {as_of} ({ago}) – check recent changes with the team",
    },
    "freshness.stale": {
        "de": "VERALTET: Datenstand {as_of} ({ago}) – Anordnungen und Befunde können sich "
        "geändert haben",
        "en": "STALE: data as of {as_of} ({ago}) – orders and results may have changed",
    },
    "freshness.expired": {
        "de": "ABGELAUFEN: Datenstand {as_of} ({ago}) – nur als Vorgeschichte verwenden, "
        "alles aktuell prüfen",
        "en": "EXPIRED: data as of {as_of} ({ago}) – use as history only, verify everything",
    },
    "freshness.future": {
        "de": "UHRZEIT PRÜFEN: Datenstand {as_of} liegt in der Zukunft – die Uhr dieses "
        "Laptops geht falsch",
        "en": "CHECK CLOCK: data as of {as_of} is in the future – this laptop's clock is wrong",
    },
    "freshness.clock_behind": {
        "de": "UHRZEIT PRÜFEN: Die Uhr dieses Laptops steht vor der Erstellung dieser Kopie – "
        "fällig/überfällig stimmen nicht (Datenstand {as_of})",
        "en": "CHECK CLOCK: this laptop's clock is set before this copy was built – "
        "due/overdue times are wrong (data as of {as_of})",
    },
    "freshness.clock_ahead": {
        "de": "UHRZEIT PRÜFEN: Datenstand {as_of} ({ago}) – geht die Uhr dieses Laptops "
        "vor? Fällig/überfällig hängen davon ab",
        "en": "CHECK CLOCK: data as of {as_of} ({ago}) – is this laptop's clock ahead? "
        "Due/overdue times depend on it",
    },
    "freshness.unknown": {
        "de": "Datenstand unbekannt – keine geprüften Daten vorhanden",
        "en": "Data as of: unknown – no verified data available",
    },
    "snapshot.older_unreadable": {
        "de": "Achtung: Die neueste Kopie auf diesem Laptop ließ sich nicht öffnen. Angezeigt "
        "wird die letzte gute Kopie mit Datenstand {when}. Bitte die IT informieren.",
        "en": "Warning: the newest copy on this laptop could not be opened. Showing the last "
        "good copy, data as of {when}. Please tell IT.",
    },
    "snapshot.older": {
        "de": "Achtung: Angezeigt wird eine ältere Kopie mit Datenstand {when}, nicht die "
        "neueste auf diesem Laptop. Bitte die IT informieren.",
        "en": "Warning: showing an older copy, data as of {when}, not the newest one on this "
        "laptop. Please tell IT.",
    },
    # a history window left older values out of this copy (record.vitals_since / labs_since)
    "history.vitals": {
        "de": "Vitalwerte vor {date} sind nicht in dieser Kopie (Zeitfenster des "
        "Sync-Servers), nur der jüngste Wert je Messgröße. Ältere Werte: im KIS.",
        "en": "Vital signs before {date} are not in this copy (the sync server's history "
        "window), only the newest value of each. Older values: in the EHR.",
    },
    "history.labs": {
        "de": "Laborwerte vor {date} sind nicht in dieser Kopie (Zeitfenster des "
        "Sync-Servers), nur der jüngste Wert je Parameter. Ältere Werte: im KIS.",
        "en": "Lab results before {date} are not in this copy (the sync server's history "
        "window), only the newest result of each test. Older values: in the EHR.",
    },
}

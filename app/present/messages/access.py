"""Login, lockout and break-glass messages ("auth."), for the viewer's login screen and
`wardcopy print`."""

from __future__ import annotations

from app.present.messages.base import Messages

MESSAGES: Messages = {
    "auth.empty": {
        "de": "Bitte Benutzername und Passwort eingeben.",
        "en": "Please enter your user name and password.",
    },
    "auth.bad_credentials": {
        "de": "Benutzername oder Passwort falsch.",
        "en": "Wrong user name or password.",
    },
    "auth.too_soon": {
        "de": "Bitte {seconds} s warten und erneut versuchen.",
        "en": "Please wait {seconds} s and try again.",
    },
    "auth.laptop_throttled": {
        "de": "Zu viele Fehlversuche an diesem Laptop: bitte {seconds} s warten.",
        "en": "Too many failed attempts on this laptop: please wait {seconds} s.",
    },
    "auth.locked": {
        "de": "Zu viele Fehlversuche: gesperrt für {minutes} min.",
        "en": "Too many failed attempts: locked for {minutes} min.",
    },
    "auth.disabled": {
        "de": "Dieses Konto ist deaktiviert. Bitte an die Stationsleitung wenden.",
        "en": "This account is disabled. Please contact the ward manager.",
    },
    "auth.ward_not_permitted": {
        "de": "Keine Berechtigung für diese Station.",
        "en": "You are not permitted to open this ward.",
    },
    "auth.no_roster": {
        "de": "Keine geprüfte Benutzerliste auf diesem Laptop: Anmeldung nicht möglich.",
        "en": "No verified staff list on this laptop: login is not possible.",
    },
    "auth.break_glass_not_allowed": {
        "de": "Notfallzugang ist auf diesem Laptop nicht erlaubt.",
        "en": "Emergency access is not allowed on this laptop.",
    },
    "auth.break_glass_invalid": {
        "de": "Notfallzugang: vollständigen Namen (mind. 3 Zeichen) und Grund "
        "(mind. 5 Zeichen) angeben.",
        "en": "Emergency access: enter your full name (at least 3 characters) and a reason "
        "(at least 5 characters).",
    },
    "auth.break_glass_relogin": {
        "de": "Notfallzugang kann nicht entsperrt werden: bitte erneut anmelden.",
        "en": "An emergency session cannot be unlocked: please start again.",
    },
}

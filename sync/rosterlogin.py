"""What a laptop login needs to know of the installed roster before the roster model loads: the
typed user's password verifier, so that the Argon2id check can start at once.

`wardcopy print` asks `login_preview` first, starts `sync.keys.PasswordCheck` with the verifier it
names, and only then loads the login's own modules (`app.auth`, `sync.roster`, pydantic) and runs
the login. The preview decides nothing: it verifies the signed roster as `sync.roster` does
(signature with the pinned server key, kind, body hash; `sync.package.parse_document`), reads the
JSON body as plain data and returns the user's verifier fields; the login then checks the roster
again with its model and every rule (`app.auth.Authenticator.login`), and `verify_password` uses
the early check's result only for exactly the verifier the login itself found. A preview that
disagrees with the model (a roster the model refuses, a differently spelled id) therefore costs
time, never a wrong answer. No pydantic here; `user_key` is the one rule for matching user ids,
also used by `sync.roster`.

Side effects: `login_preview` reads the pinned key and the installed roster. Never raises.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from sync.keys import Argon2Cost, Verifier

log = logging.getLogger(__name__)

ROSTER_KIND = "roster"
INSTALLED_FILE = "roster.wcdoc"
NO_USERS_COST = Argon2Cost(1, 64, 1)  # the dummy check's cost in a roster without users


def user_key(user_id: str) -> str:
    """Pure: the form in which user ids are compared (case-insensitive, surrounding spaces
    ignored): the roster finds users and refuses duplicate ids by it."""
    return user_id.strip().casefold()


@dataclass(frozen=True)
class LoginPreview:
    """The installed roster's answer for one typed user id, read ahead of the login.

    `verifier` and `display_name` are None for an id the roster does not list; `dummy_cost` is
    the cost of the roster's first verifier, which the login spends on an unknown id too."""

    verifier: Verifier | None
    display_name: str | None
    dummy_cost: Argon2Cost


def _verifier(raw: Any) -> Verifier | None:
    if not isinstance(raw, dict):
        return None
    salt, digest = raw.get("salt"), raw.get("hash")
    time_cost, memory_cost, lanes = raw.get("time_cost"), raw.get("memory_cost"), raw.get("lanes")
    if not (isinstance(salt, str) and isinstance(digest, str)):
        return None
    if not (isinstance(time_cost, int) and isinstance(memory_cost, int) and isinstance(lanes, int)):
        return None
    if any(isinstance(number, bool) for number in (time_cost, memory_cost, lanes)):
        return None
    return Verifier(salt, time_cost, memory_cost, lanes, digest)


def preview_body(body: bytes, user_id: str) -> LoginPreview | None:
    """Pure: the preview of `user_id` in a roster document's JSON `body`; None if the body is
    not shaped like a roster (the login's model will say why)."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    users = data.get("users") if isinstance(data, dict) else None
    if not isinstance(users, list) or not all(isinstance(u, dict) for u in users):
        return None
    first = _verifier(users[0].get("verifier")) if users else None
    if users and first is None:
        return None
    dummy_cost = (
        Argon2Cost(first.time_cost, first.memory_cost, first.lanes) if first else NO_USERS_COST
    )
    wanted = user_key(user_id)
    for user in users:
        name = user.get("user_id")
        if isinstance(name, str) and user_key(name) == wanted:
            display = user.get("display_name")
            return LoginPreview(
                _verifier(user.get("verifier")),
                display.strip() if isinstance(display, str) else None,
                dummy_cost,
            )
    return LoginPreview(None, None, dummy_cost)


def login_preview(home: Path, user_id: str) -> LoginPreview | None:
    """The preview of `user_id` from the roster installed under `home`, verified with the pinned
    server key; None when there is no pinned key or roster, or it does not verify (the login
    then finds and reports the same). Side effects: reads two files. Never raises."""
    from sync import device
    from sync.package import PackageError, parse_document

    try:
        pinned = device.pinned_server_key(home)
        if pinned is None:
            return None
        data = (home / "roster" / INSTALLED_FILE).read_bytes()
        document = parse_document(data, pinned, ROSTER_KIND)
    except (OSError, device.DeviceError, PackageError) as exc:
        log.debug("no roster preview (%s): the login reads the roster itself", type(exc).__name__)
        return None
    return preview_body(document.body, user_id)

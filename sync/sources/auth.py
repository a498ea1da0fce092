"""Credentials for a FHIR server: none, a static Bearer token, or SMART Backend Services.

SMART Backend Services (the client-credentials profile of SMART App Launch 2): the sync server
signs a short JWT with its private key (RS384 or ES384; the EHR holds the public key or a JWKS
URL), posts it to the token endpoint as `client_assertion`, and gets an access token, which it
reuses until `refresh_margin` seconds before it expires. PyJWT signs.

Secrets come from files (mode 0600 required on POSIX: a readable key is refused, not warned
about) or from the OS keyring (service `wardcopy-sync`), never from the command line; no secret
is ever put into a message. Side effects: reads key/token files or the keyring, and POSTs to the
token endpoint.
"""

from __future__ import annotations

import os
import stat
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
import orjson

from sync.sources.http import FhirSourceError, describe_outcome, safe_url

__all__ = [
    "KEYRING_SERVICE",
    "BearerAuth",
    "NoAuth",
    "SmartBackendAuth",
    "read_secret_file",
    "secret_from_keyring",
]

KEYRING_SERVICE = "wardcopy-sync"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def read_secret_file(path: Path, what: str) -> bytes:
    """The bytes of a secret file. Refuses (FhirSourceError) a file others can read (POSIX),
    and a missing or empty one, naming the file and the fix."""
    path = Path(path).expanduser()
    try:
        info = path.stat()
        data = path.read_bytes()
    except OSError as exc:
        raise FhirSourceError(f"cannot read the {what} {path}: {exc.strerror or exc}") from None
    if os.name == "posix" and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise FhirSourceError(
            f"the {what} {path} can be read by other users (mode {stat.S_IMODE(info.st_mode):o});"
            f" run: chmod 600 {path}"
        )
    if not data.strip():
        raise FhirSourceError(f"the {what} {path} is empty")
    return data


def secret_from_keyring(name: str, what: str) -> bytes:
    """A secret stored with `keyring.set_password("wardcopy-sync", name, value)`. Raises
    FhirSourceError when no keyring is available or the entry is missing."""
    try:
        import keyring
        import keyring.errors

        value = keyring.get_password(KEYRING_SERVICE, name)
    except Exception as exc:  # no backend, locked keyring: name it, do not crash
        raise FhirSourceError(
            f"cannot read the {what} from the OS keyring ({type(exc).__name__})"
        ) from None
    if not value:
        raise FhirSourceError(
            f"no {what} in the OS keyring under service {KEYRING_SERVICE!r}, name {name!r}"
        )
    return value.encode()


class NoAuth:
    """No credentials (a server inside a trusted network, or the test server)."""

    def headers(self) -> dict[str, str]:
        return {}

    def invalidate(self) -> bool:
        return False


class BearerAuth:
    """A static Bearer token (some EHRs issue long-lived system tokens)."""

    def __init__(self, token: str) -> None:
        self._token = token.strip()

    def __repr__(self) -> str:
        return "BearerAuth(<token hidden>)"

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

    def invalidate(self) -> bool:
        return False  # the same token will not work better a second time


@dataclass
class SmartBackendAuth:
    """SMART Backend Services with a private key JWT. `private_key` is PEM bytes (RSA for
    RS384, EC P-384 for ES384). The token URL comes from the config or the server's
    `.well-known/smart-configuration`."""

    token_url: str
    client_id: str
    private_key: bytes = field(repr=False)
    algorithm: str = "RS384"
    key_id: str | None = None
    scope: str = "system/*.read"
    refresh_margin: float = 60.0
    timeout: float = 30.0
    transport: httpx.BaseTransport | None = field(default=None, repr=False)
    _token: str | None = field(default=None, repr=False, init=False)
    _expires: float = field(default=0.0, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, init=False)
    tokens_fetched: int = field(default=0, init=False)

    def _assertion(self) -> str:
        now = int(time.time())
        claims = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": self.token_url,
            "exp": now + 240,  # the spec allows at most 5 minutes
            "iat": now,
            "jti": str(uuid.uuid4()),
        }
        headers: dict[str, Any] = {"typ": "JWT"}
        if self.key_id:
            headers["kid"] = self.key_id
        try:
            return jwt.encode(claims, self.private_key, algorithm=self.algorithm, headers=headers)
        except (ValueError, TypeError, jwt.PyJWTError) as exc:
            raise FhirSourceError(
                f"cannot sign the SMART client assertion with the {self.algorithm} key "
                f"({type(exc).__name__}); RS384 needs an RSA key, ES384 an EC P-384 key (PEM)"
            ) from None

    def _fetch(self) -> None:
        form = {
            "grant_type": "client_credentials",
            "scope": self.scope,
            "client_assertion_type": JWT_BEARER,
            "client_assertion": self._assertion(),
        }
        where = safe_url(self.token_url)
        try:
            with httpx.Client(timeout=self.timeout, transport=self.transport) as http:
                response = http.post(
                    self.token_url, data=form, headers={"Accept": "application/json"}
                )
        except httpx.TransportError as exc:
            raise FhirSourceError(f"token endpoint {where}: {type(exc).__name__}") from None
        if response.status_code != 200:
            detail = describe_outcome(response.content)
            raise FhirSourceError(
                f"token endpoint {where} answered {response.status_code}"
                + (f" ({detail})" if detail else "")
                + "; check client_id, the registered public key and the scope in [fhir.auth]",
                response.status_code,
            )
        try:
            body = orjson.loads(response.content)
            token = body["access_token"]
            lifetime = float(body.get("expires_in", 300))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            raise FhirSourceError(
                f"token endpoint {where} answered without an access_token"
            ) from None
        self._token = str(token)
        self._expires = time.monotonic() + lifetime
        self.tokens_fetched += 1

    def headers(self) -> dict[str, str]:
        with self._lock:
            if self._token is None or time.monotonic() > self._expires - self.refresh_margin:
                self._fetch()
            return {"Authorization": f"Bearer {self._token}"}

    def invalidate(self) -> bool:
        with self._lock:
            self._token = None
        return True

"""HTTP to a FHIR server: one httpx client, retries with backoff, Retry-After, clear errors.

`FhirClient(base_url, auth, policy)` sends requests with the auth provider's headers and retries
429, 5xx (except 501) and transport errors (connection refused or reset, a body cut short) with
`tenacity`: the wait is the server's `Retry-After` when it sends one (seconds or an HTTP date,
clamped to `RetryPolicy.min_wait .. max_wait`, so an absolute epoch sent as seconds or a date
years ahead waits `max_wait`, not 50 years), else exponential backoff. A 401 with an auth provider
that can refresh (SMART) gets one fresh token and one more try. Any other 4xx raises
`FhirSourceError` at once, with the server's OperationOutcome turned into a readable message.

Messages name the method and the URL's path (never its query, which can hold patient ids, and
never a token). Side effects: network I/O only; `RetryPolicy.sleep` is the only waiting.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

import httpx
import orjson
import tenacity

__all__ = [
    "AuthProvider",
    "FhirClient",
    "FhirSourceError",
    "RetryPolicy",
    "TransientError",
    "describe_outcome",
    "parse_retry_after",
    "safe_url",
]

USER_AGENT = "wardcopy-sync"
FHIR_JSON = "application/fhir+json"


class FhirSourceError(Exception):
    """The FHIR server cannot be read. The message says what answered what, and what to do; it
    never holds a token, a query string or patient data. `status` is the HTTP status (0: none)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class TransientError(Exception):
    """A failure worth retrying (429, 5xx, a broken connection, a body cut short)."""

    def __init__(self, message: str, retry_after: float | None = None, status: int = 0) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status


class AuthProvider(Protocol):
    """Adds credentials to requests (sync.sources.auth)."""

    def headers(self) -> dict[str, str]:
        """Headers to send (e.g. Authorization); may fetch or refresh a token."""
        ...

    def invalidate(self) -> bool:
        """Forget a cached token after a 401; True when a retry can help."""
        ...


@dataclass
class RetryPolicy:
    """How patient to be with a slow or failing server (config `[fhir]`, docs/configuration.md)."""

    attempts: int = 6  # tries per request, the first included
    min_wait: float = 1.0  # seconds, lower clamp of Retry-After and backoff
    max_wait: float = 120.0  # seconds, upper clamp: absurd Retry-After values wait this long
    backoff: float = 2.0  # first backoff in seconds without Retry-After (doubles each try)
    timeout: float = 60.0  # seconds per request (connect, read, write)
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def clamp(self, seconds: float) -> float:
        return min(max(seconds, self.min_wait), self.max_wait)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (RFC 9110: delta-seconds or an HTTP date),
    unclamped; None when absent or unreadable. A date in the past gives 0 (pure)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def safe_url(url: str) -> str:
    """The URL without query, fragment or user info: safe for messages and logs (pure)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def describe_outcome(body: bytes) -> str:
    """A readable summary of an OperationOutcome body ('' when it is none): the issues'
    severity, code and text, at most three, each cut to 200 characters (pure)."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return ""
    if not isinstance(value, dict):
        return ""
    if value.get("resourceType") != "OperationOutcome":
        error = value.get("error")  # an OAuth error answer
        if isinstance(error, str):
            text = value.get("error_description")
            return f"{error}: {text}" if isinstance(text, str) else error
        return ""
    parts: list[str] = []
    for issue in (value.get("issue") or [])[:3]:
        if not isinstance(issue, dict):
            continue
        text = issue.get("diagnostics")
        details = issue.get("details")
        if not isinstance(text, str) and isinstance(details, dict):
            text = details.get("text")
        code = issue.get("code", "")
        severity = issue.get("severity", "error")
        parts.append(f"{severity} {code}: {text}"[:200] if text else f"{severity} {code}")
    return "; ".join(parts)


def _status_message(response: httpx.Response) -> str:
    detail = describe_outcome(response.content) if response.content else ""
    what = f"{response.request.method} {safe_url(str(response.request.url))}"
    hint = {
        401: "check the credentials in [fhir.auth]",
        403: "the client lacks a scope or access to this resource; ask the EHR team",
        404: "check the base URL (source) and the export level in [fhir]",
    }.get(response.status_code, "")
    text = f"{what} answered {response.status_code} {response.reason_phrase}"
    if detail:
        text += f" ({detail})"
    return f"{text}; {hint}" if hint else text


class FhirClient:
    """A FHIR server at `base_url` (ends without '/'). Use as a context manager or call close().

    `policy` decides retries and timeouts; `auth` adds credentials (None: no auth).
    """

    def __init__(
        self,
        base_url: str,
        auth: AuthProvider | None = None,
        policy: RetryPolicy | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.policy = policy or RetryPolicy()
        self.http = httpx.Client(
            timeout=self.policy.timeout,
            headers={"User-Agent": USER_AGENT},
            follow_redirects=False,  # a redirect could carry the token elsewhere
            transport=transport,
        )

    def __enter__(self) -> FhirClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def url(self, path: str) -> str:
        """An absolute URL for `path` relative to the base ('Patient', '$export', a full URL)."""
        if path.startswith(("http://", "https://")):
            return path
        return urljoin(self.base_url + "/", path.lstrip("/"))

    def _headers(self, extra: dict[str, str] | None, with_auth: bool) -> dict[str, str]:
        headers = {"Accept": FHIR_JSON}
        if with_auth and self.auth is not None:
            headers.update(self.auth.headers())
        if extra:
            headers.update(extra)
        return headers

    def _retrying(self) -> tenacity.Retrying:
        policy = self.policy

        def wait(state: tenacity.RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, TransientError) and exc.retry_after is not None:
                return policy.clamp(exc.retry_after)
            return policy.clamp(policy.backoff * 2 ** (state.attempt_number - 1))

        return tenacity.Retrying(
            stop=tenacity.stop_after_attempt(max(1, policy.attempts)),
            wait=wait,
            retry=tenacity.retry_if_exception_type(TransientError),
            sleep=policy.sleep,
            reraise=True,
        )

    def check(self, response: httpx.Response) -> None:
        """Raise TransientError for 429/5xx, FhirSourceError for other 4xx; pass 1xx-3xx."""
        status = response.status_code
        if status == 429 or (status >= 500 and status != 501):
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise TransientError(_status_message(response), retry_after, status)
        if status >= 400:
            raise FhirSourceError(_status_message(response), status)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        headers: dict[str, str] | None = None,
        with_auth: bool = True,
        ok: tuple[int, ...] = (),
    ) -> httpx.Response:
        """Send one request with retries; return the response (body read).

        Statuses in `ok` are returned even when they are errors (the caller handles them, e.g.
        410 for an expired export file). Raises FhirSourceError when the server refuses, or
        keeps failing after the policy's attempts.
        """
        url = self.url(path)
        refreshed = False

        def attempt() -> httpx.Response:
            nonlocal refreshed
            try:
                response = self.http.request(
                    method, url, params=params, headers=self._headers(headers, with_auth)
                )
            except httpx.TransportError as exc:
                raise TransientError(f"{method} {safe_url(url)}: {type(exc).__name__}") from None
            if response.status_code in ok:
                return response
            if response.status_code == 401 and with_auth and self.auth and not refreshed:
                refreshed = True
                if self.auth.invalidate():
                    raise TransientError(_status_message(response), 0.0, 401)
            self.check(response)
            return response

        result: httpx.Response = self._call(attempt)
        return result

    def _call(self, attempt: Callable[[], Any]) -> Any:
        try:
            return self._retrying()(attempt)
        except TransientError as exc:
            raise FhirSourceError(
                f"{exc} (gave up after {self.policy.attempts} tries; the server is overloaded "
                "or down: the last good packages stay published)",
                exc.status,
            ) from None

    def json(self, path: str, *, params: Any = None) -> dict[str, Any]:
        """GET a FHIR JSON resource. Raises FhirSourceError (also for a body that is not JSON)."""
        response = self.request("GET", path, params=params)
        try:
            value = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise FhirSourceError(
                f"GET {safe_url(self.url(path))} answered {response.status_code} with a body "
                "that is not JSON; check the base URL"
            ) from None
        if not isinstance(value, dict):
            raise FhirSourceError(f"GET {safe_url(self.url(path))} answered JSON that is no object")
        return value

    def retry(self, attempt: Callable[[], Any]) -> Any:
        """Run `attempt` under the retry policy (it raises TransientError to be retried).
        Raises FhirSourceError when it keeps failing."""
        return self._call(attempt)

    @contextmanager
    def stream(
        self, url: str, *, with_auth: bool, ok: tuple[int, ...] = ()
    ) -> Iterator[httpx.Response]:
        """GET `url` streamed (one try; wrap the whole read in `retry`). Raises TransientError
        or FhirSourceError like `check`, unless the status is in `ok`."""
        headers = self._headers({"Accept": "application/fhir+ndjson"}, with_auth)
        try:
            with self.http.stream("GET", self.url(url), headers=headers) as response:
                if response.status_code not in ok:
                    if response.status_code == 401 and with_auth and self.auth:
                        response.read()
                        if self.auth.invalidate():
                            raise TransientError(_status_message(response), 0.0, 401)
                    if response.status_code >= 400:
                        response.read()
                    self.check(response)
                yield response
        except httpx.TransportError as exc:
            raise TransientError(f"GET {safe_url(url)}: {type(exc).__name__}") from None

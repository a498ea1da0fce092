"""Read a live FHIR server into the resource store: one increment (or a full refresh) per call.

`fetch(config, store)` opens a FhirClient with the configured auth, chooses Bulk Data or REST
(`[fhir] mode`; "auto" asks the CapabilityStatement whether `$export` is offered), and applies
the result to the store as one transaction (sync.store): committed with the new `since` only
when the whole export or search was read, rolled back otherwise. A store without `since` (first
run, or deleted) gets a full read; `full=True` forces one (the nightly refresh).

Side effects: network I/O; writes the encrypted store. Raises FhirSourceError (the server
cannot be read or refuses), StoreError.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from sync.config import Config, FhirAuth
from sync.sources.auth import (
    BearerAuth,
    NoAuth,
    SmartBackendAuth,
    read_secret_file,
    secret_from_keyring,
)
from sync.sources.bulk import BulkOptions, run_export
from sync.sources.http import AuthProvider, FhirClient, FhirSourceError, RetryPolicy
from sync.sources.rest import RestOptions, run_search
from sync.store import ResourceStore

__all__ = ["FetchResult", "client_for", "fetch", "make_auth"]

log = logging.getLogger(__name__)

OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"


@dataclass
class FetchResult:
    """What one fetch read and applied. `since` is the value the next increment starts from;
    `read_at` the moment the source was read (the data's "as of")."""

    mode: str  # "bulk" or "rest"
    full: bool
    since: str
    read_at: datetime
    upserts: int = 0
    deletes: int = 0
    errors: list[str] = field(default_factory=list)  # lines from the export's error files
    error_count: int = 0
    problems: Counter[str] = field(default_factory=Counter)
    patients: set[str] = field(default_factory=set)  # patient references touched
    elapsed_seconds: float = 0.0
    restarts: int = 0
    # Seconds of the export's kick-off and status polls (Bulk Data), reading the files or
    # search pages into the store, and committing the store (sync.cycle's step times).
    steps: dict[str, float] = field(default_factory=dict)


def _secret(path: Path | None, keyring_name: str | None, what: str) -> bytes:
    if path is not None:
        return read_secret_file(path, what)
    assert keyring_name is not None  # the config validator demands one of them
    return secret_from_keyring(keyring_name, what)


def _discover_token_url(client: FhirClient) -> str:
    """The token endpoint from .well-known/smart-configuration, else the CapabilityStatement's
    oauth-uris extension. Raises FhirSourceError when neither names one."""
    try:
        config = client.json(".well-known/smart-configuration")
        url = config.get("token_endpoint")
        if isinstance(url, str) and url:
            return url
    except FhirSourceError:
        pass
    statement = client.json("metadata")
    for rest in statement.get("rest") or []:
        security = rest.get("security") if isinstance(rest, dict) else None
        for ext in (security or {}).get("extension") or []:
            if isinstance(ext, dict) and ext.get("url") == OAUTH_URIS:
                for sub in ext.get("extension") or []:
                    if isinstance(sub, dict) and sub.get("url") == "token":
                        return str(sub.get("valueUri"))
    raise FhirSourceError(
        "the server names no token endpoint (.well-known/smart-configuration, metadata); "
        "set token_url in [fhir.auth]"
    )


def make_auth(
    auth: FhirAuth, client: FhirClient, transport: httpx.BaseTransport | None = None
) -> AuthProvider:
    """The auth provider for `[fhir.auth]` (reads the secret now). Raises FhirSourceError."""
    if auth.method == "none":
        return NoAuth()
    if auth.method == "bearer":
        token = _secret(auth.token_file, auth.token_keyring, "FHIR token")
        return BearerAuth(token.decode("utf-8", errors="replace"))
    key = _secret(auth.key_file, auth.key_keyring, "SMART client key")
    token_url = auth.token_url or _discover_token_url(client)
    assert auth.client_id is not None
    return SmartBackendAuth(
        token_url=token_url,
        client_id=auth.client_id,
        private_key=key,
        algorithm=auth.algorithm,
        key_id=auth.key_id,
        scope=auth.scope,
        timeout=client.policy.timeout,
        transport=transport,
    )


def client_for(
    config: Config,
    *,
    sleep: Callable[[float], None] = time.sleep,
    transport: httpx.BaseTransport | None = None,
) -> FhirClient:
    """A FhirClient for `config.source` with the retry policy and auth of `[fhir]`."""
    settings = config.fhir
    if not config.source_is_url:
        raise FhirSourceError(f"source {config.source!r} is not an http(s) URL")
    policy = RetryPolicy(
        attempts=settings.attempts,
        min_wait=settings.min_wait_seconds,
        max_wait=settings.max_wait_seconds,
        backoff=max(settings.min_wait_seconds, 0.0) or 1.0,
        timeout=settings.timeout_seconds,
        sleep=sleep,
    )
    client = FhirClient(str(config.source), policy=policy, transport=transport)
    try:
        client.auth = make_auth(settings.auth, client, transport)
    except BaseException:
        client.close()
        raise
    return client


def supports_export(client: FhirClient) -> bool:
    """True when the CapabilityStatement lists an `export` operation (system or Patient)."""
    statement = client.json("metadata")
    for rest in statement.get("rest") or []:
        if not isinstance(rest, dict):
            continue
        operations = list(rest.get("operation") or [])
        for resource in rest.get("resource") or []:
            if isinstance(resource, dict):
                operations += resource.get("operation") or []
        for op in operations:
            if isinstance(op, dict) and (
                op.get("name") == "export" or str(op.get("definition", "")).endswith("/export")
            ):
                return True
    return False


def _with_accounts(types: list[str]) -> list[str]:
    """A configured `_type` list that names Encounter gets Account too: the case number
    (ISiK Fallnummer) is the identifier of the Account an Encounter links. Empty stays
    empty (everything the server has)."""
    if types and "Encounter" in types and "Account" not in types:
        return [*types, "Account"]
    return types


def fetch(
    config: Config,
    store: ResourceStore,
    *,
    full: bool = False,
    client: FhirClient | None = None,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> FetchResult:
    """Apply one increment (or a full read) from the FHIR server to `store`; see the module
    docstring. Raises FhirSourceError or StoreError; on any error nothing is applied."""
    started = time.perf_counter()
    progress = progress or log.info
    own = client is None
    client = client or client_for(config)
    try:
        since = None if full else store.state("since")
        full = since is None
        settings = config.fhir
        mode = settings.mode
        if mode == "auto":
            mode = "bulk" if supports_export(client) else "rest"
        with store.increment(full=full) as inc:
            if mode == "bulk":
                options = BulkOptions(
                    level=settings.export_level,
                    group_id=settings.group_id,
                    types=_with_accounts(list(settings.types)),
                    type_filters=list(settings.type_filters),
                    max_wait_seconds=settings.max_export_wait_seconds,
                )
                exported = run_export(client, options, since, inc, progress)
                result = FetchResult(
                    mode, full, exported.transaction_time, _parse(exported.transaction_time)
                )
                result.errors = exported.errors
                result.error_count = exported.error_count
                result.restarts = exported.restarts
                result.steps["export"] = exported.wait_seconds
            else:
                options_rest = RestOptions(
                    encounter_statuses=list(settings.encounter_statuses),
                    encounter_classes=list(config.inpatient_classes),
                    locations=list(settings.locations),
                    discharged_within_hours=config.discharged_within_hours,
                    page_size=settings.page_size,
                    overlap_seconds=settings.rest_overlap_seconds,
                )
                if settings.types:
                    options_rest.patient_types = [t for t in settings.types if t != "Patient"]
                known = store.patient_ids() if since else set()
                accounts = store.ids("Account") if since else set()
                searched = run_search(
                    client, options_rest, since, inc, known, now, progress, accounts
                )
                result = FetchResult(
                    mode, full, searched.transaction_time, now or datetime.now(UTC)
                )
            inc.state["since"] = result.since
            inc.state["mode"] = mode
            if full:
                inc.state["last_full"] = result.read_at.isoformat()
            result.upserts = inc.upserts
            result.problems = inc.problems
            result.patients = inc.patients
            read = time.perf_counter()
            result.steps["read"] = read - started - result.steps.get("export", 0.0)
        result.deletes = inc.deletes  # the sweep of a full read counts at commit
        result.elapsed_seconds = time.perf_counter() - started
        result.steps["store"] = result.elapsed_seconds - (read - started)
        log.info(
            "%s %s: %d resources updated, %d deleted in %.1f s",
            mode,
            "full read" if full else "increment",
            result.upserts,
            result.deletes,
            result.elapsed_seconds,
        )
        return result
    finally:
        if own:
            client.close()


def _parse(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise FhirSourceError(
            f"the export's transactionTime {value[:40]!r} is no instant"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

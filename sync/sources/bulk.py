"""FHIR Bulk Data Access (v2) `$export`: kick-off, status polling, manifest, NDJSON files.

`run_export(client, options, since, sink)` asks for an export (system, `Patient` or `Group/<id>`
level) with `_type`, `_since`, `_typeFilter`, polls the status URL honouring `Retry-After` (as
sent, from POLL_FLOOR = 0.1 s up to the client's RetryPolicy max_wait) and logging `X-Progress`,
then streams each output file line by line into `sink` (the encrypted resource store: nothing
touches the disk in plaintext), sending the Bearer token only when the manifest says
`requiresAccessToken`. The `deleted` files (Bundles of DELETE entries) become deletions, the
`error` files (OperationOutcomes) become readable lines of the report. The manifest's
`transactionTime` is the next `_since`.

Failures: 429 and 5xx are retried (FhirClient). A file cut short (a broken connection, or a last
line without newline that is not JSON) is downloaded again; the sink applies lines
idempotently. A 410 Gone for a file means the export expired: the whole export is started
again (at most `restarts` times). A job the server marks failed, a poll that outlasts
`max_wait_seconds`, or any other error raises FhirSourceError; in every case, success included,
the job is DELETEd so the server can free it. Nothing is committed by this module: the caller
commits the sink only when `run_export` returned.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from sync.sources.http import (
    FhirClient,
    FhirSourceError,
    TransientError,
    describe_outcome,
    safe_url,
)

__all__ = ["BulkOptions", "CutShort", "ExportResult", "Sink", "ndjson_lines", "run_export"]

log = logging.getLogger(__name__)

_MAX_ERROR_LINES = 20
# Shortest wait between two status polls, whatever Retry-After says (0, or a date in the past).
POLL_FLOOR = 0.1


class Sink(Protocol):
    """Where exported resources go (sync.store.Increment)."""

    def upsert(self, resource: dict[str, Any], raw: bytes | None = None) -> None: ...

    def delete(self, rtype: str, rid: str) -> None: ...

    def problem(self, reason: str) -> None: ...


@dataclass
class BulkOptions:
    """What to export (config `[fhir]`)."""

    level: str = "system"  # "system", "patient" or "group"
    group_id: str | None = None
    types: list[str] = field(default_factory=list)  # _type; [] = everything the server has
    type_filters: list[str] = field(default_factory=list)  # _typeFilter values
    max_wait_seconds: float = 6 * 3600.0  # give up polling after this long
    restarts: int = 2  # new exports after expired (410) files


@dataclass
class ExportResult:
    transaction_time: str
    files: int = 0
    resources: int = 0
    deleted: int = 0
    errors: list[str] = field(default_factory=list)  # readable lines from the error files
    error_count: int = 0
    restarts: int = 0
    wait_seconds: float = 0.0  # kick-off and status polls until the manifest came


class _Expired(Exception):
    pass


def kickoff_path(options: BulkOptions) -> str:
    """The `$export` path for the options' level (pure). Raises FhirSourceError for a group
    level without a group id."""
    if options.level == "system":
        return "$export"
    if options.level == "patient":
        return "Patient/$export"
    if options.level == "group":
        if not options.group_id:
            raise FhirSourceError("export_level = 'group' needs group_id in [fhir]")
        return f"Group/{options.group_id}/$export"
    raise FhirSourceError(f"unknown export_level {options.level!r}: use system, patient or group")


def run_export(
    client: FhirClient,
    options: BulkOptions,
    since: str | None,
    sink: Sink,
    progress: Callable[[str], None] | None = None,
) -> ExportResult:
    """Run one export into `sink` (see the module docstring). Raises FhirSourceError."""
    restarts = 0
    while True:
        try:
            result = _export_once(client, options, since, sink, progress)
            result.restarts = restarts
            return result
        except _Expired:
            restarts += 1
            if restarts > options.restarts:
                raise FhirSourceError(
                    f"export files expired (410 Gone) {restarts} times before they could be read; "
                    "the server keeps them too briefly for this network: ask the EHR team"
                ) from None
            log.warning("export files expired (410); starting the export again")


def _export_once(
    client: FhirClient,
    options: BulkOptions,
    since: str | None,
    sink: Sink,
    progress: Callable[[str], None] | None,
) -> ExportResult:
    params: list[tuple[str, str]] = [("_outputFormat", "application/fhir+ndjson")]
    if options.types:
        params.append(("_type", ",".join(options.types)))
    if since:
        params.append(("_since", since))
    for value in options.type_filters:
        params.append(("_typeFilter", value))
    started = time.perf_counter()
    response = client.request(
        "GET", kickoff_path(options), params=params, headers={"Prefer": "respond-async"}
    )
    status_url = response.headers.get("Content-Location")
    if response.status_code != 202 or not status_url:
        raise FhirSourceError(
            f"the export kick-off at {safe_url(client.url(kickoff_path(options)))} answered "
            f"{response.status_code} without a status URL; the server may not support $export "
            "(set mode = 'rest' in [fhir])"
        )
    try:
        manifest = _poll(client, status_url, options, progress)
        waited = time.perf_counter() - started
        result = _read_manifest(client, manifest, sink)
        result.wait_seconds = waited
        return result
    finally:
        _delete_job(client, status_url)


def _poll(
    client: FhirClient,
    status_url: str,
    options: BulkOptions,
    progress: Callable[[str], None] | None,
) -> dict[str, Any]:
    policy = client.policy
    started = time.monotonic()
    while True:
        response = client.request("GET", status_url)
        if response.status_code == 200:
            try:
                manifest = orjson.loads(response.content)
            except orjson.JSONDecodeError:
                raise FhirSourceError(
                    f"the export manifest at {safe_url(status_url)} is not JSON"
                ) from None
            if not isinstance(manifest, dict) or not isinstance(manifest.get("output"), list):
                raise FhirSourceError(
                    f"the export manifest at {safe_url(status_url)} has no output"
                )
            return manifest
        if response.status_code != 202:
            detail = describe_outcome(response.content)
            raise FhirSourceError(
                f"the export job at {safe_url(status_url)} answered {response.status_code}"
                + (f" ({detail})" if detail else "")
            )
        note = response.headers.get("X-Progress", "")
        if note and progress is not None:
            progress(f"export: {note[:100]}")
        if time.monotonic() - started > options.max_wait_seconds:
            raise FhirSourceError(
                f"the export did not finish within {options.max_wait_seconds:.0f} s; cancelled "
                "(raise max_export_wait_seconds in [fhir] if the server is just slow)"
            )
        from sync.sources.http import parse_retry_after

        wait = parse_retry_after(response.headers.get("Retry-After"))
        if wait is None:
            policy.sleep(policy.clamp(policy.backoff))
        else:
            # The job says when to ask again: honoured even below min_wait (a status poll is
            # no error to back off from; "Retry-After: 0" from a job that is nearly done should
            # not cost a second per poll), but never below POLL_FLOOR (no hot loop).
            policy.sleep(min(max(wait, POLL_FLOOR), policy.max_wait))


def _read_manifest(client: FhirClient, manifest: dict[str, Any], sink: Sink) -> ExportResult:
    transaction_time = manifest.get("transactionTime")
    if not isinstance(transaction_time, str) or not transaction_time:
        raise FhirSourceError("the export manifest has no transactionTime; cannot continue safely")
    with_auth = bool(manifest.get("requiresAccessToken"))
    result = ExportResult(transaction_time)
    for entry in _entries(manifest, "output"):
        result.resources += _read_file(
            client, entry, with_auth, lambda r, raw: sink.upsert(r, raw), sink
        )
        result.files += 1
    for entry in _entries(manifest, "deleted"):
        counter = [0]

        def delete(
            bundle: dict[str, Any], _raw: bytes | None, counter: list[int] = counter
        ) -> None:
            for item in bundle.get("entry") or []:
                request = item.get("request") if isinstance(item, dict) else None
                url = request.get("url") if isinstance(request, dict) else None
                if isinstance(url, str) and request.get("method") == "DELETE":  # type: ignore[union-attr]
                    rtype, _, rid = url.split("?")[0].rstrip("/").rpartition("/")
                    rtype = rtype.rsplit("/", 1)[-1]
                    if rtype and rid:
                        sink.delete(rtype, rid)
                        counter[0] += 1

        _read_file(client, entry, with_auth, delete, sink)
        result.deleted += counter[0]
    for entry in _entries(manifest, "error"):

        def error(outcome: dict[str, Any], raw: bytes | None) -> None:
            result.error_count += 1
            if len(result.errors) < _MAX_ERROR_LINES:
                result.errors.append(describe_outcome(raw or orjson.dumps(outcome)) or "error")

        _read_file(client, entry, with_auth, error, None)
    return result


def _entries(manifest: dict[str, Any], name: str) -> list[dict[str, Any]]:
    value = manifest.get(name) or []
    return [e for e in value if isinstance(e, dict) and isinstance(e.get("url"), str)]


def _read_file(
    client: FhirClient,
    entry: dict[str, Any],
    with_auth: bool,
    handle: Callable[[dict[str, Any], bytes | None], None],
    sink: Sink | None,
) -> int:
    """Stream one NDJSON file into `handle`; retried whole when cut short. Returns its lines."""
    url = str(entry["url"])

    def attempt() -> int:
        lines = 0
        with client.stream(url, with_auth=with_auth, ok=(410,)) as response:
            if response.status_code == 410:
                raise _Expired()
            try:
                for line in ndjson_lines(response.iter_bytes()):
                    lines += _line(line, handle, sink)
            except CutShort:
                raise TransientError(f"GET {safe_url(url)}: file cut short") from None
        return lines

    result: int = client.retry(attempt)
    return result


class CutShort(Exception):
    """An NDJSON stream ended inside a line (its last line has no newline and is no JSON)."""


def ndjson_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The lines of an NDJSON byte stream delivered in arbitrary chunks, without their newline
    (blank lines included). A last line without newline is yielded only when it parses as JSON
    (a writer may omit the final newline); otherwise the stream was cut short: CutShort (pure)."""
    pending = b""
    for chunk in chunks:
        pending += chunk
        if b"\n" in chunk:
            *complete, pending = pending.split(b"\n")
            yield from complete
    if pending.strip():
        try:
            orjson.loads(pending)
        except orjson.JSONDecodeError:
            raise CutShort() from None
        yield pending


def _line(
    line: bytes, handle: Callable[[dict[str, Any], bytes | None], None], sink: Sink | None
) -> int:
    line = line.strip()
    if not line:
        return 0
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        if sink is not None:
            sink.problem("invalid JSON")
        return 0
    if not isinstance(value, dict) or not isinstance(value.get("resourceType"), str):
        if sink is not None:
            sink.problem("missing resourceType")
        return 0
    handle(value, line)
    return 1


def _delete_job(client: FhirClient, status_url: str) -> None:
    """Best effort: tell the server it may drop the job (also after success, as the spec asks)."""
    try:
        client.http.request("DELETE", client.url(status_url), headers=client._headers(None, True))
    except Exception as exc:  # the job expires on its own; never hide the real error
        log.info("could not delete export job %s (%s)", safe_url(status_url), type(exc).__name__)

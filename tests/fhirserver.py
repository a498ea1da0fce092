"""A small FHIR R4 server of the project's own, for tests: REST search with paging, Bulk Data
`$export` with async polling, SMART Backend Services tokens, and injected faults.

Start it in a test (it listens on 127.0.0.1 with a free port, in a thread):

    with FhirTestServer() as server:
        server.load_ndjson(folder)           # the generator's output
        url = server.base_url                # http://127.0.0.1:PORT/fhir
        server.put(resource)                 # a change between cycles (new meta.lastUpdated)
        server.delete("Observation", "x")   # shows in the next `_since` export's `deleted`
        server.faults.append(Fault("/jobs/", 429, headers={"Retry-After": "..."}))

What it implements (enough of the specs to exercise a client the way real servers do):

- `GET /metadata`: a CapabilityStatement naming the `export` operations and, when SMART auth
  is on, the token endpoint (also at `/.well-known/smart-configuration`).
- `POST /token`: client_credentials with a private key JWT (RFC 7523): the JWT's signature is
  verified with the registered public key; iss = sub = client_id, aud = the token URL, exp at
  most 5 minutes ahead, jti never reused. Tokens expire after `token_lifetime` seconds.
- `GET /$export`, `/Patient/$export`, `/Group/<id>/$export` with `Prefer: respond-async`:
  `_type`, `_since`, `_typeFilter` (`Type?param=value` with the search parameters below); the
  answer is 202 with Content-Location of a job, whose files are written in a thread (as a real
  server runs the job after answering). The job answers 202 with `X-Progress` and
  `Retry-After` for `polls_before_ready` polls, then 200 with the manifest (transactionTime,
  request, requiresAccessToken, output, error, deleted). `DELETE` on the job cancels it.
- Output files: NDJSON, `_count`-free; `deleted` is a file of transaction Bundles with DELETE
  entries (Bulk Data 2.0); `error` a file of OperationOutcomes when `export_errors` is set.
- `GET /<Type>?...` search: `_count`, `_lastUpdated=gt|ge|lt|le<instant>`, `_id`, `patient` /
  `subject` (compartment references, comma lists), Encounter `status`, `class`, `location`;
  results are a searchset Bundle with `next` links into a snapshot of the result (as HAPI
  pages). An unknown parameter answers 400 with an OperationOutcome.
- `GET /<Type>/<id>`.

Faults (`server.faults`, each used `times` times, first matching path prefix wins): any status
with headers and an OperationOutcome body, or `truncate=True` for a file that stops half way
(Content-Length promises more than is sent). `server.expire_files()` makes every existing
output file answer 410 Gone. `server.requests` records (method, path with query) of every request.

Time: the server stamps every write with its own strictly increasing clock (`server.now()`),
and `_since` / `_lastUpdated` compare against those stamps, as a real server does. Like a real
server (HAPI, for one, indexes `_lastUpdated`), it keeps the writes in stamp order, so an
export with `_since` reads only what was written after it instead of scanning every resource
(the increment benchmark would otherwise time this test server's scan, not the client).
"""

from __future__ import annotations

import bisect
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt

from sync.sources.fhir_types import PATIENT_REFERENCE_FIELDS

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass
class Fault:
    """Answer the next `times` requests whose path starts with `prefix` ("*text": contains
    text) and method (when given) with `status`, or cut the body short (`truncate`), after
    `delay` seconds (with status 0: a slow but normal answer)."""

    prefix: str
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1
    truncate: bool = False
    method: str | None = None
    body: dict[str, Any] | None = None
    delay: float = 0.0  # seconds to wait before answering (status None: then answer normally)


@dataclass
class _Entry:
    resource: dict[str, Any]
    stamp: datetime


@dataclass
class _Job:
    id: str
    transaction_time: datetime
    request: str
    files: dict[str, bytes]  # name -> NDJSON
    output: list[dict[str, Any]]
    deleted: list[dict[str, Any]]
    error: list[dict[str, Any]]
    polls: int = 0
    cancelled: bool = False
    # Set when the files are written (in a thread, as a real server's job runs after the
    # kick-off answered); until then a poll answers 202 "building files".
    ready: threading.Event = field(default_factory=threading.Event)


def _outcome(code: str, text: str, severity: str = "error") -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": text}],
    }


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse_instant(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _refs(resource: dict[str, Any], rtype: str) -> list[str]:
    out: list[str] = []
    for name in PATIENT_REFERENCE_FIELDS.get(rtype, ()):
        value = resource.get(name)
        if isinstance(value, dict) and isinstance(value.get("reference"), str):
            out.append(value["reference"])
    if rtype == "Patient":
        out.append(f"Patient/{resource.get('id')}")
    return out


class FhirTestServer:
    """See the module docstring. Use as a context manager; `stop()` shuts the thread down."""

    def __init__(
        self,
        *,
        auth: str = "none",  # "none", "bearer" (static token), "smart"
        static_token: str = "s3cret-static-token",
        polls_before_ready: int = 1,
        retry_after: str = "0",
        page_size: int = 50,
        token_lifetime: int = 300,
        bulk: bool = True,
    ) -> None:
        self.auth = auth
        self.static_token = static_token
        self.polls_before_ready = polls_before_ready
        self.retry_after = retry_after
        self.page_size = page_size
        self.token_lifetime = token_lifetime
        self.bulk = bulk
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str]] = []
        self.export_errors: list[dict[str, Any]] = []
        self.clients: dict[str, Any] = {}  # client_id -> public key (PEM bytes or key object)
        self.tokens: dict[str, float] = {}  # access token -> expiry (monotonic)
        self.tokens_issued = 0
        self._jtis: set[str] = set()
        self._lock = threading.RLock()
        self._entries: dict[tuple[str, str], _Entry] = {}
        # (stamp, type, id) of every write in stamp order: the `_lastUpdated` index. An item
        # whose resource was written again later or deleted is stale and skipped on reading.
        self._order: list[tuple[datetime, str, str]] = []
        self._deleted: list[tuple[str, str, datetime]] = []
        self._jobs: dict[str, _Job] = {}
        self._pages: dict[str, list[dict[str, Any]]] = {}
        self._expired: set[str] = set()
        self._last = datetime.now(UTC) - timedelta(seconds=1)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    # ------------------------------------------------------------------ life cycle
    def __enter__(self) -> FhirTestServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def origin(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def base_url(self) -> str:
        return self.origin + "/fhir"

    @property
    def token_url(self) -> str:
        return self.origin + "/auth/token"

    # ------------------------------------------------------------------ data
    def now(self) -> datetime:
        """The server clock: strictly increasing (1 ms at least between two calls)."""
        with self._lock:
            stamp = max(datetime.now(UTC), self._last + timedelta(milliseconds=1))
            self._last = stamp
            return stamp

    def load_ndjson(self, folder: Path) -> int:
        """Load every *.ndjson under `folder` as they are (meta kept), stamped as written an
        hour ago (data that was there long before the first sync); returns the count."""
        count = 0
        stamp = self.now() - timedelta(hours=1)
        added: list[tuple[datetime, str, str]] = []
        with self._lock:
            for path in sorted(Path(folder).rglob("*.ndjson")):
                for line in path.read_bytes().splitlines():
                    if line.strip():
                        resource = json.loads(line)
                        key = (resource["resourceType"], resource["id"])
                        self._entries[key] = _Entry(resource, stamp)
                        added.append((stamp, *key))
                        count += 1
            self._order = sorted(self._order + added)
        return count

    def put(self, resource: dict[str, Any]) -> None:
        """Create or update a resource, stamping meta.lastUpdated with the server clock."""
        stamp = self.now()
        resource = json.loads(json.dumps(resource))
        resource.setdefault("meta", {})["lastUpdated"] = _instant(stamp)
        with self._lock:
            self._entries[(resource["resourceType"], resource["id"])] = _Entry(resource, stamp)
            bisect.insort(self._order, (stamp, resource["resourceType"], resource["id"]))

    def get(self, rtype: str, rid: str) -> dict[str, Any]:
        with self._lock:
            return json.loads(json.dumps(self._entries[(rtype, rid)].resource))

    def delete(self, rtype: str, rid: str) -> None:
        stamp = self.now()
        with self._lock:
            del self._entries[(rtype, rid)]
            self._deleted.append((rtype, rid, stamp))

    def resources(self, rtype: str) -> list[dict[str, Any]]:
        with self._lock:
            return [e.resource for (t, _), e in self._entries.items() if t == rtype]

    def expire_files(self) -> None:
        """Every output file of every job so far answers 410 Gone from now on."""
        with self._lock:
            for job in self._jobs.values():
                self._expired.update(f"{job.id}/{name}" for name in job.files)

    def register_client(self, client_id: str, public_key: Any) -> None:
        self.clients[client_id] = public_key

    # ------------------------------------------------------------------ handler
    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet tests

            def do_GET(self) -> None:
                server._dispatch(self, "GET")

            def do_POST(self) -> None:
                server._dispatch(self, "POST")

            def do_DELETE(self) -> None:
                server._dispatch(self, "DELETE")

        return Handler

    def _send(
        self,
        h: BaseHTTPRequestHandler,
        status: int,
        body: bytes | dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        content_type: str = "application/fhir+json",
        truncate: bool = False,
    ) -> None:
        data = json.dumps(body).encode() if isinstance(body, dict) else (body or b"")
        h.send_response(status)
        for name, value in (headers or {}).items():
            h.send_header(name, value)
        if data:
            h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(data)))
        if truncate:
            h.send_header("Connection", "close")
            h.close_connection = True
        h.end_headers()
        h.wfile.write(data[: len(data) // 2] if truncate else data)
        h.wfile.flush()

    def _fault_for(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                where = (
                    fault.prefix[1:] in path
                    if fault.prefix.startswith("*")
                    else path.startswith(fault.prefix)
                )
                if fault.times > 0 and where and fault.method in (None, method):
                    fault.times -= 1
                    return fault
        return None

    def _authorised(self, h: BaseHTTPRequestHandler) -> bool:
        if self.auth == "none":
            return True
        value = h.headers.get("Authorization", "")
        if not value.startswith("Bearer "):
            return False
        token = value[7:]
        if self.auth == "bearer":
            return secrets.compare_digest(token, self.static_token)
        with self._lock:
            expiry = self.tokens.get(token)
        return expiry is not None and expiry > time.monotonic()

    def _dispatch(self, h: BaseHTTPRequestHandler, method: str) -> None:
        url = urlsplit(h.path)
        path = url.path
        query = parse_qs(url.query, keep_blank_values=True)
        with self._lock:
            self.requests.append((method, h.path))
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        fault = self._fault_for(method, path)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and not fault.truncate and fault.status:
            self._send(
                h, fault.status, fault.body or _outcome("transient", "injected"), fault.headers
            )
            return
        try:
            if path == "/auth/token" and method == "POST":
                self._token(h, body)
                return
            if path == "/fhir/.well-known/smart-configuration":
                self._send(h, 200, self._smart_config(), content_type="application/json")
                return
            if path == "/fhir/metadata":
                self._send(h, 200, self._capabilities())
                return
            if not self._authorised(h):
                self._send(h, 401, _outcome("login", "a valid Bearer token is needed"))
                return
            parts = [p for p in path.removeprefix("/fhir").split("/") if p]
            if parts and parts[-1] == "$export" and method == "GET":
                self._kickoff(h, parts[:-1], query)
            elif parts[:1] == ["jobs"] and len(parts) == 2:
                self._job(h, method, parts[1])
            elif parts[:1] == ["files"] and len(parts) == 3:
                self._file(h, parts[1], parts[2], truncate=bool(fault and fault.truncate))
            elif parts[:1] == ["page"] and len(parts) == 1:
                self._page(h, query)
            elif len(parts) == 1 and method == "GET":
                self._search(h, parts[0], query)
            elif len(parts) == 2 and method == "GET":
                self._read(h, parts[0], parts[1])
            else:
                self._send(h, 404, _outcome("not-found", f"no route for {method} {path}"))
        except _BadRequest as exc:
            self._send(h, 400, _outcome("invalid", str(exc)))

    # ------------------------------------------------------------------ auth
    def _smart_config(self) -> dict[str, Any]:
        return {
            "token_endpoint": self.token_url,
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS384", "ES384"],
            "grant_types_supported": ["client_credentials"],
            "scopes_supported": ["system/*.read", "system/*.rs"],
        }

    def _token(self, h: BaseHTTPRequestHandler, body: bytes) -> None:
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        if form.get("grant_type") != "client_credentials":
            self._send(h, 400, {"error": "unsupported_grant_type"}, content_type="application/json")
            return
        if form.get("client_assertion_type") != JWT_BEARER:
            self._send(h, 400, {"error": "invalid_request"}, content_type="application/json")
            return
        assertion = form.get("client_assertion", "")
        try:
            unverified = jwt.decode(assertion, options={"verify_signature": False})
            client_id = unverified.get("iss")
            key = self.clients[client_id]
            claims = jwt.decode(
                assertion,
                key,
                algorithms=["RS384", "ES384"],
                audience=self.token_url,
                options={"require": ["iss", "sub", "aud", "exp", "jti"]},
            )
            if claims["sub"] != client_id or claims["exp"] > time.time() + 300:
                raise jwt.InvalidTokenError("sub or exp")
            with self._lock:
                if claims["jti"] in self._jtis:
                    raise jwt.InvalidTokenError("jti reused")
                self._jtis.add(claims["jti"])
        except (jwt.InvalidTokenError, KeyError):
            self._send(h, 401, {"error": "invalid_client"}, content_type="application/json")
            return
        token = secrets.token_urlsafe(24)
        with self._lock:
            self.tokens[token] = time.monotonic() + self.token_lifetime
            self.tokens_issued += 1
        self._send(
            h,
            200,
            {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": self.token_lifetime,
                "scope": form.get("scope", "system/*.read"),
            },
            content_type="application/json",
        )

    def _capabilities(self) -> dict[str, Any]:
        security: dict[str, Any] = {}
        if self.auth == "smart":
            security = {
                "extension": [
                    {
                        "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                        "extension": [{"url": "token", "valueUri": self.token_url}],
                    }
                ],
                "service": [{"coding": [{"code": "SMART-on-FHIR"}]}],
            }
        export = [
            {
                "name": "export",
                "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export",
            }
        ]
        rest: dict[str, Any] = {
            "mode": "server",
            "resource": [
                {"type": t, "interaction": [{"code": "search-type"}, {"code": "read"}]}
                for t in sorted(
                    {
                        "Patient",
                        "Location",
                        "Organization",
                        "Practitioner",
                        "Medication",
                        *PATIENT_REFERENCE_FIELDS,
                    }
                )
            ],
        }
        if security:
            rest["security"] = security
        if self.bulk:
            rest["operation"] = export
        return {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "kind": "instance",
            "fhirVersion": "4.0.1",
            "format": ["json"],
            "rest": [rest],
        }

    # ------------------------------------------------------------------ search
    def _matches(self, rtype: str, entry: _Entry, params: dict[str, list[str]]) -> bool:
        resource = entry.resource
        for name, values in params.items():
            value = values[-1]
            if name in ("_count", "_format", "_total", "_sort"):
                continue
            if name == "_lastUpdated":
                for v in values:
                    op, instant = (v[:2], v[2:]) if v[:2] in ("gt", "ge", "lt", "le") else ("eq", v)
                    when = _parse_instant(instant)
                    ok = {
                        "gt": entry.stamp > when,
                        "ge": entry.stamp >= when,
                        "lt": entry.stamp < when,
                        "le": entry.stamp <= when,
                        "eq": entry.stamp == when,
                    }[op]
                    if not ok:
                        return False
            elif name == "_id":
                if resource.get("id") not in value.split(","):
                    return False
            elif name in ("patient", "subject"):
                wanted = {v if "/" in v else f"Patient/{v}" for v in value.split(",")}
                if not wanted & set(_refs(resource, rtype)):
                    return False
            elif rtype == "Encounter" and name == "status":
                if resource.get("status") not in value.split(","):
                    return False
            elif rtype == "Encounter" and name == "class":
                code = (resource.get("class") or {}).get("code")
                if code not in {v.split("|")[-1] for v in value.split(",")}:
                    return False
            elif rtype == "Encounter" and name == "location":
                wanted = {v if "/" in v else f"Location/{v}" for v in value.split(",")}
                have = {
                    (loc.get("location") or {}).get("reference")
                    for loc in resource.get("location") or []
                }
                if not wanted & have:
                    return False
            else:
                raise _BadRequest(f"unknown search parameter {name!r} for {rtype}")
        return True

    def _select(self, rtype: str, params: dict[str, list[str]]) -> list[dict[str, Any]]:
        with self._lock:
            return [
                e.resource
                for (t, _), e in sorted(self._entries.items(), key=lambda kv: kv[0])
                if t == rtype and self._matches(rtype, e, params)
            ]

    def _bundle_page(self, snapshot: str, offset: int, count: int) -> dict[str, Any]:
        with self._lock:
            results = self._pages.get(snapshot)
        if results is None:
            raise _BadRequest("the search results expired; run the search again")
        chunk = results[offset : offset + count]
        links = [
            {
                "relation": "self",
                "url": f"{self.base_url}/page?_snapshot={snapshot}&_offset={offset}&_count={count}",
            }
        ]
        if offset + count < len(results):
            links.append(
                {
                    "relation": "next",
                    "url": f"{self.base_url}/page?_snapshot={snapshot}"
                    f"&_offset={offset + count}&_count={count}",
                }
            )
        return {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(results),
            "link": links,
            "entry": [
                {
                    "fullUrl": f"{self.base_url}/{r['resourceType']}/{r['id']}",
                    "resource": r,
                    "search": {"mode": "match"},
                }
                for r in chunk
            ],
        }

    def _search(self, h: BaseHTTPRequestHandler, rtype: str, query: dict[str, list[str]]) -> None:
        count = min(int(query.get("_count", [str(self.page_size)])[-1]), self.page_size)
        results = self._select(rtype, query)
        snapshot = secrets.token_hex(6)
        with self._lock:
            self._pages[snapshot] = results
        self._send(h, 200, self._bundle_page(snapshot, 0, count))

    def _page(self, h: BaseHTTPRequestHandler, query: dict[str, list[str]]) -> None:
        snapshot = query.get("_snapshot", [""])[-1]
        offset = int(query.get("_offset", ["0"])[-1])
        count = int(query.get("_count", [str(self.page_size)])[-1])
        self._send(h, 200, self._bundle_page(snapshot, offset, count))

    def _read(self, h: BaseHTTPRequestHandler, rtype: str, rid: str) -> None:
        with self._lock:
            entry = self._entries.get((rtype, rid))
        if entry is None:
            self._send(h, 404, _outcome("not-found", f"{rtype}/{rid} is not known"))
        else:
            self._send(h, 200, entry.resource)

    # ------------------------------------------------------------------ bulk
    def _kickoff(
        self, h: BaseHTTPRequestHandler, level: list[str], query: dict[str, list[str]]
    ) -> None:
        if not self.bulk:
            self._send(h, 404, _outcome("not-supported", "this server has no $export"))
            return
        if h.headers.get("Prefer") != "respond-async":
            self._send(h, 400, _outcome("invalid", "Prefer: respond-async is required"))
            return
        types = [t for v in query.get("_type", []) for t in v.split(",") if t]
        since = _parse_instant(query["_since"][-1]) if query.get("_since") else None
        filters: dict[str, list[dict[str, list[str]]]] = {}
        for value in query.get("_typeFilter", []):
            for part in value.split(","):
                rtype, _, q = part.partition("?")
                filters.setdefault(rtype, []).append(parse_qs(q))
        group: set[str] | None = None
        if level[:1] == ["Group"] and len(level) == 2:
            with self._lock:
                entry = self._entries.get(("Group", level[1]))
            if entry is None:
                self._send(h, 404, _outcome("not-found", f"Group/{level[1]} is not known"))
                return
            group = {m["entity"]["reference"] for m in entry.resource.get("member", [])}
        transaction_time = self.now()
        job_id = secrets.token_hex(8)
        job = _Job(
            job_id,
            transaction_time,
            f"{self.base_url}{h.path.removeprefix('/fhir')}",
            {},
            [],
            [],
            [],
        )
        with self._lock:
            if since is None:
                entries = list(self._entries.items())
            else:  # through the index: only what was written after `since`
                start = bisect.bisect_right(self._order, since, key=lambda item: item[0])
                entries = [
                    ((rtype, rid), entry)
                    for stamp, rtype, rid in self._order[start:]
                    if (entry := self._entries.get((rtype, rid))) is not None
                    and entry.stamp == stamp
                ]
            deleted = [
                d for d in self._deleted if since is not None and since < d[2] <= transaction_time
            ]
            self._jobs[job_id] = job
        # The files are written in a thread, as a real server runs the job after answering
        # the kick-off (a 10,000-patient export takes minutes; the kick-off must not).
        threading.Thread(
            target=self._write_job,
            args=(job, entries, deleted, since, types, level, group, filters),
            daemon=True,
        ).start()
        self._send(h, 202, None, {"Content-Location": f"{self.base_url}/jobs/{job_id}"})

    def _write_job(
        self,
        job: _Job,
        entries: list[tuple[tuple[str, str], _Entry]],
        deleted: list[tuple[str, str, datetime]],
        since: datetime | None,
        types: list[str],
        level: list[str],
        group: set[str] | None,
        filters: dict[str, list[dict[str, list[str]]]],
    ) -> None:
        job_id, transaction_time = job.id, job.transaction_time
        files, output = job.files, job.output
        by_type: dict[str, list[bytes]] = {}
        entries.sort(key=lambda kv: kv[0])
        for (rtype, _), entry in entries:
            if entry.stamp > transaction_time or (since is not None and entry.stamp <= since):
                continue
            if types and rtype not in types:
                continue
            if level and rtype not in PATIENT_REFERENCE_FIELDS and rtype != "Patient":
                continue  # patient-level exports hold the compartment only
            if group is not None and not group & set(_refs(entry.resource, rtype)):
                continue
            if rtype in filters and not any(self._matches(rtype, entry, f) for f in filters[rtype]):
                continue
            by_type.setdefault(rtype, []).append(json.dumps(entry.resource).encode())
        for rtype, lines in by_type.items():
            name = f"{rtype}.ndjson"
            files[name] = b"".join(line + b"\n" for line in lines)
            output.append(
                {
                    "type": rtype,
                    "url": f"{self.base_url}/files/{job_id}/{name}",
                    "count": len(lines),
                }
            )
        if deleted:
            bundle = {
                "resourceType": "Bundle",
                "type": "transaction",
                "entry": [
                    {"request": {"method": "DELETE", "url": f"{t}/{i}"}} for t, i, _ in deleted
                ],
            }
            files["deleted.ndjson"] = json.dumps(bundle).encode() + b"\n"
            job.deleted.append(
                {"type": "Bundle", "url": f"{self.base_url}/files/{job_id}/deleted.ndjson"}
            )
        if self.export_errors:
            files["errors.ndjson"] = b"".join(
                json.dumps(e).encode() + b"\n" for e in self.export_errors
            )
            job.error.append(
                {"type": "OperationOutcome", "url": f"{self.base_url}/files/{job_id}/errors.ndjson"}
            )
        job.ready.set()

    def _job(self, h: BaseHTTPRequestHandler, method: str, job_id: str) -> None:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or job.cancelled:
            self._send(h, 404, _outcome("not-found", f"export job {job_id} is not known"))
            return
        if method == "DELETE":
            job.cancelled = True
            self._send(h, 202, None)
            return
        if not job.ready.wait(0.5):  # small exports are ready at once: no extra poll
            self._send(
                h, 202, None, {"X-Progress": "building files", "Retry-After": self.retry_after}
            )
            return
        job.polls += 1
        if job.polls <= self.polls_before_ready:
            progress = f"{int(100 * job.polls / (self.polls_before_ready + 1))}% done"
            self._send(h, 202, None, {"X-Progress": progress, "Retry-After": self.retry_after})
            return
        manifest = {
            "transactionTime": _instant(job.transaction_time),
            "request": job.request,
            "requiresAccessToken": self.auth != "none",
            "output": job.output,
            "error": job.error,
        }
        if job.deleted:
            manifest["deleted"] = job.deleted
        self._send(h, 200, manifest, content_type="application/json")

    def _file(self, h: BaseHTTPRequestHandler, job_id: str, name: str, *, truncate: bool) -> None:
        with self._lock:
            job = self._jobs.get(job_id)
            expired = f"{job_id}/{name}" in self._expired
        if expired:
            self._send(h, 410, _outcome("expired", "this export file has expired"))
            return
        if job is None or name not in job.files:
            self._send(h, 404, _outcome("not-found", "no such export file"))
            return
        self._send(
            h, 200, job.files[name], content_type="application/fhir+ndjson", truncate=truncate
        )

    def iter_requests(self, prefix: str) -> Iterator[tuple[str, str]]:
        with self._lock:
            snapshot = list(self.requests)
        return (r for r in snapshot if r[1].startswith(prefix))


class _BadRequest(Exception):
    pass

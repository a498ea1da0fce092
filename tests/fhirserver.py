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

Storage: the resources live in an SQLite database (with indexes on `_lastUpdated` and on the
patient compartment references) and each export job's NDJSON files on disk, both in a temporary
folder of the server's own that `stop()` deletes; files are streamed to the client. The server's
memory thus does not grow with the data set (the 10,000-patient demo held as Python objects took
13 GB). Generated demo data only: this is plaintext on disk, for tests and benchmarks, never for
real patient data. An export reads one SQLite snapshot taken at its kick-off (WAL mode: writes
after the kick-off go on and show in the next `_since` export), as the in-memory version did.
"""

from __future__ import annotations

import json
import secrets
import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
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
    files: dict[str, Path]  # name -> NDJSON file in the server's folder
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


def _micros(value: datetime) -> int:
    """A stamp as the integer microseconds since the epoch (the database's sortable form)."""
    delta = value.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _from_micros(value: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=value)


_SCHEMA = """
PRAGMA journal_mode = WAL;
PRAGMA synchronous = OFF;
CREATE TABLE resources (
    n INTEGER PRIMARY KEY,  -- insertion order (what `resources()` lists first)
    type TEXT NOT NULL, id TEXT NOT NULL, stamp INTEGER NOT NULL, body BLOB NOT NULL,
    UNIQUE (type, id)
);
CREATE INDEX resources_stamp ON resources (stamp);
CREATE TABLE refs (type TEXT NOT NULL, id TEXT NOT NULL, ref TEXT NOT NULL);
CREATE INDEX refs_ref ON refs (ref, type);
CREATE INDEX refs_key ON refs (type, id);
"""


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
        # The data and the export files: in a folder of the server's own, deleted by stop().
        self._dir = Path(tempfile.mkdtemp(prefix="wardcopy-fhirtest-"))
        self._db_path = self._dir / "resources.sqlite"
        # One connection for writes and small reads, used under `_lock` (any thread); each
        # export job reads through a connection of its own (a snapshot, see `_kickoff`).
        self._db = sqlite3.connect(self._db_path, check_same_thread=False, isolation_level=None)
        self._db.executescript(_SCHEMA)
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
        """Stop serving and delete the server's folder (database and export files)."""
        self._httpd.shutdown()
        self._httpd.server_close()
        with self._lock:
            self._db.close()
        shutil.rmtree(self._dir, ignore_errors=True)

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
        hour ago (data that was there long before the first sync); returns the count. Reads
        the files line by line (memory does not grow with the data set)."""
        stamp = _micros(self.now() - timedelta(hours=1))
        count = 0
        with self._lock:
            self._db.execute("BEGIN")
            try:
                for path in sorted(Path(folder).rglob("*.ndjson")):
                    with path.open("rb") as lines:
                        batch: list[tuple[str, str, bytes]] = []
                        for line in lines:
                            if line.strip():
                                resource = json.loads(line)
                                batch.append((resource["resourceType"], resource["id"], line))
                                count += 1
                            if len(batch) >= 5000:
                                self._store(batch, stamp)
                                batch = []
                        self._store(batch, stamp)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return count

    def _store(self, rows: Iterable[tuple[str, str, bytes]], stamp: int) -> None:
        """Write (type, id, JSON) rows with `stamp` and their compartment references; the
        caller holds `_lock` and a transaction. A resource written again keeps its place."""
        rows = list(rows)
        self._db.executemany(
            "INSERT INTO resources (type, id, stamp, body) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (type, id) DO UPDATE SET stamp = excluded.stamp, body = excluded.body",
            [(t, i, stamp, body.strip()) for t, i, body in rows],
        )
        self._db.executemany("DELETE FROM refs WHERE type = ? AND id = ?", [r[:2] for r in rows])
        self._db.executemany(
            "INSERT INTO refs (type, id, ref) VALUES (?, ?, ?)",
            [
                (t, i, ref)
                for t, i, body in rows
                if t in PATIENT_REFERENCE_FIELDS or t == "Patient"
                for ref in set(_refs(json.loads(body), t))
            ],
        )

    def put(self, resource: dict[str, Any]) -> None:
        """Create or update a resource, stamping meta.lastUpdated with the server clock."""
        resource = json.loads(json.dumps(resource))
        # Stamped and written under one lock: an export's kick-off (stamp and snapshot under
        # the same lock) sees every write stamped before its transactionTime.
        with self._lock:
            stamp = self.now()
            resource.setdefault("meta", {})["lastUpdated"] = _instant(stamp)
            body = json.dumps(resource).encode()
            self._db.execute("BEGIN")
            self._store([(resource["resourceType"], resource["id"], body)], _micros(stamp))
            self._db.execute("COMMIT")

    def get(self, rtype: str, rid: str) -> dict[str, Any]:
        """The stored resource (a copy). Raises KeyError when it is not stored."""
        entry = self._entry(rtype, rid)
        if entry is None:
            raise KeyError((rtype, rid))
        return entry.resource

    def _entry(self, rtype: str, rid: str) -> _Entry | None:
        with self._lock:
            row = self._db.execute(
                "SELECT body, stamp FROM resources WHERE type = ? AND id = ?", (rtype, rid)
            ).fetchone()
        return None if row is None else _Entry(json.loads(row[0]), _from_micros(row[1]))

    def delete(self, rtype: str, rid: str) -> None:
        """Delete a resource (KeyError when it is not stored); the next `_since` export lists
        it in `deleted`."""
        with self._lock:
            stamp = self.now()
            self._db.execute("BEGIN")
            gone = self._db.execute(
                "DELETE FROM resources WHERE type = ? AND id = ?", (rtype, rid)
            ).rowcount
            self._db.execute("DELETE FROM refs WHERE type = ? AND id = ?", (rtype, rid))
            self._db.execute("COMMIT")
            if not gone:
                raise KeyError((rtype, rid))
            self._deleted.append((rtype, rid, stamp))

    def resources(self, rtype: str) -> list[dict[str, Any]]:
        """Every stored resource of `rtype` (copies), in the order first written. For small
        data sets; `iter_resources` streams."""
        return list(self.iter_resources(rtype))

    def iter_resources(self, rtype: str) -> Iterator[dict[str, Any]]:
        """Every stored resource of `rtype` (copies), in the order first written, read in
        batches (memory does not grow with the data set; writes in between may show)."""
        last = 0
        while True:
            with self._lock:
                rows = self._db.execute(
                    "SELECT n, body FROM resources WHERE type = ? AND n > ? ORDER BY n LIMIT 2000",
                    (rtype, last),
                ).fetchall()
            if not rows:
                return
            for _, body in rows:
                yield json.loads(body)
            last = rows[-1][0]

    def compartment(self, patient_ref: str, rtype: str) -> list[dict[str, Any]]:
        """The resources of `rtype` in the compartment of `patient_ref` ("Patient/<id>"),
        through the reference index (copies)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT r.body FROM refs JOIN resources r ON r.type = refs.type AND r.id = refs.id"
                " WHERE refs.ref = ? AND refs.type = ? ORDER BY r.n",
                (patient_ref, rtype),
            ).fetchall()
        return [json.loads(body) for (body,) in rows]

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
        """Matches of a search, sorted by id. A `patient` / `subject` search reads its
        candidates through the reference index, any other one every resource of the type."""
        wanted: set[str] | None = None
        for name in ("patient", "subject"):
            if name in params:
                values = params[name][-1].split(",")
                wanted = {v if "/" in v else f"Patient/{v}" for v in values}
        with self._lock:
            if wanted is None:
                rows = self._db.execute(
                    "SELECT body, stamp FROM resources WHERE type = ? ORDER BY id", (rtype,)
                ).fetchall()
            else:
                marks = ",".join("?" * len(wanted))
                rows = self._db.execute(
                    "SELECT body, stamp FROM resources WHERE type = ? AND id IN (SELECT id FROM"
                    f" refs WHERE type = ? AND ref IN ({marks})) ORDER BY id",
                    (rtype, rtype, *sorted(wanted)),
                ).fetchall()
        entries = (_Entry(json.loads(body), _from_micros(stamp)) for body, stamp in rows)
        return [e.resource for e in entries if self._matches(rtype, e, params)]

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
        entry = self._entry(rtype, rid)
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
            entry = self._entry("Group", level[1])
            if entry is None:
                self._send(h, 404, _outcome("not-found", f"Group/{level[1]} is not known"))
                return
            group = {m["entity"]["reference"] for m in entry.resource.get("member", [])}
        job_id = secrets.token_hex(8)
        # The job reads one snapshot of the database, taken with its transactionTime under the
        # write lock: a read transaction on a connection of its own (WAL: writes after the
        # kick-off go on beside it).
        snapshot = sqlite3.connect(self._db_path, check_same_thread=False, isolation_level=None)
        with self._lock:
            transaction_time = self.now()
            snapshot.execute("BEGIN")
            snapshot.execute("SELECT count(*) FROM resources WHERE n = 0").fetchone()
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
            deleted = [
                d for d in self._deleted if since is not None and since < d[2] <= transaction_time
            ]
            self._jobs[job_id] = job
        # The files are written in a thread, as a real server runs the job after answering
        # the kick-off (a 10,000-patient export takes minutes; the kick-off must not).
        threading.Thread(
            target=self._write_job,
            args=(job, snapshot, deleted, since, types, level, group, filters),
            daemon=True,
        ).start()
        self._send(h, 202, None, {"Content-Location": f"{self.base_url}/jobs/{job_id}"})

    def _write_job(
        self,
        job: _Job,
        snapshot: sqlite3.Connection,
        deleted: list[tuple[str, str, datetime]],
        since: datetime | None,
        types: list[str],
        level: list[str],
        group: set[str] | None,
        filters: dict[str, list[dict[str, list[str]]]],
    ) -> None:
        """Write the job's files into the server's folder from `snapshot` (closed after) and
        mark the job ready. With `_since`, only what was written after it is read (the
        `_lastUpdated` index). A resource's line is its stored JSON as it is."""
        job_id, transaction_time = job.id, job.transaction_time
        files, output = job.files, job.output
        folder = self._dir / "jobs" / job_id
        folder.mkdir(parents=True)
        handles: dict[str, Any] = {}
        counts: dict[str, int] = {}
        query = "SELECT type, body, stamp FROM resources WHERE stamp <= ?"
        args: list[Any] = [_micros(transaction_time)]
        if since is not None:
            query += " AND stamp > ?"
            args.append(_micros(since))
        if types:
            query += f" AND type IN ({','.join('?' * len(types))})"
            args.extend(types)
        try:
            for rtype, body, stamp in snapshot.execute(query + " ORDER BY type, id", args):
                if level and rtype not in PATIENT_REFERENCE_FIELDS and rtype != "Patient":
                    continue  # patient-level exports hold the compartment only
                if group is not None or rtype in filters:
                    entry = _Entry(json.loads(body), _from_micros(stamp))
                    if group is not None and not group & set(_refs(entry.resource, rtype)):
                        continue
                    if rtype in filters and not any(
                        self._matches(rtype, entry, f) for f in filters[rtype]
                    ):
                        continue
                if rtype not in handles:
                    name = f"{rtype}.ndjson"
                    files[name] = folder / name
                    handles[rtype] = files[name].open("wb")
                    counts[rtype] = 0
                handles[rtype].write(body + b"\n")
                counts[rtype] += 1
        finally:
            snapshot.close()
            for handle in handles.values():
                handle.close()
        for rtype, count in counts.items():
            output.append(
                {
                    "type": rtype,
                    "url": f"{self.base_url}/files/{job_id}/{rtype}.ndjson",
                    "count": count,
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
            files["deleted.ndjson"] = folder / "deleted.ndjson"
            files["deleted.ndjson"].write_bytes(json.dumps(bundle).encode() + b"\n")
            job.deleted.append(
                {"type": "Bundle", "url": f"{self.base_url}/files/{job_id}/deleted.ndjson"}
            )
        if self.export_errors:
            files["errors.ndjson"] = folder / "errors.ndjson"
            files["errors.ndjson"].write_bytes(
                b"".join(json.dumps(e).encode() + b"\n" for e in self.export_errors)
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
        self._send_file(h, job.files[name], truncate=truncate)

    def _send_file(self, h: BaseHTTPRequestHandler, path: Path, *, truncate: bool) -> None:
        """Stream an NDJSON file (or its first half, with a Content-Length of the whole)."""
        size = path.stat().st_size
        h.send_response(200)
        h.send_header("Content-Type", "application/fhir+ndjson")
        h.send_header("Content-Length", str(size))
        if truncate:
            h.send_header("Connection", "close")
            h.close_connection = True
        h.end_headers()
        left = size // 2 if truncate else size
        with path.open("rb") as data:
            while left > 0:
                chunk = data.read(min(left, 1 << 20))
                if not chunk:
                    break
                h.wfile.write(chunk)
                left -= len(chunk)
        h.wfile.flush()

    def iter_requests(self, prefix: str) -> Iterator[tuple[str, str]]:
        with self._lock:
            snapshot = list(self.requests)
        return (r for r in snapshot if r[1].startswith(prefix))


class _BadRequest(Exception):
    pass

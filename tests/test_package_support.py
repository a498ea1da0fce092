"""Shared helpers for the security-core tests (keys, package, publish, receive, verify).

Not a test module itself (it defines no tests); the other test files import it by name, which
works because pytest puts tests/ on sys.path (no tests/__init__.py).
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync import device, keys, publish
from sync.model import PatientRecord, Stay
from sync.snapshot import SnapshotMeta, new_key, write_snapshot

#: A made-up surname that must never appear in plaintext on disk.
MARKER = "Quetzalkoatlowski"
DATA_AS_OF = datetime(2026, 11, 30, 6, 30, tzinfo=UTC)


def make_snapshot(path: Path, ward: str, patients: int = 3, key: bytes | None = None) -> bytes:
    """Write a real SQLCipher snapshot of `patients` made-up records; returns its key."""
    key = key or new_key()
    records = [
        PatientRecord(
            id=f"p{i}",
            mrn=f"MRN{i:05d}",
            name=f"{MARKER}, Testperson{i}",
            family=MARKER,
            birth_date=date(1950, 1, 1 + i),
            stay=Stay(ward_id=ward, ward=ward, room=f"{i + 1}", bed="A"),
        )
        for i in range(patients)
    ]
    meta = SnapshotMeta(
        ward_id=ward, ward_name=ward, data_as_of=DATA_AS_OF, counts={"patients": patients}
    )
    write_snapshot(path, key, meta, records)
    return key


@dataclass
class Server:
    """A sync server: home, outbox, signing key."""

    home: Path
    outbox: Path
    key: Ed25519PrivateKey

    def publish(
        self, ward: str, patients: int = 3, keep: int = publish.DEFAULT_KEEP
    ) -> publish.PublishResult:
        work = self.home / "work"
        work.mkdir(parents=True, exist_ok=True)
        db = work / f"{ward}.db"
        db.unlink(missing_ok=True)
        db_key = make_snapshot(db, ward, patients)
        try:
            return publish.publish_snapshot(
                sync_home=self.home,
                outbox=self.outbox,
                ward=ward,
                payload_path=db,
                db_key=db_key,
                data_as_of=DATA_AS_OF,
                counts={"patients": patients},
                signing_key=self.key,
                keep=keep,
            )
        finally:
            db.unlink(missing_ok=True)

    def enrol(self, laptop: Laptop, ward: str) -> None:
        publish.enrol(self.home, ward, laptop.code, label="test laptop")


@dataclass
class Laptop:
    home: Path
    device_id: str
    code: str


def make_server(root: Path) -> Server:
    key, _ = keys.init_signing_key(root / "sync-home")
    return Server(root / "sync-home", root / "outbox", key)


def make_laptop(root: Path, server: Server | None, name: str = "laptop") -> Laptop:
    home = root / name
    init = device.init_device(home, use_keyring=False)
    if server is not None:
        device.pin_server_key(home, keys.signing_public_key_text(server.key.public_key()))
    return Laptop(home, init.identity.device_id, init.identity.enrolment_code)


@contextmanager
def serve_folder(
    folder: Path, mangle: Callable[[str, bytes], bytes] | None = None
) -> Iterator[str]:
    """Serve `folder` over real HTTP on 127.0.0.1 in a thread; yields the base URL. `mangle(path,
    body)` may alter a response body (e.g. cut it short while still announcing the full
    Content-Length, like a dropped connection)."""

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # quiet tests
            pass

        def do_GET(self) -> None:
            if mangle is None:
                super().do_GET()
                return
            path = Path(self.translate_path(self.path))
            if not path.is_file():
                self.send_error(404)
                return
            body = path.read_bytes()
            sent = mangle(self.path, body)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(sent)
            self.close_connection = True

    handler = functools.partial(Handler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)

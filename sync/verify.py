"""`wardcopy verify`: check a package file or everything installed on this laptop, collecting
every problem (like `restic check`) instead of stopping at the first.

Exit codes (docs/package-format.md §9): 0 no errors (warnings allowed), 1 errors found, 2 usage
error, 3 nothing readable to check, 4 not set up (no device key or pinned server key; the CLI
decides that one). Reads files only; never changes anything.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from sync import device, keys, package, receive
from sync.package import PackageError, PackageHeader, TrustedKey
from sync.snapshot import SnapshotError, SnapshotReader

__all__ = ["EXIT_ERRORS", "EXIT_OK", "EXIT_USAGE", "Problem", "exit_code", "verify_installed",
           "verify_package"]  # fmt: skip

EXIT_OK = 0
EXIT_ERRORS = 1
EXIT_USAGE = 2


@dataclass(frozen=True)
class Problem:
    """One finding. `where` names the file or item; `message` says what is wrong."""

    severity: Literal["error", "warning"]
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.where}: {self.message}"


def exit_code(problems: list[Problem]) -> int:
    """0 if there is no error-severity problem, else 1."""
    return EXIT_ERRORS if any(p.severity == "error" for p in problems) else EXIT_OK


def _integrity(db_path: Path, db_key: bytes, where: str, ward: str) -> list[Problem]:
    try:
        with SnapshotReader(db_path, db_key) as reader:
            found = [Problem("error", where, m) for m in reader.integrity_problems()]
            if reader.meta.ward_id != ward:
                found.append(
                    Problem("error", where, f"database is for ward {reader.meta.ward_id!r}")
                )
            return found
    except SnapshotError as exc:
        return [Problem("error", where, f"database does not open: {exc}")]


def verify_package(
    path: Path, trusted_key: TrustedKey, device_key: X25519PrivateKey | None = None
) -> list[Problem]:
    """Check one package file: header, signature, manifest, payload size and hash; with
    `device_key` also the wrapped key for this device and the database's integrity (the payload
    is copied, still encrypted, to a temp file for SQLCipher). Raises OSError only if `path`
    cannot be read at all (the CLI's exit code 3)."""
    where = str(path)
    with path.open("rb"):
        pass  # surface "missing / unreadable" as OSError before collecting problems
    try:
        header = package.read_header_file(path, trusted_key)
    except PackageError as exc:
        # Nothing after an unauthenticated header can be trusted, so checking stops here.
        return [Problem("error", where, f"{exc} (further checks skipped)")]
    problems: list[Problem] = []
    manifest = header.manifest
    size, sha = package.hash_payload_file(path, header.payload_offset)
    if size != manifest.payload.size:
        problems.append(
            Problem(
                "error", where, f"payload is {size} bytes, manifest says {manifest.payload.size}"
            )
        )
    if sha != manifest.payload.sha256:
        problems.append(Problem("error", where, "payload SHA-256 does not match the manifest"))
    if manifest.kind != "full":
        problems.append(Problem("warning", where, "delta package: this version cannot install it"))
    if not manifest.recipients:
        problems.append(Problem("warning", where, "no laptop is enrolled: nobody can open it"))
    if device_key is None:
        return problems
    try:
        db_key = package.unwrap_db_key(manifest, device_key)
    except PackageError as exc:
        problems.append(Problem("error", where, str(exc)))
        return problems
    if problems:
        return problems  # a damaged payload would only repeat itself in SQLCipher's checks
    problems += _check_payload_database(path, header, db_key, where)
    return problems


def _check_payload_database(
    path: Path, header: PackageHeader, db_key: bytes, where: str
) -> list[Problem]:
    # The payload is SQLCipher ciphertext, so a temp copy holds no plaintext.
    with tempfile.TemporaryDirectory(prefix="wardcopy-verify-") as tmp:
        copy = Path(tmp) / "snapshot.db"
        with path.open("rb") as src, copy.open("wb") as dst:
            src.seek(header.payload_offset)
            while chunk := src.read(1 << 20):
                dst.write(chunk)
        return _integrity(copy, db_key, where, header.manifest.ward)


def verify_installed(home: Path) -> list[Problem]:
    """Check the device identity, the pinned key, the stored roster and every installed snapshot
    of every ward (pointer, header signature, ward and sequence, wrapped key, payload size and
    hash, SQLCipher integrity), and leftovers of interrupted installs. Never raises for a problem
    it can describe."""
    problems: list[Problem] = []
    device_key: X25519PrivateKey | None = None
    try:
        ident = device.load_identity(home)
        device_key = device.load_device_key(home)
        if keys.device_id(device_key.public_key()) != ident.device_id:
            problems.append(Problem("error", "device", "private key does not match device.json"))
    except device.DeviceError as exc:
        problems.append(Problem("error", "device", str(exc)))
    try:
        pinned = device.pinned_server_key(home)
    except device.DeviceError as exc:
        problems.append(Problem("error", "device/server.pub", str(exc)))
        pinned = None
    if pinned is None:
        problems.append(Problem("error", "device/server.pub", "no server key is pinned"))
    try:
        receive.load_roster(home)
    except PackageError as exc:
        problems.append(Problem("error", "roster/roster.wcdoc", str(exc)))
    wards = receive.installed_wards(home)
    if not wards:
        problems.append(Problem("warning", "snapshots", "no snapshot is installed"))
    for ward in wards:
        problems += _verify_ward(home, ward, device_key, pinned is not None)
    return problems


def _verify_ward(
    home: Path, ward: str, device_key: X25519PrivateKey | None, have_pin: bool
) -> list[Problem]:
    problems: list[Problem] = []
    ward_dir = home / "snapshots" / ward
    pointer = receive.read_pointer(ward_dir)
    dirs = receive.installed_sequences(ward_dir)
    if pointer is None:
        problems.append(Problem("error", f"{ward}/current", "pointer is missing or damaged"))
    elif int(pointer["dir"]) not in dirs:
        problems.append(
            Problem("error", f"{ward}/current", f"points at {pointer['dir']}, which is missing")
        )
    for name in sorted(os.listdir(ward_dir)):
        if name.startswith((".incoming-", ".staging-")) or name.endswith(".tmp"):
            problems.append(Problem("warning", f"{ward}/{name}", "left by an interrupted receive"))
    for seq in dirs:
        snap_dir = ward_dir / f"{seq:010d}"
        where = f"{ward}/{snap_dir.name}"
        is_current = pointer is not None and pointer["dir"] == snap_dir.name
        severity: Literal["error", "warning"] = "error" if is_current else "warning"
        if not have_pin:
            continue
        try:
            header = receive.read_installed_header(home, snap_dir)
        except PackageError as exc:
            problems.append(Problem(severity, where, str(exc)))
            continue
        m = header.manifest
        if m.ward != ward or m.sequence != seq:
            problems.append(Problem(severity, where, f"holds package {m.ward}/{m.sequence}"))
        db_path = snap_dir / "snapshot.db"
        try:
            size, sha = package.hash_payload_file(db_path, 0)
        except OSError as exc:
            problems.append(Problem(severity, where, f"snapshot.db unreadable: {exc.strerror}"))
            continue
        try:
            package.check_payload(m, size, sha)
        except PackageError as exc:
            problems.append(Problem(severity, where, str(exc)))
            continue
        if device_key is None:
            continue
        try:
            db_key = package.unwrap_db_key(m, device_key)
        except PackageError as exc:
            problems.append(Problem(severity, where, str(exc)))
            continue
        problems += [
            Problem(severity, p.where, p.message) for p in _integrity(db_path, db_key, where, ward)
        ]
    return problems

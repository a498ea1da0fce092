"""Laptop side of distribution: fetch the newest package of a ward (from a folder or over
HTTP(S)), verify it completely, install it atomically, keep the last good ones, and open the
installed snapshot.

Layout under WARDCOPY_HOME (directories mode 0700, files 0600):
```
snapshots/<ward>/<sequence:010d>/snapshot.db      the SQLCipher payload, byte for byte
snapshots/<ward>/<sequence:010d>/package.header   magic || length || manifest || signature
snapshots/<ward>/current                          {"dir", "sequence", "sha256", ...} (os.replace)
roster/roster.wcdoc                               the last verified signed roster
```
Install order (crash-safe, restic-style: data first, pointer last): download into a temp file
in snapshots/<ward>/, verify, copy the payload into a staging dir, fsync, integrity-check with
SQLCipher, rename the staging dir to its final name, replace `current`, prune. A crash at any
step leaves the previous `current` in place and openable; leftovers are removed on the next run.

Nothing here writes plaintext: the payload is SQLCipher-encrypted, the database key lives only in
memory, and SQLCipher keeps temp data in RAM (sync.snapshot).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import re
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal
from urllib.parse import urljoin, urlparse

import httpx
import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from sync import device, fsutil, keys, package
from sync.package import WARD_RE, Manifest, PackageError, PackageHeader
from sync.snapshot import SnapshotError, SnapshotReader

__all__ = [
    "INSTALL_STEPS",
    "KEEP_INSTALLED",
    "InstalledSnapshot",
    "ReceiveError",
    "ReceiveResult",
    "installed_wards",
    "load_roster",
    "open_installed",
    "receive",
]

KEEP_INSTALLED = 3
#: Named steps at which `receive(fault=...)` is called, in order.
INSTALL_STEPS = (
    "fetched",
    "verified",
    "payload-written",
    "fsynced",
    "integrity-checked",
    "installed",
    "pointer-written",
    "pruned",
)
MAX_PACKAGE_SIZE = 8 << 30  # refuse absurd LATEST sizes before downloading
_LATEST_MAX = 64 << 10
_ROSTER_MAX = package.MAX_DOCUMENT_BODY + package.MAX_MANIFEST + 256
_DIR_RE = re.compile(r"\d{10}")
_FILE_RE = re.compile(r"\d{10}\.wcpkg")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1 << 20

Fault = Callable[[str], None]


class ReceiveError(PackageError):
    """Receiving or opening failed. `reason` adds to PackageError's: "source" (cannot read the
    folder or URL), "no-package", "device" (no device key), "untrusted" (no pinned server key),
    "not-installed", "ward-choice"."""


@dataclass(frozen=True)
class ReceiveResult:
    """What `receive` did. `status` is "installed" or "already-installed"."""

    ward: str
    sequence: int
    status: Literal["installed", "already-installed"]
    data_as_of: datetime
    path: Path
    previous_sequence: int | None
    roster: Literal["updated", "unchanged", "absent", "refused"] = "absent"
    warnings: tuple[str, ...] = ()


@dataclass
class InstalledSnapshot:
    """An opened installed snapshot. Close `reader` (or call `close()`) when done."""

    ward: str
    sequence: int
    path: Path
    reader: SnapshotReader
    manifest: Manifest
    fallback_reason: str | None = None
    tried: list[str] = field(default_factory=list)

    @property
    def data_as_of(self) -> datetime:
        return self.manifest.data_as_of

    def close(self) -> None:
        self.reader.close()


# --- sources ------------------------------------------------------------------------------------


class _Source:
    """A folder or an HTTP(S) base URL holding an outbox."""

    def __init__(self, source: str, timeout: float) -> None:
        self.source = source
        parsed = urlparse(source)
        self.is_url = parsed.scheme in ("http", "https")
        self.client: httpx.Client | None = None
        if self.is_url:
            self.base = source if source.endswith("/") else source + "/"
            self.client = httpx.Client(
                timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
                follow_redirects=True,
            )
        else:
            self.root = Path(source)
            if not self.root.is_dir():
                raise ReceiveError("source", f"{source} is not a folder or an http(s) URL")

    def close(self) -> None:
        if self.client is not None:
            self.client.close()

    def _url(self, name: str) -> str:
        return urljoin(self.base, name)

    def read_small(self, name: str, limit: int) -> bytes | None:
        """The file `name` (relative), or None if it does not exist. Raises ReceiveError."""
        if self.client is None:
            path = self.root / name
            try:
                if path.stat().st_size > limit:
                    raise ReceiveError("source", f"{path} is larger than expected")
                return path.read_bytes()
            except FileNotFoundError:
                return None
            except OSError as exc:
                raise ReceiveError("source", f"cannot read {path}: {exc.strerror}") from None
        chunks: list[bytes] = []
        size = 0
        try:
            with self.client.stream("GET", self._url(name)) as response:
                if response.status_code == 404:
                    return None
                if response.status_code != 200:
                    raise ReceiveError("source", f"{self._url(name)}: HTTP {response.status_code}")
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise ReceiveError("source", f"{self._url(name)} is larger than expected")
                    chunks.append(chunk)
        except httpx.HTTPError as exc:
            raise ReceiveError(
                "source", f"cannot fetch {self._url(name)}: {type(exc).__name__} {exc}"
            ) from None
        return b"".join(chunks)

    def fetch_to(self, name: str, out: IO[bytes], limit: int) -> str:
        """Copy `name` into `out`, at most `limit` bytes (more means the file is not what LATEST
        announced). Returns the SHA-256 of what was copied. Raises ReceiveError."""
        digest = hashlib.sha256()
        size = 0

        def take(chunk: bytes) -> None:
            nonlocal size
            size += len(chunk)
            if size > limit:
                raise ReceiveError(
                    "payload-size", f"{name} is larger than its LATEST pointer announced"
                )
            digest.update(chunk)
            out.write(chunk)

        if self.client is None:
            path = self.root / name
            try:
                with path.open("rb") as fh:
                    while chunk := fh.read(_CHUNK):
                        take(chunk)
            except FileNotFoundError:
                raise ReceiveError(
                    "no-package", f"{path} is missing (pruned while fetching? try again)"
                ) from None
            except OSError as exc:
                raise ReceiveError("source", f"cannot read {path}: {exc.strerror}") from None
            return digest.hexdigest()
        url = self._url(name)
        try:
            with self.client.stream("GET", url) as response:
                if response.status_code != 200:
                    raise ReceiveError("no-package", f"{url}: HTTP {response.status_code}")
                for chunk in response.iter_bytes(_CHUNK):
                    take(chunk)
        except httpx.HTTPError as exc:
            # An interrupted transfer (connection closed early, short body) lands here.
            raise ReceiveError(
                "truncated", f"download of {url} failed or was cut short: {type(exc).__name__}"
            ) from None
        return digest.hexdigest()


# --- small file helpers -------------------------------------------------------------------------


def _mkdir_private(path: Path) -> None:
    # Not strict: a home on a file system without Unix modes must still receive.
    fsutil.ensure_private_dir(path, strict=False)


def _snapshots(home: Path) -> Path:
    return home / "snapshots"


def read_pointer(ward_dir: Path) -> dict[str, Any] | None:
    """The `current` pointer if it is well-formed, else None."""
    try:
        data = orjson.loads((ward_dir / "current").read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("sequence"), int)
        or not isinstance(data.get("dir"), str)
        or not _DIR_RE.fullmatch(data["dir"])
        or not isinstance(data.get("sha256"), str)
    ):
        return None
    return data


def installed_sequences(ward_dir: Path) -> list[int]:
    """Sequences of installed snapshot dirs, newest first."""
    try:
        names = os.listdir(ward_dir)
    except OSError:
        return []
    return sorted((int(n) for n in names if _DIR_RE.fullmatch(n)), reverse=True)


def _installed_sequence(ward_dir: Path) -> tuple[int | None, str | None]:
    """(sequence, package sha256) of what is installed. If the pointer is missing or damaged but
    snapshot dirs exist (a crash between rename and pointer), the pointer is rewritten for the
    newest dir first: every dir was fully verified before its rename."""
    pointer = read_pointer(ward_dir)
    if pointer is None:
        dirs = installed_sequences(ward_dir)
        if not dirs:
            return None, None
        snap_dir = ward_dir / f"{dirs[0]:010d}"
        digest = hashlib.sha256()
        try:
            for name in ("package.header", "snapshot.db"):
                with (snap_dir / name).open("rb") as fh:
                    while chunk := fh.read(_CHUNK):
                        digest.update(chunk)
        except OSError:
            return dirs[0], None  # unreadable: same-sequence re-install is refused, newer allowed
        pointer = {"format": 1, "dir": snap_dir.name, "sequence": dirs[0]}
        pointer["sha256"] = digest.hexdigest()
        fsutil.atomic_write(ward_dir / "current", orjson.dumps(pointer))
    return int(pointer["sequence"]), str(pointer["sha256"])


def _cleanup_leftovers(ward_dir: Path) -> None:
    """Remove temp downloads and staging dirs left by an interrupted receive."""
    try:
        names = os.listdir(ward_dir)
    except OSError:
        return
    for name in names:
        path = ward_dir / name
        if name.startswith(".incoming-") or (name.startswith(".") and name.endswith(".tmp")):
            path.unlink(missing_ok=True)
        elif name.startswith(".staging-"):
            shutil.rmtree(path, ignore_errors=True)


# --- receive ------------------------------------------------------------------------------------


def _trusted_key(home: Path, src: _Source, trust_server_key: bool) -> Ed25519PublicKey:
    pinned = device.pinned_server_key(home)
    if pinned is not None:
        return _follow_rotation(home, src, pinned)
    if not trust_server_key:
        raise ReceiveError(
            "untrusted",
            "no server key is pinned on this laptop: run `wardcopy device init --server-key "
            "FILE_OR_BASE64` with the key from the sync server (or, if you trust this source, "
            "`wardcopy receive --trust-server-key`)",
        )
    text = src.read_small("signing.pub", 4096)
    if text is None:
        raise ReceiveError("untrusted", f"{src.source} has no signing.pub to trust")
    device.pin_server_key(home, text)
    pinned = device.pinned_server_key(home)
    assert pinned is not None
    return pinned


def _follow_rotation(home: Path, src: _Source, pinned: Ed25519PublicKey) -> Ed25519PublicKey:
    """If the source has a key-rotation document signed by the pinned key, re-pin its new key
    (docs/security.md §4). A rotation document signed by any other key (e.g. one this laptop
    already followed) is ignored: the new pin then decides what is accepted."""
    data = src.read_small("key-rotation.wcdoc", 64 << 10)
    if data is None:
        return pinned
    try:
        body = package.open_document(data, pinned, "key-rotation")
        new_text = package.canonical_loads(body, "key rotation")["new_key"]
        new_key = keys.parse_signing_public_key(new_text)
    except (PackageError, keys.KeysError, TypeError, KeyError):
        return pinned
    device.follow_rotation(home, new_key)
    return new_key


def _choose_ward(home: Path, src: _Source, ward: str | None) -> str:
    if ward is not None:
        if not WARD_RE.fullmatch(ward):
            raise ReceiveError("ward-choice", f"{ward!r} is not a valid ward id")
        return ward
    offered: list[str] = []
    index = src.read_small("index.json", _LATEST_MAX)
    if index is not None:
        with contextlib.suppress(orjson.JSONDecodeError, AttributeError, TypeError):
            offered = [w for w in orjson.loads(index).get("wards", []) if isinstance(w, str)]
    if index is None and not src.is_url:  # an outbox without index.json: look at its folders
        with contextlib.suppress(OSError):
            offered = sorted(p.name for p in src.root.iterdir() if (p / "LATEST").is_file())
    installed = installed_wards(home)
    for choices in (offered, installed):
        if len(choices) == 1 and WARD_RE.fullmatch(choices[0]):
            return choices[0]
    if len(installed) == 0 and len(offered) == 0:
        raise ReceiveError("no-package", f"{src.source} offers no ward (no index.json)")
    raise ReceiveError(
        "ward-choice",
        f"{src.source} offers several wards ({', '.join(offered or installed)}): pass --ward",
    )


def _parse_latest(data: bytes | None, where: str) -> dict[str, Any]:
    if data is None:
        raise ReceiveError("no-package", f"{where} has no LATEST pointer: nothing published yet")
    try:
        latest = orjson.loads(data)
        ok = (
            isinstance(latest, dict)
            and isinstance(latest.get("file"), str)
            and _FILE_RE.fullmatch(latest["file"]) is not None
            and isinstance(latest.get("sequence"), int)
            and isinstance(latest.get("size"), int)
            and 0 < latest["size"] <= MAX_PACKAGE_SIZE
            and isinstance(latest.get("sha256"), str)
            and _HEX64.fullmatch(latest["sha256"]) is not None
        )
    except orjson.JSONDecodeError:
        ok = False
    if not ok:
        raise ReceiveError("no-package", f"{where} LATEST pointer is malformed")
    return dict(latest)


def _rollback(ward: str, offered: int, installed: int) -> ReceiveError:
    return ReceiveError(
        "rollback",
        f"refused: the source offers package {offered} of ward {ward}, but {installed} is "
        "already installed; an older package would hide newer data (rollback). Check that the "
        "source is up to date",
    )


def receive(
    home: Path,
    source: str,
    ward: str | None = None,
    *,
    trust_server_key: bool = False,
    timeout: float = 30.0,
    fault: Fault | None = None,
) -> ReceiveResult:
    """Fetch, verify and install the newest package of `ward` from `source` (an outbox folder or
    an http(s) URL). `ward` may be omitted when the source (or this laptop) has exactly one.
    Also fetches and verifies the signed roster if the source has one.

    `fault(step)` is called after each step in INSTALL_STEPS (a test seam for crash safety).
    Raises ReceiveError / PackageError (with `.reason`), device.DeviceError; on any failure the
    previously installed snapshot stays current."""
    step: Fault = fault or (lambda _name: None)
    identity = device.load_identity(home)
    device_key = device.load_device_key(home)
    src = _Source(source, timeout)
    try:
        trusted = _trusted_key(home, src, trust_server_key)
        ward = _choose_ward(home, src, ward)
        ward_dir = _snapshots(home) / ward
        _mkdir_private(home)
        _mkdir_private(_snapshots(home))
        _mkdir_private(ward_dir)
        _cleanup_leftovers(ward_dir)
        result = _receive_ward(home, src, ward, ward_dir, trusted, identity, device_key, step)
        roster_status, warnings = _receive_roster(home, src, trusted)
        return dataclasses.replace(
            result, roster=roster_status, warnings=result.warnings + warnings
        )
    finally:
        src.close()


def _receive_ward(
    home: Path,
    src: _Source,
    ward: str,
    ward_dir: Path,
    trusted: Ed25519PublicKey,
    identity: device.DeviceIdentity,
    device_key: X25519PrivateKey,
    step: Fault,
) -> ReceiveResult:
    latest = _parse_latest(src.read_small(f"{ward}/LATEST", _LATEST_MAX), f"{src.source} {ward}")
    installed_seq, installed_sha = _installed_sequence(ward_dir)
    if installed_seq is not None:
        if latest["sequence"] == installed_seq and latest["sha256"] == installed_sha:
            return _already(home, ward, ward_dir)
        if latest["sequence"] < installed_seq:
            raise _rollback(ward, latest["sequence"], installed_seq)
    incoming = ward_dir / f".incoming-{secrets.token_hex(6)}.wcpkg"
    staging: Path | None = None
    try:
        with fsutil.open_exclusive(incoming) as out:
            package_sha = src.fetch_to(f"{ward}/{latest['file']}", out, latest["size"])
        step("fetched")

        header = package.read_header_file(incoming, trusted)
        manifest = header.manifest
        _check_policy(manifest, ward, installed_seq, installed_sha, package_sha)
        if manifest.sequence == installed_seq:
            return _already(home, ward, ward_dir)
        db_key = package.unwrap_db_key(manifest, device_key)
        size, payload_sha = package.hash_payload_file(incoming, header.payload_offset)
        package.check_payload(manifest, size, payload_sha)
        step("verified")

        staging = ward_dir / f".staging-{manifest.sequence:010d}-{secrets.token_hex(4)}"
        staging.mkdir(mode=0o700)
        db_path = staging / "snapshot.db"
        _copy_payload(incoming, header.payload_offset, db_path)
        fsutil.write_new_file(staging / "package.header", header.raw)  # 0600, fsynced
        step("payload-written")

        fsutil.fsync_file(db_path)
        fsutil.fsync_dir(staging)
        step("fsynced")

        _check_database(db_path, db_key, ward)
        step("integrity-checked")

        final = ward_dir / f"{manifest.sequence:010d}"
        if final.exists():  # left by a crash before the pointer moved; not current (see policy)
            shutil.rmtree(final)
        os.rename(staging, final)
        staging = None
        fsutil.fsync_dir(ward_dir)
        step("installed")

        pointer = {
            "format": 1,
            "dir": final.name,
            "sequence": manifest.sequence,
            "sha256": package_sha,
            "data_as_of": package.format_timestamp(manifest.data_as_of),
            "installed_at": package.format_timestamp(datetime.now(UTC)),
        }
        fsutil.atomic_write(ward_dir / "current", orjson.dumps(pointer))
        step("pointer-written")

        _prune(ward_dir, manifest.sequence)
        step("pruned")
        warnings: tuple[str, ...] = ()
        if package_sha != latest["sha256"]:
            warnings = ("the LATEST pointer's hash differs from the package (pointer stale)",)
        return ReceiveResult(
            ward=ward,
            sequence=manifest.sequence,
            status="installed",
            data_as_of=manifest.data_as_of,
            path=final,
            previous_sequence=installed_seq,
            warnings=warnings,
        )
    except Exception:
        # A real crash skips this; the next receive removes the leftovers instead.
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        with contextlib.suppress(OSError):
            incoming.unlink(missing_ok=True)


def _check_policy(
    manifest: Manifest,
    ward: str,
    installed_seq: int | None,
    installed_sha: str | None,
    package_sha: str,
) -> None:
    """Ward, kind and rollback rules (package-format.md §5 step 5). Raises PackageError."""
    if manifest.ward != ward:
        raise PackageError(
            "ward",
            f"the package is for ward {manifest.ward!r}, not {ward!r}: the outbox is mixed up "
            "or tampered with; refusing it",
        )
    if installed_seq is not None:
        if manifest.sequence < installed_seq:
            raise _rollback(ward, manifest.sequence, installed_seq)
        if manifest.sequence == installed_seq and package_sha != installed_sha:
            raise ReceiveError(
                "rollback",
                f"refused: package {manifest.sequence} of ward {ward} differs from the installed "
                "package with the same sequence number",
            )
    if manifest.kind != "full":
        raise PackageError(
            "kind", "delta packages are not supported yet; waiting for the next full package"
        )


def _already(home: Path, ward: str, ward_dir: Path) -> ReceiveResult:
    pointer = read_pointer(ward_dir)
    assert pointer is not None
    header = read_installed_header(home, ward_dir / pointer["dir"])
    return ReceiveResult(
        ward=ward,
        sequence=int(pointer["sequence"]),
        status="already-installed",
        data_as_of=header.manifest.data_as_of,
        path=ward_dir / pointer["dir"],
        previous_sequence=int(pointer["sequence"]),
    )


def _copy_payload(package_path: Path, offset: int, dest: Path) -> None:
    with fsutil.open_exclusive(dest) as out, package_path.open("rb") as src:
        src.seek(offset)
        shutil.copyfileobj(src, out, _CHUNK)


def _check_database(db_path: Path, db_key: bytes, ward: str) -> None:
    """Open the staged payload with SQLCipher and run its integrity checks. Raises PackageError."""
    try:
        with SnapshotReader(db_path, db_key) as reader:
            # Page HMACs + quick_check; decoding every record is `wardcopy verify`'s deeper job.
            problems = reader.integrity_problems(decode_records=False)
            if reader.meta.ward_id != ward:
                problems.append(
                    f"database says ward {reader.meta.ward_id!r}, package says {ward!r}"
                )
    except SnapshotError as exc:
        raise PackageError("integrity", f"the snapshot database does not open: {exc}") from None
    if problems:
        raise PackageError(
            "integrity", "the snapshot database failed its integrity check: " + "; ".join(problems)
        )


def _prune(ward_dir: Path, current: int) -> None:
    """Keep the newest KEEP_INSTALLED snapshots at or below `current` (never current itself)."""
    keep = [s for s in installed_sequences(ward_dir) if s <= current][:KEEP_INSTALLED]
    for seq in installed_sequences(ward_dir):
        if seq not in keep and seq != current:
            shutil.rmtree(ward_dir / f"{seq:010d}", ignore_errors=True)


# --- roster -------------------------------------------------------------------------------------


def _roster_path(home: Path) -> Path:
    return home / "roster" / "roster.wcdoc"


def load_roster(home: Path) -> package.SignedDocument | None:
    """The stored roster, re-verified against the pinned key; None if none is stored.
    Raises PackageError if the stored file fails verification, device.DeviceError if no pin."""
    try:
        data = _roster_path(home).read_bytes()
    except FileNotFoundError:
        return None
    pinned = device.pinned_server_key(home)
    if pinned is None:
        raise ReceiveError("untrusted", "no server key pinned: cannot verify the stored roster")
    return package.parse_document(data, pinned, "roster")


def _receive_roster(
    home: Path, src: _Source, trusted: Ed25519PublicKey
) -> tuple[Literal["updated", "unchanged", "absent", "refused"], tuple[str, ...]]:
    try:
        data = src.read_small("roster.wcdoc", _ROSTER_MAX)
    except ReceiveError as exc:
        return "refused", (f"roster not fetched: {exc}",)
    if data is None:
        return "absent", ()
    try:
        doc = package.parse_document(data, trusted, "roster")
    except PackageError as exc:
        return "refused", (f"roster refused: {exc}",)
    try:
        stored = load_roster(home)
    except PackageError:
        stored = None  # a damaged stored roster is replaced by a verified one
    if stored is not None:
        if doc.sequence < stored.sequence:
            return "refused", (
                f"roster refused: sequence {doc.sequence} is older than the stored "
                f"{stored.sequence} (rollback)",
            )
        if doc.sequence == stored.sequence and doc.body == stored.body:
            return "unchanged", ()
    _mkdir_private(_roster_path(home).parent)
    fsutil.atomic_write(_roster_path(home), data)
    return "updated", ()


# --- opening installed snapshots ----------------------------------------------------------------


def installed_wards(home: Path) -> list[str]:
    """Wards with at least one installed snapshot, sorted."""
    root = _snapshots(home)
    try:
        names = os.listdir(root)
    except OSError:
        return []
    return sorted(n for n in names if WARD_RE.fullmatch(n) and installed_sequences(root / n))


def _read_header_any_key(path: Path, pinned: Ed25519PublicKey, home: Path) -> PackageHeader:
    try:
        return package.read_header_file(path, pinned)
    except PackageError as exc:
        if exc.reason != "signature":
            raise
        # Snapshots installed before a key rotation were signed by a now-retired key.
        for retired in device.retired_server_keys(home):
            with contextlib.suppress(PackageError):
                return package.read_header_file(path, retired)
        raise


def read_installed_header(home: Path, snap_dir: Path) -> PackageHeader:
    pinned = device.pinned_server_key(home)
    if pinned is None:
        raise ReceiveError("untrusted", "no server key pinned on this laptop")
    path = snap_dir / "package.header"
    header = _read_header_any_key(path, pinned, home)
    try:
        extra = path.stat().st_size - header.payload_offset
    except OSError as exc:
        raise PackageError("io", f"cannot read {path}: {exc.strerror}") from None
    if extra:
        raise PackageError("manifest", f"{path} has {extra} unexpected trailing bytes")
    return header


def _open_dir(
    home: Path, ward: str, snap_dir: Path, device_key: X25519PrivateKey, check_hash: bool
) -> tuple[SnapshotReader, Manifest]:
    """Verify and open one installed snapshot dir. Raises PackageError / SnapshotError."""
    header = read_installed_header(home, snap_dir)
    manifest = header.manifest
    if manifest.ward != ward or f"{manifest.sequence:010d}" != snap_dir.name:
        raise PackageError("ward", f"{snap_dir} holds package {manifest.ward}/{manifest.sequence}")
    db_key = package.unwrap_db_key(manifest, device_key)
    db_path = snap_dir / "snapshot.db"
    try:
        if check_hash:
            size, sha = package.hash_payload_file(db_path, 0)
        else:
            size, sha = db_path.stat().st_size, manifest.payload.sha256
    except OSError as exc:
        raise PackageError("io", f"cannot read {db_path}: {exc.strerror}") from None
    package.check_payload(manifest, size, sha)
    return SnapshotReader(db_path, db_key), manifest


def open_installed(
    home: Path, ward: str | None = None, *, check_hash: bool = True
) -> InstalledSnapshot:
    """Open the current snapshot of `ward` (or of the only installed ward): re-verify the header
    signature against the pinned key, unwrap the key with this device's key, check the payload
    size (and SHA-256 unless `check_hash=False`), open it read-only.

    If the current one fails, falls back to the newest older installed snapshot that opens and
    says why in `fallback_reason`. Raises ReceiveError if none opens (reason "not-installed"),
    device.DeviceError if the device key is missing."""
    wards = installed_wards(home)
    if ward is None:
        if len(wards) != 1:
            raise ReceiveError(
                "not-installed" if not wards else "ward-choice",
                "no snapshot is installed: run `wardcopy receive --from OUTBOX_OR_URL`"
                if not wards
                else f"several wards are installed ({', '.join(wards)}): choose one",
            )
        ward = wards[0]
    if ward not in wards:
        raise ReceiveError(
            "not-installed",
            f"no snapshot of ward {ward!r} is installed: run `wardcopy receive --ward {ward}`",
        )
    device_key = device.load_device_key(home)
    ward_dir = _snapshots(home) / ward
    pointer = read_pointer(ward_dir)
    dirs = installed_sequences(ward_dir)
    order: list[int] = []
    if pointer is not None and int(pointer["dir"]) in dirs:
        order.append(int(pointer["dir"]))
    order += [s for s in dirs if s not in order and (not order or s < order[0])]
    failures: list[str] = []
    if pointer is None:
        failures.append("the `current` pointer is missing or damaged")
    for seq in order:
        snap_dir = ward_dir / f"{seq:010d}"
        try:
            reader, manifest = _open_dir(home, ward, snap_dir, device_key, check_hash)
        except (PackageError, SnapshotError) as exc:
            failures.append(f"snapshot {seq} could not be opened ({exc})")
            continue
        reason = None
        if failures:
            reason = "; ".join(failures) + (
                f"; showing the previous good snapshot {seq} "
                f"(data as of {package.format_timestamp(manifest.data_as_of)})"
            )
        return InstalledSnapshot(
            ward=ward,
            sequence=seq,
            path=snap_dir,
            reader=reader,
            manifest=manifest,
            fallback_reason=reason,
            tried=failures,
        )
    raise ReceiveError(
        "not-installed",
        f"no installed snapshot of ward {ward} can be opened: {'; '.join(failures)}; "
        "run `wardcopy receive` again",
    )

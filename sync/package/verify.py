"""Reading and verifying packages: framing, signature, manifest, payload size and hash, and
unwrapping this laptop's database key. Functions taking a path or a file object read exactly that;
the rest is pure. Raises PackageError."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from sync import keys
from sync.package.canonical import PackageError, canonical_loads
from sync.package.manifest import (
    _CHUNK,
    MAGIC,
    MAX_MANIFEST,
    SIG_SIZE,
    Manifest,
    manifest_from_obj,
    wrap_info,
)

TrustedKey = Ed25519PublicKey | bytes | str


def _as_public_key(trusted: TrustedKey) -> Ed25519PublicKey:
    if isinstance(trusted, Ed25519PublicKey):
        return trusted
    if isinstance(trusted, bytes) and len(trusted) == keys.KEY_SIZE:
        return Ed25519PublicKey.from_public_bytes(trusted)
    return keys.parse_signing_public_key(trusted)


def _read_framed(
    read: Callable[[int], bytes], magic: bytes, what: str, max_manifest: int
) -> tuple[bytes, bytes, bytes]:
    """Read magic, length, manifest and signature via `read(n)`. Returns (header, manifest,
    signature). Checks only the framing; nothing is parsed."""
    head = read(len(magic))
    if head != magic:
        family = magic.split(b"/")[0] + b"/"
        if head.startswith(family) and b"\n" in head:
            version = head[len(family) : head.index(b"\n")].decode("ascii", "replace")
            raise PackageError(
                "version",
                f"{what} format version {version!r} is not supported by this Wardcopy "
                "(it reads version 1); update Wardcopy",
            )
        if len(head) < len(magic) and magic.startswith(head):
            raise PackageError("truncated", f"{what} is truncated (ends inside the header)")
        raise PackageError("not-package", f"not a Wardcopy {what} (wrong first line)")
    length_bytes = read(4)
    if len(length_bytes) != 4:
        raise PackageError("truncated", f"{what} is truncated (ends inside the header)")
    (length,) = struct.unpack(">I", length_bytes)
    if not 2 <= length <= max_manifest:
        raise PackageError("manifest", f"{what} manifest length {length} is out of range")
    manifest = read(length)
    signature = read(SIG_SIZE)
    if len(manifest) != length or len(signature) != SIG_SIZE:
        raise PackageError("truncated", f"{what} is truncated (ends inside the header)")
    return magic + length_bytes + manifest, manifest, signature


def _check_signature(
    trusted: TrustedKey, header: bytes, signature: bytes, what: str
) -> Ed25519PublicKey:
    public = _as_public_key(trusted)
    if not keys.verify_signature(public, signature, header):
        raise PackageError(
            "signature",
            f"{what} signature is not valid for the pinned server key "
            f"({keys.fingerprint(public)}): the file was altered, damaged, or signed by another "
            "key",
        )
    return public


@dataclass(frozen=True)
class PackageHeader:
    """The authenticated front of a package: everything but the payload."""

    header: bytes  # magic || u32be(len) || manifest: the signed bytes
    signature: bytes
    manifest: Manifest

    @property
    def raw(self) -> bytes:
        """header || signature: what `package.header` stores on a laptop."""
        return self.header + self.signature

    @property
    def payload_offset(self) -> int:
        return len(self.header) + SIG_SIZE


def read_header(read: Callable[[int], bytes], trusted: TrustedKey) -> PackageHeader:
    """Read and authenticate a package header through `read(n)` (a file's read, or a slicer over
    bytes): magic, lengths, signature, THEN the manifest JSON and schema, then the signer id.
    Raises PackageError."""
    header, manifest_bytes, signature = _read_framed(read, MAGIC, "package", MAX_MANIFEST)
    public = _check_signature(trusted, header, signature, "package")
    manifest = manifest_from_obj(canonical_loads(manifest_bytes))
    if manifest.signer != keys.key_id(public):
        raise PackageError("signer", "manifest names another signer than the key that signed it")
    return PackageHeader(header=header, signature=signature, manifest=manifest)


def _bytes_reader(data: bytes) -> tuple[Callable[[int], bytes], Callable[[], int]]:
    pos = 0

    def read(n: int) -> bytes:
        nonlocal pos
        chunk = data[pos : pos + n]
        pos += len(chunk)
        return chunk

    return read, lambda: pos


def read_header_file(path: Path, trusted: TrustedKey) -> PackageHeader:
    """`read_header` on a file (a package, or a stored `package.header`). Raises PackageError
    (reason "io" if the file cannot be read)."""
    try:
        with path.open("rb") as fh:
            return read_header(fh.read, trusted)
    except OSError as exc:
        raise PackageError("io", f"cannot read {path}: {exc.strerror or exc}") from exc


def hash_payload_file(path: Path, offset: int) -> tuple[int, str]:
    """Size and SHA-256 hex of `path` from `offset` to the end (streamed). Raises OSError."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        fh.seek(offset)
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def check_payload(manifest: Manifest, size: int, sha256: str) -> None:
    """Compare a payload's measured size and hash with the manifest. Raises PackageError."""
    if size != manifest.payload.size:
        raise PackageError(
            "payload-size",
            f"payload is {size} bytes but the manifest says {manifest.payload.size}: "
            + ("the file is truncated" if size < manifest.payload.size else "extra bytes appended"),
        )
    if sha256 != manifest.payload.sha256:
        raise PackageError("payload-hash", "payload SHA-256 does not match the signed manifest")


def verify_package_bytes(data: bytes, trusted: TrustedKey) -> PackageHeader:
    """Verify a whole package held in memory (header, signature, manifest, payload size and
    hash). Raises PackageError. Does not unwrap keys or apply ward/sequence policy."""
    read, _ = _bytes_reader(data)
    header = read_header(read, trusted)
    payload = data[header.payload_offset :]
    check_payload(header.manifest, len(payload), hashlib.sha256(payload).hexdigest())
    return header


def unwrap_db_key(manifest: Manifest, device_key: X25519PrivateKey) -> bytes:
    """Find this device's entry and open the database key. Raises PackageError: "not-enrolled"
    (message names the device id and the enrol command) or "unwrap"."""
    did = keys.device_id(device_key.public_key())
    entry = manifest.recipient(did)
    if entry is None:
        raise PackageError(
            "not-enrolled",
            f"this laptop (device id {did}) is not enrolled for ward {manifest.ward!r} in package "
            f"{manifest.sequence}: on the sync server run `wardcopy-sync enrol --ward "
            f"{manifest.ward} <enrolment code>` (see `wardcopy device show`), then wait for the "
            "next package",
        )
    info = wrap_info(manifest.ward, manifest.sequence, manifest.payload.sha256, did)
    try:
        return keys.unwrap_key(entry.enc, entry.ct, device_key, info)
    except keys.KeysError as exc:
        raise PackageError("unwrap", f"device {did}: {exc}") from exc

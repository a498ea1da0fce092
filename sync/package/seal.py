"""Sealing packages on the sync server: build the manifest (wrapping the database key for each
enrolled laptop), frame and sign it, append the payload. Writes only to the given output."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from sync import keys
from sync.package.canonical import (
    canonical_dumps,
    canonical_loads,
    format_timestamp,
    parse_timestamp,
)
from sync.package.manifest import (
    _CHUNK,
    MAGIC,
    WARD_RE,
    Delta,
    Manifest,
    Payload,
    Recipient,
    manifest_from_obj,
    wrap_info,
)
from sync.package.verify import hash_payload_file


@dataclass(frozen=True)
class RecipientKey:
    """An enrolled laptop as the sealer sees it."""

    device_id: str
    public_key: X25519PublicKey


def _frame(magic: bytes, manifest_bytes: bytes, signing_key: Ed25519PrivateKey) -> bytes:
    header = magic + struct.pack(">I", len(manifest_bytes)) + manifest_bytes
    return header + keys.sign(signing_key, header)


def build_manifest(
    *,
    payload_size: int,
    payload_sha256: str,
    db_key: bytes,
    ward: str,
    sequence: int,
    data_as_of: datetime,
    counts: Mapping[str, int],
    recipients: Iterable[RecipientKey],
    signing_key: Ed25519PrivateKey,
    created_at: datetime | None = None,
    kind: Literal["full", "delta"] = "full",
    delta: Delta | None = None,
) -> Manifest:
    """Make and self-check a manifest, wrapping `db_key` for each recipient. Raises ValueError
    for inputs the format cannot carry."""
    if not WARD_RE.fullmatch(ward):
        raise ValueError(f"ward id {ward!r} must match {WARD_RE.pattern}")
    if sequence < 1:
        raise ValueError("sequence must be >= 1")
    if (kind == "delta") != (delta is not None):
        raise ValueError("delta packages need delta info, full packages must not have it")
    wrapped: list[Recipient] = []
    for rk in sorted({r.device_id: r for r in recipients}.values(), key=lambda r: r.device_id):
        if keys.device_id(rk.public_key) != rk.device_id:
            raise ValueError(f"device id {rk.device_id} does not match its public key")
        info = wrap_info(ward, sequence, payload_sha256, rk.device_id)
        enc, ct = keys.wrap_key(db_key, rk.public_key, info)
        wrapped.append(Recipient(rk.device_id, enc, ct))
    now = created_at or datetime.now(UTC)
    manifest = Manifest(
        kind=kind,
        ward=ward,
        sequence=sequence,
        data_as_of=parse_timestamp(format_timestamp(data_as_of)),
        created_at=parse_timestamp(format_timestamp(now)),
        counts=dict(counts),
        payload=Payload(size=payload_size, sha256=payload_sha256),
        signer=keys.key_id(signing_key.public_key()),
        recipients=tuple(wrapped),
        delta=delta,
    )
    manifest_from_obj(canonical_loads(canonical_dumps(manifest.to_json_obj())))  # self-check
    return manifest


def seal_package(
    out: BinaryIO,
    payload_path: Path,
    *,
    db_key: bytes,
    ward: str,
    sequence: int,
    data_as_of: datetime,
    counts: Mapping[str, int],
    recipients: Iterable[RecipientKey],
    signing_key: Ed25519PrivateKey,
    created_at: datetime | None = None,
) -> Manifest:
    """Write a full package for the SQLCipher file `payload_path` to `out` (streamed; the payload
    is already encrypted). Raises ValueError (bad inputs, or the payload changed while sealing)
    and OSError."""
    size, sha = hash_payload_file(payload_path, 0)
    manifest = build_manifest(
        payload_size=size,
        payload_sha256=sha,
        db_key=db_key,
        ward=ward,
        sequence=sequence,
        data_as_of=data_as_of,
        counts=counts,
        recipients=recipients,
        signing_key=signing_key,
        created_at=created_at,
    )
    out.write(_frame(MAGIC, canonical_dumps(manifest.to_json_obj()), signing_key))
    digest = hashlib.sha256()
    copied = 0
    with payload_path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            out.write(chunk)
            digest.update(chunk)
            copied += len(chunk)
    if copied != size or digest.hexdigest() != sha:
        raise ValueError(f"{payload_path} changed while it was being sealed")
    return manifest


def seal_package_bytes(
    payload: bytes,
    *,
    db_key: bytes,
    ward: str,
    sequence: int,
    data_as_of: datetime,
    counts: Mapping[str, int],
    recipients: Iterable[RecipientKey],
    signing_key: Ed25519PrivateKey,
    created_at: datetime | None = None,
    kind: Literal["full", "delta"] = "full",
    delta: Delta | None = None,
) -> bytes:
    """`seal_package` for a payload held in memory; returns the package bytes."""
    manifest = build_manifest(
        payload_size=len(payload),
        payload_sha256=hashlib.sha256(payload).hexdigest(),
        db_key=db_key,
        ward=ward,
        sequence=sequence,
        data_as_of=data_as_of,
        counts=counts,
        recipients=recipients,
        signing_key=signing_key,
        created_at=created_at,
        kind=kind,
        delta=delta,
    )
    return _frame(MAGIC, canonical_dumps(manifest.to_json_obj()), signing_key) + payload

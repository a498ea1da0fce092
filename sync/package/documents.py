"""Small signed documents (docs/package-format.md §7), e.g. the staff roster. Pure."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync import keys
from sync.package.canonical import (
    PackageError,
    canonical_dumps,
    canonical_loads,
    format_timestamp,
    parse_timestamp,
)
from sync.package.manifest import _HEX32_RE, _HEX64_RE, _KIND_RE, MAX_MANIFEST, _check_crit, _Schema
from sync.package.seal import _frame
from sync.package.verify import TrustedKey, _bytes_reader, _check_signature, _read_framed

DOC_MAGIC = b"wardcopy-document/1\n"
MAX_DOCUMENT_BODY = 16 << 20


@dataclass(frozen=True)
class SignedDocument:
    """A verified signed document."""

    kind: str
    sequence: int
    created_at: datetime
    signer: str
    body: bytes = field(repr=False)


def seal_document(
    kind: str,
    body: bytes,
    signing_key: Ed25519PrivateKey,
    *,
    sequence: int | None = None,
    created_at: datetime | None = None,
) -> bytes:
    """Sign a small document (docs/package-format.md §7). `sequence` defaults to the creation time
    in whole seconds since 1970, which increases between documents made more than a second
    apart; pass an explicit counter where that is not enough. Raises ValueError."""
    if not _KIND_RE.fullmatch(kind):
        raise ValueError(f"document kind {kind!r} must match {_KIND_RE.pattern}")
    if len(body) > MAX_DOCUMENT_BODY:
        raise ValueError("document body is larger than 16 MiB")
    now = parse_timestamp(format_timestamp(created_at or datetime.now(UTC)))
    seq = sequence if sequence is not None else int(now.timestamp())
    if seq < 1:
        raise ValueError("document sequence must be >= 1")
    manifest = {
        "format": 1,
        "kind": kind,
        "sequence": seq,
        "created_at": format_timestamp(now),
        "signer": keys.key_id(signing_key.public_key()),
        "body": {"size": len(body), "sha256": hashlib.sha256(body).hexdigest()},
    }
    return _frame(DOC_MAGIC, canonical_dumps(manifest), signing_key) + body


def parse_document(data: bytes, trusted_key: TrustedKey, kind: str) -> SignedDocument:
    """Verify a signed document of the expected `kind` and return it with its metadata.
    Raises PackageError."""
    read, pos = _bytes_reader(data)
    header, manifest_bytes, signature = _read_framed(read, DOC_MAGIC, "document", MAX_MANIFEST)
    public = _check_signature(trusted_key, header, signature, "document")
    s = _Schema
    top = s.obj(
        canonical_loads(manifest_bytes, "document manifest"),
        "document manifest",
        {"format", "kind", "sequence", "created_at", "signer", "body"},
        {"crit", "ext"},
    )
    if top["format"] != 1:
        raise PackageError("version", f"document format {top['format']!r} is not supported")
    _check_crit(top)
    doc_kind = s.str_(top["kind"], "kind", _KIND_RE)
    if doc_kind != kind:
        raise PackageError(
            "document-kind", f"expected a signed {kind!r} document, got a {doc_kind!r} document"
        )
    body_info = s.obj(top["body"], "body", {"size", "sha256"})
    size = s.int_(body_info["size"], "body.size")
    sha = s.str_(body_info["sha256"], "body.sha256", _HEX64_RE)
    signer = s.str_(top["signer"], "signer", _HEX32_RE)
    if signer != keys.key_id(public):
        raise PackageError("signer", "document names another signer than the key that signed it")
    body = data[pos() :]
    if len(body) != size:
        raise PackageError(
            "payload-size", f"document body is {len(body)} bytes, the signed header says {size}"
        )
    if hashlib.sha256(body).hexdigest() != sha:
        raise PackageError("payload-hash", "document body does not match its signed hash")
    return SignedDocument(
        kind=doc_kind,
        sequence=s.int_(top["sequence"], "sequence", 1),
        created_at=s.ts(top["created_at"], "created_at"),
        signer=signer,
        body=body,
    )


def open_document(data: bytes, trusted_key: TrustedKey, kind: str) -> bytes:
    """Verify a signed document of the expected `kind` and return its body. Raises PackageError."""
    return parse_document(data, trusted_key, kind).body

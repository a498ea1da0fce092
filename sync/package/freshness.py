"""Signed freshness statements (docs/package-format.md §7a): "package N of ward W is still the
newest as of T", re-signed every live cycle (the timestamp role of The Update Framework).

A statement is a signed document (§7) of kind `freshness` whose body is canonical JSON
`{"as_of":ts,"package_sequence":n,"ward":w}`; its document `sequence` is `as_of` in
milliseconds since 1970, so a later statement always has a higher one. The laptop shows as its
"data as of" the later of the package's own `data_as_of` and the `as_of` of a verified statement
for exactly that ward and package, so a sync server that stopped, or an outbox that someone froze,
makes every laptop's data age grow. Pure (no I/O).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync.package.canonical import (
    PackageError,
    canonical_dumps,
    canonical_loads,
    format_timestamp,
    parse_timestamp,
)
from sync.package.documents import parse_document, seal_document
from sync.package.manifest import _Schema
from sync.package.verify import TrustedKey

__all__ = [
    "FRESHNESS_FILE",
    "FRESHNESS_KIND",
    "Freshness",
    "effective_as_of",
    "parse_freshness",
    "seal_freshness",
]

FRESHNESS_KIND = "freshness"
FRESHNESS_FILE = "FRESHNESS.wcdoc"  # OUTBOX/<ward>/FRESHNESS.wcdoc, and on the laptop
MAX_FRESHNESS = 4096


@dataclass(frozen=True)
class Freshness:
    """A verified freshness statement."""

    ward: str
    package_sequence: int
    as_of: datetime
    sequence: int  # the document sequence: increases with as_of


def seal_freshness(
    ward: str,
    package_sequence: int,
    as_of: datetime,
    signing_key: Ed25519PrivateKey,
    *,
    created_at: datetime | None = None,
) -> bytes:
    """Sign the statement that `package_sequence` is ward `ward`'s newest package as of `as_of`
    (the time the source was last read completely). Raises ValueError for a bad ward or
    sequence (via seal_document)."""
    when = parse_timestamp(format_timestamp(as_of))
    body = canonical_dumps(
        {"as_of": format_timestamp(when), "package_sequence": package_sequence, "ward": ward}
    )
    if package_sequence < 1:
        raise ValueError("package_sequence must be >= 1")
    return seal_document(
        FRESHNESS_KIND,
        body,
        signing_key,
        sequence=int(when.timestamp() * 1000),
        created_at=created_at or when,
    )


def parse_freshness(data: bytes, trusted_key: TrustedKey, ward: str) -> Freshness:
    """Verify a freshness statement for `ward`. Raises PackageError: bad signature or framing
    (as any document), another kind ("document-kind"), another ward ("ward"), or a body that
    does not say what it must ("manifest")."""
    if len(data) > MAX_FRESHNESS:
        raise PackageError("size", f"freshness statement is larger than {MAX_FRESHNESS} bytes")
    doc = parse_document(data, trusted_key, FRESHNESS_KIND)
    s = _Schema
    body = s.obj(
        canonical_loads(doc.body, "freshness statement"),
        "freshness statement",
        {"as_of", "package_sequence", "ward"},
    )
    stated_ward = s.str_(body["ward"], "ward")
    if stated_ward != ward:
        raise PackageError(
            "ward", f"the freshness statement is for ward {stated_ward!r}, not {ward!r}"
        )
    as_of = s.ts(body["as_of"], "as_of")
    if doc.sequence != int(as_of.timestamp() * 1000):
        raise PackageError("manifest", "freshness statement sequence does not match its as_of")
    return Freshness(
        ward=stated_ward,
        package_sequence=s.int_(body["package_sequence"], "package_sequence", 1),
        as_of=as_of,
        sequence=doc.sequence,
    )


def effective_as_of(
    package_as_of: datetime, package_sequence: int, statement: Freshness | None
) -> datetime:
    """What the laptop shows as "data as of": the statement's `as_of` when it is about this very
    package and later than the package's own time, else the package's time (pure)."""
    if statement is None or statement.package_sequence != package_sequence:
        return package_as_of
    return max(package_as_of, statement.as_of)

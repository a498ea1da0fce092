"""The package format (docs/package-format.md): canonical manifests, sealing, parsing and
verification of packages, and signed documents.

Pure apart from the functions that take a path or a file object (they read or write exactly that).
Every failure while reading is a `PackageError` whose `reason` is a short stable code (tests and
the CLI use it) and whose message says what is wrong and what to do.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from sync import keys

__all__ = [
    "DOC_MAGIC",
    "MAGIC",
    "Delta",
    "Manifest",
    "PackageError",
    "PackageHeader",
    "Payload",
    "Recipient",
    "RecipientKey",
    "SignedDocument",
    "canonical_dumps",
    "canonical_loads",
    "format_timestamp",
    "hash_payload_file",
    "open_document",
    "parse_document",
    "parse_timestamp",
    "read_header",
    "read_header_file",
    "seal_document",
    "seal_package",
    "seal_package_bytes",
    "unwrap_db_key",
    "verify_package_bytes",
    "wrap_info",
]

MAGIC = b"wardcopy-package/1\n"
DOC_MAGIC = b"wardcopy-document/1\n"
SIG_SIZE = 64
MAX_MANIFEST = 1 << 20
MAX_DOCUMENT_BODY = 16 << 20
PAYLOAD_CIPHER = "sqlcipher4-raw-key"
_CHUNK = 1 << 20
_MAX_INT = (1 << 53) - 1

WARD_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_KEY_RE = re.compile(r"[a-z][a-z0-9_]{0,63}")
_KIND_RE = re.compile(r"[a-z][a-z0-9-]{0,31}")
_HEX64_RE = re.compile(r"[0-9a-f]{64}")
_HEX32_RE = re.compile(r"[0-9a-f]{32}")
_DEVICE_RE = re.compile(r"[0-9a-f]{16}")
_TS_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_TS_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

TrustedKey = Ed25519PublicKey | bytes | str


class PackageError(Exception):
    """A package or signed document is not acceptable.

    `reason` is one of: "not-package", "version", "truncated", "signature", "manifest",
    "signer", "ward", "kind", "rollback", "already-installed", "not-enrolled", "unwrap",
    "payload-size", "payload-hash", "integrity", "document-kind", "io".
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


# --- canonical JSON -----------------------------------------------------------------------------


def canonical_dumps(value: Any) -> bytes:
    """Encode `value` as canonical JSON (package-format.md §2). Raises ValueError for values
    outside the canonical value set."""
    _check_canonical_value(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def _check_canonical_value(value: Any) -> None:
    if isinstance(value, bool) or value is None or isinstance(value, float):
        raise ValueError(f"canonical JSON has no {type(value).__name__} values")
    if isinstance(value, int):
        if not 0 <= value <= _MAX_INT:
            raise ValueError("canonical JSON integers are 0 .. 2^53-1")
    elif isinstance(value, str):
        value.encode("utf-8")  # raises on lone surrogates
    elif isinstance(value, list):
        for item in value:
            _check_canonical_value(item)
    elif isinstance(value, dict):
        for k, item in value.items():
            if not isinstance(k, str) or not _KEY_RE.fullmatch(k):
                raise ValueError(f"canonical JSON key {k!r} not allowed")
            _check_canonical_value(item)
    else:
        raise ValueError(f"canonical JSON has no {type(value).__name__} values")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for k, v in pairs:
        if k in result:
            raise ValueError(f"duplicate key {k!r}")
        result[k] = v
    return result


def _reject_float(text: str) -> Any:
    raise ValueError(f"non-integer number {text}")


def canonical_loads(data: bytes, what: str = "manifest") -> Any:
    """Parse canonical JSON, rejecting every non-canonical encoding. Raises PackageError."""
    try:
        text = data.decode("utf-8")
        value = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_float=_reject_float,
            parse_constant=_reject_float,
        )
        again = canonical_dumps(value)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError included
        raise PackageError("manifest", f"{what} is not valid canonical JSON: {exc}") from None
    if again != data:
        raise PackageError("manifest", f"{what} is not in canonical JSON form")
    return value


# --- timestamps ---------------------------------------------------------------------------------


def format_timestamp(moment: datetime) -> str:
    """UTC, second precision, "YYYY-MM-DDTHH:MM:SSZ". Raises ValueError for naive datetimes."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("timestamps must be timezone-aware")
    return moment.astimezone(UTC).strftime(_TS_FORMAT)


def parse_timestamp(text: str) -> datetime:
    """Inverse of `format_timestamp`. Raises ValueError."""
    if not _TS_RE.fullmatch(text):
        raise ValueError(f"timestamp {text!r} is not YYYY-MM-DDTHH:MM:SSZ")
    return datetime.strptime(text, _TS_FORMAT).replace(tzinfo=UTC)


# --- manifest model -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    """One wrapped database key: for `device_id`, HPKE `enc` and `ct` (raw bytes)."""

    device_id: str
    enc: bytes
    ct: bytes


@dataclass(frozen=True)
class Payload:
    size: int
    sha256: str
    cipher: str = PAYLOAD_CIPHER


@dataclass(frozen=True)
class Delta:
    base_sequence: int
    upserted: int
    removed: int


@dataclass(frozen=True)
class Manifest:
    """A verified version-1 manifest (docs/package-format.md §4)."""

    kind: Literal["full", "delta"]
    ward: str
    sequence: int
    data_as_of: datetime
    created_at: datetime
    counts: Mapping[str, int]
    payload: Payload
    signer: str
    recipients: tuple[Recipient, ...]
    delta: Delta | None = None
    format: int = 1

    def recipient(self, device_id: str) -> Recipient | None:
        """The wrapped key for `device_id`, if this laptop is a recipient."""
        for r in self.recipients:
            if r.device_id == device_id:
                return r
        return None

    def to_json_obj(self) -> dict[str, Any]:
        """The manifest as a canonical-JSON-ready dict."""
        obj: dict[str, Any] = {
            "format": self.format,
            "kind": self.kind,
            "ward": self.ward,
            "sequence": self.sequence,
            "data_as_of": format_timestamp(self.data_as_of),
            "created_at": format_timestamp(self.created_at),
            "counts": dict(self.counts),
            "payload": {
                "size": self.payload.size,
                "sha256": self.payload.sha256,
                "cipher": self.payload.cipher,
            },
            "signer": self.signer,
            "recipients": [
                {
                    "device_id": r.device_id,
                    "enc": keys.b64url_encode(r.enc),
                    "ct": keys.b64url_encode(r.ct),
                }
                for r in self.recipients
            ],
        }
        if self.delta is not None:
            obj["delta"] = {
                "base_sequence": self.delta.base_sequence,
                "upserted": self.delta.upserted,
                "removed": self.delta.removed,
            }
        return obj


class _Schema:
    """Small strict schema helpers; each raises PackageError("manifest", ...)."""

    @staticmethod
    def fail(msg: str) -> PackageError:
        return PackageError("manifest", f"manifest: {msg}")

    @classmethod
    def obj(
        cls,
        value: Any,
        name: str,
        required: set[str],
        optional: frozenset[str] | set[str] = frozenset(),
    ) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise cls.fail(f"{name} must be an object")
        missing = required - value.keys()
        if missing:
            raise cls.fail(f"{name} lacks {', '.join(sorted(missing))}")
        unknown = value.keys() - required - optional
        if unknown:
            raise cls.fail(f"{name} has unknown field(s) {', '.join(sorted(unknown))}")
        return value

    @classmethod
    def int_(cls, value: Any, name: str, minimum: int = 0) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise cls.fail(f"{name} must be an integer >= {minimum}")
        return value

    @classmethod
    def str_(cls, value: Any, name: str, pattern: re.Pattern[str] | None = None) -> str:
        if not isinstance(value, str) or (pattern is not None and not pattern.fullmatch(value)):
            raise cls.fail(f"{name} is malformed")
        return value

    @classmethod
    def ts(cls, value: Any, name: str) -> datetime:
        try:
            return parse_timestamp(cls.str_(value, name))
        except ValueError:
            raise cls.fail(f"{name} is not a valid timestamp") from None

    @classmethod
    def b64(cls, value: Any, name: str, size: int) -> bytes:
        try:
            raw = keys.b64url_decode(cls.str_(value, name))
        except ValueError:
            raise cls.fail(f"{name} is not canonical base64url") from None
        if len(raw) != size:
            raise cls.fail(f"{name} must be {size} bytes")
        return raw


_TOP_REQUIRED = {
    "format",
    "kind",
    "ward",
    "sequence",
    "data_as_of",
    "created_at",
    "counts",
    "payload",
    "signer",
    "recipients",
}
_KNOWN_CRIT: frozenset[str] = frozenset()  # version 1 implements no extensions


def _check_crit(obj: dict[str, Any]) -> None:
    """Extension handling shared by packages and documents."""
    crit = obj.get("crit")
    ext = obj.get("ext")
    if "ext" in obj and (not isinstance(ext, dict) or not ext):
        raise _Schema.fail("ext must be a non-empty object when present")
    if "crit" in obj:
        if not isinstance(crit, list) or not crit or not all(isinstance(c, str) for c in crit):
            raise _Schema.fail("crit must be a non-empty list of names when present")
        for name in crit:
            if not isinstance(ext, dict) or name not in ext:
                raise _Schema.fail(f"crit names {name!r}, which is not in ext")
            if name not in _KNOWN_CRIT:
                raise PackageError(
                    "version",
                    f"package needs extension {name!r}, which this version of Wardcopy does not "
                    "understand; update Wardcopy",
                )


def manifest_from_obj(obj: Any) -> Manifest:
    """Validate a parsed manifest against the version-1 schema. Raises PackageError."""
    s = _Schema
    top = s.obj(obj, "manifest", _TOP_REQUIRED, {"delta", "crit", "ext"})
    if top["format"] != 1 or isinstance(top["format"], bool):
        raise PackageError("version", f"manifest format {top['format']!r} is not supported")
    _check_crit(top)
    kind = s.str_(top["kind"], "kind")
    if kind not in ("full", "delta"):
        raise PackageError("kind", f"package kind {kind!r} is not supported")
    ward = s.str_(top["ward"], "ward", WARD_RE)
    sequence = s.int_(top["sequence"], "sequence", 1)
    counts_obj = top["counts"]
    if not isinstance(counts_obj, dict):
        raise s.fail("counts must be an object")
    counts = {k: s.int_(v, f"counts.{k}") for k, v in counts_obj.items()}
    pl = s.obj(top["payload"], "payload", {"size", "sha256", "cipher"})
    payload = Payload(
        size=s.int_(pl["size"], "payload.size"),
        sha256=s.str_(pl["sha256"], "payload.sha256", _HEX64_RE),
        cipher=s.str_(pl["cipher"], "payload.cipher"),
    )
    if payload.cipher != PAYLOAD_CIPHER:
        raise PackageError("version", f"payload cipher {payload.cipher!r} is not supported")
    recipients_obj = top["recipients"]
    if not isinstance(recipients_obj, list):
        raise s.fail("recipients must be a list")
    recipients: list[Recipient] = []
    for i, entry in enumerate(recipients_obj):
        e = s.obj(entry, f"recipients[{i}]", {"device_id", "enc", "ct"})
        recipients.append(
            Recipient(
                device_id=s.str_(e["device_id"], f"recipients[{i}].device_id", _DEVICE_RE),
                enc=s.b64(e["enc"], f"recipients[{i}].enc", keys.HPKE_ENC_SIZE),
                ct=s.b64(e["ct"], f"recipients[{i}].ct", keys.HPKE_CT_SIZE),
            )
        )
    ids = [r.device_id for r in recipients]
    if ids != sorted(set(ids)):
        raise s.fail("recipients must be sorted by device_id without duplicates")
    delta: Delta | None = None
    if kind == "delta":
        if "delta" not in top:
            raise s.fail("a delta package needs the delta field")
        d = s.obj(top["delta"], "delta", {"base_sequence", "upserted", "removed"})
        delta = Delta(
            base_sequence=s.int_(d["base_sequence"], "delta.base_sequence", 1),
            upserted=s.int_(d["upserted"], "delta.upserted"),
            removed=s.int_(d["removed"], "delta.removed"),
        )
        if delta.base_sequence >= sequence:
            raise s.fail("delta.base_sequence must be lower than sequence")
    elif "delta" in top:
        raise s.fail("only delta packages have a delta field")
    return Manifest(
        kind="full" if kind == "full" else "delta",
        ward=ward,
        sequence=sequence,
        data_as_of=s.ts(top["data_as_of"], "data_as_of"),
        created_at=s.ts(top["created_at"], "created_at"),
        counts=counts,
        payload=payload,
        signer=s.str_(top["signer"], "signer", _HEX32_RE),
        recipients=tuple(recipients),
        delta=delta,
    )


# --- header framing -----------------------------------------------------------------------------


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
        raise PackageError("io", f"cannot read {path}: {exc.strerror or exc}") from None


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


# --- key wrapping -------------------------------------------------------------------------------


def wrap_info(ward: str, sequence: int, payload_sha256: str, device_id: str) -> bytes:
    """The HPKE info string that binds a wrapped key to ward, sequence, payload and device."""
    return (
        b"wardcopy-package/1 key\n" + f"{ward}\n{sequence}\n{payload_sha256}\n{device_id}".encode()
    )


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
        raise PackageError("unwrap", f"device {did}: {exc}") from None


# --- sealing ------------------------------------------------------------------------------------


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


# --- signed documents ---------------------------------------------------------------------------


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


def recipients_of(pairs: Sequence[tuple[str, X25519PublicKey]]) -> list[RecipientKey]:
    """Convenience: RecipientKey list from (device_id, public key) pairs."""
    return [RecipientKey(d, k) for d, k in pairs]

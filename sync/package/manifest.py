"""The version-1 manifest (docs/package-format.md §4): its model, strict schema check, the
constants of the frame around it, and the key-wrap binding (`wrap_info`). Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sync import keys
from sync.package.canonical import PackageError, format_timestamp, parse_timestamp

MAGIC = b"wardcopy-package/1\n"
SIG_SIZE = 64
MAX_MANIFEST = 1 << 20
PAYLOAD_CIPHER = "sqlcipher4-raw-key"
_CHUNK = 1 << 20
WARD_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_KIND_RE = re.compile(r"[a-z][a-z0-9-]{0,31}")
_HEX64_RE = re.compile(r"[0-9a-f]{64}")
_HEX32_RE = re.compile(r"[0-9a-f]{32}")
_DEVICE_RE = re.compile(r"[0-9a-f]{16}")


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


def wrap_info(ward: str, sequence: int, payload_sha256: str, device_id: str) -> bytes:
    """The HPKE info string that binds a wrapped key to ward, sequence, payload and device."""
    return (
        b"wardcopy-package/1 key\n" + f"{ward}\n{sequence}\n{payload_sha256}\n{device_id}".encode()
    )

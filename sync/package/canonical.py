"""Canonical JSON (docs/package-format.md §2), timestamps, and `PackageError`. Pure."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

_MAX_INT = (1 << 53) - 1
_KEY_RE = re.compile(r"[a-z][a-z0-9_]{0,63}")
_TS_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_TS_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class PackageError(Exception):
    """A package or signed document is not acceptable.

    `reason` is one of: "not-package", "version", "truncated", "signature", "manifest",
    "signer", "ward", "kind", "rollback", "already-installed", "not-enrolled", "unwrap",
    "payload-size", "payload-hash", "integrity", "document-kind", "io".
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


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

"""The trusted checks of the receive path: pure policy, no I/O at all.

Like python-tuf's trusted metadata set, every function here takes bytes, numbers and keys that
the caller read, and either returns what may be trusted or raises `ReceiveError` /
`PackageError` with a stable `reason`. Nothing here opens a file, a socket or reads a clock:
`sync.receive.sources` fetches, `sync.receive.install` writes, and both ask this module first.

The checks, in the order a receive applies them (docs/package-format.md §5):

1. `parse_latest`: the unsigned LATEST pointer is well-formed; `check_offer` compares it with
   what is installed (same package: nothing to fetch; older: rollback); `check_announced_size`
   caps what it may announce relative to the installed package; `check_free_space` keeps a
   reserve on the laptop's disk.
2. `TransferBudget`: the download's overall deadline and minimum rate.
3. `authenticate_header`: magic, framing, Ed25519 signature against the pinned key (or, for
   snapshots installed before a rotation, a retired one), then the manifest.
4. `check_manifest`: ward, rollback by the signed sequence, kind; `unwrap_db_key`: this laptop
   is a recipient; `check_payload`: size and SHA-256 against the signed manifest.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from sync import package
from sync.package import Manifest, PackageError, PackageHeader
from sync.receive.errors import ReceiveError

__all__ = [
    "DEFAULT_MIN_RATE",
    "DEFAULT_TIMEOUT",
    "HEADER_MAX",
    "MAX_PACKAGE_SIZE",
    "Latest",
    "TransferBudget",
    "authenticate_header",
    "check_announced_size",
    "check_free_space",
    "check_manifest",
    "check_offer",
    "check_payload",
    "disk_reserve",
    "parse_latest",
    "rollback_error",
    "size_cap",
    "space_needed",
    "unwrap_db_key",
]

#: Absolute cap on what a LATEST pointer may announce (first install included).
MAX_PACKAGE_SIZE = 8 << 30
#: A new package may be at most this many times the installed one ...
SIZE_GROWTH_FACTOR = 4
#: ... or this many bytes larger, whichever allows more (small wards grow in big steps).
SIZE_GROWTH_FLOOR = 64 << 20
#: The free-space reserve kept for the audit log and the viewer: RESERVE_BYTES or
#: RESERVE_FRACTION of the file system, whichever is smaller.
RESERVE_BYTES = 200 * 1000 * 1000
RESERVE_FRACTION = 0.10
#: Overall deadline of one download, seconds (`wardcopy receive --timeout`).
DEFAULT_TIMEOUT = 15 * 60.0
#: Minimum average rate, bytes per second, measured over a window of RATE_WINDOW seconds.
DEFAULT_MIN_RATE = 10 * 1000
RATE_WINDOW = 60.0
#: The most a package header can be: magic, length, manifest, signature.
HEADER_MAX = len(package.MAGIC) + 4 + package.MAX_MANIFEST + package.SIG_SIZE

_FILE_RE = re.compile(r"\d{10}\.wcpkg")
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Latest:
    """A ward's LATEST pointer (unsigned: only a hint of what to fetch; the package's own
    signed manifest decides)."""

    file: str
    sequence: int
    size: int
    sha256: str


def parse_latest(data: bytes | None, where: str) -> Latest:
    """Parse a LATEST pointer. Raises ReceiveError "no-package" if absent or malformed."""
    if data is None:
        raise ReceiveError("no-package", f"{where} has no LATEST pointer: nothing published yet")
    try:
        raw: Any = orjson.loads(data)
        ok = (
            isinstance(raw, dict)
            and isinstance(raw.get("file"), str)
            and _FILE_RE.fullmatch(raw["file"]) is not None
            and isinstance(raw.get("sequence"), int)
            and isinstance(raw.get("size"), int)
            and raw["size"] > 0
            and isinstance(raw.get("sha256"), str)
            and _HEX64.fullmatch(raw["sha256"]) is not None
        )
    except orjson.JSONDecodeError:
        ok = False
    if not ok:
        raise ReceiveError("no-package", f"{where} LATEST pointer is malformed")
    return Latest(
        file=raw["file"], sequence=raw["sequence"], size=raw["size"], sha256=raw["sha256"]
    )


def rollback_error(ward: str, offered: int, installed: int) -> ReceiveError:
    """The refusal for an offer older than what is installed."""
    return ReceiveError(
        "rollback",
        f"refused: the source offers package {offered} of ward {ward}, but {installed} is "
        "already installed; an older package would hide newer data (rollback). Check that the "
        "source is up to date",
    )


def check_offer(
    latest: Latest, ward: str, installed_seq: int | None, installed_sha: str | None
) -> Literal["current", "fetch"]:
    """ "current" if LATEST names exactly the installed package, else "fetch". Raises
    ReceiveError "rollback" if it names an older sequence."""
    if installed_seq is None:
        return "fetch"
    if latest.sequence == installed_seq and latest.sha256 == installed_sha:
        return "current"
    if latest.sequence < installed_seq:
        raise rollback_error(ward, latest.sequence, installed_seq)
    return "fetch"


def size_cap(previous_size: int | None) -> int:
    """The most a LATEST pointer may announce when the installed package has `previous_size`
    bytes (None: nothing installed): SIZE_GROWTH_FACTOR times it or SIZE_GROWTH_FLOOR more,
    whichever is larger, never above MAX_PACKAGE_SIZE."""
    if previous_size is None:
        return MAX_PACKAGE_SIZE
    grown = max(previous_size * SIZE_GROWTH_FACTOR, previous_size + SIZE_GROWTH_FLOOR)
    return min(grown, MAX_PACKAGE_SIZE)


def check_announced_size(
    announced: int, previous_size: int | None, where: str, limit: int | None = None
) -> None:
    """Refuse an announced size above `limit` (default: `size_cap(previous_size)`).
    Raises ReceiveError "payload-size"."""
    cap = size_cap(previous_size) if limit is None else limit
    if announced > cap:
        grown = (
            f" ({announced / max(previous_size, 1):.1f} times the installed package)"
            if previous_size
            else ""
        )
        raise ReceiveError(
            "payload-size",
            f"refused: {where} announces a package of {_mb(announced)}{grown}, more than the "
            f"{_mb(cap)} this laptop accepts; if the ward really grew that much, run "
            "`wardcopy receive --max-size-mb N` once",
        )


def disk_reserve(total: int) -> int:
    """Bytes to keep free on a file system of `total` bytes: RESERVE_BYTES or RESERVE_FRACTION
    of it, whichever is smaller."""
    return min(RESERVE_BYTES, int(total * RESERVE_FRACTION))


def space_needed(announced: int) -> int:
    """Peak disk use of installing a package of `announced` bytes: the download and the
    staged copy of its payload exist at the same time."""
    return 2 * announced


def check_free_space(announced: int, free: int, total: int, where: str) -> None:
    """Refuse to start a download that would leave less than `disk_reserve(total)` free.
    Raises ReceiveError "disk"."""
    need = space_needed(announced) + disk_reserve(total)
    if need > free:
        raise ReceiveError(
            "disk",
            f"not enough free space on this laptop's disk ({where}): installing a package of "
            f"{_mb(announced)} needs {_mb(need)} free (twice the package plus a reserve of "
            f"{_mb(disk_reserve(total))} for the audit log and the viewer), {_mb(free)} are "
            "free. Free up space on the laptop; the installed snapshot stays in use",
        )


class TransferBudget:
    """The deadline and minimum rate of one download. Pure: the caller passes the monotonic
    time of each observation, so this never reads a clock.

    `check(now, received)` raises ReceiveError "timeout" when `now` is past the overall
    deadline, or when fewer than `min_rate * RATE_WINDOW` bytes arrived in the last full
    RATE_WINDOW seconds (a server that drips a byte every few seconds)."""

    def __init__(
        self,
        start: float,
        what: str,
        timeout: float = DEFAULT_TIMEOUT,
        min_rate: float = DEFAULT_MIN_RATE,
        window: float = RATE_WINDOW,
        opened: float | None = None,
    ) -> None:
        self.start = start
        self.what = what
        self.timeout = timeout
        self.min_rate = min_rate
        self.window = window
        # The rate is measured from when this transfer began (`opened`), the deadline from the
        # start of the whole receive (`start`).
        self._mark_time = start if opened is None else opened
        self._mark_bytes = 0

    def remaining(self, now: float) -> float:
        """Seconds left before the overall deadline (may be negative)."""
        return self.start + self.timeout - now

    def check(self, now: float, received: int) -> None:
        """Raise ReceiveError "timeout" if the deadline passed or the rate fell too low."""
        if now - self.start > self.timeout:
            raise ReceiveError(
                "timeout",
                f"{self.what}: the download did not finish within {self.timeout:g} s "
                f"({_mb(received)} received); the source or the network is too slow. "
                "Try again later or raise `--timeout`",
            )
        if now - self._mark_time >= self.window:
            rate = (received - self._mark_bytes) / (now - self._mark_time)
            if rate < self.min_rate:
                raise ReceiveError(
                    "timeout",
                    f"{self.what}: the download slowed to {rate:.0f} bytes/s, below the "
                    f"minimum of {self.min_rate:.0f} bytes/s; the source or the network is "
                    "stalling. Try again later",
                )
            self._mark_time = now
            self._mark_bytes = received


def _slicer(data: bytes) -> Callable[[int], bytes]:
    pos = 0

    def read(n: int) -> bytes:
        nonlocal pos
        chunk = data[pos : pos + n]
        pos += len(chunk)
        return chunk

    return read


def authenticate_header(head: bytes, trusted: Sequence[Ed25519PublicKey]) -> PackageHeader:
    """Authenticate a package header held in `head` (the first bytes of a package or a stored
    `package.header`; extra bytes after the header are ignored) against the first of `trusted`
    whose signature verifies. The first key is the pinned one; later ones are retired keys that
    signed snapshots installed before a rotation. Raises PackageError (that of the first key
    when none verifies)."""
    if not trusted:
        raise ReceiveError("untrusted", "no server key is pinned on this laptop")
    first: PackageError | None = None
    for key in trusted:
        try:
            return package.read_header(_slicer(head), key)
        except PackageError as exc:
            if exc.reason != "signature":
                raise
            first = first or exc
    assert first is not None
    raise first


def check_manifest(
    manifest: Manifest,
    ward: str,
    installed_seq: int | None,
    installed_sha: str | None,
    package_sha: str,
) -> None:
    """Ward, kind and rollback rules on the signed manifest (package-format.md §5 step 5).
    Raises PackageError "ward" / "kind", ReceiveError "rollback"."""
    if manifest.ward != ward:
        raise PackageError(
            "ward",
            f"the package is for ward {manifest.ward!r}, not {ward!r}: the outbox is mixed up "
            "or tampered with; refusing it",
        )
    if installed_seq is not None:
        if manifest.sequence < installed_seq:
            raise rollback_error(ward, manifest.sequence, installed_seq)
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


def unwrap_db_key(manifest: Manifest, device_key: X25519PrivateKey) -> bytes:
    """This laptop is a recipient: open its wrapped database key. Raises PackageError
    "not-enrolled" / "unwrap"."""
    return package.unwrap_db_key(manifest, device_key)


def check_payload(manifest: Manifest, size: int, sha256: str) -> None:
    """The payload's measured size and SHA-256 match the signed manifest. Raises PackageError
    "payload-size" / "payload-hash"."""
    package.check_payload(manifest, size, sha256)


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n} bytes"

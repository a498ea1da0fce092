"""Sync-server side of distribution: the enrolment store, per-ward sequence allocation, and the
outbox (write-once package files, an atomically replaced LATEST pointer, keep N).

Layout and ordering are specified in docs/package-format.md §8. Every function here does file I/O
on the paths it is given (and nothing else); errors are `PublishError` with a message naming the
file and what to do.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync import fsutil, keys, package
from sync.fsutil import fsync_dir
from sync.package import WARD_RE, Manifest, RecipientKey

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_KEEP",
    "Enrolment",
    "PublishError",
    "PublishResult",
    "allocate_sequence",
    "enrol",
    "last_sequence",
    "list_enrolments",
    "publish_document",
    "publish_key_rotation",
    "publish_package_file",
    "publish_snapshot",
    "read_latest",
    "recipients_for",
    "revoke",
]

DEFAULT_KEEP = 5
PACKAGE_RE = re.compile(r"(\d{10})\.wcpkg")


class PublishError(Exception):
    """Publishing, enrolment or sequence allocation failed; the message says what to do."""


# --- small atomic file helpers ------------------------------------------------------------------


def atomic_write(path: Path, data: bytes, mode: int = 0o644, *, durable: bool = True) -> None:
    """Replace `path` with `data` atomically (`sync.fsutil.atomic_write`). Outbox files are
    public (signed or encrypted), hence the default mode 0644. Raises OSError."""
    fsutil.atomic_write(path, data, mode, durable=durable)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on `path` (created if needed) for the duration."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with path.open("a+b") as fh:
        try:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        except ImportError:  # Windows: single scheduled writer assumed
            pass
        yield


def _read_json(path: Path, default: Any) -> Any:
    try:
        return orjson.loads(path.read_bytes())
    except FileNotFoundError:
        return default
    except orjson.JSONDecodeError as exc:
        raise PublishError(f"{path} is not valid JSON ({exc}); restore it from a backup") from exc


# --- sequences ----------------------------------------------------------------------------------


def _check_ward(ward: str) -> None:
    if not WARD_RE.fullmatch(ward):
        raise PublishError(
            f"ward id {ward!r} is not allowed: use letters, digits, '.', '_' or '-' (max 64)"
        )


def last_sequence(sync_home: Path, ward: str) -> int:
    """The last sequence allocated for `ward` (0 if none)."""
    state = _read_json(sync_home / "state.json", {})
    return int(state.get("wards", {}).get(ward, {}).get("last_sequence", 0))


def allocate_sequence(sync_home: Path, ward: str, outbox: Path | None = None) -> int:
    """Allocate the next sequence for `ward` and persist it in `sync_home/state.json` BEFORE the
    package is built, so a crash never reuses a number. Never returns a number at or below one
    already in `outbox` (if given), even if state.json was lost. Raises PublishError."""
    _check_ward(ward)
    with _locked(sync_home / "state.lock"):
        state = _read_json(sync_home / "state.json", {})
        wards = state.setdefault("wards", {})
        entry = wards.setdefault(ward, {})
        floor = int(entry.get("last_sequence", 0))
        if outbox is not None:
            floor = max(floor, _highest_in_outbox(outbox / ward))
        entry["last_sequence"] = floor + 1
        state["format"] = 1
        atomic_write(sync_home / "state.json", orjson.dumps(state, option=orjson.OPT_INDENT_2))
        return floor + 1


def _highest_in_outbox(ward_dir: Path) -> int:
    highest = 0
    latest = read_latest(ward_dir.parent, ward_dir.name)
    if latest is not None:
        highest = int(latest.get("sequence", 0))
    if ward_dir.is_dir():
        for name in os.listdir(ward_dir):
            m = PACKAGE_RE.fullmatch(name)
            if m:
                highest = max(highest, int(m.group(1)))
    return highest


# --- enrolment store ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Enrolment:
    """One laptop allowed to open one ward's snapshots."""

    device_id: str
    ward: str
    public_key: str  # base64url raw X25519
    label: str | None
    enrolled_at: str
    revoked_at: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _enrolments_path(sync_home: Path) -> Path:
    return sync_home / "enrolments.json"


def _load_enrolments(sync_home: Path) -> list[Enrolment]:
    data = _read_json(_enrolments_path(sync_home), {"format": 1, "enrolments": []})
    try:
        return [Enrolment(**e) for e in data.get("enrolments", [])]
    except TypeError as exc:
        raise PublishError(f"{_enrolments_path(sync_home)} is malformed ({exc})") from exc


def _save_enrolments(sync_home: Path, items: list[Enrolment]) -> None:
    data = {"format": 1, "enrolments": [e.__dict__ for e in items]}
    sync_home.mkdir(parents=True, exist_ok=True, mode=0o700)
    atomic_write(_enrolments_path(sync_home), orjson.dumps(data, option=orjson.OPT_INDENT_2))


def enrol(sync_home: Path, ward: str, enrolment_code: str, label: str | None = None) -> Enrolment:
    """Allow the laptop with `enrolment_code` to open `ward`'s future packages. Re-enrolling a
    revoked laptop re-activates it; enrolling an active one again just updates the label.
    Raises PublishError (bad ward) or keys.EnrolmentCodeError (typo in the code)."""
    _check_ward(ward)
    public = keys.parse_enrolment_code(enrolment_code)
    did = keys.device_id(public)
    now = package.format_timestamp(datetime.now(UTC))
    with _locked(sync_home / "enrolments.lock"):
        items = [
            e for e in _load_enrolments(sync_home) if not (e.device_id == did and e.ward == ward)
        ]
        entry = Enrolment(
            device_id=did,
            ward=ward,
            public_key=keys.b64url_encode(keys.raw_public(public)),
            label=label,
            enrolled_at=now,
        )
        items.append(entry)
        items.sort(key=lambda e: (e.ward, e.device_id))
        _save_enrolments(sync_home, items)
    return entry


def list_enrolments(
    sync_home: Path, ward: str | None = None, include_revoked: bool = False
) -> list[Enrolment]:
    """Enrolments, optionally of one ward; revoked ones only if asked."""
    return [
        e
        for e in _load_enrolments(sync_home)
        if (ward is None or e.ward == ward) and (include_revoked or e.active)
    ]


def revoke(sync_home: Path, device_id: str, ward: str | None = None) -> int:
    """Revoke a laptop (for one ward, or all). Future packages exclude it; packages it already
    has stay readable by it (docs/security.md). Returns how many enrolments were revoked; raises
    PublishError if none matched."""
    now = package.format_timestamp(datetime.now(UTC))
    count = 0
    with _locked(sync_home / "enrolments.lock"):
        items = _load_enrolments(sync_home)
        out: list[Enrolment] = []
        for e in items:
            if e.device_id == device_id and (ward is None or e.ward == ward) and e.active:
                e = Enrolment(**{**e.__dict__, "revoked_at": now})
                count += 1
            out.append(e)
        if not count:
            raise PublishError(
                f"no active enrolment for device {device_id}"
                + (f" on ward {ward}" if ward else "")
                + ": see `wardcopy-sync enrol --list`"
            )
        _save_enrolments(sync_home, out)
    return count


def recipients_for(sync_home: Path, ward: str) -> list[RecipientKey]:
    """The active laptops of `ward`, as package recipients."""
    result = []
    for e in list_enrolments(sync_home, ward):
        public = keys.public_device_key_from_raw(keys.b64url_decode(e.public_key))
        result.append(RecipientKey(e.device_id, public))
    return result


# --- outbox -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublishResult:
    """What was published: the package path, its manifest, hash and size, and pruned files."""

    path: Path
    manifest: Manifest
    sha256: str
    size: int
    pruned: tuple[Path, ...]


def read_latest(outbox: Path, ward: str) -> dict[str, Any] | None:
    """The ward's LATEST pointer as a dict, or None if there is none."""
    try:
        data = orjson.loads((outbox / ward / "LATEST").read_bytes())
    except FileNotFoundError:
        return None
    except orjson.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def _update_index(outbox: Path, ward: str) -> None:
    index = _read_json(outbox / "index.json", {})
    if ward in index.get("wards", []) and index.get("format") == 1:
        return  # already listed: no rewrite (two disk flushes per published package)
    wards = sorted(set(index.get("wards", [])) | {ward})
    atomic_write(outbox / "index.json", orjson.dumps({"format": 1, "wards": wards}))


def publish_package_file(
    outbox: Path, ward: str, sequence: int, write: Any, keep: int = DEFAULT_KEEP
) -> tuple[Path, str, int, tuple[Path, ...]]:
    """Write-once publication: `write(fh)` writes the package into a temp file in
    OUTBOX/<ward>/, which is fsynced and moved to <sequence:010d>.wcpkg without replacing an
    existing file; then LATEST is replaced atomically; then packages beyond the newest `keep` are
    pruned. Returns (path, sha256, size, pruned). Raises PublishError if the sequence exists."""
    _check_ward(ward)
    ward_dir = outbox / ward
    ward_dir.mkdir(parents=True, exist_ok=True)
    final = ward_dir / f"{sequence:010d}.wcpkg"
    if final.exists():
        raise PublishError(f"{final} already exists; packages are write-once (sequence reused?)")
    tmp = ward_dir / f".{final.name}.{secrets.token_hex(4)}.partial"
    try:
        with tmp.open("xb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        size = tmp.stat().st_size
        digest = hashlib.sha256()
        with tmp.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
        try:
            fsutil.link_no_replace(tmp, final)  # the sequence lock serialises publishers
        except FileExistsError:
            raise PublishError(
                f"{final} appeared while publishing; refusing to replace it"
            ) from None
        fsync_dir(ward_dir)
    finally:
        tmp.unlink(missing_ok=True)
    sha = digest.hexdigest()
    pointer = {"file": final.name, "sequence": sequence, "sha256": sha, "size": size}
    atomic_write(ward_dir / "LATEST", orjson.dumps(pointer, option=orjson.OPT_SORT_KEYS))
    _update_index(outbox, ward)
    pruned = _prune(ward_dir, keep)
    log.debug(
        "ward %s: package %d written (%d bytes), LATEST moved, %d old package(s) pruned",
        ward,
        sequence,
        size,
        len(pruned),
    )
    return final, sha, size, pruned


def _prune(ward_dir: Path, keep: int) -> tuple[Path, ...]:
    """Delete all but the newest `keep` packages (only after LATEST moved) and stale temps."""
    names = sorted(n for n in os.listdir(ward_dir) if PACKAGE_RE.fullmatch(n))
    doomed = [ward_dir / n for n in names[: max(0, len(names) - max(keep, 1))]]
    for path in doomed:
        path.unlink(missing_ok=True)
    return tuple(doomed)


def publish_snapshot(
    *,
    sync_home: Path,
    outbox: Path,
    ward: str,
    payload_path: Path,
    db_key: bytes,
    data_as_of: datetime,
    counts: Mapping[str, int],
    signing_key: Ed25519PrivateKey,
    keep: int = DEFAULT_KEEP,
    sequence: int | None = None,
) -> PublishResult:
    """Seal the SQLCipher file `payload_path` for `ward`'s active enrolments and publish it.
    Allocates the sequence first (unless given) so that a crash never reuses one; also writes
    OUTBOX/signing.pub. Raises PublishError, OSError."""
    seq = sequence if sequence is not None else allocate_sequence(sync_home, ward, outbox)
    recipients = recipients_for(sync_home, ward)
    log.debug("ward %s: sealing package %d for %d laptop(s)", ward, seq, len(recipients))
    manifests: list[Manifest] = []

    def write(fh: Any) -> None:
        manifests.append(
            package.seal_package(
                fh,
                payload_path,
                db_key=db_key,
                ward=ward,
                sequence=seq,
                data_as_of=data_as_of,
                counts=counts,
                recipients=recipients,
                signing_key=signing_key,
            )
        )

    path, sha, size, pruned = publish_package_file(outbox, ward, seq, write, keep)
    write_signing_pub(outbox, signing_key)
    return PublishResult(path=path, manifest=manifests[0], sha256=sha, size=size, pruned=pruned)


def write_signing_pub(outbox: Path, signing_key: Ed25519PrivateKey) -> None:
    """OUTBOX/signing.pub: the server's public key (informational; laptops pin it out of band)."""
    outbox.mkdir(parents=True, exist_ok=True)
    text = keys.signing_public_key_text(signing_key.public_key()) + "\n"
    path = outbox / "signing.pub"
    if not path.exists() or path.read_text(encoding="ascii", errors="replace") != text:
        atomic_write(path, text.encode("ascii"))


def publish_document(
    outbox: Path,
    kind: str,
    body: bytes,
    signing_key: Ed25519PrivateKey,
    sequence: int | None = None,
) -> Path:
    """Seal and place a signed document as OUTBOX/<kind>.wcdoc (e.g. roster.wcdoc), replacing
    the previous one atomically. Returns its path."""
    outbox.mkdir(parents=True, exist_ok=True)
    data = package.seal_document(kind, body, signing_key, sequence=sequence)
    path = outbox / f"{kind}.wcdoc"
    atomic_write(path, data)
    return path


def publish_freshness(
    outbox: Path,
    ward: str,
    package_sequence: int,
    as_of: datetime,
    signing_key: Ed25519PrivateKey,
) -> Path:
    """Place OUTBOX/<ward>/FRESHNESS.wcdoc: package `package_sequence` is still the ward's
    newest as of `as_of` (docs/package-format.md §7a), replacing the previous statement
    atomically. Raises ValueError (bad ward/sequence), OSError."""
    data = package.seal_freshness(ward, package_sequence, as_of, signing_key)
    path = outbox / ward / package.FRESHNESS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    # Not flushed to disk (every ward, every cycle): after a power cut a laptop sees at worst
    # the previous statement (older, so the ward looks staler) or a damaged one, which it
    # refuses with a warning and keeps its own (sync.receive.install._receive_freshness).
    atomic_write(path, data, durable=False)
    return path


def publish_key_rotation(
    outbox: Path, old_key: Ed25519PrivateKey, new_key: Ed25519PrivateKey
) -> Path:
    """Publish OUTBOX/key-rotation.wcdoc: the new public key, signed by the old key, so laptops
    that pinned the old key re-pin the new one on their next receive (docs/security.md §4).
    Also updates OUTBOX/signing.pub. Returns the document path."""
    body = package.canonical_dumps({"new_key": keys.signing_public_key_text(new_key.public_key())})
    path = publish_document(outbox, "key-rotation", body, old_key)
    write_signing_pub(outbox, new_key)
    return path

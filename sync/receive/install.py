"""The install transaction: the only code of the receive path that writes on the laptop.

`receive` takes this home's receive lock (sync.lock: one receive per laptop home at a time;
the OS drops it when the process dies), asks `sync.receive.sources` for bytes and
`sync.receive.trust` whether to trust them, and installs crash-safely, restic-style (data
first, pointer last): download into a temp file in snapshots/<ward>/, verify, copy the payload
into a staging dir, fsync, integrity-check with SQLCipher, rename the staging dir to its final
name, replace `current`, prune. A crash at any step leaves the previous `current` in place and
openable; leftovers are removed by the next receive (which holds the lock, so they cannot be
another receive's files).

Never deleted: the folders that `current` and its `previous` name. A damaged current snapshot
(its payload no longer matches the signed manifest, or its folder is gone) is repaired: the same
package is fetched again, verified like a new one, and its files replace the damaged ones one
atomic rename at a time, so `current` stays valid throughout.

Nothing here writes plaintext: the payload is SQLCipher-encrypted, the database key lives only
in memory, and SQLCipher keeps temp data in RAM (sync.snapshot).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from sync import device, fsutil, keys, lock, package
from sync.package import WARD_RE, PackageError
from sync.receive import trust
from sync.receive.errors import ReceiveError
from sync.receive.installed import (
    installed_sequences,
    installed_wards,
    load_roster,
    read_freshness,
    read_installed_header,
    read_pointer,
    roster_path,
    snapshots_dir,
)
from sync.receive.sources import Source, disk_error
from sync.snapshot import SnapshotError, SnapshotReader

# Lines name wards, sequences, sizes, reasons and durations: never the source's address (a URL
# may carry credentials), key material, or anything from inside a snapshot (docs/cli.md).
log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_LOCK_WAIT",
    "INSTALL_STEPS",
    "KEEP_INSTALLED",
    "ReceiveResult",
    "lock_path",
    "receive",
    "receive_lock",
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
#: How long `receive` waits by default for another receive of the same home to finish.
DEFAULT_LOCK_WAIT = 0.0
_LATEST_MAX = 64 << 10
_ROSTER_MAX = package.MAX_DOCUMENT_BODY + package.MAX_MANIFEST + 256
_CHUNK = 1 << 20

Fault = Callable[[str], None]
Status = Literal["installed", "already-installed", "repaired"]


@dataclass(frozen=True)
class ReceiveResult:
    """What `receive` did, for the CLI and the audit log.

    `status`: "installed" (a newer package is now current), "already-installed" (the newest
    package was installed and checked intact), "repaired" (the installed current package was
    damaged or missing and was reinstalled from the source; `repair` says what was wrong).
    A refusal is not a result: `receive` raises, and `sync.receive.outcome_of(exc)` says
    "refused" / "unavailable" / "not-ready" / "busy" / "usage" with `exc.reason`."""

    ward: str
    sequence: int
    status: Status
    data_as_of: datetime
    path: Path
    previous_sequence: int | None
    roster: Literal["updated", "unchanged", "absent", "refused"] = "absent"
    warnings: tuple[str, ...] = ()
    repair: str | None = None


def lock_path(home: Path) -> Path:
    """The file whose OS lock one receive of `home` holds."""
    return home / "receive.lock"


@contextlib.contextmanager
def receive_lock(home: Path, wait: float = DEFAULT_LOCK_WAIT) -> Iterator[None]:
    """Hold this laptop home's receive lock for the block (anything that installs or repairs
    snapshots must hold it; `receive` does). Creates `home` if needed. Waits up to `wait`
    seconds (logging one INFO line that names the holder when it has to wait), then raises
    ReceiveError "busy" naming the holder."""
    _mkdir_private(home)
    path = lock_path(home)

    def waiting(holder: str) -> None:
        # With -v an admin sees why a receive seems to hang; by default a busy receive's only
        # output stays its one-line error.
        who = f" ({holder})" if holder else ""
        log.info(
            "another receive is running on this laptop%s; waiting up to %g s for it", who, wait
        )

    try:
        with lock.hold(path, wait=wait, what="wardcopy receive", on_wait=waiting):
            yield
    except lock.LockBusy as exc:
        who = f" ({exc.holder})" if exc.holder else ""
        raise ReceiveError(
            "busy",
            f"another receive is running on this laptop{who}; waited {wait:g} s. It finishes "
            "on its own (at most its --timeout); try again later, or wait longer with --wait",
        ) from exc
    except OSError as exc:
        raise disk_error(exc, path) from exc


# --- small file helpers -------------------------------------------------------------------------


def _mkdir_private(path: Path) -> None:
    # Not strict: a home on a file system without Unix modes must still receive.
    fsutil.ensure_private_dir(path, strict=False)


def _hash_files(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()


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
        try:
            sha = _hash_files([snap_dir / "package.header", snap_dir / "snapshot.db"])
        except OSError:
            return dirs[0], None  # unreadable: same-sequence re-install is refused, newer allowed
        pointer = {"format": 1, "dir": snap_dir.name, "sequence": dirs[0], "sha256": sha}
        fsutil.atomic_write(ward_dir / "current", orjson.dumps(pointer))
    return int(pointer["sequence"]), str(pointer["sha256"])


def _protected(ward_dir: Path) -> set[str]:
    """Folder names that `current` and its `previous` name: never deleted."""
    pointer = read_pointer(ward_dir)
    if pointer is None:
        return set()
    names = {str(pointer["dir"])}
    previous = pointer.get("previous")
    if isinstance(previous, str):
        names.add(previous)
    return names


def _cleanup_leftovers(ward_dir: Path) -> None:
    """Remove temp downloads and staging dirs left by an interrupted receive. Only called with
    the receive lock held, so they cannot belong to a running receive."""
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


def _installed_size(snap_dir: Path) -> int | None:
    """Bytes of the installed package in `snap_dir` (header + payload), None if unreadable."""
    try:
        return (snap_dir / "package.header").stat().st_size + (
            snap_dir / "snapshot.db"
        ).stat().st_size
    except OSError:
        return None


def installed_damage(home: Path, ward_dir: Path) -> str | None:
    """Why the snapshot `current` names is damaged (header no longer authenticates or names
    another package, payload size or SHA-256 differs from the signed manifest, folder or files
    missing), or None if it is intact. Reads only."""
    pointer = read_pointer(ward_dir)
    if pointer is None:
        return "the `current` pointer is missing or damaged"
    snap_dir = ward_dir / str(pointer["dir"])
    if not snap_dir.is_dir():
        return f"the folder of snapshot {pointer['sequence']} is missing"
    try:
        header = read_installed_header(home, snap_dir)
        manifest = header.manifest
        if (
            manifest.sequence != pointer["sequence"]
            or f"{manifest.sequence:010d}" != pointer["dir"]
        ):
            return f"package.header holds package {manifest.sequence}"
        size, sha = package.hash_payload_file(snap_dir / "snapshot.db", 0)
        trust.check_payload(manifest, size, sha)
    except OSError as exc:
        return f"snapshot {pointer['sequence']} is unreadable ({exc.strerror or exc})"
    except ReceiveError as exc:
        if exc.reason == "untrusted":
            raise
        return f"snapshot {pointer['sequence']}: {exc}"
    except PackageError as exc:
        return f"snapshot {pointer['sequence']}: {exc}"
    return None


# --- receive ------------------------------------------------------------------------------------


def _trusted_key(home: Path, src: Source, trust_server_key: bool) -> Ed25519PublicKey:
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


def _follow_rotation(home: Path, src: Source, pinned: Ed25519PublicKey) -> Ed25519PublicKey:
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


def _choose_ward(home: Path, src: Source, ward: str | None) -> str:
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


def receive(
    home: Path,
    source: str,
    ward: str | None = None,
    *,
    trust_server_key: bool = False,
    timeout: float = trust.DEFAULT_TIMEOUT,
    min_rate: float = trust.DEFAULT_MIN_RATE,
    rate_window: float = trust.RATE_WINDOW,
    lock_wait: float = DEFAULT_LOCK_WAIT,
    max_size: int | None = None,
    fault: Fault | None = None,
) -> ReceiveResult:
    """Fetch, verify and install the newest package of `ward` from `source` (an outbox folder or
    an http(s) URL). `ward` may be omitted when the source (or this laptop) has exactly one.
    Also fetches and verifies the signed roster if the source has one. If the newest package is
    already installed, checks it against its signed manifest and reinstalls it when damaged.

    `timeout` is the overall deadline (seconds) of everything read from the source, `min_rate`
    the slowest acceptable download (bytes/s over `rate_window` s); `lock_wait` how long to wait
    for another receive of this home; `max_size` overrides the cap on the announced package size
    (bytes). `fault(step)` is called after each step in INSTALL_STEPS (a test seam for crash
    safety).

    Side effects: holds `home/receive.lock` while running; writes only under `home/snapshots/`,
    `home/roster/` and (first use, `trust_server_key`) the pinned key.
    Raises ReceiveError / PackageError (with `.reason`; `outcome_of` classifies it),
    device.DeviceError; on any failure the previously installed snapshot stays current."""
    try:
        return _receive(
            home,
            source,
            ward,
            trust_server_key,
            timeout,
            min_rate,
            rate_window,
            lock_wait,
            max_size,
            fault,
        )
    except PackageError as exc:  # ReceiveError included
        log.info(
            "receive refused (%s)%s; the installed snapshot stays current",
            exc.reason,
            f" for ward {ward}" if ward else "",
        )
        raise


def _receive(
    home: Path,
    source: str,
    ward: str | None,
    trust_server_key: bool,
    timeout: float,
    min_rate: float,
    rate_window: float,
    lock_wait: float,
    max_size: int | None,
    fault: Fault | None,
) -> ReceiveResult:
    started = time.monotonic()
    step: Fault = fault or (lambda _name: None)
    identity = device.load_identity(home)
    device_key = device.load_device_key(home)
    kind = "web server" if source.startswith(("http://", "https://")) else "folder"
    log.info("receiving from a %s as device %s", kind, identity.device_id)
    with receive_lock(home, lock_wait), Source(source, timeout, min_rate, rate_window) as src:
        trusted = _trusted_key(home, src, trust_server_key)
        ward = _choose_ward(home, src, ward)
        ward_dir = snapshots_dir(home) / ward
        try:
            _mkdir_private(snapshots_dir(home))
            _mkdir_private(ward_dir)
        except OSError as exc:
            raise disk_error(exc, ward_dir) from exc
        _cleanup_leftovers(ward_dir)
        result = _receive_ward(
            home, src, ward, ward_dir, trusted, identity, device_key, step, max_size
        )
        roster_status, warnings = _receive_roster(home, src, trusted)
        log.info("staff roster %s", roster_status)
        statement, fresh_warnings = _receive_freshness(
            home, src, ward, ward_dir, trusted, result.sequence
        )
        log.debug("freshness statement: %s", "present" if statement else "none")
        log.info(
            "ward %s: package %d %s; receive finished in %.1f s",
            ward,
            result.sequence,
            result.status,
            time.monotonic() - started,
        )
        return dataclasses.replace(
            result,
            roster=roster_status,
            warnings=result.warnings + warnings + fresh_warnings,
            data_as_of=package.effective_as_of(result.data_as_of, result.sequence, statement),
        )


def _receive_freshness(
    home: Path, src: Source, ward: str, ward_dir: Path, trusted: Ed25519PublicKey, sequence: int
) -> tuple[package.Freshness | None, tuple[str, ...]]:
    """Fetch OUTBOX/<ward>/FRESHNESS.wcdoc, verify it, and store it beside the installed
    snapshots when it is about the installed package and newer than the stored one
    (docs/package-format.md §7a). A missing, foreign, old or bad statement changes nothing
    (the package's own data_as_of stands) and is a warning, never an error."""
    try:
        data = src.read_small(f"{ward}/{package.FRESHNESS_FILE}", package.MAX_FRESHNESS)
    except ReceiveError as exc:
        return read_freshness(home, ward, sequence), (f"freshness not fetched: {exc}",)
    stored = read_freshness(home, ward, sequence)
    if data is None:
        return stored, ()
    try:
        statement = package.parse_freshness(data, trusted, ward)
    except PackageError as exc:
        return stored, (f"freshness statement refused: {exc}",)
    if statement.package_sequence != sequence:
        return stored, ()  # about a newer package not yet installed, or an older one
    if stored is not None and statement.sequence <= stored.sequence:
        if statement.sequence < stored.sequence:
            return stored, ("freshness statement refused: older than the one already stored",)
        return stored, ()
    try:
        fsutil.atomic_write(ward_dir / package.FRESHNESS_FILE, data)
    except OSError as exc:
        return stored, (f"freshness statement not stored: {exc.strerror or exc}",)
    return statement, ()


def _receive_ward(
    home: Path,
    src: Source,
    ward: str,
    ward_dir: Path,
    trusted: Ed25519PublicKey,
    identity: device.DeviceIdentity,
    device_key: X25519PrivateKey,
    step: Fault,
    max_size: int | None,
) -> ReceiveResult:
    where = f"{src.source} {ward}"
    latest = trust.parse_latest(src.read_small(f"{ward}/LATEST", _LATEST_MAX), where)
    installed_seq, installed_sha = _installed_sequence(ward_dir)
    log.info(
        "ward %s: offered package %d (%d bytes); installed: %s",
        ward,
        latest.sequence,
        latest.size,
        installed_seq if installed_seq is not None else "none",
    )
    repair: str | None = None
    if trust.check_offer(latest, ward, installed_seq, installed_sha) == "current":
        repair = installed_damage(home, ward_dir)
        if repair is None:
            log.info("ward %s: package %d is installed and intact", ward, latest.sequence)
            return _already(home, ward, ward_dir)
        log.info("ward %s: installed package %d is damaged; repairing it", ward, latest.sequence)
    pointer = read_pointer(ward_dir)
    previous_size = _installed_size(ward_dir / str(pointer["dir"])) if pointer is not None else None
    trust.check_announced_size(latest.size, previous_size, where, max_size)
    try:
        usage = shutil.disk_usage(ward_dir)
    except OSError as exc:
        raise disk_error(exc, ward_dir) from exc
    trust.check_free_space(latest.size, usage.free, usage.total, str(ward_dir))

    incoming = ward_dir / f".incoming-{secrets.token_hex(6)}.wcpkg"
    staging: Path | None = None
    try:
        try:
            out = fsutil.open_exclusive(incoming)
        except OSError as exc:
            raise disk_error(exc, incoming) from exc
        fetch_started = time.monotonic()
        with out:
            package_sha = src.fetch_to(f"{ward}/{latest.file}", out, latest.size)
        log.info(
            "ward %s: fetched %d bytes in %.1f s",
            ward,
            latest.size,
            time.monotonic() - fetch_started,
        )
        step("fetched")

        with incoming.open("rb") as fh:
            head = fh.read(trust.HEADER_MAX)
        header = trust.authenticate_header(head, [trusted])
        manifest = header.manifest
        trust.check_manifest(manifest, ward, installed_seq, installed_sha, package_sha)
        if manifest.sequence == installed_seq and repair is None:
            return _already(home, ward, ward_dir)
        db_key = trust.unwrap_db_key(manifest, device_key)
        size, payload_sha = package.hash_payload_file(incoming, header.payload_offset)
        trust.check_payload(manifest, size, payload_sha)
        log.info(
            "ward %s: package %d verified (signature, manifest, key for this device, payload)",
            ward,
            manifest.sequence,
        )
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
        log.debug("ward %s: database integrity checked", ward)
        step("integrity-checked")

        final = ward_dir / f"{manifest.sequence:010d}"
        protected = _protected(ward_dir)
        if final.name in protected and final.is_dir():
            # Repair in place: each file is replaced atomically, so `current` always names a
            # folder with a complete (old or new) file set and never dangles.
            for name in ("package.header", "snapshot.db"):
                os.replace(staging / name, final / name)
            fsutil.fsync_dir(final)
            shutil.rmtree(staging, ignore_errors=True)
        else:
            if final.exists():  # left by a crash before the pointer moved; not protected
                shutil.rmtree(final)
            os.rename(staging, final)
        staging = None
        fsutil.fsync_dir(ward_dir)
        step("installed")

        new_pointer: dict[str, Any] = {
            "format": 1,
            "dir": final.name,
            "sequence": manifest.sequence,
            "sha256": package_sha,
            "data_as_of": package.format_timestamp(manifest.data_as_of),
            "installed_at": package.format_timestamp(datetime.now(UTC)),
        }
        if repair is not None:  # kept for `wardcopy doctor`: repeated repairs mean a bad disk
            new_pointer["repaired_at"] = new_pointer["installed_at"]
            new_pointer["repair"] = repair[:500]
        previous_dir = _previous_dir(pointer, final.name)
        if previous_dir is not None:
            new_pointer["previous"] = previous_dir
        fsutil.atomic_write(ward_dir / "current", orjson.dumps(new_pointer))
        log.info(
            "ward %s: package %d installed (was %s)",
            ward,
            manifest.sequence,
            installed_seq if installed_seq is not None else "none",
        )
        step("pointer-written")

        _prune(ward_dir, manifest.sequence)
        step("pruned")
        warnings: tuple[str, ...] = ()
        if package_sha != latest.sha256:
            warnings = ("the LATEST pointer's hash differs from the package (pointer stale)",)
        return ReceiveResult(
            ward=ward,
            sequence=manifest.sequence,
            status="repaired" if repair is not None else "installed",
            data_as_of=manifest.data_as_of,
            path=final,
            previous_sequence=installed_seq,
            warnings=warnings,
            repair=repair,
        )
    except OSError as exc:
        # A local write failed (the source's read errors are ReceiveErrors already).
        raise disk_error(exc, exc.filename or ward_dir) from exc
    finally:
        # A real crash skips this; the next receive removes the leftovers instead.
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        with contextlib.suppress(OSError):
            incoming.unlink(missing_ok=True)


def _previous_dir(pointer: dict[str, Any] | None, new_dir: str) -> str | None:
    """The folder the new pointer calls `previous`: the old current one, or (repair in place)
    the old pointer's own `previous`."""
    if pointer is None:
        return None
    if pointer["dir"] != new_dir:
        return str(pointer["dir"])
    previous = pointer.get("previous")
    return previous if isinstance(previous, str) else None


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
        raise PackageError("integrity", f"the snapshot database does not open: {exc}") from exc
    if problems:
        raise PackageError(
            "integrity", "the snapshot database failed its integrity check: " + "; ".join(problems)
        )


def _prune(ward_dir: Path, current: int) -> None:
    """Keep the newest KEEP_INSTALLED snapshots at or below `current`; never delete what
    `current` or its `previous` names."""
    keep = [s for s in installed_sequences(ward_dir) if s <= current][:KEEP_INSTALLED]
    protected = _protected(ward_dir)
    for seq in installed_sequences(ward_dir):
        name = f"{seq:010d}"
        if seq not in keep and seq != current and name not in protected:
            log.debug("ward %s: pruning installed package %d", ward_dir.name, seq)
            shutil.rmtree(ward_dir / name, ignore_errors=True)


# --- roster -------------------------------------------------------------------------------------


def _receive_roster(
    home: Path, src: Source, trusted: Ed25519PublicKey
) -> tuple[Literal["updated", "unchanged", "absent", "refused"], tuple[str, ...]]:
    # Fetched again only when it changed (HTTP 304 otherwise): a 200-user roster is about
    # 50 KB, and laptops poll every minute (docs/performance.md).
    validator_file = roster_path(home).with_suffix(".validator")
    known: str | None = None
    if roster_path(home).is_file():
        with contextlib.suppress(OSError, UnicodeDecodeError):
            known = validator_file.read_text(encoding="ascii").strip() or None
    try:
        data, validator = src.read_small_unless("roster.wcdoc", _ROSTER_MAX, known)
        if data is None and validator is not None:
            try:
                intact = load_roster(home) is not None
            except PackageError:
                intact = False
            if intact:
                return "unchanged", ()
            # The stored copy is damaged: fetch the whole roster again, not "not modified".
            data, validator = src.read_small_unless("roster.wcdoc", _ROSTER_MAX, None)
    except ReceiveError as exc:
        return "refused", (f"roster not fetched: {exc}",)
    with contextlib.suppress(OSError):
        if validator is None:
            validator_file.unlink(missing_ok=True)
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
            _remember_validator(validator_file, validator)
            return "unchanged", ()
    try:
        _mkdir_private(roster_path(home).parent)
        fsutil.atomic_write(roster_path(home), data)
    except OSError as exc:
        raise disk_error(exc, roster_path(home)) from exc
    _remember_validator(validator_file, validator)
    return "updated", ()


def _remember_validator(path: Path, validator: str | None) -> None:
    """Keep the roster's HTTP validator beside it; best effort (without it the next receive
    simply fetches the roster again)."""
    with contextlib.suppress(OSError):
        if validator is None:
            path.unlink(missing_ok=True)
        else:
            fsutil.atomic_write(path, validator.encode("ascii", "replace"))

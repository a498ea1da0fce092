"""The read side of installed snapshots, as the viewer, `verify` and `doctor` use it: find the
installed wards, read the `current` pointer, open the current snapshot (or the newest older one
that opens, saying why), load the stored roster. Never writes: repairing a pointer after a
crash is the install side's job (sync.receive.install).

Layout under WARDCOPY_HOME (directories mode 0700, files 0600):
```
snapshots/<ward>/<sequence:010d>/snapshot.db      the SQLCipher payload, byte for byte
snapshots/<ward>/<sequence:010d>/package.header   magic || length || manifest || signature
snapshots/<ward>/current                          {"dir", "sequence", "sha256", ...} (os.replace)
roster/roster.wcdoc                               the last verified signed roster
receive.lock                                      held by the running receive (sync.lock)
```
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from sync import device, package
from sync.package import Manifest, PackageError, PackageHeader
from sync.receive import trust
from sync.receive.errors import ReceiveError
from sync.receive.wards import (
    DIR_RE,
    choose_ward,
    installed_sequences,
    installed_wards,
    snapshots_dir,
)
from sync.snapshot import SnapshotError, SnapshotReader

# Ward ids, sequences and failure reasons (codes); nothing from inside a snapshot.
log = logging.getLogger(__name__)

__all__ = [
    "InstalledSnapshot",
    "choose_ward",
    "installed_sequences",
    "installed_wards",
    "load_roster",
    "open_installed",
    "read_freshness",
    "read_installed_header",
    "read_pointer",
    "roster_path",
    "snapshots_dir",
    "trusted_keys",
]


@dataclass
class InstalledSnapshot:
    """An opened installed snapshot. Close `reader` (or call `close()`) when done.

    `newest_sequence` is the newest package installed on this laptop (what `current` names,
    or the newest snapshot folder if the pointer is unusable). When `is_older` is true the
    viewer must say so: the snapshot shown is not the newest one this laptop received, and
    `fallback_reason` says why."""

    ward: str
    sequence: int
    path: Path
    reader: SnapshotReader
    manifest: Manifest
    fallback_reason: str | None = None
    tried: list[str] = field(default_factory=list)
    newest_sequence: int | None = None

    freshness: package.Freshness | None = None  # a verified statement for this very package

    @property
    def data_as_of(self) -> datetime:
        """When the source was last read for this data: the package's own time, or later when
        a signed freshness statement says this package was still the newest then."""
        return package.effective_as_of(
            self.manifest.data_as_of, self.manifest.sequence, self.freshness
        )

    @property
    def is_older(self) -> bool:
        """True if this is not the newest installed package (or the pointer was unusable)."""
        newest = self.newest_sequence
        return self.fallback_reason is not None or (newest is not None and newest > self.sequence)

    def close(self) -> None:
        self.reader.close()


def roster_path(home: Path) -> Path:
    return home / "roster" / "roster.wcdoc"


def read_pointer(ward_dir: Path) -> dict[str, Any] | None:
    """The `current` pointer if it is well-formed, else None."""
    try:
        data = orjson.loads((ward_dir / "current").read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("sequence"), int)
        or not isinstance(data.get("dir"), str)
        or not DIR_RE.fullmatch(data["dir"])
        or not isinstance(data.get("sha256"), str)
    ):
        return None
    return data


def trusted_keys(home: Path) -> list[Ed25519PublicKey]:
    """The pinned server key first, then retired keys (snapshots installed before a rotation).
    Raises ReceiveError "untrusted" if no key is pinned, device.DeviceError if it is unreadable."""
    pinned = device.pinned_server_key(home)
    if pinned is None:
        raise ReceiveError(
            "untrusted",
            "no server key is pinned on this laptop: run `wardcopy device trust signing.pub` "
            "with the key from the sync server",
        )
    return [pinned, *device.retired_server_keys(home)]


def read_installed_header(home: Path, snap_dir: Path) -> PackageHeader:
    """Read and authenticate `snap_dir/package.header`. Raises PackageError ("io" if
    unreadable, "manifest" if bytes trail the header), ReceiveError "untrusted"."""
    keys = trusted_keys(home)
    path = snap_dir / "package.header"
    try:
        with path.open("rb") as fh:
            data = fh.read(trust.HEADER_MAX + 1)
    except OSError as exc:
        raise PackageError("io", f"cannot read {path}: {exc.strerror or exc}") from exc
    header = trust.authenticate_header(data, keys)
    extra = len(data) - header.payload_offset
    if extra:
        raise PackageError("manifest", f"{path} has {extra} unexpected trailing bytes")
    return header


def _open_dir(
    home: Path, ward: str, snap_dir: Path, device_key: X25519PrivateKey, check_hash: bool
) -> tuple[SnapshotReader, Manifest]:
    """Verify and open one installed snapshot dir. Raises PackageError / SnapshotError."""
    header = read_installed_header(home, snap_dir)
    manifest = header.manifest
    if manifest.ward != ward or f"{manifest.sequence:010d}" != snap_dir.name:
        raise PackageError("ward", f"{snap_dir} holds package {manifest.ward}/{manifest.sequence}")
    db_key = trust.unwrap_db_key(manifest, device_key)
    db_path = snap_dir / "snapshot.db"
    try:
        if check_hash:
            size, sha = package.hash_payload_file(db_path, 0)
        else:
            size, sha = db_path.stat().st_size, manifest.payload.sha256
    except OSError as exc:
        raise PackageError("io", f"cannot read {db_path}: {exc.strerror}") from exc
    trust.check_payload(manifest, size, sha)
    return SnapshotReader(db_path, db_key), manifest


def open_installed(
    home: Path, ward: str | None = None, *, check_hash: bool = True
) -> InstalledSnapshot:
    """Open the current snapshot of `ward` (or of the only installed ward): re-verify the header
    signature against the pinned key, unwrap the key with this device's key, check the payload
    size (and SHA-256 unless `check_hash=False`), open it read-only.

    If the current one fails (or `current` names a folder that is gone), falls back to the
    newest older installed snapshot that opens and says why in `fallback_reason`; `is_older`
    is then true. Raises ReceiveError if none opens (reason "not-installed"),
    device.DeviceError if the device key is missing."""
    ward = choose_ward(home, ward)
    device_key = device.load_device_key(home)
    ward_dir = snapshots_dir(home) / ward
    pointer = read_pointer(ward_dir)
    dirs = installed_sequences(ward_dir)
    # The pointer decides what is newest: a newer folder without a pointer is an install in
    # progress (renamed, pointer not yet written), not something the user is missing.
    newest = int(pointer["dir"]) if pointer is not None else max(dirs)
    order: list[int] = []
    failures: list[str] = []
    if pointer is None:
        failures.append("the `current` pointer is missing or damaged")
    elif int(pointer["dir"]) in dirs:
        order.append(int(pointer["dir"]))
    else:
        failures.append(f"the current snapshot {int(pointer['dir'])} is missing")
    order += [s for s in dirs if s not in order and (not order or s < order[0])]
    for seq in order:
        snap_dir = ward_dir / f"{seq:010d}"
        try:
            reader, manifest = _open_dir(home, ward, snap_dir, device_key, check_hash)
        except (PackageError, SnapshotError) as exc:
            log.info("ward %s: installed snapshot %d refused (%s)", ward, seq, _reason(exc))
            failures.append(f"snapshot {seq} could not be opened ({exc})")
            continue
        reason = None
        if failures or seq < newest:
            reason = "; ".join(failures or [f"snapshot {newest} is newer"]) + (
                f"; showing the previous good snapshot {seq} "
                f"(data as of {package.format_timestamp(manifest.data_as_of)})"
            )
            log.info("ward %s: falling back to the older snapshot %d", ward, seq)
        log.info(
            "ward %s: snapshot %d opened (signature%s checked)",
            ward,
            seq,
            ", payload hash" if check_hash else "",
        )
        return InstalledSnapshot(
            ward=ward,
            sequence=seq,
            path=snap_dir,
            reader=reader,
            manifest=manifest,
            fallback_reason=reason,
            tried=failures,
            newest_sequence=newest,
            freshness=read_freshness(home, ward, seq),
        )
    raise ReceiveError(
        "not-installed",
        f"no installed snapshot of ward {ward} can be opened: {'; '.join(failures)}; "
        "run `wardcopy receive` again",
    )


def _reason(exc: PackageError | SnapshotError) -> str:
    """The short reason code of a refusal, for logs (messages can name paths)."""
    return str(getattr(exc, "reason", type(exc).__name__))


def read_freshness(home: Path, ward: str, sequence: int) -> package.Freshness | None:
    """The stored freshness statement of `ward`, re-verified against the pinned key(s), when it
    is about package `sequence`; None when absent, unverifiable or about another package (the
    package's own data_as_of then stands). Never raises."""
    try:
        data = (snapshots_dir(home) / ward / package.FRESHNESS_FILE).read_bytes()
    except OSError:
        return None
    try:
        pinned = device.pinned_server_key(home)
        statement = package.parse_freshness(data, pinned, ward) if pinned else None
    except (PackageError, device.DeviceError):
        return None  # only the pinned key vouches for freshness, never a retired one
    return statement if statement is not None and statement.package_sequence == sequence else None


def load_roster(home: Path) -> package.SignedDocument | None:
    """The stored roster, re-verified against the pinned key; None if none is stored.
    Raises PackageError if the stored file fails verification, ReceiveError "untrusted" if
    no key is pinned."""
    try:
        data = roster_path(home).read_bytes()
    except FileNotFoundError:
        return None
    pinned = device.pinned_server_key(home)
    if pinned is None:
        raise ReceiveError("untrusted", "no server key pinned: cannot verify the stored roster")
    return package.parse_document(data, pinned, "roster")

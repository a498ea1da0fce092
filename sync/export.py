"""`wardcopy-sync export --to PATH`: the extra copy of a 3-2-1 backup (a second share, a USB stick).

Copies the newest package of every ward, and what laptops need to use it (`signing.pub`,
`roster.wcdoc`, `key-rotation.wcdoc`, `index.json`, each ward's `LATEST`), from the outbox to
PATH, so that PATH is itself an outbox: a laptop can `wardcopy receive --from PATH`.

Write order (restic-style, as in `sync.publish`): packages first, write-once (temp file, fsync,
hash re-read from the destination, no-replace rename); then the signed documents and the index;
each ward's `LATEST` last, replaced atomically. A crash or a pulled stick at any moment leaves
the previous copy usable. Packages are SQLCipher ciphertext in a signed envelope, so nothing
written here is plaintext patient data.

Side effects are confined to the destination folder; the outbox is only read.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import logging
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from sync import fsutil, keys, package, paths, publish
from sync.errors import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, CliError
from sync.package import WARD_RE, PackageError

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_EXPORT_KEEP",
    "ExportResult",
    "WardExport",
    "export_outbox",
    "outbox_wards",
    "register",
    "server_public_keys",
]

DEFAULT_EXPORT_KEEP = 3
#: Small signed or public files copied beside the packages (all optional in an outbox).
SIDE_FILES = ("signing.pub", "roster.wcdoc", "key-rotation.wcdoc")
_CHUNK = 1 << 20
_LATEST_MAX = 64 << 10


@dataclass(frozen=True)
class WardExport:
    """One ward's outcome: `status` is "copied", "already-present" or "refused"."""

    ward: str
    sequence: int | None
    file: str | None
    status: Literal["copied", "already-present", "refused"]
    reason: str | None = None


@dataclass
class ExportResult:
    """What `export_outbox` did. `problems` are human-readable lines (one per refused thing)."""

    dest: Path
    wards: list[WardExport] = field(default_factory=list)
    side_files: list[str] = field(default_factory=list)
    pruned: list[Path] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        return [f"{w.ward}: {w.reason}" for w in self.wards if w.status == "refused"]


# --- reading the outbox ---------------------------------------------------------------------------


def server_public_keys(sync_home: Path) -> list[Ed25519PublicKey]:
    """The sync server's current public key and retired ones (after `keys rotate`), current
    first; [] if there is no key. Reads `keys/signing.pub` and `keys/retired/*.key`. Never
    raises: unreadable keys are skipped (`wardcopy-sync doctor` reports them)."""
    found: list[Ed25519PublicKey] = []
    with contextlib.suppress(OSError, keys.KeysError):
        found.append(keys.load_signing_key(sync_home / "keys" / "signing.key").public_key())
    if not found:
        with contextlib.suppress(OSError, keys.KeysError):
            text = (sync_home / "keys" / "signing.pub").read_text(encoding="ascii")
            found.append(keys.parse_signing_public_key(text))
    retired_dir = sync_home / "keys" / "retired"
    with contextlib.suppress(OSError):
        for path in sorted(retired_dir.glob("signing-*.key")):
            with contextlib.suppress(keys.KeysError):
                found.append(keys.load_signing_key(path).public_key())
    return found


def outbox_wards(outbox: Path) -> list[str]:
    """Wards an outbox offers: those in `index.json` plus folders holding a LATEST, sorted.
    Reads only; invalid ward names are ignored."""
    wards: set[str] = set()
    with contextlib.suppress(OSError, orjson.JSONDecodeError, AttributeError, TypeError):
        index = orjson.loads((outbox / "index.json").read_bytes())
        wards |= {w for w in index.get("wards", []) if isinstance(w, str)}
    with contextlib.suppress(OSError):
        wards |= {p.name for p in outbox.iterdir() if (p / "LATEST").is_file()}
    return sorted(w for w in wards if WARD_RE.fullmatch(w))


def parse_latest(data: bytes) -> dict[str, Any]:
    """Pure: a LATEST pointer's fields, checked. Raises ValueError saying what is wrong."""
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise ValueError("LATEST is not JSON") from None
    if not isinstance(obj, dict):
        raise ValueError("LATEST is not a JSON object")
    name, seq, sha, size = obj.get("file"), obj.get("sequence"), obj.get("sha256"), obj.get("size")
    if not isinstance(name, str) or not publish.PACKAGE_RE.fullmatch(name):
        raise ValueError(f"LATEST names no package file ({name!r})")
    if not isinstance(seq, int) or isinstance(seq, bool) or name != f"{seq:010d}.wcpkg":
        raise ValueError("LATEST's sequence does not match its file name")
    if not isinstance(sha, str) or len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise ValueError("LATEST has no valid sha256")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ValueError("LATEST has no valid size")
    return obj


def file_digest(path: Path) -> tuple[int, str]:
    """Size and SHA-256 hex of a whole file (streamed). Raises OSError."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _read_latest_bytes(ward_dir: Path) -> bytes | None:
    path = ward_dir / "LATEST"
    try:
        if path.stat().st_size > _LATEST_MAX:
            return None
        return path.read_bytes()
    except FileNotFoundError:
        return None


# --- writing the copy -----------------------------------------------------------------------------


def _copy_verified(src: Path, final: Path, size: int, sha256: str) -> None:
    """Copy `src` to `final` write-once: temp file beside `final`, fsync, re-read the temp file
    and compare size and hash, then a no-replace rename and a directory fsync.
    Raises ValueError (hash or size differs after copy), FileExistsError, OSError."""
    tmp = final.with_name(f".{final.name}.{secrets.token_hex(4)}.partial")
    try:
        with fsutil.open_exclusive(tmp, 0o644) as out, src.open("rb") as inp:
            while chunk := inp.read(_CHUNK):
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        copied_size, copied_sha = file_digest(tmp)
        if (copied_size, copied_sha) != (size, sha256):
            raise ValueError(
                f"the copy of {src.name} on {final.parent} does not match the outbox "
                "(damaged medium or changed while copying)"
            )
        # FAT/exFAT sticks and some SMB shares have no hard links, so this may fall back to
        # check-then-rename: only one export writes a destination at a time (docs/operations.md).
        fsutil.link_no_replace(tmp, final)
        fsutil.fsync_dir(final.parent)
    finally:
        tmp.unlink(missing_ok=True)


def _check_source_package(
    path: Path, latest: dict[str, Any], ward: str, trusted: list[Ed25519PublicKey]
) -> None:
    """The outbox package must match its LATEST (size, hash) and, when the server's keys are
    known, carry a valid signature for this ward and sequence. Raises ValueError."""
    try:
        size, sha = file_digest(path)
    except FileNotFoundError:
        raise ValueError(f"LATEST points at {path.name}, which is missing in the outbox") from None
    if (size, sha) != (latest["size"], latest["sha256"]):
        raise ValueError(f"{path.name} does not match its LATEST pointer (size or SHA-256)")
    if not trusted:
        return
    errors: list[str] = []
    for key in trusted:
        try:
            header = package.read_header_file(path, key)
        except PackageError as exc:
            errors.append(str(exc))
            continue
        m = header.manifest
        if m.ward != ward or m.sequence != latest["sequence"]:
            raise ValueError(f"{path.name} holds package {m.ward}/{m.sequence}")
        return
    raise ValueError(f"{path.name} fails verification: {errors[0]}")


def _export_ward(
    outbox: Path, dest: Path, ward: str, trusted: list[Ed25519PublicKey]
) -> tuple[WardExport, bytes | None]:
    """Copy one ward's newest package. Returns the outcome and the LATEST bytes to write last
    (None when nothing may move)."""
    raw = _read_latest_bytes(outbox / ward)
    if raw is None:
        return WardExport(ward, None, None, "refused", "no LATEST pointer in the outbox"), None
    try:
        latest = parse_latest(raw)
    except ValueError as exc:
        return WardExport(ward, None, None, "refused", str(exc)), None
    seq, name = int(latest["sequence"]), str(latest["file"])
    try:
        _check_source_package(outbox / ward / name, latest, ward, trusted)
    except ValueError as exc:
        return WardExport(ward, seq, name, "refused", str(exc)), None
    old_raw = _read_latest_bytes(dest / ward)
    if old_raw is not None:
        with contextlib.suppress(ValueError):
            old_seq = int(parse_latest(old_raw)["sequence"])
            if old_seq > seq:
                # Never move a copy backwards: laptops would refuse it anyway (rollback).
                reason = f"the copy already has newer package {old_seq}; not going back to {seq}"
                return WardExport(ward, seq, name, "refused", reason), None
    ward_dest = dest / ward
    ward_dest.mkdir(exist_ok=True)
    final = ward_dest / name
    if final.exists():
        if file_digest(final) != (latest["size"], latest["sha256"]):
            reason = f"{final} exists with other content; copies are write-once, not replacing it"
            return WardExport(ward, seq, name, "refused", reason), None
        return WardExport(ward, seq, name, "already-present"), raw
    try:
        _copy_verified(outbox / ward / name, final, int(latest["size"]), str(latest["sha256"]))
    except (ValueError, FileExistsError) as exc:
        return WardExport(ward, seq, name, "refused", str(exc)), None
    return WardExport(ward, seq, name, "copied"), raw


def _prune(ward_dest: Path, current: str, keep: int) -> list[Path]:
    """Delete all but the newest `keep` packages (never `current`), and temp files left by an
    interrupted export (one export per destination at a time, so none is in use)."""
    names = os.listdir(ward_dest)
    packages = sorted(n for n in names if publish.PACKAGE_RE.fullmatch(n))
    doomed = [n for n in packages[: max(0, len(packages) - max(keep, 1))] if n != current]
    doomed += [n for n in names if n.startswith(".") and n.endswith((".partial", ".tmp"))]
    removed = []
    for name in doomed:
        (ward_dest / name).unlink(missing_ok=True)
        removed.append(ward_dest / name)
    return removed


def export_outbox(
    outbox: Path,
    dest: Path,
    *,
    wards: list[str] | None = None,
    trusted: list[Ed25519PublicKey] | None = None,
    keep: int = DEFAULT_EXPORT_KEEP,
) -> ExportResult:
    """Copy the newest package of each ward (all the outbox offers, or `wards`) and the side
    files to `dest` (created if missing), in the order packages, documents, index, LATEST.

    Each source package is checked against its LATEST (size, SHA-256) and, given `trusted`
    (the server's public keys), its signature; each copy is re-read and compared before it gets
    its final name. A ward is refused (listed in `problems`, its old copy left alone) if its
    package does not verify, if the copy would go back to an older sequence, or if a different
    file of the same name is already there. Keeps the newest `keep` packages per ward on `dest`.
    Raises ValueError if `dest` is the outbox or inside it, OSError if `dest` cannot be written.
    """
    outbox_abs, dest_abs = outbox.resolve(), dest.resolve()
    if dest_abs == outbox_abs or outbox_abs in dest_abs.parents:
        raise ValueError(f"{dest} is the outbox or inside it; export to another disk or share")
    if not outbox.is_dir():
        raise FileNotFoundError(f"outbox {outbox} does not exist")
    dest.mkdir(parents=True, exist_ok=True)
    result = ExportResult(dest=dest)
    chosen = sorted(wards) if wards else outbox_wards(outbox)
    pointers: dict[str, bytes] = {}
    for ward in chosen:
        if not WARD_RE.fullmatch(ward):
            result.wards.append(WardExport(ward, None, None, "refused", "not a valid ward id"))
            continue
        outcome, raw = _export_ward(outbox, dest, ward, trusted or [])
        log.info(
            "ward %s: package %s %s%s",
            ward,
            outcome.sequence if outcome.sequence is not None else "-",
            outcome.status,
            f" ({outcome.reason})" if outcome.status == "refused" and outcome.reason else "",
        )
        result.wards.append(outcome)
        if raw is not None:
            pointers[ward] = raw
    for name in SIDE_FILES:
        try:
            data = (outbox / name).read_bytes()
        except FileNotFoundError:
            continue
        target = dest / name
        if not target.exists() or target.read_bytes() != data:
            publish.atomic_write(target, data)
        result.side_files.append(name)
    if pointers:
        listed = set(outbox_wards(dest)) | set(pointers)
        index = orjson.dumps({"format": 1, "wards": sorted(listed)})
        publish.atomic_write(dest / "index.json", index)
        result.side_files.append("index.json")
    for ward, raw in pointers.items():  # pointers last: a laptop never sees one without data
        publish.atomic_write(dest / ward / "LATEST", raw)
        current = str(parse_latest(raw)["file"])
        result.pruned += _prune(dest / ward, current, keep)
    log.info(
        "export finished: %d ward(s), %d side file(s), %d old package(s) pruned",
        len(result.wards),
        len(result.side_files),
        len(result.pruned),
    )
    return result


# --- command line ---------------------------------------------------------------------------------


def register(subparsers: Any) -> None:
    """Add `export` to `wardcopy-sync`'s sub-commands (argparse)."""
    p = subparsers.add_parser(
        "export",
        help="copy the newest packages to a second place (share, USB stick): the 3-2-1 copy",
        description="Copy the newest package of every ward, the signed roster and the public "
        "key to PATH, write-once and atomically, verifying every copy. Laptops can then "
        "`wardcopy receive --from PATH`. Packages are encrypted: nothing is written in plaintext.",
    )
    p.add_argument("--to", type=Path, required=True, metavar="PATH", help="destination folder")
    p.add_argument("--out", type=Path, help="the outbox to copy from (default: outbox in --config)")
    p.add_argument("--config", type=Path, help="TOML configuration (for its outbox)")
    p.add_argument("--ward", action="append", help="only this ward (repeatable)")
    p.add_argument(
        "--keep",
        type=int,
        default=DEFAULT_EXPORT_KEEP,
        help=f"packages to keep per ward at PATH (default {DEFAULT_EXPORT_KEEP})",
    )
    p.set_defaults(func=cmd_export)


def resolve_outbox(out: Path | None, config_path: Path | None) -> Path | None:
    """The outbox from --out, else from the config file's `outbox`. Raises CliError (usage)
    when the config is invalid."""
    if out is not None:
        return out
    if config_path is None:
        return None
    from sync.config import ConfigError, load_config

    try:
        return load_config(config_path).outbox
    except ConfigError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None


def cmd_export(args: argparse.Namespace) -> int:
    """Handler of `wardcopy-sync export`. Prints one line per ward. Exit 0, 1 if a ward was
    refused; raises CliError (usage) for a missing outbox or a destination inside it."""
    outbox = resolve_outbox(args.out, args.config)
    if outbox is None:
        raise CliError("give --out OUTBOX (or --config with an outbox)", EXIT_USAGE)
    if not outbox.is_dir():
        raise CliError(f"outbox {outbox} does not exist or is not a folder", EXIT_USAGE)
    if args.keep < 1:
        raise CliError("--keep must be at least 1", EXIT_USAGE)
    trusted = server_public_keys(paths.sync_home(args.home))
    try:
        result = export_outbox(outbox, args.to, wards=args.ward, trusted=trusted, keep=args.keep)
    except ValueError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    if not result.wards:
        raise CliError(f"outbox {outbox} holds no ward package to export", EXIT_PROBLEMS)
    for w in result.wards:
        if w.status == "refused":
            print(f"  {w.ward:<24} REFUSED: {w.reason}")
        else:
            print(f"  {w.ward:<24} package {w.sequence}  {w.status}")
    if not trusted:
        print("note: no signing key in the server home: hashes checked, signatures not")
    print(f"copy in {result.dest}; laptops can `wardcopy receive --from {result.dest}`")
    return EXIT_PROBLEMS if result.problems else EXIT_OK

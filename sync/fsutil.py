"""Small durable-file helpers shared by the sync server and the laptop (pure stdlib).

Every function here touches only the paths it is given. Durability follows the usual recipe:
write, flush, fsync the file, rename, then fsync the directory so the rename itself survives a
power cut. Windows cannot open a directory to fsync it, so directory fsyncs are skipped there
(NTFS journals the rename).

Modes are passed to `os.open` at creation, so the umask can narrow them but never widen them;
`write_new_file` additionally sets the mode exactly, as key files must be 0600 whatever the
umask. Temporary files are named `.<name>.<random>.tmp` beside the target, which the clean-up
code of `sync.receive` and `sync.export` already recognises as leftovers.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import BinaryIO

__all__ = [
    "PRIVATE_DIR_MODE",
    "PRIVATE_FILE_MODE",
    "atomic_write",
    "ensure_private_dir",
    "fsync_dir",
    "fsync_file",
    "link_no_replace",
    "open_exclusive",
    "write_new_file",
]

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700

_IS_WINDOWS = os.name == "nt"
# Windows opens files in text mode unless told otherwise; elsewhere the flag does not exist.
_CREATE_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


def open_exclusive(path: Path, mode: int = PRIVATE_FILE_MODE) -> BinaryIO:
    """Create `path`, which must not exist, and open it for binary writing.

    Side effect: creates the file with `mode` (narrowed by the umask). The caller closes it.
    Raises FileExistsError if `path` exists (nothing is touched then); OSError otherwise.
    """
    fd = os.open(path, _CREATE_NEW, mode)
    return os.fdopen(fd, "wb")


def fsync_file(path: Path) -> None:
    """fsync the file at `path` so its contents are on disk.

    Windows can only flush a handle opened for writing, so the file is opened read-write there.
    Raises OSError (missing file, no permission, I/O error).
    """
    flags = (os.O_RDWR | getattr(os, "O_BINARY", 0)) if _IS_WINDOWS else os.O_RDONLY
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """fsync the directory `path` so a create or rename in it is durable.

    No-op on Windows, which cannot open a directory this way. Raises OSError elsewhere
    (missing directory, I/O error).
    """
    if _IS_WINDOWS:
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(
    path: Path, data: bytes, mode: int = PRIVATE_FILE_MODE, *, durable: bool = True
) -> None:
    """Replace `path` with `data` so readers see the old or the new content, never a mix.

    Writes a temporary file beside `path` (created with `mode`), fsyncs it, renames it over
    `path` and fsyncs the directory. `durable=False` skips both fsyncs: only for files whose
    loss or damage in a power cut is harmless because a reader refuses a damaged copy and a
    lost one is simply older (the per-cycle freshness statements); it saves two disk flushes
    per file. Side effects: creates or replaces `path`; on any error, including an interrupt,
    the temporary file is removed and `path` keeps its old content.
    The parent directory must exist. Raises OSError (no space, no permission, ...).
    """
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open_exclusive(tmp, mode) as fh:
            fh.write(data)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if durable:
        fsync_dir(path.parent)


def write_new_file(path: Path, data: bytes, mode: int = PRIVATE_FILE_MODE) -> None:
    """Create `path` with `data` and exactly `mode`; never overwrites (write-once files, keys).

    Side effects: creates `path`, fsyncs it and sets its mode (the umask may have narrowed it).
    If writing fails the half-written file is removed. The directory is not fsynced: callers
    that need the new name to be durable call `fsync_dir`.
    Raises FileExistsError if `path` exists (it is left untouched); OSError otherwise.
    """
    fh = open_exclusive(path, mode)
    try:
        with fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    os.chmod(path, mode)


def link_no_replace(tmp: Path, final: Path) -> None:
    """Move `tmp` to `final` without ever replacing an existing `final`.

    Uses a hard link (atomic, fails if `final` exists), then removes `tmp`. Where the file
    system has no hard links (FAT/exFAT sticks, some SMB shares) it falls back to
    check-then-rename, which is only safe while a single writer owns the directory: callers
    must serialise writers (a lock, or one documented writer). Does not fsync.
    Raises FileExistsError if `final` exists (`tmp` is left for the caller); OSError otherwise.
    """
    try:
        os.link(tmp, final)
    except FileExistsError:
        raise
    except OSError:
        if final.exists():
            raise FileExistsError(str(final)) from None
        os.rename(tmp, final)
        return
    tmp.unlink()


def ensure_private_dir(path: Path, *, strict: bool = True) -> Path:
    """Create `path` (and missing parents) and restrict `path` to its owner (mode 0700).

    Side effects: creates directories; tightens the mode of an existing `path` that is wider
    (mkdir's mode is filtered by the umask and ignored for folders that exist). Modes are left
    alone on Windows, where they mean nothing. Parents keep the umask's mode.
    With `strict=False` a failure to change the mode is ignored (file systems without Unix
    modes). Raises OSError if the directory cannot be created (or, when strict, protected).
    Returns `path`.
    """
    path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    if not _IS_WINDOWS and path.stat().st_mode & 0o777 != PRIVATE_DIR_MODE:
        try:
            os.chmod(path, PRIVATE_DIR_MODE)
        except OSError:
            if strict:
                raise
    return path

"""An exclusive lock on a file that dies with its process: one writer per home at a time.

`hold(path, wait=...)` takes an OS lock (POSIX `fcntl.flock`, Windows `msvcrt.locking`), so a
killed process (kill -9, power cut, crash) never leaves a stale lock behind: the kernel drops it
with the process's file descriptors. Nothing is ever deleted: the lock file stays (deleting it
would let two processes lock two different files of the same name). The holder writes its pid
and start time into the file so a waiting process can say who holds it.

Hand-written rather than `filelock` because the whole job is these two system calls and the
holder's pid, and the lock must not be re-entrant within a process (two receives in one process,
e.g. a watch loop and a button, must also exclude each other): each `hold` opens its own
descriptor, which `flock` treats as a separate owner.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["LockBusy", "hold", "holder"]

_POLL = 0.05
_INFO_OFFSET = 1  # Windows locks byte 0; the holder's note lives after it (readable by others)


class LockBusy(Exception):
    """The lock is held by another process (or another `hold` in this one) after `wait` seconds.
    `path` is the lock file, `holder` what the holder wrote about itself ("" if unknown)."""

    def __init__(self, path: Path, holder: str, waited: float) -> None:
        who = f" by {holder}" if holder else ""
        super().__init__(f"{path} is held{who}; waited {waited:g} s")
        self.path = path
        self.holder = holder
        self.waited = waited


if sys.platform == "win32":
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        with contextlib.suppress(OSError):
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


def holder(path: Path) -> str:
    """What the current (or last) holder of `path` wrote about itself, "" if nothing readable."""
    try:
        with path.open("rb") as fh:
            fh.seek(_INFO_OFFSET)
            return fh.read(200).decode("utf-8", "replace").strip()
    except OSError:
        return ""


@contextlib.contextmanager
def hold(
    path: Path,
    *,
    wait: float = 0.0,
    what: str = "",
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold an exclusive lock on `path` for the `with` block, waiting up to `wait` seconds for
    another holder to finish. When the lock is busy and `wait` > 0, calls `on_wait` once with
    the holder's note (its pid, what and since when; "" if unknown) before waiting.

    Side effects: creates `path` (mode 0600) if missing and writes the holder's pid, `what` and
    start time into it; never deletes it. The lock is released when the block ends or the
    process dies. Raises LockBusy if it is still held after `wait` seconds; OSError if the file
    cannot be created or opened (missing folder, read-only disk)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o600)
    try:
        deadline = time.monotonic() + max(wait, 0.0)
        told = False
        while not _try_lock(fd):
            if time.monotonic() >= deadline:
                raise LockBusy(path, holder(path), wait)
            if on_wait is not None and not told:
                told = True
                on_wait(holder(path))
            time.sleep(_POLL)
        started = datetime.now(UTC).isoformat(timespec="seconds")
        note = f"pid {os.getpid()}{f' ({what})' if what else ''} since {started}\n".encode()
        with contextlib.suppress(OSError):  # the note is for messages only
            os.ftruncate(fd, _INFO_OFFSET)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, b"\n" + note)
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)

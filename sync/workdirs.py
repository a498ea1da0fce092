"""Build work folders (`<sync home>/build-*`): who owns one, and clearing those of dead builds.

A build writes its encrypted staging store and the new snapshots into a private work folder and
deletes it at the end. A build that is killed (kill -9, power cut, out of memory) cannot delete
it: the folder, often hundreds of MB, would stay forever. So each work folder records its owner
in `owner.json`: the pid, the process's start time (Linux: `/proc/<pid>/stat` field 22, in clock
ticks since boot) and the boot id (`/proc/sys/kernel/random/boot_id`). A folder is *stale* when
that process no longer exists: the pid is gone, the boot id differs (rebooted since), or the pid
now belongs to a younger process (pid reused). Where start times cannot be read (not Linux), a
living pid counts as the owner. A folder without `owner.json` (older versions) is stale once
nothing in it changed for an hour.

`new_workdir` removes stale folders before making a new one (so the next build cleans up after a
killed one); `wardcopy-sync doctor` lists them (`stale_workdirs`). Nothing here ever removes the
folder of a living build.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

from sync import fsutil

__all__ = ["PREFIX", "StaleWorkdir", "new_workdir", "remove_stale", "stale_workdirs"]

log = logging.getLogger(__name__)

PREFIX = "build-"
OWNER_FILE = "owner.json"
# A folder without an owner record is left alone while anything in it changed this recently.
_UNOWNED_GRACE_SECONDS = 3600


@dataclass(frozen=True)
class StaleWorkdir:
    """A work folder whose build is gone: `why` says how that was decided; `size` in bytes."""

    path: Path
    size: int
    why: str


def _boot_id() -> str | None:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip() or None
    except OSError:
        return None


def _start_ticks(pid: int) -> str | None:
    """The start time of process `pid` in clock ticks since boot (Linux), None if unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses: split after the last ")".
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else None


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    except OSError:
        return False
    return True


def owner_record() -> dict[str, object]:
    """This process as `owner.json` records it (pure apart from reading /proc)."""
    return {"pid": os.getpid(), "start": _start_ticks(os.getpid()), "boot": _boot_id()}


def _owner_gone(owner: dict[str, object]) -> str | None:
    """Why the owner process no longer exists, or None if it (or a process we cannot tell apart
    from it) is alive."""
    pid = owner.get("pid")
    if not isinstance(pid, int):
        return "its owner record is unreadable"
    boot = owner.get("boot")
    if boot and _boot_id() and boot != _boot_id():
        return f"build pid {pid} ran before the last reboot"
    if not _pid_alive(pid):
        return f"build pid {pid} is gone"
    start = owner.get("start")
    now_start = _start_ticks(pid)
    if start and now_start and start != now_start:
        return f"build pid {pid} is gone (the pid now belongs to another process)"
    return None


def _size(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total


def _newest_change(path: Path) -> float:
    newest = path.stat().st_mtime
    for child in path.iterdir():
        try:
            newest = max(newest, child.lstat().st_mtime)
        except OSError:
            continue
    return newest


def stale_workdirs(sync_home: Path) -> list[StaleWorkdir]:
    """Work folders under `sync_home` whose build process is gone (see the module docstring).
    Never raises for an unreadable folder (it is skipped)."""
    found: list[StaleWorkdir] = []
    try:
        candidates = sorted(p for p in sync_home.glob(PREFIX + "*") if p.is_dir())
    except OSError:
        return []
    for path in candidates:
        try:
            owner = orjson.loads((path / OWNER_FILE).read_bytes())
            why = _owner_gone(owner if isinstance(owner, dict) else {})
        except FileNotFoundError:
            try:
                idle = time.time() - _newest_change(path)
            except OSError:
                continue
            why = (
                f"no owner record and unchanged for {idle / 3600:.1f} h"
                if idle > _UNOWNED_GRACE_SECONDS
                else None
            )
        except (OSError, orjson.JSONDecodeError):
            why = "its owner record is unreadable"
        if why is not None:
            found.append(StaleWorkdir(path, _size(path), why))
    return found


def remove_stale(sync_home: Path) -> list[StaleWorkdir]:
    """Delete the stale work folders under `sync_home`; returns those removed (each logged as a
    warning with its size). A folder that cannot be removed is logged and left."""
    removed: list[StaleWorkdir] = []
    for stale in stale_workdirs(sync_home):
        try:
            shutil.rmtree(stale.path)
        except OSError as exc:
            log.warning("cannot remove stale work folder %s: %s", stale.path, exc.strerror or exc)
            continue
        log.warning(
            "removed work folder %s of a killed build (%.1f MB; %s)",
            stale.path,
            stale.size / 1e6,
            stale.why,
        )
        removed.append(stale)
    return removed


def new_workdir(sync_home: Path) -> tuple[Path, list[StaleWorkdir]]:
    """Remove stale work folders, then make a new private one (0700) under `sync_home` owned by
    this process. Returns it and what was removed. Raises OSError if it cannot be made."""
    removed = remove_stale(sync_home)
    workdir = Path(tempfile.mkdtemp(prefix=PREFIX, dir=sync_home))
    fsutil.atomic_write(workdir / OWNER_FILE, orjson.dumps(owner_record()), 0o600)
    return workdir, removed

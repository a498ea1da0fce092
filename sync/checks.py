"""The OK / WARN / FAIL check format both doctors print (`wardcopy-sync doctor` in sync/doctor.py,
`wardcopy doctor` in app/doctor.py), and the checks they share (file modes, free space).

Light on purpose: the laptop imports it without the server side. Pure except where a function
says it reads the disk or prints.
"""

from __future__ import annotations

import argparse
import os
import shutil
import stat
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Literal

from sync.errors import EXIT_OK, EXIT_PROBLEMS

__all__ = [
    "DEFAULT_MIN_FREE",
    "Check",
    "Status",
    "add_min_free_argument",
    "check_free_space",
    "check_private_mode",
    "exit_code",
    "format_check",
    "human_age",
    "min_free_bytes",
    "mode_of",
    "print_checks",
]

Status = Literal["OK", "WARN", "FAIL"]
DEFAULT_MIN_FREE = 1_000_000_000  # 1 GB: a few full packages of a large ward


@dataclass(frozen=True)
class Check:
    """One result line: `status`, a short `name` of what was checked, and a `message` that says
    what was found and, for WARN/FAIL, what to do."""

    status: Status
    name: str
    message: str


def format_check(check: Check) -> str:
    """Pure: "OK    name: message" (status padded so the names line up)."""
    return f"{check.status:<5} {check.name}: {check.message}"


def exit_code(checks: list[Check]) -> int:
    """Pure: 1 if any check FAILed, else 0."""
    return EXIT_PROBLEMS if any(c.status == "FAIL" for c in checks) else EXIT_OK


def human_age(age: timedelta) -> str:
    """Pure: a short age like "45 min", "3 h 5 min", "2 d 4 h"."""
    minutes = int(age.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def mode_of(path: Path) -> int:
    """The permission bits of `path` (e.g. 0o600). Raises OSError."""
    return stat.S_IMODE(path.stat().st_mode)


def check_private_mode(path: Path, name: str, wanted: int, what: str) -> Check:
    """FAIL if `path` grants group/other any access (`wanted` is 0o600 or 0o700). On Windows
    modes mean little, so only existence is checked."""
    try:
        mode = mode_of(path)
    except OSError as exc:
        return Check("FAIL", name, f"{path}: cannot read ({exc.strerror})")
    if os.name == "nt" or mode & 0o077 == 0:
        return Check("OK", name, f"{path} (mode {mode:04o})")
    return Check(
        "FAIL",
        name,
        f"{path} has mode {mode:04o}: other users can reach the {what}; run `chmod {wanted:o} "
        f"{path}`",
    )


def check_free_space(path: Path, name: str, min_free: int) -> Check:
    """WARN when the file system holding `path` has less than `min_free` bytes free."""
    try:
        free = shutil.disk_usage(path).free
    except OSError as exc:
        return Check("FAIL", name, f"cannot measure free space of {path} ({exc.strerror})")
    text = f"{free / 1e9:.1f} GB free on {path}"
    if free < min_free:
        return Check(
            "WARN", name, f"only {text} (want {min_free / 1e9:.1f} GB): free space or builds fail"
        )
    return Check("OK", name, text)


def add_min_free_argument(parser: argparse.ArgumentParser) -> None:
    """Add `--min-free-gb` (both doctors take it); read it back with `min_free_bytes`."""
    parser.add_argument(
        "--min-free-gb",
        type=float,
        default=DEFAULT_MIN_FREE / 1e9,
        help="warn below this much free disk space (default 1)",
    )


def min_free_bytes(args: argparse.Namespace) -> int:
    """Pure: the `--min-free-gb` value of parsed `args`, in bytes."""
    return int(args.min_free_gb * 1e9)


def print_checks(checks: list[Check]) -> None:
    """Print each check, then a one-line summary (stdout)."""
    for check in checks:
        print(format_check(check))
    fails = sum(c.status == "FAIL" for c in checks)
    warns = sum(c.status == "WARN" for c in checks)
    print(f"doctor: {len(checks)} checks, {warns} warning(s), {fails} failure(s)")
    sys.stdout.flush()

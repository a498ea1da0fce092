"""Which wards are installed on this laptop, from folder names alone: no key, no database, no
signature check. A command names its ward with `choose_ward` before it opens anything (and
`wardcopy print` before the login, without loading the snapshot reader; docs/performance.md).

Layout: see sync.receive.installed.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from sync.package import WARD_RE
from sync.receive.errors import ReceiveError

__all__ = ["DIR_RE", "choose_ward", "installed_sequences", "installed_wards", "snapshots_dir"]

DIR_RE = re.compile(r"\d{10}")


def snapshots_dir(home: Path) -> Path:
    return home / "snapshots"


def installed_sequences(ward_dir: Path) -> list[int]:
    """Sequences of installed snapshot dirs, newest first."""
    try:
        names = os.listdir(ward_dir)
    except OSError:
        return []
    return sorted((int(n) for n in names if DIR_RE.fullmatch(n)), reverse=True)


def installed_wards(home: Path) -> list[str]:
    """Wards with at least one installed snapshot, sorted."""
    root = snapshots_dir(home)
    try:
        names = os.listdir(root)
    except OSError:
        return []
    return sorted(n for n in names if WARD_RE.fullmatch(n) and installed_sequences(root / n))


def choose_ward(home: Path, ward: str | None = None) -> str:
    """The ward `open_installed(home, ward)` opens: `ward` if a snapshot of it is installed,
    else the only installed ward. Reads only folder names (no key, no database), so a command
    can name the ward before it opens anything. Raises ReceiveError "not-installed" or
    "ward-choice" (several wards installed and none named)."""
    wards = installed_wards(home)
    if ward is None:
        if len(wards) != 1:
            raise ReceiveError(
                "not-installed" if not wards else "ward-choice",
                "no snapshot is installed: run `wardcopy receive --from OUTBOX_OR_URL`"
                if not wards
                else f"several wards are installed ({', '.join(wards)}): choose one",
            )
        return wards[0]
    if ward not in wards:
        raise ReceiveError(
            "not-installed",
            f"no snapshot of ward {ward!r} is installed: run `wardcopy receive --ward {ward}`",
        )
    return ward

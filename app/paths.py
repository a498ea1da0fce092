"""Where the viewer keeps its files on a laptop (the "laptop home").

Layout (see docs/architecture.md, "Homes"):

    <home>/                 mode 0700
        device/             this laptop's key pair and the pinned server key
        snapshots/<ward>/   installed snapshots; `current` points at the newest good one
        roster/             the last verified staff roster
        audit/              the append-only, hash-chained access log
        settings.json       viewer settings (app.settings)

The home is `override` if given (the `--home` option), else `$WARDCOPY_HOME`, else
`platformdirs.user_data_dir("wardcopy")`. Only `laptop_home` and `ensure_private_dir` touch the
disk; the sub-path helpers are pure.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from sync import fsutil

ENV_HOME = "WARDCOPY_HOME"
APP_NAME = "wardcopy"
PRIVATE_DIR_MODE = fsutil.PRIVATE_DIR_MODE


def ensure_private_dir(path: Path) -> Path:
    """Create `path` (and parents) if missing and restrict it to the owner (mode 0700).

    Side effects: creates directories; tightens the mode of `path` itself if it was wider (the
    directory holds keys, snapshots and the audit log, so no other local user may list it).
    Raises OSError with the path named if the directory cannot be created or protected.
    """
    try:
        return fsutil.ensure_private_dir(path)
    except OSError as exc:
        raise OSError(
            f"cannot create the Wardcopy folder {path}: {exc.strerror or exc}; "
            f"check the path and its permissions, or choose another with --home"
        ) from exc


def default_home(environ: dict[str, str] | None = None) -> Path:
    """Pure: the laptop home that would be used without `--home` (no disk access)."""
    env = os.environ if environ is None else environ
    value = env.get(ENV_HOME, "").strip()
    if value:
        return Path(value).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def laptop_home(override: Path | None = None) -> Path:
    """Return the laptop home, creating it with mode 0700.

    `override` (from `--home`) wins over `$WARDCOPY_HOME`, which wins over the platform's user data
    directory. Side effects: creates the folder. Raises OSError naming the folder if that fails.
    """
    home = Path(override).expanduser() if override is not None else default_home()
    return ensure_private_dir(home)


def device_dir(home: Path) -> Path:
    """Pure: the folder with this laptop's key pair and the pinned server key."""
    return home / "device"


def snapshots_dir(home: Path) -> Path:
    """Pure: the folder holding installed snapshots, one sub-folder per ward."""
    return home / "snapshots"


def roster_dir(home: Path) -> Path:
    """Pure: the folder holding the last verified staff roster."""
    return home / "roster"


def audit_dir(home: Path) -> Path:
    """Pure: the folder holding the hash-chained audit log."""
    return home / "audit"


def settings_path(home: Path) -> Path:
    """Pure: the viewer settings file."""
    return home / "settings.json"

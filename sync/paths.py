"""Where the sync server keeps its files (the "server home"); shared by every `wardcopy-sync`
command (cli, doctor, export) without importing any of them.

The laptop's home is app.paths.laptop_home; docs/architecture.md, "Homes", has both layouts.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_SYNC_HOME = "WARDCOPY_SYNC_HOME"


def sync_home(override: Path | None) -> Path:
    """The sync server's home: `override` (--home), else $WARDCOPY_SYNC_HOME, else the platform
    data dir. Creates it with mode 0700 (side effect); raises OSError if that fails."""
    if override is not None:
        home = override
    elif os.environ.get(ENV_SYNC_HOME):
        home = Path(os.environ[ENV_SYNC_HOME])
    else:
        import platformdirs

        home = Path(platformdirs.user_data_dir("wardcopy-sync"))
    home = home.expanduser()
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    return home

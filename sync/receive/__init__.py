"""Laptop side of distribution: fetch the newest package of a ward (from a folder or over
HTTP(S)), verify it completely, install it atomically, keep the last good ones, and open the
installed snapshot.

Five modules, one job each (python-tuf keeps its trusted checks apart from fetching the same way):

| module | job | writes? |
|---|---|---|
| `sources` | where packages come from: an outbox folder or an HTTP(S) URL; deadline and rate | no |
| `trust` | pure policy: signature, rollback, recipient, size caps, free-space reserve | no I/O |
| `install` | the install transaction, under the receive lock; repairs a damaged current | yes |
| `installed` | the read side the app uses: `open_installed`, the roster, freshness | no |
| `wards` | which wards are installed, from folder names only (`choose_ward`) | no |

The names other code imports from `sync.receive` stay here; each loads only its own module on
first use, so the viewer and `wardcopy print` never load `install` or `sources`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # loaded on first use by `__getattr__` below
    from sync.receive.errors import ReceiveError, exit_code_of, outcome_of
    from sync.receive.install import (
        DEFAULT_LOCK_WAIT,
        INSTALL_STEPS,
        KEEP_INSTALLED,
        ReceiveResult,
        installed_damage,
        lock_path,
        receive,
        receive_lock,
    )
    from sync.receive.installed import (
        InstalledSnapshot,
        load_roster,
        open_installed,
        read_installed_header,
        read_pointer,
    )
    from sync.receive.trust import MAX_PACKAGE_SIZE
    from sync.receive.wards import choose_ward, installed_sequences, installed_wards

# Where each exported name lives. A name loads only its own module, so a program that opens
# installed snapshots (the viewer, `wardcopy print`) loads neither the install transaction nor
# the package sources (docs/performance.md, start-up).
_HOMES: dict[str, tuple[str, ...]] = {
    "sync.receive.errors": ("ReceiveError", "exit_code_of", "outcome_of"),
    "sync.receive.install": (
        "DEFAULT_LOCK_WAIT",
        "INSTALL_STEPS",
        "KEEP_INSTALLED",
        "ReceiveResult",
        "installed_damage",
        "lock_path",
        "receive",
        "receive_lock",
    ),
    "sync.receive.installed": (
        "InstalledSnapshot",
        "load_roster",
        "open_installed",
        "read_installed_header",
        "read_pointer",
    ),
    "sync.receive.trust": ("MAX_PACKAGE_SIZE",),
    "sync.receive.wards": ("choose_ward", "installed_sequences", "installed_wards"),
}
_EXPORTS = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str) -> Any:
    """Load `name` from its module on first use (PEP 562); later uses find it here."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


__all__ = [
    "DEFAULT_LOCK_WAIT",
    "INSTALL_STEPS",
    "KEEP_INSTALLED",
    "MAX_PACKAGE_SIZE",
    "InstalledSnapshot",
    "ReceiveError",
    "ReceiveResult",
    "choose_ward",
    "exit_code_of",
    "installed_damage",
    "installed_sequences",
    "installed_wards",
    "load_roster",
    "lock_path",
    "open_installed",
    "outcome_of",
    "read_installed_header",
    "read_pointer",
    "receive",
    "receive_lock",
]

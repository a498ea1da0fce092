"""Laptop side of distribution: fetch the newest package of a ward (from a folder or over
HTTP(S)), verify it completely, install it atomically, keep the last good ones, and open the
installed snapshot.

Four modules, one job each (python-tuf keeps its trusted checks apart from fetching the same way):

| module | job | writes? |
|---|---|---|
| `sources` | where packages come from: an outbox folder or an HTTP(S) URL; deadline and rate | no |
| `trust` | pure policy: signature, rollback, recipient, size caps, free-space reserve | no I/O |
| `install` | the install transaction, under the receive lock; repairs a damaged current | yes |
| `installed` | the read side the app uses: `open_installed`, `installed_wards`, the roster | no |

The names other code imports from `sync.receive` stay here.
"""

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
    choose_ward,
    installed_sequences,
    installed_wards,
    load_roster,
    open_installed,
    read_installed_header,
    read_pointer,
)
from sync.receive.trust import MAX_PACKAGE_SIZE

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

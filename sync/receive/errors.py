"""The error type of the laptop's receive path and what each failure means for a caller.

`ReceiveError` (a `PackageError`) carries a short stable `reason`. `outcome_of` sorts any
receive failure into what a caller reports and audits ("refused": the package was looked at and
rejected; "unavailable": the source, the network or the local disk failed; "not-ready": this
laptop lacks a key; "busy": another receive holds the lock; "usage": the ward must be chosen)
and the documented exit code
(docs/cli.md). Pure: no I/O.
"""

from __future__ import annotations

from typing import Literal

from sync.errors import EXIT_BUSY, EXIT_IO, EXIT_NOT_READY, EXIT_PROBLEMS, EXIT_USAGE
from sync.package import PackageError

__all__ = ["Outcome", "ReceiveError", "exit_code_of", "outcome_of"]

Outcome = Literal["refused", "unavailable", "not-ready", "busy", "usage"]


class ReceiveError(PackageError):
    """Receiving or opening failed. `reason` adds to PackageError's: "source" (cannot read the
    folder or URL), "timeout" (the download deadline or minimum rate was missed), "disk" (this
    laptop's disk is full or not writable), "no-package", "untrusted" (no pinned server key),
    "not-installed", "ward-choice", "busy" (another receive holds the lock), "payload-size"
    (more bytes than announced, or an announcement beyond the cap)."""


# Reasons that say nothing about the package itself: the source, network or local disk failed.
_UNAVAILABLE = frozenset({"source", "timeout", "disk", "io", "no-package"})
_NOT_READY = frozenset({"untrusted", "device"})


def outcome_of(exc: PackageError) -> Outcome:
    """What a failed receive means: "busy", "not-ready", "unavailable" or "refused"."""
    if exc.reason == "busy":
        return "busy"
    if exc.reason == "ward-choice":
        return "usage"
    if exc.reason in _NOT_READY:
        return "not-ready"
    if exc.reason in _UNAVAILABLE:
        return "unavailable"
    return "refused"


def exit_code_of(exc: PackageError) -> int:
    """The documented exit code for a failed receive (docs/cli.md): 1 refused, 3 source /
    network / disk, 2 ward to choose, 4 not set up, 5 busy."""
    return {
        "busy": EXIT_BUSY,
        "not-ready": EXIT_NOT_READY,
        "unavailable": EXIT_IO,
        "refused": EXIT_PROBLEMS,
        "usage": EXIT_USAGE,
    }[outcome_of(exc)]

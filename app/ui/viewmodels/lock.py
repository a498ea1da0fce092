"""The idle lock: when the screen must be covered (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass
class IdleLock:
    """Locks the screen after `timeout` without input.

    `touch` on every key, click and text change; `should_lock` is polled by a timer. Once locked,
    only a new login (`unlock`) clears it.
    """

    timeout: timedelta
    last_input: datetime
    locked: bool = False
    _paused: bool = field(default=False, repr=False)

    def touch(self, now: datetime) -> None:
        if not self.locked:
            self.last_input = now

    def should_lock(self, now: datetime) -> bool:
        """True exactly once when the idle time is reached; sets `locked`."""
        if self.locked or self._paused or self.timeout <= timedelta(0):
            return False
        if now - self.last_input >= self.timeout:
            self.locked = True
            return True
        return False

    def pause(self, paused: bool) -> None:
        """No lock while nobody is logged in (the login screen shows no patient data)."""
        self._paused = paused

    def unlock(self, now: datetime) -> None:
        self.locked = False
        self.last_input = now

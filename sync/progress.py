"""Progress of long runs (`build`, a full read of a FHIR server, the first `watch` cycle).

The library reports phases and counts to `current()`; the command line decides how they are
shown by installing a reporter with `reporting(...)`:

- on a terminal (`for_stream(sys.stderr)` on a TTY): a live line drawn by rich (spinner, phase,
  bar with done/total, elapsed time) that disappears when the run ends;
- otherwise (cron, systemd, a pipe): plain lines on stderr, `HH:MM:SS progress: <phase> N/M`,
  but only once the run has taken `quiet_seconds` (10 s) and then at most every `every`
  seconds (30 s), so short runs print nothing and long ones leave a trace in the journal.

Without a reporter (`NullProgress`, the default) nothing is shown. What is reported is counts
and phase names only: never patient data, file names or URLs.
Side effects: the reporters write to their stream; `reporting` sets the process-wide reporter
for the duration of the `with` block (mapping workers are separate processes and report
nothing themselves: the main process counts their results).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import IO, Any, Protocol

__all__ = [
    "LineProgress",
    "NullProgress",
    "Progress",
    "RichProgress",
    "current",
    "for_stream",
    "reporting",
]


class Progress(Protocol):
    def phase(self, name: str, total: int | None = None) -> None:
        """A new phase starts (the previous one is done); `total` when its size is known."""

    def advance(self, count: int = 1) -> None:
        """`count` more items of the current phase are done."""

    def note(self, text: str) -> None:
        """A short status from the source (e.g. a Bulk Data export's X-Progress)."""

    def close(self) -> None:
        """The run ended: remove a live display."""


class NullProgress:
    """Shows nothing."""

    def phase(self, name: str, total: int | None = None) -> None:
        pass

    def advance(self, count: int = 1) -> None:
        pass

    def note(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass


class LineProgress:
    """Plain lines for logs: silent for the first `quiet_seconds`, then one line per phase and
    at most one every `every` seconds within a phase."""

    def __init__(
        self,
        stream: IO[str],
        *,
        quiet_seconds: float = 10.0,
        every: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.quiet = quiet_seconds
        self.every = every
        self.clock = clock
        self.started = clock()
        self.last_line = -1e18
        self.name = ""
        self.total: int | None = None
        self.done = 0
        self.extra = ""

    def _line(self, force: bool) -> None:
        now = self.clock()
        if now - self.started < self.quiet:
            return
        if not force and now - self.last_line < self.every:
            return
        self.last_line = now
        counts = ""
        if self.total:
            counts = f" {self.done:,}/{self.total:,} ({100 * self.done / self.total:.0f} %)"
        elif self.done:
            counts = f" {self.done:,}"
        extra = f" - {self.extra}" if self.extra else ""
        stamp = datetime.now().strftime("%H:%M:%S")
        elapsed = now - self.started
        self.stream.write(f"{stamp} progress: {self.name}{counts}{extra} ({elapsed:.0f} s)\n")
        self.stream.flush()

    def phase(self, name: str, total: int | None = None) -> None:
        self.name, self.total, self.done, self.extra = name, total, 0, ""
        self._line(force=True)

    def advance(self, count: int = 1) -> None:
        self.done += count
        self._line(force=False)

    def note(self, text: str) -> None:
        self.extra = text[:100]
        self._line(force=False)

    def close(self) -> None:
        pass


class RichProgress:
    """A live line on a terminal (rich): spinner, phase, bar, done/total, elapsed time."""

    def __init__(self, stream: IO[str]) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )
        from rich.progress import Progress as Bars

        self.bars = Bars(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(file=stream),
            transient=True,
        )
        self.bars.start()
        self.task: Any = None
        self.name = ""

    def phase(self, name: str, total: int | None = None) -> None:
        if self.task is not None:
            self.bars.remove_task(self.task)
        self.name = name
        self.task = self.bars.add_task(name, total=total)

    def advance(self, count: int = 1) -> None:
        if self.task is not None:
            self.bars.advance(self.task, count)

    def note(self, text: str) -> None:
        if self.task is None:
            self.phase("reading the FHIR server")
        self.bars.update(self.task, description=f"{self.name} - {text[:80]}")

    def close(self) -> None:
        self.bars.stop()


_current: Progress = NullProgress()


def current() -> Progress:
    """The reporter of the running command (NullProgress when none is installed)."""
    return _current


def for_stream(stream: IO[str]) -> Progress:
    """RichProgress on a terminal, LineProgress otherwise."""
    isatty = getattr(stream, "isatty", None)
    if callable(isatty) and isatty():
        return RichProgress(stream)
    return LineProgress(stream)


@contextmanager
def reporting(progress: Progress) -> Iterator[Progress]:
    """Make `progress` the process-wide reporter inside the block; closes it at the end."""
    global _current
    previous = _current
    _current = progress
    try:
        yield progress
    finally:
        _current = previous
        progress.close()

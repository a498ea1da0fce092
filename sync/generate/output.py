"""Bulk Data style NDJSON output: one file series per resource type, and timestamp formatting.

Side effects: `NdjsonWriter` creates and writes files in its output directory.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any
from zoneinfo import ZoneInfo

import orjson

HOSPITAL_TZ = ZoneInfo("Europe/Berlin")

# Timestamp styles: real feeds mix them, so the importer must too.
LOCAL = 0  # 2026-11-29T08:00:00+01:00
LOCAL_MS = 1  # 2026-11-29T08:00:00.123+01:00
ZULU = 2  # 2026-11-29T07:00:00Z
ZULU_MS = 3  # 2026-11-29T07:00:00.123Z
UTC_OFFSET_MS = 4  # 2026-11-29T07:00:00.123+00:00 (what HAPI writes for meta.lastUpdated)


def fmt_ts(ts: float, style: int) -> str:
    """Format POSIX seconds as a FHIR instant in one of the styles above (pure)."""
    if style == LOCAL:
        return datetime.fromtimestamp(int(ts), HOSPITAL_TZ).isoformat()
    if style == LOCAL_MS:
        return datetime.fromtimestamp(ts, HOSPITAL_TZ).isoformat(timespec="milliseconds")
    if style == ZULU:
        return datetime.fromtimestamp(int(ts), UTC).isoformat()[:-6] + "Z"
    if style == ZULU_MS:
        return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")


class LocalClock:
    """Wall-clock times in the hospital's time zone, cached (pure apart from the cache)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[int, int], float] = {}

    def at(self, day: date, minute_of_day: int) -> float:
        """POSIX seconds of `day` at `minute_of_day` local time (gaps resolve forward)."""
        key = (day.toordinal(), minute_of_day)
        hit = self._cache.get(key)
        if hit is None:
            hour, minute = divmod(minute_of_day, 60)
            local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=HOSPITAL_TZ)
            # Round-trip through UTC so a non-existent local time (spring forward) moves ahead.
            hit = local.astimezone(UTC).timestamp()
            self._cache[key] = hit
        return hit

    @staticmethod
    def day_of(ts: float) -> date:
        """The local calendar day of POSIX seconds `ts`."""
        return datetime.fromtimestamp(ts, HOSPITAL_TZ).date()

    @staticmethod
    def local_date_text(ts: float) -> str:
        """'27.11.2026' (German date, local time zone)."""
        return datetime.fromtimestamp(ts, HOSPITAL_TZ).strftime("%d.%m.%Y")

    @staticmethod
    def local_time_text(ts: float) -> str:
        """'14:05' (local time zone)."""
        return datetime.fromtimestamp(ts, HOSPITAL_TZ).strftime("%H:%M")


class NdjsonWriter:
    """Writes resources as FHIR Bulk Data NDJSON: `<Type>.000.ndjson`, `<Type>.001.ndjson`, ...

    A new file of a type starts after `max_lines` lines, as Bulk Data servers split large
    outputs. Files are opened lazily and buffered. Use as a context manager; `close()` flushes.

    Raises FileExistsError when `out_dir` already holds `*.ndjson` files (mixing two generated
    data sets would give duplicate or dangling references); OSError on write failures.
    """

    def __init__(self, out_dir: Path, max_lines: int = 100_000) -> None:
        if max_lines < 1:
            raise ValueError(f"max_lines must be at least 1, got {max_lines}")
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        existing = sorted(p.name for p in self.out_dir.glob("*.ndjson"))
        if existing:
            raise FileExistsError(
                f"{self.out_dir} already holds NDJSON files ({', '.join(existing[:3])}"
                f"{', ...' if len(existing) > 3 else ''}); choose an empty directory "
                "or delete them first"
            )
        self.max_lines = max_lines
        self.files: list[Path] = []
        self._handles: dict[str, IO[bytes]] = {}
        self._lines: dict[str, int] = {}  # lines in the current file of each type
        self._done: dict[str, int] = {}  # lines in the finished files of each type

    def write(self, resource: dict[str, Any]) -> None:
        """Append one resource to its type's current file."""
        rtype = resource["resourceType"]
        handle = self._handles.get(rtype)
        lines = self._lines.get(rtype, 0)
        if handle is None or lines >= self.max_lines:
            handle = self._open_next(rtype, handle)
            lines = 0
        handle.write(orjson.dumps(resource, option=orjson.OPT_APPEND_NEWLINE))
        self._lines[rtype] = lines + 1

    @property
    def counts(self) -> dict[str, int]:
        """Resources written so far, per resource type."""
        return {rtype: self._done.get(rtype, 0) + n for rtype, n in self._lines.items()}

    def _open_next(self, rtype: str, old: IO[bytes] | None) -> IO[bytes]:
        if old is not None:
            old.close()
            self._done[rtype] = self._done.get(rtype, 0) + self._lines[rtype]
        part = sum(1 for p in self.files if p.name.startswith(rtype + "."))
        path = self.out_dir / f"{rtype}.{part:03d}.ndjson"
        handle = path.open("wb", buffering=1 << 20)
        self.files.append(path)
        self._handles[rtype] = handle
        self._lines[rtype] = 0
        return handle

    def close(self) -> None:
        """Flush and close every open file (idempotent)."""
        for handle in self._handles.values():
            handle.close()
        self._handles.clear()

    def __enter__(self) -> NdjsonWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

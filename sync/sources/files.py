"""Read FHIR R4 resources from files: Bulk Data NDJSON, Bundles, single resources.

`iter_files(path)` walks a file or a folder (recursively, sorted by relative path so that two runs
read the same order) and yields one `SourceItem` per resource, or one `SourceProblem` per line or
file that cannot be used. It never raises for bad content; only an unreadable *path* (missing,
permission denied) raises `OSError`, because that is a setup error the operator must fix.

Symbolic links: a link inside the source folder to a file outside it (e.g. to /etc/passwd) is
not followed unless the caller allows it (`follow_outside`, the config option
`follow_symlinks_outside_source`); it becomes a `SourceProblem` naming the link. Links to files
inside the folder are read; linked folders are never descended into.

Memory: an NDJSON file is read line by line (gzip too); a JSON file is parsed whole, one file at a
time, since a JSON document cannot be streamed without a much slower parser.
"""

from __future__ import annotations

import gzip
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from sync.sources.fhir_types import RESOURCE_TYPES

log = logging.getLogger(__name__)

NDJSON_SUFFIXES = (".ndjson", ".ndjson.gz", ".jsonl")
JSON_SUFFIXES = (".json", ".json.gz")
OUTSIDE_LINK = (
    "symbolic link to a file outside the source folder (not followed; find them with "
    "`find SOURCE -type l`, or set follow_symlinks_outside_source)"
)

# How many leading NDJSON objects without resourceType make a file "not FHIR" (a Bulk Data
# export's log.ndjson, say): skipped as one problem instead of one problem per line.
_NON_FHIR_PROBE_LINES = 3
# Bundles nest (a document Bundle inside a transaction); deeper than this is a malicious file.
_MAX_BUNDLE_DEPTH = 8


@dataclass(slots=True)
class SourceItem:
    """One resource as read. `full_url` is its Bundle entry's fullUrl, when it came from one."""

    resource: dict[str, Any]
    full_url: str | None
    origin: str  # "relative/file.ndjson:12" (line) or "file.json#entry3"
    # The resource's JSON exactly as read (NDJSON lines), so a store can keep it without
    # serialising again; None when it came out of a larger document.
    raw: bytes | None = None


@dataclass(slots=True)
class SourceProblem:
    """A line, entry or file that could not be used. `reason` is a short stable string for
    counting ("invalid JSON", "unknown resourceType"); it never contains patient data."""

    origin: str
    reason: str
    # A more precise place for the build report when there is one: "file.json:3:13" (line and
    # column of broken JSON), "file.ndjson:5 (Observaton)" (the unknown type as written).
    place: str | None = None


def iter_files(path: Path, *, follow_outside: bool = False) -> Iterator[SourceItem | SourceProblem]:
    """Yield every resource under `path` (a file or a folder).

    Files whose names end in neither NDJSON nor JSON suffixes (LICENSE, README.md, *.txt) and
    hidden files are skipped silently. A symbolic link to a file outside the folder yields one
    SourceProblem and is not read, unless `follow_outside`. Raises FileNotFoundError when `path`
    does not exist.
    """
    if not path.exists():
        raise FileNotFoundError(f"FHIR source {path} does not exist: give a file or a folder")
    if path.is_file():
        yield from _iter_file(path, path.name)
        return
    root = path.resolve()
    files = sorted(_source_files(path), key=lambda p: p.relative_to(path).as_posix())
    # Counts only: file names can carry patient names (Synthea writes one Bundle per patient).
    log.debug("source folder: %d FHIR file(s) to read", len(files))
    for file in files:
        label = file.relative_to(path).as_posix()
        target = file.resolve()
        if not target.is_relative_to(root) and not follow_outside:
            # The reason names no file: file names can carry patient names.
            yield SourceProblem(label, OUTSIDE_LINK)
            continue
        # Read the checked target, not the link: swapping the link afterwards changes nothing.
        yield from _iter_file(target, label, file.name)


def _source_files(root: Path) -> Iterator[Path]:
    for file in root.rglob("*"):
        rel = file.relative_to(root)
        if any(part.startswith(".") for part in rel.parts):
            continue  # .git, editor swap files, our own hidden work files
        if file.is_file() and _kind(file.name) is not None:
            yield file


def _kind(name: str) -> str | None:
    lower = name.lower()
    if lower.endswith(NDJSON_SUFFIXES):
        return "ndjson"
    if lower.endswith(JSON_SUFFIXES):
        return "json"
    return None


def _open(path: Path, name: str) -> IO[bytes]:
    if name.lower().endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def _iter_file(
    path: Path, label: str, name: str | None = None
) -> Iterator[SourceItem | SourceProblem]:
    """Resources of one file; `name` (default: the path's) decides its kind and compression."""
    name = name or path.name
    kind = _kind(name)
    if kind == "ndjson":
        yield from _iter_ndjson(path, label, name)
    elif kind == "json":
        yield from _iter_json(path, label, name)


def _iter_ndjson(path: Path, label: str, name: str) -> Iterator[SourceItem | SourceProblem]:
    pending: list[SourceProblem] = []  # held back while deciding whether the file is FHIR
    seen_fhir = False
    try:
        with _open(path, name) as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                origin = f"{label}:{number}"
                try:
                    value = orjson.loads(line)
                except orjson.JSONDecodeError:
                    yield SourceProblem(origin, "invalid JSON")
                    continue
                if not seen_fhir and isinstance(value, dict) and "resourceType" not in value:
                    pending.append(SourceProblem(origin, "missing resourceType"))
                    if len(pending) >= _NON_FHIR_PROBE_LINES:
                        yield SourceProblem(label, "not a FHIR file (skipped)")
                        return
                    continue
                if not seen_fhir:
                    seen_fhir = True
                    yield from pending
                    pending.clear()
                if isinstance(value, dict) and value.get("resourceType") not in (None, "Bundle"):
                    item = next(_expand(value, None, origin, 0))
                    if isinstance(item, SourceItem):
                        item.raw = line.strip()
                    yield item
                else:
                    yield from _expand(value, None, origin, 0)
    except (OSError, EOFError, gzip.BadGzipFile):
        # A truncated .gz or a file vanishing mid-read: report, keep what was read.
        yield SourceProblem(label, "unreadable file")
    if pending:
        yield SourceProblem(label, "not a FHIR file (skipped)")


def _iter_json(path: Path, label: str, name: str) -> Iterator[SourceItem | SourceProblem]:
    try:
        with _open(path, name) as handle:
            data = handle.read()
    except (OSError, EOFError, gzip.BadGzipFile):
        yield SourceProblem(label, "unreadable file")
        return
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        # Name the line (and column) where the JSON breaks, so IT can find it in a big file.
        where = f"{label}:{exc.lineno}:{exc.colno}" if getattr(exc, "lineno", None) else label
        yield SourceProblem(label, "invalid JSON", where)
        return
    del data
    if isinstance(value, dict) and "resourceType" not in value:
        # package.json, a config file: not FHIR, not worth one problem per key
        yield SourceProblem(label, "not a FHIR file (skipped)")
        return
    yield from _expand(value, None, label, 0)


def _expand(
    value: Any, full_url: str | None, origin: str, depth: int
) -> Iterator[SourceItem | SourceProblem]:
    """Validate one parsed JSON value; yield it, or the entries of a Bundle (recursively)."""
    if not isinstance(value, dict):
        yield SourceProblem(origin, "not a JSON object")
        return
    rtype = value.get("resourceType")
    if not isinstance(rtype, str) or not rtype:
        yield SourceProblem(origin, "missing resourceType")
        return
    if rtype not in RESOURCE_TYPES:
        # The type name goes with the place (not into the counted reason): "Observaton" tells
        # IT what to fix. Capped: it is whatever the file says.
        yield SourceProblem(origin, "unknown resourceType", f"{origin} ({rtype[:40]})")
        return
    if rtype != "Bundle":
        yield SourceItem(value, full_url, origin)
        return
    if depth >= _MAX_BUNDLE_DEPTH:
        yield SourceProblem(origin, "Bundle nested too deeply")
        return
    entries = value.get("entry") or []
    if not isinstance(entries, list):
        yield SourceProblem(origin, "Bundle.entry is not a list")
        return
    for index, entry in enumerate(entries):
        entry_origin = f"{origin}#entry{index}"
        if not isinstance(entry, dict):
            yield SourceProblem(entry_origin, "Bundle entry is not an object")
            continue
        resource = entry.get("resource")
        if resource is None:
            continue  # a DELETE in a history Bundle, a transaction-response entry: no data
        url = entry.get("fullUrl")
        yield from _expand(resource, url if isinstance(url, str) else None, entry_origin, depth + 1)

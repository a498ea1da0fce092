"""Sources of FHIR R4 resources (see docs/architecture.md, "sync.sources").

`iter_source(path)` streams `SourceItem`s (a resource dict, its Bundle fullUrl, "file:line"
origin) and `SourceProblem`s (origin, reason) from files. Other source kinds (a FHIR server's
REST search or Bulk Data $export) yield the same two item types.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from sync.sources.fhir_types import (
    IGNORED_PATIENT_TYPES,
    PATIENT_REFERENCE_FIELDS,
    RESOURCE_TYPES,
    SHARED_TYPES,
)
from sync.sources.files import SourceItem, SourceProblem, iter_files

__all__ = [
    "IGNORED_PATIENT_TYPES",
    "PATIENT_REFERENCE_FIELDS",
    "RESOURCE_TYPES",
    "SHARED_TYPES",
    "ItemSource",
    "SourceItem",
    "SourceProblem",
    "iter_source",
]


class ItemSource(Protocol):
    """A source that is no path: the live source's resource store (sync.store). `name` goes
    into the snapshot's metadata (never a URL with credentials)."""

    name: str

    def items(self) -> Iterator[SourceItem | SourceProblem]:
        """Every resource, as items from files would be."""
        ...


def iter_source(
    path: Path, *, follow_outside: bool = False
) -> Iterator[SourceItem | SourceProblem]:
    """Stream every resource from a file or folder of FHIR files (see sync.sources.files).

    Symbolic links to files outside the folder are reported, not read, unless `follow_outside`.
    Raises FileNotFoundError when `path` does not exist; bad content becomes SourceProblem items.
    """
    return iter_files(Path(path), follow_outside=follow_outside)

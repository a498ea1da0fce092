"""Ward snapshots: one SQLCipher database per ward (census, search index, one record per patient).

This package is the ONLY importer of `sqlcipher3`. Everything else reaches the database through
`SnapshotWriter` (sync server, build), `SnapshotReader` (laptop, viewer) or `connect`, all
importable from `sync.snapshot` itself. The modules, each with one job:

- `schema`: cipher settings, tables, census columns, `SnapshotMeta`, `SnapshotError`, `connect`
- `codec`: how a record is stored (zlib with a per-snapshot preset dictionary); pure
- `search`: the folded search-index columns and the FTS5 query of a search text; pure
- `writer`: `SnapshotWriter`, `write_snapshot`, `prepare_record`
- `reader`: `SnapshotReader`

The schema, cipher settings, versioning rules and search folding are specified in
docs/snapshot-schema.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # loaded on first use by `__getattr__` below
    from sync.snapshot.codec import (
        CODEC_JSON,
        CODEC_ZLIB_DICT_JSON,
        CODEC_ZLIB_JSON,
        build_dictionary,
        decode_json,
        decode_record,
        encode_record,
    )
    from sync.snapshot.reader import SnapshotReader
    from sync.snapshot.schema import (
        CENSUS_COLUMNS,
        CIPHER_PRAGMAS,
        KEY_BYTES,
        PAGE_SIZE,
        SCHEMA_VERSION,
        Connection,
        DatabaseError,
        SnapshotError,
        SnapshotMeta,
        census_from_values,
        census_values,
        connect,
        new_key,
    )
    from sync.snapshot.search import RANKED_MAX, exact_search_keys, match_expression, search_columns
    from sync.snapshot.writer import (
        PreparedRecord,
        SnapshotWriter,
        prepare_record,
        record_counts,
        write_snapshot,
    )

# Where each exported name lives. A name loads only its own module, so the laptop, which only
# reads snapshots, does not load the writer (docs/performance.md, start-up).
_HOMES: dict[str, tuple[str, ...]] = {
    "sync.snapshot.codec": (
        "CODEC_JSON",
        "CODEC_ZLIB_DICT_JSON",
        "CODEC_ZLIB_JSON",
        "build_dictionary",
        "decode_json",
        "decode_record",
        "encode_record",
    ),
    "sync.snapshot.reader": ("SnapshotReader",),
    "sync.snapshot.schema": (
        "CENSUS_COLUMNS",
        "CIPHER_PRAGMAS",
        "KEY_BYTES",
        "PAGE_SIZE",
        "SCHEMA_VERSION",
        "Connection",
        "DatabaseError",
        "SnapshotError",
        "SnapshotMeta",
        "census_from_values",
        "census_values",
        "connect",
        "new_key",
    ),
    "sync.snapshot.search": (
        "RANKED_MAX",
        "exact_search_keys",
        "match_expression",
        "search_columns",
    ),
    "sync.snapshot.writer": (
        "PreparedRecord",
        "SnapshotWriter",
        "prepare_record",
        "record_counts",
        "write_snapshot",
    ),
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
    "CENSUS_COLUMNS",
    "CIPHER_PRAGMAS",
    "CODEC_JSON",
    "CODEC_ZLIB_DICT_JSON",
    "CODEC_ZLIB_JSON",
    "KEY_BYTES",
    "PAGE_SIZE",
    "RANKED_MAX",
    "SCHEMA_VERSION",
    "Connection",
    "DatabaseError",
    "PreparedRecord",
    "SnapshotError",
    "SnapshotMeta",
    "SnapshotReader",
    "SnapshotWriter",
    "build_dictionary",
    "census_from_values",
    "census_values",
    "connect",
    "decode_json",
    "decode_record",
    "encode_record",
    "exact_search_keys",
    "match_expression",
    "new_key",
    "prepare_record",
    "record_counts",
    "search_columns",
    "write_snapshot",
]

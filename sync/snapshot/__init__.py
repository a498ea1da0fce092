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

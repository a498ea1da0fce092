"""Snapshot schema: cipher settings, tables, census columns, meta, and `connect`.

The schema, cipher settings and versioning rules are specified in docs/snapshot-schema.md; keep
that page and `_SCHEMA_SQL` / `CIPHER_PRAGMAS` in step. Together with the other modules of
`sync.snapshot`, the only place that imports `sqlcipher3`.

The key is a random 256-bit SQLCipher *raw* key (no passphrase, so no KDF cost); it is never
logged, never put in an exception message.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlcipher3 import dbapi2 as sqlcipher

from sync.model import MODEL_VERSION, CensusRow, DataWindows

SCHEMA_VERSION = 1
KEY_BYTES = 32
PAGE_SIZE = 4096

# SQLCipher 4 defaults, set explicitly so that a future library default change cannot silently
# make old snapshots unreadable (or new ones unreadable by old laptops). With a raw key the KDF
# settings only affect the derivation of the HMAC key (fast_kdf_iter), but they must still match.
CIPHER_PRAGMAS: tuple[str, ...] = (
    f"PRAGMA cipher_page_size = {PAGE_SIZE}",
    "PRAGMA kdf_iter = 256000",
    "PRAGMA cipher_hmac_algorithm = HMAC_SHA512",
    "PRAGMA cipher_kdf_algorithm = PBKDF2_HMAC_SHA512",
    "PRAGMA cipher_use_hmac = ON",
    "PRAGMA cipher_plaintext_header_size = 0",
)

# CensusRow fields stored as their own columns (in this order); any CensusRow field not listed
# (added to the model later) goes into the census.extra JSON column.
CENSUS_COLUMNS: tuple[str, ...] = (
    "patient_id",
    "mrn",
    "name",
    "birth_date",
    "sex",
    "ward_id",
    "ward",
    "room",
    "bed",
    "admitted",
    "discharged",
    "attending",
    "main_diagnosis",
    "allergy_count",
    "severe_allergy",
    "allergies_short",
    "code_status",
    "code_status_text",
    "flags",
    "deceased",
)
_CENSUS_SELECT = (*CENSUS_COLUMNS, "extra")  # patient_id first
_CENSUS_BOOL = frozenset({"severe_allergy", "deceased"})
_CENSUS_JSON = frozenset({"flags"})

_SCHEMA_SQL = f"""
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL              -- JSON
) WITHOUT ROWID;

CREATE TABLE census (
    row_id           INTEGER PRIMARY KEY,
    patient_id       TEXT NOT NULL UNIQUE,
    sort_key         TEXT NOT NULL,  -- natural order of (room, bed, name); see searchtext
    mrn              TEXT,
    name             TEXT NOT NULL,
    birth_date       TEXT,           -- ISO date
    sex              TEXT NOT NULL,
    ward_id          TEXT,
    ward             TEXT,
    room             TEXT,
    bed              TEXT,
    admitted         TEXT,           -- ISO datetime with offset
    discharged       TEXT,
    attending        TEXT,
    main_diagnosis   TEXT,
    allergy_count    INTEGER NOT NULL,
    severe_allergy   INTEGER NOT NULL,
    allergies_short  TEXT,
    code_status      TEXT NOT NULL,
    code_status_text TEXT,
    flags            TEXT NOT NULL,  -- JSON array of strings
    deceased         INTEGER NOT NULL,
    extra            TEXT            -- JSON object: CensusRow fields newer than this schema
);
CREATE INDEX census_sort ON census (sort_key, patient_id);

CREATE TABLE records (
    row_id     INTEGER PRIMARY KEY,  -- census.row_id
    patient_id TEXT NOT NULL UNIQUE,
    codec      INTEGER NOT NULL,     -- 0 = JSON, 1 = zlib(JSON), 2 = zlib(JSON, dictionary 1)
    record     BLOB NOT NULL         -- PatientRecord.to_json(), encoded per codec
);

CREATE TABLE dictionaries (
    id   INTEGER PRIMARY KEY,
    data BLOB NOT NULL               -- zlib preset dictionary (at most 32 KiB)
);

CREATE VIRTUAL TABLE search_index USING fts5 (
    ident, name, birth, place, diag,
    content = '',
    detail = column,
    prefix = '1 2 3',
    tokenize = "unicode61 remove_diacritics 0 categories 'L* N* Co M*'"
);

CREATE TABLE search_exact (
    key    TEXT NOT NULL,            -- folded MRN / identifier / room / bed / room+bed
    row_id INTEGER NOT NULL,         -- census.row_id
    PRIMARY KEY (key, row_id)
) WITHOUT ROWID;

PRAGMA user_version = {SCHEMA_VERSION};
"""

_REQUIRED_TABLES = frozenset(
    {"meta", "census", "records", "dictionaries", "search_index", "search_exact"}
)


class SnapshotError(Exception):
    """A snapshot cannot be opened, read or written. The message names the file and what to do;
    it never contains the key or patient data. `reason` is the bare cause (e.g. SQLite's
    "database disk image is malformed"), for short problem lists."""

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason or message


class SnapshotMeta(BaseModel):
    """What a snapshot is: which ward, how fresh, from where. Stored in the `meta` table."""

    model_config = ConfigDict(extra="ignore")

    ward_id: str
    ward_name: str
    data_as_of: AwareDatetime  # the source's data time: shown on every view
    built_at: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))
    source: str = ""  # where the data came from (folder, FHIR base URL), no credentials
    counts: dict[str, int] = Field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION
    model_version: int = MODEL_VERSION
    generator: str = "wardcopy"
    # The hospital's IANA time zone (the sync config's `timezone`): the laptop shows every time in
    # it, whatever its own clock zone. None in snapshots built before the field existed (the
    # viewer then uses its default, app.present.zone.DEFAULT_TIME_ZONE).
    time_zone: str | None = None
    # The windows the build applied (sync configuration): shown in the texts that name them
    # ("given in the last 72 h"). None in snapshots built before the field existed: the viewer
    # then uses DataWindows() (the values that were fixed then).
    windows: DataWindows | None = None


class Connection(Protocol):
    """What `connect` returns: a DB-API connection to the decrypted database (sqlcipher3)."""

    def execute(self, sql: str, parameters: Any = (), /) -> Any: ...
    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Any: ...
    def executescript(self, script: str, /) -> Any: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def close(self) -> None: ...


# The error type raised by raw `connect()` connections, for callers that run their own SQL.
DatabaseError: type[Exception] = sqlcipher.Error


def new_key() -> bytes:
    """A fresh random 256-bit snapshot key (from the OS CSPRNG)."""
    return secrets.token_bytes(KEY_BYTES)


def _check_key(key: bytes) -> None:
    if not isinstance(key, bytes | bytearray) or len(key) != KEY_BYTES:
        raise SnapshotError(f"a snapshot key must be {KEY_BYTES} bytes (use new_key())")


def connect(path: Path, key: bytes, *, readonly: bool, page_size: int = PAGE_SIZE) -> Connection:
    """Open the SQLCipher database at `path` with the raw `key` and the cipher settings of
    `CIPHER_PRAGMAS`. `page_size` overrides cipher_page_size for a private file that is no
    snapshot (the build's staging store); snapshots always use PAGE_SIZE.

    readonly=True opens with URI mode=ro and PRAGMA query_only (writes raise); the file must exist.
    readonly=False creates the file if missing. The connection is in autocommit mode
    (isolation_level=None) and may be used from another thread (guard it with a lock).
    Raises SnapshotError if the file is missing, empty, not a multiple of the page size
    (truncated), or cannot be decrypted (wrong key, not a snapshot, damaged first page).
    """
    _check_key(key)
    path = Path(path)
    if readonly:
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise SnapshotError(f"cannot open snapshot {path}: {exc.strerror}") from exc
        if size == 0:
            raise SnapshotError(f"snapshot {path} is empty: fetch or rebuild it")
        if size % PAGE_SIZE:
            raise SnapshotError(
                f"snapshot {path} is truncated or damaged ({size} bytes is not a whole number "
                f"of {PAGE_SIZE}-byte pages): fetch or rebuild it"
            )
    uri = path.resolve().as_uri() + ("?mode=ro" if readonly else "?mode=rwc")
    try:
        conn: Connection = sqlcipher.connect(
            uri, uri=True, isolation_level=None, check_same_thread=False
        )
    except sqlcipher.Error as exc:
        raise SnapshotError(f"cannot open snapshot {path}: {exc}") from exc
    try:
        # The key is bound into the statement text (PRAGMA takes no parameters); it is hex of
        # bytes we checked, so nothing can be injected, and the text is never logged.
        # SQLCipher would print "hmac check failed for pgno=..." lines to stderr on a damaged
        # file; we turn every failure into one SnapshotError / integrity problem instead, and
        # the CLIs promise one line per failure.
        conn.execute("PRAGMA cipher_log_level = NONE").fetchall()
        conn.execute(f"PRAGMA key = \"x'{bytes(key).hex()}'\"")
        for pragma in CIPHER_PRAGMAS:
            if page_size != PAGE_SIZE and pragma.startswith("PRAGMA cipher_page_size"):
                pragma = f"PRAGMA cipher_page_size = {int(page_size)}"
            conn.execute(pragma)
        # Temporary tables, sorts and VACUUM's copy stay in RAM: never a plaintext temp file.
        conn.execute("PRAGMA temp_store = MEMORY")
        # Reading the schema forces decryption of page 1: wrong key fails here, not later.
        conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()
        if readonly:
            conn.execute("PRAGMA query_only = ON")
    except sqlcipher.Error as exc:
        conn.close()
        if "malformed" in str(exc):
            # Page 1 decrypted (the key is right) but the database is inconsistent, typically
            # shorter than its header says.
            raise SnapshotError(
                f"cannot open snapshot {path}: damaged or truncated ({exc}); fetch or rebuild it",
                reason=str(exc),
            ) from exc
        raise SnapshotError(
            f"cannot open snapshot {path}: wrong key, not a Wardcopy snapshot, or damaged "
            f"({exc}); fetch the snapshot again or check the key",
            reason=str(exc),
        ) from exc
    return conn


_CENSUS_DEFAULTS: dict[str, Any] = {
    name: field.default
    for name, field in CensusRow.model_fields.items()
    if not field.is_required() and field.default_factory is None
}


def census_values(row: CensusRow) -> dict[str, Any]:
    """The census table columns for `row` (without row_id and sort_key)."""
    data = row.model_dump(mode="json")
    values: dict[str, Any] = {}
    for column in CENSUS_COLUMNS:
        value = data.pop(column, None)
        if column in _CENSUS_BOOL:
            value = int(bool(value))
        elif column in _CENSUS_JSON:
            value = orjson.dumps(value or []).decode()
        values[column] = value
    # Only fields that differ from their default go to `extra`: most rows then need none.
    extra = {key: value for key, value in data.items() if value != _CENSUS_DEFAULTS.get(key)}
    values["extra"] = orjson.dumps(extra).decode() if extra else None
    return values


def census_from_values(values: dict[str, Any]) -> CensusRow:
    """Inverse of `census_values` for one row read from the census table."""
    data: dict[str, Any] = {}
    extra = values.get("extra")
    if extra:
        data.update(orjson.loads(extra))
    for column in CENSUS_COLUMNS:
        if column not in values:
            continue
        value = values[column]
        if column in _CENSUS_BOOL:
            value = bool(value)
        elif column in _CENSUS_JSON:
            value = orjson.loads(value) if value else []
        if value is not None:
            data[column] = value
    return CensusRow.model_validate(data)


def _meta_rows(meta: SnapshotMeta) -> list[tuple[str, str]]:
    data = meta.model_dump(mode="json")
    return [(key, orjson.dumps(value).decode()) for key, value in data.items()]

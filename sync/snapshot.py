"""Ward snapshots: one SQLCipher database per ward (census, search index, one record per patient).

This is the ONLY module that imports `sqlcipher3`. Everything else reaches the database through
`SnapshotWriter` (sync server, build), `SnapshotReader` (laptop, viewer) or `connect`.

The schema, cipher settings, versioning rules and search folding are specified in
docs/snapshot-schema.md; keep that page and `_SCHEMA_SQL` / `CIPHER_PRAGMAS` in step.

Security notes:
- The key is a random 256-bit SQLCipher *raw* key (no passphrase, so no KDF cost); it is never
  logged, never put in an exception message.
- The writer writes `PATH.partial` with no rollback journal (journal_mode OFF), so no plaintext
  `-journal`/`-wal` file ever exists; temporary tables and sort files stay in memory
  (temp_store MEMORY). On any failure the partial file is deleted; a killed writer leaves only an
  encrypted `PATH.partial`, which the next writer for PATH removes.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from sqlcipher3 import dbapi2 as sqlcipher

from sync import fsutil, searchtext
from sync.model import MODEL_VERSION, CensusRow, PatientRecord

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

# Records are stored as zlib-compressed PatientRecord.to_json(): the package size is what dozens
# of laptops download. Codec 2 primes zlib with a preset dictionary made from the first records
# of the same snapshot (stored in the `dictionaries` table): the JSON keys, code systems and
# units every record repeats then cost almost nothing, which halves the compressed size.
CODEC_JSON = 0
CODEC_ZLIB_JSON = 1
CODEC_ZLIB_DICT_JSON = 2
# Level 5, not 6: on 1,000 generated patients level 6 took ~35% more compression CPU for records
# only ~3% smaller (level 4: +8% size). Decoding is the same at every level.
_ZLIB_LEVEL = 5
_ZDICT_ID = 1
_ZDICT_MAX = 32 * 1024  # zlib's window: dictionary bytes beyond it are never referenced

# bm25 weights for the FTS5 columns (ident, name, birth, place, diag): an identifier or name
# hit outranks a diagnosis word.
_BM25_WEIGHTS = "10.0, 6.0, 4.0, 6.0, 1.0"

_BATCH = 500  # records per executemany batch in the writer, or fewer when they are big:
_BATCH_BYTES = 8 * 1024 * 1024  # real records are 10-100 KB of JSON (counted before
# compression; queued records are held compressed), and a build keeps one writer per ward open
_ZDICT_SAMPLES = 16  # records whose JSON makes a snapshot's zlib preset dictionary

# A search group with more hits than this is shown in census order instead of ranked by bm25
# (see SnapshotReader.search).
RANKED_MAX = 1000  # records per executemany batch in the writer

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
            raise SnapshotError(f"cannot open snapshot {path}: {exc.strerror}") from None
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
        raise SnapshotError(f"cannot open snapshot {path}: {exc}") from None
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
            ) from None
        raise SnapshotError(
            f"cannot open snapshot {path}: wrong key, not a Wardcopy snapshot, or damaged "
            f"({exc}); fetch the snapshot again or check the key",
            reason=str(exc),
        ) from None
    return conn


# --------------------------------------------------------------------------------------------
# Row building (pure)


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
    values["extra"] = orjson.dumps(data).decode() if data else None
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


def search_columns(record: PatientRecord) -> tuple[str, str, str, str, str]:
    """The folded text of the five search_index columns (ident, name, birth, place, diag)."""
    ident: list[str] = []
    for value in (record.mrn, record.id, *(i.value for i in record.identifiers)):
        ident.extend(searchtext.index_tokens(value))
    names: list[str] = []
    for value in (
        record.name,
        record.family,
        *record.given,
        *record.other_names,
    ):
        names.extend(searchtext.index_tokens(value))
    birth = searchtext.date_tokens(record.birth_date)
    stay = record.stay
    place: list[str] = []
    if stay is not None:
        for value in (stay.room, stay.bed):
            place.extend(searchtext.index_tokens(value))
        place.extend(searchtext.exact_keys([_room_bed(stay.room, stay.bed)]))
    diag: list[str] = []
    for problem in record.problems:
        diag.extend(searchtext.index_tokens(problem.text))
        for coding in problem.coding:
            diag.extend(searchtext.index_tokens(coding.code))
    return (
        _unique_join(ident),
        _unique_join(names),
        _unique_join(birth),
        _unique_join(place),
        _unique_join(diag),
    )


def exact_search_keys(record: PatientRecord) -> list[str]:
    """Keys that rank a record first when a query term equals one: MRN, identifiers, room,
    room+bed, and the bed alone if it names one place ("12-1", not "A": every room has a bed A).
    """
    stay = record.stay
    room = stay.room if stay else None
    bed = stay.bed if stay else None
    lone_bed = bed if bed and any(ch.isdigit() for ch in bed) else None
    return searchtext.exact_keys(
        [record.mrn, *(i.value for i in record.identifiers), room, lone_bed, _room_bed(room, bed)]
    )


def _room_bed(room: str | None, bed: str | None) -> str | None:
    return f"{room}{bed}" if room and bed else None


def _unique_join(tokens: Sequence[str]) -> str:
    return " ".join(dict.fromkeys(tokens))


def build_dictionary(samples: Sequence[bytes]) -> bytes:
    """A zlib preset dictionary from sample record JSON: whole records, the first samples last
    (zlib references the end of the dictionary most cheaply), at most 32 KiB."""
    data = b""
    for sample in samples:
        if len(data) >= _ZDICT_MAX:
            break
        data = sample + data
    return data[-_ZDICT_MAX:]


def encode_record(data: bytes, zdict: bytes | None) -> tuple[int, bytes]:
    """(codec, blob) for the records table, from PatientRecord.to_json() output."""
    if not zdict:
        return CODEC_ZLIB_JSON, zlib.compress(data, _ZLIB_LEVEL)
    compressor = zlib.compressobj(_ZLIB_LEVEL, zdict=zdict)
    return CODEC_ZLIB_DICT_JSON, compressor.compress(data) + compressor.flush()


def decode_json(codec: int, blob: bytes, zdict: bytes | None) -> bytes:
    """The record JSON of a stored blob. Raises SnapshotError on an unknown codec, a missing
    dictionary or a damaged blob."""
    try:
        if codec == CODEC_ZLIB_JSON:
            return zlib.decompress(blob)
        if codec == CODEC_ZLIB_DICT_JSON:
            if zdict is None:
                raise SnapshotError("a stored record needs the missing compression dictionary")
            decompressor = zlib.decompressobj(zdict=zdict)
            data = decompressor.decompress(blob) + decompressor.flush()
            if not decompressor.eof:
                raise SnapshotError("a stored record is damaged (truncated)")
            return data
        if codec == CODEC_JSON:
            return blob
    except zlib.error as exc:
        raise SnapshotError(f"a stored record is damaged ({exc})") from None
    raise SnapshotError(f"a stored record uses unknown codec {codec}: update Wardcopy")


def decode_record(codec: int, blob: bytes, zdict: bytes | None = None) -> PatientRecord:
    """Inverse of `encode_record` + `to_json`. Raises SnapshotError when the blob is damaged."""
    data = decode_json(codec, blob, zdict)
    try:
        return PatientRecord.from_json(data)
    except (ValidationError, orjson.JSONDecodeError) as exc:
        raise SnapshotError(f"a stored record is damaged ({type(exc).__name__})") from None


def record_counts(record: PatientRecord) -> Counter[str]:
    """What one record contributes to SnapshotMeta.counts."""
    return Counter(
        {
            "patients": 1,
            "allergies": len(record.allergies),
            "problems": len(record.problems),
            "medications": len(record.medications),
            "administrations": len(record.administrations),
            "vitals": len(record.vitals),
            "labs": len(record.labs),
            "notes": len(record.notes),
            "orders": len(record.orders),
        }
    )


def match_expression(query: str) -> tuple[str, list[str]] | None:
    """The FTS5 MATCH expression for a user query, and the exact-match keys of its terms.

    Every term is a double-quoted FTS5 string with a prefix star, so nothing the user types can
    act as FTS5 syntax (column filters, NEAR, NOT, parentheses); terms are AND-ed, spelling
    alternatives of one term OR-ed. None if the query has no searchable term.
    """
    groups = searchtext.query_alternatives(query)
    if not groups:
        return None
    parts: list[str] = []
    for alternatives in groups:
        quoted = [_fts_string(term) + "*" for term in alternatives]
        parts.append(quoted[0] if len(quoted) == 1 else "(" + " OR ".join(quoted) + ")")
    keys = [alternatives[0] for alternatives in groups]
    return " AND ".join(parts), keys


def _fts_string(term: str) -> str:
    # Terms hold only token characters already; doubling quotes keeps this safe regardless.
    return '"' + term.replace('"', '""') + '"'


def _meta_rows(meta: SnapshotMeta) -> list[tuple[str, str]]:
    data = meta.model_dump(mode="json")
    return [(key, orjson.dumps(value).decode()) for key, value in data.items()]


@dataclass(frozen=True, slots=True)
class PreparedRecord:
    """Everything a SnapshotWriter stores for one record, computed once by `prepare_record`:
    the record JSON, its census columns (without row_id), search columns, exact search keys
    and meta counts. Plain data: cheap to pickle between processes and to add to several
    snapshots (a patient's ward and the hospital-wide ward) without encoding twice."""

    patient_id: str
    data: bytes  # PatientRecord.to_json()
    census: dict[str, Any]  # census_values() plus sort_key
    search: tuple[str, str, str, str, str]
    exact: tuple[str, ...]
    counts: dict[str, int]


def prepare_record(record: PatientRecord) -> PreparedRecord:
    """The rows `record` becomes in a snapshot (pure)."""
    row = CensusRow.from_record(record)
    values = census_values(row)
    values["sort_key"] = searchtext.natural_sort_key(row.room, row.bed, row.name)
    return PreparedRecord(
        patient_id=record.id,
        data=record.to_json(),
        census=values,
        search=search_columns(record),
        exact=tuple(exact_search_keys(record)),
        counts=dict(record_counts(record)),
    )


# --------------------------------------------------------------------------------------------
# Writer


class SnapshotWriter:
    """Builds one snapshot file. Use as a context manager:

        with SnapshotWriter(path, key, meta) as writer:
            for record in records:
                writer.add(record)
            writer.finish()

    Writes `PATH.partial` in the same folder and renames it to PATH in finish(), after fsync of
    the file and the folder. Leaving the `with` block by an exception, or without finish(),
    deletes the partial file: PATH then does not exist (or keeps its previous content).
    Raises SnapshotError for I/O or database failures.
    """

    def __init__(self, path: Path, key: bytes, meta: SnapshotMeta) -> None:
        self.path = Path(path)
        self.partial = self.path.with_name(self.path.name + ".partial")
        self.meta = meta
        self._ids: set[str] = set()
        self._counts: Counter[str] = Counter()
        self._census: list[dict[str, Any]] = []
        # Queued rows: JSON until the dictionary exists, then (row_id, patient_id, codec, blob)
        self._samples: list[tuple[int, str, bytes]] = []
        self._encoded: list[tuple[int, str, int, bytes]] = []
        self._zdict: bytes | None = None
        self._pending_bytes = 0  # JSON bytes of the queued records (decides batches)
        self._sample_bytes = 0  # JSON bytes in _samples
        self._held_bytes = 0  # compressed bytes in _encoded
        self._search: list[tuple[int, str, str, str, str, str]] = []
        self._exact: list[tuple[str, int]] = []
        self._finished = False
        _check_key(key)
        if not self.path.parent.is_dir():
            raise SnapshotError(f"cannot write snapshot {self.path}: folder does not exist")
        # A partial file left by a killed writer is encrypted junk: replace it. Create the new
        # one owner-only (SQLite would use 0644 minus umask); it keeps that mode through rename.
        try:
            self.partial.unlink(missing_ok=True)
            os.close(os.open(self.partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except OSError as exc:
            raise SnapshotError(f"cannot create snapshot {self.partial}: {exc.strerror}") from None
        self._conn: Connection | None = None
        try:
            self._conn = connect(self.partial, key, readonly=False)
        except SnapshotError:
            self.abort()
            raise
        try:
            for pragma in (
                # No rollback journal at all: a failed build is deleted, never rolled back,
                # and a journal would be another file to leak or leave behind.
                "PRAGMA journal_mode = OFF",
                "PRAGMA synchronous = OFF",  # we fsync once, at the end
                "PRAGMA locking_mode = EXCLUSIVE",
                # 16 MiB: records are appended; only the index b-trees are written at random.
                # Kept modest: a build keeps one writer per ward open at the same time.
                "PRAGMA cache_size = -16384",
            ):
                self._conn.execute(pragma).fetchall()
            self._conn.executescript(_SCHEMA_SQL)
            self._conn.execute("BEGIN")
        except sqlcipher.Error as exc:
            self.abort()
            raise SnapshotError(f"cannot create snapshot {self.partial}: {exc}") from None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._finished:
            self.abort()

    def add(self, record: PatientRecord) -> None:
        """Queue one patient's record; written in batches. Raises SnapshotError if the patient
        was added before, or after finish()/abort()."""
        self.add_prepared(prepare_record(record))

    def add_prepared(self, prepared: PreparedRecord) -> None:
        """Queue a record made ready by `prepare_record` (possibly in another process, or shared
        by several writers: it is not modified). Same effect and errors as `add`."""
        if self._conn is None:
            raise SnapshotError(f"snapshot writer for {self.path} is already closed")
        if prepared.patient_id in self._ids:
            raise SnapshotError(
                f"patient id {prepared.patient_id!r} added twice to snapshot {self.path}"
            )
        self._ids.add(prepared.patient_id)
        row_id = len(self._ids)
        values = dict(prepared.census)
        values["row_id"] = row_id
        self._census.append(values)
        data = prepared.data
        if self._zdict is None:
            self._samples.append((row_id, prepared.patient_id, data))
            self._sample_bytes += len(data)
        else:
            # Compressed at once: a build keeps one writer per ward open, and holding queued
            # records compressed keeps that memory a fraction of the JSON's size.
            encoded = encode_record(data, self._zdict)
            self._encoded.append((row_id, prepared.patient_id, *encoded))
            self._held_bytes += len(encoded[1])
        self._pending_bytes += len(data)
        self._search.append((row_id, *prepared.search))
        self._exact.extend((key, row_id) for key in prepared.exact)
        self._counts.update(prepared.counts)
        # build_dictionary reads samples only until it has _ZDICT_MAX bytes: once the samples
        # reach that, later records cannot change the dictionary, so it can be made now.
        if self._zdict is None and (
            len(self._samples) >= _ZDICT_SAMPLES or self._sample_bytes >= _ZDICT_MAX
        ):
            self._make_dictionary()
        if len(self._census) >= _BATCH or self._pending_bytes >= _BATCH_BYTES:
            self._flush()

    def _make_dictionary(self) -> None:
        """Build the preset dictionary from the queued sample records (the first
        `_ZDICT_SAMPLES` of the snapshot), store it, and compress the samples with it."""
        assert self._conn is not None
        self._zdict = build_dictionary([data for _, _, data in self._samples[:_ZDICT_SAMPLES]])
        # Stored before any record that needs it.
        self._conn.execute(
            "INSERT INTO dictionaries (id, data) VALUES (?, ?)", (_ZDICT_ID, self._zdict)
        )
        for row_id, patient_id, data in self._samples:
            encoded = encode_record(data, self._zdict)
            self._encoded.append((row_id, patient_id, *encoded))
            self._held_bytes += len(encoded[1])
        self._samples.clear()
        self._sample_bytes = 0

    @property
    def held_bytes(self) -> int:
        """Bytes of queued record data this writer holds in memory (JSON samples, compressed
        records): what `spill` would free."""
        return self._sample_bytes + self._held_bytes

    def spill(self) -> None:
        """Write the queued rows into the (encrypted) file now, commit, and let SQLite free
        this connection's page cache. For a caller that keeps many writers open at once (one
        per ward) and bounds their memory; the finished snapshot holds the same data. Does
        nothing while the compression dictionary is still being sampled (those samples are
        under 32 KiB). Raises SnapshotError on database failure or after finish()/abort()."""
        if self._conn is None:
            raise SnapshotError(f"snapshot writer for {self.path} is already closed")
        if self._zdict is None or not self._census:
            return
        self._flush()
        try:
            self._conn.execute("COMMIT")
            self._conn.execute("PRAGMA shrink_memory").fetchall()
            self._conn.execute("BEGIN")
        except sqlcipher.Error as exc:
            raise SnapshotError(f"cannot write snapshot {self.partial}: {exc}") from None

    def add_all(self, records: Iterable[PatientRecord]) -> None:
        """add() each record."""
        for record in records:
            self.add(record)

    def _flush(self) -> None:
        if self._conn is None or not self._census:
            return
        if self._zdict is None:
            self._make_dictionary()  # fewer records than samples: all of them are the sample
        encoded = self._encoded
        columns = ("row_id", "sort_key", *CENSUS_COLUMNS, "extra")
        census_sql = (
            f"INSERT INTO census ({', '.join(columns)}) "
            f"VALUES ({', '.join(':' + c for c in columns)})"
        )
        try:
            self._conn.executemany(census_sql, self._census)
            self._conn.executemany(
                "INSERT INTO records (row_id, patient_id, codec, record) VALUES (?, ?, ?, ?)",
                encoded,
            )
            self._conn.executemany(
                "INSERT INTO search_index (rowid, ident, name, birth, place, diag) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                self._search,
            )
            self._conn.executemany(
                "INSERT OR IGNORE INTO search_exact (key, row_id) VALUES (?, ?)", self._exact
            )
        except sqlcipher.Error as exc:
            raise SnapshotError(f"cannot write snapshot {self.partial}: {exc}") from None
        self._census.clear()
        self._encoded.clear()
        self._pending_bytes = 0
        self._held_bytes = 0
        self._search.clear()
        self._exact.clear()

    def finish(self) -> Path:
        """Write the remaining records, the search index and the meta table (with counts), fsync,
        rename PATH.partial to PATH atomically (replacing an existing PATH) and fsync the folder.

        Returns PATH. Afterwards `self.meta` holds the stored meta (counts filled in).
        Raises SnapshotError (and deletes the partial file) on failure.
        """
        if self._conn is None:
            raise SnapshotError(f"snapshot writer for {self.path} is already closed")
        conn = self._conn
        try:
            self._flush()
            # One b-tree per index instead of many segments: faster queries, smaller file.
            conn.execute("INSERT INTO search_index (search_index) VALUES ('optimize')")
            counts = {**self.meta.counts, **{k: self._counts.get(k, 0) for k in _COUNT_KEYS}}
            self.meta = self.meta.model_copy(
                update={
                    "counts": counts,
                    "schema_version": SCHEMA_VERSION,
                    "model_version": MODEL_VERSION,
                }
            )
            conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", _meta_rows(self.meta))
            conn.execute("COMMIT")
            # optimize leaves the old FTS segments as free pages; VACUUM drops them.
            conn.execute("VACUUM")
            conn.close()
            self._conn = None
            fsutil.fsync_file(self.partial)
            os.replace(self.partial, self.path)
            fsutil.fsync_dir(self.path.parent)
        except (sqlcipher.Error, OSError) as exc:
            self.abort()
            raise SnapshotError(f"cannot finish snapshot {self.path}: {exc}") from None
        except BaseException:
            self.abort()
            raise
        self._finished = True
        return self.path

    def abort(self) -> None:
        """Close the database and delete the partial file. Safe to call more than once."""
        if self._conn is not None:
            with contextlib.suppress(sqlcipher.Error):
                self._conn.close()
            self._conn = None
        with contextlib.suppress(OSError):
            self.partial.unlink(missing_ok=True)


_COUNT_KEYS = (
    "patients",
    "allergies",
    "problems",
    "medications",
    "administrations",
    "vitals",
    "labs",
    "notes",
    "orders",
)


def write_snapshot(
    path: Path, key: bytes, meta: SnapshotMeta, records: Iterable[PatientRecord]
) -> Path:
    """Write a complete snapshot of `records` to `path` (see SnapshotWriter). Returns `path`."""
    with SnapshotWriter(path, key, meta) as writer:
        writer.add_all(records)
        return writer.finish()


# --------------------------------------------------------------------------------------------
# Reader


class SnapshotReader:
    """Read-only access to one snapshot. Thread-safe (one lock around the connection).

    Raises SnapshotError when the file cannot be opened (wrong key, damaged, truncated), has an
    unsupported schema version, or a query fails because the file is damaged.
    """

    def __init__(self, path: Path, key: bytes) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn: Connection | None = connect(self.path, key, readonly=True)
        try:
            self.meta = self._read_meta()
            rows = self._query("SELECT data FROM dictionaries WHERE id = ?", [_ZDICT_ID])
            self._zdict: bytes | None = bytes(rows[0][0]) if rows else None
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection. Safe to call more than once."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[Any]:
        with self._lock:
            if self._conn is None:
                raise SnapshotError(f"snapshot {self.path} is closed")
            try:
                cursor = self._conn.execute(sql, params)
                return list(cursor.fetchall())
            except sqlcipher.Error as exc:
                raise SnapshotError(
                    f"cannot read snapshot {self.path}: {exc}; the file may be damaged, run "
                    "`wardcopy verify --installed`",
                    reason=str(exc),
                ) from None

    def _read_meta(self) -> SnapshotMeta:
        ((version,),) = self._query("PRAGMA user_version")
        if version != SCHEMA_VERSION:
            if version > SCHEMA_VERSION:
                raise SnapshotError(
                    f"snapshot {self.path} has schema version {version}, newer than this "
                    f"Wardcopy supports ({SCHEMA_VERSION}): update Wardcopy"
                )
            raise SnapshotError(
                f"snapshot {self.path} has schema version {version}, not a Wardcopy snapshot "
                f"this version can read ({SCHEMA_VERSION})"
            )
        tables = {name for (name,) in self._query("SELECT name FROM sqlite_schema")}
        missing = _REQUIRED_TABLES - tables
        if missing:
            raise SnapshotError(
                f"snapshot {self.path} lacks table(s) {', '.join(sorted(missing))}: "
                "not a complete Wardcopy snapshot"
            )
        rows = self._query("SELECT key, value FROM meta")
        try:
            data = {key: orjson.loads(value) for key, value in rows}
            return SnapshotMeta.model_validate(data)
        except (orjson.JSONDecodeError, ValidationError) as exc:
            raise SnapshotError(
                f"snapshot {self.path} has unreadable meta data ({type(exc).__name__})"
            ) from None

    def _census_rows(self, rows: list[Any], names: Sequence[str]) -> list[CensusRow]:
        try:
            return [census_from_values(dict(zip(names, row, strict=True))) for row in rows]
        except (ValidationError, orjson.JSONDecodeError) as exc:
            raise SnapshotError(
                f"snapshot {self.path} has a damaged census row ({type(exc).__name__})"
            ) from None

    def census(self) -> list[CensusRow]:
        """Every patient's census row, ordered by room, bed, name (natural order: room 2 before
        room 10; patients without a room last)."""
        columns = (*CENSUS_COLUMNS, "extra")
        rows = self._query(f"SELECT {', '.join(columns)} FROM census ORDER BY sort_key, patient_id")
        return self._census_rows(rows, columns)

    def search(self, query: str, limit: int = 50) -> list[CensusRow]:
        """Patients matching every term of `query` as a prefix of a name, identifier, birth date,
        room/bed or diagnosis word (case-, umlaut- and diacritic-insensitive; see
        docs/snapshot-schema.md "Search"). An empty query returns [].

        Order: exact hits (a term equals the MRN, an identifier, the room, room+bed) first, then
        hits in the name and identifier columns, then the rest (birth date, room/bed, diagnosis);
        within each group by bm25 relevance, or in census order when the group is broader than
        RANKED_MAX rows (bm25 over thousands of rows would break the latency budget, and such
        a broad result is scrolled, not ranked).
        """
        built = match_expression(query)
        if built is None or limit <= 0:
            return []
        match, keys = built
        found: list[Any] = []  # census table rows; patient_id first
        seen: set[str] = set()
        tiers = (
            (match, keys),  # exact hits
            ("{ident name} : (" + match + ")", None),
            (match, None),
        )
        for tier_match, exact_keys in tiers:
            for row in self._search_tier(tier_match, exact_keys, limit + len(seen)):
                if row[0] not in seen:
                    seen.add(row[0])
                    found.append(row)
            if len(found) >= limit:
                break
        # Rows become CensusRow models only now: validation is the costliest step per row.
        return self._census_rows(found[:limit], _CENSUS_SELECT)

    def _search_tier(self, match: str, exact_keys: list[str] | None, limit: int) -> list[Any]:
        """Census rows (columns _CENSUS_SELECT) for one search tier: MATCH `match` and, if given,
        having one of `exact_keys`."""
        select = ", ".join("c." + c for c in _CENSUS_SELECT)
        where = "search_index MATCH ?"
        params: list[Any] = [match]
        if exact_keys is not None:
            in_keys = f"key IN ({', '.join('?' for _ in exact_keys)})"
            if not self._query(f"SELECT 1 FROM search_exact WHERE {in_keys} LIMIT 1", exact_keys):
                return []
            # The unary + stops SQLite from handing the IN list to FTS5 as rowid constraints:
            # FTS5 would then re-run the whole MATCH once per listed row (100x slower).
            where += f" AND +s.rowid IN (SELECT row_id FROM search_exact WHERE {in_keys})"
            params.extend(exact_keys)
        ((broad,),) = self._query(
            f"SELECT count(*) > ? FROM (SELECT s.rowid FROM search_index s WHERE {where} LIMIT ?)",
            [RANKED_MAX, *params, RANKED_MAX + 1],
        )
        order = "c.sort_key, c.patient_id" if broad else f"bm25(search_index, {_BM25_WEIGHTS})"
        rows = self._query(
            f"SELECT {select} FROM search_index s JOIN census c ON c.row_id = s.rowid "
            f"WHERE {where} ORDER BY {order}, c.sort_key LIMIT ?",
            [*params, limit],
        )
        return rows

    def record(self, patient_id: str) -> PatientRecord | None:
        """The full record of one patient, or None if the snapshot has no such patient."""
        rows = self._query("SELECT codec, record FROM records WHERE patient_id = ?", [patient_id])
        if not rows:
            return None
        codec, blob = rows[0]
        try:
            return decode_record(codec, blob, self._zdict)
        except SnapshotError as exc:
            raise SnapshotError(f"snapshot {self.path} (patient {patient_id!r}): {exc}") from None

    def record_json(self, patient_id: str) -> bytes | None:
        """The stored PatientRecord.to_json() bytes of one patient (no validation), or None."""
        rows = self._query("SELECT codec, record FROM records WHERE patient_id = ?", [patient_id])
        if not rows:
            return None
        try:
            return decode_json(rows[0][0], rows[0][1], self._zdict)
        except SnapshotError as exc:
            raise SnapshotError(f"snapshot {self.path} (patient {patient_id!r}): {exc}") from None

    def patient_ids(self) -> list[str]:
        """Every patient id in the snapshot, in census order."""
        return [pid for (pid,) in self._query("SELECT patient_id FROM census ORDER BY sort_key")]

    def iter_records(self) -> Iterator[PatientRecord]:
        """Every record, in patient id order (loads one batch at a time)."""
        last = ""
        while True:
            rows = self._query(
                "SELECT patient_id, codec, record FROM records WHERE patient_id > ? "
                "ORDER BY patient_id LIMIT 200",
                [last],
            )
            if not rows:
                return
            for patient_id, codec, blob in rows:
                yield decode_record(codec, blob, self._zdict)
                last = patient_id

    def integrity_problems(self, *, decode_records: bool = True) -> list[str]:
        """Every problem found by SQLCipher's page HMAC check (PRAGMA cipher_integrity_check),
        SQLite's PRAGMA quick_check, and consistency checks between meta, census and records.
        With `decode_records` (the default, used by `wardcopy verify`) also decodes every stored
        record, which costs about 0.5 s per 1,000 patients; `receive` skips that step because the
        signed payload hash and the page HMACs already prove the bytes are the ones the sync
        server wrote. An empty list means the snapshot is sound. Never raises for a damaged file
        (reports it)."""
        problems: list[str] = []
        try:
            size = self.path.stat().st_size
        except OSError as exc:
            return [f"cannot read {self.path}: {exc.strerror}"]
        if size % PAGE_SIZE:
            problems.append(f"file size {size} is not a whole number of {PAGE_SIZE}-byte pages")
        checks = (
            ("PRAGMA cipher_integrity_check", None),
            ("PRAGMA quick_check", "ok"),
        )
        for sql, fine in checks:
            try:
                for (message,) in self._query(sql):
                    if message != fine:
                        problems.append(f"{sql.split()[1]}: {message}")
            except SnapshotError as exc:
                problems.append(f"{sql.split()[1]} failed: {exc.reason}")
        try:
            ((pages,),) = self._query("PRAGMA page_count")
            if pages * PAGE_SIZE > size:
                problems.append(f"file holds {size} bytes but the database has {pages} pages")
            ((census,),) = self._query("SELECT count(*) FROM census")
            ((records,),) = self._query("SELECT count(*) FROM records")
            expected = self.meta.counts.get("patients")
            if census != records:
                problems.append(f"census has {census} rows but records has {records}")
            if expected is not None and expected != records:
                problems.append(f"meta says {expected} patients but records has {records}")
            orphans = self._query(
                "SELECT count(*) FROM census c LEFT JOIN records r USING (patient_id) "
                "WHERE r.patient_id IS NULL"
            )
            if orphans[0][0]:
                problems.append(f"{orphans[0][0]} census rows have no record")
        except SnapshotError as exc:
            problems.append(f"consistency check failed: {exc.reason}")
        if decode_records:
            problems.extend(self._record_problems())
        return problems

    def _record_problems(self, report_max: int = 20) -> list[str]:
        """Decode every stored record (decompress, parse JSON): catches what page checks cannot,
        e.g. a record written damaged. Reports at most `report_max` records by patient id."""
        problems: list[str] = []
        damaged = 0
        last = -1
        while True:
            try:
                rows = self._query(
                    "SELECT row_id, patient_id, codec, record FROM records WHERE row_id > ? "
                    "ORDER BY row_id LIMIT 500",
                    [last],
                )
            except SnapshotError as exc:
                problems.append(f"records unreadable: {exc.reason}")
                break
            if not rows:
                break
            for row_id, patient_id, codec, blob in rows:
                last = row_id
                try:
                    parsed = orjson.loads(decode_json(codec, blob, self._zdict))
                    if not isinstance(parsed, dict) or parsed.get("id") != patient_id:
                        raise SnapshotError("record does not belong to its patient id")
                except (SnapshotError, orjson.JSONDecodeError) as exc:
                    damaged += 1
                    if damaged <= report_max:
                        problems.append(f"record of patient {patient_id!r}: {exc}")
        if damaged > report_max:
            problems.append(f"... {damaged - report_max} more damaged records")
        return problems

"""Snapshot writer: builds one snapshot file (`SnapshotWriter`, `write_snapshot`).

The writer writes `PATH.partial` with no rollback journal (journal_mode OFF), so no plaintext
`-journal`/`-wal` file ever exists; temporary tables and sort files stay in memory (temp_store
MEMORY). On any failure the partial file is deleted; a killed writer leaves only an encrypted
`PATH.partial`, which the next writer for PATH removes.
"""

from __future__ import annotations

import contextlib
import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from sqlcipher3 import dbapi2 as sqlcipher

from sync import fsutil, searchtext
from sync.model import MODEL_VERSION, CensusRow, PatientRecord
from sync.snapshot.codec import _ZDICT_ID, _ZDICT_MAX, build_dictionary, encode_record
from sync.snapshot.schema import (
    _SCHEMA_SQL,
    CENSUS_COLUMNS,
    SCHEMA_VERSION,
    Connection,
    SnapshotError,
    SnapshotMeta,
    _check_key,
    _meta_rows,
    census_values,
    connect,
)
from sync.snapshot.search import exact_search_keys, search_columns

_BATCH = 500  # records per executemany batch in the writer, or fewer when they are big:
_BATCH_BYTES = 8 * 1024 * 1024  # real records are 10-100 KB of JSON (counted before
# compression; queued records are held compressed), and a build keeps one writer per ward open
_ZDICT_SAMPLES = 16  # records whose JSON makes a snapshot's zlib preset dictionary
ZDICT_SAMPLES = _ZDICT_SAMPLES  # for sync.incremental, which makes the same dictionary


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
    merged_from: tuple[str, ...] = ()  # Patient ids merged into this one (sync.incremental)
    # When mapping the same resources would give another record or placement with the clock
    # alone (MappingContext.changes_at; None: never). Not stored in the snapshot: the live
    # source re-maps the patient then (sync.incremental). Not compared: not part of the rows.
    changes_at: datetime | None = field(default=None, compare=False)


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
        merged_from=tuple(record.merged_from),
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

    def __init__(
        self,
        path: Path,
        key: bytes,
        meta: SnapshotMeta,
        *,
        durable: bool = True,
        dictionary: bytes | None = None,
        on_encoded: Callable[[str, int, bytes], None] | None = None,
    ) -> None:
        # durable=False: finish() does not flush the file to disk; for snapshots in a build's
        # work folder, which a crash discards anyway and which are sealed (and the package
        # flushed) right after. `dictionary`: the zlib preset dictionary to use instead of one
        # made from the first records (an incremental build keeps a ward's dictionary, so the
        # unchanged records' compressed blobs can be reused; see `add_prepared`). `on_encoded`:
        # called with (patient id, codec, blob) for every record as it is compressed, so a
        # caller can remember the blobs with `dictionary` (sync.incremental).
        self.durable = durable
        self._on_encoded = on_encoded
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
            raise SnapshotError(f"cannot create snapshot {self.partial}: {exc.strerror}") from exc
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
            if dictionary is not None:
                self._zdict = dictionary
                self._conn.execute(
                    "INSERT INTO dictionaries (id, data) VALUES (?, ?)", (_ZDICT_ID, dictionary)
                )
        except sqlcipher.Error as exc:
            self.abort()
            raise SnapshotError(f"cannot create snapshot {self.partial}: {exc}") from exc

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

    def add_prepared(
        self, prepared: PreparedRecord, encoded: tuple[int, bytes] | None = None
    ) -> tuple[int, bytes] | None:
        """Queue a record made ready by `prepare_record` (possibly in another process, or shared
        by several writers: it is not modified). Same effect and errors as `add`. `encoded`:
        the record's (codec, blob) compressed earlier with this writer's preset `dictionary`
        (used as it is; only with a preset dictionary). Returns the (codec, blob) stored when
        the record is already compressed (always with a preset dictionary), else None."""
        if encoded is not None and self._zdict is None:
            raise SnapshotError("a compressed record needs the writer's preset dictionary")
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
            if encoded is None:
                encoded = encode_record(data, self._zdict)
                if self._on_encoded is not None:
                    self._on_encoded(prepared.patient_id, *encoded)
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
        return encoded

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
            if self._on_encoded is not None:
                self._on_encoded(patient_id, *encoded)
            self._encoded.append((row_id, patient_id, *encoded))
            self._held_bytes += len(encoded[1])
        self._samples.clear()
        self._sample_bytes = 0

    @property
    def dictionary(self) -> bytes | None:
        """The zlib preset dictionary the records are compressed with (None until made)."""
        return self._zdict

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
            raise SnapshotError(f"cannot write snapshot {self.partial}: {exc}") from exc

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
            raise SnapshotError(f"cannot write snapshot {self.partial}: {exc}") from exc
        self._census.clear()
        self._encoded.clear()
        self._pending_bytes = 0
        self._held_bytes = 0
        self._search.clear()
        self._exact.clear()

    def finish(self) -> Path:
        """Write the remaining records, the search index and the meta table (with counts), fsync
        (unless not `durable`), rename PATH.partial to PATH atomically (replacing an existing
        PATH) and fsync the folder (unless not `durable`).

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
            if self.durable:
                fsutil.fsync_file(self.partial)
            os.replace(self.partial, self.path)
            if self.durable:
                fsutil.fsync_dir(self.path.parent)
        except (sqlcipher.Error, OSError) as exc:
            self.abort()
            raise SnapshotError(f"cannot finish snapshot {self.path}: {exc}") from exc
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

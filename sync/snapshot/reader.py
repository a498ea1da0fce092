"""Snapshot reader: read-only access to one snapshot (`SnapshotReader`), for the laptop."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import orjson
from pydantic import ValidationError
from sqlcipher3 import dbapi2 as sqlcipher

from sync.model import CensusRow, PatientRecord
from sync.snapshot.codec import _ZDICT_ID, decode_json, decode_record
from sync.snapshot.schema import (
    _CENSUS_SELECT,
    _REQUIRED_TABLES,
    CENSUS_COLUMNS,
    PAGE_SIZE,
    SCHEMA_VERSION,
    Connection,
    SnapshotError,
    SnapshotMeta,
    census_from_values,
    connect,
)
from sync.snapshot.search import _BM25_WEIGHTS, RANKED_MAX, match_expression


class SnapshotReader:
    """Read-only access to one snapshot. Thread-safe (one lock around the connection).

    Raises SnapshotError when the file cannot be opened (wrong key, damaged, truncated), has an
    unsupported schema version, or a query fails because the file is damaged.
    """

    def __init__(self, path: Path, key: bytes) -> None:
        self.path = Path(path)
        self._key = key  # for `reopen`: a second connection to the same file
        self._lock = threading.Lock()
        self._conn: Connection | None = connect(self.path, key, readonly=True)
        try:
            self.meta = self._read_meta()
            rows = self._query("SELECT data FROM dictionaries WHERE id = ?", [_ZDICT_ID])
            self._zdict: bytes | None = bytes(rows[0][0]) if rows else None
        except BaseException:
            self.close()
            raise

    def reopen(self) -> SnapshotReader:
        """A second, independent reader of the same file (its own connection and lock), for
        background work that must neither wait for this reader's users nor end when they close
        it. Raises SnapshotError as the constructor does."""
        return SnapshotReader(self.path, self._key)

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
                ) from exc

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

    def search_count(self, query: str) -> int:
        """How many patients `search(query)` would find without its limit (the broadest tier
        holds every hit of the others): so that a list of the first hits can say how many
        there are. 0 for an empty query."""
        built = match_expression(query)
        if built is None:
            return 0
        ((count,),) = self._query(
            "SELECT count(*) FROM search_index WHERE search_index MATCH ?", [built[0]]
        )
        return int(count)

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

    def iter_record_json(
        self, after: str = "", batch: int = 200
    ) -> Iterator[tuple[str, bytes | None]]:
        """(patient id, stored PatientRecord.to_json() bytes) of every record with an id after
        `after`, in patient id order, without validation; one query per `batch` records (the
        lock is not held between them). The bytes are None for a record whose stored blob
        cannot be decoded (damaged; `wardcopy verify` names it): the others still come.
        Raises SnapshotError when a query fails."""
        last = after
        while True:
            rows = self._query(
                "SELECT patient_id, codec, record FROM records WHERE patient_id > ? "
                "ORDER BY patient_id LIMIT ?",
                [last, batch],
            )
            if not rows:
                return
            for patient_id, codec, blob in rows:
                last = patient_id
                try:
                    data: bytes | None = decode_json(codec, blob, self._zdict)
                except SnapshotError:
                    data = None
                yield patient_id, data

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

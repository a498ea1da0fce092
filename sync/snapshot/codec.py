"""Record codec: how a PatientRecord is stored in the records table (zlib, preset dictionary).

Pure functions, no I/O.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import orjson
from pydantic import ValidationError

from sync.model import PatientRecord
from sync.snapshot.schema import SnapshotError

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

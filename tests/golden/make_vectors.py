"""Regenerate the package-format test vectors in this folder (docs/package-format.md §10).

Run only when the format changes on purpose (then bump the format version):
    .venv/bin/python tests/golden/make_vectors.py
The package file is randomised by HPKE, so regenerating it changes its hash; the document is
deterministic.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

from sync import keys, package

HERE = Path(__file__).resolve().parent
SIGNING_SEED = bytes(range(32))
DEVICE_PRIVATE = bytes(range(32, 64))
DB_KEY = bytes(range(64, 96))
PAYLOAD = bytes(range(64))
WARD = "golden-ward"
SEQUENCE = 7
DATA_AS_OF = datetime(2026, 11, 30, 0, 58, 12, tzinfo=UTC)
CREATED_AT = datetime(2026, 11, 30, 1, 0, 0, tzinfo=UTC)
DOC_BODY = b'{"users":[]}'
DOC_SEQUENCE = 3

NONCANONICAL = [
    ("whitespace", '{"a": 1}'),
    ("unsorted keys", '{"b":1,"a":2}'),
    ("duplicate key", '{"a":1,"a":2}'),
    ("float", '{"a":1.0}'),
    ("exponent", '{"a":1e3}'),
    ("leading zero", '{"a":01}'),
    ("negative", '{"a":-1}'),
    ("true", '{"a":true}'),
    ("null", '{"a":null}'),
    ("escaped slash", '{"a":"\\/"}'),
    ("escaped ascii", '{"a":"\\u0041"}'),
    ("uppercase hex escape", '{"a":"\\u001F"}'),
    ("escaped non-ascii", '{"a":"\\u00e4"}'),
    ("lone surrogate", '{"a":"\\ud800"}'),
    ("trailing newline", '{"a":1}\n'),
    ("uppercase key", '{"A":1}'),
    ("too large integer", '{"a":9007199254740992}'),
    ("NaN", '{"a":NaN}'),
]


def main() -> None:
    signing = keys.signing_key_from_seed(SIGNING_SEED)
    device_key = keys.private_device_key_from_raw(DEVICE_PRIVATE)
    did = keys.device_id(device_key.public_key())
    data = package.seal_package_bytes(
        PAYLOAD,
        db_key=DB_KEY,
        ward=WARD,
        sequence=SEQUENCE,
        data_as_of=DATA_AS_OF,
        counts={"patients": 2},
        recipients=[package.RecipientKey(did, device_key.public_key())],
        signing_key=signing,
        created_at=CREATED_AT,
    )
    (HERE / "package-v1.wcpkg").write_bytes(data)
    (HERE / "payload.bin").write_bytes(PAYLOAD)
    doc = package.seal_document(
        "roster", DOC_BODY, signing, sequence=DOC_SEQUENCE, created_at=CREATED_AT
    )
    (HERE / "document-v1.wcdoc").write_bytes(doc)
    header = package.verify_package_bytes(data, signing.public_key())
    vectors = {
        "signing_seed_hex": SIGNING_SEED.hex(),
        "signing_public": keys.signing_public_key_text(signing.public_key()),
        "key_id": keys.key_id(signing.public_key()),
        "device_private_hex": DEVICE_PRIVATE.hex(),
        "device_id": did,
        "enrolment_code": keys.enrolment_code(device_key.public_key()),
        "db_key_hex": DB_KEY.hex(),
        "ward": WARD,
        "sequence": SEQUENCE,
        "payload_sha256": hashlib.sha256(PAYLOAD).hexdigest(),
        "package_sha256": hashlib.sha256(data).hexdigest(),
        "package_size": len(data),
        "manifest": header.header[len(package.MAGIC) + 4 :].decode("utf-8"),
        "document_body": DOC_BODY.decode(),
        "document_sequence": DOC_SEQUENCE,
        "document_created_at": package.format_timestamp(CREATED_AT),
        "document_sha256": hashlib.sha256(doc).hexdigest(),
    }
    (HERE / "vectors.json").write_text(json.dumps(vectors, indent=2) + "\n", encoding="utf-8")
    cases = [{"why": why, "text": text} for why, text in NONCANONICAL]
    (HERE / "manifest-noncanonical.json").write_text(
        json.dumps(cases, indent=2, ensure_ascii=True) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()

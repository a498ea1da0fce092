"""sync.package: the package format rejects every altered, truncated, foreign or non-canonical
file, and the golden vectors match the spec (docs/package-format.md)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import struct
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from sync import keys, package
from sync.package import MAGIC, PackageError, RecipientKey

GOLDEN = Path(__file__).resolve().parent / "golden"
VECTORS = json.loads((GOLDEN / "vectors.json").read_text(encoding="utf-8"))
NOW = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)

SIGNER = keys.signing_key_from_seed(bytes(range(100, 132)))
DEVICE = keys.private_device_key_from_raw(bytes(range(140, 172)))
DEVICE_ID = keys.device_id(DEVICE.public_key())
DB_KEY = bytes(range(200, 232))


def seal(payload: bytes = b"P" * 40, ward: str = "w1", sequence: int = 5, **kw: object) -> bytes:
    return package.seal_package_bytes(
        payload,
        db_key=DB_KEY,
        ward=ward,
        sequence=sequence,
        data_as_of=NOW,
        counts={"patients": 1},
        recipients=[RecipientKey(DEVICE_ID, DEVICE.public_key())],
        signing_key=SIGNER,
        created_at=NOW,
        **kw,  # type: ignore[arg-type]
    )


SMALL = seal()
HEADER_LEN = package.verify_package_bytes(SMALL, SIGNER.public_key()).payload_offset


def test_roundtrip_recovers_manifest_and_key() -> None:
    header = package.verify_package_bytes(SMALL, SIGNER.public_key())
    m = header.manifest
    assert (m.ward, m.sequence, m.kind, m.data_as_of) == ("w1", 5, "full", NOW)
    assert m.payload.size == 40
    assert package.unwrap_db_key(m, DEVICE) == DB_KEY
    assert SMALL.startswith(b"wardcopy-package/1\n")


def test_every_flipped_byte_of_header_manifest_signature_is_rejected() -> None:
    """Exhaustive over the authenticated front of a small package, all 8 bits of each byte."""
    for pos in range(HEADER_LEN):
        for bit in range(8):
            data = bytearray(SMALL)
            data[pos] ^= 1 << bit
            with pytest.raises(PackageError):
                package.verify_package_bytes(bytes(data), SIGNER.public_key())


@given(st.data())
@settings(max_examples=300, deadline=None)
def test_any_flipped_byte_anywhere_is_rejected(data: st.DataObject) -> None:
    payload = data.draw(st.binary(min_size=1, max_size=300))
    pkg = bytearray(seal(payload))
    pos = data.draw(st.integers(0, len(pkg) - 1))
    pkg[pos] ^= data.draw(st.integers(1, 255))
    with pytest.raises(PackageError):
        package.verify_package_bytes(bytes(pkg), SIGNER.public_key())


def test_truncated_at_any_length_is_rejected() -> None:
    for cut in range(len(SMALL)):
        with pytest.raises(PackageError) as err:
            package.verify_package_bytes(SMALL[:cut], SIGNER.public_key())
        assert err.value.reason in ("truncated", "payload-size", "not-package"), cut


def test_appended_bytes_are_rejected() -> None:
    with pytest.raises(PackageError) as err:
        package.verify_package_bytes(SMALL + b"\0", SIGNER.public_key())
    assert err.value.reason == "payload-size"


def test_other_signing_key_is_rejected() -> None:
    other = keys.generate_signing_key()
    with pytest.raises(PackageError) as err:
        package.verify_package_bytes(SMALL, other.public_key())
    assert err.value.reason == "signature"


def test_unknown_version_is_named() -> None:
    data = SMALL.replace(b"wardcopy-package/1\n", b"wardcopy-package/2\n", 1)
    with pytest.raises(PackageError) as err:
        package.verify_package_bytes(data, SIGNER.public_key())
    assert err.value.reason == "version"
    assert "'2'" in str(err.value)
    with pytest.raises(PackageError) as err:
        package.verify_package_bytes(b"PK\x03\x04" + SMALL, SIGNER.public_key())
    assert err.value.reason == "not-package"


def resign(manifest_obj: dict[str, Any] | bytes, payload: bytes = b"P" * 40) -> bytes:
    """A package whose (possibly invalid) manifest is properly signed: tests the schema layer."""
    body = (
        manifest_obj if isinstance(manifest_obj, bytes) else package.canonical_dumps(manifest_obj)
    )
    header = MAGIC + struct.pack(">I", len(body)) + body
    return header + keys.sign(SIGNER, header) + payload


def good_obj() -> dict[str, Any]:
    header = package.verify_package_bytes(SMALL, SIGNER.public_key())
    return header.manifest.to_json_obj()


def test_resign_helper_accepts_the_unmodified_manifest() -> None:
    package.verify_package_bytes(resign(good_obj()), SIGNER.public_key())


@pytest.mark.parametrize(
    "mutate",
    [
        lambda o: o.update(format=2),
        lambda o: o.update(kind="partial"),
        lambda o: o.update(extra="x"),
        lambda o: o.pop("ward"),
        lambda o: o.update(ward="../etc"),
        lambda o: o.update(sequence=0),
        lambda o: o.update(sequence="5"),
        lambda o: o.update(data_as_of="2026-11-30T01:00:00+01:00"),
        lambda o: o.update(data_as_of="2026-02-30T01:00:00Z"),
        lambda o: o.update(signer="0" * 32),
        lambda o: o.update(crit=["future"], ext={"future": 1}),
        lambda o: o.update(crit=["x"]),
        lambda o: o.update(ext={}),
        lambda o: o.update(delta={"base_sequence": 1, "upserted": 0, "removed": 0}),
        lambda o: o["payload"].update(cipher="none"),
        lambda o: o["payload"].update(sha256="A" * 64),
        lambda o: o["recipients"].append(dict(o["recipients"][0])),
        lambda o: o["recipients"][0].update(enc=o["recipients"][0]["enc"] + "A"),
        lambda o: o["recipients"][0].update(device_id="XYZ"),
        lambda o: o["counts"].update(patients="1"),
    ],
)
def test_schema_violations_are_rejected_even_when_signed(mutate: Any) -> None:
    obj = good_obj()
    mutate(obj)
    with pytest.raises(PackageError) as err:
        package.verify_package_bytes(resign(obj), SIGNER.public_key())
    assert err.value.reason in ("manifest", "version", "kind", "signer")


def test_noncanonical_manifest_is_rejected_even_when_signed() -> None:
    canonical = package.canonical_dumps(good_obj())
    pretty = json.dumps(json.loads(canonical), indent=1, sort_keys=True).encode()
    with pytest.raises(PackageError) as err:
        package.verify_package_bytes(resign(pretty), SIGNER.public_key())
    assert err.value.reason == "manifest"


def test_delta_manifest_parses_with_its_fields() -> None:
    data = seal(kind="delta", delta=package.Delta(base_sequence=4, upserted=2, removed=1))
    m = package.verify_package_bytes(data, SIGNER.public_key()).manifest
    assert m.kind == "delta" and m.delta == package.Delta(4, 2, 1)
    obj = m.to_json_obj()
    obj["delta"]["base_sequence"] = 5
    with pytest.raises(PackageError):
        package.verify_package_bytes(resign(obj), SIGNER.public_key())


def test_wrapped_key_replayed_into_another_package_does_not_open() -> None:
    """Copy the recipient entry of package (w1, 5) into a validly signed package (w1, 6)."""
    first = package.verify_package_bytes(seal(sequence=5), SIGNER.public_key()).manifest
    obj = package.verify_package_bytes(seal(sequence=6), SIGNER.public_key()).manifest.to_json_obj()
    obj["recipients"] = first.to_json_obj()["recipients"]
    m = package.verify_package_bytes(resign(obj), SIGNER.public_key()).manifest
    with pytest.raises(PackageError) as err:
        package.unwrap_db_key(m, DEVICE)
    assert err.value.reason == "unwrap"


def test_not_enrolled_names_device() -> None:
    other = keys.generate_device_key()
    m = package.verify_package_bytes(SMALL, SIGNER.public_key()).manifest
    with pytest.raises(PackageError) as err:
        package.unwrap_db_key(m, other)
    assert err.value.reason == "not-enrolled"
    assert keys.device_id(other.public_key()) in str(err.value)


@given(st.binary(max_size=400))
@settings(max_examples=500, deadline=None)
def test_random_bytes_only_ever_raise_package_error(blob: bytes) -> None:
    for data in (blob, MAGIC + blob, SMALL[:HEADER_LEN] + blob, SMALL[: len(MAGIC) + 4] + blob):
        with contextlib.suppress(PackageError):
            package.verify_package_bytes(data, SIGNER.public_key())
        with contextlib.suppress(PackageError):
            package.open_document(data, SIGNER.public_key(), "roster")


@given(st.binary(max_size=200))
@settings(max_examples=300, deadline=None)
def test_canonical_loads_only_raises_package_error(blob: bytes) -> None:
    try:
        value = package.canonical_loads(blob)
    except PackageError:
        return
    assert package.canonical_dumps(value) == blob  # accepted => it was canonical


canonical_values = st.recursive(
    st.integers(0, 2**53 - 1) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), inner, max_size=4)
    ),
    max_leaves=10,
)


@given(canonical_values)
@settings(deadline=None)
def test_canonical_json_roundtrips(value: object) -> None:
    try:
        encoded = package.canonical_dumps(value)
    except ValueError:
        return  # lone surrogates in generated text
    assert package.canonical_loads(encoded) == value


@pytest.mark.parametrize(
    "case",
    json.loads((GOLDEN / "manifest-noncanonical.json").read_text(encoding="utf-8")),
    ids=lambda c: c["why"],
)
def test_noncanonical_vectors_are_rejected(case: dict[str, str]) -> None:
    with pytest.raises(PackageError):
        package.canonical_loads(case["text"].encode("utf-8", "surrogatepass"))


# --- signed documents ---------------------------------------------------------------------------


def test_document_roundtrip_and_kind_binding() -> None:
    doc = package.seal_document("roster", b"hello", SIGNER, sequence=9, created_at=NOW)
    parsed = package.parse_document(doc, SIGNER.public_key(), "roster")
    assert (parsed.body, parsed.sequence, parsed.kind) == (b"hello", 9, "roster")
    assert package.open_document(doc, SIGNER.public_key(), "roster") == b"hello"
    with pytest.raises(PackageError) as err:
        package.open_document(doc, SIGNER.public_key(), "key-rotation")
    assert err.value.reason == "document-kind"
    with pytest.raises(PackageError) as err:
        package.open_document(doc, keys.generate_signing_key().public_key(), "roster")
    assert err.value.reason == "signature"
    with pytest.raises(PackageError):  # a package is never a document
        package.open_document(SMALL, SIGNER.public_key(), "roster")


def test_every_flipped_byte_of_a_document_is_rejected() -> None:
    doc = package.seal_document("roster", b"body!", SIGNER, sequence=1, created_at=NOW)
    for pos in range(len(doc)):
        data = bytearray(doc)
        data[pos] ^= 0x01
        with pytest.raises(PackageError):
            package.open_document(bytes(data), SIGNER.public_key(), "roster")
    for cut in range(len(doc)):
        with pytest.raises(PackageError):
            package.open_document(doc[:cut], SIGNER.public_key(), "roster")


# --- golden vectors -----------------------------------------------------------------------------


def test_golden_files_are_unchanged() -> None:
    data = (GOLDEN / "package-v1.wcpkg").read_bytes()
    assert hashlib.sha256(data).hexdigest() == VECTORS["package_sha256"]
    assert len(data) == VECTORS["package_size"]
    doc = (GOLDEN / "document-v1.wcdoc").read_bytes()
    assert hashlib.sha256(doc).hexdigest() == VECTORS["document_sha256"]


def test_golden_package_is_accepted_and_key_recovered() -> None:
    data = (GOLDEN / "package-v1.wcpkg").read_bytes()
    signing = keys.signing_key_from_seed(bytes.fromhex(VECTORS["signing_seed_hex"]))
    assert keys.signing_public_key_text(signing.public_key()) == VECTORS["signing_public"]
    assert keys.key_id(signing.public_key()) == VECTORS["key_id"]
    header = package.verify_package_bytes(data, VECTORS["signing_public"])
    device_key = keys.private_device_key_from_raw(bytes.fromhex(VECTORS["device_private_hex"]))
    assert keys.device_id(device_key.public_key()) == VECTORS["device_id"]
    assert keys.enrolment_code(device_key.public_key()) == VECTORS["enrolment_code"]
    assert package.unwrap_db_key(header.manifest, device_key).hex() == VECTORS["db_key_hex"]
    assert data[header.payload_offset :] == (GOLDEN / "payload.bin").read_bytes()
    # Ed25519 is deterministic: re-signing the header reproduces the stored signature.
    assert keys.sign(signing, header.header) == header.signature


def test_golden_package_by_independent_reading_of_the_spec() -> None:
    """Frame, verify and unwrap with raw primitives, following the spec text only."""
    data = (GOLDEN / "package-v1.wcpkg").read_bytes()
    assert data[:19] == b"wardcopy-package/1\n"
    (length,) = struct.unpack(">I", data[19:23])
    manifest_bytes = data[23 : 23 + length]
    signature = data[23 + length : 23 + length + 64]
    payload = data[23 + length + 64 :]
    public = Ed25519PublicKey.from_public_bytes(keys.b64url_decode(VECTORS["signing_public"]))
    public.verify(signature, data[: 23 + length])  # raises if invalid
    assert manifest_bytes.decode() == VECTORS["manifest"]
    m = json.loads(manifest_bytes)
    assert hashlib.sha256(payload).hexdigest() == m["payload"]["sha256"]
    r = m["recipients"][0]
    info = (
        b"wardcopy-package/1 key\n"
        + f"{m['ward']}\n{m['sequence']}\n{m['payload']['sha256']}\n{r['device_id']}".encode()
    )
    suite = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
    device_key = keys.private_device_key_from_raw(bytes.fromhex(VECTORS["device_private_hex"]))
    sealed = keys.b64url_decode(r["enc"]) + keys.b64url_decode(r["ct"])
    assert suite.decrypt(sealed, device_key, info=info).hex() == VECTORS["db_key_hex"]
    raw_signer = keys.b64url_decode(VECTORS["signing_public"])
    assert hashlib.sha256(raw_signer).digest()[:16].hex() == m["signer"]


def test_golden_document_is_reproduced_byte_for_byte() -> None:
    signing = keys.signing_key_from_seed(bytes.fromhex(VECTORS["signing_seed_hex"]))
    doc = package.seal_document(
        "roster",
        VECTORS["document_body"].encode(),
        signing,
        sequence=VECTORS["document_sequence"],
        created_at=package.parse_timestamp(VECTORS["document_created_at"]),
    )
    assert doc == (GOLDEN / "document-v1.wcdoc").read_bytes()
    assert package.open_document(doc, VECTORS["signing_public"], "roster") == b'{"users":[]}'

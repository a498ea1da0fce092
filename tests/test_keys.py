"""sync.keys and sync.device: key files, enrolment codes, HPKE wrapping, password verifiers,
device key storage and the server-key pin."""

from __future__ import annotations

import contextlib
import stat
from pathlib import Path

import keyring
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from keyring.backend import KeyringBackend

from sync import device, keys
from sync.keys import ARGON2_TEST, EnrolmentCodeError, KeysError
from sync.verifier import PasswordVerifier, hash_password

DEVICE = keys.private_device_key_from_raw(bytes(range(1, 33)))
CODE = keys.enrolment_code(DEVICE.public_key())


def test_signing_key_file_is_private_and_never_overwritten(tmp_path: Path) -> None:
    key, path = keys.init_signing_key(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = keys.load_signing_key(path)
    assert keys.key_id(loaded.public_key()) == keys.key_id(key.public_key())
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    pub_text = (tmp_path / "keys" / "signing.pub").read_text()
    assert keys.key_id(keys.parse_signing_public_key(pub_text)) == keys.key_id(key.public_key())
    before = path.read_bytes()
    with pytest.raises(KeysError, match="refusing to overwrite"):
        keys.init_signing_key(tmp_path)
    with pytest.raises(KeysError, match="refusing to overwrite"):
        keys.save_signing_key(keys.generate_signing_key(), path)
    assert path.read_bytes() == before


def test_load_signing_key_errors_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(KeysError, match="keys init"):
        keys.load_signing_key(tmp_path / "missing.key")
    bad = tmp_path / "bad.key"
    bad.write_text("not a key")
    with pytest.raises(KeysError, match="not a PEM"):
        keys.load_signing_key(bad)


def test_public_key_parsing_accepts_base64_and_pem_only() -> None:
    key = keys.signing_key_from_seed(bytes(32))
    text = keys.signing_public_key_text(key.public_key())
    assert len(text) == 43
    from cryptography.hazmat.primitives import serialization

    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for form in (text, text + "\n", pem, pem.decode()):
        assert keys.key_id(keys.parse_signing_public_key(form)) == keys.key_id(key.public_key())
    for bad in ("", "abc", text[:-1], "x" * 43, b"\xff\xfe"):
        with pytest.raises(KeysError):
            keys.parse_signing_public_key(bad)
    assert len(keys.key_id(key.public_key())) == 32
    assert len(keys.fingerprint(key.public_key()).replace(" ", "")) == 16


def test_enrolment_code_roundtrip_and_forgiving_input() -> None:
    assert CODE.startswith("WCD1-") and len(CODE.split("-")) == 15
    want = keys.raw_public(DEVICE.public_key())
    for form in (CODE, CODE.lower(), CODE.replace("-", ""), " ".join(CODE.split("-"))):
        assert keys.raw_public(keys.parse_enrolment_code(form)) == want
    assert keys.raw_public(keys.parse_enrolment_code(CODE.replace("0", "O"))) == want
    assert keys.raw_public(keys.parse_enrolment_code(CODE.replace("1", "l"))) == want


@given(st.integers(5, len(CODE) - 1), st.sampled_from("0123456789ABCDEFGHJKMNPQRSTVWXYZ"))
@settings(max_examples=300, deadline=None)
def test_any_single_typo_in_an_enrolment_code_is_caught(pos: int, ch: str) -> None:
    if CODE[pos] == "-" or CODE[pos] == ch:
        return
    typo = CODE[:pos] + ch + CODE[pos + 1 :]
    with pytest.raises(EnrolmentCodeError, match=r"checksum|low-order"):
        keys.parse_enrolment_code(typo)


def test_enrolment_code_errors_are_specific() -> None:
    with pytest.raises(EnrolmentCodeError, match="start with WCD1"):
        keys.parse_enrolment_code("ABCD-" + CODE[5:])
    with pytest.raises(EnrolmentCodeError, match="version"):
        keys.parse_enrolment_code("WCD2-" + CODE[5:])
    with pytest.raises(EnrolmentCodeError, match="missing or doubled"):
        keys.parse_enrolment_code(CODE[:-1])
    with pytest.raises(EnrolmentCodeError, match="missing or doubled"):
        keys.parse_enrolment_code(CODE + "7")
    with pytest.raises(EnrolmentCodeError, match="character 3"):
        keys.parse_enrolment_code("WCD1-AB*D" + CODE[9:])
    # two neighbouring characters swapped (the commonest typing error)
    i = next(
        i for i in range(5, len(CODE) - 1) if "-" not in CODE[i : i + 2] and CODE[i] != CODE[i + 1]
    )
    swapped = CODE[:i] + CODE[i + 1] + CODE[i] + CODE[i + 2 :]
    with pytest.raises(EnrolmentCodeError, match="checksum"):
        keys.parse_enrolment_code(swapped)


@given(st.text(max_size=80))
@settings(deadline=None)
def test_enrolment_code_parser_raises_only_its_error(text: str) -> None:
    with contextlib.suppress(EnrolmentCodeError):
        keys.parse_enrolment_code(text)


def test_low_order_device_key_is_rejected() -> None:
    with pytest.raises(KeysError, match="low-order"):
        keys.public_device_key_from_raw(bytes(32))


def test_hpke_wrap_binds_key_recipient_and_info() -> None:
    db_key = bytes(range(32))
    enc, ct = keys.wrap_key(db_key, DEVICE.public_key(), b"info-a")
    assert (len(enc), len(ct)) == (32, 48)
    assert keys.unwrap_key(enc, ct, DEVICE, b"info-a") == db_key
    with pytest.raises(KeysError):
        keys.unwrap_key(enc, ct, DEVICE, b"info-b")
    with pytest.raises(KeysError):
        keys.unwrap_key(enc, ct, keys.generate_device_key(), b"info-a")
    flipped = bytes([ct[0] ^ 1]) + ct[1:]
    with pytest.raises(KeysError):
        keys.unwrap_key(enc, flipped, DEVICE, b"info-a")
    assert keys.wrap_key(db_key, DEVICE.public_key(), b"info-a") != (enc, ct)  # fresh each time


def test_b64url_is_strict() -> None:
    assert keys.b64url_decode(keys.b64url_encode(b"\xff\xfe")) == b"\xff\xfe"
    for bad in ("//4", "__4=", "_-5", " _-4", "_-4\n"):
        with pytest.raises(ValueError):
            keys.b64url_decode(bad)


def test_password_verifier() -> None:
    v = hash_password("Richtig Pferd Batterie", ARGON2_TEST)
    assert v.alg == "argon2id"
    assert keys.verify_password("Richtig Pferd Batterie", v)
    assert not keys.verify_password("richtig Pferd Batterie", v)
    assert not keys.verify_password("", v)
    again = hash_password("Richtig Pferd Batterie", ARGON2_TEST)
    assert again.salt != v.salt and again.hash != v.hash
    assert PasswordVerifier.model_validate_json(v.model_dump_json()) == v
    broken = v.model_copy(update={"hash": "!!"})
    assert not keys.verify_password("Richtig Pferd Batterie", broken)


def test_a_check_started_early_counts_only_for_exactly_its_inputs() -> None:
    v = hash_password("Richtig Pferd Batterie", ARGON2_TEST)
    early = keys.PasswordCheck("Richtig Pferd Batterie", v)
    assert keys.verify_password("Richtig Pferd Batterie", v, precomputed=early)
    # Another password, or another verifier, is computed afresh: the early result never decides.
    assert not keys.verify_password("richtig Pferd Batterie", v, precomputed=early)
    other = hash_password("Richtig Pferd Batterie", ARGON2_TEST)
    wrong_early = keys.PasswordCheck("something else entirely", other)
    assert keys.verify_password("Richtig Pferd Batterie", other, precomputed=wrong_early)
    # The verifier's hash decides, not the early check: a check of the right password against
    # a verifier with the same salt and cost but another hash still says no.
    forged = v.model_copy(update={"hash": keys.b64url_encode(bytes(32))})
    assert not keys.verify_password("Richtig Pferd Batterie", forged, precomputed=early)


def test_a_never_matching_verifier_costs_the_work_and_refuses() -> None:
    dummy = keys.never_matching_verifier(ARGON2_TEST)
    assert (dummy.time_cost, dummy.memory_cost, dummy.lanes) == (1, 64, 1)
    assert not keys.verify_password("", dummy)
    assert not keys.verify_password("Richtig Pferd Batterie", dummy)
    assert keys.never_matching_verifier(ARGON2_TEST).salt != dummy.salt


def test_absurd_verifier_costs_are_refused_not_computed() -> None:
    v = hash_password("Richtig Pferd Batterie", ARGON2_TEST)
    for field, value in (("memory_cost", keys.MAX_MEMORY_KIB * 2), ("time_cost", 0), ("lanes", 99)):
        absurd = keys.Verifier(**{**v.model_dump(exclude={"alg"}), field: value})
        assert not keys.verify_password("Richtig Pferd Batterie", absurd)
        assert not keys.verify_password(
            "Richtig Pferd Batterie", absurd, precomputed=keys.PasswordCheck("x", absurd)
        )


def test_default_argon2_cost_is_substantial() -> None:
    assert keys.ARGON2_DEFAULT.memory_cost_kib >= 19 * 1024
    assert keys.ARGON2_DEFAULT.time_cost >= 2


# --- device -------------------------------------------------------------------------------------


def test_device_init_file_storage(tmp_path: Path) -> None:
    home = tmp_path / "home"
    init = device.init_device(home, use_keyring=False)
    assert init.identity.storage == "file"
    assert any("no usable OS keyring" in w for w in init.warnings)
    key_file = home / "device" / "device.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((home / "device").stat().st_mode) == 0o700
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    private = device.load_device_key(home)
    assert keys.device_id(private.public_key()) == init.identity.device_id
    assert device.load_identity(home).enrolment_code == init.identity.enrolment_code
    # the public file does not contain the private key
    assert (
        keys.b64url_encode(key_file.read_bytes())
        not in (home / "device" / "device.json").read_text()
    )
    with pytest.raises(device.DeviceError, match="already"):
        device.init_device(home, use_keyring=False)


def test_device_not_initialised_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(device.DeviceError, match="wardcopy device init"):
        device.load_device_key(tmp_path)


def test_server_key_pin_refuses_silent_replacement(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = keys.generate_signing_key().public_key()
    second = keys.generate_signing_key().public_key()
    device.init_device(home, use_keyring=False, server_key=keys.signing_public_key_text(first))
    pinned = device.pinned_server_key(home)
    assert pinned is not None and keys.key_id(pinned) == keys.key_id(first)
    # pinning the same key again is fine; a different one is refused unless replace=True
    device.pin_server_key(home, keys.signing_public_key_text(first))
    with pytest.raises(device.DeviceError, match="already pinned"):
        device.pin_server_key(home, keys.signing_public_key_text(second))
    pub_file = tmp_path / "signing.pub"
    pub_file.write_text(keys.signing_public_key_text(second) + "\n")
    assert device.pin_server_key(home, pub_file, replace=True) == keys.key_id(second)
    pinned = device.pinned_server_key(home)
    assert pinned is not None and keys.key_id(pinned) == keys.key_id(second)


class MemoryKeyring(KeyringBackend):
    """A real (in-memory) keyring backend, standing in for the OS keychain."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


def test_device_key_goes_to_a_usable_keyring(tmp_path: Path) -> None:
    backend = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        init = device.init_device(tmp_path / "home")
        assert init.identity.storage == "keyring"
        assert init.warnings == ()
        assert not (tmp_path / "home" / "device" / "device.key").exists()
        assert len(backend.store) == 1
        private = device.load_device_key(tmp_path / "home")
        assert keys.device_id(private.public_key()) == init.identity.device_id
        backend.store.clear()  # keyring entry lost: clear message, not a crash
        with pytest.raises(device.DeviceError, match="OS keyring"):
            device.load_device_key(tmp_path / "home")
    finally:
        keyring.set_keyring(previous)

"""Key material: the sync server's Ed25519 signing key, laptops' X25519 device keys, HPKE key
wrapping, enrolment codes, and Argon2id password verifiers.

One of only two modules (with `sync.package`) that use `cryptography` primitives. Formats are
specified in docs/package-format.md and docs/security.md. Functions that touch files say so;
everything else is pure.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hpke, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from sync import fsutil

# Lines name key ids, fingerprints, counts and durations: never key material or passwords.
log = logging.getLogger(__name__)

__all__ = [
    "ARGON2_DEFAULT",
    "ARGON2_TEST",
    "Argon2Cost",
    "EnrolmentCodeError",
    "KeysError",
    "PasswordCheck",
    "Verifier",
    "VerifierFields",
    "argon2id",
    "b64url_decode",
    "b64url_encode",
    "device_id",
    "enrolment_code",
    "fingerprint",
    "generate_device_key",
    "generate_signing_key",
    "init_signing_key",
    "key_id",
    "load_signing_key",
    "never_matching_verifier",
    "parse_enrolment_code",
    "parse_signing_public_key",
    "private_device_key_from_raw",
    "public_device_key_from_raw",
    "raw_private_device_key",
    "raw_public",
    "rotate_signing_key",
    "save_signing_key",
    "sign",
    "signing_key_from_seed",
    "signing_public_key_text",
    "unwrap_key",
    "verify_password",
    "verify_signature",
    "wrap_key",
]

KEY_SIZE = 32  # database key, X25519 and Ed25519 raw keys
HPKE_ENC_SIZE = 32
HPKE_CT_SIZE = KEY_SIZE + 16  # AES-256-GCM tag

_HPKE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)


class KeysError(Exception):
    """A key could not be created, read, parsed or used. The message says which and what to do."""


class EnrolmentCodeError(KeysError, ValueError):
    """An enrolment code is malformed (typo, wrong length, bad checksum)."""


# --- encodings ---------------------------------------------------------------------------------


def b64url_encode(data: bytes) -> str:
    """base64url without padding (RFC 4648 §5)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict inverse of `b64url_encode`: rejects padding, whitespace, other alphabets and any
    encoding that does not re-encode identically (non-zero trailing bits). Raises ValueError."""
    if not isinstance(text, str) or not text.isascii():
        raise ValueError("not base64url text")
    padded = text + "=" * (-len(text) % 4)
    try:
        data = base64.b64decode(padded, altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"not base64url: {exc}") from None
    if "+" in text or "/" in text or b64url_encode(data) != text:
        raise ValueError("non-canonical base64url")
    return data


# --- Ed25519 signing key (sync server) ----------------------------------------------------------


def generate_signing_key() -> Ed25519PrivateKey:
    """A fresh random Ed25519 signing key."""
    return Ed25519PrivateKey.generate()


def signing_key_from_seed(seed: bytes) -> Ed25519PrivateKey:
    """Deterministic key from a 32-byte seed (test vectors only)."""
    return Ed25519PrivateKey.from_private_bytes(seed)


def raw_public(key: Ed25519PublicKey | X25519PublicKey) -> bytes:
    """The 32-byte raw encoding of a public key."""
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public: Ed25519PublicKey) -> str:
    """First 16 bytes of SHA-256 of the raw public key, as 32 lowercase hex digits."""
    return hashlib.sha256(raw_public(public)).digest()[:16].hex()


def fingerprint(public: Ed25519PublicKey) -> str:
    """A short fingerprint for people to compare by eye, e.g. "3f9a 1c0b 7e2d 4a55"."""
    kid = key_id(public)[:16]
    return " ".join(kid[i : i + 4] for i in range(0, 16, 4))


def signing_public_key_text(public: Ed25519PublicKey) -> str:
    """The public key as one line of base64url (what `signing.pub` and `--server-key` hold)."""
    return b64url_encode(raw_public(public))


def parse_signing_public_key(text: str | bytes) -> Ed25519PublicKey:
    """Parse an Ed25519 public key given as base64url / base64 of the raw 32 bytes, or as PEM.

    Raises KeysError naming the problem."""
    if isinstance(text, bytes):
        try:
            text = text.decode("ascii")
        except UnicodeDecodeError:
            raise KeysError("server key: not text (expected base64 or PEM)") from None
    text = text.strip()
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(text.encode("ascii"))
        except ValueError as exc:
            raise KeysError(f"server key: unreadable PEM ({exc})") from None
        if not isinstance(key, Ed25519PublicKey):
            raise KeysError("server key: PEM is not an Ed25519 public key")
        return key
    raw: bytes | None = None
    try:
        raw = b64url_decode(text)
    except ValueError:
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raw = None
    if raw is None or len(raw) != KEY_SIZE:
        raise KeysError(
            "server key: expected the 43-character base64 text from signing.pub "
            "(32 raw bytes) or a PEM public key"
        )
    return Ed25519PublicKey.from_public_bytes(raw)


def save_signing_key(key: Ed25519PrivateKey, path: Path) -> None:
    """Write `key` as unencrypted PEM PKCS#8 to `path` with mode 0600, and the public key (one
    base64url line) to `path` with suffix `.pub`.

    Never overwrites: raises KeysError if `path` exists. Creates parent dirs (mode 0700)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write_new_file(path, pem, 0o600, what="signing key")
    pub_path = path.with_suffix(".pub")
    public_text = signing_public_key_text(key.public_key()) + "\n"
    fsutil.atomic_write(pub_path, public_text.encode("ascii"), 0o644)


def load_signing_key(path: Path) -> Ed25519PrivateKey:
    """Read a PEM PKCS#8 Ed25519 private key. Raises KeysError (missing, unreadable, wrong type)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise KeysError(f"signing key {path} not found: run `wardcopy-sync keys init`") from None
    except OSError as exc:
        raise KeysError(f"signing key {path} unreadable: {exc.strerror}") from exc
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise KeysError(f"signing key {path} is not a PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeysError(f"signing key {path} is not an Ed25519 key")
    return key


def init_signing_key(sync_home: Path) -> tuple[Ed25519PrivateKey, Path]:
    """Create `sync_home/keys/signing.key` (0600) and `signing.pub`. Refuses to overwrite an
    existing key (KeysError): replacing it would lock every laptop out (see docs/security.md,
    key rotation)."""
    path = sync_home / "keys" / "signing.key"
    if path.exists():
        raise KeysError(
            f"signing key {path} already exists; refusing to overwrite it "
            "(laptops pin it; see docs/security.md for key rotation)"
        )
    key = generate_signing_key()
    save_signing_key(key, path)
    log.info("signing key created (key id %s)", key_id(key.public_key()))
    return key, path


def rotate_signing_key(sync_home: Path) -> tuple[Ed25519PrivateKey, Ed25519PrivateKey]:
    """Replace the signing key with a new one, keeping the old one as
    `keys/retired/signing-<key id>.key` (0600). Returns (old, new). The caller must publish a
    key-rotation document signed by the old key (`sync.publish.publish_key_rotation`) so laptops
    can follow. Raises KeysError if there is no current key."""
    path = sync_home / "keys" / "signing.key"
    old = load_signing_key(path)
    new = generate_signing_key()
    staged = path.with_name("signing.key.new")
    staged.unlink(missing_ok=True)  # a staged key from an interrupted rotation was never used
    save_signing_key(new, staged)
    retired_dir = path.parent / "retired"
    retired_dir.mkdir(mode=0o700, exist_ok=True)
    retired = retired_dir / f"signing-{key_id(old.public_key())}.key"
    if retired.exists():
        raise KeysError(f"{retired} already exists; refusing to overwrite it")
    os.link(path, retired)
    os.replace(staged, path)
    pub = path.with_suffix(".pub")
    os.replace(staged.with_suffix(".pub"), pub)
    log.info(
        "signing key rotated: key id %s retired, %s current",
        key_id(old.public_key()),
        key_id(new.public_key()),
    )
    return old, new


def sign(key: Ed25519PrivateKey, data: bytes) -> bytes:
    """Ed25519 signature (64 bytes, deterministic)."""
    return key.sign(data)


def verify_signature(public: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    """True if `signature` is a valid Ed25519 signature of `data` by `public`."""
    if len(signature) != 64:
        return False
    try:
        public.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def _write_new_file(path: Path, data: bytes, mode: int, *, what: str) -> None:
    """Create `path` exclusively with exactly `mode`, write, fsync (`sync.fsutil.write_new_file`).
    Raises KeysError if it exists, OSError if it cannot be written."""
    try:
        fsutil.write_new_file(path, data, mode)
    except FileExistsError:
        raise KeysError(f"{what} {path} already exists; refusing to overwrite it") from None


# --- X25519 device keys -------------------------------------------------------------------------


def generate_device_key() -> X25519PrivateKey:
    """A fresh X25519 key pair for a laptop."""
    return X25519PrivateKey.generate()


def raw_private_device_key(key: X25519PrivateKey) -> bytes:
    """The 32 raw private bytes (for storage in the keyring or the 0600 key file)."""
    return key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


def private_device_key_from_raw(raw: bytes) -> X25519PrivateKey:
    """Inverse of `raw_private_device_key`. Raises KeysError on a wrong length."""
    if len(raw) != KEY_SIZE:
        raise KeysError(f"device key: expected 32 bytes, got {len(raw)}")
    return X25519PrivateKey.from_private_bytes(raw)


def public_device_key_from_raw(raw: bytes) -> X25519PublicKey:
    """Parse a raw X25519 public key, rejecting low-order points (which would make every wrapped
    key readable by anyone). Raises KeysError."""
    if len(raw) != KEY_SIZE:
        raise KeysError(f"device public key: expected 32 bytes, got {len(raw)}")
    public = X25519PublicKey.from_public_bytes(raw)
    try:
        X25519PrivateKey.generate().exchange(public)
    except ValueError:
        raise KeysError("device public key is a low-order point; not a real device key") from None
    return public


def device_id(public: X25519PublicKey) -> str:
    """16 hex digits: first 8 bytes of SHA-256("wardcopy-device/1" || raw public key)."""
    return hashlib.sha256(b"wardcopy-device/1" + raw_public(public)).digest()[:8].hex()


# --- HPKE key wrapping --------------------------------------------------------------------------


def wrap_key(db_key: bytes, recipient: X25519PublicKey, info: bytes) -> tuple[bytes, bytes]:
    """HPKE base-mode seal of a 32-byte database key to `recipient` (RFC 9180, X25519 /
    HKDF-SHA256 / AES-256-GCM). Returns (enc, ct): 32 and 48 bytes."""
    if len(db_key) != KEY_SIZE:
        raise KeysError("database key must be 32 bytes")
    sealed = _HPKE.encrypt(db_key, recipient, info=info)
    return sealed[:HPKE_ENC_SIZE], sealed[HPKE_ENC_SIZE:]


def unwrap_key(enc: bytes, ct: bytes, private: X25519PrivateKey, info: bytes) -> bytes:
    """Open a wrapped database key. Raises KeysError if it was not wrapped for this key with this
    `info` (wrong device, or copied from another package)."""
    if len(enc) != HPKE_ENC_SIZE or len(ct) != HPKE_CT_SIZE:
        raise KeysError("wrapped key has the wrong length")
    try:
        key = _HPKE.decrypt(enc + ct, private, info=info)
    except (InvalidTag, ValueError):
        raise KeysError(
            "the wrapped database key does not open with this device's key "
            "(wrong device key, or the entry was not made for this package)"
        ) from None
    if len(key) != KEY_SIZE:
        raise KeysError("wrapped key has the wrong length")
    return key


# --- enrolment codes ----------------------------------------------------------------------------

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CROCKFORD_ALIASES = {"O": "0", "I": "1", "L": "1"}
_CODE_PREFIX = "WCD1"
_CODE_CHARS = 56  # (32 key + 3 checksum bytes) * 8 / 5
_CHECKSUM_BYTES = 3


def _code_checksum(raw: bytes) -> bytes:
    return hashlib.sha256(b"wardcopy-enrol/1" + raw).digest()[:_CHECKSUM_BYTES]


def enrolment_code(public: X25519PublicKey) -> str:
    """A typeable code for a device public key: "WCD1-" then 14 groups of 4 Crockford base32
    characters (32-byte key + 3-byte checksum)."""
    raw = raw_public(public)
    data = int.from_bytes(raw + _code_checksum(raw), "big")
    chars = [_CROCKFORD[(data >> (5 * i)) & 31] for i in reversed(range(_CODE_CHARS))]
    body = "".join(chars)
    return "-".join([_CODE_PREFIX, *(body[i : i + 4] for i in range(0, _CODE_CHARS, 4))])


def parse_enrolment_code(code: str) -> X25519PublicKey:
    """Parse an enrolment code as printed by `wardcopy device init`. Case, spaces and dashes do
    not matter; O/I/L are read as 0/1/1. Raises EnrolmentCodeError saying what is wrong."""
    compact = "".join(_CROCKFORD_ALIASES.get(ch, ch) for ch in code.upper() if ch not in " -\t\r\n")
    if not compact.startswith(_CODE_PREFIX):
        if compact.startswith("WCD"):
            raise EnrolmentCodeError(
                f"enrolment code version {compact[3:4]!r} is not supported (expected WCD1-...)"
            )
        raise EnrolmentCodeError("not an enrolment code: it must start with WCD1-")
    body = compact[len(_CODE_PREFIX) :]
    value = 0
    for pos, ch in enumerate(body, start=1):
        digit = _CROCKFORD.find(ch)
        if digit < 0:
            raise EnrolmentCodeError(
                f"enrolment code: character {pos} after WCD1 ({body[pos - 1]!r}) is not allowed"
            )
        value = (value << 5) | digit
    if len(body) != _CODE_CHARS:
        raise EnrolmentCodeError(
            f"enrolment code has {len(body)} characters after WCD1, expected {_CODE_CHARS} "
            "(14 groups of 4): a character is missing or doubled"
        )
    data = value.to_bytes(KEY_SIZE + _CHECKSUM_BYTES, "big")
    raw, check = data[:KEY_SIZE], data[KEY_SIZE:]
    if not hmac.compare_digest(check, _code_checksum(raw)):
        raise EnrolmentCodeError(
            "enrolment code checksum does not match: a character was mistyped; "
            "compare it with the code shown on the laptop"
        )
    try:
        return public_device_key_from_raw(raw)
    except KeysError as exc:
        raise EnrolmentCodeError(f"enrolment code: {exc}") from None


# --- password verifiers -------------------------------------------------------------------------


@dataclass(frozen=True)
class Argon2Cost:
    """Argon2id cost parameters (RFC 9106)."""

    time_cost: int
    memory_cost_kib: int
    lanes: int


#: ~100-300 ms on a laptop: 64 MiB, 3 passes, 4 lanes (RFC 9106 second recommendation family).
ARGON2_DEFAULT = Argon2Cost(time_cost=3, memory_cost_kib=65536, lanes=4)
#: For tests only: fast, and still real Argon2id.
ARGON2_TEST = Argon2Cost(time_cost=1, memory_cost_kib=64, lanes=1)

# Bounds of a verifier's cost (`sync.verifier.PasswordVerifier` validates them in the roster;
# `verify_password` refuses a verifier outside them rather than computing it).
MAX_MEMORY_KIB = 1 << 21  # 2 GiB: refuse verifiers that would exhaust a laptop
MAX_TIME_COST = 64
MAX_LANES = 16


class VerifierFields(Protocol):
    """What a password check reads of a verifier: the roster's `PasswordVerifier` and the
    plain `Verifier` both have it."""

    @property
    def salt(self) -> str: ...
    @property
    def time_cost(self) -> int: ...
    @property
    def memory_cost(self) -> int: ...
    @property
    def lanes(self) -> int: ...
    @property
    def hash(self) -> str: ...


@dataclass(frozen=True)
class Verifier:
    """A password verifier as plain data (the fields of the roster's `PasswordVerifier`, which
    validates them; this class does not)."""

    salt: str
    time_cost: int
    memory_cost: int
    lanes: int
    hash: str


def never_matching_verifier(cost: Argon2Cost) -> Verifier:
    """A verifier with a random salt and a random 32-byte hash: checking any password against it
    costs the Argon2id work of `cost` and fails (a match has probability 2**-256). Used for
    unknown user ids, so that their refusal takes as long as a wrong password."""
    return Verifier(
        salt=b64url_encode(secrets.token_bytes(16)),
        time_cost=cost.time_cost,
        memory_cost=cost.memory_cost_kib,
        lanes=cost.lanes,
        hash=b64url_encode(secrets.token_bytes(32)),
    )


def argon2id(password: str, salt: bytes, cost: Argon2Cost) -> bytes:
    """Pure: the 32-byte Argon2id derivation of `password` (UTF-8) with `salt` and `cost`.
    Raises ValueError for parameters cryptography refuses."""
    return Argon2id(
        salt=salt,
        length=32,
        iterations=cost.time_cost,
        lanes=cost.lanes,
        memory_cost=cost.memory_cost_kib,
    ).derive(password.encode("utf-8"))


def _inputs(verifier: VerifierFields) -> tuple[bytes, bytes, Argon2Cost]:
    """(salt, expected hash, cost) of `verifier`. Raises ValueError or TypeError if malformed."""
    salt = b64url_decode(verifier.salt)
    expected = b64url_decode(verifier.hash)
    cost = Argon2Cost(verifier.time_cost, verifier.memory_cost, verifier.lanes)
    if not isinstance(cost.time_cost, int) or not 1 <= cost.time_cost <= MAX_TIME_COST:
        raise ValueError("time cost out of range")
    if not isinstance(cost.lanes, int) or not 1 <= cost.lanes <= MAX_LANES:
        raise ValueError("lanes out of range")
    memory = cost.memory_cost_kib
    if not isinstance(memory, int) or not 8 * cost.lanes <= memory <= MAX_MEMORY_KIB:
        raise ValueError("memory cost out of range")
    return salt, expected, cost


class PasswordCheck:
    """The Argon2id derivation of one password against one verifier, started ahead of the login
    that will need it, in a thread of its own (cryptography's Argon2id releases the GIL).

    It decides nothing: `verify_password(password, verifier, precomputed=check)` uses its result
    only when the password and the verifier's salt and cost are exactly those it was started
    with, and compares the result with the verifier's hash itself; any other check is computed
    as usual. `wardcopy print` starts one as soon as it knows the roster's verifier for the
    typed user id (docs/performance.md, fourth pass). A malformed verifier starts nothing."""

    def __init__(self, password: str, verifier: VerifierFields) -> None:
        """Starts the derivation at once. Never raises."""
        self.verifier = verifier
        self._password = password
        self._result: bytes | None = None
        self._thread: threading.Thread | None = None
        try:
            self._salt, _expected, self._cost = _inputs(verifier)
        except (ValueError, TypeError):
            return
        self._thread = threading.Thread(target=self._run, name="wardcopy-argon2id", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._result = argon2id(self._password, self._salt, self._cost)
        except (ValueError, TypeError):  # `verify_password` meets the same error and says no
            self._result = None

    def result_for(self, password: str, salt: bytes, cost: Argon2Cost) -> bytes | None:
        """The derived bytes if this check ran for exactly `password`, `salt` and `cost` (waits
        for it); else None."""
        if self._thread is None or salt != self._salt or cost != self._cost:
            return None
        if not hmac.compare_digest(password.encode("utf-8"), self._password.encode("utf-8")):
            return None
        self._thread.join()
        return self._result


def verify_password(
    password: str, verifier: VerifierFields, *, precomputed: PasswordCheck | None = None
) -> bool:
    """True if `password` matches. Constant-time comparison; False (never an exception) for a
    malformed verifier. `precomputed`: a `PasswordCheck` started earlier; its result is used only
    for exactly these inputs (else the derivation runs here)."""
    try:
        salt, expected, cost = _inputs(verifier)
        started = time.perf_counter()
        actual = precomputed.result_for(password, salt, cost) if precomputed else None
        if actual is None:
            actual = argon2id(password, salt, cost)
    except (ValueError, TypeError):
        log.info("password verifier refused: malformed")
        return False
    matched = hmac.compare_digest(actual, expected)
    # The outcome and the cost, never the password or the hash.
    log.debug(
        "password check (Argon2id, %d KiB, %d passes, %d lanes) %s in %.2f s",
        cost.memory_cost_kib,
        cost.time_cost,
        cost.lanes,
        "matched" if matched else "did not match",
        time.perf_counter() - started,
    )
    return matched

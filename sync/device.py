"""Laptop identity: the device's X25519 key pair and the pinned server signing key.

Files (all under WARDCOPY_HOME/device/, directory mode 0700):
- `device.json`  public key, device id, where the private key lives ("keyring" or "file")
- `device.key`   the raw private key, mode 0600, only when no usable OS keyring exists
- `server.pub`   the pinned Ed25519 public key of the sync server (base64url, one line)

The private key never leaves the laptop; only the enrolment code (the public key) is shown.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from sync import fsutil, keys

__all__ = [
    "DeviceError",
    "DeviceIdentity",
    "DeviceInit",
    "device_dir",
    "follow_rotation",
    "init_device",
    "load_device_key",
    "load_identity",
    "pin_server_key",
    "pinned_server_key",
    "retired_server_keys",
]

KEYRING_SERVICE = "wardcopy-device"


class DeviceError(Exception):
    """The device is not initialised, its key is missing, or a pin conflicts. Says what to do."""


@dataclass(frozen=True)
class DeviceIdentity:
    """The laptop's public identity."""

    device_id: str
    public_key: X25519PublicKey
    storage: Literal["keyring", "file"]

    @property
    def enrolment_code(self) -> str:
        return keys.enrolment_code(self.public_key)


@dataclass(frozen=True)
class DeviceInit:
    """Result of `init_device`: the identity and warnings to print (e.g. key stored in a file)."""

    identity: DeviceIdentity
    warnings: tuple[str, ...]


def device_dir(home: Path) -> Path:
    return home / "device"


def _usable_keyring() -> bool:
    """True if the OS keyring has a real backend (not the fail/null/chainer-of-nothing ones)."""
    if os.environ.get("WARDCOPY_NO_KEYRING"):
        return False
    try:
        import keyring
        from keyring.backends import fail, null

        backend = keyring.get_keyring()
    except Exception:  # any import/backend error means "no keyring"
        return False
    if isinstance(backend, fail.Keyring | null.Keyring):
        return False
    priority = getattr(backend, "priority", 0)
    return isinstance(priority, int | float) and priority > 0


def _keyring_user(home: Path, did: str) -> str:
    # Several homes on one machine (tests, demo) must not share an entry.
    return f"{did}@{home.resolve()}"


def init_device(
    home: Path, *, use_keyring: bool | None = None, server_key: str | bytes | None = None
) -> DeviceInit:
    """Create this laptop's X25519 key pair (once). Stores the private key in the OS keyring
    when a usable backend exists (and `use_keyring` is not False), else in device/device.key with
    mode 0600 and a warning. Optionally pins the server key (see `pin_server_key`).

    Raises DeviceError if the device is already initialised."""
    ddir = device_dir(home)
    fsutil.ensure_private_dir(home)
    fsutil.ensure_private_dir(ddir)
    if (ddir / "device.json").exists():
        raise DeviceError(
            f"this laptop already has a device key ({ddir / 'device.json'}); "
            "`wardcopy device show` prints its enrolment code"
        )
    private = keys.generate_device_key()
    public = private.public_key()
    did = keys.device_id(public)
    raw = keys.raw_private_device_key(private)
    warnings: list[str] = []
    storage: Literal["keyring", "file"] = "file"
    want_keyring = _usable_keyring() if use_keyring is None else use_keyring
    if want_keyring:
        try:
            import keyring

            keyring.set_password(KEYRING_SERVICE, _keyring_user(home, did), keys.b64url_encode(raw))
            storage = "keyring"
        except Exception as exc:  # backend refused: fall back to the file
            warnings.append(f"the OS keyring refused the device key ({type(exc).__name__})")
    if storage == "file":
        path = ddir / "device.key"
        fsutil.write_new_file(path, raw, 0o600)
        warnings.append(
            f"no usable OS keyring: the device private key is stored in {path} (mode 0600); "
            "protect this laptop with full-disk encryption"
        )
    info = {
        "format": 1,
        "device_id": did,
        "public_key": keys.b64url_encode(keys.raw_public(public)),
        "storage": storage,
    }
    fsutil.atomic_write(ddir / "device.json", orjson.dumps(info, option=orjson.OPT_INDENT_2), 0o600)
    if server_key is not None:
        pin_server_key(home, server_key)
    return DeviceInit(DeviceIdentity(did, public, storage), tuple(warnings))


def load_identity(home: Path) -> DeviceIdentity:
    """The laptop's public identity. Raises DeviceError if not initialised or malformed."""
    path = device_dir(home) / "device.json"
    try:
        info = orjson.loads(path.read_bytes())
        public = keys.public_device_key_from_raw(keys.b64url_decode(info["public_key"]))
        storage = info["storage"]
        did = info["device_id"]
    except FileNotFoundError:
        raise DeviceError(
            f"this laptop has no device key yet ({path} missing): run `wardcopy device init`"
        ) from None
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, keys.KeysError) as exc:
        raise DeviceError(f"{path} is damaged ({type(exc).__name__}); re-initialise") from None
    if storage not in ("keyring", "file") or did != keys.device_id(public):
        raise DeviceError(f"{path} is inconsistent (device id does not match the key)")
    return DeviceIdentity(did, public, storage)


def load_device_key(home: Path) -> X25519PrivateKey:
    """The laptop's private key, from the keyring or device.key. Raises DeviceError if it is
    missing or does not match device.json (then packages cannot be opened on this laptop)."""
    ident = load_identity(home)
    raw: bytes | None = None
    if ident.storage == "keyring":
        try:
            import keyring

            text = keyring.get_password(KEYRING_SERVICE, _keyring_user(home, ident.device_id))
            raw = keys.b64url_decode(text) if text else None
        except Exception:
            raw = None
        where = "the OS keyring"
    else:
        path = device_dir(home) / "device.key"
        where = str(path)
        try:
            raw = path.read_bytes()
        except OSError:
            raw = None
    if raw is None or len(raw) != keys.KEY_SIZE:
        raise DeviceError(
            f"the private key of device {ident.device_id} is missing or unreadable in {where}: "
            "this laptop cannot open its snapshots; run `wardcopy device init` on a fresh home "
            "and enrol the new code"
        )
    private = keys.private_device_key_from_raw(raw)
    if keys.device_id(private.public_key()) != ident.device_id:
        raise DeviceError(f"the private key in {where} does not belong to device {ident.device_id}")
    return private


def pin_server_key(home: Path, key: str | bytes | Path, *, replace: bool = False) -> str:
    """Pin the sync server's signing key: `key` is a path to signing.pub, or its base64 / PEM
    text. Returns the key id. Raises DeviceError if another key is already pinned (unless
    `replace`), keys.KeysError for an unparsable key."""
    text: str | bytes
    if isinstance(key, Path):
        text = key.read_bytes()
    elif isinstance(key, str) and len(key) < 4096 and os.path.isfile(key):
        text = Path(key).read_bytes()
    else:
        text = key
    public = keys.parse_signing_public_key(text)
    current = pinned_server_key(home)
    if current is not None and keys.raw_public(current) != keys.raw_public(public) and not replace:
        raise DeviceError(
            f"another server key is already pinned ({keys.fingerprint(current)}); the offered key "
            f"is {keys.fingerprint(public)}. If the server key was really rotated, follow "
            "docs/security.md (key rotation)"
        )
    fsutil.ensure_private_dir(home)
    fsutil.ensure_private_dir(device_dir(home))
    fsutil.atomic_write(
        device_dir(home) / "server.pub",
        (keys.signing_public_key_text(public) + "\n").encode("ascii"),
        0o600,
    )
    return keys.key_id(public)


def follow_rotation(home: Path, new_key: Ed25519PublicKey) -> None:
    """Re-pin `new_key` after a verified key-rotation document; the old key moves to
    device/server-retired.pub (one base64url key per line), used only to re-verify snapshots
    installed under it. Raises DeviceError if nothing is pinned."""
    current = pinned_server_key(home)
    if current is None:
        raise DeviceError("no server key is pinned, so there is nothing to rotate")
    if keys.raw_public(current) == keys.raw_public(new_key):
        return
    retired = [keys.signing_public_key_text(k) for k in retired_server_keys(home)]
    retired.append(keys.signing_public_key_text(current))
    fsutil.atomic_write(
        device_dir(home) / "server-retired.pub", ("\n".join(retired) + "\n").encode(), 0o600
    )
    pin_server_key(home, keys.signing_public_key_text(new_key), replace=True)


def retired_server_keys(home: Path) -> list[Ed25519PublicKey]:
    """Server keys pinned before a rotation (oldest first); unreadable lines are skipped."""
    try:
        lines = (device_dir(home) / "server-retired.pub").read_text(encoding="ascii").split()
    except (OSError, UnicodeDecodeError):
        return []
    result = []
    for line in lines:
        try:
            result.append(keys.parse_signing_public_key(line))
        except keys.KeysError:
            continue
    return result


def pinned_server_key(home: Path) -> Ed25519PublicKey | None:
    """The pinned server key, or None if none is pinned. Raises DeviceError if damaged."""
    path = device_dir(home) / "server.pub"
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise DeviceError(f"pinned server key {path} unreadable ({exc})") from None
    try:
        return keys.parse_signing_public_key(text)
    except keys.KeysError as exc:
        raise DeviceError(f"pinned server key {path} is damaged: {exc}") from None

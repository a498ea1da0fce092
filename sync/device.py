"""Laptop identity: the device's X25519 key pair and the pinned server signing key.

Files (all under WARDCOPY_HOME/device/, directory mode 0700):
- `device.json`  public key, device id, where the private key lives ("keyring" or "file")
- `device.key`   the raw private key, mode 0600, only when no usable OS keyring exists
- `server.pub`   the pinned Ed25519 public key of the sync server (base64url, one line)

The private key never leaves the laptop; only the enrolment code (the public key) is shown.

Keyring entries (service `wardcopy-device`) are named by the device id alone, so the laptop folder
can move (a new user profile path, a renamed disk) without losing the key: several homes on one
machine still get separate entries because each has its own key pair. Entries made before this
were named `<device id>@<absolute home path>`; `load_device_key` finds such an entry (under the
current path, or by searching the service's entries where the backend can list them), renames it
to the device id and records that in device.json.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

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

log = logging.getLogger(__name__)


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


def _keyring_user(did: str) -> str:
    """The keyring entry name of a device key: its device id (unique per key pair, so several
    homes on one machine never share an entry, and independent of where the home lives)."""
    return did


def _legacy_keyring_user(home: Path, did: str) -> str:
    """The entry name used before: device id @ absolute home path (lost when the home moved)."""
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

            keyring.set_password(KEYRING_SERVICE, _keyring_user(did), keys.b64url_encode(raw))
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
    info: dict[str, Any] = {
        "format": 1,
        "device_id": did,
        "public_key": keys.b64url_encode(keys.raw_public(public)),
        "storage": storage,
        # Where the home was made: only for messages after a move.
        "created_in": str(home.resolve()),
    }
    if storage == "keyring":
        info["keyring_entry"] = _keyring_user(did)
    fsutil.atomic_write(ddir / "device.json", orjson.dumps(info, option=orjson.OPT_INDENT_2), 0o600)
    log.info("device %s created (private key in the %s)", did, storage)
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
    """The laptop's private key, from the keyring or device.key.

    Side effect: an entry still named after the home path (older versions) is renamed to the
    device id and device.json records it (see the module docstring). Raises DeviceError if the
    key is missing or does not match device.json (then packages cannot be opened on this
    laptop); the message says what happened: no reachable keyring, no entry (keyring reset or
    the folder came from another computer or user), or a file that is missing."""
    ident = load_identity(home)
    if ident.storage == "keyring":
        raw, where = _load_from_keyring(home, ident.device_id), "the OS keyring"
    else:
        path = device_dir(home) / "device.key"
        where = str(path)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise DeviceError(
                f"the private key of device {ident.device_id} is missing: {path} does not exist "
                f"({device_dir(home) / 'device.json'} says it is stored there). Restore "
                "device.key from a backup of this folder; without it this laptop cannot open its "
                "snapshots, and `wardcopy device init` in a new folder plus a new enrolment is "
                "the only way back"
            ) from None
        except OSError as exc:
            raise DeviceError(
                f"cannot read the private key of device {ident.device_id} in {path}: "
                f"{exc.strerror or exc}"
            ) from exc
    if len(raw) != keys.KEY_SIZE:
        raise DeviceError(
            f"the private key of device {ident.device_id} in {where} is damaged "
            f"({len(raw)} bytes, not {keys.KEY_SIZE})"
        )
    private = keys.private_device_key_from_raw(raw)
    if keys.device_id(private.public_key()) != ident.device_id:
        raise DeviceError(f"the private key in {where} does not belong to device {ident.device_id}")
    return private


def _keyring_backend() -> Any:
    """The active keyring backend. Raises DeviceError naming why no keyring can be reached."""
    if os.environ.get("WARDCOPY_NO_KEYRING"):
        raise DeviceError(
            "this laptop's device key is in the OS keyring, but WARDCOPY_NO_KEYRING is set: "
            "unset it to open the snapshots"
        )
    try:
        import keyring
        from keyring.backends import fail, null

        backend = keyring.get_keyring()
    except Exception as exc:
        raise DeviceError(
            f"the OS keyring cannot be reached ({type(exc).__name__}: {exc}); the device key is "
            "stored there: run this as the user who ran `wardcopy device init`, in their session"
        ) from None
    if isinstance(backend, fail.Keyring | null.Keyring):
        raise DeviceError(
            "no OS keyring is available in this session (keyring backend "
            f"{type(backend).__module__}), but this laptop's device key is stored in one: run "
            "this as the user who ran `wardcopy device init`, in their desktop session (a "
            "scheduled task needs access to that user's keyring)"
        )
    return backend


def _decode_entry(text: str | None) -> bytes | None:
    if not text:
        return None
    try:
        return keys.b64url_decode(text)
    except (ValueError, keys.KeysError):
        return None


def _legacy_entries(backend: Any, did: str) -> list[str]:
    """Names of old path-named entries of device `did` that the backend can find without
    knowing the old path: SecretService can list a service's entries; other backends answer
    `get_credential(service, None)` with one entry at most."""
    prefix = f"{did}@"
    found: list[str] = []
    collection_of = getattr(backend, "get_preferred_collection", None)
    if collection_of is not None:  # SecretService (GNOME keyring, KWallet via the same API)
        try:
            collection = collection_of()
            for item in collection.search_items({"service": KEYRING_SERVICE}):
                name = item.get_attributes().get("username", "")
                if name.startswith(prefix):
                    found.append(name)
        except Exception as exc:
            log.debug("cannot list keyring entries: %s", exc)
    try:
        credential = backend.get_credential(KEYRING_SERVICE, None)
    except Exception:
        credential = None
    if credential is not None and credential.username.startswith(prefix):
        found.append(credential.username)
    return list(dict.fromkeys(found))


def _load_from_keyring(home: Path, did: str) -> bytes:
    """The raw private key from the OS keyring (see `load_device_key`). Raises DeviceError."""
    backend = _keyring_backend()
    name = _keyring_user(did)
    try:
        raw = _decode_entry(backend.get_password(KEYRING_SERVICE, name))
        if raw is not None:
            return raw
        legacy = [_legacy_keyring_user(home, did), *_legacy_entries(backend, did)]
        for old in dict.fromkeys(legacy):
            raw = _decode_entry(backend.get_password(KEYRING_SERVICE, old))
            if raw is not None and len(raw) == keys.KEY_SIZE:
                _migrate_entry(backend, home, did, old, raw)
                return raw
    except DeviceError:
        raise
    except Exception as exc:  # locked keyring, D-Bus gone, user refused the prompt
        raise DeviceError(
            f"the OS keyring did not give out the private key of device {did} "
            f"({type(exc).__name__}: {exc}); unlock the keyring (log in to the desktop session) "
            "and try again"
        ) from None
    raise DeviceError(_missing_entry_message(home, did))


def _migrate_entry(backend: Any, home: Path, did: str, old: str, raw: bytes) -> None:
    """Store the key under the device id, record it in device.json, then drop the old entry.
    A failure is logged: the key was found, and the next run tries again."""
    try:
        backend.set_password(KEYRING_SERVICE, _keyring_user(did), keys.b64url_encode(raw))
        if _decode_entry(backend.get_password(KEYRING_SERVICE, _keyring_user(did))) != raw:
            raise OSError("the renamed entry does not read back")
        path = device_dir(home) / "device.json"
        info = orjson.loads(path.read_bytes())
        info["keyring_entry"] = _keyring_user(did)
        fsutil.atomic_write(path, orjson.dumps(info, option=orjson.OPT_INDENT_2), 0o600)
        backend.delete_password(KEYRING_SERVICE, old)
        log.info("device key entry %r renamed to %r", old, _keyring_user(did))
    except Exception as exc:
        log.warning("cannot rename keyring entry %r to the device id: %s", old, exc)


def _missing_entry_message(home: Path, did: str) -> str:
    """What happened when the keyring is reachable but holds no key for `did`."""
    try:
        info = orjson.loads((device_dir(home) / "device.json").read_bytes())
    except (OSError, ValueError):
        info = {}
    made_in = info.get("created_in") if isinstance(info, dict) else None
    here = str(home.resolve())
    if isinstance(made_in, str) and made_in != here:
        what = (
            f"this laptop folder was made at {made_in} and is now at {here}; the move alone "
            "does not lose the key (its entry is named by the device id), so the keyring was "
            "reset, or the folder was copied to another computer or user account"
        )
    elif made_in is None and "keyring_entry" not in info:
        what = (
            "this folder was set up by an older Wardcopy, which named the entry after the "
            "folder's path; if the folder was moved, move it back to where it was, run "
            "`wardcopy doctor` once there (the entry is then renamed to the device id), and "
            "move it again; otherwise the keyring was reset, or the folder was copied from "
            "another computer or user account"
        )
    else:
        what = (
            "the keyring was reset, or the folder was copied from another computer or user account"
        )
    return (
        f"the OS keyring has no private key for device {did} (service {KEYRING_SERVICE!r}, "
        f"entry {did!r}): {what}. Without that key this laptop cannot open its snapshots; if "
        "the key cannot be brought back, run `wardcopy device init` in a new folder and enrol "
        "the new code on the sync server"
    )


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
    log.info("server signing key %s pinned", keys.fingerprint(public))
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
    log.info(
        "following the server's key rotation: %s retired, %s pinned",
        keys.fingerprint(current),
        keys.fingerprint(new_key),
    )
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
        raise DeviceError(f"pinned server key {path} unreadable ({exc})") from exc
    try:
        return keys.parse_signing_public_key(text)
    except keys.KeysError as exc:
        raise DeviceError(f"pinned server key {path} is damaged: {exc}") from exc

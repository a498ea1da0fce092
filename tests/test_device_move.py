"""The device key survives a moved laptop folder: keyring entries are named by device id, old
path-named entries are found and renamed, and a key that is really gone is explained (what
happened, what to do). Real `wardcopy` processes sharing a file-backed keyring."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from sync import device, keys

BIN = Path(sys.executable).parent
TESTS = Path(__file__).resolve().parent
SERVICE = device.KEYRING_SERVICE


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")])),
        "PYTHON_KEYRING_BACKEND": "keyring_file_backend.FileKeyring",
        "WARDCOPY_TEST_KEYRING": str(tmp_path / "keyring.json"),
    }


def _wardcopy(home: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "wardcopy"), "--home", str(home), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _entries(env: dict[str, str]) -> dict[str, str]:
    data: dict[str, str] = json.loads(Path(env["WARDCOPY_TEST_KEYRING"]).read_text())
    return {key.split("\n", 1)[1]: value for key, value in data.items()}


def _device_check(home: Path, env: dict[str, str]) -> str:
    out = _wardcopy(home, env, "doctor").stdout
    [line] = [ln for ln in out.splitlines() if "device key:" in ln]
    return line


def _init(home: Path, env: dict[str, str]) -> str:
    made = _wardcopy(home, env, "device", "init")
    assert made.returncode == 0, made.stderr
    assert "the OS keyring" in made.stdout
    return device.load_identity(home).device_id


def _make_old_format(home: Path, env: dict[str, str], did: str) -> None:
    """Turn a fresh home into what an older Wardcopy left: the entry named after the path, and
    a device.json without the new members."""
    store = Path(env["WARDCOPY_TEST_KEYRING"])
    data = json.loads(store.read_text())
    data[f"{SERVICE}\n{did}@{home.resolve()}"] = data.pop(f"{SERVICE}\n{did}")
    store.write_text(json.dumps(data))
    info_path = home / "device" / "device.json"
    info = orjson.loads(info_path.read_bytes())
    del info["keyring_entry"], info["created_in"]
    info_path.write_bytes(orjson.dumps(info))


def test_key_is_named_by_device_id_and_found_after_the_folder_moves(
    tmp_path: Path, env: dict[str, str]
) -> None:
    home = tmp_path / "old-profile" / "wardcopy"
    did = _init(home, env)
    assert set(_entries(env)) == {did}
    moved = tmp_path / "new-profile" / "wardcopy"
    moved.parent.mkdir()
    home.rename(moved)
    line = _device_check(moved, env)
    assert line.startswith("OK") and did in line, line


def test_old_path_named_entry_is_found_after_a_move_and_renamed(
    tmp_path: Path, env: dict[str, str]
) -> None:
    home = tmp_path / "C-Users-anna" / "wardcopy"
    did = _init(home, env)
    _make_old_format(home, env, did)
    moved = tmp_path / "D-Users-anna" / "wardcopy"
    moved.parent.mkdir()
    home.rename(moved)

    line = _device_check(moved, env)
    assert line.startswith("OK"), line
    assert set(_entries(env)) == {did}  # renamed to the device id, the old name is gone
    assert orjson.loads((moved / "device" / "device.json").read_bytes())["keyring_entry"] == did
    private = keys.private_device_key_from_raw(keys.b64url_decode(_entries(env)[did]))
    assert keys.device_id(private.public_key()) == did


def test_old_entry_in_an_unmoved_folder_is_renamed(tmp_path: Path, env: dict[str, str]) -> None:
    home = tmp_path / "wardcopy"
    did = _init(home, env)
    _make_old_format(home, env, did)
    env = {**env, "WARDCOPY_TEST_KEYRING_NO_LISTING": "1"}
    assert _device_check(home, env).startswith("OK")
    assert set(_entries(env)) == {did}


def test_old_entry_that_cannot_be_found_after_a_move_says_what_to_do(
    tmp_path: Path, env: dict[str, str]
) -> None:
    home = tmp_path / "before" / "wardcopy"
    did = _init(home, env)
    _make_old_format(home, env, did)
    moved = tmp_path / "after" / "wardcopy"
    moved.parent.mkdir()
    home.rename(moved)
    env = {**env, "WARDCOPY_TEST_KEYRING_NO_LISTING": "1"}  # a backend that cannot list

    result = _wardcopy(moved, env, "receive", "--from", str(tmp_path / "outbox"))
    assert result.returncode == 4
    assert "older Wardcopy" in result.stderr and "move it back" in result.stderr
    assert "device init` on a fresh home" not in result.stderr
    # Moving it back and running doctor once renames the entry; then it moves freely.
    moved.rename(home)
    assert _device_check(home, env).startswith("OK")
    home.rename(moved)
    assert _device_check(moved, env).startswith("OK")


def test_key_really_gone_says_so_and_where_the_folder_came_from(
    tmp_path: Path, env: dict[str, str]
) -> None:
    home = tmp_path / "first" / "wardcopy"
    _init(home, env)
    Path(env["WARDCOPY_TEST_KEYRING"]).write_text("{}")  # keyring reset
    moved = tmp_path / "second" / "wardcopy"
    moved.parent.mkdir()
    home.rename(moved)
    line = _device_check(moved, env)
    assert line.startswith("FAIL")
    assert f"made at {home.resolve()} and is now at {moved.resolve()}" in line
    assert "keyring was reset" in line

    no_keyring = {**env, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    line = _device_check(moved, no_keyring)
    assert line.startswith("FAIL") and "no OS keyring is available in this session" in line

"""Viewer settings on disk, and the laptop home they live in."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from app.paths import (
    audit_dir,
    default_home,
    device_dir,
    ensure_private_dir,
    laptop_home,
    roster_dir,
    settings_path,
    snapshots_dir,
)
from app.settings import (
    Settings,
    SettingsError,
    break_glass_effective,
    load_settings,
    load_settings_or_defaults,
    save_settings,
)

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")


# --- laptop home ---------------------------------------------------------------------------


@posix_only
def test_home_override_wins_and_is_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WARDCOPY_HOME", str(tmp_path / "from-env"))
    home = laptop_home(tmp_path / "given")
    assert home == tmp_path / "given"
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert not (tmp_path / "from-env").exists()


@posix_only
def test_home_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WARDCOPY_HOME", str(tmp_path / "env-home"))
    home = laptop_home()
    assert home == tmp_path / "env-home"
    assert stat.S_IMODE(home.stat().st_mode) == 0o700


def test_default_home_without_environment_is_platform_dir() -> None:
    home = default_home({})
    assert "wardcopy" in str(home).lower()
    assert default_home({"WARDCOPY_HOME": "  "}) == home  # blank means unset


@posix_only
def test_existing_wide_open_home_is_tightened(tmp_path: Path) -> None:
    folder = tmp_path / "home"
    folder.mkdir(mode=0o777)
    os.chmod(folder, 0o777)
    ensure_private_dir(folder)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_uncreatable_home_names_the_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(OSError, match="cannot create the Wardcopy folder"):
        laptop_home(blocker / "home")


def test_subpaths(tmp_path: Path) -> None:
    assert device_dir(tmp_path) == tmp_path / "device"
    assert snapshots_dir(tmp_path) == tmp_path / "snapshots"
    assert roster_dir(tmp_path) == tmp_path / "roster"
    assert audit_dir(tmp_path) == tmp_path / "audit"
    assert settings_path(tmp_path) == tmp_path / "settings.json"


# --- settings ------------------------------------------------------------------------------


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    settings = load_settings(tmp_path)
    assert settings.language == "auto"
    assert settings.idle_lock_minutes == 5
    assert settings.max_failed_logins == 5
    assert settings.lockout_minutes == 5
    assert settings.break_glass_allowed is None
    assert settings.freshness.fresh_minutes == 30
    assert settings.freshness.aging_minutes == 240


@posix_only
def test_save_and_load_round_trip(tmp_path: Path) -> None:
    home = tmp_path / "home"
    settings = Settings(
        language="de",
        time_zone="Europe/Berlin",
        idle_lock_minutes=10,
        default_printer="Station 3A Laser",
        break_glass_allowed=False,
    )
    path = save_settings(home, settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_settings(home) == settings
    assert load_settings(home).zone() is not None
    assert [p.name for p in home.iterdir()] == ["settings.json"]  # no temp files left


@hyp_settings(deadline=None)
@given(
    language=st.sampled_from(["auto", "de", "en"]),
    idle=st.integers(min_value=1, max_value=240),
    failures=st.integers(min_value=1, max_value=100),
    printer=st.none() | st.text(max_size=40),
)
def test_any_valid_settings_round_trip(
    tmp_path_factory: pytest.TempPathFactory,
    language: str,
    idle: int,
    failures: int,
    printer: str | None,
) -> None:
    home = tmp_path_factory.mktemp("home")
    settings = Settings.model_validate(
        {
            "language": language,
            "idle_lock_minutes": idle,
            "max_failed_logins": failures,
            "default_printer": printer,
        }
    )
    save_settings(home, settings)
    assert load_settings(home) == settings


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"idle_lock_minute": 3}', "idle_lock_minute"),
        (b'{"idle_lock_minutes": 0}', "idle_lock_minutes"),
        (b'{"language": "fr"}', "language"),
        (b'{"time_zone": "Mars/Olympus"}', "unknown time zone"),
        (b'{"freshness": {"fresh_minutes": 500}}', "must increase"),
    ],
)
def test_invalid_file_is_reported_with_its_name(
    tmp_path: Path, content: bytes, message: str
) -> None:
    (tmp_path / "settings.json").write_bytes(content)
    with pytest.raises(SettingsError, match=message) as info:
        load_settings(tmp_path)
    assert "settings.json" in str(info.value)
    settings, problem = load_settings_or_defaults(tmp_path)
    assert settings == Settings()
    assert problem is not None and message in problem


def test_lenient_load_of_good_file_reports_no_problem(tmp_path: Path) -> None:
    (tmp_path / "settings.json").write_bytes(orjson.dumps({"language": "en"}))
    settings, problem = load_settings_or_defaults(tmp_path)
    assert settings.language == "en"
    assert problem is None


@pytest.mark.parametrize(
    ("local", "roster_allows", "expected"),
    [
        (None, True, True),
        (None, False, False),
        (False, True, False),
        # A local file can never switch on what the signed hospital policy forbids.
        (True, False, False),
        (True, True, True),
    ],
)
def test_break_glass_effective(local: bool | None, roster_allows: bool, expected: bool) -> None:
    assert break_glass_effective(Settings(break_glass_allowed=local), roster_allows) is expected

"""sync.fsutil on real files: contents, modes, write-once, and what a failure leaves behind."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync import fsutil

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="Unix file modes")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextmanager
def _umask(mask: int) -> Iterator[None]:
    """Run the block under `mask` (process-wide; the tests here are not threaded)."""
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


class _Boom(Exception):
    pass


def _failing_write(monkeypatch: pytest.MonkeyPatch, exc: BaseException) -> None:
    """Make fsync fail, as a full disk or an I/O error would (or ^C arriving mid-write)."""

    def fsync(fd: int) -> None:
        raise exc

    monkeypatch.setattr(os, "fsync", fsync)


# --- atomic_write ---------------------------------------------------------------------------------


def test_atomic_write_creates_then_replaces(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    fsutil.atomic_write(target, b"first")
    assert target.read_bytes() == b"first"
    fsutil.atomic_write(target, b"second")
    assert target.read_bytes() == b"second"
    assert _names(tmp_path) == ["state.json"]


def test_atomic_write_not_durable_replaces_without_flushing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The per-cycle freshness statements: same atomic replace, no disk flush per file.
    target = tmp_path / "FRESHNESS.wcdoc"
    fsutil.atomic_write(target, b"first")
    _failing_write(monkeypatch, _Boom())  # any fsync would raise
    fsutil.atomic_write(target, b"second", durable=False)
    assert target.read_bytes() == b"second"
    assert _names(tmp_path) == ["FRESHNESS.wcdoc"]
    with pytest.raises(_Boom):
        fsutil.atomic_write(target, b"third")  # the durable default still flushes
    assert target.read_bytes() == b"second"


@posix_only
def test_atomic_write_is_private_by_default_and_keeps_a_given_mode(tmp_path: Path) -> None:
    private = tmp_path / "private"
    fsutil.atomic_write(private, b"secret")
    assert _mode(private) == 0o600
    public = tmp_path / "LATEST"
    with _umask(0o022):
        fsutil.atomic_write(public, b"{}", mode=0o644)
    assert _mode(public) == 0o644


@posix_only
def test_atomic_write_never_widens_beyond_the_umask(tmp_path: Path) -> None:
    target = tmp_path / "LATEST"
    with _umask(0o077):
        fsutil.atomic_write(target, b"{}", mode=0o644)
    assert _mode(target) == 0o600


@pytest.mark.parametrize("exc", [_Boom("disk full"), KeyboardInterrupt()])
def test_old_content_survives_a_failed_write_and_no_temp_file_is_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exc: BaseException
) -> None:
    target = tmp_path / "settings.json"
    target.write_bytes(b"old")
    _failing_write(monkeypatch, exc)
    with pytest.raises(type(exc)):
        fsutil.atomic_write(target, b"new")
    monkeypatch.undo()
    assert target.read_bytes() == b"old"
    assert _names(tmp_path) == ["settings.json"]


def test_a_failed_first_write_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _failing_write(monkeypatch, OSError(28, "No space left on device"))
    with pytest.raises(OSError, match="No space"):
        fsutil.atomic_write(tmp_path / "new.json", b"data")
    monkeypatch.undo()
    assert _names(tmp_path) == []


def test_data_that_cannot_be_written_leaves_the_old_content(tmp_path: Path) -> None:
    target = tmp_path / "roster.json"
    target.write_bytes(b"old")
    with pytest.raises(TypeError):
        fsutil.atomic_write(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"old"
    assert _names(tmp_path) == ["roster.json"]


def test_atomic_write_into_a_missing_folder_raises_and_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        fsutil.atomic_write(tmp_path / "missing" / "file", b"x")
    assert _names(tmp_path) == []


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(first=st.binary(max_size=2048), second=st.binary(max_size=2048))
def test_atomic_write_round_trips_any_bytes(tmp_path: Path, first: bytes, second: bytes) -> None:
    target = tmp_path / "blob"
    fsutil.atomic_write(target, first)
    fsutil.atomic_write(target, second)
    assert target.read_bytes() == second
    assert not [n for n in _names(tmp_path) if n.endswith(".tmp")]


# --- write_new_file / open_exclusive --------------------------------------------------------------


@posix_only
def test_write_new_file_sets_the_exact_mode_whatever_the_umask(tmp_path: Path) -> None:
    key = tmp_path / "device.key"
    with _umask(0o277):  # would leave 0400 if the mode were not set explicitly
        fsutil.write_new_file(key, b"k" * 32, 0o600)
    assert key.read_bytes() == b"k" * 32
    assert _mode(key) == 0o600


def test_write_new_file_never_overwrites(tmp_path: Path) -> None:
    key = tmp_path / "signing.key"
    fsutil.write_new_file(key, b"original")
    with pytest.raises(FileExistsError):
        fsutil.write_new_file(key, b"replacement")
    assert key.read_bytes() == b"original"


def test_write_new_file_removes_a_half_written_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _failing_write(monkeypatch, _Boom("I/O error"))
    with pytest.raises(_Boom):
        fsutil.write_new_file(tmp_path / "signing.key", b"secret")
    monkeypatch.undo()
    assert _names(tmp_path) == []


def test_open_exclusive_refuses_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "incoming"
    with fsutil.open_exclusive(path) as fh:
        fh.write(b"\r\n")  # binary: no newline translation on any platform
    assert path.read_bytes() == b"\r\n"
    with pytest.raises(FileExistsError):
        fsutil.open_exclusive(path)
    assert path.read_bytes() == b"\r\n"


# --- link_no_replace ------------------------------------------------------------------------------


def test_link_no_replace_moves_into_place(tmp_path: Path) -> None:
    tmp, final = tmp_path / ".pkg.partial", tmp_path / "0000000001.wcpkg"
    tmp.write_bytes(b"package")
    fsutil.link_no_replace(tmp, final)
    assert final.read_bytes() == b"package"
    assert not tmp.exists()


def test_link_no_replace_refuses_to_replace(tmp_path: Path) -> None:
    tmp, final = tmp_path / ".pkg.partial", tmp_path / "0000000001.wcpkg"
    tmp.write_bytes(b"new")
    final.write_bytes(b"already published")
    with pytest.raises(FileExistsError):
        fsutil.link_no_replace(tmp, final)
    assert final.read_bytes() == b"already published"
    assert tmp.read_bytes() == b"new"  # left for the caller to clean up


# --- directories ----------------------------------------------------------------------------------


@posix_only
def test_ensure_private_dir_creates_and_tightens(tmp_path: Path) -> None:
    home = tmp_path / "a" / "home"
    assert fsutil.ensure_private_dir(home) == home
    assert home.is_dir() and _mode(home) == 0o700
    home.chmod(0o755)
    fsutil.ensure_private_dir(home)
    assert _mode(home) == 0o700


def test_ensure_private_dir_raises_when_a_file_is_in_the_way(tmp_path: Path) -> None:
    (tmp_path / "home").write_bytes(b"")
    with pytest.raises(FileExistsError):
        fsutil.ensure_private_dir(tmp_path / "home")


def test_fsync_helpers_accept_real_paths_and_raise_on_missing_ones(tmp_path: Path) -> None:
    target = tmp_path / "db"
    target.write_bytes(b"x")
    fsutil.fsync_file(target)
    fsutil.fsync_dir(tmp_path)
    with pytest.raises(FileNotFoundError):
        fsutil.fsync_file(tmp_path / "missing")

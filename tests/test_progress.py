"""Progress of long runs: a live rich line on a terminal, plain lines in logs (only once a run is
long), nothing at all for short runs in a pipe; counts and phase names only."""

from __future__ import annotations

import io
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

from sync import progress
from sync.progress import LineProgress, NullProgress, RichProgress


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_log_lines_only_after_the_quiet_time_and_then_at_most_every_interval() -> None:
    out = io.StringIO()
    clock = Clock()
    lines = LineProgress(out, quiet_seconds=10, every=30, clock=clock)
    lines.phase("reading the source")
    clock.now = 5
    lines.phase("mapping patients", total=1000)
    lines.advance(100)
    assert out.getvalue() == ""  # a short run says nothing
    clock.now = 12
    lines.advance(100)
    first = out.getvalue().splitlines()
    assert len(first) == 1 and "mapping patients 200/1,000 (20 %)" in first[0]
    clock.now = 20
    lines.advance(100)
    assert len(out.getvalue().splitlines()) == 1  # not more than every 30 s
    clock.now = 43
    lines.note("export: 40 % done")
    last = out.getvalue().splitlines()[-1]
    assert "300/1,000" in last and "export: 40 % done" in last and last.endswith("(43 s)")
    lines.phase("sealing and publishing wards", total=3)
    assert (
        out.getvalue()
        .splitlines()[-1]
        .split(" ", 1)[1]
        .startswith("progress: sealing and publishing wards 0/3")
    )


def test_a_terminal_gets_rich_and_anything_else_plain_lines() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    rich = progress.for_stream(Tty())
    try:
        assert isinstance(rich, RichProgress)
    finally:
        rich.close()
    assert isinstance(progress.for_stream(io.StringIO()), LineProgress)
    assert isinstance(progress.current(), NullProgress)
    with progress.reporting(LineProgress(io.StringIO())) as shown:
        assert progress.current() is shown
    assert isinstance(progress.current(), NullProgress)


def _run_on_terminal(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run `argv` with stdout and stderr on a pseudo-terminal; returns (exit code, output)."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(argv, stdout=follower, stderr=follower, env=env, close_fds=True)
    os.close(follower)
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([leader], [], [], 1.0)
        if ready:
            try:
                data = os.read(leader, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    proc.wait(timeout=300)
    os.close(leader)
    return proc.returncode, b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.slow
def test_build_on_a_terminal_shows_phases_and_counts_and_in_a_pipe_plain_lines(
    tmp_path: Path,
) -> None:
    from datetime import UTC, datetime

    from sync.generate import generate

    generate(tmp_path / "src", 300, seed=3, now=datetime(2026, 11, 30, 6, 0, tzinfo=UTC))
    cli = str(Path(sys.executable).parent / "wardcopy-sync")
    env = {**os.environ, "COLUMNS": "120", "TERM": "xterm"}
    home = tmp_path / "home"
    subprocess.run([cli, "--home", str(home), "keys", "init"], check=True, capture_output=True)
    build = [cli, "--home", str(home), "build", "--source", str(tmp_path / "src"), "--out"]
    code, shown = _run_on_terminal([*build, str(tmp_path / "out1"), "--workers", "1"], env)
    assert code == 0, shown
    assert "mapping patients" in shown and "/300" in shown  # the bar's done/total
    piped = subprocess.run(
        [*build, str(tmp_path / "out2"), "--workers", "1"], capture_output=True, text=True, env=env
    )
    assert piped.returncode == 0
    # In a log: plain lines only (none at all when the build took under 10 s), never the
    # terminal's control codes.
    import re

    assert "\x1b[" not in piped.stderr
    for line in piped.stderr.splitlines():
        assert re.fullmatch(r"\d\d:\d\d:\d\d progress: [a-zA-Z ]+.*\(\d+ s\)", line), line

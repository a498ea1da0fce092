"""Whole-process start-up of the laptop command: `wardcopy --help` and `wardcopy print summary`
(start to PDF on disk), against a bare `python -c "import argparse"` measured in the same run.

    ./dev bench startup [--reps 9]

The three commands run interleaved, `reps` times each, so the machine's load hits them alike;
figures are medians of wall-clock time. Targets (issue 7): `--help` within 4x of the baseline,
the printed summary within 12x. `wardcopy print` logs in against the roster (Argon2id, a
deliberate cost), so the run also times one password verification with the demo roster's cost
and reports the summary with and without it. `python -X importtime` of the printing process
gives the slowest imports.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

TARGET_HELP = 4.0
TARGET_PRINT = 12.0
PASSWORD = "pflege-demo"  # the demo roster's nurse (demo.DEMO_USERS)


def _wardcopy() -> str:
    script = Path(sys.executable).with_name("wardcopy")
    if not script.exists():
        raise SystemExit(f"bench: {script} missing; install with ./dev")
    return str(script)


def _timed(argv: list[str], stdin: str | None, env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, input=stdin, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"bench: {' '.join(argv[:4])} ... failed: {done.stderr.strip()}")
    return seconds


def _argon2_seconds(sync_home: Path, env: dict[str, str]) -> float:
    """One verification of the demo nurse's password with the roster's own Argon2id cost, in a
    fresh process (median of 3): the part of the login `wardcopy print` does that is there on
    purpose."""
    code = (
        "import sys,time\n"
        "from pathlib import Path\n"
        "from sync.keys import verify_password\n"
        "from sync.roster import load_roster_source\n"
        "roster=load_roster_source(Path(sys.argv[1]))\n"
        "user=next(u for u in roster.users if u.user_id=='pflege')\n"
        "t=time.perf_counter(); ok=verify_password(sys.argv[2], user.verifier)\n"
        "print(time.perf_counter()-t if ok else -1)\n"
    )
    runs = []
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-c", code, str(sync_home), PASSWORD],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        runs.append(float(out.stdout.strip()))
    if min(runs) < 0:
        raise SystemExit("bench: the demo password did not verify")
    return statistics.median(runs)


def slowest_imports(
    argv: list[str], stdin: str | None, env: dict[str, str], top: int = 12
) -> list[dict[str, Any]]:
    """The `top` imports with the largest cumulative time in one run under -X importtime."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *argv],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
    )
    rows: list[tuple[int, str]] = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _self_us, cumulative_us, name = line.removeprefix("import time:").split("|")
        rows.append((int(cumulative_us), name.strip()))
    rows.sort(reverse=True)
    return [{"module": n, "cumulative_ms": round(c / 1000, 1)} for c, n in rows[:top]]


def bench_startup(tmp: Path, reps: int = 9) -> dict[str, Any]:
    from sync.receive import open_installed
    from wardcopy_demo import make_demo

    demo = make_demo(tmp / "startup-demo", patients=40, seed=3)
    ward = next(w for w in demo.installed if w != "hospital")
    snap = open_installed(demo.laptop_home, ward)
    try:
        patient = snap.reader.census()[0].patient_id
    finally:
        snap.close()
    env = {**os.environ, "WARDCOPY_DEBUG": ""}
    wardcopy = _wardcopy()
    out = tmp / "summary.pdf"
    base = [sys.executable, "-c", "import argparse"]
    help_ = [wardcopy, "--help"]
    print_ = [wardcopy, "--home", str(demo.laptop_home), "print", "summary", "--ward", ward]
    print_ += ["--patient", patient, "--user", "pflege", "--password-stdin", "--out", str(out)]
    stdin = PASSWORD + "\n"
    for argv, feed in ((base, None), (help_, None), (print_, stdin)):  # warm the page cache
        _timed(argv, feed, env)
    times: dict[str, list[float]] = {"baseline": [], "help": [], "print": []}
    for _ in range(reps):
        times["baseline"].append(_timed(base, None, env))
        times["help"].append(_timed(help_, None, env))
        out.unlink(missing_ok=True)
        times["print"].append(_timed(print_, stdin, env))
        if not out.read_bytes().startswith(b"%PDF"):
            raise SystemExit("bench: print summary wrote no PDF")
    med = {k: statistics.median(v) for k, v in times.items()}
    argon2 = _argon2_seconds(demo.sync_home, env)
    script = [sys.executable, "-c", "import sys; from app.cli import main; sys.exit(main())"]
    result = {
        "reps": reps,
        "baseline_s": round(med["baseline"], 3),
        "help_s": round(med["help"], 3),
        "help_ratio": round(med["help"] / med["baseline"], 1),
        "help_target": TARGET_HELP,
        "print_summary_s": round(med["print"], 3),
        "print_ratio": round(med["print"] / med["baseline"], 1),
        "print_target": TARGET_PRINT,
        "argon2_login_s": round(argon2, 3),
        "print_without_argon2_ratio": round((med["print"] - argon2) / med["baseline"], 1),
        "spread": {k: [round(min(v), 3), round(max(v), 3)] for k, v in times.items()},
        "slowest_imports_help": slowest_imports([*script[1:], "--help"], None, env),
        "slowest_imports_print": slowest_imports([*script[1:], *print_[1:]], stdin, env),
    }
    return result

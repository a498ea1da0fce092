"""Whole-process start-up of the laptop command: `wardcopy --help` and `wardcopy print summary`
(start to PDF on disk), against a bare `python -c "import argparse"` measured in the same run.

    ./dev bench startup [--reps 9]

The three commands run interleaved, `reps` times each, so the machine's load hits them alike;
figures are medians of wall-clock time and of the process's CPU time (user + system, from
`getrusage`), which a loaded machine disturbs far less. Every process runs from compiled
bytecode, as an installed copy does (pip compiles a wheel's modules): the run drops
PYTHONDONTWRITEBYTECODE and keeps the bytecode in its own PYTHONPYCACHEPREFIX folder, filled by
a first, untimed round. Targets (issue 7): `--help` within 4x of the baseline,
the printed summary within 12x. `wardcopy print` logs in against the roster (Argon2id, a
deliberate cost), so the run also times one password verification with the demo roster's cost
and reports the print's CPU besides it (`cpu_print_besides_argon2_ratio`). There is no such
wall-clock figure: the check runs in a thread beside the loading, so subtracting its time from
the print's wall time means nothing. `python -X importtime` of the printing process
gives the slowest imports.
"""

from __future__ import annotations

import os
import resource
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


def _cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(argv: list[str], stdin: str | None, env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one run of `argv`, start to exit."""
    cpu = _cpu_of_children()
    started = time.perf_counter()
    done = subprocess.run(argv, input=stdin, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"bench: {' '.join(argv[:4])} ... failed: {done.stderr.strip()}")
    return seconds, _cpu_of_children() - cpu


def _argon2_seconds(sync_home: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one verification of the demo nurse's password with the roster's
    own Argon2id cost, in a fresh process (medians of 3): the part of the login `wardcopy print`
    does that is there on purpose."""
    code = (
        "import sys,time\n"
        "from pathlib import Path\n"
        "from sync.keys import verify_password\n"
        "from sync.roster import load_roster_source\n"
        "roster=load_roster_source(Path(sys.argv[1]))\n"
        "user=next(u for u in roster.users if u.user_id=='pflege')\n"
        "t=time.perf_counter(); c=time.process_time()\n"
        "ok=verify_password(sys.argv[2], user.verifier)\n"
        "print(time.perf_counter()-t if ok else -1, time.process_time()-c)\n"
    )
    runs: list[float] = []
    cpus: list[float] = []
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-c", code, str(sync_home), PASSWORD],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        wall, cpu = out.stdout.split()
        runs.append(float(wall))
        cpus.append(float(cpu))
    if min(runs) < 0:
        raise SystemExit("bench: the demo password did not verify")
    return statistics.median(runs), statistics.median(cpus)


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
    env = {**os.environ, "WARDCOPY_DEBUG": "", "PYTHONPYCACHEPREFIX": str(tmp / "pycache")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
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
    cpus: dict[str, list[float]] = {"baseline": [], "help": [], "print": []}
    for _ in range(reps):
        for key, argv, feed in (("baseline", base, None), ("help", help_, None)):
            wall, cpu = _timed(argv, feed, env)
            times[key].append(wall)
            cpus[key].append(cpu)
        out.unlink(missing_ok=True)
        wall, cpu = _timed(print_, stdin, env)
        times["print"].append(wall)
        cpus["print"].append(cpu)
        if not out.read_bytes().startswith(b"%PDF"):
            raise SystemExit("bench: print summary wrote no PDF")
    med = {k: statistics.median(v) for k, v in times.items()}
    cpu_med = {k: statistics.median(v) for k, v in cpus.items()}
    argon2, argon2_cpu = _argon2_seconds(demo.sync_home, env)
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
        "cpu_s": {k: round(v, 3) for k, v in cpu_med.items()},
        "cpu_help_ratio": round(cpu_med["help"] / cpu_med["baseline"], 1),
        "cpu_print_ratio": round(cpu_med["print"] / cpu_med["baseline"], 1),
        "argon2_login_s": round(argon2, 3),
        "argon2_login_cpu_s": round(argon2_cpu, 3),
        # CPU adds up whether or not the check overlaps the loading; wall time does not (the
        # check runs beside it), so only the CPU figure can leave the check out.
        "cpu_print_besides_argon2_ratio": round(
            (cpu_med["print"] - argon2_cpu) / cpu_med["baseline"], 1
        ),
        "spread": {k: [round(min(v), 3), round(max(v), 3)] for k, v in times.items()},
        "slowest_imports_help": slowest_imports([*script[1:], "--help"], None, env),
        "slowest_imports_print": slowest_imports([*script[1:], *print_[1:]], stdin, env),
    }
    return result

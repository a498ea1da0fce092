"""End-to-end benchmark of the viewer in a real browser, on big snapshots.

`.venv/bin/python -m bench.viewer_e2e --patients 10000` builds a demo home (demo.make_demo, the
whole chain: generate, build, seal, publish, receive), serves the viewer in web mode on 127.0.0.1 as
the e2e tests do, and drives Debian's Chromium (/usr/bin/chromium) with Playwright through the
Flutter accessibility tree. It measures, on the hospital-wide snapshot (all patients) and on the
largest normal ward:

- process start to a usable login screen;
- "Log in" (Enter in the password field) to the census rendered (first row and count shown);
- one keystroke in the search box to the list showing the expected count / first row
  (prefixes of real surnames from the snapshot; the expectation comes from the viewer's own
  CensusModel, so the figure is "key to the list the user should see");
- a click on a patient to the chart header with the patient's name;
- VmRSS / VmHWM of the viewer server process (and its children) after the census and after
  the charts.

Same-run floor (bench/flet_floor.py): the smallest Flet page, served the same way, whose search
box echoes each keystroke into one Text. Its page load, keystroke-to-echo latency, Python CPU
time and websocket bytes per keystroke are measured in the same run, and the viewer's figures are
reported as ratios to it: keystroke p95 / floor keystroke p95 (targets: 1.5x on a ward, 2x
hospital-wide), login-to-census and click-to-chart p50 / floor page load p50 (target 2x each).
Per keystroke also: the viewer process's CPU time (utime+stime from /proc, "our Python time")
and the websocket bytes Playwright sees (`page.on("websocket")`, framereceived = sent to the
browser, framesent = from it), from the key press until the list settled.

A keystroke's latency is measured in the page, for the floor and the viewer alike
(KEY_PROBE_JS): from the keydown event to the accessibility tree showing the expected state
(Flutter writes it in the frame that lays out that state; the frame's rasterisation follows).
Playwright's wall clock from the press to its locator finding that state is reported beside it
(`wall_p50_ms`, `wall_p95_ms`): it adds Playwright's round trips and polling, 50-110 ms at
the floor and 45-330 ms at the viewer, whose state takes three locators to check. Page loads,
logins and clicks are wall clock. Figures are reported, never asserted.
This is a benchmark, not a test: nothing here runs in the test suite.
Side effects: writes the demo home under `tmp`, starts (and always stops) a viewer subprocess
and a headless Chromium.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
E2E = ROOT / "tests" / "e2e"
if str(E2E) not in sys.path:  # reuse the e2e tests' constants and helpers, not a copy of them
    sys.path.insert(0, str(E2E))

from e2e_support import CHROMIUM, CHROMIUM_ARGS, VIEWPORT, free_port, wait_for_port  # noqa: E402

from app.ui import fmt  # noqa: E402
from app.ui.state import CensusModel  # noqa: E402
from sync.model import CensusRow  # noqa: E402

# The clock of bench/__main__.py (NOW there; not imported: `python -m bench` runs that module as
# __main__, and importing it again from here would run it twice).
NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
KEYS_BUDGET_S = 90.0  # typing per ward: a 10,000-patient census answers a key in seconds
SEARCH_LIMIT = 60  # app.ui.session.Backend.search's limit
WAIT_MS = 15_000  # one interaction; a miss is recorded, not fatal
LOGIN_WAIT_MS = 90_000  # opening a big snapshot after login may take a while


# In-page timing of a keystroke, the same for the floor and the viewer. Installed before the
# page's own scripts: a capturing keydown listener notes when the key reached the page, and a
# MutationObserver notes when the accessibility tree (Flutter's semantics DOM, which Flutter
# writes in the frame that lays out the new state) first shows what the benchmark waits for.
# Playwright's own round trips and locator polling are thereby left out of the figure: they
# added 50-110 ms per key at the floor (one text locator; p50 of three runs) and 45-330 ms at the
# viewer (a count, a first row and a vanished row, each a locator over the whole tree, awaited
# one after the other), which made the old wall-clock ratio unfair to the viewer, by a varying
# amount. The wall-clock figure is still reported (`wall`).
KEY_PROBE_JS = """
(() => {
  const texts = (el) => {
    const own = Array.from(el.childNodes).filter((n) => n.nodeType === 3).map((n) => n.data);
    return [el.getAttribute('aria-label') || '', own.join('')];
  };
  const holds = (w) => {
    const nodes = document.querySelectorAll('flt-semantics, flt-semantics *');
    const found = w.want.map(() => false);
    for (const el of nodes) {
      for (const t of texts(el)) {
        if (w.gone && w.gone.test(t)) return false;
        w.want.forEach((group, i) => {
          if (!found[i] && group.some((re) => re.test(t))) found[i] = true;
        });
      }
    }
    return found.every(Boolean);
  };
  const check = () => {
    const w = window.__wardcopyKey;
    if (w && w.key !== null && w.t === null && holds(w)) w.t = performance.now();
  };
  window.__wardcopyWatch = (want, gone) => {
    if (window.__wardcopyKey && window.__wardcopyKey.obs) window.__wardcopyKey.obs.disconnect();
    const w = {
      want: want.map((g) => g.map((src) => new RegExp(src, 's'))),
      gone: gone ? new RegExp(gone, 's') : null, key: null, t: null,
    };
    w.obs = new MutationObserver(check);
    w.obs.observe(document.documentElement,
      {subtree: true, childList: true, characterData: true, attributes: true});
    window.__wardcopyKey = w;
  };
  window.addEventListener('keydown', () => {
    const w = window.__wardcopyKey;
    if (w && w.key === null) w.key = performance.now();
  }, true);
})();
"""


def _js_pattern(pattern: re.Pattern[str]) -> str:
    """A Python pattern of this module (re.escape and lookahead only) as JavaScript source."""
    return pattern.pattern


def _watch(page: Any, want: list[list[re.Pattern[str]]], gone: re.Pattern[str] | None) -> None:
    """Arm the in-page timing for the next key: it stops when every group of `want` has a
    match in the accessibility tree (any pattern of the group) and `gone` has none."""
    page.evaluate(
        "([want, gone]) => window.__wardcopyWatch(want, gone)",
        [[[_js_pattern(p) for p in group] for group in want], _js_pattern(gone) if gone else None],
    )


def _watched(page: Any, timeout_ms: float = WAIT_MS) -> float:
    """Seconds from the key reaching the page to the watched state, measured in the page.
    Raises Playwright's TimeoutError when the state is not reached in `timeout_ms`."""
    page.wait_for_function(
        "() => window.__wardcopyKey && window.__wardcopyKey.t !== null", timeout=timeout_ms
    )
    ms = page.evaluate("() => window.__wardcopyKey.t - window.__wardcopyKey.key")
    return float(ms) / 1000


@dataclass
class WardPlan:
    """What one ward's run types and expects, read from its installed snapshot."""

    ward: str
    rows: list[CensusRow]
    user: str
    password: str
    # Surname prefixes to type (folded, capitalised like a person types them).
    prefixes: list[str] = field(default_factory=list)
    # The snapshot's own search hits per typed query (what the viewer merges in after its
    # debounce), so that either list counts as "updated".
    hits: dict[str, list[CensusRow]] = field(default_factory=dict)
    charts: list[CensusRow] = field(default_factory=list)


class Wire:
    """Websocket payload bytes of one tab, as Playwright sees them (attach before `goto`)."""

    def __init__(self, page: Any) -> None:
        self.to_browser = 0  # framereceived: what the server sent to the browser
        self.from_browser = 0  # framesent
        page.on("websocket", self._attach)

    def _attach(self, ws: Any) -> None:
        ws.on("framereceived", lambda payload: self._count(payload, inbound=True))
        ws.on("framesent", lambda payload: self._count(payload, inbound=False))

    def _count(self, payload: str | bytes, *, inbound: bool) -> None:
        size = len(payload.encode()) if isinstance(payload, str) else len(payload)
        if inbound:
            self.to_browser += size
        else:
            self.from_browser += size

    def total(self) -> tuple[int, int]:
        return self.to_browser, self.from_browser


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) the process `pid` has used so far (/proc/PID/stat)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class KeyCosts:
    """Per measured keystroke: latency (s), CPU of the server (s), bytes to/from the browser."""

    latency: list[float] = field(default_factory=list)  # in the page (KEY_PROBE_JS)
    wall: list[float] = field(default_factory=list)  # Playwright's wall clock, round trips in
    cpu: list[float] = field(default_factory=list)
    to_browser: list[int] = field(default_factory=list)
    from_browser: list[int] = field(default_factory=list)

    def add(self, latency: float, cpu: float, wire: tuple[int, int], *, wall: float) -> None:
        self.latency.append(latency)
        self.wall.append(wall)
        self.cpu.append(cpu)
        self.to_browser.append(wire[0])
        self.from_browser.append(wire[1])

    def summary(self) -> dict[str, Any]:
        out = _summary(self.latency)
        if self.wall:
            wall = _summary(self.wall)
            out["wall_p50_ms"], out["wall_p95_ms"] = wall["p50_ms"], wall["p95_ms"]
        if self.cpu:
            # /proc counts CPU in 10 ms ticks: the mean over all keys is the usable figure.
            out["python_cpu_mean_ms"] = _ms(statistics.fmean(self.cpu))
            out["bytes_to_browser_p50"] = int(statistics.median(self.to_browser))
            out["bytes_to_browser_p95"] = int(_p95([float(b) for b in self.to_browser]))
            out["bytes_from_browser_p50"] = int(statistics.median(self.from_browser))
        return out


def _say(message: str) -> None:
    """Progress on stderr (the result dict goes to stdout)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18] if len(values) >= 20 else max(values)


def _summary(values: list[float]) -> dict[str, Any]:
    """p50/p95/max in ms of latencies in seconds (empty: n=0 only)."""
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50_ms": _ms(statistics.median(values)),
        "p95_ms": _ms(_p95(values)),
        "max_ms": _ms(max(values)),
    }


def _proc_memory(pid: int) -> dict[str, float]:
    """VmRSS/VmHWM in MiB of `pid` and the summed VmRSS of its live child processes."""

    def status(p: int) -> dict[str, float]:
        out: dict[str, float] = {}
        with suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    out[key] = int(value.split()[0]) / 1024
        return out

    def children(p: int) -> list[int]:
        kids: list[int] = []
        with suppress(OSError):
            for task in Path(f"/proc/{p}/task").iterdir():
                with suppress(OSError):
                    kids += [int(k) for k in (task / "children").read_text().split()]
        return kids

    main = status(pid)
    todo, child_rss = children(pid), 0.0
    while todo:
        kid = todo.pop()
        child_rss += status(kid).get("VmRSS", 0.0)
        todo += children(kid)
    return {
        "rss_mb": round(main.get("VmRSS", 0.0), 1),
        "hwm_mb": round(main.get("VmHWM", 0.0), 1),
        "children_rss_mb": round(child_rss, 1),
    }


def _plan(home: Path, ward: str, user: str, password: str, rng: random.Random) -> WardPlan:
    """Read the ward's census and pick surname prefixes and patients to open."""
    from sync.receive import open_installed

    snap = open_installed(home, ward)
    try:
        rows = snap.reader.census()
        plan = WardPlan(ward, rows, user, password)
        surnames = sorted(
            {fmt.fold(r.name.split(",")[0].split("-")[0].split()[0]) for r in rows if r.name}
        )
        surnames = [s for s in surnames if len(s) >= 3 and s.isalpha() and s.isascii()]
        for surname in rng.sample(surnames, min(8, len(surnames))):
            prefix = surname[:5].capitalize()
            plan.prefixes.append(prefix)
            for i in range(1, len(prefix) + 1):
                plan.hits[prefix[:i]] = snap.reader.search(prefix[:i], limit=SEARCH_LIMIT)
    finally:
        snap.close()
    with_mrn = [r for r in rows if r.mrn and r.name]
    plan.charts = rng.sample(with_mrn, min(15, len(with_mrn)))
    return plan


def _expect(plan: WardPlan, query: str, *, merged: bool = False) -> tuple[str, list[str]]:
    """(count text, first names) the viewer should show for `query`: its local filter, or
    with `merged` the list after the snapshot's search hits arrived."""
    model = CensusModel(plan.rows, ward_id=plan.ward)
    model.set_query(query)
    if merged:
        model.apply_search(query, plan.hits.get(query, []))
    visible = model.visible()
    # The count is all matches (the list shows a window of them and a "N more" row).
    return f"{len(visible)} of {len(plan.rows)} patients", [r.name for r in visible[:30]]


def _count_pattern(count: str) -> re.Pattern[str]:
    """The census count showing `count` ("34 of 34 patients"), alone or followed (on the same
    or the next line) by the ward's on-ward / discharged figures ("30 on the ward, ...")."""
    return re.compile(rf"^{re.escape(count)}(?:\s.*)?$", re.S)


def _count(page: Any, count: str) -> Any:
    """The census count text showing `count` (_count_pattern)."""
    return page.get_by_text(_count_pattern(count))


def _row_pattern(name: str) -> re.Pattern[str]:
    """A row label holding `name` (not a longer name that starts with it)."""
    return re.compile(re.escape(name) + r"(?!\w)")


def _row(page: Any, name: str) -> Any:
    """A census row (one button in the accessibility tree) whose label holds `name`. The row
    at the top of the list is named as a "group" by Flutter's web semantics now and then (seen
    with Flet 1.0.5, also before the list window): it counts too, or the first row would never
    be found."""
    pattern = _row_pattern(name)
    return page.get_by_role("button", name=pattern).or_(page.get_by_role("group", name=pattern))


@contextmanager
def _viewer(home: Path, ward: str, log: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """The viewer in web mode on a free port of 127.0.0.1 (no CDN); always stopped on exit."""
    port = free_port()
    env = {**os.environ, "LANG": "en_US.UTF-8", "PYTHONPATH": str(ROOT)}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.ui.launch", "--home", str(home), "--port", str(port),
             "--ward", ward, "--no-open"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_for_port(port, process, timeout=120)
        yield process, f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _open_page(browser: Any, url: str) -> tuple[Any, Any]:
    """A fresh 1366x768 tab on the viewer with the accessibility tree switched on; its
    websocket byte counter is `page.wire`."""
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(KEY_PROBE_JS)
    page = context.new_page()
    page.wire = Wire(page)
    page.set_default_timeout(WAIT_MS)
    page.goto(url)
    page.wait_for_selector("flt-semantics-placeholder", state="attached", timeout=60_000)
    page.locator("flt-semantics-placeholder").dispatch_event("click")
    page.get_by_role("textbox", name="User id").wait_for(timeout=LOGIN_WAIT_MS)
    return context, page


def _type_into(page: Any, label: str, text: str) -> None:
    """Type like a person; Flutter takes the focus a moment after the click, so check."""
    box = page.get_by_role("textbox", name=label)
    for _attempt in range(5):
        box.click()
        page.wait_for_timeout(300)
        box.press("Control+a")
        box.press("Backspace")
        box.press_sequentially(text, delay=15)
        for _poll in range(30):  # a loaded machine mirrors the value seconds later
            if box.input_value() == text:
                return
            page.wait_for_timeout(100)
    raise RuntimeError(f"could not type into {label!r}")


def _login(page: Any, plan: WardPlan) -> float:
    """Log in; seconds from Enter to the census's first row and count being shown."""
    _type_into(page, "User id", plan.user)
    _type_into(page, "Password", plan.password)
    page.wait_for_timeout(150)
    count, first = _expect(plan, "")
    started = time.perf_counter()
    page.keyboard.press("Enter")
    _row(page, first[0]).first.wait_for(timeout=LOGIN_WAIT_MS)
    _count(page, count).wait_for(timeout=LOGIN_WAIT_MS)
    return time.perf_counter() - started


def _keystrokes(page: Any, plan: WardPlan, misses: list[str], pid: int) -> KeyCosts:
    """Seconds from one key reaching the page to the list the user should see, measured in
    the page (KEY_PROBE_JS; Playwright's wall clock beside it), per measurable key.

    The list counts as updated when it shows the viewer's local filter or the list with the
    snapshot's search hits merged (whichever the viewer draws first). A key is measured when
    the count text or the first row changes (the previous first row must leave the first
    screenful, so its absence proves the list was redrawn). Between keys the merged list is
    awaited, so each key starts from a settled screen. CPU time and websocket bytes are counted
    from the key press until that merged list is shown (the debounced search included)."""
    box = page.get_by_role("textbox", name="Search (Ctrl+F)")
    box.click()
    page.wait_for_timeout(400)  # Flutter takes the focus a moment after the click
    costs = KeyCosts()
    base_count, base_first = _expect(plan, "")
    deadline = time.monotonic() + KEYS_BUDGET_S
    for prefix in plan.prefixes:
        if time.monotonic() > deadline:  # bounded run; the keys so far give the figures
            break
        box.fill("")
        _count(page, base_count).wait_for()
        page.wait_for_timeout(300)  # let the debounced search of the clearing settle
        prev_count, prev_first = base_count, base_first
        for i in range(1, len(prefix) + 1):
            query = prefix[:i]
            count, first = _expect(plan, query)
            m_count, m_first = _expect(plan, query, merged=True)
            old_gone = bool(
                prev_first and first and m_first and prev_first[0] not in first + m_first
            )
            measurable = prev_count not in (count, m_count) or old_gone
            # The state the key should lead to: the count (local filter or merged search), the
            # first row, and (when it must leave) no longer the previous first row.
            want = [[_count_pattern(count), _count_pattern(m_count)]]
            if first and m_first:
                want.append([_row_pattern(first[0]), _row_pattern(m_first[0])])
            _watch(page, want, _row_pattern(prev_first[0]) if old_gone else None)
            cpu0, wire0 = _cpu_s(pid), page.wire.total()
            started = time.perf_counter()
            page.keyboard.type(prefix[i - 1])
            try:
                in_page = _watched(page)
                elapsed = time.perf_counter() - started
                _count(page, m_count).wait_for(timeout=WAIT_MS)
                page.wait_for_timeout(100)  # the last frames of this key's update
                if measurable:
                    wire1 = page.wire.total()
                    costs.add(
                        in_page,
                        _cpu_s(pid) - cpu0,
                        (wire1[0] - wire0[0], wire1[1] - wire0[1]),
                        wall=elapsed,
                    )
            except Exception as exc:  # a miss is a finding, not a crash of the benchmark
                misses.append(f"key {query!r}: {type(exc).__name__}; box={box.input_value()!r}")
                box.fill(query)
                page.wait_for_timeout(1_000)
            prev_count, prev_first = m_count, m_first
            page.wait_for_timeout(150)  # a person's pace
    box.fill("")
    _count(page, base_count).wait_for()
    return costs


def _charts(page: Any, plan: WardPlan, misses: list[str]) -> tuple[list[float], list[float]]:
    """(click to chart header with the name, Escape back to the census) in seconds."""
    box = page.get_by_role("textbox", name="Search (Ctrl+F)")
    opened: list[float] = []
    back: list[float] = []
    for patient in plan.charts:
        assert patient.mrn
        try:
            box.fill(patient.mrn)
            target = _row(page, patient.name).first
            target.wait_for()
            page.wait_for_timeout(300)
            started = time.perf_counter()
            target.click()
            page.get_by_text(patient.name, exact=True).first.wait_for()
            page.get_by_text("Active medications").first.wait_for()
            opened.append(time.perf_counter() - started)
            page.wait_for_timeout(200)
            started = time.perf_counter()
            page.keyboard.press("Escape")
            box.wait_for()
            _row(page, patient.name).first.wait_for()
            back.append(time.perf_counter() - started)
        except Exception as exc:  # recorded; the next patient starts from the census again
            misses.append(f"chart {patient.patient_id}: {type(exc).__name__}")
            page.keyboard.press("Escape")
            page.wait_for_timeout(1_000)
    box.fill("")
    return opened, back


def _bench_ward(browser: Any, home: Path, plan: WardPlan, logins: int, log: Path) -> dict[str, Any]:
    """Start the viewer on one ward and measure everything there."""
    misses: list[str] = []
    started = time.perf_counter()
    with _viewer(home, plan.ward, log) as (process, url):
        listening = time.perf_counter() - started
        context, page = _open_page(browser, url)
        login_usable = time.perf_counter() - started
        _say(f"{plan.ward}: login screen usable after {login_usable:.1f} s")
        login_times: list[float] = []
        try:
            login_times.append(_login(page, plan))
            _say(f"{plan.ward}: census after {login_times[0]:.2f} s; typing")
            mem_census = _proc_memory(process.pid)
            keys = _keystrokes(page, plan, misses, process.pid)
            _say(f"{plan.ward}: {len(keys.latency)} keys measured; opening charts")
            opened, back = _charts(page, plan, misses)
            mem_charts = _proc_memory(process.pid)
        finally:
            context.close()
        # More logins, each in a fresh tab (a new session opens the snapshot again).
        for n in range(logins - 1):
            _say(f"{plan.ward}: login {n + 2} of {logins} in a fresh tab")
            for attempt in (1, 2):  # a loaded machine now and then loses the typed user id
                context, page = _open_page(browser, url)
                try:
                    login_times.append(_login(page, plan))
                    break
                except Exception as exc:  # recorded; the figures of the other logins stand
                    misses.append(f"login {n + 2}.{attempt}: {type(exc).__name__}: {exc!s:.120}")
                finally:
                    context.close()
        mem_end = _proc_memory(process.pid)
    return {
        "ward": plan.ward,
        "loadavg_1m_at_end": round(os.getloadavg()[0], 1),
        "patients": len(plan.rows),
        "start_to_listening_s": round(listening, 2),
        "start_to_login_usable_s": round(login_usable, 2),
        "login_to_census": _summary(login_times),
        "login_each_s": [round(t, 2) for t in login_times],  # first, second, third ... login
        "keystroke_to_list": keys.summary(),
        "click_to_chart": _summary(opened),
        "escape_to_census": _summary(back),
        "memory_after_census": mem_census,
        "memory_after_charts": mem_charts,
        "memory_after_all_logins": mem_end,
        "misses": misses,
    }


FLOOR_WORDS = ["Mueller", "Schmidt", "Weber", "Becker", "Hoffmann", "Koch"]


@contextmanager
def _floor_server(log: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """bench/flet_floor.py on a free port of 127.0.0.1; always stopped on exit."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.flet_floor", "--port", str(port)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_for_port(port, process, timeout=120)
        yield process, f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def bench_floor(browser: Any, log: Path, loads: int = 5) -> dict[str, Any]:
    """The same-run floor: page load (goto to a usable search box), keystroke to echo,
    click to one drawn line, with CPU and websocket bytes per keystroke.

    Raises whatever Playwright raises when the floor page itself does not work."""
    from bench.flet_floor import BOX_LABEL, ECHO_PREFIX, OPEN_LABEL, OPENED_TEXT

    page_loads: list[float] = []
    clicks: list[float] = []
    costs = KeyCosts()
    with _floor_server(log) as (process, url):
        for n in range(loads):
            context = browser.new_context(viewport=VIEWPORT)
            context.add_init_script(KEY_PROBE_JS)
            try:
                page = context.new_page()
                page.wire = Wire(page)
                page.set_default_timeout(WAIT_MS)
                started = time.perf_counter()
                page.goto(url)
                page.wait_for_selector(
                    "flt-semantics-placeholder", state="attached", timeout=60_000
                )
                page.locator("flt-semantics-placeholder").dispatch_event("click")
                box = page.get_by_role("textbox", name=BOX_LABEL)
                box.wait_for(timeout=LOGIN_WAIT_MS)
                page_loads.append(time.perf_counter() - started)
                if n:
                    continue  # the keys and clicks are measured in the first tab
                box.click()
                page.wait_for_timeout(400)
                for word in FLOOR_WORDS:
                    box.fill("")
                    page.get_by_text(ECHO_PREFIX.strip(), exact=True).wait_for()
                    page.wait_for_timeout(300)
                    for i in range(1, len(word) + 1):
                        echo = re.compile(f"^{re.escape(ECHO_PREFIX + word[:i])}$")
                        _watch(page, [[echo]], None)
                        cpu0, wire0 = _cpu_s(process.pid), page.wire.total()
                        started = time.perf_counter()
                        page.keyboard.type(word[i - 1])
                        in_page = _watched(page)
                        elapsed = time.perf_counter() - started
                        page.get_by_text(ECHO_PREFIX + word[:i], exact=True).wait_for()
                        page.wait_for_timeout(100)
                        wire1 = page.wire.total()
                        costs.add(
                            in_page,
                            _cpu_s(process.pid) - cpu0,
                            (wire1[0] - wire0[0], wire1[1] - wire0[1]),
                            wall=elapsed,
                        )
                        page.wait_for_timeout(150)
                button = page.get_by_role("button", name=OPEN_LABEL)
                for k in range(10):
                    want = OPENED_TEXT if k % 2 == 0 else OPENED_TEXT + " again"
                    page.wait_for_timeout(200)
                    started = time.perf_counter()
                    button.click()
                    page.get_by_text(want, exact=True).wait_for()
                    clicks.append(time.perf_counter() - started)
            finally:
                context.close()
    return {
        "page_load": _summary(page_loads),
        "keystroke_to_echo": costs.summary(),
        "click_to_text": _summary(clicks),
    }


def _ratio(value: dict[str, Any], key: str, floor: dict[str, Any], floor_key: str) -> float | None:
    if key not in value or floor_key not in floor or not floor[floor_key]:
        return None
    return round(float(value[key]) / float(floor[floor_key]), 2)


def ratios_to_floor(result: dict[str, Any]) -> dict[str, Any]:
    """Pure: the viewer's figures as multiples of the same run's floor, with the targets."""
    floor = result.get("floor", {})
    load = floor.get("page_load", {})
    key_floor = floor.get("keystroke_to_echo", {})
    out: dict[str, Any] = {}
    for where, key_target in (("ward", 1.5), ("hospital", 2.0)):
        figures = result.get(where)
        if not figures:
            continue
        keys = figures["keystroke_to_list"]
        out[where] = {
            "keystroke_p50_x": _ratio(keys, "p50_ms", key_floor, "p50_ms"),
            "keystroke_p95_x": _ratio(keys, "p95_ms", key_floor, "p95_ms"),
            "keystroke_p95_target_x": key_target,
            "keystroke_wall_p95_x": _ratio(keys, "wall_p95_ms", key_floor, "wall_p95_ms"),
            "python_cpu_per_key_x": _ratio(
                keys, "python_cpu_mean_ms", key_floor, "python_cpu_mean_ms"
            ),
            "bytes_to_browser_per_key_x": _ratio(
                keys, "bytes_to_browser_p50", key_floor, "bytes_to_browser_p50"
            ),
            "login_to_census_x_page_load": _ratio(
                figures["login_to_census"], "p50_ms", load, "p50_ms"
            ),
            "click_to_chart_x_page_load": _ratio(
                figures["click_to_chart"], "p50_ms", load, "p50_ms"
            ),
            "login_chart_target_x": 2.0,
        }
    return out


def _largest_ward(home: Path) -> str:
    from sync.receive import installed_wards, open_installed

    best, size = "", -1
    for ward in installed_wards(home):
        if ward == "hospital":
            continue
        snap = open_installed(home, ward)
        try:
            n = len(snap.reader.census())
        finally:
            snap.close()
        if n > size:
            best, size = ward, n
    return best


def bench_viewer_browser(
    patients: int,
    tmp: Path,
    *,
    demo: Path | None = None,
    logins: int = 3,
    where: tuple[str, ...] = ("hospital", "ward"),
) -> dict[str, Any]:
    """Measure the viewer in Chromium on a demo home of `patients` patients.

    Builds the demo under `tmp` unless `demo` names an existing demo folder (from make_demo).
    Raises FileNotFoundError if /usr/bin/chromium is missing; whatever the build raises.
    """
    if not CHROMIUM.exists():
        raise FileNotFoundError(f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    from wardcopy_demo import DEMO_USERS, make_demo

    # The machine's load is part of the figures (a shared CI box inflates every latency).
    result: dict[str, Any] = {"patients": patients, "cpus": os.cpu_count()}
    if demo is None:
        started = time.perf_counter()
        demo = tmp / f"viewer-demo-{patients}"
        make_demo(demo, patients, seed=1, now=NOW)
        result["build_s"] = round(time.perf_counter() - started, 1)
    home = demo / "laptop"
    user, _name, _role, password = DEMO_USERS[0]
    rng = random.Random(1)
    result["loadavg_1m_at_start"] = round(os.getloadavg()[0], 1)
    wards = (["hospital"] if "hospital" in where else []) + (
        [_largest_ward(home)] if "ward" in where else []
    )
    plans = [_plan(home, w, user, password, rng) for w in wards]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            _say("floor: the minimal Flet page")
            result["floor"] = bench_floor(browser, tmp / "floor.log")
            for plan in plans:
                key = "hospital" if plan.ward == "hospital" else "ward"
                log = tmp / f"viewer-{patients}-{plan.ward}.log"
                result[key] = _bench_ward(browser, home, plan, logins, log)
        finally:
            browser.close()
    result["ratios_to_floor"] = ratios_to_floor(result)
    return result


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.viewer_e2e", description=__doc__)
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--demo", type=Path, default=None, help="an existing make_demo folder")
    parser.add_argument("--logins", type=int, default=3, help="logins per ward (fresh tabs)")
    parser.add_argument("--out", type=Path, default=None, help="also write the result as JSON")
    parser.add_argument(
        "--only",
        choices=("hospital", "ward"),
        default=None,
        help="measure the floor and this census only (default: both)",
    )
    args = parser.parse_args(argv)
    where = (args.only,) if args.only else ("hospital", "ward")
    with tempfile.TemporaryDirectory(prefix="wardcopy-viewer-bench-") as tmp:
        started = time.perf_counter()
        result = bench_viewer_browser(
            args.patients, Path(tmp), demo=args.demo, logins=args.logins, where=where
        )
        result["bench_s"] = round(time.perf_counter() - started, 1)
        print(result, flush=True)
        if args.out is not None:
            import json

            args.out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())

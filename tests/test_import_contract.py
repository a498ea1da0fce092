"""The module contract of docs/architecture.md ("What may import what"), checked two ways:

- statically, on the import statements of every module in app/ and sync/ (AST, no import runs):
  app uses only sync's read side; sync never imports app, flet, reportlab or the demo; only
  sync.snapshot (and its sub-modules) imports sqlcipher3; the import graph has no cycles;
- at run time, in a fresh interpreter: `import app.cli`, `wardcopy --help` and `wardcopy print`
  load no server-side module, and `--help` loads no Flet, pydantic models, reportlab or SQLCipher.

Rules match modules by dotted prefix ("sync.snapshot" covers sync/snapshot.py and a
sync/snapshot/ package alike), so they hold when a module is split into a package.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import Demo

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("app", "sync")

# What the laptop (app/) may use of sync/: the read side and the pieces both sides share.
SYNC_READ_SIDE = (
    "sync.checks",  # the OK/WARN/FAIL check format of both doctors
    "sync.device",
    "sync.errors",
    "sync.fhirtime",
    "sync.fsutil",
    "sync.keys",
    "sync.lock",
    "sync.logs",  # the CLIs' log set-up
    "sync.model",
    "sync.package",
    "sync.paths",
    "sync.receive",
    "sync.roster",
    "sync.rosterlogin",  # the login's early read of the roster (no pydantic)
    "sync.searchtext",
    "sync.snapshot",
    "sync.verifier",
    "sync.verify",
)
# The server side: building, publishing and the server's own commands. `wardcopy` never loads it.
SYNC_SERVER_SIDE = (
    "sync.build",
    "sync.cli",
    "sync.config",
    "sync.cycle",
    "sync.doctor",
    "sync.export",
    "sync.generate",
    "sync.mapping",
    "sync.publish",
    "sync.refs",
    "sync.sources",
    "sync.staging",
    "sync.store",
    "sync.watch",
    "sync.workdirs",
    "sync.wards",
)
SYNC_NEVER = ("app", "wardcopy_demo", "flet", "reportlab")
SQLCIPHER_OWNER = "sync.snapshot"
# Loading any of these makes `wardcopy --help` slow (docs/performance.md).
# `wardcopy print` opens an installed snapshot; it never installs one or writes one.
PRINT_NEVER = ("sync.receive.install", "sync.receive.sources", "sync.lock", "sync.snapshot.writer")
HELP_NEVER = ("flet", "pydantic", "reportlab", "sqlcipher3", "babel", "cryptography", "httpx")


def under(module: str, prefixes: Iterable[str]) -> bool:
    """Pure: `module` is one of `prefixes` or inside one of them ("a.b" is under "a")."""
    return any(module == p or module.startswith(p + ".") for p in prefixes)


# --- the static import graph ------------------------------------------------------------------


@dataclass(frozen=True)
class Edge:
    source: str  # importing module, e.g. "app.cli"
    target: str  # imported module, e.g. "sync.errors"
    line: int


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _lazy_package(tree: ast.Module, is_package: bool) -> bool:
    """A package `__init__` with a module `__getattr__` (PEP 562) that loads the names it lists
    under `if TYPE_CHECKING:` on first use (sync.receive, sync.snapshot): those imports run."""
    return is_package and any(
        isinstance(n, ast.FunctionDef) and n.name == "__getattr__" for n in tree.body
    )


def _walk_runtime(node: ast.AST, lazy: bool = False) -> Iterator[ast.AST]:
    """Every node below `node` except the bodies of `if TYPE_CHECKING:` (never run), unless
    `lazy` (see `_lazy_package`)."""
    for child in ast.iter_child_nodes(node):
        if not lazy and isinstance(child, ast.If) and _type_checking_only(child):
            for other in child.orelse:
                yield other
                yield from _walk_runtime(other)
            continue
        yield child
        yield from _walk_runtime(child, lazy)


def imports_of(path: Path) -> list[Edge]:
    """Every import `path` runs, at module level or inside functions (a lazy import still
    loads the module when it runs), as edges to the imported modules. `from pkg import name`
    counts as an import of pkg.name when that is a module of ours, else of pkg."""
    source = module_name(path)
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    edges: list[Edge] = []
    for node in _walk_runtime(tree, _lazy_package(tree, is_package)):
        if isinstance(node, ast.Import):
            edges += [Edge(source, alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = source.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                parent = ".".join([*base, *([node.module] if node.module else [])])
            else:
                parent = node.module or ""
            for alias in node.names:
                sub = f"{parent}.{alias.name}"
                target = sub if _is_module(sub) else parent
                edges.append(Edge(source, target, node.lineno))
    return edges


@pytest.fixture(scope="module")
def edges() -> list[Edge]:
    return [edge for path in source_files() for edge in imports_of(path)]


def _where(edge: Edge) -> str:
    return f"{edge.source} imports {edge.target} (line {edge.line})"


def test_the_graph_sees_the_modules_we_know() -> None:
    # Guards the test itself: a parser that found nothing would pass every rule below.
    found = imports_of(ROOT / "app" / "cli.py")
    assert any(e.target == "sync.errors" for e in found)
    assert any(e.target == "wardcopy_demo" for e in found)  # the lazy import inside cmd_demo
    lazy = imports_of(ROOT / "sync" / "receive" / "__init__.py")  # names loaded on first use
    assert any(e.target == "sync.receive.install" for e in lazy)
    names = {module_name(p) for p in source_files()}
    assert {"app.cli", "sync.errors", "app.printing.cli"} <= names
    assert any(under(n, ["sync.snapshot"]) for n in names)


def test_app_uses_only_the_read_side_of_sync(edges: list[Edge]) -> None:
    wrong = [
        _where(e)
        for e in edges
        if under(e.source, ["app"]) and under(e.target, ["sync"]) and e.target != "sync"
        if not under(e.target, SYNC_READ_SIDE)
    ]
    assert not wrong, "app may use only sync's read side (docs/architecture.md):\n" + "\n".join(
        wrong
    )


def test_only_the_cli_reaches_the_demo_and_only_lazily(edges: list[Edge]) -> None:
    wrong = [
        _where(e) for e in edges if under(e.source, PACKAGES) and under(e.target, ["wardcopy_demo"])
    ]
    assert wrong == [w for w in wrong if w.startswith("app.cli imports wardcopy_demo ")]
    tree = ast.parse((ROOT / "app" / "cli.py").read_text(encoding="utf-8"))
    top_level = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    assert not [
        n for n in top_level if isinstance(n, ast.ImportFrom) and n.module == "wardcopy_demo"
    ]


def test_sync_never_imports_the_laptop_side_or_ui_libraries(edges: list[Edge]) -> None:
    wrong = [_where(e) for e in edges if under(e.source, ["sync"]) and under(e.target, SYNC_NEVER)]
    assert not wrong, "sync must not import app, demo, flet or reportlab:\n" + "\n".join(wrong)


def test_only_the_snapshot_modules_import_sqlcipher(edges: list[Edge]) -> None:
    wrong = [
        _where(e)
        for e in edges
        if under(e.target, ["sqlcipher3"]) and not under(e.source, [SQLCIPHER_OWNER])
    ]
    assert not wrong, "only sync.snapshot may import sqlcipher3:\n" + "\n".join(wrong)
    assert any(under(e.target, ["sqlcipher3"]) for e in edges)


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Pure: the strongly connected components with more than one module, or a self-import
    (Tarjan's algorithm, iterative), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph.get(node, ()):
                    cycles.append(sorted(component))
    return cycles


def test_cycle_finder_finds_a_cycle_and_accepts_a_tree() -> None:
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []


def test_no_import_cycles_in_app_and_sync(edges: list[Edge]) -> None:
    graph: dict[str, set[str]] = {}
    for e in edges:
        if e.source != e.target and under(e.target, PACKAGES):
            graph.setdefault(e.source, set()).add(e.target)
    cycles = find_cycles(graph)
    assert not cycles, "import cycles (each line one cycle):\n" + "\n".join(
        " <-> ".join(c) for c in cycles
    )


# --- what a real process loads ------------------------------------------------------------------

# Runs `wardcopy` (app.cli.main) with the given arguments and reports, at exit, every module the
# process loaded.
_PROBE = """
import atexit, json, sys
atexit.register(lambda: print("MODULES=" + json.dumps(sorted(sys.modules)), file=sys.stderr))
from app.cli import main
sys.exit(main(sys.argv[1:]))
"""


# The same, and also the modules loaded when the first Argon2id derivation starts (`sync.keys`
# computes every one through `argon2id`; the probe wraps it to look, it changes nothing).
_PROBE_AT_CHECK = (
    """
import atexit, json, sys
import sync.keys
at_check = []
real = sync.keys.argon2id
def looking(*args, **kwargs):
    at_check.append(sorted(sys.modules))
    return real(*args, **kwargs)
sync.keys.argon2id = looking
atexit.register(lambda: print("AT_CHECK=" + json.dumps(at_check[:1]), file=sys.stderr))
"""
    + _PROBE
)


def loaded_modules(
    args: list[str], tmp_path: Path, stdin: str | None = None, probe: str = _PROBE
) -> tuple[int, str, set[str]]:
    """Run `wardcopy ARGS` in a fresh interpreter (`stdin` piped in); (exit code, stdout,
    modules loaded)."""
    code, out, modules, _stderr = _run_probe(args, tmp_path, stdin, probe)
    return code, out, modules


def _run_probe(
    args: list[str], tmp_path: Path, stdin: str | None, probe: str
) -> tuple[int, str, set[str], str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "WARDCOPY_HOME": str(tmp_path / "h")}
    done = subprocess.run(
        [sys.executable, "-c", probe, *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    line = next(x for x in done.stderr.splitlines() if x.startswith("MODULES="))
    modules = set(json.loads(line.removeprefix("MODULES=")))
    return done.returncode, done.stdout, modules, done.stderr


def test_importing_the_laptop_cli_loads_no_server_code(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import sys, app.cli; print('\\n'.join(sys.modules))"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=True,
    )
    modules = set(done.stdout.split())
    assert "app.cli" in modules
    assert sorted(m for m in modules if under(m, SYNC_SERVER_SIDE)) == []
    assert sorted(m for m in modules if under(m, HELP_NEVER)) == []


def test_help_loads_no_server_code_ui_or_models(tmp_path: Path) -> None:
    code, out, modules = loaded_modules(["--help"], tmp_path)
    assert code == 0
    assert "print" in out and "receive" in out and "demo" in out
    assert sorted(m for m in modules if under(m, SYNC_SERVER_SIDE)) == []
    assert sorted(m for m in modules if under(m, HELP_NEVER)) == []
    assert sorted(m for m in modules if under(m, ["wardcopy_demo", "app.ui"])) == []


def test_printing_a_summary_loads_no_server_code(demo: Demo, tmp_path: Path) -> None:
    from sync.receive import open_installed

    ward = next(w for w in demo.wards if w != "hospital")
    snap = open_installed(demo.laptop, ward)
    try:
        patient = snap.reader.census()[0].patient_id
    finally:
        snap.close()
    out = tmp_path / "summary.pdf"
    args = ["--home", str(demo.laptop), "print", "summary", "--ward", ward]
    # The demo roster's nurse logs in as in the viewer (the login itself must not load server code).
    args += ["--patient", patient, "--user", "pflege", "--password-stdin", "--out", str(out)]
    code, stdout, modules = loaded_modules(args, tmp_path, stdin="pflege-demo\n")
    assert code == 0, stdout
    assert out.read_bytes().startswith(b"%PDF")
    assert "app.printing.summary" in modules  # it did render
    assert sorted(m for m in modules if under(m, SYNC_SERVER_SIDE)) == []
    assert sorted(m for m in modules if under(m, ["wardcopy_demo", "flet", "app.ui"])) == []
    # Printing reads an installed snapshot: the install transaction, the package sources and
    # the snapshot writer stay unloaded (start-up time, docs/performance.md).
    assert "sync.receive.installed" in modules and "sync.snapshot.reader" in modules
    assert sorted(m for m in modules if under(m, PRINT_NEVER)) == []


# Loaded by the time the print command's Argon2id check starts: none of these. The check starts
# from the roster read without its model (sync.rosterlogin), before pydantic, the login's own
# modules, the settings, the renderer or the snapshot reader load (docs/performance.md).
BEFORE_CHECK_NEVER = (
    "pydantic",
    "app.auth",
    "app.settings",
    "sync.roster",
    "sync.verifier",
    "sync.model",
    "reportlab",
    "sqlcipher3",
    "babel",
)


def test_printing_starts_the_password_check_before_pydantic_loads(
    demo: Demo, tmp_path: Path
) -> None:
    ward = next(w for w in demo.wards if w != "hospital")
    out = tmp_path / "census.pdf"
    args = ["--home", str(demo.laptop), "print", "census", "--ward", ward]
    args += ["--user", "pflege", "--password-stdin", "--out", str(out)]
    code, stdout, modules, stderr = _run_probe(args, tmp_path, "pflege-demo\n", _PROBE_AT_CHECK)
    assert code == 0, stdout + stderr
    assert out.read_bytes().startswith(b"%PDF")
    line = next(x for x in stderr.splitlines() if x.startswith("AT_CHECK="))
    first = json.loads(line.removeprefix("AT_CHECK="))
    assert first, "no Argon2id check ran"
    at_check = set(first[0])
    assert "sync.rosterlogin" in at_check and "app.printing.cli" in at_check
    assert sorted(m for m in at_check if under(m, BEFORE_CHECK_NEVER)) == []
    # ... and the rest of the command still loads them (the probe saw the right moment).
    assert {"pydantic", "app.auth", "sync.roster"} <= modules

"""sync.snapshot and sync.package are packages of small modules; the old import names still work,
and only sync/snapshot/ imports sqlcipher3 (so no other code can open a database unencrypted)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_only_the_snapshot_package_imports_sqlcipher() -> None:
    importers = sorted(
        str(path.relative_to(REPO))
        for folder in ("sync", "app")
        for path in (REPO / folder).rglob("*.py")
        if any(m.split(".")[0] == "sqlcipher3" for m in _imported_modules(path))
    )
    assert importers, "the snapshot package should import sqlcipher3"
    assert all(name.startswith("sync/snapshot/") for name in importers), importers


@pytest.mark.parametrize(
    ("package", "modules"),
    [
        ("sync.snapshot", ("schema", "codec", "search", "writer", "reader")),
        ("sync.package", ("canonical", "manifest", "seal", "verify", "documents")),
    ],
)
def test_old_import_names_are_the_objects_of_the_new_modules(
    package: str, modules: tuple[str, ...]
) -> None:
    top = importlib.import_module(package)
    assert Path(top.__file__ or "").name == "__init__.py"
    owners: dict[str, str] = {}
    for name in modules:
        module = importlib.import_module(f"{package}.{name}")
        for attr, value in vars(module).items():
            if attr.startswith("_") or getattr(value, "__module__", None) != module.__name__:
                continue
            owners[attr] = module.__name__
            # Every public class/function defined in a submodule is reachable under the old name.
            assert getattr(top, attr) is value, f"{package}.{attr}"
    # Every listed name resolves (sync.snapshot loads its modules on first use: not yet in vars).
    assert [name for name in top.__all__ if not hasattr(top, name)] == []
    assert owners, package


def test_names_other_code_imports_still_resolve() -> None:
    from sync.package import (  # noqa: F401
        MAGIC,
        WARD_RE,
        Manifest,
        PackageError,
        PackageHeader,
        RecipientKey,
        TrustedKey,
        format_timestamp,
        open_document,
        parse_document,
        seal_document,
    )
    from sync.snapshot import (  # noqa: F401
        CENSUS_COLUMNS,
        PAGE_SIZE,
        RANKED_MAX,
        SCHEMA_VERSION,
        Connection,
        DatabaseError,
        PreparedRecord,
        SnapshotError,
        SnapshotMeta,
        SnapshotReader,
        SnapshotWriter,
        census_from_values,
        census_values,
        connect,
        new_key,
        prepare_record,
        write_snapshot,
    )

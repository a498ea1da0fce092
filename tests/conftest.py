"""Fixtures shared by several test modules.

`demo`: a private, breakable copy of one demo chain (generated FHIR, real keys, real SQLCipher
packages, a published outbox, a real laptop home with every ward installed). The chain itself is
built once per session (`demo_chain`), which saves a full build for every module that uses it.

Test modules must not import this file at run time (pytest may have another `conftest` module
loaded under that name, e.g. tests/e2e/conftest.py); import `Demo` under TYPE_CHECKING only.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests assert what is true, not how fast: a shared CI or laptop under load must not fail
# one on Hypothesis's 200 ms per-example deadline. Tests that set their own settings still may.
settings.register_profile("wardcopy", deadline=None)
settings.load_profile("wardcopy")


@dataclass(frozen=True)
class Demo:
    """Where the parts of a demo chain live, and the moment it was built as of (`now`)."""

    folder: Path
    sync_home: Path
    outbox: Path
    laptop: Path
    source: Path
    wards: list[str]
    now: datetime


def _demo_in(folder: Path, wards: list[str], now: datetime) -> Demo:
    # The layout demo.make_demo writes.
    return Demo(
        folder, folder / "server", folder / "outbox", folder / "laptop", folder / "fhir", wards, now
    )


@pytest.fixture(scope="session")
def demo_chain(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """The demo chain, built once per session. Tests must not change it: use `demo`."""
    from wardcopy_demo import make_demo

    now = datetime.now(UTC).replace(second=0, microsecond=0)
    folder = tmp_path_factory.mktemp("demo-chain") / "demo"
    result = make_demo(folder, patients=20, seed=1, now=now)
    return _demo_in(folder, result.installed, now)


@pytest.fixture
def demo(demo_chain: Demo, tmp_path: Path) -> Demo:
    """A private copy of the demo chain that a test may break."""
    folder = tmp_path / "demo"
    shutil.copytree(demo_chain.folder, folder)
    return _demo_in(folder, demo_chain.wards, demo_chain.now)

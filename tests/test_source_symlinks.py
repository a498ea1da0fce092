"""Symbolic links in a FHIR source folder: a link to a file outside the folder (a build once read
/etc/passwd through one) is reported and not read unless the configuration allows it; links inside
the folder keep working. Real files, links and builds."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sync.build import build_snapshots
from sync.config import Config, parse_config
from sync.sources import SourceItem, SourceProblem, iter_source
from sync.sources.files import OUTSIDE_LINK

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges")


def _patient(pid: str) -> str:
    return json.dumps(
        {
            "resourceType": "Patient",
            "id": pid,
            "name": [{"family": "Outsider", "given": ["Otto"]}],
            "meta": {"lastUpdated": "2025-03-09T08:00:00+01:00"},
        }
    )


@pytest.fixture
def source(tmp_path: Path) -> Path:
    folder = tmp_path / "export"
    (folder / "sub").mkdir(parents=True)
    (folder / "patients.ndjson").write_text(_patient("p-inside") + "\n")
    (folder / "sub" / "real.ndjson").write_text(_patient("p-linked-inside") + "\n")
    os.symlink(folder / "sub" / "real.ndjson", folder / "alias.ndjson")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "other.ndjson").write_text(_patient("p-outside") + "\n")
    os.symlink(outside / "other.ndjson", folder / "outside.ndjson")
    os.symlink("/etc/passwd", folder / "passwd.ndjson")
    os.symlink(outside, folder / "linked-folder")  # never descended into
    return folder


def _ids(items: list[SourceItem | SourceProblem]) -> list[str]:
    return sorted(i.resource["id"] for i in items if isinstance(i, SourceItem))


def test_links_out_of_the_source_folder_are_reported_not_read(source: Path) -> None:
    items = list(iter_source(source))
    assert _ids(items) == ["p-inside", "p-linked-inside", "p-linked-inside"]
    problems = {p.origin: p.reason for p in items if isinstance(p, SourceProblem)}
    assert set(problems) == {"outside.ndjson", "passwd.ndjson"}
    assert set(problems.values()) == {OUTSIDE_LINK}
    assert "outside the source folder" in OUTSIDE_LINK
    # /etc/passwd is never parsed: no "invalid JSON" from it.
    assert not any("invalid JSON" in r for r in problems.values())


def test_a_build_reports_the_links_and_the_option_follows_them(
    source: Path, tmp_path: Path
) -> None:
    result = build_snapshots(source, Config(), tmp_path / "work", now=NOW, workers=1)
    problems = result.report.problems
    assert problems[OUTSIDE_LINK] == 2  # names no file: names can carry patient names
    assert "invalid JSON" not in problems  # /etc/passwd was not read
    assert result.report.patients == 2

    config = parse_config({"follow_symlinks_outside_source": True})
    followed = build_snapshots(source, config, tmp_path / "work2", now=NOW, workers=1)
    assert followed.report.patients == 3  # p-outside read through the link
    assert "invalid JSON" in followed.report.problems  # /etc/passwd, read as configured

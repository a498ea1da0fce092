"""The two command lines, run as an IT admin would: real processes, real files, exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sync.generate import generate

NOW = "2026-11-30T06:00:00+00:00"
BIN = Path(sys.executable).parent


def _run(
    tool: str, *args: str, env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / tool), *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "WARDCOPY_SYNC_HOME": str(tmp_path / "server"),
        "WARDCOPY_HOME": str(tmp_path / "laptop"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }


@pytest.fixture(scope="module")
def fhir_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fhir")
    generate(out, 40, seed=3, now=__import__("datetime").datetime.fromisoformat(NOW))
    return out


def _enrolment_code(env: dict[str, str]) -> str:
    shown = _run("wardcopy", "device", "show", env=env)
    assert shown.returncode == 0, shown.stderr
    return next(line.split()[-1] for line in shown.stdout.splitlines() if "enrolment code" in line)


def test_whole_chain_through_both_command_lines(
    env: dict[str, str], fhir_source: Path, tmp_path: Path
) -> None:
    outbox = tmp_path / "outbox"
    made = _run("wardcopy-sync", "keys", "init", env=env)
    assert made.returncode == 0, made.stderr
    pub = tmp_path / "server" / "keys" / "signing.pub"
    init = _run("wardcopy", "device", "init", "--no-keyring", "--server-key", str(pub), env=env)
    assert init.returncode == 0, init.stderr
    assert "0600" in init.stderr  # the file-key warning is shown to the admin
    code = _enrolment_code(env)
    enrolled = _run("wardcopy-sync", "enrol", "--ward", "hospital", code, env=env)
    assert enrolled.returncode == 0, enrolled.stderr
    added = _run(
        "wardcopy-sync",
        "users",
        "add",
        "nurse1",
        "--role",
        "nurse",
        "--password-stdin",
        env=env,
        stdin="a-long-password\n",
    )
    assert added.returncode == 0, added.stderr
    assert "a-long-password" not in added.stdout + added.stderr

    built = _run(
        "wardcopy-sync", "build", "--source", str(fhir_source), "--out", str(outbox),
        "--now", NOW, env=env,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    assert "hospital" in built.stdout and "1 laptop(s)" in built.stdout
    assert (outbox / "roster.wcdoc").exists()

    received = _run("wardcopy", "receive", "--from", str(outbox), "--ward", "hospital", env=env)
    assert received.returncode == 0, received.stderr
    assert "package 1 installed" in received.stdout
    again = _run("wardcopy", "receive", "--from", str(outbox), env=env)
    assert again.returncode == 0, again.stderr
    assert "already installed" in again.stdout

    checked = _run("wardcopy", "verify", "--installed", env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    package = next((outbox / "hospital").glob("*.wcpkg"))
    tampered = tmp_path / "tampered.wcpkg"
    data = bytearray(package.read_bytes())
    data[len(data) // 2] ^= 0x01
    tampered.write_bytes(bytes(data))
    bad = _run("wardcopy", "verify", str(tampered), env=env)
    assert bad.returncode == 1
    assert "problem" in bad.stdout


def test_build_without_signing_key_says_what_to_run(
    env: dict[str, str], fhir_source: Path, tmp_path: Path
) -> None:
    result = _run(
        "wardcopy-sync", "build", "--source", str(fhir_source), "--out", str(tmp_path / "o"),
        env=env,
    )  # fmt: skip
    assert result.returncode == 4
    assert "wardcopy-sync keys init" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_receive_without_device_key_says_what_to_run(env: dict[str, str], tmp_path: Path) -> None:
    result = _run("wardcopy", "receive", "--from", str(tmp_path), "--ward", "w1", env=env)
    assert result.returncode == 4
    assert "wardcopy device init" in result.stderr


def test_config_check_lists_every_problem(env: dict[str, str], tmp_path: Path) -> None:
    config = tmp_path / "sync.toml"
    config.write_text('timezone = "Mars/Olympus"\nkeep_packages = 0\n', encoding="utf-8")
    result = _run("wardcopy-sync", "config", "check", str(config), env=env)
    assert result.returncode == 1
    assert "Mars/Olympus" in result.stdout
    assert "keep_packages" in result.stdout


def test_demo_without_viewer_installs_every_ward(env: dict[str, str], tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    result = _run(
        "wardcopy", "demo", "--no-view", "--patients", "30", "--dir", str(folder), env=env
    )
    assert result.returncode == 0, result.stderr
    assert "pflege" in result.stdout  # the demo credentials are printed
    wards = sorted(p.name for p in (folder / "laptop" / "snapshots").iterdir())
    assert "hospital" in wards and len(wards) >= 4
    listed = _run("wardcopy", "--home", str(folder / "laptop"), "verify", "--installed", env=env)
    assert listed.returncode == 0, listed.stdout


def test_a_time_without_offset_is_refused_with_an_example(
    env: dict[str, str], tmp_path: Path
) -> None:
    result = _run(
        "wardcopy-sync", "generate", "--out", str(tmp_path / "g"), "--now", "2026-01-01T00:00",
        env=env,
    )  # fmt: skip
    assert result.returncode == 2
    assert "+01:00" in result.stderr
    assert not (tmp_path / "g").exists()


SYNTHEA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fhir" / "synthea-r4-100"
EXAMPLES = Path(__file__).resolve().parents[1] / "packaging" / "examples"


@pytest.mark.shared_data
def test_example_config_builds_real_synthea_export_into_a_viewable_ward(
    env: dict[str, str], tmp_path: Path
) -> None:
    if not SYNTHEA.is_dir():
        pytest.skip(f"shared Synthea data not found at {SYNTHEA}")
    from sync.receive import open_installed

    config = EXAMPLES / "synthea.toml"
    assert _run("wardcopy-sync", "config", "check", str(config), env=env).returncode == 0
    assert _run("wardcopy-sync", "keys", "init", env=env).returncode == 0
    pub = tmp_path / "server" / "keys" / "signing.pub"
    _run("wardcopy", "device", "init", "--no-keyring", "--server-key", str(pub), env=env)
    code = _enrolment_code(env)
    assert _run("wardcopy-sync", "enrol", "--ward", "all", code, env=env).returncode == 0
    outbox = tmp_path / "outbox"
    built = _run(
        "wardcopy-sync", "build", "--config", str(config), "--source", str(SYNTHEA),
        "--out", str(outbox), env=env,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    assert "100 patients mapped, 100 placed" in built.stdout
    received = _run("wardcopy", "receive", "--from", str(outbox), "--ward", "all", env=env)
    assert received.returncode == 0, received.stderr
    installed = open_installed(tmp_path / "laptop", "all")
    try:
        rows = installed.reader.census()
        assert len(rows) == 100
        assert all(row.name and row.birth_date for row in rows)  # two identifiers each
        assert installed.reader.search("Lemke")  # a patient of the export, found by name
    finally:
        installed.close()

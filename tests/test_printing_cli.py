"""`wardcopy print ...` on a real installed snapshot (the demo chain: generate, build, seal,
publish, receive), writing the PDF where the user asked and an audit entry for every print."""

from __future__ import annotations

import io
import re
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from app.cli import build_parser, main
from sync.model import CensusRow


def test_print_command_is_registered_with_its_options() -> None:
    args = build_parser().parse_args(
        ["print", "mar", "--mrn", "123", "--hours", "72", "--user", "U", "--printer", "P"]
    )
    assert (args.document, args.mrn, args.hours, args.printer) == ("mar", "123", 72, "P")
    with pytest.raises(SystemExit):  # summary needs a patient
        build_parser().parse_args(["print", "summary", "--user", "U"])
    with pytest.raises(SystemExit):  # only 24 or 72 hours
        build_parser().parse_args(
            ["print", "mar", "--patient", "x", "--user", "U", "--hours", "48"]
        )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, list[CensusRow]]:
    try:
        from demo import make_demo
    except ImportError as exc:  # pragma: no cover - while the chain is being built
        pytest.skip(f"demo chain not available: {exc}")
    from sync.receive import open_installed

    folder = tmp_path_factory.mktemp("printdemo") / "demo"
    now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    result = make_demo(folder, patients=10, seed=5, now=now)
    ward = next(w for w in result.installed if w != "hospital")
    snap = open_installed(result.laptop_home, ward)
    try:
        rows = snap.reader.census()
    finally:
        snap.close()
    assert rows
    return result.laptop_home, ward, rows


def text_of(path: Path) -> str:
    return "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(path.read_bytes())).pages)


def audit_prints(home: Path) -> list[dict[str, object]]:
    from app.audit import iter_entries

    return [e.to_dict() for e in iter_entries(home) if e.event == "print"]


@pytest.mark.slow
def test_print_census_summary_and_mar_to_files_with_audit(
    demo: tuple[Path, str, list[CensusRow]], tmp_path: Path
) -> None:
    home, ward, rows = demo
    before = len(audit_prints(home))
    base = ["--home", str(home), "print"]
    census = tmp_path / "census.pdf"
    assert main([*base, "census", "--ward", ward, "--user", "Pflege Test", "--lang", "de",
                 "--tz", "Europe/Berlin", "--out", str(census)]) == 0  # fmt: skip
    text = re.sub(r"\s+", " ", text_of(census))
    assert "AUSFALLKOPIE – Datenstand" in text and "Pflege Test" in text
    for row in rows:
        assert row.name in text

    patient = rows[0]
    summary = tmp_path / "summary.pdf"
    assert main([*base, "summary", "--ward", ward, "--patient", patient.patient_id,
                 "--user", "Pflege Test", "--lang", "en", "--out", str(summary)]) == 0  # fmt: skip
    text = re.sub(r"\s+", " ", text_of(summary))
    assert patient.name in text and "DOWNTIME COPY - data as of" in text
    assert stat.S_IMODE(summary.stat().st_mode) == 0o600

    with_mrn = next(r for r in rows if r.mrn)
    mar = tmp_path / "mar.pdf"
    assert main([*base, "mar", "--ward", ward, "--mrn", str(with_mrn.mrn), "--hours", "72",
                 "--user", "Pflege Test", "--out", str(mar)]) == 0  # fmt: skip
    assert with_mrn.name in re.sub(r"\s+", " ", text_of(mar))

    entries = audit_prints(home)[before:]
    assert [e["details"]["document"] for e in entries] == ["census", "summary", "mar"]  # type: ignore[index]
    assert [e["patient_id"] for e in entries] == [None, patient.patient_id, with_mrn.patient_id]
    assert all(e["user"] == "Pflege Test" and e["ward"] == ward for e in entries)


@pytest.mark.slow
def test_print_without_printer_fails_clearly_and_unknown_patient_is_named(
    demo: tuple[Path, str, list[CensusRow]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    home, ward, _rows = demo
    monkeypatch.setenv("PATH", str(tmp_path))  # no lp here
    code = main(["--home", str(home), "print", "census", "--ward", ward, "--user", "U"])
    assert code != 0
    assert "use --out FILE.pdf" in capsys.readouterr().err
    code = main(["--home", str(home), "print", "summary", "--ward", ward, "--patient", "nope",
                 "--user", "U", "--out", str(tmp_path / "x.pdf")])  # fmt: skip
    assert code != 0
    assert "no patient with id 'nope'" in capsys.readouterr().err
    assert not (tmp_path / "x.pdf").exists()

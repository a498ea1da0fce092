"""Sync configuration for clinical fidelity: [code_map], [vital_ranges], stopped orders."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from sync.config import ConfigError, check_config_file, parse_config
from sync.model import Interpretation


def test_defaults_are_news2_and_72_hours() -> None:
    config = parse_config({})
    assert config.stopped_medications_hours == 72
    ranges = config.vital_ranges.resolved()
    assert ranges.name == "NEWS2"
    assert ranges.flag("spo2", 93, "%") is Interpretation.LOW
    assert ranges.flag("resp-rate", 22, "/min") is Interpretation.HIGH
    assert ranges.flag("temperature", 100.4, "[degF]") is None  # another unit: not flagged
    assert timedelta(hours=config.stopped_medications_hours) == timedelta(days=3)


def test_code_map_and_ranges_are_read() -> None:
    config = parse_config(
        {
            "code_map": {"https://cielterminology.org|5087": "heart-rate"},
            "vital_ranges": {"name": "COPD", "ranges": {"spo2": {"low": 88, "critical_low": 83}}},
        }
    )
    assert config.mapping_code_map == {("https://cielterminology.org", "5087"): "heart-rate"}
    ranges = config.vital_ranges.resolved()
    assert ranges.flag("spo2", 90, "%") is Interpretation.NORMAL
    assert ranges.flag("spo2", 83, "%") is Interpretation.CRITICAL_LOW
    assert ranges.ranges["heart-rate"].high == 90  # the rest keeps NEWS2


def test_config_check_names_every_code_map_and_range_problem(tmp_path: Path) -> None:
    path = tmp_path / "sync.toml"
    path.write_text(
        """
stopped_medications_hours = -1
[code_map]
"5087" = "heart-rate"
"urn:local|PULS" = "puls"
[vital_ranges.ranges.weight]
low = 40
""",
        encoding="utf-8",
    )
    problems = check_config_file(path)
    text = "\n".join(problems)
    assert "stopped_medications_hours" in text
    assert "'5087' must be 'SYSTEM|CODE'" in text
    assert "unknown meaning 'puls'" in text
    assert "no range can be set for weight" in text
    with pytest.raises(ConfigError):
        parse_config({"code_map": {"a|b": "nonsense"}})

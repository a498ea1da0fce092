"""sync.config: TOML config of the sync server; `config check` lists every problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from sync.config import (
    Config,
    ConfigError,
    StayScope,
    check_config_file,
    load_config,
    parse_config,
)

GOOD = """
hospital = "Klinikum Beispielstadt"
timezone = "Europe/Vienna"
discharged_within_hours = 12
keep_packages = 7
outbox = "outbox"
source = "export"

[hospital_ward]
id = "haus"
name = "Gesamtes Haus"

[[wards]]
id = "3b"
name = "Kardiologie 3B"
  [[wards.rules]]
  location_names = ["Station 3B"]
  [[wards.rules]]
  organization_identifiers = ["https://ehr.example/org|KARD"]
  stay = "latest"
  max_age_days = 30

[[wards]]
id = "its"
name = "Intensivstation"
  [[wards.rules]]
  patients = ["Patient/abc", "https://ehr.example/mrn|4711"]
"""


def test_defaults_without_a_file() -> None:
    config = Config()
    assert config.timezone == "Europe/Berlin"
    assert config.discharged_within_hours == 24
    assert config.keep_packages == 5
    assert config.wards == [] and config.wards_from_locations
    assert config.hospital_ward.enabled and config.hospital_ward.id == "hospital"
    assert "IMP" in config.inpatient_classes


def test_full_file_loads_and_relative_paths_follow_the_file(tmp_path: Path) -> None:
    (tmp_path / "export").mkdir()
    path = tmp_path / "wardcopy-sync.toml"
    path.write_text(GOOD, encoding="utf-8")
    config = load_config(path)
    assert config.hospital == "Klinikum Beispielstadt"
    assert str(config.tz) == "Europe/Vienna"
    assert config.outbox == (tmp_path / "outbox").resolve()
    assert config.source == str((tmp_path / "export").resolve())
    assert [w.id for w in config.wards] == ["3b", "its"]
    rule = config.wards[0].rules[1]
    assert rule.stay == StayScope.LATEST and rule.max_age_days == 30
    assert config.hospital_ward.name == "Gesamtes Haus"
    assert check_config_file(path) == []


def test_check_lists_every_problem_with_where_it_is(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        """
timezone = "Mars/Olympus"
keep_packages = 0
colour = "blue"

[[wards]]
id = "a b"
name = "Ward"
  [[wards.rules]]
  location_name = ["typo"]

[[wards]]
id = "x"
name = "X"
  [[wards.rules]]
  stay = "latest"
""",
        encoding="utf-8",
    )
    problems = check_config_file(path)
    text = "\n".join(problems)
    assert "timezone: unknown time zone 'Mars/Olympus'" in text
    assert "keep_packages:" in text
    assert "colour: unknown setting" in text
    assert "wards.0.id:" in text and "'a b'" in text
    assert "wards.0.rules.0.location_name: unknown setting" in text
    assert "wards.1.rules.0: a rule needs at least one criterion" in text
    assert len(problems) >= 6
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.problems == problems


def test_duplicate_ward_ids_and_hospital_id_clash_are_reported_together(tmp_path: Path) -> None:
    path = tmp_path / "dup.toml"
    path.write_text(
        """
[[wards]]
id = "hospital"
name = "A"
  [[wards.rules]]
  encounter_classes = ["IMP"]
[[wards]]
id = "hospital"
name = "B"
""",
        encoding="utf-8",
    )
    text = "\n".join(check_config_file(path))
    assert "'hospital' is used twice" in text
    assert "has no [[wards.rules]]" in text
    assert "hospital-wide ward's id" in text


def test_syntax_errors_missing_files_and_missing_sources_are_reported(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("hospital = \n", encoding="utf-8")
    assert check_config_file(broken)[0].startswith("TOML syntax:")
    assert "cannot read" in check_config_file(tmp_path / "absent.toml")[0]
    nosource = tmp_path / "nosource.toml"
    nosource.write_text('source = "/nonexistent/wardcopy-export"\n', encoding="utf-8")
    assert check_config_file(nosource) == ["source: /nonexistent/wardcopy-export does not exist"]
    url = tmp_path / "url.toml"
    url.write_text('source = "https://fhir.example/r4"\n', encoding="utf-8")
    assert check_config_file(url) == []
    assert load_config(url).source_is_url


def test_max_age_only_with_latest_stay() -> None:
    with pytest.raises(ConfigError, match="max_age_days only applies"):
        parse_config(
            {"wards": [{"id": "w", "name": "W", "rules": [{"everyone": True, "max_age_days": 3}]}]}
        )

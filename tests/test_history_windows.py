"""History windows ([history] in the sync config): vitals / labs older than the window are left
out of the ward packages except the newest of each kind, the record says from when on it is
complete, and screen and paper say so (a short list must not pass for the whole stay). Also the
generator's 12-bed ICU with minute vitals, the ward these windows exist for."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from app.present.clinical import history_window_text
from sync.config import ConfigError, parse_config
from sync.generate.hospital import build_hospital, ward_shares
from sync.mapping import MappingContext, map_patient

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
LOINC = "http://loinc.org"


def _obs(oid: str, code: str, value: float, hours_ago: float, category: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": category,
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": (NOW - timedelta(hours=hours_ago)).isoformat(),
        "valueQuantity": {"value": value, "unit": "x"},
    }


PATIENT = {"resourceType": "Patient", "id": "p1", "name": [{"family": "Muster", "given": ["M"]}]}
RESOURCES = [
    _obs("hr-new", "8867-4", 80, 1, "vital-signs"),
    _obs("hr-old", "8867-4", 120, 100, "vital-signs"),
    _obs("hr-older", "8867-4", 130, 200, "vital-signs"),
    _obs("temp-old", "8310-5", 38.5, 120, "vital-signs"),  # only temperature: kept
    _obs("k-new", "2823-3", 4.1, 2, "laboratory"),
    _obs("k-old", "2823-3", 6.2, 24 * 9, "laboratory"),
    _obs("crea-old", "2160-0", 2.4, 24 * 20, "laboratory"),  # only creatinine: kept
]


def _map(vitals: timedelta | None, labs: timedelta | None) -> Any:
    ctx = MappingContext(
        tz=BERLIN, now=NOW, problems=Counter(), vitals_window=vitals, labs_window=labs
    )
    return map_patient(PATIENT, RESOURCES, ctx)


def test_values_before_the_window_are_left_out_but_the_newest_of_each_kind_stays() -> None:
    record = _map(timedelta(hours=72), timedelta(days=7))
    vitals = {o.source.id for o in record.vitals if o.source}
    labs = {o.source.id for o in record.labs if o.source}
    assert vitals == {"hr-new", "temp-old"}
    assert labs == {"k-new", "crea-old"}
    assert record.vitals_since == NOW - timedelta(hours=72)
    assert record.labs_since == NOW - timedelta(days=7)


def test_without_windows_or_with_nothing_older_the_record_is_whole_and_says_nothing() -> None:
    whole = _map(None, None)
    assert len(whole.vitals) == 4 and len(whole.labs) == 3
    assert whole.vitals_since is None and whole.labs_since is None
    wide = _map(timedelta(days=30), timedelta(days=30))
    assert len(wide.vitals) == 4 and wide.vitals_since is None and wide.labs_since is None


def test_the_window_is_said_in_both_languages_with_the_time_in_the_hospital_zone() -> None:
    since = datetime(2026, 11, 27, 5, 0, tzinfo=UTC)
    de = history_window_text("vitals", since, "de", BERLIN)
    en = history_window_text("labs", since, "en", BERLIN)
    assert de is not None and "27.11.2026 06:00" in de and "KIS" in de
    assert en is not None and "27 Nov 2026 06:00" in en and "EHR" in en
    assert history_window_text("vitals", None, "de", BERLIN) is None


def test_config_accepts_windows_and_rejects_nonsense() -> None:
    config = parse_config({"history": {"vitals_hours": 72, "labs_days": 7}})
    assert config.history.vitals_hours == 72 and config.history.labs_days == 7
    assert parse_config({}).history.vitals_hours is None
    for bad in ({"vitals_hours": 0}, {"labs_days": -1}, {"vital_hours": 72}):
        with pytest.raises(ConfigError):
            parse_config({"history": bad})


def test_the_icu_of_the_heavy_demo_has_twelve_full_single_boxes_and_others_take_the_rest() -> None:
    import random

    assert ward_shares(100, 4, None, 0) == [25, 25, 25, 25]
    shares = ward_shares(100, 4, 2, 12)
    assert shares[2] == 12 and sum(shares) == 100
    hospital = build_hospital(100, random.Random(1), icu_beds=12)
    icu = next(w for w in hospital.wards if w.dept.icu)
    assert icu.beds == 12 and icu.occupied == 12
    assert all(len(room.beds) == 1 for room in icu.rooms)
    assert sum(w.occupied for w in hospital.wards) == 100
    assert all(w.occupied < w.beds for w in hospital.wards if w is not icu)


@pytest.mark.slow
def test_generated_icu_patients_have_a_monitor_value_every_minute(tmp_path: Path) -> None:
    import orjson

    from sync.generate import generate

    summary = generate(tmp_path / "a", 60, seed=2, now=NOW, icu_monitoring=True)
    icu = next(w for w in summary.wards if w.id == "station-1a")
    assert (icu.beds, icu.occupied) == (12, 12)
    minutes: dict[str, set[str]] = {}
    for path in sorted((tmp_path / "a").glob("Observation.*.ndjson")):
        for line in path.read_bytes().splitlines():
            obs = orjson.loads(line)
            if obs["id"].startswith("mon-") and obs["id"].endswith("-hr"):
                minutes.setdefault(obs["subject"]["reference"], set()).add(obs["effectiveDateTime"])
    assert len(minutes) == 12
    for stamps in minutes.values():
        times = sorted(datetime.fromisoformat(s.replace("Z", "+00:00")) for s in stamps)
        assert times[-1] > NOW - timedelta(minutes=2)
        assert all(b - a == timedelta(minutes=1) for a, b in pairwise(times))
    again = generate(tmp_path / "b", 60, seed=2, now=NOW, icu_monitoring=True)
    assert again.counts == summary.counts
    first = sorted(p.name for p in (tmp_path / "a").iterdir())
    for name in first:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_the_chart_says_the_window_above_vitals_and_labs_only_when_values_were_left_out() -> None:
    from app.ui.viewmodels.chart import ChartModel

    cut = ChartModel(_map(timedelta(hours=72), timedelta(days=7)), now=NOW, tz=BERLIN, lang="en")
    vitals_note = cut.history_note("vitals")
    assert vitals_note is not None and "27 Nov 2026 07:00" in vitals_note
    assert (cut.history_note("labs") or "").startswith("Lab results before 23 Nov 2026 07:00")
    whole = ChartModel(_map(None, None), now=NOW, tz=BERLIN, lang="de")
    assert whole.history_note("vitals") is None and whole.history_note("labs") is None


@pytest.mark.parametrize(
    ("vitals", "labs"), [(timedelta(hours=24), timedelta(days=2)), (timedelta(hours=72), None)]
)
def test_windowed_records_equal_whole_records_cut_afterwards(
    tmp_path: Path, vitals: timedelta, labs: timedelta | None
) -> None:
    """Mapping only what a window can keep (the pre-filter) gives exactly the record that
    mapping everything and cutting afterwards gives, on the generator's varied data."""
    import orjson

    from sync.generate import generate
    from sync.mapping.observations import apply_window

    generate(tmp_path, 30, seed=5, now=NOW)
    patients: dict[str, dict[str, Any]] = {}
    own: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(tmp_path.glob("*.ndjson")):
        for line in path.read_bytes().splitlines():
            res = orjson.loads(line)
            if res["resourceType"] == "Patient":
                patients[res["id"]] = res
            ref = (res.get("subject") or res.get("patient") or {}).get("reference", "")
            if ref.startswith("Patient/"):
                own.setdefault(ref.split("/", 1)[1], []).append(res)
    cut_somewhere = 0
    for pid, pat in patients.items():
        resources = own.get(pid, [])
        whole = map_patient(pat, resources, MappingContext(tz=BERLIN, now=NOW))
        ctx = MappingContext(tz=BERLIN, now=NOW, vitals_window=vitals, labs_window=labs)
        windowed = map_patient(pat, resources, ctx)
        expected_vitals, cut = apply_window(whole.vitals, NOW - vitals)
        assert windowed.vitals == expected_vitals, pid
        assert (windowed.vitals_since is not None) == cut, pid
        if labs is None:
            assert windowed.labs == whole.labs and windowed.labs_since is None, pid
        else:
            expected_labs, labs_cut = apply_window(whole.labs, NOW - labs)
            assert windowed.labs == expected_labs, pid
            assert (windowed.labs_since is not None) == labs_cut, pid
        cut_somewhere += cut
    assert cut_somewhere > 5  # the windows did cut something in this data

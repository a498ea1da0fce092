"""sync.wards: which ward a patient is placed on, by Location chain or configured rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sync.config import Config, HospitalWard, StayScope, WardConfig, WardRule
from sync.model import Identifier, PatientRecord
from sync.refs import RefIndex
from sync.wards import (
    EncounterInfo,
    derive_wards,
    effective_wards,
    place_record,
    summarize_encounter,
)

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
TZ = ZoneInfo("Europe/Berlin")
KARD = "Organization/kard"
PHYS = "http://terminology.hl7.org/CodeSystem/location-physical-type"


def _loc(
    lid: str, code: str, name: str, part_of: str | None = None, **extra: Any
) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "Location",
        "id": lid,
        "name": name,
        "physicalType": {"coding": [{"system": PHYS, "code": code}]},
        **extra,
    }
    if part_of:
        res["partOf"] = {"reference": f"Location/{part_of}"}
    return res


def _index() -> RefIndex:
    index = RefIndex()
    for res in (
        _loc(
            "ward-3b", "wa", "Station 3B", managingOrganization={"reference": "Organization/kard"}
        ),
        _loc("room-12", "ro", "Zimmer 12", "ward-3b"),
        _loc("bed-12a", "bd", "Bett 12A", "room-12"),
        _loc("ward-4a", "wa", "Station 4A"),
        _loc(
            "bed-4a-1",
            "bd",
            "Bett 1",
            "ward-4a",
            identifier=[{"system": "https://ehr.example/loc", "value": "4A-1"}],
        ),
        {
            "resourceType": "Organization",
            "id": "kard",
            "name": "Klinik für Kardiologie",
            "identifier": [{"system": "https://ehr.example/org", "value": "KARD"}],
            "partOf": {"reference": "Organization/haus"},
        },
        {"resourceType": "Organization", "id": "haus", "name": "Klinikum Beispielstadt"},
    ):
        index.add(res)
    return index


def _enc(
    eid: str,
    *,
    status: str = "in-progress",
    klass: str = "IMP",
    start: datetime | None = None,
    end: datetime | None = None,
    locations: list[dict[str, Any]] | None = None,
    provider: dict[str, Any] | None = None,
) -> dict[str, Any]:
    period: dict[str, str] = {}
    if start:
        period["start"] = start.isoformat()
    if end:
        period["end"] = end.isoformat()
    res: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": eid,
        "status": status,
        "class": {"code": klass},
        "period": period,
    }
    if locations is not None:
        res["location"] = locations
    if provider is not None:
        res["serviceProvider"] = provider
    return res


def _at(ref: str, status: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"location": {"reference": ref}}
    if status:
        entry["status"] = status
    return entry


def _record(pid: str = "p1", **extra: Any) -> PatientRecord:
    return PatientRecord(id=pid, name="Test, Person", **extra)


def _place(
    encounters: list[dict[str, Any]],
    config: Config,
    record: PatientRecord | None = None,
    now: datetime = NOW,
) -> tuple[list[str], PatientRecord]:
    index = _index()
    infos = [summarize_encounter(e, index, TZ) for e in encounters]
    record = record or _record()
    wards = effective_wards(config, [r for r in index.resources.values()])
    return place_record(record, infos, config, wards, now), record


def test_encounter_summary_follows_the_bed_room_ward_chain_and_organizations() -> None:
    enc = _enc("e1", locations=[_at("Location/bed-12a", "active")])
    info = summarize_encounter(enc, _index(), TZ)
    assert info.location_keys == {"Location/bed-12a", "Location/room-12", "Location/ward-3b"}
    assert "Station 3B" in info.location_names
    # the ward's managing organization and its parent
    assert info.organization_keys == {"Organization/kard", "Organization/haus"}
    assert "https://ehr.example/org|KARD" in info.organization_identifiers


def test_active_location_wins_over_completed_and_cycles_do_not_hang() -> None:
    index = _index()
    index.add(_loc("loop-a", "ro", "A", "loop-b"))
    index.add(_loc("loop-b", "ro", "B", "loop-a"))
    enc = _enc(
        "e1",
        locations=[_at("Location/bed-4a-1", "completed"), _at("Location/bed-12a", "active")],
    )
    assert "Location/ward-4a" not in summarize_encounter(enc, index, TZ).location_keys
    loop = summarize_encounter(_enc("e2", locations=[_at("Location/loop-a")]), index, TZ)
    assert loop.location_keys == {"Location/loop-a", "Location/loop-b"}


def test_default_wards_come_from_ward_locations_and_place_current_patients() -> None:
    wards = derive_wards(_index().resources.values(), HospitalWard())
    assert [(w.id, w.name) for w in wards] == [("ward-3b", "Station 3B"), ("ward-4a", "Station 4A")]
    placed, record = _place([_enc("e1", locations=[_at("Location/bed-12a")])], Config())
    assert placed == ["ward-3b", "hospital"]
    assert record.stay is not None
    assert (record.stay.ward_id, record.stay.ward) == ("ward-3b", "Station 3B")


def test_discharged_patients_stay_for_the_configured_window_only() -> None:
    loc = [_at("Location/bed-12a", "completed")]
    recent = _enc("e1", status="finished", end=NOW - timedelta(hours=10), locations=loc)
    old = _enc("e2", status="finished", end=NOW - timedelta(hours=30), locations=loc)
    assert _place([recent], Config())[0] == ["ward-3b", "hospital"]
    assert _place([old], Config())[0] == []
    assert _place([old], Config(discharged_within_hours=48))[0] == ["ward-3b", "hospital"]
    # outpatient visits and planned stays do not count
    amb = _enc("e3", klass="AMB", locations=loc)
    planned = _enc("e4", status="planned", locations=loc)
    assert _place([amb, planned], Config())[0] == []


def _config(*rules: WardRule, **extra: Any) -> Config:
    return Config(wards=[WardConfig(id="w", name="Ward W", rules=list(rules))], **extra)


def test_rules_by_location_identifier_name_and_organization() -> None:
    by_ident = _config(WardRule(location_identifiers=["https://ehr.example/loc|4A-1"]))
    by_value = _config(WardRule(location_identifiers=["4A-1"]))
    enc = _enc("e1", locations=[_at("Location/bed-4a-1")])
    assert _place([enc], by_ident)[0] == ["w", "hospital"]
    assert _place([enc], by_value)[0] == ["w", "hospital"]
    # ISiK: a logical location reference (identifier + display only, no Location resource)
    logical = _enc(
        "e2",
        locations=[
            {
                "location": {
                    "identifier": {"system": "https://kh.example/locationid", "value": "123"},
                    "display": "Bettenstellplatz 123",
                }
            }
        ],
    )
    assert _place([logical], _config(WardRule(location_identifiers=["123"])))[0] == [
        "w",
        "hospital",
    ]
    assert _place([logical], _config(WardRule(location_names=["bettenstellplatz"])))[0] == [
        "w",
        "hospital",
    ]
    by_org = _config(WardRule(organization_names=["KARDIOLOGIE"]))
    provided = _enc("e3", provider={"reference": "Organization/kard"})
    assert _place([provided], by_org)[0] == ["w", "hospital"]
    assert _place([provided], _config(WardRule(organization_ids=["kard"])))[0] == ["w", "hospital"]
    assert _place([provided], _config(WardRule(organization_ids=["haus"])))[0] == ["w", "hospital"]
    assert _place([provided], _config(WardRule(organization_ids=["other"])))[0] == []


def test_criteria_in_one_rule_must_all_match() -> None:
    both = _config(WardRule(organization_ids=["kard"], encounter_classes=["EMER"]))
    imp = _enc("e1", klass="IMP", provider={"reference": "Organization/kard"})
    emer = _enc("e2", klass="EMER", provider={"reference": "Organization/kard"})
    assert _place([imp], both)[0] == []
    # encounter_classes also widens the stays looked at (EMER is not inpatient by default)
    assert _place([emer], both)[0] == ["w", "hospital"]


def test_latest_stay_rule_places_patients_whose_stays_are_all_finished() -> None:
    old_stay = _enc(
        "e-old",
        status="finished",
        start=NOW - timedelta(days=400),
        end=NOW - timedelta(days=395),
        provider={"reference": "Organization/kard"},
    )
    last_stay = _enc(
        "e-last",
        status="finished",
        start=NOW - timedelta(days=40),
        end=NOW - timedelta(days=35),
        provider={"display": "Chirurgie"},
    )
    latest = WardRule(organization_ids=["kard"], stay=StayScope.LATEST)
    # only the latest stay counts: the cardiology stay is older than the surgical one
    assert _place([old_stay, last_stay], _config(latest))[0] == []
    assert _place([old_stay], _config(latest))[0] == ["w", "hospital"]
    anyone = WardRule(everyone=True, stay=StayScope.LATEST, max_age_days=60)
    assert _place([old_stay, last_stay], _config(anyone))[0] == ["w", "hospital"]
    stale = WardRule(everyone=True, stay=StayScope.LATEST, max_age_days=30)
    assert _place([old_stay, last_stay], _config(stale))[0] == []
    # the default "current" scope sees neither
    assert _place([old_stay, last_stay], _config(WardRule(everyone=True)))[0] == []


def test_patient_list_places_by_id_merged_id_or_identifier_without_a_stay() -> None:
    rule = _config(WardRule(patients=["Patient/p9", "https://ehr.example/mrn|4711"]))
    assert _place([], rule, _record("p9"))[0] == ["w", "hospital"]
    merged = _record("p1", merged_from=["p9"])
    assert _place([], rule, merged)[0] == ["w", "hospital"]
    by_mrn = _record("p2", identifiers=[Identifier(system="https://ehr.example/mrn", value="4711")])
    placed, record = _place([], rule, by_mrn)
    assert placed == ["w", "hospital"]
    assert record.stay is not None and record.stay.ward_id == "w"
    assert _place([], rule, _record("p3"))[0] == []


def test_ward_order_decides_the_primary_ward_and_hospital_ward_can_be_off() -> None:
    config = Config(
        wards=[
            WardConfig(id="a", name="A", rules=[WardRule(encounter_classes=["IMP"])]),
            WardConfig(id="b", name="B", rules=[WardRule(location_names=["3B"])]),
        ],
        hospital_ward=HospitalWard(enabled=False),
    )
    placed, record = _place([_enc("e1", locations=[_at("Location/bed-12a")])], config)
    assert placed == ["a", "b"]
    assert record.stay is not None and record.stay.ward == "A"


def test_summary_of_malformed_encounters_does_not_raise() -> None:
    index = _index()
    for junk in (
        {"resourceType": "Encounter", "id": "x"},
        {"resourceType": "Encounter", "id": "y", "class": "IMP", "period": "2020", "location": 3},
        {"resourceType": "Encounter", "id": "z", "location": [{"location": "Location/ward-3b"}]},
        {"resourceType": "Encounter", "id": "w", "serviceProvider": {"reference": 5}},
    ):
        assert isinstance(summarize_encounter(junk, index, TZ), EncounterInfo)

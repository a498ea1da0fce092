"""The demo data generator: deterministic, well-formed, consistent, and believable.

Sizes stay small (at most a few hundred patients) so the whole file runs in seconds.
"""

from __future__ import annotations

import base64
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.fhirtime import parse_fhir_date
from sync.generate import (
    CODE_STATUS_LOINC,
    CODE_STATUS_SYSTEM,
    LOINC_NO_CPR,
    GenerateSummary,
    generate,
)
from sync.generate.hospital import pzn_check_digit, synthetic_pzn
from sync.generate.patient import _kvnr

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
LOINC = "http://loinc.org"
PHYSICAL_TYPE = "http://terminology.hl7.org/CodeSystem/location-physical-type"

Resources = dict[str, list[dict[str, Any]]]


def load(out: Path) -> Resources:
    """Every resource in `out`, by type; asserts each line is one JSON resource."""
    by_type: Resources = defaultdict(list)
    for path in sorted(out.glob("*.ndjson")):
        rtype = path.name.split(".")[0]
        with path.open("rb") as handle:
            for line in handle:
                resource = orjson.loads(line)
                assert isinstance(resource, dict), path
                assert resource.get("resourceType") == rtype, path
                by_type[rtype].append(resource)
    return by_type


def references(node: Any) -> Iterator[str]:
    """Every Reference.reference string anywhere inside a resource."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                yield value
            else:
                yield from references(value)
    elif isinstance(node, list):
        for item in node:
            yield from references(item)


def parse_instant(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    assert value.tzinfo is not None, f"timestamp without offset: {text}"
    return value


def coding_codes(concept: dict[str, Any] | None, system: str | None = None) -> set[str]:
    if not concept:
        return set()
    return {
        c["code"] for c in concept.get("coding", []) if system is None or c.get("system") == system
    }


def by_id(resources: Resources, rtype: str) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in resources.get(rtype, [])}


@pytest.fixture(scope="module")
def hundred(tmp_path_factory: pytest.TempPathFactory) -> tuple[GenerateSummary, Resources]:
    out = tmp_path_factory.mktemp("gen100")
    summary = generate(out, 100, seed=7, now=NOW)
    return summary, load(out)


# ------------------------------------------------------------------ determinism and format


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", 25, seed=3, now=NOW)
    b = generate(tmp_path / "b", 25, seed=3, now=NOW)
    names_a = sorted(p.name for p in (tmp_path / "a").iterdir())
    names_b = sorted(p.name for p in (tmp_path / "b").iterdir())
    assert names_a == names_b
    for name in names_a:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert a.counts == b.counts
    assert a.examples == b.examples


def test_other_seed_or_other_now_gives_other_data(tmp_path: Path) -> None:
    generate(tmp_path / "a", 10, seed=3, now=NOW)
    generate(tmp_path / "b", 10, seed=4, now=NOW)
    generate(tmp_path / "c", 10, seed=3, now=NOW + timedelta(days=1))
    patients = [(tmp_path / d / "Patient.000.ndjson").read_bytes() for d in "abc"]
    assert patients[0] != patients[1]
    assert patients[0] != patients[2]


def test_every_resource_has_a_unique_id_and_last_updated(
    hundred: tuple[GenerateSummary, Resources],
) -> None:
    summary, resources = hundred
    for rtype, items in resources.items():
        ids = [r["id"] for r in items]
        assert len(ids) == len(set(ids)), f"duplicate {rtype} ids"
        for r in items:
            assert re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", r["id"]), r["id"]
            assert parse_instant(r["meta"]["lastUpdated"]) <= NOW
    assert summary.counts == {t: len(items) for t, items in resources.items()}
    assert summary.total_resources == sum(len(v) for v in resources.values())


def test_every_reference_resolves(hundred: tuple[GenerateSummary, Resources]) -> None:
    _, resources = hundred
    known = {f"{t}/{r['id']}" for t, items in resources.items() for r in items}
    dangling = Counter(
        ref
        for items in resources.values()
        for r in items
        for ref in references(r)
        if ref not in known
    )
    assert not dangling, dangling.most_common(5)


def test_refuses_a_folder_with_ndjson_and_a_naive_now(tmp_path: Path) -> None:
    generate(tmp_path, 1, seed=1, now=NOW)
    with pytest.raises(FileExistsError, match="already holds NDJSON"):
        generate(tmp_path, 1, seed=1, now=NOW)
    with pytest.raises(ValueError, match="timezone-aware"):
        generate(tmp_path / "x", 1, seed=1, now=datetime(2026, 11, 29, 8, 0))
    with pytest.raises(ValueError, match="patients"):
        generate(tmp_path / "y", -1, seed=1, now=NOW)


def test_large_types_roll_over_into_numbered_files(tmp_path: Path) -> None:
    summary = generate(tmp_path, 5, seed=2, now=NOW, max_lines_per_file=100)
    observation_files = sorted(p.name for p in tmp_path.glob("Observation.*.ndjson"))
    assert observation_files[:2] == ["Observation.000.ndjson", "Observation.001.ndjson"]
    for path in tmp_path.glob("*.ndjson"):
        assert len(path.read_bytes().splitlines()) <= 100
    assert len(load(tmp_path)["Observation"]) == summary.counts["Observation"]


# ------------------------------------------------------------------ hospital and scale


def test_counts_and_wards_scale_with_patients(tmp_path: Path) -> None:
    small = generate(tmp_path / "s", 20, seed=1, now=NOW)
    large = generate(tmp_path / "l", 200, seed=1, now=NOW)
    assert small.counts["Patient"] == 20 and large.counts["Patient"] == 200
    assert small.inpatients + small.discharged + small.outpatients == 20
    assert large.inpatients == 170
    assert len(small.wards) == 3
    assert len(large.wards) == math.ceil(170 / 30)
    assert large.total_resources > 5 * small.total_resources
    for ward in large.wards:
        assert 28 <= ward.beds <= 32
        assert ward.occupied < ward.beds
    assert sum(w.occupied for w in large.wards) == large.inpatients


def test_zero_patients_writes_only_the_hospital(tmp_path: Path) -> None:
    summary = generate(tmp_path, 0, seed=1, now=NOW)
    assert "Patient" not in summary.counts
    assert len(summary.wards) == 3
    assert summary.counts["Location"] > 3 * 28


def test_inpatients_lie_in_a_bed_of_a_room_of_a_ward(
    hundred: tuple[GenerateSummary, Resources],
) -> None:
    summary, resources = hundred
    locations = by_id(resources, "Location")
    active = [e for e in resources["Encounter"] if e["status"] == "in-progress"]
    assert len(active) == summary.inpatients
    beds_taken: Counter[str] = Counter()
    for enc in active:
        assert enc["class"]["code"] == "IMP"
        current = {
            entry["physicalType"]["coding"][0]["code"]: entry["location"]["reference"]
            for entry in enc["location"]
            if entry["status"] == "active"
        }
        assert set(current) == {"wa", "ro", "bd"}
        bed = locations[current["bd"].split("/")[1]]
        room = locations[current["ro"].split("/")[1]]
        ward = locations[current["wa"].split("/")[1]]
        assert coding_codes(bed["physicalType"], PHYSICAL_TYPE) == {"bd"}
        assert coding_codes(room["physicalType"], PHYSICAL_TYPE) == {"ro"}
        assert coding_codes(ward["physicalType"], PHYSICAL_TYPE) == {"wa"}
        assert bed["partOf"]["reference"] == current["ro"]
        assert room["partOf"]["reference"] == current["wa"]
        beds_taken[current["bd"]] += 1
        start = parse_instant(enc["period"]["start"])
        assert NOW - timedelta(days=14, minutes=1) <= start <= NOW
    assert max(beds_taken.values()) == 1, "two current patients in one bed"
    ward_names = {w.name for w in summary.wards}
    assert "Station 3A Innere Medizin" in ward_names
    assert "Intensivstation (ICU)" in ward_names


def test_discharged_and_outpatients_have_finished_stays(
    hundred: tuple[GenerateSummary, Resources],
) -> None:
    summary, resources = hundred
    finished = [
        e
        for e in resources["Encounter"]
        if e["status"] == "finished" and e["class"]["code"] == "IMP"
    ]
    assert len(finished) == summary.discharged + summary.outpatients
    recent = [e for e in finished if parse_instant(e["period"]["end"]) >= NOW - timedelta(hours=48)]
    assert len(recent) == summary.discharged
    for enc in finished:
        assert parse_instant(enc["period"]["start"]) < parse_instant(enc["period"]["end"]) <= NOW
        assert all(entry["status"] == "completed" for entry in enc["location"])


# ------------------------------------------------------------------ people


def test_names_include_umlauts_and_non_latin_scripts(
    hundred: tuple[GenerateSummary, Resources],
) -> None:
    _, resources = hundred
    texts = [
        " ".join([n.get("family", ""), *n.get("given", [])])
        for p in resources["Patient"]
        for n in p["name"]
    ]
    assert any(re.search("[äöüÄÖÜß]", t) for t in texts)
    scripts = {
        unicodedata.name(ch).split()[0]
        for t in texts
        for ch in t
        if ch.isalpha() and ord(ch) > 0x24F
    }
    assert scripts & {"GREEK", "CYRILLIC"}, scripts


def test_patients_have_mrn_plausible_age_and_sex(
    hundred: tuple[GenerateSummary, Resources],
) -> None:
    _, resources = hundred
    mrns = set()
    today = NOW.astimezone(BERLIN).date()
    for p in resources["Patient"]:
        mr = [i for i in p["identifier"] if coding_codes(i.get("type")) == {"MR"}]
        assert len(mr) == 1 and mr[0]["value"].isdigit()
        mrns.add(mr[0]["value"])
        birth = parse_fhir_date(p["birthDate"])  # a few give only the year or month
        assert birth is not None, p["birthDate"]
        age = (today - birth).days / 365.2425
        assert 18 <= age < 101.1, p["birthDate"]
        assert p["gender"] in ("female", "male", "other")
    assert len(mrns) == len(resources["Patient"])
    kinds = Counter(
        "contact" if "contact" in p else "none" for p in resources["Patient"]
    ) + Counter("related" for _ in resources.get("RelatedPerson", []))
    assert kinds["contact"] > 30 and kinds["related"] > 5


def test_kvnr_and_pzn_check_digits() -> None:
    import random

    rng = random.Random(1)
    for _ in range(50):
        kvnr = _kvnr(rng)
        assert re.fullmatch(r"[A-Z]\d{9}", kvnr)
        assert int(kvnr[-1]) == _kvnr_check(kvnr[:9])
        pzn = synthetic_pzn(rng)
        assert re.fullmatch(r"\d{8}", pzn)
        assert sum(int(c) * w for c, w in zip(pzn[:7], range(1, 8), strict=True)) % 11 == int(
            pzn[7]
        )
    # The usual documentation example KVNR A123456780 has check digit 0.
    assert _kvnr_check("A12345678") == 0
    assert pzn_check_digit("1234567") == (1 + 4 + 9 + 16 + 25 + 36 + 49) % 11


def _kvnr_check(first9: str) -> int:
    digits = f"{ord(first9[0]) - 64:02d}{first9[1:]}"
    total = 0
    for i, ch in enumerate(digits):
        product = int(ch) * (1 if i % 2 == 0 else 2)
        total += product // 10 + product % 10
    return total % 10


# ------------------------------------------------------------------ clinical content


def test_a_dnr_patient_exists_and_code_status_follows_the_convention(
    hundred: tuple[GenerateSummary, Resources],
) -> None:
    summary, resources = hundred
    code_status = [
        o for o in resources["Observation"] if CODE_STATUS_LOINC in coding_codes(o["code"], LOINC)
    ]
    kinds = Counter(
        next(iter(coding_codes(o["valueCodeableConcept"], CODE_STATUS_SYSTEM))) for o in code_status
    )
    assert kinds["dnr"] + kinds["dnr-dni"] >= 1
    assert set(kinds) <= {"full", "dnr", "dni", "dnr-dni", "comfort"}
    for o in code_status:
        kind = next(iter(coding_codes(o["valueCodeableConcept"], CODE_STATUS_SYSTEM)))
        no_cpr = LOINC_NO_CPR[0] in coding_codes(o["valueCodeableConcept"], LOINC)
        assert no_cpr == (kind in ("dnr", "dnr-dni", "comfort"))
    with_status = {o["subject"]["reference"] for o in code_status}
    assert len(with_status) < len(resources["Patient"]), "some must be undocumented"
    assert any("code status" in e.why for e in summary.examples)


def test_allergies_and_explicit_no_known_allergy(
    hundred: tuple[GenerateSummary, Resources],
) -> None:
    _, resources = hundred
    allergies = resources["AllergyIntolerance"]
    nka = [a for a in allergies if "716186003" in coding_codes(a["code"])]
    real = [a for a in allergies if a not in nka]
    assert nka and real
    assert any(a.get("criticality") == "high" for a in real)
    for a in real:
        assert a["reaction"][0]["manifestation"][0]["text"]
        assert a["reaction"][0]["severity"] in ("mild", "moderate", "severe")
    patients_with = {a["patient"]["reference"] for a in real}
    assert 20 <= len(patients_with) <= 60


def test_main_diagnosis_is_icd10gm_rank_one(hundred: tuple[GenerateSummary, Resources]) -> None:
    _, resources = hundred
    conditions = by_id(resources, "Condition")
    for enc in resources["Encounter"]:
        if enc["class"]["code"] != "IMP":
            continue
        first = min(enc["diagnosis"], key=lambda d: d["rank"])
        assert first["rank"] == 1 and coding_codes(first["use"]) == {"CC"}
        cond = conditions[first["condition"]["reference"].split("/")[1]]
        icd = coding_codes(cond["code"], "http://fhir.de/CodeSystem/bfarm/icd-10-gm")
        assert len(icd) == 1 and re.fullmatch(r"[A-Z]\d\d(\.\d{1,2})?", next(iter(icd)))


def test_flags_include_isolation_and_fall_risk(hundred: tuple[GenerateSummary, Resources]) -> None:
    _, resources = hundred
    texts = {f["code"]["text"] for f in resources["Flag"]}
    assert "Sturzgefahr" in texts
    assert any("isolation" in t.lower() for t in texts)


def test_vital_signs_use_loinc_and_ucum(hundred: tuple[GenerateSummary, Resources]) -> None:
    _, resources = hundred
    expected_units = {
        "8867-4": "/min", "9279-1": "/min", "8310-5": "Cel", "59408-5": "%",
        "29463-7": "kg", "8302-2": "cm",
    }  # fmt: skip
    vitals = [
        o
        for o in resources["Observation"]
        if o.get("category", [{}])[0].get("coding", [{}])[0].get("code") == "vital-signs"
    ]
    seen: Counter[str] = Counter()
    for o in vitals:
        codes = coding_codes(o["code"], LOINC)
        if "85354-9" in codes:
            parts = {
                next(iter(coding_codes(c["code"]))): c["valueQuantity"] for c in o["component"]
            }
            assert set(parts) == {"8480-6", "8462-4"}
            assert parts["8480-6"]["value"] > parts["8462-4"]["value"]
            assert parts["8480-6"]["code"] == "mm[Hg]"
            seen["85354-9"] += 1
            continue
        code = next(c for c in codes if c in expected_units)
        assert o["valueQuantity"]["code"] == expected_units[code]
        assert o["valueQuantity"]["system"] == "http://unitsofmeasure.org"
        seen[code] += 1
    assert set(seen) == {*expected_units, "85354-9"}
    temps = [o["valueQuantity"]["value"] for o in vitals if "8310-5" in coding_codes(o["code"])]
    assert min(temps) > 35.0 and max(temps) < 42.0
    assert max(temps) >= 38.0, "some patients should be febrile"


def test_labs_carry_ranges_and_flags_when_out_of_range(
    hundred: tuple[GenerateSummary, Resources],
) -> None:
    _, resources = hundred
    labs = [
        o
        for o in resources["Observation"]
        if o.get("category", [{}])[0].get("coding", [{}])[0].get("code") == "laboratory"
    ]
    assert len({next(iter(coding_codes(o["code"], LOINC))) for o in labs}) >= 10
    flags: Counter[str] = Counter()
    for o in labs:
        value = o["valueQuantity"]["value"]
        rr = o["referenceRange"][0]
        low = rr.get("low", {}).get("value")
        high = rr.get("high", {}).get("value")
        outside = (low is not None and value < low) or (high is not None and value > high)
        interp = coding_codes(o["interpretation"][0]) if "interpretation" in o else set()
        assert bool(interp) == outside, (o["code"]["text"], value, low, high)
        flags.update(interp)
    assert flags["H"] and flags["L"]
    reports = resources["DiagnosticReport"]
    lab_ids = {f"Observation/{o['id']}" for o in labs}
    assert all(r["result"] and {x["reference"] for x in r["result"]} <= lab_ids for r in reports)


def test_notes_are_base64_utf8_text_in_german_and_english(
    hundred: tuple[GenerateSummary, Resources],
) -> None:
    _, resources = hundred
    languages: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    for doc in resources["DocumentReference"]:
        attachment = doc["content"][0]["attachment"]
        assert attachment["contentType"] == "text/plain; charset=utf-8"
        text = base64.b64decode(attachment["data"], validate=True).decode("utf-8")
        assert len(text.splitlines()) >= 4
        languages[attachment["language"]] += 1
        kinds[doc["type"]["text"]] += 1
    assert languages["de"] > languages["en"] > 0
    assert {"Aufnahmebefund", "Pflegebericht", "Ärztlicher Verlaufsbericht"} <= set(kinds)


def test_medication_orders_have_real_timing(hundred: tuple[GenerateSummary, Resources]) -> None:
    summary, resources = hundred
    per_patient = Counter(
        m["subject"]["reference"] for m in resources["MedicationRequest"] if m["status"] == "active"
    )
    assert min(per_patient.values()) >= 3 and max(per_patient.values()) <= 14
    assert len(per_patient) == summary.inpatients
    texts = Counter(
        m["dosageInstruction"][0].get("text", "") for m in resources["MedicationRequest"]
    )
    assert any(t.startswith("1-0-1") or t.endswith("1-0-1") for t in texts)
    dosages = [m["dosageInstruction"][0] for m in resources["MedicationRequest"]]
    assert any("asNeededBoolean" in d or "asNeededCodeableConcept" in d for d in dosages)
    assert any("maxDosePerPeriod" in d for d in dosages)
    assert any(d.get("timing", {}).get("repeat", {}).get("periodUnit") == "h" for d in dosages)
    assert any(d.get("timing", {}).get("repeat", {}).get("when") for d in dosages)
    for d in dosages:
        dose = (d.get("doseAndRate") or [{}])[0].get("doseQuantity")
        if dose:
            assert dose["system"] == "http://unitsofmeasure.org" and dose["code"]


def _scheduled_local_minutes(dosage: dict[str, Any]) -> list[int] | None:
    repeat = dosage.get("timing", {}).get("repeat", {})
    if "timeOfDay" in repeat:
        return [int(t[:2]) * 60 + int(t[3:5]) for t in repeat["timeOfDay"]]
    when = {"ACM": [450], "AC": [450, 690, 1050], "HS": [1320]}
    if repeat.get("when"):
        return [m for code in repeat["when"] for m in when[code]]
    if repeat.get("periodUnit") == "h":
        first = parse_instant(repeat["boundsPeriod"]["start"]).astimezone(BERLIN)
        step = int(repeat["period"] * 60)
        return sorted(
            (first.hour * 60 + first.minute + k * step) % 1440 for k in range(1440 // step)
        )
    return None


def test_administrations_follow_the_schedule_of_the_last_72_hours(
    hundred: tuple[GenerateSummary, Resources],
) -> None:
    _, resources = hundred
    requests = by_id(resources, "MedicationRequest")
    statuses: Counter[str] = Counter()
    checked = 0
    for ma in resources["MedicationAdministration"]:
        statuses[ma["status"]] += 1
        request = requests[ma["request"]["reference"].split("/")[1]]
        assert ma["subject"] == request["subject"]
        if "effectivePeriod" in ma:
            continue
        when = parse_instant(ma["effectiveDateTime"])
        assert NOW - timedelta(hours=73) <= when <= NOW
        assert when >= parse_instant(request["authoredOn"]) - timedelta(minutes=60)
        minutes = _scheduled_local_minutes(request["dosageInstruction"][0])
        if minutes is None:
            continue
        local = when.astimezone(BERLIN)
        at = local.hour * 60 + local.minute
        distance = min(min(abs(at - m), 1440 - abs(at - m)) for m in minutes)
        assert distance <= 60, (request["dosageInstruction"][0].get("text"), local)
        checked += 1
    assert checked > 200
    assert statuses["completed"] > 20 * statuses["not-done"] > 0
    assert statuses["in-progress"] > 0  # running infusions


def test_timestamps_mix_offsets_and_precision(hundred: tuple[GenerateSummary, Resources]) -> None:
    _, resources = hundred
    stamps = [r["meta"]["lastUpdated"] for items in resources.values() for r in items] + [
        o["effectiveDateTime"] for o in resources["Observation"]
    ]
    suffixes = Counter(s[-6:] if not s.endswith("Z") else "Z" for s in stamps)
    assert {"Z", "+01:00", "+00:00"} <= set(suffixes)
    assert any("." in s for s in stamps) and any("." not in s for s in stamps)


def test_summer_time_offsets(tmp_path: Path) -> None:
    generate(tmp_path, 3, seed=1, now=datetime(2026, 7, 1, 10, 0, tzinfo=UTC))
    text = (tmp_path / "Encounter.000.ndjson").read_text(encoding="utf-8")
    assert "+02:00" in text and "+01:00" not in text


def test_examples_name_real_inpatients(hundred: tuple[GenerateSummary, Resources]) -> None:
    summary, resources = hundred
    patients = by_id(resources, "Patient")
    assert 3 <= len(summary.examples) <= 8
    for example in summary.examples:
        patient = patients[example.id]
        official = patient["name"][0]
        assert example.name == f"{official['family']}, {' '.join(official['given'])}"
        assert example.ward and example.room and example.bed


# ------------------------------------------------------------------ properties


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    patients=st.integers(min_value=0, max_value=6),
    seed=st.integers(min_value=-(2**40), max_value=2**40),
    minutes=st.integers(min_value=0, max_value=400 * 24 * 60),
)
def test_small_runs_are_complete_and_consistent(
    tmp_path_factory: pytest.TempPathFactory, patients: int, seed: int, minutes: int
) -> None:
    now = datetime(2025, 6, 1, tzinfo=UTC) + timedelta(minutes=minutes)
    out = tmp_path_factory.mktemp("prop")
    summary = generate(out, patients, seed=seed, now=now, max_lines_per_file=40)
    resources = load(out)
    assert len(resources.get("Patient", [])) == patients
    assert summary.counts == {t: len(v) for t, v in resources.items()}
    known = {f"{t}/{r['id']}" for t, items in resources.items() for r in items}
    for items in resources.values():
        for r in items:
            assert set(references(r)) <= known
            assert parse_instant(r["meta"]["lastUpdated"]) <= now
    in_progress = [e for e in resources.get("Encounter", []) if e["status"] == "in-progress"]
    assert len(in_progress) == summary.inpatients
    for enc in in_progress:
        start = parse_instant(enc["period"]["start"])
        assert now - timedelta(days=14, minutes=1) <= start <= now


def test_memory_does_not_grow_with_patient_count(tmp_path: Path) -> None:
    """Streaming: ten times the patients must not need noticeably more memory."""
    import tracemalloc

    peaks = []
    for n in (10, 100):
        tracemalloc.start()
        generate(tmp_path / str(n), n, seed=1, now=NOW)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    # The hospital (wards, beds, staff) grows with the count; patients' resources must not stay.
    assert peaks[1] < peaks[0] + 1_500_000, peaks


def test_the_import_path_maps_every_generated_patient_without_problems(tmp_path: Path) -> None:
    """The reason the generator writes Bulk NDJSON: the real build must take it as it is."""
    from sync.build import build_snapshots
    from sync.config import Config

    summary = generate(tmp_path / "src", 30, seed=11, now=NOW)
    result = build_snapshots(tmp_path / "src", Config(), tmp_path / "work", now=NOW, workers=1)
    report = result.report
    assert report.patients_mapped == 30
    assert report.problems == {}
    assert report.patients_placed >= summary.inpatients
    ward_ids = {w.id for w in summary.wards}
    assert ward_ids <= {snap.ward_id for snap in result.wards}

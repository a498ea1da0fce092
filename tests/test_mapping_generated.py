"""sync.mapping on the project's own demo data (sync.generate): it must map cleanly and the
generator's documented conventions (code status, isolation flags, NKA, bed chain) must come out
as the viewer expects."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from sync.mapping import MappingContext, map_patient
from sync.mapping.alerts import classify_code_status
from sync.model import CodeStatusKind, PatientRecord

generate_module = pytest.importorskip("sync.generate", reason="sync.generate not available")

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
SHARED_TYPES = {"Location", "Organization", "Practitioner", "PractitionerRole", "Medication"}
CODE_STATUS_SYSTEM_SUFFIX = "/code-status"

Resource = dict[str, Any]


def load(out: Path) -> tuple[dict[str, Resource], dict[str, list[Resource]], dict[str, Resource]]:
    """Patients, their compartment resources, and shared resources by "Type/id"."""
    patients: dict[str, Resource] = {}
    by_patient: dict[str, list[Resource]] = defaultdict(list)
    shared: dict[str, Resource] = {}
    for path in sorted(out.glob("*.ndjson")):
        for line in path.read_text(encoding="utf-8").splitlines():
            res = json.loads(line)
            rtype = res["resourceType"]
            if rtype in SHARED_TYPES:
                shared[f"{rtype}/{res['id']}"] = res
            elif rtype == "Patient":
                patients[res["id"]] = res
            else:
                ref = (res.get("subject") or res.get("patient") or {}).get("reference", "")
                by_patient[ref.rsplit("/", 1)[-1]].append(res)
    return patients, by_patient, shared


@pytest.fixture(scope="module")
def generated(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[list[PatientRecord], Counter[str], dict[str, list[Resource]]]:
    out = tmp_path_factory.mktemp("demo") / "ndjson"
    generate_module.generate(out, 40, 11, NOW)
    patients, by_patient, shared = load(out)

    def resolve(ref: Resource | str, _from: Resource | None) -> Resource | None:
        key = ref.get("reference") if isinstance(ref, dict) else ref
        return shared.get(key) if isinstance(key, str) else None

    ctx = MappingContext(resolve=resolve, tz=ZoneInfo("Europe/Berlin"), now=NOW, problems=Counter())
    records = [map_patient(p, by_patient[pid], ctx) for pid, p in patients.items()]
    return records, ctx.problems, by_patient


def test_generated_patients_map_without_problems(generated: Any) -> None:
    records, problems, _ = generated
    assert len(records) == 40
    assert problems == Counter()


def test_current_inpatients_have_ward_room_bed_and_attending(generated: Any) -> None:
    records, _, _ = generated
    current = [r for r in records if r.stay and r.stay.status == "in-progress"]
    assert len(current) >= 25
    for record in current:
        stay = record.stay
        assert stay.ward and stay.room and stay.bed and stay.attending, record.id
        assert record.main_diagnosis is not None and record.main_diagnosis.is_main_diagnosis


def test_code_status_text_agrees_with_the_generator_code(generated: Any) -> None:
    """The German text alone (as a real EHR would send it) gives the kind the generator meant."""
    records, _, by_patient = generated
    checked = 0
    for resources in by_patient.values():
        for res in resources:
            if (
                res["resourceType"] != "Observation"
                or res["code"]["coding"][0]["code"] != "100822-6"
            ):
                continue
            value = res["valueCodeableConcept"]
            meant = next(
                c["code"]
                for c in value["coding"]
                if c["system"].endswith(CODE_STATUS_SYSTEM_SUFFIX)
            )
            loinc = {c["code"] for c in value["coding"] if c["system"] == "http://loinc.org"}
            assert classify_code_status(value["text"], loinc) == CodeStatusKind(meant), value[
                "text"
            ]
            checked += 1
    assert checked >= 10
    kinds = Counter(r.code_status.kind if r.code_status else None for r in records)
    assert kinds[None] >= 1  # undocumented stays "unknown", never assumed "full"
    assert kinds[CodeStatusKind.FULL] >= 1


def test_flags_allergies_and_administrations_follow_the_conventions(generated: Any) -> None:
    records, _, _ = generated
    assert any(f.category == "isolation" for r in records for f in r.flags)
    assert any(r.no_known_allergies for r in records)
    assert not any(r.no_known_allergies and r.allergies for r in records)
    window_start = NOW - timedelta(hours=72)
    given = [a for r in records for a in r.administrations]
    assert given and all(a.when and window_start <= a.when for a in given)
    # Most doses belong to a shown (active) order; the rest to orders completed since.
    orders = {o.id for r in records for o in r.medications}
    linked = [a.order_id in orders for a in given if a.order_id]
    assert sum(linked) > 0.8 * len(linked)
    assert any(o.as_needed for r in records for o in r.medications)
    assert any(
        d.timing and d.timing.times_of_day
        for r in records
        for o in r.medications
        for d in o.dosages
    )

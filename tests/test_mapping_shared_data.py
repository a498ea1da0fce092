"""sync.mapping on real FHIR R4 data nobody on this project wrote (../shared/data).

Skips cleanly when the shared data folder is absent. Each test asserts concrete facts a clinician
would see for one known record.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from sync.mapping import MappingContext, map_patient
from sync.model import Interpretation, PatientRecord

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fhir"
BERLIN = ZoneInfo("Europe/Berlin")

pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(not DATA.is_dir(), reason=f"shared FHIR test data not found at {DATA}"),
]

Resource = dict[str, Any]


class Resolver:
    """A simple resolver over loaded files: "Type/id", fullUrl and "Type?identifier=sys|val"."""

    def __init__(self) -> None:
        self.index: dict[str, Resource] = {}
        self.calls = 0

    def add(self, res: Resource, full_url: str | None = None) -> None:
        rtype, rid = res["resourceType"], res.get("id")
        if rid:
            self.index[f"{rtype}/{rid}"] = res
        if full_url:
            self.index[full_url] = res
        for ident in res.get("identifier") or ():
            if isinstance(ident, dict) and ident.get("value"):
                self.index[f"{rtype}?identifier={ident.get('system')}|{ident['value']}"] = res

    def __call__(self, ref: Resource | str, _from: Resource | None) -> Resource | None:
        self.calls += 1
        key = ref.get("reference") if isinstance(ref, dict) else ref
        return self.index.get(key) if isinstance(key, str) else None


def context(resolver: Resolver, now: datetime) -> MappingContext:
    return MappingContext(resolve=resolver, tz=BERLIN, now=now, problems=Counter())


def load(path: Path) -> Resource:
    if not path.is_file():
        pytest.skip(f"{path.name} not in the shared data")
    data: Resource = json.loads(path.read_text(encoding="utf-8"))
    return data


def bundle_entries(path: Path) -> Iterator[tuple[Resource, str | None]]:
    for entry in load(path).get("entry", []):
        yield entry["resource"], entry.get("fullUrl")


def map_bundle(path: Path, now: datetime) -> tuple[PatientRecord, Counter[str]]:
    """Map the one patient of a Synthea / IPS Bundle, resolving within the Bundle."""
    resolver = Resolver()
    resources = []
    for res, full_url in bundle_entries(path):
        resolver.add(res, full_url)
        resources.append(res)
    [patient] = [r for r in resources if r["resourceType"] == "Patient"]
    ctx = context(resolver, now)
    record = map_patient(patient, [r for r in resources if r is not patient], ctx)
    return record, ctx.problems


def one(folder: Path, pattern: str) -> Path:
    found = sorted(folder.glob(pattern))
    if not found:
        pytest.skip(f"{pattern} not in {folder}")
    return found[0]


# --- Synthea transaction Bundles (urn:uuid: references) ------------------------------------------

SYNTHEA = DATA / "synthea-r4-100"


def test_synthea_patient_allergies_and_newest_lab_with_unit() -> None:
    record, problems = map_bundle(
        one(SYNTHEA, "Aleta_*_58c297c4-*.json"), datetime(2020, 5, 1, tzinfo=UTC)
    )
    assert problems == Counter()
    assert record.name == "Wintheiser, Aleta"
    assert str(record.birth_date) == "1971-04-05"
    assert any("Heathcote" in n for n in record.other_names)  # the maiden name
    substances = {a.substance for a in record.allergies}
    assert {"Allergy to mould", "House dust mite allergy", "Allergy to grass pollen"} <= substances
    assert all(a.criticality == "low" for a in record.allergies)
    glucose = next(
        o for o in record.labs if o.source and o.source.id == "17cfc104-6717-4cd2-9a80-5b9ded0272eb"
    )
    assert (glucose.name, glucose.code, glucose.value, glucose.unit) == (
        "Glucose",
        "2339-0",
        90.45,
        "mg/dL",
    )
    assert glucose.effective == datetime(
        2019, 4, 29, 17, 48, 38, tzinfo=timezone(timedelta(hours=-4))
    )
    assert glucose.group  # named by the DiagnosticReport that lists it
    effective = [o.effective for o in record.labs if o.effective]
    assert effective == sorted(effective, reverse=True)
    assert record.labs[0].effective == max(effective)


def test_all_synthea_patients_map_cleanly_and_inpatients_get_a_stay() -> None:
    files = [p for p in sorted(SYNTHEA.glob("*.json")) if "_" in p.name]
    if not files:
        pytest.skip("no Synthea patient bundles")
    total_problems: Counter[str] = Counter()
    stays = []
    for path in files:
        record, problems = map_bundle(path, datetime(2020, 5, 1, tzinfo=UTC))
        total_problems += problems
        PatientRecord.from_json(record.to_json())  # the stored form stays readable
        if record.stay:
            stays.append(record.stay)
    assert total_problems == Counter()
    assert len(stays) >= 10
    assert all(s.encounter_class == "IMP" and s.admitted for s in stays)
    assert all(s.attending and s.attending.startswith("Dr. ") for s in stays)


# --- Bulk NDJSON (conditional references) --------------------------------------------------------

BULK = DATA / "bulk-ndjson-13"


def load_bulk() -> tuple[dict[str, Resource], dict[str, list[Resource]], Resolver]:
    if not BULK.is_dir():
        pytest.skip("bulk NDJSON sample not in the shared data")
    resolver = Resolver()
    patients: dict[str, Resource] = {}
    by_patient: dict[str, list[Resource]] = defaultdict(list)
    for path in sorted(BULK.glob("*.ndjson")):
        if path.name.startswith("log"):
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            res = json.loads(line)
            rtype = res["resourceType"]
            if rtype == "Patient":
                patients[res["id"]] = res
            elif rtype in ("Location", "Organization", "Practitioner", "PractitionerRole"):
                resolver.add(res)
            else:
                ref = (res.get("subject") or res.get("patient") or {}).get("reference", "")
                by_patient[ref.rsplit("/", 1)[-1]].append(res)
    return patients, by_patient, resolver


def test_bulk_export_deaths_notes_and_conditionally_referenced_locations() -> None:
    patients, by_patient, resolver = load_bulk()
    ctx = context(resolver, datetime(2024, 1, 1, tzinfo=UTC))
    records = {pid: map_patient(p, by_patient[pid], ctx) for pid, p in patients.items()}
    assert ctx.problems == Counter()
    assert sum(r.deceased for r in records.values()) == 3
    assert all(r.deceased_at for r in records.values() if r.deceased)

    allergic = records["cbc86e51-9eca-3855-76ec-c058f72c5761"]
    assert "Aspirin" in {a.substance for a in allergic.allergies}

    first = records["129c6ac7-8d06-89de-ad63-0204a93e76c3"]
    assert len(first.notes) > 10
    note = next(n for n in first.notes if n.source and n.source.id.startswith("00212c89-"))
    dates = [n.date for n in first.notes if n.date]
    assert dates == sorted(dates, reverse=True)
    assert note.text.startswith("1987-11-19")
    assert "# Chief Complaint" in note.text
    assert note.author == "Dr. Liane379 Kunze215"

    # Encounter.location uses "Location?identifier=..."; the resolver returns the hospital Location.
    stay = first.stay
    assert stay is not None and stay.status == "finished"
    assert stay.ward == "NEWMAN REGIONAL HEALTH"
    assert resolver.calls > 0


# --- German ISiK examples ------------------------------------------------------------------------

ISIK = DATA / "isik"


def isik_resolver(*folders: str) -> Resolver:
    resolver = Resolver()
    for folder in folders:
        for path in sorted((ISIK / folder).glob("*.json")):
            res = load(path)
            if res["resourceType"] != "Bundle":
                resolver.add(res)
    return resolver


def test_isik_bed_room_chain_and_department() -> None:
    resolver = isik_resolver("basismodul")
    patient = load(ISIK / "basismodul" / "Patient-PatientinMusterfrau.json")
    encounter = load(ISIK / "basismodul" / "Encounter-Fachabteilungskontakt.json")
    # As delivered, the bed is named only by a location identifier no Location carries:
    # the display and Encounter.location.physicalType give the bed.
    record = map_patient(patient, [encounter], context(resolver, datetime(2021, 2, 13, tzinfo=UTC)))
    assert record.stay is not None
    assert (record.stay.bed, record.stay.room) == ("Bettenstellplatz 123", None)
    assert record.stay.department == "Fachabteilung XYZ"
    assert record.stay.admitted == datetime(2021, 2, 12, tzinfo=BERLIN)
    # A hospital resolver that knows the bed: the partOf chain then gives the room too.
    linked = json.loads(json.dumps(encounter))
    linked["location"][0]["location"]["reference"] = "Location/BettenstellplatzStandortBeispiel"
    record = map_patient(patient, [linked], context(resolver, datetime(2021, 2, 13, tzinfo=UTC)))
    assert record.stay is not None
    assert record.stay.bed == "Bettenstellplatz 123"  # the bed Location has no name
    assert record.stay.room == "RaumStandortBeispiel"  # nameless room: its readable id


def test_isik_identity_icd10gm_problems_allergy_and_relative() -> None:
    resolver = isik_resolver("basismodul")
    folder = ISIK / "basismodul"
    patient = load(folder / "Patient-PatientinMusterfrau.json")
    resources = [
        load(p)
        for pattern in (
            "Condition-*.json",
            "AllergyIntolerance-*.json",
            "RelatedPerson-*.json",
            "Procedure-*.json",
        )
        for p in sorted(folder.glob(pattern))
    ]
    ctx = context(resolver, datetime(2024, 3, 1, tzinfo=UTC))
    record = map_patient(patient, resources, ctx)
    assert ctx.problems == Counter()
    assert record.name == "Fürstin von Musterfrau, Erika"
    assert record.mrn == "TestPID"
    assert "KVNR" in {i.label for i in record.identifiers}
    diabetes = next(p for p in record.problems if p.text == "Diabetes mellitus")
    assert diabetes.clinical_status == "recurrence"
    assert (diabetes.coding[0].system, diabetes.coding[0].code) == (
        "http://fhir.de/CodeSystem/bfarm/icd-10-gm",
        "E10.30",
    )
    assert "Behandlungsdiagnose" in {p.text for p in record.problems}  # free-text diagnosis
    [allergy] = record.allergies
    assert allergy.substance == "Betula pendula pollen"
    assert (allergy.reactions, allergy.severity) == (["Sneezing symptom"], "moderate")
    assert [p.text for p in record.procedures] == ["Entfernung des Blinddarms"]
    [relative] = record.contacts
    assert (relative.name, relative.relationship) == ("Maxine Mustermann", "daughter")


def test_isik_merge_source_and_target_keep_their_own_mrn() -> None:
    folder = ISIK / "basismodul"
    ctx = context(Resolver(), datetime(2024, 3, 1, tzinfo=UTC))
    source = map_patient(load(folder / "Patient-DorisQuelle.json"), [], ctx)
    target = map_patient(load(folder / "Patient-DorisZiel.json"), [], ctx)
    assert (source.mrn, target.mrn) == ("654321", "123456")
    assert source.name == target.name == "Duplikat, Doris"


def test_isik_medication_order_timing_and_administration() -> None:
    resolver = isik_resolver("basismodul", "medikation")
    folder = ISIK / "medikation"
    patient = load(ISIK / "basismodul" / "Patient-PatientinMusterfrau.json")
    resources = [load(p) for p in sorted(folder.glob("Medication[RA]*.json"))]
    now = datetime(2021, 7, 2, 9, 0, tzinfo=BERLIN)
    ctx = context(resolver, now)
    record = map_patient(patient, resources, ctx)
    orders = {o.id: o for o in record.medications}
    first = orders["ExampleISiKMedikationsVerordnung"]
    assert first.drug == "Acetylcystein"  # medicationReference resolved to the Medication
    assert first.coding[0].code == "V03AB23"
    assert first.prescriber == "Walter Arzt"
    [dose] = first.dosages
    assert dose.dose_text == "1 Brausetablette"
    assert dose.timing is not None and dose.timing.when == ["MORN", "NOON", "EVE"]
    weekly = orders["ExampleISiKMedikationsVerordnung2"].dosages[0].timing
    assert weekly is not None
    assert (weekly.frequency, weekly.period, weekly.period_unit) == (1, 1.0, "wk")
    # Only the administration of 2021-07-01 lies in the 72 h window before `now`.
    assert [(a.drug, a.dose_text) for a in record.administrations] == [
        ("Acetylcystein", "1 Tablette")
    ]
    # Two administrations point at "Medication-Read-Example", which exists nowhere: counted.
    assert ctx.problems == Counter({"MedicationAdministration: no medication": 2})


def test_isik_vital_signs() -> None:
    folder = ISIK / "vitalparameter"
    patient = load(folder / "Patient-PatientinMusterfrau.json")
    resources = [load(p) for p in sorted(folder.glob("Observation-*.json"))]
    ctx = context(Resolver(), datetime(2024, 3, 1, tzinfo=UTC))
    record = map_patient(patient, resources, ctx)
    heart = next(v for v in record.vitals if v.code == "8867-4")
    assert (heart.name, heart.value, heart.unit) == ("Herzfrequenz", 63.0, "per minute")
    assert heart.effective == datetime(2020, 10, 11, tzinfo=BERLIN)
    bp = next(v for v in record.vitals if v.code == "85354-9")
    assert (bp.value_text, bp.unit, bp.interpretation) == ("107/60", "mmHg", Interpretation.LOW)
    systolic = next(v for v in record.vitals if v.code == "8480-6" and v.group == bp.name)
    assert systolic.value == 107.0
    assert len(record.vitals) >= 40
    # The ECG carries only waveforms, which a downtime viewer does not draw.
    assert ctx.problems == Counter({"Observation: waveform not shown": 1})


# --- IPS document Bundle ------------------------------------------------------------------------


def test_ips_summary_allergy_home_medication_and_contact() -> None:
    record, problems = map_bundle(
        DATA / "ips" / "bundle-minimal.json", datetime(2021, 1, 1, tzinfo=UTC)
    )
    assert problems == Counter()
    assert record.name == "DeLarosa, Martha"
    [allergy] = record.allergies
    assert allergy.criticality == "high" and "penicillin" in allergy.substance
    assert record.medications == []  # a summary lists what she takes; nothing is ordered here
    [home] = record.home_medications
    assert "anastrozole" in home.drug
    assert home.dosages[0].route == "Oral use"
    assert [(c.name, c.relationship) for c in record.contacts] == [("Martha Mum", "mother")]

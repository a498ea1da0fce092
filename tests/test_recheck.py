"""Re-mapping on time alone (sync.incremental "Time"): mapping names the next instant at which a
patient's record or placement changes with the clock (MappingContext.changes_at), and a live
increment maps the patient again in the first cycle at or after that instant, never before;
a patient with nothing time-dependent is mapped again only when it changes."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from fhirserver import FhirTestServer

from sync.build import build_snapshots
from sync.config import Config, FhirSettings, HistoryWindows
from sync.generate import generate
from sync.incremental import Recorder, build_increment
from sync.snapshot import PreparedRecord, SnapshotReader
from sync.sources.live import fetch
from sync.store import ResourceStore

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
TICK = timedelta(microseconds=1)
NEVER = "9999-12-31T23:59:59.999999"


@pytest.fixture(scope="module")
def fhir_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("recheck") / "fhir"
    generate(folder, 24, seed=9, now=NOW)
    return folder


Mapped = dict[str, tuple[bytes, tuple[str, ...], datetime | None]]


def _map_all(source: Path, config: Config, workdir: Path, now: datetime) -> Mapped:
    """Every patient's record JSON, wards and next change, mapped as the full build maps."""
    seen: Mapped = {}

    def keep(record: PreparedRecord, ward_ids: list[str]) -> None:
        seen[record.patient_id] = (record.data, tuple(ward_ids), record.changes_at)

    build_snapshots(source, config, workdir, now=now, data_as_of=now, workers=1, on_mapped=keep)
    return seen


@pytest.mark.parametrize("windows", [False, True], ids=["whole-stay", "history-windows"])
def test_nothing_changes_before_the_instant_mapping_names(
    fhir_files: Path, tmp_path: Path, windows: bool
) -> None:
    """On the generator's varied data (stays discharged hours ago, stopped orders, doses over
    72 h, flags): at several later times, every patient whose named instant has not come yet
    maps to the very same record and wards; and some patients do change once theirs has."""
    history = HistoryWindows(vitals_hours=24, labs_days=2) if windows else HistoryWindows()
    config = Config(history=history)
    base = _map_all(fhir_files, config, tmp_path / "now", NOW)
    instants = sorted({at for _, _, at in base.values() if at is not None})
    # time-dependent content exists in this data
    assert len(instants) >= 3 and sum(at is not None for _, _, at in base.values()) > 5
    middle = instants[len(instants) // 2]
    probes = [instants[0] - TICK, instants[0], middle, NOW + timedelta(days=9)]
    changed_after_instant = 0
    for n, probe in enumerate(probes):
        later = _map_all(fhir_files, config, tmp_path / f"p{n}", probe)
        for pid, (data, wards, at) in base.items():
            same = later.get(pid, (b"", (), None))[:2] == (data, wards)
            if at is None or probe < at:
                assert same, (pid, probe, at)
            elif not same:
                changed_after_instant += 1
    assert changed_after_instant > 0


def test_stopped_order_window_and_dose_window_name_their_instants() -> None:
    from sync.mapping import MappingContext, map_patient

    patient = {"resourceType": "Patient", "id": "p1"}
    stopped_end = NOW - timedelta(hours=70)
    order = {
        "resourceType": "MedicationRequest", "id": "o1", "status": "stopped", "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": {"text": "Ramipril 5 mg"},
        "dosageInstruction": [
            {"timing": {"repeat": {"boundsPeriod": {"end": stopped_end.isoformat()}}}}
        ],
    }  # fmt: skip
    dose = {
        "resourceType": "MedicationAdministration", "id": "a1", "status": "completed",
        "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": {"text": "Paracetamol 1 g"},
        "effectiveDateTime": (NOW - timedelta(hours=71)).isoformat(),
    }  # fmt: skip
    ctx = MappingContext(now=NOW)
    record = map_patient(patient, [order, dose], ctx)
    assert len(record.administrations) == 1 and len(record.stopped_medications) == 1
    # the dose leaves the 72 h window first (1 h from now), just after the hour is complete
    assert ctx.changes_at == NOW + timedelta(hours=1) + TICK
    ctx = MappingContext(now=NOW)
    map_patient(patient, [order], ctx)
    assert ctx.changes_at == stopped_end + timedelta(hours=72) + TICK
    ctx = MappingContext(now=NOW)
    map_patient(patient, [], ctx)
    assert ctx.changes_at is None


# --- the live increment ----------------------------------------------------------------------


@pytest.fixture
def server(fhir_files: Path) -> Iterator[FhirTestServer]:
    with FhirTestServer(page_size=1000) as srv:
        srv.load_ndjson(fhir_files)
        yield srv


def _config(server: FhirTestServer) -> Config:
    return Config(
        source=server.base_url,
        fhir=FhirSettings(min_wait_seconds=0.0, max_wait_seconds=1.0, attempts=3),
    )


def _due(store: ResourceStore, now: datetime) -> set[str]:
    stamp = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    rows = store.conn.execute("SELECT id FROM mapped WHERE recheck <= ?", (stamp,))
    return {str(r[0]) for r in rows}


def _cycle(
    store: ResourceStore, config: Config, workdir: Path, now: datetime, full: bool = False
) -> tuple[int, dict[str, Any]]:
    """One cycle at `now` as run_live_cycle runs it; (patients mapped, records by ward/id)."""
    fetch(config, store, now=now)
    with store.transaction():
        recorder = Recorder(store, now)
        built = None
        if not full:
            built = build_increment(
                store, config, workdir, recorder, last_digests={}, now=now, data_as_of=now
            )
            assert built is not None, "the increment fell back to a full build"
        else:
            recorder.clear()
            built = build_snapshots(
                store, config, workdir, now=now, data_as_of=now, workers=1,
                on_mapped=recorder.put_full,
            )  # fmt: skip
        recorder.done()
    records: dict[str, Any] = {}
    for snap in built.wards:
        with SnapshotReader(snap.path, snap.key) as reader:
            for pid in reader.patient_ids():
                records[f"{snap.ward_id}/{pid}"] = orjson.loads(reader.record_json(pid) or b"")
    return built.report.patients_mapped, records


def _inpatient(server: FhirTestServer) -> tuple[str, dict[str, Any]]:
    for enc in sorted(server.resources("Encounter"), key=lambda e: e["id"]):
        if enc.get("status") == "in-progress" and enc.get("location"):
            return enc["subject"]["reference"].split("/", 1)[1], enc
    raise AssertionError("no current inpatient in the generated data")


def test_stopped_order_leaving_its_window_is_remapped_in_the_cycle_after_not_before(
    server: FhirTestServer, tmp_path: Path
) -> None:
    config = _config(server)
    with ResourceStore(tmp_path / "store") as store:
        _cycle(store, config, tmp_path / "full", NOW, full=True)
        # an inpatient with nothing else due in the next hour
        busy = _due(store, NOW + timedelta(hours=1))
        pid = next(
            enc["subject"]["reference"].split("/", 1)[1]
            for enc in sorted(server.resources("Encounter"), key=lambda e: e["id"])
            if enc.get("status") == "in-progress"
            and enc["subject"]["reference"].split("/", 1)[1] not in busy
        )
        template = next(
            r
            for r in server.resources("MedicationRequest")
            if r["subject"]["reference"] == f"Patient/{pid}"
        )
        ends = NOW - timedelta(hours=72) + timedelta(minutes=3)  # leaves the window at +3 min
        order = copy.deepcopy(template)
        order.update(
            id="recheck-stopped", status="stopped",
            dosageInstruction=[
                {"timing": {"repeat": {"boundsPeriod": {"end": ends.isoformat()}}}}
            ],
        )  # fmt: skip
        order.pop("dispenseRequest", None)
        server.put(order)
        _, records = _cycle(store, config, tmp_path / "changed", NOW)
        assert any(
            o["id"] == "recheck-stopped"
            for key, r in records.items()
            if key.endswith(f"/{pid}")
            for o in r.get("stopped_medications") or []
        )
        recheck = store.conn.execute("SELECT recheck FROM mapped WHERE id = ?", (pid,)).fetchone()
        assert recheck[0] == (ends + timedelta(hours=72, microseconds=1)).strftime(
            "%Y-%m-%dT%H:%M:%S.%f"
        )
        # two minutes later: the order is still within its window, the patient is not mapped
        before = NOW + timedelta(minutes=2)
        due = _due(store, before)
        assert pid not in due
        mapped, _ = _cycle(store, config, tmp_path / "before", before)
        assert mapped == len(due)
        # four minutes later: the window has passed; mapped again, the order is gone
        after = NOW + timedelta(minutes=4)
        due = _due(store, after)
        assert pid in due
        mapped, records = _cycle(store, config, tmp_path / "after", after)
        assert mapped == len(due)
        mine = [r for key, r in records.items() if key.endswith(f"/{pid}")]
        assert mine and all(
            o["id"] != "recheck-stopped" for r in mine for o in r.get("stopped_medications") or []
        )


def test_patient_with_nothing_time_dependent_is_never_remapped_until_a_full_refresh(
    server: FhirTestServer, tmp_path: Path
) -> None:
    config = _config(server)
    _, enc = _inpatient(server)
    server.put(
        {"resourceType": "Patient", "id": "recheck-still", "name": [{"family": "Still"}],
         "birthDate": "1950-01-01"}
    )  # fmt: skip
    stay = copy.deepcopy(enc)
    stay.update(id="recheck-stay", subject={"reference": "Patient/recheck-still"})
    stay["period"] = {"start": (NOW - timedelta(days=3)).isoformat()}
    server.put(stay)
    server.put(
        {"resourceType": "Observation", "id": "recheck-hr", "status": "final",
         "subject": {"reference": "Patient/recheck-still"},
         "category": [{"coding": [{"system":
             "http://terminology.hl7.org/CodeSystem/observation-category",
             "code": "vital-signs"}]}],
         "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
         "effectiveDateTime": (NOW - timedelta(hours=100)).isoformat(),
         "valueQuantity": {"value": 72, "unit": "/min"}}
    )  # fmt: skip
    with ResourceStore(tmp_path / "store") as store:
        _, records = _cycle(store, config, tmp_path / "full", NOW, full=True)
        assert any(key.endswith("/recheck-still") for key in records)
        row = store.conn.execute("SELECT recheck FROM mapped WHERE id = 'recheck-still'")
        assert row.fetchone()[0] == NEVER
        for n, days in enumerate((1, 30, 400)):
            later = NOW + timedelta(days=days)
            due = _due(store, later)
            assert "recheck-still" not in due
            mapped, _ = _cycle(store, config, tmp_path / f"later{n}", later)
            assert mapped == len(due)
        # the full refresh maps everyone again
        mapped, _ = _cycle(store, config, tmp_path / "nightly", later, full=True)
        assert mapped == len(store.patient_ids())

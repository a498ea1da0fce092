"""Incremental live cycles (sync.incremental): only changed patients are mapped again, only wards
that gained, lost or changed a patient are rebuilt, and each rebuilt ward holds exactly what a
full build of the same store produces. Against the project's FHIR test server on 127.0.0.1."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from fhirserver import FhirTestServer

from sync import keys
from sync.build import BuildResult, WardSnapshot, build_snapshots
from sync.config import Config, FhirSettings, HistoryWindows
from sync.cycle import load_ward_state, run_live_cycle
from sync.generate import generate
from sync.incremental import (
    Recorder,
    SharedCache,
    _patient_resources,
    _read_window,
    build_increment,
    decode_prepared,
    encode_prepared,
)
from sync.snapshot import SnapshotReader
from sync.sources.live import fetch
from sync.store import ResourceStore, open_store

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
HOSPITAL = Config().hospital_ward.id


@pytest.fixture(scope="module")
def fhir_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("incremental") / "fhir"
    generate(folder, 12, seed=5, now=NOW)
    return folder


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


def _full(store: ResourceStore, config: Config, workdir: Path, now: datetime) -> BuildResult:
    """What run_live_cycle does on a full refresh: build everything, remember every mapping."""
    with store.transaction():
        recorder = Recorder(store, now)
        recorder.clear()
        built = build_snapshots(
            store, config, workdir, now=now, data_as_of=now, workers=1,
            on_mapped=recorder.put_full, on_packed=recorder.put_packed,
            on_dictionary=recorder.put_dictionary,
        )  # fmt: skip
        recorder.done()
    return built


def _increment(
    store: ResourceStore,
    config: Config,
    workdir: Path,
    now: datetime,
    last: BuildResult,
    shared: SharedCache | None = None,
    workers: int | None = None,
) -> BuildResult:
    with store.transaction():
        recorder = Recorder(store, now)
        built = build_increment(
            store, config, workdir, recorder,
            last_digests={w.ward_id: w.digest for w in last.wards}, now=now, data_as_of=now,
            shared=shared, workers=workers,
        )  # fmt: skip
        recorder.done()
    assert built is not None, "the increment fell back to a full build"
    return built


def _records(snap: WardSnapshot) -> dict[str, bytes]:
    with SnapshotReader(snap.path, snap.key) as reader:
        return {pid: reader.record_json(pid) or b"" for pid in reader.patient_ids()}


def _assert_same_as_full(inc: BuildResult, full: BuildResult) -> None:
    for snap in inc.wards:
        expected = full.ward(snap.ward_id)
        assert _records(snap) == _records(expected), snap.ward_id
        assert snap.digest == expected.digest and snap.patients == expected.patients


def _ward_of(built: BuildResult, patient_id: str) -> str:
    for snap in built.wards:
        if snap.ward_id != HOSPITAL and patient_id in _records(snap):
            return snap.ward_id
    raise AssertionError("patient on no ward")


def _inpatient(server: FhirTestServer) -> tuple[str, dict[str, Any]]:
    for enc in server.resources("Encounter"):
        if enc.get("status") == "in-progress" and enc.get("location"):
            return enc["subject"]["reference"].split("/", 1)[1], enc
    raise AssertionError("no current inpatient in the generated data")


def test_one_changed_patient_rebuilds_only_its_ward_equal_to_a_full_build(
    server: FhirTestServer, tmp_path: Path
) -> None:
    config = _config(server)
    with ResourceStore(tmp_path / "store") as store:
        fetch(config, store, now=NOW)
        first = _full(store, config, tmp_path / "full", NOW)
        pid, _ = _inpatient(server)
        ward = _ward_of(first, pid)
        patient = server.get("Patient", pid)
        server.put({**patient, "gender": "other" if patient.get("gender") != "other" else "male"})
        fetch(config, store, now=NOW)
        inc = _increment(store, config, tmp_path / "inc", NOW, first)
        assert {w.ward_id for w in inc.wards} == {ward, HOSPITAL}
        assert inc.report.patients_mapped == 1
        assert set(inc.unchanged) == {w.ward_id for w in first.wards} - {ward, HOSPITAL}
        _assert_same_as_full(inc, build_snapshots(store, config, tmp_path / "again", now=NOW))
        # nothing changed since: nothing mapped, nothing rebuilt
        fetch(config, store, now=NOW)
        idle = _increment(store, config, tmp_path / "idle", NOW, inc_as_last(first, inc))
        assert idle.wards == [] and idle.report.patients_mapped == 0


def inc_as_last(first: BuildResult, inc: BuildResult) -> BuildResult:
    """The last published state after `inc`: its wards, else those of `first`."""
    newer = {w.ward_id: w for w in inc.wards}
    return BuildResult(wards=[newer.get(w.ward_id, w) for w in first.wards], report=inc.report)


def test_rebuilt_ward_reuses_its_dictionary_and_compressed_records_and_equals_a_full_build(
    server: FhirTestServer, tmp_path: Path
) -> None:
    config = _config(server)
    with ResourceStore(tmp_path / "store") as store:
        fetch(config, store, now=NOW)
        last = _full(store, config, tmp_path / "full", NOW)
        pid, _ = _inpatient(server)
        ward = _ward_of(last, pid)
        conn = store.conn
        # the full build remembered every ward's dictionary and compressed records
        full_dictionary = conn.execute(
            "SELECT zdict FROM ward_dict WHERE ward = ?", (ward,)
        ).fetchone()[0]
        placements = conn.execute("SELECT count(*) FROM placement").fetchone()[0]
        assert (
            placements > 0
            and placements
            == conn.execute(
                "SELECT count(*) FROM placement p JOIN packed k ON k.ward = p.ward AND k.id = p.id "
                "JOIN mapped m ON m.id = p.id AND m.digest = k.digest"
            ).fetchone()[0]
        )
        dictionaries = []
        for n, gender in enumerate(("other", "unknown")):
            server.put({**server.get("Patient", pid), "gender": gender})
            fetch(config, store, now=NOW)
            inc = _increment(store, config, tmp_path / f"inc{n}", NOW, last)
            last = inc_as_last(last, inc)
            assert ward in {w.ward_id for w in inc.wards}
            _assert_same_as_full(inc, build_snapshots(store, config, tmp_path / f"f{n}", now=NOW))
            dictionaries.append(
                conn.execute("SELECT zdict FROM ward_dict WHERE ward = ?", (ward,)).fetchone()[0]
            )
            # one remembered blob per patient now on the ward, each for its current record
            packed = conn.execute(
                "SELECT k.id FROM packed k JOIN mapped m ON m.id = k.id AND m.digest = k.digest "
                "WHERE k.ward = ?",
                (ward,),
            ).fetchall()
            assert sorted(r[0] for r in packed) == sorted(_records(inc.ward(ward)))
        # the full build's, kept, so the unchanged blobs still fit
        assert dictionaries[0] == dictionaries[1] == full_dictionary


def test_deleted_patient_leaves_its_ward(server: FhirTestServer, tmp_path: Path) -> None:
    config = _config(server)
    with ResourceStore(tmp_path / "store") as store:
        fetch(config, store, now=NOW)
        first = _full(store, config, tmp_path / "full", NOW)
        pid, _ = _inpatient(server)
        ward = _ward_of(first, pid)
        server.delete("Patient", pid)
        fetch(config, store, now=NOW)
        inc = _increment(store, config, tmp_path / "inc", NOW, first)
        assert {w.ward_id for w in inc.wards} == {ward, HOSPITAL}
        for snap in inc.wards:
            assert pid not in _records(snap)
        assert next(w for w in inc.wards if w.ward_id == ward).patients == (
            first.ward(ward).patients - 1
        )
        _assert_same_as_full(inc, build_snapshots(store, config, tmp_path / "again", now=NOW))


@pytest.mark.slow
def test_discharge_window_passing_without_any_change_removes_the_patient(
    server: FhirTestServer, tmp_path: Path
) -> None:
    """Time-dependent content: a patient discharged 23.5 h ago is on the ward; an hour later,
    with nothing changed at the server, the 24 h window has passed and the patient is gone."""
    config = _config(server)
    with ResourceStore(tmp_path / "store") as store:
        fetch(config, store, now=NOW)
        first = _full(store, config, tmp_path / "full", NOW)
        pid, enc = _inpatient(server)
        ward = _ward_of(first, pid)
        discharged = copy.deepcopy(enc)
        discharged["status"] = "finished"
        discharged.setdefault("period", {})["end"] = (NOW - timedelta(hours=23.5)).isoformat()
        server.put(discharged)
        fetch(config, store, now=NOW)
        inc = _increment(store, config, tmp_path / "inc", NOW, first)
        last = inc_as_last(first, inc)
        assert pid in _records(last.ward(ward))  # within the window: still shown
        later = NOW + HOUR + timedelta(minutes=1)
        fetch(config, store, now=later)  # the server has nothing new
        gone = _increment(store, config, tmp_path / "later", later, last)
        assert ward in {w.ward_id for w in gone.wards}
        assert pid not in _records(gone.ward(ward))
        _assert_same_as_full(gone, build_snapshots(store, config, tmp_path / "again", now=later))


@pytest.mark.slow
def test_live_cycle_publishes_only_the_changed_ward_and_survives_a_failed_publish(
    server: FhirTestServer, tmp_path: Path
) -> None:
    config = _config(server)
    home, outbox = tmp_path / "home", tmp_path / "outbox"
    home.mkdir()
    key = keys.generate_signing_key()
    first = run_live_cycle(
        sync_home=home, outbox=outbox, config=config, signing_key=key, now=NOW, workers=1
    )
    wards = {w.ward_id for w in first.wards}
    pid, _ = _inpatient(server)
    patient = server.get("Patient", pid)
    server.put({**patient, "birthDate": "1931-02-03"})
    # A cycle that fails while publishing (the outbox is a file) rolls its mapping back...
    moved = tmp_path / "outbox-away"
    outbox.rename(moved)
    outbox.write_bytes(b"")
    with pytest.raises(OSError):
        run_live_cycle(
            sync_home=home, outbox=outbox, config=config, signing_key=key, now=NOW,
            exclude=[HOSPITAL],
        )  # fmt: skip
    with open_store(home) as store:
        assert store.conn.execute("SELECT patient FROM dirty").fetchall() == [(f"Patient/{pid}",)]
    outbox.unlink()
    moved.rename(outbox)
    # ...so the next one maps the patient again and publishes its ward, and only that one.
    second = run_live_cycle(
        sync_home=home, outbox=outbox, config=config, signing_key=key, now=NOW,
        exclude=[HOSPITAL],
    )  # fmt: skip
    published = [w.ward_id for w in second.wards]
    assert len(published) == 1 and published[0] != HOSPITAL
    assert set(second.unchanged) == wards - {HOSPITAL} - set(published)
    assert second.report.patients_mapped == 1
    # the hospital-wide ward, left out then, is rebuilt when it is built again
    third = run_live_cycle(sync_home=home, outbox=outbox, config=config, signing_key=key, now=NOW)
    assert [w.ward_id for w in third.wards] == [HOSPITAL]
    assert third.report.patients_mapped == 0
    state = load_ward_state(home)
    full = run_live_cycle(
        sync_home=home, outbox=outbox, config=config, signing_key=key, now=NOW, full=True
    )
    assert full.wards == [] and full.report.patients_mapped == first.report.patients_mapped
    assert load_ward_state(home) == state  # the full refresh agrees with the increments


def _inpatients(server: FhirTestServer) -> list[str]:
    return sorted(
        {
            enc["subject"]["reference"].split("/", 1)[1]
            for enc in server.resources("Encounter")
            if enc.get("status") == "in-progress" and enc.get("location")
        }
    )


@pytest.mark.parametrize("side", ["replaced-by", "replaces"])
def test_merge_arriving_as_an_increment_moves_the_record_to_the_survivor(
    server: FhirTestServer, tmp_path: Path, side: str
) -> None:
    # As ISiK's DorisQuelle -> DorisZiel: the source is marked inactive and replaced-by the
    # target (or the target says it replaces the source); the server sends only that Patient.
    config = _config(server)
    with ResourceStore(tmp_path / "store") as store:
        fetch(config, store, now=NOW)
        first = _full(store, config, tmp_path / "full", NOW)
        source, target = _inpatients(server)[:2]
        source_ward, target_ward = _ward_of(first, source), _ward_of(first, target)
        before = orjson.loads(_records(first.ward(target_ward))[target])
        source_vitals = len(orjson.loads(_records(first.ward(source_ward))[source])["vitals"])
        if side == "replaced-by":
            changed = {**server.get("Patient", source), "active": False}
            link = {"other": {"reference": f"Patient/{target}"}, "type": "replaced-by"}
        else:
            changed = server.get("Patient", target)
            link = {"other": {"reference": f"Patient/{source}"}, "type": "replaces"}
        server.put({**changed, "link": [link]})
        fetched = fetch(config, store, now=NOW)
        assert fetched.upserts == 1
        inc = _increment(store, config, tmp_path / "inc", NOW, first)
        assert {source_ward, target_ward} <= {w.ward_id for w in inc.wards}
        for snap in inc.wards:  # the merged-away patient is on no ward any more
            assert source not in _records(snap), snap.ward_id
        after = orjson.loads(_records(inc.ward(target_ward))[target])
        assert after["merged_from"] == [source]
        assert len(after["vitals"]) == len(before["vitals"]) + source_vitals
        assert inc.report.patients_mapped == 1  # the survivor, nobody else
        _assert_same_as_full(inc, _full(store, config, tmp_path / "again", NOW))
        # the next increment knows the merge: a change to the source maps the survivor
        vital = next(
            o
            for o in server.resources("Observation")
            if o["subject"]["reference"] == f"Patient/{source}"
            and "vital-signs" in orjson.dumps(o.get("category")).decode()
        )
        server.put({**vital, "id": "after-merge"})
        fetch(config, store, now=NOW)
        last = _increment(store, config, tmp_path / "inc2", NOW, inc)
        record = orjson.loads(_records(last.ward(target_ward))[target])
        assert len(record["vitals"]) > len(after["vitals"]) and last.report.patients_mapped == 1


@pytest.mark.parametrize("arrives", ["active-duplicate", "inactive-duplicate"])
def test_identifier_duplicate_arriving_as_an_increment_is_merged_as_a_full_build_merges(
    server: FhirTestServer, tmp_path: Path, arrives: str
) -> None:
    # DorisQuelle's form without a link: an inactive patient sharing an identifier with
    # exactly one active one is folded into it (merge_inactive_duplicates). "active-duplicate":
    # the stored patient is inactive and alone, then a new active patient with its identifier
    # is registered; "inactive-duplicate": a stored patient is marked inactive and given the
    # identifier of an active one. Either way the increment merges, as a full build would.
    config = _config(server)
    ident = {"system": "urn:oid:1.2.276.0.76.4.8", "value": "DUP-0001"}
    source, target = _inpatients(server)[:2]
    with ResourceStore(tmp_path / "store") as store:
        if arrives == "active-duplicate":
            server.put({**server.get("Patient", source), "active": False, "identifier": [ident]})
        fetch(config, store, now=NOW)
        first = _full(store, config, tmp_path / "full", NOW)
        source_ward = _ward_of(first, source)
        if arrives == "active-duplicate":
            survivor = "dup-new"
            server.put(
                {"resourceType": "Patient", "id": survivor, "active": True,
                 "identifier": [ident], "name": [{"family": "Neu", "given": ["Anna"]}]}
            )  # fmt: skip
        else:
            survivor = target
            server.put({**server.get("Patient", target), "identifier": [ident]})
            fetch(config, store, now=NOW)
            first = inc_as_last(first, _increment(store, config, tmp_path / "pre", NOW, first))
            server.put({**server.get("Patient", source), "active": False, "identifier": [ident]})
        fetch(config, store, now=NOW)
        inc = _increment(store, config, tmp_path / "inc", NOW, first)
        assert source_ward in {w.ward_id for w in inc.wards}
        for snap in inc.wards:  # the merged-away patient is on no ward any more
            assert source not in _records(snap), snap.ward_id
        merged = [
            orjson.loads(_records(snap)[survivor])
            for snap in inc.wards
            if survivor in _records(snap)
        ]
        assert merged and all(r["merged_from"] == [source] for r in merged)
        _assert_same_as_full(inc, _full(store, config, tmp_path / "again", NOW))


def test_shared_resources_are_kept_across_increments_until_one_of_them_changes(
    server: FhirTestServer, tmp_path: Path
) -> None:
    config = _config(server)
    cache = SharedCache()
    with ResourceStore(tmp_path / "store") as store:
        fetch(config, store, now=NOW)
        last = _full(store, config, tmp_path / "full", NOW)
        pid, enc = _inpatient(server)

        def change_patient(n: int) -> BuildResult:
            genders = ("other", "unknown", "male")
            server.put({**server.get("Patient", pid), "gender": genders[n % 3]})
            fetch(config, store, now=NOW)
            return _increment(store, config, tmp_path / f"inc{n}", NOW, last, shared=cache)

        last = inc_as_last(last, change_patient(0))
        filled = cache.items
        assert cache.gen is not None and len(filled) >= len(server.resources("Location"))
        inc = change_patient(1)
        last = inc_as_last(last, inc)
        assert cache.items is filled  # not read from the store again
        _assert_same_as_full(inc, build_snapshots(store, config, tmp_path / "f1", now=NOW))
        # A Location renamed: the increment cannot be narrowed down (any patient may be
        # there), the full build runs; the next increment reads the shared resources again.
        ref = next(loc["location"]["reference"] for loc in enc["location"] if loc.get("location"))
        location = server.get("Location", ref.split("/", 1)[1])
        server.put({**location, "name": "Zimmer umbenannt"})
        fetch(config, store, now=NOW)
        with store.transaction():
            built = build_increment(
                store, config, tmp_path / "none", Recorder(store, NOW),
                last_digests={}, now=NOW, data_as_of=NOW, shared=cache,
            )  # fmt: skip
        assert built is None
        last = _full(store, config, tmp_path / "full2", NOW)
        inc = change_patient(2)
        assert cache.items is not filled
        assert any(
            item[-1].get("name") == "Zimmer umbenannt"
            for item in cache.items
            if isinstance(item[-1], dict)
        )
        _assert_same_as_full(inc, build_snapshots(store, config, tmp_path / "f2", now=NOW))


def test_stored_prepared_record_round_trips(server: FhirTestServer, tmp_path: Path) -> None:
    config = _config(server)
    with ResourceStore(tmp_path / "store") as store:
        fetch(config, store, now=NOW)
        seen: list[Any] = []
        build_snapshots(
            store, config, tmp_path / "w", now=NOW, workers=1,
            on_mapped=lambda record, wards: seen.append(record),
        )  # fmt: skip
    assert seen
    for record in seen:
        assert decode_prepared(encode_prepared(record)) == record


def _observation(
    pid: str, oid: str, when: str, code: str, value: float, category: str, **extra: Any
) -> dict[str, Any]:
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
        "code": {"coding": [{"system": "http://loinc.org", "code": code, "display": code}]},
        "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": when,
        "valueQuantity": {"value": value, "unit": "1"},
        **extra,
    }


def _monitor_stay(server: FhirTestServer, pid: str) -> None:
    """Give `pid` an ICU-like stay: heart rate and SpO2 every 10 minutes for 4 days, a lab
    twice a day for 6 days, and values at every edge a store read by window must keep or
    decide by: an old cancelled value, an entered-in-error one newest in its group, an old
    value a medication order names as its reason, offset-less and date-only times, a group
    whose only values are old.
    """
    at = NOW - timedelta(days=4)
    n = 0
    while at < NOW:
        stamp = at.isoformat()
        server.put(_observation(pid, f"hr-{n}", stamp, "8867-4", 70 + n % 9, "vital-signs"))
        server.put(_observation(pid, f"sp-{n}", stamp, "59408-5", 95 + n % 4, "vital-signs"))
        at += timedelta(minutes=10)
        n += 1
    for k in range(12):
        stamp = (NOW - timedelta(hours=12 * k + 1)).isoformat()
        server.put(_observation(pid, f"k-{k}", stamp, "2823-3", 4.0 + k / 10, "laboratory"))
    old = (NOW - timedelta(days=3)).isoformat()
    server.put(
        _observation(pid, "hr-cancelled", old, "8867-4", 30, "vital-signs", status="cancelled")
    )
    server.put(
        _observation(
            pid, "sp-wrong", (NOW - timedelta(minutes=1)).isoformat(), "59408-5", 50,
            "vital-signs", status="entered-in-error",
        )
    )  # fmt: skip
    server.put(_observation(pid, "na-naive", "2026-11-28T09:00:00", "2951-2", 139, "laboratory"))
    server.put(_observation(pid, "na-date", "2026-11-27", "2951-2", 141, "laboratory"))
    server.put(
        _observation(pid, "ca-old", "2026-11-20T09:00:00+01:00", "17861-6", 2.3, "laboratory")
    )
    server.put(
        _observation(pid, "ca-older", "2026-11-19T09:00:00+01:00", "17861-6", 2.2, "laboratory")
    )
    reason = "hb-reason"
    server.put(_observation(pid, reason, "2026-11-21T09:00:00Z", "718-7", 7.1, "laboratory"))
    server.put(_observation(pid, "hb-mid", "2026-11-25T09:00:00Z", "718-7", 8.0, "laboratory"))
    server.put(_observation(pid, "hb-new", (NOW - HOUR).isoformat(), "718-7", 9.5, "laboratory"))
    order = next(
        r
        for r in server.resources("MedicationRequest")
        if r.get("subject", {}).get("reference") == f"Patient/{pid}" and r.get("status") == "active"
    )
    order["reasonCode"] = []
    order["reasonReference"] = [{"reference": f"Observation/{reason}"}]
    server.put(order)


def test_icu_patient_read_by_window_gives_the_record_of_a_whole_read_cut_afterwards(
    server: FhirTestServer, tmp_path: Path
) -> None:
    """With [history] windows, an increment reads of a changed patient's Observations only
    what the windows can keep (plus what decides the record: the newest of each kind, one
    value the window cuts, the newest lastUpdated, values other resources name), and its ward
    is byte for byte what a full build that reads and maps every value gives."""
    config = _config(server).model_copy(
        update={"history": HistoryWindows(vitals_hours=24, labs_days=2)}
    )
    pid, _ = _inpatient(server)
    _monitor_stay(server, pid)
    with ResourceStore(tmp_path / "store", config) as store:
        fetch(config, store, now=NOW)
        assert store.window_index_usable()
        first = _full(store, config, tmp_path / "full", NOW)
        ward = _ward_of(first, pid)
        # a late correction of a value the window leaves out: the patient's newest lastUpdated
        server.put(_observation(pid, "hr-late", (NOW - timedelta(days=3, minutes=5)).isoformat(),
                                "8867-4", 71, "vital-signs"))  # fmt: skip
        fetch(config, store, now=NOW)
        later = NOW + 3 * HOUR  # the windows have moved on since the full build
        inc = _increment(store, config, tmp_path / "inc", later, first)
        assert ward in {w.ward_id for w in inc.wards}
        _assert_same_as_full(inc, build_snapshots(store, config, tmp_path / "all", now=later))
        record = orjson.loads(_records(inc.ward(ward))[pid])
        assert record["vitals_since"] and record["labs_since"]  # the windows did cut
        # the old value the order names as its reason was read: its name is the reason
        assert any(o.get("reason") == "718-7" for o in record["medications"])
        own = sum(
            1
            for r in server.resources("Observation")
            if r.get("subject", {}).get("reference") == f"Patient/{pid}"
        )
        window = _read_window(store, config, later)
        read = [t for t, _ in _patient_resources(store.conn, [f"Patient/{pid}"], window)]
        # 2 x 577 monitor values every 10 minutes over 4 days and the labs stored; read: a
        # day's monitor values, the labs of 2 days and the few that decide the record
        assert own > 1100 and read.count("Observation") < own // 3, (read.count("Observation"), own)
    # A store opened without the configuration cannot keep the keys: its increments read
    # everything again (and give the same ward) until a full read makes them anew.
    with ResourceStore(tmp_path / "store") as store:
        server.put(_observation(pid, "hr-next", later.isoformat(), "8867-4", 90, "vital-signs"))
        fetch(config, store, now=later)
        assert not store.window_index_usable()
    with ResourceStore(tmp_path / "store", config) as store:
        assert not store.window_index_usable()
        inc2 = _increment(store, config, tmp_path / "inc2", later, inc_as_last(first, inc))
        assert inc2.report.resources.get("Observation", 0) >= own
        _assert_same_as_full(inc2, build_snapshots(store, config, tmp_path / "all2", now=later))


def test_many_patients_mapped_in_worker_processes_give_the_same_wards(
    server: FhirTestServer, tmp_path: Path
) -> None:
    """A wave of patients to map again (a drug round's doses leaving their window together)
    is mapped in a process pool like the full build's: the same records as a full build."""
    config = _config(server)
    with ResourceStore(tmp_path / "store", config) as store:
        fetch(config, store, now=NOW)
        first = _full(store, config, tmp_path / "full", NOW)
        for pid in _inpatients(server)[:4]:
            patient = server.get("Patient", pid)
            server.put(
                {**patient, "gender": "other" if patient.get("gender") != "other" else "male"}
            )
        fetch(config, store, now=NOW)
        inc = _increment(store, config, tmp_path / "inc", NOW, first, workers=2)
        assert inc.report.patients_mapped == 4
        _assert_same_as_full(inc, build_snapshots(store, config, tmp_path / "again", now=NOW))

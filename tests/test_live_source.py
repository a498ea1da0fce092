"""Reading a live FHIR server (sync.sources.bulk / rest / auth, sync.store) against the project's
own FHIR test server on 127.0.0.1 (tests/fhirserver.py), driven by the generator's data."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fhirserver import Fault, FhirTestServer
from hypothesis import given
from hypothesis import strategies as st

from sync.build import build_snapshots
from sync.config import Config, FhirAuth, FhirSettings
from sync.generate import generate
from sync.snapshot import SnapshotReader
from sync.sources import iter_source
from sync.sources.http import FhirSourceError, RetryPolicy, parse_retry_after
from sync.sources.live import FetchResult, client_for, fetch
from sync.store import ResourceStore

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def fhir_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("live") / "fhir"
    generate(folder, 6, seed=7, now=NOW)
    return folder


@pytest.fixture
def server(fhir_files: Path) -> Iterator[FhirTestServer]:
    with FhirTestServer(page_size=1000) as srv:
        srv.load_ndjson(fhir_files)
        yield srv


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def _config(server: FhirTestServer, **fhir: object) -> Config:
    settings = {"min_wait_seconds": 0.0, "max_wait_seconds": 30.0, "attempts": 4, **fhir}
    return Config(source=server.base_url, fhir=FhirSettings.model_validate(settings))


def _fetch(
    server: FhirTestServer, store: ResourceStore, sleeps: Sleeps | None = None, **kw: object
) -> FetchResult:
    config = _config(server, **kw.pop("fhir", {}))  # type: ignore[arg-type]
    with client_for(config, sleep=sleeps if sleeps is not None else Sleeps()) as client:
        return fetch(config, store, client=client, **kw)  # type: ignore[arg-type]


def _file_count(folder: Path) -> int:
    return sum(1 for item in iter_source(folder) if hasattr(item, "resource"))


def test_bulk_export_fills_the_store_and_builds_like_the_files(
    server: FhirTestServer, fhir_files: Path, tmp_path: Path
) -> None:
    with ResourceStore(tmp_path / "store") as store:
        result = _fetch(server, store)
        assert result.mode == "bulk" and result.full
        assert store.count() == _file_count(fhir_files) == result.upserts
        live = build_snapshots(store, Config(), tmp_path / "a", now=NOW, data_as_of=result.read_at)
    files = build_snapshots(fhir_files, Config(), tmp_path / "b", now=NOW)
    assert {w.ward_id: w.patients for w in live.wards} == {
        w.ward_id: w.patients for w in files.wards
    }
    assert live.report.data_as_of == min(result.read_at, NOW)
    # the export job was asked to be deleted once read, as the spec asks
    assert any(m == "DELETE" for m, _ in server.iter_requests("/fhir/jobs/"))


def test_store_is_encrypted_at_rest(server: FhirTestServer, tmp_path: Path) -> None:
    with ResourceStore(tmp_path / "store") as store:
        _fetch(server, store)
    name = server.resources("Patient")[0]["name"][0]["family"].encode()
    for path in (tmp_path / "store").iterdir():
        assert name not in path.read_bytes(), path.name
    assert (tmp_path / "store" / "resources.key").stat().st_mode & 0o777 == 0o600


def test_increment_fetches_only_changes_and_applies_deletions(
    server: FhirTestServer, tmp_path: Path
) -> None:
    with ResourceStore(tmp_path / "store") as store:
        first = _fetch(server, store)
        patient = server.resources("Patient")[0]
        patient["name"][0]["family"] = "Neuname"
        server.put(patient)
        gone = server.resources("Observation")[0]
        server.delete("Observation", gone["id"])
        second = _fetch(server, store)
        assert not second.full and second.upserts == 1 and second.deletes == 1
        assert second.since > first.since
        kickoffs = [p for m, p in server.iter_requests("/fhir/$export")]
        assert "_since=" not in kickoffs[0] and "_since=" in kickoffs[1]
        stored = {i.resource["id"]: i.resource for i in store.items() if hasattr(i, "resource")}
        assert stored[patient["id"]]["name"][0]["family"] == "Neuname"
        assert gone["id"] not in stored
        assert f"Patient/{patient['id']}" in second.patients
        third = _fetch(server, store)  # nothing changed: nothing read
        assert third.upserts == 0 and third.deletes == 0


def test_full_refresh_heals_drift(server: FhirTestServer, tmp_path: Path) -> None:
    with ResourceStore(tmp_path / "store") as store:
        _fetch(server, store)
        before = store.count()
        with store.increment(full=False) as inc:  # drift: a row the server no longer has
            inc.upsert({"resourceType": "Observation", "id": "ghost", "status": "final"})
        assert store.count() == before + 1
        healed = _fetch(server, store, full=True)
        assert healed.full and store.count() == before and healed.deletes == 1


def test_store_from_before_the_generation_counter_still_sweeps_on_a_full_refresh(
    server: FhirTestServer, tmp_path: Path
) -> None:
    with ResourceStore(tmp_path / "store") as store:
        _fetch(server, store)
        assert store.state("gen") == "1"
        before = store.count()
        with store.transaction():  # a store written before `gen` was kept in `state`
            store.conn.execute("DELETE FROM state WHERE name = 'gen'")
        with store.increment(full=False) as inc:
            inc.upsert({"resourceType": "Observation", "id": "ghost", "status": "final"})
        assert store.state("gen") == "2"  # continued above every stored row
        _fetch(server, store)
        assert store.state("gen") == "3"
        healed = _fetch(server, store, full=True)
        assert healed.deletes == 1 and store.count() == before


def test_export_since_holds_a_twice_changed_resource_once_as_last_written(
    server: FhirTestServer, tmp_path: Path
) -> None:
    with ResourceStore(tmp_path / "store") as store:
        _fetch(server, store)
        patient = server.resources("Patient")[0]
        for family in ("Erstname", "Zweitname"):
            patient["name"][0]["family"] = family
            server.put(patient)
        observation = server.resources("Observation")[0]
        server.put(observation)
        server.delete("Observation", observation["id"])  # written, then deleted
        second = _fetch(server, store)
        assert second.upserts == 1 and second.deletes == 1
        stored = {i.resource["id"]: i.resource for i in store.items() if hasattr(i, "resource")}
        assert stored[patient["id"]]["name"][0]["family"] == "Zweitname"
        assert observation["id"] not in stored


@pytest.mark.parametrize(
    "retry_after",
    ["1764662400", format_datetime(datetime(2031, 1, 1, tzinfo=UTC), usegmt=True), "3"],
    ids=["epoch-as-seconds", "http-date-years-ahead", "seconds"],
)
def test_429_with_odd_retry_after_waits_a_clamped_time(
    server: FhirTestServer, tmp_path: Path, retry_after: str
) -> None:
    server.faults.append(Fault("/fhir/jobs/", 429, {"Retry-After": retry_after}))
    sleeps = Sleeps()
    with ResourceStore(tmp_path / "store") as store:
        _fetch(server, store, sleeps, fhir={"max_wait_seconds": 30.0})
        assert store.count() > 0
    assert sleeps and max(sleeps) <= 30.0
    assert (30.0 in sleeps) == (retry_after != "3")


def test_retry_after_in_the_past_and_progress_are_honoured(
    fhir_files: Path, tmp_path: Path
) -> None:
    past = format_datetime(datetime(2001, 1, 1, tzinfo=UTC), usegmt=True)
    with FhirTestServer(polls_before_ready=3, retry_after=past) as server:
        server.load_ndjson(fhir_files)
        notes: list[str] = []
        sleeps = Sleeps()
        with ResourceStore(tmp_path / "store") as store:
            config = _config(server, min_wait_seconds=0.5)
            with client_for(config, sleep=sleeps) as client:
                fetch(config, store, client=client, progress=notes.append)
    assert sleeps == [0.1, 0.1, 0.1]  # a date in the past: the poll floor, not 0, not forever
    assert [n for n in notes if n.startswith("export: ")] == [
        "export: 25% done",
        "export: 50% done",
        "export: 75% done",
    ]


def test_status_poll_honours_a_small_retry_after_with_a_floor(
    fhir_files: Path, tmp_path: Path
) -> None:
    """`Retry-After: 0` or `1` on the export status: polled again after that long (0.1 s at
    least), not after min_wait_seconds (1 s by default): a job ready in a moment costs a
    moment, and the whole fetch of five polls takes well under the old five seconds."""
    for retry_after, expected in (("0", 0.1), ("1", 1.0)):
        with FhirTestServer(polls_before_ready=5, retry_after=retry_after) as server:
            server.load_ndjson(fhir_files)
            sleeps = Sleeps()
            with ResourceStore(tmp_path / f"store-{retry_after}") as store:
                config = _config(server, min_wait_seconds=2.0, max_wait_seconds=30.0)
                with client_for(config, sleep=sleeps) as client:
                    fetch(config, store, client=client)
                assert store.count() > 0
        assert sleeps == [expected] * 5, retry_after
    with FhirTestServer(polls_before_ready=5, retry_after="0") as server:
        server.load_ndjson(fhir_files)
        with ResourceStore(tmp_path / "store-real") as store:
            started = time.monotonic()
            fetch(_config(server, min_wait_seconds=1.0), store)  # real sleeps, the default
            assert time.monotonic() - started < 4.0


def test_5xx_is_retried_then_reported_and_nothing_is_applied(
    server: FhirTestServer, tmp_path: Path
) -> None:
    with ResourceStore(tmp_path / "store") as store:
        first = _fetch(server, store)
        count = store.count()
        server.put({**server.resources("Patient")[0], "gender": "other"})
        server.faults.append(Fault("/fhir/jobs/", 500, times=2))
        sleeps = Sleeps()
        _fetch(server, store, sleeps)  # two 500s, then success
        assert sleeps[:2] == [1.0, 2.0]  # exponential backoff without Retry-After
        server.put({**server.resources("Patient")[1], "gender": "other"})
        server.faults.append(Fault("/fhir/jobs/", 503, times=99))
        with pytest.raises(FhirSourceError) as err:
            _fetch(server, store)
        assert "503" in str(err.value) and "gave up after 4 tries" in str(err.value)
        assert store.count() == count
        assert store.state("since") != first.since  # the second fetch's since, not the failed one
        jobs = [p for m, p in server.iter_requests("/fhir/jobs/") if m == "DELETE"]
        assert len(jobs) == 3  # every job deleted, the failed one too


def test_expired_files_restart_the_export(server: FhirTestServer, tmp_path: Path) -> None:
    server.faults.append(Fault("*Patient.ndjson", 410, times=1))
    with ResourceStore(tmp_path / "store") as store:
        result = _fetch(server, store)
        assert (result.restarts == 1 and store.count() == result.upserts - 0) or store.count() > 0
    assert len(list(server.iter_requests("/fhir/$export"))) == 2


def test_expired_files_forever_is_a_clear_error(server: FhirTestServer, tmp_path: Path) -> None:
    server.faults.append(Fault("*Patient.ndjson", 410, times=99))
    with ResourceStore(tmp_path / "store") as store, pytest.raises(FhirSourceError) as err:
        _fetch(server, store)
    assert "410" in str(err.value) and "expired" in str(err.value)


def test_truncated_file_is_downloaded_again_without_duplicates(
    server: FhirTestServer, fhir_files: Path, tmp_path: Path
) -> None:
    server.faults.append(Fault("*Observation.ndjson", truncate=True))
    with ResourceStore(tmp_path / "store") as store:
        _fetch(server, store)
        assert store.count() == _file_count(fhir_files)
    gets = [p for m, p in server.iter_requests("/fhir/files/") if p.endswith("Observation.ndjson")]
    assert len(gets) == 2


def test_error_files_reach_the_report(server: FhirTestServer, tmp_path: Path) -> None:
    server.export_errors = [
        {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "processing", "diagnostics": "DB timeout"}],
        }
    ]
    with ResourceStore(tmp_path / "store") as store:
        result = _fetch(server, store)
    assert result.error_count == 1 and result.errors == ["error processing: DB timeout"]


def test_bearer_token_from_a_0600_file(fhir_files: Path, tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("s3cret-static-token\n")
    token.chmod(0o644)
    with FhirTestServer(auth="bearer") as server:
        server.load_ndjson(fhir_files)
        config = _config(server, auth=FhirAuth(method="bearer", token_file=token))
        with pytest.raises(FhirSourceError, match="chmod 600"):
            client_for(config)
        token.chmod(0o600)
        with ResourceStore(tmp_path / "store") as store, client_for(config) as client:
            assert fetch(config, store, client=client).upserts > 0
        token.write_text("wrong-token")
        with (
            ResourceStore(tmp_path / "s2") as store,
            client_for(config) as client,
            pytest.raises(FhirSourceError) as err,
        ):
            fetch(config, store, client=client)
    assert "401" in str(err.value) and "[fhir.auth]" in str(err.value)
    assert "wrong-token" not in str(err.value)


def _key_file(tmp_path: Path, kind: str) -> tuple[Path, object]:
    key = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if kind == "RS384"
        else ec.generate_private_key(ec.SECP384R1())
    )
    path = tmp_path / f"client-{kind}.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)
    return path, key.public_key()


@pytest.mark.parametrize("algorithm", ["RS384", "ES384"])
def test_smart_backend_services(fhir_files: Path, tmp_path: Path, algorithm: str) -> None:
    key_path, public = _key_file(tmp_path, algorithm)
    with FhirTestServer(auth="smart") as server:
        server.load_ndjson(fhir_files)
        server.register_client("wardcopy", public)
        auth = FhirAuth(
            method="smart", client_id="wardcopy", key_file=key_path, algorithm=algorithm
        )  # type: ignore[arg-type]
        config = _config(server, auth=auth)
        with ResourceStore(tmp_path / "store") as store, client_for(config) as client:
            fetch(config, store, client=client)  # token URL discovered from the server
            assert server.tokens_issued == 1  # one token for the whole export
            server.tokens.clear()  # the server forgets it (restart, revocation)
            server.put({**server.resources("Patient")[0], "gender": "unknown"})
            assert fetch(config, store, client=client).upserts == 1
            assert server.tokens_issued == 2
        (tmp_path / "other").mkdir()
        server.register_client("wardcopy", _key_file(tmp_path / "other", algorithm)[1])
        with (
            ResourceStore(tmp_path / "s2") as store,
            client_for(config) as client,
            pytest.raises(FhirSourceError) as err,
        ):
            fetch(config, store, client=client)
    assert "token endpoint" in str(err.value) and "invalid_client" in str(err.value)


def test_smart_token_refreshed_before_expiry(fhir_files: Path, tmp_path: Path) -> None:
    key_path, public = _key_file(tmp_path, "ES384")
    with FhirTestServer(auth="smart", token_lifetime=30) as server:
        server.load_ndjson(fhir_files)
        server.register_client("wardcopy", public)
        auth = FhirAuth(method="smart", client_id="wardcopy", key_file=key_path, algorithm="ES384")
        config = _config(server, auth=auth, types=["Patient"])
        with ResourceStore(tmp_path / "store") as store, client_for(config) as client:
            fetch(config, store, client=client)
        # 30 s tokens with a 60 s margin: every request gets a fresh one before it expires
        assert server.tokens_issued > 3


@pytest.mark.slow
def test_rest_search_pages_and_increments(fhir_files: Path, tmp_path: Path) -> None:
    with FhirTestServer(bulk=False, page_size=40) as server:
        server.load_ndjson(fhir_files)
        with ResourceStore(tmp_path / "store") as store:
            first = _fetch(server, store, fhir={"page_size": 40, "rest_overlap_seconds": 0})
            assert first.mode == "rest"
            pages = [p for _, p in server.iter_requests("/fhir/page")]
            assert pages  # `next` links were followed
            in_progress = {
                e["subject"]["reference"]
                for e in server.resources("Encounter")
                if e["status"] == "in-progress"
            }
            stored = {i.resource["id"] for i in store.items() if hasattr(i, "resource")}
            assert {ref.split("/")[1] for ref in in_progress} <= stored
            live = build_snapshots(store, Config(), tmp_path / "a", now=NOW)
            files = build_snapshots(fhir_files, Config(), tmp_path / "b", now=NOW)
            ward = {w.ward_id: w.patients for w in files.wards if w.ward_id != "hospital"}
            assert {w.ward_id: w.patients for w in live.wards if w.ward_id != "hospital"} == ward
            obs = next(
                o
                for o in server.resources("Observation")
                if o["subject"]["reference"] in in_progress
            )
            server.put({**obs, "status": "amended"})
            second = _fetch(server, store, fhir={"page_size": 40, "rest_overlap_seconds": 0})
            assert second.upserts == 1 and not second.full


def test_operation_outcome_becomes_a_clear_message(fhir_files: Path, tmp_path: Path) -> None:
    with FhirTestServer(bulk=False) as server:
        server.load_ndjson(fhir_files)
        server.faults.append(
            Fault(
                "/fhir/Encounter",
                403,
                body={
                    "resourceType": "OperationOutcome",
                    "issue": [
                        {"severity": "error", "code": "forbidden", "diagnostics": "scope missing"}
                    ],
                },
            )
        )
        with ResourceStore(tmp_path / "store") as store, pytest.raises(FhirSourceError) as err:
            _fetch(server, store)
    text = str(err.value)
    assert "GET http://127.0.0.1" in text and "/fhir/Encounter answered 403" in text
    assert "error forbidden: scope missing" in text and "ask the EHR team" in text
    assert "status=" not in text  # no query strings (they can hold patient ids)


def test_killed_fetch_leaves_the_store_as_before(server: FhirTestServer, tmp_path: Path) -> None:
    with ResourceStore(tmp_path / "store") as store:
        _fetch(server, store)
        count, since = store.count(), store.state("since")
        server.delete("Patient", server.resources("Patient")[0]["id"])

        def explode(_: str) -> None:
            raise KeyboardInterrupt

        server.polls_before_ready = 1
        with pytest.raises(KeyboardInterrupt):
            config = _config(server)
            with client_for(config) as client:
                fetch(config, store, client=client, progress=explode)
        assert store.count() == count and store.state("since") == since
    with ResourceStore(tmp_path / "store") as store:  # reopened: clean, and the change arrives
        assert _fetch(server, store).deletes == 1


@given(
    st.one_of(
        st.integers(min_value=0, max_value=10**12).map(str),
        st.datetimes(
            min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
        ).map(lambda d: format_datetime(d, usegmt=True)),
        st.text(max_size=30),
    )
)
def test_retry_after_parses_to_a_clamped_wait(value: str) -> None:
    policy = RetryPolicy(min_wait=1, max_wait=120)
    seconds = parse_retry_after(value, NOW)
    assert seconds is None or seconds >= 0
    if seconds is not None:
        assert 1 <= policy.clamp(seconds) <= 120


def test_retry_after_forms() -> None:
    assert parse_retry_after("120", NOW) == 120
    later = format_datetime(NOW + timedelta(seconds=90), usegmt=True)
    assert parse_retry_after(later, NOW) == 90
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", NOW) == 0
    assert parse_retry_after("soon", NOW) is None and parse_retry_after(None) is None


def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    if os.name != "posix":
        pytest.skip("file modes are POSIX")
    key_path, _ = _key_file(tmp_path, "ES384")
    key_path.chmod(0o640)
    config = Config(
        source="https://ehr.example/fhir",
        fhir=FhirSettings(
            auth=FhirAuth(
                method="smart", client_id="c", key_file=key_path, token_url="https://ehr.example/t"
            )
        ),
    )
    with pytest.raises(FhirSourceError, match="chmod 600"):
        client_for(config)


def test_config_check_names_fhir_problems(tmp_path: Path) -> None:
    from sync.config import check_config_file

    key = tmp_path / "client.pem"
    key.write_text("not really a key")
    key.chmod(0o644)
    config = tmp_path / "sync.toml"
    config.write_text(
        'source = "http://ehr.example/fhir"\n'
        '[fhir]\nexport_level = "group"\n'
        '[fhir.auth]\nmethod = "smart"\nclient_id = "c"\nkey_file = "client.pem"\n'
    )
    problems = check_config_file(config)
    assert any(p.startswith("fhir") and "needs group_id" in p for p in problems)
    config.write_text(
        'source = "http://ehr.example/fhir"\n'
        '[fhir.auth]\nmethod = "smart"\nclient_id = "c"\nkey_file = "client.pem"\n'
    )
    problems = check_config_file(config)
    assert any("chmod 600" in p and "fhir.auth.key_file" in p for p in problems)
    assert any("unencrypted over http://" in p for p in problems)
    config.write_text('source = "https://ehr.example/fhir"\n[fhir.auth]\nmethod = "bearer"\n')
    assert any("token_file or token_keyring" in p for p in check_config_file(config))
    config.write_text('[fhir]\nmode = "soap"\n')
    assert any(p.startswith("fhir.mode") for p in check_config_file(config))


@given(
    st.lists(
        st.dictionaries(st.sampled_from(["id", "resourceType", "x"]), st.text(max_size=8)),
        max_size=6,
    ),
    st.lists(st.integers(min_value=1, max_value=7), min_size=1, max_size=40),
    st.booleans(),
)
def test_ndjson_lines_are_the_same_however_the_stream_is_chunked(
    objects: list[dict[str, str]], cuts: list[int], final_newline: bool
) -> None:
    import json

    from sync.sources.bulk import CutShort, ndjson_lines

    lines = [json.dumps(o).encode() for o in objects]
    data = b"\n".join(lines) + (b"\n" if final_newline and lines else b"")
    chunks, pos, i = [], 0, 0
    while pos < len(data):
        size = cuts[i % len(cuts)]
        chunks.append(data[pos : pos + size])
        pos, i = pos + size, i + 1
    assert list(ndjson_lines(chunks)) == lines
    if len(data) > 2 and data.rstrip(b"\n")[-1:] == b"}":
        cut = data.rstrip(b"\n")[:-1]  # the last object loses its closing brace
        with pytest.raises(CutShort):
            list(ndjson_lines([cut]))


def _case_number(store: ResourceStore, tmp: Path, pid: str) -> str | None:
    built = build_snapshots(store, Config(), tmp, now=NOW)
    for snap in built.wards:
        with SnapshotReader(snap.path, snap.key) as reader:
            data = reader.record_json(pid)
        if data:
            stay = orjson.loads(data)["stay"]
            return str(stay["case_number"]) if stay.get("case_number") else None
    raise AssertionError("patient on no ward")


def test_rest_search_reads_the_account_an_encounter_links_for_the_case_number(
    fhir_files: Path, tmp_path: Path
) -> None:
    """ISiK: the Fallnummer is the identifier of the Account (Abrechnungsfall) that
    Encounter.account links. The REST search asks for those Accounts by id, and an
    increment picks up a number assigned to the Account later."""
    with FhirTestServer(bulk=False, page_size=40) as server:
        server.load_ndjson(fhir_files)
        enc = next(e for e in server.resources("Encounter") if e["status"] == "in-progress")
        pid = enc["subject"]["reference"].split("/")[1]
        account = {
            "resourceType": "Account",
            "id": "abrechnungsfall-1",
            "status": "active",
            "identifier": [
                {
                    "type": {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                "code": "AN",
                            }
                        ]
                    },
                    "system": "https://test.krankenhaus.de/fhir/sid/abrechnungsnummer",
                    "value": "2026-004711",
                }
            ],
            "subject": [{"reference": f"Patient/{pid}"}],
        }
        server.put(account)
        server.put(
            {**enc, "account": [{"reference": f"{server.base_url}/Account/abrechnungsfall-1"}]}
        )
        rest = {"page_size": 40, "rest_overlap_seconds": 0}
        # `since` is the server's Date (whole seconds): a second later, the increment below
        # does not read the Encounter again (which would bring its Account anyway)
        time.sleep(1.1)
        with ResourceStore(tmp_path / "store") as store:
            _fetch(server, store, fhir=rest)
            assert store.ids("Account") == {"abrechnungsfall-1"}
            assert [q for _, q in server.iter_requests("/fhir/Account")]  # asked by id
            assert _case_number(store, tmp_path / "a", pid) == "2026-004711"
            # the number is corrected at the Account only: the next increment reads it
            account["identifier"][0]["value"] = "2026-004712"
            server.put(account)
            second = _fetch(server, store, fhir=rest)
            assert not second.full
            assert _case_number(store, tmp_path / "b", pid) == "2026-004712"


def test_bulk_type_list_naming_encounters_asks_for_accounts_too(
    server: FhirTestServer, tmp_path: Path
) -> None:
    with ResourceStore(tmp_path / "store") as store:
        _fetch(server, store, fhir={"types": ["Patient", "Encounter", "Observation"]})
    kickoffs = [q for _, q in server.iter_requests("/fhir/$export")]
    assert kickoffs and "Account" in str(kickoffs[0])

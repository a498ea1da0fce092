"""The build's speed-ups keep its behaviour: fast paths agree with the plain versions they
replaced, and the faster staging store is still encrypted and returns what it was given."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from hypothesis import assume, given
from hypothesis import strategies as st

from sync.mapping import alerts, observations
from sync.mapping._common import codes_of, dicts
from sync.sources import SourceItem
from sync.staging import Staging

_CODES = st.sampled_from(
    [
        "vital-signs",
        "laboratory",
        "LAB",
        "exam",
        "8867-4",  # heart rate: a vital-sign code
        "8480-6",
        "2345-7",
        "100822-6",  # code status
        "304253006",  # not for resuscitation
        "",
    ]
)
# Codings as real data has them, plus the malformed shapes mapping must survive.
_CODING = st.one_of(
    st.fixed_dictionaries({"code": _CODES}, optional={"system": st.just("http://loinc.org")}),
    st.fixed_dictionaries({"code": st.one_of(st.integers(), st.none(), st.lists(_CODES))}),
    st.just("not a coding"),
)
_CC = st.one_of(
    st.fixed_dictionaries({}, optional={"coding": st.one_of(st.lists(_CODING), _CODING)}),
    st.none(),
    st.text(max_size=3),
)


def _old_observation_kind(res: dict[str, Any]) -> str:
    """observation_kind as it was before the fast path (set based)."""
    for cc in dicts(res.get("category")):
        for code in codes_of(cc):
            if code in observations._VITAL_CATEGORIES:
                return "vital"
            if code in observations._LAB_CATEGORIES:
                return "lab"
    if codes_of(res.get("code")) & observations.VITAL_CODES:
        return "vital"
    return "other"


def _ambiguous(res: dict[str, Any]) -> bool:
    """A category naming both a vital and a lab code: the old version answered in set order
    (varying with the hash seed); the new one takes the first coding."""
    for cc in dicts(res.get("category")):
        codes = codes_of(cc)
        if codes & observations._VITAL_CATEGORIES and codes & observations._LAB_CATEGORIES:
            return True
    return False


@given(category=st.one_of(st.lists(_CC, max_size=3), _CC), code=_CC)
def test_observation_kind_matches_the_set_based_version(category: Any, code: Any) -> None:
    res = {"resourceType": "Observation", "category": category, "code": code}
    assume(not _ambiguous(res))
    assert observations.observation_kind(res) == _old_observation_kind(res)


@given(code=_CC)
def test_code_status_detection_matches_the_set_based_version(code: Any) -> None:
    res = {"resourceType": "Observation", "code": code}
    codes = codes_of(code)
    old = bool(codes & alerts.LOINC_CODE_STATUS or codes & set(alerts._SNOMED_KIND))
    assert alerts.is_code_status_observation(res) is old


def test_staging_store_is_encrypted_and_returns_every_resource(tmp_path: Path) -> None:
    patient = {"resourceType": "Patient", "id": "p1", "name": [{"family": "Testperson"}]}
    observations_in = [
        {
            "resourceType": "Observation",
            "id": f"o{i}",
            "subject": {"reference": "Patient/p1"},
            "valueString": "x" * 3000,  # several rows per page, some spilling over pages
        }
        for i in range(40)
    ]
    with Staging(tmp_path) as staging:
        staging.add(SourceItem(patient, None, "p.ndjson:1"))
        for i, res in enumerate(observations_in):
            staging.add(SourceItem(res, None, f"o.ndjson:{i}", raw=orjson.dumps(res)))
        staging.finish_loading()
        header = staging.path.read_bytes()[:16]
        size = staging.path.stat().st_size
        staged = list(staging.iter_patients())
    assert header != b"SQLite format 3\x00", "staging store written in plaintext"
    assert size > 0 and size % 16384 == 0  # whole 16 KiB cipher pages
    assert [p.key for p in staged] == ["Patient/p1"]
    assert staged[0].resources == observations_in
    assert not list(tmp_path.glob(".staging-*")), "staging file left behind"

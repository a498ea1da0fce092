"""The case number ("Fallnummer") as ISiK sends it: ISiKKontaktGesundheitseinrichtung puts the
billing case number in `Encounter.account` (a logical reference `account.identifier`, and/or a
link to an ISiKAbrechnungsfall Account whose identifier is typed AN, in older versions VN), while
the Encounter's own VN identifier is the Aufnahmenummer of the one contact. FHIR below is written
as the ISiK Basismodul's examples write it (Fachabteilungskontakt, AbrechnungsfallDRG)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sync.mapping import MappingContext, map_patient
from sync.model import CensusRow, PatientRecord
from sync.staging import _reference_string
from sync.store import _patient_ref

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
V2 = "http://terminology.hl7.org/CodeSystem/v2-0203"
PATIENT = {
    "resourceType": "Patient",
    "id": "PatientinMusterfrau",
    "identifier": [{"type": {"coding": [{"system": V2, "code": "MR"}]}, "value": "TEST_0001"}],
    "name": [{"use": "official", "family": "Musterfrau", "given": ["Erika"]}],
    "birthDate": "1964-08-12",
}
AUFNAHMENUMMER = {
    "type": {"coding": [{"system": V2, "code": "VN"}]},
    "system": "https://test.krankenhaus.de/fhir/sid/besuchsnummer",
    "value": "0123456789",
}


def encounter(account: list[dict[str, Any]] | None) -> dict[str, Any]:
    enc: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": "Fachabteilungskontakt",
        "identifier": [AUFNAHMENUMMER],
        "status": "in-progress",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
        "type": [
            {
                "coding": [
                    {
                        "system": "http://fhir.de/CodeSystem/Kontaktebene",
                        "code": "abteilungskontakt",
                    }
                ]
            }
        ],
        "subject": {"reference": "Patient/PatientinMusterfrau"},
        "period": {"start": "2026-03-08T22:10:00+01:00"},
    }
    if account is not None:
        enc["account"] = account
    return enc


def abrechnungsfall(code: str = "AN") -> dict[str, Any]:
    return {
        "resourceType": "Account",
        "id": "AbrechnungsfallDRG",
        "identifier": [
            {
                "type": {"coding": [{"system": V2, "code": code}]},
                "system": "https://test.krankenhaus.de/fhir/sid/abrechnungsnummer",
                "value": "2026-004711",
            }
        ],
        "status": "active",
        "type": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"}
            ]
        },
        "subject": [{"reference": "Patient/PatientinMusterfrau"}],
    }


def mapped(*resources: dict[str, Any]) -> PatientRecord:
    ctx = MappingContext(tz=ZoneInfo("Europe/Berlin"), now=NOW, problems=Counter())
    return map_patient(PATIENT, list(resources), ctx)


def case_of(*resources: dict[str, Any]) -> str | None:
    record = mapped(*resources)
    assert record.stay is not None
    assert CensusRow.from_record(record).case_number == record.stay.case_number
    return record.stay.case_number


def test_the_account_logical_reference_is_the_fallnummer_not_the_aufnahmenummer() -> None:
    # The ISiK example: account = Reference(AbrechnungsfallDRG) with identifier .../fallnummer.
    account = {
        "reference": "Account/AbrechnungsfallDRG",
        "identifier": {"system": "https://test.krankenhaus.de/fhir/sid/fallnummer", "value": "XZY"},
    }
    assert case_of(encounter([account])) == "XZY"


def test_a_linked_account_gives_its_abrechnungsnummer() -> None:
    link = {"reference": "Account/AbrechnungsfallDRG"}
    assert case_of(encounter([link]), abrechnungsfall("AN")) == "2026-004711"
    # Older ISiK versions typed the Account's number VN (Aufnahmenummer slice).
    assert case_of(encounter([link]), abrechnungsfall("VN")) == "2026-004711"


def test_a_contained_account_is_read_too() -> None:
    enc = encounter([{"reference": "#acc"}])
    enc["contained"] = [{**abrechnungsfall(), "id": "acc"}]
    assert case_of(enc) == "2026-004711"


def test_without_an_account_the_visit_number_stays_the_case_number() -> None:
    assert case_of(encounter(None)) == "0123456789"
    # A link to an Account the source did not deliver: nothing invented, the VN is used.
    assert case_of(encounter([{"reference": "Account/elsewhere"}])) == "0123456789"


def test_an_account_is_staged_with_its_patient() -> None:
    # Account.subject is a list (0..*): the Patient in it files the Account with the patient,
    # so that the Encounter's link can be resolved at mapping time.
    account = abrechnungsfall()
    account["subject"] = [{"reference": "Device/d1"}, {"reference": "Patient/PatientinMusterfrau"}]
    assert _reference_string(account["subject"]) == "Patient/PatientinMusterfrau"
    assert _patient_ref(account) == "Patient/PatientinMusterfrau"

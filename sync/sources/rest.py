"""FHIR REST search, for servers without Bulk Data: the in-scope stays, their patients, and
those patients' resources.

`run_search(client, options, since, sink, known_patients)`:

1. in-scope Encounters: `Encounter?status=<active statuses>&class=<inpatient classes>`
   (plus `location=` when configured), and those finished recently
   (`status=finished&_lastUpdated=ge<now - discharged window>`);
2. their Patients (`Patient?_id=a,b,...`) and, per patient-compartment type,
   `<Type>?patient=a,b,...` (50 patients per request);
3. the Accounts those Encounters reference (`Encounter.account`: the ISiK Fallnummer is the
   identifier of the linked Abrechnungsfall), `Account?_id=a,b,...`, whole: an Encounter
   read now may name an Account the store does not hold yet;
4. shared resources (Location, Organization, Practitioner, PractitionerRole, Medication) whole.

Every search follows the Bundle's `next` links with `_count`. With `since` (an increment),
step 1 and 4 ask only for `_lastUpdated=gt<since>`, step 2 runs whole only for patients new to
the store, and for the patients already known each type is asked for `_lastUpdated=gt<since>`;
the Accounts already in the store are asked for by id with `_lastUpdated=gt<since>` (a case
number assigned to a stay later changes only its Account).
REST cannot report deletions: the nightly full refresh (sync.store's sweep) removes them.
The next `since` is the server's `Date` of the first answer minus `overlap` seconds (clock
skew between the server's write time and its Date header; the store applies repeats
idempotently). OperationOutcome errors become FhirSourceError messages (sync.sources.http).
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sync.sources.bulk import Sink
from sync.sources.http import FhirClient, FhirSourceError

__all__ = ["RestOptions", "SearchResult", "run_search"]

SHARED_SEARCH_TYPES = ("Location", "Organization", "Practitioner", "PractitionerRole", "Medication")
DEFAULT_PATIENT_TYPES = (
    "Encounter",
    "Condition",
    "AllergyIntolerance",
    "Observation",
    "MedicationRequest",
    "MedicationAdministration",
    "MedicationStatement",
    "Flag",
    "Consent",
    "DiagnosticReport",
    "DocumentReference",
    "ServiceRequest",
    "Procedure",
    "Immunization",
    "Device",
    "CareTeam",
    "RelatedPerson",
)
_PATIENTS_PER_QUERY = 50


@dataclass
class RestOptions:
    """What to search (config `[fhir]`)."""

    encounter_statuses: list[str] = field(
        default_factory=lambda: ["arrived", "triaged", "in-progress", "onleave"]
    )
    encounter_classes: list[str] = field(default_factory=list)
    locations: list[str] = field(default_factory=list)  # Location ids; [] = all
    discharged_within_hours: float = 24.0
    patient_types: list[str] = field(default_factory=lambda: list(DEFAULT_PATIENT_TYPES))
    shared_types: list[str] = field(default_factory=lambda: list(SHARED_SEARCH_TYPES))
    page_size: int = 200
    overlap_seconds: float = 5.0
    max_pages: int = 100_000  # a server whose `next` links loop forever is stopped here


@dataclass
class SearchResult:
    transaction_time: str
    resources: int = 0
    requests: int = 0
    patients_in_scope: int = 0
    new_patients: int = 0


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _Searcher:
    def __init__(self, client: FhirClient, options: RestOptions, sink: Sink) -> None:
        self.client = client
        self.options = options
        self.sink = sink
        self.result = SearchResult("")
        self.server_date: datetime | None = None
        self.accounts_named: set[str] = set()  # Account ids the Encounters read reference
        self.accounts_read: set[str] = set()

    def pages(self, rtype: str, params: list[tuple[str, str]]) -> Iterator[dict[str, Any]]:
        """Every resource of a search, following `next` links."""
        url: str | None = rtype
        query: list[tuple[str, str]] | None = [*params, ("_count", str(self.options.page_size))]
        seen: set[str] = set()
        for _ in range(self.options.max_pages):
            if url is None:
                return
            response = self.client.request("GET", url, params=query)
            self.result.requests += 1
            if self.server_date is None:
                self.server_date = _date_header(response.headers.get("Date"))
            bundle = _bundle(response.content, rtype)
            for entry in bundle.get("entry") or []:
                resource = entry.get("resource") if isinstance(entry, dict) else None
                search = entry.get("search") if isinstance(entry, dict) else None
                if isinstance(search, dict) and search.get("mode") == "outcome":
                    continue  # a warning OperationOutcome riding along
                if isinstance(resource, dict):
                    yield resource
            url = _next_link(bundle)
            if url is not None and url in seen:
                raise FhirSourceError(f"the {rtype} search's next links loop; the server is faulty")
            if url is not None:
                seen.add(url)
            query = None  # the next link carries the whole query
        raise FhirSourceError(
            f"the {rtype} search returned more than {self.options.max_pages} pages"
        )

    def store(self, resources: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for resource in resources:
            self.sink.upsert(resource)
            self.result.resources += 1
            rtype = resource.get("resourceType")
            if rtype == "Encounter":
                self.accounts_named.update(_account_ids(resource))
            elif rtype == "Account" and isinstance(resource.get("id"), str):
                self.accounts_read.add(resource["id"])
            yield resource


def _bundle(body: bytes, rtype: str) -> dict[str, Any]:
    import orjson

    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise FhirSourceError(
            f"the {rtype} search answered with something that is not JSON"
        ) from None
    if not isinstance(value, dict) or value.get("resourceType") != "Bundle":
        raise FhirSourceError(f"the {rtype} search answered with no Bundle")
    return value


def _next_link(bundle: dict[str, Any]) -> str | None:
    for link in bundle.get("link") or []:
        if isinstance(link, dict) and link.get("relation") == "next":
            url = link.get("url")
            return url if isinstance(url, str) and url else None
    return None


def _date_header(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


_ACCOUNT_REF = re.compile(r"(?:^|/)Account/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")


def _account_ids(encounter: dict[str, Any]) -> set[str]:
    """The ids of the Accounts an Encounter links in `account` (relative or absolute
    references; a logical reference by identifier alone or a contained one has none)."""
    found: set[str] = set()
    accounts = encounter.get("account")
    for ref in accounts if isinstance(accounts, list) else ():
        value = ref.get("reference") if isinstance(ref, dict) else None
        match = _ACCOUNT_REF.search(value) if isinstance(value, str) else None
        if match is not None:
            found.add(match[1])
    return found


def _patient_id(resource: dict[str, Any]) -> str | None:
    subject = resource.get("subject")
    ref = subject.get("reference") if isinstance(subject, dict) else None
    if isinstance(ref, str) and ref.startswith("Patient/"):
        return ref.removeprefix("Patient/").split("/")[0]
    return None


def run_search(
    client: FhirClient,
    options: RestOptions,
    since: str | None,
    sink: Sink,
    known_patients: set[str] | None = None,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
    known_accounts: set[str] | None = None,
) -> SearchResult:
    """Search the server into `sink` (see the module docstring). `known_patients` and
    `known_accounts` are the Patient and Account ids already in the store (used with
    `since`). Raises FhirSourceError."""
    now = now or datetime.now(UTC)
    s = _Searcher(client, options, sink)
    changed = [("_lastUpdated", f"gt{since}")] if since else []
    base: list[tuple[str, str]] = []
    if options.encounter_classes:
        base.append(("class", ",".join(options.encounter_classes)))
    if options.locations:
        base.append(("location", ",".join(f"Location/{loc}" for loc in options.locations)))
    in_scope: set[str] = set()
    queries = [[("status", ",".join(options.encounter_statuses)), *base, *changed]]
    window = now - timedelta(hours=options.discharged_within_hours)
    queries.append(
        [("status", "finished"), *base, ("_lastUpdated", f"ge{_instant(window)}"), *changed]
    )
    for params in queries:
        for encounter in s.store(s.pages("Encounter", params)):
            pid = _patient_id(encounter)
            if pid:
                in_scope.add(pid)
    known = known_patients or set()
    new = sorted(in_scope - known) if since else sorted(in_scope)
    s.result.patients_in_scope = len(in_scope | (known if since else set()))
    s.result.new_patients = len(new)
    if progress is not None:
        progress(f"search: {len(in_scope)} patients with stays in scope, {len(new)} new")
    # Whole compartments of new patients (all of them on a full read).
    for ids in _chunks(new, _PATIENTS_PER_QUERY):
        for _ in s.store(s.pages("Patient", [("_id", ",".join(ids))])):
            pass
        for rtype in options.patient_types:
            for _ in s.store(s.pages(rtype, [("patient", ",".join(ids))])):
                pass
    # Changes to the patients already known.
    if since:
        old = sorted(known)
        for ids in _chunks(old, _PATIENTS_PER_QUERY):
            for rtype in ("Patient", *options.patient_types):
                param = "_id" if rtype == "Patient" else "patient"
                for _ in s.store(s.pages(rtype, [(param, ",".join(ids)), *changed])):
                    pass
    # The Accounts the Encounters read link (whole: new to the store, or their stay is).
    for ids in _chunks(sorted(s.accounts_named - s.accounts_read), _PATIENTS_PER_QUERY):
        for _ in s.store(s.pages("Account", [("_id", ",".join(ids))])):
            pass
    if since and known_accounts:
        for ids in _chunks(sorted(known_accounts - s.accounts_read), _PATIENTS_PER_QUERY):
            for _ in s.store(s.pages("Account", [("_id", ",".join(ids)), *changed])):
                pass
    for rtype in options.shared_types:
        for _ in s.store(s.pages(rtype, changed)):
            pass
    read_at = s.server_date or now
    s.result.transaction_time = _instant(read_at - timedelta(seconds=options.overlap_seconds))
    return s.result

"""Patient identity and contacts: names, identifiers, MRN, sex, deceased, next of kin."""

from __future__ import annotations

from typing import Any

from sync.fhirtime import fhir_date_precision, parse_fhir_date
from sync.mapping._common import (
    Mapper,
    MappingError,
    as_list,
    best_name,
    cc_text,
    dicts,
    human_name,
    text_of,
)
from sync.model import Contact, DatePrecision, Identifier, Sex

# Identifier.type codes (v2-0203 and the German basis profile) -> the short label shown.
_ID_LABELS = {
    "MR": "MRN",
    "SS": "SSN",
    "DL": "DL",
    "PPN": "Passport",
    "KVZ10": "KVNR",
    "GKV": "KVNR",
    "PKV": "PKV",
    "VN": "Visit",
    "PI": "PID",
    "PT": "PID",
}

# v3 RoleCode / v2-0131 relationship codes -> readable text when no display is given.
_RELATIONSHIPS = {
    "MTH": "mother",
    "FTH": "father",
    "PRN": "parent",
    "SPS": "spouse",
    "HUSB": "husband",
    "WIFE": "wife",
    "DOMPART": "domestic partner",
    "SIGOTHR": "significant other",
    "CHILD": "child",
    "DAUC": "daughter",
    "SONC": "son",
    "DAU": "daughter",
    "SON": "son",
    "SIB": "sibling",
    "BRO": "brother",
    "SIS": "sister",
    "GRMTH": "grandmother",
    "GRFTH": "grandfather",
    "GRPRN": "grandparent",
    "FRND": "friend",
    "NBOR": "neighbour",
    "GUARD": "guardian",
    "POWATY": "power of attorney",
    "HPOWATY": "healthcare power of attorney",
    "C": "emergency contact",
    "N": "next of kin",
    "E": "employer",
    "U": "unknown",
    "CP": "contact person",
    "EP": "emergency contact",
    "PR": "person preparing referral",
    "ONESELF": "self",
}

_SEX = {"male": Sex.MALE, "female": Sex.FEMALE, "other": Sex.OTHER, "unknown": Sex.UNKNOWN}


def identifier_label(ident: dict[str, Any]) -> str | None:
    """A short label for an Identifier from its type (MRN, KVNR, ...)."""
    itype = ident.get("type")
    if not isinstance(itype, dict):
        return None
    for coding in dicts(itype.get("coding")):
        code = coding.get("code")
        if isinstance(code, str) and code in _ID_LABELS:
            return _ID_LABELS[code]
    return cc_text(itype)


def identifiers(patient: dict[str, Any]) -> tuple[list[Identifier], str | None]:
    """The patient's identifiers and the MRN: the one typed MR, else the first one."""
    out: list[Identifier] = []
    mrn: str | None = None
    for ident in dicts(patient.get("identifier")):
        value = text_of(ident.get("value"))
        if not value:
            continue
        system = ident.get("system")
        label = identifier_label(ident)
        out.append(
            Identifier(system=system if isinstance(system, str) else None, value=value, label=label)
        )
        if mrn is None and label == "MRN":
            mrn = value
    if mrn is None and out:
        mrn = out[0].value
    return out, mrn


def names(m: Mapper, patient: dict[str, Any]) -> dict[str, Any]:
    """Name fields of PatientRecord: family, given, prefix, name (display), other_names."""
    chosen = best_name(patient.get("name"))
    fields: dict[str, Any] = {"given": [], "prefix": [], "other_names": []}
    display = None
    if chosen is not None:
        fields["family"] = text_of(chosen.get("family"))
        fields["given"] = [g.strip() for g in as_list(chosen.get("given")) if text_of(g)]
        fields["prefix"] = [p.strip() for p in as_list(chosen.get("prefix")) if text_of(p)]
        display = human_name(chosen, family_first=True)
    if not display:
        m.problem("Patient: no name")
        display = "(no name recorded)"
    fields["name"] = display
    for other in dicts(patient.get("name")):
        if other is chosen:
            continue
        text = human_name(other, family_first=True)
        if text and text != display and text not in fields["other_names"]:
            use = other.get("use")
            fields["other_names"].append(f"{text} ({use})" if use in ("maiden", "old") else text)
    return fields


def address_text(addr: Any) -> str | None:
    """One-line address: "street, postal code city, country"."""
    if not isinstance(addr, dict):
        return None
    text = text_of(addr.get("text"))
    if text:
        return text
    lines = [ln.strip() for ln in as_list(addr.get("line")) if text_of(ln)]
    city = " ".join(p for p in (text_of(addr.get("postalCode")), text_of(addr.get("city"))) if p)
    parts = [*lines, city, text_of(addr.get("country")) or ""]
    return ", ".join(p for p in parts if p) or None


def _pick_address(addresses: Any) -> str | None:
    candidates = dicts(addresses)
    candidates = sorted(
        candidates, key=lambda a: (a.get("use") == "old", a.get("type") == "postal")
    )
    for addr in candidates:
        text = address_text(addr)
        if text:
            return text
    return None


def telecom(points: Any, system: str) -> str | None:
    """The first usable contact point of `system` (phone, email), preferring non-old ones."""
    for point in sorted(dicts(points), key=lambda p: p.get("use") == "old"):
        if point.get("system") == system:
            value = text_of(point.get("value"))
            if value:
                return value
    return None


def identity_fields(m: Mapper, patient: dict[str, Any]) -> dict[str, Any]:
    """PatientRecord keyword arguments for identity; raises MappingError when the Patient is not
    a Patient resource with an id (the caller counts it and skips the patient)."""
    if not isinstance(patient, dict) or patient.get("resourceType") != "Patient":
        raise MappingError("not a Patient resource; pass the patient's Patient resource")
    pid = patient.get("id")
    if not isinstance(pid, str) or not pid.strip():
        raise MappingError("Patient has no id; the source must give every Patient a logical id")
    idents, mrn = identifiers(patient)
    fields: dict[str, Any] = {"id": pid, "identifiers": idents, "mrn": mrn}
    fields.update(names(m, patient))
    birth = patient.get("birthDate")
    if birth is not None:
        fields["birth_date"] = parse_fhir_date(birth)
        # "1996" or "1996-07": kept as the first day of the period, with how much is known,
        # so that no screen or paper shows 01.01.1996 as if it were recorded.
        fields["birth_precision"] = DatePrecision(fhir_date_precision(birth))
        if fields["birth_date"] is None:
            m.problem("Patient: bad birthDate")
        elif fields["birth_date"] > m.ctx.now.astimezone(m.tz).date():
            # Kept as sent (the chart shows what the source says), but reported: a typo here
            # makes a wrong age and wrong dose ranges.
            m.problem("Patient: birth date in the future (implausible)")
        elif fields["birth_date"].year < 1900:
            m.problem("Patient: birth date before 1900 (implausible)")
    gender = patient.get("gender")
    fields["sex"] = _SEX.get(gender, Sex.UNKNOWN) if isinstance(gender, str) else Sex.UNKNOWN
    if patient.get("deceasedBoolean") is True:
        fields["deceased"] = True
    elif "deceasedDateTime" in patient:
        fields["deceased"] = True
        fields["deceased_at"] = m.dt(patient.get("deceasedDateTime"))
    for comm in sorted(
        dicts(patient.get("communication")), key=lambda c: c.get("preferred") is not True
    ):
        lang = comm.get("language")
        text = cc_text(lang)
        if text:
            fields["language"] = text
            break
    fields["address"] = _pick_address(patient.get("address"))
    fields["phone"] = telecom(patient.get("telecom"), "phone")
    fields["merged_from"] = [
        rid
        for link in dicts(patient.get("link"))
        if link.get("type") == "replaces" and (rid := _link_id(link.get("other")))
    ]
    fields["source"] = m.source(patient)
    return fields


def _link_id(ref: Any) -> str | None:
    if not isinstance(ref, dict):
        return None
    ref_str = ref.get("reference")
    if isinstance(ref_str, str) and ref_str and "?" not in ref_str:
        return ref_str.rsplit("/", 1)[-1].removeprefix("urn:uuid:")
    return None


def relationship_text(relationships: Any) -> str | None:
    """Readable relationship from CodeableConcepts: text/display, else a known code."""
    texts: list[str] = []
    for cc in dicts(relationships):
        text = text_of(cc.get("text"))
        if not text:
            for coding in dicts(cc.get("coding")):
                text = text_of(coding.get("display"))
                code = coding.get("code")
                if not text and isinstance(code, str):
                    text = _RELATIONSHIPS.get(code, code)
                if text:
                    break
        if text and text not in texts:
            texts.append(text)
    return ", ".join(texts) or None


def patient_contacts(m: Mapper, patient: dict[str, Any]) -> list[Contact]:
    """Patient.contact entries (next of kin, emergency contacts) as Contacts."""
    out: list[Contact] = []
    source = m.source(patient)
    for contact in dicts(patient.get("contact")):
        name_obj = contact.get("name")
        name = human_name(name_obj, family_first=False) if isinstance(name_obj, dict) else None
        if not name:
            org = contact.get("organization")
            name = text_of(org.get("display")) if isinstance(org, dict) else None
        if not name:
            m.problem("Patient.contact: no name")
            continue
        out.append(
            Contact(
                name=name,
                relationship=relationship_text(contact.get("relationship")),
                phone=telecom(contact.get("telecom"), "phone"),
                email=telecom(contact.get("telecom"), "email"),
                address=address_text(contact.get("address")),
                source=source,
            )
        )
    return out


def related_person(m: Mapper, res: dict[str, Any]) -> Contact | None:
    """A RelatedPerson as a Contact; None (counted) when it has no name, None when inactive."""
    if res.get("active") is False:
        return None
    name_obj = best_name(res.get("name"))
    name = human_name(name_obj, family_first=False) if name_obj else None
    if not name:
        m.problem("RelatedPerson: no name")
        return None
    return Contact(
        name=name,
        relationship=relationship_text(res.get("relationship")),
        phone=telecom(res.get("telecom"), "phone"),
        email=telecom(res.get("telecom"), "email"),
        address=_pick_address(res.get("address")),
        source=m.source(res),
    )

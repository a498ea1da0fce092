"""Shared helpers for the viewer tests: made-up ward records and a real installed laptop home.

Not a test module (it defines no tests); tests/test_ui_*.py and tests/e2e import it by name.
`build_home` runs the real chain: SQLCipher snapshot -> signed, key-wrapped package -> outbox ->
`sync.receive` into a laptop home, plus a signed roster, exactly as on a ward laptop.
All names are invented.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync import device, keys, publish, receive
from sync import roster as rosterlib
from sync.model import (
    Administration,
    Allergy,
    CareTeamMember,
    CodeStatus,
    CodeStatusKind,
    Contact,
    Criticality,
    Dosage,
    Flag,
    Immunization,
    Interpretation,
    MedicationOrder,
    Note,
    Observation,
    Order,
    PatientRecord,
    Problem,
    Procedure,
    Sex,
    Stay,
    Timing,
)
from sync.snapshot import SnapshotMeta, new_key, write_snapshot

WARD = "station-3a"
WARD_NAME = "Station 3A Innere"
OTHER_WARD = "station-5b"
HOSPITAL = "hospital"
NURSE = ("pflege", "Anna Berg", "nurse", "pflege-test-1")
DOCTOR = ("arzt", "Dr. Jonas Weiss", "physician", "arzt-test-12")
OUTSIDER = ("fremd", "Paul Fremd", "nurse", "fremd-test-12")  # may only see another ward
ADMIN = ("admin", "IT Admin", "admin", "admin-test-12")

_FAMILIES = [
    "Müller", "Schmidt", "Özdemir", "Weber", "Fischer", "Wagner", "Becker", "Hoffmann",
    "Schäfer", "Koch", "Richter", "Klein", "Wolf", "Neumann",
]  # fmt: skip
_GIVEN = [
    "Erika", "Hans", "Ayşe", "Karl", "Greta", "Otto", "Liese", "Bernd",
    "Frieda", "Jürgen", "Ilse", "Max", "Hanna", "Rolf",
]  # fmt: skip
_DIAG = [
    "Pneumonie, rechter Unterlappen", "Herzinsuffizienz NYHA III", "Diabetische Entgleisung",
    "COPD-Exazerbation", "Vorhofflimmern mit schneller Überleitung", "Harnwegsinfekt",
    "Gastrointestinale Blutung", "Hyponatriämie", "Synkope, unklar", "Erysipel Unterschenkel",
    "Exsikkose", "Lungenembolie", "Pyelonephritis", "Anämie",
]  # fmt: skip


def make_record(
    i: int, now: datetime, ward: str = WARD, ward_name: str = WARD_NAME
) -> PatientRecord:
    """A made-up but realistic inpatient record; patient 0 is Müller, Erika (DNR, penicillin)."""
    family, given = _FAMILIES[i % len(_FAMILIES)], _GIVEN[i % len(_GIVEN)]
    sex = Sex.FEMALE if i % 2 == 0 else Sex.MALE
    admitted = now - timedelta(days=1 + i % 6, hours=3)
    allergies: list[Allergy] = []
    if i % 3 == 0:
        allergies.append(
            Allergy(
                substance="Penicillin",
                criticality=Criticality.HIGH,
                reactions=["Anaphylaxie"],
                kind="allergy",
                clinical_status="active",
            )
        )
    if i % 4 == 1:
        allergies.append(Allergy(substance="Pflaster (Latex)", criticality=Criticality.LOW))
    code = None
    if i % 5 == 0:
        code = CodeStatus(kind=CodeStatusKind.DNR, text="Keine Reanimation", recorded=admitted)
    elif i % 5 == 2:
        code = CodeStatus(kind=CodeStatusKind.FULL, text="Volle Therapie")
    flags = [Flag(text="MRSA – Kontaktisolation", category="isolation")] if i % 4 == 3 else []
    if i % 6 == 1:
        flags.append(Flag(text="Sturzgefahr", category="safety"))
    meds = [
        MedicationOrder(
            id=f"mr{i}-1",
            drug="Metoprolol 47,5 mg Retardtablette",
            status="active",
            dosages=[
                Dosage(
                    dose_text="1 Tbl.",
                    route="p.o.",
                    timing=Timing(times_of_day=["08:00", "20:00"]),
                )
            ],
            start=admitted,
            prescriber="Dr. Weiss",
        ),
        MedicationOrder(
            id=f"mr{i}-2",
            drug="Enoxaparin 40 mg",
            status="active",
            dosages=[
                Dosage(dose_text="40 mg", route="s.c.", timing=Timing(times_of_day=["18:00"]))
            ],
            start=admitted,
        ),
        MedicationOrder(
            id=f"mr{i}-3",
            drug="Metamizol 500 mg",
            status="active",
            dosages=[
                Dosage(dose_text="500 mg", route="p.o.", as_needed=True, as_needed_reason="Schmerz")
            ],
        ),
    ]
    admins = [
        Administration(
            order_id=f"mr{i}-1",
            drug="Metoprolol 47,5 mg Retardtablette",
            status="completed",
            when=now - timedelta(hours=h),
            dose_text="1 Tbl.",
            route="p.o.",
            performer="Pflege",
        )
        for h in (14, 26, 38)
    ]
    vitals = []
    for k in range(6):
        when = now - timedelta(hours=4 * k + 1)
        vitals += [
            Observation(code="8867-4", name="Herzfrequenz", kind="vital", value=78 + 3 * k + i % 7,
                        unit="/min", effective=when),
            Observation(code="8480-6", name="Blutdruck systolisch", kind="vital",
                        value=128 + (k * 7) % 20, unit="mmHg", effective=when),
            Observation(code="8310-5", name="Körpertemperatur", kind="vital",
                        value=37.2 + 0.3 * (k % 3), unit="°C", effective=when),
        ]  # fmt: skip
    labs = []
    for k in range(3):
        when = now - timedelta(days=k, hours=6)
        labs += [
            Observation(code="2823-3", name="Kalium", group="Klinische Chemie", value=5.9 - 0.4 * k,
                        unit="mmol/l", ref_low=3.5, ref_high=5.1,
                        interpretation=Interpretation.HIGH if k < 2 else Interpretation.NORMAL,
                        effective=when),
            Observation(code="1988-5", name="CRP", group="Klinische Chemie", value=88 - 20 * k,
                        unit="mg/l", ref_high=5, interpretation=Interpretation.HIGH,
                        effective=when),
            Observation(code="718-7", name="Hämoglobin", group="Blutbild", value=11.8 + 0.1 * k,
                        unit="g/dl", ref_low=12, ref_high=16, interpretation=Interpretation.LOW,
                        effective=when),
        ]  # fmt: skip
    room = f"{101 + i // 2}"
    return PatientRecord(
        id=f"pat-{ward}-{i}",
        mrn=f"{40001000 + i}",
        family=family,
        given=[given],
        name=f"{family}, {given}",
        birth_date=date(1938 + (i * 3) % 60, 1 + i % 12, 1 + (i * 7) % 28),
        sex=sex,
        stay=Stay(
            encounter_id=f"enc-{i}",
            status="in-progress",
            admitted=admitted,
            ward_id=ward,
            ward=ward_name,
            room=room,
            bed="A" if i % 2 == 0 else "B",
            attending="Dr. Weiss" if i % 2 else "Dr. Lang",
            reason=_DIAG[i % len(_DIAG)],
        ),
        allergies=allergies,
        no_known_allergies=not allergies and i % 2 == 0,
        code_status=code,
        flags=flags,
        problems=[
            Problem(
                text=_DIAG[i % len(_DIAG)],
                is_main_diagnosis=True,
                coding=[],
                clinical_status="active",
            ),
            Problem(text="Arterielle Hypertonie", clinical_status="active"),
        ],
        medications=meds,
        administrations=admins,
        vitals=vitals,
        labs=labs,
        notes=[
            Note(
                title="Pflegebericht Nachtdienst",
                kind="Pflegebericht",
                date=now - timedelta(hours=5),
                author="Pflege",
                text="Patientin schlief ruhig. Keine Schmerzen angegeben.\nVitalwerte stabil.",
            )
        ],
        orders=[
            Order(
                text="Blutentnahme Elektrolyte",
                priority="urgent",
                status="active",
                occurrence=now + timedelta(hours=2),
            )
        ],
        procedures=[
            Procedure(
                text="Legen eines peripheren Venenkatheters", status="completed", performed=admitted
            )
        ],
        immunizations=[Immunization(vaccine="Influenza 2026/27", date=now - timedelta(days=40))],
        care_team=[CareTeamMember(name="Dr. Weiss", role="Stationsarzt", phone="4711")],
        contacts=[Contact(name=f"{family}, Peter", relationship="Sohn", phone="0170 1234567")],
    )


@dataclass
class UiHome:
    home: Path
    outbox: Path
    sync_home: Path
    data_as_of: datetime
    patients: int


def _publish(
    sync_home: Path,
    outbox: Path,
    signing_key: Ed25519PrivateKey,
    ward: str,
    ward_name: str,
    records: list[PatientRecord],
    data_as_of: datetime,
) -> None:
    work = sync_home / "work"
    work.mkdir(parents=True, exist_ok=True)
    db = work / f"{ward}.db"
    db.unlink(missing_ok=True)
    key = new_key()
    meta = SnapshotMeta(
        ward_id=ward, ward_name=ward_name, data_as_of=data_as_of, counts={"patients": len(records)}
    )
    write_snapshot(db, key, meta, records)
    try:
        publish.publish_snapshot(
            sync_home=sync_home,
            outbox=outbox,
            ward=ward,
            payload_path=db,
            db_key=key,
            data_as_of=data_as_of,
            counts={"patients": len(records)},
            signing_key=signing_key,
        )
    finally:
        db.unlink(missing_ok=True)


def build_home(
    root: Path,
    *,
    patients: int = 14,
    now: datetime | None = None,
    age: timedelta = timedelta(minutes=12),
    hospital: bool = True,
    break_glass: bool = True,
    idle_lock_minutes: int | None = None,
) -> UiHome:
    """Install a ward snapshot (and a hospital-wide one) with a signed roster into root/laptop."""
    now = now or datetime.now(UTC)
    data_as_of = now - age
    sync_home, outbox, home = root / "sync-home", root / "outbox", root / "laptop"
    signing_key, _ = keys.init_signing_key(sync_home)
    made = device.init_device(home, use_keyring=False)
    device.pin_server_key(home, keys.signing_public_key_text(signing_key.public_key()))
    wards = [WARD, HOSPITAL] if hospital else [WARD]
    for ward in wards:
        publish.enrol(sync_home, ward, made.identity.enrolment_code, label="ui test laptop")

    roster = rosterlib.new_roster("Testklinikum", now=now)
    for user_id, name, role, password in (NURSE, DOCTOR, ADMIN):
        roster = rosterlib.add_user(
            roster, user_id, name, role, [WARD], password, now=now, cost=keys.ARGON2_TEST
        )
    user_id, name, role, password = OUTSIDER
    roster = rosterlib.add_user(
        roster, user_id, name, role, [OTHER_WARD], password, now=now, cost=keys.ARGON2_TEST
    )
    roster = rosterlib.set_break_glass(roster, break_glass, now=now)
    outbox.mkdir(parents=True, exist_ok=True)
    publish.atomic_write(outbox / "roster.wcdoc", rosterlib.seal_roster(roster, signing_key))

    ward_records = [make_record(i, now) for i in range(patients)]
    _publish(sync_home, outbox, signing_key, WARD, WARD_NAME, ward_records, data_as_of)
    receive.receive(home, str(outbox), WARD)
    if hospital:
        others = [make_record(i + 40, now, OTHER_WARD, "Station 5B Chirurgie") for i in range(4)]
        _publish(sync_home, outbox, signing_key, HOSPITAL, "Gesamtes Haus",
                 ward_records + others, data_as_of)  # fmt: skip
        receive.receive(home, str(outbox), HOSPITAL)
    if idle_lock_minutes is not None:
        (home / "settings.json").write_text(f'{{"idle_lock_minutes": {idle_lock_minutes}}}')
    return UiHome(home, outbox, sync_home, data_as_of, patients)

"""Fictional records for the printing tests, golden files, screenshots and a print preview.

Every person here is invented. Names deliberately use Polish, Greek, Cyrillic, Turkish and
German letters, because a printout that loses them misidentifies a patient. Pure: builds model
objects relative to the `now` passed in.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sync.model import (
    Administration,
    Allergy,
    CareTeamMember,
    CensusRow,
    CodeStatus,
    CodeStatusKind,
    Coding,
    Contact,
    Criticality,
    Dosage,
    Flag,
    Interpretation,
    MedicationOrder,
    Note,
    Observation,
    Order,
    PatientRecord,
    Problem,
    Sex,
    Stay,
    Timing,
)


def sample_record(now: datetime) -> PatientRecord:
    """A realistic inpatient: DNR, two allergies (one high), scheduled and PRN medications."""
    h = timedelta(hours=1)
    return PatientRecord(
        id="pat-demo-1",
        mrn="0470815",
        family="Łukaszewicz",
        given=["Grażyna"],
        name="Łukaszewicz, Grażyna",
        birth_date=date(1941, 3, 17),
        sex=Sex.FEMALE,
        stay=Stay(
            encounter_id="enc-1",
            case_number="26004711",
            status="in-progress",
            admitted=now - 3 * 24 * h,
            ward_id="ward-7",
            ward="Station 7 Innere",
            room="12",
            bed="A",
            attending="Dr. Δημήτριος Παπαδόπουλος",
            department="Innere Medizin",
            reason="Dekompensierte Herzinsuffizienz",
        ),
        allergies=[
            Allergy(
                substance="Penicillin",
                kind="allergy",
                category=["medication"],
                criticality=Criticality.HIGH,
                reactions=["Anaphylaxie", "Urtikaria"],
                severity="severe",
            ),
            Allergy(
                substance="Latex",
                kind="intolerance",
                category=["environment"],
                criticality=Criticality.LOW,
                reactions=["Kontaktekzem"],
            ),
        ],
        code_status=CodeStatus(
            kind=CodeStatusKind.DNR, text="Keine Reanimation (Patientenverfügung)"
        ),
        flags=[Flag(text="Sturzgefahr", category="safety"), Flag(text="MRSA: Isolation")],
        problems=[
            Problem(
                text="Herzinsuffizienz NYHA III",
                coding=[Coding(system="http://fhir.de/CodeSystem/bfarm/icd-10-gm", code="I50.13")],
                is_main_diagnosis=True,
            ),
            Problem(text="Vorhofflimmern, permanent", coding=[Coding(code="I48.2")]),
            Problem(text="Diabetes mellitus Typ 2", coding=[Coding(code="E11.9")]),
        ],
        medications=[
            MedicationOrder(
                id="mr-1",
                drug="Metoprololsuccinat 47,5 mg Retardtablette",
                status="active",
                dosages=[
                    Dosage(
                        dose_text="1 Tbl.",
                        route="oral",
                        timing=Timing(times_of_day=["08:00", "20:00"]),
                    )
                ],
                start=now - 3 * 24 * h,
                prescriber="Dr. Παπαδόπουλος",
            ),
            MedicationOrder(
                id="mr-2",
                drug="Furosemid 40 mg",
                status="active",
                dosages=[Dosage(text="1-1-0", dose_text="40 mg", route="i.v.")],
                start=now - 2 * 24 * h,
            ),
            MedicationOrder(
                id="mr-3",
                drug="Enoxaparin 40 mg s.c.",
                status="active",
                dosages=[Dosage(dose_text="40 mg", route="s.c.", timing=Timing(when=["EVE"]))],
                start=now - 3 * 24 * h,
            ),
            MedicationOrder(
                id="mr-4",
                drug="Meropenem 1 g",
                status="active",
                dosages=[
                    Dosage(
                        dose_text="1 g",
                        route="i.v.",
                        timing=Timing(frequency=1, period=8, period_unit="h"),
                    )
                ],
                start=now - 30 * h,
            ),
            MedicationOrder(
                id="mr-5",
                drug="Insulin lispro",
                status="active",
                dosages=[Dosage(text="nach Schema laut BZ", route="s.c.")],
            ),
            MedicationOrder(
                id="mr-6",
                drug="Metamizol 500 mg",
                status="active",
                dosages=[
                    Dosage(
                        dose_text="500 mg",
                        route="oral",
                        as_needed=True,
                        as_needed_reason="Schmerzen",
                        max_per_period="4× / 24 h",
                    )
                ],
            ),
        ],
        administrations=[
            Administration(
                order_id="mr-1",
                drug="Metoprololsuccinat 47,5 mg",
                status="completed",
                when=now - 6 * h,
                dose_text="1 Tbl.",
                performer="S. Иванова",
            ),
            Administration(
                order_id="mr-6",
                drug="Metamizol 500 mg",
                status="completed",
                when=now - 10 * h,
                dose_text="500 mg",
                performer="K. Yılmaz",
            ),
        ],
        vitals=[
            Observation(
                name="Herzfrequenz",
                code="8867-4",
                kind="vital",
                value=92,
                unit="/min",
                effective=now - 2 * h,
            ),
            Observation(
                name="Blutdruck",
                code="85354-9",
                kind="vital",
                value_text="105/60",
                unit="mmHg",
                effective=now - 2 * h,
            ),
            Observation(
                name="SpO2",
                code="59408-5",
                kind="vital",
                value=91,
                unit="%",
                ref_low=94,
                interpretation=Interpretation.LOW,
                effective=now - 2 * h,
            ),
            Observation(
                name="Herzfrequenz",
                code="8867-4",
                kind="vital",
                value=110,
                unit="/min",
                effective=now - 8 * h,
            ),
        ],
        labs=[
            Observation(
                name="Kalium",
                code="2823-3",
                value=5.9,
                unit="mmol/l",
                ref_low=3.5,
                ref_high=5.1,
                interpretation=Interpretation.CRITICAL_HIGH,
                effective=now - 5 * h,
            ),
            Observation(
                name="Kreatinin",
                code="2160-0",
                value=1.8,
                unit="mg/dl",
                ref_low=0.5,
                ref_high=1.0,
                interpretation=Interpretation.HIGH,
                effective=now - 5 * h,
            ),
            Observation(
                name="Hämoglobin",
                code="718-7",
                value=11.2,
                unit="g/dl",
                ref_low=12,
                ref_high=16,
                interpretation=Interpretation.LOW,
                effective=now - 5 * h,
            ),
            Observation(
                name="NT-proBNP",
                code="33762-6",
                value=8450,
                unit="pg/ml",
                ref_high=300,
                interpretation=Interpretation.HIGH,
                effective=now - 29 * h,
            ),
            Observation(
                name="Natrium",
                code="2951-2",
                value=138,
                unit="mmol/l",
                ref_low=135,
                ref_high=145,
                interpretation=Interpretation.NORMAL,
                effective=now - 29 * h,
            ),
        ],
        notes=[
            Note(
                title="Pflegebericht Nachtdienst",
                kind="Pflegebericht",
                date=now - 4 * h,
                author="S. Иванова",
                text="Pat. schlief mit Unterbrechungen. Atemnot bei Flachlagerung, "
                "Oberkörper hochgelagert. Bilanz negativ 800 ml. Angehörige (Sohn) informiert.",
            ),
        ],
        orders=[
            Order(
                text="Echokardiographie",
                status="active",
                priority="urgent",
                occurrence=now + 20 * h,
                requester="Dr. Παπαδόπουλος",
            ),
            Order(
                text="Kalium-Kontrolle", status="active", priority="stat", occurrence=now + 1 * h
            ),
        ],
        contacts=[
            Contact(name="Łukaszewicz, Tomasz", relationship="Sohn", phone="+49 170 1234567"),
            Contact(
                name="Ковалёва, Мария Петровна", relationship="Betreuerin", phone="+49 30 9876543"
            ),
        ],
        care_team=[CareTeamMember(name="Dr. Δημήτριος Παπαδόπουλος", role="Stationsarzt")],
    )


def big_record(now: datetime, medications: int = 100, labs: int = 500) -> PatientRecord:
    """The sample patient with `medications` orders and `labs` results (pagination tests)."""
    record = sample_record(now)
    codes = ["BID", "TID", "QID", "Q8H", "QD", "Q6H"]
    record.medications = [
        MedicationOrder(
            id=f"big-{i}",
            drug=f"Testmedikament-{i:03d}",
            status="active",
            dosages=[
                Dosage(
                    dose_text=f"{i} mg",
                    route="oral",
                    timing=Timing(code=codes[i % len(codes)]),
                    as_needed=(i % 10 == 9),
                )
            ],
        )
        for i in range(medications)
    ]
    record.labs = [
        Observation(
            name=f"Laborwert-{i:03d}",
            value=float(i),
            unit="mmol/l",
            ref_low=1.0,
            ref_high=400.0,
            interpretation=Interpretation.HIGH if i > 400 else Interpretation.NORMAL,
            effective=now - timedelta(minutes=10 * i),
        )
        for i in range(labs)
    ]
    return record


_CENSUS_NAMES = [
    ("Łukaszewicz, Grażyna", Sex.FEMALE, date(1941, 3, 17)),
    ("Παπαδοπούλου, Αικατερίνη", Sex.FEMALE, date(1950, 7, 2)),
    ("Кузнецов, Дмитрий Иванович", Sex.MALE, date(1962, 11, 30)),
    ("Şahin, Ayşe Gül", Sex.FEMALE, date(1978, 1, 9)),
    ("Müller-Weiß, Jürgen", Sex.MALE, date(1939, 5, 21)),
    ("Øvergård, Åse", Sex.FEMALE, date(1985, 12, 24)),
    ("Nguyễn, Văn Đức", Sex.MALE, date(1990, 4, 4)),
    ("Dvořák, Přemysl", Sex.MALE, date(1955, 8, 15)),
]
_DIAGNOSES = [
    "Herzinsuffizienz NYHA III",
    "Pneumonie, ambulant erworben",
    "COPD-Exazerbation",
    "Hüft-TEP rechts, postoperativ",
    "Diabetische Ketoazidose",
    "Synkope unklarer Genese",
]
_CODES = [
    (CodeStatusKind.FULL, "Volle Therapie"),
    (CodeStatusKind.DNR, "Keine Reanimation"),
    (CodeStatusKind.UNKNOWN, None),
    (CodeStatusKind.DNR_DNI, "DNR/DNI"),
    (CodeStatusKind.COMFORT, "Palliativ"),
]


def sample_census(count: int, now: datetime) -> list[CensusRow]:
    """`count` census rows, rooms 1.. with beds A/B, a mix of names, allergies and code status."""
    rows = []
    for i in range(count):
        name, sex, born = _CENSUS_NAMES[i % len(_CENSUS_NAMES)]
        if i >= len(_CENSUS_NAMES):
            name = f"{name.split(',')[0]}-{i}, {name.split(', ')[1]}"
        kind, text = _CODES[i % len(_CODES)]
        allergies = ["Penicillin", "Latex", "Jod", "Nüsse", "Ibuprofen"][: i % 6]
        rows.append(
            CensusRow(
                patient_id=f"p-{i}",
                mrn=f"{5500100 + i}",
                name=name,
                birth_date=born,
                sex=sex,
                ward_id="ward-7",
                ward="Station 7 Innere",
                room=str(1 + i // 2),
                bed="AB"[i % 2],
                admitted=now - timedelta(days=1 + i % 9),
                main_diagnosis=_DIAGNOSES[i % len(_DIAGNOSES)],
                allergy_count=len(allergies),
                severe_allergy=i % 6 == 1,
                allergies_short=", ".join(allergies[:4]) or None,
                no_known_allergies=not allergies and i % 12 == 6,  # i % 12 == 0: not documented
                code_status=kind,
                code_status_text=text,
                flags=["Sturzgefahr"] if i % 4 == 0 else [],
            )
        )
    return rows

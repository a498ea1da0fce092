"""Static vocabulary of the demo data generator: names, places, codes, drugs, labs, wards.

Pure data, no I/O. Codes are real where it matters to a reader (ICD-10-GM, LOINC, ATC, SNOMED CT
route and reaction codes, OPS, Fachabteilungsschlüssel); PZNs are synthetic (valid check digit,
made by `sync.generate.patient.pzn`, not real products). German display texts follow the
catalogues' wording closely but are shortened where the catalogue text is unwieldy.
"""

from __future__ import annotations

from dataclasses import dataclass

# ----------------------------------------------------------------------------- code systems

ICD10GM = "http://fhir.de/CodeSystem/bfarm/icd-10-gm"
OPS = "http://fhir.de/CodeSystem/bfarm/ops"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
ATC = "http://fhir.de/CodeSystem/bfarm/atc"
PZN = "http://fhir.de/CodeSystem/ifa/pzn"
UCUM = "http://unitsofmeasure.org"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
V3_ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
V3_INTERP = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
V3_ROLE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
V3_PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
V2_0131 = "http://terminology.hl7.org/CodeSystem/v2-0131"
V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
COND_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
COND_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
COND_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
ALLERGY_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
DIAGNOSIS_ROLE = "http://terminology.hl7.org/CodeSystem/diagnosis-role"
LOCATION_TYPE = "http://terminology.hl7.org/CodeSystem/location-physical-type"
FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category"
ADMIT_SOURCE = "http://terminology.hl7.org/CodeSystem/admit-source"
DISCHARGE_DISPOSITION = "http://terminology.hl7.org/CodeSystem/discharge-disposition"
ORG_TYPE = "http://terminology.hl7.org/CodeSystem/organization-type"
FACHABTEILUNG = "http://fhir.de/CodeSystem/dkgev/Fachabteilungsschluessel"
DIAGNOSESICHERHEIT_EXT = "http://fhir.de/StructureDefinition/icd-10-gm-diagnosesicherheit"
DIAGNOSESICHERHEIT = "https://fhir.kbv.de/CodeSystem/KBV_CS_SFHIR_ICD_DIAGNOSESICHERHEIT"
KVID_SYSTEM = "http://fhir.de/sid/gkv/kvid-10"
IDTYPE_DE = "http://fhir.de/CodeSystem/identifier-type-de-basis"
GENDER_DE_EXT = "http://fhir.de/StructureDefinition/gender-amtlich-de"
GENDER_DE = "http://fhir.de/CodeSystem/gender-amtlich-de"
IKNR = "http://fhir.de/sid/arge-ik/iknr"

HOSPITAL_BASE = "https://fhir.klinikum-lindenau.example"
MRN_SYSTEM = f"{HOSPITAL_BASE}/sid/patientennummer"
VISIT_SYSTEM = f"{HOSPITAL_BASE}/sid/fallnummer"
WARDCOPY_CS = "https://wardcopy.example/fhir/CodeSystem"

# ----------------------------------------------------------------------------- names

# (given names female, given names male, family names) per origin. Family entries are either a
# plain string or a (male form, female form) pair for languages that inflect surnames.
Family = str | tuple[str, str]


@dataclass(frozen=True)
class NamePool:
    key: str
    weight: int
    female: tuple[str, ...]
    male: tuple[str, ...]
    family: tuple[Family, ...]
    # Latin transliterations for non-Latin scripts, same order as the tuples above.
    female_latin: tuple[str, ...] = ()
    male_latin: tuple[str, ...] = ()
    family_latin: tuple[Family, ...] = ()
    given_is_compound: bool = False  # Vietnamese: middle + given name


NAME_POOLS: tuple[NamePool, ...] = (
    NamePool(
        "de",
        700,
        female=(
            "Anna",
            "Maria",
            "Ursula",
            "Monika",
            "Petra",
            "Sabine",
            "Renate",
            "Helga",
            "Karin",
            "Brigitte",
            "Ingrid",
            "Erika",
            "Gisela",
            "Elke",
            "Bärbel",
            "Jutta",
            "Gudrun",
            "Hannelore",
            "Käthe",
            "Julia",
            "Katharina",
            "Laura",
            "Sarah",
            "Christina",
            "Anja",
            "Nicole",
            "Stefanie",
            "Annegret",
            "Margarete",
            "Liselotte",
            "Rosemarie",
            "Dörte",
            "Änne",
            "Frauke",
            "Heike",
            "Silke",
            "Lena",
            "Sophie",
            "Hildegard",
            "Elfriede",
            "Waltraud",
            "Irmgard",
            "Gertrud",
            "Edeltraud",
            "Jördis",
            "Maren",
            "Birte",
        ),
        male=(
            "Hans",
            "Peter",
            "Klaus",
            "Wolfgang",
            "Jürgen",
            "Dieter",
            "Günter",
            "Horst",
            "Manfred",
            "Uwe",
            "Gerhard",
            "Heinz",
            "Werner",
            "Karl-Heinz",
            "Rüdiger",
            "Björn",
            "Jörg",
            "Thomas",
            "Michael",
            "Andreas",
            "Stefan",
            "Frank",
            "Matthias",
            "Lukas",
            "Jonas",
            "Felix",
            "Maximilian",
            "Sören",
            "Hans-Jürgen",
            "Ernst",
            "Friedrich",
            "Otto",
            "Walter",
            "Joachim",
            "Reinhard",
            "Bernd",
            "Götz",
            "Jörn",
            "Hartmut",
            "Helmut",
            "Siegfried",
            "Lothar",
            "Bodo",
        ),
        family=(
            "Müller",
            "Schmidt",
            "Schneider",
            "Fischer",
            "Weber",
            "Meyer",
            "Wagner",
            "Becker",
            "Schulz",
            "Hoffmann",
            "Schäfer",
            "Koch",
            "Bauer",
            "Richter",
            "Klein",
            "Wolf",
            "Schröder",
            "Neumann",
            "Schwarz",
            "Zimmermann",
            "Braun",
            "Krüger",
            "Hofmann",
            "Hartmann",
            "Lange",
            "Schmitt",
            "Werner",
            "Schmitz",
            "Krause",
            "Meier",
            "Lehmann",
            "Köhler",
            "Herrmann",
            "König",
            "Mayer",
            "Huber",
            "Kaiser",
            "Fuchs",
            "Peters",
            "Scholz",
            "Möller",
            "Weiß",
            "Jung",
            "Hahn",
            "Schubert",
            "Vogel",
            "Günther",
            "Groß",
            "Böhm",
            "Strauß",
            "Jäger",
            "Brückner",
            "Gräf",
            "Dürr",
            "Löffler",
            "Kühn",
            "Nußbaum",
            "Großmann",
            "Süß",
            "Blöß",
            "Förster",
            "Bäcker",
            "Müller-Lüdenscheidt",
            "Schulze-Wöhrmann",
            "von Bülow",
            "Höß",
            "Röhrig",
            "Öztoprak-Meier",
        ),
    ),
    NamePool(
        "tr",
        70,
        female=("Ayşe", "Fatma", "Emine", "Zeynep", "Elif", "Özlem", "Gülay", "Çağla", "Hülya"),
        male=("Mehmet", "Mustafa", "Ahmet", "Hüseyin", "Yusuf", "İbrahim", "Ömer", "Murat"),
        family=(
            "Yılmaz",
            "Kaya",
            "Demir",
            "Şahin",
            "Çelik",
            "Yıldız",
            "Öztürk",
            "Aydın",
            "Özdemir",
            "Arslan",
            "Doğan",
            "Kılıç",
            "Çetin",
            "Koç",
            "Şimşek",
            "Özkan",
        ),
    ),
    NamePool(
        "pl",
        50,
        female=("Agnieszka", "Małgorzata", "Katarzyna", "Grażyna", "Bożena", "Joanna", "Żaneta"),
        male=("Łukasz", "Krzysztof", "Paweł", "Wojciech", "Zbigniew", "Piotr", "Tomasz"),
        family=(
            ("Kowalski", "Kowalska"),
            ("Wiśniewski", "Wiśniewska"),
            "Wójcik",
            "Kowalczyk",
            ("Kamiński", "Kamińska"),
            ("Lewandowski", "Lewandowska"),
            ("Zieliński", "Zielińska"),
            "Woźniak",
            ("Dąbrowski", "Dąbrowska"),
            ("Kozłowski", "Kozłowska"),
            "Nowak",
            "Mazur",
            "Król",
            ("Jabłoński", "Jabłońska"),
            ("Pawłowski", "Pawłowska"),
        ),
    ),
    NamePool(
        "el",
        20,
        female=("Μαρία", "Ελένη", "Αικατερίνη", "Σοφία"),
        male=("Γεώργιος", "Δημήτριος", "Νικόλαος", "Κωνσταντίνος"),
        family=(
            ("Παπαδόπουλος", "Παπαδοπούλου"),
            "Γεωργίου",
            ("Παπαδάκης", "Παπαδάκη"),
            "Οικονόμου",
            ("Καραγιάννης", "Καραγιάννη"),
        ),
        female_latin=("Maria", "Eleni", "Aikaterini", "Sofia"),
        male_latin=("Georgios", "Dimitrios", "Nikolaos", "Konstantinos"),
        family_latin=(
            ("Papadopoulos", "Papadopoulou"),
            "Georgiou",
            ("Papadakis", "Papadaki"),
            "Oikonomou",
            ("Karagiannis", "Karagianni"),
        ),
    ),
    NamePool(
        "ru",
        30,
        female=("Ольга", "Наталья", "Татьяна", "Елена", "Светлана"),
        male=("Иван", "Сергей", "Алексей", "Дмитрий", "Владимир"),
        family=(
            ("Иванов", "Иванова"),
            ("Петров", "Петрова"),
            ("Смирнов", "Смирнова"),
            ("Кузнецов", "Кузнецова"),
            "Шевченко",
            "Коваленко",
        ),
        female_latin=("Olga", "Natalja", "Tatjana", "Jelena", "Swetlana"),
        male_latin=("Iwan", "Sergej", "Alexej", "Dmitri", "Wladimir"),
        family_latin=(
            ("Iwanow", "Iwanowa"),
            ("Petrow", "Petrowa"),
            ("Smirnow", "Smirnowa"),
            ("Kusnezow", "Kusnezowa"),
            "Schewtschenko",
            "Kowalenko",
        ),
    ),
    NamePool(
        "vi",
        30,
        female=("Thị Lan", "Thị Hương", "Thị Mai", "Ngọc Anh", "Thu Trang"),
        male=("Văn Minh", "Đức Anh", "Quang Huy", "Văn Hùng", "Minh Tuấn"),
        family=("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ"),
        given_is_compound=True,
    ),
    NamePool(
        "hr",
        30,
        female=("Snežana", "Jelena", "Ivana", "Mirjana", "Dragica"),
        male=("Dragan", "Goran", "Zoran", "Milan", "Stjepan"),
        family=("Jurić", "Horvat", "Kovačević", "Babić", "Marić", "Petrović", "Đurić"),
    ),
    NamePool(
        "ar",
        25,
        female=("Fatima", "Rania", "Aisha", "Leila", "Nour"),
        male=("Ahmad", "Mohammad", "Khaled", "Omar", "Hassan"),
        family=("Al-Khatib", "Haddad", "Hamdan", "Al-Hassan", "Nasser", "Saleh"),
    ),
    NamePool(
        "it",
        25,
        female=("Giulia", "Francesca", "Rosa", "Antonella"),
        male=("Giuseppe", "Salvatore", "Antonio", "Francesco"),
        family=("Rossi", "Russo", "Esposito", "Romano", "Colombo", "De Luca"),
    ),
)

STREETS = (
    "Hauptstraße",
    "Bahnhofstraße",
    "Goethestraße",
    "Schillerstraße",
    "Lindenstraße",
    "Am Mühlbach",
    "Gartenweg",
    "Schloßallee",
    "Friedrich-Ebert-Straße",
    "Königsberger Str.",
    "Bergstraße",
    "Kirchplatz",
    "Rosenweg",
    "Wiesenstraße",
    "Mozartstraße",
    "Dorfstraße",
    "Am Bürgerpark",
    "Jägerstraße",
    "Brückenstraße",
    "Grüner Weg",
    "Lärchenweg",
    "Kastanienallee",
    "Mühlenstraße",
    "Fährweg",
    "Zur Schönen Aussicht",
)
# (postal code, city, area code) around the fictional Klinikum Lindenau (Lower Saxony).
CITIES = (
    ("31134", "Hildesheim", "05121"),
    ("30159", "Hannover", "0511"),
    ("31785", "Hameln", "05151"),
    ("38100", "Braunschweig", "0531"),
    ("31061", "Alfeld (Leine)", "05181"),
    ("31008", "Elze", "05068"),
    ("37574", "Einbeck", "05561"),
    ("31167", "Bockenem", "05067"),
    ("38226", "Salzgitter", "05341"),
    ("31199", "Diekholzen", "05121"),
    ("30880", "Laatzen", "0511"),
    ("37073", "Göttingen", "0551"),
)
MOBILE_PREFIXES = ("0151", "0152", "0160", "0162", "0170", "0171", "0172", "0175", "0176", "0157")

HOSPITAL_NAME = "Klinikum Lindenau"
HOSPITAL_PHONE = "+49 5121 894-0"
HOSPITAL_ADDRESS = ("Am Klinikum 1", "31134", "Hildesheim")

# ----------------------------------------------------------------------------- departments, wards


@dataclass(frozen=True)
class Department:
    key: str
    code: str  # Fachabteilungsschlüssel
    name: str
    ward_names: tuple[str, ...]  # ward name templates; {n} is the ward's short number ("3A")
    profiles: tuple[str, ...]  # case profile keys that land on this department's wards
    icu: bool = False


DEPARTMENTS: tuple[Department, ...] = (
    Department(
        "inn",
        "0100",
        "Klinik für Innere Medizin",
        ("Station {n} Innere Medizin",),
        ("pneumonia", "uti", "aki", "gi_bleed", "dm_derail", "copd", "dehydration", "af"),
    ),
    Department(
        "chir",
        "1500",
        "Klinik für Allgemein- und Viszeralchirurgie",
        ("Station {n} Chirurgie", "Station {n} Viszeralchirurgie"),
        ("appendicitis", "cholecystitis", "ileus", "colon_ca"),
    ),
    Department(
        "icu",
        "3600",
        "Klinik für Anästhesiologie und Intensivmedizin",
        ("Intensivstation (ICU)", "Intensivstation {n} (ICU)", "Intermediate Care {n} (IMC)"),
        ("sepsis", "resp_failure", "ich", "stemi_icu"),
        icu=True,
    ),
    Department(
        "kard",
        "0300",
        "Klinik für Kardiologie",
        ("Kardiologie {n}",),
        ("hf", "nstemi", "af", "syncope"),
    ),
    Department(
        "geri",
        "0200",
        "Klinik für Geriatrie",
        ("Geriatrie {n}",),
        ("hip_geri", "delir", "pneumonia", "dehydration", "fall"),
    ),
    Department(
        "neuro",
        "2800",
        "Klinik für Neurologie",
        ("Neurologie {n}", "Stroke Unit {n}"),
        ("stroke", "tia", "epilepsy", "parkinson"),
    ),
    Department(
        "unfall",
        "1600",
        "Klinik für Unfallchirurgie und Orthopädie",
        ("Station {n} Unfallchirurgie", "Station {n} Orthopädie"),
        ("hip_fracture", "knee_oa", "hip_geri"),
    ),
    Department(
        "pneumo",
        "0800",
        "Klinik für Pneumologie",
        ("Pneumologie {n}",),
        ("copd", "pneumonia", "lung_ca", "pe"),
    ),
    Department(
        "gastro",
        "0700",
        "Klinik für Gastroenterologie",
        ("Gastroenterologie {n}",),
        ("gi_bleed", "pancreatitis", "noro", "cirrhosis"),
    ),
    Department(
        "onko",
        "0500",
        "Klinik für Hämatologie und Onkologie",
        ("Onkologie {n}",),
        ("lung_ca", "colon_ca", "neutropenic"),
    ),
    Department(
        "nephro",
        "0400",
        "Klinik für Nephrologie",
        ("Nephrologie {n}",),
        ("aki", "ckd", "uti"),
    ),
)
# The first wards always come in this order (a recognisable small hospital), then round-robin.
WARD_ORDER: tuple[str, ...] = (
    "inn",
    "chir",
    "icu",
    "kard",
    "geri",
    "neuro",
    "unfall",
    "pneumo",
    "gastro",
    "onko",
    "nephro",
)
WARD_LETTERS = "ABC"

# ----------------------------------------------------------------------------- diagnoses


@dataclass(frozen=True)
class Dx:
    icd: str
    display: str  # ICD-10-GM wording
    text: str  # how a physician writes it
    snomed: str | None = None
    snomed_display: str | None = None


DX: dict[str, Dx] = {
    d.icd: d
    for d in (
        Dx(
            "I50.13",
            "Linksherzinsuffizienz: Mit Beschwerden bei leichterer Belastung",
            "Dekompensierte Herzinsuffizienz NYHA III",
            "84114007",
            "Heart failure",
        ),
        Dx(
            "I50.14",
            "Linksherzinsuffizienz: Mit Beschwerden in Ruhe",
            "Kardiale Dekompensation NYHA IV",
            "84114007",
            "Heart failure",
        ),
        Dx(
            "J18.9",
            "Pneumonie, nicht näher bezeichnet",
            "Ambulant erworbene Pneumonie",
            "233604007",
            "Pneumonia",
        ),
        Dx(
            "J44.19",
            "Chronische obstruktive Lungenkrankheit mit akuter Exazerbation, "
            "nicht näher bezeichnet",
            "AECOPD",
            "13645005",
            "Chronic obstructive lung disease",
        ),
        Dx(
            "E11.90",
            "Diabetes mellitus, Typ 2: Ohne Komplikationen: Nicht als entgleist bezeichnet",
            "Diabetes mellitus Typ 2",
            "44054006",
            "Diabetes mellitus type 2",
        ),
        Dx(
            "E11.91",
            "Diabetes mellitus, Typ 2: Ohne Komplikationen: Als entgleist bezeichnet",
            "Entgleister Diabetes mellitus Typ 2",
            "44054006",
            "Diabetes mellitus type 2",
        ),
        Dx(
            "N17.9",
            "Akutes Nierenversagen, nicht näher bezeichnet",
            "Akutes Nierenversagen (AKIN II)",
            "14669001",
            "Acute renal failure syndrome",
        ),
        Dx("N18.4", "Chronische Nierenkrankheit, Stadium 4", "CKD G4"),
        Dx(
            "K35.8",
            "Akute Appendizitis, nicht näher bezeichnet",
            "Akute Appendizitis",
            "74400008",
            "Appendicitis",
        ),
        Dx(
            "K80.10",
            "Gallenblasenstein mit sonstiger Cholezystitis: Ohne Angabe einer "
            "Gallenwegsobstruktion",
            "Akute Cholezystolithiasis mit Cholezystitis",
        ),
        Dx("K56.7", "Ileus, nicht näher bezeichnet", "Mechanischer Ileus"),
        Dx(
            "S72.00",
            "Schenkelhalsfraktur: Teil nicht näher bezeichnet",
            "Mediale Schenkelhalsfraktur",
            "5913000",
            "Fracture of neck of femur",
        ),
        Dx(
            "S72.10",
            "Femurfraktur: Trochantär, nicht näher bezeichnet",
            "Pertrochantäre Femurfraktur",
        ),
        Dx(
            "I63.9",
            "Hirninfarkt, nicht näher bezeichnet",
            "Ischämischer Schlaganfall",
            "230690007",
            "Cerebrovascular accident",
        ),
        Dx("I61.9", "Intrazerebrale Blutung, nicht näher bezeichnet", "Intrazerebrale Blutung"),
        Dx(
            "G45.92",
            "Zerebrale transitorische Ischämie, nicht näher bezeichnet: Komplette "
            "Rückbildung innerhalb von 1 bis 24 Stunden",
            "TIA",
        ),
        Dx(
            "G40.9",
            "Epilepsie, nicht näher bezeichnet",
            "Epilepsie, Z.n. Grand-mal-Anfall",
            "84757009",
            "Epilepsy",
        ),
        Dx(
            "G20.10",
            "Primäres Parkinson-Syndrom mit mäßiger bis schwerer Beeinträchtigung: "
            "Ohne Wirkungsfluktuation",
            "Idiopathisches Parkinson-Syndrom",
            "49049000",
            "Parkinson's disease",
        ),
        Dx("C34.1", "Bösartige Neubildung: Oberlappen (-Bronchus)", "NSCLC rechter Oberlappen"),
        Dx("C18.7", "Bösartige Neubildung: Colon sigmoideum", "Sigmakarzinom"),
        Dx(
            "I21.4",
            "Akuter subendokardialer Myokardinfarkt",
            "NSTEMI",
            "22298006",
            "Myocardial infarction",
        ),
        Dx(
            "I21.0",
            "Akuter transmuraler Myokardinfarkt der Vorderwand",
            "Vorderwand-STEMI",
            "22298006",
            "Myocardial infarction",
        ),
        Dx(
            "I48.0",
            "Vorhofflimmern, paroxysmal",
            "Paroxysmales Vorhofflimmern",
            "49436004",
            "Atrial fibrillation",
        ),
        Dx(
            "I48.1",
            "Vorhofflimmern, persistierend",
            "Tachyarrhythmia absoluta bei VHF",
            "49436004",
            "Atrial fibrillation",
        ),
        Dx(
            "I10.00",
            "Benigne essentielle Hypertonie: Ohne Angabe einer hypertensiven Krise",
            "Arterielle Hypertonie",
            "38341003",
            "Hypertensive disorder",
        ),
        Dx(
            "A41.9", "Sepsis, nicht näher bezeichnet", "Sepsis unklaren Fokus", "91302008", "Sepsis"
        ),
        Dx("A08.1", "Akute Gastroenteritis durch Norovirus", "Norovirus-Gastroenteritis"),
        Dx("E86", "Volumenmangel", "Exsikkose"),
        Dx("F05.1", "Delir bei Demenz", "Delir bei vorbekannter Demenz", "2776000", "Delirium"),
        Dx("F03", "Nicht näher bezeichnete Demenz", "Demenz", "52448006", "Dementia"),
        Dx("R55", "Synkope und Kollaps", "Synkope unklarer Genese"),
        Dx(
            "N39.0",
            "Harnwegsinfektion, Lokalisation nicht näher bezeichnet",
            "Harnwegsinfekt",
            "68566005",
            "Urinary tract infectious disease",
        ),
        Dx(
            "J96.00",
            "Akute respiratorische Insuffizienz, anderenorts nicht klassifiziert: "
            "Typ I [hypoxisch]",
            "Hypoxische respiratorische Insuffizienz",
        ),
        Dx("D64.9", "Anämie, nicht näher bezeichnet", "Anämie", "271737000", "Anemia"),
        Dx("E87.1", "Hypoosmolalität und Hyponatriämie", "Hyponatriämie"),
        Dx("M17.1", "Sonstige primäre Gonarthrose", "Primäre Gonarthrose rechts"),
        Dx("K92.2", "Gastrointestinale Blutung, nicht näher bezeichnet", "Obere GI-Blutung"),
        Dx(
            "K85.90",
            "Akute Pankreatitis, nicht näher bezeichnet: Ohne Angabe einer Organkomplikation",
            "Akute Pankreatitis",
        ),
        Dx("K70.3", "Alkoholische Leberzirrhose", "Äthyltoxische Leberzirrhose Child B"),
        Dx(
            "I26.9",
            "Lungenembolie ohne Angabe eines akuten Cor pulmonale",
            "Lungenarterienembolie",
            "59282003",
            "Pulmonary embolism",
        ),
        Dx(
            "D70.10",
            "Arzneimittelinduzierte Agranulozytose und Neutropenie: Kritische Phase unter 4 Tage",
            "Febrile Neutropenie nach Chemotherapie",
        ),
        Dx("W19.9", "Nicht näher bezeichneter Sturz", "Sturz in der Häuslichkeit"),
        Dx("S06.0", "Gehirnerschütterung", "Commotio cerebri"),
        Dx(
            "Z95.0",
            "Vorhandensein eines kardialen elektronischen Geräts",
            "Herzschrittmacher (DDD)",
        ),
        Dx("E78.0", "Reine Hypercholesterinämie", "Hypercholesterinämie"),
        Dx("E03.9", "Hypothyreose, nicht näher bezeichnet", "Hypothyreose"),
        Dx(
            "F10.2",
            "Psychische und Verhaltensstörungen durch Alkohol: Abhängigkeitssyndrom",
            "Alkoholabhängigkeit",
        ),
        Dx("N40", "Prostatahyperplasie", "Benigne Prostatahyperplasie"),
        Dx("F32.1", "Mittelgradige depressive Episode", "Depression"),
        Dx(
            "M81.09",
            "Postmenopausale Osteoporose: Nicht näher bezeichnete Lokalisation",
            "Osteoporose",
        ),
        Dx(
            "Z22.3",
            "Keimträger anderer näher bezeichneter bakterieller Krankheiten",
            "MRSA-Trägerstatus",
        ),
    )
}

# ----------------------------------------------------------------------------- drugs


@dataclass(frozen=True)
class Route:
    snomed: str
    display: str
    text: str


ROUTES: dict[str, Route] = {
    "po": Route("26643006", "Oral route", "p.o."),
    "iv": Route("47625008", "Intravenous route", "i.v."),
    "sc": Route("34206005", "Subcutaneous route", "s.c."),
    "inh": Route("447694001", "Respiratory tract route", "inhalativ"),
    "rect": Route("37161004", "Rectal route", "rektal"),
    "td": Route("45890007", "Transdermal route", "transdermal"),
}


@dataclass(frozen=True)
class Drug:
    """One catalogue drug with its usual inpatient order.

    schedule: "1-0-1" style schema (German positions), "q8h"/"q12h"/"q24h" intervals,
    "when:ACM" event codes, "prn", "cont" (continuous infusion), "text" (only text, e.g.
    "nach INR").
    """

    key: str
    text: str  # as written on the chart
    atc: str
    route: str
    dose: float | None
    unit: str | None  # UCUM
    unit_text: str | None  # German unit shown
    schedule: str
    prn_reason: str | None = None
    max_per_day: float | None = None  # PRN maximum, in dose units
    rate_ml_h: float | None = None  # continuous infusions
    as_medication: bool = False  # written as a Medication resource and referenced
    with_pzn: bool = False
    note: str | None = None


DRUGS: dict[str, Drug] = {
    d.key: d
    for d in (
        Drug(
            "metoprolol",
            "Metoprololsuccinat 47,5 mg Retardtablette",
            "C07AB02",
            "po",
            47.5,
            "mg",
            "mg",
            "1-0-1",
            with_pzn=True,
        ),
        Drug(
            "bisoprolol",
            "Bisoprolol 5 mg Tablette",
            "C07AB07",
            "po",
            5,
            "mg",
            "mg",
            "1-0-0",
            with_pzn=True,
        ),
        Drug("ramipril", "Ramipril 5 mg Tablette", "C09AA05", "po", 5, "mg", "mg", "1-0-0"),
        Drug("candesartan", "Candesartan 8 mg Tablette", "C09CA06", "po", 8, "mg", "mg", "1-0-0"),
        Drug("amlodipin", "Amlodipin 5 mg Tablette", "C08CA01", "po", 5, "mg", "mg", "1-0-0"),
        Drug("torasemid", "Torasemid 10 mg Tablette", "C03CA04", "po", 10, "mg", "mg", "1-0-0"),
        Drug(
            "furosemid_iv",
            "Furosemid 40 mg i.v.",
            "C03CA01",
            "iv",
            40,
            "mg",
            "mg",
            "1-1-0",
            as_medication=True,
        ),
        Drug(
            "spironolacton",
            "Spironolacton 25 mg Tablette",
            "C03DA01",
            "po",
            25,
            "mg",
            "mg",
            "1-0-0",
        ),
        Drug(
            "pantoprazol",
            "Pantoprazol 40 mg magensaftresistente Tablette",
            "A02BC02",
            "po",
            40,
            "mg",
            "mg",
            "when:ACM",
            with_pzn=True,
        ),
        Drug("pantoprazol_iv", "Pantoprazol 40 mg i.v.", "A02BC02", "iv", 40, "mg", "mg", "1-0-1"),
        Drug(
            "enoxaparin",
            "Enoxaparin 40 mg s.c. (Fertigspritze)",
            "B01AB05",
            "sc",
            40,
            "mg",
            "mg",
            "0-0-1",
            as_medication=True,
            with_pzn=True,
        ),
        Drug(
            "heparin_perf",
            "Heparin 25.000 I.E./50 ml Perfusor",
            "B01AB01",
            "iv",
            None,
            None,
            None,
            "cont",
            rate_ml_h=2.0,
            note="nach aPTT (Ziel 60-80 s)",
        ),
        Drug("apixaban", "Apixaban 5 mg Filmtablette", "B01AF02", "po", 5, "mg", "mg", "1-0-1"),
        Drug(
            "phenprocoumon",
            "Phenprocoumon 3 mg Tablette",
            "B01AA04",
            "po",
            3,
            "mg",
            "mg",
            "text",
            note="Dosierung nach INR (Ziel 2,0-3,0)",
        ),
        Drug(
            "ass", "Acetylsalicylsäure 100 mg Tablette", "B01AC06", "po", 100, "mg", "mg", "1-0-0"
        ),
        Drug(
            "clopidogrel",
            "Clopidogrel 75 mg Filmtablette",
            "B01AC04",
            "po",
            75,
            "mg",
            "mg",
            "1-0-0",
        ),
        Drug(
            "atorvastatin",
            "Atorvastatin 40 mg Filmtablette",
            "C10AA05",
            "po",
            40,
            "mg",
            "mg",
            "0-0-1",
        ),
        Drug(
            "simvastatin",
            "Simvastatin 20 mg Filmtablette",
            "C10AA01",
            "po",
            20,
            "mg",
            "mg",
            "0-0-1",
        ),
        Drug(
            "metformin",
            "Metformin 1000 mg Filmtablette",
            "A10BA02",
            "po",
            1000,
            "mg",
            "mg",
            "1-0-1",
        ),
        Drug(
            "glargin",
            "Insulin glargin 100 E/ml, 20 I.E. s.c.",
            "A10AE04",
            "sc",
            20,
            "[IU]",
            "I.E.",
            "0-0-0-1",
            as_medication=True,
        ),
        Drug(
            "insulin_schema",
            "Insulin aspart nach Schema s.c.",
            "A10AB05",
            "sc",
            None,
            "[IU]",
            "I.E.",
            "when:AC",
            note="Korrekturschema: BZ 150-200: 2 I.E., 201-250: 4 I.E., "
            "251-300: 6 I.E., > 300: 8 I.E. und Arzt informieren",
        ),
        Drug(
            "metamizol",
            "Metamizol 500 mg Tablette",
            "N02BB02",
            "po",
            500,
            "mg",
            "mg",
            "1-1-1-1",
            with_pzn=True,
        ),
        Drug(
            "metamizol_iv", "Metamizol 1 g i.v. Kurzinfusion", "N02BB02", "iv", 1, "g", "g", "q6h"
        ),
        Drug(
            "paracetamol_prn",
            "Paracetamol 1 g",
            "N02BE01",
            "po",
            1,
            "g",
            "g",
            "prn",
            prn_reason="bei Schmerzen oder Fieber > 38,5 °C",
            max_per_day=4,
        ),
        Drug(
            "ibuprofen_prn",
            "Ibuprofen 400 mg Filmtablette",
            "M01AE01",
            "po",
            400,
            "mg",
            "mg",
            "prn",
            prn_reason="bei Schmerzen",
            max_per_day=1200,
        ),
        Drug(
            "piritramid_prn",
            "Piritramid 7,5 mg s.c.",
            "N02AC03",
            "sc",
            7.5,
            "mg",
            "mg",
            "prn",
            prn_reason="bei starken Schmerzen (NRS > 5)",
            max_per_day=30,
        ),
        Drug(
            "oxycodon",
            "Oxycodon/Naloxon 10 mg/5 mg Retardtablette",
            "N02AA55",
            "po",
            1,
            "{tbl}",
            "Tbl.",
            "1-0-1",
        ),
        Drug(
            "tilidin",
            "Tilidin/Naloxon 50 mg/4 mg Retardtablette",
            "N02AX51",
            "po",
            1,
            "{tbl}",
            "Tbl.",
            "1-0-1",
        ),
        Drug(
            "morphin_prn",
            "Morphin 2,5 mg s.c.",
            "N02AA01",
            "sc",
            2.5,
            "mg",
            "mg",
            "prn",
            prn_reason="bei Atemnot oder Schmerzen",
            max_per_day=6,
            as_medication=True,
        ),
        Drug(
            "midazolam_prn",
            "Midazolam 2,5 mg s.c.",
            "N05CD08",
            "sc",
            2.5,
            "mg",
            "mg",
            "prn",
            prn_reason="bei Unruhe oder Angst",
            max_per_day=4,
        ),
        Drug(
            "lorazepam_prn",
            "Lorazepam 1 mg Schmelztablette",
            "N05BA06",
            "po",
            1,
            "mg",
            "mg",
            "prn",
            prn_reason="bei Unruhe",
            max_per_day=2,
        ),
        Drug("melperon", "Melperon 25 mg Tablette", "N05AD03", "po", 25, "mg", "mg", "when:HS"),
        Drug("quetiapin", "Quetiapin 25 mg Filmtablette", "N05AH04", "po", 25, "mg", "mg", "0-0-1"),
        Drug(
            "piptazo",
            "Piperacillin/Tazobactam 4,5 g i.v.",
            "J01CR05",
            "iv",
            4.5,
            "g",
            "g",
            "q8h",
            as_medication=True,
        ),
        Drug("ampisulb", "Ampicillin/Sulbactam 3 g i.v.", "J01CR01", "iv", 3, "g", "g", "q8h"),
        Drug(
            "ceftriaxon",
            "Ceftriaxon 2 g i.v.",
            "J01DD04",
            "iv",
            2,
            "g",
            "g",
            "q24h",
            as_medication=True,
        ),
        Drug("cefuroxim", "Cefuroxim 1,5 g i.v.", "J01DC02", "iv", 1.5, "g", "g", "q8h"),
        Drug(
            "meropenem",
            "Meropenem 1 g i.v.",
            "J01DH02",
            "iv",
            1,
            "g",
            "g",
            "q8h",
            as_medication=True,
        ),
        Drug(
            "clarithromycin",
            "Clarithromycin 500 mg Filmtablette",
            "J01FA09",
            "po",
            500,
            "mg",
            "mg",
            "1-0-1",
        ),
        Drug(
            "vancomycin",
            "Vancomycin 1 g i.v.",
            "J01XA01",
            "iv",
            1,
            "g",
            "g",
            "q12h",
            note="Spiegelkontrolle vor der 4. Gabe",
        ),
        Drug(
            "levetiracetam",
            "Levetiracetam 500 mg Filmtablette",
            "N03AX14",
            "po",
            500,
            "mg",
            "mg",
            "1-0-1",
        ),
        Drug(
            "madopar",
            "Levodopa/Benserazid 100 mg/25 mg Tablette",
            "N04BA02",
            "po",
            1,
            "{tbl}",
            "Tbl.",
            "times:07:00,11:00,15:00,19:00",
            note="Zeitkritisch! Einnahme pünktlich, 30 min vor dem Essen",
        ),
        Drug(
            "lthyroxin",
            "Levothyroxin 75 µg Tablette",
            "H03AA01",
            "po",
            75,
            "ug",
            "µg",
            "when:ACM",
            note="nüchtern, 30 min vor dem Frühstück",
        ),
        Drug("prednisolon", "Prednisolon 50 mg Tablette", "H02AB06", "po", 50, "mg", "mg", "1-0-0"),
        Drug(
            "salbutamol_prn",
            "Salbutamol Dosieraerosol 0,1 mg/Hub",
            "R03AC02",
            "inh",
            2,
            "{puff}",
            "Hübe",
            "prn",
            prn_reason="bei Atemnot",
            max_per_day=8,
        ),
        Drug(
            "ipra_salbu",
            "Ipratropium/Salbutamol Inhalationslösung",
            "R03AL02",
            "inh",
            1,
            "{amp}",
            "Amp.",
            "1-1-1-1",
        ),
        Drug(
            "budesonid_formoterol",
            "Budesonid/Formoterol 160/4,5 µg Turbohaler",
            "R03AK07",
            "inh",
            2,
            "{puff}",
            "Hübe",
            "1-0-1",
        ),
        Drug(
            "ondansetron_prn",
            "Ondansetron 4 mg i.v.",
            "A04AA01",
            "iv",
            4,
            "mg",
            "mg",
            "prn",
            prn_reason="bei Übelkeit",
            max_per_day=16,
        ),
        Drug(
            "mcp_prn",
            "Metoclopramid 10 mg Tablette",
            "A03FA01",
            "po",
            10,
            "mg",
            "mg",
            "prn",
            prn_reason="bei Übelkeit",
            max_per_day=30,
        ),
        Drug("macrogol", "Macrogol Pulver, 1 Beutel", "A06AD65", "po", 1, "{bag}", "Btl.", "1-0-0"),
        Drug(
            "picosulfat",
            "Natriumpicosulfat Tropfen, 10 Tropfen",
            "A06AB08",
            "po",
            10,
            "{drp}",
            "Tropfen",
            "0-0-1",
        ),
        Drug(
            "kalium",
            "Kaliumchlorid 8 mmol Retardkapsel",
            "A12BA01",
            "po",
            8,
            "mmol",
            "mmol",
            "1-0-1",
        ),
        Drug(
            "nacl",
            "NaCl 0,9 % 1000 ml i.v.",
            "B05BB01",
            "iv",
            None,
            None,
            None,
            "cont",
            rate_ml_h=42.0,
            note="über 24 h",
        ),
        Drug(
            "vitd",
            "Colecalciferol 1000 I.E. Tablette",
            "A11CC05",
            "po",
            1000,
            "[IU]",
            "I.E.",
            "1-0-0",
        ),
        Drug(
            "tamsulosin",
            "Tamsulosin 0,4 mg Retardkapsel",
            "G04CA02",
            "po",
            0.4,
            "mg",
            "mg",
            "0-0-1",
        ),
        Drug(
            "allopurinol", "Allopurinol 100 mg Tablette", "M04AA01", "po", 100, "mg", "mg", "1-0-0"
        ),
        Drug("amiodaron", "Amiodaron 200 mg Tablette", "C01BD01", "po", 200, "mg", "mg", "1-0-0"),
        Drug("dexamethason", "Dexamethason 4 mg Tablette", "H02AB02", "po", 4, "mg", "mg", "1-0-1"),
        Drug(
            "mirtazapin", "Mirtazapin 15 mg Filmtablette", "N06AX11", "po", 15, "mg", "mg", "0-0-1"
        ),
        Drug(
            "citalopram", "Citalopram 20 mg Filmtablette", "N06AB04", "po", 20, "mg", "mg", "1-0-0"
        ),
        Drug(
            "zopiclon_prn",
            "Zopiclon 7,5 mg Tablette",
            "N05CF01",
            "po",
            3.75,
            "mg",
            "mg",
            "prn",
            prn_reason="zur Nacht bei Schlafstörungen",
            max_per_day=7.5,
        ),
        Drug(
            "noradrenalin",
            "Noradrenalin 5 mg/50 ml Perfusor",
            "C01CA03",
            "iv",
            None,
            None,
            None,
            "cont",
            rate_ml_h=4.0,
            note="Ziel-MAP > 65 mmHg",
        ),
        Drug(
            "propofol",
            "Propofol 2 % Perfusor",
            "N01AX10",
            "iv",
            None,
            None,
            None,
            "cont",
            rate_ml_h=10.0,
            note="Ziel RASS -2",
        ),
        Drug(
            "sufentanil",
            "Sufentanil 250 µg/50 ml Perfusor",
            "N01AH03",
            "iv",
            None,
            None,
            None,
            "cont",
            rate_ml_h=5.0,
        ),
        Drug(
            "ferinject", "Eisencarboxymaltose 500 mg i.v.", "B03AC01", "iv", 500, "mg", "mg", "once"
        ),
    )
}
# Baseline home medication chosen by comorbidity (ICD code -> drug keys).
COMORBID_DRUGS: dict[str, tuple[str, ...]] = {
    "I10.00": ("ramipril", "amlodipin", "candesartan"),
    "E11.90": ("metformin", "insulin_schema"),
    "I48.0": ("apixaban", "bisoprolol", "phenprocoumon"),
    "I48.1": ("apixaban", "metoprolol"),
    "E78.0": ("atorvastatin", "simvastatin"),
    "E03.9": ("lthyroxin",),
    "N40": ("tamsulosin",),
    "F32.1": ("mirtazapin", "citalopram"),
    "F03": ("melperon", "quetiapin"),
    "M81.09": ("vitd",),
    "I50.13": ("torasemid", "spironolacton", "bisoprolol"),
}
GENERAL_DRUGS: tuple[str, ...] = (
    "pantoprazol",
    "enoxaparin",
    "metamizol",
    "paracetamol_prn",
    "macrogol",
    "mcp_prn",
    "zopiclon_prn",
    "vitd",
    "allopurinol",
    "ibuprofen_prn",
    "picosulfat",
)

# ----------------------------------------------------------------------------- allergies


@dataclass(frozen=True)
class AllergyDef:
    text: str
    category: str  # medication | food | environment | biologic
    kind: str  # allergy | intolerance
    system: str | None
    code: str | None
    display: str | None
    reactions: tuple[tuple[str, str, str], ...]  # (snomed, display, German text)
    criticality: str  # low | high | unable-to-assess
    severity: str  # mild | moderate | severe


_ANA = ("39579001", "Anaphylaxis", "Anaphylaktischer Schock")
_URT = ("126485001", "Urticaria", "Urtikaria")
_RASH = ("271807003", "Eruption of skin", "Exanthem")
_DYSP = ("267036007", "Dyspnea", "Atemnot")
_ANGIO = ("41291007", "Angioedema", "Quincke-Ödem")
_NAUS = ("422587007", "Nausea", "Übelkeit")
_DIAR = ("62315008", "Diarrhea", "Durchfall")
_ITCH = ("418290006", "Itching", "Juckreiz")

ALLERGIES: tuple[tuple[int, AllergyDef], ...] = (
    (
        14,
        AllergyDef(
            "Penicillin",
            "medication",
            "allergy",
            ATC,
            "J01C",
            "Betalactam-Antibiotika, Penicilline",
            (_ANA, _URT),
            "high",
            "severe",
        ),
    ),
    (
        10,
        AllergyDef(
            "Penicillin",
            "medication",
            "allergy",
            ATC,
            "J01C",
            "Betalactam-Antibiotika, Penicilline",
            (_RASH,),
            "low",
            "mild",
        ),
    ),
    (
        5,
        AllergyDef(
            "Latex",
            "environment",
            "allergy",
            SNOMED,
            "111088007",
            "Latex",
            (_URT, _DYSP),
            "high",
            "severe",
        ),
    ),
    (
        7,
        AllergyDef(
            "Metamizol",
            "medication",
            "allergy",
            ATC,
            "N02BB02",
            "Metamizol-Natrium",
            (_RASH, _ITCH),
            "high",
            "moderate",
        ),
    ),
    (
        6,
        AllergyDef(
            "Acetylsalicylsäure",
            "medication",
            "intolerance",
            ATC,
            "N02BA01",
            "Acetylsalicylsäure",
            (_DYSP,),
            "low",
            "moderate",
        ),
    ),
    (
        6,
        AllergyDef(
            "Jodhaltige Kontrastmittel",
            "medication",
            "allergy",
            ATC,
            "V08A",
            "Iodhaltige Röntgenkontrastmittel",
            (_URT, _ANGIO),
            "high",
            "severe",
        ),
    ),
    (
        6,
        AllergyDef(
            "Sulfonamide (Cotrimoxazol)",
            "medication",
            "allergy",
            ATC,
            "J01EE01",
            "Sulfamethoxazol und Trimethoprim",
            (_RASH,),
            "low",
            "moderate",
        ),
    ),
    (
        5,
        AllergyDef(
            "Ibuprofen",
            "medication",
            "intolerance",
            ATC,
            "M01AE01",
            "Ibuprofen",
            (_NAUS,),
            "low",
            "mild",
        ),
    ),
    (
        4,
        AllergyDef(
            "Codein", "medication", "intolerance", ATC, "R05DA04", "Codein", (_NAUS,), "low", "mild"
        ),
    ),
    (
        5,
        AllergyDef(
            "Erdnüsse", "food", "allergy", None, None, None, (_ANGIO, _URT), "high", "severe"
        ),
    ),
    (4, AllergyDef("Laktose", "food", "intolerance", None, None, None, (_DIAR,), "low", "mild")),
    (
        5,
        AllergyDef(
            "Pflaster (Kleber)", "environment", "allergy", None, None, None, (_ITCH,), "low", "mild"
        ),
    ),
    (
        4,
        AllergyDef(
            "Wespengift", "environment", "allergy", None, None, None, (_ANA,), "high", "severe"
        ),
    ),
    (
        3,
        AllergyDef(
            "Ciprofloxacin",
            "medication",
            "allergy",
            ATC,
            "J01MA02",
            "Ciprofloxacin",
            (_RASH,),
            "unable-to-assess",
            "moderate",
        ),
    ),
    (
        4,
        AllergyDef(
            "Hausstaubmilbe", "environment", "allergy", None, None, None, (_DYSP,), "low", "mild"
        ),
    ),
)
NKA_SNOMED = ("716186003", "No known allergy")

# ----------------------------------------------------------------------------- observations


@dataclass(frozen=True)
class LabDef:
    key: str
    loinc: str
    loinc_display: str
    text: str  # German name on the report
    unit: str  # UCUM
    low: float | None
    high: float | None
    crit_low: float | None
    crit_high: float | None
    normal: tuple[float, float]  # mean, sd of a healthy value
    decimals: int
    group: str


LABS: dict[str, LabDef] = {
    lab.key: lab
    for lab in (
        LabDef(
            "hb",
            "718-7",
            "Hemoglobin [Mass/volume] in Blood",
            "Hämoglobin",
            "g/dL",
            12.0,
            16.0,
            7.0,
            None,
            (13.6, 1.2),
            1,
            "Blutbild",
        ),
        LabDef(
            "leuko",
            "6690-2",
            "Leukocytes [#/volume] in Blood by Automated count",
            "Leukozyten",
            "10*3/uL",
            4.0,
            10.0,
            1.5,
            30.0,
            (7.0, 1.6),
            1,
            "Blutbild",
        ),
        LabDef(
            "thrombo",
            "777-3",
            "Platelets [#/volume] in Blood by Automated count",
            "Thrombozyten",
            "10*3/uL",
            150,
            400,
            50,
            None,
            (250, 55),
            0,
            "Blutbild",
        ),
        LabDef(
            "na",
            "2951-2",
            "Sodium [Moles/volume] in Serum or Plasma",
            "Natrium",
            "mmol/L",
            135,
            145,
            125,
            155,
            (139, 2.5),
            0,
            "Elektrolyte",
        ),
        LabDef(
            "k",
            "2823-3",
            "Potassium [Moles/volume] in Serum or Plasma",
            "Kalium",
            "mmol/L",
            3.5,
            5.1,
            2.8,
            6.0,
            (4.2, 0.35),
            1,
            "Elektrolyte",
        ),
        LabDef(
            "krea",
            "2160-0",
            "Creatinine [Mass/volume] in Serum or Plasma",
            "Kreatinin",
            "mg/dL",
            0.5,
            1.2,
            None,
            None,
            (0.9, 0.15),
            2,
            "Niere",
        ),
        LabDef(
            "crp",
            "1988-5",
            "C reactive protein [Mass/volume] in Serum or Plasma",
            "CRP",
            "mg/L",
            None,
            5.0,
            None,
            None,
            (2.5, 1.5),
            1,
            "Entzündung",
        ),
        LabDef(
            "glc",
            "2345-7",
            "Glucose [Mass/volume] in Serum or Plasma",
            "Glukose",
            "mg/dL",
            74,
            106,
            50,
            400,
            (95, 10),
            0,
            "Stoffwechsel",
        ),
        LabDef(
            "inr",
            "6301-6",
            "INR in Platelet poor plasma by Coagulation assay",
            "INR",
            "{INR}",
            0.85,
            1.15,
            None,
            4.5,
            (1.0, 0.06),
            2,
            "Gerinnung",
        ),
        LabDef(
            "trop",
            "67151-1",
            "Troponin T.cardiac [Mass/volume] in Serum or Plasma by High sensitivity method",
            "hs-Troponin T",
            "ng/L",
            None,
            14,
            None,
            None,
            (6, 3),
            0,
            "Herz",
        ),
        LabDef(
            "lac",
            "2524-7",
            "Lactate [Moles/volume] in Serum or Plasma",
            "Laktat",
            "mmol/L",
            0.5,
            2.2,
            None,
            4.0,
            (1.1, 0.3),
            1,
            "Stoffwechsel",
        ),
    )
}
DAILY_LABS = ("hb", "leuko", "thrombo", "na", "k", "krea", "crp")
ADMISSION_LABS = (*DAILY_LABS, "glc", "inr")


# A bedside monitor that codes vital signs in a local system (no LOINC, no category): the demo
# sync configuration maps them (DEMO_CODE_MAP, docs/configuration.md "Codes outside LOINC").
DEMO_MONITOR_SYSTEM = "http://demo-klinikum.example/fhir/CodeSystem/monitor"
DEMO_CODE_MAP: dict[str, str] = {
    f"{DEMO_MONITOR_SYSTEM}|HF": "heart-rate",
    f"{DEMO_MONITOR_SYSTEM}|AF": "resp-rate",
    f"{DEMO_MONITOR_SYSTEM}|SPO2": "spo2",
}

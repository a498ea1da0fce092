"""Case profiles: what a typical patient with a given admission reason looks like.

Pure data, no I/O. A profile names the main diagnosis, likely comorbidities, the ward's usual
orders, and how the illness shows in vital signs and labs. `acute` effects are offsets at
admission that fade with `tau_days`; `chronic` offsets stay for the whole stay.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sync.generate.vocab import LOINC, OPS, SNOMED


@dataclass(frozen=True)
class Profile:
    key: str
    main: tuple[str, ...]  # ICD-10-GM codes, one is picked
    reason: tuple[str, ...]  # Encounter.reasonCode texts (Aufnahmegrund)
    comorbid: tuple[str, ...]
    drugs: tuple[str, ...]  # core orders (all, or most, are given)
    optional_drugs: tuple[str, ...] = ()
    acute: dict[str, float] = field(default_factory=dict)
    chronic: dict[str, float] = field(default_factory=dict)
    tau_days: float = 2.5
    procedures: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()
    orders: tuple[str, ...] = ()
    age: tuple[int, int, int] = (30, 95, 75)  # triangular low, high, mode
    findings: tuple[str, ...] = ()  # German phrases for the physician notes
    plan: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()  # flag keys more likely for this profile
    isolation_chance: float = 0.04
    comfort_chance: float = 0.0


_INFECT = {"crp": 140.0, "leuko": 7.0, "temp": 1.6, "hr": 18.0, "rr": 5.0, "spo2": -3.0}

PROFILES: dict[str, Profile] = {
    p.key: p
    for p in (
        Profile(
            "pneumonia",
            ("J18.9",),
            (
                "Fieber, Husten und Atemnot seit 3 Tagen",
                "Verschlechterung des Allgemeinzustands, Fieber",
            ),
            ("I10.00", "E11.90", "I48.0", "E78.0", "F03", "N40"),
            ("ampisulb", "clarithromycin", "enoxaparin", "paracetamol_prn"),
            ("pantoprazol", "metamizol", "salbutamol_prn", "nacl"),
            acute={**_INFECT, "spo2": -6.0, "lac": 0.6},
            tau_days=2.5,
            orders=("lab_tomorrow", "xray_chest", "blood_cultures", "physio"),
            devices=("pvk",),
            findings=(
                "RG rechts basal",
                "Infiltrat rechts basal im Röntgen-Thorax",
                "Sauerstoffbedarf 2 l/min über Nasenbrille",
            ),
            plan=(
                "Antibiose mit Ampicillin/Sulbactam und Clarithromycin fortführen",
                "Sauerstoff nach SpO2 (Ziel > 92 %)",
                "Atemtherapie, Mobilisation",
            ),
        ),
        Profile(
            "uti",
            ("N39.0",),
            ("Dysurie, Fieber, Verwirrtheit",),
            ("I10.00", "E11.90", "F03", "N40", "M81.09"),
            ("ceftriaxon", "enoxaparin"),
            ("metamizol", "paracetamol_prn", "nacl"),
            acute={**_INFECT, "crp": 90.0, "krea": 0.4},
            tau_days=2.0,
            orders=("lab_tomorrow", "urine_culture"),
            devices=("dk",),
            findings=(
                "Nierenlager rechts klopfschmerzhaft",
                "Urinstatus: Leukozyturie, Nitrit positiv",
            ),
            plan=("Antibiose nach Antibiogramm anpassen", "Trinkmenge mind. 1,5 l"),
        ),
        Profile(
            "aki",
            ("N17.9",),
            ("Kreatininanstieg, Oligurie", "Exsikkose, Nierenwerte erhöht"),
            ("I10.00", "E11.90", "I50.13", "N18.4"),
            ("nacl", "enoxaparin", "pantoprazol"),
            ("allopurinol", "kalium"),
            acute={"krea": 2.4, "k": 1.1, "na": -3.0, "hr": 8.0},
            tau_days=3.0,
            orders=("lab_tomorrow", "sono_abdomen", "bilanz"),
            findings=("Bilanz positiv", "Diurese rückläufig, ca. 500 ml/24 h"),
            plan=(
                "Ein-/Ausfuhrbilanz",
                "Nephrotoxische Medikamente pausiert (Metformin, Ramipril)",
                "Kreatinin täglich",
            ),
        ),
        Profile(
            "gi_bleed",
            ("K92.2",),
            ("Teerstuhl, Schwindel", "Hämatemesis"),
            ("I48.0", "I10.00", "K70.3", "D64.9"),
            ("pantoprazol_iv", "nacl"),
            ("ondansetron_prn", "ferinject"),
            acute={"hb": -5.0, "hr": 22.0, "sys": -20.0, "dia": -10.0},
            tau_days=2.0,
            procedures=("gastroskopie", "transfusion"),
            devices=("pvk",),
            orders=("lab_tomorrow", "gastroskopie_kontrolle", "blood_group"),
            findings=(
                "Ulcus duodeni Forrest IIa, endoskopisch versorgt",
                "Hb-Abfall, 2 EK transfundiert",
            ),
            plan=(
                "Hb-Kontrolle 2x täglich",
                "Pantoprazol i.v. fortführen",
                "Antikoagulation pausiert",
            ),
        ),
        Profile(
            "dm_derail",
            ("E11.91",),
            ("Blutzuckerentgleisung > 400 mg/dl, Polyurie",),
            ("I10.00", "E78.0", "N18.4"),
            ("insulin_schema", "glargin", "nacl", "enoxaparin"),
            ("kalium",),
            acute={"glc": 280.0, "k": 0.4, "na": 4.0},
            chronic={"glc": 60.0},
            tau_days=2.0,
            orders=("lab_tomorrow", "diabetes_beratung"),
            findings=("HbA1c 10,2 %", "Keine Ketoazidose"),
            plan=("BZ-Tagesprofil 4x täglich", "Insulinschulung", "Diabetesberatung"),
        ),
        Profile(
            "copd",
            ("J44.19",),
            ("Zunehmende Atemnot, vermehrt Auswurf",),
            ("I10.00", "I50.13", "F10.2", "M81.09"),
            ("prednisolon", "ipra_salbu", "budesonid_formoterol", "enoxaparin"),
            ("salbutamol_prn", "ampisulb", "pantoprazol"),
            acute={"rr": 8.0, "spo2": -6.0, "hr": 15.0, "crp": 30.0},
            chronic={"spo2": -3.0},
            tau_days=3.0,
            orders=("lab_tomorrow", "bga", "physio", "xray_chest"),
            findings=("Giemen und Brummen bds.", "Verlängertes Exspirium"),
            plan=(
                "Prednisolon 50 mg für 5 Tage",
                "Inhalationstherapie 4x täglich",
                "O2-Ziel 88-92 %",
            ),
        ),
        Profile(
            "dehydration",
            ("E86",),
            ("Exsikkose, reduzierte Trinkmenge",),
            ("F03", "I10.00", "E87.1", "M81.09"),
            ("nacl", "enoxaparin"),
            ("melperon", "macrogol"),
            acute={"krea": 0.8, "na": 6.0, "hr": 12.0, "sys": -12.0},
            tau_days=1.5,
            age=(70, 99, 88),
            orders=("lab_tomorrow", "bilanz"),
            findings=("Stehende Hautfalten, trockene Schleimhäute",),
            plan=("Infusionstherapie", "Trinkprotokoll"),
        ),
        Profile(
            "af",
            ("I48.1",),
            ("Herzrasen, Palpitationen",),
            ("I10.00", "I50.13", "E03.9", "E78.0"),
            ("metoprolol", "apixaban"),
            ("amiodaron", "torasemid"),
            acute={"hr": 45.0, "trop": 12.0},
            tau_days=1.0,
            orders=("lab_tomorrow", "tte", "ekg"),
            findings=("Tachyarrhythmia absoluta, Frequenz um 140/min",),
            plan=("Frequenzkontrolle mit Betablocker", "Antikoagulation nach CHA2DS2-VASc", "TTE"),
        ),
        Profile(
            "appendicitis",
            ("K35.8",),
            ("Rechtsseitige Unterbauchschmerzen",),
            ("E78.0",),
            ("cefuroxim", "metamizol_iv", "enoxaparin"),
            ("piritramid_prn", "ondansetron_prn", "nacl"),
            acute={"crp": 80.0, "leuko": 6.0, "temp": 1.0, "hr": 12.0},
            tau_days=1.5,
            age=(18, 70, 30),
            procedures=("appendektomie",),
            devices=("pvk",),
            orders=("lab_tomorrow", "kostaufbau"),
            findings=(
                "Druckschmerz McBurney, Loslassschmerz",
                "Z.n. lap. Appendektomie, Wunde reizlos",
            ),
            plan=("Kostaufbau", "Mobilisation", "Fäden ex am 10. postop. Tag (Hausarzt)"),
        ),
        Profile(
            "cholecystitis",
            ("K80.10",),
            ("Koliken im rechten Oberbauch, Fieber",),
            ("I10.00", "E11.90", "E78.0"),
            ("ampisulb", "metamizol_iv", "enoxaparin"),
            ("piritramid_prn", "ondansetron_prn", "pantoprazol"),
            acute={"crp": 110.0, "leuko": 5.0, "temp": 1.2, "hr": 10.0},
            tau_days=2.0,
            age=(30, 90, 60),
            procedures=("cholezystektomie",),
            devices=("pvk", "drain"),
            orders=("lab_tomorrow", "sono_abdomen", "kostaufbau"),
            findings=("Murphy-Zeichen positiv", "Drainage fördert serös, ca. 50 ml"),
            plan=("Drainage entfernen bei Fördermenge < 50 ml", "Kostaufbau"),
        ),
        Profile(
            "ileus",
            ("K56.7",),
            ("Erbrechen, Stuhlverhalt, geblähtes Abdomen",),
            ("I10.00", "C18.7", "I48.0"),
            ("nacl", "metamizol_iv", "pantoprazol_iv", "enoxaparin"),
            ("ondansetron_prn", "piritramid_prn"),
            acute={"leuko": 4.0, "crp": 50.0, "hr": 15.0, "k": -0.6, "lac": 1.0},
            tau_days=2.5,
            devices=("magensonde", "zvk", "dk"),
            orders=("lab_tomorrow", "ct_abdomen", "bilanz"),
            findings=("Hochgestellte Darmgeräusche", "Magensonde fördert 800 ml"),
            plan=("Nahrungskarenz, Magensonde auf Ablauf", "Ggf. OP-Indikation prüfen"),
        ),
        Profile(
            "colon_ca",
            ("C18.7",),
            ("Elektive Sigmaresektion bei Sigmakarzinom",),
            ("I10.00", "E11.90", "D64.9"),
            ("metamizol_iv", "enoxaparin", "pantoprazol"),
            ("oxycodon", "piritramid_prn", "ondansetron_prn", "ferinject"),
            acute={"crp": 70.0, "hb": -1.5, "temp": 0.5},
            chronic={"hb": -1.5},
            tau_days=3.0,
            age=(45, 90, 70),
            procedures=("sigmaresektion",),
            devices=("zvk", "dk", "pda"),
            orders=("lab_tomorrow", "kostaufbau", "stoma"),
            findings=("Wunde trocken, Stoma vital", "Darmgeräusche regelrecht"),
            plan=("Schmerzkatheter bis Tag 3", "Tumorkonferenz nach Histologie"),
            comfort_chance=0.02,
        ),
        Profile(
            "sepsis",
            ("A41.9",),
            ("Fieber, Hypotonie, Vigilanzminderung",),
            ("I10.00", "E11.90", "N18.4", "I50.13", "F03"),
            ("piptazo", "noradrenalin", "nacl", "heparin_perf", "pantoprazol_iv"),
            ("vancomycin", "meropenem", "paracetamol_prn"),
            acute={
                "crp": 220.0,
                "leuko": 12.0,
                "temp": 2.0,
                "hr": 30.0,
                "rr": 10.0,
                "sys": -35.0,
                "dia": -20.0,
                "lac": 3.5,
                "krea": 1.2,
                "thrombo": -90.0,
            },
            tau_days=3.5,
            procedures=("zvk_anlage",),
            devices=("zvk", "arterie", "dk"),
            orders=("lab_tomorrow", "blood_cultures", "bga", "ct_abdomen"),
            findings=(
                "Katecholaminpflichtig (Noradrenalin 0,15 µg/kg/min)",
                "Blutkulturen: Gramnegative Stäbchen",
            ),
            plan=(
                "Fokussuche (CT Thorax/Abdomen)",
                "Antibiose eskalieren nach Antibiogramm",
                "Katecholamine ausschleichen",
            ),
            isolation_chance=0.15,
        ),
        Profile(
            "resp_failure",
            ("J96.00",),
            ("Akute Atemnot, SpO2 78 % unter Raumluft",),
            ("J44.19", "I50.13", "I10.00"),
            ("propofol", "sufentanil", "piptazo", "heparin_perf", "pantoprazol_iv"),
            ("noradrenalin", "prednisolon"),
            acute={"spo2": -8.0, "rr": 10.0, "hr": 20.0, "crp": 120.0, "lac": 1.5, "temp": 1.0},
            tau_days=4.0,
            procedures=("intubation", "zvk_anlage"),
            devices=("zvk", "arterie", "dk", "tubus"),
            orders=("lab_tomorrow", "bga", "xray_chest"),
            findings=("Intubiert und beatmet (BIPAP, FiO2 0,45, PEEP 8)", "Bilaterale Infiltrate"),
            plan=("Lungenprotektive Beatmung", "Spontanatemversuch prüfen"),
            isolation_chance=0.1,
            comfort_chance=0.05,
        ),
        Profile(
            "ich",
            ("I61.9",),
            ("Plötzliche Hemiparese links, Bewusstseinsstörung",),
            ("I10.00", "I48.0"),
            ("nacl", "amlodipin", "pantoprazol"),
            ("levetiracetam", "paracetamol_prn"),
            acute={"sys": 35.0, "dia": 15.0, "hr": 5.0},
            chronic={"sys": 15.0},
            tau_days=4.0,
            procedures=("cct",),
            devices=("zvk", "dk"),
            orders=("lab_tomorrow", "cct_kontrolle", "physio", "logo"),
            findings=("GCS 11", "Blutung Stammganglien rechts, ca. 20 ml"),
            plan=(
                "RR-Ziel systolisch < 140 mmHg",
                "Kontroll-CCT in 24 h",
                "Schluckscreening vor oraler Kost",
            ),
            comfort_chance=0.15,
        ),
        Profile(
            "stemi_icu",
            ("I21.0",),
            ("Thoraxschmerz seit 2 h, ST-Hebungen V1-V4",),
            ("I10.00", "E11.90", "E78.0"),
            ("ass", "clopidogrel", "heparin_perf", "atorvastatin", "metoprolol"),
            ("ramipril", "pantoprazol", "morphin_prn"),
            acute={"trop": 2500.0, "hr": 15.0, "lac": 0.8},
            tau_days=1.5,
            procedures=("koronar_pci",),
            devices=("arterie",),
            orders=("lab_tomorrow", "tte", "ekg"),
            findings=("Z.n. PCI RIVA mit DES", "Keine Angina pectoris mehr"),
            plan=("DAPT für 12 Monate", "Mobilisation nach Schema"),
        ),
        Profile(
            "hf",
            ("I50.13", "I50.14"),
            ("Zunehmende Luftnot und Beinödeme", "Gewichtszunahme 4 kg in einer Woche"),
            ("I10.00", "I48.1", "E11.90", "N18.4", "Z95.0"),
            ("furosemid_iv", "ramipril", "bisoprolol", "spironolacton", "enoxaparin"),
            ("kalium", "apixaban", "pantoprazol"),
            acute={"rr": 6.0, "spo2": -5.0, "hr": 12.0, "weight": 4.0, "krea": 0.3, "trop": 15.0},
            chronic={"krea": 0.3},
            tau_days=3.0,
            devices=("pvk",),
            orders=("lab_tomorrow", "tte", "xray_chest", "bilanz"),
            findings=(
                "Beinödeme bds. bis zum Knie",
                "Feuchte RG basal bds.",
                "Gewicht heute -1,2 kg",
            ),
            plan=(
                "Tägliche Gewichtskontrolle",
                "Trinkmengenbeschränkung 1,5 l",
                "Furosemid i.v., Umstellung auf Torasemid p.o. bei Rekompensation",
            ),
        ),
        Profile(
            "nstemi",
            ("I21.4",),
            ("Retrosternales Druckgefühl",),
            ("I10.00", "E11.90", "E78.0"),
            ("ass", "clopidogrel", "atorvastatin", "metoprolol", "enoxaparin"),
            ("ramipril", "pantoprazol"),
            acute={"trop": 350.0, "hr": 8.0},
            tau_days=1.5,
            procedures=("koronarangio",),
            orders=("lab_tomorrow", "tte", "ekg"),
            findings=("Koronarangiographie: Stenose RCX, PCI mit DES",),
            plan=("Troponinverlauf", "DAPT für 12 Monate", "Kardiologische Reha anmelden"),
        ),
        Profile(
            "syncope",
            ("R55",),
            ("Kurze Bewusstlosigkeit beim Aufstehen",),
            ("I10.00", "E11.90", "Z95.0"),
            ("enoxaparin",),
            ("pantoprazol",),
            acute={"sys": -15.0, "hr": -8.0},
            tau_days=1.0,
            orders=("lab_tomorrow", "langzeit_ekg", "tte", "ekg"),
            findings=("Schellong-Test pathologisch",),
            plan=("Langzeit-EKG", "Antihypertensiva reduzieren"),
        ),
        Profile(
            "hip_geri",
            ("S72.00", "S72.10"),
            ("Sturz zu Hause, Schmerzen rechte Hüfte",),
            ("I10.00", "F03", "M81.09", "I48.0", "D64.9"),
            ("metamizol", "enoxaparin", "oxycodon", "macrogol"),
            ("piritramid_prn", "vitd", "melperon", "ferinject"),
            acute={"hb": -2.5, "crp": 60.0, "hr": 10.0},
            tau_days=3.0,
            age=(70, 99, 86),
            procedures=("hueft_tep",),
            devices=("dk", "pvk"),
            orders=("lab_tomorrow", "physio", "xray_hip", "sozialdienst"),
            findings=("Z.n. Hüft-TEP rechts, Wunde reizlos", "Mobilisation an den Bettrand"),
            plan=(
                "Vollbelastung erlaubt",
                "Thromboseprophylaxe 35 Tage",
                "Geriatrische Frührehabilitation",
            ),
            flags=("fall",),
            comfort_chance=0.02,
        ),
        Profile(
            "delir",
            ("F05.1",),
            ("Akute Verwirrtheit, Weglauftendenz",),
            ("F03", "N39.0", "I10.00", "E86"),
            ("melperon", "enoxaparin"),
            ("quetiapin", "lorazepam_prn", "nacl"),
            acute={"crp": 20.0, "hr": 10.0},
            tau_days=3.0,
            age=(75, 99, 87),
            orders=("lab_tomorrow", "cct_kontrolle", "sozialdienst"),
            findings=("Zeitlich und örtlich desorientiert", "CAM positiv"),
            plan=("Reorientierung, Tag-Nacht-Rhythmus", "Auslöser suchen (Infekt, Medikamente)"),
            flags=("fall", "weglauf"),
            comfort_chance=0.05,
        ),
        Profile(
            "fall",
            ("W19.9",),
            ("Sturz, Platzwunde am Kopf",),
            ("S06.0", "I10.00", "F03", "M81.09"),
            ("metamizol", "enoxaparin"),
            ("paracetamol_prn",),
            acute={"hr": 5.0},
            tau_days=1.0,
            age=(70, 99, 85),
            orders=("physio", "cct_kontrolle", "sozialdienst"),
            findings=("Platzwunde okzipital genäht", "CCT ohne Blutung"),
            plan=("Neurologische Überwachung", "Sturzprophylaxe"),
            flags=("fall",),
        ),
        Profile(
            "stroke",
            ("I63.9",),
            ("Akute Sprachstörung und Armparese rechts",),
            ("I10.00", "I48.0", "E11.90", "E78.0"),
            ("ass", "atorvastatin", "enoxaparin", "nacl"),
            ("amlodipin", "pantoprazol"),
            acute={"sys": 25.0, "dia": 10.0},
            tau_days=3.0,
            procedures=("cct", "lyse"),
            orders=("lab_tomorrow", "logo", "physio", "mrt_schaedel", "duplex"),
            findings=("NIHSS 6", "Broca-Aphasie, Armparese rechts KG 3/5"),
            plan=("Schluckscreening", "Langzeit-EKG", "Frührehabilitation"),
            flags=("fall", "dysphagie"),
            comfort_chance=0.03,
        ),
        Profile(
            "tia",
            ("G45.92",),
            ("Vorübergehende Sehstörung und Taubheit links",),
            ("I10.00", "E78.0"),
            ("ass", "atorvastatin", "enoxaparin"),
            ("amlodipin",),
            acute={"sys": 15.0},
            tau_days=1.0,
            orders=("duplex", "langzeit_ekg"),
            findings=("Symptomatik vollständig rückläufig",),
            plan=("Duplex der hirnversorgenden Gefäße", "Langzeit-EKG"),
        ),
        Profile(
            "epilepsy",
            ("G40.9",),
            ("Generalisierter Krampfanfall",),
            ("F10.2", "I10.00"),
            ("levetiracetam", "enoxaparin"),
            ("lorazepam_prn",),
            acute={"hr": 10.0, "lac": 2.5},
            tau_days=0.5,
            age=(18, 90, 50),
            orders=("eeg", "mrt_schaedel"),
            findings=("Zungenbiss lateral",),
            plan=("Levetiracetam aufdosieren", "Fahrverbot besprochen"),
            flags=("fall",),
        ),
        Profile(
            "parkinson",
            ("G20.10",),
            ("Zunehmende Gangunsicherheit, Stürze",),
            ("I10.00", "F32.1", "N40"),
            ("madopar", "enoxaparin", "macrogol"),
            ("quetiapin",),
            acute={},
            age=(60, 95, 78),
            orders=("physio", "logo"),
            findings=("Rigor und Bradykinese betont rechts",),
            plan=("Medikationszeiten strikt einhalten", "Physiotherapie täglich"),
            flags=("fall",),
        ),
        Profile(
            "hip_fracture",
            ("S72.00",),
            ("Sturz vom Fahrrad, Schmerzen linke Hüfte",),
            ("I10.00", "M81.09"),
            ("metamizol", "enoxaparin", "tilidin"),
            ("piritramid_prn", "ibuprofen_prn"),
            acute={"hb": -2.0, "crp": 50.0},
            tau_days=3.0,
            age=(50, 95, 78),
            procedures=("hueft_tep",),
            devices=("pvk",),
            orders=("physio", "xray_hip", "lab_tomorrow"),
            findings=("Wunde trocken, Redon ex",),
            plan=("Mobilisation unter Vollbelastung",),
            flags=("fall",),
        ),
        Profile(
            "knee_oa",
            ("M17.1",),
            ("Elektive Knie-TEP rechts",),
            ("I10.00", "E78.0"),
            ("metamizol", "enoxaparin", "oxycodon"),
            ("ibuprofen_prn", "piritramid_prn", "pantoprazol"),
            acute={"crp": 40.0},
            tau_days=2.0,
            age=(50, 88, 70),
            procedures=("knie_tep",),
            devices=("pvk",),
            orders=("physio", "xray_knee"),
            findings=("Flexion 70°, Extension frei",),
            plan=("CPM-Schiene 3x täglich", "Anschlussheilbehandlung beantragt"),
        ),
        Profile(
            "lung_ca",
            ("C34.1",),
            ("Dyspnoe und Gewichtsverlust bei bekanntem NSCLC",),
            ("J44.19", "I10.00", "D64.9", "F10.2"),
            ("oxycodon", "dexamethason", "enoxaparin", "pantoprazol"),
            ("morphin_prn", "midazolam_prn", "salbutamol_prn", "macrogol"),
            acute={"crp": 40.0, "spo2": -3.0, "rr": 4.0},
            chronic={"hb": -2.0},
            age=(45, 90, 68),
            orders=("lab_tomorrow", "ct_thorax", "palliativ_konsil"),
            findings=("Pleuraerguss rechts", "ECOG 2"),
            plan=("Tumorboard", "Palliativmedizinisches Konsil"),
            comfort_chance=0.25,
        ),
        Profile(
            "pe",
            ("I26.9",),
            ("Plötzliche Atemnot und Brustschmerz",),
            ("I10.00", "C18.7"),
            ("heparin_perf",),
            ("apixaban", "paracetamol_prn"),
            acute={"hr": 25.0, "spo2": -5.0, "rr": 6.0, "trop": 40.0},
            tau_days=2.0,
            orders=("lab_tomorrow", "tte", "duplex"),
            findings=("CT-Angio: zentrale LAE rechts", "Keine Rechtsherzbelastung"),
            plan=("Umstellung auf Apixaban", "Tumorsuche abgeschlossen"),
        ),
        Profile(
            "pancreatitis",
            ("K85.90",),
            ("Gürtelförmige Oberbauchschmerzen",),
            ("F10.2", "E11.90", "I10.00"),
            ("nacl", "metamizol_iv", "piritramid_prn", "pantoprazol_iv", "enoxaparin"),
            ("ondansetron_prn",),
            acute={"crp": 180.0, "leuko": 6.0, "glc": 60.0, "hr": 15.0, "temp": 0.8},
            tau_days=3.0,
            age=(25, 85, 50),
            orders=("lab_tomorrow", "sono_abdomen", "bilanz"),
            findings=("Lipase 1850 U/l", "Sonographie: Pankreas ödematös"),
            plan=("Großzügige Volumentherapie", "Frühe enterale Ernährung"),
        ),
        Profile(
            "noro",
            ("A08.1",),
            ("Erbrechen und Durchfall seit gestern",),
            ("I10.00", "F03"),
            ("nacl", "enoxaparin"),
            ("ondansetron_prn", "kalium"),
            acute={"k": -0.9, "krea": 0.6, "hr": 15.0, "sys": -10.0},
            tau_days=1.5,
            age=(60, 99, 82),
            orders=("lab_tomorrow", "stool_test", "bilanz"),
            findings=("Norovirus-PCR positiv",),
            plan=("Isolierung bis 48 h symptomfrei",),
            flags=("noro",),
            isolation_chance=0.0,
        ),
        Profile(
            "cirrhosis",
            ("K70.3",),
            ("Zunehmender Bauchumfang, Verwirrtheit",),
            ("F10.2", "D64.9", "E87.1"),
            ("spironolacton", "torasemid", "macrogol"),
            ("ceftriaxon", "pantoprazol"),
            acute={"na": -6.0, "inr": 0.6, "crp": 20.0},
            chronic={"inr": 0.3, "thrombo": -90.0},
            age=(35, 80, 58),
            procedures=("aszitespunktion",),
            orders=("lab_tomorrow", "sono_abdomen"),
            findings=("Aszites, 4 l punktiert", "Flapping tremor"),
            plan=("Lactulose nach Stuhlfrequenz", "Alkoholkarenz besprochen"),
        ),
        Profile(
            "neutropenic",
            ("D70.10",),
            ("Fieber 39,2 °C unter Chemotherapie",),
            ("C34.1", "C18.7", "D64.9"),
            ("piptazo", "ondansetron_prn"),
            ("paracetamol_prn", "pantoprazol", "macrogol"),
            acute={"temp": 2.0, "hr": 20.0, "crp": 120.0, "leuko": -6.0, "thrombo": -120.0},
            chronic={"hb": -2.5},
            tau_days=3.0,
            age=(30, 85, 62),
            devices=("port",),
            orders=("lab_tomorrow", "blood_cultures"),
            findings=("Port reizlos", "Neutrophile 0,3/nl"),
            plan=("Umkehrisolation", "G-CSF erwägen"),
            flags=("umkehr",),
            comfort_chance=0.05,
        ),
        Profile(
            "ckd",
            ("N18.4",),
            ("Verschlechterung der Nierenfunktion, Ödeme",),
            ("I10.00", "E11.90", "D64.9", "I50.13"),
            ("torasemid", "allopurinol", "kalium"),
            ("ferinject",),
            acute={"krea": 0.8, "k": 0.7},
            chronic={"krea": 2.4, "hb": -2.5},
            age=(40, 92, 72),
            orders=("lab_tomorrow", "shunt_anlage"),
            findings=("eGFR 18 ml/min",),
            plan=("Dialysevorbereitung besprochen",),
        ),
    )
}


@dataclass(frozen=True)
class ProcDef:
    text: str
    system: str
    code: str
    display: str
    day_offset: float  # days after admission


PROCEDURES: dict[str, ProcDef] = {
    "appendektomie": ProcDef(
        "Laparoskopische Appendektomie",
        OPS,
        "5-470.11",
        "Appendektomie: Laparoskopisch: Absetzung durch Klammern (Stapler)",
        0.3,
    ),
    "cholezystektomie": ProcDef(
        "Laparoskopische Cholezystektomie",
        OPS,
        "5-511.11",
        "Cholezystektomie: Einfach, laparoskopisch: Ohne laparoskopische Revision der Gallengänge",
        1.0,
    ),
    "sigmaresektion": ProcDef(
        "Laparoskopische Sigmaresektion",
        OPS,
        "5-455.75",
        "Partielle Resektion des Dickdarmes: Sigmaresektion: Laparoskopisch mit Anastomose",
        0.1,
    ),
    "hueft_tep": ProcDef(
        "Hüft-TEP (zementiert)",
        OPS,
        "5-820.02",
        "Implantation einer Endoprothese am Hüftgelenk: Totalendoprothese: Hybrid (teilzementiert)",
        0.8,
    ),
    "knie_tep": ProcDef(
        "Knie-TEP",
        OPS,
        "5-822.g1",
        "Implantation einer Endoprothese am Kniegelenk: Bikondyläre "
        "Oberflächenersatzprothese: Zementiert",
        0.1,
    ),
    "koronarangio": ProcDef(
        "Koronarangiographie mit PCI",
        OPS,
        "8-837.00",
        "Perkutan-transluminale Gefäßintervention an Herz und "
        "Koronargefäßen: Ballon-Angioplastie: Eine Koronararterie",
        0.3,
    ),
    "koronar_pci": ProcDef(
        "Notfall-PCI RIVA",
        OPS,
        "8-837.00",
        "Perkutan-transluminale Gefäßintervention an Herz und "
        "Koronargefäßen: Ballon-Angioplastie: Eine Koronararterie",
        0.05,
    ),
    "gastroskopie": ProcDef(
        "Gastroskopie mit Blutstillung",
        OPS,
        "5-449.d3",
        "Andere Operationen am Magen: Clippen: Endoskopisch",
        0.2,
    ),
    "transfusion": ProcDef(
        "Transfusion von 2 EK",
        OPS,
        "8-800.c0",
        "Transfusion von Vollblut, Erythrozytenkonzentrat und "
        "Thrombozytenkonzentrat: Erythrozytenkonzentrat: 1 TE bis unter "
        "6 TE",
        0.3,
    ),
    "zvk_anlage": ProcDef(
        "ZVK-Anlage V. jugularis interna rechts",
        OPS,
        "8-831.00",
        "Legen und Wechsel eines Katheters in zentralvenöse Gefäße: Legen: "
        "Über eine zentrale Vene in ein zentralvenöses Gefäß, anterograd",
        0.1,
    ),
    "intubation": ProcDef(
        "Intubation und maschinelle Beatmung",
        OPS,
        "8-701",
        "Einfache endotracheale Intubation",
        0.05,
    ),
    "cct": ProcDef("CCT nativ", OPS, "3-200", "Native Computertomographie des Schädels", 0.02),
    "lyse": ProcDef(
        "Systemische Thrombolyse",
        OPS,
        "8-020.8",
        "Therapeutische Injektion: Systemische Thrombolyse",
        0.05,
    ),
    "aszitespunktion": ProcDef(
        "Aszitespunktion", OPS, "8-153", "Therapeutische perkutane Punktion der Bauchhöhle", 0.5
    ),
}


@dataclass(frozen=True)
class DeviceDef:
    text: str
    snomed: str | None
    display: str | None


DEVICES: dict[str, DeviceDef] = {
    "zvk": DeviceDef(
        "ZVK V. jugularis interna rechts (3-lumig)", "52124006", "Central venous catheter"
    ),
    "dk": DeviceDef("Blasenkatheter (transurethral, Ch 14)", "20568009", "Urinary catheter"),
    "pvk": DeviceDef("Periphere Venenverweilkanüle 20 G Handrücken links", None, None),
    "arterie": DeviceDef("Arterieller Katheter A. radialis rechts", None, None),
    "drain": DeviceDef("Easy-Flow-Drainage rechter Oberbauch", None, None),
    "magensonde": DeviceDef("Magensonde (nasogastral)", None, None),
    "pda": DeviceDef("Periduralkatheter Th 10/11", None, None),
    "tubus": DeviceDef("Endotrachealtubus 7,5 mm", "26412008", "Endotracheal tube"),
    "port": DeviceDef("Port-System V. subclavia rechts", None, None),
    "pacemaker": DeviceDef("Herzschrittmacher (DDD)", "14106009", "Cardiac pacemaker"),
    "hearing": DeviceDef("Hörgerät beidseits", "6012004", "Hearing aid"),
}


@dataclass(frozen=True)
class OrderDef:
    text: str
    category: str  # lab | imaging | consult | nursing | therapy
    system: str | None
    code: str | None
    display: str | None
    hours_ahead: float  # when it is planned, relative to the next morning 00:00
    priority: str = "routine"


_CAT = {
    "lab": ("108252007", "Laboratory procedure", "Labor"),
    "imaging": ("363679005", "Imaging", "Bildgebung"),
    "consult": ("11429006", "Consultation", "Konsil"),
    "nursing": ("9632001", "Nursing procedure", "Pflege"),
    "therapy": ("91251008", "Physical therapy procedure", "Therapie"),
}
ORDER_CATEGORY = _CAT

ORDERS: dict[str, OrderDef] = {
    "lab_tomorrow": OrderDef(
        "Labor morgen früh: Blutbild, Elektrolyte, Kreatinin, CRP",
        "lab",
        LOINC,
        "58410-2",
        "CBC panel - Blood by Automated count",
        6.5,
    ),
    "blood_cultures": OrderDef(
        "Blutkulturen 2 Pärchen bei Fieber > 38,5 °C", "lab", None, None, None, -1.0, "urgent"
    ),
    "urine_culture": OrderDef("Urinkultur mit Antibiogramm", "lab", None, None, None, 7.0),
    "stool_test": OrderDef(
        "Stuhl auf Noro-/Rotavirus und C. difficile", "lab", None, None, None, 8.0
    ),
    "blood_group": OrderDef(
        "Blutgruppe und Kreuzprobe, 2 EK bereitstellen", "lab", None, None, None, -2.0, "urgent"
    ),
    "bga": OrderDef("Arterielle BGA 06:00", "lab", None, None, None, 6.0),
    "xray_chest": OrderDef(
        "Röntgen Thorax in 2 Ebenen", "imaging", LOINC, "36643-5", "XR Chest 2 Views", 9.0
    ),
    "xray_hip": OrderDef(
        "Röntgen Hüfte rechts a.p. und axial (postop. Kontrolle)", "imaging", None, None, None, 10.0
    ),
    "xray_knee": OrderDef("Röntgen Knie rechts in 2 Ebenen", "imaging", None, None, None, 10.0),
    "sono_abdomen": OrderDef("Sonographie Abdomen", "imaging", None, None, None, 10.5),
    "ct_abdomen": OrderDef("CT Abdomen mit KM", "imaging", None, None, None, 4.0, "urgent"),
    "ct_thorax": OrderDef("CT Thorax mit KM (Staging)", "imaging", None, None, None, 13.0),
    "cct_kontrolle": OrderDef(
        "CCT nativ (Kontrolle)", "imaging", LOINC, "30799-1", "CT Head WO contrast", 8.0
    ),
    "mrt_schaedel": OrderDef("MRT Schädel", "imaging", None, None, None, 14.0),
    "tte": OrderDef("Transthorakale Echokardiographie (TTE)", "imaging", None, None, None, 11.0),
    "duplex": OrderDef(
        "Duplexsonographie der hirnversorgenden Gefäße", "imaging", None, None, None, 12.0
    ),
    "ekg": OrderDef("12-Kanal-EKG", "nursing", None, None, None, 7.0),
    "langzeit_ekg": OrderDef("Langzeit-EKG (24 h) anlegen", "nursing", None, None, None, 9.0),
    "eeg": OrderDef("EEG", "imaging", None, None, None, 10.0),
    "gastroskopie_kontrolle": OrderDef("Kontroll-Gastroskopie", "imaging", None, None, None, 9.0),
    "physio": OrderDef(
        "Physiotherapie: Mobilisation, Atemtherapie", "therapy", None, None, None, 10.0
    ),
    "logo": OrderDef("Logopädie: Schluckdiagnostik", "therapy", None, None, None, 11.0),
    "kostaufbau": OrderDef(
        "Kostaufbau: Tee und Zwieback, dann leichte Vollkost", "nursing", None, None, None, 8.0
    ),
    "bilanz": OrderDef("Ein- und Ausfuhrbilanz, Gewicht täglich", "nursing", None, None, None, 7.0),
    "stoma": OrderDef(
        "Stomatherapie: Anleitung Versorgungswechsel", "nursing", None, None, None, 13.0
    ),
    "diabetes_beratung": OrderDef(
        "Diabetesberatung und Insulinschulung", "consult", None, None, None, 14.0
    ),
    "sozialdienst": OrderDef(
        "Sozialdienst: Überleitung Kurzzeitpflege", "consult", None, None, None, 10.0
    ),
    "palliativ_konsil": OrderDef(
        "Konsil Palliativmedizin", "consult", SNOMED, "11429006", "Consultation", 11.0
    ),
    "shunt_anlage": OrderDef(
        "Konsil Gefäßchirurgie: Shuntanlage", "consult", None, None, None, 12.0
    ),
    "konsil_kardio": OrderDef(
        "Konsil Kardiologie", "consult", SNOMED, "11429006", "Consultation", 11.0
    ),
}

"""Viewer view-models (app.ui.state, app.ui.fmt): what the screens show, without a Flet client."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_ui_support import make_record

from app.settings import Settings
from app.ui import fmt
from app.ui.launch import desktop_unavailable_reason
from app.ui.main import SessionCounter, idle_timeout
from app.ui.state import (
    CensusModel,
    ChartModel,
    IdleLock,
    LoginForm,
    Section,
    SortKey,
    UserView,
    banner_view,
    census_line,
    changed_keys,
    code_status_view,
    settings_changes,
)
from sync import searchtext
from sync.model import (
    Administration,
    CensusRow,
    CodeStatusKind,
    Observation,
    PatientRecord,
)

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


def rows(n: int = 14) -> list[CensusRow]:
    return [CensusRow.from_record(make_record(i, NOW)) for i in range(n)]


def names(model: CensusModel) -> list[str]:
    return [r.name for r in model.visible()]


# -- census filter, search merge, sorting, keyboard --------------------------------------------


def test_filter_finds_umlaut_names_typed_without_umlaut() -> None:
    model = CensusModel(rows())
    for typed in ("Muller", "mueller", "MÜL", "müller erika"):
        model.set_query(typed)
        assert names(model) == ["Müller, Erika"], typed


def test_filter_by_room_and_by_mrn() -> None:
    model = CensusModel(rows())
    model.set_query("101")
    assert names(model) == ["Müller, Erika", "Schmidt, Hans"]
    model.set_query("40001003")
    assert names(model) == ["Weber, Karl"]


def test_search_hits_are_merged_only_for_the_current_query() -> None:
    all_rows = rows()
    model = CensusModel(all_rows)
    model.set_query("zz-nothing")
    assert names(model) == []
    assert model.search_pending
    # Results of an older query arrive late: ignored.
    assert not model.apply_search("zz", [all_rows[5]])
    assert names(model) == []
    assert model.apply_search("zz-nothing", [all_rows[5]])
    assert names(model) == [all_rows[5].name]
    assert not model.search_pending


def test_hospital_scope_lists_only_search_hits_and_marks_other_wards() -> None:
    other = CensusRow.from_record(make_record(40, NOW, "station-5b", "Station 5B"))
    model = CensusModel(rows(), ward_id="station-3a")
    model.set_hospital_scope(True)
    assert model.visible() == []
    model.set_query("Schmidt")
    model.apply_search("Schmidt", [other])
    lines = model.lines(NOW, BERLIN, "de")
    assert [line.name for line in lines] == [other.name]
    assert lines[0].other_ward


def test_rooms_sort_naturally_and_header_click_reverses() -> None:
    base = rows(3)
    base[0].room, base[1].room, base[2].room = "10", "2", "9"
    model = CensusModel(base)
    assert [r.room for r in model.visible()] == ["2", "9", "10"]
    model.toggle_sort(SortKey.BED)
    assert [r.room for r in model.visible()] == ["10", "9", "2"]
    model.toggle_sort(SortKey.NAME)
    assert names(model) == sorted(names(model), key=fmt.fold)


def test_sort_by_code_status_puts_limitations_first() -> None:
    model = CensusModel(rows())
    model.toggle_sort(SortKey.CODE)
    kinds = [r.code_status for r in model.visible()]
    assert kinds[0] == CodeStatusKind.DNR
    assert kinds[-1] == CodeStatusKind.UNKNOWN


def test_arrow_keys_stay_inside_the_list() -> None:
    model = CensusModel(rows(3))
    model.move(-1)
    assert model.selected == 0
    model.move(5)
    assert model.selected == 2
    assert model.selected_id() == model.visible()[2].patient_id
    model.set_query("Muller")
    assert model.selected == 0
    assert model.selected_id() == "pat-station-3a-0"


def test_census_line_shows_what_a_nurse_scans_for() -> None:
    line = census_line(rows()[0], NOW, BERLIN, "de")
    assert line.room_bed == "101/A"
    assert line.allergy == "Penicillin" and line.allergy_severe
    assert line.code.restrictive and line.code.label == "DNR"
    assert line.age_sex.endswith("w")
    weber = census_line(rows()[3], NOW, BERLIN, "en")
    assert weber.isolation
    assert ("MRSA – Kontaktisolation", True) in weber.flags
    plain = census_line(rows()[2], NOW, BERLIN, "en")
    assert plain.allergy == "" and not plain.code.restrictive


# -- code status and banner ----------------------------------------------------------------------


def test_every_resuscitation_limit_is_an_alarm_and_full_code_is_not() -> None:
    for kind in (CodeStatusKind.DNR, CodeStatusKind.DNI, CodeStatusKind.DNR_DNI):
        assert code_status_view(kind, None, "de").restrictive
    assert not code_status_view(CodeStatusKind.FULL, "Volle Therapie", "de").restrictive
    unknown = code_status_view(CodeStatusKind.UNKNOWN, None, "en")
    assert unknown.unknown and "not documented" in unknown.label


def test_banner_warns_when_stale_and_always_says_read_only() -> None:
    fresh = banner_view(
        ward="3A", data_as_of=NOW - timedelta(minutes=10), now=NOW, user=None, tz=BERLIN, lang="de"
    )
    assert fresh.colour == "green" and not fresh.warning
    assert "Nur-Lese-Kopie" in fresh.read_only
    assert "30.11.2026 03:50" in fresh.as_of_text  # Berlin time of 02:50 UTC
    stale = banner_view(
        ward="3A", data_as_of=NOW - timedelta(hours=6), now=NOW, user=None, tz=BERLIN, lang="en"
    )
    assert stale.colour == "red" and stale.warning
    assert "STALE" in stale.as_of_text
    assert "read-only" in stale.read_only.lower()


def test_banner_marks_break_glass_users() -> None:
    user = UserView("break-glass:Eva Notfall", "Eva Notfall", "nurse", break_glass=True)
    view = banner_view(ward="3A", data_as_of=NOW, now=NOW, user=user, tz=BERLIN, lang="de")
    assert view.break_glass
    assert view.user_text == "NOTFALLZUGRIFF: Eva Notfall"


# -- chart -------------------------------------------------------------------------------------


def chart(record: PatientRecord, lang: str = "de") -> ChartModel:
    return ChartModel(record, now=NOW, tz=BERLIN, lang=lang)


def test_chart_header_has_two_identifiers_allergies_and_code_status() -> None:
    header = chart(make_record(0, NOW)).header()
    assert header.name == "Müller, Erika"
    assert header.birth == "01.01.1938" and header.age == "88 J."
    assert header.mrn == "40001000"
    assert "Zimmer 101 / Bett A" in header.location
    assert header.allergy_severe and "Penicillin (schwer)" in header.allergy_summary
    assert header.code.restrictive


def test_allergies_not_documented_differs_from_no_known_allergies() -> None:
    none_said = make_record(1, NOW).model_copy(
        update={"allergies": [], "no_known_allergies": False}
    )
    nka = none_said.model_copy(update={"no_known_allergies": True})
    assert chart(none_said, "en").header().allergy_summary == "Allergies not documented"
    assert chart(nka, "en").header().allergy_summary == "No known allergies"


def test_overdue_dose_is_marked_and_listed_first() -> None:
    record = make_record(0, NOW)
    # Metoprolol 08:00/20:00 Berlin; the 20:00 dose yesterday was not given (last at 13:00).
    record.administrations = [
        Administration(
            order_id="mr0-1", drug="Metoprolol", status="completed", when=NOW - timedelta(hours=14)
        )
    ]
    model = ChartModel(record, now=datetime(2026, 11, 29, 21, 30, tzinfo=UTC), tz=BERLIN, lang="de")
    meds = model.medications()
    assert meds[0].drug.startswith("Metoprolol")
    assert meds[0].due.overdue and "ÜBERFÄLLIG seit 20:00" in meds[0].due.text
    prn = [m for m in meds if m.prn]
    assert prn and prn[0].due.text == "bei Bedarf" and not prn[0].due.overdue


def test_administrations_older_than_72_hours_are_not_shown() -> None:
    record = make_record(0, NOW)
    record.administrations.append(
        Administration(drug="Alt", status="completed", when=NOW - timedelta(hours=80))
    )
    shown = [a.drug for a in chart(record).administrations()]
    assert "Alt" not in shown and len(shown) == 3


def test_vital_trend_is_oldest_first_and_latest_value_is_newest() -> None:
    vitals = chart(make_record(0, NOW)).vitals()
    heart = next(v for v in vitals if v.name == "Herzfrequenz")
    times = [t for t, _ in heart.series]
    assert times == sorted(times) and len(times) == 6
    assert heart.latest.value == "78 /min"
    temperature = next(v for v in vitals if v.name == "Körpertemperatur")
    assert temperature.latest.value == "37,2 °C"  # German decimal comma


def test_labs_grouped_with_flags_ranges_and_history() -> None:
    groups = {g.name: g for g in chart(make_record(0, NOW)).lab_groups()}
    assert set(groups) == {"Klinische Chemie", "Blutbild"}
    potassium = next(t for t in groups["Klinische Chemie"].tests if t.name == "Kalium")
    assert potassium.latest.flag == "H" and potassium.latest.abnormal
    assert potassium.latest.ref == "3,5–5,1"
    assert potassium.latest.value == "5,9 mmol/l"
    assert len(potassium.history) == 3


def test_summary_lists_only_recent_abnormal_labs() -> None:
    record = make_record(0, NOW)
    record.labs.append(
        Observation(
            code="2951-2",
            name="Natrium",
            value=120,
            unit="mmol/l",
            interpretation="LL",
            effective=NOW - timedelta(days=9),
        )
    )
    abnormal = {line.name for line in chart(record).abnormal_recent_labs()}
    assert "Natrium" not in abnormal
    assert {"Kalium", "CRP", "Hämoglobin"} <= abnormal


def test_empty_sections_count_zero() -> None:
    bare = PatientRecord(id="x", name="Leer, Test")
    model = chart(bare)
    for section in Section:
        if section is not Section.SUMMARY:
            assert model.section_count(section) == 0, section
    assert model.notes() == [] and model.contacts() == []
    assert model.header().code.unknown


# -- idle lock, login form ---------------------------------------------------------------------


def test_idle_lock_fires_once_after_timeout_and_input_postpones_it() -> None:
    lock = IdleLock(timedelta(minutes=5), NOW)
    assert not lock.should_lock(NOW + timedelta(minutes=4))
    lock.touch(NOW + timedelta(minutes=4))
    assert not lock.should_lock(NOW + timedelta(minutes=8))
    assert lock.should_lock(NOW + timedelta(minutes=9))
    assert lock.locked
    assert not lock.should_lock(NOW + timedelta(minutes=20))
    lock.touch(NOW + timedelta(minutes=21))  # input on the lock screen does not unlock
    assert lock.locked
    lock.unlock(NOW + timedelta(minutes=22))
    assert not lock.locked


def test_no_idle_lock_while_paused() -> None:
    lock = IdleLock(timedelta(minutes=1), NOW)
    lock.pause(True)
    assert not lock.should_lock(NOW + timedelta(hours=1))


def test_idle_time_can_only_be_shortened_by_the_environment() -> None:
    assert idle_timeout(5, {}) == timedelta(minutes=5)
    assert idle_timeout(5, {"WARDCOPY_IDLE_LOCK_SECONDS": "10"}) == timedelta(seconds=10)
    assert idle_timeout(5, {"WARDCOPY_IDLE_LOCK_SECONDS": "3600"}) == timedelta(minutes=5)
    assert idle_timeout(5, {"WARDCOPY_IDLE_LOCK_SECONDS": "soon"}) == timedelta(minutes=5)


def test_login_form_names_what_is_missing() -> None:
    form = LoginForm()
    assert form.validate("", "pw", "", "", "en") == "Enter your user id."
    assert form.validate("anna", "", "", "", "de") == "Bitte das Passwort eingeben."
    assert form.validate("anna", "pw", "", "", "en") is None
    form.break_glass = True
    assert form.validate("", "", "Eva Notfall", "kurz", "en") is not None
    assert form.validate("", "", "Eva Notfall", "Reanimation Zimmer 12", "en") is None


# -- launch --------------------------------------------------------------------------------------


def test_no_display_means_no_desktop_window_on_linux() -> None:
    reason = desktop_unavailable_reason({}, "Linux")
    assert reason is not None and "display" in reason


def test_desktop_client_found_via_flet_view_path(tmp_path: Path) -> None:
    (tmp_path / "flet").write_text("")
    env = {"DISPLAY": ":0", "FLET_VIEW_PATH": str(tmp_path), "HOME": str(tmp_path)}
    assert desktop_unavailable_reason(env, "Linux") is None


# -- formatting properties -------------------------------------------------------------------------


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzäöüß", min_size=1, max_size=12))
def test_a_name_always_matches_itself_with_umlauts_folded(name: str) -> None:
    assert fmt.matches(name, name.title())
    assert fmt.matches(fmt.fold(name), name)


@given(st.lists(st.integers(min_value=0, max_value=999), min_size=2, max_size=20))
def test_room_numbers_sort_numerically(numbers: list[int]) -> None:
    ordered = sorted((str(n) for n in numbers), key=fmt.natural_key)
    assert [int(x) for x in ordered] == sorted(numbers)


def test_age_is_whole_years_and_missing_birth_date_is_a_question_mark() -> None:
    assert fmt.age_text(date(1938, 12, 1), date(2026, 11, 30), "de") == "87 J."
    assert fmt.age_text(None, date(2026, 11, 30), "en") == "?"


def test_room_and_bed_lose_their_label_words_but_not_other_words() -> None:
    assert fmt.room_bed("Zimmer 301", "Bett 1") == "301/1"
    assert fmt.room_bed("101", "A") == "101/A"
    assert fmt.room_bed(None, None) == "–"
    assert fmt.short_place("Zi. 12") == "12"
    assert fmt.short_place("Bettenhaus 3") == "Bettenhaus 3"


def test_settings_form_validates_and_names_the_bad_field() -> None:
    form = {
        "language": "de",
        "time_zone": "Europe/Berlin",
        "idle_lock_minutes": "3",
        "default_printer": "",
        "break_glass": "off",
    }
    new, problem = settings_changes(Settings(), form)
    assert new is not None and problem == ""
    assert (new.language, new.idle_lock_minutes, new.break_glass_allowed) == ("de", 3, False)
    assert changed_keys(Settings(), new) == [
        "break_glass_allowed",
        "idle_lock_minutes",
        "language",
        "time_zone",
    ]
    bad, problem = settings_changes(Settings(), {**form, "idle_lock_minutes": "0"})
    assert bad is None and problem.startswith("idle_lock_minutes")
    bad, problem = settings_changes(Settings(), {**form, "time_zone": "Mars/Olympus"})
    assert bad is None and "time zone" in problem
    assert new.mar_hours == 24  # no mar_hours in the form: unchanged
    longer, problem = settings_changes(Settings(), {**form, "mar_hours": "72"})
    assert (
        longer is not None
        and longer.mar_hours == 72
        and "mar_hours" in changed_keys(Settings(), longer)
    )
    bad, problem = settings_changes(Settings(), {**form, "mar_hours": "48"})
    assert bad is None and problem.startswith("mar_hours")


def test_server_stops_only_after_the_last_window_closed() -> None:
    sessions = SessionCounter()
    assert sessions.idle_for() is None  # no window yet: keep waiting for the first
    sessions.opened()
    sessions.opened()
    sessions.closed()
    assert sessions.idle_for() is None  # one window still open
    sessions.closed()
    idle = sessions.idle_for()
    assert idle is not None and idle >= 0
    sessions.opened()  # a reload reconnects
    assert sessions.idle_for() is None


def test_missing_desktop_client_is_detected_before_any_download(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import flet_desktop

    bundled = Path(flet_desktop.get_package_bin_dir()) / flet_desktop.get_artifact_filename()
    if bundled.exists():
        pytest.skip("this flet-desktop build bundles its client: nothing to download")
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.flet/client cache here
    reason = desktop_unavailable_reason({"DISPLAY": ":0"}, "Linux")
    assert reason is not None and "desktop client" in reason


def test_allergy_box_state_and_localised_doses() -> None:
    record = make_record(0, NOW)
    assert chart(record).header().allergy_state == "severe"
    record.allergies, record.no_known_allergies = [], True
    assert chart(record).header().allergy_state == "none-known"
    record.no_known_allergies = False
    assert chart(record).header().allergy_state == "not-documented"
    record.medications[0].dosages[0].dose_text = None
    record.medications[0].dosages[0].dose_value = 47.5
    record.medications[0].dosages[0].dose_unit = "mg"
    doses = {m.drug: m.dose for m in chart(record, "de").medications()}
    assert doses["Metoprolol 47,5 mg Retardtablette"] == "47,5 mg"


# -- hospital-scale census (thousands of rows: folded once, memoised) -----------------------------

_SURNAMES = (
    "Müller",
    "Mueller",
    "Schmidt",
    "Weiß",
    "Öztürk",
    "Nguyen",
    "Łukasz",
    "Dubois",
    "Meier",
)
_FIRST = ("Erika", "Hans", "Zoë", "Jürgen", "Ana-Maria", "Karl")
_DIAGNOSES = ("Pneumonie", "Herzinsuffizienz", "Sepsis", None, "Femurfraktur")


def hospital_rows(n: int) -> list[CensusRow]:
    """n synthetic census rows spread over wards, rooms, names with umlauts and duplicates."""
    out = []
    for i in range(n):
        out.append(
            CensusRow(
                patient_id=f"p{i}",
                mrn=f"4{i:07d}",
                name=f"{_SURNAMES[i % 8]}, {_FIRST[i % 6]}",
                birth_date=date(1930 + i % 90, 1 + i % 12, 1 + i % 28),
                ward_id=f"w{i % 11}",
                room=str(100 + (i * 7) % 300),
                bed=str(1 + i % 3),
                admitted=NOW - timedelta(hours=i % 500),
                attending=f"Dr. {_SURNAMES[(i // 3) % 8]}",
                main_diagnosis=_DIAGNOSES[i % 5],
                code_status=list(CodeStatusKind)[i % len(CodeStatusKind)],
            )
        )
    return out


def reference_visible(model: CensusModel, hits: list[CensusRow]) -> list[CensusRow]:
    """The census rule written plainly: every row matching the query (fmt.matches over the
    documented columns) or hit by the search, then the unknown hits; stable sort."""
    query = model.query.strip()
    hit_ids = {h.patient_id for h in hits}

    def match(r: CensusRow) -> bool:
        birth = fmt.date_text(r.birth_date, "de") if r.birth_date else None
        return fmt.matches(
            query,
            r.name,
            r.mrn,
            r.room,
            r.bed,
            f"{r.room or ''}/{r.bed or ''}",
            r.attending,
            r.main_diagnosis,
            birth,
            # the snapshot search's birth-date tokens (docs/viewer.md)
            " ".join(searchtext.date_tokens(r.birth_date)),
        )

    chosen = [r for r in model.rows if not query or r.patient_id in hit_ids or match(r)]
    seen = {r.patient_id for r in chosen}
    if query:
        chosen += [h for h in hits if h.patient_id not in seen]
    names_key = {
        SortKey.BED: lambda r: (fmt.natural_key(r.room), fmt.natural_key(r.bed), fmt.fold(r.name)),
        SortKey.NAME: lambda r: (
            fmt.fold(r.name),
            fmt.natural_key(r.room),
            fmt.natural_key(r.bed),
            fmt.fold(r.name),
        ),
    }[model.sort]
    return sorted(chosen, key=names_key, reverse=model.descending)


def test_hospital_census_filters_sorts_and_selects_like_the_plain_rule() -> None:
    census = hospital_rows(9000)
    model = CensusModel(census, ward_id="w0")
    assert [r.patient_id for r in model.visible()] == [
        r.patient_id for r in reference_visible(model, [])
    ]
    for typed in ("müller er", "Weiss 1", "Dr. Ozt"):
        model.set_query(typed)
        got = model.visible()
        assert got, typed
        assert [r.patient_id for r in got] == [
            r.patient_id for r in reference_visible(model, [])
        ], typed
    # Umlaut forms: "Muel" finds Müller and Mueller (name or attending), "müller" not Mueller.
    model.set_query("Muel")
    assert all(
        "M\u00fcller" in r.name + str(r.attending) or "Mueller" in r.name + str(r.attending)
        for r in model.visible()
    )
    model.set_query("müller")
    assert all("Müller" in r.name + str(r.attending) for r in model.visible())
    assert "Müller, Erika" in {r.name for r in model.visible()}
    model.set_query("Muel")
    # Search hits for the current query are merged (also ones the local filter cannot know),
    # and re-sorted when the column changes.
    stranger = CensusRow(patient_id="x1", name="Zander, Otto", room="1", bed="1")
    hits = [census[2], stranger]  # Schmidt (not matching "Muel") and a patient of no ward row
    assert model.apply_search("Muel", hits)
    shown = model.visible()
    assert [r.patient_id for r in shown] == [r.patient_id for r in reference_visible(model, hits)]
    assert shown[0].patient_id == "x1"  # room 1 sorts first
    assert "p2" in {r.patient_id for r in shown}
    model.toggle_sort(SortKey.NAME)
    model.toggle_sort(SortKey.NAME)  # descending
    by_name = model.visible()
    assert [r.patient_id for r in by_name] == [r.patient_id for r in reference_visible(model, hits)]
    assert by_name[0].name.startswith("Zander")
    # Keyboard highlight moves within the list and Enter opens what is highlighted.
    model.move(3)
    assert model.selected_id() == by_name[3].patient_id
    model.move(100_000)
    assert model.selected_id() == by_name[-1].patient_id
    # The caller may change the returned list without changing the census.
    by_name.clear()
    assert model.visible_count() == len(model.visible()) > 0
    # New rows replace the old ones everywhere (filter, order, highlight).
    model.set_rows(census[:10])
    assert all(
        r.patient_id in {f"p{i}" for i in range(10)} or r.patient_id == "x1"
        for r in model.visible()
    )
    assert model.has_patient("p3") and not model.has_patient("p4000")
    model.set_query("")
    model.toggle_sort(SortKey.BED)
    assert [r.patient_id for r in model.visible()] == [
        r.patient_id for r in reference_visible(model, [])
    ]


def test_hospital_census_lines_only_for_the_rows_shown() -> None:
    model = CensusModel(hospital_rows(9000), ward_id="w0")
    model.set_query("Schmidt")
    first = model.lines(NOW, BERLIN, "de", limit=400)
    assert len(first) == 400 < model.visible_count() == len(reference_visible(model, []))
    assert [line.patient_id for line in first] == [r.patient_id for r in model.visible()[:400]]
    assert first[0] == census_line(model.visible()[0], NOW, BERLIN, "de", "w0")
    # Another language or a new day gives new lines, never yesterday's age or hospital day.
    english = model.lines(NOW, BERLIN, "en", limit=3)
    assert english[0] == census_line(model.visible()[0], NOW, BERLIN, "en", "w0")
    tomorrow = model.lines(NOW + timedelta(days=1), BERLIN, "de", limit=3)
    assert tomorrow[0] == census_line(
        model.visible()[0], NOW + timedelta(days=1), BERLIN, "de", "w0"
    )
    assert tomorrow[0].admitted_day != first[0].admitted_day


@given(
    st.text(alphabet="aäbMmüÜsß 1/-.\0", max_size=8),
    st.lists(st.text(alphabet="aäbMmüÜsß 1/-.\0", max_size=10), min_size=1, max_size=4),
)
def test_census_filter_agrees_with_fmt_matches(query: str, names_: list[str]) -> None:
    census = [
        CensusRow(patient_id=f"p{i}", name=n, room=n[:2] or None, attending=n[::-1] or None)
        for i, n in enumerate(names_)
    ]
    model = CensusModel(census)
    model.set_query(query)
    expected = {
        r.patient_id
        for r in census
        if not query.strip() or fmt.matches(query, r.name, r.room, f"{r.room or ''}/", r.attending)
    }
    assert {r.patient_id for r in model.visible()} == expected


# -- the census list window (app.ui.viewmodels.census.list_window) ------------------------------


def test_a_ward_is_listed_whole_and_a_hospital_census_as_a_window_with_the_rest_counted() -> None:
    from app.ui.viewmodels.census import list_window

    ward = list_window(32, limit=50, selected=0, first_rows=24)
    assert (ward.listed, ward.drawn, ward.more) == (32, 24, 0)
    hospital = list_window(8801, limit=50, selected=0, first_rows=24)
    assert (hospital.listed, hospital.drawn, hospital.more) == (50, 24, 8751)
    assert list_window(0, limit=50, selected=0, first_rows=24).listed == 0


def test_the_window_follows_the_keyboard_highlight_past_its_end() -> None:
    from app.ui.viewmodels.census import list_window

    deep = list_window(8801, limit=50, selected=70, first_rows=24)
    assert deep.listed > 70 and deep.drawn > 70  # the highlighted row is drawn at once
    assert deep.more == 8801 - deep.listed
    last = list_window(100, limit=50, selected=99, first_rows=24)
    assert (last.listed, last.more) == (100, 0)


@given(
    st.lists(st.text(alphabet="aäbMmüÜsß 10/-.", max_size=6), min_size=1, max_size=6),
    st.lists(st.text(alphabet="aäbMmüÜsß 1/-.", max_size=10), min_size=1, max_size=6),
)
def test_typing_on_narrows_like_a_fresh_filter(typed: list[str], names_: list[str]) -> None:
    """Each key filters the last result when it narrows the query: what is listed after any
    sequence of typed, extended, shortened and replaced queries is what a fresh filter lists."""
    census = [
        CensusRow(patient_id=f"p{i}", name=n, room=n[:2] or None, attending=n[::-1] or None)
        for i, n in enumerate(names_)
    ]
    model = CensusModel(census)
    for query in typed:
        for end in range(1, len(query) + 1):  # letter by letter, as typed
            model.set_query(query[:end])
            fresh = CensusModel(census)
            fresh.set_query(query[:end])
            assert [r.patient_id for r in model.visible()] == [
                r.patient_id for r in fresh.visible()
            ], query[:end]

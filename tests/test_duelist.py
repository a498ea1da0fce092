"""Medications due on a ward (app.duelist): the census column and the ward-wide due list."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from app.duelist import DueState, PatientDue, patient_due, ward_due
from sync.model import Administration, Dosage, MedicationOrder, PatientRecord, Stay, Timing

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 6, 10, 10, 0, tzinfo=BERLIN)


def med(
    oid: str, times: list[str], *, prn: bool = False, status: str = "active"
) -> MedicationOrder:
    return MedicationOrder(
        id=oid,
        drug=f"Drug {oid}",
        status=status,
        dosages=[
            Dosage(
                dose_text="5 mg",
                route="p.o.",
                timing=Timing(times_of_day=times),
                as_needed=prn,
            )
        ],
    )


def patient(
    pid: str,
    room: str,
    meds: list[MedicationOrder],
    adms: list[Administration] | None = None,
    *,
    discharged: datetime | None = None,
) -> PatientRecord:
    return PatientRecord(
        id=pid,
        name=f"Patient {pid}",
        stay=Stay(status="in-progress", room=room, bed="1", discharged=discharged),
        medications=meds,
        administrations=adms or [],
    )


def given(oid: str, when: datetime) -> Administration:
    return Administration(order_id=oid, drug=f"Drug {oid}", status="completed", when=when)


def test_undocumented_dose_before_data_as_of_is_overdue() -> None:
    rec = patient("a", "3", [med("m1", ["08:00", "20:00"])])
    due = patient_due(rec, NOW, NOW, BERLIN)
    assert due.state is DueState.OVERDUE
    assert [t.strftime("%H:%M") for t in due.overdue] == ["08:00"]


def test_documented_dose_is_not_overdue_and_next_hour_is_due_soon() -> None:
    rec = patient(
        "a",
        "3",
        [med("m1", ["08:00", "10:45"])],
        [given("m1", NOW.replace(hour=8, minute=10))],
    )
    due = patient_due(rec, NOW, NOW, BERLIN)
    assert due.state is DueState.SOON
    assert [t.strftime("%H:%M") for t in due.soon] == ["10:45"]
    later = patient("b", "3", [med("m1", ["14:00"])])
    assert patient_due(later, NOW, NOW, BERLIN).state is DueState.NONE


def test_stale_snapshot_does_not_call_doses_after_data_as_of_overdue() -> None:
    # Data from 07:30: the 08:00 dose may well have been given since; it is due, not overdue.
    rec = patient("a", "3", [med("m1", ["08:00", "20:00"])])
    as_of = NOW.replace(hour=7, minute=30)
    due = patient_due(rec, NOW, as_of, BERLIN)
    assert not due.overdue
    doses = ward_due([rec], NOW, 4, as_of, BERLIN)
    assert [(d.when.strftime("%H:%M"), d.overdue) for d in doses] == [("08:00", False)]


def test_prn_on_hold_and_discharged_are_never_due() -> None:
    recs = [
        patient("a", "1", [med("m1", ["08:00"], prn=True)]),
        patient("b", "2", [med("m2", ["08:00"], status="on-hold")]),
        patient("c", "3", [med("m3", ["08:00"])], discharged=NOW - timedelta(hours=5)),
    ]
    assert ward_due(recs, NOW, 12, NOW, BERLIN) == []
    assert all(patient_due(r, NOW, NOW, BERLIN).state is DueState.NONE for r in recs)


def test_ward_list_overdue_first_then_time_then_room_and_window_bounded() -> None:
    recs = [
        patient("a", "10", [med("m1", ["11:00", "13:00", "16:00"])]),
        patient("b", "2", [med("m2", ["11:00", "07:00"])]),
        patient("c", "1", [med("m3", ["09:00"])]),
    ]
    doses = ward_due(recs, NOW, 4, NOW, BERLIN)
    got = [(d.when.strftime("%H:%M"), d.room, d.overdue) for d in doses]
    assert got == [
        ("07:00", "2", True),
        ("09:00", "1", False),  # within 60 min of now: due now, not yet overdue
        ("11:00", "2", False),
        ("11:00", "10", False),
        ("13:00", "10", False),
    ]
    # 16:00 lies beyond 4 h and appears with 8 h.
    assert len(ward_due(recs, NOW, 8, NOW, BERLIN)) == 6


# --------------------------------------------------------------------------- census column


def test_census_column_words_and_sorting_by_due() -> None:
    from app.ui.viewmodels.census import CensusModel, SortKey
    from sync.model import CensusRow

    recs = [
        patient("a", "1", [med("m1", ["14:00"])]),  # nothing within the hour
        patient("b", "2", [med("m2", ["10:30"])]),  # due soon
        patient("c", "3", [med("m3", ["07:00"])]),  # overdue
        patient("d", "4", []),  # no medication at all
    ]
    rows = [
        CensusRow(patient_id=r.id, name=r.name, room=r.stay.room, bed="1") for r in recs if r.stay
    ]
    model = CensusModel(rows, ward_id="w")
    model.set_dues({r.id: patient_due(r, NOW, NOW, BERLIN) for r in recs})
    de = {line.patient_id: (line.due, line.due_state) for line in model.lines(NOW, BERLIN, "de")}
    assert de == {
        "a": ("–", "none"),
        "b": ("fällig 10:30", "soon"),
        "c": ("überfällig 07:00", "overdue"),
        "d": ("–", "none"),
    }
    en = {line.patient_id: line.due for line in model.lines(NOW, BERLIN, "en")}
    assert en["c"] == "overdue 07:00" and en["b"] == "due 10:30"
    # Sortable like the other columns: overdue first, then due soon, then by bed; reversible.
    model.toggle_sort(SortKey.DUE)
    assert [r.patient_id for r in model.visible()] == ["c", "b", "a", "d"]
    model.toggle_sort(SortKey.DUE)
    assert [r.patient_id for r in model.visible()] == ["d", "a", "b", "c"]
    # New due states (time passed, records reloaded) re-sort and re-word the rows.
    model.toggle_sort(SortKey.DUE)
    model.set_dues({"a": patient_due(recs[0], NOW.replace(hour=15, minute=30), NOW, BERLIN)})
    assert model.visible()[0].patient_id == "a"


def test_census_column_before_dues_are_loaded_is_empty_not_a_dash() -> None:
    from app.ui.viewmodels.census import CensusModel
    from sync.model import CensusRow

    model = CensusModel([CensusRow(patient_id="a", name="A", room="1", bed="1")])
    (line,) = model.lines(NOW, BERLIN, "de")
    assert (line.due, line.due_state) == ("", "none")


# --------------------------------------------------------------------------- due screen


def test_due_screen_model_rows_words_keys_and_highlight() -> None:
    from app.ui.viewmodels.due import DueListModel

    recs = [
        patient("a", "10", [med("m1", ["11:00"])]),
        patient("b", "2", [med("m2", ["07:00", "12:00"])]),
    ]
    model = DueListModel(ward_due(recs, NOW, 4, NOW, BERLIN), hours=4)
    lines = model.lines(NOW, BERLIN, "de")
    assert [(x.time, x.mark, x.room_bed, x.patient, x.dose, x.route) for x in lines] == [
        ("07:00", "⚠ ÜBERFÄLLIG", "2/1", "Patient b", "5 mg", "p.o."),
        ("11:00", "", "10/1", "Patient a", "5 mg", "p.o."),
        ("12:00", "", "2/1", "Patient b", "5 mg", "p.o."),
    ]
    assert model.title("de") == "Fällige Medikamente (nächste 4 h)"
    assert model.summary("en") == "3 doses, 1 of them overdue"
    assert model.columns("en")[:3] == ("Time", "Rm/bed", "Patient")
    assert model.selected_patient() == "b"
    model.move(1)
    assert model.selected_patient() == "a"
    model.move(10)
    assert model.selected_patient() == "b" and model.selected == 2
    assert [model.hour_for_key(k) for k in ("2", "4", "8", "1", "x")] == [2, 4, 8, 12, None]
    model.set_doses([], 12)
    assert model.selected_patient() is None
    assert model.summary("de") == "Keine geplanten Gaben in den nächsten 12 h."


def test_census_due_cell_on_another_day_names_the_day_without_the_year() -> None:
    """A stale snapshot's or a past-midnight dose must fit the narrow census cell at 1024 px:
    "30.11. 08:00", never "30 Nov 2026 08:00" cut to "due 30 Nov 202…"."""
    from app.present.due import due_cell

    berlin = ZoneInfo("Europe/Berlin")
    dose = datetime(2026, 11, 30, 7, 0, tzinfo=ZoneInfo("UTC"))  # 08:00 in Berlin
    due = PatientDue(overdue=(dose,))
    other_day = due_cell(due, "de", berlin, datetime(2026, 12, 2).date())
    assert other_day.text.endswith("30.11. 08:00")
    assert "2026" not in other_day.text
    assert "2026" not in due_cell(due, "en", berlin, datetime(2026, 12, 2).date()).text
    assert "30 Nov 08:00" in due_cell(due, "en", berlin, datetime(2026, 12, 2).date()).text
    same_day = due_cell(PatientDue(soon=(dose,)), "de", berlin, datetime(2026, 11, 30).date())
    assert same_day.text.endswith("08:00") and "30.11." not in same_day.text

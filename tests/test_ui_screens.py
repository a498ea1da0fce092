"""View-models of the screen split (app.ui.viewmodels): layout per window size, who sees patient
data, the admin's status screen, the login form keeping what was typed. No Flet client."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.settings import Settings
from app.ui import state
from app.ui.viewmodels.banner import UserView, banner_view
from app.ui.viewmodels.layout import (
    COMPACT_COLUMNS,
    WIDE_COLUMNS,
    census_columns,
    census_free_width,
    layout_for,
)
from app.ui.viewmodels.login import LoginForm
from app.ui.viewmodels.settings import is_default_document, print_documents
from app.ui.viewmodels.status import sees_patients, status_view

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
UI = Path(__file__).resolve().parents[1] / "app" / "ui"


# -- layout per window size ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("width", "compact"), [(1024, True), (1279, True), (1366, False), (1920, False)]
)
def test_ward_laptop_widths_choose_the_compact_or_the_full_layout(
    width: int, compact: bool
) -> None:
    assert layout_for(width).compact is compact


def test_an_unknown_width_uses_the_common_ward_laptop_width() -> None:
    assert layout_for(None).width == 1366
    assert layout_for(0).compact is False


@pytest.mark.parametrize(("height", "rows"), [(700, 10), (768, 12), (1080, 17), (2000, 34)])
def test_a_long_census_draws_a_screenful_of_the_window_and_can_always_be_scrolled(
    height: int, rows: int
) -> None:
    # After a key a hospital-wide list draws what the window shows, not a fixed 24 rows (each
    # drawn row is built, sent and laid out per key); more rows than fit, so that scrolling
    # (which draws the next ones) is always possible: with the "N more" row they are taller
    # than the list's room even under a chrome of 100 px (the real one is over 200).
    screenful = layout_for(1366, height).screenful(56)
    assert screenful == rows
    assert (screenful + 1) * 56 > height - 100
    assert layout_for(1366).screenful(56) == 24  # height not reported yet: a tall screenful


@pytest.mark.parametrize("width", [1024, 1366, 1920])
def test_census_leaves_room_for_free_text_at_every_window_size(width: int) -> None:
    # Diagnosis, allergies and flags share what the fixed columns (with the due column) leave:
    # at 1024 px that must still be enough for three columns of about 100 px.
    assert census_free_width(width) >= 300


def test_compact_census_keeps_every_fact_and_puts_the_attending_under_the_diagnosis() -> None:
    wide = {c.id for c in WIDE_COLUMNS}
    compact = {c.id for c in COMPACT_COLUMNS}
    assert wide - compact == {"attending"}
    assert census_columns(True) is COMPACT_COLUMNS
    # Identity and warnings keep a fixed width (never squeezed into "…").
    for columns in (WIDE_COLUMNS, COMPACT_COLUMNS):
        fixed = {c.id for c in columns if c.width is not None}
        assert {"bed", "name", "age", "admitted", "code", "due"} <= fixed


def test_compact_banner_says_read_only_in_the_session_language() -> None:
    for lang, words in (("en", "Read-only copy"), ("de", "Nur-Lese-Kopie")):
        view = banner_view(ward="3A", data_as_of=NOW, now=NOW, user=None, tz=UTC, lang=lang)
        assert view.read_only_short == words
        assert words in view.read_only  # the long form keeps both languages


# -- who sees patient data ----------------------------------------------------------------------


def user(role: str | None, *, break_glass: bool = False) -> UserView:
    return UserView("u1", "Someone", role=role, break_glass=break_glass)


def test_clinical_roles_and_break_glass_see_patients_the_it_admin_does_not() -> None:
    assert sees_patients(user("nurse"))
    assert sees_patients(user("physician"))
    assert sees_patients(user("nurse", break_glass=True))
    assert not sees_patients(user("admin"))
    assert not sees_patients(None)


def test_an_admin_who_also_has_a_clinical_role_sees_patients() -> None:
    assert sees_patients(user("admin,physician"))
    assert sees_patients(user("Admin + Nurse"))


def test_admin_status_screen_shows_the_laptop_not_patients() -> None:
    banner = banner_view(
        ward="Station 3A",
        data_as_of=NOW - timedelta(minutes=12),
        now=NOW,
        user=user("admin"),
        tz=UTC,
        lang="en",
    )
    view = status_view(
        banner=banner,
        wards=["Station 3A", "ICU"],
        settings=Settings(idle_lock_minutes=5),
        zone_name="Europe/Berlin",
        notices=["settings.json: bad value"],
        lang="en",
    )
    text = {line.label: line.value for line in view.lines}
    assert text["Ward"] == "Station 3A"
    assert "12 min" in text["Data as of"]
    assert text["Installed wards"] == "Station 3A, ICU"
    assert text["Time zone"] == "Europe/Berlin"
    assert text["Lock after"] == "5 min without input"
    assert text["Printer"] == "system default"
    assert text["MAR period"] == "24 h (default when printing)"
    assert any(line.warning and "bad value" in line.value for line in view.lines)
    assert "no patient data" in view.intro
    configured = status_view(
        banner=banner,
        wards=[],
        settings=Settings(mar_hours=72),
        zone_name="UTC",
        notices=[],
        lang="de",
    )
    lines = {line.label: line.value for line in configured.lines}
    assert lines["Medikationsplan-Zeitraum"] == "72 h (Standard beim Drucken)"


def test_print_dialog_offers_the_configured_mar_period_first() -> None:
    assert print_documents(patient=True, mar_hours=24) == ["summary", "mar24", "mar72"]
    assert print_documents(patient=True, mar_hours=72) == ["summary", "mar72", "mar24"]
    assert print_documents(patient=False, mar_hours=72) == ["census"]
    assert is_default_document("mar72", 72) and not is_default_document("mar24", 72)


# -- login form ---------------------------------------------------------------------------------


def test_login_form_keeps_user_id_name_and_reason_after_an_error_but_never_the_password() -> None:
    form = LoginForm(break_glass=True)
    form.remember("pflege", "Anna Berg", "ok")
    problem = form.validate("pflege", "secret", "Anna Berg", "ok", "en")
    assert problem is not None  # the reason is too short
    assert (form.user_id, form.name, form.reason) == ("pflege", "Anna Berg", "ok")
    assert "secret" not in repr(form)


# -- the split itself ---------------------------------------------------------------------------


def test_view_models_stay_free_of_flet() -> None:
    for path in sorted((UI / "viewmodels").glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            assert not any(n == "flet" or n.startswith("flet.") for n in names), path.name


def test_each_screen_is_its_own_small_module_and_the_old_names_still_import() -> None:
    screens = {p.stem for p in (UI / "screens").glob("*.py")}
    assert {"login", "lock", "census", "chart", "print_dialog", "settings", "status"} <= screens
    for path in [*(UI / "screens").glob("*.py"), UI / "shell.py"]:
        assert len(path.read_text().splitlines()) < 500, path.name
    assert state.CensusModel and state.ChartModel and state.LoginForm and state.banner_view

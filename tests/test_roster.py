"""The staff roster: admin edits on the sync server, signing, and verification on the laptop."""

from __future__ import annotations

import stat
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.keys import ARGON2_TEST, generate_signing_key, verify_password
from sync.package import seal_document
from sync.roster import (
    Role,
    Roster,
    RosterError,
    add_user,
    disable_user,
    import_csv,
    install_roster,
    installed_roster_path,
    list_users,
    load_installed_roster,
    load_roster_source,
    new_roster,
    open_roster,
    remove_user,
    save_roster_source,
    seal_roster,
    set_break_glass,
    set_password,
    update_user,
)

T0 = datetime(2026, 3, 7, 14, 0, tzinfo=UTC)
PASSWORD = "correct horse 1"


def _roster() -> Roster:
    roster = new_roster("Klinikum Test", now=T0)
    roster = add_user(
        roster, "anna.k", "Anna K.", "nurse", ["station-3a"], PASSWORD, now=T0, cost=ARGON2_TEST
    )
    return add_user(
        roster, "dr.b", "Dr. B.", Role.PHYSICIAN, ["*"], "another pw 2", now=T0, cost=ARGON2_TEST
    )


# --- edits ---------------------------------------------------------------------------------


def test_add_user_stores_only_a_verifier() -> None:
    roster = _roster()
    user = roster.find("ANNA.K ")  # case-insensitive, spaces ignored
    assert user is not None and user.user_id == "anna.k"
    assert verify_password(PASSWORD, user.verifier)
    assert not verify_password("wrong password", user.verifier)
    assert PASSWORD.encode() not in roster.to_json()
    assert user.may_open("station-3a") and user.may_open("STATION-3A")
    assert not user.may_open("station-4b")
    assert roster.find("dr.b") is not None and roster.find("dr.b").may_open("any-ward")  # type: ignore[union-attr]


def test_each_edit_raises_the_sequence() -> None:
    roster = new_roster("H", now=T0)
    seqs = [roster.sequence]
    roster = add_user(roster, "u1", "U 1", "nurse", ["w1"], PASSWORD, now=T0, cost=ARGON2_TEST)
    seqs.append(roster.sequence)
    roster = set_password(roster, "u1", "new password", now=T0, cost=ARGON2_TEST)
    seqs.append(roster.sequence)
    roster = disable_user(roster, "u1", now=T0)
    seqs.append(roster.sequence)
    roster = remove_user(roster, "u1", now=T0)
    seqs.append(roster.sequence)
    assert seqs == sorted(set(seqs))
    # At least the Unix time, so a roster source re-created from scratch still outranks old ones.
    assert seqs[1] >= int(T0.timestamp())


def test_duplicate_user_and_unknown_user_are_refused() -> None:
    roster = _roster()
    with pytest.raises(RosterError, match="already exists"):
        add_user(roster, "Anna.K", "x", "nurse", ["w"], PASSWORD, cost=ARGON2_TEST)
    with pytest.raises(RosterError, match="no user 'ghost'"):
        set_password(roster, "ghost", PASSWORD, cost=ARGON2_TEST)
    with pytest.raises(RosterError, match="no user"):
        remove_user(roster, "ghost")


@pytest.mark.parametrize(
    ("user_id", "role", "wards", "password", "message"),
    [
        ("ok.user", "surgeon", ["w"], PASSWORD, "role 'surgeon'"),
        ("bad user", "nurse", ["w"], PASSWORD, "user id"),
        ("ok.user", "nurse", [], PASSWORD, "at least one ward"),
        ("ok.user", "nurse", ["../etc"], PASSWORD, "ward id"),
        ("ok.user", "nurse", ["w"], "short", "too short"),
    ],
)
def test_invalid_user_fields(
    user_id: str, role: str, wards: list[str], password: str, message: str
) -> None:
    with pytest.raises(RosterError, match=message) as info:
        add_user(new_roster(), user_id, "Name", role, wards, password, cost=ARGON2_TEST)
    assert password not in str(info.value) or password == "short"


def test_disable_update_and_list() -> None:
    roster = disable_user(_roster(), "anna.k")
    roster = update_user(roster, "dr.b", role="admin", wards=["station-3a", "station-4b"])
    rows = list_users(roster)
    assert rows == [
        {
            "user_id": "anna.k",
            "display_name": "Anna K.",
            "role": "nurse",
            "wards": "station-3a",
            "status": "disabled",
        },
        {
            "user_id": "dr.b",
            "display_name": "Dr. B.",
            "role": "admin",
            "wards": "station-3a;station-4b",
            "status": "active",
        },
    ]
    assert "verifier" not in str(rows)
    assert not disable_user(roster, "anna.k", False).find("anna.k").disabled  # type: ignore[union-attr]


def test_break_glass_policy_never_grants_admin() -> None:
    roster = set_break_glass(_roster(), True, ["physician"])
    assert roster.break_glass.allowed
    assert roster.break_glass.roles == (Role.PHYSICIAN,)
    with pytest.raises(RosterError, match="admin"):
        set_break_glass(roster, True, ["admin"])


# --- source file ---------------------------------------------------------------------------


def test_source_round_trip_is_private(tmp_path: Path) -> None:
    assert load_roster_source(tmp_path, hospital="H").users == ()
    roster = _roster()
    path = save_roster_source(tmp_path, roster)
    if sys.platform != "win32":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_roster_source(tmp_path) == roster
    assert PASSWORD not in path.read_text()


def test_corrupt_source_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "roster.json").write_text('{"version": 1, "users": "nope"}')
    with pytest.raises(RosterError, match=r"roster\.json"):
        load_roster_source(tmp_path)


# --- CSV import ----------------------------------------------------------------------------


def _csv(tmp_path: Path, text: str, name: str = "staff.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_import_adds_updates_and_reports_each_bad_line(tmp_path: Path) -> None:
    secret = "Sup3rSecret!"
    path = _csv(
        tmp_path,
        "user_id,display_name,role,wards,initial_password\n"
        f"c.m,Chris M.,nurse,station-3a;station-4b,{secret}\n"
        "anna.k,Anna Kowalska,nurse,station-3a,\n"  # existing user: update, keep password
        f"x.y,X Y,surgeon,station-3a,{secret}\n"  # bad role
        "new.user,New User,nurse,station-3a,\n"  # new user without password
        f"c.m,Chris again,nurse,station-3a,{secret}\n"  # duplicate in file
        "short.pw,Short,nurse,station-3a,abc\n"  # weak password
        "\n",
    )
    result = import_csv(_roster(), path, cost=ARGON2_TEST)
    assert result.added == ["c.m"]
    assert result.updated == ["anna.k"]
    assert [e.split(":")[0] for e in result.errors] == ["line 4", "line 5", "line 6", "line 7"]
    assert all(secret not in e and "abc" not in e for e in result.errors)
    chris = result.roster.find("c.m")
    assert chris is not None and chris.wards == ("station-3a", "station-4b")
    assert verify_password(secret, chris.verifier)
    anna = result.roster.find("anna.k")
    assert anna is not None and anna.display_name == "Anna Kowalska"
    assert verify_password(PASSWORD, anna.verifier)  # empty cell kept the old password


def test_import_semicolon_file_with_bom_from_a_spreadsheet(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(
        "\ufeffUser_ID;Display_Name;Role;Wards;Password;Disabled\r\n"
        'jörg.ü;Jörg Ü.;Physician;"station-3a;station-4b";pässwört-1;nein\r\n'
        "old.staff;Old Staff;nurse;*;whatever-9;ja\r\n"
        'b.c;Bea C.;Physician;"station-3a;station-4b";pw-longer-1;no\r\n'.encode()
    )
    result = import_csv(new_roster(), path, cost=ARGON2_TEST)
    # Non-ASCII user ids are refused (login names are typed on any keyboard); the rest imports.
    assert len(result.errors) == 1 and result.errors[0].startswith("line 2: user")
    assert "pässwört" not in result.errors[0]
    assert result.added == ["old.staff", "b.c"]
    bea = result.roster.find("b.c")
    assert bea is not None and bea.role == Role.PHYSICIAN and not bea.disabled
    assert bea.wards == ("station-3a", "station-4b")
    old = result.roster.find("old.staff")
    assert old is not None and old.disabled and old.wards == ("*",)


def test_import_rejects_file_without_required_columns(tmp_path: Path) -> None:
    with pytest.raises(RosterError, match="missing column"):
        import_csv(new_roster(), _csv(tmp_path, "name,password\nx,y\n"), cost=ARGON2_TEST)
    with pytest.raises(RosterError, match="cannot read"):
        import_csv(new_roster(), tmp_path / "absent.csv", cost=ARGON2_TEST)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(
            st.text(alphabet="abcxyz.-_19", min_size=1, max_size=10),
            st.text(st.characters(exclude_characters="§", exclude_categories=["Cs"]), max_size=15),
            st.sampled_from(["nurse", "physician", "admin", "janitor", ""]),
            st.text(alphabet="abw-1;*", max_size=12),
            # Every password carries a mark no other cell has, so any echo is detectable.
            st.text(st.characters(exclude_categories=["Cs"]), max_size=12).map(lambda pw: "§" + pw),
        ),
        max_size=6,
    )
)
def test_import_never_crashes_and_never_echoes_passwords(
    tmp_path: Path, rows: list[tuple[str, str, str, str, str]]
) -> None:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["user_id", "display_name", "role", "wards", "password"])
    writer.writerows(rows)
    path = _csv(tmp_path, buffer.getvalue(), "fuzz.csv")
    result = import_csv(new_roster(), path, cost=ARGON2_TEST)
    for error in result.errors:
        assert error.startswith("line ")
        assert "§" not in error
    assert len(result.added) + len(result.updated) <= len(rows)


# --- signing -------------------------------------------------------------------------------


def test_sealed_roster_round_trip() -> None:
    key = generate_signing_key()
    roster = set_break_glass(_roster(), True)
    data = seal_roster(roster, key)
    assert open_roster(data, key.public_key()) == roster


def test_tampered_or_foreign_roster_is_refused() -> None:
    key = generate_signing_key()
    data = seal_roster(_roster(), key)
    # Flip break-glass on in the body: the hash no longer matches the signed header.
    body_at = data.index(b'"break_glass"')
    tampered = data[:body_at] + data[body_at:].replace(b'"allowed":false', b'"allowed":true ')
    assert tampered != data
    with pytest.raises(RosterError, match="roster refused"):
        open_roster(tampered, key.public_key())
    with pytest.raises(RosterError, match="roster refused"):
        open_roster(data, generate_signing_key().public_key())
    with pytest.raises(RosterError, match="roster refused"):
        open_roster(data[:-1], key.public_key())


def test_unissued_roster_cannot_be_sealed() -> None:
    with pytest.raises(RosterError, match="add users first"):
        seal_roster(new_roster(), generate_signing_key())


def test_laptop_installs_newer_and_refuses_older(tmp_path: Path) -> None:
    key = generate_signing_key()
    pub = key.public_key()
    roster_dir = tmp_path / "roster"
    assert load_installed_roster(roster_dir, pub) is None
    old = _roster()
    new = disable_user(old, "anna.k", now=T0 + timedelta(hours=1))
    current, installed = install_roster(roster_dir, seal_roster(new, key), pub)
    assert installed and current == new
    assert install_roster(roster_dir, seal_roster(new, key), pub) == (new, False)
    with pytest.raises(RosterError, match="rollback"):
        install_roster(roster_dir, seal_roster(old, key), pub)
    assert load_installed_roster(roster_dir, pub) == new
    if sys.platform != "win32":
        assert stat.S_IMODE(installed_roster_path(roster_dir).stat().st_mode) == 0o600


def test_installed_roster_edited_on_disk_is_refused(tmp_path: Path) -> None:
    key = generate_signing_key()
    install_roster(tmp_path, seal_roster(_roster(), key), key.public_key())
    path = installed_roster_path(tmp_path)
    path.write_bytes(path.read_bytes().replace(b'"role":"nurse"', b'"role":"admin"'))
    with pytest.raises(RosterError, match="installed roster"):
        load_installed_roster(tmp_path, key.public_key())


def test_newer_optional_fields_are_ignored_but_a_new_version_is_refused() -> None:
    key = generate_signing_key()
    roster = _roster()
    body = orjson.loads(roster.to_json())
    body["users"][0]["pager"] = "1234"  # an optional field a newer server might add
    newer = seal_document("roster", orjson.dumps(body), key, sequence=roster.sequence)
    assert open_roster(newer, key.public_key()) == roster
    body["version"] = 2
    incompatible = seal_document("roster", orjson.dumps(body), key, sequence=roster.sequence)
    with pytest.raises(RosterError, match="version"):
        open_roster(incompatible, key.public_key())


def test_import_reports_a_malformed_csv_instead_of_crashing(tmp_path: Path) -> None:
    huge = "x" * 200_000  # beyond the csv module's field limit
    path = _csv(
        tmp_path,
        "user_id,display_name,role,wards,password\n"
        "ok.one,Ok One,nurse,w1,long-enough-1\n"
        f"bad,{huge},nurse,w1,long-enough-2\n",
    )
    result = import_csv(new_roster(), path, cost=ARGON2_TEST)
    assert result.added == ["ok.one"]
    assert len(result.errors) == 1 and "not valid CSV" in result.errors[0]

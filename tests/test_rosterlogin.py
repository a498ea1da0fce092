"""The login's early read of the signed roster (`sync.rosterlogin`): it finds the same user and
verifier as the roster model, without pydantic, and gives nothing for a roster that does not
verify. It decides no login (app.auth does); these tests hold that it names the right verifier."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson

from sync import device
from sync.keys import (
    ARGON2_TEST,
    PasswordCheck,
    generate_signing_key,
    signing_public_key_text,
    verify_password,
)
from sync.roster import add_user, install_roster, new_roster, seal_roster
from sync.rosterlogin import login_preview, preview_body, user_key

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def roster_with_two_users() -> bytes:
    roster = new_roster("Klinikum", NOW)
    roster = add_user(roster, "Pflege.A", "  Anna Pflege ", "nurse", ["3a"], "geheim-123",
                      now=NOW, cost=ARGON2_TEST)  # fmt: skip
    roster = add_user(roster, "arzt", "Dr. Bert", "physician", ["*"], "geheim-456",
                      now=NOW, cost=ARGON2_TEST)  # fmt: skip
    return roster.to_json()


def test_the_preview_finds_the_model_s_user_and_verifier() -> None:
    from sync.roster import Roster

    body = roster_with_two_users()
    model = Roster.from_json(body)
    for typed in ("pflege.a", " PFLEGE.A ", "arzt"):
        preview = preview_body(body, typed)
        user = model.find(typed)
        assert preview is not None and user is not None and preview.verifier is not None
        assert preview.display_name == user.display_name  # stripped like the model's
        assert preview.verifier.salt == user.verifier.salt
        assert preview.verifier.hash == user.verifier.hash
        assert user_key(typed) == user_key(user.user_id)
    secret = "geheim-123"
    preview = preview_body(body, "pflege.a")
    assert preview is not None and preview.verifier is not None
    check = PasswordCheck(secret, preview.verifier)
    assert verify_password(secret, model.users[0].verifier, precomputed=check)


def test_an_unknown_id_gets_the_first_user_s_cost_and_no_verifier() -> None:
    preview = preview_body(roster_with_two_users(), "niemand")
    assert preview is not None
    assert preview.verifier is None and preview.display_name is None
    assert preview.dummy_cost == ARGON2_TEST


def test_a_body_that_is_no_roster_gives_no_preview() -> None:
    for body in (b"not json", b"[]", b'{"users": 3}', b'{"users": [{"verifier": 1}]}'):
        assert preview_body(body, "arzt") is None
    assert preview_body(orjson.dumps({"users": []}), "arzt") is not None


def test_the_preview_reads_only_a_roster_signed_by_the_pinned_key(tmp_path: Path) -> None:
    from sync.roster import Roster

    key = generate_signing_key()
    home = tmp_path / "laptop"
    device.pin_server_key(home, signing_public_key_text(key.public_key()))
    assert login_preview(home, "arzt") is None  # no roster installed yet
    signed = seal_roster(Roster.from_json(roster_with_two_users()), key)
    install_roster(home / "roster", signed, key.public_key())
    preview = login_preview(home, "arzt")
    assert preview is not None and preview.display_name == "Dr. Bert"
    # The same roster signed by another key, put in place by hand: no preview.
    other = seal_roster(Roster.from_json(roster_with_two_users()), generate_signing_key())
    (home / "roster" / "roster.wcdoc").write_bytes(other)
    assert login_preview(home, "arzt") is None

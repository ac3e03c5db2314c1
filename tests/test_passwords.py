"""Password hashing: argon2id at the configured (OWASP) parameters, re-hashed when they change."""

from __future__ import annotations

import secrets

import pytest
from argon2 import extract_parameters
from sqlalchemy import select

from forum_app.auth import passwords
from forum_app.config import ConfigError, load_config
from forum_app.extensions import db
from forum_app.models import User

from .conftest import login, post_form
from .factories import PASSWORD


def _stored_hash(app, email: str) -> str:
    with app.app_context():
        return db.session.execute(select(User.password_hash).where(User.email == email)).scalar_one()


def test_defaults_are_owasp_argon2id():
    config = load_config({"FORUM_ENV": "testing"})
    assert (
        config["PASSWORD_HASH_TIME_COST"],
        config["PASSWORD_HASH_MEMORY_KIB"],
        config["PASSWORD_HASH_PARALLELISM"],
    ) == (5, 7168, 1)


def test_a_stored_hash_uses_the_configured_parameters(app, client, make):
    email = make.user(password=False)
    with app.app_context():
        user = db.session.execute(select(User).where(User.email == email)).scalar_one()
        user.password_hash = passwords.hash_password("a good long password")
        db.session.commit()
    params = extract_parameters(_stored_hash(app, email))
    assert params.type.name == "ID"
    assert (params.time_cost, params.memory_cost, params.parallelism) == (
        app.config["PASSWORD_HASH_TIME_COST"],
        app.config["PASSWORD_HASH_MEMORY_KIB"],
        app.config["PASSWORD_HASH_PARALLELISM"],
    )


def test_login_rehashes_when_the_parameters_change(app, make, monkeypatch):
    email = make.user()
    before = extract_parameters(_stored_hash(app, email))
    monkeypatch.setitem(app.config, "PASSWORD_HASH_TIME_COST", before.time_cost + 1)
    monkeypatch.setitem(app.config, "PASSWORD_HASH_MEMORY_KIB", 12 * 1024)
    assert login(app.test_client(), email).status_code == 302
    after = extract_parameters(_stored_hash(app, email))
    assert (after.time_cost, after.memory_cost) == (before.time_cost + 1, 12 * 1024)
    # The re-hashed password still works, and an unchanged configuration leaves it alone.
    stored = _stored_hash(app, email)
    assert login(app.test_client(), email).status_code == 302
    assert _stored_hash(app, email) == stored


def test_a_hash_from_old_library_defaults_is_upgraded_at_login(app, make):
    from argon2 import PasswordHasher

    email = make.user(password=False)
    with app.app_context():
        user = db.session.execute(select(User).where(User.email == email)).scalar_one()
        user.password_hash = PasswordHasher().hash("an old long password")  # t=3, 64 MiB, p=4
        db.session.commit()
    assert login(app.test_client(), email, "an old long password").status_code == 302
    params = extract_parameters(_stored_hash(app, email))
    assert (params.time_cost, params.memory_cost, params.parallelism) == (5, 7168, 1)


def test_production_refuses_hashing_below_the_owasp_minimum(monkeypatch):
    monkeypatch.setenv("PASSWORD_HASH_MEMORY_KIB", "4096")
    with pytest.raises(ConfigError, match="OWASP"):
        load_config({"FORUM_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(48)})


@pytest.mark.parametrize(
    "password",
    [
        "password123",  # in the leaked lists as it is
        "QWERTYUIOP",  # case does not hide it
        "1234567890",
        "Sarajevo2024!",  # a common word dressed in digits and signs
        "!!monkey1234",
        "aaaaaaaaaaaa",  # one or two characters repeated
        "abababababab",
    ],
)
def test_a_common_or_dressed_up_password_is_refused_and_nothing_changes(app, client, make, password):
    email = make.user()
    login(client, email)
    response = post_form(
        client, "/account/password", {"current_password": PASSWORD, "password": password, "confirm": password}
    )
    assert response.status_code == 400
    assert "too easy to guess" in response.get_data(as_text=True)
    assert login(app.test_client(), email).status_code == 302  # the old password still works


def test_a_password_built_on_the_persons_own_name_or_address_is_refused(app, make):
    assert passwords.is_guessable("Hodzic2026!", ["amra.hodzic", "Amra Hodžić"])
    assert passwords.is_guessable("amra.hodzic#1", ["amra.hodzic", "Amra Hodžić"])
    # The same password is fine for someone else, and a passphrase is fine for her.
    assert not passwords.is_guessable("Hodzic2026!", ["ana.petrovska", "Ana Petrovska"])
    assert not passwords.is_guessable("lamp orbit velvet Ohrid", ["amra.hodzic", "Amra Hodžić"])


@pytest.mark.parametrize(
    "password",
    ["correct horse battery staple", "lamp orbit velvet Ohrid", "Тиха река под мостот", "ujë i ftohtë malor"],
)
def test_passphrases_in_any_script_are_accepted(password):
    assert not passwords.is_guessable(password)


def test_the_shipped_list_is_the_whole_list():
    common = passwords.common_passwords()
    assert len(common) == 49_233
    assert {"123456", "password", "qwertyuiop", "sarajevo"} <= common

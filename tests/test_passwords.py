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

from .conftest import login


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

"""Login, sessions, signed links and passwords."""

from __future__ import annotations

import os
import re

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from forum_app.auth import passwords, tokens
from forum_app.extensions import db
from forum_app.models import AuditEvent, OutboxMessage, User

from .conftest import csrf_token, login, post_form, redis_test_url
from .factories import PASSWORD

# --- login --------------------------------------------------------------------------------


def test_login_and_logout(client, make):
    email = make.user()
    response = login(client, email)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/forums").status_code == 200
    token = csrf_token(client, "/")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/forums").status_code == 302


def test_addresses_are_stored_normalised_and_a_login_finds_one_by_its_index(app, client, make, count_queries):
    """However an address is written, it is stored trimmed and lower-cased, and a login in any case
    finds it with an equality on the indexed column (lower(email) read every person at each login)."""
    email = make.user(email="  Amra.HODZIC@Example.ORG ")
    assert email != "amra.hodzic@example.org"
    with app.app_context():
        assert db.session.execute(select(User.email).where(User.email == "amra.hodzic@example.org")).scalar_one()
        user = db.session.execute(select(User).where(User.email == "amra.hodzic@example.org")).scalar_one()
        user.email = "Amra.Hodzic@Example.BA"
        db.session.commit()
        assert db.session.get(User, user.id).email == "amra.hodzic@example.ba"
    with count_queries() as statements:
        response = login(client, "AMRA.hodzic@example.BA ")
    assert response.status_code == 302 and client.get("/forums").status_code == 200
    lookup = [s for s in statements if "FROM user_account" in s and "user_account.email =" in s]
    assert lookup and not any("lower(" in s.lower() for s in lookup)


@pytest.mark.parametrize("password", ["wrong password!", ""])
def test_wrong_password_gets_generic_message(client, make, password):
    email = make.user()
    response = login(client, email, password)
    assert response.status_code in (400, 401)
    assert client.get("/forums").status_code == 302


def test_unknown_account_and_wrong_password_read_the_same(client, make):
    email = make.user()
    wrong = login(client, email, "not the password").get_data(as_text=True)
    unknown = login(client, "nobody@example.org", "not the password").get_data(as_text=True)
    assert "The email or password is not correct." in wrong
    assert "The email or password is not correct." in unknown


def test_inactive_account_is_refused_even_with_right_password(client, make):
    email = make.user(active=False)
    response = login(client, email)
    assert response.status_code == 401
    assert "The email or password is not correct." in response.get_data(as_text=True)
    assert client.get("/forums").status_code == 302


def test_invited_account_without_password_cannot_log_in(client, make):
    email = make.user(password=False)
    assert login(client, email, "").status_code == 400
    assert login(client, email, "anything at all").status_code == 401


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/admin/users", "/admin/users"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("/%0d%0aSet-Cookie:x=1", "/%0d%0aSet-Cookie:x=1"),
    ],
)
def test_next_only_to_a_local_path(client, make, target, expected):
    email = make.user("admin")
    response = login(client, email, next_url=target)
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_next_with_a_nul_character_is_refused(client, make):
    email = make.user("admin")
    response = login(client, email, next_url="/\x00evil")
    assert response.status_code == 400
    assert client.get("/forums").status_code == 302


def test_login_needs_csrf_token(client, make):
    email = make.user()
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 400
    assert "Form expired" in response.get_data(as_text=True)
    assert client.get("/forums").status_code == 302


def test_throttling_per_account_refuses_even_the_right_password(client, make, app):
    email = make.user()
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    for _ in range(limit):
        assert login(client, email, "wrong password!").status_code == 401
    response = login(client, email)
    assert response.status_code == 429
    assert "Too many failed attempts" in response.get_data(as_text=True)
    assert client.get("/forums").status_code == 302


def test_throttling_is_shared_between_clients(app, make):
    """The counter lives in the database: a second client (another worker) sees it."""
    email = make.user()
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    for _ in range(limit):
        login(app.test_client(), email, "wrong password!")
    assert login(app.test_client(), email).status_code == 429


def test_throttling_per_address(app, make):
    limit = app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"]
    for n in range(limit):
        login(app.test_client(), f"someone{n}@example.org", "wrong password!")
    email = make.user()
    assert login(app.test_client(), email).status_code == 429
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.9.9.9"
    assert login(other, email).status_code == 302


def test_successful_login_forgives_earlier_account_failures(client, make, app):
    email = make.user()
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"] - 1):
        login(client, email, "wrong password!")
    assert login(client, email).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"] - 1):
        login(client, email, "wrong password!")
    assert login(client, email).status_code == 302


def test_throttling_uses_redis_when_configured(app, make):
    redis = pytest.importorskip("redis")
    url = redis_test_url(0)
    client_redis = redis.Redis.from_url(url)
    try:
        client_redis.ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI"):
            pytest.fail("Redis is not reachable on 127.0.0.1:6379; .ci/run must start it")
        pytest.skip("no Redis on 127.0.0.1:6379")
    client_redis.flushdb()
    email = make.user()
    app.config["REDIS_URL"] = url
    try:
        for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
            login(app.test_client(), email, "wrong password!")
        assert login(app.test_client(), email).status_code == 429
        assert int(client_redis.hget(f"forum-desk:throttle:login-account:{email}", "failures")) >= 5
        with app.app_context():
            from forum_app.models import ThrottleCounter

            assert db.session.execute(select(ThrottleCounter)).first() is None
    finally:
        app.config["REDIS_URL"] = None
        client_redis.flushdb()


# --- sessions -------------------------------------------------------------------------------


def _session_cookie(client) -> str:
    return client.get_cookie("forum_session").value


def test_cookie_captured_before_logout_is_dead_after(app, make):
    email = make.user()
    client = app.test_client()
    login(client, email)
    stolen = _session_cookie(client)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})

    attacker = app.test_client()
    attacker.set_cookie("forum_session", stolen, domain="localhost")
    assert attacker.get("/forums").status_code == 302


def test_password_change_ends_other_sessions_but_not_this_one(app, make):
    email = make.user()
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, email)
    login(phone, email)
    response = post_form(
        laptop,
        "/account/password",
        {"current_password": PASSWORD, "password": "a brand new passphrase", "confirm": "a brand new passphrase"},
    )
    assert response.status_code == 302
    assert laptop.get("/forums").status_code == 200
    assert phone.get("/forums").status_code == 302
    assert login(app.test_client(), email, "a brand new passphrase").status_code == 302


def test_password_change_needs_the_current_password(client, make):
    email = make.user()
    login(client, email)
    response = post_form(
        client,
        "/account/password",
        {
            "current_password": "not it at all",
            "password": "a brand new passphrase",
            "confirm": "a brand new passphrase",
        },
    )
    assert response.status_code == 400
    assert "current password is not correct" in response.get_data(as_text=True)
    # The old password still works: nothing changed.
    assert login(make.app.test_client(), email).status_code == 302


def test_idle_session_expires(app, make, monkeypatch):
    import time as time_module

    email = make.user()
    client = app.test_client()
    login(client, email)
    assert client.get("/forums").status_code == 200
    later = time_module.time() + app.config["SESSION_IDLE_MINUTES"] * 60 + 5
    monkeypatch.setattr("forum_app.auth.sessions.time.time", lambda: later)
    assert client.get("/forums").status_code == 302


def test_absolute_session_lifetime(app, make):
    from datetime import timedelta

    from forum_app.models import UserSession

    email = make.user()
    client = app.test_client()
    login(client, email)
    with app.app_context():
        row = db.session.execute(select(UserSession)).scalar_one()
        row.created_at = row.created_at - timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"], minutes=1)
        db.session.commit()
    assert client.get("/forums").status_code == 302


def test_session_cookie_flags(client, make):
    email = make.user()
    response = login(client, email)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # BASE_URL is http in tests


def test_secure_cookie_when_base_url_is_https(monkeypatch, tmp_path):
    from forum_app.config import load_config

    monkeypatch.setenv("BASE_URL", "https://forum.example.org")
    assert load_config({"FORUM_ENV": "testing"})["SESSION_COOKIE_SECURE"] is True


def test_production_refuses_to_start_without_secret_key(monkeypatch):
    from forum_app.config import ConfigError, load_config

    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config({"FORUM_ENV": "production"})


# --- set-password and reset links -------------------------------------------------------------


def _link_from_outbox(app, email: str, kind: str) -> str:
    with app.app_context():
        body = (
            db.session.execute(
                select(OutboxMessage.body_text)
                .where(OutboxMessage.to_addr == email, OutboxMessage.kind == kind)
                .order_by(OutboxMessage.id.desc())
            )
            .scalars()
            .first()
        )
    assert body, f"no {kind} email to {email}"
    match = re.search(r"http://forum\.test(/\S+)", body)
    assert match
    return match.group(1)


def _invite(app, email: str) -> None:
    from forum_app.auth.services import invite_user

    with app.app_context():
        invite_user(None, email=email, name="Amra Hodžić")
        db.session.commit()


def test_set_password_link_flow(app, client):
    _invite(app, "amra@example.org")
    path = _link_from_outbox(app, "amra@example.org", "set-password")
    # GET only shows the form (mail scanners open links); it does not log in or change anything.
    page = client.get(path)
    assert page.status_code == 200 and "Choose a password" in page.get_data(as_text=True)
    assert client.get("/forums").status_code == 302
    response = post_form(client, path, {"password": "new passphrase 123", "confirm": "new passphrase 123"})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get("/forums").status_code == 302  # the link never logs anyone in
    assert login(client, "amra@example.org", "new passphrase 123").status_code == 302


def test_set_password_link_is_single_use(app, client):
    _invite(app, "amra@example.org")
    path = _link_from_outbox(app, "amra@example.org", "set-password")
    post_form(client, path, {"password": "new passphrase 123", "confirm": "new passphrase 123"})
    again = client.get(path)
    assert again.status_code == 400
    assert "already been used" in again.get_data(as_text=True)


def test_set_password_link_expires(app, client, make):
    from datetime import timedelta

    from forum_app.models import utcnow

    email = make.user(password=False)
    hours = app.config["SET_PASSWORD_LINK_HOURS"]
    with app.app_context():
        user = db.session.get(User, make.user_id(email))
        # Signed just over the link's lifetime ago (the clock is explicit: no waiting).
        stale = tokens.make_password_token(user, "set-password", now=utcnow() - timedelta(hours=hours, minutes=1))
        fresh = tokens.make_password_token(user, "set-password", now=utcnow() - timedelta(hours=hours, minutes=-1))
    response = client.get(f"/set-password/{stale}")
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)
    assert client.get(f"/set-password/{fresh}").status_code == 200


def test_tampered_link_is_refused(app, client):
    _invite(app, "amra@example.org")
    path = _link_from_outbox(app, "amra@example.org", "set-password")
    tampered = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    response = client.get(tampered)
    assert response.status_code == 400
    assert "not valid" in response.get_data(as_text=True)


def test_link_signed_with_another_key_or_purpose_is_refused(app, client, make):
    email = make.user(password=False)
    user_id = make.user_id(email)
    forged = URLSafeTimedSerializer("some other key", salt="forum-desk/set-password").dumps({"u": user_id, "p": "x"})
    assert client.get(f"/set-password/{forged}").status_code == 400
    with app.app_context():
        reset_token = tokens.make_password_token(db.session.get(User, user_id), "reset-password")
    # A reset token is not a set-password token.
    assert client.get(f"/set-password/{reset_token}").status_code == 400
    assert client.get(f"/reset-password/{reset_token}").status_code == 200


def test_password_reset_flow_and_no_account_enumeration(app, client, make):
    email = make.user()
    known = post_form(client, "/reset-password", {"email": email})
    unknown = post_form(client, "/reset-password", {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 302
    with app.app_context():
        sent = db.session.execute(select(OutboxMessage.to_addr)).scalars().all()
    assert sent == [email]
    path = _link_from_outbox(app, email, "reset-password")
    laptop = app.test_client()
    login(laptop, email)
    post_form(client, path, {"password": "reset passphrase 42", "confirm": "reset passphrase 42"})
    assert laptop.get("/forums").status_code == 302  # a reset ends existing sessions
    assert login(client, email, "reset passphrase 42").status_code == 302


def test_password_rules_at_the_field(app, client):
    _invite(app, "amra@example.org")
    path = _link_from_outbox(app, "amra@example.org", "set-password")
    short = post_form(client, path, {"password": "short", "confirm": "short"})
    assert short.status_code == 400 and "Use between 10 and 256 characters" in short.get_data(as_text=True)
    differ = post_form(client, path, {"password": "long enough one", "confirm": "long enough two"})
    assert differ.status_code == 400 and "differ" in differ.get_data(as_text=True)
    too_long = "я" * (passwords.MAX_LENGTH + 1)
    long_response = post_form(client, path, {"password": too_long, "confirm": too_long})
    assert long_response.status_code == 400
    assert "Use between 10 and 256 characters" in long_response.get_data(as_text=True)
    # Nothing was saved: the link still works.
    assert client.get(path).status_code == 200


def test_long_cyrillic_passphrase_is_not_truncated(app, client):
    passphrase = "Сарајево је домаћин првог локалног координационог форума 2021"  # 64 characters
    assert len(passphrase) >= 60
    _invite(app, "amra@example.org")
    path = _link_from_outbox(app, "amra@example.org", "set-password")
    post_form(client, path, {"password": passphrase, "confirm": passphrase})
    assert login(app.test_client(), "amra@example.org", passphrase[:-1] + "x").status_code == 401
    assert login(app.test_client(), "amra@example.org", passphrase[:72]).status_code == 302


def test_argon2id_is_used():
    assert passwords.hash_password("whatever it is").startswith("$argon2id$")


def test_login_is_audited(app, client, make):
    email = make.user()
    login(client, email)
    with app.app_context():
        verbs = db.session.execute(select(AuditEvent.verb)).scalars().all()
    assert "user.login" in verbs

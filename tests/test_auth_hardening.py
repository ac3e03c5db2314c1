"""Hostile-testing findings (issue 7, points 4-9) and the general signed links."""

from __future__ import annotations

import secrets
import threading
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from forum_app.auth import services, throttle, tokens
from forum_app.extensions import db
from forum_app.models import ActionItem, OutboxMessage, ThrottleCounter, User, UserSession

from .conftest import csrf_token, login, post_form, redis_test_url
from .factories import PASSWORD

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REDIS_URL = redis_test_url(1)


def client_at(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def outbox_count(app, **where) -> int:
    with app.app_context():
        stmt = select(func.count()).select_from(OutboxMessage)
        for name, value in where.items():
            stmt = stmt.where(getattr(OutboxMessage, name) == value)
        return db.session.execute(stmt).scalar_one()


@pytest.fixture
def redis_app(app):
    """The app with its throttle counters in Redis (database 13, emptied before and after)."""
    redis = pytest.importorskip("redis")
    r = redis.Redis.from_url(REDIS_URL)
    r.ping()  # Redis is part of the test environment: fail, do not skip, when it is missing
    r.flushdb()
    app.config["REDIS_URL"] = REDIS_URL
    try:
        yield app, r
    finally:
        app.config["REDIS_URL"] = None
        r.flushdb()


# --- A. general signed links -----------------------------------------------------------------


@pytest.fixture
def subjects(make, app) -> dict[str, int]:
    world = make.world()
    meeting = make.meeting(world["forum"])
    invitation = make.invite(meeting, world["participant"])
    with app.app_context():
        action = ActionItem(forum_id=world["forum"], title="Arrange a probation officer visit")
        db.session.add(action)
        db.session.commit()
        return {"invitation": invitation, "action": action.id}


@pytest.mark.parametrize("purpose, subject_type", [("rsvp", "invitation"), ("action-confirm", "action")])
def test_links_with_a_given_expiry(app, subjects, purpose, subject_type):
    subject = (subject_type, subjects[subject_type])
    closes = T0 + timedelta(days=3)
    with app.app_context():
        token = tokens.make_link_token(purpose, subject, expires_at=closes, bind=None, now=T0)
        link = tokens.read_link_token(token, purpose, T0 + timedelta(days=1))
        assert (link.subject_type, link.subject_id, link.expires_at) == (*subject, closes)
        assert link.subject.id == subject[1]
        # Reusable: reading it again (changing an RSVP answer) works.
        assert tokens.read_link_token(token, purpose, T0 + timedelta(days=2)).subject_id == subject[1]
        with pytest.raises(tokens.LinkError) as expired:
            tokens.read_link_token(token, purpose, closes)
        assert expired.value.problem is tokens.LinkProblem.EXPIRED
        other = "action-confirm" if purpose == "rsvp" else "rsvp"
        with pytest.raises(tokens.LinkError) as wrong_purpose:
            tokens.read_link_token(token, other, T0)
        assert wrong_purpose.value.problem is tokens.LinkProblem.INVALID
        tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
        with pytest.raises(tokens.LinkError) as bad:
            tokens.read_link_token(tampered, purpose, T0)
        assert bad.value.problem is tokens.LinkProblem.INVALID
        # The registry is enforced when signing: the subject type, and an expiry of its own.
        with pytest.raises(ValueError):
            tokens.make_link_token(purpose, ("user", 1), expires_at=closes, bind=None)
        with pytest.raises(ValueError):
            tokens.make_link_token(purpose, subject, expires_at=None, bind=None)


def test_password_links_have_a_fixed_lifetime_and_are_single_use(app, make):
    user_id = make.user_id(make.user(password=False))
    with app.app_context():
        user = db.session.get(User, user_id)
        with pytest.raises(ValueError):
            tokens.make_link_token("set-password", ("user", user_id), expires_at=T0, bind=None)
        token = tokens.make_password_token(user, "set-password", now=T0)
        assert tokens.read_password_token(token, "set-password", T0 + timedelta(hours=1)).id == user_id
        services.set_password(user, "a new passphrase here")
        with pytest.raises(tokens.LinkError) as used:
            tokens.read_password_token(token, "set-password", T0 + timedelta(hours=1))
        assert used.value.problem is tokens.LinkProblem.USED


# --- 6. password links are tied to the address they were sent to ------------------------------


def test_reset_link_dies_when_the_email_changes(app, client, make):
    admin = make.user("admin")
    email = make.user()
    assert post_form(client, "/reset-password", {"email": email}).status_code == 302
    with app.app_context():
        body = db.session.execute(select(OutboxMessage.body_text)).scalar_one()
    path = "/reset-password/" + body.split("/reset-password/")[1].split()[0]
    assert client.get(path).status_code == 200
    user_id, admin_id = make.user_id(email), make.user_id(admin)
    with app.app_context():
        user = db.session.get(User, user_id)
        services.update_user(
            db.session.get(User, admin_id),
            user,
            services.UserInput(
                name=user.name,
                email="new.address@example.org",
                role=user.role,
                organisation_id=None,
                timezone=user.timezone,
            ),
            services.UserInput.of(user).values(),
        )
        db.session.commit()
    response = client.get(path)
    assert response.status_code == 400 and "not valid" in response.get_data(as_text=True)
    refused = client.post(
        path,
        data={
            "password": "taken over now 123",
            "confirm": "taken over now 123",
            "csrf_token": csrf_token(client, "/login"),
        },
    )
    assert refused.status_code == 400
    assert login(app.test_client(), "new.address@example.org").status_code == 302  # password unchanged


# --- 4. lockout is no longer a weapon ------------------------------------------------------------


def test_owner_on_a_known_device_passes_a_lock_that_strangers_caused(app, make):
    email = make.user()
    laptop = client_at(app, "10.0.0.1")
    assert login(laptop, email).status_code == 302
    assert laptop.get_cookie("forum_device") is not None
    laptop.post("/logout", data={"csrf_token": csrf_token(laptop, "/")})

    attacker = client_at(app, "203.0.113.9")
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        assert login(attacker, email, "guess guess guess").status_code == 401
    assert login(attacker, email).status_code == 429  # even the right password, from a stranger

    laptop.environ_base["REMOTE_ADDR"] = "198.51.100.7"  # the owner travels: the cookie is enough
    assert login(laptop, email).status_code == 302
    office = client_at(app, "10.0.0.1")  # no cookie, but the address where the owner signed in before
    assert login(office, email).status_code == 302
    assert login(client_at(app, "192.0.2.50"), email).status_code == 429  # a new place: still locked


def test_a_forged_device_cookie_does_not_pass_the_lock(app, make):
    email, other = make.user(), make.user()
    mine = client_at(app, "10.0.0.2")
    assert login(mine, other).status_code == 302  # a valid device cookie, but for another account
    stolen_value = mine.get_cookie("forum_device").value
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        login(client_at(app, "203.0.113.9"), email, "guess guess guess")
    for value in (stolen_value, "not-a-token", stolen_value[:-3] + "xyz"):
        attacker = client_at(app, "203.0.113.10")
        attacker.set_cookie("forum_device", value, domain="localhost")
        assert login(attacker, email).status_code == 429


def test_known_device_guesses_are_limited_too(app, make):
    email = make.user()
    laptop = client_at(app, "10.0.0.3")
    assert login(laptop, email).status_code == 302
    laptop.post("/logout", data={"csrf_token": csrf_token(laptop, "/")})
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        assert login(laptop, email, "guess guess guess").status_code == 401
    assert login(laptop, email).status_code == 429


def test_an_address_locked_by_unknown_emails_still_lets_its_known_people_in(app, make):
    regular, newcomer = make.user(), make.user()
    assert login(client_at(app, "10.1.1.1"), regular).status_code == 302
    for n in range(app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"]):
        assert login(client_at(app, "10.1.1.1"), f"nobody{n}@example.org", "guess guess").status_code == 401
    assert login(client_at(app, "10.1.1.1"), newcomer).status_code == 429
    assert login(client_at(app, "10.1.1.1"), regular).status_code == 302


def test_address_counts_only_failures(app, make):
    limit = app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"]
    for n in range(limit - 1):
        login(client_at(app, "10.2.2.2"), f"nobody{n}@example.org", "guess guess")
    # New people signing in from the same address (first time there) are not failures.
    for _ in range(3):
        assert login(client_at(app, "10.2.2.2"), make.user()).status_code == 302
    assert login(client_at(app, "10.2.2.2"), "one.more@example.org", "guess guess").status_code == 401
    assert login(client_at(app, "10.2.2.2"), make.user()).status_code == 429


def test_the_refusal_says_how_long_to_wait(app, make):
    email = make.user()
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        login(client_at(app, "10.3.3.3"), email, "guess guess guess")
    page = login(client_at(app, "10.3.3.4"), email).get_data(as_text=True)
    assert "Too many failed attempts. Try again in 1 minute." in page


def test_backoff_doubles_after_the_limit_and_quiet_counters_are_forgotten(app):
    counter = [throttle.key("login-account", "someone@example.org")]
    with app.app_context():
        limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
        first = timedelta(minutes=app.config["LOGIN_BACKOFF_FIRST_MINUTES"])
        longest = timedelta(minutes=app.config["LOGIN_BACKOFF_MAX_MINUTES"])
        now = T0
        for _ in range(limit):
            assert throttle.attempt(counter, now).allowed
        waits = []
        for _ in range(10):
            refused = throttle.attempt(counter, now)
            assert not refused.allowed
            waits.append(refused.wait)
            assert not throttle.attempt(counter, now + refused.wait - timedelta(seconds=1)).allowed
            now += refused.wait
            assert throttle.attempt(counter, now).allowed  # one more try after the wait
        assert waits[:4] == [first, 2 * first, 4 * first, 8 * first]
        assert max(waits) == longest
        db.session.commit()
        forget = timedelta(hours=app.config["LOGIN_FAILURES_FORGOTTEN_HOURS"])
        assert throttle.attempt(counter, now + longest + forget + timedelta(seconds=1)).allowed
        assert db.session.get(ThrottleCounter, counter[0][1]).failures == 1


def test_a_correct_password_forgives_the_account_but_not_other_failures_of_the_address(app):
    counters = [throttle.key("login-account", "a@example.org"), throttle.key("login-address", "10.4.4.4")]
    with app.app_context():
        for _ in range(3):
            throttle.attempt(counters, T0)
        throttle.succeeded(throttle.attempt(counters, T0), T0)
        rows = {row.key: row.failures for row in db.session.execute(select(ThrottleCounter)).scalars()}
    assert rows == {"login-account:a@example.org": 0, "login-address:10.4.4.4": 3}


def _concurrent_wrong_passwords(app, email: str, n: int = 30) -> list[int]:
    """``n`` clients post a wrong password at the same moment; their status codes."""
    clients = [client_at(app, f"10.5.{i // 250}.{i % 250 + 1}") for i in range(n)]
    tokens_ = [csrf_token(c, "/login") for c in clients]
    barrier = threading.Barrier(n)
    statuses: list[int] = []
    lock = threading.Lock()

    def run(client, token):
        barrier.wait()
        status = client.post(
            "/login", data={"email": email, "password": "guess guess guess", "csrf_token": token}
        ).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=run, args=pair) for pair in zip(clients, tokens_, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return statuses


def test_concurrent_guesses_get_exactly_the_limit_in_the_database(app, make):
    email = make.user()
    statuses = _concurrent_wrong_passwords(app, email)
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    # A 401 is a password check that ran; a 429 was refused before it.
    assert sorted(statuses) == [401] * limit + [429] * (30 - limit)


def test_concurrent_guesses_get_exactly_the_limit_in_redis(redis_app, make):
    app, r = redis_app
    email = make.user()
    statuses = _concurrent_wrong_passwords(app, email)
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    assert sorted(statuses) == [401] * limit + [429] * (30 - limit)
    assert int(r.hget(f"forum-desk:throttle:login-account:{email}", "failures")) == limit


def test_known_device_passes_the_lock_with_redis(redis_app, make):
    app, _r = redis_app
    email = make.user()
    laptop = client_at(app, "10.6.6.6")
    assert login(laptop, email).status_code == 302
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        login(client_at(app, "203.0.113.9"), email, "guess guess guess")
    assert login(client_at(app, "203.0.113.9"), email).status_code == 429
    laptop.environ_base["REMOTE_ADDR"] = "198.51.100.8"
    assert login(laptop, email).status_code == 302


# --- 5. no account takeover through the outbox ---------------------------------------------------


def test_reinviting_an_account_that_has_a_password_is_refused(app, client, make):
    admin = make.user("admin")
    target_id = make.user_id(make.user())
    login(client, admin)
    response = post_form(client, f"/admin/users/{target_id}/edit", {}, action=f"/admin/users/{target_id}/invite")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "already has a password" in page
    assert outbox_count(app) == 0


def test_outbox_page_and_cli_show_no_links(app, client, make):
    admin = make.user("admin")
    post_form(app.test_client(), "/reset-password", {"email": admin})
    with app.app_context():
        services.invite_user(None, email="new.person@example.org", name="New Person")
        # Any other email with a personal link (a calendar feed, later an RSVP link).
        db.session.add(
            OutboxMessage(
                kind="reminder",
                to_addr=admin,
                subject="Reminder",
                body_text="Your feed: http://forum.test/calendar/s3cr3t-t0ken.ics\nBye",
            )
        )
        db.session.commit()
    assert outbox_count(app, sensitive=True) == 2
    login(client, admin)
    page = client.get("/outbox").get_data(as_text=True)
    cli = app.test_cli_runner().invoke(args=["forum", "outbox", "list", "--body"]).output
    for shown in (page, cli):
        assert "new.person@example.org" in shown and "Reset your Forum Desk password" in shown
        assert "/set-password/" not in shown and "/reset-password/" not in shown
        assert "s3cr3t-t0ken" not in shown
        assert "[link hidden]" in shown and "Bye" in shown


# --- 7. limits on reset requests and on the current-password check ------------------------------


def test_reset_requests_are_limited_the_same_for_known_and_unknown_addresses(app, make):
    email = make.user()
    limit = app.config["RESET_MAX_REQUESTS_PER_ACCOUNT"]
    answers = {}
    for target, address in ((email, "10.7.7.1"), ("nobody@example.org", "10.7.7.2")):
        client = client_at(app, address)
        answers[target] = [post_form(client, "/reset-password", {"email": target}) for _ in range(limit + 2)]
    known, unknown = answers[email], answers["nobody@example.org"]
    assert [r.status_code for r in known] == [r.status_code for r in unknown] == [302] * limit + [429, 429]
    assert "Too many reset requests. Try again in" in known[-1].get_data(as_text=True)
    assert "Too many reset requests. Try again in" in unknown[-1].get_data(as_text=True)
    assert outbox_count(app, to_addr=email) == limit


def test_reset_requests_are_limited_per_address(app, make):
    limit = app.config["RESET_MAX_REQUESTS_PER_ADDRESS"]
    client = client_at(app, "10.8.8.8")
    for n in range(limit):
        assert post_form(client, "/reset-password", {"email": f"p{n}@example.org"}).status_code == 302
    assert post_form(client, "/reset-password", {"email": make.user()}).status_code == 429
    assert outbox_count(app) == 0


def test_current_password_guesses_are_limited(app, client, make):
    email = make.user()
    login(client, email)
    new = {"password": "a brand new passphrase", "confirm": "a brand new passphrase"}
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        response = post_form(client, "/account/password", {"current_password": "guess guess", **new})
        assert response.status_code == 400
    response = post_form(client, "/account/password", {"current_password": PASSWORD, **new})
    assert response.status_code == 429
    assert "Too many failed attempts. Try again in" in response.get_data(as_text=True)
    assert login(app.test_client(), email).status_code == 302  # the password did not change


# --- 8. NUL and control characters in stored header values ---------------------------------------


@pytest.mark.parametrize("header", ["User-Agent", "X-Forwarded-For", "Accept-Language"])
def test_nul_in_a_header_is_refused_as_bad_input(app, client, make, header):
    email = make.user()
    token = csrf_token(client, "/login")
    response = client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token},
        headers={header: "Mozilla/5.0\x00evil"},
    )
    assert response.status_code == 400
    assert "not allowed (NUL)" in response.get_data(as_text=True)


def test_stored_user_agent_has_no_control_characters_and_a_length_cap(app, client, make):
    email = make.user()
    token = csrf_token(client, "/login")
    client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token},
        headers={"User-Agent": "Bot\x1b[31m\x07" + "x" * 1000},
    )
    with app.app_context():
        stored = db.session.execute(select(UserSession.user_agent)).scalar_one()
    assert stored.startswith("Bot[31m") and len(stored) == 300 and stored.isprintable()


# --- 9. configuration and headers ------------------------------------------------------------------


def test_production_refuses_a_short_secret_key(monkeypatch):
    from forum_app.config import ConfigError, load_config

    monkeypatch.setenv("SECRET_KEY", "x" * 31)
    with pytest.raises(ConfigError, match="at least 32"):
        load_config({"FORUM_ENV": "production"})
    key = secrets.token_hex(16)  # 32 characters, random
    monkeypatch.setenv("SECRET_KEY", key)
    assert load_config({"FORUM_ENV": "production"})["SECRET_KEY"] == key


@pytest.mark.parametrize("weak", ["a" * 32, "abc" * 11, "password" * 4, "ab" * 40])
def test_production_refuses_a_long_but_predictable_secret_key(monkeypatch, weak: str) -> None:
    """Issue 22: 32 × "a" started; a key must be random, not only long."""
    from forum_app.config import ConfigError, load_config, secret_key_bits

    monkeypatch.setenv("SECRET_KEY", weak)
    with pytest.raises(ConfigError, match="too predictable"):
        load_config({"FORUM_ENV": "production"})
    # Keys made the way the docs say pass, every time (the measure of a random key never dips near the limit).
    for _ in range(200):
        for key in (secrets.token_hex(16), secrets.token_urlsafe(48)):
            monkeypatch.setenv("SECRET_KEY", key)
            assert load_config({"FORUM_ENV": "production"})["SECRET_KEY"] == key and secret_key_bits(key) >= 64


def test_password_pages_are_never_cached(app, client, make):
    user_id = make.user_id(make.user(password=False))
    with app.app_context():
        token = tokens.make_password_token(db.session.get(User, user_id), "set-password")
    for path in ("/login", "/reset-password", f"/set-password/{token}", f"/reset-password/{token}-bad"):
        assert client.get(path).headers.get("Cache-Control") == "no-store", path


def test_referrer_policy_is_no_referrer(client):
    assert client.get("/login").headers["Referrer-Policy"] == "no-referrer"


def test_server_header_names_no_version(live_server):
    with urllib.request.urlopen(live_server + "/login") as response:
        servers = response.headers.get_all("Server")
    assert servers and not any("Werkzeug" in s or "Python" in s or "/" in s for s in servers), servers


def test_cookies_use_the_host_prefix_under_https(app, make, monkeypatch):
    from forum_app.config import load_config

    monkeypatch.setenv("BASE_URL", "https://forum.example.org")
    config = load_config({"FORUM_ENV": "testing"})
    assert (config["SESSION_COOKIE_NAME"], config["SESSION_COOKIE_SECURE"]) == ("__Host-forum_session", True)
    saved = {k: app.config[k] for k in ("SESSION_COOKIE_NAME", "SESSION_COOKIE_SECURE")}
    app.config.update({k: config[k] for k in saved})
    try:
        email = make.user()
        client = app.test_client()
        token = csrf_token(client, "https://localhost/login")
        response = client.post(
            "https://localhost/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 302
        cookies = response.headers.getlist("Set-Cookie")
        for name in ("__Host-forum_session=", "__Host-forum_device="):
            [cookie] = [c for c in cookies if c.startswith(name)]
            assert "Secure" in cookie and "Path=/" in cookie and "Domain" not in cookie
    finally:
        app.config.update(saved)

"""Test fixtures: one app for the whole session, a clean database for every test.

The database is SQLite (a file, so a live server thread can share it) unless
``TEST_DATABASE_URL`` names another, e.g. PostgreSQL. The schema is built by running
the real migrations, so every test run also proves the migrations work. Under pytest-xdist
(``make test-fast``) each worker has its own database: SQLite files are in the worker's own
temporary directory, and on PostgreSQL worker ``gw0`` uses ``<name>_gw0``, created if missing.

Tests never keep an app context pushed while they make requests: a request then gets
its own context, session and ``g``, as it would in production.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, make_url, text

from forum_app import create_app
from forum_app.extensions import db
from forum_app.models import Base

from . import factories

# The live server, Chromium and page fixtures for the browser journeys; Dovecot and the two ways mail
# comes in for the inbound tests.
pytest_plugins = ["tests.browser", "tests.inbound"]

LOADED_RE = re.compile(r'name="loaded" type="hidden" value="([^"]*)"|name="loaded" value="([^"]*)"')
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI a skipped test is a failed one: CI installs everything the tests need (Chromium, nginx,
    Dovecot, PostgreSQL), so a skip there means something was not set up, and a green run would hide it."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("CI") == "true" and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"skipped in CI, which must run every test: {reason}"


@pytest.fixture(autouse=True)
def no_context_left_pushed() -> Iterator[None]:
    """A test that leaves an app or request context pushed fails, and the context is popped: requests
    of later tests on the same worker would otherwise reuse its ``g`` (and its signed-in person)."""
    yield
    from flask.globals import _cv_app, _cv_request

    left = []
    while (request_ctx := _cv_request.get(None)) is not None:
        left.append("request")
        request_ctx.pop()
    while (app_ctx := _cv_app.get(None)) is not None:
        left.append("app")
        app_ctx.pop()
    if left:
        pytest.fail(f"the test left {len(left)} context(s) pushed ({', '.join(left)})")


def redis_test_url(slot: int) -> str:
    """A Redis database of its own for one test module (``slot``) and one xdist worker: the tests empty
    their database before and after, and the two workers of ``make test`` must not empty each other's.
    Databases 15 down to 6 (the multi-node test, which runs alone, uses 12 outside the parallel run)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker.removeprefix("gw") or 0)
    return f"redis://127.0.0.1:6379/{15 - slot - 2 * index}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return worker_database(url, worker) if worker else url


def worker_database(url: str, worker: str) -> str:
    """``url`` with the database named for one xdist worker (``forum_test`` → ``forum_test_gw0``), created
    if missing: each worker empties its database after every test, so workers must never share one."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.set(database=f"{parsed.database}.{worker}").render_as_string(hide_password=False)
    own = parsed.set(database=f"{parsed.database}_{worker}")
    server = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as conn:
            if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": own.database}).first() is None:
                conn.execute(text(f'CREATE DATABASE "{own.database}"'))
    finally:
        server.dispose()
    return own.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory) -> Iterator[Flask]:
    os.environ["FORUM_INSTANCE_DIR"] = str(tmp_path_factory.mktemp("instance"))
    app = create_app(
        {
            "FORUM_ENV": "testing",
            "SECRET_KEY": "test-secret-key-not-for-production",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "BASE_URL": "http://forum.test",
            "PAGE_SIZE": 10,
        }
    )
    with app.app_context():
        _drop_everything()
        from flask_migrate import upgrade

        upgrade()
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


def _drop_everything() -> None:
    """Start from an empty database even if an earlier run left tables behind."""
    Base.metadata.drop_all(db.engine)
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(autouse=True)
def _clean_database(request) -> Iterator[None]:
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        db.session.remove()
        tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            if db.engine.dialect.name == "postgresql":
                conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    conn.execute(text(f'DELETE FROM "{table}"'))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    """An app context for tests that call services directly (not while making requests)."""
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def make(app: Flask) -> factories.Factory:
    return factories.Factory(app)


# --- helpers for tests that drive the web pages ------------------------------------------------


def csrf_token(client: FlaskClient, path: str) -> str:
    html = client.get(path, follow_redirects=True).get_data(as_text=True)
    match = CSRF_RE.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1) or match.group(2)


def login(client: FlaskClient, email: str, password: str = factories.PASSWORD, next_url: str = ""):
    """Submit the login form as a person would; the response, whatever it is (for tests of logging in)."""
    token = csrf_token(client, "/login")
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token, "next": next_url})


def sign_in(client: FlaskClient, email: str, password: str = factories.PASSWORD) -> FlaskClient:
    """``client`` signed in as ``email`` through the login form; the test fails here if that did not work.

    The one way tests sign in (``sign_in(app.test_client(), email)`` for a new client); the browser
    journeys have theirs in tests/browser.py.
    """
    response = login(client, email, password)
    assert response.status_code == 302 and not response.headers["Location"].startswith("/login"), (
        f"login of {email} failed ({response.status_code})"
    )
    return client


def post_form(client: FlaskClient, form_path: str, data: dict, action: str | None = None):
    """POST ``data`` to ``action`` (default: the form's own path) as a browser would submit the
    form at ``form_path``: with its CSRF token and, for a record form, the hidden values it was
    opened with (``loaded``), unless ``data`` gives its own."""
    page = client.get(form_path, follow_redirects=True).get_data(as_text=True)
    match = CSRF_RE.search(page)
    assert match, f"no CSRF token on {form_path}"
    hidden = {"csrf_token": match.group(1) or match.group(2)}
    loaded = LOADED_RE.search(page)
    if loaded and action is None:
        hidden["loaded"] = html.unescape(loaded.group(1) or loaded.group(2) or "")
    return client.post(action or form_path, data={**hidden, **data})


@pytest.fixture
def count_queries(app: Flask):
    """Count SQL statements run inside a ``with count_queries() as counter:`` block."""

    @contextmanager
    def counter():
        with app.app_context():
            engine = db.engine
        seen: list[str] = []

        def before(conn, cursor, statement, parameters, context, executemany):
            seen.append(statement)

        event.listen(engine, "before_cursor_execute", before)
        try:
            yield seen
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return counter

"""Security headers on every kind of response, and error pages that name an incident, never a traceback.

Kinds: an HTML page, a JSON API answer, a calendar (.ics) download and feed, CSV and XLSX
exports, a static file, a redirect, and the 400/403/404/405/413/500 errors (pages and JSON).
Each carries the Content-Security-Policy without 'unsafe-inline' and with
frame-ancestors 'none', nosniff, the referrer policy and an X-Request-Id; under https,
HSTS; for a signed-in person (or an API token), ``Cache-Control: no-store``.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from forum_app.api.tokens import TokenInput, create_token
from forum_app.calendar.feeds import regenerate_feed_token
from forum_app.extensions import db
from forum_app.models import User

from .conftest import csrf_token, sign_in
from .factories import Factory


def assert_secure(response, kind: str, *, signed_in: bool, https: bool = False) -> None:
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp, (kind, csp)
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, (kind, csp)
    assert headers.get("X-Content-Type-Options") == "nosniff", kind
    assert headers.get("X-Frame-Options") == "DENY", kind
    assert headers.get("Referrer-Policy") == "no-referrer", kind
    assert len(headers.get("X-Request-Id", "")) >= 8, kind
    hsts = headers.get("Strict-Transport-Security", "")
    assert ("max-age=31536000" in hsts) == https, (kind, hsts)
    if signed_in:
        assert headers.get("Cache-Control") == "no-store", (kind, headers.get("Cache-Control"))


@pytest.fixture
def people(app: Flask, make: Factory) -> dict:
    world = make.world()
    meeting = make.meeting(world["forum"])
    make.invite(meeting, world["organiser"])
    with app.app_context():
        organiser = db.session.execute(select(User).where(User.email == world["organiser"])).scalar_one()
        _, secret = create_token(organiser, TokenInput(name="headers"))
        feed = regenerate_feed_token(organiser)
        db.session.commit()
    return {**world, "meeting": meeting, "api": secret, "feed": feed}


def kinds(client: FlaskClient, people: dict, base_url: str = "http://localhost") -> dict[str, object]:
    """One response of every kind, as the organiser signed in on ``client``."""
    bearer = {"Authorization": f"Bearer {people['api']}"}
    client = Through(client, base_url)
    return {
        "HTML page": client.get("/"),
        "JSON API": client.get("/api/v1/forums", headers=bearer),
        "API error (404)": client.get("/api/v1/meetings/999999", headers=bearer),
        "meeting .ics": client.get(f"/meetings/{people['meeting']}.ics"),
        "CSV export": client.get("/reports/export/actions.csv"),
        "XLSX export": client.get("/reports/export/meetings.xlsx"),
        "static file": client.get("/static/css/app.css"),
        "redirect": client.get("/login"),
        "400 (no CSRF token)": client.post("/account", data={}),
        "403 page": client.get("/admin/users"),
        "404 page": client.get("/no-such-page"),
        "405 page": client.get("/logout"),
        "413 page": client.post("/account", data={"name": "x" * (21 * 1024 * 1024)}),
    }


class Through:
    """``client`` with every request sent to ``base_url`` and its body read (a streamed export ends its context)."""

    def __init__(self, client: FlaskClient, base_url: str):
        self.client, self.base_url = client, base_url

    def get(self, *args, **kwargs):
        return self._done(self.client.get(*args, base_url=self.base_url, **kwargs))

    def post(self, *args, **kwargs):
        return self._done(self.client.post(*args, base_url=self.base_url, **kwargs))

    @staticmethod
    def _done(response):
        response.get_data()
        response.close()
        return response


EXPECTED_STATUS = {
    "HTML page": 200,
    "JSON API": 200,
    "API error (404)": 404,
    "meeting .ics": 200,
    "CSV export": 200,
    "XLSX export": 200,
    "static file": 200,
    "redirect": 302,
    "400 (no CSRF token)": 400,
    "403 page": 403,
    "404 page": 404,
    "405 page": 405,
    "413 page": 413,
}


def test_every_kind_of_response_carries_the_headers_signed_in(app: Flask, people: dict) -> None:
    client = sign_in(app.test_client(), people["organiser"])
    responses = kinds(client, people)
    assert {kind: r.status_code for kind, r in responses.items()} == EXPECTED_STATUS
    for kind, response in responses.items():
        # Static files are the same for everyone: they keep their long cache (web_delivery) when versioned.
        assert_secure(response, kind, signed_in=kind != "static file")


def test_under_https_every_kind_carries_hsts(app: Flask, people: dict) -> None:
    client = sign_in(app.test_client(), people["organiser"])
    responses = kinds(client, people, base_url="https://localhost")
    assert {kind: r.status_code for kind, r in responses.items()} == EXPECTED_STATUS
    for kind, response in responses.items():
        assert_secure(response, kind, signed_in=kind != "static file", https=True)


def test_signed_out_responses_carry_the_headers_and_the_feed_stays_private(app: Flask, people: dict) -> None:
    client = app.test_client()
    api_only = {"Authorization": f"Bearer {people['api']}"}
    for kind, response in {
        "login page": client.get("/login"),
        "redirect to login": client.get("/forums"),
        "health check": client.get("/healthz"),
        "API with a token only": client.get("/api/v1/forums", headers=api_only),
        "API without a token (401)": client.get("/api/v1/forums"),
    }.items():
        assert response.status_code in (200, 302, 401), kind
        assert_secure(response, kind, signed_in=kind == "API with a token only")
    feed = client.get(f"/calendar/{people['feed']}.ics")
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    assert_secure(feed, "calendar feed", signed_in=False)
    # A secret address: a calendar app may keep it, a shared cache never.
    assert feed.headers["Cache-Control"].startswith("private")


def test_a_20_mb_request_is_refused_with_413(app: Flask, people: dict) -> None:
    client = sign_in(app.test_client(), people["organiser"])
    token = csrf_token(client, "/account")
    body = b"x" * (20 * 1024 * 1024)
    for path, kwargs in {
        "/account": {"data": {"csrf_token": token, "name": body.decode()}},
        "/login": {"data": body, "content_type": "application/octet-stream"},
        f"/api/v1/meetings/{people['meeting']}/rsvp": {
            "data": b'{"answer": "' + body + b'"}',
            "content_type": "application/json",
            "headers": {"Authorization": f"Bearer {people['api']}"},
        },
    }.items():
        response = client.post(path, **kwargs)
        assert response.status_code == 413, path
        assert_secure(response, f"413 on {path}", signed_in=True)


@pytest.fixture
def broken_page(app: Flask, monkeypatch):
    """The privacy page (and an API route) raise: a bug in a view, as production would meet it."""

    def boom(*args, **kwargs):
        raise RuntimeError("secret-internal-detail /srv/forum_app/views.py line 42")

    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    monkeypatch.setitem(app.view_functions, "core.privacy", boom)
    monkeypatch.setitem(app.view_functions, "api.forums", boom)


def test_a_500_page_names_its_incident_and_shows_no_traceback(app: Flask, people: dict, broken_page, caplog) -> None:
    client = sign_in(app.test_client(), people["organiser"])
    page = client.get("/privacy")
    api = client.get("/api/v1/forums", headers={"Authorization": f"Bearer {people['api']}"})
    for kind, response in {"500 page": page, "500 API": api}.items():
        assert response.status_code == 500, kind
        assert_secure(response, kind, signed_in=True)
        body = response.get_data(as_text=True)
        assert "Traceback" not in body and "secret-internal-detail" not in body and "RuntimeError" not in body, kind
    incident = page.headers["X-Request-Id"]
    assert f"Reference for support: {incident}" in page.get_data(as_text=True)
    assert api.is_json and set(api.get_json()) == {"message", "errors"}
    # The log ties the number the person quotes to the traceback.
    assert any(incident in record.getMessage() for record in caplog.records)


def test_error_pages_name_their_incident(app: Flask, people: dict) -> None:
    client = sign_in(app.test_client(), people["participant"])
    for path, status in (("/admin/users", 403), ("/no-such-page", 404), ("/logout", 405)):
        response = client.get(path)
        assert response.status_code == status
        body = response.get_data(as_text=True)
        assert response.headers["X-Request-Id"] in body and "Traceback" not in body, path
    refused = client.post("/account", data={})
    assert refused.status_code == 400 and refused.headers["X-Request-Id"] in refused.get_data(as_text=True)

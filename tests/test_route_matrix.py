"""The role × route matrix, whole: every route of the app has a row in some role table.

The tables live next to their features (below, ``TABLES``); this file adds the one for the
blueprints none of them covers (sign-in, the home page, reports, the health check, the
privacy page, static files, the API's description) and proves that together they cover
every (method, rule) of ``app.url_map``. tests/test_deny_by_default.py proves the rules
that hold for every route whatever the table says.

Reports name no object in their URL: which forums' figures a person sees is proved by
tests/test_reports.py::test_reach_by_role (an organiser never sees another grant's forum).
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from forum_app.extensions import db
from forum_app.models import Grant

from . import (
    test_action_permissions,
    test_admin,
    test_api_routes,
    test_forum_permissions,
    test_notify_routes,
    test_reviews,
)
from .conftest import csrf_token, sign_in
from .factories import Factory
from .routes import outcome

TABLES = {
    "tests/test_admin.py": test_admin.ROUTES,
    "tests/test_forum_permissions.py": test_forum_permissions.ROUTES,
    "tests/test_action_permissions.py": test_action_permissions.ROUTES,
    "tests/test_notify_routes.py": test_notify_routes.ROUTES,
    "tests/test_reviews.py": test_reviews.ROWS,
    "tests/test_api_routes.py": test_api_routes.ROUTES,
}

ROLES = ("anonymous", "admin", "staff", "organiser", "participant", "observer", "outsider")
L = "login"  # sent to the login page

# (method, rule) → outcome for each of ROLES. POSTs carry only a valid CSRF token: a form with nothing
# filled in is refused as bad input (400), which shows the person got past the permission check.
REST: dict[tuple[str, str], tuple[Any, ...]] = {
    ("GET", "/"): (L, 200, 200, 200, 200, 200, 200),
    ("GET", "/account/password"): (L, 200, 200, 200, 200, 200, 200),
    ("POST", "/account/password"): (L, 400, 400, 400, 400, 400, 400),
    ("GET", "/api/v1/openapi.json"): (200,) * 7,
    ("GET", "/healthz"): (200,) * 7,
    ("POST", "/language"): (302,) * 7,
    # A signed-in person asking for the login page goes home.
    ("GET", "/login"): (200, 302, 302, 302, 302, 302, 302),
    ("POST", "/login"): (400,) * 7,
    ("GET", "/privacy"): (200,) * 7,
    ("GET", "/reports"): (L, 200, 200, 200, 403, 403, 403),
    ("GET", "/reports/actions"): (L, 200, 200, 200, 403, 403, 403),
    ("GET", "/reports/export/<any(meetings, attendance, actions):what>.<any(csv, xlsx):fmt>"): (
        L,
        200,
        200,
        200,
        403,
        403,
        403,
    ),
    ("GET", "/reports/meetings"): (L, 200, 200, 200, 403, 403, 403),
    ("GET", "/reports/progress"): (L, 200, 200, 200, 403, 403, 403),
    # Indicators and their targets are programme staff's.
    ("GET", "/reports/indicators"): (L, 200, 200, 403, 403, 403, 403),
    ("POST", "/reports/indicators"): (L, 400, 400, 403, 403, 403, 403),
    ("POST", "/reports/indicators/targets"): (L, 400, 400, 403, 403, 403, 403),
    ("GET", "/reset-password"): (200,) * 7,
    ("POST", "/reset-password"): (400,) * 7,
    # A forged link token: refused alike for everyone.
    ("GET", "/reset-password/<token>"): (400,) * 7,
    ("POST", "/reset-password/<token>"): (400,) * 7,
    ("GET", "/set-password/<token>"): (400,) * 7,
    ("POST", "/set-password/<token>"): (400,) * 7,
    ("GET", "/static/<path:filename>"): (200,) * 7,
    # One's own second factor. Without one turned on, the regenerate and disable buttons change nothing
    # (a message and back to the settings); just signed in, no password is asked again.
    ("GET", "/account/second-factor"): (L, 200, 200, 200, 200, 200, 200),
    ("POST", "/account/second-factor"): (L, 400, 400, 400, 400, 400, 400),
    ("POST", "/account/second-factor/recovery-codes"): (L, 302, 302, 302, 302, 302, 302),
    ("POST", "/account/second-factor/disable"): (L, 302, 302, 302, 302, 302, 302),
    ("GET", "/reauth"): (L, 200, 200, 200, 200, 200, 200),
    ("POST", "/reauth"): (L, 400, 400, 400, 400, 400, 400),
    # Steps of signing in: with no sign-in pending (no password just given) they send everyone to the login page.
    ("GET", "/login/code"): (L,) * 7,
    ("POST", "/login/code"): (L,) * 7,
    ("GET", "/login/enrol"): (L,) * 7,
    ("POST", "/login/enrol"): (L,) * 7,
    # The audit log is searched by administrators and programme staff; the chain check is the administrators'.
    ("GET", "/admin/audit"): (L, 200, 200, 403, 403, 403, 403),
    ("GET", "/admin/audit/verify"): (L, 200, 403, 403, 403, 403, 403),
    ("POST", "/admin/audit.csv"): (L, 200, 200, 403, 403, 403, 403),
    # Published news is public; drafts are written by staff and organisers (for their grant), edited by their
    # author (the organiser) and admins. The item is published: publishing it again without its version is refused.
    ("GET", "/news"): (200,) * 7,
    ("GET", "/news/feed.atom"): (200,) * 7,
    ("GET", "/news/<int:news_id>"): (200,) * 7,
    ("GET", "/news/new"): (L, 200, 200, 200, 403, 403, 403),
    ("POST", "/news/new"): (L, 400, 400, 400, 403, 403, 403),
    ("GET", "/news/<int:news_id>/edit"): (L, 200, 403, 200, 403, 403, 403),
    ("POST", "/news/<int:news_id>/edit"): (L, 400, 403, 400, 403, 403, 403),
    ("POST", "/news/<int:news_id>/publish"): (L, 400, 403, 400, 403, 403, 403),
    ("POST", "/news/<int:news_id>/withdraw"): (L, 400, 403, 400, 403, 403, 403),
    # The programme report reads like the other reports; an indicator's history and edits are programme staff's.
    ("GET", "/reports/programme"): (L, 200, 200, 200, 403, 403, 403),
    ("GET", "/reports/programme.pdf"): (L, 200, 200, 200, 403, 403, 403),
    ("GET", "/reports/indicators/<int:indicator_id>"): (L, 200, 200, 403, 403, 403, 403),
    ("POST", "/reports/indicators/<int:indicator_id>"): (L, 400, 400, 403, 403, 403, 403),
    ("POST", "/reports/indicators/<int:indicator_id>/retire"): (L, 302, 302, 403, 403, 403, 403),
    ("POST", "/reports/indicators/<int:indicator_id>/reinstate"): (L, 302, 302, 403, 403, 403, 403),
    # Documents of the world's forum: its organisers (and admins) add and delete, members and staff read,
    # outsiders get 404. An empty delete (no version) goes back to the document with a message (303).
    ("GET", "/forums/<int:forum_id>/documents/new"): (L, 200, 403, 200, 403, 403, 404),
    ("POST", "/forums/<int:forum_id>/documents/new"): (L, 400, 403, 400, 403, 403, 404),
    ("GET", "/meetings/<int:meeting_id>/documents/new"): (L, 200, 403, 200, 403, 403, 404),
    ("POST", "/meetings/<int:meeting_id>/documents/new"): (L, 400, 403, 400, 403, 403, 404),
    ("GET", "/documents/<int:document_id>"): (L, 200, 200, 200, 200, 200, 404),
    ("GET", "/documents/<int:document_id>/versions/<int:number>/file"): (L, 200, 200, 200, 200, 200, 404),
    ("POST", "/documents/<int:document_id>/versions"): (L, 400, 403, 400, 403, 403, 404),
    ("POST", "/documents/<int:document_id>/delete"): (L, 303, 403, 303, 403, 403, 404),
    ("POST", "/logout"): (L,) * 7,  # last: it ends the session (a signed-in person lands on the login page)
}
VALUES = {"token": "forged-0123456789abcdef", "filename": "css/app.css", "what": "actions", "fmt": "xlsx"}


def test_the_routes_no_feature_table_covers(app: Flask, make: Factory) -> None:
    world = make.world()
    meeting = make.meeting(world["forum"], state="held", starts_in_days=-7)
    with app.app_context():
        programme_id = db.session.get(Grant, world["grant"]).programme_id
    # Objects of the world's grant: a forum document, a published news item its organiser wrote, an indicator.
    values = {
        **VALUES,
        "forum_id": world["forum"],
        "meeting_id": meeting,
        "document_id": make.document(world["forum"]),
        "number": 1,
        "news_id": make.news_item(world["grant"], world["organiser"]),
        "indicator_id": make.indicator(programme_id),
    }
    rules = {(method, rule.rule): rule for rule in app.url_map.iter_rules() for method in rule.methods}
    adapter = app.url_map.bind("forum.test")
    got: dict[tuple[str, str], list[Any]] = {}
    for role in ROLES:
        client = app.test_client()
        if role != "anonymous":
            sign_in(client, world[role])
        token = csrf_token(client, "/login" if role == "anonymous" else "/account")
        for method, rule_text in REST:
            rule = rules[(method, rule_text)]
            path = adapter.build(rule.endpoint, {name: values[name] for name in rule.arguments}, method=method)
            response = client.get(path) if method == "GET" else client.post(path, data={"csrf_token": token})
            got.setdefault((method, rule_text), []).append(outcome(response))
            # As a WSGI server does after sending it: a streamed export keeps its request context until closed.
            response.close()
    assert {key: tuple(value) for key, value in got.items()} == REST


def test_every_route_has_a_row_in_a_role_table(app: Flask) -> None:
    registered = {
        (method, rule.rule) for rule in app.url_map.iter_rules() for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    covered = {(route.method, route.rule) for table in TABLES.values() for route in table} | set(REST)
    missing = sorted(registered - covered)
    assert not missing, (
        "routes with no row in any role table: "
        + ", ".join(f"{m} {r}" for m, r in missing)
        + ".\nAdd each to the role table of its feature (one of "
        + ", ".join(TABLES)
        + ") or, for a blueprint with no table, to REST in tests/test_route_matrix.py: the outcome for each role."
    )
    assert not covered - registered, f"role tables name routes that no longer exist: {sorted(covered - registered)}"

"""The API's route table: every /api/v1 route × every kind of caller, compared in one assertion.

The HTML tables (``tests/routes.py``) walk forms with a CSRF token; the API has no forms, so this
walker sends JSON with an ``Authorization: Bearer`` header instead. A POST that must name the
version it saw (an action update) reads it first from the detail route, as a script would, so
a refusal in the table is a permission answer and never a stale version. A new /api/v1 route
without a row fails ``test_every_api_route_has_a_row``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from forum_app.api.tokens import TokenInput, create_token
from forum_app.extensions import db
from forum_app.models import User

from .factories import Factory
from .routes import fill_path

CALLERS = ("anonymous", "admin", "staff", "organiser", "participant", "outsider", "read-only")


@dataclass(frozen=True)
class ApiRoute:
    method: str
    rule: str
    # "own": the forum of the world's grant; "other": another grant's forum (the organiser's blind spot).
    targets: str = "own"
    body: dict[str, Any] = field(default_factory=dict)
    # Where a POST reads the version it sends, if it must send one.
    version_from: str | None = None

    def __str__(self) -> str:
        return f"{self.method} {self.rule} [{self.targets}]"


ROUTES = (
    ApiRoute("GET", "/api/v1/openapi.json"),
    ApiRoute("GET", "/api/v1/programmes"),
    ApiRoute("GET", "/api/v1/grants"),
    ApiRoute("GET", "/api/v1/forums"),
    ApiRoute("GET", "/api/v1/forums/<int:forum_id>"),
    ApiRoute("GET", "/api/v1/forums/<int:forum_id>", "other"),
    ApiRoute("GET", "/api/v1/meetings"),
    ApiRoute("GET", "/api/v1/meetings/<int:meeting_id>"),
    ApiRoute("GET", "/api/v1/meetings/<int:meeting_id>", "other"),
    ApiRoute("POST", "/api/v1/meetings/<int:meeting_id>/rsvp", body={"answer": "accepted"}),
    ApiRoute("POST", "/api/v1/meetings/<int:meeting_id>/rsvp", "other", body={"answer": "accepted"}),
    ApiRoute("GET", "/api/v1/actions"),
    ApiRoute("GET", "/api/v1/actions/<int:action_id>"),
    ApiRoute("GET", "/api/v1/actions/<int:action_id>", "other"),
    ApiRoute(
        "POST",
        "/api/v1/actions/<int:action_id>/updates",
        body={"note": "Progress."},
        version_from="/api/v1/actions/<int:action_id>",
    ),
    ApiRoute(
        "POST",
        "/api/v1/actions/<int:action_id>/updates",
        "other",
        body={"note": "Progress."},
        version_from="/api/v1/actions/<int:action_id>",
    ),
)


def walk_api(client: FlaskClient, routes, targets: dict[str, dict[str, int]], secret: str | None) -> dict[str, int]:
    """Request every route in order with the bearer ``secret`` (none: anonymous); {str(route): status}."""
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    got: dict[str, int] = {}
    for route in routes:
        ids = targets[route.targets]
        path = fill_path(route.rule, ids)
        if route.method == "GET":
            response = client.get(path, headers=headers)
        else:
            body = dict(route.body)
            if route.version_from:
                seen = client.get(fill_path(route.version_from, ids), headers=headers)
                body["version"] = seen.get_json()["version"] if seen.status_code == 200 else 1
            response = client.post(path, json=body, headers=headers)
        got[str(route)] = response.status_code
    return got


def _secret(app: Flask, email: str, can_write: bool) -> str:
    with app.app_context():
        user = db.session.execute(db.select(User).where(User.email == email)).scalar_one()
        _, secret = create_token(user, TokenInput(name="table", can_write=can_write))
        db.session.commit()
        return secret


def _world(make: Factory) -> tuple[dict, dict]:
    world = make.world()
    meeting = make.meeting(world["forum"])
    for role in ("admin", "staff", "organiser", "participant"):
        make.invite(meeting, world[role])  # an invitation also shows the meeting: the outsider has none
    action = make.action(world["forum"], world["participant"])
    other_owner = make.user()
    make.add_member(world["other_forum"], other_owner)
    other_meeting = make.meeting(world["other_forum"])
    make.invite(other_meeting, other_owner)
    other_action = make.action(world["other_forum"], other_owner)
    targets = {
        "own": {"forum_id": world["forum"], "meeting_id": meeting, "action_id": action},
        "other": {"forum_id": world["other_forum"], "meeting_id": other_meeting, "action_id": other_action},
    }
    return world, targets


# Who reaches what. The organiser, participant and outsider never reach another grant's objects
# (404, as for a missing one); a read-only token reads like its person and never writes (403).
def expected(route: ApiRoute, caller: str) -> int:
    if route.rule.endswith("openapi.json"):
        return 200
    if caller == "anonymous":
        return 401
    if route.method == "POST" and caller == "read-only":
        return 403
    reaches = {
        "admin": True,
        "staff": True,
        "organiser": route.targets == "own",
        "participant": route.targets == "own",
        "read-only": route.targets == "own",
        "outsider": False,
    }
    if "<" in route.rule and not reaches[caller]:
        return 404
    if route.method == "GET":
        return 200
    if route.rule.endswith("/rsvp"):
        # Every caller who reaches the own meeting is invited to it; on the other one nobody here is:
        # who may answer is a role rule, refused 403 (issue 23), not bad input (422).
        return 200 if route.targets == "own" else 403
    # A note on an action: its owner and organisers post progress, programme staff a review comment.
    return 201


@pytest.mark.parametrize("caller", CALLERS)
def test_api_route_table(app: Flask, make: Factory, caller: str) -> None:
    world, targets = _world(make)
    if caller == "anonymous":
        secret = None
    elif caller == "read-only":
        secret = _secret(app, world["participant"], can_write=False)
    else:
        secret = _secret(app, world[caller], can_write=True)
    got = walk_api(app.test_client(), ROUTES, targets, secret)
    assert got == {str(route): expected(route, caller) for route in ROUTES}


def test_every_api_route_has_a_row(app: Flask) -> None:
    registered = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert len(registered) >= 11, "the API lost its routes?"
    assert {(route.method, route.rule) for route in ROUTES} == registered

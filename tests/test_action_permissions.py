"""Agreed actions: every route of the ``actions`` blueprint against every role.

Semantics (forum_app/permissions/): anonymous visitors are sent to log in, except on
the emailed confirmation link, which works for anyone holding it and signs nobody in;
participants and observers see their forum's actions and update only their own;
organisers of the forum's grant manage all of them; programme staff read everything and
add review comments but change no state and manage nothing; a guest (invited to a
meeting, not a member) sees only the actions raised at that meeting that they own;
outsiders and organisers of another grant get 404. Successful POSTs are checked against
the audit trail: each wrote exactly its own events, and a refused one wrote nothing.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, select

from forum_app.actions.services import confirm_link_token
from forum_app.extensions import db
from forum_app.models import ActionItem, AuditEvent, ForumMember

from .conftest import csrf_token, sign_in
from .factories import Factory
from .routes import TargetIds, acting_as, assert_covers, expect, walk

ROLES = ["anonymous", "admin", "staff", "organiser", "participant", "observer", "outsider", "other_organiser", "guest"]
BASE_ROLES = ("admin", "staff", "organiser", "participant", "observer", "outsider", "guest")
OK = "ok"  # 200 for a GET, 302 (redirect after the action) for a POST
PAGE = 200  # the confirmation link answers with a page, GET and POST alike

KINDS: dict[str, tuple[Any, ...]] = {
    "signed_in": (OK, OK, OK, OK, OK, OK, OK),
    "view": (OK, OK, OK, OK, OK, 404, 404),
    "edit": (OK, 403, OK, 403, 403, 404, 404),
    # The meeting's own pages: the guest is invited to it, so sees it, but runs nothing.
    "edit_meeting": (OK, 403, OK, 403, 403, 404, 403),
    # The participant's action: its owner, the organisers and (as a comment) staff post updates.
    "update": (OK, OK, OK, OK, 403, 404, 404),
    "answer": (403, 403, 403, OK, 403, 404, 404),
    # The guest's own action, raised at the meeting they are invited to.
    "view_own": (OK, OK, OK, OK, OK, 404, OK),
    "update_own": (OK, OK, OK, 403, 403, 404, OK),
    "link": (PAGE,) * 7,
}


class Targets(TargetIds):
    def version(self, key: str) -> str:
        with self.app.app_context():
            return str(db.session.get(ActionItem, self.ids[key]).version)


def build(app: Flask, make: Factory) -> dict[str, Any]:
    w = make.world()
    w["other_organiser"] = make.user()
    make.add_to_team(w["other_grant"], w["other_organiser"])
    w["guest"] = make.user()
    forum = w["forum"]
    ids: dict[str, Any] = {"forum": forum, "other_forum": w["other_forum"], "decision": 1}
    ids["earlier"] = make.meeting(forum, state="held", starts_in_days=-40)
    ids["held"] = make.meeting(forum, state="held", starts_in_days=-7)
    make.minutes(ids["held"], versions=1, author_email=w["organiser"])
    ids["reviewed"] = make.action(forum, w["participant"], meeting_id=ids["earlier"], title="Reviewed in the table")
    ids["mine"] = make.action(forum, w["participant"], meeting_id=ids["held"], title="The participant's own")
    ids["reassigned"] = make.action(forum, w["observer"], meeting_id=ids["held"], title="Reassigned in the table")
    ids["confirmed"] = make.action(forum, w["observer"], meeting_id=ids["held"], title="Confirmed by link")
    # The guest owned an action while a member, then left the forum and is invited to that meeting only.
    make.add_member(forum, w["guest"])
    ids["guests"] = make.action(forum, w["guest"], meeting_id=ids["held"], title="The guest's own")
    guest_id = make.user_id(w["guest"])
    with app.app_context():
        db.session.execute(delete(ForumMember).where(ForumMember.user_id == guest_id))
        db.session.commit()
    make.invite(ids["held"], w["guest"])
    other_meeting = make.meeting(w["other_forum"], state="held", starts_in_days=-7)
    elsewhere = make.user()
    make.add_member(w["other_forum"], elsewhere)
    ids["other_action"] = make.action(w["other_forum"], elsewhere, meeting_id=other_meeting)
    ids["participant_id"] = make.user_id(w["participant"])
    ids["observer_id"] = make.user_id(w["observer"])
    with app.app_context():
        ids["token"] = confirm_link_token(db.session.get(ActionItem, ids["confirmed"]))
        db.session.remove()
    return {"world": w, "targets": Targets(app, ids)}


@dataclass(frozen=True)
class Route:
    method: str
    rule: str
    kind: str
    on: tuple[tuple[str, Any], ...]
    data: Callable[[Targets], dict[str, str]] | None = None
    verbs: Callable[[str], tuple[str, ...]] = lambda role: ()

    @property
    def forum(self) -> str:
        return "other_forum" if any(str(v).startswith("other_") for _, v in self.on) else "forum"

    def path(self, targets: Targets) -> str:
        on = dict(self.on)
        return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(targets[on[m.group(1)]]), self.rule)

    def post_data(self, targets: Targets) -> dict[str, str]:
        return self.data(targets) if self.data else {}

    def __str__(self) -> str:
        return f"{self.method} {self.rule} [{', '.join(f'{k}={v}' for k, v in self.on)}]"


def route(method: str, rule: str, kind: str, *, data=None, verbs: tuple[str, ...] | Callable = (), **on: Any) -> Route:
    assert set(re.findall(r"<(?:\w+:)?(\w+)>", rule)) == set(on), rule
    return Route(method, rule, kind, tuple(on.items()), data, verbs if callable(verbs) else (lambda role: verbs))


def details(title: str) -> dict[str, str]:
    return {
        "title": title,
        "owner_organisation_id": "0",
        "due_on": "",
        "description": "Now with **details**.",
        "case_code": "SA-2021-07",
        "themes": "Pre-release planning",
    }


def note_verb(role: str) -> tuple[str, ...]:
    return ("action.comment",) if role == "staff" else ("action.progress",)


A, F, M = "/actions/<int:action_id>", "/forums/<int:forum_id>", "/meetings/<int:meeting_id>"

ROUTES: list[Route] = [
    route("GET", "/actions", "signed_in"),
    route("GET", A, "view", action_id="mine"),
    route("GET", A, "view_own", action_id="guests"),
    route("GET", A, "view", action_id="other_action"),
    route("GET", F + "/actions", "view", forum_id="forum"),
    route("GET", F + "/actions", "view", forum_id="other_forum"),
    route("GET", F + "/actions/matrix", "view", forum_id="forum"),
    route("GET", F + "/actions/matrix", "view", forum_id="other_forum"),
    route("GET", F + "/actions/new", "edit", forum_id="forum"),
    route("GET", M + "/actions/new", "edit_meeting", meeting_id="held"),
    route("GET", M + "/decisions/<int:number>/action", "edit_meeting", meeting_id="held", number="decision"),
    route("GET", M + "/follow-up", "edit_meeting", meeting_id="held"),
    route("GET", A + "/edit", "edit", action_id="mine"),
    route("GET", "/actions/confirm/<token>", "link", token="token"),
    route(
        "POST",
        A + "/updates",
        "update",
        action_id="mine",
        verbs=note_verb,
        data=lambda t: {"note": "Met the prison's treatment team.", "version": t.version("mine")},
    ),
    route(
        "POST",
        A + "/updates",
        "update_own",
        action_id="guests",
        verbs=note_verb,
        data=lambda t: {"note": "Spoke to the centre.", "version": t.version("guests")},
    ),
    route(
        "POST",
        A + "/updates",
        "view",
        action_id="other_action",
        verbs=note_verb,
        data=lambda t: {"note": "A note elsewhere.", "version": t.version("other_action")},
    ),
    route(
        "POST", A + "/answer", "answer", action_id="mine", verbs=("action.state",), data=lambda t: {"answer": "accept"}
    ),
    route(
        "POST",
        A + "/edit",
        "edit",
        action_id="mine",
        verbs=("action.update",),
        data=lambda t: details("The participant's own, detailed"),
    ),
    route(
        "POST",
        A + "/reassign",
        "edit",
        action_id="reassigned",
        verbs=("action.reassign",),
        data=lambda t: {"owner_id": str(t["participant_id"]), "note": "", "version": t.version("reassigned")},
    ),
    route(
        "POST",
        F + "/actions/new",
        "edit",
        forum_id="forum",
        verbs=("action.raise",),
        data=lambda t: {**details("Raised between meetings"), "owner_id": str(t["participant_id"])},
    ),
    route(
        "POST",
        M + "/actions/new",
        "edit_meeting",
        meeting_id="held",
        verbs=("action.raise", "action.raise"),
        data=lambda t: {
            "rows-0-row_id": "1",
            "rows-0-was": "",
            "rows-0-title": "First of two",
            "rows-0-owner_id": str(t["participant_id"]),
            "rows-0-owner_organisation_id": "0",
            "rows-1-row_id": "2",
            "rows-1-was": "",
            "rows-1-title": "Second of two",
            "rows-1-owner_id": str(t["observer_id"]),
            "rows-1-owner_organisation_id": "0",
        },
    ),
    route(
        "POST",
        M + "/decisions/<int:number>/action",
        "edit_meeting",
        meeting_id="held",
        number="decision",
        verbs=("action.raise",),
        data=lambda t: {"title": "Decision 1", "owner_id": str(t["participant_id"]), "owner_organisation_id": "0"},
    ),
    route(
        "POST",
        M + "/follow-up",
        "edit_meeting",
        meeting_id="held",
        verbs=("action.review",),
        data=lambda t: {
            "rows-0-row_id": str(t["reviewed"]),
            "rows-0-was": t.version("reviewed"),
            "rows-0-to_state": "",
            "rows-0-note": "Discussed; carried over.",
        },
    ),
    route(
        "POST",
        "/actions/confirm/<token>",
        "link",
        token="token",
        verbs=("action.state",),
        data=lambda t: {"answer": "accept"},
    ),
]


def expected_outcome(role: str, r: Route) -> int | str:
    if role == "anonymous":
        return PAGE if r.kind == "link" else "login"
    result = KINDS[r.kind][BASE_ROLES.index(acting_as(role, r.forum))]
    if result == OK:
        return 200 if r.method == "GET" else 302
    return result


def expected_verbs(role: str) -> Counter:
    verbs: Counter = Counter()
    for r in ROUTES:
        if r.method == "POST" and expected_outcome(role, r) in (302, PAGE):
            verbs.update(r.verbs(role))
    return verbs


def test_route_table_covers_every_actions_rule(app: Flask) -> None:
    assert_covers(app, ROUTES, "actions", at_least=12)
    assert {r.kind for r in ROUTES} <= set(KINDS)
    assert len({(str(r), r.kind) for r in ROUTES}) == len(ROUTES)


@pytest.mark.parametrize("role", ROLES)
def test_actions_routes_by_role(app: Flask, make: Factory, role: str) -> None:
    """Every actions route answers each role as forum_app.permissions says, and only allowed actions change anything."""
    built = build(app, make)
    world, t = built["world"], built["targets"]
    with app.app_context():
        setup = Counter(db.session.execute(select(AuditEvent.verb)).scalars())
    client = app.test_client()
    if role == "anonymous":
        token = csrf_token(client, "/login")
    else:
        sign_in(client, world[role])
        token = csrf_token(client, "/actions")

    if role not in ("anonymous",):
        # What the lists reveal: the guest sees their own action and nothing else of the forum.
        mine = client.get("/actions").get_data(as_text=True)
        assert ("The guest&#39;s own" in mine) == (role == "guest")
        assert ("The participant&#39;s own" in mine) == (role == "participant")

    assert walk(client, ROUTES, t, token) == expect(ROUTES, lambda r: expected_outcome(role, r))

    with app.app_context():
        verbs = Counter(db.session.execute(select(AuditEvent.verb)).scalars()) - setup
        verbs.pop("access.denied", None)  # refusals are audited (tests/test_audit_chain.py), not changes
        states = {key: db.session.get(ActionItem, t[key]).state for key in ("mine", "reassigned", "confirmed")}
    verbs.pop("user.login", None)
    assert verbs == expected_verbs(role), "an action was refused, or a refused one changed something"
    manages = role in ("admin", "organiser")
    assert states == {
        "mine": "accepted" if role == "participant" else "proposed",
        "reassigned": "proposed",
        "confirmed": "accepted",
    }
    with app.app_context():
        owner = db.session.get(ActionItem, t["reassigned"]).owner_id
    assert (owner == t["participant_id"]) == manages

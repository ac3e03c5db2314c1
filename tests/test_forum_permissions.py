"""Forums and meetings: every route of the ``forums``, ``meetings`` and ``meeting_day`` blueprints against every role.

The matrix mirrors tests/test_admin.py: one world per role, one login per role (argon2
is slow), then the whole route table is walked and compared in one assertion, so a
mismatch report names every failing route at once. Successful POSTs are then checked
against the audit trail: each allowed action wrote exactly its own event, and a refused
one wrote nothing.

Semantics (forum_app/permissions/): anonymous visitors are sent to log in; staff read
everything, drafts included, but change nothing (403); organisers of the forum's grant
view and edit; members (participants, observers) see the forum and its non-draft
meetings (a draft is 404) but change nothing (403); outsiders and organisers of another
grant get 404, as if the forum did not exist; admins do everything.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from forum_app.extensions import db
from forum_app.meetings import day
from forum_app.models import AgendaItem, AuditEvent, ForumMember, Invitation, Meeting, User, WalkInAttendee

from .conftest import csrf_token, sign_in
from .factories import Factory
from .routes import TargetIds, acting_as, assert_covers, expect, walk

ROLES = ["anonymous", "admin", "staff", "organiser", "participant", "observer", "outsider", "other_organiser"]
OK = "ok"  # 200 for a GET, 302 (redirect after the action) for a POST

# Outcome by kind of route, for (admin, staff, organiser, participant, observer, outsider).
# "organiser" means an organiser of the forum's grant; "outsider" anyone with no tie to it.
KINDS: dict[str, tuple[Any, ...]] = {
    "signed_in": (OK, OK, OK, OK, OK, OK),
    "create": (OK, 403, OK, 403, 403, 403),
    "view": (OK, OK, OK, OK, OK, 404),
    "edit": (OK, 403, OK, 403, 403, 404),
    # A draft meeting, or minutes the members may not read yet: members must not learn of it.
    "view_draft": (OK, OK, OK, 404, 404, 404),
    "edit_draft": (OK, 403, OK, 404, 404, 404),
    # Circulated minutes: organisers and invitees marked present (the participant) comment;
    # the observer was invited but absent.
    "comment": (OK, 403, OK, OK, 403, 404),
    # Draft or adopted minutes: nobody comments.
    "comment_closed": (403, 403, 403, 403, 403, 404),
    # What organisers and staff read but members may not (the sign-in sheet: who was invited).
    "read_all": (OK, OK, OK, 403, 403, 404),
}
BASE_ROLES = ("admin", "staff", "organiser", "participant", "observer", "outsider")


# --- the objects every route is tried on ---------------------------------------------------------


class Targets(TargetIds):
    """Ids of the objects the routes act on; versions are read when a request is made."""

    def meeting(self, key: str) -> Meeting:
        with self.app.app_context():
            meeting = db.session.get(Meeting, self.ids[key])
            db.session.expunge(meeting)
            return meeting

    def version(self, key: str) -> str:
        return str(self.meeting(key).version)

    def revision(self, key: str) -> str:
        return str(self.meeting(key).minutes_revision)

    def item_form(self, key: str, notes: str) -> dict[str, str]:
        """An agenda item's form as the "During the meeting" page posts it (prefixed, with its loaded values)."""
        with self.app.app_context():
            item = db.session.get(AgendaItem, self.ids[key])
            p = f"item-{item.id}-"
            return {
                f"{p}csrf_token": self["token"],
                f"{p}loaded": day.ItemInput.of(item).encode(),
                f"{p}title": item.title,
                f"{p}notes_md": notes,
                f"{p}decisions": "",
            }

    def action_row(self, key: str, title: str) -> dict[str, str]:
        p = f"actions-{self.ids[key]}-"
        return {
            f"{p}csrf_token": self["token"],
            f"{p}rows-0-row_id": "1",
            f"{p}rows-0-was": "",
            f"{p}rows-0-title": title,
            f"{p}rows-0-owner_id": str(self["participant_id"]),
            f"{p}rows-0-owner_organisation_id": "0",
            f"{p}rows-0-due_on": "",
        }


def local_day(days: int) -> str:
    return (datetime.now(ZoneInfo("Europe/Sarajevo")) + timedelta(days=days)).date().isoformat()


def build(app: Flask, make: Factory) -> dict[str, Any]:
    """The world plus: meetings in every state, minutes in every state, an invitation, a walk-in."""
    w = make.world()
    w["other_organiser"] = make.user()
    make.add_to_team(w["other_grant"], w["other_organiser"])
    w["spare"] = make.user()
    make.add_member(w["forum"], w["spare"])
    forum = w["forum"]
    ids: dict[str, Any] = {
        "forum": forum,
        "other_forum": w["other_forum"],
        "grant": w["grant"],
        "other_grant": w["other_grant"],
        "number": 1,
    }

    ids["scheduled"] = make.meeting(forum, state="scheduled", starts_in_days=14)
    make.invite(ids["scheduled"], w["participant"])
    # A guest's invitation (removing the spare member also withdraws the member's own invitations).
    ids["spare_invitation"] = make.invite(ids["scheduled"], make.user())
    ids["draft"] = make.meeting(forum, state="draft", starts_in_days=30)
    make.invite(ids["draft"], w["participant"])

    # Circulated minutes (2 versions); the participant came, the observer did not.
    ids["held"] = make.meeting(forum, state="held", starts_in_days=-7)
    make.mark_attendance(make.invite(ids["held"], w["participant"]), "present")
    ids["observer_invitation"] = make.invite(ids["held"], w["observer"])
    make.mark_attendance(ids["observer_invitation"], "absent")
    ids["walk_in"] = make.walk_in(ids["held"])
    # Someone came for a guest (issue 21, part 2): the record an organiser may undo.
    ids["represented_invitation"] = make.invite(ids["held"], make.user())
    make.delegate(ids["held"], ids["represented_invitation"], "Deputy For Guest")
    make.minutes(ids["held"], versions=2, state="circulated", author_email=w["organiser"], body="CIRCULATED-TEXT")
    # Draft minutes: only organisers, staff and admins read them, even invitees who came.
    ids["held_draft"] = make.meeting(forum, state="held", starts_in_days=-40)
    make.mark_attendance(make.invite(ids["held_draft"], w["participant"]), "present")
    make.minutes(ids["held_draft"], versions=2, state="draft", author_email=w["organiser"], body="DRAFT-TEXT")
    # Circulated minutes of a meeting no member was invited to.
    ids["held_uninvited"] = make.meeting(forum, state="held", starts_in_days=-70)
    make.invite(ids["held_uninvited"], w["spare"])
    make.minutes(ids["held_uninvited"], versions=2, state="circulated", body="UNINVITED-TEXT")
    # Adopted minutes: everyone who sees the meeting reads them.
    ids["held_adopted"] = make.meeting(forum, state="held", starts_in_days=-100)
    make.minutes(ids["held_adopted"], versions=2, state="adopted", body="ADOPTED-TEXT")

    spare_id = make.user_id(w["spare"])
    with app.app_context():
        ids["spare_member"] = db.session.execute(
            select(ForumMember.id).where(ForumMember.forum_id == forum, ForumMember.user_id == spare_id)
        ).scalar_one()
    ids["other_meeting"] = make.meeting(w["other_forum"], state="scheduled", starts_in_days=10)
    # The held meeting recorded on its "During the meeting" page: its items (derived, plus two topics) and an
    # item adopting the circulated minutes of an earlier meeting.
    ids["held_previous"] = make.meeting(forum, state="held", starts_in_days=-130)
    make.minutes(ids["held_previous"], versions=1, state="circulated", body="PREVIOUS-TEXT")
    ids["participant_id"] = make.user_id(w["participant"])
    with app.app_context():
        held = db.session.get(Meeting, ids["held"])
        organiser = db.session.execute(select(User).where(User.email == w["organiser"])).scalar_one()
        day.add_adoption_item(held, db.session.get(Meeting, ids["held_previous"]))
        db.session.flush()
        ids["adoption_item"] = day.derive_items(organiser, held)[1].id
        ids["topic_item"] = day.add_item(organiser, held, "Housing").id
        ids["spare_item"] = day.add_item(organiser, held, "Spare topic").id
        db.session.commit()
    return {"world": w, "targets": Targets(app, ids)}


# --- the route table -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    method: str
    rule: str  # exactly as in app.url_map
    kind: str  # a key of KINDS
    on: tuple[tuple[str, Any], ...]  # rule placeholder → target name (or a literal)
    data: Callable[[Targets], dict[str, str]] | None = None
    query: str = ""
    verbs: tuple[str, ...] = ()  # audit verbs a successful POST writes
    verb_roles: frozenset[str] | None = None  # who succeeds, when not everyone allowed in
    note: str = ""  # tells apart two rows on the same route and object

    @property
    def forum(self) -> str | None:
        """Whose forum the objects belong to (None: no particular forum)."""
        if not self.on:
            return None
        return "other_forum" if any(str(v).startswith("other_") for _, v in self.on) else "forum"

    def path(self, targets: Targets) -> str:
        on = dict(self.on)

        def value(m: re.Match) -> str:
            target = on[m.group(1)]
            return str(targets[target] if isinstance(target, str) else target)

        path = re.sub(r"<(?:\w+:)?(\w+)>", value, self.rule)
        return f"{path}?{self.query}" if self.query else path

    def post_data(self, targets: Targets) -> dict[str, str]:
        return self.data(targets) if self.data else {}

    def __str__(self) -> str:
        objects = ", ".join(f"{k}={v}" for k, v in self.on)
        note = f" ({self.note})" if self.note else ""
        return f"{self.method} {self.rule}{'?' + self.query if self.query else ''} [{objects}]{note}"


def route(
    method: str,
    rule: str,
    kind: str,
    *,
    data=None,
    query: str = "",
    verbs: tuple[str, ...] | str = (),
    verb_roles: set[str] | None = None,
    note: str = "",
    **on: Any,
) -> Route:
    assert set(re.findall(r"<(?:\w+:)?(\w+)>", rule)) == set(on), rule
    return Route(
        method,
        rule,
        kind,
        tuple(on.items()),
        data,
        query,
        (verbs,) if isinstance(verbs, str) else verbs,
        frozenset(verb_roles) if verb_roles is not None else None,
        note,
    )


def meeting_data(t: Targets, key: str, title: str) -> dict[str, str]:
    return {
        "title": title,
        "day": local_day(21),
        "start_time": "10:00",
        "end_time": "12:30",
        "venue": "Town hall",
        "online_url": "",
        "agenda_md": "1. Review",
        "version": t.version(key),
    }


def attendance_rows(*rows: tuple[Any, str, str]) -> dict[str, str]:
    """The attendance row-set form's fields for (invitation id, value shown, value chosen) rows."""
    data: dict[str, str] = {}
    for n, (row_id, was, value) in enumerate(rows):
        data.update({f"rows-{n}-row_id": str(row_id), f"rows-{n}-was": was, f"rows-{n}-value": value})
    return data


def forum_data(grant_id: int, title: str) -> dict[str, str]:
    return {
        "grant_id": str(grant_id),
        "title": title,
        "city": "Sarajevo",
        "country": "BA",
        "timezone": "Europe/Sarajevo",
        "focus": "New State Prison",
        "description": "",
    }


F, M = "/forums/<int:forum_id>", "/meetings/<int:meeting_id>"

# Rows that change an object come after the rows that read it; state changes come last.
ROUTES: list[Route] = [
    route("GET", "/forums", "signed_in"),
    route("GET", "/forums/new", "create"),
    route(
        "POST", "/forums/new", "create", verbs="forum.create", data=lambda t: forum_data(t["own_grant"], "A new forum")
    ),
    # The forum
    route("GET", F, "view", forum_id="forum"),
    route("GET", F + "/edit", "edit", forum_id="forum"),
    route(
        "POST",
        F + "/edit",
        "edit",
        forum_id="forum",
        verbs="forum.update",
        data=lambda t: forum_data(t["grant"], "Renamed forum"),
    ),
    route("GET", F + "/members", "edit", forum_id="forum"),
    route(
        "POST",
        F + "/members",
        "edit",
        forum_id="forum",
        verbs="forum.member.add",
        data=lambda t: {
            "email": t["outsider_email"],
            "name": "Someone Outside",
            "organisation_id": "0",
            "role": "observer",
        },
    ),
    route(
        "POST",
        F + "/members/<int:member_id>/role",
        "edit",
        forum_id="forum",
        member_id="spare_member",
        verbs="forum.member.role",
        data=lambda t: {"role": "observer"},
    ),
    route(
        "POST",
        F + "/members/<int:member_id>/remove",
        "edit",
        forum_id="forum",
        member_id="spare_member",
        verbs="forum.member.remove",
    ),
    route("GET", F + "/meetings/new", "edit", forum_id="forum"),
    route(
        "POST",
        F + "/meetings/new",
        "edit",
        forum_id="forum",
        verbs="meeting.create",
        data=lambda t: {**meeting_data(t, "scheduled", "Planned in the table"), "version": ""},
    ),
    route("GET", F + "/meetings/new", "edit", forum_id="forum", query="next=1", note="follow-on, pre-filled"),
    route(
        "POST",
        F + "/meetings/new",
        "edit",
        forum_id="forum",
        verbs=("meeting.create", "meeting.plan_next"),
        note="follow-on",
        data=lambda t: {
            **meeting_data(t, "scheduled", "Follow-on in the table"),
            "version": "",
            "follow_on": str(t["held"]),
        },
    ),
    # Another grant's forum: its organisers and staff only; our organiser and members get 404.
    route("GET", F, "view", forum_id="other_forum"),
    route("GET", F + "/edit", "edit", forum_id="other_forum"),
    route(
        "POST",
        F + "/edit",
        "edit",
        forum_id="other_forum",
        verbs="forum.update",
        data=lambda t: forum_data(t["other_grant"], "Renamed other forum"),
    ),
    route("GET", F + "/members", "edit", forum_id="other_forum"),
    route(
        "POST",
        F + "/meetings/new",
        "edit",
        forum_id="other_forum",
        verbs="meeting.create",
        data=lambda t: {**meeting_data(t, "other_meeting", "Planned elsewhere"), "version": ""},
    ),
    route("GET", M, "view", meeting_id="other_meeting"),
    route("GET", M + "/edit", "edit", meeting_id="other_meeting"),
    # A scheduled meeting
    route("GET", M, "view", meeting_id="scheduled"),
    route("GET", M + "/edit", "edit", meeting_id="scheduled"),
    route(
        "POST",
        M + "/edit",
        "edit",
        meeting_id="scheduled",
        verbs="meeting.update",
        data=lambda t: meeting_data(t, "scheduled", "Edited scheduled meeting"),
    ),
    route(
        "POST",
        M + "/invitees",
        "edit",
        meeting_id="scheduled",
        verbs="meeting.invitee.add",
        data=lambda t: {"email": t["outsider_email"], "name": "Someone Outside"},
    ),
    route("POST", M + "/invitees/all", "edit", meeting_id="scheduled", verbs="meeting.invitee.add_members"),
    route(
        "POST",
        M + "/invitees/<int:invitation_id>/remove",
        "edit",
        meeting_id="scheduled",
        invitation_id="spare_invitation",
        verbs="meeting.invitee.remove",
        data=lambda t: {"confirmed": "yes"},
    ),
    # Every viewer may post an answer, but only the invited participant's is recorded.
    route(
        "POST",
        M + "/rsvp",
        "view",
        meeting_id="scheduled",
        verbs="meeting.rsvp",
        verb_roles={"participant"},
        data=lambda t: {"answer": "accepted", "comment": "I will come"},
    ),
    route("GET", M + "/attendance", "edit", meeting_id="scheduled"),
    # A draft meeting: invisible to members, even invited ones.
    route("GET", M, "view_draft", meeting_id="draft"),
    route("GET", M + "/edit", "edit_draft", meeting_id="draft"),
    route(
        "POST",
        M + "/edit",
        "edit_draft",
        meeting_id="draft",
        verbs="meeting.update",
        data=lambda t: meeting_data(t, "draft", "Edited draft"),
    ),
    route("POST", M + "/rsvp", "view_draft", meeting_id="draft", data=lambda t: {"answer": "accepted"}),
    route("POST", M + "/invitees/all", "edit_draft", meeting_id="draft", verbs="meeting.invitee.add_members"),
    # A held meeting with circulated minutes (versions 1 and 2)
    route("GET", M, "view", meeting_id="held"),
    route("GET", M + "/attendance", "edit", meeting_id="held"),
    route("GET", M + "/sign-in", "read_all", meeting_id="held"),
    route("GET", M + "/sign-in.pdf", "read_all", meeting_id="held"),
    route(
        "POST",
        M + "/attendance",
        "edit",
        meeting_id="held",
        verbs="meeting.attendance",
        note="marks",
        data=lambda t: attendance_rows((t["observer_invitation"], "absent", "excused")),
    ),
    route(
        "POST",
        M + "/attendance",
        "edit",
        meeting_id="held",
        verbs="meeting.walk_in.add",
        note="walk-in",
        data=lambda t: {
            "walk_ins-0-name": "Walk In",
            "walk_ins-0-organisation_name": "Police",
            "walk_ins-0-kind": "police",
        },
    ),
    route(
        "POST",
        M + "/walk-ins/<int:walk_in_id>/remove",
        "edit",
        meeting_id="held",
        walk_in_id="walk_in",
        verbs="meeting.walk_in.remove",
    ),
    route(
        "POST",
        M + "/delegates",
        "edit",
        meeting_id="held",
        verbs=("meeting.delegate.add", "meeting.walk_in.add"),  # without an email: a walk-in
        data=lambda t: {"for_invitation_id": str(t["observer_invitation"]), "name": "Deputy Observer"},
    ),
    route(
        "POST",
        M + "/delegates/<int:invitation_id>/remove",
        "edit",
        meeting_id="held",
        invitation_id="represented_invitation",
        verbs="meeting.delegate.remove",
    ),
    route("GET", M + "/minutes/versions", "view", meeting_id="held"),
    route("GET", M + "/minutes/versions/<int:number>", "view", meeting_id="held", number=1),
    route("GET", M + "/minutes/compare", "view", meeting_id="held", query="a=1&b=2"),
    route(
        "POST",
        M + "/minutes/comments",
        "comment",
        meeting_id="held",
        verbs="minutes.comment",
        data=lambda t: {"body": "Item 3 should name the probation office."},
    ),
    route("GET", M + "/minutes", "edit", meeting_id="held"),
    route(
        "POST",
        M + "/minutes",
        "edit",
        meeting_id="held",
        verbs="minutes.save",
        data=lambda t: {"body_md": "Revised text", "decisions": "One\nTwo", "base_revision": t.revision("held")},
    ),
    # Draft minutes: members (even the participant who came) get 404; nobody comments yet.
    route("GET", M, "view", meeting_id="held_draft"),
    route("GET", M + "/minutes/versions", "view_draft", meeting_id="held_draft"),
    route("GET", M + "/minutes/versions/<int:number>", "view_draft", meeting_id="held_draft", number=1),
    route("GET", M + "/minutes/compare", "view_draft", meeting_id="held_draft", query="a=1&b=2"),
    route(
        "POST", M + "/minutes/comments", "comment_closed", meeting_id="held_draft", data=lambda t: {"body": "Too early"}
    ),
    route(
        "POST",
        M + "/minutes/circulate",
        "edit",
        meeting_id="held_draft",
        verbs="minutes.circulate",
        data=lambda t: {"base_revision": t.revision("held_draft")},
    ),
    # Circulated minutes of a meeting no member was invited to: members do not read them.
    route("GET", M + "/minutes/versions", "view_draft", meeting_id="held_uninvited"),
    route("GET", M + "/minutes/versions/<int:number>", "view_draft", meeting_id="held_uninvited", number=2),
    route(
        "POST",
        M + "/minutes/adopt",
        "edit",
        meeting_id="held_uninvited",
        verbs="minutes.adopt",
        data=lambda t: {"base_revision": t.revision("held_uninvited")},
    ),
    # Adopted minutes: all who see the meeting read them; nobody comments; changes are corrections.
    route("GET", M + "/minutes/versions", "view", meeting_id="held_adopted"),
    route("GET", M + "/minutes/versions/<int:number>", "view", meeting_id="held_adopted", number=2),
    route("GET", M + "/minutes/compare", "view", meeting_id="held_adopted", query="a=1&b=2"),
    route(
        "POST",
        M + "/minutes/comments",
        "comment_closed",
        meeting_id="held_adopted",
        data=lambda t: {"body": "Too late"},
    ),
    route(
        "POST",
        M + "/minutes",
        "edit",
        meeting_id="held_adopted",
        verbs="minutes.correct",
        data=lambda t: {
            "body_md": "Corrected text",
            "decisions": "One",
            "correction_reason": "A typo",
            "base_revision": t.revision("held_adopted"),
        },
    ),
    # The "During the meeting" page of the held meeting: organisers only (members 403, outsiders 404).
    route("GET", M + "/during", "edit", meeting_id="held"),
    route(
        "POST",
        M + "/during/items",
        "edit",
        meeting_id="held",
        verbs="meeting.agenda.add",
        data=lambda t: {"title": "AOB"},
    ),
    route(
        "POST",
        M + "/during/items/<int:item_id>",
        "edit",
        meeting_id="held",
        item_id="topic_item",
        verbs="meeting.agenda.save",
        data=lambda t: t.item_form("topic_item", "Two places found."),
    ),
    route(
        "POST",
        M + "/during/items/<int:item_id>/actions",
        "edit",
        meeting_id="held",
        item_id="topic_item",
        verbs="action.raise",
        data=lambda t: t.action_row("topic_item", "Find a flat"),
    ),
    route(
        "POST",
        M + "/during/items/<int:item_id>/move",
        "edit",
        meeting_id="held",
        item_id="topic_item",
        verbs="meeting.agenda.move",
        data=lambda t: {"direction": "up"},
    ),
    route(
        "POST",
        M + "/during/items/<int:item_id>/remove",
        "edit",
        meeting_id="held",
        item_id="spare_item",
        verbs="meeting.agenda.remove",
    ),
    route(
        "POST",
        M + "/during/items/<int:item_id>/adopt",
        "edit",
        meeting_id="held",
        item_id="adoption_item",
        verbs=("minutes.adopt", "minutes.adopt_at_meeting"),
        data=lambda t: {"base_revision": t.revision("held_previous")},
    ),
    route(
        "POST",
        M + "/during/minutes",
        "edit",
        meeting_id="held",
        verbs=("minutes.save", "minutes.draft_from_record"),
        data=lambda t: {"base_revision": t.revision("held")},
    ),
    # State changes, last
    route(
        "POST",
        M + "/state",
        "edit_draft",
        meeting_id="draft",
        verbs="meeting.scheduled",
        data=lambda t: {"to_state": "scheduled", "version": t.version("draft")},
    ),
    route(
        "POST",
        M + "/state",
        "edit",
        meeting_id="scheduled",
        verbs="meeting.cancelled",
        data=lambda t: {"to_state": "cancelled", "reason": "The venue is closed.", "version": t.version("scheduled")},
    ),
]


def expected_outcome(role: str, route: Route) -> int | str:
    if role == "anonymous":
        return "login"
    result = KINDS[route.kind][BASE_ROLES.index(acting_as(role, route.forum))]
    if result == OK:
        return 200 if route.method == "GET" else 302
    return result


def expected_verbs(role: str) -> Counter:
    verbs: Counter = Counter()
    for r in ROUTES:
        if r.method == "POST" and expected_outcome(role, r) == 302 and (r.verb_roles is None or role in r.verb_roles):
            verbs.update(r.verbs)
    return verbs


def test_route_table_covers_every_forums_rule(app: Flask) -> None:
    """A new route (or method) of the forums blueprint without a row in ROUTES fails here."""
    assert_covers(app, ROUTES, "forums", "meetings", "meeting_day", at_least=30)
    assert {r.kind for r in ROUTES} <= set(KINDS)
    assert len({str(r) for r in ROUTES}) == len(ROUTES), "two rows test the same thing"


def test_every_allowed_post_row_names_its_audit_verb() -> None:
    """So the audit check of the matrix means something: a POST row that succeeds for someone says what it writes."""
    silent = [
        str(r)
        for r in ROUTES
        if r.method == "POST" and not r.verbs and any(expected_outcome(role, r) == 302 for role in ROLES)
    ]
    # Nobody who may see a draft can answer it: answers open when the meeting is scheduled.
    assert silent == ["POST /meetings/<int:meeting_id>/rsvp [meeting_id=draft]"]


def _page(client: FlaskClient, path: str) -> str:
    """The page's HTML, or "" when it is not there for this person (404)."""
    response = client.get(path)
    assert response.status_code in (200, 404), path
    return response.get_data(as_text=True) if response.status_code == 200 else ""


@pytest.mark.parametrize("role", ROLES)
def test_forums_routes_by_role(app: Flask, make: Factory, role: str) -> None:
    """Every forums route answers each role as forum_app.permissions says, and only allowed actions change anything."""
    built = build(app, make)
    world, t = built["world"], built["targets"]
    with app.app_context():  # the setup ran the services too: count only what the requests write
        setup_verbs = Counter(db.session.execute(select(AuditEvent.verb)).scalars())
    t.ids["outsider_email"] = world["outsider"]
    t.ids["own_grant"] = t["other_grant"] if role == "other_organiser" else t["grant"]
    client = app.test_client()
    if role == "anonymous":
        token = csrf_token(client, "/login")
    else:
        sign_in(client, world[role])
        token = csrf_token(client, "/forums")

    # What lists and pages reveal, before anything changes: drafts and unreleased minutes stay hidden.
    if role != "anonymous":
        forum_list = _page(client, "/forums")
        forum_page = _page(client, f"/forums/{t['forum']}")
        draft_month = t.meeting("draft").starts_at.astimezone(ZoneInfo("Europe/Sarajevo")).strftime("%Y-%m")
        calendar = _page(client, f"/calendar?month={draft_month}")
        seen = {
            "forum in list": f'href="/forums/{t["forum"]}"' in forum_list,
            "other forum in list": f'href="/forums/{t["other_forum"]}"' in forum_list,
            "draft on forum page": f'href="/meetings/{t["draft"]}"' in forum_page,
            "draft in calendar": f'href="/meetings/{t["draft"]}"' in calendar,
        }
        seen["answer form on the scheduled meeting"] = 'id="rsvp"' in _page(client, f"/meetings/{t['scheduled']}")
        seen["answer form on the held meeting"] = 'id="rsvp"' in _page(client, f"/meetings/{t['held']}")
        for key, marker in [
            ("held", "CIRCULATED-TEXT"),
            ("held_draft", "DRAFT-TEXT"),
            ("held_uninvited", "UNINVITED-TEXT"),
            ("held_adopted", "ADOPTED-TEXT"),
        ]:
            response = client.get(f"/meetings/{t[key]}")
            seen[f"minutes of {key}"] = response.status_code == 200 and marker in response.get_data(as_text=True)
        sees_forum = role in ("admin", "staff", "organiser", "participant", "observer")
        sees_drafts = role in ("admin", "staff", "organiser")
        assert seen == {
            "forum in list": sees_forum,
            "other forum in list": role in ("admin", "staff", "other_organiser"),
            "draft on forum page": sees_drafts,
            "draft in calendar": sees_drafts,
            "answer form on the scheduled meeting": role == "participant",  # the only member invited
            "answer form on the held meeting": False,  # answers close once the meeting is held
            "minutes of held": sees_forum,
            "minutes of held_draft": sees_drafts,
            "minutes of held_uninvited": sees_drafts,
            "minutes of held_adopted": sees_forum,
        }

    t.ids["token"] = token  # the "During the meeting" page's forms carry it under their own prefix
    assert walk(client, ROUTES, t, token) == expect(ROUTES, lambda r: expected_outcome(role, r))

    participant_id = make.user_id(world["participant"])
    with app.app_context():
        verbs = Counter(db.session.execute(select(AuditEvent.verb)).scalars()) - setup_verbs
        verbs.pop("access.denied", None)  # refusals are audited (tests/test_audit_chain.py), not changes
        states = {
            key: (m.state, m.minutes_state)
            for key in ("draft", "scheduled", "held_draft", "held_uninvited")
            for m in [db.session.get(Meeting, t[key])]
        }
        answer = db.session.execute(
            select(Invitation.rsvp).where(Invitation.meeting_id == t["scheduled"], Invitation.user_id == participant_id)
        ).scalar_one()
    verbs.pop("user.login", None)
    assert verbs == expected_verbs(role), "an action was refused, or a refused one changed something"
    edits = role in ("admin", "organiser")
    assert states == {
        "draft": ("scheduled" if edits else "draft", "draft"),
        "scheduled": ("cancelled" if edits else "scheduled", "draft"),
        "held_draft": ("held", "circulated" if edits else "draft"),
        "held_uninvited": ("held", "adopted" if edits else "circulated"),
    }
    assert answer == ("accepted" if role == "participant" else "needs-action")


# --- malformed ids and values never cause a 500 ----------------------------------------------------------


def _flashes(client: FlaskClient, response) -> str:
    """The text of the page a redirect leads to (where its flashed message is shown)."""
    assert response.status_code == 302, response.status_code
    return client.get(response.headers["Location"]).get_data(as_text=True)


def _snapshot(app: Flask, t: Targets) -> dict[str, Any]:
    """What the malformed requests below must leave as it was."""
    with app.app_context():
        meetings = {
            key: (m.state, m.version, m.minutes_revision, m.minutes_state)
            for key in ("scheduled", "held")
            for m in [db.session.get(Meeting, t[key])]
        }
        attendance = sorted(db.session.execute(select(Invitation.id, Invitation.attendance, Invitation.rsvp)).all())
        verbs = sorted(
            v for v in db.session.execute(select(AuditEvent.verb)).scalars() if v not in {"user.login", "access.denied"}
        )
        members = sorted(db.session.execute(select(ForumMember.id, ForumMember.role)).all())
        walk_ins = db.session.execute(select(func.count()).select_from(WalkInAttendee)).scalar_one()
    return {"meetings": meetings, "invitations": attendance, "verbs": verbs, "members": members, "walk_ins": walk_ins}


def test_malformed_urls_are_404_or_fall_back(app: Flask, make: Factory) -> None:
    """Unknown or non-numeric ids are 404; odd query strings still render the page."""
    built = build(app, make)
    t = built["targets"]
    client = app.test_client()
    sign_in(client, built["world"]["admin"])
    held = t["held"]
    cases = {
        "/forums/999999": 404,
        "/forums/-1": 404,
        "/forums/abc": 404,
        "/forums/999999/edit": 404,
        "/forums/999999/members": 404,
        "/meetings/999999": 404,
        "/meetings/abc": 404,
        "/meetings/1e3": 404,
        "/meetings/999999/attendance": 404,
        "/meetings/999999/minutes/versions": 404,
        f"/meetings/{held}/minutes/versions/99": 404,
        f"/meetings/{held}/minutes/versions/0": 404,
        f"/meetings/{held}/minutes/versions/abc": 404,
        f"/meetings/{held}/minutes/compare": 404,
        f"/meetings/{held}/minutes/compare?a=x&b=1": 404,
        f"/meetings/{held}/minutes/compare?a=1&b=99": 404,
        f"/meetings/{held}/minutes/compare?a=-1&b=1": 404,
        f"/meetings/{held}/minutes/compare?a=1&b=2": 200,
        "/calendar?month=2026-13": 200,
        "/calendar?month=2026-00": 200,
        "/calendar?month=garbage": 200,
        "/calendar?month=0000-01": 200,
        "/calendar?month=99999-01": 200,
        "/calendar?month=": 200,
        "/forums?grant=abc&country=ZZ": 200,
        "/forums?grant=999999&city=" + "x" * 500: 200,
        "/forums?q=%25_%5C": 200,
    }
    got = {path: client.get(path).status_code for path in cases}
    assert got == cases

    # A month that cannot be read shows this month; an unreadable filter is ignored.
    today = datetime.now(ZoneInfo("Europe/Sarajevo"))
    heading = today.strftime("%B %Y")
    for path in ("/calendar?month=2026-13", "/calendar?month=garbage"):
        assert f'<h1 class="h3 mb-0">{heading}</h1>' in client.get(path).get_data(as_text=True), path
    assert f'href="/forums/{t["forum"]}"' in client.get("/forums?grant=abc&country=ZZ").get_data(as_text=True)


def test_malformed_posts_change_nothing_and_never_500(app: Flask, make: Factory) -> None:
    """Bogus states, versions, attendance marks and ids are refused with a message; nothing is saved."""
    built = build(app, make)
    world, t = built["world"], built["targets"]
    client = app.test_client()
    sign_in(client, world["admin"])
    token = csrf_token(client, "/forums")
    before = _snapshot(app, t)
    scheduled, held, forum = t["scheduled"], t["held"], t["forum"]

    def post(path: str, data: dict[str, str]):
        return client.post(path, data={**data, "csrf_token": token})

    # Meeting state: an unknown state, a version that is not a number, a stale version, an impossible move.
    page = _flashes(
        client, post(f"/meetings/{scheduled}/state", {"to_state": "bogus", "version": t.version("scheduled")})
    )
    assert "Unknown meeting state." in page
    page = _flashes(
        client, post(f"/meetings/{scheduled}/state", {"to_state": "cancelled", "reason": "x", "version": "abc"})
    )
    assert "The request was incomplete." in page
    page = _flashes(
        client, post(f"/meetings/{scheduled}/state", {"to_state": "cancelled", "reason": "x", "version": "99"})
    )
    assert "Someone else changed this meeting" in page
    page = _flashes(
        client, post(f"/meetings/{scheduled}/state", {"to_state": "held", "version": t.version("scheduled")})
    )
    assert "has not started yet" in page
    page = _flashes(client, post(f"/meetings/{held}/state", {"to_state": "draft", "version": t.version("held")}))
    assert "A held meeting cannot become draft." in page

    # Attendance: malformed ids and values, and someone not invited.
    for marks, message in [
        (attendance_rows(("abc", "", "present")), "The attendance form was not understood."),
        (attendance_rows((t["observer_invitation"], "absent", "maybe")), "The attendance form was not understood."),
        (attendance_rows(("", "", "present")), "The attendance form was not understood."),
        (attendance_rows((999999, "", "present")), "no longer invited"),
    ]:
        response = post(f"/meetings/{held}/attendance", marks)
        assert response.status_code == 400, marks
        assert message in response.get_data(as_text=True), marks
    response = post(f"/meetings/{held}/attendance", {"walk_ins-0-name": "X", "walk_ins-0-kind": "bogus"})
    assert response.status_code == 400

    # Unknown objects inside a forum or meeting are a message, not an error.
    for path, message in [
        (f"/forums/{forum}/members/999999/remove", "not a member of this forum"),
        (f"/forums/{forum}/members/999999/role", "not a member of this forum"),
        (f"/meetings/{scheduled}/invitees/999999/remove", "not invited to this meeting"),
        (f"/meetings/{held}/walk-ins/999999/remove", "not recorded for this meeting"),
    ]:
        assert message in _flashes(client, post(path, {"role": "observer", "confirmed": "yes"})), path
    # A bad invitation is shown again at its field, with what was typed kept.
    response = post(f"/meetings/{scheduled}/invitees", {"email": "not-an-email", "name": "X"})
    assert response.status_code == 400 and 'value="not-an-email"' in response.get_data(as_text=True)
    response = post(f"/meetings/{scheduled}/invitees", {"email": "nobody@example.org", "name": ""})
    assert response.status_code == 400 and 'value="nobody@example.org"' in response.get_data(as_text=True)

    # Malformed form values: 400 with the form (or a bare 400 for hidden-field tampering).
    base_meeting = {"title": "T", "day": local_day(20), "start_time": "10:00", "end_time": "11:00"}
    cases = [
        (f"/forums/{forum}/members/{t['spare_member']}/role", {"role": "chair"}, 400),
        (f"/forums/{forum}/members", {"email": world["outsider"], "role": "chair"}, 400),
        (f"/forums/{forum}/members", {"email": world["outsider"], "organisation_id": "abc"}, 400),
        (f"/forums/{forum}/edit", {**forum_data(t["grant"], "X"), "grant_id": "abc"}, 400),
        (f"/forums/{forum}/edit", {**forum_data(t["grant"], "X"), "timezone": "Mars/Olympus"}, 400),
        (f"/forums/{forum}/meetings/new", {**base_meeting, "day": "2026-02-30"}, 400),
        (f"/forums/{forum}/meetings/new", {**base_meeting, "start_time": "25:00"}, 400),
        (f"/forums/{forum}/meetings/new", {**base_meeting, "end_time": "09:00"}, 400),
        (f"/forums/{forum}/meetings/new", {**base_meeting, "online_url": "javascript:alert(1)"}, 400),
        (f"/meetings/{scheduled}/edit", {**base_meeting, "version": "abc"}, 400),
        (f"/meetings/{held}/minutes", {"body_md": "x", "base_revision": "abc"}, 400),
        (f"/meetings/{held}/minutes", {"body_md": "x", "base_revision": "-1"}, 400),
        (f"/meetings/{held}/minutes/adopt", {"base_revision": "abc"}, 400),
    ]
    got = {(path, str(data)): post(path, data).status_code for path, data, _ in cases}
    assert got == {(path, str(data)): status for path, data, status in cases}

    assert _snapshot(app, t) == before


def test_malformed_rsvp_changes_nothing(app: Flask, make: Factory) -> None:
    """An answer that is not one of the choices is refused with a message; the invitation keeps its answer."""
    built = build(app, make)
    world, t = built["world"], built["targets"]
    client = app.test_client()
    sign_in(client, world["participant"])
    token = csrf_token(client, "/forums")
    before = _snapshot(app, t)
    for answer in ("maybe", "needs-action", ""):
        response = client.post(f"/meetings/{t['scheduled']}/rsvp", data={"answer": answer, "csrf_token": token})
        assert "Choose yes, maybe or no." in _flashes(client, response), answer
    assert _snapshot(app, t) == before
    # The same request with a valid answer is recorded (so the refusals above were not for another reason).
    response = client.post(
        f"/meetings/{t['scheduled']}/rsvp", data={"answer": "tentative", "comment": " Late ", "csrf_token": token}
    )
    assert "Thank you, your answer is recorded." in _flashes(client, response)
    participant_id = make.user_id(world["participant"])
    with app.app_context():
        invitation = db.session.execute(
            select(Invitation).where(Invitation.meeting_id == t["scheduled"], Invitation.user_id == participant_id)
        ).scalar_one()
        assert (invitation.rsvp, invitation.rsvp_comment) == ("tentative", "Late")


def _status(call: Callable[[], Any]) -> int:
    """The response status, or 500 when the request raised (the test app propagates exceptions)."""
    try:
        return call().status_code
    except Exception:  # noqa: BLE001 - any escaped exception is what a visitor sees as a 500
        return 500


def test_out_of_range_ids_are_404_not_500(app: Flask, make: Factory) -> None:
    """An id too large for the database is just an id that does not exist (not an overflow inside the driver)."""
    built = build(app, make)
    t = built["targets"]
    client = app.test_client()
    sign_in(client, built["world"]["admin"])
    token = csrf_token(client, "/forums")
    held = t["held"]
    gets = {}
    for big in ("2147483648", "99999999999999999999"):  # just past PostgreSQL's integer; past SQLite's
        gets.update(
            {
                f"/forums/{big}": 404,
                f"/meetings/{big}": 404,
                f"/meetings/{held}/minutes/versions/{big}": 404,
                f"/meetings/{held}/minutes/compare?a={big}&b=1": 404,
                f"/forums?grant={big}": 200,
            }
        )
    got = {path: _status(partial(client.get, path)) for path in gets}
    assert got == gets
    # Out-of-range ids and numbers in forms: refused as a missing page, with a message or at the field.
    scheduled = t["scheduled"]
    posts: list[tuple[str, dict[str, str], tuple[int, ...]]] = []
    for big in ("2147483648", "99999999999999999999"):
        posts += [
            (f"/forums/{t['forum']}/members/{big}/remove", {}, (302, 404)),
            (f"/forums/{t['forum']}/members/{big}/role", {"role": "observer"}, (302, 404)),
            (f"/meetings/{scheduled}/invitees/{big}/remove", {"confirmed": "yes"}, (302, 404)),
            (f"/meetings/{held}/walk-ins/{big}/remove", {}, (302, 404)),
            (f"/meetings/{held}/attendance", attendance_rows((big, "", "present")), (400,)),
            (f"/meetings/{scheduled}/state", {"to_state": "cancelled", "reason": "x", "version": big}, (302,)),
            (f"/meetings/{held}/minutes/adopt", {"base_revision": big}, (302, 400)),
            (f"/meetings/{held}/minutes", {"body_md": "x", "base_revision": big}, (400,)),
            (f"/forums/{t['forum']}/edit", {**forum_data(t["grant"], "X"), "grant_id": big}, (400,)),
        ]
    allowed = {(path, str(data)): ok for path, data, ok in posts}
    got_posts = {
        (path, str(data)): _status(partial(client.post, path, data={**data, "csrf_token": token}))
        for path, data, _ in posts
    }
    assert {key: status for key, status in got_posts.items() if status not in allowed[key]} == {}
    with app.app_context():
        assert db.session.get(Meeting, scheduled).state == "scheduled"
        assert db.session.get(Meeting, held).minutes_state == "circulated"

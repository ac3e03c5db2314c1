"""Delegates and substitutes (issue 21, part 2): "X attended on behalf of Y", recorded at attendance.

Y is excused (their answer stays), X is present for Y's organisation: the agency counts once in the
head-count and in the dashboard's coverage, the meeting page says "X (for Y)", and a delegate with an
account may own an action. Bad input says why and changes nothing.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import bindparam, func, select

from forum_app.actions.queries import possible_owners
from forum_app.core.errors import ServiceError
from forum_app.extensions import db
from forum_app.meetings import delegates
from forum_app.meetings.delegates import DelegateInput
from forum_app.models import AuditEvent, ForumMember, Invitation, Meeting, OutboxMessage, User, WalkInAttendee
from forum_app.reports.coverage import coverage_counts

from .conftest import csrf_token, sign_in
from .factories import Factory


@pytest.fixture
def world(make: Factory) -> dict[str, Any]:
    w = make.world()
    police = make.organisation("Police Station Centar", kind="police")
    w["police"] = police
    w["police_officer"] = make.user(name="Goran Police", organisation_id=police)
    make.add_member(w["forum"], w["police_officer"])
    w["meeting"] = make.meeting(w["forum"], state="held", starts_in_days=-1)
    w["y_inv"] = make.invite(w["meeting"], w["police_officer"])
    with make.app.app_context():
        invitation = db.session.get(Invitation, w["y_inv"])
        invitation.rsvp = "accepted"
        db.session.commit()
    return w


@pytest.fixture
def organiser(app: Flask, world) -> FlaskClient:
    return sign_in(app.test_client(), world["organiser"])


def record(client: FlaskClient, meeting_id: int, **data: str):
    token = csrf_token(client, f"/meetings/{meeting_id}/attendance")
    return client.post(f"/meetings/{meeting_id}/delegates", data={"csrf_token": token, **data})


def snapshot(app: Flask, meeting_id: int) -> tuple:
    """Everything a delegate record could change: marks, links, walk-ins, accounts, members, audit."""
    with app.app_context():
        return (
            sorted(
                db.session.execute(
                    select(
                        Invitation.user_id, Invitation.attendance, Invitation.on_behalf_of_id, Invitation.rsvp
                    ).where(Invitation.meeting_id == meeting_id)
                ).all()
            ),
            db.session.scalar(select(func.count()).select_from(WalkInAttendee)),
            db.session.scalar(select(func.count()).select_from(User)),
            db.session.scalar(select(func.count()).select_from(ForumMember)),
            db.session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.verb.like("meeting.delegate%"))
            ),
        )


def headcount(page: str) -> str:
    return re.search(r'<ul class="list-inline" id="headcount">(.*?)</ul>', page, re.S).group(1)


def test_a_walk_in_came_for_an_invitee(app, world, organiser):
    response = record(organiser, world["meeting"], for_invitation_id=str(world["y_inv"]), name="Marko Deputy")
    assert response.status_code == 302
    with app.app_context():
        y = db.session.get(Invitation, world["y_inv"])
        assert (y.attendance, y.rsvp) == ("excused", "accepted")  # the answer stays as Y gave it
        walk_in = db.session.execute(select(WalkInAttendee)).scalar_one()
        assert (walk_in.name, walk_in.organisation_name, walk_in.organisation_kind, walk_in.on_behalf_of_id) == (
            "Marko Deputy",
            "Police Station Centar",
            "police",
            y.id,
        )
        event = db.session.execute(select(AuditEvent).where(AuditEvent.verb == "meeting.delegate.add")).scalar_one()
        assert event.data["walk_in_id"] == walk_in.id and event.data["for_user_id"] == y.user_id
    page = organiser.get(f"/meetings/{world['meeting']}").get_data(as_text=True)
    assert "Marko Deputy (for Goran Police)" in page
    # One person present, for the police: Y excused is not counted, X once.
    assert "Police: 1" in headcount(page) and "1 present" in page
    attendance = organiser.get(f"/meetings/{world['meeting']}/attendance").get_data(as_text=True)
    assert "Marko Deputy attended on behalf of Goran Police" in attendance


def test_someone_new_with_an_email_becomes_a_guest_of_the_same_organisation_and_may_own_an_action(
    app, world, organiser
):
    response = record(
        organiser,
        world["meeting"],
        for_invitation_id=str(world["y_inv"]),
        name="Ana Substitute",
        email="ana.sub@example.org",
        join_forum="y",
    )
    assert response.status_code == 302
    with app.app_context():
        ana = db.session.execute(select(User).where(User.email == "ana.sub@example.org")).scalar_one()
        assert ana.organisation_id == world["police"] and ana.password_hash is None
        invitation = db.session.execute(
            select(Invitation).where(Invitation.meeting_id == world["meeting"], Invitation.user_id == ana.id)
        ).scalar_one()
        assert (invitation.attendance, invitation.on_behalf_of_id) == ("present", world["y_inv"])
        # The set-password email, as for any guest; no invitation to a meeting already held.
        kinds = db.session.execute(select(OutboxMessage.kind).where(OutboxMessage.to_user_id == ana.id)).scalars().all()
        assert kinds == ["set-password"]
        meeting = db.session.get(Meeting, world["meeting"])
        assert ana.id in {u.id for u in possible_owners(meeting.forum)}
    page = organiser.get(f"/meetings/{world['meeting']}").get_data(as_text=True)
    assert "Ana Substitute (for Goran Police)" in page and "Police: 1" in headcount(page)
    # The record-actions form offers her as an owner.
    actions_form = organiser.get(f"/meetings/{world['meeting']}/actions/new").get_data(as_text=True)
    assert "Ana Substitute" in actions_form


def test_without_joining_the_forum_a_delegate_is_recorded_but_owns_nothing(app, world, organiser):
    response = record(
        organiser, world["meeting"], for_invitation_id=str(world["y_inv"]), name="Ana S", email="ana.s@example.org"
    )
    assert response.status_code == 302  # join_forum unticked: the checkbox is absent from the post
    with app.app_context():
        meeting = db.session.get(Meeting, world["meeting"])
        assert "ana.s@example.org" not in {u.email for u in possible_owners(meeting.forum)}


def test_a_delegate_from_another_agency_counts_for_the_agency_they_came_for(app, world, organiser, make):
    ngo = make.organisation("Helping Hands", kind="ngo")
    make.user(email="nina@example.org", name="Nina NGO", organisation_id=ngo)
    assert (
        record(
            # An account outside the grant is named by the organiser, as a new address is (issue 22 point 5).
            organiser,
            world["meeting"],
            for_invitation_id=str(world["y_inv"]),
            name="Nina",
            email="nina@example.org",
        ).status_code
        == 302
    )
    page = organiser.get(f"/meetings/{world['meeting']}").get_data(as_text=True)
    assert "Police: 1" in headcount(page) and "NGO" not in headcount(page)
    with app.app_context():
        coverage = coverage_counts(
            bindparam("ids", [world["forum"]], expanding=True), date.today() + timedelta(days=1), ["Europe/Sarajevo"]
        )
        assert coverage.present(world["forum"]) == frozenset({"police"})


def test_an_invitee_already_there_may_be_named_as_the_delegate(app, world, organiser, make):
    colleague = make.user(name="Petar Colleague", organisation_id=world["police"])
    colleague_inv = make.invite(world["meeting"], colleague)
    assert (
        record(organiser, world["meeting"], for_invitation_id=str(world["y_inv"]), email=colleague).status_code == 302
    )
    with app.app_context():
        invitation = db.session.get(Invitation, colleague_inv)
        assert (invitation.attendance, invitation.on_behalf_of_id) == ("present", world["y_inv"])
        assert db.session.scalar(select(func.count()).select_from(Invitation)) == 2  # no second invitation


@pytest.mark.parametrize(
    "data, message",
    [
        ({"name": "  "}, "Give the name of the person who came."),
        ({"name": "", "email": "new.person@example.org"}, "Give the person&#39;s name"),
        ({"email": "Y"}, "cannot attend on their own behalf"),
        ({"for_invitation_id": "999999", "name": "Someone"}, "Not a valid choice"),
    ],
)
def test_bad_input_says_why_and_changes_nothing(app, world, organiser, data, message):
    if data.get("email") == "Y":
        data = {"email": world["police_officer"]}
    before = snapshot(app, world["meeting"])
    response = record(organiser, world["meeting"], **{"for_invitation_id": str(world["y_inv"]), **data})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert snapshot(app, world["meeting"]) == before


def test_an_invitee_is_represented_once_and_a_delegate_stands_for_one_person(app, world, organiser, make):
    assert record(organiser, world["meeting"], for_invitation_id=str(world["y_inv"]), name="First").status_code == 302
    # Y is no longer offered; posted anyway, the form refuses it.
    before = snapshot(app, world["meeting"])
    assert record(organiser, world["meeting"], for_invitation_id=str(world["y_inv"]), name="Second").status_code == 400
    assert snapshot(app, world["meeting"]) == before
    # The service says so in words (e.g. from the API or a stale page).
    with app.app_context():
        meeting = db.session.get(Meeting, world["meeting"])
        actor = db.session.execute(select(User).where(User.email == world["organiser"])).scalar_one()
        with pytest.raises(ServiceError, match="already represented by First"):
            delegates.record_delegate(actor, meeting, DelegateInput(world["y_inv"], "Second"))
        db.session.rollback()
        # Someone not invited to this meeting (an invitation of another one) cannot be represented.
        with pytest.raises(ServiceError, match="Choose an invitee of this meeting."):
            delegates.record_delegate(actor, meeting, DelegateInput(world["y_inv"] + 1000, "Someone"))
        db.session.rollback()
    # The same person cannot stand for two invitees.
    other = make.user(name="Other Invitee", organisation_id=world["police"])
    other_inv = make.invite(world["meeting"], other)
    record(organiser, world["meeting"], for_invitation_id=str(other_inv), name="Dana", email="dana@example.org")
    third = make.user(name="Third Invitee")
    third_inv = make.invite(world["meeting"], third)
    before = snapshot(app, world["meeting"])
    response = record(organiser, world["meeting"], for_invitation_id=str(third_inv), email="dana@example.org")
    assert response.status_code == 400
    assert "Dana is already recorded as attending on behalf of someone." in response.get_data(as_text=True)
    assert snapshot(app, world["meeting"]) == before


def test_a_cancelled_meeting_takes_no_delegate(app, world, organiser, make):
    meeting_id = make.meeting(world["forum"], state="cancelled", starts_in_days=3)
    inv = make.invite(meeting_id, world["police_officer"])
    before = snapshot(app, meeting_id)
    response = record(organiser, meeting_id, for_invitation_id=str(inv), name="Someone")
    assert response.status_code == 400
    assert "Attendance is recorded once the meeting is marked as held." in response.get_data(as_text=True)
    assert snapshot(app, meeting_id) == before


def test_a_participant_cannot_record_a_delegate(app, world):
    participant = sign_in(app.test_client(), world["participant"])
    token = csrf_token(participant, "/")
    before = snapshot(app, world["meeting"])
    response = participant.post(
        f"/meetings/{world['meeting']}/delegates",
        data={"csrf_token": token, "for_invitation_id": str(world["y_inv"]), "name": "Someone"},
    )
    assert response.status_code in (403, 404)
    assert snapshot(app, world["meeting"]) == before


def test_undo_removes_the_link_and_a_walk_in_made_for_it(app, world, organiser):
    record(organiser, world["meeting"], for_invitation_id=str(world["y_inv"]), name="Marko Deputy")
    token = csrf_token(organiser, f"/meetings/{world['meeting']}/attendance")
    response = organiser.post(
        f"/meetings/{world['meeting']}/delegates/{world['y_inv']}/remove", data={"csrf_token": token}
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(WalkInAttendee)) == 0
        assert (
            db.session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.verb == "meeting.delegate.remove")
            )
            == 1
        )
    assert "(for Goran Police)" not in organiser.get(f"/meetings/{world['meeting']}").get_data(as_text=True)

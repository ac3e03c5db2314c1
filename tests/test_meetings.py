"""Forums and meetings as organisers and participants use them (issue 3)."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from forum_app.auth import services as accounts
from forum_app.extensions import db
from forum_app.models import (
    AuditEvent,
    Forum,
    ForumMember,
    Invitation,
    Meeting,
    MinutesComment,
    MinutesVersion,
    OutboxMessage,
    User,
    WalkInAttendee,
)

from .conftest import csrf_token, post_form, sign_in
from .factories import Factory

# --- helpers ----------------------------------------------------------------------------------------


def load(app: Flask, model, object_id: int):
    """A fresh, detached copy of a row (read after the request committed)."""
    with app.app_context():
        obj = db.session.get(model, object_id)
        db.session.expunge_all()
        return obj


def count(app: Flask, model, *where) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def meeting_form(**overrides) -> dict[str, str]:
    data = {
        "title": "Follow-up meeting",
        "day": "2026-06-30",
        "start_time": "10:00",
        "end_time": "13:00",
        "venue": "Cantonal Centre for Social Work",
        "online_url": "",
        "agenda_md": "1. Welcome",
        "save": "Save",
    }
    data.update(overrides)
    return data


def plan(client: FlaskClient, forum_id: int, **overrides):
    path = f"/forums/{forum_id}/meetings/new"
    return post_form(client, path, meeting_form(**overrides))


def new_meeting_id(app: Flask) -> int:
    with app.app_context():
        return db.session.execute(select(func.max(Meeting.id))).scalar_one()


def set_state(client: FlaskClient, meeting_id: int, app: Flask, to_state: str, reason: str = ""):
    version = load(app, Meeting, meeting_id).version
    token = csrf_token(client, f"/meetings/{meeting_id}")
    return client.post(
        f"/meetings/{meeting_id}/state",
        data={"csrf_token": token, "to_state": to_state, "version": version, "reason": reason},
    )


def flashed(client: FlaskClient, path: str) -> str:
    return client.get(path).get_data(as_text=True)


@pytest.fixture
def world(make: Factory) -> dict[str, Any]:
    w = make.world()
    prison = make.organisation("State Prison", kind="prison")
    welfare = make.organisation("Centre for Social Work", kind="social_welfare")
    participant_id, observer_id = make.user_id(w["participant"]), make.user_id(w["observer"])
    with make.app.app_context():
        db.session.get(User, participant_id).organisation_id = prison
        db.session.get(User, observer_id).organisation_id = welfare
        db.session.commit()
    return w


@pytest.fixture
def organiser(app, world) -> FlaskClient:
    return sign_in(app.test_client(), world["organiser"])


# --- planning in local time ---------------------------------------------------------------------------


def test_meeting_is_entered_and_shown_in_the_forums_local_time(app, world, organiser):
    response = plan(organiser, world["forum"])
    assert response.status_code == 302
    meeting = load(app, Meeting, new_meeting_id(app))
    # 10:00 in Sarajevo in summer (CEST, UTC+2) is 08:00 UTC.
    assert meeting.starts_at == datetime(2026, 6, 30, 8, 0, tzinfo=UTC)
    assert meeting.ends_at == datetime(2026, 6, 30, 11, 0, tzinfo=UTC)
    assert meeting.state == "draft"
    page = organiser.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "Tue, 30 Jun 2026, 10:00–13:00 CEST (Europe/Sarajevo)" in page


def test_viewer_in_another_zone_also_sees_their_own_time(app, world, organiser, make):
    plan(organiser, world["forum"])
    meeting_id = new_meeting_id(app)
    organiser_id = make.user_id(world["organiser"])
    with app.app_context():
        db.session.get(User, organiser_id).timezone = "Europe/Istanbul"
        db.session.commit()
    page = organiser.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert "10:00–13:00 CEST (Europe/Sarajevo)" in page
    assert "11:00–14:00 +03 (Europe/Istanbul)" in page


def test_a_time_that_does_not_exist_is_refused(app, world, organiser):
    # Clocks in Sarajevo jump from 02:00 to 03:00 on 29 March 2026.
    response = plan(organiser, world["forum"], day="2026-03-29", start_time="02:30", end_time="04:00")
    assert response.status_code == 400
    assert "does not exist" in response.get_data(as_text=True)
    assert count(app, Meeting) == 0


def test_an_ambiguous_time_asks_which_one_and_then_uses_it(app, world, organiser):
    # Clocks in Sarajevo go back from 03:00 to 02:00 on 25 October 2026: 02:30 happens twice.
    response = plan(organiser, world["forum"], day="2026-10-25", start_time="02:30", end_time="04:00")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "occurs twice" in page and 'id="fold-choice"' in page
    assert "CEST (UTC+02:00)" in page and "CET (UTC+01:00)" in page
    assert count(app, Meeting) == 0
    response = plan(organiser, world["forum"], day="2026-10-25", start_time="02:30", end_time="04:00", start_fold="1")
    assert response.status_code == 302
    meeting = load(app, Meeting, new_meeting_id(app))
    assert meeting.starts_at == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # the second 02:30, CET


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"end_time": "09:00"}, "must end after it starts"),
        ({"end_time": "10:00"}, "must end after it starts"),
        ({"online_url": "javascript:alert(1)"}, "https://"),
        ({"online_url": "ftp://files.example.org/x"}, "https://"),
        ({"day": "2026-02-30"}, "Not a valid date value"),
        ({"start_time": "25:00"}, "Not a valid time value"),
        ({"day": "0001-01-01", "start_time": "00:10"}, "between the year 2000"),
        ({"day": "9999-12-31"}, "between the year 2000"),
        ({"title": ""}, "This field is required"),
    ],
)
def test_bad_meeting_input_gets_a_message_and_changes_nothing(app, world, organiser, overrides, message):
    response = plan(organiser, world["forum"], **overrides)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count(app, Meeting) == 0


def test_every_member_and_organiser_is_invited_by_default(app, world, organiser, make):
    """The grant's organisers are at their own meetings too (issue 8, point 18)."""
    plan(organiser, world["forum"])
    meeting_id = new_meeting_id(app)
    with app.app_context():
        invited = set(
            db.session.execute(select(Invitation.user_id).where(Invitation.meeting_id == meeting_id)).scalars()
        )
    assert invited == {
        make.user_id(world["participant"]),
        make.user_id(world["observer"]),
        make.user_id(world["organiser"]),
    }


def test_agenda_preview_renders_sanitised_markdown_without_saving(app, world, organiser):
    response = plan(
        organiser,
        world["forum"],
        agenda_md="1. **Review** <script>alert(1)</script> [x](javascript:alert(2))",
        save="",
        preview="Preview",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    preview = re.search(r'id="agenda-preview">(.*?)</div></div>', page, re.S).group(1)
    assert "<strong>Review</strong>" in preview
    assert "<script" not in preview and "javascript:" not in preview
    assert count(app, Meeting) == 0


# --- states ------------------------------------------------------------------------------------------------


def test_draft_is_hidden_from_members_until_scheduled(app, world, organiser):
    plan(organiser, world["forum"], day=(datetime.now() + timedelta(days=20)).strftime("%Y-%m-%d"))
    meeting_id = new_meeting_id(app)
    participant = sign_in(app.test_client(), world["participant"])
    assert participant.get(f"/meetings/{meeting_id}").status_code == 404
    assert set_state(organiser, meeting_id, app, "scheduled").status_code == 302
    assert load(app, Meeting, meeting_id).state == "scheduled"
    assert participant.get(f"/meetings/{meeting_id}").status_code == 200


def test_only_allowed_transitions(app, world, organiser, make):
    meeting_id = make.meeting(world["forum"], state="scheduled", starts_in_days=10)
    set_state(organiser, meeting_id, app, "draft")
    assert load(app, Meeting, meeting_id).state == "scheduled"
    # A meeting that has not started cannot be marked held.
    set_state(organiser, meeting_id, app, "held")
    assert load(app, Meeting, meeting_id).state == "scheduled"
    assert "has not started yet" in flashed(organiser, f"/meetings/{meeting_id}")


def test_cancelling_needs_a_reason_and_the_meeting_stays_visible(app, world, organiser, make):
    meeting_id = make.meeting(world["forum"], state="scheduled", starts_in_days=10)
    make.invite(meeting_id, world["participant"])
    sequence = load(app, Meeting, meeting_id).ical_sequence
    set_state(organiser, meeting_id, app, "cancelled")
    assert load(app, Meeting, meeting_id).state == "scheduled"
    set_state(organiser, meeting_id, app, "cancelled", reason="The prison director is unavailable.")
    meeting = load(app, Meeting, meeting_id)
    assert meeting.state == "cancelled" and meeting.ical_sequence == sequence + 1
    page = sign_in(app.test_client(), world["participant"]).get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert "This meeting is cancelled." in page and "The prison director is unavailable." in page
    # Cancelled is final: no edits, no way back.
    assert organiser.get(f"/meetings/{meeting_id}/edit").status_code == 302
    set_state(organiser, meeting_id, app, "scheduled")
    assert load(app, Meeting, meeting_id).state == "cancelled"


def test_stale_state_change_is_refused(app, world, organiser, make):
    meeting_id = make.meeting(world["forum"], state="draft", starts_in_days=10)
    token = csrf_token(organiser, f"/meetings/{meeting_id}")
    stale = load(app, Meeting, meeting_id).version
    organiser.post(
        f"/meetings/{meeting_id}/state", data={"csrf_token": token, "to_state": "scheduled", "version": stale}
    )
    organiser.post(
        f"/meetings/{meeting_id}/state",
        data={"csrf_token": token, "to_state": "cancelled", "version": stale, "reason": "x"},
    )
    assert load(app, Meeting, meeting_id).state == "scheduled"


# --- no lost edits ------------------------------------------------------------------------------------------


def test_editing_with_a_stale_form_shows_a_conflict_and_overwrites_nothing(app, world, make):
    meeting_id = make.meeting(world["forum"], state="scheduled", starts_in_days=10)
    first = sign_in(app.test_client(), world["organiser"])
    second_email = make.user(name="Second Organiser")
    make.add_to_team(world["grant"], second_email)
    second = sign_in(app.test_client(), second_email)

    def form_of(client):
        page = client.get(f"/meetings/{meeting_id}/edit").get_data(as_text=True)
        values = dict(
            re.findall(r'name="(title|day|start_time|end_time|venue|version|csrf_token)"[^>]*value="([^"]*)"', page)
        )
        values["agenda_md"] = "1. Welcome"
        return values

    mine, theirs = form_of(first), form_of(second)
    response = first.post(f"/meetings/{meeting_id}/edit", data={**mine, "venue": "Room A", "save": "Save"})
    assert response.status_code == 302
    sequence = load(app, Meeting, meeting_id).ical_sequence
    response = second.post(f"/meetings/{meeting_id}/edit", data={**theirs, "venue": "Room B", "save": "Save"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="conflict"' in page and "Room A" in page and "Room B" in page
    meeting = load(app, Meeting, meeting_id)
    assert meeting.venue == "Room A" and meeting.ical_sequence == sequence
    # The re-shown form carries the new version: saving again, knowingly, goes through.
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    response = second.post(
        f"/meetings/{meeting_id}/edit", data={**theirs, "version": version, "venue": "Room B", "save": "Save"}
    )
    assert response.status_code == 302
    assert load(app, Meeting, meeting_id).venue == "Room B"


def test_calendar_sequence_grows_only_for_changes_invitees_see(app, world, organiser, make):
    draft = make.meeting(world["forum"], state="draft", starts_in_days=10)
    page = organiser.get(f"/meetings/{draft}/edit").get_data(as_text=True)
    values = dict(
        re.findall(r'name="(title|day|start_time|end_time|venue|version|csrf_token)"[^>]*value="([^"]*)"', page)
    )
    organiser.post(f"/meetings/{draft}/edit", data={**values, "venue": "Elsewhere", "save": "Save"})
    assert load(app, Meeting, draft).ical_sequence == 0  # nobody has the draft in a calendar
    set_state(organiser, draft, app, "scheduled")
    page = organiser.get(f"/meetings/{draft}/edit").get_data(as_text=True)
    values = dict(
        re.findall(r'name="(title|day|start_time|end_time|venue|version|csrf_token)"[^>]*value="([^"]*)"', page)
    )
    organiser.post(f"/meetings/{draft}/edit", data={**values, "agenda_md": "1. Changed agenda", "save": "Save"})
    assert load(app, Meeting, draft).ical_sequence == 0  # the agenda is not in the calendar entry
    response = organiser.post(
        f"/meetings/{draft}/edit",
        data={
            **values,
            "version": load(app, Meeting, draft).version,
            "start_time": "09:00",
            "end_time": "11:00",
            "save": "Save",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert load(app, Meeting, draft).ical_sequence == 1


def test_plan_the_next_meeting_copies_venue_invitees_and_agenda(app, world, organiser, make):
    held = make.meeting(world["forum"], state="held", starts_in_days=-30)
    make.invite(held, world["participant"])
    make.invite(held, make.user())  # a guest: invited again by hand, not copied
    with app.app_context():
        meeting = db.session.get(Meeting, held)
        meeting.venue, meeting.agenda_md = "Council hall", "1. Follow-up review\n2. Next steps"
        db.session.commit()
    later = make.meeting(world["forum"], state="scheduled", starts_in_days=30)  # planned: not the source
    path = f"/forums/{world['forum']}/meetings/new?next=1"
    page = organiser.get(path).get_data(as_text=True)
    # Opening the pre-filled form saves nothing; it says what it copied and from where.
    assert count(app, Meeting) == 2
    notice = page.split('id="plan-copied"', 1)[1].split("</div>", 1)[0]
    assert load(app, Meeting, held).title in notice and "invitation of 1 member who" in notice
    assert 'value="Council hall"' in page and "1. Follow-up review" in page
    fields = dict(
        re.findall(r'name="(csrf_token|follow_on|title|day|start_time|end_time|venue)"[^>]*value="([^"]*)"', page)
    )
    assert fields["follow_on"] == str(held)
    response = organiser.post(path, data={**fields, "agenda_md": "1. Follow-up review\n2. Next steps", "save": "Save"})
    assert response.status_code == 302
    assert count(app, Meeting) == 3
    new = load(app, Meeting, new_meeting_id(app))
    assert new.id not in (held, later)
    assert new.id != held and new.state == "draft"
    assert new.venue == "Council hall" and new.agenda_md.startswith("1. Follow-up review")
    assert new.starts_at > datetime.now(UTC)
    # The same local clock time, whatever daylight saving did in between.
    zone = ZoneInfo("Europe/Sarajevo")
    assert new.starts_at.astimezone(zone).time() == load(app, Meeting, held).starts_at.astimezone(zone).time().replace(
        second=0
    )  # the form's precision is the minute
    with app.app_context():
        invited = db.session.execute(select(Invitation.user_id).where(Invitation.meeting_id == new.id)).scalars().all()
    assert invited == [make.user_id(world["participant"])]


# --- invitees and RSVP ------------------------------------------------------------------------------------------


def test_participant_rsvps_and_the_organiser_sees_it(app, world, organiser, make):
    meeting_id = make.meeting(world["forum"], state="scheduled", starts_in_days=10)
    make.invite(meeting_id, world["participant"])
    participant = sign_in(app.test_client(), world["participant"])
    page = participant.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert 'id="rsvp"' in page and "rsvp-cell" not in page  # no one else's answers for participants
    token = csrf_token(participant, f"/meetings/{meeting_id}")
    participant.post(
        f"/meetings/{meeting_id}/rsvp",
        data={"csrf_token": token, "answer": "tentative", "comment": "Depends on the court schedule"},
    )
    with app.app_context():
        invitation = db.session.execute(select(Invitation).where(Invitation.meeting_id == meeting_id)).scalar_one()
        assert invitation.rsvp == "tentative" and invitation.rsvp_at is not None
    page = organiser.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert "Tentative" in page and "Depends on the court schedule" in page


def test_rsvp_with_a_bad_answer_or_by_a_non_invitee_changes_nothing(app, world, make):
    meeting_id = make.meeting(world["forum"], state="scheduled", starts_in_days=10)
    make.invite(meeting_id, world["participant"])
    participant = sign_in(app.test_client(), world["participant"])
    token = csrf_token(participant, f"/meetings/{meeting_id}")
    participant.post(f"/meetings/{meeting_id}/rsvp", data={"csrf_token": token, "answer": "maybe"})
    observer = sign_in(app.test_client(), world["observer"])  # a member, but not invited
    token = csrf_token(observer, f"/meetings/{meeting_id}")
    observer.post(f"/meetings/{meeting_id}/rsvp", data={"csrf_token": token, "answer": "accepted"})
    with app.app_context():
        answers = db.session.execute(select(Invitation.rsvp)).scalars().all()
    assert answers == ["needs-action"]


def test_guests_can_be_invited_and_removed(app, world, organiser, make):
    meeting_id = make.meeting(world["forum"], state="scheduled", starts_in_days=10)
    guest = make.user(name="Guest From Ministry")
    token = csrf_token(organiser, f"/meetings/{meeting_id}")
    organiser.post(
        f"/meetings/{meeting_id}/invitees", data={"csrf_token": token, "email": guest, "name": "Guest From Ministry"}
    )
    page = organiser.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert "Guest From Ministry" in page and ">guest<" in page
    # The guest sees the meeting (invited) and can answer, but not the forum (not a member).
    guest_client = sign_in(app.test_client(), guest)
    assert 'id="rsvp"' in guest_client.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert guest_client.get(f"/forums/{world['forum']}").status_code == 404
    assert f"/meetings/{meeting_id}" in guest_client.get(
        f"/calendar?month={load(app, Meeting, meeting_id).starts_at:%Y-%m}"
    ).get_data(as_text=True)
    with app.app_context():
        invitation_id = db.session.execute(select(Invitation.id)).scalar_one()
    # Without the confirmation (the row's second button) nobody is removed.
    organiser.post(f"/meetings/{meeting_id}/invitees/{invitation_id}/remove", data={"csrf_token": token})
    assert count(app, Invitation) == 1
    organiser.post(
        f"/meetings/{meeting_id}/invitees/{invitation_id}/remove", data={"csrf_token": token, "confirmed": "yes"}
    )
    assert count(app, Invitation) == 0
    organiser.post(f"/meetings/{meeting_id}/invitees/all", data={"csrf_token": token})
    assert count(app, Invitation) == 2  # participant and observer


# --- attendance ---------------------------------------------------------------------------------------------------


def opened_attendance(client, meeting_id: int) -> tuple[dict[str, str], dict[int, str]]:
    """The attendance form as the page shows it: its fields (each row's value as shown) and
    the row prefix of each invitation id."""
    page = client.get(f"/meetings/{meeting_id}/attendance").get_data(as_text=True)
    fields = dict(re.findall(r'name="(csrf_token|rows-\d+-(?:row_id|was))"[^>]*value="([^"]*)"', page))
    rows = {int(v): k.rsplit("-", 1)[0] for k, v in fields.items() if k.endswith("-row_id")}
    for prefix in rows.values():
        fields[f"{prefix}-value"] = fields[f"{prefix}-was"]
    return fields, rows


def marked(opened: tuple[dict[str, str], dict[int, str]], **marks: str) -> dict[str, str]:
    """The opened form with the marks changed, as ``inv<id>="present"``."""
    fields, rows = opened
    return {**fields, **{f"{rows[int(key[3:])]}-value": value for key, value in marks.items()}}


def test_attendance_walk_ins_and_headcount_by_kind(app, world, organiser, make):
    meeting_id = make.meeting(world["forum"], state="held", starts_in_days=-1)
    participant_inv = make.invite(meeting_id, world["participant"])
    observer_inv = make.invite(meeting_id, world["observer"])
    form = opened_attendance(organiser, meeting_id)
    response = organiser.post(
        f"/meetings/{meeting_id}/attendance",
        data=marked(form, **{f"inv{participant_inv}": "present", f"inv{observer_inv}": "excused"}),
    )
    assert response.status_code == 302
    organiser.post(
        f"/meetings/{meeting_id}/attendance",
        data={
            "csrf_token": form[0]["csrf_token"],
            "walk_ins-0-name": "Mirela K.",
            "walk_ins-0-organisation_name": "Health Centre",
            "walk_ins-0-kind": "health",
        },
    )
    page = organiser.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    headcount = re.search(r'<ul class="list-inline" id="headcount">(.*?)</ul>', page, re.S).group(1)
    assert "Prison: 1" in headcount and "Health: 1" in headcount and "Social welfare" not in headcount
    assert "2 present" in page
    # A malformed mark changes nothing.
    response = organiser.post(
        f"/meetings/{meeting_id}/attendance",
        data=marked(opened_attendance(organiser, meeting_id), **{f"inv{participant_inv}": "maybe"}),
    )
    assert response.status_code == 400
    assert load(app, Invitation, participant_inv).attendance == "present"


def test_two_people_recording_attendance_do_not_undo_each_other(app, world, organiser, make):
    meeting_id = make.meeting(world["forum"], state="held", starts_in_days=-1)
    first_inv = make.invite(meeting_id, world["participant"])
    second_inv = make.invite(meeting_id, world["observer"])
    admin = sign_in(app.test_client(), world["admin"])

    mine, theirs = opened_attendance(organiser, meeting_id), opened_attendance(admin, meeting_id)
    assert (
        organiser.post(
            f"/meetings/{meeting_id}/attendance", data=marked(mine, **{f"inv{first_inv}": "excused"})
        ).status_code
        == 302
    )
    # The admin's older form changes only the second row: the first stays as the organiser set it.
    assert (
        admin.post(
            f"/meetings/{meeting_id}/attendance", data=marked(theirs, **{f"inv{second_inv}": "present"})
        ).status_code
        == 302
    )
    assert (load(app, Invitation, first_inv).attendance, load(app, Invitation, second_inv).attendance) == (
        "excused",
        "present",
    )
    # Changing a row someone else changed meanwhile is refused, with the names, and saves nothing.
    response = admin.post(
        f"/meetings/{meeting_id}/attendance",
        data=marked(theirs, **{f"inv{first_inv}": "absent", f"inv{second_inv}": "absent"}),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert (
        "Someone else changed the attendance of" in page
        and load(app, User, make.user_id(world["participant"])).name in page
    )
    assert (load(app, Invitation, first_inv).attendance, load(app, Invitation, second_inv).attendance) == (
        "excused",
        "present",
    )


def test_attendance_waits_for_the_meeting_to_be_held(app, world, organiser, make):
    meeting_id = make.meeting(world["forum"], state="scheduled", starts_in_days=3)
    inv = make.invite(meeting_id, world["participant"])
    token = csrf_token(organiser, f"/meetings/{meeting_id}")
    response = organiser.post(
        f"/meetings/{meeting_id}/attendance",
        data={"csrf_token": token, "rows-0-row_id": str(inv), "rows-0-was": "", "rows-0-value": "present"},
    )
    assert response.status_code == 400
    assert load(app, Invitation, inv).attendance is None


# --- minutes ---------------------------------------------------------------------------------------------------------


def minutes_post(client, meeting_id, body, decisions="", base=None, app=None, **extra):
    """Submit the minutes form; ``base`` defaults to the revision the form itself carries."""
    page = client.get(f"/meetings/{meeting_id}/minutes").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    if base is None:
        base = re.search(r'name="base_revision" type="hidden" value="(\d+)"', page).group(1)
    return client.post(
        f"/meetings/{meeting_id}/minutes",
        data={
            "csrf_token": token,
            "body_md": body,
            "decisions": decisions,
            "base_revision": base,
            "save": "Save",
            **extra,
        },
    )


def circulated_then_revised(app, world, organiser, make, first: str, second: str) -> tuple[int, str]:
    """A held meeting whose minutes version 1 (``first``) is circulated and version 2 (``second``) is not."""
    meeting_id = make.meeting(world["forum"], state="held", starts_in_days=-2)
    minutes_post(organiser, meeting_id, first, app=app)
    token = csrf_token(organiser, f"/meetings/{meeting_id}")
    response = organiser.post(
        f"/meetings/{meeting_id}/minutes/circulate", data={"csrf_token": token, "base_revision": 1}
    )
    assert response.status_code == 302
    assert load(app, Meeting, meeting_id).minutes_state == "circulated"
    minutes_post(organiser, meeting_id, second, app=app)
    return meeting_id, token


def test_minutes_lifecycle_versions_comments_adoption_and_correction(app, world, organiser, make):
    meeting_id = make.meeting(world["forum"], state="held", starts_in_days=-2)
    inv = make.invite(meeting_id, world["participant"])
    with app.app_context():
        db.session.get(Invitation, inv).attendance = "present"
        db.session.commit()
    assert minutes_post(organiser, meeting_id, "## Summary\nFirst draft", "Decision one", app=app).status_code == 302
    assert (
        minutes_post(
            organiser,
            meeting_id,
            "## Summary\nSecond draft <script>x()</script>",
            "Decision one\nDecision two",
            app=app,
        ).status_code
        == 302
    )
    meeting = load(app, Meeting, meeting_id)
    assert meeting.minutes_revision == 2 and meeting.minutes_state == "draft"

    participant = sign_in(app.test_client(), world["participant"])
    assert "Second draft" not in participant.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert participant.get(f"/meetings/{meeting_id}/minutes/versions").status_code == 404

    token = csrf_token(organiser, f"/meetings/{meeting_id}")
    organiser.post(f"/meetings/{meeting_id}/minutes/circulate", data={"csrf_token": token, "base_revision": 2})
    page = participant.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert "Second draft" in page and "<script>x()" not in page and "Decision two" in page
    token = csrf_token(participant, f"/meetings/{meeting_id}")
    participant.post(f"/meetings/{meeting_id}/minutes/comments", data={"csrf_token": token, "body": "Add the date."})
    assert count(app, MinutesComment) == 1

    # Version 1 was never circulated: it stays the organisers' draft.
    assert participant.get(f"/meetings/{meeting_id}/minutes/compare?a=1&b=2").status_code == 404
    assert participant.get(f"/meetings/{meeting_id}/minutes/versions/1").status_code == 404
    assert "/versions/1" not in participant.get(f"/meetings/{meeting_id}/minutes/versions").get_data(as_text=True)
    compare = organiser.get(f"/meetings/{meeting_id}/minutes/compare?a=1&b=2").get_data(as_text=True)
    assert 'class="diff-removed">- First draft' in compare and 'class="diff-added">+ Decision two' in compare

    # Work after circulation is not shown until it is circulated in turn.
    minutes_post(organiser, meeting_id, "## Summary\nThird draft", "Decision one\nDecision two", app=app)
    page = participant.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert "Second draft" in page and "Third draft" not in page
    assert "Invitees still read version 2" in organiser.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    token = csrf_token(organiser, f"/meetings/{meeting_id}")
    organiser.post(f"/meetings/{meeting_id}/minutes/circulate", data={"csrf_token": token, "base_revision": 3})
    assert "Third draft" in participant.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert participant.get(f"/meetings/{meeting_id}/minutes/compare?a=2&b=3").status_code == 200

    organiser.post(f"/meetings/{meeting_id}/minutes/adopt", data={"csrf_token": token, "base_revision": 3})
    assert load(app, Meeting, meeting_id).minutes_state == "adopted"
    # Adopted: no plain edit; a correction needs its reason and is kept as such.
    response = minutes_post(organiser, meeting_id, "## Summary\nCorrected", "Decision one", app=app)
    assert response.status_code == 400 and "correction" in response.get_data(as_text=True)
    assert load(app, Meeting, meeting_id).minutes_revision == 3
    response = minutes_post(
        organiser,
        meeting_id,
        "## Summary\nCorrected",
        "Decision one",
        app=app,
        correction_reason="Decision two was not agreed.",
    )
    assert response.status_code == 302
    with app.app_context():
        latest = db.session.execute(select(MinutesVersion).order_by(MinutesVersion.number.desc())).scalars().first()
        assert (latest.number, latest.kind, latest.reason) == (4, "correction", "Decision two was not agreed.")
        assert latest.shared_at is not None  # a correction is part of the record at once
        assert db.session.execute(select(func.count()).select_from(MinutesVersion)).scalar_one() == 4
    assert load(app, Meeting, meeting_id).minutes_state == "adopted"
    assert "Corrected" in participant.get(f"/meetings/{meeting_id}").get_data(as_text=True)


def test_stale_minutes_form_is_a_conflict_with_a_diff(app, world, organiser, make):
    meeting_id = make.meeting(world["forum"], state="held", starts_in_days=-2)
    minutes_post(organiser, meeting_id, "Line one\nLine two", app=app)
    minutes_post(organiser, meeting_id, "Line one\nLine two, amended", base=1, app=app)
    response = minutes_post(organiser, meeting_id, "Line one\nLine two, my way", base=1, app=app)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and 'id="conflict"' in page
    # Three ways (issue 8, point 8): both changes against version 1, where both started.
    theirs, yours = page.split("Saved meanwhile", 1)[1].split("Your version", 1)
    assert "+ Line two, amended" in theirs and "- Line two</span>" in theirs and "my way" not in theirs
    assert "+ Line two, my way" in yours.split("</pre>", 1)[0]
    with app.app_context():
        bodies = db.session.execute(select(MinutesVersion.body_md).order_by(MinutesVersion.number)).scalars().all()
    assert bodies == ["Line one\nLine two", "Line one\nLine two, amended"]
    # The conflict page carries the latest revision: saving the merged text from it goes through.
    base = re.search(r'name="base_revision" type="hidden" value="(\d+)"', page).group(1)
    assert base == "2"
    response = minutes_post(organiser, meeting_id, "Line one\nLine two, amended my way", base=base, app=app)
    assert response.status_code == 302
    assert load(app, Meeting, meeting_id).minutes_revision == 3


def test_only_present_attendees_and_organisers_comment(app, world, make):
    meeting_id = make.meeting(world["forum"], state="held", starts_in_days=-2)
    make.invite(meeting_id, world["participant"])  # invited, attendance not recorded
    make.minutes(meeting_id, state="circulated")
    participant = sign_in(app.test_client(), world["participant"])
    token = csrf_token(participant, f"/meetings/{meeting_id}")
    assert (
        participant.post(
            f"/meetings/{meeting_id}/minutes/comments", data={"csrf_token": token, "body": "Hello"}
        ).status_code
        == 403
    )
    assert count(app, MinutesComment) == 0


# --- forums and members -------------------------------------------------------------------------------------------------


def test_organiser_creates_a_forum_only_for_their_own_grant(app, world, organiser):
    page = organiser.get("/forums/new").get_data(as_text=True)
    option_values = re.findall(r'<option (?:selected )?value="(\d+)"', page)
    assert str(world["grant"]) in option_values and str(world["other_grant"]) not in option_values
    data = {
        "grant_id": world["other_grant"],
        "title": "Tuzla forum",
        "city": "Tuzla",
        "country": "BA",
        "timezone": "Europe/Sarajevo",
        "focus": "",
        "description": "",
    }
    assert post_form(organiser, "/forums/new", data).status_code == 400
    response = post_form(organiser, "/forums/new", {**data, "grant_id": world["grant"]})
    assert response.status_code == 302
    assert "Tuzla forum" in organiser.get(response.headers["Location"]).get_data(as_text=True)


def test_forum_page_shows_coverage_and_members_by_kind(app, world, organiser):
    page = organiser.get(f"/forums/{world['forum']}").get_data(as_text=True)
    coverage = re.search(r'id="coverage"(.*?)</section>', page, re.S).group(1)
    missing = re.search(r'id="coverage-missing">(.*?)</ul>', coverage, re.S).group(1)
    # Agencies among the members: the prison's, the social welfare centre's, and the grant holder's
    # (an NGO, whose people organise the forum rather than belong to it: issue 21, part 5).
    assert "3/8" in coverage
    assert "Probation" in missing and "Police" in missing and "Prison" not in missing and "NGO" not in missing
    members = re.search(r'id="members-h"(.*?)</section>', page, re.S).group(1)
    assert members.index("Prison") < members.index("Social welfare")


def test_adding_members_existing_and_new(app, world, organiser, make):
    path = f"/forums/{world['forum']}/members"
    guest = make.user(name="Dragan Police")
    # An account the grant does not know needs a name, as a new address does (issue 22 point 5).
    response = post_form(organiser, path, {"email": guest, "role": "participant", "organisation_id": 0})
    assert response.status_code == 400 and "Give the person" in response.get_data(as_text=True)
    data = {"email": guest, "name": "Dragan", "role": "participant", "organisation_id": 0}
    assert post_form(organiser, path, data).status_code == 302
    response = post_form(organiser, path, {"email": guest, "role": "participant", "organisation_id": 0})
    assert response.status_code == 400 and "already a member" in response.get_data(as_text=True)
    response = post_form(organiser, path, {"email": "new.person@example.org", "role": "observer", "organisation_id": 0})
    assert response.status_code == 400 and "Give the person" in response.get_data(as_text=True)
    response = post_form(
        organiser,
        path,
        {"email": "new.person@example.org", "name": "Nova Osoba", "role": "observer", "organisation_id": 0},
    )
    assert response.status_code == 302
    with app.app_context():
        member = db.session.execute(
            select(ForumMember).join(ForumMember.user).where(User.email == "new.person@example.org")
        ).scalar_one()
        assert member.role == "observer" and member.user.password_hash is None
        assert (
            db.session.execute(
                select(OutboxMessage.kind).where(OutboxMessage.to_addr == "new.person@example.org")
            ).scalar_one()
            == "set-password"
        )
        member_id = member.id
    # Removing a member withdraws their invitations to meetings still to come, not to past ones.
    upcoming = make.meeting(world["forum"], state="scheduled", starts_in_days=7)
    past = make.meeting(world["forum"], state="held", starts_in_days=-7)
    make.invite(upcoming, "new.person@example.org")
    past_invitation = make.invite(past, "new.person@example.org")
    token = csrf_token(organiser, path)
    organiser.post(f"{path}/{member_id}/remove", data={"csrf_token": token})
    assert count(app, ForumMember, ForumMember.id == member_id) == 0
    with app.app_context():
        left = (
            db.session.execute(
                select(Invitation.id).join(Invitation.user).where(User.email == "new.person@example.org")
            )
            .scalars()
            .all()
        )
    assert left == [past_invitation]
    assert count(app, AuditEvent, AuditEvent.verb == "forum.member.remove") == 1


def test_forum_list_filters(app, world, make):
    staff = sign_in(app.test_client(), world["staff"])
    page = staff.get("/forums?country=MK").get_data(as_text=True)
    titles = re.findall(r'<h2 class="h5 card-title"><a[^>]*>([^<]+)</a>', page)
    assert len(titles) == 1
    assert len(re.findall(r"card-title", staff.get("/forums").get_data(as_text=True))) == 2
    assert "No forum matches" in staff.get("/forums?q=nothing-like-this").get_data(as_text=True)


def test_calendar_places_meetings_on_their_local_day_and_hides_drafts_from_members(app, world, make):
    scheduled = make.meeting(world["forum"], state="scheduled", starts_in_days=5)
    draft = make.meeting(world["forum"], state="draft", starts_in_days=6)
    month = load(app, Meeting, scheduled).starts_at.strftime("%Y-%m")
    participant = sign_in(app.test_client(), world["participant"])
    page = participant.get(f"/calendar?month={month}").get_data(as_text=True)
    assert f"/meetings/{scheduled}" in page and f"/meetings/{draft}" not in page
    organiser = sign_in(app.test_client(), world["organiser"])
    month2 = load(app, Meeting, draft).starts_at.strftime("%Y-%m")
    assert f"/meetings/{draft}" in organiser.get(f"/calendar?month={month2}").get_data(as_text=True)


def test_a_busy_day_shows_three_meetings_and_a_link_to_the_day_with_all_of_them(app, world, make):
    """A programme-wide month has more meetings than a cell can hold: the cell stays bounded."""
    ids = [make.meeting(world["forum"], state="scheduled", starts_in_days=9) for _ in range(5)]
    zone = load(app, User, make.user_id(world["organiser"])).timezone or "UTC"
    day = load(app, Meeting, ids[0]).starts_at.astimezone(ZoneInfo(zone)).date()
    organiser = sign_in(app.test_client(), world["organiser"])
    page = organiser.get(f"/calendar?month={day:%Y-%m}").get_data(as_text=True)
    grid = page.split('id="calendar-grid"')[1].split("</table>")[0]
    assert [i for i in ids if f'href="/meetings/{i}"' in grid] == ids[:3]
    more = re.search(r'href="(/calendar\?day=[\d-]+)">\+2 more', grid)
    assert more and more.group(1) == f"/calendar?day={day.isoformat()}"
    day_page = organiser.get(more.group(1)).get_data(as_text=True)
    listed = day_page.split('id="calendar-day"')[1].split("</section>")[0]
    assert all(f'href="/meetings/{i}"' in listed for i in ids)
    # A day that is not one is the month view, not an error.
    for bad in ("2026-02-30", "2026-1-1", "garbage", "0000-01-01"):
        response = organiser.get(f"/calendar?day={bad}")
        assert response.status_code == 200 and 'id="calendar-day"' not in response.get_data(as_text=True)


def test_programme_staffs_month_shows_a_new_meeting_and_a_renamed_forum_at_once(app, world, make):
    """Staff see every forum's month: a new meeting (a draft too) or a forum's new city shows on the next view."""
    first = make.meeting(world["forum"], state="scheduled", starts_in_days=9)
    zone = load(app, User, make.user_id(world["staff"])).timezone or "UTC"
    month = f"{load(app, Meeting, first).starts_at.astimezone(ZoneInfo(zone)):%Y-%m}"
    staff = sign_in(app.test_client(), world["staff"])

    def view() -> str:
        page = staff.get(f"/calendar?month={month}").get_data(as_text=True)
        return page.split('id="calendar-grid"')[1].split("</table>")[0]

    grid = view()
    assert f'href="/meetings/{first}"' in grid and "Tuzla:" not in grid
    second = make.meeting(world["other_forum"], state="draft", starts_in_days=9)  # a draft: staff see it too
    assert f'href="/meetings/{second}"' in view()
    with app.app_context():
        db.session.get(Forum, world["forum"]).city = "Tuzla"  # the cells show each forum's city
        db.session.commit()
    assert "Tuzla:" in view()
    # Organisers' months are their own: the other grant's draft is not in it.
    organiser = sign_in(app.test_client(), world["organiser"])
    assert f'href="/meetings/{second}"' not in organiser.get(f"/calendar?month={month}").get_data(as_text=True)


def test_a_draft_cancelled_before_scheduling_stays_with_the_organisers(app, world, organiser, make):
    meeting_id = make.meeting(world["forum"], state="draft", starts_in_days=10)
    make.invite(meeting_id, world["participant"])
    set_state(organiser, meeting_id, app, "cancelled", reason="Planned twice by mistake.")
    assert load(app, Meeting, meeting_id).state == "cancelled"
    participant = sign_in(app.test_client(), world["participant"])
    assert participant.get(f"/meetings/{meeting_id}").status_code == 404
    assert organiser.get(f"/meetings/{meeting_id}").status_code == 200


def test_next_meeting_keeps_the_local_clock_time_across_daylight_saving(ctx):
    from forum_app.meetings.services import _same_local_time_later

    # 13 Oct 2021, 10:00 CEST (summer time); the next dates fall in every season since.
    previous = datetime(2021, 10, 13, 8, 0, tzinfo=UTC)
    start = _same_local_time_later(previous, "Europe/Sarajevo")
    local = start.astimezone(ZoneInfo("Europe/Sarajevo"))
    assert local.strftime("%H:%M %a") == "10:00 Wed" and start > datetime.now(UTC)
    assert (local.date() - datetime(2021, 10, 13).date()).days % 91 == 0


def test_meeting_record_is_locked_once_minutes_are_adopted(app, world, organiser, make):
    meeting_id = make.meeting(world["forum"], state="held", starts_in_days=-3)
    make.minutes(meeting_id, state="adopted")
    title = load(app, Meeting, meeting_id).title
    assert organiser.get(f"/meetings/{meeting_id}/edit").status_code == 302
    token = csrf_token(organiser, f"/meetings/{meeting_id}")
    organiser.post(
        f"/meetings/{meeting_id}/edit",
        data={
            **meeting_form(title="Rewritten"),
            "csrf_token": token,
            "version": load(app, Meeting, meeting_id).version,
        },
    )
    assert load(app, Meeting, meeting_id).title == title


def test_too_long_cancel_reason_is_named(app, world, organiser, make):
    meeting_id = make.meeting(world["forum"], state="scheduled", starts_in_days=5)
    response = set_state(organiser, meeting_id, app, "cancelled", reason="x" * 2001)
    page = organiser.get(response.headers["Location"]).get_data(as_text=True)
    assert "Reason (shown to invitees)" in page and "2000" in page
    assert load(app, Meeting, meeting_id).state == "scheduled"


def test_plan_next_without_any_meeting_says_so_and_creates_nothing(app, world, organiser):
    response = organiser.get(f"/forums/{world['forum']}/meetings/new?next=1")
    assert response.headers["Location"] == f"/forums/{world['forum']}"
    assert "Plan its first meeting" in organiser.get(response.headers["Location"]).get_data(as_text=True)
    assert count(app, Meeting) == 0


# --- meetings as organisers and participants use them (issue 8) -------------------------------------------------


def test_a_span_across_a_clock_change_names_each_offset(app, world, make):
    """The night the clocks go back, 02:30 happens twice: the label says which (issue 8, point 1)."""
    from forum_app.core.dates import format_span

    zone = ZoneInfo("Europe/Podgorica")
    with app.app_context():
        forum = db.session.get(Forum, world["forum"])
        forum.timezone = "Europe/Podgorica"
        first = datetime(2027, 10, 31, 2, 30, tzinfo=zone, fold=0).astimezone(UTC)
        second = datetime(2027, 10, 31, 2, 30, tzinfo=zone, fold=1).astimezone(UTC)
        end = datetime(2027, 10, 31, 4, 0, tzinfo=zone).astimezone(UTC)
        labels = [format_span(Meeting(forum=forum, starts_at=start, ends_at=end)) for start in (first, second)]
        spring = format_span(
            Meeting(
                forum=forum,
                starts_at=datetime(2027, 3, 28, 1, 0, tzinfo=ZoneInfo("Europe/Sarajevo")),
                ends_at=datetime(2027, 3, 28, 3, 30, tzinfo=ZoneInfo("Europe/Sarajevo")),
            ),
            "Europe/Sarajevo",
        )
        db.session.rollback()
    assert labels == [
        "Sun, 31 Oct 2027, 02:30 CEST–04:00 CET (Europe/Podgorica)",
        "Sun, 31 Oct 2027, 02:30–04:00 CET (Europe/Podgorica)",
    ]
    assert spring == "Sun, 28 Mar 2027, 01:00 CET–03:30 CEST (Europe/Sarajevo)"


def test_saving_the_edit_form_unchanged_changes_nothing(app, world, organiser, make):
    """No version bump, no CRLF in the agenda, no audit entry (issue 8, point 2)."""
    plan(organiser, world["forum"], agenda_md="1. Welcome\r\n2. Review")
    meeting_id = new_meeting_id(app)
    before = load(app, Meeting, meeting_id)
    assert before.agenda_md == "1. Welcome\n2. Review"
    page = organiser.get(f"/meetings/{meeting_id}/edit").get_data(as_text=True)
    fields = dict(
        re.findall(
            r'name="(csrf_token|version|title|day|start_time|end_time|venue|online_url)"'
            r'[^>]*value="([^"]*)"',
            page,
        )
    )
    agenda = re.search(r'<textarea[^>]*name="agenda_md"[^>]*>\r?\n?(.*?)</textarea>', page, re.S).group(1)
    fields["agenda_md"] = html.unescape(agenda).replace("\n", "\r\n")  # as a browser submits a textarea
    response = organiser.post(f"/meetings/{meeting_id}/edit", data={**fields, "save": "Save"})
    assert response.status_code == 302
    after = load(app, Meeting, meeting_id)
    assert (after.version, after.agenda_md) == (before.version, "1. Welcome\n2. Review")
    with app.app_context():
        assert (
            db.session.execute(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.verb == "meeting.update")
            ).scalar_one()
            == 0
        )


def test_attendance_is_locked_once_the_minutes_are_adopted(app, world, organiser, make):
    """The record says it is locked, and it is (issue 8, point 3)."""
    meeting_id = make.meeting(world["forum"], state="held", starts_in_days=-2)
    inv = make.invite(meeting_id, world["participant"])
    make.minutes(meeting_id, state="adopted")
    page = organiser.get(f"/meetings/{meeting_id}/attendance").get_data(as_text=True)
    assert "attendance is part of the locked record" in page and 'name="rows-0-value"' not in page
    token = csrf_token(organiser, f"/meetings/{meeting_id}")
    response = organiser.post(
        f"/meetings/{meeting_id}/attendance",
        data={"csrf_token": token, "rows-0-row_id": str(inv), "rows-0-was": "", "rows-0-value": "present"},
    )
    assert response.status_code == 400
    response = organiser.post(
        f"/meetings/{meeting_id}/attendance",
        data={"csrf_token": token, "walk_ins-0-name": "Late entry", "walk_ins-0-kind": "police"},
    )
    assert response.status_code == 400
    assert load(app, Invitation, inv).attendance is None
    assert count(app, WalkInAttendee) == 0
    assert "Record attendance" not in organiser.get(f"/meetings/{meeting_id}").get_data(as_text=True)


def test_a_cancelled_future_meeting_stays_among_the_planned_ones(app, world, organiser, make):
    """Issue 8, point 6."""
    meeting_id = make.meeting(world["forum"], state="scheduled", starts_in_days=10)
    set_state(organiser, meeting_id, app, "cancelled", reason="The venue is closed.")
    page = organiser.get(f"/forums/{world['forum']}").get_data(as_text=True)
    past = page.split('id="past-h"', 1)[1] if 'id="past-h"' in page else ""
    assert f'href="/meetings/{meeting_id}"' in page and f'href="/meetings/{meeting_id}"' not in past


def test_scheduling_needs_a_venue_or_a_link(app, world, organiser):
    """A draft may lack them; scheduling may not (issue 8, point 7)."""
    plan(organiser, world["forum"], venue="", online_url="")
    meeting_id = new_meeting_id(app)
    response = set_state(organiser, meeting_id, app, "scheduled")
    assert "Give a venue or an online link" in flashed(organiser, response.headers["Location"])
    assert load(app, Meeting, meeting_id).state == "draft"


def test_only_circulated_minutes_can_be_adopted(app, world, organiser, make):
    """Version 2 is not adopted while the invitees have only seen version 1 (issue 8, point 9)."""
    meeting_id, token = circulated_then_revised(app, world, organiser, make, "Version one", "Version two")
    page = organiser.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert "Adopt version" not in page and "Circulate version 2" in page
    response = organiser.post(f"/meetings/{meeting_id}/minutes/adopt", data={"csrf_token": token, "base_revision": 2})
    assert "Version 2 has not been circulated" in flashed(organiser, response.headers["Location"])
    assert load(app, Meeting, meeting_id).minutes_state == "circulated"
    organiser.post(f"/meetings/{meeting_id}/minutes/circulate", data={"csrf_token": token, "base_revision": 2})
    page = organiser.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert "Adopt version 2 and lock" in page and 'data-confirm="Adopt version 2 of the minutes?' in page


def test_buttons_name_their_object_and_held_waits_for_the_start(app, world, organiser, make):
    """Issue 8, points 14 and 18: "Remove <name>", and no "Mark as held" before the meeting starts."""
    meeting_id = make.meeting(world["forum"], state="scheduled", starts_in_days=3)
    make.invite(meeting_id, world["participant"])
    name = load(app, User, make.user_id(world["participant"])).name
    page = organiser.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert f">Remove {name}</button>" in page and ">Remove</button>" not in page
    assert "Mark as held" not in page
    started = make.meeting(world["forum"], state="scheduled", starts_in_days=-1)
    assert "Mark as held" in organiser.get(f"/meetings/{started}").get_data(as_text=True)


def test_home_page_says_what_needs_me(app, world, organiser, make):
    """Issue 8, point 10: answers, comments, organiser steps and the staff overview."""
    scheduled = make.meeting(world["forum"], state="scheduled", starts_in_days=5)
    inv = make.invite(scheduled, world["participant"])
    draft = make.meeting(world["forum"], state="draft", starts_in_days=20)
    held = make.meeting(world["forum"], state="held", starts_in_days=-3)
    present = make.invite(held, world["participant"])
    make.mark_attendance(present, "present")
    make.minutes(held, state="circulated")

    participant = sign_in(app.test_client(), world["participant"])
    page = participant.get("/").get_data(as_text=True)
    mine = page.split('id="my-meetings"', 1)[1].split("</section>", 1)[0]
    assert f'href="/meetings/{scheduled}"' in mine and "Your answer:" in mine
    assert f'href="/meetings/{held}#minutes"' in page.split('id="to-comment"', 1)[1]
    assert 'id="tasks"' not in page and 'id="overview"' not in page
    # Answering from the home page records the answer and comes back home.
    token = csrf_token(participant, "/")
    response = participant.post(
        f"/meetings/{scheduled}/rsvp", data={"csrf_token": token, "answer": "accepted", "next": "/"}
    )
    assert response.headers["Location"] == "/"
    assert load(app, Invitation, inv).rsvp == "accepted"

    tasks = organiser.get("/").get_data(as_text=True).split('id="tasks"', 1)[1].split("</section>", 1)[0]
    assert f'href="/meetings/{draft}"' in tasks and "Schedule the draft" in tasks
    assert f'href="/meetings/{held}"' in tasks and "Adopt the minutes" in tasks
    assert f'href="/meetings/{scheduled}"' not in tasks  # nothing to do before it starts

    staff = sign_in(app.test_client(), world["staff"])
    overview = staff.get("/").get_data(as_text=True).split('id="overview"', 1)[1]
    assert f'href="/forums/{world["forum"]}"' in overview and f'href="/forums/{world["other_forum"]}"' in overview
    # Agencies among the members: the kinds of the members' organisations (a prison's and a social welfare
    # centre's), of active people only, and the grant holder's (an NGO: issue 21, part 5, it counts although
    # its people are organisers, not members); the other forum has no member with an organisation.
    row = overview.split(f'href="/forums/{world["forum"]}"', 1)[1].split("</tr>", 1)[0]
    other = overview.split(f'href="/forums/{world["other_forum"]}"', 1)[1].split("</tr>", 1)[0]
    assert ">3/8<" in row and "Prison" not in row.split("missing:")[1] and ">1/8<" in other
    with app.app_context():
        db.session.get(User, make.user_id(world["observer"])).active = False
        db.session.commit()
    row = staff.get("/").get_data(as_text=True).split(f'href="/forums/{world["forum"]}"', 1)[1].split("</tr>", 1)[0]
    assert ">2/8<" in row and "Social welfare" in row.split("missing:")[1]
    outsider = sign_in(app.test_client(), world["outsider"])
    page = outsider.get("/").get_data(as_text=True)
    assert "No meeting is planned for you" in page and f'/meetings/{scheduled}"' not in page


def test_a_new_guest_is_invited_in_one_step_and_withdrawn_cleanly(app, world, organiser, make):
    """Issue 8, points 5 and 16, and issue 7, point 9: the same answer for a known and a new
    address; a mistaken invitation withdrawn takes its unused account and email with it."""
    meeting_id = make.meeting(world["forum"], state="scheduled", starts_in_days=10)
    known = make.user(name="Known Person")
    answers = []
    for email, name in ((known, "Typed Name"), ("new.guest@ministry.example", "New Guest")):
        response = post_form(
            organiser,
            f"/meetings/{meeting_id}",
            {"email": email, "name": name},
            action=f"/meetings/{meeting_id}/invitees",
        )
        assert response.status_code == 302
        answers.append(flashed(organiser, response.headers["Location"]).replace(email, "<email>"))
    assert "<email> is invited." in answers[0] and answers[0].count("is invited") == answers[1].count("is invited")
    with app.app_context():
        guest = db.session.execute(select(User).where(User.email == "new.guest@ministry.example")).scalar_one()
        guest_id = guest.id
        assert guest.active and not guest.has_password
        message = db.session.execute(
            select(OutboxMessage).where(OutboxMessage.to_user_id == guest_id, OutboxMessage.kind == "set-password")
        ).scalar_one()
        link = "/set-password/" + message.body_text.split("/set-password/")[1].split()[0]
        invitation_id = db.session.execute(select(Invitation.id).where(Invitation.user_id == guest_id)).scalar_one()
    guest_client = app.test_client()
    assert guest_client.get(link).status_code == 200  # the link works while the invitation stands
    # Withdrawn by the organiser who made it: the account closes, the email is withheld, the link is dead.
    token = csrf_token(organiser, f"/meetings/{meeting_id}")
    organiser.post(
        f"/meetings/{meeting_id}/invitees/{invitation_id}/remove", data={"csrf_token": token, "confirmed": "yes"}
    )
    with app.app_context():
        assert db.session.get(User, guest_id).active is False
        # The set-password email and the meeting invitation alike.
        assert set(
            db.session.execute(select(OutboxMessage.status).where(OutboxMessage.to_user_id == guest_id)).scalars()
        ) == {"withdrawn"}
    assert guest_client.get(link).status_code == 400
    # A known account invited and withdrawn stays as it was.
    with app.app_context():
        known_inv = db.session.execute(select(Invitation.id).join(User).where(User.email == known)).scalar_one()
    organiser.post(
        f"/meetings/{meeting_id}/invitees/{known_inv}/remove", data={"csrf_token": token, "confirmed": "yes"}
    )
    assert load(app, User, make.user_id(known)).active is True


def test_a_guest_removed_by_mistake_can_be_invited_again_by_the_organiser_who_removed_them(app, world, organiser, make):
    """Issue 20, point 7. Removing a new guest closes the account made for them (above); inviting the
    same address again was refused ("cannot be invited, ask an administrator"), because the closed
    account was taken for one an administrator had closed. Now the organiser who closed it reopens it
    (a new set-password email, the invitation), while nobody else does, nor anyone after an
    administrator closed it."""
    meeting_id = make.meeting(world["forum"], state="scheduled", starts_in_days=10)
    second_organiser = make.user(name="Second Organiser")
    make.add_to_team(world["grant"], second_organiser)
    guest = "mistaken.guest@ministry.example"
    path, action = f"/meetings/{meeting_id}", f"/meetings/{meeting_id}/invitees"

    def invite(client):
        return post_form(client, path, {"email": guest, "name": "Mistaken Guest"}, action=action)

    def remove(client):
        with app.app_context():
            invitation_id = db.session.execute(
                select(Invitation.id).join(User).where(User.email == guest, Invitation.meeting_id == meeting_id)
            ).scalar_one()
        post_form(client, path, {"confirmed": "yes"}, action=f"/meetings/{meeting_id}/invitees/{invitation_id}/remove")

    def guest_account() -> User:
        with app.app_context():
            user = db.session.execute(select(User).where(User.email == guest)).scalar_one()
            db.session.expunge(user)
            return user

    def pending(kind: str) -> int:
        return count(
            app,
            OutboxMessage,
            OutboxMessage.to_user_id == guest_account().id,
            OutboxMessage.kind == kind,
            OutboxMessage.status == "pending",
        )

    assert invite(organiser).status_code == 302
    remove(organiser)
    assert guest_account().active is False and pending("set-password") == 0
    # Another organiser of the grant may not reopen the first one's withdrawn invitation. The grant
    # no longer knows the account, so the answer is the one any address gets (issue 22 point 5):
    # invited, while the account stays closed and is sent no set-password link.
    other = sign_in(app.test_client(), second_organiser)
    assert invite(other).status_code == 302
    assert guest_account().active is False and pending("set-password") == 0
    remove(other)
    # The organiser who removed the guest invites them again: the account opens, the emails go out.
    response = invite(organiser)
    assert response.status_code == 302
    assert f"{guest} is invited." in flashed(organiser, response.headers["Location"])
    assert guest_account().active is True and not guest_account().has_password
    assert pending("set-password") == 1 and pending("meeting-invitation") == 1
    assert count(app, AuditEvent, AuditEvent.verb == "user.invitation_reopened") == 1
    # Removed again, then deactivated by an administrator: that closure stands, even for the organiser.
    remove(organiser)
    assert guest_account().active is False
    admin_id, guest_id = make.user_id(world["admin"]), guest_account().id
    with app.app_context():
        admin, account = db.session.get(User, admin_id), db.session.get(User, guest_id)
        accounts.set_active(admin, account, True)
        accounts.set_active(admin, account, False)
        db.session.commit()
    # (The same answer as for any address the grant does not know: issue 22 point 5.)
    assert invite(organiser).status_code == 302
    assert guest_account().active is False and pending("set-password") == 0


def test_removing_a_member_added_by_mistake_withdraws_the_new_account(app, world, organiser):
    """Issue 8, point 5."""
    response = post_form(
        organiser,
        f"/forums/{world['forum']}/members",
        {"email": "wrong.person@example.org", "name": "Wrong Person", "role": "participant", "organisation_id": "0"},
    )
    assert response.status_code == 302
    with app.app_context():
        user = db.session.execute(select(User).where(User.email == "wrong.person@example.org")).scalar_one()
        member_id = db.session.execute(select(ForumMember.id).where(ForumMember.user_id == user.id)).scalar_one()
        user_id = user.id
    post_form(
        organiser,
        f"/forums/{world['forum']}/members",
        {},
        action=f"/forums/{world['forum']}/members/{member_id}/remove",
    )
    with app.app_context():
        assert db.session.get(User, user_id).active is False
        statuses = db.session.execute(select(OutboxMessage.status).where(OutboxMessage.to_user_id == user_id)).all()
    assert [s for (s,) in statuses] == ["withdrawn"]
    # Added again by the organiser who removed them: the account opens again, with a new set-password email.
    again = post_form(
        organiser,
        f"/forums/{world['forum']}/members",
        {"email": "wrong.person@example.org", "name": "Wrong Person", "role": "participant", "organisation_id": "0"},
    )
    assert again.status_code == 302
    with app.app_context():
        assert db.session.get(User, user_id).active is True
        statuses = db.session.execute(select(OutboxMessage.status).where(OutboxMessage.to_user_id == user_id)).all()
    assert sorted(s for (s,) in statuses) == ["pending", "withdrawn"]


def test_attendance_in_one_go_with_walk_ins_and_everyone_who_accepted(app, world, organiser, make):
    """Issue 8, point 12: marks and walk-ins in one form; "mark everyone who accepted" keeps what was typed."""
    meeting_id = make.meeting(world["forum"], state="held", starts_in_days=-1)
    accepted = make.invite(meeting_id, world["participant"])
    declined = make.invite(meeting_id, world["observer"])
    with app.app_context():
        db.session.get(Invitation, accepted).rsvp = "accepted"
        db.session.get(Invitation, declined).rsvp = "declined"
        db.session.commit()
    form = opened_attendance(organiser, meeting_id)
    typed = {
        **marked(form, **{f"inv{declined}": "excused"}),
        "walk_ins-0-name": "Mirela K.",
        "walk_ins-0-kind": "health",
    }
    page = organiser.post(f"/meetings/{meeting_id}/attendance", data={**typed, "mark_accepted": "1"})
    html_page = page.get_data(as_text=True)
    assert page.status_code == 200 and "marked present. Check and save." in html_page
    assert count(app, WalkInAttendee) == 0 and load(app, Invitation, accepted).attendance is None  # not saved yet
    shown = dict(
        re.findall(r'<select[^>]*name="(rows-\d+-value)"[^>]*>.*?<option selected value="([^"]*)"', html_page, re.S)
    )
    rows = form[1]
    assert shown[f"{rows[accepted]}-value"] == "present" and shown[f"{rows[declined]}-value"] == "excused"
    assert 'value="Mirela K."' in html_page  # the walk-in typed is still there
    # Saving the lot writes marks and walk-in together.
    response = organiser.post(
        f"/meetings/{meeting_id}/attendance",
        data={**typed, f"{rows[accepted]}-value": "present", "save": "Save attendance"},
    )
    assert response.status_code == 302
    assert (load(app, Invitation, accepted).attendance, load(app, Invitation, declined).attendance) == (
        "present",
        "excused",
    )
    assert count(app, WalkInAttendee) == 1


def test_a_stale_meeting_edit_is_shown_three_ways_and_keeps_the_other_change(app, world, organiser, make):
    """Issue 8, point 8: the second editor's untouched fields take the first one's saved values."""
    plan(organiser, world["forum"], venue="Town hall", title="Quarterly meeting")
    meeting_id = new_meeting_id(app)
    admin = sign_in(app.test_client(), world["admin"])

    def opened(client):
        page = client.get(f"/meetings/{meeting_id}/edit").get_data(as_text=True)
        fields = dict(
            re.findall(
                r'name="(csrf_token|version|title|day|start_time|end_time|venue|online_url)"'
                r'[^>]*value="([^"]*)"',
                page,
            )
        )
        fields["loaded"] = html.unescape(re.search(r'name="loaded" type="hidden" value="([^"]*)"', page).group(1))
        fields["agenda_md"] = "1. Welcome"
        return fields

    mine, theirs = opened(organiser), opened(admin)
    assert (
        organiser.post(
            f"/meetings/{meeting_id}/edit", data={**mine, "venue": "Council hall", "save": "Save"}
        ).status_code
        == 302
    )
    response = admin.post(
        f"/meetings/{meeting_id}/edit", data={**theirs, "title": "Extraordinary meeting", "save": "Save"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "You started from" in page
    conflict = page.split('id="conflict"', 1)[1].split("</table>", 1)[0]
    assert "Town hall" in conflict and "Council hall" in conflict and "Extraordinary meeting" in conflict
    # The venue (untouched by the admin) now shows what the organiser saved; the admin's title is kept.
    assert (
        'name="venue" type="text" value="Council hall"' in page
        or 'value="Council hall"' in page.split('name="venue"', 1)[1][:200]
    )
    assert 'value="Extraordinary meeting"' in page
    assert load(app, Meeting, meeting_id).title == "Quarterly meeting"
    # Saving the re-shown form keeps both changes.
    fields = dict(
        re.findall(
            r'name="(csrf_token|version|title|day|start_time|end_time|venue|online_url)"'
            r'[^>]*value="([^"]*)"',
            page,
        )
    )
    fields["loaded"] = html.unescape(re.search(r'name="loaded" type="hidden" value="([^"]*)"', page).group(1))
    assert (
        admin.post(
            f"/meetings/{meeting_id}/edit", data={**fields, "agenda_md": "1. Welcome", "save": "Save"}
        ).status_code
        == 302
    )
    saved = load(app, Meeting, meeting_id)
    assert (saved.title, saved.venue) == ("Extraordinary meeting", "Council hall")


def test_planning_warns_about_past_dates_grant_period_and_holidays(app, world, organiser):
    """Issue 8, point 18: warnings, not refusals."""
    with app.app_context():
        from forum_app.models import Grant

        grant = db.session.get(Grant, world["grant"])
        grant.starts_on, grant.ends_on = datetime(2021, 1, 1).date(), datetime(2021, 12, 31).date()
        db.session.commit()
    # 7 January is Orthodox Christmas, a public holiday in Bosnia and Herzegovina; 2027 is after the grant period.
    response = plan(organiser, world["forum"], day="2027-01-07")
    assert response.status_code == 302
    page = flashed(organiser, response.headers["Location"])
    assert "public holiday in Bosnia and Herzegovina" in page and "outside the grant" in page
    assert "in the past" not in page
    response = plan(organiser, world["forum"], day="2021-06-30")
    page = flashed(organiser, response.headers["Location"])
    assert "in the past" in page and "outside the grant" not in page and "public holiday" not in page


def test_moving_a_scheduled_meeting_says_what_changed_and_who_is_told(app, world, organiser, make):
    meeting_id = make.meeting(world["forum"], state="scheduled", starts_in_days=9)
    make.invite(meeting_id, world["participant"])
    page = organiser.get(f"/meetings/{meeting_id}/edit").get_data(as_text=True)
    fields = dict(
        re.findall(
            r'name="(csrf_token|version|loaded|title|day|start_time|end_time|venue|online_url)"'
            r'[^>]*value="([^"]*)"',
            page,
        )
    )
    fields["loaded"] = html.unescape(fields["loaded"])
    response = organiser.post(
        f"/meetings/{meeting_id}/edit", data={**fields, "venue": "New venue", "start_time": "08:00", "save": "Save"}
    )
    page = flashed(organiser, response.headers["Location"])
    assert "time, venue changed. The 1 invitee will be sent an update" in page


def test_participants_do_not_see_grant_references(app, world, make):
    participant = sign_in(app.test_client(), world["participant"])
    staff = sign_in(app.test_client(), world["staff"])
    with app.app_context():
        from forum_app.models import Grant

        reference = db.session.get(Grant, world["grant"]).reference
    assert reference not in participant.get("/forums").get_data(as_text=True)
    assert reference in staff.get("/forums").get_data(as_text=True)


def test_minutes_for_readers_compare_the_displayed_text_and_badge_versions(app, world, organiser, make):
    """Issue 8, point 17."""
    meeting_id, _ = circulated_then_revised(
        app,
        world,
        organiser,
        make,
        "## Summary\n\n- **Probation** will call",
        "## Summary\n\n- **Probation** will write",
    )
    compare = organiser.get(f"/meetings/{meeting_id}/minutes/compare?a=1&b=2").get_data(as_text=True)
    assert "- • Probation will call" in compare and "+ • Probation will write" in compare
    assert "**" not in compare and "##" not in compare
    versions = organiser.get(f"/meetings/{meeting_id}/minutes/versions").get_data(as_text=True)
    badges = re.findall(r'version-status">([^<]+)<', versions)
    assert badges == ["Draft, not circulated", "Circulated"]

"""Issue 20, point 4: a new time needs a new answer.

A meeting moved to another date or time asks every invitee again (RFC 5546 rescheduling; RFC
6638 3.2.8): the update each one receives, read back from a real SMTP server and parsed with
``icalendar`` and ``vobject``, carries PARTSTAT=NEEDS-ACTION and RSVP=TRUE, its email says
"please answer again" in the recipient's language, the page's counts start again, and "mark
everyone who accepted as present" counts only answers to the new time. A new room or link is
the same appointment: its answers stand.
"""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from flask_babel import gettext
from sqlalchemy import select

from forum_app.core import language
from forum_app.extensions import db
from forum_app.meetings import services as meetings
from forum_app.meetings.services import MeetingDetails
from forum_app.models import AuditEvent, Invitation, Meeting, User

from .conftest import sign_in
from .factories import Factory
from .test_meetings import opened_attendance
from .test_notifications import (
    _actor,
    check_message,
    deliver,
    local,
    move,
    parse_both,
    plan_meeting,
    run,
    schedule,
    setup_forum,
    smtp,  # noqa: F401  (the fixture)
)

ANSWER_AGAIN = "The date or time is new, so earlier answers no longer count: please answer again."
START = local(2021, 6, 30, 10)


def said(app: Flask, code: str, text: str) -> str:
    with app.test_request_context("/"), language.speaking(code):
        return gettext(text)


def answer(app: Flask, email: str, meeting_id: int, rsvp: str, comment: str = "", at=START - timedelta(days=10)):
    run(app, at, lambda: meetings.respond(_actor(email), db.session.get(Meeting, meeting_id), rsvp, comment))


def answers(app: Flask, meeting_id: int) -> dict[str, tuple[str, str]]:
    with app.app_context():
        rows = db.session.execute(
            select(User.email, Invitation.rsvp, Invitation.rsvp_comment)
            .join(Invitation.user)
            .where(Invitation.meeting_id == meeting_id)
        ).all()
        return {email: (rsvp, comment) for email, rsvp, comment in rows}


def change_place(app: Flask, w: dict, meeting_id: int, at) -> None:
    def go():
        m = db.session.get(Meeting, meeting_id)
        details = MeetingDetails(
            title=m.title,
            starts_at=m.starts_at,
            ends_at=m.ends_at,
            venue="Skupština Kantona, Reisa Džemaludina Čauševića 1",
            online_url="https://meet.example.org/forum-sa-2",
            agenda_md=m.agenda_md,
        )
        return meetings.update_meeting(_actor(w["organiser"]), m, details, m.version)

    run(app, at, go)


def attendee(message) -> tuple[dict, dict]:
    """The one ATTENDEE's parameters as icalendar and as vobject read them."""
    data, method = check_message(message, message["To"].addresses[0].addr_spec, message["To"].addresses[0].display_name)
    assert method == "REQUEST"
    ical, vcal = parse_both(data)
    by_icalendar = ical.walk("VEVENT")[0]["ATTENDEE"].params
    by_vobject = {name: values[0] for name, values in vcal.vevent.attendee.params.items()}
    return dict(by_icalendar), by_vobject


def counts(page: str) -> dict[str, int]:
    """The invitee list's answer counts as the organiser reads them ("Accepted: 1 · …")."""
    return {label: int(n) for label, n in re.findall(r"([A-Z][a-z ]+): <strong>(\d+)</strong>", page)}


def test_a_moved_meeting_asks_everyone_again(app: Flask, make: Factory, smtp) -> None:  # noqa: F811
    w = setup_forum(make)
    first, second, third = w["invitees"]
    with app.app_context():
        db.session.execute(db.update(User).where(User.email == second).values(locale="bs"))
        db.session.commit()
    meeting_id = plan_meeting(app, w, START)
    schedule(app, w, meeting_id, START - timedelta(days=14))
    deliver(app, START - timedelta(days=14))
    answer(app, first, meeting_id, "accepted", "Dolazim autom.")
    answer(app, second, meeting_id, "declined")
    answer(app, third, meeting_id, "tentative")
    organiser = sign_in(app.test_client(), w["organiser"])
    before = organiser.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert counts(before) == {"No answer yet": 3, "Accepted": 1, "Tentative": 1, "Declined": 1}
    assert 'id="rescheduled-note"' not in before

    # Moved by an hour and a half: everyone is asked again, in their own copy of the update.
    move(app, w, meeting_id, local(2021, 6, 30, 11, 30), START - timedelta(days=7))
    assert deliver(app, START - timedelta(days=7)).sent == 6
    for email in (first, second, third, w["participant"], w["observer"], w["organiser"]):
        update = smtp.to(email)[-1]
        by_icalendar, by_vobject = attendee(update)
        for params in (by_icalendar, by_vobject):
            assert (params["PARTSTAT"], params["RSVP"]) == ("NEEDS-ACTION", "TRUE"), (email, params)
        # "Please answer again", in the recipient's language, in both bodies (with the answer links).
        code = "bs" if email == second else "en"
        text, html = update.get_body(("plain",)).get_content(), update.get_body(("html",)).get_content()
        assert said(app, code, ANSWER_AGAIN) in text and said(app, code, ANSWER_AGAIN) in html
        assert said(app, code, "Will you come?") in html and "/rsvp/" in text
    assert set(answers(app, meeting_id).values()) == {("needs-action", "")}  # the comment went with the answer
    with app.app_context():
        assert db.session.get(Meeting, meeting_id).rescheduled_at == START - timedelta(days=7)  # the services' clock

    # The reset is in the audit trail the way answers are: one meeting.rsvp event per person, by the organiser.
    with app.app_context():
        events = db.session.execute(
            select(AuditEvent).where(AuditEvent.verb == "meeting.rsvp", AuditEvent.object_id == meeting_id)
        ).scalars()
        resets = {e.data["user_id"]: e for e in events if e.data.get("reason") == "rescheduled"}
        ids = {email: _actor(email).id for email in (first, second, third)}
        assert set(resets) == set(ids.values())
        assert {resets[ids[email]].data["previous"] for email in (first, second, third)} == {
            "accepted",
            "declined",
            "tentative",
        }
        assert resets[ids[first]].data["previous_comment"] == "Dolazim autom."
        assert {e.actor_id for e in resets.values()} == {_actor(w["organiser"]).id}
        assert {e.data["answer"] for e in resets.values()} == {"needs-action"}

    # The organiser sees that nobody has answered the new time; each new answer counts again.
    page = organiser.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert counts(page) == {"No answer yet": 6, "Accepted": 0, "Tentative": 0, "Declined": 0}
    assert 'id="rescheduled-note"' in page and "6 people have not answered the new time." in page
    answer(app, second, meeting_id, "accepted", at=START - timedelta(days=6))
    page = organiser.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert counts(page)["Accepted"] == 1 and "5 people have not answered the new time." in page
    # The invitee who has not answered yet is asked on the page too; the one who has is not.
    assert 'id="answer-again"' in sign_in(app.test_client(), first).get(f"/meetings/{meeting_id}").get_data(
        as_text=True
    )
    assert 'id="answer-again"' not in sign_in(app.test_client(), second).get(f"/meetings/{meeting_id}").get_data(
        as_text=True
    )


def test_a_new_room_or_link_keeps_the_answers(app: Flask, make: Factory, smtp) -> None:  # noqa: F811
    w = setup_forum(make)
    first, second, _third = w["invitees"]
    meeting_id = plan_meeting(app, w, START)
    schedule(app, w, meeting_id, START - timedelta(days=14))
    deliver(app, START - timedelta(days=14))
    answer(app, first, meeting_id, "accepted", "Dolazim autom.")
    answer(app, second, meeting_id, "declined")
    kept = answers(app, meeting_id)

    change_place(app, w, meeting_id, START - timedelta(days=7))
    assert deliver(app, START - timedelta(days=7)).sent == 6
    assert answers(app, meeting_id) == kept
    expected = {first: "ACCEPTED", second: "DECLINED", w["participant"]: "NEEDS-ACTION"}
    for email, partstat in expected.items():
        update = smtp.to(email)[-1]
        assert update["Subject"].startswith("Updated: ")
        assert "Skupština Kantona" in update.get_body(("plain",)).get_content()
        for params in attendee(update):
            assert (params["PARTSTAT"], params["RSVP"]) == (partstat, "TRUE"), email
        assert ANSWER_AGAIN not in update.get_body(("plain",)).get_content()
        assert ANSWER_AGAIN not in update.get_body(("html",)).get_content()
    with app.app_context():
        assert db.session.get(Meeting, meeting_id).rescheduled_at is None
        reasons = db.session.execute(select(AuditEvent.data).where(AuditEvent.verb == "meeting.rsvp")).scalars()
        assert not [d for d in reasons if d.get("reason") == "rescheduled"]
    page = sign_in(app.test_client(), w["organiser"]).get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert counts(page) == {"No answer yet": 4, "Accepted": 1, "Tentative": 0, "Declined": 1}
    assert 'id="rescheduled-note"' not in page


def test_a_draft_moved_before_anyone_saw_it_asks_nobody(app: Flask, make: Factory) -> None:
    """Answers are only given to a scheduled meeting; a draft's time is the organisers' to try out."""
    w = setup_forum(make)
    meeting_id = plan_meeting(app, w, START)
    move(app, w, meeting_id, local(2021, 6, 30, 12), START - timedelta(days=15))
    with app.app_context():
        assert db.session.get(Meeting, meeting_id).rescheduled_at is None


def test_mark_everyone_who_accepted_counts_only_answers_to_the_new_time(app: Flask, make: Factory) -> None:
    w = setup_forum(make)
    first, second, _third = w["invitees"]
    meeting_id = plan_meeting(app, w, START)
    schedule(app, w, meeting_id, START - timedelta(days=14))
    answer(app, first, meeting_id, "accepted")
    answer(app, second, meeting_id, "accepted")
    new_start = local(2021, 7, 1, 10)
    move(app, w, meeting_id, new_start, START - timedelta(days=7))
    answer(app, second, meeting_id, "accepted", at=START - timedelta(days=5))  # yes to the new day too

    def held():
        m = db.session.get(Meeting, meeting_id)
        return meetings.change_state(_actor(w["organiser"]), m, "held", m.version)

    run(app, new_start + timedelta(hours=3), held)
    with app.app_context():
        invitation_of = {
            email: db.session.execute(
                select(Invitation.id)
                .join(Invitation.user)
                .where(User.email == email, Invitation.meeting_id == meeting_id)
            ).scalar_one()
            for email in (first, second)
        }
    organiser = sign_in(app.test_client(), w["organiser"])
    fields, rows = opened_attendance(organiser, meeting_id)
    page = organiser.post(f"/meetings/{meeting_id}/attendance", data={**fields, "mark_accepted": "1"})
    html_page = page.get_data(as_text=True)
    assert page.status_code == 200 and "1 person who accepted is marked present." in html_page
    shown = dict(
        re.findall(r'<select[^>]*name="(rows-\d+-value)"[^>]*>.*?<option selected value="([^"]*)"', html_page, re.S)
    )
    assert shown.get(f"{rows[invitation_of[second]]}-value") == "present"
    assert shown.get(f"{rows[invitation_of[first]]}-value", "") == ""  # said yes to 30 June, not to 1 July

"""Issue 20, point 1: answers from the calendars' own buttons, written replies and bounces, received
through a real IMAP server (Dovecot on loopback) and through ``flask forum mail receive``.

The messages are the files in tests/mail_samples/ (see its README): each client's answers as that
client writes them. They answer meeting 4711 with fixed UIDs; a test gives its meeting the sample's
UID and points the plus-address (``+m4711@``) at its meeting's id. Every case checks the meeting
page as the organiser sees it, and that nothing but the expected rows changed.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import select

from forum_app.core import language
from forum_app.core.commit import attempt
from forum_app.extensions import db
from forum_app.inbound.parse import read
from forum_app.meetings import services as meetings
from forum_app.models import Invitation, Meeting, OutboxMessage, User
from forum_app.notifications.meetings import subject_date

from .factories import Factory
from .inbound import (
    CLIENTS,
    COMMENTS,
    LABELS,
    SAMPLES,
    expect_changed,
    invitee_cell,
    organiser_page,
    received,
    received_section,
    sample,
    setup_meeting,
    snapshot,
)

pytestmark = pytest.mark.usefixtures("reply_address")

# --- answers --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("answer", ["accepted", "tentative", "declined"])
def test_an_answer_from_the_calendar_is_recorded(app: Flask, make: Factory, transport, client: str, answer: str):
    w = setup_meeting(app, make, client)
    before = snapshot(app)
    transport.deliver(sample(f"{client}-{answer}", w["meeting"]))

    after = snapshot(app)
    expect_changed(before, after, invitee=w["invitee"], audit=["meeting.rsvp", "mail.receive"])
    rsvp, comment, _at = after["invitations"][w["invitee"]]
    assert rsvp == answer
    assert comment == COMMENTS.get((client, answer), "")
    (mail,) = received(app)
    assert (mail.outcome, mail.source, mail.meeting_id, mail.answer) == (
        "applied",
        transport.name,
        w["meeting"],
        answer,
    )
    assert mail.raw.replace(b"\r\n", b"\n") == sample(f"{client}-{answer}", w["meeting"]).replace(b"\r\n", b"\n")

    page = organiser_page(app, w)
    cell = invitee_cell(page, w["invitee"])
    assert cell.startswith(LABELS[answer])
    if (client, answer) in COMMENTS:
        assert "“" + COMMENTS[(client, answer)].replace("'", "&#39;") + "”" in cell
    assert 'data-outcome="applied"' in received_section(page)


@pytest.mark.parametrize("client", CLIENTS)
def test_the_same_answer_twice_changes_nothing_and_a_replay_never_undoes_a_later_answer(
    app: Flask, make: Factory, transport, client: str
):
    w = setup_meeting(app, make, client)
    message = sample(f"{client}-accepted", w["meeting"])
    transport.deliver(message)
    before = snapshot(app)
    transport.deliver(message)
    expect_changed(before, snapshot(app), audit=["mail.receive"])

    # The invitee then says no on the page; the old "yes" arriving once more must not bring it back.
    with app.app_context():
        invitation = db.session.execute(
            select(Invitation).join(User).where(User.email == w["invitee"], Invitation.meeting_id == w["meeting"])
        ).scalar_one()
        assert attempt(lambda: meetings.respond(invitation.user, invitation.meeting, "declined", "Ill"))
    before = snapshot(app)
    transport.deliver(message)
    expect_changed(before, snapshot(app), audit=["mail.receive"])
    assert snapshot(app)["invitations"][w["invitee"]][:2] == ("declined", "Ill")
    outcomes = [(m.outcome, m.reason) for m in received(app)]
    assert outcomes == [("applied", ""), ("duplicate", "same-message"), ("duplicate", "same-message")]
    assert invitee_cell(organiser_page(app, w), w["invitee"]).startswith("Declined")


@pytest.mark.parametrize("client", CLIENTS)
def test_an_answer_to_an_earlier_version_is_ignored(app: Flask, make: Factory, transport, client: str):
    w = setup_meeting(app, make, client)
    with app.app_context():  # the venue changes: invitees are sent SEQUENCE 1
        meeting = db.session.get(Meeting, w["meeting"])
        organiser = db.session.execute(select(User).where(User.email == w["organiser"])).scalar_one()
        details = meetings.MeetingDetails(
            meeting.title, meeting.starts_at, meeting.ends_at, "Hotel Europe, Sarajevo", "", meeting.agenda_md
        )
        assert attempt(lambda: meetings.update_meeting(organiser, meeting, details, meeting.version))
        assert db.session.get(Meeting, w["meeting"]).ical_sequence == 1
    before = snapshot(app)
    transport.deliver(sample(f"{client}-accepted", w["meeting"]))
    expect_changed(before, snapshot(app), audit=["mail.receive"])
    (mail,) = received(app)
    assert (mail.outcome, mail.data["sequence"], mail.data["current"]) == ("ignored-old-sequence", 0, 1)
    page = organiser_page(app, w)
    assert invitee_cell(page, w["invitee"]).startswith("No answer yet")
    assert "It answers version 0; the invitation is at version 1." in received_section(page)


@pytest.mark.parametrize("client", CLIENTS)
def test_an_answer_sent_by_someone_else_is_refused_and_shown(app: Flask, make: Factory, transport, client: str):
    w = setup_meeting(app, make, client)
    forged = re.sub(
        rb"^From: .*$",
        b"From: Mallory <mallory@example.net>",
        sample(f"{client}-declined", w["meeting"]),
        count=1,
        flags=re.M,
    )
    before = snapshot(app)
    transport.deliver(forged)
    expect_changed(before, snapshot(app), audit=["mail.receive"])
    (mail,) = received(app)
    assert (mail.outcome, mail.from_addr, mail.data["attendee"]) == (
        "refused-sender",
        "mallory@example.net",
        w["invitee"],
    )
    page = organiser_page(app, w)
    assert invitee_cell(page, w["invitee"]).startswith("No answer yet")
    section = received_section(page)
    assert 'data-outcome="refused-sender"' in section
    assert f"Sent from mallory@example.net, answering for {w['invitee']}." in section


@pytest.mark.parametrize("client", CLIENTS)
def test_a_delegation_is_shown_to_the_organisers(app: Flask, make: Factory, transport, client: str):
    w = setup_meeting(app, make, client)
    before = snapshot(app)
    transport.deliver(sample(f"{client}-delegated", w["meeting"]))
    expect_changed(before, snapshot(app), audit=["mail.receive"])
    (mail,) = received(app)
    delegate = read((SAMPLES / f"{client}-delegated.eml").read_bytes()).calendar.answers[0].delegated_to
    assert (mail.outcome, mail.data["delegated_to"]) == ("delegated", delegate)
    page = organiser_page(app, w)
    assert invitee_cell(page, w["invitee"]).startswith("No answer yet")
    assert f"Delegated to {delegate}." in received_section(page)


# --- written replies --------------------------------------------------------------------------------

REPLY_TEXT = {
    "outlook": "I will come, but 15 minutes late: the transport from Zenica prison arrives at 10:15.",
    "gmail": "says the meeting is closed. I will send my deputy, Ana Petrovska.",
    "apple": "Please add the municipality&#39;s social services to the agenda; Mr Berisha can present.",
    "thunderbird": "na sastanak dolazim sa koleginicom iz Centra za socijalni rad Bijelo Polje.",
}


@pytest.mark.parametrize("client", CLIENTS)
def test_a_written_reply_is_a_note_for_the_organisers_and_an_email(app: Flask, make: Factory, transport, client: str):
    w = setup_meeting(app, make, client)
    with app.app_context():  # the organiser reads Bosnian: the email to them is in it
        db.session.execute(db.update(User).where(User.email == w["organiser"]).values(locale="bs"))
        db.session.commit()
        with language.speaking("bs"):
            day_bs = subject_date(db.session.get(Meeting, w["meeting"]))
        day_en = subject_date(db.session.get(Meeting, w["meeting"]))
        assert day_bs != day_en
    before = snapshot(app)
    transport.deliver(sample(f"{client}-reply", w["meeting"]))
    after = snapshot(app)
    expect_changed(before, after, audit=["mail.receive"], outbox=1)
    (mail,) = received(app)
    assert (mail.outcome, mail.meeting_id) == ("note", w["meeting"])
    # The quoted invitation below the reply, and the personal RSVP link it carries, are not passed on.
    assert "You are invited" not in mail.text and "/rsvp/" not in mail.text
    section = received_section(organiser_page(app, w))
    assert 'data-outcome="note"' in section and REPLY_TEXT[client] in section

    with app.app_context():
        email = db.session.execute(select(OutboxMessage).where(OutboxMessage.kind == "received-note")).scalar_one()
        assert email.to_addr == w["organiser"] and email.meeting_id is None
        assert email.subject.endswith(day_bs)
        assert email.body_html == ""  # plain text only
        assert REPLY_TEXT[client].replace("&#39;", "'") in email.body_text
        assert CLIENTS[client][0] in email.body_text  # the organiser answers the person directly
        if client == "gmail":
            assert "[…]" in email.body_text and "eyJ0" not in email.body_text

"""Issue 20, point 1: answers from the calendars' own buttons, written replies and bounces, received
through a real IMAP server (Dovecot on loopback) and through ``flask forum mail receive``.

The messages are the files in tests/mail_samples/ (see its README): each client's answers as that
client writes them. They answer meeting 4711 with fixed UIDs; a test gives its meeting the sample's
UID and points the plus-address (``+m4711@``) at its meeting's id. Every case checks the meeting
page as the organiser sees it, and that nothing but the expected rows changed.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from forum_app.core import clock
from forum_app.core.commit import attempt
from forum_app.extensions import db
from forum_app.inbound.parse import read
from forum_app.meetings import services as meetings
from forum_app.models import AuditEvent, Invitation, Meeting, OutboxMessage, ReceivedMail, User

from .conftest import sign_in
from .factories import Factory
from .imapserver import ImapServer

SAMPLES = Path(__file__).parent / "mail_samples"
CLIENTS = {
    "outlook": ("amra.hodzic@example.ba", "Amra Hodžić"),
    "gmail": ("ljupco.stojanovski@example.mk", "Ljupčo Stojanovski"),
    "apple": ("ardita.krasniqi@example.net", "Ardita Krasniqi"),
    "thunderbird": ("milica.vukovic@example.me", "Milica Vuković"),
}
# What each client's sample says as the invitee's comment (None: it sends none).
COMMENTS = {
    ("outlook", "tentative"): "I may be late: a hearing at the court that morning.",
    ("outlook", "declined"): "On leave that week, sorry.",
    ("gmail", "tentative"): "Depends on the prison director's schedule",
    ("gmail", "declined"): "Travelling to Ohrid that day",
    ("thunderbird", "tentative"): "Probably, I confirm on Monday.",
    ("thunderbird", "declined"): "Sorry, I cannot come.",
}
LABELS = {"accepted": "Accepted", "tentative": "Tentative", "declined": "Declined", "needs-action": "No answer yet"}
REPLY_ADDRESS = "forum-desk@example.org"


# --- the servers and the two ways in ---------------------------------------------------------------


@pytest.fixture(scope="module")
def imap_server():
    server = ImapServer().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _reply_address(app: Flask):
    saved = app.config["REPLY_ADDRESS"]
    app.config["REPLY_ADDRESS"] = REPLY_ADDRESS
    yield
    app.config["REPLY_ADDRESS"] = saved


class Pipe:
    """``flask forum mail receive < message.eml``, as a mail server's pipe runs it."""

    name = "pipe"

    def __init__(self, app: Flask):
        self.app = app

    def deliver(self, raw: bytes) -> None:
        result = self.app.test_cli_runner().invoke(args=["forum", "mail", "receive"], input=raw)
        assert result.exit_code == 0, result.output
        assert result.output.startswith("received: ")


class Imap:
    """The message delivered to the mailbox, then ``flask forum mail fetch``: it must leave the mailbox empty."""

    name = "imap"

    def __init__(self, app: Flask, server: ImapServer):
        self.app, self.server = app, server

    def deliver(self, raw: bytes) -> None:
        self.server.append(raw)
        saved = self.app.config["IMAP_URL"]
        self.app.config["IMAP_URL"] = self.server.url
        try:
            result = self.app.test_cli_runner().invoke(args=["forum", "mail", "fetch"])
        finally:
            self.app.config["IMAP_URL"] = saved
        assert result.exit_code == 0, result.output
        assert result.output.startswith("received 1"), result.output
        assert self.server.count() == 0, "a message received is deleted from the mailbox"


@pytest.fixture(params=["pipe", pytest.param("imap", marks=pytest.mark.slow)])
def transport(request, app: Flask):
    if request.param == "pipe":
        return Pipe(app)
    server = request.getfixturevalue("imap_server")
    server.empty()
    return Imap(app, server)


# --- the meeting the samples answer --------------------------------------------------------------


def sample(name: str, meeting_id: int) -> bytes:
    """The sample, its plus-address pointed at ``meeting_id``."""
    return (SAMPLES / f"{name}.eml").read_bytes().replace(b"+m4711@", f"+m{meeting_id}@".encode())


def setup_meeting(app: Flask, make: Factory, client: str) -> dict:
    """A scheduled meeting of a forum whose members (the client's invitee among them) are invited through the
    services (so their invitations are queued in the outbox), carrying the UID the client's samples answer."""
    w = make.world()
    email, name = CLIENTS[client]
    make.add_member(w["forum"], make.user(email=email, name=name))
    w["invitee"] = email
    w["meeting"] = make.meeting(w["forum"])
    uid = read((SAMPLES / f"{client}-accepted.eml").read_bytes()).calendar.uid
    with app.app_context():
        meeting = db.session.get(Meeting, w["meeting"])
        organiser = db.session.execute(select(User).where(User.email == w["organiser"])).scalar_one()
        assert attempt(lambda: meetings.invite_all_members(organiser, meeting))
        db.session.execute(db.update(Meeting).where(Meeting.id == w["meeting"]).values(ical_uid=uid))
        db.session.commit()
    return w


def snapshot(app: Flask) -> dict:
    """Everything a received message could change."""
    with app.app_context():
        state = {
            "invitations": {
                row.email: (row.rsvp, row.rsvp_comment, row.rsvp_at)
                for row in db.session.execute(
                    select(User.email, Invitation.rsvp, Invitation.rsvp_comment, Invitation.rsvp_at).join(
                        User, User.id == Invitation.user_id
                    )
                )
            },
            "meetings": sorted(
                db.session.execute(
                    select(Meeting.id, Meeting.version, Meeting.ical_sequence, Meeting.state, Meeting.updated_at)
                ).all()
            ),
            "outbox": sorted(
                db.session.execute(
                    select(OutboxMessage.id, OutboxMessage.kind, OutboxMessage.to_addr, OutboxMessage.status)
                ).all()
            ),
            "audit": [e for (e,) in db.session.execute(select(AuditEvent.verb).order_by(AuditEvent.id))],
        }
        db.session.remove()
        return state


def received(app: Flask) -> list[ReceivedMail]:
    with app.app_context():
        rows = list(db.session.execute(select(ReceivedMail).order_by(ReceivedMail.id)).scalars())
        db.session.expunge_all()
        return rows


def invitee_cell(page: str, email: str) -> str:
    """The answer cell of ``email``'s row in the invitee table."""
    match = re.search(rf'<tr data-user="{re.escape(email)}">(.*?)</tr>', page, re.S)
    assert match, f"{email} is not in the invitee table"
    cell = re.search(r'<td class="d-print-none rsvp-cell"[^>]*>(.*?)</td>', match.group(1), re.S)
    assert cell
    return cell.group(1)


def received_section(page: str) -> str:
    match = re.search(r'<section[^>]*id="received-mail".*?</section>', page, re.S)
    return match.group(0) if match else ""


def organiser_page(app: Flask, w: dict) -> str:
    client = sign_in(app.test_client(), w["organiser"])
    response = client.get(f"/meetings/{w['meeting']}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def expect_changed(before: dict, after: dict, *, invitee: str | None = None, audit: list[str], outbox: int = 0):
    """Only ``invitee``'s answer changed (if named), ``audit`` was appended, ``outbox`` emails queued."""
    changed = {k for k in before["invitations"] if before["invitations"][k] != after["invitations"][k]}
    assert changed == ({invitee} if invitee else set())
    assert after["meetings"] == before["meetings"]
    assert after["outbox"][: len(before["outbox"])] == before["outbox"]
    assert len(after["outbox"]) - len(before["outbox"]) == outbox
    assert after["audit"][: len(before["audit"])] == before["audit"]
    assert after["audit"][len(before["audit"]) :] == audit


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
        assert email.body_html == ""  # plain text only
        assert REPLY_TEXT[client].replace("&#39;", "'") in email.body_text
        assert CLIENTS[client][0] in email.body_text  # the organiser answers the person directly
        if client == "gmail":
            assert "[…]" in email.body_text and "eyJ0" not in email.body_text


# --- bounces ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("report", ["postfix-bounce", "exchange-bounce", "postfix-delayed"])
def test_a_bounce_marks_the_invitees_delivery(app: Flask, make: Factory, transport, report: str):
    w = setup_meeting(app, make, "outlook")
    with app.app_context():
        invitation_email = db.session.execute(
            select(OutboxMessage).where(
                OutboxMessage.to_addr == w["invitee"], OutboxMessage.kind == "meeting-invitation"
            )
        ).scalar_one()
        invitation_email.status, invitation_email.sent_at = "sent", datetime.now(UTC)
        db.session.commit()
        outbox_id = invitation_email.id
    before = snapshot(app)
    raw = sample(report, w["meeting"]).replace(
        b"X-Forum-Desk-Outbox: 9001", f"X-Forum-Desk-Outbox: {outbox_id}".encode()
    )
    transport.deliver(raw)
    expect_changed(before, snapshot(app), audit=["mail.receive"])
    (mail,) = received(app)
    cell = invitee_cell(organiser_page(app, w), w["invitee"])
    if report == "postfix-delayed":  # still being tried: nothing failed yet
        assert (mail.outcome, mail.reason) == ("ignored", "delivery-report")
        assert "email sent" in cell and "bounced" not in cell
    else:
        assert (mail.outcome, mail.outbox_message_id, mail.user_id is not None) == ("bounce", outbox_id, True)
        assert "delivery-bounced" in cell and "email bounced" in cell
        assert mail.data["status"] in cell  # the server's reason, in the title


# --- what is not matched, too large, or hostile ------------------------------------------------------


def test_an_answer_to_an_unknown_event_or_address_changes_nothing(app: Flask, make: Factory):
    w = setup_meeting(app, make, "gmail")
    before = snapshot(app)
    pipe = Pipe(app)
    pipe.deliver(sample("thunderbird-accepted", w["meeting"]))  # another UID
    pipe.deliver(sample("gmail-accepted", w["meeting"] + 1))  # this UID, another meeting's address
    plain = (SAMPLES / "outlook-reply.eml").read_bytes().replace(b"+m4711@", b"@")  # no meeting named
    pipe.deliver(plain)
    expect_changed(before, snapshot(app), audit=["mail.receive"] * 3)
    assert [(m.outcome, m.reason) for m in received(app)] == [
        ("unmatched", "unknown-event"),
        ("unmatched", "other-meeting"),
        ("unmatched", "no-meeting"),
    ]


def test_a_message_too_large_is_kept_as_its_headers(app: Flask, make: Factory, transport, monkeypatch):
    w = setup_meeting(app, make, "gmail")
    monkeypatch.setitem(app.config, "INBOUND_MAX_BYTES", 2000)
    raw = sample("gmail-accepted", w["meeting"])
    assert len(raw) > 2000
    before = snapshot(app)
    transport.deliver(raw)
    expect_changed(before, snapshot(app), audit=["mail.receive"])
    (mail,) = received(app)
    assert (mail.outcome, mail.meeting_id, mail.from_addr) == ("too-large", w["meeting"], w["invitee"])
    assert mail.size >= len(raw) - 100 and len(mail.raw) < 2000 and b"BEGIN:VCALENDAR" not in mail.raw
    assert 'data-outcome="too-large"' in received_section(organiser_page(app, w))


def test_html_in_a_reply_is_shown_as_text(app: Flask, make: Factory):
    w = setup_meeting(app, make, "apple")
    raw = f"""From: Ardita Krasniqi <ardita.krasniqi@example.net>
To: forum-desk+m{w["meeting"]}@example.org
Subject: Re: Invitation
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

<html><head><style>p {{color: red}}</style><script>alert("x")</script></head>
<body><p>See <b>this</b> &amp; <img src=x onerror=alert(1)> <a href="javascript:alert(2)">that</a></p></body></html>
""".encode()
    Pipe(app).deliver(raw)
    (mail,) = received(app)
    assert mail.outcome == "note"
    assert mail.text == "See this & that"
    section = received_section(organiser_page(app, w))
    assert "See this &amp; that" in section
    assert (
        "<script" not in section and "<b>" not in section and "onerror" not in section and "javascript:" not in section
    )


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff\xfe garbage",
        b"From: =?utf-8?B?broken\r\nContent-Type: text/calendar; method=REPLY\r\n\r\nBEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n",
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n--x\r\n"
        b"Content-Type: message/delivery-status\r\n\r\nAction: failed\r\n--x--\r\n",
    ],
)
def test_malformed_messages_are_kept_not_crashed_on(app: Flask, make: Factory, raw: bytes):
    setup_meeting(app, make, "outlook")
    before = snapshot(app)
    Pipe(app).deliver(raw)
    expect_changed(before, snapshot(app), audit=["mail.receive"])
    (mail,) = received(app)
    assert mail.outcome == "unmatched" and mail.raw == raw


def test_our_own_mail_coming_back_is_not_acted_on(app: Flask, make: Factory):
    w = setup_meeting(app, make, "outlook")
    raw = f"From: Forum Desk <forum-desk@localhost>\nTo: forum-desk+m{w['meeting']}@example.org\nSubject: x\n\nloop\n"
    before = snapshot(app)
    Pipe(app).deliver(raw.encode())
    expect_changed(before, snapshot(app), audit=["mail.receive"])
    assert [(m.outcome, m.reason) for m in received(app)] == [("ignored", "own-message")]


def test_an_out_of_office_reply_is_shown_but_not_passed_on(app: Flask, make: Factory):
    w = setup_meeting(app, make, "outlook")
    raw = (
        f"From: Amra Hodzic <amra.hodzic@example.ba>\nTo: forum-desk+m{w['meeting']}@example.org\n"
        "Subject: Automatic reply: Invitation\nAuto-Submitted: auto-replied\n\nI am out of the office until 5 July.\n"
    ).encode()
    before = snapshot(app)
    Pipe(app).deliver(raw)
    expect_changed(before, snapshot(app), audit=["mail.receive"])
    assert 'data-outcome="auto-reply"' in received_section(organiser_page(app, w))


# --- who sees it, and for how long --------------------------------------------------------------------


def test_only_organisers_and_staff_see_received_mail(app: Flask, make: Factory):
    w = setup_meeting(app, make, "thunderbird")
    Pipe(app).deliver(sample("thunderbird-reply", w["meeting"]))
    for viewer, sees in (("organiser", True), ("staff", True), ("admin", True), ("participant", False)):
        client = sign_in(app.test_client(), w[viewer])
        page = client.get(f"/meetings/{w['meeting']}").get_data(as_text=True)
        assert ("koleginicom" in page) is sees, viewer
        assert bool(received_section(page)) is sees, viewer
    invitee = sign_in(app.test_client(), w["invitee"])
    assert "koleginicom" not in invitee.get(f"/meetings/{w['meeting']}").get_data(as_text=True)


def test_received_mail_is_deleted_after_its_retention(app: Flask, make: Factory, monkeypatch):
    w = setup_meeting(app, make, "gmail")
    monkeypatch.setitem(app.config, "INBOUND_RETENTION_DAYS", 30)
    with app.app_context(), clock.at(datetime.now(UTC) - timedelta(days=31)):
        from forum_app.inbound.services import receive

        assert attempt(lambda: receive(sample("gmail-accepted", w["meeting"]), "pipe"))
    Pipe(app).deliver(sample("gmail-declined", w["meeting"]))
    result = app.test_cli_runner().invoke(args=["forum", "mail", "purge-received"])
    assert result.exit_code == 0 and result.output.strip() == "deleted 1 received messages"
    assert [m.answer for m in received(app)] == ["declined"]
    # What it changed stays.
    assert snapshot(app)["invitations"][w["invitee"]][0] == "declined"


# --- what goes out: the address the answers come back to ----------------------------------------------


def test_invitations_name_forum_desks_address_as_organiser_and_reply_to(app: Flask, make: Factory, monkeypatch):
    """ORGANIZER is the meeting's plus-address with the organiser's name (a straight quote made typographic,
    as Outlook and Gmail do not read RFC 6868), the email's Reply-To the same address, and an organiser who
    is invited too is not sent an invitation from themselves."""
    import icalendar
    import vobject

    from forum_app.notifications.delivery import deliver_due

    from .mailserver import SmtpServer

    smtp = SmtpServer().start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", smtp.port)
    monkeypatch.setitem(app.config, "MAIL_DELIVERY", True)
    try:
        w = make.world()
        with app.app_context():
            organiser = db.session.execute(select(User).where(User.email == w["organiser"])).scalar_one()
            organiser.name = 'Hodžić, Amra "Ami"'
            db.session.commit()
        make.add_member(w["forum"], w["organiser"])  # the organiser is invited as well
        meeting_id = make.meeting(w["forum"], state="draft")
        with app.app_context():
            meeting = db.session.get(Meeting, meeting_id)
            organiser = db.session.execute(select(User).where(User.email == w["organiser"])).scalar_one()
            assert attempt(lambda: meetings.invite_all_members(organiser, meeting))
            meeting = db.session.get(Meeting, meeting_id)
            assert attempt(lambda: meetings.change_state(organiser, meeting, "scheduled", meeting.version))
            assert deliver_due(now=datetime.now(UTC)).sent == 3
        address = f"forum-desk+m{meeting_id}@example.org"
        for email_addr in (w["participant"], w["organiser"]):
            (message,) = smtp.to(email_addr)
            assert message["Reply-To"].addresses[0].addr_spec == address
            assert message["From"].addresses[0].addr_spec == "forum-desk@localhost"
            data = next(p for p in message.walk() if p.get_content_type() == "text/calendar").get_payload(decode=True)
            event = icalendar.Calendar.from_ical(data).walk("VEVENT")[0]
            assert str(event["ORGANIZER"]) == f"mailto:{address}"
            assert event["ORGANIZER"].params["CN"] == "Hodžić, Amra “Ami”"
            assert b'CN="Hod\xc5\xbei\xc4\x87, Amra \xe2\x80\x9cAmi\xe2\x80\x9d"' in data.replace(b"\r\n ", b"")
            assert b"^'" not in data.split(b"ORGANIZER", 1)[1].split(b"\r\n", 1)[0]
            vcal = vobject.readOne(data.decode())
            vcal.validate()
            assert vcal.vevent.organizer.value == f"mailto:{address}"
            assert str(event["ATTENDEE"]) == f"mailto:{email_addr}"
            assert str(event["ORGANIZER"]) != str(event["ATTENDEE"])
    finally:
        smtp.stop()


# --- the fetch loop ----------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("use_idle", [True, False], ids=["idle", "polling"])
def test_the_fetch_loop_reads_mail_as_it_arrives(app: Flask, make: Factory, imap_server: ImapServer, use_idle: bool):
    """``flask forum mail fetch --loop``: a message delivered while it waits (IDLE, or polling) is read within
    seconds; the loop stops when asked."""
    import threading
    import time

    from forum_app.inbound.fetch import run_loop

    imap_server.empty()
    w = setup_meeting(app, make, "thunderbird")
    stop = threading.Event()
    said: list[str] = []
    app.config["IMAP_URL"] = imap_server.url

    def loop() -> None:
        with app.app_context():
            run_loop(stop, interval=1, use_idle=use_idle, say=said.append)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        time.sleep(1.5)  # connected and waiting
        imap_server.append(sample("thunderbird-tentative", w["meeting"]))
        deadline = time.monotonic() + 15
        while not received(app) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert [m.outcome for m in received(app)] == ["applied"], said
        assert snapshot(app)["invitations"][w["invitee"]][0] == "tentative"
    finally:
        stop.set()
        thread.join(timeout=15)
        app.config["IMAP_URL"] = None
    assert not thread.is_alive()
    assert imap_server.count() == 0
    assert any(line.startswith("received 1 (applied 1)") for line in said), said


def test_a_reply_with_nul_and_undecodable_bytes_is_kept_and_passed_on(app: Flask, make: Factory):
    """PostgreSQL refuses NUL in text: the note and the organisers' email keep the rest."""
    w = setup_meeting(app, make, "outlook")
    raw = (
        f"From: Amra <amra.hodzic@example.ba>\nTo: forum-desk+m{w['meeting']}@example.org\nSubject: a\x00b\n"
        "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
    ).encode() + b"late \x00 by \xff\xfe ten minutes\n"
    Pipe(app).deliver(raw)
    (mail,) = received(app)
    assert mail.outcome == "note" and "\x00" not in mail.text and mail.text.startswith("late")
    assert mail.text.endswith("ten minutes")
    with app.app_context():
        email = db.session.execute(select(OutboxMessage).where(OutboxMessage.kind == "received-note")).scalar_one()
        assert "ten minutes" in email.body_text and "\x00" not in email.body_text

"""Issue 20, point 1, continued: bounces, what is not matched, too large or hostile, who sees received
mail and for how long, the address invitations name, and the fetch loop (IDLE and polling) against
Dovecot. Helpers and samples: tests/inbound.py, tests/mail_samples/.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from forum_app.core import clock
from forum_app.core.commit import attempt
from forum_app.extensions import db
from forum_app.meetings import services as meetings
from forum_app.models import Meeting, OutboxMessage, User

from .conftest import sign_in
from .factories import Factory
from .imapserver import ImapServer
from .inbound import (
    SAMPLES,
    Pipe,
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


def test_fetch_without_a_mailbox_says_what_to_set(app: Flask):
    result = app.test_cli_runner().invoke(args=["forum", "mail", "fetch"])
    assert result.exit_code == 1 and "IMAP_URL is not set" in result.output


def test_fetch_from_a_mailbox_that_is_not_there_fails_clearly(app: Flask, monkeypatch):
    from .mailserver import free_port

    monkeypatch.setitem(app.config, "IMAP_URL", f"imap://desk:pw@127.0.0.1:{free_port()}/INBOX")
    result = app.test_cli_runner().invoke(args=["forum", "mail", "fetch"])
    assert result.exit_code == 1 and "cannot read the mailbox: ConnectionRefusedError" in result.output

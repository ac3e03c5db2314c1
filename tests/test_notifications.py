"""Issue 10: invitations, updates and cancellations delivered to a real SMTP server, the
delivery worker (retries, server down, two workers), RSVP from the email, reminders,
minutes notices and email choices.

Every message the server receives is parsed back with the ``email`` package, and every
calendar in it with ``icalendar`` and with ``vobject`` (validate=True).
"""

from __future__ import annotations

import socket
import threading
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject
from flask import Flask
from sqlalchemy import func, select

from forum_app.auth.tokens import make_link_token
from forum_app.core import clock
from forum_app.core.commit import attempt
from forum_app.extensions import db
from forum_app.meetings import minutes
from forum_app.meetings import services as meetings
from forum_app.meetings.minutes import MinutesInput
from forum_app.meetings.services import InviteeInput, MeetingDetails
from forum_app.models import (
    ActionItem,
    AuditEvent,
    Forum,
    Invitation,
    Meeting,
    NotificationSettings,
    OutboxMessage,
    SentReminder,
    User,
)
from forum_app.notifications.delivery import deliver_due
from forum_app.notifications.reminders import send_reminders

from .conftest import csrf_token, login
from .factories import Factory
from .mailserver import SmtpServer, free_port

SARAJEVO = ZoneInfo("Europe/Sarajevo")
# Names that must survive MIME headers, iCalendar parameters and both parsers intact.
NAMES = ['Hodžić, Amra "Ami"', "Љупчо Стојановски", "Ardita Krasniqi-Çelë"]


@pytest.fixture
def smtp(app: Flask):
    server = SmtpServer().start()
    saved = {k: app.config[k] for k in ("MAIL_SERVER", "MAIL_PORT", "MAIL_DELIVERY")}
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, MAIL_DELIVERY=True)
    yield server
    server.stop()
    app.config.update(saved)


def deliver(app: Flask, now: datetime | None = None):
    with app.app_context():
        report = deliver_due(now=now or datetime.now(UTC) + timedelta(days=1))
        db.session.remove()
        return report


def local(y, mo, d, h, mi=0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SARAJEVO).astimezone(UTC)


def setup_forum(make: Factory) -> dict:
    w = make.world()
    w["invitees"] = []
    for name in NAMES:
        email = make.user(name=name)
        make.add_member(w["forum"], email)
        w["invitees"].append(email)
    with make.app.app_context():
        forum = db.session.get(Forum, w["forum"])
        forum.title = "Forum Sarajevo – Vijećnica"
        db.session.commit()
    return w


def _actor(email: str) -> User:
    return db.session.execute(select(User).where(User.email == email)).scalar_one()


def plan_meeting(
    app: Flask,
    w: dict,
    start: datetime,
    *,
    title="Reintegracija: praćenje akcija ë ç",
    venue="Vijećnica, Obala Kulina bana 1, Sarajevo",
    invite_all=True,
) -> int:
    with app.app_context(), clock.at(start - timedelta(days=20)):
        forum = db.session.get(Forum, w["forum"])
        details = MeetingDetails(
            title=title,
            starts_at=start,
            ends_at=start + timedelta(hours=3),
            venue=venue,
            online_url="https://meet.example.org/forum-sa",
            agenda_md="1. **Dobrodošlica**\n2. Follow-up review — Преглед на активностите\n",
        )
        ids = None if invite_all else []
        meeting = meetings.create_meeting(_actor(w["organiser"]), forum, details, invitee_ids=ids)
        db.session.commit()
        return meeting.id


def run(app: Flask, at: datetime, fn):
    """Run a service as of ``at`` through the commit point; returns its value."""
    with app.app_context(), clock.at(at):
        outcome = attempt(fn)
        assert outcome, outcome.message
        value = outcome.value
        db.session.remove()
        return value


def schedule(app: Flask, w: dict, meeting_id: int, at: datetime) -> None:
    def go():
        meeting = db.session.get(Meeting, meeting_id)
        return meetings.change_state(_actor(w["organiser"]), meeting, "scheduled", meeting.version)

    run(app, at, go)


def move(app: Flask, w: dict, meeting_id: int, new_start: datetime, at: datetime) -> None:
    def go():
        m = db.session.get(Meeting, meeting_id)
        details = MeetingDetails(
            title=m.title,
            starts_at=new_start,
            ends_at=new_start + (m.ends_at - m.starts_at),
            venue=m.venue,
            online_url=m.online_url,
            agenda_md=m.agenda_md,
        )
        return meetings.update_meeting(_actor(w["organiser"]), m, details, m.version)

    run(app, at, go)


def remove_invitee(app: Flask, w: dict, meeting_id: int, email: str) -> None:
    with app.app_context():
        invitation_id = db.session.execute(
            select(Invitation.id).join(User).where(Invitation.meeting_id == meeting_id, User.email == email)
        ).scalar_one()
    run(
        app,
        datetime.now(UTC),
        lambda: meetings.remove_invitee(_actor(w["organiser"]), db.session.get(Meeting, meeting_id), invitation_id),
    )


def cancel(app: Flask, w: dict, meeting_id: int, at: datetime) -> None:
    def go():
        m = db.session.get(Meeting, meeting_id)
        return meetings.change_state(
            _actor(w["organiser"]), m, "cancelled", m.version, reason="Prostorija nije dostupna, izvinjavamo se."
        )

    run(app, at, go)


# --- reading a received message ----------------------------------------------------------------


def mime_tree(message) -> list:
    if message.is_multipart():
        return [message.get_content_type(), [mime_tree(p) for p in message.iter_parts()]]
    return message.get_content_type()


def calendar_parts(message):
    """(the text/calendar part inside the alternative, the invite.ics attachment)."""
    mixed = list(message.iter_parts())
    alternative = mixed[0]
    parts = list(alternative.iter_parts())
    return parts[2], mixed[1]


def parse_both(data: bytes):
    """The calendar as icalendar reads it and as vobject reads (and validates) it."""
    ical = icalendar.Calendar.from_ical(data)
    vcal = vobject.readOne(data.decode("utf-8"))
    vcal.validate()
    return ical, vcal


def check_message(message, to_email: str, to_name: str) -> tuple[bytes, str]:
    """The MIME tree, the method parameter, the calendar in both places, the headers. Returns (ics bytes, method)."""
    assert mime_tree(message) == [
        "multipart/mixed",
        [["multipart/alternative", ["text/plain", "text/html", "text/calendar"]], "application/ics"],
    ]
    inline, attached = calendar_parts(message)
    method = inline.get_param("method")
    assert method in ("REQUEST", "CANCEL")
    assert inline.get_param("charset").upper() == "UTF-8"
    assert inline["Content-Transfer-Encoding"] == "base64"
    assert attached.get_filename() == "invite.ics" and attached.get_content_disposition() == "attachment"
    assert attached["Content-Transfer-Encoding"] == "base64"
    data = inline.get_payload(decode=True)
    assert attached.get_payload(decode=True) == data  # the same bytes in both places
    # Headers: one recipient, with their name intact; automatic mail.
    assert message["To"].addresses[0].addr_spec == to_email
    assert message["To"].addresses[0].display_name == to_name
    assert len(message["To"].addresses) == 1
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"].endswith("@localhost>") and message["Date"].datetime.tzinfo is not None
    # The iTIP method in the Content-Type, where calendar clients look for it (RFC 6047), beside the charset.
    assert inline["Content-Type"].params == {"method": method, "charset": "UTF-8"}
    assert attached.get_content_type() == "application/ics" and attached.get_param("method") is None
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert to_name in text and to_name.split(",")[0] in html
    return data, method


# --- invite → move → cancel ----------------------------------------------------------------------


def test_invite_move_cancel_gives_three_messages_per_invitee(app: Flask, make: Factory, smtp) -> None:
    """Done means: three messages per invitee, both parsers, SEQUENCE 0, 1, 2, one UID."""
    w = setup_forum(make)
    start = local(2021, 6, 30, 10)
    meeting_id = plan_meeting(app, w, start)
    schedule(app, w, meeting_id, start - timedelta(days=14))
    assert (
        deliver(app, start - timedelta(days=14)).sent == 6
    )  # participant, observer, the three named invitees and the organiser
    move(app, w, meeting_id, local(2021, 6, 30, 11, 30), start - timedelta(days=7))
    assert deliver(app, start - timedelta(days=7)).sent == 6
    cancel(app, w, meeting_id, start - timedelta(days=2))
    assert deliver(app, start - timedelta(days=2)).sent == 6
    assert deliver(app, start - timedelta(days=1)).sent == 0  # nothing twice

    with app.app_context():
        uid = db.session.get(Meeting, meeting_id).ical_uid
        organiser = _actor(w["organiser"])
    for email_addr, name in zip(w["invitees"], NAMES, strict=True):
        received = smtp.to(email_addr)
        assert len(received) == 3, email_addr
        subjects = [m["Subject"] for m in received]
        assert subjects[0].startswith("Invitation: Forum Sarajevo") and "Wed, 30 Jun 2021" in subjects[0]
        assert subjects[1].startswith("Updated: ") and subjects[2].startswith("Cancelled: ")
        seen = []
        for message in received:
            data, method = check_message(message, email_addr, name)
            ical, vcal = parse_both(data)
            event = ical.walk("VEVENT")[0]
            assert ical["METHOD"] == method == str(vcal.method.value)
            assert ical["PRODID"] and ical["VERSION"] == "2.0"
            assert str(event["UID"]) == vcal.vevent.uid.value == uid
            assert event["DTSTAMP"].dt.tzinfo is not None and event["DTSTAMP"].to_ical().endswith(b"Z")
            assert event["DTSTART"].params["TZID"] == "Europe/Sarajevo"
            attendees = event.get("ATTENDEE")
            assert not isinstance(attendees, list), "one ATTENDEE: the recipient alone"
            assert str(attendees) == f"mailto:{email_addr}"
            # Commas, Cyrillic, ë ç intact; a straight quote becomes a typographic one, which Outlook and
            # Gmail show as typed (they do not decode RFC 6868's ^').
            assert attendees.params["CN"] == name.replace('"Ami"', "\u201cAmi\u201d")
            assert attendees.params["RSVP"] == "TRUE" and attendees.params["ROLE"] == "REQ-PARTICIPANT"
            assert attendees.params["PARTSTAT"] == "NEEDS-ACTION"
            # Forum Desk's address for the meeting, so the calendars' answers come back to it (inbound).
            assert str(event["ORGANIZER"]) == f"mailto:forum-desk+m{meeting_id}@localhost"
            assert vcal.vevent.organizer.value.lower() == f"mailto:forum-desk+m{meeting_id}@localhost"
            assert event["ORGANIZER"].params["CN"] == organiser.name
            assert str(event["SUMMARY"]) == "Reintegracija: praćenje akcija ë ç"
            assert "Vijećnica" in str(event["LOCATION"])
            assert str(event["URL"]).endswith(f"/meetings/{meeting_id}")
            assert "https://meet.example.org/forum-sa" in str(event["DESCRIPTION"])
            assert "Преглед на активностите" in str(event["DESCRIPTION"]) and "**" not in str(event["DESCRIPTION"])
            assert len(ical.walk("VTIMEZONE")) == 1 and ical.walk("VTIMEZONE")[0].walk("DAYLIGHT")[0].get("RRULE")
            seen.append(
                (
                    method,
                    int(event["SEQUENCE"]),
                    event.decoded("DTSTART").astimezone(UTC),
                    str(event.get("STATUS")),
                    bool(event.walk("VALARM")),
                )
            )
        assert seen == [
            ("REQUEST", 0, datetime(2021, 6, 30, 8, 0, tzinfo=UTC), "CONFIRMED", True),
            ("REQUEST", 1, datetime(2021, 6, 30, 9, 30, tzinfo=UTC), "CONFIRMED", True),
            ("CANCEL", 2, datetime(2021, 6, 30, 9, 30, tzinfo=UTC), "CANCELLED", False),
        ]
    # Never one message to many; the envelope names the sender's and the recipient's addresses alone.
    assert all(len(r.rcpt_tos) == 1 for r in smtp.received)
    assert {r.mail_from for r in smtp.received} == {"forum-desk@localhost"}
    assert all(r.rcpt_tos == [r.message["To"].addresses[0].addr_spec] for r in smtp.received)


def test_the_email_reads_well_as_text_and_html(app: Flask, make: Factory, smtp) -> None:
    """Local time with its zone, the recipient's own time when it differs, a clear call to action."""
    w = setup_forum(make)
    with app.app_context():
        db.session.execute(db.update(User).where(User.email == w["invitees"][1]).values(timezone="Europe/London"))
        db.session.commit()
    start = datetime.now(SARAJEVO).replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(days=20)
    meeting_id = plan_meeting(app, w, start.astimezone(UTC))
    schedule(app, w, meeting_id, datetime.now(UTC))
    deliver(app)
    message = smtp.to(w["invitees"][1])[0]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "10:00–13:00" in text and "(Europe/Sarajevo)" in text
    assert "Your time:" in text and "09:00–12:00" in text and "(Europe/London)" in text
    for answer in ("accepted", "tentative", "declined"):
        assert f"answer={answer}" in text and f"answer={answer}" in html
    assert ">Yes</a>" in html and ">Maybe</a>" in html and ">No</a>" in html and "<img" not in html
    assert len(message["Subject"]) < 80


# --- delivery: server down, refusals, withdrawn, two workers ----------------------------------------


def test_an_address_with_an_international_domain_arrives_in_idna(app: Flask, make: Factory, smtp) -> None:
    """The domain goes out as xn--…, which every server takes (no SMTPUTF8 needed), in the envelope and in To."""
    w = make.world()
    make.add_member(w["forum"], make.user(email="ana@šipovo.ba", name="Ana Šipovo"))
    meeting_id = plan_meeting(app, w, datetime.now(UTC) + timedelta(days=10))
    schedule(app, w, meeting_id, datetime.now(UTC))
    assert deliver(app).failed == 0
    (received,) = [r for r in smtp.received if r.rcpt_tos == ["ana@xn--ipovo-udb.ba"]]
    assert received.message["To"].addresses[0].addr_spec == "ana@xn--ipovo-udb.ba"
    assert received.message["To"].addresses[0].display_name == "Ana Šipovo"


def test_a_server_that_accepts_and_then_says_nothing_does_not_stall_the_worker(app: Flask, make: Factory) -> None:
    """MAIL_TIMEOUT bounds the wait for the greeting; the messages wait for the next run, as for a server down."""
    listener = socket.create_server(("127.0.0.1", 0))  # accepts (the kernel's backlog) and never greets
    saved = {k: app.config[k] for k in ("MAIL_SERVER", "MAIL_PORT", "MAIL_DELIVERY", "MAIL_TIMEOUT")}
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=listener.getsockname()[1], MAIL_DELIVERY=True, MAIL_TIMEOUT=1)
    try:
        w = make.world()
        meeting_id = plan_meeting(app, w, datetime.now(UTC) + timedelta(days=10))
        schedule(app, w, meeting_id, datetime.now(UTC))
        report = deliver(app, datetime.now(UTC))
    finally:
        listener.close()
        app.config.update(saved)
    assert report.sent == 0 and report.failed == 0 and report.retrying > 0
    assert all("timed out" in error for error in report.errors), report.errors


def test_a_server_that_is_down_delays_mail_and_every_message_arrives_once(app: Flask, make: Factory) -> None:
    port = free_port()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_DELIVERY=True)
    w = setup_forum(make)
    start = datetime.now(UTC) + timedelta(days=10)
    meeting_id = plan_meeting(app, w, start)
    schedule(app, w, meeting_id, datetime.now(UTC))
    report = deliver(app, datetime.now(UTC))
    assert (report.sent, report.retrying, report.failed) == (0, 6, 0)
    with app.app_context():
        rows = db.session.execute(select(OutboxMessage).where(OutboxMessage.meeting_id == meeting_id)).scalars().all()
        assert {r.status for r in rows} == {"pending"} and {r.attempts for r in rows} == {1}
        assert all("refused" in r.last_error.lower() or "errno" in r.last_error.lower() for r in rows), rows[
            0
        ].last_error
    # Still down an hour later: still pending, never failed for it.
    for hours in (2, 5, 9):
        deliver(app, datetime.now(UTC) + timedelta(hours=hours))
    with app.app_context():
        assert set(db.session.execute(select(OutboxMessage.status)).scalars()) == {"pending"}
    server = SmtpServer(port).start()
    try:
        assert deliver(app, datetime.now(UTC) + timedelta(days=1)).sent == 6
        assert deliver(app, datetime.now(UTC) + timedelta(days=3)).sent == 0
        assert sorted(a for r in server.received for a in r.rcpt_tos) == sorted(
            w["invitees"] + [w["participant"], w["observer"], w["organiser"]]
        )
    finally:
        server.stop()
    with app.app_context():
        rows = db.session.execute(select(OutboxMessage)).scalars().all()
        assert {r.status for r in rows} == {"sent"} and all(r.sent_at for r in rows)


def test_a_refused_recipient_fails_with_its_error_and_an_admin_can_retry(app: Flask, make: Factory, smtp) -> None:
    w = setup_forum(make)
    smtp.handler.refuse.add(w["invitees"][0])
    meeting_id = plan_meeting(app, w, datetime.now(UTC) + timedelta(days=10))
    schedule(app, w, meeting_id, datetime.now(UTC))
    report = deliver(app)
    assert (report.sent, report.failed) == (5, 1)
    with app.app_context():
        failed = db.session.execute(select(OutboxMessage).where(OutboxMessage.status == "failed")).scalar_one()
        assert failed.to_addr == w["invitees"][0] and "550" in failed.last_error
        failed_id = failed.id
    admin = app.test_client()
    login(admin, w["admin"])
    page = admin.get("/outbox?status=failed").get_data(as_text=True)
    assert f"#{failed_id}" in page and "550" in page and "Retry now" in page
    assert admin.get("/outbox?status=sent").get_data(as_text=True).count('class="card mb-2 outbox-message"') == 5
    # Organisers see it on the meeting page.
    organiser = app.test_client()
    login(organiser, w["organiser"])
    meeting_page = organiser.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert meeting_page.count("email sent") == 5 and meeting_page.count("email failed") == 1
    # Nobody else may retry; the admin can.
    participant = app.test_client()
    login(participant, w["participant"])
    token = csrf_token(participant, "/")
    assert participant.post(f"/outbox/{failed_id}/retry", data={"csrf_token": token}).status_code == 403
    token = csrf_token(admin, "/outbox")
    assert admin.post(f"/outbox/{failed_id}/retry", data={"csrf_token": token}).status_code == 302
    smtp.handler.refuse.clear()
    assert deliver(app).sent == 1
    assert len(smtp.to(w["invitees"][0])) == 1


def test_withdrawn_messages_are_never_sent(app: Flask, make: Factory, smtp) -> None:
    """Removing an invitee before delivery withdraws their invitation (no cancellation follows)."""
    w = setup_forum(make)
    meeting_id = plan_meeting(app, w, datetime.now(UTC) + timedelta(days=10))
    schedule(app, w, meeting_id, datetime.now(UTC))
    remove_invitee(app, w, meeting_id, w["invitees"][2])
    assert deliver(app).sent == 5
    assert smtp.to(w["invitees"][2]) == []
    with app.app_context():
        assert db.session.execute(
            select(OutboxMessage.status).where(OutboxMessage.to_addr == w["invitees"][2])
        ).scalars().all() == ["withdrawn"]


def test_removing_an_invitee_who_got_the_invitation_sends_them_a_cancellation(app: Flask, make: Factory, smtp) -> None:
    w = setup_forum(make)
    meeting_id = plan_meeting(app, w, datetime.now(UTC) + timedelta(days=10))
    schedule(app, w, meeting_id, datetime.now(UTC))
    deliver(app)
    remove_invitee(app, w, meeting_id, w["invitees"][0])
    assert deliver(app).sent == 1
    first, second = smtp.to(w["invitees"][0])
    data, method = check_message(second, w["invitees"][0], NAMES[0])
    ical, _vcal = parse_both(data)
    assert method == "CANCEL" and second["Subject"].startswith("No longer invited")
    assert str(ical.walk("VEVENT")[0]["STATUS"]) == "CANCELLED"
    assert (
        ical.walk("VEVENT")[0]["UID"]
        == icalendar.Calendar.from_ical(calendar_parts(first)[0].get_payload(decode=True)).walk("VEVENT")[0]["UID"]
    )
    # The others heard nothing.
    assert len(smtp.received) == 7


def test_adding_an_invitee_later_invites_only_that_person(app: Flask, make: Factory, smtp) -> None:
    w = setup_forum(make)
    meeting_id = plan_meeting(app, w, datetime.now(UTC) + timedelta(days=10))
    schedule(app, w, meeting_id, datetime.now(UTC))
    deliver(app)
    run(
        app,
        datetime.now(UTC),
        lambda: meetings.add_invitee(
            _actor(w["organiser"]),
            db.session.get(Meeting, meeting_id),
            InviteeInput(email="gost@ministarstvo.example", name="Gost Đurđević"),
        ),
    )
    deliver(app)
    new = smtp.to("gost@ministarstvo.example")
    assert sorted(m["Subject"].split(":")[0] for m in new) == ["Invitation", "You have been invited to Forum Desk"]
    assert len(smtp.received) == 6 + 2


def test_two_workers_deliver_each_message_exactly_once(app: Flask, make: Factory, smtp) -> None:
    """On PostgreSQL with FOR UPDATE SKIP LOCKED; on SQLite the write lock serialises them."""
    w = make.world()
    with app.app_context():
        organiser = _actor(w["organiser"])
        for n in range(60):
            db.session.add(
                OutboxMessage(
                    kind="test",
                    to_addr=f"person{n}@example.org",
                    subject=f"Message {n}",
                    body_text=f"Body {n}",
                    to_user_id=organiser.id,
                )
            )
        db.session.commit()
    reports = []
    start = threading.Barrier(2)

    def worker():
        with app.app_context():
            start.wait()
            total = 0
            while True:
                report = deliver_due(limit=5, now=datetime.now(UTC) + timedelta(minutes=1))
                total += report.sent
                if report.sent == 0:
                    break
            reports.append(total)
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sum(reports) == 60
    outbox_ids = [r.message["X-Forum-Desk-Outbox"] for r in smtp.received]
    assert len(outbox_ids) == 60 and len(set(outbox_ids)) == 60
    with app.app_context():
        assert (
            db.session.execute(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status == "sent", OutboxMessage.attempts == 1)
            ).scalar_one()
            == 60
        )
        postgresql = db.engine.dialect.name == "postgresql"
    if postgresql:
        assert min(reports) > 0, f"one worker sent everything: {reports}"


def test_development_without_a_mail_server_keeps_mail_readable_in_the_outbox(app: Flask, make: Factory) -> None:
    app.config["MAIL_DELIVERY"] = False
    try:
        w = setup_forum(make)
        meeting_id = plan_meeting(app, w, datetime.now(UTC) + timedelta(days=10))
        schedule(app, w, meeting_id, datetime.now(UTC))
        report = deliver(app)
        assert (report.sent, report.held) == (0, 6)
        admin = app.test_client()
        login(admin, w["admin"])
        page = admin.get("/outbox?status=pending").get_data(as_text=True)
        assert "No MAIL_SERVER is configured" in page
        assert "Invitation: Forum Sarajevo" in page and "invite.ics (METHOD:REQUEST)" in page
        assert "/rsvp/" not in page and "[link hidden]" in page  # an administrator cannot answer for anyone
    finally:
        app.config["MAIL_DELIVERY"] = True


def test_cli_deliver_and_remind(app: Flask, make: Factory, smtp) -> None:
    w = setup_forum(make)
    meeting_id = plan_meeting(app, w, datetime.now(UTC) + timedelta(hours=30))
    schedule(app, w, meeting_id, datetime.now(UTC))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["forum", "remind"])
    assert result.exit_code == 0 and "reminders queued 6 in 6 emails" in result.output
    assert "reminders queued 0" in runner.invoke(args=["forum", "remind"]).output
    result = runner.invoke(args=["forum", "mail", "deliver"])
    assert result.exit_code == 0 and "sent 12" in result.output, result.output
    reminder = next(m for m in smtp.to(w["invitees"][0]) if m["Subject"].startswith("Reminder:"))
    assert "Forum Sarajevo" in reminder["Subject"]
    text = reminder.get_body(("plain",)).get_content()
    assert "You have not answered yet" in text and "answer=accepted" in text


# --- RSVP from the email ---------------------------------------------------------------------------


@pytest.fixture
def rsvp_world(app: Flask, make: Factory):
    w = make.world()
    meeting_id = make.meeting(w["forum"], state="scheduled", starts_in_days=5)
    invitation_id = make.invite(meeting_id, w["participant"])
    return {**w, "meeting": meeting_id, "invitation": invitation_id, "token": rsvp_token(app, invitation_id)}


def rsvp_token(app: Flask, invitation_id: int) -> str:
    """The token an invitation email carries (valid until the meeting ends)."""
    with app.app_context():
        invitation = db.session.get(Invitation, invitation_id)
        return make_link_token("rsvp", ("invitation", invitation_id), expires_at=invitation.meeting.ends_at, bind=None)


def _invitation(app, invitation_id):
    with app.app_context():
        inv = db.session.get(Invitation, invitation_id)
        return (inv.rsvp, inv.rsvp_comment, inv.rsvp_at) if inv else None


def _rsvp_events(app) -> int:
    with app.app_context():
        return db.session.execute(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.verb == "meeting.rsvp")
        ).scalar_one()


def test_rsvp_link_get_only_shows_and_post_records(app: Flask, rsvp_world) -> None:
    t = rsvp_world
    client = app.test_client()  # not signed in: a mail scanner, or the invitee on a phone
    path = f"/rsvp/{t['token']}"
    page = client.get(f"{path}?answer=declined")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert (
        'value="declined" checked' in html
        or 'checked value="declined"' in html
        or ('value="declined"' in html and "checked" in html)
    )
    assert _invitation(app, t["invitation"])[0] == "needs-action"  # opening the link changed nothing
    token = csrf_token(client, path)
    response = client.post(path, data={"csrf_token": token, "answer": "accepted", "comment": "Dolazim."})
    assert response.status_code == 302
    assert "your answer is recorded" in client.get(response.headers["Location"]).get_data(as_text=True)
    rsvp, comment, at = _invitation(app, t["invitation"])
    assert (rsvp, comment) == ("accepted", "Dolazim.") and _rsvp_events(app) == 1
    # The same answer again changes nothing, not even the time.
    response = client.post(path, data={"csrf_token": token, "answer": "accepted", "comment": "Dolazim."})
    assert "already recorded" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert _invitation(app, t["invitation"]) == (rsvp, comment, at) and _rsvp_events(app) == 1
    # A new answer replaces the old one.
    client.post(path, data={"csrf_token": token, "answer": "tentative", "comment": ""})
    assert _invitation(app, t["invitation"])[0] == "tentative" and _rsvp_events(app) == 2
    # The link never signs anyone in.
    assert client.get("/").status_code == 302 and client.get("/").headers["Location"].startswith("/login")
    # The organiser sees the answer at once.
    organiser = app.test_client()
    login(organiser, t["organiser"])
    row = [
        line
        for line in organiser.get(f"/meetings/{t['meeting']}").get_data(as_text=True).splitlines()
        if 'class="d-print-none rsvp-cell"' in line
    ]
    assert any("Tentative" in line for line in row)


def test_rsvp_links_tampered_expired_or_withdrawn_show_a_clear_page_and_change_nothing(app: Flask, rsvp_world) -> None:
    t = rsvp_world
    client = app.test_client()
    tampered = t["token"][:-3] + ("AAA" if not t["token"].endswith("AAA") else "BBB")
    for path, status in ((f"/rsvp/{tampered}", 404), ("/rsvp/not-a-token", 404)):
        response = client.get(path)
        assert response.status_code == status and "This answer link cannot be used" in response.get_data(as_text=True)
        assert client.post(path, data={"answer": "accepted"}).status_code in (400, 404)
    # Another purpose's token does not read as an RSVP link.
    with app.app_context():
        other = make_link_token(
            "action-confirm", ("action", 1), expires_at=datetime.now(UTC) + timedelta(days=1), bind=None
        )
    assert client.get(f"/rsvp/{other}").status_code == 404
    # Expired: the meeting has ended.
    with app.app_context():
        past = make_link_token(
            "rsvp", ("invitation", t["invitation"]), expires_at=datetime.now(UTC) - timedelta(minutes=1), bind=None
        )
    response = client.get(f"/rsvp/{past}")
    assert response.status_code == 410 and "answers are closed" in response.get_data(as_text=True)
    assert _invitation(app, t["invitation"])[0] == "needs-action" and _rsvp_events(app) == 0
    # Withdrawn invitation: the link dies with it.
    with app.app_context():
        db.session.delete(db.session.get(Invitation, t["invitation"]))
        db.session.commit()
    assert client.get(f"/rsvp/{t['token']}").status_code == 404


def test_rsvp_after_the_meeting_is_cancelled_is_refused_clearly(app: Flask, rsvp_world) -> None:
    t = rsvp_world
    client = app.test_client()
    path = f"/rsvp/{t['token']}"
    token = csrf_token(client, path)
    with app.app_context():
        meeting = db.session.get(Meeting, t["meeting"])
        meeting.state = "cancelled"
        db.session.commit()
    page = client.get(path).get_data(as_text=True)
    assert "Answers are closed: the meeting is cancelled." in page and "Send my answer" not in page
    response = client.post(path, data={"csrf_token": token, "answer": "accepted"})
    assert response.status_code == 400 and _invitation(app, t["invitation"])[0] == "needs-action"


# --- reminders, minutes notices, email choices ---------------------------------------------------------


def _action(app, forum_id, owner_email, due: date, title: str, state="accepted") -> int:
    with app.app_context():
        owner = _actor(owner_email)
        action = ActionItem(forum_id=forum_id, title=title, owner_id=owner.id, due_on=due, state=state)
        db.session.add(action)
        db.session.commit()
        return action.id


def test_reminders_are_sent_once_and_respect_choices(app: Flask, make: Factory, smtp) -> None:
    w = setup_forum(make)
    now = datetime.now(UTC)
    today = now.astimezone(SARAJEVO).date()
    soon = plan_meeting(app, w, now + timedelta(hours=40))
    later = plan_meeting(app, w, now + timedelta(days=5))
    for meeting_id in (soon, later):
        schedule(app, w, meeting_id, now)
    deliver(app)
    smtp.received.clear()
    _action(app, w["forum"], w["participant"], today + timedelta(days=2), "Prepare the referral protocol")
    _action(app, w["forum"], w["participant"], today - timedelta(days=4), "Send the list of contacts")
    _action(app, w["forum"], w["participant"], today + timedelta(days=9), "Not yet")
    _action(app, w["forum"], w["participant"], today - timedelta(days=1), "Closed one", state="done")
    # One invitee declined; another turned meeting reminders off.
    with app.app_context():
        declined = db.session.execute(
            select(Invitation).join(User).where(Invitation.meeting_id == soon, User.email == w["invitees"][0])
        ).scalar_one()
        declined.rsvp = "declined"
        quiet = _actor(w["invitees"][1])
        db.session.add(
            NotificationSettings(user_id=quiet.id, meeting_reminders=False, action_reminders=True, minutes_notices=True)
        )
        db.session.commit()
    with app.app_context():
        report = send_reminders(now)
    assert (
        report.emails == 5
    )  # meeting: participant, observer, invitees[2], the organiser; actions: the participant's digest
    with app.app_context():
        assert send_reminders(now).queued == 0  # safe to run again
        assert send_reminders(now + timedelta(hours=1)).queued == 0
        recorded = db.session.execute(select(SentReminder.kind, func.count()).group_by(SentReminder.kind)).all()
    assert dict(recorded) == {"meeting-soon": 5, "action-due-soon": 1, "action-overdue": 1}
    deliver(app)
    assert smtp.to(w["invitees"][0]) == [] and smtp.to(w["invitees"][1]) == []
    participant_mail = smtp.to(w["participant"])
    digest = next(m for m in participant_mail if "action" in m["Subject"])
    text = digest.get_body(("plain",)).get_content()
    assert "Send the list of contacts" in text and "Prepare the referral protocol" in text
    assert "Not yet" not in text and "Closed one" not in text
    assert text.index("past their due date") < text.index("Send the list") < text.index("due in the next three")
    meeting_reminder = next(m for m in participant_mail if m["Subject"].startswith("Reminder:"))
    assert "Forum Sarajevo" in meeting_reminder["Subject"]
    # Dates in subjects as British English writes them, the time in the forum's zone and saying which.
    starts, first_due = (now + timedelta(hours=40)).astimezone(SARAJEVO), today - timedelta(days=4)
    assert meeting_reminder["Subject"].endswith(
        f"{starts:%a}, {starts.day} {starts:%b %Y} {starts:%H}:{starts:%M} {starts.tzname()}"
    )
    assert digest["Subject"].endswith(f"from {first_due:%a}, {first_due.day} {first_due:%b %Y}")
    # A meeting moved to another day is announced again; the same occasion never. The move asked
    # everyone again (issue 20, point 4): the "no" was to the old time, so the one who declined is
    # reminded of the new one too.
    move(app, w, soon, now + timedelta(hours=44), now)
    with app.app_context():
        assert send_reminders(now).queued == 6  # the five reminded before, and the one who declined the old time


def test_minutes_circulated_notice_goes_to_invitees_who_want_it(app: Flask, make: Factory, smtp) -> None:
    w = setup_forum(make)
    start = datetime.now(UTC) - timedelta(days=3)
    meeting_id = plan_meeting(app, w, start)
    schedule(app, w, meeting_id, start - timedelta(days=10))
    deliver(app, start - timedelta(days=10))  # the invitations went out when it was scheduled
    with app.app_context():
        quiet = _actor(w["invitees"][2])
        db.session.add(
            NotificationSettings(user_id=quiet.id, meeting_reminders=True, action_reminders=True, minutes_notices=False)
        )
        db.session.commit()

    def write_and_circulate():
        meeting = db.session.get(Meeting, meeting_id)
        actor = _actor(w["organiser"])
        meetings.change_state(actor, meeting, "held", meeting.version)
        minutes.save_minutes(actor, meeting, MinutesInput("Zapisnik", ["Odluka 1"]), base_revision=0)
        minutes.circulate(actor, meeting, meeting.minutes_revision)

    run(app, start + timedelta(hours=4), write_and_circulate)
    deliver(app)
    notices = [r.message for r in smtp.received if r.message["Subject"].startswith("Minutes to read")]
    assert len(notices) == 5 and smtp.to(w["invitees"][2])[-1]["Subject"].startswith("Invitation")
    assert "Forum Sarajevo" in notices[0]["Subject"]
    assert f"/meetings/{meeting_id}#minutes" in notices[0].get_body(("plain",)).get_content()


def test_calendar_mail_about_a_meeting_already_over_is_not_sent(app: Flask, make: Factory, smtp) -> None:
    """A mail server down for days must not deliver an invitation after the meeting took place."""
    w = setup_forum(make)
    start = datetime.now(UTC) + timedelta(days=3)
    meeting_id = plan_meeting(app, w, start)
    schedule(app, w, meeting_id, datetime.now(UTC))
    report = deliver(app, start + timedelta(days=1))  # the first run after the meeting
    assert (report.sent, report.withdrawn) == (0, 6)
    assert smtp.received == []
    with app.app_context():
        statuses = set(
            db.session.execute(select(OutboxMessage.status).where(OutboxMessage.meeting_id == meeting_id)).scalars()
        )
    assert statuses == {"withdrawn"}

"""Issue 20, points 2 and 3: the last message a person gets about a meeting says where they
stand, and leaving a forum (or being deactivated) leaves its calendar.

Against a real SMTP server on loopback that defers (451) chosen recipients on chosen attempts,
or holds a recipient's RCPT until released (a slow server, to race the worker). A person's mail
calendar is what a calendar client makes of the messages in the order they arrived: every
calendar read by icalendar and by vobject, each REQUEST putting the event as it says (whatever
its SEQUENCE: the worst client), each CANCEL taking it out.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from forum_app.auth import services as accounts
from forum_app.core import clock
from forum_app.core.errors import ServiceError
from forum_app.extensions import db
from forum_app.forums import services as forums
from forum_app.meetings import services as meetings
from forum_app.meetings.services import MeetingDetails
from forum_app.models import Forum, ForumMember, Meeting, OutboxMessage, User
from forum_app.notifications import delivery
from forum_app.notifications.reminders import send_reminders
from forum_app.notifications.services import retry_message

from .factories import Factory
from .mailserver import SmtpServer
from .test_notifications import (
    _action,
    _actor,
    deliver,
    move,
    parse_both,
    plan_meeting,
    remove_invitee,
    run,
    schedule,
    setup_forum,
)


@pytest.fixture
def smtp(app: Flask):
    server = SmtpServer().start()
    saved = {k: app.config[k] for k in ("MAIL_SERVER", "MAIL_PORT", "MAIL_DELIVERY")}
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, MAIL_DELIVERY=True)
    yield server
    server.stop()
    app.config.update(saved)


def calendar_of(message) -> tuple[str, str, int, datetime] | None:
    """(method, UID, SEQUENCE, start) of the message's calendar, as both parsers read it; None without one."""
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    if not parts:
        return None
    ical, vcal = parse_both(parts[0].get_payload(decode=True))
    event = ical.walk("VEVENT")[0]
    method, uid = str(ical["METHOD"]), str(event["UID"])
    assert method == str(vcal.method.value) and uid == vcal.vevent.uid.value
    assert int(event["SEQUENCE"]) == int(vcal.vevent.sequence.value)
    return method, uid, int(event["SEQUENCE"]), event.decoded("DTSTART").astimezone(UTC)


def mail_calendar(messages) -> dict[str, tuple[int, datetime]]:
    """UID → (SEQUENCE, start): what a calendar client holds after these messages, applied in order."""
    calendar: dict[str, tuple[int, datetime]] = {}
    for message in messages:
        read = calendar_of(message)
        if read is None:
            continue
        method, uid, sequence, start = read
        if method == "CANCEL":
            calendar.pop(uid, None)
        else:
            calendar[uid] = (sequence, start)
    return calendar


def uid_of(app: Flask, meeting_id: int) -> str:
    with app.app_context():
        return db.session.get(Meeting, meeting_id).ical_uid


def statuses(app: Flask, email: str) -> list[tuple[str, str]]:
    with app.app_context():
        return [
            (kind, status)
            for kind, status in db.session.execute(
                select(OutboxMessage.kind, OutboxMessage.status)
                .where(OutboxMessage.to_addr == email)
                .order_by(OutboxMessage.id)
            ).all()
        ]


def defer_next(smtp: SmtpServer, address: str, *more: int) -> None:
    """The server answers 451 to the next attempt for ``address`` (and to ``more`` after it)."""
    seen = smtp.handler.attempts[address]
    smtp.handler.defer[address] = {seen + 1, *(seen + 1 + n for n in more)}


# --- point 2: in order, and the newest alone ---------------------------------------------------------------


def test_deferred_invitation_then_removal_ends_with_the_cancellation(app: Flask, make: Factory, smtp) -> None:
    """Today's bug: the cancellation arrived first and the deferred invitation after it, putting
    the event back in the person's calendar."""
    w = setup_forum(make)
    person = w["invitees"][0]
    now = datetime.now(UTC)
    meeting_id = plan_meeting(app, w, now + timedelta(days=10))
    defer_next(smtp, person)
    schedule(app, w, meeting_id, now)
    report = deliver(app, now)
    assert (report.sent, report.retrying) == (5, 1)
    remove_invitee(app, w, meeting_id, person)
    # Every later run, until well past the deferred invitation's next attempt.
    for minutes in (1, 2, 10, 60 * 24):
        deliver(app, now + timedelta(minutes=minutes))
    received = smtp.to(person)
    # The deferred attempt may have reached them (a dropped connection can hide a delivery), so
    # they get the cancellation; the stale invitation never follows it.
    assert [m["Subject"].split(":")[0] for m in received] == ["No longer invited"]
    assert calendar_of(received[-1])[:2] == ("CANCEL", uid_of(app, meeting_id))
    assert mail_calendar(received) == {}
    assert statuses(app, person) == [("meeting-invitation", "withdrawn"), ("meeting-cancellation", "sent")]


def test_deferred_messages_then_moves_end_with_the_new_time(app: Flask, make: Factory, smtp) -> None:
    """Today's bug: the old time arrived after the update. One person's invitation is deferred and
    the meeting moved; another's update is deferred and the meeting moved again."""
    w = setup_forum(make)
    first, second = w["invitees"][0], w["invitees"][1]
    now = datetime.now(UTC)
    start = (now + timedelta(days=10)).replace(microsecond=0)
    meeting_id = plan_meeting(app, w, start)
    defer_next(smtp, first)
    schedule(app, w, meeting_id, now)
    assert deliver(app, now).retrying == 1
    move(app, w, meeting_id, start + timedelta(hours=1), now)
    defer_next(smtp, second)  # the first update to the second person
    assert deliver(app, now).retrying == 1
    move(app, w, meeting_id, start + timedelta(hours=2), now)
    for minutes in (1, 10, 60 * 24):
        deliver(app, now + timedelta(minutes=minutes))
    uid = uid_of(app, meeting_id)
    truth = {uid: (2, start + timedelta(hours=2))}
    # SEQUENCE 0 never reaches the first (deferred, then replaced); 1 never reaches the second.
    for person, expected in ((first, [1, 2]), (second, [0, 2])):
        received = smtp.to(person)
        assert [calendar_of(m)[2] for m in received] == expected, person  # SEQUENCE of each, in arrival order
        assert calendar_of(received[-1]) == ("REQUEST", uid, 2, start + timedelta(hours=2))
        assert mail_calendar(received) == truth
    # Everyone else heard all three, in order.
    others = smtp.to(w["invitees"][2])
    assert [calendar_of(m)[2] for m in others] == [0, 1, 2] and mail_calendar(others) == truth
    with app.app_context():
        superseded = db.session.execute(
            select(OutboxMessage.to_addr, OutboxMessage.last_error).where(OutboxMessage.status == "withdrawn")
        ).all()
    assert sorted(addr for addr, _e in superseded) == sorted([first, second])
    assert all("superseded" in error for _a, error in superseded)


def test_a_reminder_waits_behind_a_deferred_invitation(app: Flask, make: Factory, smtp) -> None:
    """Messages for one person about one meeting leave in the order they were queued."""
    w = setup_forum(make)
    person = w["invitees"][0]
    now = datetime.now(UTC)
    meeting_id = plan_meeting(app, w, now + timedelta(hours=30))
    defer_next(smtp, person)
    schedule(app, w, meeting_id, now)
    deliver(app, now)
    with app.app_context(), clock.at(now):
        assert send_reminders(now).emails == 6
    deliver(app, now)  # the others' reminders go; this person's waits behind their invitation
    assert smtp.to(person) == []
    assert statuses(app, person) == [("meeting-invitation", "pending"), ("meeting-reminder", "pending")]
    deliver(app, now + timedelta(minutes=2))
    assert [m["Subject"].split(":")[0] for m in smtp.to(person)] == ["Invitation", "Reminder"]


def test_an_update_replaces_a_waiting_reminder_and_a_fresh_one_follows(app: Flask, make: Factory, smtp) -> None:
    """A reminder still waiting would repeat the old place: the update withdraws it, and the next
    `remind` run sends one with the meeting as it now is."""
    w = setup_forum(make)
    person = w["invitees"][0]
    now = datetime.now(UTC)
    meeting_id = plan_meeting(app, w, now + timedelta(hours=30))
    schedule(app, w, meeting_id, now)
    deliver(app, now)
    with app.app_context(), clock.at(now):
        send_reminders(now)
    defer_next(smtp, person)
    deliver(app, now)  # this person's reminder is deferred

    def new_room():
        m = db.session.get(Meeting, meeting_id)
        details = meeting_details(m, venue="Sala 2, Općina Centar")
        return meetings.update_meeting(_actor(w["organiser"]), m, details, m.version)

    run(app, now, new_room)
    with app.app_context(), clock.at(now):
        assert send_reminders(now).emails == 1  # this person's again: the others' went out
    deliver(app, now + timedelta(minutes=2))
    subjects = [m["Subject"].split(":")[0] for m in smtp.to(person)]
    assert subjects == ["Invitation", "Updated", "Reminder"]
    assert "Sala 2" in smtp.to(person)[-1].get_body(("plain",)).get_content()


def meeting_details(m: Meeting, **changes) -> MeetingDetails:
    values = dict(
        title=m.title,
        starts_at=m.starts_at,
        ends_at=m.ends_at,
        venue=m.venue,
        online_url=m.online_url,
        agenda_md=m.agenda_md,
    )
    values.update(changes)
    return MeetingDetails(**values)


def test_a_removal_waits_for_a_worker_sending_the_invitation(app: Flask, make: Factory, smtp) -> None:
    """The race: a worker holds the invitation's row while the server is slow; removing the person
    then waits, sees the invitation sent, and queues the cancellation, which leaves after it."""
    w = setup_forum(make)
    person = w["invitees"][0]
    now = datetime.now(UTC)
    meeting_id = plan_meeting(app, w, now + timedelta(days=10))
    schedule(app, w, meeting_id, now)
    release = threading.Event()
    smtp.handler.hold[person] = release
    errors: list[BaseException] = []

    def in_thread(fn):
        def go():
            try:
                fn()
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        thread = threading.Thread(target=go)
        thread.start()
        return thread

    worker = in_thread(lambda: deliver(app, now))
    assert smtp.handler.held.wait(10), "the worker never reached the person's invitation"
    removal = in_thread(lambda: remove_invitee(app, w, meeting_id, person))
    time.sleep(0.5)
    assert removal.is_alive(), "the removal did not wait for the message being sent"
    release.set()
    worker.join(30)
    removal.join(30)
    assert not errors, errors
    deliver(app, now + timedelta(minutes=1))
    received = smtp.to(person)
    assert [calendar_of(m)[0] for m in received] == ["REQUEST", "CANCEL"]
    assert mail_calendar(received) == {}


def test_an_old_invitation_is_never_sent_after_a_newer_message(app: Flask, make: Factory, smtp) -> None:
    """An administrator's retry of an old failed invitation is refused once an update went out;
    a worker that finds one pending anyway (two changes queued at once) withdraws it."""
    w = setup_forum(make)
    person = w["invitees"][0]
    now = datetime.now(UTC)
    start = (now + timedelta(days=10)).replace(microsecond=0)
    meeting_id = plan_meeting(app, w, start)
    smtp.handler.refuse.add(person)
    schedule(app, w, meeting_id, now)
    assert deliver(app, now).failed == 1
    smtp.handler.refuse.clear()
    move(app, w, meeting_id, start + timedelta(hours=1), now)
    deliver(app, now)
    with app.app_context():
        old = db.session.execute(
            select(OutboxMessage).where(OutboxMessage.to_addr == person, OutboxMessage.status == "failed")
        ).scalar_one()
        with pytest.raises(ServiceError, match="newer email"):
            retry_message(_actor(w["admin"]), old)
        delivery.retry(old)  # as if queued again behind the service's back
        db.session.commit()
        db.session.remove()
    report = deliver(app, now + timedelta(minutes=1))
    assert (report.sent, report.superseded) == (0, 1)
    received = smtp.to(person)
    assert len(received) == 1 and calendar_of(received[0])[2:] == (1, start + timedelta(hours=1))


# --- point 3: leaving a forum leaves its calendar ----------------------------------------------------------


def six_meetings(app: Flask, w: dict, now: datetime) -> list[int]:
    """Six upcoming scheduled meetings with the whole forum invited (the first within two days), and a draft."""
    starts = [now + timedelta(hours=30)] + [now + timedelta(days=7 * k) for k in range(1, 6)]
    ids = [plan_meeting(app, w, start.replace(microsecond=0)) for start in starts]
    for meeting_id in ids:
        schedule(app, w, meeting_id, now)
    plan_meeting(app, w, now + timedelta(days=60))  # a draft: its invitees were never told
    return ids


def test_a_removed_member_s_mail_calendar_ends_empty_of_the_forum_s_meetings(app: Flask, make: Factory, smtp) -> None:
    w = setup_forum(make)
    leaver = w["invitees"][0]
    now = datetime.now(UTC)
    meeting_ids = six_meetings(app, w, now)
    deliver(app, now)
    assert len(mail_calendar(smtp.to(leaver))) == 6
    # Still queued when they leave: a reminder of the first meeting (deferred by the server) and,
    # behind it, nothing else; an update of the third meeting, not tried yet.
    with app.app_context(), clock.at(now):
        send_reminders(now)
    defer_next(smtp, leaver)
    deliver(app, now)
    with app.app_context():
        forum_id = w["forum"]
        meeting = db.session.get(Meeting, meeting_ids[2])
        new_start = meeting.starts_at + timedelta(hours=1)
    move(app, w, meeting_ids[2], new_start, now)
    before = len(smtp.received)
    heard_before = len(smtp.to(leaver))

    def leave():
        member = db.session.execute(
            select(ForumMember).join(User).where(ForumMember.forum_id == forum_id, User.email == leaver)
        ).scalar_one()
        forum = member.forum
        return forums.remove_member(_actor(w["organiser"]), forum, member.id)

    run(app, now, leave)
    for minutes in (0, 2, 60 * 24):
        deliver(app, now + timedelta(minutes=minutes))
    after = smtp.to(leaver)[heard_before:]
    # A cancellation for each of the six upcoming meetings, read by both parsers; nothing else.
    assert [m["Subject"].split(":")[0] for m in after] == ["No longer invited"] * 6
    assert sorted(calendar_of(m)[1] for m in after) == sorted(uid_of(app, i) for i in meeting_ids)
    assert mail_calendar(smtp.to(leaver)) == {}
    # The others heard only the update of the third meeting (each their own).
    assert len(smtp.received) - before == 6 + 5
    with app.app_context():
        waiting = db.session.execute(
            select(OutboxMessage.kind).where(OutboxMessage.to_addr == leaver, OutboxMessage.status == "pending")
        ).all()
        withdrawn = set(
            db.session.execute(
                select(OutboxMessage.kind).where(OutboxMessage.to_addr == leaver, OutboxMessage.status == "withdrawn")
            ).scalars()
        )
    assert waiting == [] and withdrawn == {"meeting-reminder", "meeting-update"}


def test_a_deactivated_person_s_mail_calendar_ends_empty_and_nothing_queued_is_sent(
    app: Flask, make: Factory, smtp
) -> None:
    w = setup_forum(make)
    person = w["invitees"][1]
    now = datetime.now(UTC)
    first = plan_meeting(app, w, now + timedelta(days=3))
    schedule(app, w, first, now)
    deliver(app, now)
    second = plan_meeting(app, w, now + timedelta(days=10))
    defer_next(smtp, person)  # this invitation is deferred: it may have reached them
    schedule(app, w, second, now)
    deliver(app, now)
    third = plan_meeting(app, w, now + timedelta(days=20))
    schedule(app, w, third, now)  # queued, not tried: withdrawn without a cancellation
    _action(app, w["forum"], person, now.date(), "Send the list of contacts")
    with app.app_context(), clock.at(now):
        send_reminders(now)  # an action reminder, queued

    def deactivate():
        return accounts.set_active(_actor(w["admin"]), _actor(person), False)

    run(app, now, deactivate)
    for minutes in (0, 2, 60 * 24):
        deliver(app, now + timedelta(minutes=minutes))
    received = smtp.to(person)
    assert [m["Subject"].split(":")[0] for m in received] == ["Invitation", "No longer invited", "No longer invited"]
    assert {calendar_of(m)[1] for m in received[1:]} == {uid_of(app, first), uid_of(app, second)}
    assert mail_calendar(received) == {}
    assert ("action-reminder", "withdrawn") in statuses(app, person)
    assert ("meeting-invitation", "pending") not in statuses(app, person)


def test_a_guest_added_by_mistake_and_removed_still_gets_the_cancellation(app: Flask, make: Factory, smtp) -> None:
    """Removing them closes the unused account made for them (its queued mail withdrawn); the
    cancellation of the meeting they were already sent is queued after that, and goes."""
    w = setup_forum(make)
    guest = "gost@ministarstvo.example"
    with app.app_context():
        forum_id = w["forum"]

    def add_guest():
        forum = db.session.get(Forum, forum_id)
        return forums.add_member(_actor(w["organiser"]), forum, email=guest, role="participant", name="Gost Đurđević")

    now = datetime.now(UTC)
    run(app, now, add_guest)
    meeting_id = plan_meeting(app, w, now + timedelta(days=10))
    schedule(app, w, meeting_id, now)
    deliver(app, now)

    def remove_guest():
        member = db.session.execute(
            select(ForumMember).join(User).where(ForumMember.forum_id == forum_id, User.email == guest)
        ).scalar_one()
        return forums.remove_member(_actor(w["organiser"]), member.forum, member.id)

    run(app, now, remove_guest)
    deliver(app, now + timedelta(minutes=1))
    with app.app_context():
        assert not _actor(guest).active  # the account made by mistake is closed
    received = smtp.to(guest)
    subjects = [m["Subject"].split(":")[0] for m in received]
    assert sorted(subjects[:2]) == ["Invitation", "You have been invited to Forum Desk"]
    assert subjects[2:] == ["No longer invited"]
    assert mail_calendar(received) == {}

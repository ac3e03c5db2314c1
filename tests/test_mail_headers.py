"""Issue 20, point 6: mail that passes spam filters. A Date in UTC written "+0000", a Message-ID
under the sender's domain, and on reminders and notices a List-Unsubscribe link with RFC 8058's
one-click POST that turns that kind of email off, and that kind only.

Messages go through a real SMTP server on loopback and are read back from the raw bytes it got.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import func, select

from forum_app.auth.tokens import email_fingerprint, make_link_token
from forum_app.core import clock
from forum_app.extensions import db
from forum_app.meetings import minutes
from forum_app.meetings import services as meetings
from forum_app.meetings.minutes import MinutesInput
from forum_app.models import AuditEvent, Forum, Meeting, NotificationSettings, OutboxMessage, User
from forum_app.notifications.delivery import build_email
from forum_app.notifications.preferences import unsubscribe_url, wants
from forum_app.notifications.reminders import send_reminders

from .factories import Factory
from .mailserver import Received, SmtpServer
from .test_notifications import _action, _actor, deliver, plan_meeting, run, schedule, setup_forum

ONE_CLICK = "List-Unsubscribe=One-Click"


@pytest.fixture
def smtp(app: Flask):
    server = SmtpServer().start()
    saved = {k: app.config[k] for k in ("MAIL_SERVER", "MAIL_PORT", "MAIL_DELIVERY", "BASE_URL")}
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, MAIL_DELIVERY=True, BASE_URL="https://forum.test")
    yield server
    server.stop()
    app.config.update(saved)


def raw_headers(received: Received) -> dict[str, str]:
    """The message's header lines as they went over the wire (unfolded), by lower-case name."""
    head = received.raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    unfolded = re.sub(r"\r\n[ \t]", " ", head)
    return {name.lower(): value for name, _sep, value in (line.partition(": ") for line in unfolded.split("\r\n"))}


def by_kind(app: Flask, received: list[Received]) -> dict[str, Received]:
    """The messages by their outbox kind (read from the X-Forum-Desk-Outbox header); one of each."""
    with app.app_context():
        kinds = [db.session.get(OutboxMessage, int(r.message["X-Forum-Desk-Outbox"])).kind for r in received]
    assert len(set(kinds)) == len(kinds), kinds
    return dict(zip(kinds, received, strict=True))


def link_path(received: Received) -> str:
    return urlsplit(raw_headers(received)["list-unsubscribe"][1:-1]).path


def everything_for(app: Flask, make: Factory) -> tuple[dict, datetime]:
    """The participant gets an invitation, a meeting reminder, an action reminder and a minutes notice."""
    w = setup_forum(make)
    now = datetime.now(UTC)
    soon = plan_meeting(app, w, now + timedelta(hours=30))
    schedule(app, w, soon, now)
    held_start = now - timedelta(days=3)
    held = plan_meeting(app, w, held_start)
    schedule(app, w, held, held_start - timedelta(days=10))

    def write_and_circulate():
        meeting = db.session.get(Meeting, held)
        actor = _actor(w["organiser"])
        meetings.change_state(actor, meeting, "held", meeting.version)
        minutes.save_minutes(actor, meeting, MinutesInput("Zapisnik", ["Odluka 1"]), base_revision=0)
        minutes.circulate(actor, meeting, meeting.minutes_revision)

    run(app, held_start + timedelta(hours=4), write_and_circulate)
    _action(app, w["forum"], w["participant"], now.date() + timedelta(days=1), "Prepare the referral protocol")
    with app.app_context(), clock.at(now):
        send_reminders(now)
    return w, now


# --- Date and Message-ID --------------------------------------------------------------------------------


def test_date_is_utc_written_plus_0000_and_message_id_is_under_the_sender_s_domain(
    app: Flask, make: Factory, smtp
) -> None:
    saved = app.config["MAIL_DEFAULT_SENDER"]
    # A display name with a comma and a non-ASCII letter: parseaddr-style splitting gets this wrong.
    app.config["MAIL_DEFAULT_SENDER"] = '"Forum Desk, Vijeće Evrope" <desk@forum.example.org>'
    try:
        w, _now = everything_for(app, make)
        deliver(app)
    finally:
        app.config["MAIL_DEFAULT_SENDER"] = saved
    assert len(smtp.received) >= 10
    for received in smtp.received:
        headers = raw_headers(received)
        assert re.fullmatch(r"\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000", headers["date"]), headers["date"]
        assert received.message["Date"].datetime.utcoffset() == timedelta(0)
        assert re.fullmatch(r"<[^@<>\s]+@forum\.example\.org>", headers["message-id"]), headers["message-id"]
        assert received.mail_from == "desk@forum.example.org"
    assert len({raw_headers(r)["message-id"] for r in smtp.received}) == len(smtp.received)


@pytest.mark.parametrize(
    ("sender", "domain"),
    [
        ("Forum Desk <desk@šipovo.ba>", "xn--ipovo-udb.ba"),  # an international domain, in IDNA
        ("forum-desk", "forum.test"),  # no domain at all: BASE_URL's host, never the machine's name
    ],
)
def test_message_id_domain_never_falls_back_to_the_host_name(app: Flask, make: Factory, sender, domain) -> None:
    w = make.world()
    saved = app.config["MAIL_DEFAULT_SENDER"], app.config["BASE_URL"]
    app.config.update(MAIL_DEFAULT_SENDER=sender, BASE_URL="https://forum.test/desk")
    try:
        with app.app_context():
            user = _actor(w["participant"])
            message = OutboxMessage(kind="test", to_addr=user.email, to_user=user, subject="S", body_text="B")
            email = build_email(message)
            db.session.rollback()
    finally:
        app.config["MAIL_DEFAULT_SENDER"], app.config["BASE_URL"] = saved
    assert email["Message-ID"].endswith(f"@{domain}>")


# --- List-Unsubscribe -------------------------------------------------------------------------------------


def test_reminders_and_notices_carry_one_click_unsubscribe_and_invitations_do_not(
    app: Flask, make: Factory, smtp
) -> None:
    w, _now = everything_for(app, make)
    deliver(app)
    mine = by_kind(app, smtp.to_raw(w["participant"]))
    assert set(mine) == {"meeting-invitation", "meeting-reminder", "action-reminder", "minutes-circulated"}
    links = set()
    for kind, received in mine.items():
        headers = raw_headers(received)
        if kind == "meeting-invitation":
            assert "list-unsubscribe" not in headers and "list-unsubscribe-post" not in headers
            continue
        # One line, the link in angle brackets as typed: no RFC 2047 words a provider would not decode.
        assert re.fullmatch(r"<https://forum\.test/unsubscribe/[\w.-]+>", headers["list-unsubscribe"]), headers
        assert headers["list-unsubscribe-post"] == ONE_CLICK
        links.add(headers["list-unsubscribe"])
    assert len(links) == 3  # one per kind


def test_without_https_the_link_is_kept_but_no_one_click_is_offered(app: Flask, make: Factory) -> None:
    """RFC 8058 asks for an https link; a development BASE_URL (http) gets the plain RFC 2369 header."""
    w = make.world()
    with app.app_context():
        user = _actor(w["participant"])
        message = OutboxMessage(
            kind="meeting-reminder",
            to_addr=user.email,
            to_user=user,
            subject="S",
            body_text="B",
            list_unsubscribe=unsubscribe_url(user, "meeting_reminders", "en"),
        )
        email = build_email(message)
        db.session.rollback()
    assert str(email["List-Unsubscribe"]).startswith("<http://forum.test/unsubscribe/")
    assert email["List-Unsubscribe-Post"] is None


def _settings(app: Flask, email: str) -> tuple[bool, bool, bool] | None:
    with app.app_context():
        row = db.session.execute(
            select(NotificationSettings).join(User, User.id == NotificationSettings.user_id).where(User.email == email)
        ).scalar_one_or_none()
        return None if row is None else (row.meeting_reminders, row.action_reminders, row.minutes_notices)


def _unsubscribe_events(app: Flask) -> list[tuple[int, dict]]:
    with app.app_context():
        return [
            (actor_id, data)
            for actor_id, data in db.session.execute(
                select(AuditEvent.actor_id, AuditEvent.data).where(AuditEvent.verb == "account.unsubscribe")
            ).all()
        ]


def test_one_click_turns_off_that_kind_of_email_only(app: Flask, make: Factory, smtp) -> None:
    w, now = everything_for(app, make)
    deliver(app)
    person = w["participant"]
    mine = by_kind(app, smtp.to_raw(person))
    path = link_path(mine["meeting-reminder"])
    client = app.test_client()  # not signed in, no form token: a mail provider, or a scanner
    # A GET (a scanner opening the link) only asks.
    page = client.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Reminders of my meetings in the next two days" in html and 'method="post"' in html
    assert _settings(app, person) is None and _unsubscribe_events(app) == []
    # The provider's one-click POST (RFC 8058): the body it sends, nothing else.
    response = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200 and "You will no longer receive these emails" in response.get_data(as_text=True)
    assert _settings(app, person) == (False, True, True)
    assert _unsubscribe_events(app) == [(make.user_id(person), {"choice": "meeting_reminders"})]
    # Again: nothing changes, nothing is recorded.
    again = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert again.status_code == 200 and "already turned off" in again.get_data(as_text=True)
    assert len(_unsubscribe_events(app)) == 1
    # The next reminders: no meeting reminder for them; their action reminder still comes.
    with app.app_context():
        user = _actor(person)
        assert not wants(user, "meeting_reminders") and wants(user, "action_reminders")
    later = plan_meeting(app, w, now + timedelta(hours=40))
    schedule(app, w, later, now)
    with app.app_context(), clock.at(now):
        send_reminders(now)
        queued = db.session.execute(
            select(OutboxMessage.kind, func.count())
            .where(OutboxMessage.to_addr == person, OutboxMessage.status == "pending")
            .group_by(OutboxMessage.kind)
        ).all()
    assert dict(queued) == {"meeting-invitation": 1}
    # The minutes notice's link turns minutes notices off, and only them.
    client.post(link_path(mine["minutes-circulated"]))
    assert _settings(app, person) == (False, True, False)


def test_the_page_speaks_the_email_s_language(app: Flask, make: Factory, smtp) -> None:
    """The link carries the language its email was written in: the person's choice, else the forum's."""
    w = setup_forum(make)
    with app.app_context():
        db.session.get(Forum, w["forum"]).language = "mk"
        _actor(w["invitees"][0]).locale = "bs"
        db.session.commit()
    now = datetime.now(UTC)
    schedule(app, w, plan_meeting(app, w, now + timedelta(hours=30)), now)
    with app.app_context(), clock.at(now):
        send_reminders(now)
    deliver(app)
    for person, code, label in (
        (w["participant"], "mk", "Потсетници за моите средби во следните два дена"),
        (w["invitees"][0], "bs", "Podsjetnici na moje sastanke u naredna dva dana"),
    ):
        path = link_path(by_kind(app, smtp.to_raw(person))["meeting-reminder"])
        client = app.test_client()
        for response in (client.get(path), client.post(path, data={"List-Unsubscribe": "One-Click"})):
            html = response.get_data(as_text=True)
            assert response.status_code == 200 and f'<html lang="{code}"' in html and label in html, person


def test_a_bad_link_changes_nothing(app: Flask, make: Factory) -> None:
    w = make.world()
    person = w["participant"]
    with app.app_context():
        user = _actor(person)
        good = urlsplit(unsubscribe_url(user, "action_reminders", "en")).path
        token = good.rsplit("/", 1)[1]
        old = make_link_token(
            "unsubscribe",
            ("user", user.id),
            expires_at=None,
            bind=f"action_reminders en {email_fingerprint(user)}",
            now=datetime.now(UTC) - timedelta(days=400),
        )
        other = make_link_token("action-confirm", ("action", 1), expires_at=datetime.now(UTC) + timedelta(1), bind=None)
    client = app.test_client()
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for bad, status in ((tampered, 404), (other, 404), ("not-a-token", 404), (old, 410)):
        for response in (client.get(f"/unsubscribe/{bad}"), client.post(f"/unsubscribe/{bad}")):
            assert response.status_code == status, bad
            assert "This link cannot be used" in response.get_data(as_text=True)
    # Sent to an address the account no longer uses: whoever reads that mailbox has no say.
    with app.app_context():
        _actor(person).email = "new.address@example.org"
        db.session.commit()
    assert client.post(good).status_code == 404
    assert _settings(app, "new.address@example.org") is None and _unsubscribe_events(app) == []

"""Shared by the inbound mail tests (test_inbound.py, test_inbound_mailbox.py): the two ways a message
comes in, the meeting the samples in tests/mail_samples/ answer, and what the tests compare.

Loaded as a plugin by tests/conftest.py for its fixtures (``imap_server``, ``transport``,
``reply_address``); the inbound test modules use ``reply_address`` for every test.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

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


@pytest.fixture(scope="session")
def imap_server():
    server = ImapServer().start()
    yield server
    server.stop()


@pytest.fixture
def reply_address(app: Flask):
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

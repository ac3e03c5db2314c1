"""Acting on a received message: record the calendar answer, pass a written reply on, mark a bounce.

``receive(raw, source)`` keeps the message (``ReceivedMail``) with its outcome and does what
it asks, in the caller's transaction: it flushes and never commits (the CLI commits through
``core.commit.attempt``; the IMAP reader deletes a message from the mailbox only after that).

A calendar answer (iTIP REPLY, RFC 5546) is matched to an invitation by the meeting's UID
and the ATTENDEE's address, and checked in this order:

1. the same bytes were received before: a duplicate, nothing changes (a replayed or
   re-fetched message never flips an answer given since);
2. the plus-address, when there is one, names the same meeting as the UID;
3. the From address is the attendee's (else refused: kept for the organisers, not applied);
4. it answers the meeting's current SEQUENCE (an answer to an earlier version is ignored);
5. DELEGATED is shown to the organisers, not recorded as an answer;
6. of two answers to the same version, the one written later (DTSTAMP) wins;
7. then it is recorded through the same service as the emailed RSVP link
   (``notifications.services.answer_from_link``: the same rules and audit trail), its
   COMMENT kept as the answer's comment.

Anything else addressed to a meeting is a written reply: a note on the meeting page and an
email to its organisers, in their language. The From header is only what the sender wrote:
the mail server in front of the mailbox must reject mail that fails SPF/DKIM/DMARC
(docs/operations.md), and an answer is only ever recorded for the address it came from.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from typing import cast

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import CursorResult, delete, select

from .. import permissions
from ..core import audit
from ..core.clock import utcnow
from ..extensions import db
from ..models import GrantTeam, Invitation, Meeting, OutboxMessage, ReceivedMail, User
from .addresses import is_ours, meeting_tag, normal_address
from .parse import Answer, CalendarReply, Received, read, storable

HEADERS_KEPT = 64 * 1024  # of a message too large to keep whole
ANSWERS = {"ACCEPTED": "accepted", "TENTATIVE": "tentative", "DECLINED": "declined"}


def receive(raw: bytes, source: str, *, size: int | None = None, now: datetime | None = None) -> ReceivedMail:
    """Keep ``raw`` and act on it. ``size`` is the message's real size when ``raw`` is only its
    beginning (the IMAP reader fetches just the headers of a message over the limit). Flushes."""
    now = now or utcnow()
    size = max(size or 0, len(raw))
    mail = ReceivedMail(
        received_at=now, source=source, size=size, digest=hashlib.sha256(raw).hexdigest(), raw=raw, data={}
    )
    if size > current_app.config["INBOUND_MAX_BYTES"]:
        _too_large(mail, raw)
    else:
        _act(mail, read(raw), now)
    _storable(mail)
    db.session.add(mail)
    audit.record(
        None,
        "mail.receive",
        mail,
        f"{source}: from {mail.from_addr or 'unknown'}: {mail.outcome}" + (f" ({mail.reason})" if mail.reason else ""),
        # The audit's outcome says whether the message was let in; what it did is its result.
        outcome="refused" if mail.outcome.startswith("refused") else "ok",
        result=mail.outcome,
        reason=mail.reason,
        meeting_id=mail.meeting_id,
    )
    return mail


def _clean(value):
    """Text a database can hold (``parse.storable``), in dicts and lists too."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _storable(mail: ReceivedMail) -> None:
    for name in ("message_id", "from_addr", "from_name", "subject", "reason", "answer", "text"):
        setattr(mail, name, _clean(getattr(mail, name) or ""))
    mail.data = _clean(mail.data or {})


def _too_large(mail: ReceivedMail, raw: bytes) -> None:
    end = raw.find(b"\r\n\r\n")
    end = raw.find(b"\n\n") if end < 0 else end
    head = raw[: end if 0 <= end < HEADERS_KEPT else HEADERS_KEPT]
    mail.raw = head
    mail.digest = hashlib.sha256(head).hexdigest()
    parsed = read(head)
    _describe(mail, parsed)
    mail.outcome = "too-large"
    meeting = _tagged_meeting(parsed)
    mail.meeting_id = meeting.id if meeting is not None else None


def _describe(mail: ReceivedMail, parsed: Received) -> None:
    mail.from_addr = parsed.from_addr[:254]
    mail.from_name = parsed.from_name[:200]
    mail.subject = parsed.subject[:300]
    mail.message_id = parsed.message_id[:255]


def _act(mail: ReceivedMail, parsed: Received, now: datetime) -> None:
    _describe(mail, parsed)
    earlier = db.session.execute(
        select(ReceivedMail).where(ReceivedMail.digest == mail.digest).order_by(ReceivedMail.id).limit(1)
    ).scalar_one_or_none()
    if earlier is not None:
        mail.outcome, mail.reason = "duplicate", "same-message"
        mail.meeting_id, mail.user_id, mail.answer = earlier.meeting_id, earlier.user_id, earlier.answer
        mail.data = {"earlier": earlier.id}
    elif parsed.report:
        _bounce(mail, parsed)
    elif is_ours(parsed.from_addr):
        # Our own mail come back (a forwarding loop): acting on it could only repeat itself.
        mail.outcome, mail.reason = "ignored", "own-message"
    elif parsed.calendar is not None and parsed.calendar.method == "REPLY":
        _reply(mail, parsed, parsed.calendar)
    else:
        _note(mail, parsed)


# --- calendar answers --------------------------------------------------------------------------------


def _tagged_meeting(parsed: Received) -> Meeting | None:
    tag = meeting_tag(parsed.recipients)
    return db.session.get(Meeting, tag) if tag is not None else None


def _reply(mail: ReceivedMail, parsed: Received, reply: CalendarReply) -> None:
    meeting = db.session.execute(select(Meeting).where(Meeting.ical_uid == reply.uid)).scalar_one_or_none()
    tagged = _tagged_meeting(parsed)
    if meeting is None:
        mail.outcome, mail.reason = "unmatched", "unknown-event"
        mail.meeting_id = tagged.id if tagged is not None else None
        return
    mail.meeting_id = meeting.id
    tag = meeting_tag(parsed.recipients)
    if tag is not None and tag != meeting.id:
        mail.outcome, mail.reason = "unmatched", "other-meeting"
        mail.data = {"addressed_to": tag}
        return
    invitees = {normal_address(inv.user.email): inv for inv in meeting.invitations}
    answer = next((a for a in reply.answers if a.address in invitees), None)
    if answer is None:
        mail.outcome, mail.reason = "unmatched", "not-invited"
        mail.data = {"attendees": [a.address for a in reply.answers][:10]}
        mail.answer = reply.answers[0].partstat.lower()[:16] if reply.answers else ""
        return
    invitation = invitees[answer.address]
    mail.user_id = invitation.user_id
    mail.answer = answer.partstat.lower()[:16]
    mail.text = answer.comment
    mail.data = {"sequence": reply.sequence, "current": meeting.ical_sequence}
    if reply.dtstamp is not None:
        mail.data["dtstamp"] = reply.dtstamp.isoformat()
    if parsed.from_addr != answer.address:
        mail.outcome = "refused-sender"
        mail.data["attendee"] = answer.address
    elif reply.sequence < meeting.ical_sequence:
        mail.outcome = "ignored-old-sequence"
    elif answer.partstat == "DELEGATED":
        mail.outcome = "delegated"
        mail.data["delegated_to"] = answer.delegated_to
    elif answer.partstat not in ANSWERS:
        mail.outcome, mail.reason = "ignored", "no-answer"
    elif _superseded(invitation, reply):
        mail.outcome, mail.reason = "ignored", "superseded"
    elif permissions.rsvp_lock(meeting):
        mail.outcome, mail.reason = "ignored", "closed"
    else:
        mail.outcome = "applied" if _record(invitation, answer) else "duplicate"


def _superseded(invitation: Invitation, reply: CalendarReply) -> bool:
    """An answer already recorded from the calendar was written after this one (RFC 5546 §2.1.5: DTSTAMP
    orders answers to the same SEQUENCE; mail does not arrive in order)."""
    if reply.dtstamp is None:
        return False
    recorded = db.session.execute(
        select(ReceivedMail.data)
        .where(
            ReceivedMail.meeting_id == invitation.meeting_id,
            ReceivedMail.user_id == invitation.user_id,
            ReceivedMail.outcome.in_(("applied", "duplicate")),
        )
        .order_by(ReceivedMail.id.desc())
        .limit(20)
    ).scalars()
    for data in recorded:
        stamp = (data or {}).get("dtstamp")
        if stamp and data.get("sequence") == reply.sequence and datetime.fromisoformat(stamp) > reply.dtstamp:
            return True
    return False


def _record(invitation: Invitation, answer: Answer) -> bool:
    """The answer through the RSVP link's service; a calendar that sends no comment keeps the one on record."""
    from ..notifications.services import answer_from_link

    comment = answer.comment or invitation.rsvp_comment
    return answer_from_link(invitation, ANSWERS[answer.partstat], comment)


# --- bounces -------------------------------------------------------------------------------------------


def _bounce(mail: ReceivedMail, parsed: Received) -> None:
    report = parsed.bounce
    if report is None:
        mail.outcome, mail.reason = "unmatched", "unreadable-report"
        return
    mail.text = " ".join(part for part in (report.status, report.diagnostic) if part)[:1000]
    mail.data = {"action": report.action, "recipient": report.recipient, "status": report.status}
    sent = db.session.get(OutboxMessage, report.outbox_id) if report.outbox_id is not None else None
    if sent is None:
        mail.outcome, mail.reason = "unmatched", "unknown-message"
        return
    mail.outbox_message_id = sent.id
    mail.meeting_id = sent.meeting_id
    mail.user_id = sent.to_user_id
    if report.action == "failed":
        mail.outcome = "bounce"
    else:  # "delayed" (still trying), "delivered", "relayed": nothing failed
        mail.outcome, mail.reason = "ignored", "delivery-report"


# --- written replies -----------------------------------------------------------------------------------


def _note(mail: ReceivedMail, parsed: Received) -> None:
    meeting = _tagged_meeting(parsed)
    mail.text = redact_links(parsed.text)
    if parsed.calendar is not None:
        mail.data = {"method": parsed.calendar.method[:16]}  # e.g. COUNTER: a new time proposed
    if meeting is None:
        mail.outcome, mail.reason = "unmatched", "no-meeting"
        return
    mail.meeting_id = meeting.id
    sender = next((inv.user for inv in meeting.invitations if normal_address(inv.user.email) == parsed.from_addr), None)
    mail.user_id = sender.id if sender is not None else None
    if parsed.automatic:
        # Out-of-office and the like: on the page, but never answered with more mail (RFC 3834).
        mail.outcome = "auto-reply"
        return
    mail.outcome = "note"
    _storable(mail)
    _tell_organisers(meeting, mail)


def redact_links(text: str) -> str:
    """The reply without the personal links of our email it may quote (an RSVP link acts for its invitee)."""
    base = re.escape(current_app.config["BASE_URL"].rstrip("/"))
    return re.sub(base + r"/\S*", "[…]", text)


def organisers(meeting: Meeting) -> list[User]:
    """Who hears of a written reply: the grant's team, else whoever planned the meeting."""
    team = list(
        db.session.execute(
            select(User)
            .join(GrantTeam, GrantTeam.user_id == User.id)
            .where(GrantTeam.grant_id == meeting.forum.grant_id, User.active.is_(True))
            .order_by(User.id)
        ).scalars()
    )
    if not team and meeting.created_by is not None and meeting.created_by.active:
        team = [meeting.created_by]
    return team


def _tell_organisers(meeting: Meeting, mail: ReceivedMail) -> None:
    from ..calendar.ics import meeting_url
    from ..notifications.meetings import subject_date
    from ..notifications.outbox import in_language_of, queue_email

    db.session.flush()
    sender = f"{mail.from_name} <{mail.from_addr}>" if mail.from_name else mail.from_addr
    for organiser in organisers(meeting):
        with in_language_of(organiser, meeting.forum):
            subject = _(
                "Reply from %(sender)s: %(forum)s, %(day)s",
                sender=mail.from_name or mail.from_addr,
                forum=meeting.forum.title,
                day=subject_date(meeting),
            )
        # Plain text only, and no meeting_id: the organiser's own reply goes to the person who wrote
        # (named in the body), not back into this meeting's mailbox.
        queue_email(
            "received-note",
            organiser,
            subject,
            "received_note",
            forum=meeting.forum,
            meeting_obj=meeting,
            sender=sender,
            subject_line=mail.subject,
            text=mail.text,
            meeting_url=meeting_url(meeting) + "#received-mail",
        )


# --- retention --------------------------------------------------------------------------------------


def purge_expired(now: datetime | None = None) -> int:
    """Delete received messages older than ``INBOUND_RETENTION_DAYS``; how many. Flushes."""
    cutoff = (now or utcnow()) - timedelta(days=current_app.config["INBOUND_RETENTION_DAYS"])
    result = db.session.execute(
        delete(ReceivedMail).where(ReceivedMail.received_at < cutoff).execution_options(synchronize_session=False)
    )
    return cast(CursorResult, result).rowcount

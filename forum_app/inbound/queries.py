"""What the meeting page shows organisers of the mail received about the meeting: one query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..core.rows import Into
from ..extensions import db
from ..models import ReceivedMail, User
from ..vocab import RECEIVED_OUTCOMES, RSVP_STATES

PAGE_LIMIT = 50  # the latest; older ones stay in the database until their retention ends

REASONS = {
    "same-message": _l("This message was received before."),
    "own-message": _l("Forum Desk's own message came back."),
    "unknown-event": _l("It answers an event Forum Desk does not know."),
    "other-meeting": _l("It was sent to another meeting's address."),
    "not-invited": _l("It answers for someone who is not invited."),
    "no-answer": _l("It carries no answer."),
    "superseded": _l("A later answer from the calendar was already recorded."),
    "closed": _l("Answers are closed for this meeting."),
    "delivery-report": _l("A delivery report: nothing failed."),
    "unknown-message": _l("It reports an email Forum Desk cannot find."),
    "unreadable-report": _l("The delivery report could not be read."),
    "no-meeting": _l("It was not sent to a meeting's address."),
}


@dataclass(slots=True, frozen=True)
class ReceivedRow:
    id: int
    received_at: datetime
    from_addr: str
    from_name: str
    subject: str
    outcome: str
    reason: str
    answer: str
    text: str
    data: dict
    person: str | None  # the invitee it concerns, by name

    @property
    def label(self) -> str:
        return str(RECEIVED_OUTCOMES.get(self.outcome, self.outcome))

    @property
    def detail(self) -> str:
        """One sentence on why, in the reader's language (the data is stored, the words are not)."""
        data = self.data or {}
        if self.outcome in ("applied", "duplicate") and self.answer in RSVP_STATES:
            return str(RSVP_STATES[self.answer])
        if self.outcome == "delegated":
            return _("Delegated to %(address)s.", address=data.get("delegated_to") or "?")
        if self.outcome == "refused-sender":
            return _(
                "Sent from %(sender)s, answering for %(attendee)s.",
                sender=self.from_addr or "?",
                attendee=data.get("attendee", "?"),
            )
        if self.outcome == "ignored-old-sequence":
            return _(
                "It answers version %(sequence)s; the invitation is at version %(current)s.",
                sequence=data.get("sequence", "?"),
                current=data.get("current", "?"),
            )
        if self.reason in REASONS:
            return str(REASONS[self.reason])
        return ""


def received_for(meeting_id: int) -> list[ReceivedRow]:
    """The latest mail received about the meeting, newest first, as plain rows."""
    return list(
        db.session.execute(
            select(
                Into(
                    ReceivedRow,
                    ReceivedMail.id,
                    ReceivedMail.received_at,
                    ReceivedMail.from_addr,
                    ReceivedMail.from_name,
                    ReceivedMail.subject,
                    ReceivedMail.outcome,
                    ReceivedMail.reason,
                    ReceivedMail.answer,
                    ReceivedMail.text,
                    ReceivedMail.data,
                    User.name,
                )
            )
            .select_from(ReceivedMail)
            .outerjoin(User, User.id == ReceivedMail.user_id)
            .where(ReceivedMail.meeting_id == meeting_id)
            .order_by(ReceivedMail.id.desc())
            .limit(PAGE_LIMIT)
        ).scalars()
    )

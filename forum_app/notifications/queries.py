"""What organisers see of email delivery on the meeting page: one query per page."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import Meeting, OutboxMessage, ReceivedMail
from .meetings import INVITATION_KINDS

LABELS = {
    "pending": _l("email waiting"),
    "retrying": _l("email delayed"),
    "sent": _l("email sent"),
    "failed": _l("email failed"),
    "withdrawn": _l("email withdrawn"),
    "bounced": _l("email bounced"),
}


@dataclass(frozen=True)
class DeliveryState:
    state: str  # pending, retrying, sent, failed, withdrawn, bounced
    kind: str
    last_error: str

    @property
    def label(self) -> str:
        return str(LABELS[self.state])


def delivery_states(meeting: Meeting, invitations) -> dict[int, DeliveryState]:
    """invitation id → the delivery state of the latest invitation/update/cancellation sent to that invitee
    (``invitations``: the meeting's, as anything with ``id`` and ``user_id``).

    "bounced": the latest was sent, and a delivery report said one of them did not arrive (inbound:
    a server's "250 OK" only means it took the message, so a later bounce overrules "sent")."""
    bounce = (
        select(ReceivedMail.text)
        .where(ReceivedMail.outbox_message_id == OutboxMessage.id, ReceivedMail.outcome == "bounce")
        .order_by(ReceivedMail.id)
        .limit(1)
        .correlate(OutboxMessage)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(
            OutboxMessage.to_user_id,
            OutboxMessage.status,
            OutboxMessage.attempts,
            OutboxMessage.kind,
            OutboxMessage.last_error,
            bounce,
        )
        .where(OutboxMessage.meeting_id == meeting.id, OutboxMessage.kind.in_(INVITATION_KINDS))
        .order_by(OutboxMessage.id)
    ).all()
    latest = {}
    bounced: dict[int, str] = {}
    for user_id, status, attempts, kind, last_error, bounce_text in rows:
        state = "retrying" if status == "pending" and attempts else status
        if bounce_text is not None:
            bounced[user_id] = bounce_text
        if state == "sent" and user_id in bounced:
            state, last_error = "bounced", bounced[user_id]
        latest[user_id] = DeliveryState(state, kind, last_error or "")
    return {inv.id: latest[inv.user_id] for inv in invitations if inv.user_id in latest}

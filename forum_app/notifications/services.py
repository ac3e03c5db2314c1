"""Changes made from links in emails (no one is signed in) and by the outbox page."""

from __future__ import annotations

from flask_babel import gettext as _

from .. import permissions
from ..core import audit
from ..core.errors import ServiceError
from ..meetings import services as meetings
from ..models import Invitation, OutboxMessage, User
from .delivery import retry
from .meetings import RSVP_ANSWERS


def answer_from_link(invitation: Invitation, answer: str, comment: str = "") -> bool:
    """The invitee's answer given through their RSVP link. Returns whether anything changed:
    the same answer (and comment) again records nothing, not even a new time."""
    if answer not in RSVP_ANSWERS:
        raise ServiceError(_("Choose yes, maybe or no."), field="answer")
    comment = comment.strip()[:500]
    permissions.ensure(permissions.rsvp_lock(invitation.meeting))
    if invitation.rsvp == answer and invitation.rsvp_comment == comment:
        return False
    meetings.respond(invitation.user, invitation.meeting, answer, comment)
    return True


def retry_message(actor: User, message: OutboxMessage) -> None:
    """An administrator sends a failed (or waiting) email again now."""
    permissions.require(permissions.can_view_outbox(actor))
    if message.status == "withdrawn":
        raise ServiceError(_("A withdrawn email is never sent."))
    retry(message)
    audit.record(actor, "outbox.retry", message, f"Retry email #{message.id} to {message.to_addr}")

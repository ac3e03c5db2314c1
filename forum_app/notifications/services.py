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
from .ordering import newer_calendar_message
from .preferences import CHOICES, settings_for


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
    if newer_calendar_message(message) is not None:
        # Sent now, an old invitation would undo the newer update or cancellation in their calendar.
        raise ServiceError(_("A newer email about this meeting replaced this one: it is not sent again."))
    retry(message)
    audit.record(actor, "outbox.retry", message, f"Retry email #{message.id} to {message.to_addr}")


def unsubscribe_from_link(user: User, choice: str) -> bool:
    """One kind of email (a key of CHOICES) turned off from the link in one of them, no one signed in.

    Returns whether anything changed: turning off what is off records nothing.
    """
    if choice not in CHOICES:
        raise ValueError(f"unknown email choice {choice!r}")
    settings = settings_for(user)
    if settings is not None and not getattr(settings, choice):
        return False
    settings = settings or settings_for(user, create=True)
    setattr(settings, choice, False)
    audit.record(user, "account.unsubscribe", user, f"Turned off {choice} from an email's link", choice=choice)
    return True

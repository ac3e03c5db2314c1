"""Which emails a person chose to receive. Invitations (and their updates and
cancellations) are not a choice: they are how a person learns where to be.

Each email of a kind a person can turn off carries a link that turns that kind off
(``List-Unsubscribe``, RFC 8058 one-click): signed for that person, that kind and the address
it was sent to, and carrying the email's language so its page speaks it.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, overload

from flask_babel import lazy_gettext as _l

from ..auth.tokens import LinkError, LinkProblem, email_fingerprint, make_link_token, read_link_token
from ..core import language
from ..core.urls import external_url
from ..extensions import db
from ..models import NotificationSettings, User

# The choices, in the order the profile page lists them.
CHOICES = {
    "meeting_reminders": _l("Reminders of my meetings in the next two days"),
    "action_reminders": _l("Reminders of my actions due in the next three days, and of overdue ones"),
    "minutes_notices": _l("Minutes circulated for comments"),
}
# The outbox kinds each choice governs: these emails carry the link that turns their kind off.
CHOICE_OF_KIND = {
    "meeting-reminder": "meeting_reminders",
    "action-reminder": "action_reminders",
    "minutes-circulated": "minutes_notices",
}


@overload
def settings_for(user: User, create: Literal[True]) -> NotificationSettings: ...
@overload
def settings_for(user: User, create: bool = False) -> NotificationSettings | None: ...
def settings_for(user: User, create: bool = False) -> NotificationSettings | None:
    settings = db.session.get(NotificationSettings, user.id)
    if settings is None and create:
        settings = NotificationSettings(
            user_id=user.id, meeting_reminders=True, action_reminders=True, minutes_notices=True
        )
        db.session.add(settings)
    return settings


def wants(user: User, choice: str) -> bool:
    """Whether ``user`` receives emails of ``choice`` (a key of CHOICES); no row: yes."""
    if choice not in CHOICES:
        raise ValueError(f"unknown email choice {choice!r}")
    settings = settings_for(user)
    return True if settings is None else bool(getattr(settings, choice))


# --- the "stop these emails" link --------------------------------------------------------------


@dataclass(frozen=True)
class UnsubscribeLink:
    user: User
    choice: str  # a key of CHOICES
    language: str  # the language the email was written in


def unsubscribe_url(user: User, choice: str, language_code: str) -> str:
    """The link in ``user``'s emails of ``choice`` (written in ``language_code``) that turns them off."""
    if choice not in CHOICES:
        raise ValueError(f"unknown email choice {choice!r}")
    bind = f"{choice} {language_code} {email_fingerprint(user)}"
    token = make_link_token("unsubscribe", ("user", user.id), expires_at=None, bind=bind)
    return external_url("notifications.unsubscribe", token=token)


def read_unsubscribe_link(token: str, now: datetime) -> UnsubscribeLink:
    """What a valid link says; raises LinkError. A link sent to an address the account no
    longer uses is not valid: whoever reads that mailbox now has no say."""
    link = read_link_token(token, "unsubscribe", now)
    user: User = link.subject
    choice, _space, rest = (link.bind or "").partition(" ")
    code, _space, fingerprint = rest.partition(" ")
    if choice not in CHOICES or not hmac.compare_digest(fingerprint, email_fingerprint(user)):
        raise LinkError(LinkProblem.INVALID)
    return UnsubscribeLink(user, choice, language.known(code) or language.DEFAULT)

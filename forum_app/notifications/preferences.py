"""Which emails a person chose to receive. Invitations (and their updates and
cancellations) are not a choice: they are how a person learns where to be."""

from __future__ import annotations

from typing import Literal, overload

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import NotificationSettings, User

# The choices, in the order the profile page lists them.
CHOICES = {
    "meeting_reminders": _l("Reminders of my meetings in the next two days"),
    "action_reminders": _l("Reminders of my actions due in the next three days, and of overdue ones"),
    "minutes_notices": _l("Minutes circulated for comments"),
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

"""Notifications: the outbox, email rendering, the delivery worker, reminders, RSVP from email.

The meeting services call the hooks below at the end of a change; each only queues
outbox rows in the same transaction.
"""

from .meetings import (  # noqa: F401
    account_deactivated,
    invitee_removed,
    invitees_added,
    meeting_changed,
    meeting_state_changed,
    member_left,
    minutes_circulated,
)

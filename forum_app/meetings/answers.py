"""Invitees' answers when the meeting they answered changes.

A yes is a yes to one date and time. When the time changes, the meeting is rescheduled in
iTIP's sense (RFC 5546; RFC 6638 3.2.8: a change of DTSTART or DTEND resets every attendee's
PARTSTAT to NEEDS-ACTION): the update asks everyone again, PARTSTAT=NEEDS-ACTION with RSVP=TRUE,
and calendar clients show the event as unanswered. Kept, an old yes would travel in the update
as PARTSTAT=ACCEPTED for a day the person never agreed to, count in the page's totals, and be
marked present by "mark everyone who accepted as present". A new room or link is the same
appointment: its answers stand.
"""

from __future__ import annotations

from ..core import audit
from ..core.clock import utcnow
from ..models import Meeting, User


def reset_answers(actor: User, meeting: Meeting) -> int:
    """Every answer back to "no answer yet", and the meeting stamped as rescheduled now.

    Called by ``services.update_meeting`` before the update is queued, so each invitee's copy
    carries their answer as it now stands. The earlier answer and its comment stay in the audit
    trail, one ``meeting.rsvp`` event per person like every other RSVP change (here by the
    organiser, with ``reason="rescheduled"``). Returns how many answers were reset.
    """
    meeting.rescheduled_at = utcnow()
    reset = 0
    for invitation in meeting.invitations:
        if invitation.rsvp == "needs-action":
            continue
        previous, comment = invitation.rsvp, invitation.rsvp_comment
        # The comment went with the old answer ("I'll be late"): it would mislead beside no answer.
        invitation.rsvp, invitation.rsvp_comment, invitation.rsvp_at = "needs-action", "", None
        audit.record(
            actor,
            "meeting.rsvp",
            meeting,
            f"{invitation.user.email}: needs-action (was {previous}; the time changed)",
            answer="needs-action",
            user_id=invitation.user_id,
            previous=previous,
            previous_comment=comment,
            reason="rescheduled",
        )
        reset += 1
    return reset

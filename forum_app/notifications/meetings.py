"""Emails about meetings: invitations, updates, cancellations, minutes circulated.

The meeting services call these at the end of a change (``notifications.meeting_scheduled``
and friends, re-exported by the package); they only queue outbox rows in the same
transaction, so an email exists exactly when its change was committed.

Every invitee gets a message of their own (never one message to many): their own RSVP
links, their own ATTENDEE line, their own time zone next to the forum's.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select

from ..auth.tokens import make_link_token
from ..calendar import ics
from ..core.clock import utcnow
from ..core.dates import format_day, format_span, same_clock
from ..core.urls import external_url
from ..extensions import db
from ..models import Forum, Invitation, Meeting, OutboxMessage, User
from . import ordering
from .ordering import INVITATION_KINDS  # noqa: F401 (imported from here by others)
from .outbox import calendar_attachment, in_language_of, queue_email
from .preferences import wants

RSVP_ANSWERS = ("accepted", "tentative", "declined")


def subject_date(meeting: Meeting) -> str:
    """The meeting's local date for a subject line: "Wed, 30 Jun 2021"."""
    return format_day(meeting.starts_at.astimezone(ZoneInfo(meeting.forum.timezone)).date(), weekday=True)


def rsvp_links(invitation: Invitation) -> dict[str, str]:
    """One link per answer; each opens a confirmation page (a GET never answers). Valid until the meeting ends."""
    token = make_link_token("rsvp", ("invitation", invitation.id), expires_at=invitation.meeting.ends_at, bind=None)
    return {answer: external_url("notifications.rsvp", token=token, answer=answer) for answer in RSVP_ANSWERS}


class When(TypedDict):
    """A meeting's time for an email: in the forum's zone, and in the recipient's own when its clock differs."""

    when: str
    when_own: str | None


def _when(meeting: Meeting, user) -> When:
    zone = user.timezone
    own = None
    if zone and zone != meeting.forum.timezone and not same_clock(meeting, zone, meeting.forum.timezone):
        own = format_span(meeting, zone)
    return {"when": format_span(meeting), "when_own": own}


def _ensure_id(meeting: Meeting) -> None:
    if meeting.id is None:
        db.session.flush()


def _send_calendar(
    meeting: Meeting, invitation: Invitation, change: str, now: datetime, *, answer_again: bool = False
) -> OutboxMessage:
    """Queue one invitee's invitation ("invitation"), update ("update"), cancellation or removal.

    It states the meeting as it now is, so what still waits for this person about it goes
    (``ordering.supersede``): the last message they get is the true one. ``answer_again``: an
    update to a new date or time, whose answers were reset; the email says so.
    """
    _ensure_id(meeting)
    ordering.supersede(invitation.user.id, meeting.id)
    with in_language_of(invitation.user, meeting.forum):
        return _send_calendar_now(meeting, invitation, change, now, answer_again)


def _send_calendar_now(
    meeting: Meeting, invitation: Invitation, change: str, now: datetime, answer_again: bool = False
) -> OutboxMessage:
    method = "CANCEL" if change in ("cancellation", "removal") else "REQUEST"
    calendar = ics.invitation_calendar(meeting, invitation, method, now)
    forum, day = meeting.forum.title, subject_date(meeting)
    subjects = {
        "invitation": _("Invitation: %(forum)s, %(day)s", forum=forum, day=day),
        "update": _("Updated: %(forum)s, %(day)s", forum=forum, day=day),
        "cancellation": _("Cancelled: %(forum)s, %(day)s", forum=forum, day=day),
        "removal": _("No longer invited: %(forum)s, %(day)s", forum=forum, day=day),
    }
    links = rsvp_links(invitation) if method == "REQUEST" else {}
    kind = {"invitation": "meeting-invitation", "update": "meeting-update"}.get(change, "meeting-cancellation")
    return queue_email(
        kind,
        invitation.user,
        subjects[change],
        "meeting",
        meeting=meeting,
        calendar=calendar_attachment(calendar, method),
        meeting_obj=meeting,
        forum=meeting.forum,
        change=change,
        rsvp=links,
        invitation=invitation,
        meeting_url=ics.meeting_url(meeting),
        organiser=meeting.created_by,
        answer_again=answer_again,
        **_when(meeting, invitation.user),
    )


def _active_invitations(meeting: Meeting, invitations=None) -> list[Invitation]:
    return [inv for inv in (meeting.invitations if invitations is None else invitations) if inv.user.active]


def meeting_scheduled(meeting: Meeting) -> None:
    """The meeting became visible to its invitees: each gets an invitation (SEQUENCE as it stands)."""
    _ensure_id(meeting)
    now = utcnow()
    for invitation in _active_invitations(meeting):
        _send_calendar(meeting, invitation, "invitation", now)


def meeting_changed(meeting: Meeting, changes) -> None:
    """Time, place, link or title of a scheduled meeting changed: everyone gets the update (same UID, new SEQUENCE)."""
    from ..meetings.services import CALENDAR_FIELDS, TIME_FIELDS

    if meeting.state != "scheduled" or not set(changes) & set(CALENDAR_FIELDS):
        return
    now = utcnow()
    answer_again = bool(set(changes) & set(TIME_FIELDS))  # the services reset the answers (meetings.answers)
    for invitation in _active_invitations(meeting):
        _send_calendar(meeting, invitation, "update", now, answer_again=answer_again)


def meeting_cancelled(meeting: Meeting) -> None:
    """A meeting invitees had seen is cancelled: METHOD:CANCEL with STATUS:CANCELLED to each."""
    if meeting.published_at is None:
        return  # a draft nobody was sent
    now = utcnow()
    for invitation in _active_invitations(meeting):
        _send_calendar(meeting, invitation, "cancellation", now)


def meeting_state_changed(meeting: Meeting, previous: str) -> None:
    """The hook at the end of ``meetings.services.change_state``."""
    if meeting.state == "scheduled" and previous == "draft":
        meeting_scheduled(meeting)
    elif meeting.state == "cancelled" and previous != "draft":
        meeting_cancelled(meeting)


def invitees_added(meeting: Meeting, invitations: list[Invitation], closed_too: bool = False) -> None:
    """People added to a scheduled meeting are invited, they alone (the others hear nothing).

    ``closed_too``: a closed account the organiser's grant does not know still gets its invitation,
    as any typed address does, so the organiser's page reads the same (meetings.services.add_invitee).
    """
    if meeting.state != "scheduled":
        return  # a draft's invitees hear when it is scheduled
    db.session.flush()  # the invitations need their ids for the RSVP links
    now = utcnow()
    for invitation in invitations if closed_too else _active_invitations(meeting, invitations):
        _send_calendar(meeting, invitation, "invitation", now)


def invitee_removed(meeting: Meeting, invitation: Invitation) -> None:
    """An invitee taken off the list: whatever still waits for them about the meeting is withdrawn
    (a deferred invitation too); if a calendar message may have reached them, they get a
    cancellation (METHOD:CANCEL) so the event leaves their calendar.

    The withdrawal comes first: it waits for a worker sending one of these messages, and the
    check that follows then sees it sent.
    """
    ordering.withdraw_pending(invitation.user_id, [meeting.id], "withdrawn: no longer invited")
    if meeting.state == "scheduled" and ordering.may_have_reached(invitation.user_id, meeting.id):
        _send_calendar(meeting, invitation, "removal", utcnow())


def member_left(forum: Forum, user: User, invitations: list[Invitation]) -> None:
    """A member removed from ``forum``, losing ``invitations`` (to its meetings still to come):
    nothing more is sent to them about the forum's meetings (invitations, reminders, minutes
    notices), and each upcoming meeting that may be in their calendar is cancelled there."""
    meeting_ids = select(Meeting.id).where(Meeting.forum_id == forum.id)
    ordering.withdraw_pending(user.id, meeting_ids, "withdrawn: no longer a member of the forum")
    for invitation in invitations:
        invitee_removed(invitation.meeting, invitation)


def account_deactivated(user: User, invitations: list[Invitation]) -> None:
    """A deactivated account, losing ``invitations`` (to meetings still to come): nothing still
    waiting is sent to it, and each upcoming meeting that may be in its calendar is cancelled there."""
    ordering.withdraw_all_pending(user.id, "withdrawn: account deactivated")
    for invitation in invitations:
        invitee_removed(invitation.meeting, invitation)


def minutes_circulated(meeting: Meeting) -> None:
    """The minutes are circulated for comments: the invitees who want to hear get a notice."""
    for invitation in _active_invitations(meeting):
        if not wants(invitation.user, "minutes_notices"):
            continue
        with in_language_of(invitation.user, meeting.forum):
            _minutes_notice(meeting, invitation)


def _minutes_notice(meeting: Meeting, invitation: Invitation) -> None:
    day = subject_date(meeting)
    queue_email(
        "minutes-circulated",
        invitation.user,
        _("Minutes to read: %(forum)s, %(day)s", forum=meeting.forum.title, day=day),
        "minutes_circulated",
        meeting=meeting,
        meeting_obj=meeting,
        forum=meeting.forum,
        version=meeting.minutes_shared_revision,
        meeting_url=ics.meeting_url(meeting) + "#minutes",
        account_url=external_url("account.profile"),
        **_when(meeting, invitation.user),
    )

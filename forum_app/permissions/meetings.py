"""Meetings: who sees and runs them, and the state rules that say why something cannot be done now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from ..core import language
from ..core.clock import utcnow
from ..models import Forum, Meeting
from ..vocab import MEETING_STATES
from .enforce import _load, _within_reach
from .forums import can_edit_forum, can_view_forum
from .roles import _authenticated, is_staff, member_forum_ids, organiser_grant_ids


def can_view_meeting(user, meeting: Meeting) -> bool:
    forum = meeting.forum
    if meeting.published_at is None:
        # Drafts (and drafts cancelled before anyone saw them) are the organisers' own.
        return is_staff(user) or can_edit_forum(user, forum)
    # Guests invited from outside the forum see the meeting, not the forum.
    return can_view_forum(user, forum) or is_invitee(user, meeting)


def can_edit_meeting(user, meeting: Meeting) -> bool:
    return can_edit_forum(user, meeting.forum)


def is_invitee(user, meeting: Meeting) -> bool:
    if not _authenticated(user):
        return False
    return any(inv.user_id == user.id for inv in meeting.invitations)


def reads_everything(user, meeting: Meeting) -> bool:
    """Organisers and staff read work in progress (unshared minutes versions, RSVPs)."""
    return is_staff(user) or can_edit_meeting(user, meeting)


# --- state rules: why something cannot be done to a meeting now (None: it can) --------------

# Which state may follow which. Cancelled is final; a held meeting stays held.
MEETING_TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"scheduled", "cancelled"}),
    "scheduled": frozenset({"held", "cancelled"}),
    "held": frozenset(),
    "cancelled": frozenset(),
}


def meeting_details_lock(meeting: Meeting) -> str | None:
    """The meeting's own details (time, place, agenda) are locked once it is cancelled or its record adopted."""
    if meeting.state == "cancelled":
        return _("A cancelled meeting cannot be edited.")
    if meeting.minutes_state == "adopted":
        return _("The minutes of this meeting are adopted: its record is locked.")
    return None


def transition_lock(meeting: Meeting, to_state: str, now: datetime | None = None) -> str | None:
    if to_state not in MEETING_STATES:
        return _("Unknown meeting state.")
    if to_state not in MEETING_TRANSITIONS[meeting.state]:
        return _(
            "A %(state)s meeting cannot become %(to)s.",
            state=str(MEETING_STATES[meeting.state]).lower(),
            to=str(MEETING_STATES[to_state]).lower(),
        )
    if to_state == "held" and meeting.starts_at > (now or utcnow()):
        return _("The meeting has not started yet; mark it held once it has taken place.")
    if to_state == "scheduled" and not (meeting.venue.strip() or meeting.online_url.strip()):
        # A draft may lack them; invitees may not be sent a meeting with nowhere to go.
        return _("Give a venue or an online link before scheduling the meeting.")
    return None


def invitees_lock(meeting: Meeting) -> str | None:
    if meeting.state in ("held", "cancelled"):
        return _("The invitee list of a held or cancelled meeting is closed.")
    return None


def rsvp_lock(meeting: Meeting) -> str | None:
    if meeting.state != "scheduled":
        return _("Answers are closed: the meeting is %(state)s.", state=str(MEETING_STATES[meeting.state]).lower())
    return None


def attendance_lock(meeting: Meeting) -> str | None:
    if meeting.state != "held":
        return _("Attendance is recorded once the meeting is marked as held.")
    if meeting.minutes_state == "adopted":
        return _("The minutes are adopted: attendance is part of the locked record.")
    return None


def minutes_lock(meeting: Meeting) -> str | None:
    if meeting.state != "held":
        return _("Minutes are written once the meeting is marked as held.")
    return None


def circulate_lock(meeting: Meeting) -> str | None:
    if meeting.minutes_state == "adopted":
        return _("The minutes are adopted; corrections are shared as they are recorded.")
    if meeting.minutes_revision == 0:
        return _("Write the minutes first.")
    if meeting.minutes_revision == meeting.minutes_shared_revision:
        return _("This version has already been circulated.")
    return None


def adopt_lock(meeting: Meeting) -> str | None:
    if meeting.minutes_state == "adopted":
        return _("The minutes are already adopted.")
    if meeting.minutes_revision == 0:
        return _("Write the minutes first.")
    if meeting.minutes_shared_revision != meeting.minutes_revision:
        # Adopting locks what the invitees were able to read and comment on, nothing newer.
        return _(
            "Version %(n)d has not been circulated. Circulate it first, so the invitees see what is adopted.",
            n=meeting.minutes_revision,
        )
    return None


def adoption_way_lock(meeting: Meeting) -> str | None:
    """A forum that adopts minutes at its next meeting adopts them there, on that meeting's agenda item."""
    if meeting.forum.minutes_adoption == "next_meeting":
        return _("This forum adopts its minutes at the next meeting: plan it, and adopt them there.")
    return None


def meeting_day_lock(meeting: Meeting, now: datetime | None = None) -> str | None:
    """The "During the meeting" page records a meeting that is scheduled or held and has started,
    until its record is adopted (like the follow-up review, which it includes)."""
    if meeting.state not in ("scheduled", "held"):
        return _("A meeting is recorded once it is scheduled and has started.")
    if meeting.starts_at > (now or utcnow()):
        return _("The meeting has not started yet: record it here once it has begun.")
    if meeting.minutes_state == "adopted":
        return _("The minutes are adopted: the meeting's record is locked.")
    return None


def draft_minutes_lock(meeting: Meeting) -> str | None:
    """Minutes are drafted from the meeting's record once it is held, and until they are adopted."""
    lock = minutes_lock(meeting)
    if lock is not None:
        return lock
    if meeting.minutes_state == "adopted":
        return _("The minutes are adopted: record a correction on the minutes page instead.")
    return None


def plan_next_lock(meeting: Meeting) -> str | None:
    """The next meeting is planned from a held one (its page offers it)."""
    if meeting.state != "held":
        return _("The next meeting is planned once this one is held.")
    return None


# --- meeting answers: role and state together -----------------------------------------------


def can_edit_meeting_details(user, meeting: Meeting) -> bool:
    return can_edit_meeting(user, meeting) and meeting_details_lock(meeting) is None


def allowed_transitions(user, meeting: Meeting) -> list[str]:
    """The states this person may move the meeting to now (sorted, for stable buttons)."""
    if not can_edit_meeting(user, meeting):
        return []
    now = utcnow()
    # "Held" is offered once the meeting has started; before that the button would only refuse.
    return sorted(to for to in MEETING_TRANSITIONS[meeting.state] if to != "held" or meeting.starts_at <= now)


def can_manage_invitees(user, meeting: Meeting) -> bool:
    return can_edit_meeting(user, meeting) and invitees_lock(meeting) is None


def guest_organisation_lock(user, meeting: Meeting) -> str | None:
    """Who may add an organisation to Forum Desk while inviting a guest to ``meeting``: whoever may
    invite people to it now (its organisers, admins). Organisations are otherwise the administrators'
    to keep; a guest's agency missing from the list should not wait for one. They can merge or rename it."""
    if not can_manage_invitees(user, meeting):
        return _("Only the meeting's organisers can add an organisation while inviting someone.")
    return None


def can_rsvp(user, meeting: Meeting) -> bool:
    """Invitees answer while the meeting is planned (not for drafts, held or cancelled ones)."""
    return rsvp_lock(meeting) is None and is_invitee(user, meeting)


def can_see_rsvps(user, meeting: Meeting) -> bool:
    return reads_everything(user, meeting)


def can_see_received_mail(user, meeting: Meeting) -> bool:
    """Replies, refused answers and bounces received about the meeting: what people wrote to its organisers."""
    return reads_everything(user, meeting)


def can_print_sign_in_sheet(user, meeting: Meeting) -> bool:
    """The printable sign-in sheet lists who was invited: organisers print it, staff may read it."""
    return reads_everything(user, meeting)


def can_record_attendance(user, meeting: Meeting) -> bool:
    return can_edit_meeting(user, meeting) and attendance_lock(meeting) is None


def can_write_minutes(user, meeting: Meeting) -> bool:
    return can_edit_meeting(user, meeting) and minutes_lock(meeting) is None


def can_circulate_minutes(user, meeting: Meeting) -> bool:
    return can_edit_meeting(user, meeting) and circulate_lock(meeting) is None


def can_adopt_minutes(user, meeting: Meeting) -> bool:
    """Adopt here, by circulation (a forum adopting at the next meeting does it on that meeting's page)."""
    return can_edit_meeting(user, meeting) and adopt_lock(meeting) is None and adoption_way_lock(meeting) is None


def can_record_meeting(user, meeting: Meeting) -> bool:
    """The organisers' "During the meeting" page: attendance, agenda items, actions, review, draft minutes."""
    return can_edit_meeting(user, meeting) and meeting_day_lock(meeting) is None


def can_plan_next_meeting(user, meeting: Meeting) -> bool:
    return can_edit_meeting(user, meeting) and plan_next_lock(meeting) is None


def can_view_minutes(user, meeting: Meeting) -> bool:
    """Draft minutes: organisers (and staff). Circulated: also the invitees. Adopted: all who see the meeting.

    Beyond organisers and staff, only shared versions are ever shown (see meetings.minutes).
    """
    if not can_view_meeting(user, meeting) or meeting.minutes_revision == 0:
        return False
    if reads_everything(user, meeting):
        return True
    if meeting.minutes_shared_revision == 0:
        return False
    if meeting.minutes_state == "circulated":
        return is_invitee(user, meeting)
    return meeting.minutes_state == "adopted"


def can_read_confidential(user, meeting: Meeting) -> bool:
    """Confidential content of ``meeting`` (items marked confidential: their titles, notes and decisions, and the
    confidential part of the minutes): the forum's organisers (its grant's team) and the people recorded present
    at that meeting. Not programme staff, not admins outside the grant's team, not absent invitees; machines
    (exports, the API, feeds, emails, the news) never ask: they only ever read the public version."""
    if not _authenticated(user) or not can_view_meeting(user, meeting):
        return False
    if meeting.forum.grant_id in organiser_grant_ids(user):
        return True
    return any(inv.user_id == user.id and inv.attendance == "present" for inv in meeting.invitations)


def can_mark_decisions_public(user, meeting: Meeting) -> bool:
    """Who marks an item's decisions public (for the news) or an item confidential: whoever records the meeting
    and may read its confidential content (an admin outside the grant's team records, but not these)."""
    return can_record_meeting(user, meeting) and can_read_confidential(user, meeting)


def can_comment_minutes(user, meeting: Meeting) -> bool:
    """Attendees (present) and organisers comment on circulated minutes."""
    if meeting.minutes_state != "circulated" or not can_view_minutes(user, meeting):
        return False
    if can_edit_meeting(user, meeting):
        return True
    return any(inv.user_id == user.id and inv.attendance == "present" for inv in meeting.invitations)


@dataclass(frozen=True)
class MeetingFlags:
    """Every answer the meeting pages need, computed once for one person and one meeting."""

    can_edit: bool  # organiser of the meeting (may run it at all)
    can_view_forum: bool  # the forum's page, board and matrix open for this person (not for a guest)
    can_add_guest_organisation: bool  # may name a new organisation when inviting a guest
    can_edit_details: bool
    transitions: tuple[str, ...]
    can_mark_held: bool
    can_manage_invitees: bool
    can_rsvp: bool
    can_see_rsvps: bool
    can_see_received_mail: bool
    can_record_attendance: bool
    can_view_minutes: bool
    can_write_minutes: bool
    can_circulate: bool
    can_adopt: bool
    can_comment: bool
    reads_everything: bool  # organisers and staff: latest minutes, unshared versions
    shows_attendance: bool  # the meeting took place: attendance and minutes sections exist
    minutes_edit_kind: str  # what editing the minutes means now: "write", "edit" or "correct"
    can_record_meeting: bool = False  # the "During the meeting" page
    can_plan_next: bool = False  # "Plan the next meeting" from this (held) one
    # The minutes' writer is told they are adopted at the next meeting (the forum's way), until they are.
    shows_adopt_at_next: bool = False
    # May read the confidential items and the minutes' confidential part (organisers, people present).
    reads_confidential: bool = False
    can_mark_public: bool = False  # mark items confidential, decisions public (the "During the meeting" page)
    can_print_sign_in: bool = False  # the printable sign-in sheet (organisers; staff read it)


def meeting_flags(user, meeting: Meeting) -> MeetingFlags:
    transitions = tuple(allowed_transitions(user, meeting))
    return MeetingFlags(
        can_edit=can_edit_meeting(user, meeting),
        can_view_forum=can_view_forum(user, meeting.forum),
        can_add_guest_organisation=guest_organisation_lock(user, meeting) is None,
        can_edit_details=can_edit_meeting_details(user, meeting),
        transitions=transitions,
        can_mark_held="held" in transitions,
        can_manage_invitees=can_manage_invitees(user, meeting),
        can_rsvp=can_rsvp(user, meeting),
        can_see_rsvps=can_see_rsvps(user, meeting),
        can_see_received_mail=can_see_received_mail(user, meeting),
        can_record_attendance=can_record_attendance(user, meeting),
        can_view_minutes=can_view_minutes(user, meeting),
        can_write_minutes=can_write_minutes(user, meeting),
        can_circulate=can_circulate_minutes(user, meeting),
        can_adopt=can_adopt_minutes(user, meeting),
        can_comment=can_comment_minutes(user, meeting),
        reads_everything=reads_everything(user, meeting),
        shows_attendance=meeting.state == "held",
        minutes_edit_kind=(
            "correct" if meeting.minutes_state == "adopted" else "edit" if meeting.minutes_revision else "write"
        ),
        can_record_meeting=can_record_meeting(user, meeting),
        can_plan_next=can_plan_next_meeting(user, meeting),
        reads_confidential=can_read_confidential(user, meeting),
        can_mark_public=can_mark_decisions_public(user, meeting),
        shows_adopt_at_next=(
            adoption_way_lock(meeting) is not None
            and can_write_minutes(user, meeting)
            and meeting.minutes_state != "adopted"
        ),
        can_print_sign_in=can_print_sign_in_sheet(user, meeting),
    )


def visible_meetings(user) -> Select:
    """A SELECT of the meetings ``user`` may see (unpublished ones only for their organisers and staff)."""
    return _within_reach(
        user,
        select(Meeting).join(Meeting.forum),
        lambda invited: (
            Forum.grant_id.in_(organiser_grant_ids(user))
            | ((Forum.id.in_(member_forum_ids(user)) | Meeting.id.in_(invited)) & Meeting.published_at.is_not(None))
        ),
    )


def load_meeting(user, meeting_id: int, need: str = "view", options=()) -> Meeting:
    meeting = _load(
        user,
        select(Meeting).where(Meeting.id == meeting_id).options(joinedload(Meeting.forum), *options),
        need,
        can_view_meeting,
        can_edit_meeting,
    )
    language.use_forum(meeting.forum)
    return meeting

"""Meetings: planning, state changes, invitees, RSVP and attendance.

Services flush, write the audit trail, and never commit; ``core.commit.attempt`` commits
once. State rules come from ``permissions`` (``ensure(permissions.…_lock(meeting))``), so
the page that offers a button and the service that acts on it share one answer. Time
comes from ``core.clock``, so the demo and tests can run these same services in the past.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import CursorResult, select, update

from .. import notifications, permissions
from ..actions.services import agenda_with_review
from ..admin import services as organisations
from ..admin.services import OrganisationInput
from ..auth import services as accounts
from ..auth.services import find_user_by_email
from ..core import audit, language
from ..core.clock import utcnow
from ..core.dates import format_day, format_local
from ..core.errors import ConflictError, NotPermitted, ServiceError
from ..core.markdown import render_for_storage
from ..core.times import local_to_utc, utc_to_local
from ..extensions import db
from ..models import Forum, ForumMember, GrantTeam, Invitation, Meeting, User, WalkInAttendee
from ..permissions import ensure
from ..vocab import ATTENDANCE_STATES, RSVP_STATES, country_name
from . import answers, day

# Fields an invitee's calendar shows: changing one bumps the iCalendar SEQUENCE.
CALENDAR_FIELDS = ("title", "starts_at", "ends_at", "venue", "online_url")
# Changing one of these asks every invitee again (RFC 5546 rescheduling); a new room or link does not.
TIME_FIELDS = ("starts_at", "ends_at")
MAX_MEETING_LENGTH = timedelta(days=14)


@dataclass
class MeetingDetails:
    title: str
    starts_at: datetime
    ends_at: datetime
    venue: str
    online_url: str
    agenda_md: str

    def __post_init__(self) -> None:
        # One form of line ending, so an unchanged save compares equal to what is stored.
        self.agenda_md = self.agenda_md.replace("\r\n", "\n").replace("\r", "\n")

    def validate(self) -> None:
        if self.ends_at <= self.starts_at:
            raise ServiceError(_("The meeting must end after it starts."), field="end_time")
        if self.ends_at - self.starts_at > MAX_MEETING_LENGTH:
            # Bounded so a month's calendar reads one index range (see queries.calendar_month).
            raise ServiceError(
                ngettext(
                    "A meeting lasts at most %(num)d day.",
                    "A meeting lasts at most %(num)d days.",
                    MAX_MEETING_LENGTH.days,
                ),
                field="end_time",
            )
        if self.online_url and not self.online_url.lower().startswith(("https://", "http://")):
            raise ServiceError(_("The online link must start with https:// or http://."), field="online_url")


# Our language codes where the holidays library names them differently (its "sr" is Cyrillic).
HOLIDAY_LANGUAGES = {"en": "en_US", "sr-Cyrl": "sr"}


def planning_warnings(forum: Forum, details: MeetingDetails) -> list[str]:
    """Things worth a second look, that do not stop a meeting being planned: it is in the past,
    outside the grant's period, or on a public holiday in the forum's country."""
    warnings = []
    local_day = utc_to_local(details.starts_at, forum.timezone).date()
    if details.starts_at < utcnow():
        warnings.append(_("This meeting is in the past. Check the date if you are planning a future one."))
    grant = forum.grant
    if (grant.starts_on and local_day < grant.starts_on) or (grant.ends_on and local_day > grant.ends_on):
        warnings.append(
            _(
                "The date is outside the grant's period (%(start)s – %(end)s).",
                start=grant.starts_on or "…",
                end=grant.ends_on or "…",
            )
        )
    import holidays  # 3 MB: only where meetings are planned, not in every worker from the start

    try:
        # The holiday's name in the reader's language where the library has it, else in the country's own.
        known = holidays.country_holidays(forum.country).supported_languages
        wanted = HOLIDAY_LANGUAGES.get(language.current_code(), language.current_code())
        holiday = holidays.country_holidays(
            forum.country, years=local_day.year, language=wanted if wanted in known else None
        ).get(local_day)
    except NotImplementedError:  # a country the library does not know: nothing to warn about
        holiday = None
    if holiday:
        warnings.append(
            _(
                "%(day)s is a public holiday in %(country)s: %(name)s.",
                day=format_day(local_day),
                country=country_name(forum.country),
                name=holiday,
            )
        )
    return warnings


def new_ical_uid() -> str:
    """A globally unique, stable UID for the meeting's calendar event (RFC 5545)."""
    host = current_app.config["BASE_URL"].split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "forum-desk"
    return f"{uuid.uuid4()}@{host}"


def create_meeting(
    actor: User,
    forum: Forum,
    details: MeetingDetails,
    invitee_ids: list[int] | None = None,
    *,
    ical_uid: str | None = None,
) -> Meeting:
    """A draft meeting. Every forum member is invited unless ``invitee_ids`` says otherwise.

    ``ical_uid`` is for data with its own stable identity (the demo); by default a new UID is made.
    """
    details.validate()
    agenda_html = render_for_storage(details.agenda_md, field="agenda_md")  # refused here if over budget
    meeting = Meeting(
        forum=forum,
        state="draft",
        ical_uid=ical_uid or new_ical_uid(),
        created_by=actor,
        agenda_html=agenda_html,
        **vars(details),
    )
    db.session.add(meeting)
    if invitee_ids is None:
        # The members, and the grant's organisers: the grant holder is at the table too, so it
        # appears in attendance and head-counts.
        invitee_ids = list(
            db.session.execute(select(ForumMember.user_id).where(ForumMember.forum_id == forum.id)).scalars()
        )
        invitee_ids += list(
            db.session.execute(
                select(GrantTeam.user_id).where(GrantTeam.grant_id == forum.grant_id).order_by(GrantTeam.user_id)
            ).scalars()
        )
    active = set(db.session.execute(select(User.id).where(User.id.in_(invitee_ids), User.active.is_(True))).scalars())
    for user_id in dict.fromkeys(invitee_ids):  # keeps order, drops repeats
        if user_id in active:
            meeting.invitations.append(Invitation(user_id=user_id))
    audit.record(actor, "meeting.create", meeting, f"Planned {details.title}", forum_id=forum.id)
    return meeting


@dataclass(frozen=True)
class NextMeetingPlan:
    """What "plan the next meeting" proposes: copied from ``source``, not saved until the organiser saves."""

    source: Meeting
    details: MeetingDetails
    invitee_ids: list[int]


def source_for_next_meeting(forum: Forum) -> Meeting | None:
    """The meeting the next one follows on from: the last one held, else the last one planned."""
    for states in (("held",), ("scheduled", "draft")):
        found = db.session.execute(
            select(Meeting)
            .where(Meeting.forum_id == forum.id, Meeting.state.in_(states))
            .order_by(Meeting.starts_at.desc())
            .limit(1)
        ).scalar_one_or_none()
        if found is not None:
            return found
    return None


def plan_next_meeting(forum: Forum, source: Meeting | None = None) -> NextMeetingPlan:
    """A proposal for the meeting after ``source`` (by default the last one held): the same venue,
    link and agenda, 13 weeks on at the same local clock time, and its invitees who are still
    active members (guests are invited again by hand). Nothing is written."""
    source = source or source_for_next_meeting(forum)
    if source is None or source.forum_id != forum.id:
        raise ServiceError(_("This forum has no meeting to follow on from yet. Plan its first meeting."))
    start = _same_local_time_later(source.starts_at, forum.timezone)
    details = MeetingDetails(
        title=_("Follow-up meeting"),
        starts_at=start,
        ends_at=start + (source.ends_at - source.starts_at),
        venue=source.venue,
        online_url=source.online_url,
        agenda_md=agenda_with_review(source.agenda_md),
    )
    if adopts_minutes_of(source):
        details.agenda_md = day.agenda_with_item(details.agenda_md, day.adoption_title(source))
    members = set(
        db.session.execute(
            select(ForumMember.user_id)
            .join(ForumMember.user)
            .where(ForumMember.forum_id == forum.id, User.active.is_(True))
        ).scalars()
    )
    invitees = [inv.user_id for inv in source.invitations if inv.user_id in members]
    return NextMeetingPlan(source, details, invitees)


def adopts_minutes_of(source: Meeting) -> bool:
    """The next meeting adopts ``source``'s minutes: its forum adopts them at the next meeting, and they are
    not adopted yet (a later "next meeting" of the same held one adds the item again only if still needed)."""
    return (
        source.forum.minutes_adoption == "next_meeting" and source.state == "held" and source.minutes_state != "adopted"
    )


def create_next_meeting(actor: User, forum: Forum, details: MeetingDetails, source: Meeting) -> Meeting:
    """Save the organiser's version of the plan: a draft inviting the source meeting's members."""
    plan = plan_next_meeting(forum, source)
    meeting = create_meeting(actor, forum, details, invitee_ids=plan.invitee_ids)
    if adopts_minutes_of(source):
        db.session.flush()  # the item names the new meeting
        day.add_adoption_item(meeting, source)
    audit.record(actor, "meeting.plan_next", meeting, f"Planned after meeting {source.id}", previous_id=source.id)
    return meeting


def _same_local_time_later(previous_start: datetime, zone_name: str) -> datetime:
    """The first date 13, 26, … weeks after ``previous_start`` that is in the future, at the
    same local clock time (10:00 stays 10:00 across a daylight-saving change)."""
    local = utc_to_local(previous_start, zone_name)
    now = utcnow()
    day = local.date()
    while True:
        day += timedelta(weeks=13)  # forums typically meet every three months
        try:
            start = local_to_utc(day, local.time().replace(tzinfo=None), zone_name, field="start_time", fold=0)
        except ServiceError:  # the clock time falls in a daylight-saving gap that day: an hour later
            start = local_to_utc(
                day,
                (datetime.combine(day, local.time()) + timedelta(hours=1)).time(),
                zone_name,
                field="start_time",
                fold=0,
            )
        if start > now:
            return start


def calendar_values(meeting: Meeting) -> dict:
    """The fields an invitee's calendar shows, as they are now (to say afterwards what changed)."""
    return {name: getattr(meeting, name) for name in CALENDAR_FIELDS}


def update_meeting(actor: User, meeting: Meeting, details: MeetingDetails, expected_version: int) -> Meeting:
    """Save edits made on a form that was opened at ``expected_version``.

    If someone saved in between, nothing is written and ConflictError lists what they
    changed, so the person decides instead of silently overwriting.
    """
    ensure(permissions.meeting_details_lock(meeting))
    if meeting.version != expected_version:
        raise ConflictError(
            _(
                "Someone else saved this meeting after you opened the form. Your changes were not saved: "
                "compare them with the saved version below, then edit again."
            ),
            _differences(meeting, details),
        )
    details.validate()
    # Rendered before anything changes, so a refused agenda leaves the meeting as it was.
    agenda_html = (
        render_for_storage(details.agenda_md, field="agenda_md")
        if details.agenda_md != meeting.agenda_md
        else meeting.agenda_html
    )
    changes = audit.apply_changes(meeting, **vars(details))
    if not changes:
        return meeting
    meeting.agenda_html = agenda_html
    if meeting.state != "draft" and any(name in changes for name in CALENDAR_FIELDS):
        meeting.ical_sequence += 1
    audit.record(actor, "meeting.update", meeting, f"Updated {meeting.title}", changes=sorted(changes))
    if meeting.state == "scheduled" and any(name in changes for name in TIME_FIELDS):
        # Before the update is queued: each invitee's copy carries the answer as it now stands.
        answers.reset_answers(actor, meeting)
    notifications.meeting_changed(meeting, changes)
    return meeting


def _differences(meeting: Meeting, details: MeetingDetails) -> list[tuple[str, str, str]]:
    zone = meeting.forum.timezone
    labels = {
        "title": _("Title"),
        "starts_at": _("Starts"),
        "ends_at": _("Ends"),
        "venue": _("Venue"),
        "online_url": _("Online link"),
        "agenda_md": _("Agenda"),
    }
    rows = []
    for name, label in labels.items():
        saved, yours = getattr(meeting, name), getattr(details, name)
        if saved != yours:
            if isinstance(saved, datetime):
                saved, yours = format_local(saved, zone), format_local(yours, zone)
            rows.append((label, str(saved), str(yours)))
    return rows


def change_state(actor: User, meeting: Meeting, to_state: str, expected_version: int, reason: str = "") -> Meeting:
    if meeting.version != expected_version:
        raise ConflictError(_("Someone else changed this meeting after you opened the page. Check it and try again."))
    ensure(permissions.transition_lock(meeting, to_state))
    if to_state == "cancelled":
        reason = reason.strip()
        if not reason:
            raise ServiceError(_("Say why the meeting is cancelled; invitees will read it."), field="reason")
        meeting.cancel_reason = reason
    previous = meeting.state
    meeting.state = to_state
    if to_state == "scheduled" and meeting.published_at is None:
        meeting.published_at = utcnow()
    if to_state == "cancelled" and previous != "draft":
        meeting.ical_sequence += 1
    audit.record(actor, f"meeting.{to_state}", meeting, f"{previous} → {to_state}", reason=reason)
    notifications.meeting_state_changed(meeting, previous)
    return meeting


# --- invitees ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class InviteeInput:
    email: str
    name: str = ""  # used when the address is new to Forum Desk: a guest account is created
    organisation_id: int | None = None
    # A guest's organisation not yet in Forum Desk, added in the same step (None: none named).
    new_organisation: OrganisationInput | None = None


def add_invitee(actor: User, meeting: Meeting, data: InviteeInput) -> Invitation:
    """Invite the person with this address: a member, someone with an account, or a new guest.

    A new address gets a guest account (and its set-password email) in the same step.
    The organiser's answer is the same whether or not the address already had an account,
    so inviting is no way to find out who uses Forum Desk.
    """
    ensure(permissions.invitees_lock(meeting))
    user = find_user_by_email(data.email)
    # An account the grant does not know answers exactly as a new address does (issue 22 point 5):
    # the organiser's name is needed and shown; a closed account is invited but stays closed and is
    # sent nothing (notifications skip inactive accounts). Only what the grant knows is told apart.
    known = user is not None and permissions.known_in_grant(user.id, meeting.forum.grant_id)
    if not known and not data.name.strip():
        raise ServiceError(_("Give the person's name."), field="name")
    if user is None:
        organisation_id = data.organisation_id
        if data.new_organisation is not None:
            organisation_id = _guest_organisation(actor, meeting, data).id
        user = accounts.invite_user(
            actor, email=data.email, name=data.name, organisation_id=organisation_id, forum=meeting.forum
        )
    elif not user.active and not accounts.reopen_withdrawn_invitation(actor, user, forum=meeting.forum) and known:
        # Closed by an administrator, or withdrawn by someone else: not this organiser's to reopen.
        raise ServiceError(_("This address cannot be invited. Ask an administrator."), field="email")
    if any(inv.user_id == user.id for inv in meeting.invitations):
        raise ServiceError(_("%(email)s is already invited.", email=user.email), field="email")
    invitation = Invitation(user=user, name_given="" if known else data.name.strip()[:200])
    meeting.invitations.append(invitation)
    audit.record(actor, "meeting.invitee.add", meeting, f"Invited {user.email}", user_id=user.id)
    notifications.invitees_added(meeting, [invitation], closed_too=not known)
    return invitation


def _guest_organisation(actor: User, meeting: Meeting, data: InviteeInput):
    """The organisation named for a new guest: the one of that name in that country if Forum Desk has it
    (whatever its case), else a new one, made through the administration's service (same checks, same audit).

    Only for an account created here: for an address that already has one, nothing is created (and the
    answer does not differ, so inviting still tells nobody who uses Forum Desk).
    """
    ensure(permissions.guest_organisation_lock(actor, meeting))
    new = data.new_organisation
    assert new is not None
    if data.organisation_id:
        raise ServiceError(
            _("Choose an organisation from the list or name a new one, not both."), field="new_organisation_name"
        )
    existing = organisations.find_organisation(new.name, new.country)
    if existing is not None:
        return existing
    return organisations.save_organisation(actor, None, new)


def invite_all_members(actor: User, meeting: Meeting) -> int:
    """Invite the forum's members who are not invited yet (e.g. members added since)."""
    ensure(permissions.invitees_lock(meeting))
    invited = {inv.user_id for inv in meeting.invitations}
    rows = db.session.execute(
        select(ForumMember.user_id)
        .join(ForumMember.user)
        .where(ForumMember.forum_id == meeting.forum_id, User.active.is_(True))
    ).scalars()
    added = 0
    for user_id in rows:
        if user_id not in invited:
            meeting.invitations.append(Invitation(user_id=user_id))
            added += 1
    if added:
        audit.record(actor, "meeting.invitee.add_members", meeting, f"Invited {added} members")
        notifications.invitees_added(meeting, [inv for inv in meeting.invitations if inv.user_id not in invited])
    return added


def remove_invitee(actor: User, meeting: Meeting, invitation_id: int) -> None:
    """Withdraw an invitation; a guest invited by mistake loses the account made for it."""
    ensure(permissions.invitees_lock(meeting))
    invitation = _invitation(meeting, invitation_id)
    meeting.invitations.remove(invitation)
    db.session.flush()
    audit.record(
        actor, "meeting.invitee.remove", meeting, f"Uninvited user {invitation.user_id}", user_id=invitation.user_id
    )
    accounts.withdraw_unused_invitation(actor, invitation.user)
    notifications.invitee_removed(meeting, invitation)


def _invitation(meeting: Meeting, invitation_id: int) -> Invitation:
    for invitation in meeting.invitations:
        if invitation.id == invitation_id:
            return invitation
    raise ServiceError(_("This person is not invited to this meeting."))


def respond(user: User, meeting: Meeting, answer: str, comment: str = "") -> Invitation:
    """The invitee's RSVP."""
    if answer not in RSVP_STATES or answer == "needs-action":
        raise ServiceError(_("Choose accept, tentative or decline."), field="answer")
    ensure(permissions.rsvp_lock(meeting))
    invitation = next((inv for inv in meeting.invitations if inv.user_id == user.id), None)
    if invitation is None:
        raise NotPermitted(_("You are not invited to this meeting."))
    invitation.rsvp = answer
    invitation.rsvp_comment = comment.strip()[:500]
    invitation.rsvp_at = utcnow()
    audit.record(user, "meeting.rsvp", meeting, f"{user.email}: {answer}", answer=answer)
    return invitation


# --- attendance ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class WalkInInput:
    name: str
    organisation_name: str = ""
    kind: str = "other"


@dataclass(frozen=True)
class AttendanceInput:
    """The attendance form: marks as {invitation id: (value shown, value now)} and new walk-ins."""

    marks: dict[int, tuple[str | None, str | None]]
    walk_ins: list[WalkInInput]


def save_attendance(actor: User, meeting: Meeting, data: AttendanceInput) -> int:
    """Marks and walk-ins in one transaction: all of it is saved, or (on a conflict) none."""
    changed = record_attendance(actor, meeting, data.marks)
    for walk_in in data.walk_ins:
        add_walk_in(actor, meeting, walk_in)
    return changed + len(data.walk_ins)


def record_attendance(actor: User, meeting: Meeting, marks: dict[int, tuple[str | None, str | None]]) -> int:
    """Apply attendance marks given as {invitation id: (value when the form was opened, new value)}.

    Only rows this person changed are written, so two people recording attendance at once
    do not undo each other. Each write is conditional on the row still holding the value
    the form showed (``UPDATE … WHERE attendance IS NOT DISTINCT FROM :was``): a row someone
    else changed meanwhile — even a split second earlier, on another connection — updates
    nothing, and the whole save is refused as a conflict naming the person. Values:
    present / absent / excused, or None to clear.
    """
    ensure(permissions.attendance_lock(meeting))
    by_id = {inv.id: inv for inv in meeting.invitations}
    if any(i not in by_id for i in marks):
        raise ServiceError(_("The attendance form lists someone who is no longer invited. Reload the page."))
    for original, mark in marks.values():
        if any(v is not None and v not in ATTENDANCE_STATES for v in (original, mark)):
            raise ServiceError(_("Unknown attendance value."))
    changes = {i: mark for i, (original, mark) in marks.items() if mark != original}
    now = utcnow()
    clashes = []
    for invitation_id, mark in changes.items():
        written = cast(
            CursorResult,
            db.session.execute(
                update(Invitation)
                .where(
                    Invitation.id == invitation_id,
                    Invitation.meeting_id == meeting.id,
                    Invitation.attendance.is_not_distinct_from(marks[invitation_id][0]),
                )
                .values(attendance=mark, attendance_at=now if mark else None)
                .execution_options(synchronize_session=False)
            ),
        ).rowcount
        if written != 1:
            clashes.append(by_id[invitation_id].user.name)
    if clashes:
        raise ConflictError(
            _(
                "Someone else changed the attendance of %(names)s since you opened the form. "
                "Nothing was saved: check the marks below and save again.",
                names=", ".join(clashes),
            )
        )
    if changes:
        audit.record(actor, "meeting.attendance", meeting, f"Attendance: {len(changes)} changed")
    return len(changes)


def add_walk_in(actor: User, meeting: Meeting, data: WalkInInput) -> WalkInAttendee:
    ensure(permissions.attendance_lock(meeting))
    walk_in = WalkInAttendee(
        name=data.name.strip(),
        organisation_name=data.organisation_name.strip(),
        organisation_kind=data.kind,
        added_by_id=actor.id,
    )
    meeting.walk_ins.append(walk_in)
    audit.record(actor, "meeting.walk_in.add", meeting, f"Walk-in: {walk_in.name}")
    return walk_in


def remove_walk_in(actor: User, meeting: Meeting, walk_in_id: int) -> None:
    ensure(permissions.attendance_lock(meeting))
    walk_in = next((w for w in meeting.walk_ins if w.id == walk_in_id), None)
    if walk_in is None:
        raise ServiceError(_("This walk-in attendee is not recorded for this meeting."))
    meeting.walk_ins.remove(walk_in)
    audit.record(actor, "meeting.walk_in.remove", meeting, f"Removed walk-in {walk_in.name}")

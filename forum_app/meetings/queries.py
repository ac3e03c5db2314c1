"""What the meeting pages and the calendar month show, loaded in a fixed number of queries.

Each loader's query count is independent of how many invitees, walk-ins or meetings
there are (tests prove it with small and ten-times-larger data). Page objects carry the
permission flags their templates read (``page.flags``): templates never decide.
"""

from __future__ import annotations

import calendar
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from sqlalchemy import case, select
from sqlalchemy.orm import joinedload

from .. import permissions
from ..core.dates import format_clock, format_span
from ..core.rows import Into
from ..extensions import db
from ..forums.queries import MeetingLine
from ..inbound.queries import received_for
from ..models import (
    Forum,
    ForumMember,
    GrantTeam,
    Invitation,
    Meeting,
    MinutesComment,
    MinutesVersion,
    Organisation,
    User,
    WalkInAttendee,
)
from ..notifications.queries import delivery_states
from ..permissions import MeetingFlags
from ..vocab import ORGANISATION_KINDS
from . import minutes
from .services import MAX_MEETING_LENGTH

# --- meeting page --------------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class InviteeRow:
    """An invitee as the meeting and attendance pages show them: plain values, no ORM objects behind them
    (forty invitees loaded as Invitation, User and Organisation objects cost more than the rest of the page)."""

    id: int  # the invitation's
    user_id: int
    name: str
    email: str
    organisation_name: str | None
    organisation_kind: str | None
    rsvp: str
    rsvp_comment: str
    attendance: str | None
    is_member: bool  # of the forum: neither a member nor an organiser is a guest
    is_organiser: bool  # in the grant's team
    on_behalf_of_id: int | None = None  # a delegate: the invitation of the invitee they came for


@dataclass(slots=True, frozen=True)
class WalkInRow:
    id: int
    name: str
    organisation_name: str
    organisation_kind: str
    on_behalf_of_id: int | None = None  # a delegate without an account (meetings.delegates)


@dataclass(slots=True, frozen=True)
class CommentRow:
    author_name: str
    created_at: datetime
    version_number: int
    body: str


@dataclass
class MeetingPage:
    meeting: Meeting
    flags: MeetingFlags
    minutes_version: MinutesVersion | None  # the version this person reads, if any
    invitations: list[InviteeRow]
    walk_ins: list[WalkInRow]
    my_invitation: InviteeRow | None
    rsvp_counts: Counter
    headcount: list[tuple[str, int]]  # (organisation kind, people present)
    present_total: int
    comments: list[CommentRow]
    attendance_lock: str | None = None  # why attendance cannot be recorded now, if it cannot
    delivery: dict = field(default_factory=dict)  # invitation id → email delivery state (organisers)
    received: list = field(default_factory=list)  # mail received about the meeting (inbound.queries; organisers)

    @cached_property
    def invitation_by_id(self) -> dict[int, InviteeRow]:
        return {i.id: i for i in self.invitations}

    @property
    def represented_by(self) -> dict[int, str]:
        """Invitation id of an invitee who sent someone → the name of whoever came for them."""
        found = {i.on_behalf_of_id: i.name for i in self.invitations if i.on_behalf_of_id is not None}
        found.update({w.on_behalf_of_id: w.name for w in self.walk_ins if w.on_behalf_of_id is not None})
        return found

    def came_for(self, row: InviteeRow | WalkInRow) -> str | None:
        """The name of the invitee a delegate came for ("X (for Y)"), None for everyone else."""
        if row.on_behalf_of_id is None:
            return None
        represented = self.invitation_by_id.get(row.on_behalf_of_id)
        return represented.name if represented is not None else None


# The meeting with what its page shows of the forum; invitees, walk-ins and comments are read as rows.
MEETING_PAGE_OPTIONS = (joinedload(Meeting.forum).joinedload(Forum.grant),)


def _invitees(meeting: Meeting) -> list[InviteeRow]:
    """The meeting's invitees with their organisation and role in the forum, in one query, by organisation and
    name (sorted here, the same on every database: people without an organisation last)."""
    is_member = (
        select(ForumMember.user_id)
        .where(ForumMember.forum_id == meeting.forum_id, ForumMember.user_id == Invitation.user_id)
        .exists()
    )
    is_organiser = (
        select(GrantTeam.user_id)
        .where(GrantTeam.grant_id == meeting.forum.grant_id, GrantTeam.user_id == Invitation.user_id)
        .exists()
    )
    rows = db.session.execute(
        select(
            Into(
                InviteeRow,
                Invitation.id,
                Invitation.user_id,
                # The organiser's own name for an account their grant did not know (services.add_invitee).
                case((Invitation.name_given != "", Invitation.name_given), else_=User.stored_name),
                User.email,
                Organisation.name,
                Organisation.kind,
                Invitation.rsvp,
                Invitation.rsvp_comment,
                Invitation.attendance,
                is_member,
                is_organiser,
                Invitation.on_behalf_of_id,
            )
        )
        .select_from(Invitation)
        .join(User, User.id == Invitation.user_id)
        .outerjoin(Organisation, Organisation.id == User.organisation_id)
        .where(Invitation.meeting_id == meeting.id)
    ).scalars()
    return sorted(rows, key=lambda i: (i.organisation_name if i.organisation_name is not None else "~", i.name))


def meeting_page(user, meeting_id: int, need: str = "view") -> MeetingPage:
    user = permissions.resolved(user)
    meeting = permissions.load_meeting(user, meeting_id, need=need, options=MEETING_PAGE_OPTIONS)
    flags = permissions.meeting_flags(user, meeting)
    invitations = _invitees(meeting)
    walk_ins = list(
        db.session.execute(
            select(
                Into(
                    WalkInRow,
                    WalkInAttendee.id,
                    WalkInAttendee.name,
                    WalkInAttendee.organisation_name,
                    WalkInAttendee.organisation_kind,
                    WalkInAttendee.on_behalf_of_id,
                )
            )
            .where(WalkInAttendee.meeting_id == meeting.id)
            .order_by(WalkInAttendee.id)
        ).scalars()
    )
    comments: list[CommentRow] = []
    if flags.can_view_minutes:
        comments = list(
            db.session.execute(
                select(
                    Into(
                        CommentRow,
                        User.name,
                        MinutesComment.created_at,
                        MinutesComment.version_number,
                        MinutesComment.body,
                    )
                )
                .select_from(MinutesComment)
                .join(User, User.id == MinutesComment.author_id)
                .where(MinutesComment.meeting_id == meeting.id)
                .order_by(MinutesComment.id)
            ).scalars()
        )
    return MeetingPage(
        meeting=meeting,
        flags=flags,
        minutes_version=minutes.version_for(user, meeting) if flags.can_view_minutes else None,
        invitations=invitations,
        walk_ins=walk_ins,
        my_invitation=next((i for i in invitations if user.is_authenticated and i.user_id == user.id), None),
        rsvp_counts=Counter(i.rsvp for i in invitations),
        headcount=headcount(invitations, walk_ins),
        present_total=sum(1 for i in invitations if i.attendance == "present") + len(walk_ins),
        comments=comments,
        attendance_lock=permissions.attendance_lock(meeting),
        delivery=delivery_states(meeting, invitations) if flags.can_edit else {},
        received=received_for(meeting.id) if flags.can_see_received_mail else [],
    )


def headcount(invitations: list[InviteeRow], walk_ins: list[WalkInRow]) -> list[tuple[str, int]]:
    """People present per organisation kind, invitees and walk-ins together.

    A delegate counts once, for the organisation of the invitee they came for (who is excused, so
    not counted); a walk-in delegate was recorded with that organisation's kind already."""
    kind_of = {i.id: i.organisation_kind for i in invitations}
    counts: Counter = Counter()
    for invitation in invitations:
        if invitation.attendance == "present":
            kind = kind_of.get(invitation.on_behalf_of_id) if invitation.on_behalf_of_id is not None else None
            counts[kind or invitation.organisation_kind or "other"] += 1
    for walk_in in walk_ins:
        counts[walk_in.organisation_kind] += 1
    return [(kind, counts[kind]) for kind in ORGANISATION_KINDS if counts[kind]]


# --- calendar -----------------------------------------------------------------------------------------

DAY_LIMIT = 3  # meetings shown in a day's cell; the rest are a "+N more" link to the day


@dataclass
class CalendarMonth:
    """A month (or, with ``day``, one day) of the meetings a person may see, in their zone.

    A programme-wide month holds a meeting per forum or more (120 forums: ~150 meetings), so a
    day shows its first ``DAY_LIMIT`` and counts the rest, as calendars do; the day view lists them all.
    """

    year: int
    month: int
    weeks: list[list[date | None]]
    by_day: dict[date, list[CalendarEntry]]  # at most DAY_LIMIT per day
    more: dict[date, int]  # meetings of the day not shown in its cell
    zone: str
    day: date | None = None  # the day view: every meeting of that day
    day_meetings: list[CalendarEntry] = field(default_factory=list)

    @property
    def days(self) -> list[date]:
        return sorted(set(self.by_day) | set(self.more))

    @property
    def previous(self) -> tuple[int, int]:
        return (self.year - 1, 12) if self.month == 1 else (self.year, self.month - 1)

    @property
    def next(self) -> tuple[int, int]:
        return (self.year + 1, 1) if self.month == 12 else (self.year, self.month + 1)


@dataclass(slots=True, frozen=True)
class CalendarForum:
    id: int
    title: str
    city: str
    timezone: str


@dataclass(slots=True, frozen=True)
class CalendarEntry(MeetingLine):
    """A meeting as the calendar shows it (its ``forum`` a CalendarForum), with its times written out."""

    clock: str = ""  # its start in the viewer's zone ("10:00 CEST"), for the month's cells
    span: str = ""  # its time as the day view and the phone's list show it (core.dates.format_span)


def _visible_between(user, start: datetime, end: datetime):
    # Both bounds on starts_at (the index): a meeting lasts at most MAX_MEETING_LENGTH.
    return permissions.visible_meetings(user).where(
        Meeting.starts_at < end, Meeting.starts_at > start - MAX_MEETING_LENGTH, Meeting.ends_at > start
    )


def _entries(stmt, zone: str) -> list[CalendarEntry]:
    """The calendar's entries of ``stmt`` (a ``visible_meetings`` SELECT, which joins Forum), in time order,
    with their times written out for ``zone`` (once each, here, rather than by filters in two places)."""
    entries = []
    for id_, title, starts_at, ends_at, state, venue, *forum in db.session.execute(
        stmt.with_only_columns(
            Meeting.id,
            Meeting.title,
            Meeting.starts_at,
            Meeting.ends_at,
            Meeting.state,
            Meeting.venue,
            Forum.id,
            Forum.title,
            Forum.city,
            Forum.timezone,
        ).order_by(Meeting.starts_at, Meeting.id)
    ):
        entry = CalendarEntry(id_, title, starts_at, ends_at, state, venue or "", CalendarForum(*forum))
        entries.append(replace(entry, clock=format_clock(starts_at, zone), span=format_span(entry, zone)))
    return entries


def calendar_month(user, year: int, month: int, zone_name: str, day: date | None = None) -> CalendarMonth:
    """The user's visible meetings in a month, placed on days in ``zone_name`` (the viewer's zone).

    A programme's month holds ~150 meetings of which a few dozen are shown: the month is read as
    (id, start) pairs to place and count them, then only the shown ones are read, as plain values
    (loading the whole month as objects was 40 % of the page at programme scale).
    """
    user = permissions.resolved(user)
    zone = ZoneInfo(zone_name)
    start = datetime(year, month, 1, tzinfo=zone).astimezone(UTC)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=zone).astimezone(UTC)
    placed: dict[int, date] = {}
    per_day: Counter = Counter()
    more: Counter = Counter()
    for meeting_id, starts_at in db.session.execute(
        _visible_between(user, start, end)
        .with_only_columns(Meeting.id, Meeting.starts_at)
        .order_by(Meeting.starts_at, Meeting.id)
    ):
        on = starts_at.astimezone(zone).date()
        if per_day[on] < DAY_LIMIT:
            per_day[on] += 1
            placed[meeting_id] = on
        else:
            more[on] += 1
    by_day: dict[date, list[CalendarEntry]] = defaultdict(list)
    if placed:
        for entry in _entries(_visible_between(user, start, end).where(Meeting.id.in_(placed)), zone_name):
            by_day[placed[entry.id]].append(entry)
    weeks = [
        [d if d.month == month else None for d in week]
        for week in calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    ]
    page = CalendarMonth(year, month, weeks, dict(by_day), dict(more), zone_name)
    if day is not None:
        day_start = datetime.combine(day, time(0), zone).astimezone(UTC)
        day_end = datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
        page.day = day
        # Meetings starting that day (a meeting from the evening before is on its own day).
        page.day_meetings = _entries(
            _visible_between(user, day_start, day_end).where(Meeting.starts_at >= day_start), zone_name
        )
    return page


def organisations_for(forum: Forum) -> list[tuple[int, str, str]]:
    """(id, name, city) of the organisations a guest of this forum's meetings may belong to (its country's,
    by name): the invitee form's choices."""
    return list(
        db.session.execute(
            select(Organisation.id, Organisation.name, Organisation.city)
            .where(Organisation.country == forum.country)
            .order_by(Organisation.name)
        ).tuples()
    )

"""What the meeting pages and the calendar month show, loaded in a fixed number of queries.

Each loader's query count is independent of how many invitees, walk-ins or meetings
there are (tests prove it with small and ten-times-larger data). Page objects carry the
permission flags their templates read (``page.flags``): templates never decide.
"""
from __future__ import annotations

import calendar
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import literal, select
from sqlalchemy.orm import joinedload, load_only, selectinload

from .. import permissions
from ..extensions import db
from .services import MAX_MEETING_LENGTH
from ..forums.queries import MEETING_LINE_COLUMNS
from ..models import (
    Forum, ForumMember, GrantTeam, Invitation, Meeting, MinutesComment, MinutesVersion, Organisation, User,
)
from ..permissions import MeetingFlags
from ..vocab import ORGANISATION_KINDS
from ..notifications.queries import delivery_states
from . import minutes


# --- meeting page --------------------------------------------------------------------------------

@dataclass
class MeetingPage:
    meeting: Meeting
    flags: MeetingFlags
    minutes_version: MinutesVersion | None  # the version this person reads, if any
    invitations: list[Invitation]
    my_invitation: Invitation | None
    rsvp_counts: Counter
    headcount: list[tuple[str, int]]  # (organisation kind, people present)
    present_total: int
    comments: list[MinutesComment]
    member_ids: set[int]
    organiser_ids: set[int]
    attendance_lock: str | None = None  # why attendance cannot be recorded now, if it cannot
    delivery: dict = field(default_factory=dict)  # invitation id → email delivery state (organisers)

    @property
    def invitation_by_id(self) -> dict[int, Invitation]:
        return {i.id: i for i in self.invitations}


MEETING_PAGE_OPTIONS = (
    joinedload(Meeting.forum).joinedload(Forum.grant),
    selectinload(Meeting.invitations).joinedload(Invitation.user).joinedload(User.organisation),
    selectinload(Meeting.walk_ins),
)


def meeting_page(user, meeting_id: int, need: str = "view") -> MeetingPage:
    user = permissions.resolved(user)
    meeting = permissions.load_meeting(user, meeting_id, need=need, options=MEETING_PAGE_OPTIONS)
    flags = permissions.meeting_flags(user, meeting)
    invitations = sorted(meeting.invitations, key=lambda i: (
        i.user.organisation.name if i.user.organisation else "~", i.user.name))
    # The forum's members and the grant's team, in one round trip (they mark invitees as guests or organisers).
    member_ids: set[int] = set()
    organiser_ids: set[int] = set()
    for is_member, user_id in db.session.execute(
            select(literal(True), ForumMember.user_id).where(ForumMember.forum_id == meeting.forum_id)
            .union_all(select(literal(False), GrantTeam.user_id).where(GrantTeam.grant_id == meeting.forum.grant_id))):
        (member_ids if is_member else organiser_ids).add(user_id)
    comments: list[MinutesComment] = []
    if flags.can_view_minutes:
        comments = list(db.session.execute(
            select(MinutesComment).where(MinutesComment.meeting_id == meeting.id)
            .options(joinedload(MinutesComment.author)).order_by(MinutesComment.id)).scalars())
    return MeetingPage(
        meeting=meeting,
        flags=flags,
        minutes_version=minutes.version_for(user, meeting) if flags.can_view_minutes else None,
        invitations=invitations,
        my_invitation=next((i for i in invitations if user.is_authenticated and i.user_id == user.id), None),
        rsvp_counts=Counter(i.rsvp for i in invitations),
        headcount=headcount(meeting),
        present_total=sum(1 for i in invitations if i.attendance == "present") + len(meeting.walk_ins),
        comments=comments,
        member_ids=member_ids,
        organiser_ids=organiser_ids,
        attendance_lock=permissions.attendance_lock(meeting),
        delivery=delivery_states(meeting) if flags.can_edit else {},
    )


def headcount(meeting: Meeting) -> list[tuple[str, int]]:
    """People present per organisation kind, invitees and walk-ins together."""
    counts: Counter = Counter()
    for invitation in meeting.invitations:
        if invitation.attendance == "present":
            org: Organisation | None = invitation.user.organisation
            counts[org.kind if org else "other"] += 1
    for walk_in in meeting.walk_ins:
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
    by_day: dict[date, list[Meeting]]  # at most DAY_LIMIT per day
    more: dict[date, int]  # meetings of the day not shown in its cell
    zone: str
    day: date | None = None  # the day view: every meeting of that day
    day_meetings: list[Meeting] = field(default_factory=list)

    @property
    def days(self) -> list[date]:
        return sorted(set(self.by_day) | set(self.more))

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.by_day.values()) + sum(self.more.values())

    @property
    def previous(self) -> tuple[int, int]:
        return (self.year - 1, 12) if self.month == 1 else (self.year, self.month - 1)

    @property
    def next(self) -> tuple[int, int]:
        return (self.year + 1, 1) if self.month == 12 else (self.year, self.month + 1)


# What a calendar entry shows: no agenda or minutes text is loaded for a month of meetings
# (measured at ~150 meetings: 2.9 ms instead of 3.7 ms).
CALENDAR_OPTIONS = (
    load_only(*MEETING_LINE_COLUMNS),
    joinedload(Meeting.forum).load_only(Forum.id, Forum.title, Forum.city, Forum.timezone),
)


def _meetings_between(user, start: datetime, end: datetime) -> list[Meeting]:
    return list(db.session.execute(
        permissions.visible_meetings(user).options(*CALENDAR_OPTIONS)
        # Both bounds on starts_at (the index): a meeting lasts at most MAX_MEETING_LENGTH.
        .where(Meeting.starts_at < end, Meeting.starts_at > start - MAX_MEETING_LENGTH, Meeting.ends_at > start)
        .order_by(Meeting.starts_at, Meeting.id)
    ).unique().scalars())


def calendar_month(user, year: int, month: int, zone_name: str, day: date | None = None) -> CalendarMonth:
    """The user's visible meetings in a month, placed on days in ``zone_name`` (the viewer's zone)."""
    user = permissions.resolved(user)
    zone = ZoneInfo(zone_name)
    start_local = datetime(year, month, 1, tzinfo=zone)
    end_local = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=zone)
    by_day: dict[date, list[Meeting]] = defaultdict(list)
    more: Counter = Counter()
    for meeting in _meetings_between(user, start_local.astimezone(timezone.utc), end_local.astimezone(timezone.utc)):
        on = meeting.starts_at.astimezone(zone).date()
        if len(by_day[on]) < DAY_LIMIT:
            by_day[on].append(meeting)
        else:
            more[on] += 1
    weeks = [[d if d.month == month else None for d in week]
             for week in calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)]
    page = CalendarMonth(year, month, weeks, dict(by_day), dict(more), zone_name)
    if day is not None:
        start = datetime.combine(day, time(0), zone).astimezone(timezone.utc)
        end = datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(timezone.utc)
        page.day = day
        # Meetings starting that day (a meeting from the evening before is on its own day).
        page.day_meetings = [m for m in _meetings_between(user, start, end) if m.starts_at >= start]
    return page


def organisations_for(forum: Forum) -> list[Organisation]:
    """Organisations a guest of this forum's meetings may belong to (its country's, by name)."""
    return list(db.session.execute(
        select(Organisation).where(Organisation.country == forum.country).order_by(Organisation.name)
    ).scalars())

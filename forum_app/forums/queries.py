"""What the forum and meeting pages show, loaded in a fixed number of queries.

Each loader's query count is independent of how many meetings, members or invitees
there are (tests prove it with small and ten-times-larger data).
"""
from __future__ import annotations

import calendar
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from .. import permissions
from ..extensions import db
from ..models import (
    Forum, ForumMember, Grant, GrantTeam, Invitation, Meeting, MinutesComment, Organisation, User, utcnow,
)
from ..vocab import CORE_ORGANISATION_KINDS, ORGANISATION_KINDS


# --- forum list ---------------------------------------------------------------------------------

@dataclass
class ForumFilters:
    country: str = ""
    grant_id: int | None = None
    city: str = ""
    q: str = ""


@dataclass
class ForumRow:
    forum: Forum
    members: int
    next_meeting: Meeting | None


def forum_list(user, filters: ForumFilters) -> list[ForumRow]:
    stmt = permissions.visible_forums(user).options(joinedload(Forum.grant).joinedload(Grant.programme))
    if filters.country:
        stmt = stmt.where(Forum.country == filters.country)
    if filters.grant_id:
        stmt = stmt.where(Forum.grant_id == filters.grant_id)
    if filters.city:
        stmt = stmt.where(func.lower(Forum.city) == filters.city.lower())
    if filters.q:
        pattern = "%" + _escape_like(filters.q.lower()) + "%"
        stmt = stmt.where(or_(func.lower(Forum.title).like(pattern, escape="\\"),
                              func.lower(Forum.focus).like(pattern, escape="\\"),
                              func.lower(Forum.city).like(pattern, escape="\\")))
    forums = db.session.execute(stmt.order_by(Forum.country, Forum.city, Forum.title)).unique().scalars().all()
    ids = [f.id for f in forums]
    if not ids:
        return []
    counts = dict(db.session.execute(
        select(ForumMember.forum_id, func.count()).where(ForumMember.forum_id.in_(ids))
        .group_by(ForumMember.forum_id)).all())
    upcoming = _next_meetings(ids)
    return [ForumRow(f, counts.get(f.id, 0), upcoming.get(f.id)) for f in forums]


def _next_meetings(forum_ids: list[int]) -> dict[int, Meeting]:
    """The next scheduled meeting of each forum, in one query."""
    now = utcnow()
    first = (select(Meeting.forum_id, func.min(Meeting.starts_at).label("starts_at"))
             .where(Meeting.forum_id.in_(forum_ids), Meeting.state == "scheduled", Meeting.ends_at >= now)
             .group_by(Meeting.forum_id).subquery())
    rows = db.session.execute(
        select(Meeting).join(first, (Meeting.forum_id == first.c.forum_id) & (Meeting.starts_at == first.c.starts_at))
        .where(Meeting.state == "scheduled")
    ).scalars()
    return {m.forum_id: m for m in rows}


def filter_choices(user) -> dict[str, list]:
    """Countries, grants and cities among the forums the user may see (for the filter form)."""
    visible = permissions.visible_forums(user).subquery()
    rows = db.session.execute(
        select(visible.c.country, visible.c.city, Grant.id, Grant.reference)
        .join(Grant, Grant.id == visible.c.grant_id).distinct()
    ).all()
    return {
        "countries": sorted({r[0] for r in rows}),
        "cities": sorted({r[1] for r in rows}),
        "grants": sorted({(r[2], r[3]) for r in rows}, key=lambda g: g[1]),
    }


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# --- forum page --------------------------------------------------------------------------------

@dataclass
class Coverage:
    present: list[str]
    missing: list[str]
    others: list[str]  # kinds beyond the core set that are present

    @property
    def ratio(self) -> str:
        return f"{len(self.present)}/{len(CORE_ORGANISATION_KINDS)}"


@dataclass
class ForumPage:
    forum: Forum
    members_by_kind: dict[str, list[ForumMember]]
    coverage: Coverage
    next_meeting: Meeting | None
    upcoming: list[Meeting]
    past: list[Meeting]
    organisers: list[User] = field(default_factory=list)


def forum_page(user, forum_id: int) -> ForumPage:
    forum = permissions.get_forum_or_404(forum_id, options=(
        joinedload(Forum.grant).joinedload(Grant.programme),
        joinedload(Forum.grant).selectinload(Grant.team).joinedload(GrantTeam.user),
        selectinload(Forum.members).joinedload(ForumMember.user).joinedload(User.organisation),
    ))
    members_by_kind: dict[str, list[ForumMember]] = defaultdict(list)
    for member in sorted(forum.members, key=lambda m: (m.user.organisation.name if m.user.organisation else "",
                                                       m.user.name)):
        kind = member.user.organisation.kind if member.user.organisation else "other"
        members_by_kind[kind].append(member)
    ordered = {k: members_by_kind[k] for k in ORGANISATION_KINDS if k in members_by_kind}

    meetings = db.session.execute(
        permissions.visible_meetings(user).where(Meeting.forum_id == forum.id).order_by(Meeting.starts_at)
    ).scalars().all()
    now = utcnow()
    is_upcoming = {m.id: m.ends_at >= now and m.state in ("draft", "scheduled") for m in meetings}
    upcoming = [m for m in meetings if is_upcoming[m.id]]
    past = [m for m in meetings if not is_upcoming[m.id]]
    next_meeting = next((m for m in upcoming if m.state == "scheduled"), None)
    return ForumPage(forum=forum, members_by_kind=ordered, coverage=coverage_of(forum.members),
                     next_meeting=next_meeting, upcoming=upcoming, past=list(reversed(past)),
                     organisers=[t.user for t in forum.grant.team])


def coverage_of(members: list[ForumMember]) -> Coverage:
    kinds = {m.user.organisation.kind for m in members if m.user.organisation is not None}
    return Coverage(
        present=[k for k in CORE_ORGANISATION_KINDS if k in kinds],
        missing=[k for k in CORE_ORGANISATION_KINDS if k not in kinds],
        others=[k for k in ORGANISATION_KINDS if k in kinds and k not in CORE_ORGANISATION_KINDS],
    )


# --- meeting page --------------------------------------------------------------------------------

@dataclass
class MeetingPage:
    meeting: Meeting
    invitations: list[Invitation]
    my_invitation: Invitation | None
    rsvp_counts: Counter
    headcount: list[tuple[str, int]]  # (organisation kind, people present)
    present_total: int
    comments: list[MinutesComment]
    member_ids: set[int]
    organiser_ids: set[int]


MEETING_PAGE_OPTIONS = (
    joinedload(Meeting.forum).joinedload(Forum.grant),
    selectinload(Meeting.invitations).joinedload(Invitation.user).joinedload(User.organisation),
    selectinload(Meeting.walk_ins),
)


def meeting_page(user, meeting_id: int, need: str = "view") -> MeetingPage:
    meeting = permissions.get_meeting_or_404(meeting_id, need=need, options=MEETING_PAGE_OPTIONS)
    invitations = sorted(meeting.invitations, key=lambda i: (
        i.user.organisation.name if i.user.organisation else "~", i.user.name))
    member_ids = set(db.session.execute(
        select(ForumMember.user_id).where(ForumMember.forum_id == meeting.forum_id)).scalars())
    organiser_ids = set(db.session.execute(
        select(GrantTeam.user_id).where(GrantTeam.grant_id == meeting.forum.grant_id)).scalars())
    comments: list[MinutesComment] = []
    if permissions.can_view_minutes(user, meeting):
        comments = list(db.session.execute(
            select(MinutesComment).where(MinutesComment.meeting_id == meeting.id)
            .options(joinedload(MinutesComment.author)).order_by(MinutesComment.id)).scalars())
    return MeetingPage(
        meeting=meeting,
        invitations=invitations,
        my_invitation=next((i for i in invitations if user.is_authenticated and i.user_id == user.id), None),
        rsvp_counts=Counter(i.rsvp for i in invitations),
        headcount=headcount(meeting),
        present_total=sum(1 for i in invitations if i.attendance == "present") + len(meeting.walk_ins),
        comments=comments,
        member_ids=member_ids,
        organiser_ids=organiser_ids,
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

@dataclass
class CalendarMonth:
    year: int
    month: int
    weeks: list[list[date | None]]
    by_day: dict[date, list[Meeting]]
    meetings: list[Meeting]
    zone: str

    @property
    def previous(self) -> tuple[int, int]:
        return (self.year - 1, 12) if self.month == 1 else (self.year, self.month - 1)

    @property
    def next(self) -> tuple[int, int]:
        return (self.year + 1, 1) if self.month == 12 else (self.year, self.month + 1)


def calendar_month(user, year: int, month: int, zone_name: str) -> CalendarMonth:
    """The user's visible meetings in a month, placed on days in ``zone_name`` (the viewer's zone)."""
    zone = ZoneInfo(zone_name)
    start_local = datetime(year, month, 1, tzinfo=zone)
    end_local = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=zone)
    start, end = start_local.astimezone(timezone.utc), end_local.astimezone(timezone.utc)
    meetings = db.session.execute(
        permissions.visible_meetings(user).options(joinedload(Meeting.forum))
        .where(Meeting.starts_at < end, Meeting.ends_at > start).order_by(Meeting.starts_at)
    ).unique().scalars().all()
    by_day: dict[date, list[Meeting]] = defaultdict(list)
    for meeting in meetings:
        by_day[meeting.starts_at.astimezone(zone).date()].append(meeting)
    weeks = [[d if d.month == month else None for d in week]
             for week in calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)]
    return CalendarMonth(year, month, weeks, dict(by_day), list(meetings), zone_name)


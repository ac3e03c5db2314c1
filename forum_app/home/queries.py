"""What the home page shows, in a fixed number of queries whatever the data.

Participants see their next meetings with their answer and the minutes waiting for
their comment; organisers also see the meetings of their grants that wait for a step
(schedule, mark held, write, circulate or adopt the minutes); programme staff see every
forum with its next and last meeting and its multi-agency coverage.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import bindparam, exists, or_, select
from sqlalchemy.orm import joinedload

from .. import permissions
from ..actions.followup import overdue_counts
from ..actions.queries import MyActions, my_actions
from ..core.clock import utcnow
from ..core.paging import Page, paginate
from ..extensions import db
from ..forums.queries import (
    CardForum,
    Coverage,
    MeetingLine,
    coverage_of_kinds,
    holder_kinds,
    last_meetings_held,
    next_meetings,
    visible_cards,
)
from ..models import Forum, ForumMember, Invitation, Meeting, Organisation, User, WalkInAttendee
from ..reports.coverage import coverage_counts

LIMIT = 20  # rows per list: the home page is a to-do list, not an archive


@dataclass
class Task:
    meeting: Meeting
    step: str  # "schedule", "mark_held", "write_minutes", "circulate", "adopt"


@dataclass(slots=True, frozen=True)
class ForumOverview:
    """A forum's row of programme staff's overview, as plain values."""

    forum: CardForum
    next_meeting: MeetingLine | None
    last_meeting: MeetingLine | None
    coverage: Coverage  # agencies among the members (and the grant holder's team)
    attended: Coverage | None = None  # agencies at the last three meetings held (None: none held yet)
    overdue: int = 0  # overdue actions of the forum


@dataclass(slots=True, frozen=True)
class StepMeeting:
    """The meeting a forum's next step is about, as plain values."""

    id: int
    title: str
    starts_at: datetime
    state: str
    minutes_state: str
    minutes_revision: int
    minutes_shared_revision: int
    has_attendance: bool  # someone is marked (present, absent or excused) or a walk-in is recorded


@dataclass(slots=True, frozen=True)
class ForumStep:
    """An organiser's forum with its next step (home page): what to do next, and where.

    ``step``: "plan_first" (no meeting yet), "plan_next" (nothing planned), "schedule" (a draft),
    "redate" (a draft whose date has passed), "record" (a meeting that has started and has no
    attendance), "write_minutes", "circulate", "adopt", or "upcoming" (nothing to do before the next one).
    """

    forum_id: int
    forum_title: str
    timezone: str
    step: str
    meeting: StepMeeting | None = None


@dataclass
class HomePage:
    my_meetings: list[Invitation] = field(default_factory=list)
    to_comment: list[Meeting] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    forums: list[ForumStep] = field(default_factory=list)  # an organiser's forums with their next step
    overview: list[ForumOverview] = field(default_factory=list)
    actions: MyActions = field(default_factory=MyActions)  # awaiting my confirmation, due soon, overdue, the rest
    overview_page: Page | None = None  # the overview is paged: a programme has over a hundred forums
    is_organiser: bool = False
    shows_overview: bool = False  # programme staff: every forum at a glance
    lists_forums: bool = True  # False for a guest: the forums list would be empty (permissions.can_list_forums)

    @property
    def empty(self) -> bool:
        return not (
            self.my_meetings or self.to_comment or self.tasks or self.forums or self.overview or not self.actions.empty
        )


def home_page(user, raw_page: str | None = None) -> HomePage:
    user = permissions.resolved(user)
    now = utcnow()
    page = HomePage(
        is_organiser=permissions.is_organiser(user),
        shows_overview=permissions.is_staff(user),
        lists_forums=permissions.can_list_forums(user),
    )
    page.my_meetings = list(
        db.session.execute(
            select(Invitation)
            .join(Invitation.meeting)
            .where(Invitation.user_id == user.id, Meeting.state == "scheduled", Meeting.ends_at >= now)
            .options(joinedload(Invitation.meeting).joinedload(Meeting.forum))
            .order_by(Meeting.starts_at)
            .limit(LIMIT)
        ).scalars()
    )
    page.to_comment = list(
        db.session.execute(
            select(Meeting)
            .join(Invitation, Invitation.meeting_id == Meeting.id)
            .where(
                Invitation.user_id == user.id, Invitation.attendance == "present", Meeting.minutes_state == "circulated"
            )
            .options(joinedload(Meeting.forum))
            .order_by(Meeting.starts_at.desc())
            .limit(LIMIT)
        ).scalars()
    )
    page.actions = my_actions(user, limit=LIMIT)
    grants = permissions.organiser_grant_ids(user)
    if grants:
        waiting = db.session.execute(
            select(Meeting)
            .join(Meeting.forum)
            .where(
                Forum.grant_id.in_(grants),
                or_(
                    Meeting.state == "draft",
                    (Meeting.state == "scheduled") & (Meeting.starts_at <= now),
                    (Meeting.state == "held") & (Meeting.minutes_state != "adopted"),
                ),
            )
            .options(joinedload(Meeting.forum))
            .order_by(Meeting.starts_at)
            .limit(LIMIT)
        ).scalars()
        page.tasks = [Task(m, _next_step(m)) for m in waiting]
        page.forums = forum_steps(grants, now)
    if page.shows_overview:
        page.overview_page = _overview(user, raw_page)
        page.overview = page.overview_page.items
    return page


def _next_step(meeting: Meeting) -> str:
    if meeting.state == "draft":
        return "schedule"
    if meeting.state == "scheduled":
        return "mark_held"
    if meeting.minutes_revision == 0:
        return "write_minutes"
    if meeting.minutes_revision > meeting.minutes_shared_revision:
        return "circulate"
    return "adopt"


# A meeting with work left: its forum's next step is about the oldest of them.
_PENDING = or_(
    Meeting.state.in_(("draft", "scheduled")),
    (Meeting.state == "held") & (Meeting.minutes_state != "adopted"),
)


def forum_steps(grant_ids: Collection[int], now: datetime) -> list[ForumStep]:
    """The forums of ``grant_ids`` (an organiser's) with their next step, in three queries whatever the data:
    the forums, their meetings with work left (drafts, scheduled ones, held ones whose minutes are not
    adopted: few per forum), and which forums have held a meeting."""
    forums = db.session.execute(
        select(Forum.id, Forum.title, Forum.timezone)
        .where(Forum.grant_id.in_(grant_ids), Forum.active.is_(True))
        .order_by(Forum.title, Forum.id)
        .limit(LIMIT)
    ).all()
    ids = [f.id for f in forums]
    if not ids:
        return []
    marked = exists().where(Invitation.meeting_id == Meeting.id, Invitation.attendance.is_not(None))
    walked_in = exists().where(WalkInAttendee.meeting_id == Meeting.id)
    pending: dict[int, list[StepMeeting]] = defaultdict(list)
    for forum_id, *values in db.session.execute(
        select(
            Meeting.forum_id,
            Meeting.id,
            Meeting.title,
            Meeting.starts_at,
            Meeting.state,
            Meeting.minutes_state,
            Meeting.minutes_revision,
            Meeting.minutes_shared_revision,
            or_(marked, walked_in),
        )
        .where(Meeting.forum_id.in_(ids), _PENDING)
        .order_by(Meeting.starts_at, Meeting.id)
    ):
        pending[forum_id].append(StepMeeting(*values))
    held_before = set(
        db.session.execute(
            select(Meeting.forum_id).where(Meeting.forum_id.in_(ids), Meeting.state == "held").distinct()
        ).scalars()
    )
    return [ForumStep(f.id, f.title, f.timezone, *_forum_step(pending[f.id], f.id in held_before, now)) for f in forums]


def _forum_step(meetings: list[StepMeeting], held_before: bool, now: datetime) -> tuple[str, StepMeeting | None]:
    """The first thing to do, oldest work first: the record of a meeting that happened, then a draft to
    schedule (or re-date), else the next meeting to wait for, else a meeting to plan."""
    for meeting in meetings:
        if meeting.state in ("scheduled", "held") and meeting.starts_at <= now and not meeting.has_attendance:
            return "record", meeting
        if meeting.state == "held":
            if meeting.minutes_revision == 0:
                return "write_minutes", meeting
            if meeting.minutes_revision > meeting.minutes_shared_revision:
                return "circulate", meeting
            return "adopt", meeting
    for meeting in meetings:
        if meeting.state == "draft":
            return ("redate" if meeting.starts_at <= now else "schedule"), meeting
    upcoming = next((m for m in meetings if m.state == "scheduled"), None)
    if upcoming is not None:
        return "upcoming", upcoming
    return ("plan_next" if held_before else "plan_first"), None


def _overview(user, raw_page: str | None) -> Page:
    now = utcnow()
    page = paginate(visible_cards(user).order_by(Forum.country, Forum.city, Forum.title, Forum.id), raw_page)
    forums = page.items
    ids = [f.id for f in forums]
    if not ids:
        return page
    upcoming, last = next_meetings(forums), last_meetings_held(forums)
    kinds: dict[int, set[str]] = defaultdict(set)
    # Members, then their people: SQLite probes each person (0.6 ms for a page's ~950 members); PostgreSQL
    # hashes all 12,000 people instead (3.0 ms). Finding the people from the members first suits
    # PostgreSQL (2.3 ms) but costs SQLite six times as much (3.7 ms), so this shape stays.
    for forum_id, kind in db.session.execute(
        select(ForumMember.forum_id, Organisation.kind)
        .distinct()
        .join(User, User.id == ForumMember.user_id)
        .join(Organisation, Organisation.id == User.organisation_id)
        .where(ForumMember.forum_id.in_(ids), User.active.is_(True))
    ):
        kinds[forum_id].add(kind)
    # The grant holder, and its team's organisations: the NGO that organises and chairs every meeting is
    # among the agencies even though its people are organisers, not members.
    for forum_id, kind in db.session.execute(holder_kinds(ids)):
        kinds[forum_id].add(kind)
    overdue = overdue_counts(user, forums)
    # Agencies at the last three meetings held, as the dashboard counts them (one grouped statement).
    attended = coverage_counts(
        bindparam("forum_ids", ids, expanding=True, literal_execute=True),
        now.date() + timedelta(days=1),
        sorted({f.timezone for f in forums}),
    )
    page.items = [
        ForumOverview(
            f,
            upcoming.get(f.id),
            last.get(f.id),
            coverage_of_kinds(kinds[f.id]),
            attended=coverage_of_kinds(set(attended.present(f.id))) if attended.meetings.get(f.id) else None,
            overdue=overdue.get(f.id, 0),
        )
        for f in forums
    ]
    return page

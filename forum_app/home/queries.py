"""What the home page shows, in a fixed number of queries whatever the data.

Participants see their next meetings with their answer and the minutes waiting for
their comment; organisers also see the meetings of their grants that wait for a step
(schedule, mark held, write, circulate or adopt the minutes); programme staff see every
forum with its next and last meeting and its multi-agency coverage.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from .. import permissions
from ..actions.queries import MyActions, my_actions
from ..core.clock import utcnow
from ..core.paging import Page, paginate
from ..extensions import db
from ..forums.queries import (
    CardForum,
    Coverage,
    MeetingLine,
    coverage_of_kinds,
    last_meetings_held,
    next_meetings,
    visible_cards,
)
from ..models import Forum, ForumMember, Invitation, Meeting, Organisation, User

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
    coverage: Coverage


@dataclass
class HomePage:
    my_meetings: list[Invitation] = field(default_factory=list)
    to_comment: list[Meeting] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    overview: list[ForumOverview] = field(default_factory=list)
    actions: MyActions = field(default_factory=MyActions)  # awaiting my confirmation, due soon, overdue, the rest
    overview_page: Page | None = None  # the overview is paged: a programme has over a hundred forums
    is_organiser: bool = False
    shows_overview: bool = False  # programme staff: every forum at a glance

    @property
    def empty(self) -> bool:
        return not (self.my_meetings or self.to_comment or self.tasks or self.overview or not self.actions.empty)


def home_page(user, raw_page: str | None = None) -> HomePage:
    user = permissions.resolved(user)
    now = utcnow()
    page = HomePage(is_organiser=permissions.is_organiser(user), shows_overview=permissions.is_staff(user))
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


def _overview(user, raw_page: str | None) -> Page:
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
    page.items = [ForumOverview(f, upcoming.get(f.id), last.get(f.id), coverage_of_kinds(kinds[f.id])) for f in forums]
    return page

"""What the forum list and forum page show, loaded in a fixed number of queries.

Each loader's query count is independent of how many meetings, members or invitees
there are (tests prove it with small and ten-times-larger data).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, load_only, selectinload

from .. import permissions
from ..core.paging import Page, paginate
from ..core.search import contains
from ..extensions import db
from ..models import Forum, ForumMember, Grant, GrantTeam, Meeting, User, utcnow
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
    shows_grant: bool = False  # the grant reference is for its organisers and programme staff


def forum_list(user, filters: ForumFilters, raw_page: str | None = None) -> Page:
    """One page of the forums ``user`` may see (``Page.items`` are ForumRows), with the total count."""
    user = permissions.resolved(user)
    stmt = permissions.visible_forums(user).options(joinedload(Forum.grant).joinedload(Grant.programme))
    if filters.country:
        stmt = stmt.where(Forum.country == filters.country)
    if filters.grant_id:
        stmt = stmt.where(Forum.grant_id == filters.grant_id)
    if filters.city:
        stmt = stmt.where(func.lower(Forum.city) == filters.city.lower())
    if filters.q:
        stmt = stmt.where(contains(filters.q, Forum.title, Forum.focus, Forum.city))
    page = paginate(stmt.order_by(Forum.country, Forum.city, Forum.title, Forum.id), raw_page)
    forums = page.items
    ids = [f.id for f in forums]
    if not ids:
        return page
    counts = dict(db.session.execute(
        select(ForumMember.forum_id, func.count()).where(ForumMember.forum_id.in_(ids))
        .group_by(ForumMember.forum_id)).all())
    upcoming = next_meetings(ids)
    page.items = [ForumRow(f, counts.get(f.id, 0), upcoming.get(f.id), permissions.sees_grant_details(user, f))
                  for f in forums]
    return page


# The columns a meeting line (forums/_macros.html) shows: forum cards and the home page's overview load only these.
MEETING_LINE_COLUMNS = (Meeting.id, Meeting.forum_id, Meeting.title, Meeting.starts_at, Meeting.ends_at, Meeting.state,
                        Meeting.venue)


def next_meetings(forum_ids: list[int]) -> dict[int, Meeting]:
    """The next scheduled meeting of each forum, in one query."""
    now = utcnow()
    first = (select(Meeting.forum_id, func.min(Meeting.starts_at).label("starts_at"))
             .where(Meeting.forum_id.in_(forum_ids), Meeting.state == "scheduled", Meeting.ends_at >= now)
             .group_by(Meeting.forum_id).subquery())
    rows = db.session.execute(
        select(Meeting).join(first, (Meeting.forum_id == first.c.forum_id) & (Meeting.starts_at == first.c.starts_at))
        .where(Meeting.state == "scheduled")
        # What a meeting line shows: not the agenda's or the minutes' text (a page of 25 cards).
        .options(load_only(*MEETING_LINE_COLUMNS))
    ).scalars()
    return {m.forum_id: m for m in rows}


def filter_choices(user) -> dict[str, list]:
    """Countries, grants and cities among the forums the user may see (for the filter form)."""
    user = permissions.resolved(user)
    rows = db.session.execute(
        permissions.visible_forums(user).with_only_columns(Forum.country, Forum.city, Grant.id, Grant.reference)
        .join(Grant, Grant.id == Forum.grant_id).distinct()
    ).all()
    # Grant references are working detail: only the grants this person organises (all, for staff).
    staff, organised = permissions.is_staff(user), permissions.organiser_grant_ids(user)
    return {
        "countries": sorted({r[0] for r in rows}),
        "cities": sorted({r[1] for r in rows}),
        "grants": sorted({(r[2], r[3]) for r in rows if staff or r[2] in organised}, key=lambda g: g[1]),
    }


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
    can_edit: bool = False


def forum_page(user, forum_id: int, need: str = "view") -> ForumPage:
    user = permissions.resolved(user)
    forum = permissions.load_forum(user, forum_id, need=need, options=(
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
    # Planned, and cancelled ones that were still to come: they stay where people look for
    # that date, marked cancelled, rather than moving among the past meetings.
    is_upcoming = {m.id: m.ends_at >= now and m.state != "held" for m in meetings}
    upcoming = [m for m in meetings if is_upcoming[m.id]]
    past = [m for m in meetings if not is_upcoming[m.id]]
    next_meeting = next((m for m in upcoming if m.state == "scheduled"), None)
    return ForumPage(forum=forum, members_by_kind=ordered, coverage=coverage_of(forum.members),
                     next_meeting=next_meeting, upcoming=upcoming, past=list(reversed(past)),
                     organisers=[t.user for t in forum.grant.team],
                     can_edit=permissions.can_edit_forum(user, forum))


def coverage_of(members: list[ForumMember]) -> Coverage:
    """Which kinds of organisation the forum's active members come from (deactivated people do not count)."""
    return coverage_of_kinds({m.user.organisation.kind for m in members
                              if m.user.organisation is not None and m.user.active})


def coverage_of_kinds(kinds: set[str]) -> Coverage:
    return Coverage(
        present=[k for k in CORE_ORGANISATION_KINDS if k in kinds],
        missing=[k for k in CORE_ORGANISATION_KINDS if k not in kinds],
        others=[k for k in ORGANISATION_KINDS if k in kinds and k not in CORE_ORGANISATION_KINDS],
    )

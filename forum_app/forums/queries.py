"""What the forum list and forum page show, loaded in a fixed number of queries.

Each loader's query count is independent of how many meetings, members or invitees
there are (tests prove it with small and ten-times-larger data).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, func, select, union
from sqlalchemy.orm import joinedload, selectinload

from .. import permissions
from ..actions.followup import overdue_counts
from ..core.paging import Page, paginate
from ..core.rows import Into
from ..core.search import contains
from ..extensions import db
from ..models import Forum, ForumMember, Grant, GrantTeam, Meeting, Organisation, Programme, User, utcnow
from ..vocab import CORE_ORGANISATION_KINDS, ORGANISATION_KINDS

# --- forum list ---------------------------------------------------------------------------------


@dataclass
class ForumFilters:
    country: str = ""
    grant_id: int | None = None
    city: str = ""
    q: str = ""


@dataclass(slots=True, frozen=True)
class CardForum:
    """A forum as its card shows it, as plain values. It stands in for the Forum where the card's
    other loaders read one (next_meetings, actions.followup.overdue_counts, permissions)."""

    id: int
    title: str
    city: str
    country: str
    focus: str
    timezone: str
    grant_id: int
    grant_reference: str
    programme_name: str


@dataclass(slots=True, frozen=True)
class ForumRow:
    """Everything a forum card shows, for one viewer."""

    forum: CardForum
    members: int
    next_meeting: MeetingLine | None
    shows_grant: bool = False  # the grant reference is for its organisers and programme staff
    overdue: int = 0  # overdue actions among those the viewer may see


_CARD = Into(
    CardForum,
    Forum.id,
    Forum.title,
    Forum.city,
    Forum.country,
    Forum.focus,
    Forum.timezone,
    Forum.grant_id,
    Grant.reference,
    Programme.name,
)


def visible_cards(user) -> Select:
    """The forums ``user`` may see, as CardForums (for lists; add filters and ordering)."""
    return (
        permissions.visible_forums(user)
        .with_only_columns(_CARD)
        .join(Grant, Grant.id == Forum.grant_id)
        .join(Programme, Programme.id == Grant.programme_id)
    )


def forum_list(user, filters: ForumFilters, raw_page: str | None = None) -> Page:
    """One page of the forums ``user`` may see (``Page.items`` are ForumRows), with the total count."""
    user = permissions.resolved(user)
    stmt = visible_cards(user)
    if filters.country:
        stmt = stmt.where(Forum.country == filters.country)
    if filters.grant_id:
        stmt = stmt.where(Forum.grant_id == filters.grant_id)
    if filters.city:
        stmt = stmt.where(func.lower(Forum.city) == filters.city.lower())
    if filters.q:
        stmt = stmt.where(contains(filters.q, folded=Forum.search_text))  # title, focus and city, folded
    page = paginate(stmt.order_by(Forum.country, Forum.city, Forum.title, Forum.id), raw_page)
    forums = page.items
    ids = [f.id for f in forums]
    if not ids:
        return page
    counts = dict(
        db.session.execute(
            select(ForumMember.forum_id, func.count())
            .where(ForumMember.forum_id.in_(ids))
            .group_by(ForumMember.forum_id)
        )
        .tuples()
        .all()
    )
    upcoming, overdue = next_meetings(forums), overdue_counts(user, forums)
    page.items = [
        ForumRow(
            f, counts.get(f.id, 0), upcoming.get(f.id), permissions.sees_grant_details(user, f), overdue.get(f.id, 0)
        )
        for f in forums
    ]
    return page


@dataclass(slots=True, frozen=True)
class MeetingLine:
    """A meeting as a list of forums shows it (forums/_macros.html ``meeting_line``), as plain values:
    a page of 25 forums' meetings loaded as objects cost more than the rest of its queries."""

    id: int
    title: str
    starts_at: datetime
    ends_at: datetime
    state: str
    venue: str
    forum: Forum | Any  # its forum (the time zone it is shown in): a Forum, or the calendar's plain CalendarForum


def _one_meeting_per_forum(forums: Sequence[Forum], pick, *conditions) -> dict[int, MeetingLine]:
    """Per forum, the meeting matching ``conditions`` whose start is ``pick`` (min: the first, max: the last)."""
    by_id = {f.id: f for f in forums}
    if not by_id:
        return {}
    chosen = (
        select(Meeting.forum_id, pick(Meeting.starts_at).label("starts_at"))
        .where(Meeting.forum_id.in_(list(by_id)), *conditions)
        .group_by(Meeting.forum_id)
        .subquery()
    )
    rows = db.session.execute(
        select(
            Meeting.forum_id,
            Meeting.id,
            Meeting.title,
            Meeting.starts_at,
            Meeting.ends_at,
            Meeting.state,
            Meeting.venue,
        )
        .join(chosen, (Meeting.forum_id == chosen.c.forum_id) & (Meeting.starts_at == chosen.c.starts_at))
        .where(*conditions)
    )
    return {
        forum_id: MeetingLine(id_, title, starts_at, ends_at, state, venue or "", by_id[forum_id])
        for forum_id, id_, title, starts_at, ends_at, state, venue in rows
    }


def next_meetings(forums: Sequence[Forum]) -> dict[int, MeetingLine]:
    """The next scheduled meeting of each forum, in one query."""
    return _one_meeting_per_forum(forums, func.min, Meeting.state == "scheduled", Meeting.ends_at >= utcnow())


def last_meetings_held(forums: Sequence[Forum]) -> dict[int, MeetingLine]:
    """The last meeting each forum held, in one query."""
    return _one_meeting_per_forum(forums, func.max, Meeting.state == "held")


def filter_choices(user) -> dict[str, list]:
    """Countries, grants and cities among the forums the user may see (for the filter form)."""
    user = permissions.resolved(user)
    rows = db.session.execute(
        permissions.visible_forums(user)
        .with_only_columns(Forum.country, Forum.city, Grant.id, Grant.reference)
        .join(Grant, Grant.id == Forum.grant_id)
        .distinct()
    ).all()
    # Grant references are working detail: only the grants this person organises (all, for staff).
    staff, organised = permissions.is_staff(user), permissions.organiser_grant_ids(user)
    return {
        "countries": sorted({r[0] for r in rows}),
        "cities": sorted({r[1] for r in rows}),
        "grants": sorted({(r[2], r[3]) for r in rows if staff or r[2] in organised}, key=lambda g: g[1]),
    }


# --- forum page --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Coverage:
    present: tuple[str, ...]
    missing: tuple[str, ...]
    others: tuple[str, ...]  # kinds beyond the core set that are present

    @property
    def ratio(self) -> str:
        return f"{len(self.present)}/{len(CORE_ORGANISATION_KINDS)}"


@dataclass
class ForumPage:
    forum: Forum
    members_by_kind: dict[str, list[ForumMember]]
    coverage: Coverage  # agencies among the members (with the grant holder's)
    attended: Coverage | None  # agencies at the last three meetings held (None: none held yet)
    next_meeting: Meeting | None
    upcoming: list[Meeting]
    past: list[Meeting]
    organisers: list[User] = field(default_factory=list)
    can_edit: bool = False


def forum_page(user, forum_id: int, need: str = "view") -> ForumPage:
    user = permissions.resolved(user)
    forum = permissions.load_forum(
        user,
        forum_id,
        need=need,
        options=(
            joinedload(Forum.grant).joinedload(Grant.programme),
            joinedload(Forum.grant).joinedload(Grant.holder),
            joinedload(Forum.grant).selectinload(Grant.team).joinedload(GrantTeam.user).joinedload(User.organisation),
            selectinload(Forum.members).joinedload(ForumMember.user).joinedload(User.organisation),
        ),
    )
    members_by_kind: dict[str, list[ForumMember]] = defaultdict(list)
    for member in sorted(
        forum.members, key=lambda m: (m.user.organisation.name if m.user.organisation else "", m.user.name)
    ):
        kind = member.user.organisation.kind if member.user.organisation else "other"
        members_by_kind[kind].append(member)
    ordered = {k: members_by_kind[k] for k in ORGANISATION_KINDS if k in members_by_kind}

    meetings = (
        db.session.execute(
            permissions.visible_meetings(user).where(Meeting.forum_id == forum.id).order_by(Meeting.starts_at)
        )
        .scalars()
        .all()
    )
    now = utcnow()
    # Planned, and cancelled ones that were still to come: they stay where people look for
    # that date, marked cancelled, rather than moving among the past meetings.
    is_upcoming = {m.id: m.ends_at >= now and m.state != "held" for m in meetings}
    upcoming = [m for m in meetings if is_upcoming[m.id]]
    past = [m for m in meetings if not is_upcoming[m.id]]
    next_meeting = next((m for m in upcoming if m.state == "scheduled"), None)
    return ForumPage(
        forum=forum,
        members_by_kind=ordered,
        coverage=coverage_of(forum.members, forum.grant),
        attended=_attended(forum),
        next_meeting=next_meeting,
        upcoming=upcoming,
        past=list(reversed(past)),
        organisers=[t.user for t in forum.grant.team],
        can_edit=permissions.can_edit_forum(user, forum),
    )


def _attended(forum: Forum) -> Coverage | None:
    """Agencies at the forum's last three meetings held, as the dashboard counts them (reports.coverage)."""
    from ..reports.coverage import coverage_counts  # reports build on forums, not the other way round

    counted = coverage_counts(
        bindparam("forum_ids", [forum.id], expanding=True, literal_execute=True),
        utcnow().date() + timedelta(days=1),
        [forum.timezone],
    )
    return coverage_of_kinds(set(counted.present(forum.id))) if counted.meetings.get(forum.id) else None


def coverage_of(members: list[ForumMember], grant: Grant | None = None) -> Coverage:
    """Agencies among the members: which kinds of organisation the forum's active members come from
    (deactivated people do not count), with the grant holder's and its organisers' own (``grant``, its
    holder and team's people loaded): the NGO that organises and chairs every meeting is represented."""
    people = [m.user for m in members]
    kinds = set()
    if grant is not None:
        kinds.add(grant.holder.kind)
        people += [t.user for t in grant.team]
    kinds |= {person.organisation.kind for person in people if person.organisation is not None and person.active}
    return coverage_of_kinds(kinds)


def holder_kinds(forum_ids: Sequence[int]):
    """SQL: (forum id, kind) of each forum's grant holder and of its organisers' organisations (see coverage_of)."""
    holder = (
        select(Forum.id, Organisation.kind)
        .join(Grant, Grant.id == Forum.grant_id)
        .join(Organisation, Organisation.id == Grant.holder_id)
        .where(Forum.id.in_(forum_ids))
    )
    team = (
        select(Forum.id, Organisation.kind)
        .join(GrantTeam, GrantTeam.grant_id == Forum.grant_id)
        .join(User, User.id == GrantTeam.user_id)
        .join(Organisation, Organisation.id == User.organisation_id)
        .where(Forum.id.in_(forum_ids), User.active.is_(True))
    )
    return union(holder, team)


def coverage_of_kinds(kinds: set[str]) -> Coverage:
    return Coverage(
        present=tuple(k for k in CORE_ORGANISATION_KINDS if k in kinds),
        missing=tuple(k for k in CORE_ORGANISATION_KINDS if k not in kinds),
        others=tuple(k for k in ORGANISATION_KINDS if k in kinds and k not in CORE_ORGANISATION_KINDS),
    )

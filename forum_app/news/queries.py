"""What a news item is made of and what the public pages show, each in a fixed number of queries.

``held_forums`` is the pre-fill's material: per meeting held in the period, its forum's city, country and
focus, the kinds of agency present and how many people (never who), and the decisions marked public on
the meeting day (never those of a confidential item). ``unsayable`` is what the composer refuses to
publish: the confidential content of those meetings and the names of the people recorded at them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from .. import permissions
from ..core.paging import Page, paginate
from ..core.times import utc_to_local
from ..extensions import db
from ..models import (
    AgendaItem,
    Forum,
    Grant,
    Invitation,
    Meeting,
    MinutesVersion,
    NewsItem,
    Organisation,
    User,
    WalkInAttendee,
)
from ..vocab import ORGANISATION_KINDS

# Wide enough for every zone a forum may use either side of UTC; the local day is checked after.
_ZONE_MARGIN = timedelta(days=1)


@dataclass
class HeldForum:
    """One meeting held in the period, as a news item may tell it (no names)."""

    meeting_id: int
    forum_id: int
    day: date  # in the forum's own zone
    city: str
    country: str
    focus: str
    kinds: list[str] = field(default_factory=list)  # organisation kinds present, in the vocabulary's order
    people: int = 0
    public_decisions: list[str] = field(default_factory=list)


def _held_meetings(programme_id: int, grant_id: int | None, start: date, end: date) -> list[tuple[Meeting, Forum]]:
    low = datetime.combine(start, time.min, UTC) - _ZONE_MARGIN
    high = datetime.combine(end + timedelta(days=1), time.min, UTC) + _ZONE_MARGIN
    stmt = (
        select(Meeting, Forum)
        .join(Forum, Forum.id == Meeting.forum_id)
        .join(Grant, Grant.id == Forum.grant_id)
        .where(
            Grant.programme_id == programme_id,
            Meeting.state == "held",
            Meeting.starts_at >= low,
            Meeting.starts_at < high,
        )
        .order_by(Meeting.starts_at, Meeting.id)
    )
    if grant_id is not None:
        stmt = stmt.where(Forum.grant_id == grant_id)
    return [
        (meeting, forum)
        for meeting, forum in db.session.execute(stmt).tuples()
        if start <= utc_to_local(meeting.starts_at, forum.timezone).date() <= end
    ]


def held_forums(programme_id: int, grant_id: int | None, start: date, end: date) -> list[HeldForum]:
    """The meetings held in ``start``–``end`` (the forums' local days), in order: four queries in all."""
    rows = {
        meeting.id: HeldForum(
            meeting_id=meeting.id,
            forum_id=forum.id,
            day=utc_to_local(meeting.starts_at, forum.timezone).date(),
            city=forum.city,
            country=forum.country,
            focus=forum.focus,
        )
        for meeting, forum in _held_meetings(programme_id, grant_id, start, end)
    }
    if not rows:
        return []
    counts: dict[int, Counter] = {meeting_id: Counter() for meeting_id in rows}
    present = db.session.execute(
        select(Invitation.meeting_id, Organisation.kind, func.count())
        .select_from(Invitation)
        .join(User, User.id == Invitation.user_id)
        .outerjoin(Organisation, Organisation.id == User.organisation_id)
        .where(Invitation.meeting_id.in_(rows), Invitation.attendance == "present")
        .group_by(Invitation.meeting_id, Organisation.kind)
    ).tuples()
    walk_ins = db.session.execute(
        select(WalkInAttendee.meeting_id, WalkInAttendee.organisation_kind, func.count())
        .where(WalkInAttendee.meeting_id.in_(rows))
        .group_by(WalkInAttendee.meeting_id, WalkInAttendee.organisation_kind)
    ).tuples()
    for meeting_id, kind, number in [*present, *walk_ins]:
        counts[meeting_id][kind or "other"] += number  # people without an organisation count as "other"
    for meeting_id, row in rows.items():
        row.kinds = [kind for kind in ORGANISATION_KINDS if counts[meeting_id][kind]]
        row.people = sum(counts[meeting_id].values())
    for meeting_id, public in db.session.execute(
        select(AgendaItem.meeting_id, AgendaItem.public_decisions)
        .where(AgendaItem.meeting_id.in_(rows), AgendaItem.confidential.is_(False))
        .order_by(AgendaItem.meeting_id, AgendaItem.position, AgendaItem.id)
    ).tuples():
        rows[meeting_id].public_decisions += list(public or [])
    return list(rows.values())


def _lines(text: str) -> list[str]:
    """A Markdown text's substantial lines, without list marks: what a copy-and-paste would carry."""
    found = []
    for line in (text or "").splitlines():
        line = line.strip().lstrip("-*+#>").strip()
        if len(line) >= 12:
            found.append(line)
    return found


def unsayable(programme_id: int, grant_id: int | None, start: date, end: date) -> list[str]:
    """What a news item about these meetings must never contain: the confidential items' notes and decisions
    and the minutes' confidential part, and the names of the people invited or walking in (four queries)."""
    meeting_ids = [meeting.id for meeting, _forum in _held_meetings(programme_id, grant_id, start, end)]
    if not meeting_ids:
        return []
    found: list[str] = []
    for notes_md, decisions in db.session.execute(
        select(AgendaItem.notes_md, AgendaItem.decisions).where(
            AgendaItem.meeting_id.in_(meeting_ids), AgendaItem.confidential.is_(True)
        )
    ).tuples():
        found += _lines(notes_md) + list(decisions or [])
    for secret_md, secret_decisions in db.session.execute(
        select(MinutesVersion.confidential_md, MinutesVersion.confidential_decisions).where(
            MinutesVersion.meeting_id.in_(meeting_ids)
        )
    ).tuples():
        found += [line for line in _lines(secret_md) if not line[:1].isdigit()] + list(secret_decisions or [])
    names = db.session.execute(
        select(User.name).join(Invitation, Invitation.user_id == User.id).where(Invitation.meeting_id.in_(meeting_ids))
    ).scalars()
    walk_ins = db.session.execute(
        select(WalkInAttendee.name).where(WalkInAttendee.meeting_id.in_(meeting_ids))
    ).scalars()
    found += [name for name in [*names, *walk_ins] if name and len(name.split()) >= 2]
    return sorted({text for text in found if text.strip()})


# --- the public pages ---------------------------------------------------------------------------------


def published(page_arg: str | None) -> Page:
    """Published items, newest first, a page at a time."""
    stmt = (
        select(NewsItem)
        .where(NewsItem.state == "published")
        .options(joinedload(NewsItem.programme))
        .order_by(NewsItem.published_at.desc(), NewsItem.id.desc())
    )
    return paginate(stmt, page_arg)


def latest_published(limit: int = 20) -> list[NewsItem]:
    return list(
        db.session.execute(
            select(NewsItem)
            .where(NewsItem.state == "published")
            .options(joinedload(NewsItem.programme))
            .order_by(NewsItem.published_at.desc(), NewsItem.id.desc())
            .limit(limit)
        ).scalars()
    )


def drafts_of(user) -> list[NewsItem]:
    """The drafts this person may open: their own (and, for admins, everyone's)."""
    stmt = select(NewsItem).where(NewsItem.state == "draft").order_by(NewsItem.updated_at.desc())
    if not permissions.is_admin(user):
        stmt = stmt.where(NewsItem.author_id == user.id)
    return list(db.session.execute(stmt).scalars())


def compose_choices(user) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """The programmes and grants this person may write about (staff: all; organisers: their own grants)."""
    from ..models import Programme

    grants = select(Grant.id, Grant.reference, Grant.title, Grant.programme_id).order_by(Grant.reference)
    if not permissions.is_staff(user):
        grants = grants.where(Grant.id.in_(permissions.organiser_grant_ids(user)))
    grant_rows = list(db.session.execute(grants).tuples())
    programmes = select(Programme.id, Programme.name).order_by(Programme.name)
    if not permissions.is_staff(user):
        programmes = programmes.where(Programme.id.in_({row[3] for row in grant_rows}))
    return (
        [(pid, name) for pid, name in db.session.execute(programmes).tuples()],
        [(gid, f"{reference} – {title}") for gid, reference, title, _p in grant_rows],
    )

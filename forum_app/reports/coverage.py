"""Multi-agency coverage: which kinds of organisation came to each forum's last few held meetings.

A kind came to a meeting when one of its people invited was marked present, or a walk-in of that
kind was recorded. The dashboard's heatmap shows, per forum and kind, at how many of the forum's
last ``COVERAGE_MEETINGS`` meetings held by the period's end the kind came (``coverage_counts``);
the headline tile follows the share of the core kinds present at a few moments (``coverage_shares``).
Both are one grouped statement, their rows bounded by the forums, kinds and moments.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import CTE, BindParameter, Integer, and_, case, func, literal, null, select, union, union_all
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import Forum, Invitation, Meeting, Organisation, User, WalkInAttendee
from ..vocab import CORE_ORGANISATION_KINDS
from .periods import by_zone, local_before, utc_start

# Coverage: kinds present at any of a forum's last few held meetings up to the period's end.
COVERAGE_MEETINGS = 3


@dataclass(frozen=True)
class Coverage:
    """Each forum's coverage at one moment (plain values: cached with the dashboard's figures)."""

    kinds: dict[int, dict[str, int]] = field(default_factory=dict)  # forum → {kind: last meetings it came to}
    meetings: dict[int, int] = field(default_factory=dict)  # forum → its last meetings counted (0 to 3)

    def present(self, forum_id: int) -> frozenset[str]:
        """The kinds that came to at least one of the forum's last meetings."""
        return frozenset(kind for kind, n in self.kinds.get(forum_id, {}).items() if n)

    def count(self, forum_id: int, kind: str) -> int:
        return self.kinds.get(forum_id, {}).get(kind, 0)


def _last_meetings(ids: BindParameter, days: Sequence[date], zones: list[str]) -> CTE:
    """(at, forum_id, meeting_id): each forum's last ``COVERAGE_MEETINGS`` meetings held before the local
    date ``days[at]``, for every ``at``."""
    parts = []
    for at, day in enumerate(days):
        ranked = (
            select(
                Meeting.id.label("meeting_id"),
                Meeting.forum_id.label("forum_id"),
                func.row_number()
                .over(partition_by=Meeting.forum_id, order_by=(Meeting.starts_at.desc(), Meeting.id.desc()))
                .label("n"),
            )
            .join(Forum, Forum.id == Meeting.forum_id)
            .where(Meeting.forum_id.in_(ids), Meeting.state == "held", local_before(Meeting.starts_at, day, zones))
            .subquery()
        )
        parts.append(
            select(literal(at, Integer).label("at"), ranked.c.forum_id, ranked.c.meeting_id).where(
                ranked.c.n <= COVERAGE_MEETINGS
            )
        )
    return (parts[0] if len(parts) == 1 else union_all(*parts)).cte("last_meetings")


def _meeting_kinds(last, meeting_id):
    """(meeting_id, kind): the kinds that came to the meetings of ``last`` (its column ``meeting_id``), once each."""
    meetings = select(meeting_id)
    invitees = (
        select(Invitation.meeting_id.label("meeting_id"), Organisation.kind.label("kind"))
        .join(User, User.id == Invitation.user_id)
        .join(Organisation, Organisation.id == User.organisation_id)
        .where(
            Invitation.meeting_id.in_(meetings),
            Invitation.attendance == "present",
            Invitation.on_behalf_of_id.is_(None),
        )
    )
    # A delegate counts for the organisation of the invitee they came for (meetings.delegates), not their own.
    represented = aliased(Invitation)
    delegates = (
        select(Invitation.meeting_id, Organisation.kind)
        .join(represented, represented.id == Invitation.on_behalf_of_id)
        .join(User, User.id == represented.user_id)
        .join(Organisation, Organisation.id == User.organisation_id)
        .where(Invitation.meeting_id.in_(meetings), Invitation.attendance == "present")
    )
    walk_ins = select(WalkInAttendee.meeting_id, WalkInAttendee.organisation_kind).where(
        WalkInAttendee.meeting_id.in_(meetings)
    )
    return union(invitees, delegates, walk_ins).subquery("meeting_kinds")


def coverage_counts(ids: BindParameter, day: date, zones: list[str]) -> Coverage:
    """Coverage before the local date ``day`` (the day after the period): one statement, a row per forum and kind."""
    last = _last_meetings(ids, [day], zones)
    kinds = _meeting_kinds(last, last.c.meeting_id)
    per_kind = (
        select(last.c.forum_id, kinds.c.kind, func.count())
        .join(kinds, kinds.c.meeting_id == last.c.meeting_id)
        .group_by(last.c.forum_id, kinds.c.kind)
    )
    counted = select(last.c.forum_id, null(), func.count()).group_by(last.c.forum_id)
    by_kind: dict[int, dict[str, int]] = {}
    meetings: dict[int, int] = {}
    for forum_id, kind, n in db.session.connection().execute(union_all(per_kind, counted)):
        if kind is None:
            meetings[forum_id] = n
        else:
            by_kind.setdefault(forum_id, {})[kind] = n
    return Coverage(by_kind, meetings)


def coverage_shares(ids: BindParameter, days: Sequence[date], zones: list[str]) -> list[float | None]:
    """At each local date of ``days`` (ascending): the share of (forum, core kind) pairs present at the
    forum's last meetings, over the forums that had held one (None where none had). One statement, a
    row per date.

    Each held meeting is among its forum's last three from the first date after it to the last date
    before the meeting three places later: a range of the dates, found once per meeting (one window
    over the forums' meetings) rather than a ranking of the meetings per date.
    """
    if not days:
        return []
    last = len(days) - 1
    ranked = (
        select(
            Meeting.id.label("meeting_id"),
            Meeting.forum_id.label("forum_id"),
            Meeting.starts_at.label("starts_at"),
            Forum.timezone.label("timezone"),
            func.lead(Meeting.starts_at, COVERAGE_MEETINGS)
            .over(partition_by=Meeting.forum_id, order_by=(Meeting.starts_at, Meeting.id))
            .label("later"),
        )
        .join(Forum, Forum.id == Meeting.forum_id)
        .where(Meeting.forum_id.in_(ids), Meeting.state == "held", local_before(Meeting.starts_at, days[-1], zones))
        .subquery()
    )

    def first_before(column):
        """The first index ``i`` whose date begins after ``column`` (NULL if none does)."""
        return by_zone(
            zones,
            lambda zone: tuple(utc_start(day, zone) for day in days),
            lambda bounds: case(*[(column < bound, i) for i, bound in enumerate(bounds)], else_=null()),
            zone_column=ranked.c.timezone,
        )

    later = first_before(ranked.c.later)
    ranges = select(
        ranked.c.meeting_id,
        ranked.c.forum_id,
        first_before(ranked.c.starts_at).label("since"),
        case((ranked.c.later.is_(None), last), else_=func.coalesce(later - 1, last)).label("until"),
    ).subquery()
    kinds = _meeting_kinds(ranges, ranges.c.meeting_id)
    at = union_all(*[select(literal(i, Integer).label("i")) for i in range(len(days))]).subquery("at")
    covers = and_(at.c.i >= ranges.c.since, at.c.i <= ranges.c.until)
    pairs = (
        select(at.c.i, ranges.c.forum_id, kinds.c.kind)
        .join(ranges, covers)
        .join(kinds, kinds.c.meeting_id == ranges.c.meeting_id)
        .where(kinds.c.kind.in_(CORE_ORGANISATION_KINDS))
        .distinct()
        .subquery()
    )
    met = select(at.c.i, ranges.c.forum_id).join(ranges, covers).distinct().subquery()
    counted = union_all(
        select(pairs.c.i, literal("pairs"), func.count()).group_by(pairs.c.i),
        select(met.c.i, literal("forums"), func.count()).group_by(met.c.i),
    )
    counts = {(i, what): n for i, what, n in db.session.connection().execute(counted)}
    shares: list[float | None] = []
    for i in range(len(days)):
        forums = counts.get((i, "forums"), 0)
        shares.append(counts.get((i, "pairs"), 0) / (forums * len(CORE_ORGANISATION_KINDS)) if forums else None)
    return shares


def coverage_share(coverage: Coverage, forum_ids: Sequence[int]) -> float | None:
    """The share of (forum, core kind) pairs present over the forums that had held a meeting (as ``coverage_shares``)."""
    met = [forum_id for forum_id in forum_ids if coverage.meetings.get(forum_id)]
    if not met:
        return None
    present = sum(len(coverage.present(forum_id) & set(CORE_ORGANISATION_KINDS)) for forum_id in met)
    return present / (len(met) * len(CORE_ORGANISATION_KINDS))

"""The programme report: one document for a selection (programme, grant, country or forum) and a period.

A cover with the headline figures, a table of contents, then a forum per printed page. The cover's
figures are the dashboard's tiles, made by the same functions from the same figures
(``dashboard.assembled_figures`` and ``tiles.tiles``, shared with the dashboard's cache), so the two
can never tell different stories. The forums' meetings and actions are read for all of them at once:
a fixed number of queries whatever the number of forums (tests/test_programme_report.py).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from .. import permissions
from ..actions.followup import is_overdue
from ..core.clock import utcnow
from ..extensions import db
from ..models import ActionItem, Forum, Meeting, Programme
from ..vocab import ACTION_OPEN_STATES, CORE_ORGANISATION_KINDS, COUNTRIES
from .dashboard import assembled_figures
from .figures import action_condition, scoped_forums
from .lists import ForumProgress, meetings_stmt
from .periods import ReportFilters
from .rows import Figures, ForumInfo, GrantInfo, forum_of
from .tiles import Tile, tiles

# The actions listed on a forum's page (the rest are counted, and in the actions list).
ACTIONS_PER_FORUM = 12


@dataclass
class ProgrammeReport:
    filters: ReportFilters
    counted_at: datetime  # when the figures were counted (they may come from the dashboard's cache)
    tiles: list[Tile]  # the dashboard's headline tiles for the same selection
    total: Figures
    forums: list[ForumProgress]  # a forum per printed page, in the dashboard's order
    programmes: list[str]  # the names of the programmes the selection's forums belong to
    selection: list[tuple[str, str]]  # (what, which) of the filters chosen, for the cover
    now: datetime
    programme_choices: list[tuple[int, str]]  # the pickers' choices: what the person may report on
    grant_choices: list[GrantInfo]
    forum_choices: list[ForumInfo]


def programme_report(user, filters: ReportFilters, now: datetime | None = None) -> ProgrammeReport:
    permissions.require(permissions.can_report_on(user, filters.grant_id, filters.forum_id, filters.programme_id))
    now = now or utcnow()
    figured = assembled_figures(user, filters, now, headline=True)
    if figured.headline is None:  # not reached: asked for above
        raise ValueError("the report's figures lack their headline")
    cover = tiles(
        figured.total, figured.forums, figured.coverage, figured.headline, figured.quarters, figured.by_quarter
    )
    forum_ids = [forum_of(row).id for row in figured.forums]
    # The programmes in the person's reach (the picker), and those of the selection's forums (the title).
    reach_programmes = {g.programme_id for g in figured.grant_choices}
    programme_choices = [
        (programme_id, name)
        for programme_id, name in db.session.execute(
            select(Programme.id, Programme.name).where(Programme.id.in_(reach_programmes)).order_by(Programme.name)
        )
    ]
    selected = {row.grant.programme_id for row in figured.forums if row.grant}
    programmes = [name for programme_id, name in programme_choices if programme_id in selected]
    meetings: dict[int, list[Meeting]] = defaultdict(list)
    actions: dict[int, list[ActionItem]] = defaultdict(list)
    totals: dict[int, int] = {}  # forum → its actions the page would list without the limit
    # The forums, held here while the actions are judged (is_overdue reads the forum's zone; the
    # session keeps only weak references, so without these each action would load its forum again).
    held: list[Forum] = []
    if forum_ids:
        held = list(db.session.execute(select(Forum).where(Forum.id.in_(forum_ids))).scalars())
        zones = sorted({forum.timezone for forum in held})  # the selection's forums' zones judge their dates
        for meeting in db.session.execute(meetings_stmt(user, filters)).scalars():
            meetings[meeting.forum_id].append(meeting)
        # A forum's page lists its ACTIONS_PER_FORUM open actions due first (and those done in the
        # period), overdue ones first by nature, and says how many more there are: a forum with 500 open
        # actions still fits its printed page, and the document stays the size of the programme.
        listed = (
            select(
                ActionItem.id.label("id"),
                func.row_number()
                .over(
                    partition_by=ActionItem.forum_id,
                    order_by=(ActionItem.due_on.is_(None), ActionItem.due_on, ActionItem.id),
                )
                .label("n"),
                func.count().over(partition_by=ActionItem.forum_id).label("total"),
            )
            .join(ActionItem.forum)
            .where(
                ActionItem.forum_id.in_(scoped_forums(user, filters).with_only_columns(Forum.id).scalar_subquery()),
                or_(ActionItem.state.in_(ACTION_OPEN_STATES), action_condition("done", filters, zones, now)),
            )
            .subquery()
        )
        stmt = (
            select(ActionItem, listed.c.total)
            .join(listed, listed.c.id == ActionItem.id)
            .where(listed.c.n <= ACTIONS_PER_FORUM)
            .options(joinedload(ActionItem.owner))
            .order_by(ActionItem.forum_id, listed.c.n)
        )
        for action, total in db.session.execute(stmt).unique():
            actions[action.forum_id].append(action)
            totals[action.forum_id] = total
    sections = []
    for row in figured.forums:
        forum_id = forum_of(row).id
        kinds = figured.coverage.present(forum_id)
        shown = actions.get(forum_id, [])
        sections.append(
            ForumProgress(
                row,
                meetings.get(forum_id, []),
                shown,
                [a for a in shown if is_overdue(a, now)],
                {kind: kind in kinds for kind in CORE_ORGANISATION_KINDS},
                more_actions=totals.get(forum_id, 0) - len(shown),
            )
        )
    del held
    return ProgrammeReport(
        filters,
        figured.counted_at,
        cover,
        figured.total,
        sections,
        programmes,
        _selection(filters, figured),
        now,
        programme_choices,
        figured.grant_choices,
        figured.forum_choices,
    )


def _selection(filters: ReportFilters, figured) -> list[tuple[str, str]]:
    """The filters chosen, in words (the programme's name is the cover's title; a grant or forum outside
    the person's reach shows no name)."""
    chosen: list[tuple[str, str]] = []
    if filters.country:
        chosen.append((_("Country"), str(COUNTRIES[filters.country])))
    if filters.grant_id:
        grant = next((g for g in figured.grant_choices if g.id == filters.grant_id), None)
        chosen.append((_("Grant"), grant.reference if grant else "–"))
    if filters.forum_id:
        forum = next((f for f in figured.forum_choices if f.id == filters.forum_id), None)
        chosen.append((_("Forum"), forum.title if forum else "–"))
    return chosen

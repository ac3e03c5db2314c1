"""The lists behind the dashboard's figures, and the printable forum progress report.

A list holds the rows its figure counts (the same SQL conditions: reports/figures.py), in the
person's reach and the filters, a page at a time; its total is counted by the database in one query.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import joinedload

from .. import permissions
from ..actions.followup import is_overdue
from ..core.clock import utcnow
from ..core.paging import Page, paginate, paginate_narrow, parse_page_number
from ..extensions import db
from ..models import ActionItem, Forum, Grant, Meeting
from ..vocab import ACTION_OPEN_STATES, CORE_ORGANISATION_KINDS
from .figures import Row, _forum_ids, action_condition, meeting_condition, report_figures, scoped_forums
from .periods import ReportFilters, forum_zones


def meetings_stmt(user, filters: ReportFilters, figure: str = "") -> Select:
    return (
        select(Meeting)
        .join(Meeting.forum)
        .where(Meeting.forum_id.in_(_forum_ids(user, filters)), meeting_condition(figure, filters, forum_zones()))
        .order_by(Meeting.starts_at, Meeting.id)
    )


def meetings_page(user, filters: ReportFilters, figure: str, raw_page: str | None, options: Sequence = ()) -> Page:
    """A page of ``meetings_stmt`` and its total (two queries, and ``options``' own)."""
    return paginate(meetings_stmt(user, filters, figure).options(*options), raw_page)


def actions_page(
    user, filters: ReportFilters, figure: str, raw_page: str | None, options: Sequence = (), now: datetime | None = None
) -> Page:
    """A page of ``actions_stmt``: its total counted, then the page's ids sorted alone (narrow rows),
    then those loaded (``paginate_narrow``).

    Sorting the whole matching set with its joined owner and organisation to keep 25 rows
    was most of the list's time at programme scale.
    """
    return paginate_narrow(actions_stmt(user, filters, figure, now), raw_page, tuple(options))


def actions_stmt(user, filters: ReportFilters, figure: str = "raised", now: datetime | None = None) -> Select:
    if figure == "on_time":
        raise ValueError("on_time is a share; list the 'due' actions")
    now = now or utcnow()
    stmt = (
        select(ActionItem)
        .join(ActionItem.forum)
        .where(
            ActionItem.forum_id.in_(_forum_ids(user, filters)), action_condition(figure, filters, forum_zones(), now)
        )
    )
    return stmt.order_by(ActionItem.forum_id, ActionItem.id)


def page_of(rows: list, raw_page: str | None, size: int | None = None) -> Page:
    """One page of rows already counted (a number past the last page shows the last)."""
    size = size or current_app.config["PAGE_SIZE"]
    pages = max(1, -(-len(rows) // size))
    number = min(parse_page_number(raw_page), pages)
    return Page(items=rows[(number - 1) * size : number * size], number=number, size=size, total=len(rows))


# --- the printable forum progress report -----------------------------------------------------------


@dataclass
class ForumProgress:
    row: Row
    meetings: list[Meeting]
    actions: list[ActionItem]
    overdue: list[ActionItem]
    coverage: dict[str, bool]
    more_actions: int = 0  # not listed (the programme report lists a few per forum)


@dataclass
class ProgressReport:
    filters: ReportFilters
    forums: list[ForumProgress]  # this page's (one forum)
    page: Page  # of the report's forums, one per page
    choices: list[tuple[int, str]]  # (page number, forum title) for the picker
    now: datetime


def progress_report(
    user, filters: ReportFilters, now: datetime | None = None, raw_page: str | None = None
) -> ProgressReport:
    """A page per forum: its figures, the period's meetings, its open actions (and those done in the period).

    Only the page's forum is counted and listed, so the page stays the size of one forum's
    report whatever the programme's; the picker and the pager reach the others.
    """
    permissions.require(permissions.can_view_reports(user))
    now = now or utcnow()
    forums = db.session.execute(
        scoped_forums(user, filters)
        .with_only_columns(Forum.id, Forum.title)
        .join(Forum.grant)
        .order_by(Forum.country, Grant.reference, Forum.title)
    ).all()
    page = page_of([forum_id for forum_id, _ in forums], raw_page, size=1)
    choices = [(n, title) for n, (_, title) in enumerate(forums, 1)]
    if not page.items:
        return ProgressReport(filters, [], page, choices, now)
    forum_id = page.items[0]
    one = filters.narrowed(forum_id=forum_id)
    report = report_figures(user, one, now)
    if not report.forums:  # gone between the two queries
        return ProgressReport(filters, [], page, choices, now)
    row = report.forums[0]
    meetings = list(db.session.execute(meetings_stmt(user, one)).scalars())
    stmt = (
        select(ActionItem)
        .join(ActionItem.forum)
        .where(
            ActionItem.forum_id == forum_id,
            or_(ActionItem.state.in_(ACTION_OPEN_STATES), action_condition("done", one, report.zones, now)),
        )
        .options(joinedload(ActionItem.owner))
        .order_by(ActionItem.due_on, ActionItem.id)
    )
    # The actions' forum (is_overdue reads its zone), loaded once and held here (the session keeps
    # only weak references): the report's forums are read as plain values, and joining it into every
    # action row would repeat its description with each.
    forum = db.session.get(Forum, forum_id)
    actions = list(db.session.execute(stmt).unique().scalars())
    kinds = report.coverage.present(forum_id)
    coverage = {kind: kind in kinds for kind in CORE_ORGANISATION_KINDS}
    progress = ForumProgress(row, meetings, actions, [a for a in actions if is_overdue(a, now)], coverage)
    del forum
    return ProgressReport(filters, [progress], page, choices, now)

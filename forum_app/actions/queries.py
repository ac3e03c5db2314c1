"""What the action pages show (an action and its timeline, the forum's board and matrix, my actions),
loaded in a fixed number of queries whatever the data. The follow-up rules (overdue, an action's
state at a meeting, a meeting's follow-up section) are in followup.py.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Text, and_, case, cast, false, func, or_, select, union
from sqlalchemy.orm import joinedload, selectinload

from .. import permissions
from ..core.clock import utcnow
from ..core.paging import Page, paginate_narrow
from ..extensions import db
from ..models import (
    ActionItem,
    ActionUpdate,
    Forum,
    ForumMember,
    Grant,
    GrantTeam,
    Meeting,
    MinutesVersion,
    Organisation,
    User,
)
from ..permissions import ActionFlags
from ..vocab import ACTION_CLOSED_STATES, ACTION_OPEN_STATES
from .followup import (
    MEETING_STATES_SHOWN,
    AtMeeting,
    at_meeting,
    in_span,
    is_overdue,
    local_today,
    overdue_condition,
    zones_by_today,
)

DUE_SOON_DAYS = 14
TO_REASSIGN_DAYS = 90  # declined actions stay on the organisers' list this long
STAFF_NOTE_DAYS = 30  # programme staff's notes stay on the home page of the action's owner and organisers

ACTION_LIST_OPTIONS = (
    joinedload(ActionItem.forum),
    joinedload(ActionItem.owner),
    joinedload(ActionItem.owner_organisation),
)
HISTORY_OPTIONS = (
    *ACTION_LIST_OPTIONS,
    selectinload(ActionItem.updates).joinedload(ActionUpdate.author),
    selectinload(ActionItem.updates).joinedload(ActionUpdate.owner),
    selectinload(ActionItem.updates).joinedload(ActionUpdate.meeting),
)


# --- one action: its page and timeline ------------------------------------------------------------------


@dataclass
class ActionPage:
    action: ActionItem
    flags: ActionFlags
    updates: list[ActionUpdate]
    timeline: list[AtMeeting]
    decision: str | None  # the minutes' decision it was raised from
    overdue: bool
    owners: list[User]  # who it may be reassigned to (organisers only)


def action_page(user, action_id: int, need: str = "view") -> ActionPage:
    action = permissions.load_action(
        user, action_id, need=need, options=(*HISTORY_OPTIONS[1:], joinedload(ActionItem.meeting))
    )
    now = utcnow()
    meetings = (
        db.session.execute(
            permissions.visible_meetings(user)
            .where(Meeting.forum_id == action.forum_id, Meeting.state.in_(MEETING_STATES_SHOWN))
            .order_by(Meeting.starts_at)
        )
        .scalars()
        .all()
    )
    timeline, previous = [], None
    for meeting in meetings:
        if in_span(action, meeting, previous.starts_at if previous else None, previous.id if previous else None):
            timeline.append(at_meeting(action, meeting, now))
        previous = meeting
    decision = None
    # decision_number and decision_version are set together, only with the meeting (the table's checks)
    number, meeting = action.decision_number, action.meeting
    if action.decision_version is not None and number is not None and meeting is not None:
        version = db.session.execute(
            select(MinutesVersion).where(
                MinutesVersion.meeting_id == action.meeting_id, MinutesVersion.number == action.decision_version
            )
        ).scalar_one_or_none()
        if version is not None and permissions.can_view_minutes(user, meeting) and 0 < number <= len(version.decisions):
            decision = version.decisions[number - 1]
    flags = permissions.action_flags(user, action)
    return ActionPage(
        action,
        flags,
        list(action.updates),
        timeline,
        decision,
        is_overdue(action, now),
        possible_owners(action.forum) if flags.can_reassign else [],
    )


def possible_owners(forum: Forum) -> list[User]:
    """The forum's active members and organisers: who may own its actions."""
    # One IN over the union: "in members OR in team" made PostgreSQL scan all 12,000 people (6 ms, not 0.4).
    people = union(
        select(ForumMember.user_id).where(ForumMember.forum_id == forum.id),
        select(GrantTeam.user_id).where(GrantTeam.grant_id == forum.grant_id),
    )
    return list(
        db.session.execute(
            select(User)
            .where(User.active.is_(True), User.id.in_(people))
            .options(joinedload(User.organisation))
            .order_by(User.name)
        ).scalars()
    )


def organisations_of(forum: Forum) -> list[Organisation]:
    """Organisations an action's owner may act for: the forum's country's."""
    return list(
        db.session.execute(
            select(Organisation).where(Organisation.country == forum.country).order_by(Organisation.name)
        ).scalars()
    )


# --- the forum's board and matrix ----------------------------------------------------------------


@dataclass
class BoardFilters:
    state: str = ""
    owner_id: int | None = None
    organisation_id: int | None = None
    theme: str = ""
    overdue: bool = False
    newest_due_first: bool = False

    def args(self) -> dict[str, str]:
        """For links that keep the filters (the pager)."""
        values = {
            "state": self.state,
            "owner": self.owner_id or "",
            "organisation": self.organisation_id or "",
            "theme": self.theme,
            "overdue": "1" if self.overdue else "",
            "sort": "-due" if self.newest_due_first else "",
        }
        return {k: str(v) for k, v in values.items() if v}


@dataclass
class Board:
    forum: Forum
    page: Page
    filters: BoardFilters
    owners: list[User]
    organisations: list[Organisation]
    themes: list[str]
    overdue_ids: set[int]
    can_raise: bool
    owner_gone_ids: set[int] = field(default_factory=set)  # open, owner deactivated or gone from the forum


def board(user, forum_id: int, filters: BoardFilters, raw_page: str | None) -> Board:
    forum = permissions.load_forum(user, forum_id, options=(joinedload(Forum.grant).joinedload(Grant.programme),))
    themes = list(forum.grant.programme.themes or [])
    if filters.theme not in themes:
        filters.theme = ""  # only the programme's themes filter anything
    stmt = permissions.visible_actions(user).where(ActionItem.forum_id == forum.id)
    if filters.state:
        stmt = stmt.where(ActionItem.state == filters.state)
    if filters.owner_id:
        stmt = stmt.where(ActionItem.owner_id == filters.owner_id)
    if filters.organisation_id:
        stmt = stmt.where(ActionItem.owner_organisation_id == filters.organisation_id)
    if filters.theme:
        # Themes are a JSON list; its text holds each theme as json.dumps writes it.
        stmt = stmt.where(cast(ActionItem.themes, Text).contains(json.dumps(filters.theme), autoescape=True))
    if filters.overdue:
        stmt = stmt.where(overdue_condition())
    due = ActionItem.due_on.desc() if filters.newest_due_first else ActionItem.due_on
    page = paginate_narrow(
        stmt.order_by(ActionItem.due_on.is_(None), due, ActionItem.id), raw_page, ACTION_LIST_OPTIONS
    )
    now = utcnow()
    owners = possible_owners(forum)  # the forum's active members and organisers
    available = {person.id for person in owners}
    organisations = list(
        db.session.execute(
            select(Organisation)
            .where(Organisation.id.in_(select(ActionItem.owner_organisation_id).where(ActionItem.forum_id == forum.id)))
            .order_by(Organisation.name)
        ).scalars()
    )
    return Board(
        forum,
        page,
        filters,
        owners,
        organisations,
        themes,
        {a.id for a in page.items if is_overdue(a, now)},
        permissions.can_edit_forum(user, forum),
        {a.id for a in page.items if a.state in ACTION_OPEN_STATES and a.owner_id not in available},
    )


MATRIX_PAGE_SIZE = 50
MATRIX_SHOWS = ("open", "closed")  # and "": every action


@dataclass
class MatrixRow:
    action: ActionItem
    cells: list[AtMeeting | None]  # one per meeting; None: not followed up then
    overdue: bool


@dataclass
class Matrix:
    forum: Forum
    meetings: list[Meeting]
    rows: list[MatrixRow]
    page: Page  # of actions: the rows are a page of the forum's actions
    show: str  # "open", "closed" or "" (all)

    def args(self) -> dict[str, str]:
        """For links that keep the filter (the pager)."""
        return {"show": self.show} if self.show else {}


def matrix(user, forum_id: int, show: str = "", raw_page: str | None = None) -> Matrix:
    """A page of the forum's actions × its meetings, with the state at each.

    Paged by action (the forum's actions grow with every meeting): open ones first, then
    closed ones, each in the order they were raised; ``show`` keeps to one of the two.
    """
    forum = permissions.load_forum(user, forum_id)
    show = show if show in MATRIX_SHOWS else ""
    now = utcnow()
    meetings = (
        db.session.execute(
            permissions.visible_meetings(user)
            .where(Meeting.forum_id == forum.id, Meeting.state.in_(MEETING_STATES_SHOWN))
            .order_by(Meeting.starts_at)
        )
        .scalars()
        .all()
    )
    closed = ActionItem.state.in_(ACTION_CLOSED_STATES)
    stmt = (
        permissions.visible_actions(user)
        .where(ActionItem.forum_id == forum.id)
        .order_by(closed, ActionItem.created_at, ActionItem.id)
    )
    if show:
        stmt = stmt.where(closed if show == "closed" else ~closed)
    page = paginate_narrow(stmt, raw_page, (joinedload(ActionItem.owner),), size=MATRIX_PAGE_SIZE)
    # The page's histories as plain rows (at_meeting reads id, created_at, to_state and meeting_id).
    history: dict[int, list] = defaultdict(list)
    if page.items:
        for entry in db.session.execute(
            select(
                ActionUpdate.action_id,
                ActionUpdate.id,
                ActionUpdate.created_at,
                ActionUpdate.to_state,
                ActionUpdate.meeting_id,
            )
            .where(ActionUpdate.action_id.in_([a.id for a in page.items]))
            .order_by(ActionUpdate.id)
        ):
            history[entry.action_id].append(entry)
    starts = [None] + [m.starts_at for m in meetings]
    before = [None] + [m.id for m in meetings]
    today = local_today(forum.timezone, now)
    rows = [
        MatrixRow(
            action,
            [
                at_meeting(action, m, now, history[action.id])
                if in_span(action, m, starts[i], before[i], history[action.id])
                else None
                for i, m in enumerate(meetings)
            ],
            action.state in ACTION_OPEN_STATES and action.due_on is not None and action.due_on < today,
        )
        for action in page.items
    ]
    return Matrix(forum, list(meetings), rows, page, show)


# --- my actions ------------------------------------------------------------------------------------------


@dataclass
class MyActions:
    awaiting: list[ActionItem] = field(default_factory=list)  # proposed to me: accept or decline
    overdue: list[ActionItem] = field(default_factory=list)
    due_soon: list[ActionItem] = field(default_factory=list)  # within DUE_SOON_DAYS in the forum's zone
    rest: list[ActionItem] = field(default_factory=list)
    to_reassign: list[ActionItem] = field(default_factory=list)  # organisers: declined, waiting for an owner
    owner_gone: list[ActionItem] = field(default_factory=list)  # organisers: open, owner no longer available
    staff_notes: list[ActionUpdate] = field(default_factory=list)  # programme staff's recent notes on my actions

    @property
    def empty(self) -> bool:
        return not (
            self.awaiting
            or self.overdue
            or self.due_soon
            or self.rest
            or self.to_reassign
            or self.owner_gone
            or self.staff_notes
        )


def my_actions(user, limit: int | None = None) -> MyActions:
    """The open actions ``user`` owns, in the sections people act on; organisers also see declined ones.

    The sections are decided in SQL, so with ``limit`` (the home page) only the first ``limit`` of
    each are loaded, however many a person owns.
    """
    now = utcnow()
    zones = zones_by_today(now)
    soon = [
        and_(Forum.timezone.in_(names), ActionItem.due_on <= day + timedelta(days=DUE_SOON_DAYS))
        for day, names in zones
    ]
    section = case(
        (ActionItem.state == "proposed", "awaiting"),
        (overdue_condition(now, zones), "overdue"),
        (or_(*soon) if soon else false(), "due_soon"),
        else_="rest",
    )
    order = (ActionItem.due_on.is_(None), ActionItem.due_on, ActionItem.id)
    ranked = (
        select(
            ActionItem.id.label("id"),
            section.label("section"),
            func.row_number().over(partition_by=section, order_by=order).label("n"),
        )
        .join(ActionItem.forum)
        .where(ActionItem.owner_id == user.id, ActionItem.state.in_(ACTION_OPEN_STATES))
        .subquery()
    )
    stmt = (
        select(ActionItem, ranked.c.section)
        .join(ranked, ranked.c.id == ActionItem.id)
        .options(*ACTION_LIST_OPTIONS)
        .order_by(*order)
    )
    if limit is not None:
        stmt = stmt.where(ranked.c.n <= limit)
    result = MyActions()
    for action, name in db.session.execute(stmt).unique():
        getattr(result, name).append(action)
    grants = permissions.organiser_grant_ids(user)
    # Programme staff's notes on the actions I own or organise, from the last STAFF_NOTE_DAYS (one query).
    mine = ActionItem.owner_id == user.id
    if grants:
        mine = or_(mine, ActionItem.forum_id.in_(select(Forum.id).where(Forum.grant_id.in_(grants))))
    result.staff_notes = list(
        db.session.execute(
            select(ActionUpdate)
            .join(ActionItem, ActionItem.id == ActionUpdate.action_id)
            .where(
                ActionUpdate.kind == "comment",
                ActionUpdate.author_id != user.id,
                ActionUpdate.created_at >= now - timedelta(days=STAFF_NOTE_DAYS),
                mine,
            )
            .options(
                joinedload(ActionUpdate.author),
                joinedload(ActionUpdate.action).joinedload(ActionItem.forum),
            )
            .order_by(ActionUpdate.created_at.desc(), ActionUpdate.id.desc())
            .limit(limit or 50)
        ).scalars()
    )
    if grants:
        # Through the grants' forums and (forum, state, closed)'s index: led by the state instead, the
        # database reads every declined action of the programme.
        forums = select(Forum.id).where(Forum.grant_id.in_(grants))
        result.to_reassign = list(
            db.session.execute(
                select(ActionItem)
                .where(
                    ActionItem.forum_id.in_(forums),
                    ActionItem.state == "declined",
                    ActionItem.closed_at >= now - timedelta(days=TO_REASSIGN_DAYS),
                )
                .options(*ACTION_LIST_OPTIONS)
                .order_by(ActionItem.closed_at.desc(), ActionItem.id.desc())
                .limit(limit)
            )
            .unique()
            .scalars()
        )
        result.owner_gone = list(
            db.session.execute(
                select(ActionItem)
                .join(ActionItem.forum)
                .where(ActionItem.forum_id.in_(forums), permissions.owner_gone_condition(Forum.grant_id))
                .options(*ACTION_LIST_OPTIONS)
                .order_by(ActionItem.due_on.is_(None), ActionItem.due_on, ActionItem.id)
                .limit(limit)
            )
            .unique()
            .scalars()
        )
    return result

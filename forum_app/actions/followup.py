"""Follow-up across meetings: overdue in each forum's zone, an action's state at a meeting, and a
meeting's follow-up section, loaded in a fixed number of queries whatever the data.

The state of an action "at a meeting" is one rule used everywhere (meeting pages, the
action's timeline, the forum's matrix): the state the meeting's review recorded, or
else the state the action had when the meeting ended (or now, for a meeting still to
come). An action belongs to a meeting's follow-up when it was raised before the meeting
(not at it) and was open at its start or closed since the previous meeting; so an open
action carries over from meeting to meeting until it is closed. An action the previous
meeting's review closed (or saw closed) was reviewed there one last time: it is not
"closed since the last meeting" at the next one.

Overdue is judged by the date in the forum's own zone: an open action due before the
forum's today.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import cache
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, Select, and_, bindparam, false, func, or_, select

from .. import permissions
from ..core.clock import utcnow
from ..core.rows import Into
from ..extensions import db
from ..models import (
    ActionItem,
    ActionUpdate,
    Forum,
    Meeting,
    MinutesVersion,
    Organisation,
    User,
)
from ..permissions import FollowUpFlags
from ..vocab import ACTION_OPEN_STATES

MEETING_STATES_SHOWN = ("scheduled", "held")  # drafts and cancelled meetings review nothing


# --- overdue, in each forum's own zone ---------------------------------------------------------------


def local_today(zone: str, now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(ZoneInfo(zone)).date()


def is_overdue(action: ActionItem, now: datetime | None = None) -> bool:
    return (
        action.state in ACTION_OPEN_STATES
        and action.due_on is not None
        and action.due_on < local_today(action.forum.timezone, now)
    )


def by_local_today(zones: Iterable[str], now: datetime | None = None) -> list[tuple[date, list[str]]]:
    """``zones`` grouped by their date now (at most three groups: the world spans three dates at once)."""
    now = now or utcnow()
    by_day: dict[date, list[str]] = defaultdict(list)
    for zone in zones:
        by_day[local_today(zone, now)].append(zone)
    return sorted(by_day.items())


def zones_by_today(now: datetime | None = None) -> list[tuple[date, list[str]]]:
    """The zones forums use, grouped by their date now (one query)."""
    return by_local_today(db.session.execute(select(Forum.timezone).distinct()).scalars(), now)


def overdue_condition(now: datetime | None = None, zones: list[tuple[date, list[str]]] | None = None):
    """SQL for "open and due before its forum's today" (the statement must join Forum).

    One query reads the zones forums use (``zones_by_today``, or pass its result); zones sharing
    a date are grouped, so the condition has at most three parts.
    """
    zones = zones if zones is not None else zones_by_today(now)
    parts = [and_(Forum.timezone.in_(names), ActionItem.due_on < day) for day, names in zones]
    return and_(ActionItem.state.in_(ACTION_OPEN_STATES), or_(*parts) if parts else false())


def overdue_counts(user, forums: Iterable[Forum], now: datetime | None = None) -> dict[int, int]:
    """Overdue actions per forum, among those ``user`` may see (one grouped query, one covering index)."""
    forums = list(forums)
    if not forums:
        return {}
    now = now or utcnow()
    # Only the two columns counted: a subquery of whole ActionItem rows cost more to build than to run.
    # The forums' zones are known: no query for the zones in use.
    counted = db.session.execute(
        permissions.visible_actions(permissions.resolved(user))
        .with_only_columns(ActionItem.forum_id, func.count())
        .where(
            ActionItem.forum_id.in_([f.id for f in forums]),
            overdue_condition(now, by_local_today({f.timezone for f in forums}, now)),
        )
        .group_by(ActionItem.forum_id)
    ).all()
    return {forum_id: n for forum_id, n in counted if n}


def forum_actions(user, forum: Forum) -> Select:
    """A SELECT of ``forum``'s actions that ``user`` may see. Its organisers, members and programme staff see
    them all: for them there is no visibility filter to build or to run."""
    if permissions.sees_every_action_of(user, forum):
        return select(ActionItem).where(ActionItem.forum_id == forum.id)
    return permissions.visible_actions(user).where(ActionItem.forum_id == forum.id)


def overdue_in_forum(user, forum: Forum, now: datetime | None = None) -> int:
    """The forum's overdue actions that ``user`` may see: one count, judged by the forum's own date."""
    return db.session.execute(
        forum_actions(user, forum)
        .with_only_columns(func.count(), maintain_column_froms=False)
        .where(ActionItem.state.in_(ACTION_OPEN_STATES), ActionItem.due_on < local_today(forum.timezone, now))
    ).scalar_one()


# --- an action's state at a meeting ---------------------------------------------------------------


@dataclass
class AtMeeting:
    """An action as it stood at one meeting."""

    meeting: Meeting
    state: str | None  # None: not raised yet
    said: list[ActionUpdate]  # the reviews recorded at this meeting
    last_update: ActionUpdate | None  # the latest entry by then


def state_at(updates: list[ActionUpdate], moment: datetime) -> tuple[str | None, ActionUpdate | None]:
    """The state after the last state-setting entry up to ``moment``, and the last entry of any kind."""
    state, last = None, None
    for update in updates:
        if update.created_at > moment:
            break
        last = update
        if update.to_state is not None:
            state = update.to_state
    return state, last


def at_meeting(action: ActionItem, meeting: Meeting, now: datetime, updates: list | None = None) -> AtMeeting:
    """``action`` at ``meeting``; ``updates`` (its entries in id order, objects or plain rows with id,
    created_at, to_state and meeting_id) stand for ``action.updates`` when given."""
    updates = action.updates if updates is None else updates
    said = [u for u in updates if u.meeting_id == meeting.id]
    state, last = state_at(updates, min(now, meeting.ends_at))
    if said:
        state = said[-1].to_state or state
        last = said[-1] if last is None or said[-1].id > last.id else last
    if state is None and meeting.id == action.meeting_id and updates:
        state, last = updates[0].to_state, updates[0]  # recorded after the meeting that agreed it
    return AtMeeting(meeting, state, said, last)


def in_span(
    action: ActionItem,
    meeting: Meeting,
    previous_start: datetime | None,
    previous_id: int | None = None,
    updates: list | None = None,
) -> bool:
    """Whether ``meeting`` follows ``action`` up: the meeting that raised it, and every later one
    while it was open at the start or had closed since the previous meeting (``previous_start``),
    unless the previous meeting's review (``previous_id``; ``updates`` as in ``at_meeting``)
    closed it or saw it closed: then that review was its last."""
    if meeting.id == action.meeting_id:
        return True
    if action.created_at >= meeting.starts_at:
        return False
    closed = action.closed_at
    if closed is None:
        return True
    if closed < (previous_start or meeting.starts_at):
        return False
    updates = action.updates if updates is None else updates
    return previous_id is None or not any(u.meeting_id == previous_id and u.created_at >= closed for u in updates)


# --- the follow-up section of a meeting page -----------------------------------------------------------


@dataclass(slots=True, frozen=True)
class ActionRow:
    """An action as the follow-up tables show it: plain values, no ORM object behind them."""

    id: int
    title: str
    case_code: str
    owner_name: str | None
    organisation_name: str | None
    due_on: date | None
    state: str  # now
    version: int  # the review form's row carries it (a stale row is a conflict)
    overdue: bool


@dataclass(slots=True, frozen=True)
class FollowUpRow(ActionRow):
    """An earlier action in a meeting's review: how it stood at the meeting (``at_meeting``'s rule)."""

    state_then: str | None = None
    reviewed: bool = False  # something was recorded about it at this meeting
    last_at: datetime | None = None  # the latest entry by then (a review said here counts, whenever saved)
    last_note: str = ""
    last_kind: str | None = None
    closed_since: bool = False  # closed since the previous meeting (reviewed one last time)
    latest: LatestUpdate | None = None  # the review form only: the action's latest entry now
    owner_gone: bool = False  # open, and its owner is deactivated or no longer in the forum: reassign it


@dataclass(slots=True, frozen=True)
class LatestUpdate:
    """An action's latest entry now, for the review form (what ``update_line`` shows, as plain values)."""

    created_at: datetime
    author_name: str | None
    kind: str
    meeting_id: int | None
    meeting_title: str | None
    owner_name: str | None
    from_state: str | None
    to_state: str | None
    note: str


@dataclass
class FollowUp:
    meeting: Meeting
    previous: MeetingRef | None
    rows: list[FollowUpRow]
    agreed: list[ActionRow]  # raised at this meeting
    decisions: list[tuple[int, str]]  # (number, text) of the minutes' decisions, to raise actions from
    overdue: int  # the forum's overdue actions now
    flags: FollowUpFlags

    @property
    def row_by_id(self) -> dict[int, FollowUpRow]:
        return {row.id: row for row in self.rows}


@dataclass(frozen=True)
class MeetingRef:
    """The previous meeting as the follow-up names it."""

    id: int
    title: str
    starts_at: datetime


def previous_meeting(meeting: Meeting) -> MeetingRef | None:
    """The forum's meeting before ``meeting`` (scheduled or held), as the follow-up names it."""
    return db.session.execute(
        select(Into(MeetingRef, Meeting.id, Meeting.title, Meeting.starts_at))
        .where(
            Meeting.forum_id == meeting.forum_id,
            Meeting.state.in_(MEETING_STATES_SHOWN),
            Meeting.starts_at < meeting.starts_at,
        )
        .order_by(Meeting.starts_at.desc())
        .limit(1)
    ).scalar_one_or_none()


_NO_CUT = 2**62  # "no entry after the moment": every id is below it
# Core aliases of the history table, made once: an ORM aliased() costs milliseconds per request
# to build and adapt, more than the queries that use it take to run.
_after, _stated, _seen, _said_entry, _last, _closing = (
    ActionUpdate.__table__.alias(name) for name in ("after", "stated", "seen", "said_entry", "last", "closing")
)
_author, _new_owner = User.__table__.alias("author"), User.__table__.alias("new_owner")


def _follow_up_statement(actions: Select) -> Select:
    """One row per action of the meeting's follow-up (and those agreed at it), with at_meeting()'s answer.

    ``actions``: the forum's actions the viewer may see. Parameters: ``meeting_id``, its ``starts_at``,
    ``since`` (the previous meeting's start, else the meeting's), ``previous_id`` (the previous
    meeting, else 0) and ``moment`` (what the review reads up to).

    at_meeting() reads the entries in id order up to the first one made after ``moment`` (state_at
    stops there), and the entries linked to the meeting whenever they were saved. Here ``cut`` is
    the id of that first later entry, so "id < cut" is exactly the prefix it reads (even if a clock
    ever wrote entries out of time order); of the prefix, the last state-setting entry gives the
    state. What was said at the meeting wins over it: the last linked entry, from a derived table
    read once through the meeting's index (per action, that index would be read again each time).
    The last entry is the later of the prefix's last and the last linked one: the greatest id in
    either. The correlated subqueries each read one action's entries through its index.
    """
    meeting_id = bindparam("meeting_id", type_=Integer)
    previous_id = bindparam("previous_id", type_=Integer)
    moment, starts_at, since = (
        bindparam(name, type_=ActionItem.created_at.type) for name in ("moment", "starts_at", "since")
    )
    cut = func.coalesce(
        select(func.min(_after.c.id))
        .where(_after.c.action_id == ActionItem.id, _after.c.created_at > moment)
        .correlate(ActionItem)
        .scalar_subquery(),  # nested twice: say which outer table it follows
        _NO_CUT,
    )
    prior_state = (
        select(_stated.c.to_state)
        .where(_stated.c.action_id == ActionItem.id, _stated.c.id < cut, _stated.c.to_state.is_not(None))
        .order_by(_stated.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    last_id = (
        select(func.max(_seen.c.id))
        .where(_seen.c.action_id == ActionItem.id, or_(_seen.c.id < cut, _seen.c.meeting_id == meeting_id))
        .scalar_subquery()
    )
    said = (
        select(ActionUpdate.action_id, func.max(ActionUpdate.id).label("said_id"))
        .where(ActionUpdate.meeting_id == meeting_id)
        .group_by(ActionUpdate.action_id)
        .subquery("said")
    )
    # Raised before the meeting (not at it), open at its start or closed since the previous one, and
    # then not closed (or seen closed) by the previous meeting's review: that review was its last.
    closed_at_previous = (
        select(_closing.c.id)
        .where(
            _closing.c.action_id == ActionItem.id,
            _closing.c.meeting_id == previous_id,
            _closing.c.created_at >= ActionItem.closed_at,
        )
        .exists()
    )
    reviewed = and_(
        or_(ActionItem.meeting_id.is_(None), ActionItem.meeting_id != meeting_id),
        ActionItem.created_at < starts_at,
        or_(ActionItem.closed_at.is_(None), and_(ActionItem.closed_at >= since, ~closed_at_previous)),
    )
    return (
        actions.with_only_columns(
            ActionItem.id,
            ActionItem.title,
            ActionItem.case_code,
            User.name,
            Organisation.name,
            ActionItem.due_on,
            ActionItem.state,
            ActionItem.version,
            ActionItem.meeting_id,
            and_(ActionItem.closed_at.is_not(None), ActionItem.closed_at < starts_at),
            func.coalesce(_said_entry.c.to_state, prior_state),
            said.c.said_id,
            _last.c.created_at,
            _last.c.note,
            _last.c.kind,
            permissions.owner_gone_condition(bindparam("grant_id", type_=Integer)),
            maintain_column_froms=False,
        )
        .select_from(ActionItem)
        .outerjoin(said, said.c.action_id == ActionItem.id)
        .outerjoin(_said_entry, _said_entry.c.id == said.c.said_id)
        .outerjoin(_last, _last.c.id == last_id)
        .outerjoin(User, User.id == ActionItem.owner_id)
        .outerjoin(Organisation, Organisation.id == ActionItem.owner_organisation_id)
        .where(or_(ActionItem.meeting_id == meeting_id, reviewed))
        .order_by(ActionItem.due_on.is_(None), ActionItem.due_on, ActionItem.id)
    )


@cache
def _whole_forum_follow_up() -> Select:
    """The follow-up statement for those who see all of a forum's actions: the same for every meeting
    and person, so built once (building and keying it anew cost as much as running it)."""
    return _follow_up_statement(select(ActionItem).where(ActionItem.forum_id == bindparam("forum_id", type_=Integer)))


def follow_up(user, meeting: Meeting, minutes_version: MinutesVersion | None = None, latest: bool = False) -> FollowUp:
    """The meeting's review of its forum's actions and the actions it agreed (what ``user`` may see).

    Plain rows computed in SQL: a meeting reviews a couple of hundred actions with several
    entries each, and loading them as objects cost more than all the rest of the page.
    ``latest`` adds each reviewed action's latest entry now, which the review form shows.
    Read fresh on every view: four queries whatever the number of actions.
    """
    now = utcnow()
    today = local_today(meeting.forum.timezone, now)
    previous = previous_meeting(meeting)
    rows: list[FollowUpRow] = []
    agreed: list[ActionRow] = []
    if permissions.sees_every_action_of(user, meeting.forum):
        statement = _whole_forum_follow_up()
    else:
        statement = _follow_up_statement(
            permissions.visible_actions(user).where(ActionItem.forum_id == bindparam("forum_id", type_=Integer))
        )
    for (
        id_,
        title,
        case_code,
        owner_name,
        organisation_name,
        due_on,
        state,
        version,
        raised_at,
        closed_since,
        state_then,
        said_id,
        last_at,
        last_note,
        last_kind,
        owner_gone,
    ) in db.session.execute(
        statement,
        {
            "forum_id": meeting.forum_id,
            "grant_id": meeting.forum.grant_id,
            "meeting_id": meeting.id,
            "starts_at": meeting.starts_at,
            "since": previous.starts_at if previous is not None else meeting.starts_at,
            "previous_id": previous.id if previous is not None else 0,
            "moment": min(now, meeting.ends_at),
        },
    ):
        overdue = state in ACTION_OPEN_STATES and due_on is not None and due_on < today
        if raised_at == meeting.id:
            agreed.append(
                ActionRow(id_, title, case_code, owner_name, organisation_name, due_on, state, version, overdue)
            )
        else:
            rows.append(
                FollowUpRow(
                    id_,
                    title,
                    case_code,
                    owner_name,
                    organisation_name,
                    due_on,
                    state,
                    version,
                    overdue,
                    state_then,
                    said_id is not None,
                    last_at,
                    last_note or "",
                    last_kind,
                    bool(closed_since),
                    owner_gone=bool(owner_gone),
                )
            )
    if latest:
        _add_latest(rows)
    flags = permissions.follow_up_flags(user, meeting)
    decisions: list[tuple[int, str]] = []
    if flags.can_record_actions and minutes_version is not None and minutes_version.number == meeting.minutes_revision:
        decisions = list(enumerate(minutes_version.decisions, start=1))
    return FollowUp(meeting, previous, rows, agreed, decisions, overdue_in_forum(user, meeting.forum, now), flags)


def _add_latest(rows: list[FollowUpRow]) -> None:
    """Each row's latest entry now, with the names it shows (one query)."""
    if not rows:
        return
    # Per action, its newest entry through the action's index (a grouped max over "action_id IN …"
    # may be planned as a scan of the whole history).
    newest = select(func.max(_seen.c.id)).where(_seen.c.action_id == ActionItem.id).scalar_subquery()
    entries = {
        e[0]: LatestUpdate(*e[1:])
        for e in db.session.execute(
            select(
                ActionItem.id,
                ActionUpdate.created_at,
                _author.c.name,
                ActionUpdate.kind,
                ActionUpdate.meeting_id,
                Meeting.title,
                _new_owner.c.name,
                ActionUpdate.from_state,
                ActionUpdate.to_state,
                ActionUpdate.note,
            )
            .select_from(ActionItem)
            .join(ActionUpdate, ActionUpdate.id == newest)
            .outerjoin(Meeting, Meeting.id == ActionUpdate.meeting_id)
            .outerjoin(_author, _author.c.id == ActionUpdate.author_id)
            .outerjoin(_new_owner, _new_owner.c.id == ActionUpdate.owner_id)
            .where(ActionItem.id.in_([row.id for row in rows]))
        )
    }
    rows[:] = [replace(row, latest=entries.get(row.id)) for row in rows]

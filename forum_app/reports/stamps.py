"""Which forums' report figures a write may have changed: ``forum.figures_stamp``, renewed in the same transaction.

The dashboard counts each forum's figures with grouped queries (reports/queries.py) and keeps
them in memory under (forum, stamp, period, hour). A write to anything the figures are
counted from bumps the stamp of the forums it touches, in the writing transaction, so every app
node sees the change at its next read and counts that forum again; the other forums' figures
are reused. Nothing has to remember to call this: it follows the session's writes.

- meetings, invitations, walk-ins, actions and their history entries: the stamp of their forum;
- an organisation's kind or name, a person's organisation, gender or name (attendees by kind and
  gender; the names in kept follow-up rows): every forum's stamp (a rare write);
- a forum's time zone (its local dates): its own stamp;
- bulk UPDATE/DELETE statements on those tables: every forum's stamp, unless the statement names
  its forum with ``.execution_options(figures_forum=forum_id)`` (the attendance marks do).
"""
from __future__ import annotations

from itertools import chain

from sqlalchemy import event, inspect, select, update
from sqlalchemy.orm import Session

from ..models import ActionItem, ActionUpdate, Forum, Invitation, Meeting, Organisation, User, WalkInAttendee
from ..models.forum import new_figures_stamp

ALL = object()  # every forum
# Attributes of people that the attendance figures are broken down by, and the names the kept
# follow-up rows show (actions.queries.follow_up).
PEOPLE_FIELDS = {User: ("organisation_id", "gender", "name"), Organisation: ("kind", "name")}
COUNTED = (ActionItem, ActionUpdate, Meeting, Invitation, WalkInAttendee)


def _changed(obj, names) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


def _forum_of(session: Session, obj) -> int | None:
    if isinstance(obj, (ActionItem, Meeting)):
        return obj.forum_id if obj.forum_id is not None else (obj.forum.id if obj.forum is not None else None)
    if isinstance(obj, ActionUpdate):
        action = obj.action if obj.action is not None else session.get(ActionItem, obj.action_id)
        return _forum_of(session, action) if action is not None else None
    if isinstance(obj, (Invitation, WalkInAttendee)):
        meeting = obj.meeting if obj.meeting is not None else session.get(Meeting, obj.meeting_id)
        return _forum_of(session, meeting) if meeting is not None else None
    return None


def touched(session: Session):
    """The ids of the forums whose figures this flush may change (or ``ALL``)."""
    forums: set[int] = set()
    with session.no_autoflush:
        for obj in chain(session.new, session.dirty, session.deleted):
            if isinstance(obj, COUNTED):
                if obj in session.dirty and not session.is_modified(obj, include_collections=False):
                    continue
                forum_id = _forum_of(session, obj)
                if forum_id is not None:
                    forums.add(forum_id)
            elif type(obj) in PEOPLE_FIELDS and obj in session.dirty and _changed(obj, PEOPLE_FIELDS[type(obj)]):
                return ALL
            elif isinstance(obj, Forum) and obj in session.dirty and _changed(obj, ("timezone",)):
                forums.add(obj.id)
    return forums


def bump(session: Session, forums) -> None:
    if not forums:
        return
    ids = select(Forum.id)
    if forums is not ALL:
        ids = ids.where(Forum.id.in_(sorted(forums)))
    # Lock the rows in id order first (PostgreSQL; SQLite writers queue anyway): two transactions
    # renewing overlapping sets of stamps then wait for each other instead of deadlocking.
    locked = session.execute(ids.order_by(Forum.id).with_for_update()).scalars().all()
    if locked:
        session.execute(update(Forum).where(Forum.id.in_(locked)).values(figures_stamp=new_figures_stamp())
                        .execution_options(synchronize_session=False))


def _before_flush(session: Session, _context, _instances) -> None:
    bump(session, touched(session))


def _do_orm_execute(state) -> None:
    if not (state.is_update or state.is_delete):
        return
    entity = state.bind_mapper.class_ if state.bind_mapper is not None else None
    if entity in COUNTED or entity in PEOPLE_FIELDS:
        forum_id = state.execution_options.get("figures_forum")
        bump(state.session, {forum_id} if forum_id is not None else ALL)


def init_app(_app) -> None:
    # On the Session class: every session of the app (requests, CLI, workers, tests) follows it.
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "do_orm_execute", _do_orm_execute)

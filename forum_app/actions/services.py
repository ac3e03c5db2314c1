"""Agreed actions: raise one, then change its state or report on it, one ActionUpdate at a time.

The chain of ActionUpdates is the follow-up record across meetings: it is only ever
appended to. Every change bumps the action's version, so two people updating the same
action at once get a conflict instead of silently interleaving. State rules live in
``permissions`` (``action_transition_lock`` and friends); time comes from ``core.clock``,
so the demo and the tests write past history through these same functions. Services
flush and write the audit trail; ``core.commit.attempt`` commits.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _

from .. import permissions
from ..core import audit
from ..core.clock import utcnow
from ..core.errors import ConflictError, ServiceError
from ..core.times import utc_to_local
from ..extensions import db
from ..models import ActionItem, ActionUpdate, Forum, Meeting, User
from ..permissions import ensure
from ..vocab import ACTION_CLOSED_STATES

MAX_TITLE = 300


@dataclass(frozen=True)
class ActionInput:
    title: str
    owner_id: int
    description: str = ""
    due_on: date | None = None
    themes: tuple[str, ...] = ()
    case_code: str = ""  # a pseudonymous case code at most, never a name
    note: str = ""  # what was said when it was raised (the first entry of its history)


@dataclass(frozen=True)
class UpdateInput:
    """A state change (``to_state``), a progress note, or, with ``meeting_id``, a meeting's review of it."""

    note: str = ""
    to_state: str | None = None
    meeting_id: int | None = None


def raise_action(actor: User, forum: Forum, data: ActionInput, meeting: Meeting | None = None) -> ActionItem:
    """A proposed action of ``forum``, raised at ``meeting`` (or between meetings)."""
    title = data.title.strip()
    if not title:
        raise ServiceError(_("Say what is to be done."), field="title")
    if len(title) > MAX_TITLE:
        raise ServiceError(_("Keep the title under %(n)d characters.", n=MAX_TITLE), field="title")
    owner = db.session.get(User, data.owner_id)
    if owner is None or not owner.active:
        raise ServiceError(_("Choose an owner among the forum's members."), field="owner_id")
    ensure(permissions.action_owner_lock(owner, forum), field="owner_id")
    if meeting is not None:
        if meeting.forum_id != forum.id or meeting.state in ("draft", "cancelled"):
            raise ServiceError(_("Actions are raised at a scheduled or held meeting of this forum."),
                               field="meeting_id")
        if data.due_on is not None and data.due_on < utc_to_local(meeting.starts_at, forum.timezone).date():
            raise ServiceError(_("The due date cannot be before the meeting that agreed the action."),
                               field="due_on")
    now = utcnow()
    action = ActionItem(
        forum=forum, meeting=meeting, title=title, description=data.description.strip(), owner_id=owner.id,
        owner_organisation_id=owner.organisation_id, due_on=data.due_on, themes=list(data.themes),
        case_code=data.case_code.strip(), state="proposed", created_by_id=actor.id, created_at=now, updated_at=now,
    )
    db.session.add(action)
    _append(action, actor, kind="state", from_state=None, to_state="proposed", note=data.note, meeting_id=None)
    audit.record(actor, "action.raise", action, f"Raised {title}", forum_id=forum.id,
                 meeting_id=meeting.id if meeting is not None else None)
    return action


def post_update(actor: User, action: ActionItem, data: UpdateInput, expected_version: int) -> ActionUpdate:
    """Append one entry to the action's history: a state change, a progress note or a meeting's review.

    A review records the state agreed at the meeting (its current one unless ``to_state``
    changes it). Closing states (done, declined, dropped) set ``closed_at``.
    """
    if action.version != expected_version:
        raise ConflictError(_("Someone else updated this action after you opened the page. "
                              "Nothing of yours was saved: check its history and try again."))
    note = data.note.strip()
    review = data.meeting_id is not None
    ensure(permissions.action_role_lock(actor, action, data.to_state, review))
    changes_state = data.to_state is not None and data.to_state != action.state
    if changes_state:
        # An allowed move refused for want of a reason is answered at the note, where the reason goes.
        allowed = data.to_state in permissions.ACTION_TRANSITIONS.get(action.state, ())
        ensure(permissions.action_transition_lock(action, data.to_state, note), field="note" if allowed else "to_state")
    elif not review:
        ensure(permissions.action_progress_lock(action))
        if not note:
            raise ServiceError(_("Write what has happened, or choose a new state."), field="note")
    if review:
        meeting = db.session.get(Meeting, data.meeting_id)
        if meeting is None or meeting.forum_id != action.forum_id or meeting.state not in ("scheduled", "held"):
            raise ServiceError(_("Actions are reviewed at a scheduled or held meeting of their forum."),
                               field="meeting_id")

    previous = action.state
    now = utcnow()
    if changes_state:
        action.state = data.to_state
        if data.to_state in ACTION_CLOSED_STATES:
            action.closed_at = now
    action.updated_at = now  # every entry bumps the version: concurrent updates conflict
    if review:
        kind, from_state, to_state = "review", previous, action.state
    elif changes_state:
        kind, from_state, to_state = "state", previous, action.state
    else:
        kind, from_state, to_state = "progress", None, None
    update = _append(action, actor, kind=kind, from_state=from_state, to_state=to_state, note=note,
                     meeting_id=data.meeting_id)
    summary = f"{previous} → {action.state}" if changes_state else kind
    audit.record(actor, f"action.{kind}", action, summary, from_state=from_state, to_state=to_state,
                 meeting_id=data.meeting_id)
    return update


def _append(action: ActionItem, author: User, **values) -> ActionUpdate:
    update = ActionUpdate(action=action, author_id=author.id, created_at=utcnow(), **values)
    db.session.add(update)
    return update

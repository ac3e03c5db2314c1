"""Agreed actions: their lifecycle, who answers, reports on, reviews and manages them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import joinedload

from ..core import language
from ..core.clock import utcnow
from ..models import ActionItem, Forum, ForumMember, GrantTeam, Meeting, User
from ..vocab import ACTION_OPEN_STATES, ACTION_STATES
from .enforce import _load, _within_reach
from .forums import can_edit_forum, can_view_forum
from .meetings import can_edit_meeting
from .roles import _authenticated, invited_meeting_ids, is_staff, member_forum_ids, organiser_grant_ids

# A new action is proposed; its owner accepts or declines it, works on it and marks it
# done. Any open action may be blocked (saying why) and resumed; organisers may drop it
# (saying why). Declined, done and dropped are final.
ACTION_TRANSITIONS: dict[str, frozenset[str]] = {
    "proposed": frozenset({"accepted", "declined", "blocked", "dropped"}),
    "accepted": frozenset({"in_progress", "blocked", "dropped"}),
    "in_progress": frozenset({"done", "blocked", "dropped"}),
    "blocked": frozenset({"in_progress", "dropped"}),
    "declined": frozenset(),
    "done": frozenset(),
    "dropped": frozenset(),
}
# Moves that must say why: the owner's "no", an obstacle, the organisers' decision to stop.
ACTION_STATES_NEEDING_REASON = frozenset({"declined", "blocked", "dropped"})


def action_transition_lock(action: ActionItem, to_state: str, reason: str = "") -> str | None:
    """Why ``action`` cannot move to ``to_state`` now, or None when it can."""
    if to_state not in ACTION_STATES:
        return _("Unknown action state.")
    # The messages name the action (a review shows a couple of hundred) and put its state after a
    # verb: "a %(state)s action" made "A in progress action" in English and worse elsewhere.
    if to_state not in ACTION_TRANSITIONS[action.state]:
        return _(
            "“%(title)s” is %(state)s: it cannot become %(to)s.",
            title=action.title,
            state=str(ACTION_STATES[action.state]).lower(),
            to=str(ACTION_STATES[to_state]).lower(),
        )
    if to_state in ACTION_STATES_NEEDING_REASON and not reason.strip():
        return _("Say why “%(title)s” is %(to)s.", title=action.title, to=str(ACTION_STATES[to_state]).lower())
    return None


def action_progress_lock(action: ActionItem) -> str | None:
    """Progress is reported on open actions; a closed one is only reviewed."""
    if action.state not in ACTION_OPEN_STATES:
        return _(
            "This action is closed (%(state)s): it takes no more progress notes.",
            state=str(ACTION_STATES[action.state]).lower(),
        )
    return None


def action_role_lock(user, action: ActionItem, to_state: str | None, review: bool) -> str | None:
    """Owners answer and report on their own actions; organisers may do all, and alone review and drop.

    Programme staff (who are no organisers) leave review comments: a note, never a state.
    """
    if can_edit_forum(user, action.forum):
        return None
    if review:
        return _("Only the forum's organisers record a meeting's review.")
    if to_state == "dropped":
        return _("Only the forum's organisers drop an action.")
    if _authenticated(user) and action.owner_id == user.id:
        return None
    if is_staff(user):
        return None if to_state is None else _("Programme staff comment on actions; they do not change their state.")
    return _("Only the action's owner or the forum's organisers update it.")


def comments_only(user, action: ActionItem) -> bool:
    """Programme staff who neither own nor organise the action: their notes are review comments."""
    return is_staff(user) and not can_edit_forum(user, action.forum) and action.owner_id != user.id


def action_owner_lock(user, forum: Forum) -> str | None:
    """An action's owner is a member of its forum or one of its organisers."""
    if _authenticated(user) and (forum.id in member_forum_ids(user) or forum.grant_id in organiser_grant_ids(user)):
        return None
    return _("The owner must be a member or an organiser of this forum.")


def owner_gone_lock(owner, action: ActionItem) -> str | None:
    """An owner deactivated or no longer in the forum answers nothing more for it (the emailed link included)."""
    if owner is not None and owner.active and action_owner_lock(owner, action.forum) is None:
        return None
    return _(
        "You are no longer a member of this forum, so you cannot answer for this action. "
        "The organisers are told and will give it to someone else."
    )


def owner_gone_condition(grant_id):
    """SQL: the open action's owner is deactivated, or neither a member of its forum nor an organiser of
    ``grant_id`` (its forum's grant: a column or a parameter) — the rule of ``action_owner_lock``.

    Such an action stays "proposed" (or wherever it was) for ever unless the organisers reassign it:
    their home, the board and the review mark it.
    """
    person = User.__table__.alias("owner_person")  # its own alias: lists join the owner as User already
    active = select(person.c.id).where(person.c.id == ActionItem.owner_id, person.c.active.is_(True)).exists()
    member = (
        select(ForumMember.id)
        .where(ForumMember.forum_id == ActionItem.forum_id, ForumMember.user_id == ActionItem.owner_id)
        .exists()
    )
    organiser = (
        select(GrantTeam.user_id)
        .where(GrantTeam.grant_id == grant_id, GrantTeam.user_id == ActionItem.owner_id)
        .exists()
    )
    return and_(ActionItem.state.in_(ACTION_OPEN_STATES), or_(~active, and_(~member, ~organiser)))


def action_details_lock(action: ActionItem) -> str | None:
    """A done or dropped action is settled: its details and owner stay as they were."""
    if action.state in ("done", "dropped"):
        return _(
            "This action is %(state)s: its details and owner are part of the record.",
            state=str(ACTION_STATES[action.state]).lower(),
        )
    return None


def action_answer_lock(action: ActionItem) -> str | None:
    """The owner accepts or declines a proposed action, once."""
    if action.state != "proposed":
        return _(
            "This action has already been answered: it is %(state)s.", state=str(ACTION_STATES[action.state]).lower()
        )
    return None


def action_meeting_lock(meeting: Meeting, now: datetime | None = None) -> str | None:
    """Actions are agreed at a meeting that is taking or took place (not a draft or a cancelled one).

    Not before it starts: an action "agreed" at a meeting months ahead was agreed nowhere (and
    would be left hanging if the meeting were cancelled). Actions wanted now are raised between
    meetings.
    """
    if meeting.state not in ("scheduled", "held"):
        return _("Actions are raised at a scheduled or held meeting of this forum.")
    if meeting.starts_at > (now or utcnow()):
        return _("Actions are recorded at a meeting once it has started. Until then, raise them between meetings.")
    return None


def follow_up_lock(meeting: Meeting) -> str | None:
    """The follow-up review is recorded for a scheduled or held meeting, until its record is adopted."""
    if meeting.state not in ("scheduled", "held"):
        return _("Actions are reviewed at a scheduled or held meeting of their forum.")
    if meeting.minutes_state == "adopted":
        return _("The minutes are adopted: the follow-up review is part of the locked record.")
    return None


def can_view_action(user, action: ActionItem) -> bool:
    """Whoever sees the forum; a guest only the actions they own that were raised at a meeting they are invited to."""
    if can_view_forum(user, action.forum):
        return True
    return (
        _authenticated(user)
        and action.owner_id == user.id
        and action.meeting_id is not None
        and action.meeting_id in invited_meeting_ids(user)
    )


def can_manage_action(user, action: ActionItem) -> bool:
    """Organisers of the forum's grant (and admins): details, reassignment, reviews, dropping."""
    return can_edit_forum(user, action.forum)


def visible_actions(user) -> Select:
    """A SELECT of the actions ``user`` may see, joined to their forum (add filters and ordering)."""
    return _within_reach(
        user,
        select(ActionItem).join(ActionItem.forum),
        lambda invited: (
            Forum.grant_id.in_(organiser_grant_ids(user))
            | Forum.id.in_(member_forum_ids(user))
            | ((ActionItem.owner_id == user.id) & ActionItem.meeting_id.in_(invited))
        ),
    )


@dataclass(frozen=True)
class ActionFlags:
    """What one person may do to one action now, for its page and the lists that offer buttons."""

    can_manage: bool  # organisers: details, reassignment, dropping
    is_owner: bool
    can_answer: bool  # the owner, while it is proposed: accept or decline
    can_post: bool  # may post an update at all (a note, a state change or a comment)
    comments_only: bool  # programme staff: review comments, no state
    states: tuple[str, ...]  # the states this person may move it to now
    can_edit_details: bool
    can_reassign: bool
    can_view_forum: bool  # the forum's pages open for this person (an owner who is a guest: not linked)


def action_flags(user, action: ActionItem) -> ActionFlags:
    manage = can_manage_action(user, action)
    owner = _authenticated(user) and action.owner_id == user.id
    commenter = comments_only(user, action)
    states: tuple[str, ...] = ()
    if manage or owner:
        # Reasons are asked for on the form; here only the move itself and the role count.
        states = tuple(
            to
            for to in ACTION_STATES
            if to in ACTION_TRANSITIONS[action.state] and action_role_lock(user, action, to, review=False) is None
        )
    return ActionFlags(
        can_manage=manage,
        is_owner=owner,
        can_answer=owner and action_answer_lock(action) is None,
        can_post=manage or owner or commenter,
        comments_only=commenter,
        states=states,
        can_edit_details=manage and action_details_lock(action) is None,
        can_reassign=manage and action_details_lock(action) is None,
        can_view_forum=can_view_forum(user, action.forum),
    )


@dataclass(frozen=True)
class FollowUpFlags:
    """The follow-up section of a meeting page: may this person record actions, review them, raise more."""

    can_record_actions: bool
    can_review: bool
    review_lock: str | None
    shows_section: bool  # a cancelled meeting has no follow-up to show
    can_view_matrix: bool  # the forum's matrix opens for this person (not for a guest: it answers 404)
    record_lock: str | None = None  # organisers: why actions cannot be recorded at it now


def proposal_open(action: ActionItem) -> bool:
    """The owner is still asked to accept or decline (the confirmation page offers the two buttons)."""
    return action.state == "proposed"


def follow_up_flags(user, meeting: Meeting) -> FollowUpFlags:
    organiser = can_edit_meeting(user, meeting)
    lock = follow_up_lock(meeting)
    record_lock = action_meeting_lock(meeting)
    return FollowUpFlags(
        can_record_actions=organiser and record_lock is None,
        can_review=organiser and lock is None,
        review_lock=lock,
        shows_section=meeting.state != "cancelled",
        record_lock=record_lock if organiser else None,
        can_view_matrix=can_view_forum(user, meeting.forum),
    )


def load_action(user, action_id: int, need: str = "view", options=()) -> ActionItem:
    """The action, if ``user`` may see it ("view") or manage it ("edit")."""
    # An inner join: every action belongs to a forum. (A record form's row lock is taken on the
    # action's row alone, FOR UPDATE OF action_item: core.editing, so it never holds the forum's.)
    action = _load(
        user,
        select(ActionItem)
        .where(ActionItem.id == action_id)
        .options(joinedload(ActionItem.forum, innerjoin=True), *options),
        need,
        can_view_action,
        can_manage_action,
    )
    language.use_forum(action.forum)
    return action

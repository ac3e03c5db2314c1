"""Agreed actions: their lifecycle, who answers, reports on, reviews and manages them."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from ..core import language
from ..models import ActionItem, Forum, Meeting
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
    if to_state not in ACTION_TRANSITIONS[action.state]:
        return _(
            "A %(state)s action cannot become %(to)s.",
            state=str(ACTION_STATES[action.state]).lower(),
            to=str(ACTION_STATES[to_state]).lower(),
        )
    if to_state in ACTION_STATES_NEEDING_REASON and not reason.strip():
        return _("Say why the action is %(to)s.", to=str(ACTION_STATES[to_state]).lower())
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


def action_meeting_lock(meeting: Meeting) -> str | None:
    """Actions are agreed at a meeting that is taking or took place (not a draft or a cancelled one)."""
    if meeting.state not in ("scheduled", "held"):
        return _("Actions are raised at a scheduled or held meeting of this forum.")
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


def proposal_open(action: ActionItem) -> bool:
    """The owner is still asked to accept or decline (the confirmation page offers the two buttons)."""
    return action.state == "proposed"


def follow_up_flags(user, meeting: Meeting) -> FollowUpFlags:
    organiser = can_edit_meeting(user, meeting)
    lock = follow_up_lock(meeting)
    return FollowUpFlags(
        can_record_actions=organiser and action_meeting_lock(meeting) is None,
        can_review=organiser and lock is None,
        review_lock=lock,
        shows_section=meeting.state != "cancelled",
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

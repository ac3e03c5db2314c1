"""Oversight: the programme dashboard, exports, the API's write tokens, review comments and indicators."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import Select, false, select

from ..core.errors import NotFound
from ..extensions import db
from ..models import Forum, Grant, Indicator, Meeting
from .enforce import require, require_visible
from .forums import load_forum, visible_forums
from .meetings import load_meeting
from .roles import _authenticated, is_organiser, is_staff, member_forum_ids, organiser_grant_ids

# --- oversight: the programme dashboard, exports and the API ---------------------------------------
# Programme staff and admins see every grant; organisers see their own grants' figures, lists and
# exports; participants get no dashboard (the API shows them only their forums, through the loaders
# and ``visible_…`` selects above).


def can_view_reports(user) -> bool:
    return is_staff(user) or is_organiser(user)


def report_forums(user) -> Select:
    """A SELECT of the forums whose figures ``user`` may see: all for staff, their grants' for organisers."""
    stmt = select(Forum)
    if is_staff(user):
        return stmt
    grants = organiser_grant_ids(user)
    if not grants:
        return stmt.where(false())
    return stmt.where(Forum.grant_id.in_(grants))


def can_report_on(
    user, grant_id: int | None = None, forum_id: int | None = None, programme_id: int | None = None
) -> bool:
    """Whether ``user`` may have a report narrowed to this grant, forum or programme.

    Staff report on anything; an organiser on their own grants, their forums, and the programmes
    those grants belong to (the report then holds only their forums). Naming another grant's grant
    or forum is refused (403), not answered with an empty report that would look like no activity.
    """
    if not can_view_reports(user):
        return False
    if is_staff(user):
        return True
    grants = organiser_grant_ids(user)
    if grant_id is not None and grant_id not in grants:
        return False
    if forum_id is not None:
        owner = db.session.execute(select(Forum.grant_id).where(Forum.id == forum_id)).scalar()
        if owner not in grants:
            return False
    if programme_id is not None:
        mine = select(Grant.id).where(Grant.id.in_(grants), Grant.programme_id == programme_id).limit(1)
        if db.session.execute(mine).first() is None:
            return False
    return True


def visible_grants(user) -> Select:
    """Grants in reach: all for staff; organisers their own; members the grants of their forums."""
    stmt = select(Grant)
    if is_staff(user):
        return stmt
    if not _authenticated(user):
        return stmt.where(false())
    return stmt.where(
        Grant.id.in_(organiser_grant_ids(user))
        | Grant.id.in_(select(Forum.grant_id).where(Forum.id.in_(member_forum_ids(user))))
    )


def filter_reach_lock(user, forum_id: int | None = None, grant_id: int | None = None) -> dict[str, str]:
    """Why ``user`` may not narrow a list to this forum or grant, per query field (empty: they may).

    A forum or grant outside the person's reach is refused, never answered with an empty list that
    would pass for "nothing there"; a missing one gets the same answer, so existence does not leak.
    """
    problems: dict[str, str] = {}
    if (
        forum_id is not None
        and db.session.execute(visible_forums(user).with_only_columns(Forum.id).where(Forum.id == forum_id)).first()
        is None
    ):
        problems["forum_id"] = _("You may not see this forum, or there is none with this number.")
    if (
        grant_id is not None
        and db.session.execute(visible_grants(user).with_only_columns(Grant.id).where(Grant.id == grant_id)).first()
        is None
    ):
        problems["grant_id"] = _("You may not see this grant, or there is none with this number.")
    return problems


def can_revoke_api_token(user, token) -> bool:
    """A token is its person's own: anyone else (an admin too) is told it does not exist."""
    return bool(token is not None and user is not None and token.user_id == user.id)


def can_use_api_token_for_writes(token) -> bool:
    """Read-only tokens never change anything, whatever their person may do."""
    return bool(token is not None and token.can_write and token.revoked_at is None)


# --- review comments ------------------------------------------------------------------------------
# Programme staff (and admins) start a review thread on a grant, forum or meeting; the organisers of
# its grant read it and answer. Participants and observers never see it: it is the programme's
# dialogue with the grant holder, not the forum's.


def review_grant_id(obj) -> int:
    """The grant a reviewed object belongs to."""
    if isinstance(obj, Grant):
        return obj.id
    if isinstance(obj, Forum):
        return obj.grant_id
    return obj.forum.grant_id


def can_view_review(user, obj) -> bool:
    return is_staff(user) or (_authenticated(user) and review_grant_id(obj) in organiser_grant_ids(user))


def can_start_review(user, obj) -> bool:
    """A new thread (a comment that answers none): programme staff and admins."""
    return is_staff(user)


def can_answer_review(user, obj) -> bool:
    """An answer within a thread: the grant's organisers, and staff."""
    return can_view_review(user, obj)


def review_comment_lock(user, obj, in_reply_to) -> str | None:
    """Why ``user`` may not post this comment on ``obj`` (None: they may)."""
    if in_reply_to is None and not can_start_review(user, obj):
        return _("Programme staff start review comments; answer one of theirs.")
    if in_reply_to is not None and not can_answer_review(user, obj):
        return _("You may not answer review comments here.")
    return None


def load_review_target(user, object_type: str, object_id: int):
    """The grant, forum or meeting a review thread is on, if ``user`` may read its review (else NotFound)."""
    obj: Grant | Forum | Meeting | None
    if object_type == "forum":
        obj = load_forum(user, object_id)
    elif object_type == "meeting":
        obj = load_meeting(user, object_id)
    elif object_type == "grant":
        obj = db.session.get(Grant, object_id)
    else:
        raise NotFound()
    require_visible(obj is not None and can_view_review(user, obj))
    return obj


@dataclass(frozen=True)
class ReviewFlags:
    can_view: bool
    can_start: bool
    can_answer: bool


def review_flags(user, obj) -> ReviewFlags:
    view = can_view_review(user, obj)
    return ReviewFlags(
        can_view=view, can_start=view and can_start_review(user, obj), can_answer=view and can_answer_review(user, obj)
    )


# --- indicators -----------------------------------------------------------------------------------
# Programme staff (and admins) define indicators and their targets and enter actual values; the
# dashboard shows them to whoever sees it (computed values within the reader's reach, entered ones
# to staff only: they are programme-wide statements).


def can_manage_indicators(user) -> bool:
    return is_staff(user)


def indicator_lock(user) -> str | None:
    return None if can_manage_indicators(user) else _("Programme staff define indicators and their targets.")


def load_indicator(user, indicator_id: int, options=()) -> Indicator:
    """An indicator for programme staff to manage: 403 for anyone else, 404 when there is none."""
    require(can_manage_indicators(user))
    found = db.session.execute(select(Indicator).where(Indicator.id == indicator_id).options(*options)).scalar()
    if found is None:
        raise NotFound()
    return found


# A retired indicator is out of new reporting: reinstate it to change it or give it targets again.


def indicator_edit_lock(indicator) -> str | None:
    return _("This indicator is retired: reinstate it to edit it.") if indicator.retired_at is not None else None


def indicator_target_lock(indicator) -> str | None:
    return _("This indicator is retired: it takes no new targets.") if indicator.retired_at is not None else None


def indicator_retire_lock(indicator) -> str | None:
    return _("This indicator is already retired.") if indicator.retired_at is not None else None


def indicator_reinstate_lock(indicator) -> str | None:
    return _("This indicator is in use: there is nothing to reinstate.") if indicator.retired_at is None else None


@dataclass(frozen=True)
class IndicatorFlags:
    can_edit: bool
    can_retire: bool
    can_reinstate: bool
    can_set_targets: bool


def indicator_flags(user, indicator) -> IndicatorFlags:
    manage = can_manage_indicators(user)
    return IndicatorFlags(
        can_edit=manage and indicator_edit_lock(indicator) is None,
        can_retire=manage and indicator_retire_lock(indicator) is None,
        can_reinstate=manage and indicator_reinstate_lock(indicator) is None,
        can_set_targets=manage and indicator_target_lock(indicator) is None,
    )

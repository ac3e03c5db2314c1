"""Refusing: the errors loaders and services raise, and the one loader the others are made of."""

from __future__ import annotations

from sqlalchemy import Select, false, select

from ..core.errors import Forbidden, NotFound, NotPermitted, ServiceError
from ..extensions import db
from ..models import Invitation
from .roles import _authenticated, is_staff


def require(allowed: bool) -> None:
    """Refuse with Forbidden (403) unless ``allowed``."""
    if not allowed:
        raise Forbidden()


def require_visible(allowed: bool) -> None:
    """Refuse with NotFound (404): the person may not learn that the object exists."""
    if not allowed:
        raise NotFound()


def ensure(reason: str | None, field: str | None = None) -> None:
    """For services: refuse with ``reason`` (a state rule's answer) unless it is None."""
    if reason:
        raise ServiceError(reason, field=field)


def ensure_permitted(reason: str | None, field: str | None = None) -> None:
    """For services: refuse with ``reason`` (a role rule's answer: who may do this) unless it is None."""
    if reason:
        raise NotPermitted(reason, field=field)


def _load(user, stmt: Select, need: str, can_view, can_edit):
    """The one object ``stmt`` selects, if ``user`` may ``need`` ("view" or "edit") it.

    Missing, or not visible: NotFound (the same answer, so existence does not leak).
    Visible but not editable: Forbidden.
    """
    obj = db.session.execute(stmt).unique().scalar_one_or_none()
    if obj is None:
        raise NotFound()
    require_visible(can_view(user, obj))
    if need == "edit":
        require(can_edit(user, obj))
    return obj


def _within_reach(user, stmt: Select, reach) -> Select:
    """``stmt`` limited to what ``user`` may see: all of it for staff, nothing for the signed-out, else the
    rows ``reach(invited)`` allows (``invited``: the ids of the meetings the person is invited to)."""
    if is_staff(user):
        return stmt
    if not _authenticated(user):
        return stmt.where(false())
    return stmt.where(reach(select(Invitation.meeting_id).where(Invitation.user_id == user.id)))

"""Forgetting the inactive: ``flask forum retention apply``, safe to run every day.

A person is inactive when, for ``RETENTION_INACTIVE_DAYS`` (default 3 years), they have not
signed in, been invited, answered an invitation, been added to a forum or a grant's team, nor
written anything (an action update, minutes, a comment) — and the account is at least that old.
Such a person is erased (``people.erasure``). The same run deletes received mail past its own
keep time (``INBOUND_RETENTION_DAYS``). Running it twice changes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from sqlalchemy import exists, or_, select

from ..core.clock import utcnow
from ..extensions import db
from ..inbound.services import purge_expired
from ..models import (
    ActionUpdate,
    ForumMember,
    GrantTeam,
    Invitation,
    MinutesComment,
    MinutesVersion,
    ReviewComment,
    User,
)
from .erasure import erase


@dataclass
class RetentionResult:
    erased: list[int] = field(default_factory=list)
    received_mail_deleted: int = 0


def inactive_people() -> list[int]:
    """The ids of people past the retention period, oldest first. Administrators are never
    erased by the clock: someone must be able to sign in."""
    cutoff = utcnow() - timedelta(days=current_app.config["RETENTION_INACTIVE_DAYS"])
    recent = [
        exists().where(
            Invitation.user_id == User.id, or_(Invitation.invited_at >= cutoff, Invitation.rsvp_at >= cutoff)
        ),
        exists().where(ForumMember.user_id == User.id, ForumMember.joined_at >= cutoff),
        exists().where(GrantTeam.user_id == User.id, GrantTeam.added_at >= cutoff),
        exists().where(ActionUpdate.author_id == User.id, ActionUpdate.created_at >= cutoff),
        exists().where(MinutesVersion.author_id == User.id, MinutesVersion.created_at >= cutoff),
        exists().where(MinutesComment.author_id == User.id, MinutesComment.created_at >= cutoff),
        exists().where(ReviewComment.author_id == User.id, ReviewComment.created_at >= cutoff),
    ]
    stmt = (
        select(User.id)
        .where(
            User.erased_at.is_(None),
            User.role != "admin",
            User.created_at < cutoff,
            or_(User.last_login_at.is_(None), User.last_login_at < cutoff),
            ~or_(*recent),
        )
        .order_by(User.id)
    )
    return list(db.session.execute(stmt).scalars())


def apply(*, dry_run: bool = False) -> RetentionResult:
    """Erase the inactive and purge expired received mail (unless ``dry_run``). Flushes; the
    caller commits (the CLI, through ``core.commit.attempt``)."""
    result = RetentionResult(erased=inactive_people())
    if dry_run:
        return result
    for user_id in result.erased:
        person = db.session.get(User, user_id)
        assert person is not None
        erase(None, person)
    result.received_mail_deleted = purge_expired()
    return result

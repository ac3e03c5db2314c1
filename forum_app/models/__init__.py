"""All models, importable from one place (Alembic autogenerate sees every table)."""

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from .action import ActionItem, ActionUpdate
from .agenda import AgendaItem
from .base import Base, utcnow
from .document import Document, DocumentVersion
from .forum import (
    Forum,
    ForumMember,
    Invitation,
    Meeting,
    MinutesComment,
    MinutesVersion,
    WalkInAttendee,
)
from .inbound import ReceivedMail
from .indicator import INDICATOR_CHANGES, INDICATOR_METRICS, Indicator, IndicatorRevision, IndicatorTarget
from .news import NEWS_STATES, NewsItem
from .notifications import NotificationSettings, SentReminder
from .people import Organisation, RecoveryCode, ThrottleCounter, User, UserSession
from .programme import Grant, GrantTeam, Programme
from .records import AuditChainHead, AuditEvent, OutboxMessage
from .review import REVIEW_OBJECT_TYPES, ReviewComment
from .submission import FormSubmission

# History is appended, never rewritten: refuse updates and deletes of these in the ORM.
# The set names the attributes that may still be filled in once (from empty), such as
# the moment a minutes version was first shared.
APPEND_ONLY: dict[type, frozenset[str]] = {
    ActionUpdate: frozenset(),
    AuditEvent: frozenset({"seq", "prev_hash", "hash", "personal_salt", "personal_digest"}),
    DocumentVersion: frozenset(),
    MinutesVersion: frozenset({"shared_at"}),
    ReviewComment: frozenset(),
}


class AppendOnlyError(RuntimeError):
    pass


@event.listens_for(Session, "before_flush")
def _refuse_history_rewrites(session: Session, flush_context, instances) -> None:
    for obj in session.deleted:
        if type(obj) in APPEND_ONLY:
            raise AppendOnlyError(f"{type(obj).__name__} rows are append-only")
    for obj in session.dirty:
        fill_once = APPEND_ONLY.get(type(obj))
        if fill_once is None or not session.is_modified(obj):
            continue
        for attr in inspect(obj).attrs:
            history = attr.history
            if not history.has_changes():
                continue
            if attr.key not in fill_once or any(old is not None for old in history.deleted):
                raise AppendOnlyError(f"{type(obj).__name__} rows are append-only ({attr.key})")


__all__ = [
    "NEWS_STATES",
    "NewsItem",
    "ActionItem",
    "ActionUpdate",
    "AgendaItem",
    "AuditChainHead",
    "AuditEvent",
    "FormSubmission",
    "Base",
    "Document",
    "DocumentVersion",
    "Forum",
    "ForumMember",
    "Grant",
    "GrantTeam",
    "Invitation",
    "Meeting",
    "Organisation",
    "OutboxMessage",
    "Programme",
    "RecoveryCode",
    "ThrottleCounter",
    "User",
    "UserSession",
    "utcnow",
    "AppendOnlyError",
    "MinutesComment",
    "MinutesVersion",
    "WalkInAttendee",
    "NotificationSettings",
    "SentReminder",
    "REVIEW_OBJECT_TYPES",
    "ReviewComment",
    "INDICATOR_METRICS",
    "Indicator",
    "IndicatorTarget",
    "IndicatorRevision",
    "INDICATOR_CHANGES",
    "ReceivedMail",
]

"""All models, importable from one place (Alembic autogenerate sees every table)."""
from sqlalchemy import event
from sqlalchemy.orm import Session

from .action import ActionItem, ActionUpdate
from .base import Base, utcnow
from .forum import Forum, ForumMember, Invitation, Meeting, MinutesComment, MinutesVersion, WalkInAttendee
from .people import LoginFailure, Organisation, User, UserSession
from .programme import Grant, GrantTeam, Programme
from .records import AuditEvent, OutboxMessage

# History is appended, never rewritten: refuse updates and deletes of these in the ORM.
APPEND_ONLY = (ActionUpdate, AuditEvent, MinutesVersion)


class AppendOnlyError(RuntimeError):
    pass


@event.listens_for(Session, "before_flush")
def _refuse_history_rewrites(session: Session, flush_context, instances) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, APPEND_ONLY) and (obj in session.deleted or session.is_modified(obj)):
            raise AppendOnlyError(f"{type(obj).__name__} rows are append-only")


__all__ = [
    "ActionItem", "ActionUpdate", "AuditEvent", "Base", "Forum", "ForumMember", "Grant",
    "GrantTeam", "Invitation", "LoginFailure", "Meeting", "Organisation", "OutboxMessage",
    "Programme", "User", "UserSession", "utcnow", "AppendOnlyError", "MinutesComment", "MinutesVersion",
    "WalkInAttendee",
]

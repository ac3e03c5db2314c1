"""Everything that refers to one person, for them or an administrator to take away.

One query per kind of record, whatever the number of rows (tests/test_people_rights.py counts
them). Secrets (hashes of passwords, tokens and session ids, the audit chain's own fields) are
left out: they prove nothing to the person and would help whoever intercepts the file.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select

from ..api.models import ApiToken
from ..core import audit
from ..core.clock import utcnow
from ..extensions import db
from ..models import (
    ActionItem,
    ActionUpdate,
    AuditEvent,
    ForumMember,
    GrantTeam,
    Invitation,
    MinutesComment,
    MinutesVersion,
    NotificationSettings,
    OutboxMessage,
    ReceivedMail,
    ReviewComment,
    User,
    UserSession,
)

# Columns never exported: secrets, their hashes, and copies kept only for search or rendering.
HIDDEN = frozenset(
    {
        "password_hash",
        "token_hash",
        "feed_token_hash",
        "feed_nonce",
        "search_text",
        "hash",
        "prev_hash",
        "personal_salt",
        "personal_digest",
        "raw",
        "body_html",
        "description_html",
    }
)


def _value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _row(obj: Any) -> dict[str, Any]:
    return {
        column.key: _value(getattr(obj, column.key))
        for column in obj.__mapper__.column_attrs
        if column.key not in HIDDEN and column.key != "stored_name"
    }


def _all(stmt) -> list[dict[str, Any]]:
    return [_row(obj) for obj in db.session.execute(stmt).scalars()]


def person_export(person: User) -> dict[str, Any]:
    """The export, as plain data (JSON-ready): section name -> list of records."""
    uid = person.id
    profile = _row(person)
    profile["name"] = person.name
    sections: dict[str, Any] = {
        "profile": [profile],
        "forum_memberships": _all(select(ForumMember).where(ForumMember.user_id == uid).order_by(ForumMember.id)),
        "grant_teams": _all(select(GrantTeam).where(GrantTeam.user_id == uid).order_by(GrantTeam.grant_id)),
        "invitations": _all(select(Invitation).where(Invitation.user_id == uid).order_by(Invitation.id)),
        "actions": _all(
            select(ActionItem)
            .where(or_(ActionItem.owner_id == uid, ActionItem.created_by_id == uid))
            .order_by(ActionItem.id)
        ),
        "action_updates": _all(
            select(ActionUpdate)
            .where(or_(ActionUpdate.author_id == uid, ActionUpdate.owner_id == uid))
            .order_by(ActionUpdate.id)
        ),
        "minutes_versions": _all(
            select(MinutesVersion).where(MinutesVersion.author_id == uid).order_by(MinutesVersion.id)
        ),
        "minutes_comments": _all(
            select(MinutesComment).where(MinutesComment.author_id == uid).order_by(MinutesComment.id)
        ),
        "review_comments": _all(select(ReviewComment).where(ReviewComment.author_id == uid).order_by(ReviewComment.id)),
        "sessions": _all(select(UserSession).where(UserSession.user_id == uid).order_by(UserSession.id)),
        "api_tokens": _all(select(ApiToken).where(ApiToken.user_id == uid).order_by(ApiToken.id)),
        "notification_settings": _all(select(NotificationSettings).where(NotificationSettings.user_id == uid)),
        "emails_sent": _all(select(OutboxMessage).where(OutboxMessage.to_user_id == uid).order_by(OutboxMessage.id)),
        "mail_received": _all(select(ReceivedMail).where(ReceivedMail.user_id == uid).order_by(ReceivedMail.id)),
        "audit_events": _all(
            select(AuditEvent)
            .where(
                or_(
                    AuditEvent.actor_id == uid,
                    (AuditEvent.object_type == "User") & (AuditEvent.object_id == uid),
                )
            )
            .order_by(AuditEvent.id)
        ),
    }
    return {"person_id": uid, "exported_at": utcnow().isoformat(), "sections": sections}


def record_export(actor: User, person: User, kind: str) -> None:
    """The audit entry of an export (``person.exported``); the caller commits."""
    audit.record(actor, "person.exported", person, f"Exported the records of person #{person.id}", format=kind)

"""Per-person email choices, the calendar feed secret, and the reminders already sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow
from .people import User


class NotificationSettings(Base):
    """What a person chose to receive, and their personal calendar feed.

    No row means the defaults (every email on, no feed yet). Invitations, updates and
    cancellations of meetings are not listed: they cannot be turned off.
    """

    __tablename__ = "notification_settings"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    meeting_reminders: Mapped[bool] = mapped_column(Boolean, default=True)
    action_reminders: Mapped[bool] = mapped_column(Boolean, default=True)
    minutes_notices: Mapped[bool] = mapped_column(Boolean, default=True)
    # The feed URL's token is an HMAC of this nonce under SECRET_KEY, so the profile can show
    # it again while the database holds only its hash: a copy of the database opens no feed.
    feed_nonce: Mapped[str | None] = mapped_column(String(64))
    feed_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    feed_created_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class SentReminder(Base):
    """One reminder queued for one person about one thing on one occasion.

    The unique key is what makes ``flask forum remind`` safe to run every hour (and twice
    at once): a second run finds the row, a simultaneous one fails on the constraint.
    ``occasion`` is what the reminder was about (a meeting's start, an action's due date),
    so a meeting moved to another day is announced again, the same one never.
    """

    __tablename__ = "sent_reminder"
    __table_args__ = (UniqueConstraint("user_id", "kind", "subject_type", "subject_id", "occasion"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))  # meeting-soon, action-due-soon, action-overdue
    subject_type: Mapped[str] = mapped_column(String(16))  # "meeting" or "action"
    subject_id: Mapped[int] = mapped_column(Integer)
    occasion: Mapped[str] = mapped_column(String(40))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)

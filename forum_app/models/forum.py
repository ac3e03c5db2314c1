"""Forums, their members, meetings and invitations."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..vocab import ATTENDANCE_STATES, FORUM_ROLES, MEETING_STATES, RSVP_STATES
from .base import Base, check_in, utcnow
from .people import User
from .programme import Grant

if TYPE_CHECKING:
    from .action import ActionItem


class Forum(Base):
    """A standing local coordination forum."""

    __tablename__ = "forum"

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grant_agreement.id", ondelete="RESTRICT"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    city: Mapped[str] = mapped_column(String(120))
    country: Mapped[str] = mapped_column(String(2), index=True)
    timezone: Mapped[str] = mapped_column(String(64))  # IANA name, e.g. Europe/Sarajevo
    focus: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    grant: Mapped[Grant] = relationship(back_populates="forums")
    members: Mapped[list["ForumMember"]] = relationship(back_populates="forum", cascade="all, delete-orphan")
    meetings: Mapped[list["Meeting"]] = relationship(back_populates="forum", order_by="Meeting.starts_at")
    actions: Mapped[list["ActionItem"]] = relationship(back_populates="forum")


class ForumMember(Base):
    __tablename__ = "forum_member"
    __table_args__ = (
        UniqueConstraint("forum_id", "user_id"),
        CheckConstraint(check_in("role", FORUM_ROLES), name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    forum_id: Mapped[int] = mapped_column(ForeignKey("forum.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16), default="participant")
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)

    forum: Mapped[Forum] = relationship(back_populates="members")
    user: Mapped[User] = relationship(back_populates="forum_memberships")


class Meeting(Base):
    """One meeting of a forum. Times are stored in UTC and shown in the forum's zone."""

    __tablename__ = "meeting"
    __table_args__ = (
        CheckConstraint(check_in("state", MEETING_STATES), name="state"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("ical_sequence >= 0", name="sequence_not_negative"),
        Index("ix_meeting_forum_starts", "forum_id", "starts_at"),
        Index("ix_meeting_starts_at", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    forum_id: Mapped[int] = mapped_column(ForeignKey("forum.id", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(String(300))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    venue: Mapped[str] = mapped_column(String(500), default="")
    online_url: Mapped[str] = mapped_column(String(1000), default="")
    agenda_md: Mapped[str] = mapped_column(Text, default="")
    minutes_md: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default="draft")
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    # Stable across every change, so calendars update the event rather than adding one.
    ical_uid: Mapped[str] = mapped_column(String(255), unique=True)
    # Grows with each change invitees must see (RFC 5545 SEQUENCE).
    ical_sequence: Mapped[int] = mapped_column(Integer, default=0)
    # Optimistic locking: a stale write raises StaleDataError instead of overwriting.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    forum: Mapped[Forum] = relationship(back_populates="meetings")
    invitations: Mapped[list["Invitation"]] = relationship(back_populates="meeting", cascade="all, delete-orphan")
    created_by: Mapped[User | None] = relationship()

    __mapper_args__ = {"version_id_col": version}


class Invitation(Base):
    """A person invited to a meeting: their RSVP and, afterwards, their attendance."""

    __tablename__ = "invitation"
    __table_args__ = (
        UniqueConstraint("meeting_id", "user_id"),
        CheckConstraint(check_in("rsvp", RSVP_STATES), name="rsvp"),
        CheckConstraint("attendance IS NULL OR " + check_in("attendance", ATTENDANCE_STATES), name="attendance"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"), index=True)
    invited_at: Mapped[datetime] = mapped_column(default=utcnow)
    rsvp: Mapped[str] = mapped_column(String(16), default="needs-action")
    rsvp_comment: Mapped[str] = mapped_column(String(500), default="")
    rsvp_at: Mapped[datetime | None]
    attendance: Mapped[str | None] = mapped_column(String(16))
    attendance_at: Mapped[datetime | None]

    meeting: Mapped[Meeting] = relationship(back_populates="invitations")
    user: Mapped[User] = relationship()

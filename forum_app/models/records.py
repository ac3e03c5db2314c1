"""The audit trail and the email outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..vocab import OUTBOX_STATES
from .base import Base, check_in, utcnow
from .people import User


class AuditEvent(Base):
    """Who did what to which object, when, from where. Append-only."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_object", "object_type", "object_id"),
        Index("ix_audit_event_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"), index=True)
    verb: Mapped[str] = mapped_column(String(64))  # e.g. "user.create", "grant.team.add"
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[int | None]
    summary: Mapped[str] = mapped_column(String(500), default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    ip: Mapped[str] = mapped_column(String(64), default="")
    outcome: Mapped[str] = mapped_column(String(16), default="ok")  # ok, refused, denied, failed
    request_id: Mapped[str] = mapped_column(String(32), default="")  # ties the entry to the request's log lines
    # The hash chain (core.audit.seal): filled once, after the writing transaction commits, in
    # the order entries are sealed. ``hash`` covers this entry's fields and the previous entry's
    # hash, so an edited, inserted or deleted entry breaks every hash after it.
    seq: Mapped[int | None] = mapped_column(Integer, unique=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))
    # Chain version 2 (core.audit.entry_hash): the hash covers ``personal_digest``, a salted
    # SHA-256 of summary and data, instead of their text, so erasing a person can replace the
    # text and the salt while every other field stays checked. Rows sealed before keep 1.
    chain_version: Mapped[int] = mapped_column(Integer, default=2, server_default="1")
    personal_salt: Mapped[str | None] = mapped_column(String(32))
    personal_digest: Mapped[str | None] = mapped_column(String(64))
    # The erased person whose name or address was taken out of this entry; ``verify`` accepts
    # the changed text only with a later ``person.erased`` entry that names it (docs/security.md).
    redacted_for: Mapped[int | None] = mapped_column(Integer, index=True)

    actor: Mapped[User | None] = relationship()


class AuditChainHead(Base):
    """The chain's last sealed entry, one row. Sealers take it in turn (core.audit.seal)."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64), default="")


class OutboxMessage(Base):
    """An email, written in the same transaction as the change that caused it.

    A worker delivers pending rows with retries, so nothing is lost while the mail
    server is down.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (
        CheckConstraint(check_in("status", OUTBOX_STATES), name="status"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_outbox_message_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(64))  # e.g. "set-password", "reset-password"
    to_addr: Mapped[str] = mapped_column(String(254))
    to_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text, default="")
    # Carries a link that acts for the recipient (set or reset a password): the outbox
    # page and the CLI show such a message's metadata only, never its body.
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    # [{"filename": ..., "content_type": ..., "data": ...}] (text parts such as .ics)
    attachments: Mapped[list[dict]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None]
    # The meeting an invitation, update, cancellation or reminder is about: organisers see
    # each invitee's delivery state from it.
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id", ondelete="SET NULL"), index=True)
    # Reminders and notices: the signed link that turns that kind of email off for the recipient
    # (the List-Unsubscribe header), made when the email was written, in its language. "" for the rest.
    list_unsubscribe: Mapped[str] = mapped_column(String(1000), default="", server_default="")

    to_user: Mapped[User | None] = relationship()

"""Mail received at the reply address: every message, kept raw for a while, with what became of it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..vocab import RECEIVED_OUTCOMES
from .base import Base, check_in, utcnow


class ReceivedMail(Base):
    """One message as it arrived (``raw``, at most ``INBOUND_MAX_BYTES``; larger ones keep their headers),
    and its outcome (``vocab.RECEIVED_OUTCOMES``).

    Deleted whole after ``INBOUND_RETENTION_DAYS`` (``inbound.services.purge_expired``); what it changed
    (an RSVP) stays, with its audit event. ``text`` is what organisers read: the plain text of a written
    reply, the comment of a calendar answer, the diagnostic of a bounce. It is never HTML.
    """

    __tablename__ = "received_mail"
    __table_args__ = (
        CheckConstraint(check_in("outcome", RECEIVED_OUTCOMES), name="outcome"),
        Index("ix_received_mail_received_at", "received_at"),
        Index("ix_received_mail_meeting_id_id", "meeting_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(16))  # "imap" or "pipe"
    size: Mapped[int] = mapped_column(Integer)  # of the message as received, even when not all is kept
    digest: Mapped[str] = mapped_column(String(64), index=True)  # SHA-256 of the bytes: the same message twice
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    message_id: Mapped[str] = mapped_column(String(255), default="")
    from_addr: Mapped[str] = mapped_column(String(254), default="")
    from_name: Mapped[str] = mapped_column(String(200), default="")
    subject: Mapped[str] = mapped_column(String(300), default="")
    outcome: Mapped[str] = mapped_column(String(24))
    # Why, for "ignored" and "unmatched" (a code the page words: inbound.queries.REASONS).
    reason: Mapped[str] = mapped_column(String(32), default="")
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id", ondelete="SET NULL"))
    # The invitee it is about (the replying attendee, the bounced recipient).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    # A bounce: the outbox message that did not arrive (its X-Forum-Desk-Outbox header).
    outbox_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_message.id", ondelete="SET NULL"), index=True
    )
    answer: Mapped[str] = mapped_column(String(16), default="")  # the PARTSTAT read, lower case
    text: Mapped[str] = mapped_column(Text, default="")
    # Details by outcome: {"delegated_to": …}, {"sequence": n, "current": m}, {"status": "5.1.1"}, …
    data: Mapped[dict] = mapped_column(JSON, default=dict)

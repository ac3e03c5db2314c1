"""Review comments: programme staff comment on a grant, forum or meeting; its organisers answer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, check_in, utcnow
from .people import User

REVIEW_OBJECT_TYPES = ("grant", "forum", "meeting")


class ReviewComment(Base):
    """One comment of a review thread. The thread stays on its object (``object_type``, ``object_id``);
    an answer names the comment it answers. Comments are never edited (append-only)."""

    __tablename__ = "review_comment"
    __table_args__ = (
        CheckConstraint(check_in("object_type", REVIEW_OBJECT_TYPES), name="object_type"),
        Index("ix_review_comment_object", "object_type", "object_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    object_type: Mapped[str] = mapped_column(String(16))
    object_id: Mapped[int]
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"), index=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    in_reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("review_comment.id", ondelete="CASCADE"), index=True)

    author: Mapped[User] = relationship()
    in_reply_to: Mapped[ReviewComment | None] = relationship(remote_side=[id])

"""Form submissions already carried out: what makes a create form safe to send twice (core.once)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class FormSubmission(Base):
    """One create form's one-time token, stored in the transaction that did what the form asked.

    A second submission with the same token (a double click, Back and resubmit) finds it and is
    sent to ``result_url`` instead of creating again. Rows are purged after ``core.once.KEEP``.
    """

    __tablename__ = "form_submission"
    __table_args__ = (Index("ix_form_submission_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    result_url: Mapped[str] = mapped_column(String(2000), default="")

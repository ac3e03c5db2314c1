"""Public news items: a summary of the forums held in a period, written by programme staff or organisers."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, check_in, utcnow
from .people import User
from .programme import Grant, Programme

NEWS_STATES = ("draft", "published")


class NewsItem(Base):
    """One news item, a draft (its author's and admins') until published to ``/news`` and its Atom feed.

    It is pre-filled from the meetings of a period (news.services.prefill) but then it is the author's text:
    later changes to the meetings do not rewrite it. Nothing confidential is ever written into it
    (news.services refuses a body that contains confidential content), and the privacy screen runs on
    the body, so what is public is only what was meant to be.
    """

    __tablename__ = "news_item"
    __table_args__ = (
        CheckConstraint(check_in("state", NEWS_STATES), name="state"),
        CheckConstraint("period_end >= period_start", name="period"),
        Index("ix_news_item_state_published_at", "state", "published_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The programme whose funding line and disclaimer the item carries; a grant when an organiser writes
    # about their own grant's forums (None: staff writing about the whole programme).
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id", ondelete="RESTRICT"), index=True)
    grant_id: Mapped[int | None] = mapped_column(ForeignKey("grant_agreement.id", ondelete="RESTRICT"))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(300))
    body_md: Mapped[str] = mapped_column(Text, default="")
    # ``body_md`` rendered and sanitised when saved (core.markdown); pages and the feed show this.
    body_html: Mapped[str] = mapped_column(Text, default="")
    # Whether the item names Kosovo* (then its footnote is shown with it, in the item's language).
    kosovo_footnote: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    state: Mapped[str] = mapped_column(String(16), default="draft")
    published_at: Mapped[datetime | None]
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    programme: Mapped[Programme] = relationship()
    grant: Mapped[Grant | None] = relationship()
    author: Mapped[User] = relationship()

    __mapper_args__ = {"version_id_col": version}

"""A meeting's agenda as typed items: what was said, decided and agreed under each (the "During the meeting" page)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..vocab import AGENDA_ITEM_KINDS
from .base import Base, check_in, utcnow
from .forum import Meeting


class AgendaItem(Base):
    """One item of a meeting's agenda, with the notes and decisions recorded under it while the meeting happens.

    The agenda's Markdown (``Meeting.agenda_md``) stays what invitees were sent; items are derived from it the
    first time an organiser opens the meeting's "During the meeting" page (meetings.day), then kept here.
    Each item is saved on its own, with its own version, so one conflict never costs the others.
    """

    __tablename__ = "agenda_item"
    __table_args__ = (
        CheckConstraint(check_in("kind", AGENDA_ITEM_KINDS), name="kind"),
        Index("ix_agenda_item_meeting_position", "meeting_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(16), default="topic")
    notes_md: Mapped[str] = mapped_column(Text, default="")
    # ``notes_md`` rendered and sanitised when saved (core.markdown); pages show this.
    notes_html: Mapped[str] = mapped_column(Text, default="")
    # One decision per entry, in order, as MinutesVersion.decisions holds them.
    decisions: Mapped[list[str]] = mapped_column(JSON, default=list)
    # A confidential item (one person's release plan): its title, notes and decisions are read in full only by
    # the forum's organisers and the people recorded present (permissions.can_read_confidential); everyone and
    # everything else (minutes' public body, exports, API, feeds, emails, news) gets one redaction line.
    confidential: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The decisions (a subset of ``decisions``, by text) the organisers marked public: only these may be
    # pre-filled into a public news item. Not public unless marked; a confidential item never has any.
    public_decisions: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    # An "adoption" item: the earlier meeting whose minutes it adopts, and when they were adopted here.
    adopts_meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id", ondelete="SET NULL"))
    adopted_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    meeting: Mapped[Meeting] = relationship(foreign_keys=[meeting_id])
    adopts_meeting: Mapped[Meeting | None] = relationship(foreign_keys=[adopts_meeting_id])

    __mapper_args__ = {"version_id_col": version}

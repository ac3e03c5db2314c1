"""Agreed actions and their append-only history of updates."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..vocab import ACTION_STATES, ACTION_UPDATE_KINDS
from .base import Base, check_in, utcnow
from .forum import Forum, Meeting
from .people import Organisation, User


class ActionItem(Base):
    __tablename__ = "action_item"
    __table_args__ = (
        CheckConstraint(check_in("state", ACTION_STATES), name="state"),
        # due_on last: a forum's overdue count is then a range of this index alone (covering).
        Index("ix_action_item_forum_state_due", "forum_id", "state", "due_on"),
        Index("ix_action_item_owner_state", "owner_id", "state"),
        Index("ix_action_item_state_due", "state", "due_on"),
        # The reports' filters, per forum of the reach: raised in a period, done in a period.
        Index("ix_action_item_forum_created", "forum_id", "created_at"),
        Index("ix_action_item_forum_state_closed", "forum_id", "state", "closed_at"),
        CheckConstraint("(decision_number IS NULL) = (decision_version IS NULL)", name="decision_pair"),
        CheckConstraint("decision_number IS NULL OR meeting_id IS NOT NULL", name="decision_meeting"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    forum_id: Mapped[int] = mapped_column(ForeignKey("forum.id", ondelete="RESTRICT"))
    # The meeting that raised it; an action may also be raised between meetings.
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id", ondelete="SET NULL"), index=True)
    # The agenda item it was agreed under (the "During the meeting" page); None when raised otherwise.
    agenda_item_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_item.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    # ``description`` (Markdown) rendered and sanitised when saved (core.markdown); pages show this.
    description_html: Mapped[str] = mapped_column(Text, default="")
    # Raised from one of the minutes' decisions: the minutes version and the decision's position
    # in it (versions are append-only, so the pair keeps pointing at the same words).
    decision_version: Mapped[int | None] = mapped_column(Integer)
    decision_number: Mapped[int | None] = mapped_column(Integer)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    owner_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL"), index=True
    )
    due_on: Mapped[date | None] = mapped_column(Date)
    themes: Mapped[list[str]] = mapped_column(JSON, default=list)
    # A pseudonymous case code at most: no personal data about prisoners is ever stored.
    case_code: Mapped[str] = mapped_column(String(40), default="")
    state: Mapped[str] = mapped_column(String(16), default="proposed")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None]
    # Roll-up of the history, so reports never aggregate every update: the latest entry's time
    # and the first time the owner accepted it. Kept by actions.services._append (the one place
    # entries are written), filled for older rows by migration 0012 and written by generate.py.
    last_update_at: Mapped[datetime | None]
    confirmed_at: Mapped[datetime | None]

    forum: Mapped[Forum] = relationship(back_populates="actions")
    meeting: Mapped[Meeting | None] = relationship()
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    owner_organisation: Mapped[Organisation | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    updates: Mapped[list[ActionUpdate]] = relationship(
        back_populates="action", order_by="ActionUpdate.id", passive_deletes=True
    )

    __mapper_args__ = {"version_id_col": version}


class ActionUpdate(Base):
    """One entry in an action's history: a state change, a progress note or a review outcome.

    Append-only: the chain of updates is the follow-up record across meetings.
    """

    __tablename__ = "action_update"
    __table_args__ = (
        CheckConstraint(check_in("kind", ACTION_UPDATE_KINDS), name="kind"),
        CheckConstraint("to_state IS NULL OR " + check_in("to_state", ACTION_STATES), name="to_state"),
        CheckConstraint("from_state IS NULL OR " + check_in("from_state", ACTION_STATES), name="from_state"),
        Index("ix_action_update_action_id", "action_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("action_item.id", ondelete="RESTRICT"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    # The meeting at which this was reviewed, if any.
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id", ondelete="SET NULL"), index=True)
    # A reassignment: who the action was given to (the owner before it is the previous entry's).
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    action: Mapped[ActionItem] = relationship(back_populates="updates")
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    meeting: Mapped[Meeting | None] = relationship()

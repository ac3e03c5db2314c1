"""Donor programmes, their grants and each grant's team of organisers."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow
from .people import Organisation, User
from .searchable import Searchable

if TYPE_CHECKING:
    from .forum import Forum


class Programme(Searchable, Base):
    __tablename__ = "programme"
    __table_args__ = (CheckConstraint("ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on", name="period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # The programme's actions / themes, e.g. "Radicalisation in prisons"; actions pick from them.
    themes: Mapped[list[str]] = mapped_column(JSON, default=list)
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    grants: Mapped[list[Grant]] = relationship(back_populates="programme")

    search_fields = ("name",)  # the programmes list's search (Searchable)


class Grant(Searchable, Base):
    __tablename__ = "grant_agreement"  # "grant" is an SQL keyword
    __table_args__ = (CheckConstraint("ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on", name="period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id", ondelete="RESTRICT"), index=True)
    reference: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    holder_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="RESTRICT"), index=True)
    country: Mapped[str] = mapped_column(String(2))
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    programme: Mapped[Programme] = relationship(back_populates="grants")
    holder: Mapped[Organisation] = relationship()
    team: Mapped[list[GrantTeam]] = relationship(back_populates="grant", cascade="all, delete-orphan")
    forums: Mapped[list[Forum]] = relationship(back_populates="grant")

    search_fields = ("reference", "title")  # the grants list's search (Searchable)


class GrantTeam(Base):
    """Membership of a grant's team: these users are the grant's organisers."""

    __tablename__ = "grant_team"

    grant_id: Mapped[int] = mapped_column(ForeignKey("grant_agreement.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    grant: Mapped[Grant] = relationship(back_populates="team")
    user: Mapped[User] = relationship(back_populates="grant_teams")

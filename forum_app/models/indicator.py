"""Programme indicators: what a programme measures, with a baseline and a target per reporting period.

An indicator that maps to data in Forum Desk names its ``metric``, and its actual value is computed
from the dashboard's figures for the target's period (and country). Otherwise staff enter the actual
value with a source note.

Indicators are edited and retired, never deleted: each definition (the first, every edit, a
retirement and a reinstatement) is appended to ``indicator_revision``, so the history shows what
the indicator measured when each past figure was reported. A retired indicator takes no new
targets and is left out of the periods that begin after its retirement; the figures of periods
already begun stay. ``version`` turns two people's concurrent edits into a conflict.
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, check_in, utcnow
from .people import User
from .programme import Programme

# metric → what it counts, as people read it (computed from the dashboard's figures; "" means entered by staff)
INDICATOR_METRICS = {
    "forums_active": _l("Forums that held a meeting"),
    "meetings_held": _l("Meetings held"),
    "kinds_per_forum": _l("Kinds of agency taking part per active forum (average)"),
    "attendance_rate": _l("Attendance rate (%)"),
    "actions_done": _l("Agreed actions done"),
    "actions_on_time": _l("Agreed actions completed on time (%)"),
}


class Indicator(Base):
    __tablename__ = "indicator"
    __table_args__ = (
        CheckConstraint(check_in("metric", ("", *INDICATOR_METRICS)), name="metric"),
        UniqueConstraint("programme_id", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    unit: Mapped[str] = mapped_column(String(50))
    baseline: Mapped[float | None] = mapped_column(Float)
    metric: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column()
    # Set: no new targets, and out of reports for periods beginning after this moment.
    retired_at: Mapped[datetime | None] = mapped_column()
    version: Mapped[int] = mapped_column(Integer, default=1)

    programme: Mapped[Programme] = relationship()
    targets: Mapped[list[IndicatorTarget]] = relationship(
        back_populates="indicator", order_by="IndicatorTarget.starts_on"
    )
    revisions: Mapped[list[IndicatorRevision]] = relationship(
        back_populates="indicator", order_by="IndicatorRevision.number"
    )

    __mapper_args__ = {"version_id_col": version}


# What a revision records: how the definition came to be what it is.
INDICATOR_CHANGES = {
    "defined": _l("Defined"),
    "edited": _l("Edited"),
    "retired": _l("Retired"),
    "reinstated": _l("Reinstated"),
}


class IndicatorRevision(Base):
    """The indicator's definition as it was from ``created_at`` until the next revision (append-only)."""

    __tablename__ = "indicator_revision"
    __table_args__ = (
        CheckConstraint(check_in("change", tuple(INDICATOR_CHANGES)), name="change"),
        UniqueConstraint("indicator_id", "number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1 for the definition, then one per change
    change: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(300))
    unit: Mapped[str] = mapped_column(String(50))
    baseline: Mapped[float | None] = mapped_column(Float)
    metric: Mapped[str] = mapped_column(String(32), default="")
    retired: Mapped[bool] = mapped_column(default=False)
    # Kept when the person is removed: the revision stays, without its author.
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    indicator: Mapped[Indicator] = relationship(back_populates="revisions")
    author: Mapped[User | None] = relationship()


class IndicatorTarget(Base):
    """The target for one reporting period (all countries when ``country`` is empty), and for an
    indicator without a metric the actual value entered, with where it comes from."""

    __tablename__ = "indicator_target"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="period"),
        UniqueConstraint("indicator_id", "period", "country"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id", ondelete="CASCADE"), index=True)
    period: Mapped[str] = mapped_column(String(50))  # e.g. "2026-Q1" or "Year 1"
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    country: Mapped[str] = mapped_column(String(8), default="")
    target: Mapped[float | None] = mapped_column(Float)
    actual: Mapped[float | None] = mapped_column(Float)  # entered; computed ones are never stored
    source_note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    indicator: Mapped[Indicator] = relationship(back_populates="targets")

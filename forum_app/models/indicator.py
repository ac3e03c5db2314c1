"""Programme indicators: what a programme measures, with a baseline and a target per reporting period.

An indicator that maps to data in Forum Desk names its ``metric``, and its actual value is computed
from the dashboard's figures for the target's period (and country). Otherwise staff enter the actual
value with a source note.
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Date, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, check_in, utcnow
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

    programme: Mapped[Programme] = relationship()
    targets: Mapped[list[IndicatorTarget]] = relationship(
        back_populates="indicator", order_by="IndicatorTarget.starts_on"
    )


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

"""Indicators: staff define, edit and retire them and set their targets (services), and the dashboard
shows actual against target per period and country (``indicator_rows``).

Every definition is kept as a revision (models/indicator.py): an edit appends the new one, so the
values it replaced stay readable. A retired indicator takes no new targets and leaves the reports
of periods beginning after its retirement; the periods already begun keep their figures.

A computed actual is the dashboard's own figure for the target's period and country, within the
reader's reach (an organiser's computed actuals count only their grants' forums). Entered actuals
are programme-wide statements: only programme staff see them.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from .. import permissions
from ..core import audit
from ..core.clock import utcnow
from ..core.editing import EditInput, ensure_unchanged
from ..core.errors import ConflictError, ServiceError
from ..extensions import db
from ..models import INDICATOR_METRICS, Forum, Grant, Indicator, IndicatorRevision, IndicatorTarget, Programme, User
from ..vocab import COUNTRIES
from .dashboard import Figured, assembled_figures
from .figures import reach_rows
from .periods import ReportFilters
from .rows import Figures, forum_of, grant_of

MAX_VALUE = 1e12


@dataclass(frozen=True)
class IndicatorInput:
    name: str
    unit: str
    baseline: float | None = None
    metric: str = ""


@dataclass(frozen=True)
class TargetInput:
    period: str
    starts_on: date
    ends_on: date
    country: str = ""
    target: float | None = None
    actual: float | None = None
    source_note: str = ""


def _number(value: float | None, field: str) -> float | None:
    if value is not None and (not math.isfinite(value) or abs(value) > MAX_VALUE):
        raise ServiceError(_("Give a number."), field=field)
    return value


@dataclass(frozen=True)
class IndicatorEdit(EditInput):
    """An edit of an indicator's definition (its programme stays)."""

    name: str
    unit: str
    baseline: float | None = None
    metric: str = ""


def _checked(programme_id: int, data: IndicatorInput | IndicatorEdit, except_id: int | None = None) -> dict[str, Any]:
    """The definition's values, cleaned, or a ServiceError at the field that is wrong."""
    name, unit = data.name.strip(), data.unit.strip()
    if not name or len(name) > 300:
        raise ServiceError(_("Name the indicator (at most 300 characters)."), field="name")
    if not unit or len(unit) > 50:
        raise ServiceError(_("Give its unit (at most 50 characters)."), field="unit")
    if data.metric and data.metric not in INDICATOR_METRICS:
        raise ServiceError(_("Choose a figure Forum Desk computes, or none."), field="metric")
    clash = select(Indicator.id).where(Indicator.programme_id == programme_id, Indicator.name == name)
    if except_id is not None:
        clash = clash.where(Indicator.id != except_id)
    if db.session.execute(clash).first():
        raise ServiceError(_("This programme already has an indicator of that name."), field="name")
    return {"name": name, "unit": unit, "baseline": _number(data.baseline, "baseline"), "metric": data.metric}


def _revise(actor: User, indicator: Indicator, change: str) -> IndicatorRevision:
    """Append the indicator's definition as it is now to its history."""
    number = (
        db.session.execute(
            select(func.max(IndicatorRevision.number)).where(IndicatorRevision.indicator_id == indicator.id)
        ).scalar()
        or 0
    ) + 1
    revision = IndicatorRevision(
        indicator_id=indicator.id,
        number=number,
        change=change,
        name=indicator.name,
        unit=indicator.unit,
        baseline=indicator.baseline,
        metric=indicator.metric,
        retired=indicator.retired_at is not None,
        author_id=actor.id,
        created_at=utcnow(),
    )
    db.session.add(revision)
    return revision


def define_indicator(actor: User, programme: Programme, data: IndicatorInput) -> Indicator:
    permissions.ensure_permitted(permissions.indicator_lock(actor))
    values = _checked(programme.id, data)
    indicator = Indicator(programme_id=programme.id, created_at=utcnow(), **values)
    db.session.add(indicator)
    db.session.flush()
    _revise(actor, indicator, "defined")
    audit.record(actor, "indicator.define", indicator, values["name"], metric=data.metric)
    return indicator


def edit_indicator(
    actor: User, indicator: Indicator, data: IndicatorEdit, loaded: dict[str, Any] | None = None
) -> Indicator:
    """Change the definition; the one it replaces stays in the history. Someone else's save meanwhile: a conflict."""
    permissions.ensure_permitted(permissions.indicator_lock(actor))
    permissions.ensure(permissions.indicator_edit_lock(indicator))
    ensure_unchanged(indicator, data, loaded)
    values = _checked(indicator.programme_id, data, except_id=indicator.id)
    if values["metric"] and values["metric"] != indicator.metric:
        entered = select(IndicatorTarget.id).where(
            IndicatorTarget.indicator_id == indicator.id, IndicatorTarget.actual.is_not(None)
        )
        if db.session.execute(entered.limit(1)).first():
            raise ServiceError(
                _("Staff entered actual values for this indicator: it cannot become computed. Define a new one."),
                field="metric",
            )
    changes = audit.apply_changes(indicator, **values)
    if not changes:
        return indicator  # saved as it was: no new revision
    indicator.updated_at = utcnow()
    db.session.flush()
    _revise(actor, indicator, "edited")
    audit.record(actor, "indicator.edit", indicator, indicator.name, changes=changes)
    return indicator


def _versioned(indicator: Indicator, version: int | None) -> None:
    if version != indicator.version:
        raise ConflictError(
            _(
                "Someone else changed “%(name)s” after you opened the page. Nothing was changed: check it and try again.",
                name=indicator.name,
            )
        )


def retire_indicator(actor: User, indicator: Indicator, version: int | None) -> Indicator:
    """Out of new reporting (no new targets, no periods beginning later); past figures and history stay."""
    permissions.ensure_permitted(permissions.indicator_lock(actor))
    _versioned(indicator, version)
    permissions.ensure(permissions.indicator_retire_lock(indicator))
    indicator.retired_at = indicator.updated_at = utcnow()
    db.session.flush()
    _revise(actor, indicator, "retired")
    audit.record(actor, "indicator.retire", indicator, indicator.name)
    return indicator


def reinstate_indicator(actor: User, indicator: Indicator, version: int | None) -> Indicator:
    permissions.ensure_permitted(permissions.indicator_lock(actor))
    _versioned(indicator, version)
    permissions.ensure(permissions.indicator_reinstate_lock(indicator))
    indicator.retired_at = None
    indicator.updated_at = utcnow()
    db.session.flush()
    _revise(actor, indicator, "reinstated")
    audit.record(actor, "indicator.reinstate", indicator, indicator.name)
    return indicator


def indicator_history(indicator_id: int) -> list[IndicatorRevision]:
    """The indicator's definitions, newest first, with their authors (one query)."""
    return list(
        db.session.execute(
            select(IndicatorRevision)
            .where(IndicatorRevision.indicator_id == indicator_id)
            .options(joinedload(IndicatorRevision.author))
            .order_by(IndicatorRevision.number.desc())
        ).scalars()
    )


def retired_on(indicator: Indicator) -> date | None:
    """The UTC day an indicator was retired: periods beginning after it leave the reports."""
    if indicator.retired_at is None:
        return None
    moment = indicator.retired_at
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).date()


def set_target(actor: User, indicator: Indicator, data: TargetInput) -> IndicatorTarget:
    """The target (and, without a metric, the entered actual) for one period and country: set or replaced."""
    permissions.ensure_permitted(permissions.indicator_lock(actor))
    permissions.ensure(permissions.indicator_target_lock(indicator), field="indicator_id")
    period = data.period.strip()
    if not period or len(period) > 50:
        raise ServiceError(_("Name the period, e.g. 2026-Q1 (at most 50 characters)."), field="period")
    if data.ends_on < data.starts_on:
        raise ServiceError(_("The period ends before it starts."), field="ends_on")
    if data.country and data.country not in COUNTRIES:
        raise ServiceError(_("Choose a country, or all."), field="country")
    if indicator.metric and data.actual is not None:
        raise ServiceError(_("Forum Desk computes this indicator's actual value: leave it empty."), field="actual")
    if data.actual is not None and not data.source_note.strip():
        raise ServiceError(_("Say where the actual value comes from."), field="source_note")
    row = db.session.execute(
        select(IndicatorTarget).where(
            IndicatorTarget.indicator_id == indicator.id,
            IndicatorTarget.period == period,
            IndicatorTarget.country == data.country,
        )
    ).scalar_one_or_none()
    if row is None:
        row = IndicatorTarget(indicator_id=indicator.id, period=period, country=data.country)
        db.session.add(row)
    row.starts_on, row.ends_on = data.starts_on, data.ends_on
    row.target, row.actual = _number(data.target, "target"), _number(data.actual, "actual")
    row.source_note = data.source_note.strip()[:2000]
    row.updated_at = utcnow()
    db.session.flush()
    audit.record(
        actor, "indicator.target", indicator, f"{period} {data.country or 'all'}", target=row.target, actual=row.actual
    )
    return row


# --- on the dashboard ---------------------------------------------------------------------------------


def metric_value(metric: str, figures: Figures, forum_figures: list[Figures]) -> float | None:
    if metric == "forums_active":
        return figures.forums_active
    if metric == "meetings_held":
        return figures.held
    if metric == "actions_done":
        return figures.done
    if metric == "attendance_rate":
        return None if figures.attendance_rate is None else round(100 * figures.attendance_rate, 1)
    if metric == "actions_on_time":
        return None if figures.on_time_share is None else round(100 * figures.on_time_share, 1)
    if metric == "kinds_per_forum":
        active = [len([k for k, n in f.attendees_by_kind.items() if n]) for f in forum_figures if f.held]
        return round(statistics.mean(active), 1) if active else None
    return None


@dataclass(frozen=True)
class IndicatorRow:
    indicator: Indicator
    target: IndicatorTarget
    actual: float | None
    computed: bool


def indicator_rows(
    user, filters: ReportFilters, now: datetime | None = None, refresh: bool = False
) -> list[IndicatorRow]:
    """Targets whose period overlaps the dashboard's, for the programmes in the reader's reach.

    One query for the targets, then the dashboard's own figures once per distinct period of a
    computed indicator (the number of periods defined, not the amount of data), through the
    dashboard's cache (``refresh``: counted again, with the dashboard's Refresh).
    """
    now = now or utcnow()
    staff = permissions.is_staff(user)
    programmes = select(Grant.programme_id).where(
        Grant.id.in_(permissions.report_forums(user).with_only_columns(Forum.grant_id))
    )
    stmt = (
        select(IndicatorTarget)
        .join(IndicatorTarget.indicator)
        .where(
            Indicator.programme_id.in_(programmes),
            IndicatorTarget.starts_on <= filters.end,
            IndicatorTarget.ends_on >= filters.start,
        )
        .options(selectinload(IndicatorTarget.indicator))
        .order_by(Indicator.programme_id, Indicator.name, IndicatorTarget.starts_on, IndicatorTarget.country)
    )
    if filters.country:
        stmt = stmt.where(IndicatorTarget.country.in_(("", filters.country)))
    windows: dict[tuple[date, date], Figured] = {}
    reach: list[tuple] | None = None
    rows = []
    for target in db.session.execute(stmt).scalars():
        indicator = target.indicator
        retired = retired_on(indicator)
        if retired is not None and target.starts_on > retired:
            continue  # retired before this period began: not reported in it
        if not indicator.metric:
            if staff:
                rows.append(IndicatorRow(indicator, target, target.actual, False))
            continue
        window = (target.starts_on, target.ends_on)
        if window not in windows:
            reach = reach if reach is not None else reach_rows(user)
            period = ReportFilters(
                start=target.starts_on,
                end=target.ends_on,
                country="",
                grant_id=filters.grant_id,
                forum_id=filters.forum_id,
            )
            windows[window] = assembled_figures(user, period, now, refresh, reach)
        page = windows[window]
        # The indicator's programme only, and the target's country if it names one.
        forum_rows = [
            r
            for r in page.forums
            if grant_of(r).programme_id == indicator.programme_id
            and (not target.country or forum_of(r).country == target.country)
        ]
        figures = Figures()
        for r in forum_rows:
            figures.add(r.figures)
        forum_figures = [r.figures for r in forum_rows]
        rows.append(IndicatorRow(indicator, target, metric_value(indicator.metric, figures, forum_figures), True))
    return rows

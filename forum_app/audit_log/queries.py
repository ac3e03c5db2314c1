"""Searching the audit log: the filters as typed, the SELECT they make, a page and the CSV rows.

A page is two queries whatever the log's size (a bounded count and the rows, their actors
joined): the filters are conditions on the one SELECT, the person filter a sub-select.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import gettext as _
from sqlalchemy import Select, false, func, select
from sqlalchemy.orm import joinedload

from ..core.audit import OUTCOMES
from ..core.paging import COUNT_UP_TO, Page, paginate
from ..core.search import clean_query, contains, escape_like
from ..extensions import db
from ..models import AuditEvent, User

FIELDS = ("q", "actor", "verb", "object_type", "object_id", "outcome", "start", "end", "request_id")
MAX_FIELD = 200
CSV_LIMIT = 50_000  # rows in one download: a narrower filter for more


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@dataclass
class AuditFilters:
    """The search as typed (``values``), what it means (the parsed fields) and what was wrong with it."""

    values: dict[str, str]
    zone: str
    object_id: int | None = None
    start: date | None = None
    end: date | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_args(cls, args: Mapping[str, str], zone: str) -> AuditFilters:
        values = {name: clean_query(args.get(name))[:MAX_FIELD] for name in FIELDS}
        found = cls(values=values, zone=zone)
        if values["object_id"]:
            try:
                found.object_id = int(values["object_id"])
                if not 0 < found.object_id < 2**63:
                    raise ValueError
            except ValueError:
                found.errors["object_id"] = _("An object number is a whole number, such as 42.")
        if values["outcome"] and values["outcome"] not in OUTCOMES:
            found.errors["outcome"] = _("Choose an outcome from the list.")
        for name in ("start", "end"):
            if values[name]:
                try:
                    setattr(found, name, date.fromisoformat(values[name]))
                except ValueError:
                    found.errors[name] = _("Enter a date as YYYY-MM-DD, for example 2026-03-02.")
        if found.start and found.end and found.end < found.start:
            found.errors["end"] = _("The last day is before the first.")
        return found

    @property
    def active(self) -> bool:
        return any(self.values.values())

    def args(self, without_q: bool = False) -> dict[str, str]:
        """The filters for a link (the pager, which adds ``q`` itself; the CSV download): those given."""
        return {name: value for name, value in self.values.items() if value and not (without_q and name == "q")}

    def utc_bounds(self) -> tuple[datetime | None, datetime | None]:
        """The first and last day, in the viewer's zone, as a half-open UTC interval."""
        zone = _zone(self.zone)
        start = datetime.combine(self.start, time(0), zone).astimezone(UTC) if self.start else None
        end = datetime.combine(self.end + timedelta(days=1), time(0), zone).astimezone(UTC) if self.end else None
        return start, end


def filtered(filters: AuditFilters) -> Select:
    """The entries matching ``filters``, newest first (nothing at all while a filter is malformed)."""
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc())
    if filters.errors:
        return stmt.where(false())
    v = filters.values
    if v["q"]:
        stmt = stmt.where(contains(v["q"], AuditEvent.verb, AuditEvent.summary))
    if v["actor"]:
        # By address or name; a number is the person's id (as the admin pages link them), only that.
        if v["actor"].isdigit():
            stmt = stmt.where(AuditEvent.actor_id == int(v["actor"][:18]))
        else:
            stmt = stmt.where(
                AuditEvent.actor_id.in_(select(User.id).where(contains(v["actor"], User.email, User.name)))
            )
    if v["verb"]:
        # "user.login" finds that kind; "user." every kind of the user's, "session" each of the sessions'.
        stmt = stmt.where(func.lower(AuditEvent.verb).like(escape_like(v["verb"].lower()) + "%", escape="\\"))
    if v["object_type"]:
        stmt = stmt.where(func.lower(AuditEvent.object_type) == v["object_type"].lower())
    if filters.object_id is not None:
        stmt = stmt.where(AuditEvent.object_id == filters.object_id)
    if v["outcome"]:
        stmt = stmt.where(AuditEvent.outcome == v["outcome"])
    if v["request_id"]:
        stmt = stmt.where(AuditEvent.request_id == v["request_id"])
    start, end = filters.utc_bounds()
    if start is not None:
        stmt = stmt.where(AuditEvent.at >= start)
    if end is not None:
        stmt = stmt.where(AuditEvent.at < end)
    return stmt


def search_page(filters: AuditFilters, raw_page: str | None) -> Page:
    # The log only grows: counted up to a bound (core/paging.py), not every entry on every view.
    stmt = filtered(filters).options(joinedload(AuditEvent.actor))
    return paginate(stmt, raw_page, count_up_to=COUNT_UP_TO)


CSV_HEADER = [
    "id",
    "when_utc",
    "actor_id",
    "actor_email",
    "verb",
    "object_type",
    "object_id",
    "outcome",
    "summary",
    "ip",
    "request_id",
    "seq",
]


def csv_rows(filters: AuditFilters) -> Iterator[tuple]:
    """The matching entries as rows for the CSV download, streamed (at most CSV_LIMIT)."""
    stmt = (
        filtered(filters)
        .with_only_columns(
            AuditEvent.id,
            AuditEvent.at,
            AuditEvent.actor_id,
            User.email,
            AuditEvent.verb,
            AuditEvent.object_type,
            AuditEvent.object_id,
            AuditEvent.outcome,
            AuditEvent.summary,
            AuditEvent.ip,
            AuditEvent.request_id,
            AuditEvent.seq,
        )
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .limit(CSV_LIMIT)
    )
    for row in db.session.execute(stmt.execution_options(yield_per=500)):
        yield (*row[:1], row[1].isoformat(timespec="seconds"), *row[2:])

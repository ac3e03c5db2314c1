"""Exports of meetings, attendance and actions (with their full update history), CSV or XLSX.

Same filters and reach as the dashboard's lists (``lists.meetings_stmt`` / ``actions_stmt``).
Rows are read with ``yield_per`` and written as they come: CSV is a generator the response
streams; XLSX is written by openpyxl in write-only mode to a temporary file that is streamed
out in chunks and removed. Neither builds the whole file in memory. Gender is never exported
(it is shown in aggregate only).

Rows carry typed values (``int``, ``date``, a naive ``datetime`` in the forum's own zone, which
is named in the ``time_zone`` column, ``str`` or ``None``); each format writes them its own way.
CSV is text, so times are written sortable and text a spreadsheet would run as a formula gets
a leading apostrophe. XLSX keeps the types (dates and times as date cells with a number format,
numbers as numbers) and writes every string as a string cell, which a spreadsheet never runs,
so there the text stays exactly as typed.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, literal, select, union_all
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import ActionItem, ActionUpdate, Forum, Grant, Invitation, Meeting, Organisation, User, WalkInAttendee
from . import lists
from .periods import ReportFilters, aware, local_day

BATCH = 500
CHUNK = 64 * 1024


DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"


def _local(moment: datetime | None, zone: str) -> datetime | None:
    """A stored UTC time as the wall-clock time in the forum's zone (naive: spreadsheets have no zones)."""
    if moment is None:
        return None
    return aware(moment).astimezone(ZoneInfo(zone)).replace(tzinfo=None, second=0, microsecond=0)


def _csv_value(value):
    """A typed value as CSV text. Text that a spreadsheet would run as a formula (=, +, -, @) gets an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(" ", "minutes")  # sortable
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def meeting_rows(user, filters: ReportFilters) -> tuple[list[str], Iterator[tuple]]:
    ids = lists.meetings_stmt(user, filters).with_only_columns(Meeting.id).order_by(None).scalar_subquery()
    invited = (
        select(
            Invitation.meeting_id,
            func.count().label("invitees"),
            func.sum(func.cast(Invitation.attendance == "present", db.Integer)).label("present"),
        )
        .where(Invitation.meeting_id.in_(ids))
        .group_by(Invitation.meeting_id)
        .subquery()
    )
    walk_ins = (
        select(WalkInAttendee.meeting_id, func.count().label("walk_ins"))
        .where(WalkInAttendee.meeting_id.in_(ids))
        .group_by(WalkInAttendee.meeting_id)
        .subquery()
    )
    stmt = (
        select(
            Meeting.id,
            Forum.country,
            Grant.reference,
            Forum.title,
            Forum.timezone,
            Meeting.title,
            Meeting.starts_at,
            Meeting.ends_at,
            Meeting.state,
            Meeting.venue,
            Meeting.minutes_state,
            invited.c.invitees,
            invited.c.present,
            walk_ins.c.walk_ins,
        )
        .join(Forum, Forum.id == Meeting.forum_id)
        .join(Grant, Grant.id == Forum.grant_id)
        .outerjoin(invited, invited.c.meeting_id == Meeting.id)
        .outerjoin(walk_ins, walk_ins.c.meeting_id == Meeting.id)
        .where(Meeting.id.in_(ids))
        .order_by(Meeting.starts_at, Meeting.id)
    )
    header = [
        "meeting_id",
        "country",
        "grant",
        "forum",
        "time_zone",
        "title",
        "starts_local",
        "ends_local",
        "state",
        "venue",
        "minutes",
        "invitees",
        "present",
        "walk_ins",
    ]

    def rows():
        for (
            mid,
            country,
            grant,
            forum,
            zone,
            title,
            starts,
            ends,
            state,
            venue,
            minutes,
            invitees,
            present,
            walk,
        ) in db.session.execute(stmt.execution_options(yield_per=BATCH)):
            yield (
                mid,
                country,
                grant,
                forum,
                zone,
                title,
                _local(starts, zone),
                _local(ends, zone),
                state,
                venue,
                minutes,
                invitees or 0,
                int(present or 0),
                walk or 0,
            )

    return header, rows()


def attendance_rows(user, filters: ReportFilters) -> tuple[list[str], Iterator[tuple]]:
    ids = lists.meetings_stmt(user, filters, "held").with_only_columns(Meeting.id).order_by(None).scalar_subquery()
    invitees = (
        select(
            Invitation.meeting_id.label("meeting_id"),
            literal("invitee").label("source"),
            User.name.label("name"),
            Organisation.name.label("organisation"),
            Organisation.kind.label("kind"),
            Invitation.rsvp.label("rsvp"),
            Invitation.attendance.label("attendance"),
        )
        .join(User, User.id == Invitation.user_id)
        .outerjoin(Organisation, Organisation.id == User.organisation_id)
        .where(Invitation.meeting_id.in_(ids))
    )
    walk_ins = select(
        WalkInAttendee.meeting_id,
        literal("walk-in"),
        WalkInAttendee.name,
        WalkInAttendee.organisation_name,
        WalkInAttendee.organisation_kind,
        literal(""),
        literal("present"),
    ).where(WalkInAttendee.meeting_id.in_(ids))
    both = union_all(invitees, walk_ins).subquery()
    stmt = (
        select(
            Meeting.id,
            Forum.title,
            Forum.timezone,
            Meeting.starts_at,
            both.c.source,
            both.c.name,
            both.c.organisation,
            both.c.kind,
            both.c.rsvp,
            both.c.attendance,
        )
        .join(both, both.c.meeting_id == Meeting.id)
        .join(Forum, Forum.id == Meeting.forum_id)
        .order_by(Meeting.starts_at, Meeting.id, both.c.source, both.c.name)
    )
    header = [
        "meeting_id",
        "forum",
        "time_zone",
        "meeting_starts_local",
        "source",
        "name",
        "organisation",
        "organisation_kind",
        "rsvp",
        "attendance",
    ]

    def rows():
        for mid, forum, zone, starts, source, name, org, kind, rsvp, attendance in db.session.execute(
            stmt.execution_options(yield_per=BATCH)
        ):
            yield mid, forum, zone, _local(starts, zone), source, name, org, kind, rsvp or None, attendance

    return header, rows()


def action_rows(user, filters: ReportFilters, figure: str = "raised") -> tuple[list[str], Iterator[tuple]]:
    """One row per entry of each action's history (an action without entries: one row)."""
    ids = lists.actions_stmt(user, filters, figure).with_only_columns(ActionItem.id).order_by(None).scalar_subquery()
    owner, author = aliased(User), aliased(User)
    stmt = (
        select(
            ActionItem.id,
            Forum.country,
            Forum.title,
            Forum.timezone,
            ActionItem.title,
            owner.name,
            Organisation.name,
            ActionItem.due_on,
            ActionItem.state,
            ActionItem.created_at,
            ActionItem.closed_at,
            ActionUpdate.id,
            ActionUpdate.created_at,
            ActionUpdate.kind,
            ActionUpdate.from_state,
            ActionUpdate.to_state,
            author.name,
            ActionUpdate.meeting_id,
            ActionUpdate.note,
        )
        .join(Forum, Forum.id == ActionItem.forum_id)
        .outerjoin(owner, owner.id == ActionItem.owner_id)
        .outerjoin(Organisation, Organisation.id == ActionItem.owner_organisation_id)
        .outerjoin(ActionUpdate, ActionUpdate.action_id == ActionItem.id)
        .outerjoin(author, author.id == ActionUpdate.author_id)
        .where(ActionItem.id.in_(ids))
        .order_by(ActionItem.id, ActionUpdate.id)
    )
    header = [
        "action_id",
        "country",
        "forum",
        "time_zone",
        "title",
        "owner",
        "owner_organisation",
        "due_on",
        "state",
        "raised_local",
        "closed_local",
        "update_id",
        "update_local",
        "update_kind",
        "from_state",
        "to_state",
        "update_author",
        "reviewed_at_meeting_id",
        "note",
    ]

    def rows():
        for (
            aid,
            country,
            forum,
            zone,
            title,
            owner_name,
            org,
            due,
            state,
            created,
            closed,
            uid,
            uat,
            kind,
            frm,
            to,
            author_name,
            meeting_id,
            note,
        ) in db.session.execute(stmt.execution_options(yield_per=BATCH)):
            yield (
                aid,
                country,
                forum,
                zone,
                title,
                owner_name,
                org,
                due,
                state,
                _local(created, zone),
                _local(closed, zone),
                uid,
                _local(uat, zone),
                kind,
                frm,
                to,
                author_name,
                meeting_id,
                note,
            )

    return header, rows()


def _xlsx_cell(sheet, value):
    """A typed value as an XLSX cell: strings are string cells (never formulas), times carry a number format."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if value is None or isinstance(value, bool | int | float):
        return value
    cell = WriteOnlyCell(sheet)
    if isinstance(value, str):
        # Assigning a string starting with "=" would make openpyxl write a formula; the type is set
        # after the value so the cell stays text. XML cannot carry control characters: they are dropped.
        cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.data_type = "s"
    elif isinstance(value, datetime):
        cell.value = value
        cell.number_format = DATETIME_FORMAT
    elif isinstance(value, date):
        cell.value = value
        cell.number_format = DATE_FORMAT
    else:
        cell.value = str(value)
        cell.data_type = "s"
    return cell


EXPORTS = {"meetings": meeting_rows, "attendance": attendance_rows, "actions": action_rows}


def csv_stream(header: list[str], rows: Iterator[tuple]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")  # so spreadsheet programs read UTF-8
    writer.writerow(header)
    for n, row in enumerate(rows, 1):
        writer.writerow([_csv_value(v) for v in row])
        if n % 200 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def xlsx_stream(title: str, header: list[str], rows: Iterator[tuple]) -> Iterator[bytes]:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.append(header)
    for row in rows:
        sheet.append([_xlsx_cell(sheet, v) for v in row])
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        workbook.save(path)
        with open(path, "rb") as file:
            while chunk := file.read(CHUNK):
                yield chunk
    finally:
        os.unlink(path)


__all__ = ["EXPORTS", "csv_stream", "xlsx_stream", "local_day"]

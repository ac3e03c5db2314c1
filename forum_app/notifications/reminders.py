"""Reminders (``flask forum remind``): meetings in the next two days, actions due in the
next three days, overdue actions. Safe to run every hour, or twice at once.

Each reminder is recorded in ``SentReminder`` (person, kind, subject, occasion) in the
same transaction as its email; the unique key makes a second run skip it and a
simultaneous one fail on the constraint (its transaction, and so its emails, roll back).
Each person's reminders are one transaction, so one collision costs nothing else.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.routing import BuildError

from ..core.commit import attempt
from ..core.dates import format_clock, format_day
from ..core.errors import ServiceError
from ..core.urls import external_url
from ..extensions import db
from ..models import ActionItem, Forum, Invitation, Meeting, SentReminder, User
from ..vocab import ACTION_OPEN_STATES
from .meetings import _when, rsvp_links, subject_date
from .outbox import in_language_of, queue_email
from .preferences import wants

MEETING_WINDOW = timedelta(days=2)
ACTION_DAYS_AHEAD = 3


@dataclass(frozen=True)
class Reminder:
    user_id: int
    kind: str  # meeting-soon, action-due-soon, action-overdue
    subject_type: str
    subject_id: int
    occasion: str

    @property
    def key(self) -> tuple:
        return (self.user_id, self.kind, self.subject_type, self.subject_id, self.occasion)


@dataclass
class ReminderReport:
    queued: int = 0
    emails: int = 0
    skipped: int = 0  # already sent, or a simultaneous run sent them
    problems: list[str] = field(default_factory=list)


def _meeting_reminders(now: datetime) -> list[Reminder]:
    meetings = (
        db.session.execute(
            select(Meeting)
            .where(Meeting.state == "scheduled", Meeting.starts_at > now, Meeting.starts_at <= now + MEETING_WINDOW)
            .options(selectinload(Meeting.invitations).joinedload(Invitation.user))
        )
        .scalars()
        .all()
    )
    return [
        Reminder(inv.user_id, "meeting-soon", "meeting", meeting.id, meeting.starts_at.isoformat())
        for meeting in meetings
        for inv in meeting.invitations
        if inv.user.active and inv.rsvp != "declined"
    ]


def _local_today(now: datetime, zone: str) -> date:
    return now.astimezone(ZoneInfo(zone)).date()


def _action_reminders(now: datetime) -> list[Reminder]:
    horizon = (now + timedelta(days=1)).date() + timedelta(days=ACTION_DAYS_AHEAD)
    rows = db.session.execute(
        select(ActionItem.id, ActionItem.owner_id, ActionItem.due_on, Forum.timezone)
        .join(Forum, Forum.id == ActionItem.forum_id)
        .join(User, User.id == ActionItem.owner_id)
        .where(
            ActionItem.state.in_(ACTION_OPEN_STATES),
            ActionItem.due_on.is_not(None),
            ActionItem.due_on <= horizon,
            User.active.is_(True),
        )
    ).all()
    reminders = []
    for action_id, owner_id, due_on, zone in rows:
        today = _local_today(now, zone)  # "due in three days" as the forum's calendar counts them
        if due_on < today:
            kind = "action-overdue"
        elif due_on <= today + timedelta(days=ACTION_DAYS_AHEAD):
            kind = "action-due-soon"
        else:
            continue
        reminders.append(Reminder(owner_id, kind, "action", action_id, due_on.isoformat()))
    return reminders


def _already_sent(candidates: list[Reminder]) -> set[tuple]:
    if not candidates:
        return set()
    rows = db.session.execute(
        select(
            SentReminder.user_id,
            SentReminder.kind,
            SentReminder.subject_type,
            SentReminder.subject_id,
            SentReminder.occasion,
        ).where(
            SentReminder.user_id.in_({r.user_id for r in candidates}),
            SentReminder.subject_id.in_({r.subject_id for r in candidates}),
        )
    ).all()
    return {tuple(row) for row in rows}


def due_reminders(now: datetime) -> dict[int, list[Reminder]]:
    """Reminders not sent yet, by person (preferences applied later, in the person's transaction)."""
    candidates = _meeting_reminders(now) + _action_reminders(now)
    sent = _already_sent(candidates)
    by_user: dict[int, list[Reminder]] = defaultdict(list)
    for reminder in candidates:
        if reminder.key not in sent:
            by_user[reminder.user_id].append(reminder)
    return dict(by_user)


def _action_url(action: ActionItem) -> str:
    try:
        return external_url("actions.action", action_id=action.id)
    except BuildError:  # the action screens are not there yet: the forum's page lists its actions
        return external_url("forums.forum", forum_id=action.forum_id)


def queue_reminders(user_id: int, reminders: list[Reminder]) -> int:
    """Record and queue one person's reminders (a service: flushes, never commits). Returns emails queued."""
    user = db.session.get(User, user_id)
    emails = 0
    meeting_ids = [r.subject_id for r in reminders if r.subject_type == "meeting"]
    action_ids = [r.subject_id for r in reminders if r.subject_type == "action"]
    for reminder in reminders:
        db.session.add(
            SentReminder(
                user_id=user_id,
                kind=reminder.kind,
                subject_type=reminder.subject_type,
                subject_id=reminder.subject_id,
                occasion=reminder.occasion,
            )
        )
    db.session.flush()  # a simultaneous run's rows make this fail here, before any email is queued
    if user is None:  # deleted since the plan was made (its reminders' rows would fail just above)
        raise ServiceError(f"no user {user_id}")
    if meeting_ids and wants(user, "meeting_reminders"):
        invitations = (
            db.session.execute(
                select(Invitation)
                .where(Invitation.user_id == user_id, Invitation.meeting_id.in_(meeting_ids))
                .options(joinedload(Invitation.meeting).joinedload(Meeting.forum))
            )
            .scalars()
            .all()
        )
        for invitation in invitations:
            meeting = invitation.meeting
            with in_language_of(user, meeting.forum):
                _meeting_reminder(user, meeting, invitation)
            emails += 1
    if action_ids and wants(user, "action_reminders"):
        emails += _action_reminder(user, reminders, action_ids)
    return emails


def _meeting_reminder(user: User, meeting: Meeting, invitation: Invitation) -> None:
    queue_email(
        "meeting-reminder",
        user,
        _(
            "Reminder: %(forum)s, %(day)s %(time)s",
            forum=meeting.forum.title,
            day=subject_date(meeting),
            time=format_clock(meeting.starts_at, meeting.forum.timezone),
        ),
        "meeting_reminder",
        meeting=meeting,
        meeting_obj=meeting,
        forum=meeting.forum,
        invitation=invitation,
        rsvp=rsvp_links(invitation),
        meeting_url=external_url("meetings.meeting", meeting_id=meeting.id),
        account_url=external_url("account.profile"),
        **_when(meeting, user),
    )


def _action_reminder(user: User, reminders, action_ids) -> int:
    """One email for the person's actions due soon or overdue, in their language (else the forum's
    of the first action)."""
    actions = (
        db.session.execute(
            select(ActionItem)
            .where(ActionItem.id.in_(action_ids))
            .options(joinedload(ActionItem.forum))
            .order_by(ActionItem.due_on, ActionItem.id)
        )
        .scalars()
        .all()
    )
    overdue_ids = {r.subject_id for r in reminders if r.kind == "action-overdue"}
    overdue = [a for a in actions if a.id in overdue_ids]
    soon = [a for a in actions if a.id not in overdue_ids]
    first = actions[0]
    with in_language_of(user, first.forum):
        day = format_day(first.due_on, weekday=True)
        if len(actions) == 1:
            subject = (
                _("Overdue action: %(forum)s, due %(day)s", forum=first.forum.title, day=day)
                if overdue
                else _("Action due %(day)s: %(forum)s", forum=first.forum.title, day=day)
            )
        else:
            subject = ngettext(
                "%(num)d action to follow up, from %(day)s",
                "%(num)d actions to follow up, from %(day)s",
                len(actions),
                day=day,
            )
        queue_email(
            "action-reminder",
            user,
            subject,
            "action_reminder",
            forum=first.forum,
            overdue=[(a, _action_url(a)) for a in overdue],
            soon=[(a, _action_url(a)) for a in soon],
            account_url=external_url("account.profile"),
        )
    return 1


def send_reminders(now: datetime) -> ReminderReport:
    report = ReminderReport()
    plan = due_reminders(now)
    db.session.rollback()
    for user_id, reminders in sorted(plan.items()):
        outcome = attempt(partial(queue_reminders, user_id, reminders))
        if outcome:
            report.queued += len(reminders)
            report.emails += outcome.value
        else:
            report.skipped += len(reminders)
            report.problems.append(f"user {user_id}: {outcome.message}")
    return report

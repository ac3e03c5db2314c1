"""Mail to one person about one meeting: in order, and the newest alone when it says everything.

An invitation, update or cancellation (iTIP) carries the meeting's whole state with its
SEQUENCE, so the newest calendar message for a (person, meeting) pair is all that person
needs. A calendar client applies what arrives in the order it arrives: a stale invitation
delivered after the cancellation puts the event back in their calendar, an old time
delivered after the update moves it back. So:

- Queueing a calendar message withdraws, as superseded, what is still waiting for that pair
  (older calendar messages, and meeting reminders, which would repeat an old time or place).
  Waiting includes a message the mail server deferred (4xx) and that would be tried again.
- The worker takes a message only when nothing older for the same pair is waiting
  (``not_behind_older``), so a reminder never overtakes a deferred invitation; and before
  sending a calendar message it checks that no newer one exists (``newer_calendar_message``:
  an administrator's retry of an old failed invitation, or two changes queued at once).

A worker that is sending an older message holds its row locked (``FOR UPDATE`` on
PostgreSQL, the write lock on SQLite) until the outcome is committed. The withdrawal below
is an UPDATE of that row, so it waits for the send to finish: it then sees the message as
sent (and the caller's ``may_have_reached`` says so) or as deferred again (and withdraws it).
The newer message therefore always commits after the older one has gone or been withdrawn.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, delete, exists, or_, select, update
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import OutboxMessage, SentReminder

# Outbox kinds that carry a meeting's calendar to one invitee (the delivery state organisers see).
INVITATION_KINDS = ("meeting-invitation", "meeting-update", "meeting-cancellation")
# What a newer calendar message makes obsolete: it states the meeting as it now is.
SUPERSEDED_KINDS = (*INVITATION_KINDS, "meeting-reminder")

SUPERSEDED = "withdrawn: superseded by a newer email about this meeting"


def _withdraw(condition: ColumnElement[bool], reason: str) -> list[tuple[int, int | None, str]]:
    """Withdraw the pending messages matching ``condition``; returns (id, meeting id, kind) of each.

    Every pending row, whatever its attempts: a deferred message is still waiting to go.
    """
    rows = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == "pending", condition)
        .values(status="withdrawn", last_error=reason)
        .returning(OutboxMessage.id, OutboxMessage.meeting_id, OutboxMessage.kind)
        .execution_options(synchronize_session=False)
    ).all()
    return [(row[0], row[1], row[2]) for row in rows]


def supersede(user_id: int, meeting_id: int) -> int:
    """A newer calendar message for (person, meeting) is being queued: withdraw what it replaces.

    Call before adding the new message (the UPDATE flushes the session). A reminder withdrawn
    here is forgotten in ``SentReminder``, so ``flask forum remind`` sends a fresh one (with
    the meeting as it now is) if the meeting is still due to be reminded of.
    """
    withdrawn = _withdraw(
        and_(
            OutboxMessage.to_user_id == user_id,
            OutboxMessage.meeting_id == meeting_id,
            OutboxMessage.kind.in_(SUPERSEDED_KINDS),
        ),
        SUPERSEDED,
    )
    if any(kind == "meeting-reminder" for _id, _meeting, kind in withdrawn):
        db.session.execute(
            delete(SentReminder).where(
                SentReminder.user_id == user_id,
                SentReminder.kind == "meeting-soon",
                SentReminder.subject_type == "meeting",
                SentReminder.subject_id == meeting_id,
            )
        )
    return len(withdrawn)


def withdraw_pending(user_id: int, meeting_ids, reason: str) -> int:
    """Withdraw everything still waiting for this person about these meetings (any kind)."""
    return len(_withdraw(and_(OutboxMessage.to_user_id == user_id, OutboxMessage.meeting_id.in_(meeting_ids)), reason))


def withdraw_all_pending(user_id: int, reason: str) -> int:
    """Withdraw everything still waiting for this person (a deactivated account)."""
    return len(_withdraw(OutboxMessage.to_user_id == user_id, reason))


def may_have_reached(user_id: int, meeting_id: int) -> bool:
    """Whether a calendar message about this meeting may have reached this person.

    Sent, or tried at least once without being refused for good: an attempt that ended in a
    timeout or a dropped connection may have been delivered all the same. Erring this way costs
    a cancellation of an event the calendar never had (clients ignore it); the other way would
    leave an event in someone's calendar for good. Call after ``withdraw_pending``/``supersede``,
    which wait for a worker sending one of these rows.
    """
    reached = db.session.execute(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.to_user_id == user_id,
            OutboxMessage.meeting_id == meeting_id,
            OutboxMessage.kind.in_(INVITATION_KINDS),
            or_(OutboxMessage.status == "sent", and_(OutboxMessage.attempts > 0, OutboxMessage.status != "failed")),
        )
        .limit(1)
    ).first()
    return reached is not None


# --- for the worker ------------------------------------------------------------------------------


def not_behind_older() -> ColumnElement[bool]:
    """A condition on OutboxMessage: no older message for the same (person, meeting) is waiting.

    Messages about no meeting (or to no account) are never held back.
    """
    older = aliased(OutboxMessage)
    return ~exists().where(
        older.to_user_id == OutboxMessage.to_user_id,
        older.meeting_id == OutboxMessage.meeting_id,
        older.status == "pending",
        older.id < OutboxMessage.id,
    )


def newer_calendar_message(message: OutboxMessage) -> int | None:
    """The id of a calendar message for the same (person, meeting) queued after ``message``, if any."""
    if message.kind not in INVITATION_KINDS or message.meeting_id is None or message.to_user_id is None:
        return None
    return db.session.execute(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.to_user_id == message.to_user_id,
            OutboxMessage.meeting_id == message.meeting_id,
            OutboxMessage.kind.in_(INVITATION_KINDS),
            OutboxMessage.id > message.id,
        )
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    ).scalar_one_or_none()

"""Minutes: versioned text and decisions, circulated for comments, then adopted.

Every save appends a MinutesVersion; nothing is overwritten. ``Meeting.minutes_revision``
names the latest, and a form saved against an older one is a conflict. Organisers work
on the latest; everyone else reads ``minutes_shared_revision``, the latest version that
was circulated, adopted or recorded as a correction, so work in progress is never shown
before it is circulated. Once adopted, the text is locked: only an explicit correction,
with its reason, supersedes it (and is shared at once).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import notifications, permissions
from ..core import audit
from ..core.clock import utcnow
from ..core.errors import ConflictError, ServiceError
from ..core.markdown import render_for_storage
from ..extensions import db
from ..models import Meeting, MinutesComment, MinutesVersion, User
from ..permissions import ensure

MAX_DECISIONS = 100


def current_version(meeting: Meeting) -> MinutesVersion | None:
    if meeting.minutes_revision == 0:
        return None
    return db.session.execute(
        select(MinutesVersion).where(
            MinutesVersion.meeting_id == meeting.id, MinutesVersion.number == meeting.minutes_revision
        )
    ).scalar_one()


def version_for(user, meeting: Meeting) -> MinutesVersion | None:
    """The version ``user`` reads: the latest for organisers and staff, else the shared one."""
    if permissions.reads_everything(user, meeting):
        return current_version(meeting)
    if meeting.minutes_shared_revision == 0:
        return None
    return get_version(meeting, meeting.minutes_shared_revision)


def readable_version(user, meeting: Meeting, number: int) -> MinutesVersion | None:
    """Version ``number`` if ``user`` may read it (organisers: any; others: shared ones only)."""
    version = get_version(meeting, number)
    if version is None:
        return None
    if version.shared_at is None and not permissions.reads_everything(user, meeting):
        return None
    return version


def version_status(meeting: Meeting, versions: list[MinutesVersion]) -> dict[int, str]:
    """Each version's place in the record: "adopted", "correction", "circulated" or "draft"."""
    adopted = None
    if meeting.minutes_state == "adopted":
        adopted = max((v.number for v in versions if v.kind == "edit" and v.shared_at is not None), default=None)
    return {
        v.number: (
            "adopted"
            if v.number == adopted
            else "correction"
            if v.kind == "correction"
            else "circulated"
            if v.shared_at is not None
            else "draft"
        )
        for v in versions
    }


def readable_versions(user, meeting: Meeting) -> list[MinutesVersion]:
    """The versions ``user`` may list, newest first (drafts never shared stay the organisers')."""
    stmt = (
        select(MinutesVersion)
        .where(MinutesVersion.meeting_id == meeting.id)
        .options(joinedload(MinutesVersion.author))
        .order_by(MinutesVersion.number.desc())
    )
    if not permissions.reads_everything(user, meeting):
        stmt = stmt.where(MinutesVersion.shared_at.is_not(None))
    return list(db.session.execute(stmt).scalars())


def get_version(meeting: Meeting, number: int) -> MinutesVersion | None:
    return db.session.execute(
        select(MinutesVersion).where(MinutesVersion.meeting_id == meeting.id, MinutesVersion.number == number)
    ).scalar_one_or_none()


@dataclass(frozen=True)
class MinutesInput:
    body_md: str
    decisions: list[str] = field(default_factory=list)
    correction_reason: str = ""
    # The confidential part (meetings.day drafts it); None keeps the latest version's, so editing the public
    # body on the minutes form never drops it.
    confidential_md: str | None = None
    confidential_decisions: list[str] | None = None


def save_minutes(actor: User, meeting: Meeting, data: MinutesInput, *, base_revision: int) -> MinutesVersion:
    """Append a version. After adoption this is a correction and needs ``correction_reason``."""
    body_md, decisions, correction_reason = data.body_md, list(data.decisions), data.correction_reason
    ensure(permissions.minutes_lock(meeting))
    latest = current_version(meeting)
    if meeting.minutes_revision != base_revision:
        raise ConflictError(
            _(
                "Someone else saved the minutes (version %(n)d) after you opened the form. Your text was not "
                "saved; it is below with the differences, so you can merge and save again.",
                n=meeting.minutes_revision,
            ),
            [
                (_("Minutes"), latest.body_md if latest else "", body_md),
                (_("Decisions"), "\n".join(latest.decisions if latest else []), "\n".join(decisions)),
            ],
        )
    decisions = [d.strip() for d in decisions if d.strip()][:MAX_DECISIONS]
    secret_md = data.confidential_md if data.confidential_md is not None else (latest.confidential_md if latest else "")
    secret_decisions = (
        data.confidential_decisions
        if data.confidential_decisions is not None
        else (list(latest.confidential_decisions) if latest else [])
    )
    secret_decisions = [d.strip() for d in secret_decisions if d.strip()][:MAX_DECISIONS]
    if (
        latest is not None
        and (latest.body_md, latest.decisions) == (body_md, decisions)
        and (latest.confidential_md, list(latest.confidential_decisions)) == (secret_md, secret_decisions)
    ):
        raise ServiceError(_("Nothing changed since the saved version."))
    kind = "edit"
    if meeting.minutes_state == "adopted":
        correction_reason = correction_reason.strip()
        if not correction_reason:
            raise ServiceError(
                _("The minutes are adopted. Say what this correction corrects and why."), field="correction_reason"
            )
        kind = "correction"
    body_html = render_for_storage(body_md, field="body_md")  # refused here if over budget; nothing added yet
    secret_html = render_for_storage(secret_md, field="body_md") if secret_md else ""
    version = MinutesVersion(
        meeting_id=meeting.id,
        number=meeting.minutes_revision + 1,
        body_md=body_md,
        body_html=body_html,
        decisions=decisions,
        confidential_md=secret_md,
        confidential_html=secret_html,
        confidential_decisions=secret_decisions,
        kind=kind,
        reason=correction_reason if kind == "correction" else "",
        author_id=actor.id,
    )
    db.session.add(version)
    meeting.minutes_revision = version.number
    if kind == "correction":
        _share(meeting, version)  # a correction to adopted minutes is part of the record at once
    audit.record(
        actor,
        "minutes.correct" if kind == "correction" else "minutes.save",
        meeting,
        f"Minutes version {version.number}",
        reason=version.reason,
    )
    return version


def _share(meeting: Meeting, version: MinutesVersion) -> None:
    if version.shared_at is None:
        version.shared_at = utcnow()
    meeting.minutes_shared_revision = version.number


def _require_latest(meeting: Meeting, base_revision: int) -> None:
    """Circulating or adopting acts on what the organiser read: refuse if it has changed since."""
    if meeting.minutes_revision != base_revision:
        raise ConflictError(
            _(
                "The minutes changed (now version %(n)d) since you opened the page. Read the latest version first.",
                n=meeting.minutes_revision,
            )
        )


def circulate(actor: User, meeting: Meeting, base_revision: int) -> None:
    """Show version ``base_revision`` (the latest, as the organiser saw it) to the invitees."""
    _publish(actor, meeting, base_revision, permissions.circulate_lock, "circulated", "circulate")
    notifications.minutes_circulated(meeting)


def adopt(actor: User, meeting: Meeting, base_revision: int, *, at_meeting: Meeting | None = None) -> None:
    """Lock the minutes as they stand at ``base_revision`` (the version the organiser read).

    A forum adopting "at the next meeting" adopts them only there (``at_meeting``, from that meeting's
    agenda item: meetings.day.adopt_at_meeting), which is then recorded on these minutes' meeting.
    """
    if at_meeting is None:
        ensure(permissions.adoption_way_lock(meeting))
    _publish(actor, meeting, base_revision, permissions.adopt_lock, "adopted", "adopt")
    if at_meeting is not None:
        meeting.minutes_adopted_at_meeting_id = at_meeting.id


def _publish(actor: User, meeting: Meeting, base_revision: int, lock, state: str, verb: str) -> None:
    """Circulating and adopting: both share the version the organiser read and move the minutes on."""
    ensure(lock(meeting))
    _require_latest(meeting, base_revision)
    version = current_version(meeting)
    if version is None:  # never: both locks refuse minutes not yet written
        raise ServiceError(_("Write the minutes first."))
    _share(meeting, version)
    meeting.minutes_state = state
    setattr(meeting, f"minutes_{state}_at", utcnow())
    audit.record(actor, f"minutes.{verb}", meeting, f"{state.capitalize()} version {meeting.minutes_revision}")


def add_comment(actor: User, meeting: Meeting, body: str) -> MinutesComment:
    body = body.strip()
    if not body:
        raise ServiceError(_("Write a comment first."), field="body")
    comment = MinutesComment(
        meeting_id=meeting.id, version_number=meeting.minutes_shared_revision, author_id=actor.id, body=body[:5000]
    )
    db.session.add(comment)
    audit.record(actor, "minutes.comment", meeting, "Commented on the minutes")
    return comment


def three_way(form, base: MinutesVersion | None, saved: MinutesVersion | None) -> list[tuple[str, list, list]]:
    """After a conflict on the minutes form: (what, the other person's change, yours) as line diffs
    from the version both started from; a part this person did not touch takes the saved text."""
    rows = []
    parts = (
        ("body_md", _("Minutes"), lambda v: v.body_md),
        ("decisions", _("Decisions"), lambda v: "\n".join(v.decisions)),
    )
    for name, label, text_of in parts:
        field = getattr(form, name)
        start = text_of(base) if base else ""
        theirs = text_of(saved) if saved else ""
        yours = field._value() if name == "decisions" else (field.data or "")
        if yours == start and theirs != start:
            field.process_formdata([theirs])  # untouched here: keep the other person's change
            yours = theirs
        if theirs != start or yours != start:
            rows.append((label, diff_lines(start, theirs), diff_lines(start, yours)))
    return rows


def diff_lines(old: str, new: str) -> list[tuple[str, str]]:
    """A line diff as (kind, text) with kind in "same", "added", "removed" (for templates to style)."""
    rows: list[tuple[str, str]] = []
    for line in difflib.ndiff(old.splitlines(), new.splitlines()):
        tag, text = line[:2], line[2:]
        if tag == "  ":
            rows.append(("same", text))
        elif tag == "+ ":
            rows.append(("added", text))
        elif tag == "- ":
            rows.append(("removed", text))
    return rows

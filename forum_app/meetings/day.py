"""The meeting day: a meeting recorded in one place, item by item, then drafted into minutes.

The organisers' "During the meeting" page (``day_views``) records, under each agenda item, what
was said (notes), decided (decisions) and agreed (actions), next to the attendance and the
follow-up review that already exist. Every part is saved on its own, with its own row version,
so one conflict or one refused field never loses the rest.

Agenda items are derived from the agenda's Markdown the first time the page is opened (see
``agenda_titles`` for the rule), then kept as rows: the Markdown stays what invitees were sent.
The follow-up review of earlier actions is always an item of its own (kind "review"); a meeting
planned to adopt the previous meeting's minutes has an "adoption" item, made when it was planned.

Services flush, write the audit trail and never commit (``core.commit.attempt`` does). State rules
come from ``permissions`` (``meeting_day_lock`` and friends).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from .. import permissions
from ..actions import services as actions
from ..actions.services import REVIEW_AGENDA_ITEM, ActionInput
from ..core import audit, language
from ..core.clock import utcnow
from ..core.dates import format_day
from ..core.editing import EditInput, ensure_unchanged
from ..core.errors import ServiceError
from ..core.markdown import render_for_storage
from ..core.times import utc_to_local
from ..extensions import db
from ..models import ActionItem, AgendaItem, Invitation, Meeting, MinutesVersion, Organisation, User, WalkInAttendee
from ..permissions import ensure
from ..vocab import ORGANISATION_KINDS
from . import confidential, minutes

MAX_TITLE = 300
MAX_NOTES = 20_000
MAX_DECISIONS = 50
MAX_DECISION = 1000
MAX_ITEMS = 60

_NUMBERED = re.compile(r"^\d+[.)]\s+(.+)$")
_BULLET = re.compile(r"^[-*+]\s+(.+)$")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$")
_REVIEW = re.compile(r"follow-up review|review of .*actions", re.IGNORECASE)
_PLACEHOLDERS = frozenset({"…", "...", "-", "—"})


@dataclass(frozen=True)
class ItemInput(EditInput):
    """One agenda item's form: its title, what was said, what was decided (one decision a line)."""

    title: str
    notes_md: str
    decisions: list[str]
    # None: not offered on this person's form (they may not mark them): the stored marks stay.
    confidential: bool | None = None
    # The decisions (by text) marked public, for the news; ignored for a confidential item.
    public_decisions: list[str] | None = None


# --- the agenda's items -------------------------------------------------------------------------------


def agenda_titles(agenda_md: str) -> list[str]:
    """The items of an agenda written in Markdown. The rule:

    - the top-level list items (numbered "1." / "1)" or bulleted "-", "*", "+", not indented), if any;
    - otherwise the headings ("#" to "######");
    - otherwise none (the organisers add items on the page).

    Placeholder items ("…") are skipped, inline text is kept as written, a title is cut at 300 characters.
    """
    lines = (agenda_md or "").replace("\r\n", "\n").split("\n")
    items = [m.group(1) for line in lines if (m := _NUMBERED.match(line) or _BULLET.match(line))]
    if not items:
        items = [m.group(1) for line in lines if (m := _HEADING.match(line))]
    titles = []
    for item in items:
        title = item.strip()[:MAX_TITLE].strip()
        if title and title not in _PLACEHOLDERS:
            titles.append(title)
    return titles[:MAX_ITEMS]


def _is_review(title: str) -> bool:
    return bool(_REVIEW.search(title)) or title.casefold() == str(REVIEW_AGENDA_ITEM).casefold()


def items_of(meeting: Meeting) -> list[AgendaItem]:
    return list(
        db.session.execute(
            select(AgendaItem).where(AgendaItem.meeting_id == meeting.id).order_by(AgendaItem.position, AgendaItem.id)
        ).scalars()
    )


def needs_items(meeting: Meeting) -> bool:
    """True until the meeting's items were derived (every derived agenda has its review item, which stays)."""
    return not db.session.execute(
        select(AgendaItem.id).where(AgendaItem.meeting_id == meeting.id, AgendaItem.kind != "adoption").limit(1)
    ).first()


def derive_items(actor: User, meeting: Meeting) -> list[AgendaItem]:
    """The meeting's items from its agenda's Markdown (``agenda_titles``), once: idempotent.

    Runs with the meeting's row locked, so two organisers opening the page at the same moment
    make one set of items. The review of agreed actions is always an item (the first, unless the
    agenda places it); an adoption item made when the meeting was planned keeps its place in the
    agenda where the agenda names it, else follows the review.
    """
    ensure(permissions.meeting_day_lock(meeting))
    db.session.refresh(meeting, with_for_update={"of": Meeting})
    existing = items_of(meeting)
    if any(item.kind != "adoption" for item in existing):
        return existing
    adoption = existing[0] if existing else None
    ordered: list[AgendaItem] = []
    for title in agenda_titles(meeting.agenda_md):
        if adoption is not None and title.casefold() == adoption.title.casefold():
            if adoption not in ordered:
                ordered.append(adoption)
            continue
        review = _is_review(title) and not any(i.kind == "review" for i in ordered)
        ordered.append(AgendaItem(meeting_id=meeting.id, title=title, kind="review" if review else "topic"))
    if not any(i.kind == "review" for i in ordered):
        ordered.insert(0, AgendaItem(meeting_id=meeting.id, title=str(REVIEW_AGENDA_ITEM), kind="review"))
    if adoption is not None and adoption not in ordered:
        after = next(n for n, i in enumerate(ordered) if i.kind == "review") + 1
        ordered.insert(after, adoption)
    now = utcnow()
    for position, item in enumerate(ordered, start=1):
        item.position = position
        if item.id is None:
            item.notes_md, item.notes_html, item.decisions = "", "", []
            item.created_at = item.updated_at = now
            db.session.add(item)
    db.session.flush()
    audit.record(actor, "meeting.agenda.derive", meeting, f"Agenda items: {len(ordered)}")
    return ordered


def _clean_title(title: str) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise ServiceError(_("Give the item a title."), field="title")
    if len(title) > MAX_TITLE:
        raise ServiceError(
            ngettext("Keep the title under %(num)d character.", "Keep the title under %(num)d characters.", MAX_TITLE),
            field="title",
        )
    return title


def add_item(actor: User, meeting: Meeting, title: str) -> AgendaItem:
    """A new item at the end of the agenda."""
    ensure(permissions.meeting_day_lock(meeting))
    title = _clean_title(title)
    db.session.refresh(meeting, with_for_update={"of": Meeting})  # one "last position" at a time
    count, last = db.session.execute(
        select(func.count(AgendaItem.id), func.max(AgendaItem.position)).where(AgendaItem.meeting_id == meeting.id)
    ).one()
    if count >= MAX_ITEMS:
        raise ServiceError(
            ngettext("An agenda has at most %(num)d item.", "An agenda has at most %(num)d items.", MAX_ITEMS),
            field="title",
        )
    now = utcnow()
    item = AgendaItem(
        meeting_id=meeting.id,
        position=(last or 0) + 1,
        title=title,
        kind="topic",
        notes_md="",
        notes_html="",
        decisions=[],
        created_at=now,
        updated_at=now,
    )
    db.session.add(item)
    db.session.flush()
    audit.record(actor, "meeting.agenda.add", meeting, f"Agenda item: {title}", item_id=item.id)
    return item


def _clean_decisions(decisions: Sequence[str]) -> list[str]:
    cleaned = list(dict.fromkeys(" ".join(d.split()) for d in decisions if d and d.strip()))
    if len(cleaned) > MAX_DECISIONS:
        raise ServiceError(
            ngettext("At most %(num)d decision.", "At most %(num)d decisions.", MAX_DECISIONS), field="decisions"
        )
    if any(len(d) > MAX_DECISION for d in cleaned):
        raise ServiceError(
            ngettext(
                "A decision may have at most %(num)d character.",
                "A decision may have at most %(num)d characters.",
                MAX_DECISION,
            ),
            field="decisions",
        )
    return cleaned


def save_item(actor: User, item: AgendaItem, data: ItemInput, loaded: dict | None) -> AgendaItem:
    """Save one item's title, notes and decisions, unless someone saved it since the form was opened
    (``loaded``: a ConflictError says what differs, and nothing is written)."""
    ensure(permissions.meeting_day_lock(item.meeting))
    if item.confidential and not permissions.can_read_confidential(actor, item.meeting):
        # They cannot read it, so they cannot knowingly change it (the page shows them the redaction line).
        raise ServiceError(_("This item is confidential: only the forum's organisers and the people present edit it."))
    title = _clean_title(data.title)
    notes_md = (data.notes_md or "").replace("\r\n", "\n").strip()
    if len(notes_md) > MAX_NOTES:
        raise ServiceError(
            ngettext("Keep the notes under %(num)d character.", "Keep the notes under %(num)d characters.", MAX_NOTES),
            field="notes_md",
        )
    decisions = _clean_decisions(data.decisions)
    confidential = item.confidential if data.confidential is None else bool(data.confidential)
    wanted = set((item.public_decisions or []) if data.public_decisions is None else data.public_decisions)
    # Public only when marked, only among this item's decisions, and never for a confidential item.
    public = [] if confidential else [d for d in decisions if d in wanted]
    marking = data.confidential is not None or data.public_decisions is not None
    changed = item.confidential != confidential or public != list(item.public_decisions or [])
    if marking and changed and not permissions.can_read_confidential(actor, item.meeting):
        raise ServiceError(_("Only the forum's organisers mark items confidential or decisions public."))
    ensure_unchanged(item, data, loaded)
    before = (item.title, item.notes_md, list(item.decisions or []), item.confidential, list(item.public_decisions))
    if before == (title, notes_md, decisions, confidential, public):
        return item  # nothing changed: no new version, no audit entry
    item.notes_html = render_for_storage(notes_md, field="notes_md")  # refused here if over budget
    item.title, item.notes_md, item.decisions = title, notes_md, decisions
    if item.confidential != confidential:
        audit.record(
            actor,
            "meeting.agenda.confidential" if confidential else "meeting.agenda.not_confidential",
            item.meeting,
            f"Agenda item {item.position} marked {'confidential' if confidential else 'not confidential'}",
            item_id=item.id,
        )
    item.confidential, item.public_decisions = confidential, public
    item.updated_at = utcnow()
    db.session.flush()
    # A confidential item's title stays out of the (non-confidential) audit summary.
    shown = f"item {item.position}" if confidential else title
    audit.record(actor, "meeting.agenda.save", item.meeting, f"Agenda item: {shown}", item_id=item.id)
    return item


def move_item(actor: User, item: AgendaItem, step: int) -> None:
    """Move an item one place up (``step`` -1) or down (+1), swapping with its neighbour."""
    meeting = item.meeting
    ensure(permissions.meeting_day_lock(meeting))
    if step not in (-1, 1):
        raise ServiceError(_("An item moves one place up or down."))
    db.session.refresh(meeting, with_for_update={"of": Meeting})
    items = items_of(meeting)
    index = next((n for n, i in enumerate(items) if i.id == item.id), None)
    if index is None:
        raise ServiceError(_("This item is not on the meeting's agenda."))
    other = index + step
    if not 0 <= other < len(items):
        raise ServiceError(_("The item is already first.") if step < 0 else _("The item is already last."))
    items[index], items[other] = items[other], items[index]
    for position, each in enumerate(items, start=1):  # also mends gaps left by removed items
        if each.position != position:
            each.position = position
    db.session.flush()
    audit.record(actor, "meeting.agenda.move", meeting, f"Moved agenda item: {item.title}", item_id=item.id)


def remove_item(actor: User, item: AgendaItem) -> None:
    """Remove a topic. The review and an adoption item stay; so does a topic with actions agreed under it
    (the actions name it), and one with notes or decisions asks for them to be cleared first."""
    meeting = item.meeting
    ensure(permissions.meeting_day_lock(meeting))
    if item.kind != "topic":
        raise ServiceError(_("This item belongs to every meeting's record; it cannot be removed."))
    if db.session.execute(select(ActionItem.id).where(ActionItem.agenda_item_id == item.id).limit(1)).first():
        raise ServiceError(_("Actions were agreed under this item: it stays on the agenda."))
    if item.notes_md or item.decisions:
        raise ServiceError(_("This item has notes or decisions. Clear them first if it is to be removed."))
    db.session.delete(item)
    db.session.flush()
    audit.record(actor, "meeting.agenda.remove", meeting, f"Removed agenda item: {item.title}", item_id=item.id)


def load_item(meeting: Meeting, item_id: int) -> AgendaItem:
    """The meeting's item ``item_id`` (a ServiceError if it is not one of them: nothing is changed)."""
    item = db.session.get(AgendaItem, item_id)
    if item is None or item.meeting_id != meeting.id:
        raise ServiceError(_("This item is not on the meeting's agenda. Reload the page."))
    return item


# --- actions agreed under an item --------------------------------------------------------------------


def record_item_actions(actor: User, item: AgendaItem, rows: Sequence[tuple[int, ActionInput]]) -> list[ActionItem]:
    """Several actions agreed under ``item``: the record-actions service (all or nothing), each naming its item."""
    ensure(permissions.meeting_day_lock(item.meeting))
    raised = actions.record_actions(actor, item.meeting, rows)
    for action in raised:
        action.agenda_item_id = item.id
    db.session.flush()
    return raised


# --- adopting the previous meeting's minutes at this meeting ------------------------------------------


def adoption_title(previous: Meeting) -> str:
    """ "Adoption of the minutes of 30 June 2021", in the forum's language, the date in its calendar."""
    forum = previous.forum
    with language.speaking(forum.language):
        day = format_day(utc_to_local(previous.starts_at, forum.timezone).date())
        return _("Adoption of the minutes of %(date)s", date=day)


def agenda_with_item(agenda_md: str, title: str) -> str:
    """The agenda with ``title`` as a numbered item after the first one (the review of agreed actions,
    which a planned meeting opens with), the numbers after it moved on; first if nothing is numbered."""
    lines = agenda_md.split("\n")
    numbered = [n for n, line in enumerate(lines) if _NUMBERED.match(line)]
    if not numbered:
        return f"1. {title}\n" + agenda_md
    at = numbered[0] + 1
    result = lines[:at] + [f"2. {title}"]
    number = 2
    for line in lines[at:]:
        match = _NUMBERED.match(line)
        if match:
            number += 1
            line = f"{number}. {match.group(1)}"
        result.append(line)
    return "\n".join(result)


def add_adoption_item(meeting: Meeting, previous: Meeting) -> AgendaItem:
    """The item that will adopt ``previous``'s minutes at ``meeting`` (planned as its next meeting)."""
    now = utcnow()
    item = AgendaItem(
        meeting_id=meeting.id,
        position=1,
        title=adoption_title(previous)[:MAX_TITLE],
        kind="adoption",
        notes_md="",
        notes_html="",
        decisions=[],
        adopts_meeting_id=previous.id,
        created_at=now,
        updated_at=now,
    )
    db.session.add(item)
    return item


def adoption_lock(item: AgendaItem) -> str | None:
    """Why ``item`` cannot adopt its minutes now (None: it can)."""
    if item.kind != "adoption" or item.adopts_meeting is None:
        return _("This item adopts no minutes.")
    if item.adopted_at is not None:
        return _("The minutes are already adopted.")
    return permissions.meeting_day_lock(item.meeting) or permissions.adopt_lock(item.adopts_meeting)


def adopt_at_meeting(actor: User, item: AgendaItem, base_revision: int) -> Meeting:
    """Adopt the earlier meeting's minutes (the version read, ``base_revision``) during this meeting:
    the adoption service locks them; the item and the earlier meeting record where it happened."""
    ensure(adoption_lock(item))
    previous = item.adopts_meeting
    assert previous is not None  # adoption_lock refuses an item without one
    if not permissions.can_edit_meeting(actor, previous):
        raise ServiceError(_("Only the forum's organisers adopt its minutes."))
    minutes.adopt(actor, previous, base_revision, at_meeting=item.meeting)
    item.adopted_at = utcnow()
    item.updated_at = item.adopted_at
    db.session.flush()
    audit.record(
        actor,
        "minutes.adopt_at_meeting",
        item.meeting,
        f"Adopted the minutes of meeting {previous.id}",
        item_id=item.id,
    )
    return previous


# --- drafting the minutes ------------------------------------------------------------------------------


def _attendance_lines(meeting: Meeting) -> list[str]:
    """People present by kind of organisation (no names: the minutes count agencies)."""
    counts: Counter = Counter()
    for (kind,) in db.session.execute(
        select(func.coalesce(Organisation.kind, "other"))
        .select_from(Invitation)
        .join(User, User.id == Invitation.user_id)
        .outerjoin(Organisation, Organisation.id == User.organisation_id)
        .where(Invitation.meeting_id == meeting.id, Invitation.attendance == "present")
    ):
        counts[kind] += 1
    for (kind,) in db.session.execute(
        select(WalkInAttendee.organisation_kind).where(WalkInAttendee.meeting_id == meeting.id)
    ):
        counts[kind] += 1
    total = sum(counts.values())
    if not total:
        return [_("Attendance was not recorded.")]
    lines = [ngettext("%(num)d person present.", "%(num)d people present.", total)]
    lines += [f"- {ORGANISATION_KINDS[kind]}: {counts[kind]}" for kind in ORGANISATION_KINDS if counts[kind]]
    return lines


def _action_line(action: ActionItem) -> str:
    owner = action.owner.name if action.owner is not None else _("no owner")
    if action.owner_organisation is not None:
        owner = f"{owner} ({action.owner_organisation.name})"
    if action.due_on is not None:
        return _("%(title)s: %(owner)s, due %(date)s", title=action.title, owner=owner, date=format_day(action.due_on))
    return _("%(title)s: %(owner)s, no due date", title=action.title, owner=owner)


@dataclass(frozen=True)
class DraftedMinutes:
    """The minutes drafted from the record: the public body and decisions, and the confidential part."""

    body_md: str
    decisions: list[str]
    confidential_md: str
    confidential_decisions: list[str]


def minutes_from_record(meeting: Meeting) -> DraftedMinutes:
    """The minutes' Markdown and decisions built from the meeting's record: attendance by kind of
    organisation, then each agenda item with its notes, decisions and the actions agreed under it.

    A confidential item is one redaction line in the body ("Item 3: confidential, 2 actions agreed"); its
    title, notes, decisions and actions go into the confidential part, which only those who may read
    confidential content of the meeting are shown (permissions.can_read_confidential)."""
    items = items_of(meeting)
    agreed = db.session.execute(
        select(ActionItem)
        .where(ActionItem.meeting_id == meeting.id)
        .options(joinedload(ActionItem.owner), joinedload(ActionItem.owner_organisation))
        .order_by(ActionItem.id)
    ).scalars()
    by_item: dict[int | None, list[ActionItem]] = {}
    for action in agreed:
        by_item.setdefault(action.agenda_item_id, []).append(action)
    parts = ["## " + _("Attendance"), "", *_attendance_lines(meeting)]
    secret: list[str] = []
    decisions: list[str] = []
    secret_decisions: list[str] = []
    for number, item in enumerate(items, start=1):
        if item.confidential:
            parts += ["", "## " + confidential.redaction_line(number, len(by_item.get(item.id, [])))]
            target, target_decisions = secret, secret_decisions
        else:
            target, target_decisions = parts, decisions
        target += ["", f"## {number}. {item.title}"]
        if item.kind == "adoption" and item.adopted_at is not None:
            target += ["", _("The minutes were adopted at this meeting.")]
        if item.notes_md:
            target += ["", item.notes_md]
        if item.decisions:
            target += ["", "**" + _("Decisions") + "**", ""] + [f"- {d}" for d in item.decisions]
            target_decisions += item.decisions
        if by_item.get(item.id):
            target += ["", "**" + _("Actions agreed") + "**", ""]
            target += [f"- {_action_line(a)}" for a in by_item[item.id]]
    others = [a for key, group in by_item.items() if key is None or key not in {i.id for i in items} for a in group]
    if others:
        parts += ["", "## " + _("Other actions agreed"), ""] + [f"- {_action_line(a)}" for a in others]
    return DraftedMinutes(
        body_md="\n".join(parts) + "\n",
        decisions=decisions[: minutes.MAX_DECISIONS],
        confidential_md=("\n".join(secret).strip() + "\n") if secret else "",
        confidential_decisions=secret_decisions[: minutes.MAX_DECISIONS],
    )


def draft_minutes(actor: User, meeting: Meeting, base_revision: int) -> MinutesVersion:
    """The minutes drafted from the meeting's record, through the minutes service.

    The first draft is version 1. If versions exist already, this appends a new one (versions are
    append-only, so the earlier text stays in the history and can be compared), as long as nobody
    saved the minutes since the page was opened (``base_revision``) and they are not adopted.
    """
    ensure(permissions.draft_minutes_lock(meeting))
    drafted = minutes_from_record(meeting)
    data = minutes.MinutesInput(
        body_md=drafted.body_md,
        decisions=drafted.decisions,
        confidential_md=drafted.confidential_md,
        confidential_decisions=drafted.confidential_decisions,
    )
    version = minutes.save_minutes(actor, meeting, data, base_revision=base_revision)
    audit.record(actor, "minutes.draft_from_record", meeting, f"Minutes version {version.number} drafted")
    return version

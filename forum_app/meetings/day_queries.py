"""What the "During the meeting" page shows, in a fixed number of queries (tests/test_query_counts.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import aliased, joinedload

from .. import permissions
from ..actions import queries as action_queries
from ..core.rows import Into
from ..extensions import db
from ..models import ActionItem, AgendaItem, Meeting, Organisation, User
from . import confidential, day
from .queries import MeetingPage, meeting_page


@dataclass(slots=True, frozen=True)
class AgreedRow:
    """An action agreed under an item, as the page lists it."""

    id: int
    agenda_item_id: int | None
    title: str
    owner_name: str | None
    organisation_name: str | None
    due_on: date | None
    state: str


@dataclass
class DayPage:
    page: MeetingPage  # the meeting page's own loads: flags, invitees, walk-ins, head-count (attendance)
    items: list[AgendaItem]
    agreed: dict[int, list[AgreedRow]]  # agenda item id → actions agreed under it
    people: list  # who may own an action (the record-actions form's choices)
    organisations: list
    lock: str | None  # why the meeting cannot be recorded now (None: it can)
    draft_lock: str | None  # why minutes cannot be drafted now
    adoption_locks: dict[int, str | None] = field(default_factory=dict)  # adoption item id → why not now
    # Confidential item id → its redaction line, for a recorder who may not read it (an admin outside the team).
    redactions: dict[int, str] = field(default_factory=dict)

    @property
    def meeting(self) -> Meeting:
        return self.page.meeting


def day_page(user, meeting_id: int) -> DayPage:
    """The page for an organiser (``need="edit"``: everyone else gets 404 or 403 from the loader)."""
    page = meeting_page(user, meeting_id, need="edit")
    meeting = page.meeting
    items = list(
        db.session.execute(
            select(AgendaItem)
            .where(AgendaItem.meeting_id == meeting.id)
            .options(joinedload(AgendaItem.adopts_meeting))
            .order_by(AgendaItem.position, AgendaItem.id)
        ).scalars()
    )
    owner = aliased(User)
    agreed: dict[int, list[AgreedRow]] = {}
    for row in db.session.execute(
        select(
            Into(
                AgreedRow,
                ActionItem.id,
                ActionItem.agenda_item_id,
                ActionItem.title,
                owner.name,
                Organisation.name,
                ActionItem.due_on,
                ActionItem.state,
            )
        )
        .select_from(ActionItem)
        .outerjoin(owner, owner.id == ActionItem.owner_id)
        .outerjoin(Organisation, Organisation.id == ActionItem.owner_organisation_id)
        .where(ActionItem.meeting_id == meeting.id, ActionItem.agenda_item_id.is_not(None))
        .order_by(ActionItem.id)
    ).scalars():
        agreed.setdefault(row.agenda_item_id, []).append(row)
    return DayPage(
        page=page,
        items=items,
        agreed=agreed,
        people=action_queries.possible_owners(meeting.forum),
        organisations=action_queries.organisations_of(meeting.forum),
        lock=permissions.meeting_day_lock(meeting),
        draft_lock=permissions.draft_minutes_lock(meeting),
        adoption_locks={i.id: day.adoption_lock(i) for i in items if i.kind == "adoption"},
        redactions={
            i.id: confidential.redaction_line(n, len(agreed.get(i.id, [])))
            for n, i in enumerate(items, start=1)
            if i.confidential
        },
    )


@dataclass(frozen=True)
class AdoptionLinks:
    """How two meetings name each other when one adopted (or is to adopt) the other's minutes."""

    adopted_at: tuple[int, datetime] | None  # (meeting id, start) of the meeting that adopted these minutes
    minutes_of: list[tuple[int, datetime]]  # (meeting id, start) of meetings whose minutes this one adopts


def adoption_links(user, meeting: Meeting) -> AdoptionLinks:
    """For the meeting page: one query for the meetings this one adopts minutes of, one for the meeting that
    adopted its own (only when one did); each shown only if this person may see it."""
    minutes_of = [
        (m.id, m.starts_at)
        for m in db.session.execute(
            select(Meeting)
            .join(AgendaItem, AgendaItem.adopts_meeting_id == Meeting.id)
            .where(AgendaItem.meeting_id == meeting.id, AgendaItem.kind == "adoption")
            .options(joinedload(Meeting.forum))
            .order_by(Meeting.starts_at)
        ).scalars()
        if permissions.can_view_meeting(user, m)
    ]
    adopted_at = None
    if meeting.minutes_adopted_at_meeting_id is not None:
        later = db.session.get(Meeting, meeting.minutes_adopted_at_meeting_id)
        if later is not None and permissions.can_view_meeting(user, later):
            adopted_at = (later.id, later.starts_at)
    return AdoptionLinks(adopted_at, minutes_of)

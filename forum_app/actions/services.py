"""Agreed actions: raise them, answer them, report on them, review them at the next meeting.

The chain of ActionUpdates is the follow-up record across meetings: it is only ever
appended to. Every change bumps the action's version, so two people updating the same
action at once get a conflict instead of silently interleaving. State rules live in
``permissions`` (``action_transition_lock`` and friends); time comes from ``core.clock``,
so the demo and the tests write past history through these same functions. Services
flush, write the audit trail and the outbox; ``core.commit.attempt`` commits.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from .. import permissions
from ..auth import tokens
from ..core import audit
from ..core.clock import utcnow
from ..core.editing import EditInput, ensure_unchanged
from ..core.errors import ConflictError, NotPermitted, ServiceError
from ..core.markdown import render_for_storage
from ..core.times import utc_to_local
from ..core.urls import external_url
from ..extensions import db
from ..models import ActionItem, ActionUpdate, Forum, GrantTeam, Meeting, MinutesVersion, Organisation, User
from ..notifications.outbox import in_language_of, queue_email
from ..permissions import ensure, ensure_permitted
from ..vocab import ACTION_CLOSED_STATES

MAX_TITLE = 300
MAX_THEMES = 20
# A pseudonymous case code: letters of the place, the year, a number ("SA-2021-07").
# Never a name or an identity number: the form says so, and this format leaves no room for one.
CASE_CODE_RE = re.compile(r"^[A-Z]{2,4}-\d{4}-\d{1,4}$")
# Signed links must expire; the real limit is the action closing (checked when the link is read).
CONFIRM_LINK_LIFETIME = timedelta(days=400)
# Translators: the first item of a planned meeting's agenda (as in "1. Review of agreed actions").
REVIEW_AGENDA_ITEM = _l("Review of agreed actions")


@dataclass(frozen=True)
class ActionInput:
    title: str
    owner_id: int
    description: str = ""
    due_on: date | None = None
    themes: tuple[str, ...] = ()
    case_code: str = ""  # a pseudonymous case code at most, never a name
    note: str = ""  # what was said when it was raised (the first entry of its history)
    owner_organisation_id: int | None = None  # the owner's organisation unless another is named
    decision_number: int | None = None  # raised from this decision of the meeting's minutes (1-based)


@dataclass(frozen=True)
class UpdateInput:
    """A state change (``to_state``), a progress note, or, with ``meeting_id``, a meeting's review of it."""

    note: str = ""
    to_state: str | None = None
    meeting_id: int | None = None


@dataclass(frozen=True)
class ActionDetails(EditInput):
    """What the organisers complete after the meeting (the owner changes by reassignment)."""

    title: str
    description: str
    due_on: date | None
    themes: list[str]
    case_code: str
    owner_organisation_id: int | None


# --- raising ---------------------------------------------------------------------------------------


def _clean_details(
    forum: Forum, title: str, description: str, themes: Sequence[str], case_code: str, owner_organisation_id: int | None
) -> dict:
    """The validated, normalised details shared by raising and editing; refusals name their field."""
    title = title.strip()
    if not title:
        raise ServiceError(_("Say what is to be done."), field="title")
    if len(title) > MAX_TITLE:
        raise ServiceError(
            ngettext("Keep the title under %(num)d character.", "Keep the title under %(num)d characters.", MAX_TITLE),
            field="title",
        )
    allowed = list(forum.grant.programme.themes or [])
    themes = list(dict.fromkeys(themes))
    if len(themes) > MAX_THEMES or any(theme not in allowed for theme in themes):
        raise ServiceError(_("Choose themes from the programme's list."), field="themes")
    case_code = case_code.strip().upper()
    if case_code and not CASE_CODE_RE.match(case_code):
        raise ServiceError(
            _(
                "A case code looks like SA-2021-07 (letters, year, number). Never enter a "
                "prisoner's name or identity number."
            ),
            field="case_code",
        )
    if owner_organisation_id is not None and db.session.get(Organisation, owner_organisation_id) is None:
        raise ServiceError(_("Choose an organisation from the list."), field="owner_organisation_id")
    description = description.strip()
    return {
        "title": title,
        "description": description,
        "themes": themes,
        "case_code": case_code,
        "description_html": render_for_storage(description, field="description"),
    }


def _local_day(moment: datetime, forum: Forum) -> date:
    return utc_to_local(moment, forum.timezone).date()


def _owner(owner_id: int | None, forum: Forum) -> User:
    owner = db.session.get(User, owner_id) if owner_id else None
    if owner is None or not owner.active:
        raise ServiceError(_("Choose an owner among the forum's members."), field="owner_id")
    ensure(permissions.action_owner_lock(owner, forum), field="owner_id")
    return owner


def raise_action(
    actor: User, forum: Forum, data: ActionInput, meeting: Meeting | None = None, *, notify: bool = True
) -> ActionItem:
    """A proposed action of ``forum``, raised at ``meeting`` (or between meetings); its owner is asked to confirm.

    ``notify=False`` is for history written after the fact (the demo): no email for 2021's actions.
    """
    details = _clean_details(
        forum, data.title, data.description, data.themes, data.case_code, data.owner_organisation_id
    )
    owner = _owner(data.owner_id, forum)
    decision_version = None
    if meeting is not None:
        if meeting.forum_id != forum.id:
            raise ServiceError(
                _("Actions are raised at a scheduled or held meeting of this forum."), field="meeting_id"
            )
        ensure(permissions.action_meeting_lock(meeting), field="meeting_id")
        if data.due_on is not None and data.due_on < _local_day(meeting.starts_at, forum):
            raise ServiceError(_("The due date cannot be before the meeting that agreed the action."), field="due_on")
        if data.decision_number is not None:
            decision_version = _check_decision(meeting, data.decision_number)
    elif data.decision_number is not None:
        raise ServiceError(_("A decision belongs to a meeting's minutes."), field="decision_number")
    elif data.due_on is not None and data.due_on < _local_day(utcnow(), forum):
        raise ServiceError(_("The due date cannot be in the past."), field="due_on")
    now = utcnow()
    action = ActionItem(
        forum=forum,
        meeting=meeting,
        owner_id=owner.id,
        owner_organisation_id=data.owner_organisation_id or owner.organisation_id,
        due_on=data.due_on,
        state="proposed",
        created_by_id=actor.id,
        created_at=now,
        updated_at=now,
        decision_version=decision_version,
        decision_number=data.decision_number if decision_version else None,
        **details,
    )
    db.session.add(action)
    _append(action, actor, kind="state", from_state=None, to_state="proposed", note=data.note.strip(), meeting_id=None)
    audit.record(
        actor,
        "action.raise",
        action,
        f"Raised {action.title}",
        forum_id=forum.id,
        meeting_id=meeting.id if meeting is not None else None,
    )
    if notify:
        ask_owner_to_confirm(action, owner)
    return action


def _check_decision(meeting: Meeting, number: int) -> int:
    """The minutes version whose decision ``number`` the action comes from (the latest version)."""
    version = db.session.execute(
        db.select(MinutesVersion).where(
            MinutesVersion.meeting_id == meeting.id, MinutesVersion.number == meeting.minutes_revision
        )
    ).scalar_one_or_none()
    if version is None or not 1 <= number <= len(version.decisions):
        raise ServiceError(_("This decision is not in the meeting's minutes."), field="decision_number")
    return version.number


def record_actions(actor: User, meeting: Meeting, rows: Sequence[tuple[int, ActionInput]]) -> list[ActionItem]:
    """Several actions agreed at ``meeting`` at once (the quick form used while it happens).

    All or nothing: a refused row names itself (``rows-<n>-<field>``) and nothing is saved.
    """
    if not rows:
        raise ServiceError(_("Write at least one action (a title and an owner)."))
    raised = []
    for index, data in rows:
        try:
            raised.append(raise_action(actor, meeting.forum, data, meeting=meeting))
        except ServiceError as exc:
            raise ServiceError(exc.message, field=f"rows-{index}-{exc.field or 'title'}") from exc
    return raised


# --- confirmation by the owner (in the app and by email) -------------------------------------------


def _owner_binding(action: ActionItem) -> str:
    """Binds a confirmation link to the owner it was sent to: after a reassignment the old link is dead."""
    return tokens.keyed_fingerprint("action-owner", f"{action.id}:{action.owner_id}")


def confirm_link_token(action: ActionItem) -> str:
    return tokens.make_link_token(
        "action-confirm",
        ("action", action.id),
        expires_at=utcnow() + CONFIRM_LINK_LIFETIME,
        bind=_owner_binding(action),
    )


def action_from_link(token: str) -> ActionItem:
    """The action a confirmation link names, if the link is genuine, unexpired and for its current owner.

    Raises ``tokens.LinkError``. A closed action is returned (its page says so); answering
    it is then refused by the state rules.
    """
    link = tokens.read_link_token(token, "action-confirm", utcnow())
    action: ActionItem = link.subject
    owner = action.owner
    if owner is None or not owner.active or link.bind != _owner_binding(action):
        raise tokens.LinkError(tokens.LinkProblem.INVALID)
    return action


def ask_owner_to_confirm(action: ActionItem, owner: User) -> None:
    """Queue the email with the accept and decline buttons (delivery is the outbox worker's)."""
    db.session.flush()  # the link names the action's id
    token = confirm_link_token(action)
    url = external_url("actions.confirm", token=token)
    zone = action.forum.timezone
    with in_language_of(owner, action.forum):
        queue_email(
            "action-confirm",
            owner,
            _("Please confirm an action: %(title)s", title=action.title),
            "action_confirm",
            action=action,
            forum=action.forum,
            # The HTML part has a button for each answer; the text part one link to the page with both.
            answer_url=url,
            accept_url=url + "?answer=accept",
            decline_url=url + "?answer=decline",
            due=action.due_on,
            zone=zone,
        )


def answer_proposal(owner: User, action: ActionItem, accept: bool, reason: str = "") -> ActionUpdate | None:
    """The owner's answer to a proposed action. Giving the same answer again changes nothing (None)."""
    wanted = "accepted" if accept else "declined"
    if action.state == wanted:
        return None  # a link used twice, or a double click: already recorded
    if action.owner_id != owner.id:
        raise NotPermitted(_("Only the action's owner answers it."))
    ensure(permissions.owner_gone_lock(owner, action))
    ensure(permissions.action_answer_lock(action))
    return post_update(owner, action, UpdateInput(note=reason, to_state=wanted), action.version)


# --- progress, comments and reviews ----------------------------------------------------------------


def post_update(actor: User, action: ActionItem, data: UpdateInput, expected_version: int) -> ActionUpdate:
    """Append one entry to the action's history: a state change, a progress note, a staff comment or a meeting's review.

    A review records the state agreed at the meeting (its current one unless ``to_state``
    changes it). Closing states (done, declined, dropped) set ``closed_at``.
    """
    if action.version != expected_version:
        already = _same_as_last(actor, action, data)
        if already is not None:
            return already  # the person's own double click or resubmission: saved the first time
        raise ConflictError(
            _(
                "Someone else updated “%(title)s” after you opened the page. "
                "Nothing of yours was saved: check its history and try again.",
                title=action.title,
            )
        )
    note = data.note.strip()
    review = data.meeting_id is not None
    ensure_permitted(permissions.action_role_lock(actor, action, data.to_state, review))
    new_state = data.to_state if data.to_state != action.state else None
    changes_state = new_state is not None
    comment = not review and not changes_state and permissions.comments_only(actor, action)
    if new_state is not None:
        # An allowed move refused for want of a reason is answered at the note, where the reason goes.
        allowed = new_state in permissions.ACTION_TRANSITIONS.get(action.state, ())
        ensure(permissions.action_transition_lock(action, new_state, note), field="note" if allowed else "to_state")
    elif not review:
        if not comment:
            ensure(permissions.action_progress_lock(action))
        if not note:
            raise ServiceError(_("Write what has happened, or choose a new state."), field="note")
    if review:
        meeting = db.session.get(Meeting, data.meeting_id)
        if meeting is None or meeting.forum_id != action.forum_id:
            raise ServiceError(
                _("Actions are reviewed at a scheduled or held meeting of their forum."), field="meeting_id"
            )
        ensure(permissions.follow_up_lock(meeting), field="meeting_id")

    previous = action.state
    now = utcnow()
    if new_state is not None:
        action.state = new_state
        if new_state in ACTION_CLOSED_STATES:
            action.closed_at = now
    action.updated_at = now  # every entry bumps the version: concurrent updates conflict
    if review:
        kind, from_state, to_state = "review", previous, action.state
    elif changes_state:
        kind, from_state, to_state = "state", previous, action.state
    else:
        kind, from_state, to_state = ("comment" if comment else "progress"), None, None
    update = _append(
        action, actor, kind=kind, from_state=from_state, to_state=to_state, note=note, meeting_id=data.meeting_id
    )
    summary = f"{previous} → {action.state}" if changes_state else kind
    audit.record(
        actor, f"action.{kind}", action, summary, from_state=from_state, to_state=to_state, meeting_id=data.meeting_id
    )
    if comment:
        _tell_about_staff_note(actor, action, note)
    return update


def _tell_about_staff_note(author: User, action: ActionItem, note: str) -> None:
    """Programme staff's note on an action reaches its forum's organisers and its owner, by email (each
    in their own language) and on their home page (``queries.my_actions``)."""
    organisers = db.session.execute(
        db.select(User)
        .join(GrantTeam, GrantTeam.user_id == User.id)
        .where(GrantTeam.grant_id == action.forum.grant_id, User.active.is_(True))
        .order_by(User.id)
    ).scalars()
    recipients = {user.id: user for user in organisers}
    owner = action.owner
    if owner is not None and owner.active:
        recipients.setdefault(owner.id, owner)
    url = external_url("actions.action", action_id=action.id) + "#history"
    for user in recipients.values():
        if user.id == author.id:
            continue
        with in_language_of(user, action.forum):
            queue_email(
                "action-note",
                user,
                _("A note from programme staff on %(title)s", title=action.title),
                "action_note",
                action=action,
                forum=action.forum,
                author=author,
                note=note,
                url=url,
            )


@dataclass(frozen=True)
class ReviewOutcome:
    """One row of a meeting's follow-up review: the action, the version the row showed, what was agreed."""

    action_id: int
    version: int
    to_state: str | None = None
    note: str = ""


def record_review(actor: User, meeting: Meeting, outcomes: Sequence[tuple[int, ReviewOutcome]]) -> int:
    """The meeting's review of its forum's actions, one ActionUpdate per row that says something.

    Rows left empty are not reviewed (the action carries over as it is). All or nothing:
    an action someone else updated since the form was opened makes the whole save a
    conflict naming it; a refused row names its field (``rows-<n>-<field>``).
    """
    ensure(permissions.follow_up_lock(meeting))
    wanted = [(index, row) for index, row in outcomes if row.to_state or row.note.strip()]
    if not wanted:
        raise ServiceError(_("Choose a new state or write a note for at least one action."))
    actions = {
        a.id: a
        for a in db.session.execute(
            db.select(ActionItem).where(
                ActionItem.id.in_([row.action_id for _, row in wanted]), ActionItem.forum_id == meeting.forum_id
            )
        ).scalars()
    }
    stale, repeated = [], set()
    for _index, row in wanted:
        action = actions.get(row.action_id)
        if action is None or action.version == row.version:
            continue
        same = UpdateInput(note=row.note, to_state=row.to_state or None, meeting_id=meeting.id)
        if _same_as_last(actor, action, same) is not None:
            repeated.add(row.action_id)  # this person's own identical review, sent again: already saved
        else:
            stale.append(action.title)
    if stale:
        raise ConflictError(
            _(
                "Someone else updated %(titles)s since you opened the review. Nothing was saved: "
                "their latest update is shown below, your notes are kept.",
                titles="; ".join(stale),
            )
        )
    for index, row in wanted:
        action = actions.get(row.action_id)
        if action is None:
            raise ServiceError(_("This action is not one of the forum's. Reload the page."), field=f"rows-{index}-note")
        if action.id in repeated:
            continue
        try:
            post_update(
                actor,
                action,
                UpdateInput(note=row.note, to_state=row.to_state or None, meeting_id=meeting.id),
                row.version,
            )
        except ServiceError as exc:
            raise ServiceError(exc.message, field=f"rows-{index}-{exc.field or 'to_state'}") from exc
    return len(wanted)


def _same_as_last(actor: User, action: ActionItem, data: UpdateInput) -> ActionUpdate | None:
    """The action's latest entry when it is ``actor``'s own and says exactly what ``data`` says.

    A version conflict caused by it is the same person's double click or resubmission (Back, send
    again), not someone else's edit: what they meant is saved already.
    """
    last = db.session.execute(
        db.select(ActionUpdate).where(ActionUpdate.action_id == action.id).order_by(ActionUpdate.id.desc()).limit(1)
    ).scalar_one_or_none()
    if last is None or last.author_id != actor.id or last.meeting_id != data.meeting_id:
        return None
    if last.kind == "reassign" or (last.note or "") != data.note.strip():
        return None
    wanted = data.to_state if data.to_state not in (None, last.from_state) else None
    if wanted is None:
        # No state asked for: a note (or a review keeping the state) that changed none.
        return last if last.from_state == last.to_state or last.to_state is None else None
    return last if last.to_state == wanted else None


# --- organisers: details and reassignment ----------------------------------------------------------


def update_details(actor: User, action: ActionItem, data: ActionDetails, loaded: dict | None) -> ActionItem:
    """Save the details form (opened with ``loaded``): a stale form is a conflict, nothing is overwritten."""
    _ensure_organiser(actor, action)
    ensure(permissions.action_details_lock(action))
    ensure_unchanged(action, data, loaded)
    details = _clean_details(
        action.forum, data.title, data.description, data.themes, data.case_code, data.owner_organisation_id
    )
    if (
        data.due_on is not None
        and action.meeting is not None
        and data.due_on < _local_day(action.meeting.starts_at, action.forum)
    ):
        raise ServiceError(_("The due date cannot be before the meeting that agreed the action."), field="due_on")
    changes = audit.apply_changes(
        action, due_on=data.due_on, owner_organisation_id=data.owner_organisation_id, **details
    )
    if changes:
        action.updated_at = utcnow()
        audit.record(actor, "action.update", action, f"Updated {action.title}", changes=sorted(changes))
    return action


def reassign_action(
    actor: User, action: ActionItem, owner_id: int | None, note: str, expected_version: int, *, notify: bool = True
) -> ActionUpdate:
    """Give the action to a new owner (after a decline, or when it is stuck); it is proposed to them again."""
    if action.version != expected_version:
        raise ConflictError(
            _(
                "Someone else updated this action after you opened the page. "
                "Nothing of yours was saved: check its history and try again."
            )
        )
    _ensure_organiser(actor, action)
    ensure(permissions.action_details_lock(action))
    owner = _owner(owner_id, action.forum)
    if owner.id == action.owner_id:
        raise ServiceError(_("Choose someone other than the current owner."), field="owner_id")
    previous = action.state
    action.owner_id, action.owner = owner.id, owner
    action.owner_organisation_id = owner.organisation_id
    action.state, action.closed_at = "proposed", None
    action.updated_at = utcnow()
    update = _append(
        action,
        actor,
        kind="reassign",
        from_state=previous,
        to_state="proposed",
        note=note.strip(),
        meeting_id=None,
        owner_id=owner.id,
    )
    audit.record(
        actor, "action.reassign", action, f"Reassigned to {owner.email}", owner_id=owner.id, from_state=previous
    )
    if notify:
        ask_owner_to_confirm(action, owner)
    return update


def _ensure_organiser(actor: User, action: ActionItem) -> None:
    if not permissions.can_manage_action(actor, action):
        raise ServiceError(_("Only the forum's organisers change an action's details or owner."))


def _append(action: ActionItem, author: User, **values) -> ActionUpdate:
    update = ActionUpdate(action=action, author_id=author.id, created_at=utcnow(), **values)
    db.session.add(update)
    # The roll-up the reports read (ActionItem.last_update_at / confirmed_at), kept here because
    # every entry is written here.
    action.last_update_at = update.created_at
    if update.to_state == "accepted" and action.confirmed_at is None:
        action.confirmed_at = update.created_at
    return update


# --- the next meeting's agenda ---------------------------------------------------------------------

_NUMBERED = re.compile(r"^(\d+)\.\s+(.*)$")
_REVIEW_LINE = re.compile(r"review", re.IGNORECASE)
_OLD_REVIEW_ITEM = re.compile(r"follow-up review|review of .*actions", re.IGNORECASE)


def agenda_with_review(agenda_md: str) -> str:
    """The agenda of a newly planned meeting, opening with the review of agreed actions.

    An agenda whose first item already is a review is kept as it is; otherwise the review
    becomes item 1, any other review item is dropped, and the numbered items follow on. The item
    is in the organiser's language; an earlier agenda may have it in English or in that language.
    """
    review = str(REVIEW_AGENDA_ITEM)

    def is_review(item: str, pattern: re.Pattern) -> bool:
        return bool(pattern.search(item)) or item.strip().casefold() == review.casefold()

    lines = agenda_md.splitlines()
    first = next((line for line in lines if line.strip()), "")
    match = _NUMBERED.match(first.strip())
    if match and is_review(match.group(2), _REVIEW_LINE):
        return agenda_md
    kept = [
        line for line in lines if not ((item := _NUMBERED.match(line)) and is_review(item.group(2), _OLD_REVIEW_ITEM))
    ]
    number, result = 1, [f"1. {review}"]
    for line in kept:
        item = _NUMBERED.match(line)
        if item:
            number += 1
            line = f"{number}. {item.group(2)}"
        result.append(line)
    return "\n".join(result) + ("\n" if agenda_md.endswith("\n") or not agenda_md else "")

"""The action lifecycle (actions.services): raising, state changes, progress, reviews, conflicts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from forum_app.actions.services import ActionInput, UpdateInput, post_update, raise_action
from forum_app.core import clock
from forum_app.core.commit import STALE_MESSAGE, attempt
from forum_app.core.errors import ServiceError
from forum_app.extensions import db
from forum_app.models import ActionItem, ActionUpdate, AuditEvent, Forum, Meeting, User

from .factories import Factory

# The lifecycle as the actions issue states it, written out independently of permissions.py.
ALLOWED = {
    ("proposed", "accepted"),
    ("proposed", "declined"),
    ("accepted", "in_progress"),
    ("in_progress", "done"),
    ("proposed", "blocked"),
    ("accepted", "blocked"),
    ("in_progress", "blocked"),
    ("blocked", "in_progress"),
    ("proposed", "dropped"),
    ("accepted", "dropped"),
    ("in_progress", "dropped"),
    ("blocked", "dropped"),
}
STATES = ("proposed", "accepted", "declined", "in_progress", "done", "blocked", "dropped")
# How to reach each state from "proposed" (every step is itself in ALLOWED).
PATHS = {
    "proposed": (),
    "accepted": ("accepted",),
    "declined": ("declined",),
    "in_progress": ("accepted", "in_progress"),
    "done": ("accepted", "in_progress", "done"),
    "blocked": ("blocked",),
    "dropped": ("dropped",),
}
RAISED_AT = datetime(2021, 6, 30, 11, 0, tzinfo=UTC)


@pytest.fixture
def seed(make: Factory, app: Flask) -> dict[str, Any]:
    """The world, a held meeting of its forum on the day RAISED_AT records its actions, and one of another
    forum (ids and emails). Actions are recorded at a meeting once it has started."""
    w = make.world()
    w["meeting"] = make.meeting(
        w["forum"],
        state="held",
        starts_in_days=(RAISED_AT.date() - datetime.now(ZoneInfo("Europe/Sarajevo")).date()).days,
    )
    w["draft"] = make.meeting(w["forum"], state="draft", starts_in_days=7)
    w["other_meeting"] = make.meeting(w["other_forum"], state="held", starts_in_days=-7)
    return w


def user(seed: dict, role: str) -> User:
    return db.session.execute(select(User).where(User.email == seed[role])).scalar_one()


def raise_one(seed: dict, owner: str = "participant", **changes: Any) -> ActionItem:
    meeting = db.session.get(Meeting, seed["meeting"])
    data = dict(
        title="Name a contact point for pre-release planning",
        owner_id=user(seed, owner).id,
        due_on=meeting.starts_at.date() + timedelta(days=30),
        themes=("Information exchange",),
    )
    data.update(changes)
    with clock.at(RAISED_AT):
        return raise_action(
            user(seed, "organiser"), db.session.get(Forum, seed["forum"]), ActionInput(**data), meeting=meeting
        )


def move(action: ActionItem, actor: User, to_state: str, note: str = "Because.") -> ActionUpdate:
    return post_update(actor, action, UpdateInput(note=note, to_state=to_state), expected_version=action.version)


def history(action_id: int) -> list[tuple]:
    return [
        tuple(row)
        for row in db.session.execute(
            select(
                ActionUpdate.id,
                ActionUpdate.kind,
                ActionUpdate.from_state,
                ActionUpdate.to_state,
                ActionUpdate.note,
                ActionUpdate.meeting_id,
                ActionUpdate.created_at,
            )
            .where(ActionUpdate.action_id == action_id)
            .order_by(ActionUpdate.id)
        )
    ]


# --- raising -------------------------------------------------------------------------------------------


def test_a_raised_action_is_proposed_with_its_first_update_and_audit(seed: dict, ctx: None) -> None:
    action = raise_one(seed, note="Raised at the meeting.")
    db.session.commit()
    participant = user(seed, "participant")
    assert (action.state, action.meeting_id, action.owner_id, action.version) == (
        "proposed",
        seed["meeting"],
        participant.id,
        1,
    )
    assert action.owner_organisation_id == participant.organisation_id
    assert action.created_at == RAISED_AT and action.closed_at is None
    [(_id, kind, from_state, to_state, note, meeting_id, at)] = history(action.id)
    assert (kind, from_state, to_state, note, meeting_id, at) == (
        "state",
        None,
        "proposed",
        "Raised at the meeting.",
        None,
        RAISED_AT,
    )
    [event] = db.session.execute(select(AuditEvent).where(AuditEvent.verb == "action.raise")).scalars()
    assert (event.object_id, event.actor_id, event.at) == (action.id, user(seed, "organiser").id, RAISED_AT)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": "   "}, "title"),
        ({"owner": "outsider"}, "owner_id"),  # not in the forum
        ({"owner": "staff"}, "owner_id"),  # sees everything, but is no member
        ({"due_on": "day before"}, "due_on"),
    ],
    ids=["blank title", "outsider owner", "staff owner", "due before the meeting"],
)
def test_raising_refuses_bad_input_at_its_field(seed: dict, ctx: None, changes: dict, field: str) -> None:
    owner = changes.pop("owner", "participant")
    if changes.get("due_on") == "day before":
        local_day = db.session.get(Meeting, seed["meeting"]).starts_at.astimezone(ZoneInfo("Europe/Sarajevo")).date()
        changes["due_on"] = local_day - timedelta(days=1)
    with pytest.raises(ServiceError) as refused:
        raise_one(seed, owner=owner, **changes)
    assert refused.value.field == field
    db.session.rollback()
    assert db.session.execute(select(func.count()).select_from(ActionItem)).scalar_one() == 0


def test_due_on_the_meeting_day_and_an_organiser_as_owner_are_fine(seed: dict, ctx: None) -> None:
    local_day = db.session.get(Meeting, seed["meeting"]).starts_at.astimezone(ZoneInfo("Europe/Sarajevo")).date()
    action = raise_one(seed, owner="organiser", due_on=local_day)
    assert action.due_on == local_day and action.state == "proposed"


@pytest.mark.parametrize("meeting_key", ["other_meeting", "draft"])
def test_actions_are_raised_only_at_a_scheduled_or_held_meeting_of_the_forum(
    seed: dict, ctx: None, meeting_key: str
) -> None:
    with pytest.raises(ServiceError) as refused:
        raise_action(
            user(seed, "organiser"),
            db.session.get(Forum, seed["forum"]),
            ActionInput(title="x", owner_id=user(seed, "participant").id),
            meeting=db.session.get(Meeting, seed[meeting_key]),
        )
    assert refused.value.field == "meeting_id"


# --- the state machine ----------------------------------------------------------------------------------


@pytest.mark.parametrize("from_state", STATES)
def test_each_state_allows_exactly_the_issues_transitions(seed: dict, ctx: None, from_state: str) -> None:
    organiser = user(seed, "organiser")
    for to_state in STATES:
        if to_state == from_state:
            continue
        action = raise_one(seed, title=f"{from_state} to {to_state}")
        for step in PATHS[from_state]:
            move(action, organiser, step)
        assert action.state == from_state
        if (from_state, to_state) in ALLOWED:
            move(action, organiser, to_state)
            assert action.state == to_state, (from_state, to_state)
        else:
            before = history(action.id)
            with pytest.raises(ServiceError) as refused:
                move(action, organiser, to_state)
            assert refused.value.field == "to_state", (from_state, to_state)
            assert action.state == from_state and history(action.id) == before


@pytest.mark.parametrize("to_state", ["blocked", "declined", "dropped"])
def test_blocking_declining_and_dropping_need_a_reason(seed: dict, ctx: None, to_state: str) -> None:
    action = raise_one(seed)
    with pytest.raises(ServiceError) as refused:
        move(action, user(seed, "organiser"), to_state, note="   ")
    assert refused.value.field == "note" and action.state == "proposed"
    update_ = move(action, user(seed, "organiser"), to_state, note="The prison has not confirmed access.")
    assert (update_.from_state, update_.to_state, update_.note) == (
        "proposed",
        to_state,
        "The prison has not confirmed access.",
    )


def test_a_blocked_action_resumes_in_progress_without_a_reason(seed: dict, ctx: None) -> None:
    action = raise_one(seed)
    owner = user(seed, "participant")
    move(action, owner, "accepted", note="")
    move(action, owner, "blocked", note="Waiting for the court's decision.")
    move(action, owner, "in_progress", note="")
    assert action.state == "in_progress" and action.closed_at is None


@pytest.mark.parametrize("closing", ["done", "declined", "dropped"])
def test_closing_states_set_closed_at_and_open_ones_do_not(seed: dict, ctx: None, closing: str) -> None:
    action = raise_one(seed)
    organiser = user(seed, "organiser")
    path = PATHS[closing]
    for step in path[:-1]:
        move(action, organiser, step)
        assert action.closed_at is None
    closed = datetime(2021, 9, 1, 8, 0, tzinfo=UTC)
    with clock.at(closed):
        move(action, organiser, path[-1])
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(ActionItem, action.id).closed_at == closed


# --- who may do what --------------------------------------------------------------------------------------


def test_owners_answer_and_report_but_only_organisers_drop_and_review(seed: dict, ctx: None) -> None:
    action = raise_one(seed)
    owner, observer, organiser = user(seed, "participant"), user(seed, "observer"), user(seed, "organiser")
    with pytest.raises(ServiceError):
        move(action, observer, "accepted")  # a member, but not the owner
    move(action, owner, "accepted", note="")
    with pytest.raises(ServiceError):
        move(action, owner, "dropped", note="Not needed any more.")
    with pytest.raises(ServiceError):
        post_update(owner, action, UpdateInput(note="On track.", meeting_id=seed["meeting"]), action.version)
    assert action.state == "accepted"
    move(action, organiser, "dropped", note="The forum agreed it is no longer needed.")
    assert action.state == "dropped"


# --- progress notes and reviews ---------------------------------------------------------------------------


def test_a_progress_note_keeps_the_state_and_bumps_the_version(seed: dict, ctx: None) -> None:
    action = raise_one(seed)
    owner = user(seed, "participant")
    move(action, owner, "accepted", note="")
    version = action.version
    with pytest.raises(ServiceError) as refused:
        post_update(owner, action, UpdateInput(note="  "), version)
    assert refused.value.field == "note"
    note = post_update(owner, action, UpdateInput(note="Six agencies replied."), version)
    assert (note.kind, note.from_state, note.to_state, action.state) == ("progress", None, None, "accepted")
    assert action.version == version + 1


def test_closed_actions_take_no_progress_notes_but_are_still_reviewed(seed: dict, ctx: None) -> None:
    action = raise_one(seed)
    organiser = user(seed, "organiser")
    for step in PATHS["done"]:
        move(action, organiser, step)
    with pytest.raises(ServiceError):
        post_update(organiser, action, UpdateInput(note="More news."), action.version)
    review = post_update(
        organiser, action, UpdateInput(note="Confirmed complete.", meeting_id=seed["meeting"]), action.version
    )
    assert (review.kind, review.from_state, review.to_state, review.meeting_id) == (
        "review",
        "done",
        "done",
        seed["meeting"],
    )


def test_a_review_may_change_the_state_and_records_the_meeting(seed: dict, ctx: None) -> None:
    action = raise_one(seed)
    organiser = user(seed, "organiser")
    move(action, organiser, "accepted")
    review = post_update(
        organiser,
        action,
        UpdateInput(note="Started before the meeting.", to_state="in_progress", meeting_id=seed["meeting"]),
        action.version,
    )
    assert (review.kind, review.from_state, review.to_state, review.meeting_id) == (
        "review",
        "accepted",
        "in_progress",
        seed["meeting"],
    )
    with pytest.raises(ServiceError) as refused:
        post_update(organiser, action, UpdateInput(note="x", meeting_id=seed["other_meeting"]), action.version)
    assert refused.value.field == "meeting_id"


def test_history_is_only_ever_appended(seed: dict, ctx: None) -> None:
    action = raise_one(seed)
    owner, organiser = user(seed, "participant"), user(seed, "organiser")
    steps = [
        lambda: move(action, owner, "accepted", note="Accepted."),
        lambda: post_update(owner, action, UpdateInput(note="Drafting."), action.version),
        lambda: move(action, owner, "blocked", note="Waiting for legal review."),
        lambda: post_update(
            organiser, action, UpdateInput(note="Carried over.", meeting_id=seed["meeting"]), action.version
        ),
    ]
    seen = history(action.id)
    for n, step in enumerate(steps, start=1):
        with clock.at(RAISED_AT + timedelta(days=n)):
            step()
        db.session.commit()
        now = history(action.id)
        assert now[: len(seen)] == seen and len(now) == len(seen) + 1  # earlier entries untouched
        assert now[-1][-1] == RAISED_AT + timedelta(days=n)
        seen = now
    assert [row[1:4] for row in seen] == [
        ("state", None, "proposed"),
        ("state", "proposed", "accepted"),
        ("progress", None, None),
        ("state", "accepted", "blocked"),
        ("review", "blocked", "blocked"),
    ]


# --- conflicts through the one commit point ---------------------------------------------------------------


def test_an_update_from_a_page_opened_before_someone_elses_is_a_conflict(seed: dict, ctx: None) -> None:
    action_id = raise_one(seed).id
    db.session.commit()
    opened_at = db.session.get(ActionItem, action_id).version  # both pages show this version
    owner, organiser = user(seed, "participant"), user(seed, "organiser")

    first = attempt(lambda: move(db.session.get(ActionItem, action_id), owner, "accepted", note="Yes."))
    second = attempt(
        lambda: post_update(
            organiser,
            db.session.get(ActionItem, action_id),
            UpdateInput(note="Drop it.", to_state="dropped"),
            opened_at,
        )
    )
    assert first and not second and second.conflict is not None
    db.session.expire_all()
    assert db.session.get(ActionItem, action_id).state == "accepted"
    assert [row[3] for row in history(action_id)] == ["proposed", "accepted"]


def test_a_write_landing_between_check_and_save_is_refused_as_stale(seed: dict, ctx: None) -> None:
    action_id = raise_one(seed).id
    db.session.commit()
    owner = user(seed, "participant")

    def service() -> ActionUpdate:
        action = db.session.get(ActionItem, action_id)
        checked = action.version
        # Someone else's save reaches the row after this request read it (the ORM's copy is now old).
        db.session.execute(
            update(ActionItem)
            .where(ActionItem.id == action_id)
            .values(version=ActionItem.version + 1)
            .execution_options(synchronize_session=False)
        )
        return post_update(owner, action, UpdateInput(note="Accepted.", to_state="accepted"), checked)

    outcome = attempt(service)
    assert not outcome and outcome.message == str(STALE_MESSAGE)
    db.session.expire_all()
    assert db.session.get(ActionItem, action_id).state == "proposed"
    assert len(history(action_id)) == 1

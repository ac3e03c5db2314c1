"""Writes that do not queue (issue 25, point 2): no write locks wider than the rows it changes.

Two people write at the same moment to one meeting or one forum, each on its own connection.
The first has written (its rows locked, not committed) when the second starts; the second
must commit while the first is still open. Had either taken a lock on the shared meeting's or
forum's row, the second would wait for the first to commit and the test would time out
waiting. On SQLite every write transaction takes the whole database (BEGIN IMMEDIATE): there
the same tests prove the other half, that the second writer waits its turn and then goes
through (it is never refused for the wait). Conflicts are still caught: by the action's row
version, on both.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from typing import Any

from flask import Flask

from forum_app import permissions
from forum_app.actions import services as actions
from forum_app.actions.services import ActionDetails, UpdateInput
from forum_app.core.commit import Outcome, attempt
from forum_app.extensions import db
from forum_app.meetings import services as meetings
from forum_app.models import ActionItem, ActionUpdate, Invitation, User

from .factories import Factory

HOLD = 5.0  # how long the first writer keeps its transaction open for the second to get through


def _parallel(app: Flask) -> bool:
    """Whether two writers to different rows can overlap: on PostgreSQL they must; SQLite
    serialises every write transaction, so there the second must wait and then succeed."""
    with app.app_context():
        return db.engine.dialect.name == "postgresql"


def _actor(email: str) -> User:
    return db.session.execute(db.select(User).where(User.email == email)).scalar_one()


def side_by_side(app: Flask, first: Callable[[], Any], second: Callable[[], Any]) -> tuple[Outcome, Outcome, bool]:
    """Run ``first`` up to its flush, then ``second`` to its commit, then commit ``first``.

    Each callable runs in its own app context (its own connection) and returns the service to
    attempt. The third value: whether ``second`` committed while ``first`` still held its locks.
    """
    first_wrote, second_done = threading.Event(), threading.Event()
    outcomes: dict[str, Any] = {}
    errors: list[BaseException] = []

    def run_first() -> None:
        try:
            with app.app_context():
                service = first()

                def write_then_wait():
                    value = service()
                    db.session.flush()  # the rows it changes are locked now
                    first_wrote.set()
                    # On SQLite the second writer cannot start before this commits: a short wait shows it.
                    outcomes["overlapped"] = second_done.wait(HOLD if _parallel(app) else 0.5)
                    return value

                outcomes["first"] = attempt(write_then_wait)
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
            first_wrote.set()

    def run_second() -> None:
        try:
            assert first_wrote.wait(10)
            with app.app_context():
                outcomes["second"] = attempt(second())
                second_done.set()
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run_first), threading.Thread(target=run_second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    return outcomes["first"], outcomes["second"], outcomes["overlapped"]


def test_two_answers_to_one_meeting_go_through_together(app: Flask, make: Factory) -> None:
    world = make.world()
    meeting_id = make.meeting(world["forum"])
    other = make.user()
    make.add_member(world["forum"], other)
    first_id = make.invite(meeting_id, world["participant"])
    second_id = make.invite(meeting_id, other)

    def answer(email: str, rsvp: str):
        actor = _actor(email)
        meeting = permissions.load_meeting(actor, meeting_id)
        return lambda: meetings.respond(actor, meeting, rsvp, "")

    first, second, overlapped = side_by_side(
        app, lambda: answer(world["participant"], "accepted"), lambda: answer(other, "declined")
    )
    assert first.ok and second.ok
    assert overlapped == _parallel(app), "the second answer waited for the first one's transaction"
    with app.app_context():
        assert db.session.get(Invitation, first_id).rsvp == "accepted"
        assert db.session.get(Invitation, second_id).rsvp == "declined"


def test_updates_to_two_actions_of_one_forum_go_through_together(app: Flask, make: Factory) -> None:
    world = make.world()
    first_id = make.action(world["forum"], world["participant"])
    second_id = make.action(world["forum"], world["participant"])

    def update(action_id: int, note: str):
        actor = _actor(world["organiser"])
        action = permissions.load_action(actor, action_id, need="edit")
        return lambda: actions.post_update(actor, action, UpdateInput(note=note), action.version)

    first, second, overlapped = side_by_side(
        app, lambda: update(first_id, "first note"), lambda: update(second_id, "second note")
    )
    assert first.ok and second.ok
    assert overlapped == _parallel(app), "the second update waited for the first one's transaction"


def test_details_of_two_actions_of_one_forum_saved_together(app: Flask, make: Factory) -> None:
    """The details form checks its row is unchanged under a row lock: the action's row, not its forum's."""
    world = make.world()
    first_id = make.action(world["forum"], world["participant"])
    second_id = make.action(world["forum"], world["participant"])

    def edit(action_id: int, title: str):
        actor = _actor(world["organiser"])
        action = permissions.load_action(actor, action_id, need="edit")  # as the form's view loads it
        loaded = ActionDetails.of(action).values()
        data = dataclasses.replace(ActionDetails.of(action), title=title)
        return lambda: actions.update_details(actor, action, data, loaded)

    first, second, overlapped = side_by_side(
        app, lambda: edit(first_id, "First, renamed"), lambda: edit(second_id, "Second, renamed")
    )
    assert first.ok and second.ok, (first.message, second.message)
    assert overlapped == _parallel(app), (
        "the second save waited for the first one's transaction (a lock on the forum's row)"
    )
    with app.app_context():
        assert db.session.get(ActionItem, second_id).title == "Second, renamed"


def test_two_updates_to_one_action_at_once_the_stale_one_is_refused(app: Flask, make: Factory) -> None:
    """Both read version 1; the first writes it to 2; the second's UPDATE … WHERE version = 1 finds no row."""
    world = make.world()
    action_id = make.action(world["forum"], world["participant"])

    def update(note: str):
        actor = _actor(world["organiser"])
        action = permissions.load_action(actor, action_id, need="edit")
        return lambda: actions.post_update(actor, action, UpdateInput(note=note), action.version)

    first, second, overlapped = side_by_side(app, lambda: update("first"), lambda: update("second"))
    assert first.ok
    assert not overlapped  # the same row: the second waits for the first
    with app.app_context():
        notes = set(
            db.session.execute(db.select(ActionUpdate.note).where(ActionUpdate.action_id == action_id)).scalars()
        )
    if _parallel(app):
        # It had read version 1 before the first committed: its write finds the row changed.
        assert not second.ok and second.stale, second.message
        assert "first" in notes and "second" not in notes
    else:
        # SQLite's write transaction starts with the read (BEGIN IMMEDIATE): the second person's read
        # waited for the first to commit, so it saw version 2 and its note is on top, nothing lost.
        assert second.ok, second.message
        assert {"first", "second"} <= notes

"""Races between two real database connections (issue 7, point 2).

Two organisers mark the same person at the same moment. The second one's form was
loaded before the first one's save committed, so a read-then-write check passes for
both and PostgreSQL's READ COMMITTED lets the second overwrite the first. The write is
conditional (``UPDATE … WHERE attendance IS NOT DISTINCT FROM :was``), so it is a
named conflict instead. On SQLite, write transactions start with BEGIN IMMEDIATE and
queue, so the second sees the first's mark; the outcome must be the same.
"""

from __future__ import annotations

import threading
import time

from flask import Flask

from forum_app import permissions
from forum_app.core.commit import attempt
from forum_app.extensions import db
from forum_app.meetings import services as meetings
from forum_app.meetings.queries import MEETING_PAGE_OPTIONS
from forum_app.models import Invitation, Meeting, User

from .factories import Factory


def test_two_organisers_marking_the_same_person_at_once(app: Flask, make: Factory) -> None:
    world = make.world()
    meeting_id = make.meeting(world["forum"], state="held", starts_in_days=-1)
    invitation_id = make.invite(meeting_id, world["participant"])
    second_admin = make.user("admin")
    first_wrote = threading.Event()
    outcomes: dict[str, object] = {}
    errors: list[BaseException] = []

    def organiser(name: str, email: str, mark: str, wait_for: threading.Event | None) -> None:
        try:
            if wait_for is not None:
                assert wait_for.wait(10)
            with app.app_context():
                actor = db.session.execute(db.select(User).where(User.email == email)).scalar_one()
                meeting = permissions.load_meeting(actor, meeting_id, need="edit", options=MEETING_PAGE_OPTIONS)

                def save():
                    # Both forms were opened before either save: they showed "not recorded".
                    changed = meetings.record_attendance(actor, meeting, {invitation_id: (None, mark)})
                    if wait_for is None:
                        first_wrote.set()  # written, not yet committed: the other one starts now
                        time.sleep(0.5)
                    return changed

                outcomes[name] = attempt(save)
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
            first_wrote.set()

    threads = [
        threading.Thread(target=organiser, args=("first", world["organiser"], "present", None)),
        threading.Thread(target=organiser, args=("second", second_admin, "excused", first_wrote)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    assert outcomes["first"].ok
    assert not outcomes["second"].ok
    assert "Someone else changed the attendance of" in outcomes["second"].message
    with app.app_context():
        assert db.session.get(Invitation, invitation_id).attendance == "present"
        assert db.session.get(Meeting, meeting_id) is not None

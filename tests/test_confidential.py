"""Confidential agenda items (issue 23, point 3): a role × content matrix showing the full text exactly where it
should be (organisers, people present) and the redaction line everywhere else (staff, absent invitees, admins
outside the grant's team, the API, exports, the calendar and emails), and the audit of who read it."""

from __future__ import annotations

import html
import io
import re
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest
from flask import Flask
from sqlalchemy import select

from forum_app.actions.services import ActionInput
from forum_app.core.errors import ServiceError
from forum_app.extensions import db
from forum_app.meetings import day, minutes
from forum_app.models import AgendaItem, AuditEvent, Invitation, Meeting, MinutesVersion, User

from .conftest import CSRF_RE, sign_in
from .factories import Factory
from .test_api import _token
from .test_notifications import deliver, smtp  # noqa: F401  (smtp: the real SMTP server fixture)

SECRET_NOTE = "Release plan discussed: ZETA-NOTE housing at the shelter"
SECRET_DECISION = "ZETA-DECISION: the probation office visits weekly"
PUBLIC_NOTE = "The employment office presented its programme"
REDACTED = "Item 2: confidential, 2 actions agreed"
AGENDA = "1. Review of agreed actions\n2. Release plan\n3. Employment\n"
LOADED_RE = r'name="item-{id}-loaded" type="hidden" value="([^"]*)"'


def _secret_in(text: str) -> bool:
    return "ZETA-NOTE" in text or "ZETA-DECISION" in text


@pytest.fixture
def world(make: Factory) -> dict:
    return make.world()


def _setup(app: Flask, make: Factory, world: dict) -> dict:
    """A held meeting whose item 2 an organiser marks confidential on the meeting day page (through the form),
    with a decision and two actions under it; the participant was present, the observer absent; the minutes
    are drafted from the record and circulated."""
    meeting_id = make.meeting(world["forum"], state="held", starts_in_days=-2, agenda_md=AGENDA)
    present = make.invite(meeting_id, world["participant"])
    absent = make.invite(meeting_id, world["observer"])
    make.invite(meeting_id, world["organiser"])
    make.mark_attendance(present, "present")
    make.mark_attendance(absent, "absent")
    organiser = sign_in(app.test_client(), world["organiser"])
    page = organiser.get(f"/meetings/{meeting_id}/during").get_data(as_text=True)
    token = CSRF_RE.search(page)
    assert token
    with app.app_context():
        review, release, employment = db.session.execute(
            select(AgendaItem.id).where(AgendaItem.meeting_id == meeting_id).order_by(AgendaItem.position)
        ).scalars()
    loaded = re.search(LOADED_RE.format(id=release), page)
    assert loaded
    p = f"item-{release}-"
    saved = organiser.post(
        f"/meetings/{meeting_id}/during/items/{release}",
        data={
            f"{p}csrf_token": token.group(1) or token.group(2),
            f"{p}loaded": html.unescape(loaded.group(1)),
            f"{p}title": "Release plan",
            f"{p}notes_md": SECRET_NOTE,
            f"{p}decisions": SECRET_DECISION,
            f"{p}confidential": "y",
            f"{p}marks": "y",
        },
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    organiser_id, participant_id = make.user_id(world["organiser"]), make.user_id(world["participant"])
    with app.app_context():
        actor = db.session.get(User, organiser_id)
        meeting = db.session.get(Meeting, meeting_id)
        other = db.session.get(AgendaItem, employment)
        day.save_item(
            actor,
            other,
            day.ItemInput(title="Employment", notes_md=PUBLIC_NOTE, decisions=["Job fair in May"]),
            day.ItemInput.of(other).values(),
        )
        day.record_item_actions(
            actor,
            db.session.get(AgendaItem, release),
            [
                (1, ActionInput("Arrange the first visit", participant_id)),
                (2, ActionInput("Find a flat", organiser_id)),
            ],
        )
        day.draft_minutes(actor, meeting, meeting.minutes_revision)
        minutes.circulate(actor, meeting, meeting.minutes_revision)
        db.session.commit()
    return {"meeting": meeting_id, "release": release}


def _reads(app: Flask, meeting_id: int, email: str) -> int:
    with app.app_context():
        user_id = db.session.execute(select(User.id).where(User.email == email)).scalar_one()
        return len(
            db.session.execute(
                select(AuditEvent).where(AuditEvent.verb == "meeting.confidential.read", AuditEvent.actor_id == user_id)
            )
            .scalars()
            .all()
        )


def test_minutes_are_drafted_in_two_parts(app, make, world):
    setup = _setup(app, make, world)
    with app.app_context():
        version = db.session.execute(
            select(MinutesVersion).where(MinutesVersion.meeting_id == setup["meeting"])
        ).scalar_one()
        assert not _secret_in(version.body_md + version.body_html + " ".join(version.decisions))
        assert REDACTED in version.body_md and "Release plan" not in version.body_md
        assert PUBLIC_NOTE in version.body_md and version.decisions == ["Job fair in May"]
        assert "ZETA-NOTE" in version.confidential_md and "ZETA-NOTE" in version.confidential_html
        assert version.confidential_decisions == [SECRET_DECISION]
        assert "Arrange the first visit" in version.confidential_md


@pytest.mark.parametrize(
    ("role", "full"),
    [("organiser", True), ("participant", True), ("observer", False), ("staff", False), ("admin", False)],
)
def test_meeting_page_matrix(app, make, world, role, full):
    """Organisers and the people present read the full text (and their reading is audited); an absent invitee,
    programme staff and an admin outside the grant's team read the redaction line."""
    setup = _setup(app, make, world)
    client = sign_in(app.test_client(), world[role])
    before = _reads(app, setup["meeting"], world[role])
    for path in (f"/meetings/{setup['meeting']}", f"/meetings/{setup['meeting']}/minutes/versions/1"):
        response = client.get(path)
        assert response.status_code == 200, (role, path)
        text = response.get_data(as_text=True)
        assert REDACTED in text
        assert PUBLIC_NOTE in text
        assert _secret_in(text) is full, (role, path)
    assert _reads(app, setup["meeting"], world[role]) - before == (2 if full else 0)


def test_day_page_for_an_admin_outside_the_team_shows_the_redaction(app, make, world):
    setup = _setup(app, make, world)
    text = sign_in(app.test_client(), world["admin"]).get(f"/meetings/{setup['meeting']}/during").get_data(as_text=True)
    assert REDACTED in text and not _secret_in(text)
    organiser = sign_in(app.test_client(), world["organiser"]).get(f"/meetings/{setup['meeting']}/during")
    assert _secret_in(organiser.get_data(as_text=True))


def test_api_exports_and_calendar_never_carry_it(app, make, world):
    """Even for the organiser, who may read it on the page: machines read only the public version."""
    setup = _setup(app, make, world)
    meeting_id = setup["meeting"]
    for role in ("organiser", "staff"):
        secret = _token(app, world[role])
        client = app.test_client()
        for path in (f"/api/v1/meetings/{meeting_id}", "/api/v1/meetings", "/api/v1/actions"):
            response = client.get(path, headers={"Authorization": f"Bearer {secret}"})
            assert response.status_code == 200, path
            assert not _secret_in(response.get_data(as_text=True)), (role, path)
        signed_in = sign_in(app.test_client(), world[role])
        period = "from=2000-01-01&to=2100-01-01"
        for what in ("meetings", "attendance", "actions"):
            csv = signed_in.get(f"/reports/export/{what}.csv?{period}")
            assert csv.status_code == 200, (role, what)
            assert not _secret_in(csv.get_data(as_text=True))
            xlsx = signed_in.get(f"/reports/export/{what}.xlsx?{period}")
            assert xlsx.status_code == 200
            book = openpyxl.load_workbook(io.BytesIO(xlsx.get_data()))
            cells = " ".join(str(c.value) for sheet in book for row in sheet.iter_rows() for c in row)
            assert not _secret_in(cells)
        ics = signed_in.get(f"/meetings/{meeting_id}.ics")
        assert ics.status_code == 200 and not _secret_in(ics.get_data(as_text=True))


def test_the_minutes_email_carries_only_the_public_version(app, make, world, smtp):  # noqa: F811
    setup = _setup(app, make, world)
    deliver(app, datetime.now(UTC) + timedelta(days=1))
    with app.app_context():
        participant = db.session.execute(
            select(Invitation).join(User).where(User.email == world["participant"])
        ).scalar_one()
        assert participant.meeting_id == setup["meeting"]
    received = smtp.to(world["participant"])
    assert received, "the minutes notice reached the present participant"
    for message in received:
        text = message.as_string()
        assert not _secret_in(text)


def test_only_organisers_mark_items_confidential(app, make, world):
    """An admin outside the grant's team may record the meeting, but not mark an item confidential (nor lift it)."""
    setup = _setup(app, make, world)
    with app.app_context():
        admin = db.session.execute(select(User).where(User.email == world["admin"])).scalar_one()
        item = db.session.execute(
            select(AgendaItem).where(AgendaItem.meeting_id == setup["meeting"], AgendaItem.title == "Employment")
        ).scalar_one()
        data = day.ItemInput(
            title=item.title, notes_md=item.notes_md, decisions=list(item.decisions), confidential=True
        )
        with pytest.raises(ServiceError):
            day.save_item(admin, item, data, day.ItemInput.of(item).values())
        db.session.rollback()
        assert not db.session.get(AgendaItem, item.id).confidential


def test_decisions_are_marked_public_on_the_day_page_and_never_for_a_confidential_item(app, make, world):
    meeting_id = make.meeting(world["forum"], state="held", starts_in_days=-2, agenda_md=AGENDA)
    organiser = sign_in(app.test_client(), world["organiser"])
    organiser.get(f"/meetings/{meeting_id}/during")
    with app.app_context():
        employment = db.session.execute(
            select(AgendaItem).where(AgendaItem.meeting_id == meeting_id, AgendaItem.position == 3)
        ).scalar_one()
        actor = db.session.execute(select(User).where(User.email == world["organiser"])).scalar_one()
        day.save_item(
            actor,
            employment,
            day.ItemInput(title="Employment", notes_md="", decisions=["Job fair in May", "Call the employers"]),
            day.ItemInput.of(employment).values(),
        )
        db.session.commit()
        item_id = employment.id

    def post(extra: dict) -> None:
        page = organiser.get(f"/meetings/{meeting_id}/during").get_data(as_text=True)
        assert "Decisions that may be published in the news" in page  # offered for the saved decisions
        token = CSRF_RE.search(page)
        loaded = re.search(LOADED_RE.format(id=item_id), page)
        assert token and loaded
        p = f"item-{item_id}-"
        data = {
            f"{p}csrf_token": token.group(1) or token.group(2),
            f"{p}loaded": html.unescape(loaded.group(1)),
            f"{p}title": "Employment",
            f"{p}notes_md": "",
            f"{p}decisions": "Job fair in May\nCall the employers",
            f"{p}marks": "y",
        }
        assert (
            organiser.post(f"/meetings/{meeting_id}/during/items/{item_id}", data={**data, **extra}).status_code == 302
        )

    def public() -> tuple[bool, list[str]]:
        with app.app_context():
            item = db.session.get(AgendaItem, item_id)
            return item.confidential, list(item.public_decisions)

    assert public() == (False, [])  # not public unless marked
    post({f"item-{item_id}-public_decisions": "Job fair in May"})
    assert public() == (False, ["Job fair in May"])
    post({f"item-{item_id}-public_decisions": "Job fair in May", f"item-{item_id}-confidential": "y"})
    assert public() == (True, [])  # a confidential item has no public decision
    page = organiser.get(f"/meetings/{meeting_id}/during").get_data(as_text=True)
    assert f'name="item-{item_id}-marks" type="hidden" value="y"' in page or f'name="item-{item_id}-marks"' in page


def test_editing_the_public_minutes_keeps_the_confidential_part(app, make, world):
    setup = _setup(app, make, world)
    with app.app_context():
        meeting = db.session.get(Meeting, setup["meeting"])
        actor = db.session.execute(select(User).where(User.email == world["organiser"])).scalar_one()
        latest = minutes.current_version(meeting)
        assert latest is not None
        edited = minutes.save_minutes(
            actor,
            meeting,
            minutes.MinutesInput(body_md=latest.body_md + "\nA typo fixed.\n", decisions=list(latest.decisions)),
            base_revision=meeting.minutes_revision,
        )
        db.session.commit()
        assert edited.number == 2 and "ZETA-NOTE" in edited.confidential_html
        assert edited.confidential_decisions == [SECRET_DECISION] and not _secret_in(edited.body_md)
    page = sign_in(app.test_client(), world["organiser"]).get(f"/meetings/{setup['meeting']}/minutes")
    assert 'id="confidential-kept"' in page.get_data(as_text=True) and not _secret_in(page.get_data(as_text=True))


def test_a_form_without_the_marks_keeps_them(app, make, world):
    """An admin outside the grant's team records the meeting but is not offered the marks: saving an item keeps
    them as they are; a confidential item, which they cannot read, they cannot save at all."""
    setup = _setup(app, make, world)
    with app.app_context():
        admin = db.session.execute(select(User).where(User.email == world["admin"])).scalar_one()
        organiser = db.session.execute(select(User).where(User.email == world["organiser"])).scalar_one()
        item = db.session.execute(
            select(AgendaItem).where(AgendaItem.meeting_id == setup["meeting"], AgendaItem.title == "Employment")
        ).scalar_one()
        marked = day.ItemInput(
            title=item.title,
            notes_md=item.notes_md,
            decisions=list(item.decisions),
            public_decisions=["Job fair in May"],
        )
        day.save_item(organiser, item, marked, day.ItemInput.of(item).values())
        unmarked = day.ItemInput(title=item.title, notes_md=item.notes_md + " More.", decisions=list(item.decisions))
        day.save_item(admin, item, unmarked, day.ItemInput.of(item).values())
        db.session.commit()
        assert db.session.get(AgendaItem, item.id).public_decisions == ["Job fair in May"]
        secret = db.session.get(AgendaItem, setup["release"])
        with pytest.raises(ServiceError):
            day.save_item(admin, secret, day.ItemInput(title="x", notes_md="", decisions=[]), None)
        db.session.rollback()

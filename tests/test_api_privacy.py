"""The API screens free text for prisoners' personal data, as every page's form does (core.privacy).

An action's progress note and an RSVP comment that look like an identity number or a date of
birth next to a name are refused with 422 on their field, nothing saved; ``privacy_confirm``
with a ``privacy_reason`` saves them, audited as ``privacy.override`` with the change.
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from forum_app.api.tokens import TokenInput, create_token
from forum_app.extensions import db
from forum_app.models import ActionUpdate, AuditEvent, Invitation, User

from .factories import Factory

JMBG_NOTE = "Support person 0101990450001 after release"
BIRTH_NOTE = "prisoner Petar Petrovski, born 01.01.1990"
REASON = "The number is the prison's own case reference, not a person's."


def _bearer(app: Flask, email: str) -> dict[str, str]:
    with app.app_context():
        user = db.session.execute(select(User).where(User.email == email)).scalar_one()
        _, secret = create_token(user, TokenInput(name="privacy", can_write=True))
        db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def _counts(app: Flask, action_id: int) -> tuple[int, int]:
    with app.app_context():
        notes = db.session.scalars(select(ActionUpdate.note).where(ActionUpdate.action_id == action_id)).all()
        overrides = db.session.scalars(select(AuditEvent).where(AuditEvent.verb == "privacy.override")).all()
        return len(notes), len(overrides)


def test_a_note_with_personal_data_is_refused_until_confirmed_with_a_reason(app: Flask, make: Factory) -> None:
    world = make.world()
    action = make.action(world["forum"], world["participant"])
    client, headers = app.test_client(), _bearer(app, world["organiser"])
    url = f"/api/v1/actions/{action}/updates"
    version = client.get(f"/api/v1/actions/{action}", headers=headers).get_json()["version"]
    before = _counts(app, action)

    for note in (JMBG_NOTE, BIRTH_NOTE):
        refused = client.post(url, json={"note": note, "version": version}, headers=headers)
        assert refused.status_code == 422, note
        assert set(refused.get_json()["errors"]) == {"note"}
        assert "identity number or date of birth" in refused.get_json()["errors"]["note"][0]
    # Confirmed without a (long enough) reason: still refused, now on the reason too.
    short = client.post(
        url,
        json={"note": JMBG_NOTE, "version": version, "privacy_confirm": True, "privacy_reason": "ok"},
        headers=headers,
    )
    assert short.status_code == 422 and set(short.get_json()["errors"]) == {"note", "privacy_reason"}
    assert _counts(app, action) == before

    saved = client.post(
        url,
        json={"note": JMBG_NOTE, "version": version, "privacy_confirm": True, "privacy_reason": REASON},
        headers=headers,
    )
    assert saved.status_code == 201, saved.get_json()
    assert _counts(app, action) == (before[0] + 1, before[1] + 1)
    with app.app_context():
        event = db.session.execute(select(AuditEvent).where(AuditEvent.verb == "privacy.override")).scalar_one()
        assert event.summary == REASON and event.actor.email == world["organiser"]
        assert event.data["fields"] == ["note"] and event.data["kinds"] == ["jmbg"] and event.data["form"] == "api"
        assert "0101990450001" not in repr(event.data)  # the kinds and fields, never the words


def test_plain_text_needs_no_confirmation_and_writes_no_override(app: Flask, make: Factory) -> None:
    world = make.world()
    action = make.action(world["forum"], world["participant"])
    client, headers = app.test_client(), _bearer(app, world["organiser"])
    version = client.get(f"/api/v1/actions/{action}", headers=headers).get_json()["version"]
    response = client.post(
        f"/api/v1/actions/{action}/updates",
        json={"note": "Met the probation office.", "version": version},
        headers=headers,
    )
    assert response.status_code == 201
    assert _counts(app, action)[1] == 0


def test_an_rsvp_comment_is_screened(app: Flask, make: Factory) -> None:
    world = make.world()
    meeting = make.meeting(world["forum"])
    invitation = make.invite(meeting, world["participant"])
    client, headers = app.test_client(), _bearer(app, world["participant"])
    url = f"/api/v1/meetings/{meeting}/rsvp"
    refused = client.post(url, json={"answer": "accepted", "comment": BIRTH_NOTE}, headers=headers)
    assert refused.status_code == 422 and set(refused.get_json()["errors"]) == {"comment"}
    with app.app_context():
        assert db.session.get(Invitation, invitation).rsvp == "needs-action"
    confirmed = client.post(
        url,
        json={"answer": "accepted", "comment": BIRTH_NOTE, "privacy_confirm": True, "privacy_reason": REASON},
        headers=headers,
    )
    assert confirmed.status_code == 200
    with app.app_context():
        assert db.session.get(Invitation, invitation).rsvp == "accepted"
        verbs = db.session.scalars(select(AuditEvent.verb).where(AuditEvent.verb == "privacy.override")).all()
    assert verbs == ["privacy.override"]


def test_the_openapi_document_describes_the_confirmation(app: Flask) -> None:
    schemas = app.test_client().get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    for name in ("UpdateIn", "RsvpIn"):
        properties = schemas[name]["properties"]
        assert properties["privacy_confirm"]["type"] == "boolean", name
        assert "privacy.override" in properties["privacy_confirm"]["description"], name
        assert properties["privacy_reason"]["type"] == "string", name

"""Two people editing the same record never silently overwrite each other (issue 7, point 3).

Both open the edit form; the first saves; the second's save is refused with a table of
what differs, nothing of theirs is written, and the re-shown form starts from the saved
version with their own changes kept, so a second, knowing save goes through — and a
field the second person never touched keeps the first person's value.
"""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from forum_app.extensions import db
from forum_app.models import AuditEvent, Forum, Grant, Organisation, Programme, User

from .conftest import CSRF_RE, LOADED_RE, sign_in
from .factories import Factory

FIELD_VALUE = r'name="{name}"[^>]*value="([^"]*)"'


def opened(client, path: str) -> dict[str, str]:
    """What a browser would submit unchanged: CSRF token and the hidden baseline."""
    page = client.get(path).get_data(as_text=True)
    csrf, loaded = CSRF_RE.search(page), LOADED_RE.search(page)
    assert loaded, f"no baseline on {path}"
    return {"csrf_token": csrf.group(1) or csrf.group(2), "loaded": html.unescape(loaded.group(1) or loaded.group(2))}


def field_value(page: str, name: str) -> str:
    match = re.search(FIELD_VALUE.format(name=name), page)
    assert match, name
    return html.unescape(match.group(1))


def _records(app: Flask, make: Factory, world: dict) -> dict[str, Any]:
    with app.app_context():
        grant = db.session.get(Grant, world["grant"])
        programme_id, holder_id = grant.programme_id, grant.holder_id
    person_id = make.user_id(world["participant"])
    return {
        "forum": (
            f"/forums/{world['forum']}/edit",
            Forum,
            world["forum"],
            "organiser",
            {
                "grant_id": str(world["grant"]),
                "city": "Sarajevo",
                "country": "BA",
                "timezone": "Europe/Sarajevo",
                "focus": "New State Prison",
                "description": "",
            },
            "title",
        ),
        "organisation": (
            f"/admin/organisations/{holder_id}/edit",
            Organisation,
            holder_id,
            "admin",
            {"kind": "ngo", "country": "BA", "city": "Sarajevo"},
            "name",
        ),
        "programme": (
            f"/admin/programmes/{programme_id}/edit",
            Programme,
            programme_id,
            "admin",
            {"description": "", "themes": "Radicalisation in prisons"},
            "name",
        ),
        "grant": (
            f"/admin/grants/{world['grant']}/edit",
            Grant,
            world["grant"],
            "admin",
            {"programme_id": str(programme_id), "reference": "REF-X", "holder_id": str(holder_id), "country": "BA"},
            "title",
        ),
        "person": (
            f"/admin/users/{person_id}/edit",
            User,
            person_id,
            "admin",
            {"email": world["participant"], "role": "member", "organisation_id": "0", "timezone": "Europe/Sarajevo"},
            "name",
        ),
    }


@pytest.mark.parametrize("record", ["forum", "organisation", "programme", "grant", "person"])
def test_second_save_of_a_stale_form_is_refused_and_rebased(app: Flask, make: Factory, record: str) -> None:
    world = make.world()
    path, model, object_id, role, base, text_field = _records(app, make, world)[record]
    if role == "admin":
        second_email = make.user("admin")
    else:
        second_email = make.user()
        make.add_to_team(world["grant"], second_email)
    first, second = sign_in(app.test_client(), world[role]), sign_in(app.test_client(), second_email)
    mine, theirs = opened(first, path), opened(second, path)
    # The first person changes the text field and, where there is one, the description too.
    first_data = {**base, text_field: "Saved first"}
    if "description" in base:
        first_data["description"] = "Added by the first person"
    assert first.post(path, data={**mine, **first_data}).status_code == 302

    # The second person only changes the text field, on a form opened before that save.
    response = second.post(path, data={**theirs, **base, text_field: "Saved second"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="conflict"' in page and "Someone else saved this after you opened the form" in page
    assert "Saved first" in page and "Saved second" in page  # the comparison shows both
    with app.app_context():
        assert getattr(db.session.get(model, object_id), text_field) == "Saved first"
        updates = db.session.execute(select(AuditEvent.verb).where(AuditEvent.verb.like("%.update"))).scalars().all()
    assert len(updates) == 1, "only the first save wrote anything"
    # The re-shown form keeps the second person's change and is based on the saved version.
    assert field_value(page, text_field) == "Saved second"
    rebased = LOADED_RE.search(page)
    assert "Saved first" in html.unescape(rebased.group(1) or rebased.group(2))
    if "description" in base:
        # Untouched by the second person: shows what the first one saved, so saving cannot revert it.
        assert "Added by the first person" in page.split('name="description"', 1)[1].split("</textarea>", 1)[0]

    # Saving the re-shown form is a knowing save: it goes through.
    again = {
        **base,
        text_field: "Saved second",
        "csrf_token": theirs["csrf_token"],
        "loaded": html.unescape(rebased.group(1) or rebased.group(2)),
    }
    if "description" in base:
        again["description"] = "Added by the first person"
    assert second.post(path, data=again).status_code == 302
    with app.app_context():
        saved = db.session.get(model, object_id)
        assert getattr(saved, text_field) == "Saved second"
        if "description" in base:
            assert saved.description == "Added by the first person"


def test_a_save_without_the_baseline_changes_nothing(app: Flask, make: Factory) -> None:
    """A hand-made POST without the hidden baseline cannot overwrite blindly."""
    world = make.world()
    client = sign_in(app.test_client(), world["organiser"])
    token = opened(client, f"/forums/{world['forum']}/edit")["csrf_token"]
    response = client.post(
        f"/forums/{world['forum']}/edit",
        data={
            "csrf_token": token,
            "grant_id": str(world["grant"]),
            "title": "Blind",
            "city": "Sarajevo",
            "country": "BA",
            "timezone": "Europe/Sarajevo",
        },
    )
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(Forum, world["forum"]).title != "Blind"


def test_deactivating_a_person_withdraws_their_upcoming_invitations(app: Flask, make: Factory) -> None:
    """Issue 8, point 4: a deactivated person is no longer invited, and no longer counts in coverage."""
    from forum_app.models import Invitation

    from .conftest import post_form

    world = make.world()
    org = make.organisation("Probation office", kind="probation")
    email = make.user(organisation_id=org)
    make.add_member(world["forum"], email)
    upcoming = make.meeting(world["forum"], state="scheduled", starts_in_days=7)
    held = make.meeting(world["forum"], state="held", starts_in_days=-7)
    for meeting_id in (upcoming, held):
        make.invite(meeting_id, email)
    organiser = sign_in(app.test_client(), world["organiser"])

    def present_kinds() -> str:
        page = organiser.get(f"/forums/{world['forum']}").get_data(as_text=True)
        return page.split('id="coverage"', 1)[1].split('id="coverage-missing"', 1)[0]

    assert "Probation" in present_kinds()
    admin = sign_in(app.test_client(), world["admin"])
    user_id = make.user_id(email)
    response = post_form(
        admin, f"/admin/users/{user_id}/edit", {"active": "0"}, action=f"/admin/users/{user_id}/active"
    )
    assert response.status_code == 302
    with app.app_context():
        invited = set(db.session.execute(select(Invitation.meeting_id).where(Invitation.user_id == user_id)).scalars())
    assert invited == {held}  # the record of the held meeting stays
    assert "Probation" not in present_kinds()

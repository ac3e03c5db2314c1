"""The API's lists filter (forum, grant, state, updated since), page by a size within limits, refuse
query parameters they do not have (422, naming them), and refuse a filter out of reach with 403.

A refusal's status follows its kind (a role rule: 403; bad input: 422; someone saved first: 409),
never its words: the same refusals are checked in two languages.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask

from forum_app.api.tokens import TokenInput, create_token
from forum_app.extensions import db
from forum_app.models import User

from .factories import Factory


def _token(app: Flask, email: str, write: bool = False) -> dict:
    with app.app_context():
        user = db.session.execute(db.select(User).where(User.email == email)).scalar_one()
        _, secret = create_token(user, TokenInput(name="filters", can_write=write))
        db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


def _seed(app: Flask, make: Factory) -> dict:
    world = make.world()
    long_ago = make.meeting(world["forum"], state="held", starts_in_days=-40)
    last_week = make.meeting(world["forum"], state="held", starts_in_days=-7)
    coming = make.meeting(world["forum"])
    elsewhere = make.meeting(world["other_forum"])
    old = make.action(world["forum"], world["participant"], meeting_id=long_ago)  # raised 40 days ago
    recent = make.action(world["forum"], world["participant"], meeting_id=last_week)  # 7 days ago
    make.act(recent, world["participant"], to_state="accepted", at=datetime.now(UTC) - timedelta(days=6))
    other_owner = make.user()
    make.add_member(world["other_forum"], other_owner)
    other = make.action(world["other_forum"], other_owner)
    return {
        **world,
        "meetings": (long_ago, last_week, coming),
        "elsewhere": elsewhere,
        "old": old,
        "recent": recent,
        "other": other,
    }


def test_actions_filter_by_forum_grant_state_and_updated_since(app: Flask, make: Factory) -> None:
    w = _seed(app, make)
    staff, client = _token(app, w["staff"]), app.test_client()
    every = _ids(client.get("/api/v1/actions", headers=staff))
    assert set(every) == {w["old"], w["recent"], w["other"]}
    # Issue 23: ?forum_id=1 returned every forum's actions.
    assert _ids(client.get(f"/api/v1/actions?forum_id={w['forum']}", headers=staff)) == [w["old"], w["recent"]]
    assert _ids(client.get(f"/api/v1/actions?grant_id={w['other_grant']}", headers=staff)) == [w["other"]]
    accepted = client.get(f"/api/v1/actions?state=accepted&forum_id={w['forum']}", headers=staff)
    assert _ids(accepted) == [w["recent"]]
    since = (datetime.now(UTC) - timedelta(days=20)).isoformat()
    changed = client.get(
        "/api/v1/actions", query_string={"updated_since": since, "forum_id": w["forum"]}, headers=staff
    )
    assert _ids(changed) == [w["recent"]]
    # A time without a zone is UTC.
    naive = (datetime.now(UTC) - timedelta(days=20)).replace(tzinfo=None).isoformat(timespec="seconds")
    assert _ids(client.get(f"/api/v1/actions?updated_since={naive}&forum_id={w['forum']}", headers=staff)) == [
        w["recent"]
    ]
    bad_state = client.get("/api/v1/actions?state=finished", headers=staff)
    assert bad_state.status_code == 422 and list(bad_state.get_json()["errors"]) == ["state"]
    bad_time = client.get("/api/v1/actions?updated_since=yesterday", headers=staff)
    assert bad_time.status_code == 422 and list(bad_time.get_json()["errors"]) == ["updated_since"]


def test_meetings_and_forums_filter(app: Flask, make: Factory) -> None:
    w = _seed(app, make)
    staff, client = _token(app, w["staff"]), app.test_client()
    assert _ids(client.get(f"/api/v1/meetings?forum_id={w['forum']}", headers=staff)) == list(w["meetings"])
    assert _ids(client.get(f"/api/v1/meetings?grant_id={w['other_grant']}", headers=staff)) == [w["elsewhere"]]
    assert _ids(client.get(f"/api/v1/meetings?forum_id={w['forum']}&state=held", headers=staff)) == list(
        w["meetings"][:2]
    )
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert _ids(client.get("/api/v1/meetings", query_string={"updated_since": future}, headers=staff)) == []
    assert _ids(client.get(f"/api/v1/forums?grant_id={w['grant']}", headers=staff)) == [w["forum"]]
    wrong = client.get("/api/v1/meetings?state=accepted", headers=staff)  # an action's state, not a meeting's
    assert wrong.status_code == 422 and "state" in wrong.get_json()["errors"]


def test_unknown_query_parameters_are_refused_by_name(app: Flask, make: Factory) -> None:
    w = _seed(app, make)
    staff, client = _token(app, w["staff"]), app.test_client()
    for path, name in (
        ("/api/v1/actions?forum=1", "forum"),
        ("/api/v1/actions?owner_id=1", "owner_id"),
        ("/api/v1/programmes?forum_id=1", "forum_id"),  # a filter this list does not have
        ("/api/v1/grants?state=held", "state"),
        ("/api/v1/forums?forum_id=1", "forum_id"),
        ("/api/v1/meetings?updatedSince=2024-01-01", "updatedSince"),
    ):
        response = client.get(path, headers=staff)
        body = response.get_json()
        assert response.status_code == 422 and list(body["errors"]) == [name], path
        assert body["errors"][name] and body["message"]


def test_page_size_is_a_parameter_within_limits(app: Flask, make: Factory) -> None:
    w = _seed(app, make)
    staff, client = _token(app, w["staff"]), app.test_client()
    first = client.get("/api/v1/actions?per_page=2", headers=staff).get_json()
    assert len(first["items"]) == 2 and first["pages"] == 2 and first["total"] == 3
    second = client.get("/api/v1/actions?per_page=2&page=2", headers=staff).get_json()
    assert len(second["items"]) == 1 and {i["id"] for i in first["items"] + second["items"]} == {
        w["old"],
        w["recent"],
        w["other"],
    }
    assert len(client.get("/api/v1/actions?per_page=200", headers=staff).get_json()["items"]) == 3
    for size in ("0", "201", "-1", "many"):
        response = client.get(f"/api/v1/actions?per_page={size}", headers=staff)
        assert response.status_code == 422 and list(response.get_json()["errors"]) == ["per_page"], size


def test_a_filter_out_of_reach_is_403(app: Flask, make: Factory) -> None:
    w = _seed(app, make)
    client = app.test_client()
    organiser, participant = _token(app, w["organiser"]), _token(app, w["participant"])
    # Their own forum and grant: filtered; another grant's: refused, never an empty (or full) list.
    assert _ids(client.get(f"/api/v1/actions?forum_id={w['forum']}", headers=organiser)) == [w["old"], w["recent"]]
    for path, field in (
        (f"/api/v1/actions?forum_id={w['other_forum']}", "forum_id"),
        (f"/api/v1/meetings?grant_id={w['other_grant']}", "grant_id"),
        (f"/api/v1/forums?grant_id={w['other_grant']}", "grant_id"),
        ("/api/v1/actions?forum_id=999999", "forum_id"),  # none such: the same answer (existence does not leak)
    ):
        for headers in (organiser, participant):
            response = client.get(path, headers=headers)
            assert response.status_code == 403 and list(response.get_json()["errors"]) == [field], path
    assert _ids(client.get(f"/api/v1/meetings?grant_id={w['grant']}", headers=participant))


def test_the_status_follows_the_refusal_not_its_words(app: Flask, make: Factory) -> None:
    """A role refusal is 403, a state rule 422, in English and in Bosnian alike."""
    w = _seed(app, make)
    client = app.test_client()
    staff = _token(app, w["staff"], write=True)
    observer = _token(app, w["observer"], write=True)
    meeting = w["meetings"][2]
    for language in ("en", "bs"):
        lang = {"Accept-Language": language}
        detail = client.get(f"/api/v1/actions/{w['recent']}", headers=staff).get_json()
        # Programme staff comment on actions; they do not change their state: a role rule.
        role = client.post(
            f"/api/v1/actions/{w['recent']}/updates",
            json={"to_state": "in_progress", "version": detail["version"]},
            headers={**staff, **lang},
        )
        assert role.status_code == 403 and role.get_json()["message"], language
        # A member who is not invited answers no invitation: a role rule too.
        rsvp = client.post(
            f"/api/v1/meetings/{meeting}/rsvp", json={"answer": "accepted"}, headers={**observer, **lang}
        )
        assert rsvp.status_code == 403, language
        # A state rule: an accepted action cannot jump to done.
        owner = _token(app, w["participant"], write=True)
        rule = client.post(
            f"/api/v1/actions/{w['recent']}/updates",
            json={"to_state": "done", "version": detail["version"]},
            headers={**owner, **lang},
        )
        assert rule.status_code == 422, language


def test_the_document_describes_the_filters(app: Flask) -> None:
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    params = {
        path: {p["name"] for p in spec["paths"][path]["get"]["parameters"] if p["in"] == "query"}
        for path in ("/api/v1/actions", "/api/v1/meetings", "/api/v1/forums", "/api/v1/programmes")
    }
    assert params["/api/v1/actions"] == {"page", "per_page", "forum_id", "grant_id", "state", "updated_since"}
    assert params["/api/v1/meetings"] == params["/api/v1/actions"]
    assert params["/api/v1/forums"] == {"page", "per_page", "grant_id"}
    assert params["/api/v1/programmes"] == {"page", "per_page"}
    assert "403" in spec["paths"]["/api/v1/actions"]["get"]["responses"]

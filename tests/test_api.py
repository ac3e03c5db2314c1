"""The JSON API: tokens from the profile page, bearer-only authentication, reach by role, writes, errors,
and the OpenAPI document (validated)."""

from __future__ import annotations

import re

from flask import Flask
from openapi_spec_validator import validate

from .conftest import csrf_token, login
from .factories import Factory

SECRET_RE = re.compile(r'<code id="new-api-token">([^<]+)</code>')


def _token(app: Flask, email: str, write: bool = False) -> str:
    client = app.test_client()
    assert login(client, email).status_code == 302
    data = {"name": "script", "csrf_token": csrf_token(client, "/account")}
    if write:
        data["can_write"] = "1"
    page = client.post("/account/api-tokens", data=data).get_data(as_text=True)
    secret = SECRET_RE.search(page).group(1)
    assert secret not in client.get("/account").get_data(as_text=True)  # shown once
    return secret


def _get(client, path, secret):
    return client.get(path, headers={"Authorization": f"Bearer {secret}"})


def test_openapi_document_is_valid(app: Flask) -> None:
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    validate(spec)
    assert {"/api/v1/forums", "/api/v1/actions/{action_id}/updates", "/api/v1/meetings/{meeting_id}/rsvp"} <= set(
        spec["paths"]
    )


def test_reach_by_role(app: Flask, make: Factory) -> None:
    world = make.world()
    meeting = make.meeting(world["forum"])
    other_meeting = make.meeting(world["other_forum"])
    action = make.action(world["forum"], world["participant"])
    other_owner = make.user()
    make.add_member(world["other_forum"], other_owner)
    other_action = make.action(world["other_forum"], other_owner)
    client = app.test_client()
    expected = {
        "staff": (2, 200, 200),
        "organiser": (1, 404, 404),
        "participant": (1, 404, 404),
        "outsider": (0, 404, 404),
    }
    for role, (forums, other_m, other_a) in expected.items():
        secret = _token(app, world[role])
        assert _get(client, "/api/v1/forums", secret).get_json()["total"] == forums, role
        assert _get(client, f"/api/v1/meetings/{other_meeting}", secret).status_code == other_m, role
        assert _get(client, f"/api/v1/actions/{other_action}", secret).status_code == other_a, role
        if forums:
            assert _get(client, f"/api/v1/meetings/{meeting}", secret).status_code == 200, role
            assert _get(client, f"/api/v1/actions/{action}", secret).status_code == 200, role
    assert client.get("/api/v1/forums").status_code == 401


def test_cookies_never_authenticate_and_tokens_can_be_revoked(app: Flask, make: Factory) -> None:
    world = make.world()
    action = make.action(world["forum"], world["participant"])
    browser = app.test_client()
    assert login(browser, world["participant"]).status_code == 302
    assert browser.get("/api/v1/forums").status_code == 401
    assert browser.post(f"/api/v1/actions/{action}/updates", json={"note": "x", "version": 1}).status_code == 401
    secret = _token(app, world["participant"])
    assert _get(app.test_client(), "/api/v1/forums", secret).status_code == 200
    token_id = re.search(r"/account/api-tokens/(\d+)/revoke", browser.get("/account").get_data(as_text=True)).group(1)
    browser.post(f"/account/api-tokens/{token_id}/revoke", data={"csrf_token": csrf_token(browser, "/account")})
    assert _get(app.test_client(), "/api/v1/forums", secret).status_code == 401


def test_writes(app: Flask, make: Factory) -> None:
    world = make.world()
    action = make.action(world["forum"], world["participant"])
    client = app.test_client()
    read_only = _token(app, world["participant"])
    secret = _token(app, world["participant"], write=True)
    headers = {"Authorization": f"Bearer {secret}"}
    path = f"/api/v1/actions/{action}/updates"
    assert (
        client.post(
            path, json={"to_state": "accepted", "version": 1}, headers={"Authorization": f"Bearer {read_only}"}
        ).status_code
        == 403
    )
    unknown = client.post(path, json={"to_state": "accepted", "version": 1, "colour": "red"}, headers=headers)
    assert unknown.status_code == 422 and "colour" in unknown.get_json()["errors"]
    bad = client.post(path, json={"to_state": "accepted", "version": "one"}, headers=headers)
    assert bad.status_code == 422 and "version" in bad.get_json()["errors"]
    done = client.post(path, json={"to_state": "accepted", "version": 1}, headers=headers)
    assert done.status_code == 201 and done.get_json()["state"] == "accepted"
    stale = client.post(path, json={"note": "again", "version": 1}, headers=headers)
    assert stale.status_code == 409 and stale.get_json()["message"]
    refused = client.post(path, json={"to_state": "done", "version": done.get_json()["version"]}, headers=headers)
    assert refused.status_code == 422 and refused.get_json()["errors"]
    # The outsider's token cannot reach it at all.
    outsider = _token(app, world["outsider"], write=True)
    assert (
        client.post(path, json={"note": "x", "version": 2}, headers={"Authorization": f"Bearer {outsider}"}).status_code
        == 404
    )


def test_rsvp(app: Flask, make: Factory) -> None:
    world = make.world()
    meeting = make.meeting(world["forum"])
    make.invite(meeting, world["participant"])
    secret = _token(app, world["participant"], write=True)
    response = app.test_client().post(
        f"/api/v1/meetings/{meeting}/rsvp", json={"answer": "accepted"}, headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 200
    assert [i["rsvp"] for i in response.get_json()["invitees"]] == ["accepted"]
    observer = _token(app, world["observer"], write=True)  # a member, not invited
    refused = app.test_client().post(
        f"/api/v1/meetings/{meeting}/rsvp", json={"answer": "maybe"}, headers={"Authorization": f"Bearer {observer}"}
    )
    assert refused.status_code == 422 and "answer" in refused.get_json()["errors"]


def test_errors_found_by_schemathesis_answer_json(app: Flask, make: Factory) -> None:
    """A body that is not a JSON object was a 500; a URL no route matches answered another shape."""
    world = make.world()
    action = make.action(world["forum"], world["participant"])
    secret = _token(app, world["participant"], write=True)
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    client = app.test_client()
    for body in (b"\x00", b"[1]", b'"text"'):
        response = client.post(f"/api/v1/actions/{action}/updates", data=body, headers=headers)
        assert response.status_code in (400, 422) and set(response.get_json()) == {"message", "errors"}, body
    for path in ("/api/v1/nothing", "/api/v1/forums/99999999999999999999"):
        response = client.get(path, headers=headers)
        assert response.status_code == 404 and set(response.get_json()) == {"message", "errors"}
    spec = client.get("/api/v1/openapi.json").get_json()
    default_error = spec["components"]["responses"]["DEFAULT_ERROR"]["content"]["application/json"]["schema"]
    assert default_error == {"$ref": "#/components/schemas/ErrorOut"}


def test_nul_characters_in_a_json_body_are_a_400_naming_the_field(app: Flask, make: Factory) -> None:
    """Issue 20, point 7. A "\\u0000" in a JSON string reached the database: PostgreSQL refuses NUL in
    text, so it was a 500 there (SQLite stored it). Now it is a 400 with the field named, nothing saved."""
    from forum_app.extensions import db
    from forum_app.models import ActionUpdate, Invitation

    world = make.world()
    meeting = make.meeting(world["forum"])
    invitation = make.invite(meeting, world["participant"])
    action = make.action(world["forum"], world["participant"])
    headers = {"Authorization": f"Bearer {_token(app, world['participant'], write=True)}"}
    client = app.test_client()
    with app.app_context():
        updates_before = db.session.execute(db.select(db.func.count()).select_from(ActionUpdate)).scalar_one()
    cases = [
        (f"/api/v1/meetings/{meeting}/rsvp", {"answer": "accepted", "comment": "I come\u0000"}, {"comment"}),
        (f"/api/v1/actions/{action}/updates", {"note": "\u0000", "version": 1}, {"note"}),
        (f"/api/v1/actions/{action}/updates", {"note": "ok", "ver\u0000sion": 1}, {"ver\\u0000sion"}),
    ]
    for path, body, fields in cases:
        response = client.post(path, json=body, headers=headers)
        assert response.status_code == 400, (path, body, response.get_data(as_text=True))
        answer = response.get_json()
        assert set(answer) == {"message", "errors"} and set(answer["errors"]) == fields, answer
        assert all("NUL" in message for messages in answer["errors"].values() for message in messages)
    with app.app_context():
        assert db.session.get(Invitation, invitation).rsvp == "needs-action"
        assert db.session.execute(db.select(db.func.count()).select_from(ActionUpdate)).scalar_one() == updates_before
    # The same answer written raw, as a client that escapes nothing sends it.
    raw = client.post(
        f"/api/v1/meetings/{meeting}/rsvp",
        data=b'{"answer": "accepted", "comment": "a\\u0000b"}',
        headers={**headers, "Content-Type": "application/json"},
    )
    assert raw.status_code == 400 and set(raw.get_json()["errors"]) == {"comment"}
    # Without NUL the same requests work.
    ok = client.post(
        f"/api/v1/meetings/{meeting}/rsvp", json={"answer": "accepted", "comment": "I come"}, headers=headers
    )
    assert ok.status_code == 200


def test_a_method_not_allowed_says_which_are(app: Flask, make: Factory) -> None:
    """Issue 20, point 7: a 405 carries ``Allow`` (RFC 9110, 15.5.6), on pages and in the API."""
    world = make.world()
    meeting = make.meeting(world["forum"])
    headers = {"Authorization": f"Bearer {_token(app, world['participant'], write=True)}"}
    client = app.test_client()
    api = client.get(f"/api/v1/meetings/{meeting}/rsvp", headers=headers)
    assert api.status_code == 405 and set(api.get_json()) == {"message", "errors"}
    assert {m.strip() for m in api.headers["Allow"].split(",")} >= {"POST"}
    assert "GET" not in {m.strip() for m in api.headers["Allow"].split(",")}
    listed = client.delete("/api/v1/forums", headers=headers)
    assert listed.status_code == 405 and {"GET", "HEAD"} <= {m.strip() for m in listed.headers["Allow"].split(",")}
    page = client.get(f"/meetings/{meeting}/rsvp")
    assert page.status_code == 405 and page.headers["Content-Type"].startswith("text/html")
    assert {m.strip() for m in page.headers["Allow"].split(",")} == {"POST", "OPTIONS"}
    login(client, world["participant"])
    signed_in = client.put(f"/meetings/{meeting}")
    assert signed_in.status_code == 405 and "GET" in signed_in.headers["Allow"]

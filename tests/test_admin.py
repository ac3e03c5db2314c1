"""Administration pages: who may reach them, what they change, and how they fail.

Logging in costs an argon2 verification (~0.2 s), so the permission matrix logs in once
per role and walks the whole route table; a mismatch report names every failing route.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from forum_app.extensions import db
from forum_app.models import AuditEvent, Grant, GrantTeam, Organisation, OutboxMessage, Programme, User, UserSession

from .conftest import csrf_token, login, post_form, sign_in
from .factories import Factory
from .routes import assert_covers, expect, fill_path, walk

# --- helpers ---------------------------------------------------------------------------------------

FIELD_BLOCK = '<div class="mb-3">'
ERROR_RE = re.compile(r'<div class="invalid-feedback d-block">(.*?)</div>', re.S)
ORG_ROW_RE = re.compile(r'<a href="/admin/organisations/\d+/edit">([^<]*)</a>')


def is_signed_in(client: FlaskClient) -> bool:
    """Whether the home page (wherever it redirects) opens, rather than the login page."""
    response = client.get("/", follow_redirects=True)
    return response.status_code == 200 and response.request.path != "/login"


def field_errors(page: str, name: str) -> list[str]:
    """The messages shown next to the form field called ``name`` (empty if none)."""
    for block in page.split(FIELD_BLOCK)[1:]:
        if f'name="{name}"' in block:
            return [html.unescape(m).strip() for m in ERROR_RE.findall(block)]
    raise AssertionError(f"no field {name!r} on the page")


def org_names(page: str) -> list[str]:
    return [html.unescape(n) for n in ORG_ROW_RE.findall(page)]


def audit(app: Flask, verb: str) -> list[AuditEvent]:
    with app.app_context():
        rows = (
            db.session.execute(select(AuditEvent).where(AuditEvent.verb == verb).order_by(AuditEvent.id))
            .scalars()
            .all()
        )
        db.session.expunge_all()
        return list(rows)


def count(app: Flask, model: Any, *where: Any) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


@pytest.fixture
def admin(make: Factory, client: FlaskClient) -> dict[str, Any]:
    """A signed-in administrator (``client``) and their id."""
    email = make.user("admin", name="Ana Admin")
    sign_in(client, email)
    return {"email": email, "id": make.user_id(email)}


# --- 1. every admin route against every role ------------------------------------------------------


@dataclass(frozen=True)
class Route:
    method: str
    rule: str  # exactly as in app.url_map
    data: Callable[[dict[str, Any]], dict[str, str]] = field(default=lambda t: {})

    def path(self, targets: dict[str, Any]) -> str:
        return fill_path(self.rule, targets)

    def post_data(self, targets: dict[str, Any]) -> dict[str, str]:
        return self.data(targets)

    def __str__(self) -> str:
        return f"{self.method} {self.rule}"


# Admin POSTs carry valid data so that success (302) is distinguishable from a refused form (400).
ROUTES: list[Route] = [
    Route("GET", "/admin/users"),
    Route("GET", "/admin/users/new"),
    Route(
        "POST",
        "/admin/users/new",
        lambda t: {
            "name": "New Person",
            "email": "new.person@example.org",
            "role": "member",
            "organisation_id": "0",
            "timezone": "Europe/Sarajevo",
        },
    ),
    Route("GET", "/admin/users/<int:user_id>/edit"),
    Route(
        "POST",
        "/admin/users/<int:user_id>/edit",
        lambda t: {
            "name": "Renamed Organiser",
            "email": t["user_email"],
            "role": "member",
            "organisation_id": "0",
            "timezone": "Europe/Skopje",
        },
    ),
    Route("POST", "/admin/users/<int:user_id>/invite"),
    Route("POST", "/admin/users/<int:user_id>/second-factor/reset"),
    Route("POST", "/admin/users/<int:user_id>/sessions/<int:session_id>/end"),
    Route("POST", "/admin/users/<int:user_id>/sessions/end-all"),
    Route("POST", "/admin/users/<int:user_id>/active", lambda t: {"active": "0"}),
    Route("GET", "/admin/organisations"),
    Route("GET", "/admin/organisations/new"),
    Route(
        "POST",
        "/admin/organisations/new",
        lambda t: {"name": "Police Bijelo Polje", "kind": "police", "country": "ME", "city": "Bijelo Polje"},
    ),
    Route("GET", "/admin/organisations/<int:org_id>/edit"),
    Route(
        "POST",
        "/admin/organisations/<int:org_id>/edit",
        lambda t: {"name": "Renamed Holder", "kind": "ngo", "country": "BA", "city": "Mostar"},
    ),
    Route("GET", "/admin/programmes"),
    Route("GET", "/admin/programmes/new"),
    Route("POST", "/admin/programmes/new", lambda t: {"name": "Table Programme", "themes": "One\nTwo"}),
    Route("GET", "/admin/programmes/<int:programme_id>/edit"),
    Route(
        "POST", "/admin/programmes/<int:programme_id>/edit", lambda t: {"name": "Renamed Programme", "themes": "One"}
    ),
    Route("GET", "/admin/grants"),
    Route("GET", "/admin/grants/new"),
    Route(
        "POST",
        "/admin/grants/new",
        lambda t: {
            "programme_id": str(t["programme_id"]),
            "reference": "TBL-NEW",
            "title": "New grant",
            "holder_id": str(t["org_id"]),
            "country": "BA",
        },
    ),
    Route("GET", "/admin/grants/<int:grant_id>/edit"),
    Route(
        "POST",
        "/admin/grants/<int:grant_id>/edit",
        lambda t: {
            "programme_id": str(t["programme_id"]),
            "reference": "TBL-EDIT",
            "title": "Edited grant",
            "holder_id": str(t["org_id"]),
            "country": "BA",
        },
    ),
    Route("GET", "/admin/grants/<int:grant_id>"),
    Route("POST", "/admin/grants/<int:grant_id>", lambda t: {"email": t["staff_email"]}),
    Route("POST", "/admin/grants/<int:grant_id>/team/<int:user_id>/remove"),
    # People's rights (issue 22 point 5): the export answers with the file itself; erasure comes last.
    Route("POST", "/admin/users/<int:user_id>/export", lambda t: {"format": "json"}),
    Route("POST", "/admin/users/<int:user_id>/erase", lambda t: {"confirmed": "yes"}),
]

ROLES = ["anonymous", "admin", "staff", "organiser", "participant", "observer", "outsider"]

# What a successful admin run of ROUTES writes to the audit trail (besides the login).
ADMIN_VERBS = {
    "user.invite",
    "user.link_resent",
    "user.update",
    "user.deactivate",
    "organisation.create",
    "organisation.update",
    "programme.create",
    "programme.update",
    "grant.create",
    "grant.update",
    "grant.team.add",
    "grant.team.remove",
    "person.exported",
    "person.erased",
    "session.revoke",
    "session.revoke_all",
}


def expected_outcome(role: str, route: Route) -> int | str:
    if role == "anonymous":
        return "login"
    if role == "admin":
        return 200 if route.method == "GET" or route.rule.endswith("/export") else 302
    return 403


def test_route_table_covers_every_admin_rule(app: Flask) -> None:
    """A new admin route (or method) without a row in ROUTES fails here, so it cannot skip the matrix."""
    assert_covers(app, ROUTES, "admin")


@pytest.mark.parametrize("role", ROLES)
def test_admin_routes_by_role(app: Flask, make: Factory, role: str) -> None:
    """Only admins reach admin pages; anonymous visitors are sent to log in; the rest get 403."""
    world = make.world()
    # The organiser is on the grant's team, so the team-remove route has someone to remove.
    targets: dict[str, Any] = {
        "grant_id": world["grant"],
        "user_id": make.user_id(world["organiser"]),
        "user_email": world["organiser"],
        "staff_email": world["staff"],
    }
    with app.app_context():
        grant = db.session.get(Grant, world["grant"])
        targets.update(programme_id=grant.programme_id, org_id=grant.holder_id)
        if role != "organiser":
            # Only an account without a password can be re-invited (the target of the invite route).
            db.session.get(User, targets["user_id"]).password_hash = None
        # A session of the organiser's for the sign-out routes to end.
        organiser_session = UserSession(user_id=targets["user_id"], token_hash="e" * 64)
        db.session.add(organiser_session)
        db.session.commit()
        targets["session_id"] = organiser_session.id
    client = app.test_client()
    if role == "anonymous":
        token = csrf_token(client, "/login")
    else:
        sign_in(client, world[role])
        token = csrf_token(client, "/")

    assert walk(client, ROUTES, targets, token) == expect(ROUTES, lambda r: expected_outcome(role, r))

    with app.app_context():
        # Refusals are written down (access.denied) but change nothing else.
        verbs = set(db.session.execute(select(AuditEvent.verb)).scalars()) - {"user.login", "access.denied"}
        team = db.session.execute(select(GrantTeam.user_id).where(GrantTeam.grant_id == world["grant"])).scalars()
        team_ids = set(team)
    if role == "admin":
        assert verbs == ADMIN_VERBS
        assert team_ids == {make.user_id(world["staff"])}  # organiser removed, staff added
    else:
        assert verbs == set(), "a refused request changed something"
        assert team_ids == {targets["user_id"]}


# --- 2. CRUD as an admin -----------------------------------------------------------------------------


def test_create_and_edit_organisation(app: Flask, client: FlaskClient, admin: dict) -> None:
    """Saving writes the row and its audit event; a duplicate name in the same country is refused at the field."""
    data = {"name": "Centre for Social Work", "kind": "social_welfare", "country": "BA", "city": "Sarajevo"}
    response = post_form(client, "/admin/organisations/new", data)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/organisations"
    with app.app_context():
        org = db.session.execute(select(Organisation)).scalar_one()
        org_id = org.id
        assert (org.name, org.kind, org.country, org.city) == (
            "Centre for Social Work",
            "social_welfare",
            "BA",
            "Sarajevo",
        )
    [created] = audit(app, "organisation.create")
    assert (created.actor_id, created.object_type, created.object_id) == (admin["id"], "Organisation", org_id)

    # Same name, other case and stray spaces, same country: refused, next to the name.
    response = post_form(client, "/admin/organisations/new", {**data, "name": "  centre for SOCIAL work "})
    assert response.status_code == 400
    assert field_errors(response.get_data(as_text=True), "name") == [
        "An organisation with this name already exists in this country."
    ]
    assert count(app, Organisation) == 1
    assert len(audit(app, "organisation.create")) == 1

    # The same name in another country is a different organisation.
    response = post_form(client, "/admin/organisations/new", {**data, "country": "MK", "city": "Skopje"})
    assert response.status_code == 302
    assert count(app, Organisation) == 2

    # Edit the first one.
    edit = f"/admin/organisations/{org_id}/edit"
    assert "Centre for Social Work" in client.get(edit).get_data(as_text=True)
    response = post_form(client, edit, {**data, "name": "Centre for Social Work Sarajevo", "city": "Ilidža"})
    assert response.status_code == 302
    with app.app_context():
        org = db.session.get(Organisation, org_id)
        assert (org.name, org.city) == ("Centre for Social Work Sarajevo", "Ilidža")
    [updated] = audit(app, "organisation.update")
    assert updated.object_id == org_id
    assert updated.data["changes"]["city"] == ["Sarajevo", "Ilidža"]


def test_create_programme_with_themes_and_refuse_inverted_period(app: Flask, client: FlaskClient, admin: dict) -> None:
    """Themes are one per line (blank lines and repeats dropped); an end before the start saves nothing."""
    bad = {"name": "Horizontal Facility", "themes": "A", "starts_on": "2022-12-31", "ends_on": "2019-01-01"}
    response = post_form(client, "/admin/programmes/new", bad)
    assert response.status_code == 400
    assert field_errors(response.get_data(as_text=True), "ends_on") == ["The end cannot be before the start."]
    assert count(app, Programme) == 0
    assert audit(app, "programme.create") == []

    themes = "Radicalisation in prisons\r\n\r\n  Reintegration after release \nRadicalisation in prisons\n"
    response = post_form(
        client,
        "/admin/programmes/new",
        {
            "name": "Horizontal Facility for the Western Balkans and Turkey 2019-2022",
            "themes": themes,
            "starts_on": "2019-05-01",
            "ends_on": "2022-12-31",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        programme = db.session.execute(select(Programme)).scalar_one()
        programme_id = programme.id
        assert programme.themes == ["Radicalisation in prisons", "Reintegration after release"]
        assert (str(programme.starts_on), str(programme.ends_on)) == ("2019-05-01", "2022-12-31")
    [event] = audit(app, "programme.create")
    assert event.object_id == programme_id

    # The edit form shows the themes one per line again.
    page = client.get(f"/admin/programmes/{programme_id}/edit").get_data(as_text=True)
    assert "Radicalisation in prisons\nReintegration after release" in page


def test_programme_edit_without_themes_field_is_not_a_500(
    app: Flask, client: FlaskClient, admin: dict, make: Factory
) -> None:
    """A POST that leaves out the themes textarea must be handled (kept or refused), never a 500."""
    programme_id = make.programme()
    response = post_form(client, f"/admin/programmes/{programme_id}/edit", {"name": "Renamed"})
    assert response.status_code in (302, 400)
    with app.app_context():
        assert db.session.get(Programme, programme_id).themes == ["Radicalisation in prisons"]


def test_create_grant_and_manage_its_team(app: Flask, client: FlaskClient, admin: dict, make: Factory) -> None:
    """A grant is created from the form; organisers are added by email and removed, each step audited."""
    programme_id, holder_id = make.programme(), make.organisation(kind="ngo")
    organiser = make.user(email="amra.organiser@example.org")
    inactive = make.user(active=False)
    data = {
        "programme_id": str(programme_id),
        "reference": "HF-BA-07",
        "title": "Prison forums in BiH",
        "holder_id": str(holder_id),
        "country": "BA",
        "starts_on": "2021-01-01",
        "ends_on": "2022-06-30",
    }
    response = post_form(client, "/admin/grants/new", data)
    assert response.status_code == 302
    with app.app_context():
        grant_id = db.session.execute(select(Grant.id).where(Grant.reference == "HF-BA-07")).scalar_one()
    assert response.headers["Location"] == f"/admin/grants/{grant_id}"
    assert [e.object_id for e in audit(app, "grant.create")] == [grant_id]

    # The same reference again (other case) is refused at the field.
    response = post_form(client, "/admin/grants/new", {**data, "reference": "hf-ba-07"})
    assert response.status_code == 400
    assert field_errors(response.get_data(as_text=True), "reference") == ["Another grant already has this reference."]
    assert count(app, Grant) == 1

    page = f"/admin/grants/{grant_id}"
    response = post_form(client, page, {"email": "nobody@example.org"})
    assert response.status_code == 400
    assert field_errors(response.get_data(as_text=True), "email") == [
        "No account uses this email address. Invite the person first."
    ]
    response = post_form(client, page, {"email": inactive})
    assert response.status_code == 400
    assert field_errors(response.get_data(as_text=True), "email") == ["This account is deactivated."]
    assert count(app, GrantTeam) == 0
    assert audit(app, "grant.team.add") == []

    organiser_id = make.user_id(organiser)
    response = post_form(client, page, {"email": "Amra.Organiser@Example.ORG"})
    assert response.status_code == 302
    assert count(app, GrantTeam, GrantTeam.grant_id == grant_id, GrantTeam.user_id == organiser_id) == 1
    [added] = audit(app, "grant.team.add")
    assert (added.object_id, added.data["user_id"]) == (grant_id, organiser_id)

    response = post_form(client, page, {"email": organiser})
    assert response.status_code == 400
    assert field_errors(response.get_data(as_text=True), "email") == ["This person is already on the team."]

    response = post_form(client, page, {}, action=f"/admin/grants/{grant_id}/team/{organiser_id}/remove")
    assert response.status_code == 302
    assert count(app, GrantTeam) == 0
    [removed] = audit(app, "grant.team.remove")
    assert (removed.object_id, removed.data["user_id"]) == (grant_id, organiser_id)


def test_invite_user_queues_set_password_link(app: Flask, client: FlaskClient, admin: dict) -> None:
    """An invitation creates a password-less account and an outbox email with a working absolute link."""
    data = {
        "name": "Elma Participant",
        "email": "Elma.Participant@Example.org",
        "role": "member",
        "organisation_id": "0",
        "job_title": "Social worker",
        "timezone": "Europe/Sarajevo",
    }
    response = post_form(client, "/admin/users/new", data)
    assert response.status_code == 302
    with app.app_context():
        user = db.session.execute(select(User).where(User.email == "elma.participant@example.org")).scalar_one()
        user_id = user.id
        assert user.password_hash is None and user.active
        [message] = db.session.execute(select(OutboxMessage)).scalars().all()
        assert (message.kind, message.to_addr, message.to_user_id) == (
            "set-password",
            "elma.participant@example.org",
            user_id,
        )
        body = message.body_text
    link = re.search(r"\S*/set-password/\S+", body)
    assert link and link.group(0).startswith("http://forum.test/set-password/"), body
    [event] = audit(app, "user.invite")
    assert (event.actor_id, event.object_id) == (admin["id"], user_id)

    # The link is valid: a fresh visitor sees the set-password form for this account.
    page = app.test_client().get(link.group(0).removeprefix("http://forum.test"))
    assert page.status_code == 200
    assert "elma.participant@example.org" in page.get_data(as_text=True)

    response = post_form(client, "/admin/users/new", {**data, "email": "ELMA.participant@example.org"})
    assert response.status_code == 400
    assert field_errors(response.get_data(as_text=True), "email") == [
        "Someone with this email address already has an account."
    ]
    assert count(app, User) == 2  # the admin and Elma
    assert count(app, OutboxMessage) == 1


def test_resend_link_only_for_active_accounts(app: Flask, client: FlaskClient, admin: dict, make: Factory) -> None:
    """A new set-password link is queued for an active account, never for a deactivated one."""
    active_id = make.user_id(make.user(password=False))
    inactive_id = make.user_id(make.user(active=False, password=False))
    for user_id in (active_id, inactive_id):
        response = post_form(client, f"/admin/users/{user_id}/edit", {}, action=f"/admin/users/{user_id}/invite")
        assert response.status_code == 302
    with app.app_context():
        recipients = db.session.execute(select(OutboxMessage.to_user_id)).scalars().all()
    assert recipients == [active_id]


def test_deactivation_blocks_login_and_ends_open_sessions(
    app: Flask, client: FlaskClient, admin: dict, make: Factory
) -> None:
    """Deactivating ends the person's sessions at once and stops future logins."""
    email = make.user()
    user_id = make.user_id(email)
    theirs = app.test_client()
    sign_in(theirs, email)
    assert is_signed_in(theirs)

    response = post_form(
        client, f"/admin/users/{user_id}/edit", {"active": "0"}, action=f"/admin/users/{user_id}/active"
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(User, user_id).active is False
        sessions = db.session.execute(select(UserSession).where(UserSession.user_id == user_id)).scalars().all()
        assert sessions and all(s.revoked_at is not None for s in sessions)
    [event] = audit(app, "user.deactivate")
    assert (event.actor_id, event.object_id) == (admin["id"], user_id)

    assert not is_signed_in(theirs)
    assert login(app.test_client(), email).status_code == 401

    # Reactivation is audited too.
    response = post_form(
        client, f"/admin/users/{user_id}/edit", {"active": "1"}, action=f"/admin/users/{user_id}/active"
    )
    assert response.status_code == 302
    assert [e.object_id for e in audit(app, "user.activate")] == [user_id]


def test_admin_cannot_deactivate_or_demote_themself(app: Flask, client: FlaskClient, admin: dict) -> None:
    """Locking oneself out is refused with a message; nothing changes."""
    own = f"/admin/users/{admin['id']}"
    response = post_form(client, f"{own}/edit", {"active": "0"}, action=f"{own}/active")
    assert response.status_code == 302
    assert "You cannot deactivate your own account." in client.get(response.headers["Location"]).get_data(as_text=True)
    assert is_signed_in(client)

    response = post_form(
        client,
        f"{own}/edit",
        {
            "name": "Ana Admin",
            "email": admin["email"],
            "role": "member",
            "organisation_id": "0",
            "timezone": "Europe/Sarajevo",
        },
    )
    assert response.status_code == 400
    assert field_errors(response.get_data(as_text=True), "role") == ["You cannot remove your own administrator role."]
    with app.app_context():
        me = db.session.get(User, admin["id"])
        assert (me.active, me.role) == (True, "admin")
    assert audit(app, "user.deactivate") == [] and audit(app, "user.update") == []


# --- 3. paged, searchable lists ---------------------------------------------------------------------


def test_organisation_list_is_paged_and_searchable(app: Flask, client: FlaskClient, admin: dict, make: Factory) -> None:
    """PAGE_SIZE rows per page in name order; malformed page numbers mean page 1; ``q`` filters."""
    assert app.config["PAGE_SIZE"] == 10
    for n in range(1, 26):
        make.organisation(name=f"Centre {n:02d}", city="Tuzla" if n == 7 else "Sarajevo")

    def names(query: str) -> list[str]:
        response = client.get(f"/admin/organisations{query}")
        assert response.status_code == 200, query
        return org_names(response.get_data(as_text=True))

    first = [f"Centre {n:02d}" for n in range(1, 11)]
    assert names("") == first
    assert names("?page=2") == [f"Centre {n:02d}" for n in range(11, 21)]
    assert names("?page=3") == [f"Centre {n:02d}" for n in range(21, 26)]
    assert names("?page=4") == []
    for malformed in ("abc", "-5", "0", "", "1.5"):
        assert names(f"?page={malformed}") == first, malformed
    assert names("?page=99999999999999999999") == []  # clamped, not an overflow error

    assert names("?q=centre%202") == [f"Centre {n:02d}" for n in range(20, 26)]
    assert names("?q=CENTRE%2002") == ["Centre 02"]
    assert names("?q=tuzla") == ["Centre 07"]  # the city is searched too
    assert names("?q=centre&page=3") == [f"Centre {n:02d}" for n in range(21, 26)]
    assert "25 records" in client.get("/admin/organisations").get_data(as_text=True)


def test_search_treats_wildcards_literally(client: FlaskClient, admin: dict, make: Factory) -> None:
    """``%`` and ``_`` in a search are characters, not LIKE wildcards."""
    for name in (
        "100% Reintegration",
        "1000 Reintegration",
        "Social_Work Centre",
        "Social Work Centre",
        "Back\\slash Centre",
    ):
        make.organisation(name=name)

    def names(q: str) -> list[str]:
        response = client.get("/admin/organisations", query_string={"q": q})
        assert response.status_code == 200
        return org_names(response.get_data(as_text=True))

    assert names("100%") == ["100% Reintegration"]
    assert names("l_w") == ["Social_Work Centre"]
    assert names("%") == ["100% Reintegration"]
    assert names("_") == ["Social_Work Centre"]
    assert names("k\\s") == ["Back\\slash Centre"]


def test_search_matches_non_ascii_names_in_any_case(client: FlaskClient, admin: dict, make: Factory) -> None:
    """Forums work in Bosnian, Macedonian and Montenegrin: Cyrillic and accented names must be searchable
    (SQLite's built-in lower() folds ASCII only)."""
    make.organisation(name="Центар за социјални работи Скопје", country="MK", city="Скопје")
    make.organisation(name="Udruženje Žene za žene", country="BA")

    def names(q: str) -> list[str]:
        return org_names(client.get("/admin/organisations", query_string={"q": q}).get_data(as_text=True))

    assert names("Центар") == ["Центар за социјални работи Скопје"]
    assert names("ЦЕНТАР") == ["Центар за социјални работи Скопје"]
    assert names("Žene") == ["Udruženje Žene za žene"]


def test_duplicate_non_ascii_organisation_name_is_refused_at_the_field(
    app: Flask, client: FlaskClient, admin: dict, make: Factory
) -> None:
    """The case-insensitive duplicate check must hold for Cyrillic names too."""
    make.organisation(name="Центар за социјални работи", country="MK", city="Скопје")
    response = post_form(
        client,
        "/admin/organisations/new",
        {"name": "ЦЕНТАР ЗА СОЦИЈАЛНИ РАБОТИ", "kind": "social_welfare", "country": "MK", "city": "Скопје"},
    )
    assert response.status_code == 400
    assert field_errors(response.get_data(as_text=True), "name") == [
        "An organisation with this name already exists in this country."
    ]
    assert count(app, Organisation) == 1


def test_other_lists_page_and_search(client: FlaskClient, admin: dict, make: Factory) -> None:
    """Users, programmes, grants and the audit log share the paging and search."""
    for n in range(12):
        make.user(email=f"person{n:02d}@example.org", name=f"Person {n:02d}")
    make.grant()

    def rows(path: str, pattern: str) -> int:
        response = client.get(path)
        assert response.status_code == 200, path
        return len(re.findall(pattern, response.get_data(as_text=True)))

    user_row = r'<a href="/admin/users/\d+/edit">'
    assert rows("/admin/users", user_row) == 10
    assert rows("/admin/users?page=2", user_row) == 3  # 12 people and the admin
    assert rows("/admin/users?q=PERSON0", user_row) == 10
    assert rows("/admin/users?q=person11%40example", user_row) == 1
    assert rows("/admin/grants?q=ref-", r'<a href="/admin/grants/\d+">') == 1
    assert rows("/admin/programmes?q=programme", r'<a href="/admin/programmes/\d+/edit">') == 1
    verb_cell = r"<td><code>user\.login</code></td>"
    assert rows("/admin/audit?q=LOGIN", verb_cell) == 1  # the admin's own sign-in
    assert rows("/admin/audit?q=no-such-verb", verb_cell) == 0


# --- 4. malformed ids and inputs never cause a 500 ------------------------------------------------------


def test_malformed_urls_are_404_or_page_one(client: FlaskClient, admin: dict, make: Factory) -> None:
    """Unknown or non-numeric ids are 404; odd query strings still render."""
    grant_id = make.grant()
    cases = {
        "/admin/users/999999/edit": 404,
        "/admin/users/abc/edit": 404,
        "/admin/users/-1/edit": 404,
        "/admin/organisations/999999/edit": 404,
        "/admin/programmes/999999/edit": 404,
        "/admin/grants/999999": 404,
        "/admin/grants/999999/edit": 404,
        "/admin/grants/1e3": 404,
        f"/admin/grants/{grant_id}": 200,
        "/admin/users?q=" + "x" * 3000: 200,
        "/admin/audit?page=abc&q=%25%25": 200,
    }
    got = {path: client.get(path).status_code for path in cases}
    assert got == cases


def test_malformed_posts_get_messages_not_500(app: Flask, client: FlaskClient, admin: dict, make: Factory) -> None:
    """Bad ids and values in forms are answered with 400 and a message at the field, and save nothing."""
    grant_id = make.grant()
    with app.app_context():
        grant = db.session.get(Grant, grant_id)
        programme_id, holder_id = grant.programme_id, grant.holder_id
    good_grant = {
        "programme_id": str(programme_id),
        "reference": "NEW-1",
        "title": "T",
        "holder_id": str(holder_id),
        "country": "BA",
    }
    good_org = {"name": "Probation Office", "kind": "probation", "country": "BA", "city": ""}
    cases: list[tuple[str, dict[str, str], str]] = [
        ("/admin/grants/new", {**good_grant, "programme_id": "abc"}, "programme_id"),
        ("/admin/grants/new", {**good_grant, "programme_id": "999999"}, "programme_id"),
        ("/admin/grants/new", {**good_grant, "holder_id": ""}, "holder_id"),
        ("/admin/grants/new", {**good_grant, "country": "ZZ"}, "country"),
        ("/admin/grants/new", {**good_grant, "starts_on": "2021-02-30"}, "starts_on"),
        ("/admin/organisations/new", {**good_org, "kind": "bogus"}, "kind"),
        ("/admin/organisations/new", {**good_org, "name": "   "}, "name"),
        ("/admin/organisations/new", {**good_org, "name": "x" * 201}, "name"),
        ("/admin/users/new", {"name": "X", "email": "not-an-email", "role": "member"}, "email"),
        ("/admin/users/new", {"name": "X", "email": "x@example.org", "role": "root"}, "role"),
        (
            "/admin/users/new",
            {"name": "X", "email": "x@example.org", "role": "member", "organisation_id": "abc"},
            "organisation_id",
        ),
        (f"/admin/grants/{grant_id}", {"email": "not an email"}, "email"),
    ]
    for path, data, field_name in cases:
        response = post_form(client, path, data)
        assert response.status_code == 400, (path, data)
        assert field_errors(response.get_data(as_text=True), field_name), (path, data)
    assert count(app, Grant) == 1
    assert count(app, Organisation) == 1  # only the grant's holder
    assert count(app, User) == 1


def test_nul_characters_are_refused_not_a_500(app: Flask, client: FlaskClient, admin: dict) -> None:
    """A pasted U+0000 in a search box or a text field is bad input: answered with 400, nothing saved.

    (PostgreSQL refuses NUL in text; without the check this was a 500 there.)
    """
    for path in ("/admin/organisations?q=%00", "/admin/users?q=a%00b"):
        response = client.get(path)
        assert response.status_code == 400
        assert "not allowed (NUL)" in response.get_data(as_text=True)
    response = post_form(
        client,
        "/admin/organisations/new",
        {"name": "Centre\x00 for Social Work", "kind": "ngo", "country": "BA", "city": ""},
    )
    assert response.status_code == 400
    assert count(app, Organisation) == 0


def test_post_to_unknown_objects(app: Flask, client: FlaskClient, admin: dict, make: Factory) -> None:
    """State-changing routes on missing objects answer 404 (or a flash message), never 500."""
    grant_id = make.grant()
    token = csrf_token(client, "/")
    assert client.post("/admin/users/999999/active", data={"csrf_token": token, "active": "0"}).status_code == 404
    assert client.post("/admin/users/999999/invite", data={"csrf_token": token}).status_code == 404
    assert client.post("/admin/grants/999999/team/1/remove", data={"csrf_token": token}).status_code == 404
    response = client.post(f"/admin/grants/{grant_id}/team/999999/remove", data={"csrf_token": token})
    assert response.status_code == 302
    assert "This person is not on the team." in client.get(response.headers["Location"]).get_data(as_text=True)
    assert audit(app, "grant.team.remove") == []

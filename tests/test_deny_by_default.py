"""Deny by default, proven over every route of ``app.url_map`` (issue 22, point 7).

The route tables of the role matrices (tests/test_admin.py, test_forum_permissions.py,
test_action_permissions.py, test_notify_routes.py, test_reviews.py, test_api_routes.py and
the small table below) say what each role gets on each route; this file proves what holds
for *every* route, without a table to forget a row in:

- every endpoint is on ``PUBLIC`` (with a reason) or refused to an anonymous visitor;
- every endpoint not on ``PUBLIC`` or ``SIGNED_IN`` (open to any signed-in person, with a
  reason) is refused to a participant of another grant's forum, and every route that names
  an object is refused to an organiser of another grant (objects of a second grant);
- the JSON API answers 401 to a browser session without a token;
- a GET of every route, as every role, changes no row (``ALLOWED_GET_WRITES`` lists the
  exceptions, each with its reason);
- every POST refuses a missing and a foreign (another session's) CSRF token, changing nothing.

A new route fails here until it is classified. The failure message says how.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from forum_app.api.models import ApiToken
from forum_app.api.tokens import TokenInput, create_token
from forum_app.auth.sessions import WRITTEN_ON_READ
from forum_app.core import audit
from forum_app.extensions import db
from forum_app.meetings import day
from forum_app.models import (
    APPEND_ONLY,
    AuditEvent,
    Base,
    Forum,
    ForumMember,
    Grant,
    Meeting,
    OutboxMessage,
    User,
    UserSession,
)

from .conftest import csrf_token, sign_in
from .factories import Factory
from .routes import outcome

# --- the one list of public endpoints ------------------------------------------------------------

PUBLIC: dict[str, str] = {
    "static": "CSS, JavaScript and images; no data",
    "core.healthz": "the load balancer's health check; answers 'ok' and nothing else",
    "core.privacy": "the privacy notice must be readable before signing in",
    "core.choose_language": "the language of the login page; stored in the session only",
    "auth.login": "signing in",
    "auth.request_reset": "asking for a reset link; answers the same for every address",
    "auth.reset_password": "the signed, expiring token in the URL is the credential",
    "auth.set_password": "the signed, expiring token in the URL is the credential",
    "actions.confirm": "an action owner's emailed link; the signed token in the URL is the credential",
    "notifications.rsvp": "an invitee's emailed link; the signed token in the URL is the credential",
    "notifications.unsubscribe": "an emailed link (RFC 8058 one-click); the signed token is the credential",
    "calendar.personal_feed": "a calendar app's subscription; the secret feed token is the credential",
    "calendar.forum_feed": "a calendar app's subscription; the secret feed token is the credential",
    "api-docs.openapi_json": "the API's description; no data",
    "auth.second_factor_code": "a step of signing in: the password was given, the code is asked before the"
    " session starts (without a pending sign-in it sends the visitor to the login page)",
    "auth.second_factor_enrol": "a step of signing in: a person whose role requires a second factor sets it up"
    " before the session starts (without a pending sign-in it sends the visitor to the login page)",
    "news.index": "the programme's public news: published items only (news.queries)",
    "news.item": "a published news item is public; a draft is refused to all but its author and admins"
    " (permissions.can_view_news)",
    "news.feed": "the Atom feed of the programme's public news: published items only",
}

# Open to any signed-in person: each shows or changes only that person's own things.
SIGNED_IN: dict[str, str] = {
    "home.index": "the person's own dashboard",
    "account.profile": "the person's own profile",
    "account.calendar_feed": "the person's own feed token",
    "account.new_api_token": "the person's own API tokens",
    "auth.change_password": "the person's own password",
    "auth.logout": "the person's own session",
    "actions.mine": "the person's own actions",
    "calendar.month": "the meetings the person is invited to",
    "forums.index": "the forums the person may see (filtered by permissions.visible_forums)",
    "auth.reauth": "the person's own password asked again before a sensitive step; it changes only when"
    " their own session last authenticated",
    "account.end_all_sessions": 'the person\'s own sessions ("sign out everywhere", this one included)',
    "account.end_other_sessions": "the person's own sessions other than this one",
    "account.export": "the person's own data (their right of access), after the password is asked again",
    "auth.second_factor_settings": "the person's own second factor",
    "auth.regenerate_recovery_codes": "the person's own recovery codes",
    "auth.disable_second_factor": "the person's own second factor",
}

# The API authenticates each request by its token (forum_app/api/views.py ``authenticate``).
API_PREFIX = "api."

HOW_TO_FIX = """
A route must be guarded or declared public. For {what}:
  - a page for signed-in people: call ``require_sign_in(bp)`` on its blueprint (forum_app/core/actor.py)
    or decorate the view with ``@login_required``;
  - a page about an object: load it with the permissions loaders (``permissions.load_forum``,
    ``load_meeting``, ``load_action``…) or refuse with ``permissions.require(...)`` /
    ``require_visible(...)`` (forum_app/permissions/enforce.py);
  - a page any signed-in person may open (their own things only): add it to SIGNED_IN in
    tests/test_deny_by_default.py with the reason;
  - a public page (a signed link, a feed, a health check): add it to PUBLIC there, with the reason.
If its URL has a new placeholder, give it a value in ``params`` in that file.
"""


# --- two grants, each with everything a route can name ----------------------------------------


def _side(make: Factory, forum: int, organiser: str, member: str) -> dict[str, Any]:
    """Objects of every kind in ``forum``: route placeholders → ids."""
    meeting = make.meeting(forum, agenda_md="1. Opening\n2. Review")
    invitation = make.invite(meeting, member)
    held = make.meeting(forum, state="held", starts_in_days=-7, agenda_md="1. Review")
    make.invite(held, member)
    make.minutes(held, versions=2, state="circulated")
    walk_in = make.walk_in(held)
    action = make.action(forum, member, meeting_id=held)
    document = make.document(forum, meeting_id=held)
    sign_in(make.app.test_client(), member)  # a session of the member's own, which the sessions routes name
    with make.app.app_context():
        grant_id, programme_id = db.session.execute(
            select(Grant.id, Grant.programme_id).join(Forum, Forum.grant_id == Grant.id).where(Forum.id == forum)
        ).one()
    news_id = make.news_item(grant_id, organiser)
    indicator_id = make.indicator(programme_id)
    with make.app.app_context():
        member_user = db.session.execute(select(User).where(User.email == member)).scalar_one()
        _, _secret = create_token(member_user, TokenInput(name="script", can_write=True))
        db.session.commit()
        token_id = db.session.execute(select(ApiToken.id).where(ApiToken.user_id == member_user.id)).scalar_one()
        grant = db.session.get(Forum, forum).grant
        organiser_user = db.session.execute(select(User).where(User.email == organiser)).scalar_one()
        held_meeting = db.session.get(Meeting, held)
        item_id = day.add_item(organiser_user, held_meeting, "Housing").id
        # A confidential item: its organisers' and those present's pages show it in full, and audit the read.
        secret = day.add_item(organiser_user, held_meeting, "Release plan")
        day.save_item(
            organiser_user,
            secret,
            day.ItemInput(title="Release plan", notes_md="Discussed", decisions=[], confidential=True),
            day.ItemInput.of(secret).values(),
        )
        message = OutboxMessage(
            kind="test", to_addr=member, to_user=member_user, subject="S", body_text="B", status="failed"
        )
        db.session.add(message)
        db.session.commit()
        session_id = db.session.execute(
            select(UserSession.id).where(UserSession.user_id == member_user.id).order_by(UserSession.id.desc())
        ).scalar_one()
        return {
            "forum_id": forum,
            "document_id": document,
            "news_id": news_id,
            "indicator_id": indicator_id,
            "session_id": session_id,
            "meeting_id": meeting,
            "held_id": held,
            "item_id": item_id,
            "invitation_id": invitation,
            "walk_in_id": walk_in,
            "member_id": db.session.execute(
                select(ForumMember.id).where(ForumMember.forum_id == forum, ForumMember.user_id == member_user.id)
            ).scalar_one(),
            "action_id": action,
            "grant_id": grant.id,
            "programme_id": grant.programme_id,
            "org_id": grant.holder_id,
            "user_id": member_user.id,
            "token_id": token_id,
            "message_id": message.id,
        }


@pytest.fixture
def grants(app: Flask, make: Factory) -> dict[str, Any]:
    return build_grants(make)


def build_grants(make: Factory) -> dict[str, Any]:
    """The world's two grants, each with objects of every kind (``own``: the first's, ``other``: the second's)."""
    w = make.world()
    w["other_organiser"] = make.user()
    w["other_member"] = make.user()
    make.add_to_team(w["other_grant"], w["other_organiser"])
    make.add_member(w["other_forum"], w["other_member"])
    w["own"] = _side(make, w["forum"], w["organiser"], w["participant"])
    w["other"] = _side(make, w["other_forum"], w["other_organiser"], w["other_member"])
    return w


HELD_MEETING_WORDS = ("minutes", "walk-ins", "decisions", "items", "during", "attendance", "follow-up")


def params(side: dict[str, Any], rule) -> dict[str, Any]:
    """A value for every placeholder of ``rule``: ids of ``side``'s objects, fixed words otherwise."""
    fixed = {
        "token": "forged-0123456789abcdef0123456789abcdef",
        "filename": "css/app.css",
        "number": 1,
        "what": "meetings",
        "fmt": "csv",
        "object_type": "meeting",
    }
    values: dict[str, Any] = {}
    for name in rule.arguments:
        if name == "object_id":
            values[name] = side["meeting_id"]
        elif name == "meeting_id" and any(word in rule.rule for word in HELD_MEETING_WORDS):
            values[name] = side["held_id"]  # minutes, walk-ins, items and decisions belong to the held meeting
        elif name in side:
            values[name] = side[name]
        elif name in fixed:
            values[name] = fixed[name]
        else:
            pytest.fail(f"{rule.rule}: no value for <{name}>." + HOW_TO_FIX.format(what=rule.endpoint))
    return values


def path_of(app: Flask, rule, side: dict[str, Any]) -> str:
    with app.test_request_context():
        adapter = app.url_map.bind("forum.test")
        return adapter.build(rule.endpoint, params(side, rule), method=sorted(rule.methods - {"HEAD", "OPTIONS"})[0])


def every_route(app: Flask) -> Iterator[tuple[str, Any]]:
    """(method, rule) for every route and method the app answers (HEAD and OPTIONS follow GET)."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, rule


def request(client: FlaskClient, method: str, path: str, token: str | None):
    if method == "GET":
        return client.get(path)
    return client.post(path, data={"csrf_token": token} if token else {})


def _token(client: FlaskClient) -> str:
    return csrf_token(client, "/account")


# --- every route is public or guarded --------------------------------------------------------------


def test_every_route_is_public_or_refused_to_anonymous_visitors(app: Flask, grants) -> None:
    client = app.test_client()
    problems = []
    for method, rule in every_route(app):
        endpoint = rule.endpoint
        # A POST carries a valid token (asked for anew: a public POST before it may have ended the session),
        # so that the sign-in check, not the CSRF check, is what refuses it.
        token = csrf_token(client, "/login") if method == "POST" else None
        response = request(client, method, path_of(app, rule, grants["other"]), token)
        got = outcome(response)
        if endpoint.startswith(API_PREFIX):
            if got != 401:
                problems.append(f"{method} {rule.rule} ({endpoint}): the API answered {got} without a token")
        elif endpoint in PUBLIC:
            assert PUBLIC[endpoint].strip(), endpoint
        elif got != "login":
            problems.append(f"{method} {rule.rule} ({endpoint}): an anonymous visitor got {got}, not the login page")
    assert not problems, "\n".join(problems) + HOW_TO_FIX.format(what="each route above")


def _refused(got: int | str) -> bool:
    return got in (403, 404)


def test_every_route_is_refused_to_people_without_rights_on_another_grant(app: Flask, grants) -> None:
    """As a participant of the first grant's forum (no team role) and as the first grant's organiser, on
    objects of the second grant: every route not public or open to all signed-in people is refused."""
    probes = {
        "participant of another forum": sign_in(app.test_client(), grants["participant"]),
        "organiser of another grant": sign_in(app.test_client(), grants["organiser"]),
    }
    tokens = {name: _token(client) for name, client in probes.items()}
    problems, tried = [], 0
    for method, rule in every_route(app):
        endpoint = rule.endpoint
        if endpoint in PUBLIC or endpoint in SIGNED_IN or endpoint.startswith(API_PREFIX):
            continue
        path = path_of(app, rule, grants["other"])
        names_an_object = bool(set(rule.arguments) - {"what", "fmt", "filename"})
        for name, client in probes.items():
            if name == "organiser of another grant" and not names_an_object:
                continue  # the organiser's role may open object-free pages (a new forum, reports of their grant)
            got = outcome(request(client, method, path, tokens[name]))
            tried += 1
            if not _refused(got):
                problems.append(f"{method} {path} ({endpoint}) as {name}: {got}, not 403/404")
    assert tried >= 100, tried
    assert not problems, "\n".join(problems) + HOW_TO_FIX.format(what="each route above")


def test_the_api_ignores_a_signed_in_browser_session(app: Flask, grants) -> None:
    """The API takes only a bearer token: a browser's session cookie (which a forged page could ride,
    with no CSRF token) is not enough, for reads and for writes."""
    client = sign_in(app.test_client(), grants["admin"])
    got = {
        f"{method} {rule.rule}": outcome(request(client, method, path_of(app, rule, grants["own"]), None))
        for method, rule in every_route(app)
        if rule.endpoint.startswith(API_PREFIX)
    }
    assert len(got) >= 10
    assert got == dict.fromkeys(got, 401)


def test_every_endpoint_is_classified_once(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert set(PUBLIC) <= endpoints, f"PUBLIC names endpoints that no longer exist: {set(PUBLIC) - endpoints}"
    assert set(SIGNED_IN) <= endpoints, f"SIGNED_IN names endpoints that no longer exist: {set(SIGNED_IN) - endpoints}"
    assert not set(PUBLIC) & set(SIGNED_IN)
    assert all(reason.strip() for reason in [*PUBLIC.values(), *SIGNED_IN.values()])


# --- a GET changes no row --------------------------------------------------------------------------

# (table, column) a GET may change, each with its reason. Anything else written by a GET fails.
ALLOWED_GET_WRITES: dict[tuple[str, str], str] = {
    ("user_session", "last_seen_at"): "the sessions list shows each session's last use: a request refreshes it"
    " at most every SESSION_LAST_SEEN_MINUTES (auth.sessions.note_use)",
}


def test_the_allowed_get_writes_are_the_apps_own_list() -> None:
    """The app documents what a read may write (auth.sessions, core.audit); the crawl allows exactly that."""
    assert set(ALLOWED_GET_WRITES) == {WRITTEN_ON_READ}
    assert set(ALLOWED_GET_AUDIT) == audit.APPENDED_ON_READ
    assert APPEND_ONLY[AuditEvent] == SEAL_COLUMNS


CRAWL_ROLES = ["anonymous", "admin", "staff", "organiser", "participant", "observer", "outsider"]


def snapshot(app: Flask) -> dict[tuple[str, str], list[tuple]]:
    """Every table's rows, column by column: {(table, column): values in primary-key order}."""
    out: dict[tuple[str, str], list[tuple]] = {}
    with app.app_context():
        for table in Base.metadata.sorted_tables:
            rows = db.session.execute(select(table).order_by(*table.primary_key.columns)).all()
            for index, column in enumerate(table.columns):
                out[(table.name, column.name)] = [
                    (tuple(row[: len(table.primary_key.columns)]), row[index]) for row in rows
                ]
        db.session.remove()
    return out


# The audit entries a GET may append (and so move the chain's head), each with its reason; any other audit
# entry is a change. The app names the same set in core.audit.APPENDED_ON_READ (test_the_allowed_get_writes_are_the_apps_own_list).
ALLOWED_GET_AUDIT: dict[str, str] = {
    "access.denied": "a refused request is a security event (web.audit_denied)",
    "report.export": "who took which figures out of the app (reports.export), though it changed nothing",
    "document.download": "who read which file (documents.download): a document can hold a confidential discussion",
    "meeting.confidential.read": "who read a confidential item in full (meetings.confidential.after_reading)",
}
AUDIT_TABLES = {"audit_event", "audit_chain_head"}
# Filled in once, from empty, when core.audit.seal chains an entry (chain version 2 also salts and digests its
# personal data then): the columns models.APPEND_ONLY lets change on an audit entry.
SEAL_COLUMNS = {"seq", "hash", "prev_hash", "personal_salt", "personal_digest"}


def changed(before, after) -> set[tuple[str, str]]:
    keys = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
    out = {key for key in keys if key[0] not in AUDIT_TABLES} - set(ALLOWED_GET_WRITES)
    old, new = before[("audit_event", "verb")], after[("audit_event", "verb")]
    appended = new[len(old) :]
    audit_keys = [key for key in keys if key[0] == "audit_event"]
    if new[: len(old)] != old or any(verb not in ALLOWED_GET_AUDIT for _, verb in appended):
        out |= {("audit_event", "verb")}
    # Entries written earlier may be sealed now (their SEAL_COLUMNS set once: core.audit.seal).
    for key in audit_keys:
        kept = after[key][: len(before[key])]
        sealed_now = key[1] in SEAL_COLUMNS and all(
            was == now or (was[1] is None and now[0] == was[0]) for was, now in zip(before[key], kept, strict=True)
        )
        if before[key] != kept and not sealed_now:
            out.add(key)
    return out


def crawl(app: Flask, client: FlaskClient, role: str, gets, headers: dict, *, each: bool) -> list[str]:
    """GET every route as ``role``; what changed. With ``each``, the tables are compared after every
    request (slow: used only to name the route once a change was seen)."""
    found, before = [], snapshot(app)
    for rule, path in gets:
        response = client.get(path, headers=headers if rule.endpoint.startswith(API_PREFIX) else {})
        assert response.status_code < 500, f"GET {path} as {role}: {response.status_code}"
        # As a WSGI server does after sending it: a streamed download (an export) keeps its request
        # context until its body is closed, and the next request would run inside it.
        response.close()
        if each:
            after = snapshot(app)
            if diff := changed(before, after):
                found.append(f"GET {path} ({rule.endpoint}) as {role} changed {sorted(diff)}")
            before = after
    if not each and (diff := changed(before, snapshot(app))):
        found.append(f"the GETs as {role} changed {sorted(diff)}")
    return found


def test_a_get_of_every_route_as_every_role_changes_no_row(app: Flask, grants) -> None:
    problems, requests = [], 0
    gets = [(rule, path_of(app, rule, grants["own"])) for method, rule in every_route(app) if method == "GET"]
    for role in CRAWL_ROLES:
        client = app.test_client() if role == "anonymous" else sign_in(app.test_client(), grants[role])
        headers = {}
        if role != "anonymous":
            with app.app_context():
                user = db.session.execute(select(User).where(User.email == grants[role])).scalar_one()
                _, secret = create_token(user, TokenInput(name="crawl", can_write=True))
                db.session.commit()
            headers = {"Authorization": f"Bearer {secret}"}

        requests += len(gets)
        if first := crawl(app, client, role, gets, headers, each=False):
            requests += len(gets)
            found = crawl(app, client, role, gets, headers, each=True)
            problems.extend(found or [f"{first[0]} once, not again"])
    assert requests >= 7 * 50, requests
    assert not problems, "\n".join(problems) + (
        "\nA GET must not change stored data. If a write is deliberate (a last-use time), add its"
        " (table, column) to ALLOWED_GET_WRITES in tests/test_deny_by_default.py with the reason."
    )
    # Each allowed audit entry was really written by some GET above (the allowances are not dead letters:
    # the fixture's confidential item, document and exports are read).
    with app.app_context():
        written = set(
            db.session.execute(select(AuditEvent.verb).where(AuditEvent.verb.in_(ALLOWED_GET_AUDIT))).scalars()
        )
    assert written == set(ALLOWED_GET_AUDIT)


# --- every POST needs this session's CSRF token ---------------------------------------------------


# POSTs that take no CSRF token, each with its reason.
CSRF_EXEMPT: dict[str, str] = {
    "notifications.unsubscribe": "RFC 8058 one-click: the mail provider POSTs without a page; the signed token"
    " in the URL is the credential, and the POST only turns an email off",
}


def test_every_post_refuses_a_missing_or_foreign_csrf_token(app: Flask, grants) -> None:
    """As an admin (who may do everything), on the first grant's objects: no token, or a token of
    another session, is refused with 400 and nothing changes (the audit log included)."""
    admin = sign_in(app.test_client(), grants["admin"])
    _token(admin)
    foreign = _token(sign_in(app.test_client(), grants["organiser"]))
    posts = [
        (rule, path_of(app, rule, grants["own"]))
        for method, rule in every_route(app)
        if method == "POST" and not rule.endpoint.startswith(API_PREFIX) and rule.endpoint not in CSRF_EXEMPT
    ]
    assert len(posts) >= 50, len(posts)
    problems = []
    before = snapshot(app)
    for rule, path in posts:
        # Non-empty forms: a route must not accept the change for a missing token because the form was empty.
        for label, token in (("no token", None), ("another session's token", foreign)):
            data = {"title": "Forged", "name": "Forged", "note": "Forged", "answer": "accepted", "locale": "de"}
            if token:
                data["csrf_token"] = token
            got = admin.post(path, data=data).status_code
            if got != 400:
                problems.append(f"POST {path} ({rule.endpoint}) with {label}: {got}, not 400")
    after = snapshot(app)
    diff = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
    assert not problems, "\n".join(problems)
    assert not diff, f"forged POSTs changed {sorted(diff)}"


def test_the_csrf_token_is_tied_to_the_session(app: Flask, grants) -> None:
    """The check above can fail: the same POST with the admin's own token goes through."""
    admin = sign_in(app.test_client(), grants["admin"])
    response = admin.post("/account", data={"csrf_token": _token(admin), "timezone": "Europe/Skopje", "locale": "en"})
    assert response.status_code == 302

"""The routes of blueprints ``calendar``, ``notifications`` and ``account`` against every role.

Links from emails and calendar feeds carry their own credential (a signed RSVP token, a
secret feed token): they answer the same whoever is signed in, and anonymous visitors
too. The meeting download and the profile need a session like every other page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask

from forum_app.calendar.feeds import regenerate_feed_token
from forum_app.extensions import db
from forum_app.models import OutboxMessage, User, UserSession
from forum_app.notifications.preferences import unsubscribe_url

from .conftest import csrf_token, sign_in
from .factories import Factory
from .routes import assert_covers, expect, fill_path, walk
from .test_notifications import rsvp_token

ROLES = ["anonymous", "admin", "staff", "organiser", "participant", "observer", "outsider"]
OK = "ok"
# Outcome by kind, for (anonymous, admin, staff, organiser, participant, observer, outsider).
KINDS: dict[str, tuple[Any, ...]] = {
    "link": (OK, OK, OK, OK, OK, OK, OK),  # the token in the URL is the credential
    # The same, answered on the page itself: a mail provider's one-click POST (RFC 8058) follows no redirect.
    "link_page": (200, 200, 200, 200, 200, 200, 200),
    "signed_in": ("login", OK, OK, OK, OK, OK, OK),
    "view": ("login", OK, OK, OK, OK, OK, 404),
    # A new API token's secret, or one's own export, is shown on the response itself, not after a redirect.
    "shown": ("login", 200, 200, 200, 200, 200, 200),
    "admin": ("login", OK, 403, 403, 403, 403, 403),
    # Another person's session: nobody can sign it out from their own account page.
    "foreign": ("login", 404, 404, 404, 404, 404, 404),
    # Signing out everywhere ends on the login page, as not being signed in does.
    "signs_out": ("login",) * 7,
}


@dataclass(frozen=True)
class Route:
    method: str
    rule: str
    kind: str
    data: dict = field(default_factory=dict, hash=False, compare=False)

    def path(self, targets: dict) -> str:
        # Three kinds of token share the name: the RSVP and unsubscribe routes take their own.
        for prefix in ("rsvp", "unsubscribe"):
            if self.rule.startswith(f"/{prefix}/"):
                return fill_path(self.rule, {**targets, "token": targets[prefix]})
        return fill_path(self.rule, targets)

    def post_data(self, targets: dict) -> dict[str, str]:
        return dict(self.data)

    def __str__(self) -> str:
        return f"{self.method} {self.rule}"


ROUTES = [
    Route("GET", "/calendar", "signed_in"),
    Route("GET", "/meetings/<int:meeting_id>.ics", "view"),
    Route("GET", "/calendar/<token>.ics", "link"),
    Route("GET", "/calendar/<token>/forums/<int:forum_id>.ics", "link"),
    Route("GET", "/rsvp/<token>", "link"),
    Route("POST", "/rsvp/<token>", "link", {"answer": "accepted"}),
    Route("GET", "/unsubscribe/<token>", "link_page"),
    Route("POST", "/unsubscribe/<token>", "link_page", {"List-Unsubscribe": "One-Click"}),
    Route("GET", "/outbox", "admin"),
    Route("POST", "/outbox/<int:message_id>/retry", "admin"),
    Route("GET", "/account", "signed_in"),
    Route("POST", "/account", "signed_in", {"timezone": "Europe/Skopje", "locale": "en"}),
    Route("POST", "/account/calendar-feed", "signed_in"),
    Route("POST", "/account/api-tokens", "shown", {"name": "Script"}),
    # One's own export (issue 22): the readable page is the response itself.
    Route("POST", "/account/export", "shown", {"format": "html"}),
    Route("POST", "/account/api-tokens/<int:token_id>/revoke", "signed_in"),
    Route("POST", "/account/sessions/<int:session_id>/end", "foreign"),
    Route("POST", "/account/sessions/end-others", "signed_in"),
    Route("POST", "/account/sessions/end-all", "signs_out"),  # last: it signs the walker out
]


def test_route_table_covers_every_rule(app: Flask) -> None:
    assert_covers(app, [r for r in ROUTES], "calendar", "notifications", "account", at_least=7)


def expected_outcome(role: str, route: Route) -> Any:
    result = KINDS[route.kind][ROLES.index(role)]
    if result == OK:
        return 200 if route.method == "GET" else 302
    return result


@pytest.mark.parametrize("role", ROLES)
def test_routes_by_role(app: Flask, make: Factory, role: str) -> None:
    w = make.world()
    meeting_id = make.meeting(w["forum"], state="scheduled", starts_in_days=7)
    rsvp = rsvp_token(app, make.invite(meeting_id, w["participant"]))
    bystander_id = make.user_id(make.user())
    with app.app_context():
        participant = db.session.execute(db.select(User).where(User.email == w["participant"])).scalar_one()
        token = regenerate_feed_token(participant)
        db.session.commit()
        message = OutboxMessage(
            kind="invitation", to_addr="someone@example.org", subject="Invitation", body_text="Hello"
        )
        db.session.add(message)
        db.session.commit()
        message_id = message.id
        foreign = UserSession(user_id=bystander_id, token_hash="f" * 64)
        db.session.add(foreign)
        db.session.commit()
        session_id = foreign.id
        unsubscribe = urlsplit(unsubscribe_url(participant, "minutes_notices", "en")).path.rsplit("/", 1)[1]
    targets = {
        "meeting_id": meeting_id,
        "forum_id": w["forum"],
        "token": token,
        "rsvp": rsvp,
        "unsubscribe": unsubscribe,
        "token_id": 1,
        "message_id": message_id,
        "session_id": session_id,
    }
    client = app.test_client()
    if role != "anonymous":
        sign_in(client, w[role])
    # The RSVP page carries its own CSRF token for people who are not signed in.
    form_token = csrf_token(client, f"/rsvp/{rsvp}")
    got = walk(client, ROUTES, targets, form_token)
    assert got == expect(ROUTES, lambda r: expected_outcome(role, r))

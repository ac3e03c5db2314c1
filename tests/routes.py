"""The route-table runner shared by the permission matrices (admin, forums and meetings).

A table lists every route of some blueprints with the data a POST needs; the runner
walks it as one person and returns what each route answered, so a test compares the
whole table in one assertion and a mismatch report names every failing route at once.
POSTs send what a browser would: the CSRF token and the form's hidden ``loaded`` values
(the "no lost edits" baseline) when the route's page has a form that carries them.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from flask import Flask
from flask.testing import FlaskClient

LOADED_RE = re.compile(r'name="loaded" type="hidden" value="([^"]*)"|name="loaded" value="([^"]*)"')


class TableRoute(Protocol):
    method: str
    rule: str

    def path(self, targets: Any) -> str: ...

    def post_data(self, targets: Any) -> dict[str, str]: ...


@dataclass
class TargetIds:
    """Ids of the objects a route table acts on, by name; subclasses read versions when a request is made."""

    app: Flask
    ids: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.ids[key]


def acting_as(role: str, forum: str | None) -> str:
    """The role ``role`` plays towards objects of ``forum`` ("forum", "other_forum", or None for no forum).

    Admins and staff are themselves everywhere; an organiser of another grant is an outsider to
    the forum and the organiser of the other forum; with no particular forum any organiser is one.
    """
    if role in ("admin", "staff"):
        return role
    if forum is None:
        return "organiser" if role == "other_organiser" else role
    if forum == "forum":
        return "outsider" if role == "other_organiser" else role
    return "organiser" if role == "other_organiser" else "outsider"


def outcome(response) -> int | str:
    """The status, or "login" for a redirect to the login page."""
    if response.status_code == 302 and response.headers["Location"].startswith("/login"):
        return "login"
    return response.status_code


def fill_path(rule: str, targets: Any) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(targets[m.group(1)]), rule)


def loaded_values(client: FlaskClient, path: str) -> dict[str, str]:
    """The hidden ``loaded`` field of the form at ``path``, if this person can open it."""
    response = client.get(path)
    if response.status_code != 200:
        return {}
    match = LOADED_RE.search(response.get_data(as_text=True))
    return {"loaded": html.unescape(match.group(1) or match.group(2) or "")} if match else {}


def walk(client: FlaskClient, routes: Iterable[TableRoute], targets: Any, token: str) -> dict[str, int | str]:
    """Request every route in order as the client's person; {str(route): outcome}."""
    routes = list(routes)
    form_pages = {r.rule for r in routes if r.method == "GET"}
    got: dict[str, int | str] = {}
    for route in routes:
        path = route.path(targets)
        if route.method == "GET":
            response = client.get(path)
        else:
            data = route.post_data(targets)
            if "loaded" not in data and route.rule in form_pages:
                data = {**loaded_values(client, path), **data}
            response = client.post(path, data={**data, "csrf_token": token})
        got[str(route)] = outcome(response)
    return got


def registered_routes(app: Flask, *blueprints: str) -> set[tuple[str, str]]:
    """(method, rule) of every route of ``blueprints``: what a route table must cover."""
    return {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.split(".", 1)[0] in blueprints
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def assert_covers(app: Flask, routes: Iterable[TableRoute], *blueprints: str, at_least: int = 1) -> None:
    """A new route (or method) of ``blueprints`` without a row in the table fails here."""
    registered = registered_routes(app, *blueprints)
    assert len(registered) >= at_least, f"the {blueprints} blueprints lost their routes?"
    assert {(r.method, r.rule) for r in routes} == registered


def expect(routes: Iterable[TableRoute], expected: Callable[[Any], int | str]) -> dict[str, int | str]:
    return {str(r): expected(r) for r in routes}

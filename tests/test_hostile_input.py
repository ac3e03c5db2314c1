"""Hostile input, generated (issue 22, point 8): every form field of every form, every JSON field of the API.

The forms are not listed by hand: every GET route is opened as an administrator and as an
organiser (on the objects of tests/test_deny_by_default.py's two grants) and every
``<form method="post">`` on the pages is collected with its fields. Hypothesis then fills the
fields with text in Cyrillic, Albanian, right-to-left scripts, with NUL, CRLF, lone surrogates
(sent as the invalid UTF-8 a broken client would send) and up to 1 MB, and posts the form as
the browser would (fresh CSRF, ``loaded`` and one-time tokens). The API's JSON fields come from
its OpenAPI document. Every answer must be below 500; a NUL is refused (400; in the API with
the field named); nothing stored is longer than its column allows; 20 MB is refused with 413.

Deterministic: ``derandomize=True`` and no example database, so CI sees the same inputs each run.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import String, select

from forum_app.api.tokens import TokenInput, create_token
from forum_app.extensions import db
from forum_app.models import Base, User

from .conftest import sign_in
from .factories import Factory
from .test_deny_by_default import build_grants, every_route, path_of

ONE_MB = 1024 * 1024
SAMPLES = [
    "Осуѓеникот се врати дома; Затвор Идризово, Скопје",  # Macedonian Cyrillic
    "Ђорђе Љубичић, Завод за извршење кривичних санкција",  # Serbian Cyrillic
    "Ç'kemi bërë për të burgosurit në Dubravë? Përshëndetje, ëndërr",  # Albanian
    "مرحبا بالعالم — שלום עולם \u202eevil\u202c",  # right-to-left, with an override
    "line one\r\nline two\rthree\nfour",  # CRLF and friends
    "name\x00injected",  # NUL
    "lone \ud800 surrogate \udfff here",  # not encodable: sent as invalid UTF-8
    "<script>alert(1)</script>\"'><img src=x onerror=alert(1)>",
    "' OR 1=1 --; DROP TABLE user_account;",
    "{{7*7}} {% raw %}${7*7}",
    "\u200b\u200d\ufeff zero widths",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🙂👍🏽 combining: a\u0301\u0301\u0301",
    "",
    " " * 300,
    "9" * 40,
    "x" * 10_001,
    "Ж" * ONE_MB,  # 1 MB of characters (2 MB of UTF-8: the whole request is then too large)
    "a" * (ONE_MB // 2),
]
text = st.one_of(
    st.sampled_from(SAMPLES),
    st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=300),
    st.lists(st.sampled_from(SAMPLES[:12]), min_size=1, max_size=4).map("".join),
)

# Hidden fields a browser sends back as they came: the tokens and the values a form was opened with.
KEPT = re.compile(r"(^|-)(csrf_token|loaded|form_once|version|base_revision|next)$")
# Forms left out, with the reason.
SKIPPED_ACTIONS = {
    "/logout": "ends the session the rest of the run needs",
}


@dataclass
class Form:
    page: str
    action: str
    fields: dict[str, str] = field(default_factory=dict)  # name -> value on the page
    kinds: dict[str, str] = field(default_factory=dict)  # name -> input type ("textarea", "select", …)

    @property
    def key(self) -> tuple[str, tuple[str, ...]]:
        # One form per (route, field names): the same form on many objects is fuzzed once.
        return (re.sub(r"\d+", "N", self.action), tuple(sorted(re.sub(r"\d+", "N", n) for n in self.fields)))

    @property
    def fuzzed(self) -> list[str]:
        return [n for n, kind in self.kinds.items() if kind not in ("hidden", "submit") or not KEPT.search(n)]


class FormParser(HTMLParser):
    def __init__(self, page: str):
        super().__init__()
        self.page, self.forms, self.form, self.select = page, [], None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "get").lower() == "post":
            self.form = Form(self.page, html.unescape(a.get("action") or self.page))
            self.forms.append(self.form)
        elif self.form is None or not a.get("name"):
            return
        elif tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a and a["name"] in self.form.fields:
                return
            self.form.fields[a["name"]] = html.unescape(a.get("value") or "")
            self.form.kinds[a["name"]] = kind
        elif tag in ("textarea", "select"):
            self.form.fields[a["name"]] = ""
            self.form.kinds[a["name"]] = tag
            self.select = a["name"] if tag == "select" else None
        elif tag == "button" and a.get("value") is not None:
            self.form.fields[a["name"]] = html.unescape(a["value"])
            self.form.kinds[a["name"]] = "submit"

    def handle_data(self, data):
        if self.form is not None and self.lasttag == "textarea":
            name = next(reversed(self.form.kinds))
            if self.form.kinds[name] == "textarea":
                self.form.fields[name] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.form = None
        if tag == "select":
            self.select = None


def forms_on(client: FlaskClient, path: str) -> list[Form]:
    response = client.get(path)
    if response.status_code != 200 or response.mimetype != "text/html":
        return []
    body = response.get_data(as_text=True)
    parser = FormParser(urlsplit(path).path)
    parser.feed(body)
    # A select's first offered value (HTMLParser gives options as start tags too).
    for form in parser.forms:
        for name, kind in form.kinds.items():
            if kind == "select":
                match = re.search(rf'name="{re.escape(name)}"[^>]*>\s*<option[^>]*value="([^"]*)"', body)
                form.fields[name] = html.unescape(match.group(1)) if match else ""
    return parser.forms


def collect_forms(app: Flask, grants: dict, roles=("admin", "organiser")) -> dict[str, list[Form]]:
    """{role: [every distinct POST form the role meets on any GET page]}."""
    found: dict[str, list[Form]] = {}
    gets = [path_of(app, rule, grants["own"]) for method, rule in every_route(app) if method == "GET"]
    gets = [p for p in gets if not p.startswith(("/api/", "/static/"))]
    for role in roles:
        client = sign_in(app.test_client(), grants[role])
        seen: dict[Any, Form] = {}
        for path in gets:
            for form in forms_on(client, path):
                if form.action not in SKIPPED_ACTIONS:
                    seen.setdefault(form.key, form)
        found[role] = list(seen.values())
    return found


def fresh(client: FlaskClient, form: Form) -> dict[str, str] | None:
    """The form's values as its page shows them now (new one-time token, current version); None once
    the form is gone (an earlier post removed its object)."""
    for current in forms_on(client, form.page):
        if current.key == form.key:
            return current.fields
    return None


def encoded(values: dict[str, str]) -> bytes:
    """A form body as a broken client would send it: lone surrogates as (invalid) UTF-8 bytes."""
    return urlencode([(k, v.encode("utf-8", "surrogatepass")) for k, v in values.items()]).encode("ascii")


def too_long(app: Flask) -> list[str]:
    """Stored values longer than their column allows (SQLite does not enforce VARCHAR lengths)."""
    found = []
    with app.app_context():
        for table in Base.metadata.sorted_tables:
            limited = [c for c in table.columns if isinstance(c.type, String) and c.type.length]
            for column in limited:
                longest = db.session.scalar(select(db.func.max(db.func.length(column))))
                if longest is not None and longest > column.type.length:
                    found.append(f"{table.name}.{column.name}: {longest} > {column.type.length}")
            for column in table.columns:
                # PostgreSQL cannot store a NUL in text at all (it would have been a 500, caught above).
                if not isinstance(column.type, String) or db.engine.dialect.name != "sqlite":
                    continue
                has_nul = db.session.scalar(select(db.func.count()).where(db.func.instr(column, "\x00") > 0))
                if has_nul:
                    found.append(f"{table.name}.{column.name}: a NUL was stored")
        db.session.remove()
    return found


def post_hostile(client: FlaskClient, form: Form, values: dict[str, str]):
    shown = fresh(client, form)
    if shown is None:
        return None
    data = {**shown, **values}
    return client.post(form.action, data=encoded(data), content_type="application/x-www-form-urlencoded")


def judge(form: Form, values: dict[str, str], response) -> str | None:
    """What is wrong with the answer, if anything."""
    if response is None:
        return None  # the form is no longer offered
    status = response.status_code
    if status >= 500:
        return f"{status}"
    size = len(encoded(values))
    if any("\x00" in v for v in values.values()) and size < 2 * ONE_MB and status != 400:
        return f"{status} for a NUL (want 400)"
    nul = "\x00" in "".join(values.values()) and size < 2 * ONE_MB
    if nul and status == 400 and "NUL" not in response.get_data(as_text=True):
        return "400 without saying it was the NUL"
    return None


@pytest.fixture
def two_grants(app: Flask, make: Factory) -> dict[str, Any]:
    return build_grants(make)


def fuzz_form(client: FlaskClient, label: str, form: Form, problems: list[str]) -> int:
    """Post ``form`` with generated values in every field, then with a NUL in each field alone; how many posts."""
    names = form.fuzzed
    if not names:
        return 0
    posts = 0

    @given(values=st.fixed_dictionaries({name: text for name in names}))
    @settings(max_examples=3, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    def run(values: dict[str, str]) -> None:
        nonlocal posts
        posts += 1
        problem = judge(form, values, post_hostile(client, form, values))
        if problem:
            shown = {k: (v[:40] + "…" if len(v) > 40 else v) for k, v in values.items()}
            problems.append(f"{label} POST {form.action} {shown!r}: {problem}")

    run()
    for name in names:
        values = {name: "before\x00after"}
        posts += 1
        problem = judge(form, values, post_hostile(client, form, values))
        if problem:
            problems.append(f"{label} POST {form.action} NUL in {name}: {problem}")
    return posts


@pytest.mark.slow
def test_every_form_field_survives_generated_hostile_text(app: Flask, two_grants) -> None:
    forms = collect_forms(app, two_grants)
    assert len(forms["admin"]) >= 30 and len(forms["organiser"]) >= 15, {r: len(f) for r, f in forms.items()}
    # The organiser's forms the admin also has are fuzzed once, as the admin.
    admin_keys = {form.key for form in forms["admin"]}
    forms["organiser"] = [form for form in forms["organiser"] if form.key not in admin_keys]
    problems: list[str] = []
    tried = 0
    for role, role_forms in forms.items():
        client = sign_in(app.test_client(), two_grants[role])
        for form in role_forms:
            tried += fuzz_form(client, role, form, problems)
    print(f"hostile input: {tried} form posts to {sum(len(f) for f in forms.values())} distinct forms")
    assert not problems, "\n".join(problems[:40])
    assert not too_long(app), too_long(app)


# --- the JSON API --------------------------------------------------------------------------------


def json_bodies(app: Flask) -> dict[tuple[str, str], dict[str, Any]]:
    """{(method, path template): the request body's properties} from the app's OpenAPI document."""
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    found = {}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method not in ("post", "put", "patch"):
                continue
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if body:
                name = body["$ref"].rsplit("/", 1)[1]
                found[(method.upper(), path)] = schemas[name]["properties"]
    return found


def fuzz_json(client: FlaskClient, method: str, path: str, properties: dict, headers: dict, problems: list[str]) -> int:
    strings = [name for name, spec in properties.items() if spec.get("type") == "string"]
    others = [name for name in properties if name not in strings]
    strategy = st.fixed_dictionaries(
        {name: text for name in strings},
        optional={name: st.one_of(text, st.integers(), st.booleans(), st.none()) for name in others},
    )
    sent, statuses = 0, set()

    @given(body=strategy)
    @settings(max_examples=15, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    def run(body: dict[str, Any]) -> None:
        nonlocal sent
        sent += 1
        raw = json.dumps(body, ensure_ascii=True)  # lone surrogates travel as \\udXXX escapes, as JSON allows
        response = client.open(path, method=method, data=raw, headers=headers)
        statuses.add(response.status_code)
        if response.status_code >= 500:
            problems.append(f"{method} {path} {str(body)[:200]}: {response.status_code}")
            return
        nul_fields = sorted(name for name, value in body.items() if isinstance(value, str) and "\x00" in value)
        if nul_fields and len(raw) < 2 * ONE_MB:
            errors = response.get_json().get("errors", {}) if response.is_json else {}
            if response.status_code != 400 or not set(nul_fields) <= set(errors):
                problems.append(f"{method} {path} NUL in {nul_fields}: {response.status_code} {errors}")

    run()
    # The run reached the route's validation (a missing path or token would make it prove nothing).
    assert statuses & {200, 201, 409, 422}, (method, path, statuses)
    return sent


def test_every_json_field_survives_generated_hostile_text(app: Flask, two_grants) -> None:
    bodies = json_bodies(app)
    assert len(bodies) >= 2, bodies
    with app.app_context():
        user = db.session.execute(select(User).where(User.email == two_grants["organiser"])).scalar_one()
        _, secret = create_token(user, TokenInput(name="hostile", can_write=True))
        db.session.commit()
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    client = app.test_client()
    ids = {"{meeting_id}": two_grants["own"]["meeting_id"], "{action_id}": two_grants["own"]["action_id"]}
    problems: list[str] = []
    tried = 0
    for (method, template), properties in bodies.items():
        path = template
        for placeholder, value in ids.items():
            path = path.replace(placeholder, str(value))
        tried += fuzz_json(client, method, path, properties, headers, problems)
    print(f"hostile input: {tried} API requests to {len(bodies)} operations")
    assert not problems, "\n".join(problems[:40])
    assert not too_long(app), too_long(app)

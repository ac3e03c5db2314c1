"""The people of a busy week, for Locust (run by bench/load.py: ``make load``, not by hand).

Reads the plan bench/load.py wrote (``LOAD_PLAN``): for each role, the people to sign in as,
what each may read and answer, and an API token. Every simulated person signs in once, then
reads (home, forum, meeting, calendar, My actions, the board, the dashboard), answers
invitations, records attendance, posts action updates through the API. Each request's time
is kept by kind; each write the app said it saved is counted by kind, with the marker it
carries, and both are written to ``LOAD_OUT`` when the run stops, for bench/load.py to
summarise and to check against the database.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path

from locust import HttpUser, between, events, task

PLAN = json.loads(Path(os.environ["LOAD_PLAN"]).read_text())
WAIT = [float(x) for x in os.environ.get("LOAD_WAIT", "0.2,1.0").split(",")]
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')
SAVED = "alert-success"  # the flash a saved form lands on

times: dict[str, list[float]] = defaultdict(list)
failures: dict[str, list[str]] = defaultdict(list)
confirmed: dict[str, int] = defaultdict(int)  # writes the app said it saved, by kind
refused: dict[str, int] = defaultdict(int)  # writes it refused (a conflict, a closed meeting): not errors
_next = {role: itertools.cycle(people) for role, people in PLAN["people"].items() if people}
_serial = itertools.count(1)


@events.request.add_listener
def _kept(name, response_time, exception, response, **kwargs):
    times[name].append(response_time)
    if exception is not None:
        failures[name].append(str(exception)[:200])


@events.test_stop.add_listener
def _write(environment, **kwargs):
    with open(os.environ["LOAD_OUT"], "w") as out:
        json.dump({"times": times, "failures": failures, "confirmed": confirmed, "refused": refused}, out)


class _Form(HTMLParser):
    """The fields of the first form posting to ``action``: {name: value}, and each select's choices."""

    def __init__(self, action: str):
        super().__init__()
        self.action, self.inside, self.done = action, False, False
        self.values: dict[str, str] = {}
        self.choices: dict[str, list[str]] = {}
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        # The form posting to ``action`` (written out, or left empty: this page's own address).
        if tag == "form" and not self.done and (a.get("action") or self.action).split("?")[0].endswith(self.action):
            self.inside = True
        if not self.inside:
            return
        if tag == "input" and a.get("name") and a.get("type") not in ("submit", "button", "checkbox", "radio"):
            self.values[a["name"]] = a.get("value") or ""
        elif tag == "input" and a.get("name") and a.get("type") in ("checkbox", "radio") and "checked" in a:
            self.values[a["name"]] = a.get("value") or "y"
        elif tag == "select":
            self._select = a.get("name")
            self.choices[self._select or ""] = []
            self.values.setdefault(self._select or "", "")
        elif tag == "option" and self._select:
            self.choices[self._select].append(a.get("value") or "")
            if "selected" in a:
                self.values[self._select] = a.get("value") or ""
        elif tag == "textarea" and a.get("name"):
            self.values[a["name"]] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        if tag == "form" and self.inside:
            self.inside, self.done = False, True


class Person(HttpUser):
    abstract = True
    role = ""
    wait_time = between(*WAIT)

    def on_start(self):
        self.me = next(_next[self.role])
        self.pages = dict(self.me["pages"])
        page = self.client.get("/login", name="sign in (form)")
        token = _csrf(page.text)
        with self.client.post(
            "/login",
            data={"email": self.me["email"], "password": PLAN["password"], "csrf_token": token, "next": ""},
            allow_redirects=False,
            name="sign in",
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"sign-in of {self.me['email']} answered {response.status_code}")
        self.csrf = _csrf(self.client.get("/", name="home").text)

    def _read(self, kind: str):
        if kind in self.pages:
            self.client.get(self.pages[kind], name=kind)

    @task(4)
    def home(self):
        self._read("home")

    @task(2)
    def forum(self):
        self._read("forum")

    @task(3)
    def meeting(self):
        self._read("meeting")

    @task(1)
    def calendar(self):
        self._read("calendar")

    @task(2)
    def my_actions(self):
        self._read("my actions")

    @task(1)
    def board(self):
        self._read("board")

    @task(1)
    def dashboard(self):
        self._read("dashboard")

    @task(3)
    def rsvp(self):
        if not self.me["rsvp"] or not self.csrf:
            return
        meeting_id = random.choice(self.me["rsvp"])
        data = {
            "answer": random.choice(["accepted", "tentative", "declined"]),
            "comment": f"{PLAN['marker']} {next(_serial)}",
            "csrf_token": self.csrf,
        }
        # The answer lands on the meeting page, which says whether it was recorded.
        with self.client.post(f"/meetings/{meeting_id}/rsvp", data=data, name="rsvp", catch_response=True) as r:
            _outcome(r, "rsvp", r.ok and SAVED in r.text)

    @task(2)
    def attendance(self):
        if not self.me["attendance"]:
            return
        path = f"/meetings/{random.choice(self.me['attendance'])}/attendance"
        page = self.client.get(path, name="attendance (form)")
        form = _Form(path)
        form.feed(page.text)
        marks = [name for name, options in form.choices.items() if name.endswith("value") and len(options) > 1]
        if not marks:
            return
        mark = random.choice(marks)
        form.values[mark] = random.choice([o for o in form.choices[mark] if o and o != form.values[mark]])
        with self.client.post(path, data=form.values, name="attendance (save)", catch_response=True) as r:
            # Two organisers marking the same person: the later save is refused as a conflict, the form
            # shown again with 400 (as is a form the app did not understand; the database check below
            # still catches a refused save that was written after all).
            _outcome(r, "attendance", r.ok and SAVED in r.text, refusal=r.status_code == 400)

    @task(3)
    def action_update(self):
        if not self.me["actions"] or not self.me["token"]:
            return
        headers = {"Authorization": f"Bearer {self.me['token']}"}
        action_id = random.choice(self.me["actions"])
        seen = self.client.get(f"/api/v1/actions/{action_id}", headers=headers, name="api action")
        if not seen.ok:
            return
        body = {"note": f"{PLAN['marker']} {next(_serial)}: progress this week", "version": seen.json()["version"]}
        with self.client.post(
            f"/api/v1/actions/{action_id}/updates",
            json=body,
            headers=headers,
            name="action update (api)",
            catch_response=True,
        ) as r:
            _outcome(r, "action update", r.status_code == 201, refusal=r.status_code in (409, 422))

    @task(1)
    def api_meetings(self):
        if self.me["token"]:
            self.client.get(
                "/api/v1/meetings", headers={"Authorization": f"Bearer {self.me['token']}"}, name="api list"
            )


def _csrf(html: str) -> str:
    match = CSRF_RE.search(html)
    return (match.group(1) or match.group(2)) if match else ""


def _outcome(response, kind: str, saved: bool, refusal: bool | None = None) -> None:
    """Count a saved write; a refusal the app explained (a conflict, a closed meeting) is not an error."""
    if saved:
        confirmed[kind] += 1
        response.success()
    elif refusal or (refusal is None and response.ok):
        refused[kind] += 1
        response.success()
    else:
        response.failure(f"{kind}: {response.status_code}")


class Participant(Person):
    role, weight = "participant", 4


class Organiser(Person):
    role, weight = "organiser", 2


class Staff(Person):
    role, weight = "staff", 1


class Admin(Person):
    role, weight = "admin", 1

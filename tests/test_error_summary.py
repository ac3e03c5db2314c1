"""The error summary of row-set forms (issue 21, part 7): invalid fields carry aria-invalid and point
to their messages with aria-describedby, a GOV.UK-style summary at the top links to each field, and
the page title starts with "Error:"."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from flask.testing import FlaskClient

from .conftest import sign_in
from .factories import Factory


class Page(HTMLParser):
    """The elements of a page by id, the hidden inputs of its forms, and its title."""

    def __init__(self, html: str):
        super().__init__()
        self.by_id: dict[str, dict[str, str | None]] = {}
        self.hidden: dict[str, str] = {}
        self.title = ""
        self._in_title = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.by_id[a["id"] or ""] = {"tag": tag, **a}
        if tag == "input" and a.get("type") == "hidden" and a.get("name"):
            self.hidden[a["name"]] = a.get("value") or ""
        self._in_title = tag == "title"

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data


def summary_links(html: str) -> list[str]:
    box = re.search(r'<div[^>]*id="error-summary".*?</ul>', html, re.S)
    assert box, "no error summary"
    return re.findall(r'<a href="#([^"]+)"', box.group(0))


def assert_marked(page: Page, field_id: str) -> None:
    field = page.by_id[field_id]
    assert field["aria-invalid"] == "true", field_id
    described = (field.get("aria-describedby") or "").split()
    assert described and all(i in page.by_id for i in described), f"{field_id}: {described}"


def assert_summarised(html: str, field_ids: list[str]) -> Page:
    page = Page(html)
    assert page.title.strip().startswith("Error:"), page.title
    links = summary_links(html)
    assert links == field_ids
    for field_id in links:
        assert field_id in page.by_id, f"the summary links to #{field_id}, which is not on the page"
        assert_marked(page, field_id)
    # The summary comes first in <main>, before the heading, and takes the focus (app.js; tabindex=-1).
    main = html.split('<main id="main"', 1)[1]
    assert main.index('id="error-summary"') < main.index("<h1")
    assert page.by_id["error-summary"]["tabindex"] == "-1"
    return page


def test_record_actions_form_summarises_its_row_errors(app, make: Factory):
    w = make.world()
    meeting = make.meeting(w["forum"], state="held", starts_in_days=-7)
    organiser: FlaskClient = sign_in(app.test_client(), w["organiser"])
    path = f"/meetings/{meeting}/actions/new"
    form = Page(organiser.get(path).get_data(as_text=True))
    owner = make.user_id(w["participant"])
    data = {
        **form.hidden,
        "rows-0-title": "x" * 301,
        "rows-0-owner_id": str(owner),
        "rows-1-title": "Fine",
        "rows-1-owner_id": str(owner),
        "rows-1-due_on": "not-a-date",
    }
    response = organiser.post(path, data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert_summarised(html, ["rows-0-title", "rows-1-due_on"])
    # A page without errors has neither the summary nor the prefix.
    fresh = organiser.get(path).get_data(as_text=True)
    assert 'id="error-summary"' not in fresh and not Page(fresh).title.strip().startswith("Error:")


def test_follow_up_review_summarises_its_row_errors(app, make: Factory):
    w = make.world()
    earlier = make.meeting(w["forum"], state="held", starts_in_days=-30)
    meeting = make.meeting(w["forum"], state="held", starts_in_days=-7)
    make.action(w["forum"], w["participant"], meeting_id=earlier)
    organiser = sign_in(app.test_client(), w["organiser"])
    path = f"/meetings/{meeting}/follow-up"
    form = Page(organiser.get(path).get_data(as_text=True))
    data = {**form.hidden, "rows-0-to_state": "bogus", "rows-0-note": "n" * 100_000}
    response = organiser.post(path, data=data)
    assert response.status_code == 400
    assert_summarised(response.get_data(as_text=True), ["rows-0-to_state", "rows-0-note"])


def test_a_single_record_form_gets_the_summary_too(app, make: Factory):
    """The summary is the shared one (base.html, macros.error_summary), not the row-set pages' own."""
    w = make.world()
    organiser = sign_in(app.test_client(), w["organiser"])
    path = f"/forums/{w['forum']}/meetings/new"
    form = Page(organiser.get(path).get_data(as_text=True))
    response = organiser.post(path, data={**form.hidden, "title": ""})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "title" in summary_links(html)
    assert Page(html).title.strip().startswith("Error:")

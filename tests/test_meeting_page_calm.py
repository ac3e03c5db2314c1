"""The meeting page is calmer (issue 21, part 7): dangerous buttons are quiet until confirmed, the
confirmation works without JavaScript, and on a phone a table of contents leads to each section."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from forum_app.extensions import db
from forum_app.models import Invitation, Meeting

from .conftest import csrf_token, sign_in
from .factories import Factory
from .test_error_summary import Page


def test_remove_and_cancel_are_quiet_until_confirmed(app, make: Factory):
    w = make.world()
    meeting_id = make.meeting(w["forum"], state="scheduled", starts_in_days=10)
    invitation_id = make.invite(meeting_id, w["participant"])
    organiser = sign_in(app.test_client(), w["organiser"])
    html = organiser.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    # No red button on the page until a disclosure is opened: each red one sits inside its <details>.
    outside = re.sub(r"<details.*?</details>", "", html, flags=re.S)
    assert "btn-danger" not in outside and "btn-outline-danger" not in outside
    cancel = re.search(r'<summary class="([^"]*)">Cancel the meeting', html)
    assert cancel and "btn-outline-secondary" in cancel.group(1)
    remove = re.search(rf'<details class="confirm-step" id="remove-{invitation_id}">.*?</details>', html, re.S)
    assert remove and 'name="confirmed" value="yes"' in remove.group(0) and "btn-danger" in remove.group(0)
    # The row's first button only asks: a POST without the confirmation removes nobody.
    token = csrf_token(organiser, f"/meetings/{meeting_id}")
    path = f"/meetings/{meeting_id}/invitees/{invitation_id}/remove"
    response = organiser.post(path, data={"csrf_token": token}, follow_redirects=True)
    assert "Nobody was removed" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Invitation)) == 1
    organiser.post(path, data={"csrf_token": token, "confirmed": "yes"})
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Invitation)) == 0
    # Cancelling without its reason (the disclosure's question) leaves the meeting as it was.
    with app.app_context():
        version = db.session.get(Meeting, meeting_id).version
    organiser.post(
        f"/meetings/{meeting_id}/state", data={"csrf_token": token, "to_state": "cancelled", "version": version}
    )
    with app.app_context():
        assert db.session.get(Meeting, meeting_id).state == "scheduled"


def test_the_meeting_page_has_a_table_of_contents_to_its_sections(app, make: Factory):
    w = make.world()
    meeting_id = make.meeting(w["forum"], state="held", starts_in_days=-3)
    make.invite(meeting_id, w["participant"])
    for email in (w["organiser"], w["participant"]):
        html = sign_in(app.test_client(), email).get(f"/meetings/{meeting_id}").get_data(as_text=True)
        toc = re.search(r'<nav class="meeting-toc[^"]*"[^>]*>.*?</nav>', html, re.S)
        assert toc, email
        targets = re.findall(r'href="#([^"]+)"', toc.group(0))
        assert {"agenda", "invitees", "attendance", "minutes"} <= set(targets)
        page = Page(html)
        assert all(t in page.by_id for t in targets), [t for t in targets if t not in page.by_id]

"""Defects of agreed actions found by use (issue 21, part 6), each proved on the real pages.

"More rows" keeps what was typed; every create form creates once when sent twice (a one-time form
token); actions wait for their meeting to start and a cancelled meeting says what becomes of its
actions; an owner who is no longer available is marked and cannot answer by the emailed link; the
previous meeting's review is an action's last; the review speaks of the action by name and a
person's own double click is not "someone else"; staff notes reach the organisers and the owner.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from forum_app.actions import followup
from forum_app.extensions import db
from forum_app.models import ActionItem, ActionUpdate, FormSubmission, Meeting, OutboxMessage, User

from .conftest import csrf_token, sign_in
from .factories import Factory
from .test_notifications import deliver, smtp  # noqa: F401  (the real SMTP server fixture)

ONCE_RE = re.compile(r'name="form_once" type="hidden" value="([^"]+)"')
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@pytest.fixture
def w(app: Flask, make: Factory) -> dict[str, Any]:
    """The world with a meeting held a week ago, one that started an hour ago, and one in a month."""
    w = make.world()
    w["held"] = make.meeting(w["forum"], state="held", starts_in_days=-7)
    w["planned"] = make.meeting(w["forum"], state="scheduled", starts_in_days=30)
    return w


def signed_in(app: Flask, email: str) -> FlaskClient:
    return sign_in(app.test_client(), email)


def user_id(app: Flask, email: str) -> int:
    with app.app_context():
        return db.session.execute(select(User.id).where(User.email == email)).scalar_one()


def counts(app: Flask) -> tuple[int, int, int]:
    """(actions, history entries, emails queued)."""
    with app.app_context():
        return tuple(
            db.session.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (ActionItem, ActionUpdate, OutboxMessage)
        )


def hidden(page: str) -> dict[str, str]:
    """The page's CSRF and one-time form tokens, as its form sends them."""
    data = {"csrf_token": CSRF_RE.search(page).group(1)}
    once = ONCE_RE.search(page)
    if once:
        data["form_once"] = once.group(1)
    return data


def action_rows(*rows: tuple[str, int]) -> dict[str, str]:
    data: dict[str, str] = {}
    for n, (title, owner) in enumerate(rows):
        data.update(
            {
                f"rows-{n}-row_id": str(n + 1),
                f"rows-{n}-was": "",
                f"rows-{n}-title": title,
                f"rows-{n}-owner_id": str(owner),
                f"rows-{n}-owner_organisation_id": "0",
                f"rows-{n}-due_on": "",
            }
        )
    return data


# --- "More rows" ---------------------------------------------------------------------------------------


def test_more_rows_keeps_what_was_typed(app: Flask, w: dict) -> None:
    """The button sends the form: the rows come back as typed, five empty ones follow, nothing is saved."""
    organiser = signed_in(app, w["organiser"])
    path = f"/meetings/{w['held']}/actions/new"
    page = organiser.get(path).get_data(as_text=True)
    assert page.count('name="rows-') and 'name="more"' in page  # a button of the form, not a link away
    owner = user_id(app, w["participant"])
    before = counts(app)
    data = {**hidden(page), **action_rows(("Name a contact point", owner), ("Share the release calendar", 0))}
    response = organiser.post(path, data={**data, "more": "1"})
    again = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'value="Name a contact point"' in again and 'value="Share the release calendar"' in again
    assert re.search(rf'<option selected value="{owner}">', again)
    assert again.count('name="rows-') // 6 == 7 and 'name="rows-6-title"' in again  # 2 typed + 5 empty
    assert "is-invalid" not in again  # asking for rows is not a mistake
    assert hidden(again)["form_once"] == data["form_once"]  # the same form, still unsent
    assert counts(app) == before
    # Then sent: the typed rows are recorded, the empty ones skipped.
    sent = {**hidden(again), **action_rows(("Name a contact point", owner))}
    assert organiser.post(path, data=sent).status_code == 302
    assert counts(app)[0] == before[0] + 1


# --- one-time form tokens ------------------------------------------------------------------------------


def test_record_these_actions_sent_twice_records_once_and_mails_once(app: Flask, w: dict, smtp) -> None:  # noqa: F811
    """A double click, or Back and resubmit: the second sending finds the first one's result."""
    organiser = signed_in(app, w["organiser"])
    path = f"/meetings/{w['held']}/actions/new"
    page = organiser.get(path).get_data(as_text=True)
    assert "data-once" in page  # the buttons disable themselves while it is sent (static/js/app.js)
    owner = user_id(app, w["participant"])
    data = {**hidden(page), **action_rows(("Name a contact point", owner), ("Map the shelters", owner))}
    before = counts(app)
    first = organiser.post(path, data=data)
    assert first.status_code == 302 and first.headers["Location"].endswith(f"/meetings/{w['held']}#actions-agreed")
    second = organiser.post(path, data=data)
    assert second.status_code == 302 and second.headers["Location"] == first.headers["Location"]
    assert counts(app) == (before[0] + 2, before[1] + 2, before[2] + 2)
    shown = organiser.get(second.headers["Location"]).get_data(as_text=True)
    assert "already been sent: it was saved once" in shown
    deliver(app)
    assert len(smtp.to(w["participant"])) == 2  # one email per action, not four
    # A new form is a new token: recording more is not mistaken for a resubmission.
    page = organiser.get(path).get_data(as_text=True)
    assert hidden(page)["form_once"] != data["form_once"]
    assert organiser.post(path, data={**hidden(page), **action_rows(("Third", owner))}).status_code == 302
    assert counts(app)[0] == before[0] + 3


def test_a_form_shown_again_with_errors_keeps_its_token_and_saves_once_fixed(app: Flask, w: dict) -> None:
    organiser = signed_in(app, w["organiser"])
    path = f"/forums/{w['forum']}/actions/new"
    page = organiser.get(path).get_data(as_text=True)
    base = {**hidden(page), "owner_id": user_id(app, w["participant"]), "owner_organisation_id": "0"}
    refused = organiser.post(path, data={**base, "title": ""})
    assert refused.status_code == 400 and hidden(refused.get_data(as_text=True))["form_once"] == base["form_once"]
    before = counts(app)
    first = organiser.post(path, data={**base, "title": "Pre-release plan"})
    second = organiser.post(path, data={**base, "title": "Pre-release plan"})
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert counts(app)[0] == before[0] + 1


def test_a_progress_update_sent_twice_is_posted_once_not_a_conflict(app: Flask, make: Factory, w: dict) -> None:
    """The owner's double click on "Post": one entry, and no "someone else updated this action"."""
    action = make.action(w["forum"], w["participant"], meeting_id=w["held"])
    make.act(action, w["participant"], "accepted")
    owner = signed_in(app, w["participant"])
    page = owner.get(f"/actions/{action}").get_data(as_text=True)
    form = page.split(f'action="/actions/{action}/updates"')[1].split("</form>")[0]
    version = re.search(r'name="version" type="hidden" value="(\d+)"', form).group(1)
    data = {**hidden(form), "version": version, "to_state": "", "note": "Called the centre.", "seen": ""}
    before = counts(app)
    first = owner.post(f"/actions/{action}/updates", data=data)
    second = owner.post(f"/actions/{action}/updates", data=data)
    assert first.status_code == second.status_code == 302
    assert "Someone else" not in owner.get(second.headers["Location"]).get_data(as_text=True)
    assert counts(app)[1] == before[1] + 1
    # Another person's token is not theirs to replay: the organiser's sending of the same token is refused.
    organiser = signed_in(app, w["organiser"])
    other = organiser.post(f"/actions/{action}/updates", data={**data, "csrf_token": csrf_token(organiser, "/")})
    assert other.status_code in (400, 409) and counts(app)[1] == before[1] + 1


def test_old_submissions_are_purged(app: Flask, make: Factory, w: dict) -> None:
    organiser = signed_in(app, w["organiser"])
    with app.app_context():
        db.session.add(
            FormSubmission(
                token="x" * 32,
                user_id=user_id(app, w["organiser"]),
                created_at=datetime.now(UTC) - timedelta(days=8),
                result_url="/",
            )
        )
        db.session.commit()
    path = f"/forums/{w['forum']}/actions/new"
    page = organiser.get(path).get_data(as_text=True)
    data = {**hidden(page), "title": "x", "owner_id": user_id(app, w["participant"]), "owner_organisation_id": "0"}
    assert organiser.post(path, data=data).status_code == 302
    with app.app_context():
        assert db.session.execute(select(FormSubmission.token)).scalars().all() == [data["form_once"]]


# --- the follow-up: the previous meeting's review is an action's last ----------------------------------


def test_an_action_closed_at_a_review_is_not_closed_since_the_last_meeting_at_the_next(
    app: Flask, make: Factory
) -> None:
    """Closed during B's review: shown at B, not again at C. Closed between B and C: shown at C once."""
    w = make.world()
    a = make.meeting(w["forum"], state="held", starts_in_days=-60)
    b = make.meeting(w["forum"], state="held", starts_in_days=-30)
    c = make.meeting(w["forum"], state="held", starts_in_days=-2)
    reviewed = make.action(w["forum"], w["participant"], meeting_id=a, title="Closed at B's review")
    between = make.action(w["forum"], w["participant"], meeting_id=a, title="Closed between B and C")
    with app.app_context():
        b_start = db.session.get(Meeting, b).starts_at
    for action in (reviewed, between):
        make.act(action, w["participant"], "accepted", at=b_start - timedelta(days=20))
        make.act(action, w["participant"], "in_progress", at=b_start - timedelta(days=19))
    make.act(reviewed, None, "done", "Done, said at the meeting.", meeting_id=b, at=b_start + timedelta(minutes=30))
    make.act(between, w["participant"], "done", "Done.", at=b_start + timedelta(days=10))
    with app.app_context():
        organiser = db.session.execute(select(User).where(User.email == w["organiser"])).scalar_one()

        def section(meeting_id: int) -> dict[int, bool]:
            rows = followup.follow_up(organiser, db.session.get(Meeting, meeting_id)).rows
            return {row.id: row.closed_since for row in rows}

        assert section(b) == {reviewed: False, between: False}
        assert section(c) == {between: True}
    page = signed_in(app, w["organiser"]).get(f"/actions/{reviewed}").get_data(as_text=True)
    timeline = page.split('id="timeline-table"')[1].split("</table>")[0]
    assert timeline.count("<tr>") == 3  # the header, A (raised there) and B (closed there); not C

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
    assert "data-once" in page  # and its buttons disable themselves while it is sent (static/js/app.js)
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


def test_the_same_form_sent_twice_at_the_same_moment_creates_once(app: Flask, w: dict) -> None:
    """Two sendings of one form race (a double click without JavaScript): whichever commits first, the
    other finds its result, and one action is raised."""
    import threading

    first, second = signed_in(app, w["organiser"]), signed_in(app, w["organiser"])
    path = f"/forums/{w['forum']}/actions/new"
    once = hidden(first.get(path).get_data(as_text=True))["form_once"]
    data = {"title": "Raised once", "owner_id": user_id(app, w["participant"]), "owner_organisation_id": "0"}
    sends = [(client, {**data, "form_once": once, "csrf_token": csrf_token(client, "/")}) for client in (first, second)]
    before = counts(app)
    start, answers, errors = threading.Barrier(2), [], []

    def send(client: FlaskClient, form: dict) -> None:
        try:
            start.wait(10)
            answers.append(client.post(path, data=form))
        except BaseException as exc:  # reported below: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=send, args=pair) for pair in sends]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors and len(answers) == 2
    assert [a.status_code for a in answers] == [302, 302]
    assert answers[0].headers["Location"] == answers[1].headers["Location"]
    assert counts(app)[0] == before[0] + 1


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


# --- recording waits for the meeting; a cancelled meeting says what becomes of its actions --------------


def test_actions_are_recorded_at_a_meeting_once_it_has_started(app: Flask, w: dict) -> None:
    organiser = signed_in(app, w["organiser"])
    page = organiser.get(f"/meetings/{w['planned']}").get_data(as_text=True)
    assert f"/meetings/{w['planned']}/actions/new" not in page
    assert 'id="record-lock"' in page and f"/forums/{w['forum']}/actions/new" in page  # between meetings instead
    refused = organiser.get(f"/meetings/{w['planned']}/actions/new", follow_redirects=True).get_data(as_text=True)
    assert "once it has started" in refused
    before = counts(app)
    path = f"/meetings/{w['planned']}/actions/new"
    data = {"csrf_token": csrf_token(organiser, "/"), **action_rows(("Too early", user_id(app, w["participant"])))}
    assert organiser.post(path, data=data).status_code == 302 and counts(app) == before
    # The meeting that took place records them.
    page = organiser.get(f"/meetings/{w['held']}").get_data(as_text=True)
    assert f"/meetings/{w['held']}/actions/new" in page and 'id="record-lock"' not in page


def test_cancelling_a_meeting_with_actions_says_what_becomes_of_them(app: Flask, make: Factory) -> None:
    """They stay open with their owners and are reviewed at the forum's next meeting; the action says why."""
    w = make.world()
    started = make.meeting(w["forum"], state="scheduled", starts_in_days=-1)  # began yesterday, not marked held
    following = make.meeting(w["forum"], state="scheduled", starts_in_days=20)
    action = make.action(w["forum"], w["participant"], meeting_id=started, title="Agreed before the walk-out")
    organiser = signed_in(app, w["organiser"])
    page = organiser.get(f"/meetings/{started}").get_data(as_text=True)
    cancel = page.split('id="cancel-actions"')[1].split("</p>")[0]
    assert "1 action was recorded at this meeting" in cancel and "reviewed at the forum’s next meeting" in cancel
    with app.app_context():
        version = db.session.get(Meeting, started).version
    response = organiser.post(
        f"/meetings/{started}/state",
        data={
            "csrf_token": csrf_token(organiser, "/"),
            "to_state": "cancelled",
            "version": version,
            "reason": "Storm.",
        },
    )
    assert response.status_code == 302
    page = organiser.get(f"/meetings/{started}").get_data(as_text=True)
    assert "stays open with its owner" in page.split('id="cancelled-actions"')[1].split("</p>")[0]
    assert 'id="meeting-cancelled"' in organiser.get(f"/actions/{action}").get_data(as_text=True)
    with app.app_context():
        organiser_user = db.session.execute(select(User).where(User.email == w["organiser"])).scalar_one()
        rows = followup.follow_up(organiser_user, db.session.get(Meeting, following)).rows
        assert [row.id for row in rows] == [action]
        assert db.session.get(ActionItem, action).state == "proposed"


# --- the review's words, and a person's own double click ------------------------------------------------


def review_form(client: FlaskClient, meeting_id: int, outcomes: dict[int, tuple[str, str]]) -> dict[str, str]:
    page = client.get(f"/meetings/{meeting_id}/follow-up").get_data(as_text=True)
    data = hidden(page)
    for index, action_id, version in re.findall(
        r'name="rows-(\d+)-row_id" type="hidden" value="(\d+)"><input id="rows-\d+-was" name="rows-\d+-was" '
        r'type="hidden" value="(\d+)"',
        page,
    ):
        state, note = outcomes.get(int(action_id), ("", ""))
        data.update(
            {
                f"rows-{index}-row_id": action_id,
                f"rows-{index}-was": version,
                f"rows-{index}-to_state": state,
                f"rows-{index}-note": note,
            }
        )
    return data


def test_the_review_names_the_action_in_plain_english(app: Flask, make: Factory, w: dict) -> None:
    action = make.action(w["forum"], w["participant"], meeting_id=w["held"], title="Map the shelters")
    make.act(action, w["participant"], "accepted")
    make.act(action, w["participant"], "in_progress")
    review_at = make.meeting(w["forum"], state="scheduled", starts_in_days=-1)
    organiser = signed_in(app, w["organiser"])
    data = review_form(organiser, review_at, {action: ("accepted", "")})
    page = organiser.post(f"/meetings/{review_at}/follow-up", data=data).get_data(as_text=True)
    assert "“Map the shelters” is in progress: it cannot become accepted." in page
    assert "A in progress" not in page and "A in-progress" not in page
    data = review_form(organiser, review_at, {action: ("blocked", "")})
    page = organiser.post(f"/meetings/{review_at}/follow-up", data=data).get_data(as_text=True)
    assert "Say why “Map the shelters” is blocked." in page
    data = review_form(organiser, review_at, {action: ("", "Going well.")})
    shown = organiser.post(f"/meetings/{review_at}/follow-up", data=data, follow_redirects=True)
    assert "The review is recorded (1 action)." in shown.get_data(as_text=True)
    # Recording one action at a meeting: "1 action recorded" through ngettext, like every other number.
    path = f"/meetings/{w['held']}/actions/new"
    page = organiser.get(path).get_data(as_text=True)
    data = {**hidden(page), **action_rows(("One more", user_id(app, w["participant"])))}
    shown = organiser.post(path, data=data, follow_redirects=True).get_data(as_text=True)
    assert "1 action recorded; its owner is asked to confirm." in shown


def test_my_own_double_click_on_the_review_is_not_someone_else(app: Flask, make: Factory, w: dict) -> None:
    """The same review sent twice (even from a page without a token): saved once, no conflict; another
    person's update in between is still a conflict naming the action."""
    action = make.action(w["forum"], w["participant"], meeting_id=w["held"], title="Map the shelters")
    review_at = make.meeting(w["forum"], state="scheduled", starts_in_days=-1)
    organiser = signed_in(app, w["organiser"])
    data = review_form(organiser, review_at, {action: ("", "Discussed; the owner is away.")})
    data.pop("form_once", None)  # an old page, or a script: the service itself knows a repeat
    before = counts(app)
    first = organiser.post(f"/meetings/{review_at}/follow-up", data=data)
    second = organiser.post(f"/meetings/{review_at}/follow-up", data=data)
    assert first.status_code == second.status_code == 302
    assert "Someone else" not in organiser.get(second.headers["Location"]).get_data(as_text=True)
    assert counts(app)[1] == before[1] + 1
    # Someone else's update since the page was opened is a conflict, and says which action.
    stale = review_form(organiser, review_at, {action: ("", "Another note.")})
    make.act(action, w["participant"], "accepted")
    response = organiser.post(f"/meetings/{review_at}/follow-up", data=stale)
    assert response.status_code == 409 and "Someone else updated Map the shelters" in response.get_data(as_text=True)


# --- an owner no longer available -------------------------------------------------------------------------


def test_an_owner_who_left_the_forum_is_marked_for_the_organisers_and_cannot_answer_by_link(
    app: Flask,
    make: Factory,
    w: dict,
    smtp,  # noqa: F811
) -> None:
    from forum_app.actions import services as action_services
    from forum_app.forums import services as forum_services
    from forum_app.models import Forum, ForumMember

    left = make.action(w["forum"], w["participant"], meeting_id=w["held"], title="Owner left")
    deactivated = make.action(w["forum"], w["observer"], meeting_id=w["held"], title="Owner deactivated")
    kept = make.action(w["forum"], w["organiser"], meeting_id=w["held"], title="Owner still here")
    deliver(app)
    [email] = smtp.to(w["participant"])
    link = re.search(r"https?://[^\s\"<>]*/actions/confirm/[^\s\"<>?]+", email.get_body(("plain",)).get_content())
    participant_id = user_id(app, w["participant"])
    with app.app_context():
        forum = db.session.get(Forum, w["forum"])
        organiser_user = db.session.execute(select(User).where(User.email == w["organiser"])).scalar_one()
        member = db.session.execute(select(ForumMember).where(ForumMember.user_id == participant_id)).scalar_one()
        forum_services.remove_member(organiser_user, forum, member.id)
        db.session.execute(db.update(User).where(User.email == w["observer"]).values(active=False))
        db.session.commit()
        token = action_services.confirm_link_token(db.session.get(ActionItem, left))
    review_at = make.meeting(w["forum"], state="scheduled", starts_in_days=-1)
    organiser = signed_in(app, w["organiser"])

    home = organiser.get("/").get_data(as_text=True).split('id="owner-gone"')[1].split("</section>")[0]
    assert "Owner left" in home and "Owner deactivated" in home and "Owner still here" not in home
    assert f'href="/actions/{left}#reassign"' in home
    board = organiser.get(f"/forums/{w['forum']}/actions").get_data(as_text=True)
    marked = re.findall(r'<a href="/actions/(\d+)">[^<]*</a>\s*<span class="badge text-bg-warning owner-gone">', board)
    assert sorted(map(int, marked)) == sorted([left, deactivated])
    review = organiser.get(f"/meetings/{review_at}/follow-up").get_data(as_text=True)
    assert review.count("owner no longer available") == 2 and f"/actions/{kept}#reassign" not in review

    # The emailed link (sent while they were a member) refuses, with a page that says why.
    path = "/" + link.group(0).split("/", 3)[3]
    assert path.startswith("/actions/confirm/") and token
    page = app.test_client().get(path).get_data(as_text=True)
    assert "no longer a member of this forum" in page and "Accept the action" not in page
    client = app.test_client()
    answer = client.post(path, data={"csrf_token": csrf_token(client, path), "answer": "accept"})
    assert answer.status_code == 403 and "no longer a member of this forum" in answer.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(ActionItem, left).state == "proposed"

    # Reassigned, it leaves the list.
    page = organiser.get(f"/actions/{left}").get_data(as_text=True)
    form = page.split('id="reassign"')[1].split("</form>")[0]
    version = re.search(r'name="version" type="hidden" value="(\d+)"', form).group(1)
    response = organiser.post(
        f"/actions/{left}/reassign",
        data={**hidden(form), "version": version, "owner_id": user_id(app, w["organiser"]), "note": ""},
    )
    assert response.status_code == 302
    home = organiser.get("/").get_data(as_text=True).split('id="owner-gone"')[1].split("</section>")[0]
    assert "Owner left" not in home and "Owner deactivated" in home


# --- staff notes reach the organisers and the owner ------------------------------------------------------


def test_a_staff_note_reaches_the_organisers_and_the_owner_by_email_and_on_their_home(
    app: Flask,
    make: Factory,
    w: dict,
    smtp,  # noqa: F811
) -> None:
    action = make.action(w["forum"], w["participant"], meeting_id=w["held"], title="Map the shelters", notify=False)
    with app.app_context():
        db.session.execute(db.update(User).where(User.email == w["participant"]).values(locale="bs"))
        db.session.commit()
    staff = signed_in(app, w["staff"])
    page = staff.get(f"/actions/{action}").get_data(as_text=True)
    form = page.split(f'action="/actions/{action}/updates"')[1].split("</form>")[0]
    version = re.search(r'name="version" type="hidden" value="(\d+)"', form).group(1)
    note = "Please add the municipality's social worker."
    response = staff.post(
        f"/actions/{action}/updates", data={**hidden(form), "version": version, "note": note, "seen": ""}
    )
    assert response.status_code == 302
    deliver(app)
    [to_organiser] = smtp.to(w["organiser"])
    [to_owner] = smtp.to(w["participant"])
    assert smtp.to(w["staff"]) == []  # not to its author
    assert to_organiser["Subject"] == "A note from programme staff on Map the shelters"
    assert note in to_organiser.get_body(("plain",)).get_content()
    owner_text = to_owner.get_body(("plain",)).get_content()
    assert note in owner_text and owner_text.startswith("Poštovani/a")  # in the owner's language
    assert f"/actions/{action}#history" in owner_text
    for email in (w["organiser"], w["participant"]):
        home = signed_in(app, email).get("/").get_data(as_text=True)
        notes = home.split('id="staff-notes"')[1].split("</section>")[0]
        assert "Map the shelters" in notes and note.replace("'", "&#39;") in notes
    assert 'id="staff-notes"' not in signed_in(app, w["observer"]).get("/").get_data(as_text=True)


# --- in the browser: More rows keeps the rows, a double click records once --------------------------------


@pytest.mark.browser
@pytest.mark.slow
def test_in_the_browser_more_rows_keeps_the_rows_and_a_double_click_records_once(demo, live_server, page) -> None:
    from .browser import sign_in as browser_sign_in

    browser_sign_in(page, live_server, "organiser.sarajevo@forum-desk.example")
    page.goto(live_server + "/forums")
    page.get_by_role("link", name="Sarajevo local coordination forum").click()
    page.get_by_role("link", name="Third meeting: follow-up review").click()
    page.get_by_role("link", name="Record actions").click()
    owner = "Amra Hodžić (State Prison of Bosnia and Herzegovina)"
    page.get_by_label("Action 1", exact=True).fill("Share the monthly release calendar")
    page.get_by_label("Owner of action 1").select_option(label=owner)
    page.get_by_role("button", name="More rows").click()
    page.get_by_label("Action 10", exact=True).wait_for()  # five rows more
    assert page.get_by_label("Action 1", exact=True).input_value() == "Share the monthly release calendar"
    page.get_by_label("Action 7", exact=True).fill("Arrange a health check before release")
    page.get_by_label("Owner of action 7").select_option(label=owner)
    page.get_by_role("button", name="Record these actions").dblclick()
    page.get_by_text("2 actions recorded").wait_for()
    assert page.locator("#agreed-table tbody tr").count() == 2

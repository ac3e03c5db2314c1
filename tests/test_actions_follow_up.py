"""Agreed actions on the pages: followed across meetings, reviewed, answered by link, refused when wrong.

The walk across three consecutive meetings drives the real pages (the review is the
row-set form); the page objects (actions.queries) are then read directly to check what
each meeting, the timeline and the matrix say.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from forum_app.actions import followup, queries, services
from forum_app.auth import tokens
from forum_app.core import clock
from forum_app.extensions import db
from forum_app.models import ActionItem, ActionUpdate, AuditEvent, Forum, Meeting, OutboxMessage, User

from .conftest import csrf_token, sign_in
from .factories import Factory


@pytest.fixture
def forum(app: Flask, make: Factory) -> dict[str, Any]:
    """The world, three held meetings a month apart, and two planned ones."""
    w = make.world()
    w["m1"] = make.meeting(w["forum"], state="held", starts_in_days=-60)
    w["m2"] = make.meeting(w["forum"], state="held", starts_in_days=-30)
    w["m3"] = make.meeting(w["forum"], state="held", starts_in_days=-7)
    w["m4"] = make.meeting(w["forum"], state="scheduled", starts_in_days=14)
    w["m5"] = make.meeting(w["forum"], state="scheduled", starts_in_days=60)
    return w


def signed_in(app: Flask, email: str) -> tuple[FlaskClient, str]:
    """A new client signed in as ``email``, and its CSRF token."""
    client = sign_in(app.test_client(), email)
    return client, csrf_token(client, "/")


def user(email: str) -> User:
    return db.session.execute(select(User).where(User.email == email)).scalar_one()


def review_rows(page_html: str, outcomes: dict[int, tuple[str, str]]) -> dict[str, str]:
    """The review form's fields as a browser sends them, with ``outcomes`` {action id: (state, note)} filled in."""
    data = {}
    for index, action_id, version in re.findall(
        r'name="rows-(\d+)-row_id" type="hidden" value="(\d+)">\s*<input id="rows-\d+-was" name="rows-\d+-was" '
        r'type="hidden" value="(\d+)"',
        page_html,
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


def review(client: FlaskClient, meeting_id: int, outcomes: dict[int, tuple[str, str]]):
    page = client.get(f"/meetings/{meeting_id}/follow-up").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    return client.post(f"/meetings/{meeting_id}/follow-up", data={**review_rows(page, outcomes), "csrf_token": token})


def follow_up_of(app: Flask, email: str, meeting_id: int) -> dict[int, tuple[str | None, bool, bool]]:
    """{action id: (state at the meeting, reviewed there, closed since the previous meeting)} of its section."""
    with app.app_context():
        section = followup.follow_up(user(email), db.session.get(Meeting, meeting_id))
        return {row.id: (row.state_then, row.reviewed, row.closed_since) for row in section.rows}


# --- one action across three meetings ------------------------------------------------------------------


def test_one_action_walks_across_three_meetings(app: Flask, make: Factory, forum: dict) -> None:
    """Raised at the first meeting, reviewed in progress at the second and done at the third: every
    meeting's follow-up section, the timeline and the matrix agree; after it is closed it is shown
    one last time (closed since the last meeting) and then no more."""
    w = forum
    action = make.action(w["forum"], w["participant"], meeting_id=w["m1"], title="Name a contact point")
    organiser, _ = signed_in(app, w["organiser"])
    owner, token = signed_in(app, w["participant"])
    # The owner accepts from the home page.
    home = owner.get("/").get_data(as_text=True)
    assert "Name a contact point" in home.split('id="awaiting"')[1].split("</section>")[0]
    owner.post(f"/actions/{action}/answer", data={"answer": "accept", "next": "/", "csrf_token": token})

    assert (
        review(organiser, w["m2"], {action: ("in_progress", "Two agencies still to name theirs.")}).status_code == 302
    )
    assert review(organiser, w["m3"], {action: ("done", "All named; the list is circulated.")}).status_code == 302

    o = w["organiser"]
    assert follow_up_of(app, o, w["m1"]) == {}  # raised there: it is among the actions agreed, not reviewed
    assert follow_up_of(app, o, w["m2"]) == {action: ("in_progress", True, False)}
    assert follow_up_of(app, o, w["m3"]) == {action: ("done", True, False)}
    # Closed by m3's review: that review was its last (not "closed since the last meeting" again at m4).
    assert follow_up_of(app, o, w["m4"]) == {}
    assert follow_up_of(app, o, w["m5"]) == {}
    with app.app_context():
        agreed = followup.follow_up(user(o), db.session.get(Meeting, w["m1"])).agreed
        assert [a.id for a in agreed] == [action]
        page = queries.action_page(user(o), action)
        assert [(t.meeting.id, t.state, [u.note for u in t.said]) for t in page.timeline] == [
            (w["m1"], "proposed", []),
            (w["m2"], "in_progress", ["Two agencies still to name theirs."]),
            (w["m3"], "done", ["All named; the list is circulated."]),
        ]
        assert [(u.kind, u.to_state) for u in page.updates] == [
            ("state", "proposed"),
            ("state", "accepted"),
            ("review", "in_progress"),
            ("review", "done"),
        ]
        matrix = queries.matrix(user(o), w["forum"])
        assert [m.id for m in matrix.meetings] == [w["m1"], w["m2"], w["m3"], w["m4"], w["m5"]]
        [row] = matrix.rows
        assert [cell.state if cell else None for cell in row.cells] == ["proposed", "in_progress", "done", None, None]

    # The pages show the same.
    m3 = organiser.get(f"/meetings/{w['m3']}").get_data(as_text=True)
    row = m3.split(f'<tr data-action="{action}">')[1].split("</tr>")[0]
    assert "Done" in row and "(reviewed)" in row and "All named" in row
    timeline = organiser.get(f"/actions/{action}").get_data(as_text=True).split('id="timeline-table"')[1]
    assert timeline.count("<tr>") == 4  # header and three meetings
    matrix_page = organiser.get(f"/forums/{w['forum']}/actions/matrix").get_data(as_text=True)
    assert matrix_page.count('class="matrix-cell"') == 5 and matrix_page.count("state-done") == 1


def test_an_open_action_carries_over_until_it_is_reviewed(app: Flask, make: Factory, forum: dict) -> None:
    """Nobody reviews it at the second meeting: it is still on the third's and the next one's list, as it was."""
    w = forum
    carried = make.action(w["forum"], w["participant"], meeting_id=w["m1"])
    make.act(carried, w["participant"], "accepted", at=datetime.now(UTC) - timedelta(days=50))
    between = make.action(w["forum"], w["observer"], title="Raised between meetings")
    o = w["organiser"]
    for key in ("m2", "m3", "m4"):
        assert follow_up_of(app, o, w[key]).get(carried) == ("accepted", False, False), key
    # The one raised today is on the next meeting's list only.
    assert between not in follow_up_of(app, o, w["m3"]) and follow_up_of(app, o, w["m4"])[between][0] == "proposed"
    with app.app_context():
        page = queries.action_page(user(o), carried)
        assert [(t.state, bool(t.said)) for t in page.timeline] == [
            ("proposed", False),
            ("accepted", False),
            ("accepted", False),
            ("accepted", False),
            ("accepted", False),
        ]


def test_the_follow_up_rows_computed_in_sql_follow_the_at_meeting_rule(app: Flask, make: Factory, forum: dict) -> None:
    """follow_up() works out each row in SQL; at_meeting() (the action page's timeline) walks the loaded
    history. On histories with reviews, a review corrected at the same meeting, a review saved after the
    meeting ended, reopenings (unblocked; declined then reassigned), a closed action and an entry whose
    clock ran behind the one before it, both say the same at every meeting, for every viewer."""
    w = forum
    with app.app_context():
        at = {
            k: (db.session.get(Meeting, w[k]).starts_at, db.session.get(Meeting, w[k]).ends_at)
            for k in ("m1", "m2", "m3", "m4", "m5")
        }
    now = datetime.now(UTC)
    day = lambda n: now + timedelta(days=n)  # noqa: E731
    p, o = w["participant"], None  # o: the forum's organiser

    reviewed = make.action(w["forum"], p, meeting_id=w["m1"], title="Reviewed, corrected, reopened")
    make.act(reviewed, p, "accepted", at=day(-55))
    make.act(reviewed, o, "in_progress", "Started.", meeting_id=w["m2"], at=at["m2"][0] + timedelta(minutes=30))
    make.act(
        reviewed,
        o,
        "blocked",
        "Correction: waiting for the ministry.",
        meeting_id=w["m2"],
        at=at["m2"][0] + timedelta(minutes=90),
    )
    make.act(reviewed, p, "in_progress", "Unblocked.", at=day(-20))
    make.act(
        reviewed, o, "done", "Done, recorded the day after.", meeting_id=w["m3"], at=at["m3"][1] + timedelta(days=1)
    )

    reassigned = make.action(w["forum"], p, meeting_id=w["m1"], title="Declined, then given to someone else")
    make.act(reassigned, p, "declined", "Not our mandate.", at=day(-50))
    with app.app_context(), clock.at(day(-40)):
        action = db.session.get(ActionItem, reassigned)
        services.reassign_action(
            user(w["organiser"]), action, user(w["observer"]).id, "Probation takes it.", action.version, notify=False
        )
        db.session.commit()
    make.act(reassigned, w["observer"], "accepted", at=day(-35))

    skewed = make.action(w["forum"], p, meeting_id=w["m1"], title="An entry written with a clock behind")
    make.act(skewed, p, None, "First steps.", at=day(-50))
    make.act(skewed, p, "accepted", at=day(-10))
    make.act(skewed, p, None, "Written later, dated earlier.", at=day(-40))

    dropped = make.action(w["forum"], p, meeting_id=w["m1"], title="Dropped between meetings")
    make.act(dropped, o, "dropped", "No longer needed.", at=day(-45))

    early = make.action(w["forum"], p, meeting_id=w["m2"], title="Reviewed ahead, at a planned meeting")
    make.act(early, o, None, "Discussed ahead of the meeting.", meeting_id=w["m4"], at=day(-1))
    between = make.action(w["forum"], w["observer"], title="Raised between meetings")

    now = datetime.now(UTC)  # both read the same clock: the planned meetings are judged now
    with app.app_context(), clock.at(now):
        meetings = [db.session.get(Meeting, w[k]) for k in ("m1", "m2", "m3", "m4", "m5")]
        actions = {a.id: a for a in db.session.execute(select(ActionItem)).scalars()}
        checked = 0
        for email in (w["organiser"], w["participant"], w["staff"]):
            viewer = user(email)
            for index, meeting in enumerate(meetings):
                previous_start = meetings[index - 1].starts_at if index else None
                previous_id = meetings[index - 1].id if index else None
                section = followup.follow_up(viewer, meeting, latest=True)
                visible = {a.id for a in db.session.execute(queries.permissions.visible_actions(viewer)).scalars()}
                expected = {}
                for action in actions.values():
                    if (
                        action.id in visible
                        and action.meeting_id != meeting.id
                        and followup.in_span(action, meeting, previous_start, previous_id)
                    ):
                        then = followup.at_meeting(action, meeting, now)
                        last = then.last_update
                        expected[action.id] = (
                            then.state,
                            bool(then.said),
                            last.created_at if last else None,
                            last.note if last else "",
                            last.kind if last else None,
                            action.closed_at is not None and action.closed_at < meeting.starts_at,
                            action.updates[-1].id if action.updates else None,
                        )
                got = {
                    row.id: (
                        row.state_then,
                        row.reviewed,
                        row.last_at,
                        row.last_note,
                        row.last_kind,
                        row.closed_since,
                        row.latest and actions[row.id].updates[-1].id,
                    )
                    for row in section.rows
                }
                assert got == expected, (email, index + 1)
                assert [a.id for a in section.agreed] == sorted(
                    (a.id for a in actions.values() if a.meeting_id == meeting.id and a.id in visible),
                    key=lambda i: (actions[i].due_on is None, actions[i].due_on, i),
                )
                checked += len(got)
        assert checked > 20
        # The histories say what they were built to say.
        rows = {m.id: {r.id: r for r in followup.follow_up(user(w["organiser"]), m).rows} for m in meetings}
        assert (rows[w["m2"]][reviewed].state_then, rows[w["m2"]][reviewed].last_note) == (
            "blocked",
            "Correction: waiting for the ministry.",
        )
        assert (rows[w["m3"]][reviewed].state_then, rows[w["m3"]][reviewed].last_note) == (
            "done",
            "Done, recorded the day after.",
        )
        assert rows[w["m2"]][skewed].last_note == "First steps."  # the history stops at the later-dated entry
        assert rows[w["m2"]][dropped].closed_since and dropped not in rows[w["m3"]]
        assert rows[w["m3"]][reassigned].state_then == "accepted"
        assert rows[w["m4"]][early].reviewed and rows[w["m4"]][early].state_then == "proposed"
        assert between in rows[w["m4"]] and between not in rows[w["m3"]]


def test_the_matrix_is_paged_open_first_and_filters_open_or_closed(
    app: Flask, make: Factory, forum: dict, monkeypatch
) -> None:
    """A page of actions × every meeting: open ones first, then closed ones, each in the order raised; the
    filter keeps to one of the two, the pager keeps the filter, and nonsense in the query string is page 1
    of everything. Every cell says what at_meeting() says."""
    monkeypatch.setattr(queries, "MATRIX_PAGE_SIZE", 2)
    w = forum
    make.action(w["forum"], w["participant"], meeting_id=w["m1"], title="Open, raised first")
    dropped = make.action(w["forum"], w["participant"], meeting_id=w["m1"], title="Dropped")
    make.act(dropped, None, "dropped", "Not needed.", at=datetime.now(UTC) - timedelta(days=40))
    later = make.action(w["forum"], w["participant"], meeting_id=w["m2"], title="Open, raised later")
    make.act(
        later, None, "accepted", meeting_id=w["m3"], at=datetime.now(UTC) - timedelta(days=7) + timedelta(minutes=30)
    )
    client, _ = signed_in(app, w["organiser"])
    base = f"/forums/{w['forum']}/actions/matrix"

    def titles(query: str = "") -> list[str]:
        response = client.get(base + query)
        assert response.status_code == 200, query
        return re.findall(
            r'<tr class="matrix-row">\s*<td><a href="/actions/\d+">([^<]+)</a>', response.get_data(as_text=True)
        )

    assert titles() == ["Open, raised first", "Open, raised later"]
    assert titles("?page=2") == ["Dropped"]
    assert titles("?show=closed") == ["Dropped"]
    assert titles("?show=open") == ["Open, raised first", "Open, raised later"]
    assert titles("?page=abc&show=<script>") == titles()
    assert titles("?page=99") == [] and "First page" in client.get(base + "?page=99").get_data(as_text=True)
    page_one = client.get(base).get_data(as_text=True)
    assert f'href="{base}?page=2"' in page_one and "Page 1 of 2" in page_one
    assert 'aria-current="page" href="' + base + '"' in page_one
    with app.app_context():
        now = datetime.now(UTC)
        with clock.at(now):
            for query_page in ("1", "2"):
                m = queries.matrix(user(w["organiser"]), w["forum"], "", query_page)
                starts = [None] + [meeting.starts_at for meeting in m.meetings]
                for row in m.rows:
                    action = db.session.get(ActionItem, row.action.id)
                    expected = [
                        followup.at_meeting(action, meeting, now)
                        if followup.in_span(action, meeting, starts[i])
                        else None
                        for i, meeting in enumerate(m.meetings)
                    ]
                    assert [(c.state, bool(c.said)) if c else None for c in row.cells] == [
                        (c.state, bool(c.said)) if c else None for c in expected
                    ]
        later_row = queries.matrix(user(w["organiser"]), w["forum"]).rows[1]
        assert [c.state if c else None for c in later_row.cells] == [
            None,
            "proposed",
            "accepted",
            "accepted",
            "accepted",
        ]
        assert later_row.cells[2].said


# --- confirmation by email link --------------------------------------------------------------------------


def confirm_url(app: Flask, action_id: int) -> str:
    with app.app_context():
        [message] = db.session.execute(
            select(OutboxMessage)
            .where(OutboxMessage.kind == "action-confirm")
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        ).scalars()
        # The HTML part's two buttons; the text part links to the page that has both.
        url = re.search(r'href="http://forum\.test(/actions/confirm/[^"?]+)\?answer=accept"', message.body_html).group(
            1
        )
        assert f'href="http://forum.test{url}?answer=decline"' in message.body_html
        assert f"http://forum.test{url}\n" in message.body_text
        return url


def test_the_emailed_link_shows_a_page_answers_on_post_and_is_safe_twice(
    app: Flask, make: Factory, forum: dict
) -> None:
    w = forum
    action = make.action(w["forum"], w["participant"], meeting_id=w["m3"])
    url = confirm_url(app, action)
    visitor = app.test_client()  # nobody signed in: the link is enough, and signs nobody in
    page = visitor.get(url + "?answer=accept")
    assert page.status_code == 200 and "Accept the action" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(ActionItem, action).state == "proposed"  # a GET (a mail scanner) records nothing
    token = csrf_token(visitor, url)
    done = visitor.post(url, data={"answer": "accept", "csrf_token": token})
    assert done.status_code == 200 and "you accepted the action" in done.get_data(as_text=True)
    again = visitor.post(url, data={"answer": "accept", "csrf_token": token})
    assert again.status_code == 200 and "already recorded" in again.get_data(as_text=True)
    assert visitor.get("/").status_code == 302  # still not signed in
    with app.app_context():
        assert db.session.get(ActionItem, action).state == "accepted"
        assert (
            db.session.execute(
                select(func.count()).select_from(ActionUpdate).where(ActionUpdate.action_id == action)
            ).scalar_one()
            == 2
        )
    # Declining an accepted action from the same link is refused with the reason; nothing changes.
    refused = visitor.post(url, data={"answer": "decline", "reason": "Too busy", "csrf_token": token})
    assert refused.status_code == 400 and "already been answered" in refused.get_data(as_text=True)


def test_declining_needs_a_reason_and_the_organiser_reassigns(app: Flask, make: Factory, forum: dict) -> None:
    w = forum
    action = make.action(w["forum"], w["participant"], meeting_id=w["m3"])
    url = confirm_url(app, action)
    visitor = app.test_client()
    token = csrf_token(visitor, url)
    no_reason = visitor.post(url, data={"answer": "decline", "reason": " ", "csrf_token": token})
    assert no_reason.status_code == 400 and "” is declined." in no_reason.get_data(as_text=True)
    visitor.post(url, data={"answer": "decline", "reason": "Not our mandate.", "csrf_token": token})
    with app.app_context():
        assert db.session.get(ActionItem, action).state == "declined"
    # Returned to the organisers: on their list, and they give it to someone else, who is asked in turn.
    organiser, otoken = signed_in(app, w["organiser"])
    assert "Declined: find a new owner" in organiser.get("/actions").get_data(as_text=True)
    with app.app_context():
        version, observer_id = db.session.get(ActionItem, action).version, user(w["observer"]).id
    response = organiser.post(
        f"/actions/{action}/reassign",
        data={"owner_id": observer_id, "note": "Probation takes it.", "version": version, "csrf_token": otoken},
    )
    assert response.status_code == 302
    with app.app_context():
        reassigned = db.session.get(ActionItem, action)
        assert (reassigned.state, reassigned.owner_id, reassigned.closed_at) == ("proposed", observer_id, None)
        last = reassigned.updates[-1]
        assert (last.kind, last.from_state, last.to_state, last.owner_id) == (
            "reassign",
            "declined",
            "proposed",
            observer_id,
        )
    # The first owner's link no longer works; the new owner's does.
    assert "not valid" in visitor.get(url).get_data(as_text=True)
    assert visitor.get(confirm_url(app, action)).status_code == 200


@pytest.mark.parametrize("problem", ["tampered", "expired", "other purpose", "closed action"])
def test_bad_links_change_nothing(app: Flask, make: Factory, forum: dict, problem: str) -> None:
    w = forum
    action = make.action(w["forum"], w["participant"], meeting_id=w["m3"])
    url = confirm_url(app, action)
    visitor = app.test_client()
    if problem == "tampered":
        url = url[:-3] + ("aaa" if not url.endswith("aaa") else "bbb")
    elif problem == "expired":
        with app.app_context(), clock.at(datetime.now(UTC) - timedelta(days=500)):
            url = "/actions/confirm/" + services.confirm_link_token(db.session.get(ActionItem, action))
    elif problem == "other purpose":
        with app.app_context():
            url = "/actions/confirm/" + tokens.make_link_token(
                "rsvp", ("invitation", 1), expires_at=datetime.now(UTC) + timedelta(days=1), bind=None
            )
    else:
        make.act(action, None, "dropped", note="No longer needed.")
    response = visitor.get(url)
    body = response.get_data(as_text=True)
    if problem == "closed action":
        assert response.status_code == 200 and "This action is closed." in body and "Accept the action" not in body
        token = csrf_token(visitor, "/login")  # the page offers no form any more
        assert visitor.post(url, data={"answer": "accept", "csrf_token": token}).status_code == 400
    else:
        assert response.status_code == 400 and "This link cannot be used" in body
        assert ("expired" in body) == (problem == "expired")
        assert visitor.post(url, data={"answer": "accept"}).status_code == 400
    with app.app_context():
        assert db.session.get(ActionItem, action).state == ("dropped" if problem == "closed action" else "proposed")


# --- bad input on the forms ---------------------------------------------------------------------------------


def snapshot(app: Flask) -> tuple:
    with app.app_context():
        return (
            db.session.execute(select(func.count()).select_from(ActionItem)).scalar_one(),
            db.session.execute(select(func.count()).select_from(ActionUpdate)).scalar_one(),
            db.session.execute(select(func.count()).select_from(OutboxMessage)).scalar_one(),
        )


def test_recording_several_actions_refuses_bad_rows_at_their_field(app: Flask, make: Factory, forum: dict) -> None:
    w = forum
    organiser, token = signed_in(app, w["organiser"])
    with app.app_context():
        ids = {k: user(w[k]).id for k in ("participant", "observer", "outsider")}
        day = db.session.get(Meeting, w["m3"]).starts_at.astimezone(ZoneInfo("Europe/Sarajevo")).date()

    def rows(*values: tuple[str, Any, str]) -> dict[str, str]:
        data = {"csrf_token": token}
        for n, (title, owner, due) in enumerate(values):
            data.update(
                {
                    f"rows-{n}-row_id": str(n + 1),
                    f"rows-{n}-was": "",
                    f"rows-{n}-title": title,
                    f"rows-{n}-owner_id": str(owner),
                    f"rows-{n}-owner_organisation_id": "0",
                    f"rows-{n}-due_on": due,
                }
            )
        return data

    path = f"/meetings/{w['m3']}/actions/new"
    before = snapshot(app)
    cases = [
        (rows(("Fine", ids["participant"], ""), ("Unknown owner", 999999, "")), "Not a valid choice"),
        (rows(("Fine", ids["participant"], ""), ("Outsider", ids["outsider"], "")), "Not a valid choice"),
        (rows(("Early", ids["participant"], (day - timedelta(days=1)).isoformat())), "cannot be before the meeting"),
        (rows(("", ids["participant"], "")), "Say what is to be done."),
        (rows(("", 0, "")), "Write at least one action"),
    ]
    for data, message in cases:
        response = organiser.post(path, data=data)
        assert response.status_code == 400 and message in response.get_data(as_text=True), message
    assert snapshot(app) == before
    # The service refuses an owner outside the forum even when the form is bypassed.
    with app.app_context():
        with pytest.raises(services.ServiceError) as refused:
            services.raise_action(
                user(w["organiser"]),
                db.session.get(Forum, w["forum"]),
                services.ActionInput(title="x", owner_id=ids["outsider"]),
            )
        assert refused.value.field == "owner_id"
        db.session.rollback()
    # Two good rows: two actions, two emails to their owners.
    response = organiser.post(
        path, data=rows(("First", ids["participant"], day.isoformat()), ("Second", ids["observer"], ""))
    )
    assert response.status_code == 302
    assert snapshot(app) == (before[0] + 2, before[1] + 2, before[2] + 2)


def test_raise_with_details_validates_case_code_themes_and_renders_markdown(
    app: Flask, make: Factory, forum: dict
) -> None:
    w = forum
    organiser, token = signed_in(app, w["organiser"])
    with app.app_context():
        owner_id = user(w["participant"]).id
    path = f"/forums/{w['forum']}/actions/new"
    form = organiser.get(path).get_data(as_text=True)
    assert "No names or identity numbers of prisoners may be entered" in form
    base = {
        "title": "Pre-release plan",
        "owner_id": owner_id,
        "owner_organisation_id": "0",
        "description": "Coordinate **housing**.\n\n<script>alert(1)</script>",
        "csrf_token": token,
    }
    before = snapshot(app)
    for extra, message in [
        ({"case_code": "Marko Markovic"}, "A case code looks like"),
        ({"themes": "Astrology"}, "is not a valid choice"),
        ({"due_on": (date.today() - timedelta(days=3)).isoformat()}, "cannot be in the past"),
    ]:
        response = organiser.post(path, data={**base, **extra})
        assert response.status_code == 400 and message in response.get_data(as_text=True), extra
    assert snapshot(app) == before
    response = organiser.post(path, data={**base, "case_code": "sa-2021-07", "themes": "Pre-release planning"})
    assert response.status_code == 302
    with app.app_context():
        action = db.session.execute(select(ActionItem).order_by(ActionItem.id.desc()).limit(1)).scalar_one()
        assert (action.case_code, action.themes, action.meeting_id) == ("SA-2021-07", ["Pre-release planning"], None)
        assert "<strong>housing</strong>" in action.description_html and "<script" not in action.description_html
    # On its board, filtered by theme.
    board = organiser.get(f"/forums/{w['forum']}/actions?theme=Pre-release+planning").get_data(as_text=True)
    assert board.count('class="board-row"') == 1


def test_raise_from_a_decision_keeps_the_link(app: Flask, make: Factory, forum: dict) -> None:
    w = forum
    make.minutes(w["m3"], versions=1, author_email=w["organiser"])  # decision 1: "Decision 1"
    organiser, token = signed_in(app, w["organiser"])
    with app.app_context():
        owner_id = user(w["participant"]).id
    meeting_page = organiser.get(f"/meetings/{w['m3']}").get_data(as_text=True)
    path = f"/meetings/{w['m3']}/decisions/1/action"
    assert path in meeting_page
    assert organiser.get(f"/meetings/{w['m3']}/decisions/2/action").status_code == 404
    form = organiser.get(path).get_data(as_text=True)
    assert 'value="Decision 1"' in form
    response = organiser.post(
        path, data={"title": "Decision 1", "owner_id": owner_id, "owner_organisation_id": "0", "csrf_token": token}
    )
    assert response.status_code == 302
    action_page = organiser.get(response.headers["Location"]).get_data(as_text=True)
    assert "From the decision" in action_page and "“Decision 1”" in action_page


def test_a_state_not_allowed_or_a_stale_version_is_refused_and_the_text_is_kept(
    app: Flask, make: Factory, forum: dict
) -> None:
    """Two people update at once: the second sees what the first posted and keeps their own text."""
    w = forum
    action = make.action(w["forum"], w["participant"], meeting_id=w["m3"])
    owner, token = signed_in(app, w["participant"])
    organiser, otoken = signed_in(app, w["organiser"])
    with app.app_context():
        opened = db.session.get(ActionItem, action).version
    before = snapshot(app)
    response = owner.post(
        f"/actions/{action}/updates", data={"to_state": "done", "note": "", "version": opened, "csrf_token": token}
    )
    assert response.status_code == 400 and "” is proposed: it cannot become done." in response.get_data(as_text=True)
    assert snapshot(app) == before
    # The organiser posts first...
    assert (
        organiser.post(
            f"/actions/{action}/updates",
            data={"note": "Reminder sent to the owner.", "version": opened, "csrf_token": otoken},
        ).status_code
        == 302
    )
    # ...the owner's update, from the page opened before, is a conflict: nothing saved, their text kept,
    # the organiser's note shown as new.
    mine = "We accept; work starts next week with the treatment team of the prison."
    response = owner.post(
        f"/actions/{action}/updates",
        data={"to_state": "accepted", "note": mine, "version": opened, "seen": "0", "csrf_token": token},
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 409
    assert mine in body and "Reminder sent to the owner." in body and "posted while you were writing" in body
    with app.app_context():
        assert db.session.get(ActionItem, action).state == "proposed"
        version = db.session.get(ActionItem, action).version
    assert f'name="version" type="hidden" value="{version}"' in body  # sending it again is a knowing decision
    assert (
        owner.post(
            f"/actions/{action}/updates",
            data={"to_state": "accepted", "note": mine, "version": version, "csrf_token": token},
        ).status_code
        == 302
    )


def test_a_review_from_a_stale_form_is_a_conflict_and_keeps_the_notes(app: Flask, make: Factory, forum: dict) -> None:
    w = forum
    action = make.action(w["forum"], w["participant"], meeting_id=w["m2"])
    organiser, token = signed_in(app, w["organiser"])
    page = organiser.get(f"/meetings/{w['m3']}/follow-up").get_data(as_text=True)
    make.act(action, w["participant"], "accepted", note="Yes.")  # meanwhile, the owner answers
    data = {**review_rows(page, {action: ("", "Discussed: on track.")}), "csrf_token": token}
    response = organiser.post(f"/meetings/{w['m3']}/follow-up", data=data)
    body = response.get_data(as_text=True)
    assert response.status_code == 409 and "Discussed: on track." in body and "Yes." in body
    with app.app_context():
        assert [u.kind for u in db.session.get(ActionItem, action).updates] == ["state", "state"]
    # Saved again from the re-shown form, it goes through.
    again = organiser.post(
        f"/meetings/{w['m3']}/follow-up",
        data={**review_rows(body, {action: ("", "Discussed: on track.")}), "csrf_token": token},
    )
    assert again.status_code == 302


def test_the_review_shows_each_actions_new_version_and_entry_after_an_owners_answer(
    app: Flask, make: Factory, forum: dict
) -> None:
    """The review is read fresh: an owner's answer shows at once in its row, with the version it now carries."""
    w = forum
    first = make.action(w["forum"], w["participant"], meeting_id=w["m2"])
    make.action(w["forum"], w["participant"], meeting_id=w["m2"])
    organiser, _token = signed_in(app, w["organiser"])
    assert len(review_rows(organiser.get(f"/meetings/{w['m3']}/follow-up").get_data(as_text=True), {})) == 8
    make.act(first, w["participant"], "accepted", note="Yes, we take it.")
    page = organiser.get(f"/meetings/{w['m3']}/follow-up").get_data(as_text=True)
    with app.app_context():
        version = db.session.get(ActionItem, first).version
    sent = review_rows(page, {})
    index = next(k.split("-")[1] for k, v in sent.items() if k.endswith("row_id") and v == str(first))
    assert "Yes, we take it." in page and sent[f"rows-{index}-was"] == str(version)


def test_a_refused_review_row_is_shown_again_at_its_field_with_what_was_typed(
    app: Flask, make: Factory, forum: dict
) -> None:
    """A refusal lands at its row's field, the state chosen and the notes typed come back, and nothing is saved."""
    w = forum
    first = make.action(w["forum"], w["participant"], meeting_id=w["m2"], title="First & <foremost>")
    second = make.action(w["forum"], w["participant"], meeting_id=w["m2"])
    organiser, token = signed_in(app, w["organiser"])
    before = snapshot(app)
    page = organiser.get(f"/meetings/{w['m3']}/follow-up").get_data(as_text=True)
    assert "First &amp; &lt;foremost&gt;" in page and "<foremost>" not in page
    assert page.count('<option selected value="">') == 2 and page.count('maxlength="5000"') == 2
    outcomes = {first: ("", "Kept <as typed>"), second: ("done", "Not possible yet.")}
    response = organiser.post(
        f"/meetings/{w['m3']}/follow-up", data={**review_rows(page, outcomes), "csrf_token": token}
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and snapshot(app) == before
    index = re.search(rf'name="rows-(\d+)-row_id" type="hidden" value="{second}"', body).group(1)
    cell = body.split(f'id="rows-{index}-to_state"')[1].split("</td>")[0]
    assert "” is proposed: it cannot become done." in cell  # the message names the action
    assert '<option selected value="done">' in cell and '<option value="">' in cell
    assert f'class="form-select form-select-sm is-invalid" id="rows-{index}-to_state"' in body
    assert "Kept &lt;as typed&gt;</textarea>" in body and "Not possible yet.</textarea>" in body
    too_long = organiser.post(
        f"/meetings/{w['m3']}/follow-up", data={**review_rows(page, {first: ("", "x" * 5001)}), "csrf_token": token}
    )
    assert too_long.status_code == 400 and "is-invalid" in too_long.get_data(as_text=True)
    assert snapshot(app) == before


def test_staff_comment_without_changing_state(app: Flask, make: Factory, forum: dict) -> None:
    w = forum
    action = make.action(w["forum"], w["participant"], meeting_id=w["m3"])
    staff, token = signed_in(app, w["staff"])
    with app.app_context():
        version = db.session.get(ActionItem, action).version
    page = staff.get(f"/actions/{action}").get_data(as_text=True)
    assert "Add a review comment" in page and 'name="to_state"' not in page
    assert (
        staff.post(
            f"/actions/{action}/updates",
            data={"to_state": "accepted", "note": "x", "version": version, "csrf_token": token},
        ).status_code
        == 400
    )
    assert (
        staff.post(
            f"/actions/{action}/updates",
            data={"note": "Please add the municipality.", "version": version, "csrf_token": token},
        ).status_code
        == 302
    )
    with app.app_context():
        a = db.session.get(ActionItem, action)
        assert a.state == "proposed" and (a.updates[-1].kind, a.updates[-1].note) == (
            "comment",
            "Please add the municipality.",
        )


# --- overdue, in the forum's time zone ----------------------------------------------------------------------


def test_overdue_is_judged_by_the_forums_date(app: Flask, make: Factory) -> None:
    """At 23:30 UTC on 10 March it is already 11 March in Sarajevo but still 10 March in UTC: an action due on
    10 March is overdue in a Sarajevo forum and not in a UTC one."""
    w = make.world()
    utc_forum = make.forum(w["grant"], timezone_name="UTC")
    make.add_member(utc_forum, w["participant"])
    ids = {}
    with app.app_context():
        owner = user(w["participant"])
        for key, forum_id in (("sarajevo", w["forum"]), ("utc", utc_forum)):
            forum_row = db.session.get(Forum, forum_id)
            with clock.at(datetime(2031, 3, 1, 9, 0, tzinfo=UTC)):
                action = services.raise_action(
                    owner,
                    forum_row,
                    services.ActionInput(title=key, owner_id=owner.id, due_on=date(2031, 3, 10)),
                    notify=False,
                )
            ids[key] = action.id
        db.session.commit()
        with clock.at(datetime(2031, 3, 10, 23, 30, tzinfo=UTC)):
            forums = [db.session.get(Forum, f) for f in (w["forum"], utc_forum)]
            counts = followup.overdue_counts(user(w["admin"]), forums)
            mine = queries.my_actions(owner)
            assert counts == {w["forum"]: 1}
            assert [a.title for a in mine.awaiting] == ["sarajevo", "utc"]
            assert followup.is_overdue(db.session.get(ActionItem, ids["sarajevo"]))
            assert not followup.is_overdue(db.session.get(ActionItem, ids["utc"]))


def test_my_actions_sections_are_decided_in_sql_and_the_home_page_loads_only_their_first_rows(app, make) -> None:
    """Each open action lands in one section (proposed → awaiting; overdue; due within 14 days; the rest),
    and with a limit each section holds its first ``limit`` by due date, whatever else the person owns."""
    w = make.world()
    with app.app_context():
        owner = user(w["participant"])
        forum_row = db.session.get(Forum, w["forum"])
        start = datetime(2031, 3, 1, 9, 0, tzinfo=UTC)
        due = {
            "awaiting-1": 40,
            "awaiting-2": 2,
            "overdue-1": 3,
            "overdue-2": 1,
            "soon-1": 20,
            "soon-2": 15,
            "later-1": 60,
            "later-2": 45,
            "undated": None,
        }
        for title, days in due.items():
            with clock.at(start):
                action = services.raise_action(
                    owner,
                    forum_row,
                    services.ActionInput(
                        title=title, owner_id=owner.id, due_on=date(2031, 3, 1) + timedelta(days=days) if days else None
                    ),
                    notify=False,
                )
                if not title.startswith("awaiting"):
                    services.answer_proposal(owner, action, accept=True)
        db.session.commit()
        with clock.at(datetime(2031, 3, 10, 12, tzinfo=UTC)):  # 10 March: due by the 9th is overdue
            full = queries.my_actions(owner)
            first = queries.my_actions(owner, limit=1)

        def titles(mine) -> dict[str, list[str]]:
            return {
                name: [a.title for a in getattr(mine, name)] for name in ("awaiting", "overdue", "due_soon", "rest")
            }

        assert titles(full) == {
            "awaiting": ["awaiting-2", "awaiting-1"],
            "overdue": ["overdue-2", "overdue-1"],
            "due_soon": ["soon-2", "soon-1"],
            "rest": ["later-2", "later-1", "undated"],
        }
        assert titles(first) == {
            "awaiting": ["awaiting-2"],
            "overdue": ["overdue-2"],
            "due_soon": ["soon-2"],
            "rest": ["later-2"],
        }


def test_a_new_meetings_agenda_opens_with_the_review() -> None:
    assert services.agenda_with_review("1. Welcome\n2. Follow-up review of open actions\n3. AOB\n") == (
        "1. Review of agreed actions\n2. Welcome\n3. AOB\n"
    )
    assert services.agenda_with_review("1. Follow-up review\n2. Next steps") == "1. Follow-up review\n2. Next steps"
    assert services.agenda_with_review("") == "1. Review of agreed actions\n"


def test_plan_next_meeting_starts_with_the_review(app: Flask, make: Factory) -> None:
    w = make.world()
    make.meeting(w["forum"], state="held", starts_in_days=-7)
    client, token = signed_in(app, w["organiser"])
    follow_on = client.get(f"/forums/{w['forum']}/meetings/new?next=1").get_data(as_text=True)
    fields = dict(re.findall(r'name="(follow_on|title|day|start_time|end_time|venue)"[^>]*value="([^"]*)"', follow_on))
    agenda = html.unescape(
        re.search(r'<textarea[^>]*name="agenda_md"[^>]*>\r?\n?(.*?)</textarea>', follow_on, re.S).group(1)
    )
    assert agenda.startswith("1. Review of agreed actions")
    assert (
        client.post(
            f"/forums/{w['forum']}/meetings/new?next=1",
            data={**fields, "agenda_md": agenda, "csrf_token": token, "save": "Save"},
        ).status_code
        == 302
    )
    with app.app_context():
        latest = db.session.execute(select(Meeting).order_by(Meeting.id.desc()).limit(1)).scalar_one()
        assert latest.agenda_md.startswith("1. Review of agreed actions")
    new_form = client.get(f"/forums/{w['forum']}/meetings/new").get_data(as_text=True)
    assert "1. Review of agreed actions" in new_form
    with app.app_context():
        assert (
            db.session.execute(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.verb == "meeting.plan_next")
            ).scalar_one()
            == 1
        )


def test_a_past_meetings_follow_up_shows_a_renamed_owner_and_a_new_title_at_once(app: Flask, make: Factory) -> None:
    w = make.world()
    earlier = make.meeting(w["forum"], state="held", starts_in_days=-30)
    meeting = make.meeting(w["forum"], state="held", starts_in_days=-2)
    action_id = make.action(w["forum"], w["participant"], meeting_id=earlier, title="Share the release calendar")
    organiser, _token = signed_in(app, w["organiser"])

    def row() -> str:
        page = organiser.get(f"/meetings/{meeting}").get_data(as_text=True)
        found = re.search(rf'<tr data-action="{action_id}">(.*?)</tr>', page, re.S)
        return html.unescape(re.sub(r"\s+", " ", found.group(1)))

    assert "Amra Renamed" not in row()
    with app.app_context():
        db.session.execute(select(User).where(User.email == w["participant"])).scalar_one().name = "Amra Renamed"
        db.session.commit()
    assert "Amra Renamed" in row()
    with app.app_context():
        db.session.get(ActionItem, action_id).title = "Share the new release calendar"
        db.session.commit()
    assert "Share the new release calendar" in row()


def test_forum_cards_overdue_counts_follow_the_forums_date_and_its_actions(app: Flask, make: Factory) -> None:
    w = make.world()
    with app.app_context():
        owner, forum_row = user(w["participant"]), db.session.get(Forum, w["forum"])
        with clock.at(datetime(2031, 3, 1, 9, 0, tzinfo=UTC)):
            for due in (date(2031, 3, 5), date(2031, 3, 12)):
                services.raise_action(
                    owner,
                    forum_row,
                    services.ActionInput(title=f"due {due}", owner_id=owner.id, due_on=due),
                    notify=False,
                )
        db.session.commit()

    def overdue_on_card(day: int) -> str:
        with clock.at(datetime(2031, 3, day, 12, 0, tzinfo=UTC)):
            admin, _token = signed_in(app, w["admin"])  # a session of that day
            page = admin.get("/forums").get_data(as_text=True)
        found = re.search(r'class="text-danger overdue-count"[^>]*>(\d+) overdue', page)
        return found.group(1) if found else "0"

    assert overdue_on_card(4) == "0" and overdue_on_card(10) == "1"
    assert overdue_on_card(13) == "2"  # a new day in the forum
    with app.app_context():
        first_due = db.session.execute(select(ActionItem.id).where(ActionItem.title == "due 2031-03-05")).scalar_one()
    for state in ("accepted", "in_progress", "done"):  # its owner takes it up, then reports it done
        make.act(first_due, w["participant"], to_state=state, note="Sent.", at=datetime(2031, 3, 13, 9, 0, tzinfo=UTC))
    assert overdue_on_card(13) == "1"  # done: no longer overdue

"""A home that starts the work, and one word for one meaning (issue 21, parts 4 and 5).

An organiser's home names each forum of her grants with its next step as a link; the steps of the
meetings waiting for her are links, not button-like labels; staff see overdue actions per forum and
both kinds of coverage, named: agencies among the members (the grant holder's own included) and
agencies at the last three meetings.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from forum_app.extensions import db
from forum_app.models import Forum, User

from .conftest import sign_in
from .factories import Factory


@pytest.fixture
def world(make: Factory) -> dict[str, Any]:
    return make.world()


@pytest.fixture
def organiser(app: Flask, world) -> FlaskClient:
    return sign_in(app.test_client(), world["organiser"])


def forum_row(client: FlaskClient, forum_id: int) -> str:
    """The organiser's home row of the forum (its name and next step)."""
    page = client.get("/").get_data(as_text=True)
    section = page.split('id="my-forums"', 1)[1].split("</section>", 1)[0]
    rows = re.findall(r'<li class="list-group-item[^"]*forum-step".*?</li>', section, re.S)
    found = [row for row in rows if f'href="/forums/{forum_id}"' in row]
    assert len(found) == 1, section
    return found[0]


def links(html: str) -> list[tuple[str, str]]:
    """(href, text) of the step links in ``html``."""
    return [
        (href.replace("&amp;", "&"), re.sub(r'<span class="visually-hidden">.*?</span>', "", text).strip())
        for href, text in re.findall(r'<a class="btn[^"]*step-link" href="([^"]+)">(.*?)</a>', html, re.S)
    ]


def test_a_new_organiser_sees_her_forum_by_name_with_its_first_step(app, world, organiser):
    row = forum_row(organiser, world["forum"])
    with app.app_context():
        title = db.session.get(Forum, world["forum"]).title
    assert title in row
    assert links(row) == [(f"/forums/{world['forum']}/meetings/new", "Plan the first meeting")]
    # The other grant's forum is not hers.
    assert f'href="/forums/{world["other_forum"]}"' not in organiser.get("/").get_data(as_text=True)


def test_a_draft_to_schedule_and_a_draft_whose_date_has_passed(app, world, organiser, make):
    draft = make.meeting(world["forum"], state="draft", starts_in_days=20)
    assert links(forum_row(organiser, world["forum"])) == [(f"/meetings/{draft}#state-actions", "Schedule the draft")]
    other_forum = make.forum(world["grant"])
    stale = make.meeting(other_forum, state="draft", starts_in_days=-2)
    row = forum_row(organiser, other_forum)
    assert "re-date or cancel it" in row
    assert links(row) == [
        (f"/meetings/{stale}/edit", "Re-date the draft"),
        (f"/meetings/{stale}#state-actions", "Cancel it"),
    ]


def test_a_meeting_that_has_started_is_to_be_recorded_then_its_minutes(app, world, organiser, make):
    # Published, started yesterday, not yet marked held: the meeting is to be recorded.
    started = make.meeting(world["forum"], state="scheduled", starts_in_days=-1)
    assert links(forum_row(organiser, world["forum"])) == [(f"/meetings/{started}/attendance", "Record the meeting")]
    with app.app_context():
        from forum_app.models import Meeting

        db.session.delete(db.session.get(Meeting, started))
        db.session.commit()

    held = make.meeting(world["forum"], state="held", starts_in_days=-10)
    inv = make.invite(held, world["participant"])
    assert links(forum_row(organiser, world["forum"]))[0] == (f"/meetings/{held}/attendance", "Record the meeting")
    make.mark_attendance(inv, "present")
    assert links(forum_row(organiser, world["forum"]))[0] == (f"/meetings/{held}/minutes", "Write the minutes")
    make.minutes(held)
    assert links(forum_row(organiser, world["forum"]))[0] == (f"/meetings/{held}#minutes", "Circulate the minutes")
    make.minutes(held, state="circulated")
    assert links(forum_row(organiser, world["forum"]))[0] == (f"/meetings/{held}#minutes", "Adopt the minutes")


def test_after_adoption_the_next_meeting_is_planned_or_awaited(app, world, organiser, make):
    held = make.meeting(world["forum"], state="held", starts_in_days=-10)
    make.walk_in(held)  # attendance recorded (a walk-in is enough)
    make.minutes(held, state="adopted")
    assert links(forum_row(organiser, world["forum"])) == [
        (f"/forums/{world['forum']}/meetings/new?next=1", "Plan the next meeting")
    ]
    upcoming = make.meeting(world["forum"], state="scheduled", starts_in_days=30)
    ((href, text),) = links(forum_row(organiser, world["forum"]))
    assert href == f"/meetings/{upcoming}" and text.startswith("Next meeting on ")


def test_the_steps_of_meetings_waiting_are_links(app, world, organiser, make):
    held = make.meeting(world["forum"], state="held", starts_in_days=-3)
    make.minutes(held, state="circulated")
    tasks = organiser.get("/").get_data(as_text=True).split('id="tasks"', 1)[1].split("</section>", 1)[0]
    assert re.search(rf'<a class="[^"]*task-step" href="/meetings/{held}#minutes">Adopt the minutes', tasks)
    assert "badge text-bg-warning" not in tasks  # no button-like label that does nothing


def test_staff_see_overdue_actions_per_forum_and_both_coverages(app, world, make):
    holder_kind_forum = world["forum"]
    welfare = make.organisation("Centre for Social Work", kind="social_welfare")
    with app.app_context():
        participant = db.session.execute(db.select(User).where(User.email == world["participant"])).scalar_one()
        participant.organisation_id = welfare
        db.session.commit()
    held = make.meeting(holder_kind_forum, state="held", starts_in_days=-20)
    inv = make.invite(held, world["participant"])
    make.mark_attendance(inv, "present")
    make.action(holder_kind_forum, world["participant"], meeting_id=held, due_in_days=5)  # overdue: due 15 days ago
    make.action(holder_kind_forum, world["participant"], meeting_id=held, due_in_days=10)  # overdue
    make.action(holder_kind_forum, world["participant"], meeting_id=held, due_in_days=30)  # not yet
    staff = sign_in(app.test_client(), world["staff"])
    page = staff.get("/").get_data(as_text=True)
    overview = page.split('id="overview"', 1)[1]
    assert "Agencies among the members" in overview and "Agencies at the last three meetings held" in overview
    row = overview.split(f'href="/forums/{holder_kind_forum}"', 1)[1].split("</tr>", 1)[0]
    cells = dict(re.findall(r'<td data-label="([^"]+)"[^>]*>(.*?)</td>', row, re.S))
    # Members: the social welfare centre and the grant holder (an NGO), who organises the forum.
    assert cells["Agencies among the members"].startswith("<span>2/8</span>")
    assert (
        "NGO" not in cells["Agencies among the members"]
        and "Social welfare" not in cells["Agencies among the members"].split("missing:")[1]
    )
    assert cells["Agencies at the last three meetings held"].startswith("<span>1/8</span>")
    assert f'href="/forums/{holder_kind_forum}/actions?overdue=1">2</a>' in cells["Overdue actions"]
    other = overview.split(f'href="/forums/{world["other_forum"]}"', 1)[1].split("</tr>", 1)[0]
    other_cells = dict(re.findall(r'<td data-label="([^"]+)"[^>]*>(.*?)</td>', other, re.S))
    assert other_cells["Agencies at the last three meetings held"] == "—" and other_cells["Overdue actions"] == "0"


def test_the_forum_page_names_both_and_counts_the_grant_holder(app, world, organiser, make):
    page = organiser.get(f"/forums/{world['forum']}").get_data(as_text=True)
    members = page.split('id="coverage-h"', 1)[1].split('id="attended-h"', 1)[0]
    assert "Agencies among the members" in members and "✓ NGO" in members
    missing = members.split('id="coverage-missing"', 1)[1]
    assert "NGO" not in missing  # the grant holder is represented
    assert "No meeting has been held yet." in page
    held = make.meeting(world["forum"], state="held", starts_in_days=-5)
    make.walk_in(held, kind="police")
    attended = organiser.get(f"/forums/{world['forum']}").get_data(as_text=True).split('id="attended-h"', 1)[1]
    assert "Agencies at the last three meetings held" in page and "✓ Police" in attended.split("</ul>", 1)[0]

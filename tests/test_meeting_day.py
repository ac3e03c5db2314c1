"""The meeting day (issue 21, parts 1 and 3): recording a meeting item by item on the "During the meeting"
page, drafting the minutes from it, and adopting minutes at the next meeting."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from forum_app.core import clock
from forum_app.core.errors import ConflictError, ServiceError
from forum_app.extensions import db
from forum_app.forums import services as forums
from forum_app.meetings import day, minutes
from forum_app.meetings import services as meetings
from forum_app.meetings.services import MeetingDetails
from forum_app.models import ActionItem, AgendaItem, Forum, Invitation, Meeting, MinutesVersion, User

from .conftest import CSRF_RE, sign_in
from .factories import Factory

AGENDA = "# Agenda\n\n1. Review of agreed actions\n2. Housing after release\n3. Employment\n4. …\n"
ITEM_LOADED_RE = re.compile(r'name="item-(\d+)-loaded" type="hidden" value="([^"]*)"')


# --- helpers ----------------------------------------------------------------------------------------


@pytest.fixture
def world(make: Factory) -> dict:
    return make.world()


def held_meeting(make: Factory, world: dict, agenda: str = AGENDA, days_ago: int = 2) -> int:
    meeting = make.meeting(world["forum"], state="held", starts_in_days=-days_ago, agenda_md=agenda)
    make.invite(meeting, world["participant"])
    make.invite(meeting, world["organiser"])
    return meeting


def as_(app: Flask, world: dict, role: str) -> FlaskClient:
    """A client signed in as the world's ``role`` (or as the person whose email ``role`` is)."""
    return sign_in(app.test_client(), world.get(role, role))


def items(app: Flask, meeting_id: int) -> list[tuple[int, str, str, str, list]]:
    """(id, kind, title, notes, decisions) in agenda order."""
    with app.app_context():
        return [
            (i.id, i.kind, i.title, i.notes_md, list(i.decisions))
            for i in db.session.execute(
                select(AgendaItem).where(AgendaItem.meeting_id == meeting_id).order_by(AgendaItem.position)
            ).scalars()
        ]


def count(app: Flask, model, *where) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def open_page(client: FlaskClient, meeting_id: int) -> tuple[str, str, dict[int, str]]:
    """The page's HTML, its CSRF token and each item form's ``loaded`` values."""
    response = client.get(f"/meetings/{meeting_id}/during")
    assert response.status_code == 200, response.status_code
    text = response.get_data(as_text=True)
    match = CSRF_RE.search(text)
    assert match
    loaded = {int(i): html.unescape(v) for i, v in ITEM_LOADED_RE.findall(text)}
    return text, match.group(1) or match.group(2), loaded


def save_item(client, meeting_id, item_id, token, loaded, title, notes="", decisions=""):
    p = f"item-{item_id}-"
    return client.post(
        f"/meetings/{meeting_id}/during/items/{item_id}",
        data={
            f"{p}csrf_token": token,
            f"{p}loaded": loaded,
            f"{p}title": title,
            f"{p}notes_md": notes,
            f"{p}decisions": decisions,
        },
    )


def action_rows(item_id: int, token: str, rows: list[tuple[str, int, str]]) -> dict[str, str]:
    p = f"actions-{item_id}-"
    data = {f"{p}csrf_token": token}
    for n, (title, owner_id, due) in enumerate(rows):
        data |= {
            f"{p}rows-{n}-row_id": str(n + 1),
            f"{p}rows-{n}-was": "",
            f"{p}rows-{n}-title": title,
            f"{p}rows-{n}-owner_id": str(owner_id),
            f"{p}rows-{n}-owner_organisation_id": "0",
            f"{p}rows-{n}-due_on": due,
        }
    return data


def run(app: Flask, service):
    with app.app_context():
        result = service()
        db.session.commit()
        return result


# --- agenda items from the agenda's Markdown -------------------------------------------------------------


def test_agenda_titles_take_top_level_list_items_else_headings():
    assert day.agenda_titles(AGENDA) == ["Review of agreed actions", "Housing after release", "Employment"]
    nested = "- Welcome\n  - coffee\n* Reports\n+ Next date\n"
    assert day.agenda_titles(nested) == ["Welcome", "Reports", "Next date"]
    assert day.agenda_titles("## Opening ##\n\ntext\n\n## Cases\n") == ["Opening", "Cases"]
    assert day.agenda_titles("Just a paragraph.") == []
    assert day.agenda_titles("1. " + "x" * 400) == ["x" * 300]


def test_opening_the_page_derives_the_items_once(app, make, world):
    meeting = held_meeting(make, world)
    client = as_(app, world, "organiser")
    open_page(client, meeting)
    first = items(app, meeting)
    assert [(kind, title) for _, kind, title, _, _ in first] == [
        ("review", "Review of agreed actions"),
        ("topic", "Housing after release"),
        ("topic", "Employment"),
    ]
    open_page(client, meeting)  # again, and through the service: nothing more
    with app.app_context():
        again = day.derive_items(
            db.session.get(User, make.user_id(world["organiser"])), db.session.get(Meeting, meeting)
        )
        assert len(again) == 3
        db.session.rollback()
    assert items(app, meeting) == first


def test_an_agenda_without_a_review_gets_one_first(app, make, world):
    meeting = held_meeting(make, world, agenda="- Welcome\n- Cases\n")
    open_page(as_(app, world, "organiser"), meeting)
    assert [(kind, title) for _, kind, title, _, _ in items(app, meeting)] == [
        ("review", "Review of agreed actions"),
        ("topic", "Welcome"),
        ("topic", "Cases"),
    ]


# --- notes and decisions, item by item -------------------------------------------------------------------


def test_each_item_saves_on_its_own_and_a_conflict_costs_only_that_item(app, make, world):
    meeting = held_meeting(make, world)
    second = make.user()
    make.add_to_team(world["grant"], second)
    alice, bob = as_(app, world, "organiser"), as_(app, world, second)
    _, alice_token, alice_loaded = open_page(alice, meeting)
    _, bob_token, bob_loaded = open_page(bob, meeting)
    review, housing, employment = (i[0] for i in items(app, meeting))

    saved = save_item(
        alice,
        meeting,
        housing,
        alice_token,
        alice_loaded[housing],
        "Housing after release",
        "Two places found.",
        "Ask the municipality for a third\nReport at the next meeting",
    )
    assert saved.status_code == 302 and saved.headers["Location"].endswith(f"#item-{housing}")

    # Bob's form was opened before Alice saved: his save of the same item is a conflict, nothing of his is written...
    stale = save_item(bob, meeting, housing, bob_token, bob_loaded[housing], "Housing", "One place found.")
    assert stale.status_code == 409
    page = stale.get_data(as_text=True)
    assert "Someone else saved first" in page and "Two places found." in page and "One place found." in page
    # ...and his save of another item goes through.
    other = save_item(bob, meeting, employment, bob_token, bob_loaded[employment], "Employment", "Job fair in May.")
    assert other.status_code == 302

    by_id = {i[0]: i for i in items(app, meeting)}
    assert by_id[housing][2:] == (
        "Housing after release",
        "Two places found.",
        ["Ask the municipality for a third", "Report at the next meeting"],
    )
    assert by_id[employment][3] == "Job fair in May."
    assert by_id[review][3] == ""
    with app.app_context():
        item = db.session.get(AgendaItem, housing)
        assert item.version == 2 and "<p>Two places found.</p>" in item.notes_html


def test_a_knowing_resave_after_the_conflict_goes_through(app, make, world):
    meeting = held_meeting(make, world)
    client = as_(app, world, "organiser")
    _, token, loaded = open_page(client, meeting)
    housing = items(app, meeting)[1][0]
    with app.app_context():  # someone else saves meanwhile, through the service
        item = db.session.get(AgendaItem, housing)
        day.save_item(
            item.meeting.created_by,
            item,
            day.ItemInput("Housing after release", "Theirs", []),
            json.loads(loaded[housing]),
        )
        db.session.commit()
    stale = save_item(client, meeting, housing, token, loaded[housing], "Housing after release", "Mine")
    assert stale.status_code == 409
    rebased = ITEM_LOADED_RE.search(stale.get_data(as_text=True).split(f'id="item-{housing}"', 1)[1])
    again = save_item(client, meeting, housing, token, html.unescape(rebased.group(2)), "Housing after release", "Mine")
    assert again.status_code == 302
    assert items(app, meeting)[1][3] == "Mine"


@pytest.mark.parametrize(
    ("title", "notes", "decisions", "message"),
    [
        ("   ", "", "", "This field is required."),
        ("x" * 301, "", "", "300"),
        ("Housing", "n" * 20_001, "", "20000"),
        ("Housing", "", "d" * 1001, "1000"),
    ],
)
def test_bad_item_input_is_refused_and_nothing_changes(app, make, world, title, notes, decisions, message):
    meeting = held_meeting(make, world)
    client = as_(app, world, "organiser")
    _, token, loaded = open_page(client, meeting)
    housing = items(app, meeting)[1][0]
    before = items(app, meeting)
    response = save_item(client, meeting, housing, token, loaded[housing], title, notes, decisions)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert items(app, meeting) == before


def test_a_nul_character_is_refused_not_a_500(app, make, world):
    meeting = held_meeting(make, world)
    client = as_(app, world, "organiser")
    _, token, loaded = open_page(client, meeting)
    housing = items(app, meeting)[1][0]
    before = items(app, meeting)
    assert save_item(client, meeting, housing, token, loaded[housing], "Hou\x00sing").status_code == 400
    assert items(app, meeting) == before


def test_an_item_of_another_meeting_is_not_found(app, make, world):
    meeting, other = held_meeting(make, world), held_meeting(make, world)
    client = as_(app, world, "organiser")
    _, token, loaded = open_page(client, meeting)
    open_page(client, other)
    foreign = items(app, other)[1][0]
    response = save_item(client, meeting, foreign, token, loaded[items(app, meeting)[1][0]], "Taken over")
    assert response.status_code == 404
    assert items(app, other)[1][2] == "Housing after release"


def test_items_are_added_renamed_moved_and_removed(app, make, world):
    meeting = held_meeting(make, world)
    client = as_(app, world, "organiser")
    _, token, _ = open_page(client, meeting)
    review, housing, employment = (i[0] for i in items(app, meeting))
    added = client.post(f"/meetings/{meeting}/during/items", data={"csrf_token": token, "title": "Any other business"})
    assert added.status_code == 302
    assert client.post(f"/meetings/{meeting}/during/items", data={"csrf_token": token, "title": " "}).status_code == 400
    assert len(items(app, meeting)) == 4
    client.post(f"/meetings/{meeting}/during/items/{employment}/move", data={"csrf_token": token, "direction": "up"})
    assert [i[0] for i in items(app, meeting)][:3] == [review, employment, housing]
    client.post(f"/meetings/{meeting}/during/items/{review}/move", data={"csrf_token": token, "direction": "up"})
    assert [i[0] for i in items(app, meeting)][0] == review  # already first: nothing moves
    client.post(f"/meetings/{meeting}/during/items/{review}/remove", data={"csrf_token": token})
    client.post(f"/meetings/{meeting}/during/items/{housing}/remove", data={"csrf_token": token})
    assert [i[0] for i in items(app, meeting)][:2] == [review, employment]  # the review stays, the topic went
    assert [i[2] for i in items(app, meeting)] == ["Review of agreed actions", "Employment", "Any other business"]


# --- actions under an item ---------------------------------------------------------------------------------


def test_several_actions_are_agreed_under_an_item(app, make, world):
    meeting = held_meeting(make, world)
    client = as_(app, world, "organiser")
    _, token, _ = open_page(client, meeting)
    housing = items(app, meeting)[1][0]
    participant, organiser = make.user_id(world["participant"]), make.user_id(world["organiser"])
    due = (clock.utcnow() + timedelta(days=30)).date().isoformat()
    response = client.post(
        f"/meetings/{meeting}/during/items/{housing}/actions",
        data=action_rows(
            housing, token, [("Find a flat", participant, due), ("Call the centre", organiser, ""), ("", 0, "")]
        ),
    )
    assert response.status_code == 302 and response.headers["Location"].endswith(f"#item-{housing}")
    assert count(app, ActionItem, ActionItem.agenda_item_id == housing, ActionItem.meeting_id == meeting) == 2
    page, _, _ = open_page(client, meeting)
    assert "Find a flat" in page and "Call the centre" in page


def test_a_bad_action_row_records_none_of_them(app, make, world):
    meeting = held_meeting(make, world)
    client = as_(app, world, "organiser")
    _, token, _ = open_page(client, meeting)
    housing = items(app, meeting)[1][0]
    participant = make.user_id(world["participant"])
    response = client.post(
        f"/meetings/{meeting}/during/items/{housing}/actions",
        data=action_rows(housing, token, [("Find a flat", participant, ""), ("No owner", 0, "")]),
    )
    assert response.status_code == 400
    assert "Choose an owner" in response.get_data(as_text=True)
    assert count(app, ActionItem) == 0


# --- drafting the minutes ---------------------------------------------------------------------------------


def test_draft_minutes_are_built_from_the_record(app, make, world):
    meeting = held_meeting(make, world)
    probation = make.organisation(kind="probation")
    with app.app_context():
        db.session.get(User, make.user_id(world["participant"])).organisation_id = probation
        db.session.commit()
    make.walk_in(meeting, name="Walk-in Person", kind="ngo")
    client = as_(app, world, "organiser")
    _, token, loaded = open_page(client, meeting)
    with app.app_context():
        inv = db.session.execute(
            select(Invitation).where(
                Invitation.meeting_id == meeting, Invitation.user_id == make.user_id(world["participant"])
            )
        ).scalar_one()
        inv_id = inv.id
    make.mark_attendance(inv_id, "present")
    review, housing, employment = (i[0] for i in items(app, meeting))
    save_item(
        client,
        meeting,
        housing,
        token,
        loaded[housing],
        "Housing after release",
        "Two places found.",
        "Ask for a third",
    )
    save_item(client, meeting, employment, token, loaded[employment], "Employment", "", "Job fair in May")
    due = (clock.utcnow() + timedelta(days=30)).date()
    client.post(
        f"/meetings/{meeting}/during/items/{housing}/actions",
        data=action_rows(housing, token, [("Find a flat", make.user_id(world["participant"]), due.isoformat())]),
    )
    _, token, _ = open_page(client, meeting)
    response = client.post(f"/meetings/{meeting}/during/minutes", data={"csrf_token": token, "base_revision": "0"})
    assert response.status_code == 302 and response.headers["Location"].endswith("#minutes")
    with app.app_context():
        version = db.session.execute(select(MinutesVersion).where(MinutesVersion.meeting_id == meeting)).scalar_one()
        body = version.body_md
        assert version.number == 1 and version.decisions == ["Ask for a third", "Job fair in May"]
    assert "2 people present." in body and "- Probation: 1" in body and "- NGO: 1" in body
    assert "Walk-in Person" not in body  # counted by kind, not named
    assert "## 1. Review of agreed actions" in body and "## 2. Housing after release" in body
    assert "Two places found." in body
    assert "- Find a flat: User" in body and "due" in body
    assert body.index("Find a flat") > body.index("## 2. Housing") and body.index("Find a flat") < body.index("## 3.")

    # Again: a new version, clearly (the first stays in the history); a stale page is refused.
    assert (
        client.post(f"/meetings/{meeting}/during/minutes", data={"csrf_token": token, "base_revision": "0"}).status_code
        == 302
    )
    assert count(app, MinutesVersion, MinutesVersion.meeting_id == meeting) == 1
    page, token, loaded = open_page(client, meeting)
    assert "Draft the minutes again as version 2" in page
    unchanged = client.post(f"/meetings/{meeting}/during/minutes", data={"csrf_token": token, "base_revision": "1"})
    assert unchanged.status_code == 302 and count(app, MinutesVersion, MinutesVersion.meeting_id == meeting) == 1
    save_item(
        client, meeting, employment, token, loaded[employment], "Employment", "Fair moved to June.", "Job fair in May"
    )
    client.post(f"/meetings/{meeting}/during/minutes", data={"csrf_token": token, "base_revision": "1"})
    assert count(app, MinutesVersion, MinutesVersion.meeting_id == meeting) == 2


def test_minutes_are_drafted_only_once_the_meeting_is_held(app, make, world):
    meeting = make.meeting(world["forum"], state="scheduled", starts_in_days=0, agenda_md=AGENDA)
    with app.app_context():  # it started an hour ago
        m = db.session.get(Meeting, meeting)
        m.starts_at, m.ends_at = clock.utcnow() - timedelta(hours=1), clock.utcnow() + timedelta(hours=1)
        db.session.commit()
    client = as_(app, world, "organiser")
    page, token, _ = open_page(client, meeting)
    assert "Minutes are written once the meeting is marked as held." in page
    assert "Mark as held" in page
    client.post(f"/meetings/{meeting}/during/minutes", data={"csrf_token": token, "base_revision": "0"})
    assert count(app, MinutesVersion) == 0


# --- who may open it, and when -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"), [("participant", 403), ("observer", 403), ("staff", 403), ("outsider", 404), ("guest", 403)]
)
def test_only_organisers_open_or_post(app, make, world, role, status):
    """Members and staff see the meeting and get 403; someone outside the forum 404; an invited guest 403."""
    meeting = held_meeting(make, world)
    if role == "guest":
        make.invite(meeting, world["outsider"])
    open_page(as_(app, world, "organiser"), meeting)
    housing = items(app, meeting)[1][0]
    client = as_(app, world, "outsider" if role == "guest" else role)
    match = CSRF_RE.search(client.get("/account").get_data(as_text=True))
    token = match.group(1) or match.group(2)
    assert client.get(f"/meetings/{meeting}/during").status_code == status
    posts = {
        f"/meetings/{meeting}/during/items": {"title": "Mine"},
        f"/meetings/{meeting}/during/items/{housing}": {f"item-{housing}-title": "Mine"},
        f"/meetings/{meeting}/during/items/{housing}/move": {"direction": "up"},
        f"/meetings/{meeting}/during/items/{housing}/remove": {},
        f"/meetings/{meeting}/during/items/{housing}/actions": {},
        f"/meetings/{meeting}/during/items/{housing}/adopt": {"base_revision": "1"},
        f"/meetings/{meeting}/during/minutes": {"base_revision": "0"},
    }
    for path, data in posts.items():
        assert client.post(path, data={"csrf_token": token, **data}).status_code == status, path
    assert items(app, meeting)[1][2] == "Housing after release"
    assert count(app, AgendaItem) == 3 and count(app, MinutesVersion) == 0


def test_the_page_opens_once_the_meeting_has_started(app, make, world):
    future = make.meeting(world["forum"], state="scheduled", starts_in_days=7, agenda_md=AGENDA)
    draft = make.meeting(world["forum"], state="draft", starts_in_days=-1, agenda_md=AGENDA)
    client = as_(app, world, "organiser")
    for meeting in (future, draft):
        response = client.get(f"/meetings/{meeting}/during")
        assert response.status_code == 302 and response.headers["Location"].endswith(f"/meetings/{meeting}")
        assert "During the meeting" not in client.get(f"/meetings/{meeting}").get_data(as_text=True)
    assert count(app, AgendaItem) == 0
    held = held_meeting(make, world)
    assert f'href="/meetings/{held}/during"' in client.get(f"/meetings/{held}").get_data(as_text=True)


def test_adopted_minutes_lock_the_page(app, make, world):
    meeting = held_meeting(make, world)
    make.minutes(meeting, state="adopted")
    response = as_(app, world, "organiser").get(f"/meetings/{meeting}/during")
    assert response.status_code == 302


# --- minutes adopted at the next meeting ---------------------------------------------------------------------


def set_adoption(app: Flask, forum_id: int, way: str) -> None:
    with app.app_context():
        db.session.get(Forum, forum_id).minutes_adoption = way
        db.session.commit()


def plan_next(app: Flask, make: Factory, source_id: int, starts_ago: timedelta = timedelta(hours=1)) -> int:
    """The next meeting, planned from ``source_id`` through the service, starting ``starts_ago`` before now."""

    def service():
        source = db.session.get(Meeting, source_id)
        plan = meetings.plan_next_meeting(source.forum, source)
        start = clock.utcnow() - starts_ago
        details = MeetingDetails(
            plan.details.title, start, start + timedelta(hours=2), "Hall", "", plan.details.agenda_md
        )
        with clock.at(start - timedelta(days=20)):
            meeting = meetings.create_next_meeting(source.created_by, source.forum, details, source)
            meetings.change_state(source.created_by, meeting, "scheduled", meeting.version)
        return meeting.id

    return run(app, service)


def test_planning_the_next_meeting_adds_the_adoption_item(app, make, world):
    set_adoption(app, world["forum"], "next_meeting")
    held = held_meeting(make, world, days_ago=40)
    make.minutes(held, state="circulated")
    client = as_(app, world, "organiser")
    page = client.get(f"/meetings/{held}").get_data(as_text=True)
    assert "Adopt version 1 and lock" not in page  # not by circulation in this forum
    assert "adopts its minutes at the next meeting" in page
    assert f'href="/forums/{world["forum"]}/meetings/new?next=1&amp;after={held}"' in page
    form = client.get(f"/forums/{world['forum']}/meetings/new?next=1&after={held}").get_data(as_text=True)
    with app.app_context():
        title = day.adoption_title(db.session.get(Meeting, held))
    assert title.startswith("Adoption of the minutes of ") and f"2. {title}" in form

    following = plan_next(app, make, held)
    assert [(i[1], i[2]) for i in items(app, following)] == [("adoption", title)]
    with app.app_context():
        assert f"2. {title}" in db.session.get(Meeting, following).agenda_md
    _, token, _ = open_page(client, following)
    listed = items(app, following)
    assert [i[1] for i in listed] == ["review", "adoption", "topic", "topic"]  # the agenda's place, not twice

    # Adopting by circulation is refused in this forum; on the item it goes through.
    client.post(f"/meetings/{held}/minutes/adopt", data={"csrf_token": token, "base_revision": "1"})
    with app.app_context():
        assert db.session.get(Meeting, held).minutes_state == "circulated"
    adoption = listed[1][0]
    response = client.post(
        f"/meetings/{following}/during/items/{adoption}/adopt", data={"csrf_token": token, "base_revision": "1"}
    )
    assert response.status_code == 302
    with app.app_context():
        source = db.session.get(Meeting, held)
        assert source.minutes_state == "adopted" and source.minutes_adopted_at_meeting_id == following
        assert db.session.get(AgendaItem, adoption).adopted_at is not None
    held_page = client.get(f"/meetings/{held}").get_data(as_text=True)
    assert "Adopted at the meeting of" in held_page and f'href="/meetings/{following}"' in held_page
    next_page = client.get(f"/meetings/{following}").get_data(as_text=True)
    assert "Minutes of" in next_page and f'href="/meetings/{held}#minutes"' in next_page
    # Twice: refused, nothing changes.
    again = client.post(
        f"/meetings/{following}/during/items/{adoption}/adopt", data={"csrf_token": token, "base_revision": "1"}
    )
    assert again.status_code == 302
    assert count(app, MinutesVersion, MinutesVersion.meeting_id == held) == 1


def test_minutes_not_circulated_cannot_be_adopted_at_the_meeting(app, make, world):
    set_adoption(app, world["forum"], "next_meeting")
    held = held_meeting(make, world, days_ago=40)
    make.minutes(held, state="draft")
    following = plan_next(app, make, held)
    with app.app_context():
        item = db.session.execute(select(AgendaItem).where(AgendaItem.meeting_id == following)).scalar_one()
        with pytest.raises(ServiceError, match="has not been circulated"):
            day.adopt_at_meeting(item.meeting.created_by, item, 1)
        db.session.rollback()


def test_a_circulation_forum_plans_without_an_adoption_item_and_adopts_as_before(app, make, world):
    held = held_meeting(make, world, days_ago=40)
    make.minutes(held, state="circulated")
    following = plan_next(app, make, held)
    assert items(app, following) == []
    make.minutes(held, state="adopted", versions=0)
    with app.app_context():
        assert db.session.get(Meeting, held).minutes_state == "adopted"


def test_the_forum_form_chooses_how_minutes_are_adopted(app, make, world):
    client = as_(app, world, "admin")
    page = client.get(f"/forums/{world['forum']}/edit").get_data(as_text=True)
    assert 'name="minutes_adoption"' in page
    admin_id = make.user_id(world["admin"])
    with app.app_context():
        forum = db.session.get(Forum, world["forum"])
        loaded = forums.ForumInput.of(forum)
        admin = db.session.get(User, admin_id)
        changed = forums.ForumInput(**{**loaded.values(), "minutes_adoption": "next_meeting"})
        forums.save_forum(admin, forum, changed, loaded.values())
        db.session.commit()
        assert forum.minutes_adoption == "next_meeting"
        with pytest.raises(ServiceError):
            forums.save_forum(
                admin, forum, forums.ForumInput(**{**changed.values(), "minutes_adoption": "vote"}), changed.values()
            )
        db.session.rollback()


def test_save_item_service_conflict_and_versions(app, make, world):
    meeting = held_meeting(make, world)
    open_page(as_(app, world, "organiser"), meeting)
    with app.app_context():
        item = db.session.get(AgendaItem, items(app, meeting)[1][0])
        actor = item.meeting.created_by
        start = day.ItemInput.of(item).values()
        day.save_item(actor, item, day.ItemInput("Housing after release", "A", ["D1"]), start)
        db.session.commit()
        assert item.version == 2
        day.save_item(actor, item, day.ItemInput("Housing after release", "A", ["D1"]), day.ItemInput.of(item).values())
        db.session.commit()
        assert item.version == 2  # nothing changed, no new version
        with pytest.raises(ConflictError):
            day.save_item(actor, item, day.ItemInput("Housing after release", "B", []), start)
        db.session.rollback()
        assert minutes.current_version(item.meeting) is None


def test_actions_under_an_item_sent_twice_are_recorded_once(app, make, world):
    """The page's forms carry a prefix per item; their one-time token still works (core.once)."""
    meeting = held_meeting(make, world)
    client = as_(app, world, "organiser")
    page, token, _ = open_page(client, meeting)
    housing = items(app, meeting)[1][0]
    once_token = re.search(rf'name="actions-{housing}-form_once" type="hidden" value="([^"]+)"', page).group(1)
    data = action_rows(housing, token, [("Find a flat", make.user_id(world["participant"]), "")])
    data[f"actions-{housing}-form_once"] = once_token
    first = client.post(f"/meetings/{meeting}/during/items/{housing}/actions", data=data)
    again = client.post(f"/meetings/{meeting}/during/items/{housing}/actions", data=data)
    assert first.status_code == again.status_code == 302
    assert again.headers["Location"] == first.headers["Location"]
    assert count(app, ActionItem, ActionItem.agenda_item_id == housing) == 1
    assert "already been sent" in client.get(again.headers["Location"]).get_data(as_text=True)

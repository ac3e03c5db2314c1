"""Review comments: staff start threads on a grant, forum or meeting; the grant's organisers answer
and are notified; the thread shows on the forum and meeting pages; bad input saves nothing."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from flask import Flask
from sqlalchemy import select

from forum_app.extensions import db
from forum_app.models import OutboxMessage, ReviewComment

from .conftest import csrf_token, sign_in
from .factories import Factory
from .routes import assert_covers, outcome, walk

ROLES = ("anonymous", "admin", "staff", "organiser", "participant", "observer", "outsider")
RULE = "/reviews/<any(grant, forum, meeting):object_type>/<int:object_id>/comments"


@dataclass(frozen=True)
class Row:
    object_type: str
    answer: bool = False  # an answer to the thread's first comment, or a new thread
    method: str = "POST"
    rule: str = RULE
    body: str = field(default="Why is the March meeting still in draft?")

    def path(self, t) -> str:
        return f"/reviews/{self.object_type}/{t[self.object_type]}/comments"

    def post_data(self, t) -> dict[str, str]:
        data = {"body": self.body}
        if self.answer:
            data["in_reply_to_id"] = str(t["first_" + self.object_type])
        return data

    def __str__(self) -> str:
        return f"{self.object_type} {'answer' if self.answer else 'new'}"


ROWS = tuple(Row(kind, answer) for kind in ("grant", "forum", "meeting") for answer in (False, True))


def _count(app: Flask, **where) -> int:
    with app.app_context():
        stmt = select(ReviewComment)
        for name, value in where.items():
            stmt = stmt.where(getattr(ReviewComment, name) == value)
        return len(db.session.execute(stmt).scalars().all())


def _world(app: Flask, make: Factory) -> tuple[dict, dict]:
    world = make.world()
    meeting = make.meeting(world["forum"])
    make.invite(meeting, world["participant"])
    targets = {"grant": world["grant"], "forum": world["forum"], "meeting": meeting}
    staff = make.user("staff")
    client = app.test_client()
    sign_in(client, staff)
    token = csrf_token(client, f"/forums/{world['forum']}")
    for kind in ("grant", "forum", "meeting"):
        client.post(f"/reviews/{kind}/{targets[kind]}/comments", data={"body": "First.", "csrf_token": token})
        with app.app_context():
            targets["first_" + kind] = db.session.execute(
                select(ReviewComment.id).where(ReviewComment.object_type == kind)
            ).scalar_one()
    return world, targets


def expected(role: str, row: Row) -> int | str:
    if role == "anonymous":
        return "login"
    if role in ("participant", "observer", "outsider"):
        return 404  # they may not learn that a review exists
    if role == "organiser" and not row.answer:
        return 403  # organisers answer; staff start threads
    return 302


def test_every_review_route_has_a_row(app: Flask) -> None:
    assert_covers(app, ROWS, "reviews")


@pytest.mark.parametrize("role", ROLES)
def test_review_route_table(app: Flask, make: Factory, role: str) -> None:
    world, targets = _world(app, make)
    client = app.test_client()
    if role != "anonymous":
        sign_in(client, world[role])
    token = csrf_token(client, "/login" if role == "anonymous" else "/")
    before = _count(app)
    got = walk(client, ROWS, targets, token)
    assert got == {str(row): expected(role, row) for row in ROWS}
    saved = sum(1 for row in ROWS if expected(role, row) == 302)
    assert _count(app) == before + saved


def test_thread_on_forum_and_meeting_pages_by_role(app: Flask, make: Factory) -> None:
    world, targets = _world(app, make)
    for role, sees, starts, answers in (
        ("staff", True, True, True),
        ("admin", True, True, True),
        ("organiser", True, False, True),
        ("participant", False, False, False),
        ("observer", False, False, False),
    ):
        client = app.test_client()
        sign_in(client, world[role])
        for path in (f"/forums/{world['forum']}", f"/meetings/{targets['meeting']}"):
            page = client.get(path).get_data(as_text=True)
            assert ('id="review"' in page) is sees, (role, path)
            assert ("First." in page) is sees, (role, path)
            assert ('id="review-body"' in page) is starts, (role, path)
            assert ('name="in_reply_to_id"' in page) is answers, (role, path)


def test_staff_comment_notifies_organisers_and_answer_notifies_staff(app: Flask, make: Factory) -> None:
    world = make.world()
    second_organiser = make.user()
    make.add_to_team(world["grant"], second_organiser)
    staff_client, organiser_client = app.test_client(), app.test_client()
    sign_in(staff_client, world["staff"])
    sign_in(organiser_client, world["organiser"])
    path = f"/reviews/forum/{world['forum']}/comments"
    staff_client.post(path, data={"body": "Where are the police?", "csrf_token": csrf_token(staff_client, "/")})
    with app.app_context():
        messages = (
            db.session.execute(
                select(OutboxMessage).where(OutboxMessage.kind == "review-comment").order_by(OutboxMessage.id)
            )
            .scalars()
            .all()
        )
        assert sorted(m.to_addr for m in messages) == sorted([world["organiser"], second_organiser])
        assert "Where are the police?" in messages[0].body_text and f"/forums/{world['forum']}" in messages[0].body_text
        first = db.session.execute(select(ReviewComment.id)).scalar_one()
    organiser_client.post(
        path,
        data={
            "body": "Invited for May.",
            "in_reply_to_id": str(first),
            "csrf_token": csrf_token(organiser_client, "/"),
        },
    )
    with app.app_context():
        answer = db.session.execute(select(ReviewComment).where(ReviewComment.in_reply_to_id == first)).scalar_one()
        assert answer.body == "Invited for May."
        latest = db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(1)).scalar_one()
        assert latest.kind == "review-comment" and latest.to_addr == world["staff"]
        assert "Invited for May." in latest.body_text
    page = organiser_client.get(f"/forums/{world['forum']}").get_data(as_text=True)
    assert page.index("Where are the police?") < page.index("Invited for May.")


def test_bad_input_saves_nothing(app: Flask, make: Factory) -> None:
    world, targets = _world(app, make)
    other_meeting = make.meeting(world["other_forum"])
    client = app.test_client()
    sign_in(client, world["staff"])
    token = csrf_token(client, "/")
    before = _count(app)
    forum_path = f"/reviews/forum/{world['forum']}/comments"
    for data in (
        {"body": "   "},
        {"body": "x" * 5001},
        {"body": "Hi", "in_reply_to_id": str(targets["first_meeting"])},
        {"body": "Hi", "in_reply_to_id": "999999"},
        {"body": "Hi", "in_reply_to_id": "abc"},
    ):
        response = client.post(forum_path, data={**data, "csrf_token": token}, follow_redirects=True)
        assert response.status_code == 200, data
        assert "alert-danger" in response.get_data(as_text=True) or "danger" in response.get_data(as_text=True), data
    assert client.post(forum_path, data={"body": "No token"}).status_code == 400
    assert outcome(client.post("/reviews/action/1/comments", data={"body": "Hi", "csrf_token": token})) == 404
    assert (
        outcome(client.post("/reviews/forum/99999999999999/comments", data={"body": "Hi", "csrf_token": token})) == 404
    )
    assert outcome(client.post("/reviews/meeting/999999/comments", data={"body": "Hi", "csrf_token": token})) == 404
    assert _count(app) == before
    # Staff reach every grant, so another grant's meeting takes a comment; its organisers are not this grant's.
    assert (
        outcome(client.post(f"/reviews/meeting/{other_meeting}/comments", data={"body": "Hi", "csrf_token": token}))
        == 302
    )
    assert _count(app, object_type="meeting", object_id=other_meeting) == 1


def test_review_thread_query_count_does_not_grow(app: Flask, make: Factory, count_queries) -> None:
    world, targets = _world(app, make)
    client = app.test_client()
    sign_in(client, world["staff"])
    path = f"/forums/{world['forum']}"
    client.get(path)
    with count_queries() as small:
        client.get(path)
    token = csrf_token(client, "/")
    for n in range(10):
        client.post(f"/reviews/forum/{world['forum']}/comments", data={"body": f"Comment {n}", "csrf_token": token})
        client.post(
            f"/reviews/forum/{world['forum']}/comments",
            data={"body": f"Answer {n}", "in_reply_to_id": str(targets["first_forum"]), "csrf_token": token},
        )
    with count_queries() as large:
        page = client.get(path).get_data(as_text=True)
    assert page.count("review-answer") == 10 and page.count("review-thread") == 11
    assert len(large) == len(small)


def test_grant_thread_on_the_dashboard_filtered_to_the_grant(app: Flask, make: Factory) -> None:
    world = make.world()
    staff, organiser = app.test_client(), app.test_client()
    sign_in(staff, world["staff"])
    sign_in(organiser, world["organiser"])
    response = staff.post(
        f"/reviews/grant/{world['grant']}/comments",
        data={"body": "Budget line 3 is unspent.", "csrf_token": csrf_token(staff, "/")},
    )
    assert response.status_code == 302 and response.headers["Location"].startswith("/reports?grant=")
    page = organiser.get(response.headers["Location"]).get_data(as_text=True)
    assert "Budget line 3 is unspent." in page and 'name="in_reply_to_id"' in page and 'id="review-body"' not in page
    assert "Budget line 3 is unspent." not in organiser.get("/reports").get_data(as_text=True)
    other = staff.get(f"/reports?grant={world['other_grant']}").get_data(as_text=True)
    assert "No review comments yet." in other and "Budget line 3" not in other  # each grant keeps its own thread


def test_refused_comment_shows_its_message_at_the_field_and_keeps_the_text(app: Flask, make: Factory) -> None:
    world, _targets = _world(app, make)
    client = app.test_client()
    sign_in(client, world["staff"])
    token = csrf_token(client, "/")
    before = _count(app)
    forum_path = f"/reviews/forum/{world['forum']}/comments"
    response = client.post(
        forum_path, data={"body": "Hi", "in_reply_to_id": "999999", "csrf_token": token}, follow_redirects=True
    )
    page = response.get_data(as_text=True)
    assert 'id="review-body-error"' in page and "That comment is not in this thread." in page
    assert 'aria-invalid="true"' in page and ">Hi</textarea>" in page
    assert _count(app) == before
    # Shown once: the next view of the page is clean.
    assert 'id="review-body-error"' not in client.get(f"/forums/{world['forum']}").get_data(as_text=True)

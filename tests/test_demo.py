"""The demo data and the command-line interface."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from forum_app.demo import DEMO_PASSWORD
from forum_app.extensions import db
from forum_app.models import Base, Forum, Invitation, Meeting, User, WalkInAttendee

from .conftest import login


def row_counts(app) -> dict[str, int]:
    with app.app_context():
        return {
            t.name: db.session.execute(select(func.count()).select_from(t)).scalar_one()
            for t in Base.metadata.sorted_tables
        }


def test_seed_demo_builds_the_2021_forums_and_is_idempotent(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["forum", "seed-demo"])
    assert first.exit_code == 0, first.output
    assert "admin@forum-desk.example" in first.output and DEMO_PASSWORD in first.output
    counts = row_counts(app)
    assert runner.invoke(args=["forum", "seed-demo"]).exit_code == 0
    assert row_counts(app) == counts
    with app.app_context():
        forums = {f.city: f for f in db.session.execute(select(Forum)).scalars()}
        assert set(forums) == {"Sarajevo", "Skopje", "Bijelo Polje"}
        assert forums["Skopje"].timezone == "Europe/Skopje" and forums["Bijelo Polje"].timezone == "Europe/Podgorica"
        first_meetings = {
            m.forum.city: m.starts_at.astimezone(ZoneInfo(m.forum.timezone))
            for m in db.session.execute(select(Meeting).where(Meeting.ical_uid.like("demo-%-1@%"))).scalars()
        }
    assert first_meetings["Sarajevo"].strftime("%Y-%m-%d %H:%M") == "2021-06-30 10:00"
    assert first_meetings["Skopje"].date().isoformat() == "2021-07-02"
    assert first_meetings["Bijelo Polje"].date().isoformat() == "2021-07-02"
    assert counts["action_item"] > 0 and counts["action_update"] > counts["action_item"]
    # A delegate (issue 21, part 2): Sarajevo's police officer declined the first meeting and a colleague came.
    with app.app_context():
        delegate = db.session.execute(
            select(WalkInAttendee).where(WalkInAttendee.on_behalf_of_id.is_not(None))
        ).scalar_one()
        represented = db.session.get(Invitation, delegate.on_behalf_of_id)
        assert (delegate.name, delegate.organisation_kind) == ("Emir Delić", "police")
        assert (represented.rsvp, represented.attendance, represented.meeting.forum.city) == (
            "declined",
            "excused",
            "Sarajevo",
        )
    # A held meeting recorded on the "During the meeting" page: its agenda items, with notes.
    assert counts["agenda_item"] >= 5


def test_seed_demo_if_empty_leaves_existing_data_alone(app, make):
    make.user("admin")
    result = app.test_cli_runner().invoke(args=["forum", "seed-demo", "--if-empty"])
    assert result.exit_code == 0 and "demo not loaded" in result.output
    assert row_counts(app)["forum"] == 0


def test_demo_accounts_can_sign_in(app, client):
    app.test_cli_runner().invoke(args=["forum", "seed-demo"])
    assert login(client, "organiser.sarajevo@forum-desk.example", DEMO_PASSWORD).status_code == 302
    assert "Sarajevo local coordination forum" in client.get("/forums").get_data(as_text=True)


def test_seed_demo_is_refused_in_production(app):
    app.config["FORUM_ENV"] = "production"
    try:
        result = app.test_cli_runner().invoke(args=["forum", "seed-demo"])
    finally:
        app.config["FORUM_ENV"] = "testing"
    assert result.exit_code != 0 and "production" in result.output
    assert row_counts(app)["user_account"] == 0


def test_create_admin(app, client):
    result = app.test_cli_runner().invoke(
        args=[
            "forum",
            "create-admin",
            "--email",
            "Boss@Example.org",
            "--name",
            "Boss",
            "--password",
            "a long admin passphrase",
        ]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.execute(select(User)).scalar_one()
        assert (user.email, user.role) == ("boss@example.org", "admin")
    assert login(client, "boss@example.org", "a long admin passphrase").status_code == 302
    short = app.test_cli_runner().invoke(
        args=["forum", "create-admin", "--email", "x@example.org", "--name", "X", "--password", "short"]
    )
    assert short.exit_code != 0 and "at least" in short.output


def test_outbox_list_shows_queued_mail(app):
    from forum_app.auth.services import invite_user

    with app.app_context():
        invite_user(None, email="new@example.org", name="New Person")
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["forum", "outbox", "list", "--body"])
    assert result.exit_code == 0
    assert "new@example.org" in result.output
    # The set-password link is for the invitee alone: never printed (see test_auth_hardening).
    assert "/set-password/" not in result.output


def test_demo_actions_have_the_history_of_a_real_follow_up(app):
    """Point 8 of the actions issue: one done on time, one late, one blocked then resumed, one declined and
    reassigned, one stalled for months; reviewed at later meetings; the minutes do not retype their states."""
    from datetime import timedelta

    from forum_app.core.clock import utcnow
    from forum_app.models import ActionItem, MinutesVersion

    assert app.test_cli_runner().invoke(args=["forum", "seed-demo"]).exit_code == 0
    with app.app_context():
        actions = db.session.execute(select(ActionItem)).scalars().all()
        done = [a for a in actions if a.state == "done"]
        assert any(a.closed_at.date() <= a.due_on for a in done)
        assert any(a.closed_at.date() > a.due_on for a in done)
        states = {a.id: [u.to_state for u in a.updates if u.to_state] for a in actions}
        assert any("blocked" in s and "in_progress" in s[s.index("blocked") :] for s in states.values())
        reassigned = [a for a in actions if any(u.kind == "reassign" for u in a.updates)]
        assert reassigned and all("declined" in states[a.id] for a in reassigned)
        now = utcnow()
        assert any(
            a.state in ("accepted", "in_progress") and a.updates[-1].created_at < now - timedelta(days=180)
            for a in actions
        )
        reviewed_at = {u.meeting_id for a in actions for u in a.updates if u.kind == "review"}
        assert len(reviewed_at) >= 2
        assert all(a.description_html for a in actions)
        for version in db.session.execute(select(MinutesVersion)).scalars():
            assert "**blocked**" not in version.body_md and "**done**" not in version.body_md

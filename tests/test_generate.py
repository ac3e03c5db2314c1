"""``flask forum generate``: programme-scale data, consistent with the state rules, reproducible."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy import select, text

from forum_app import permissions
from forum_app.core.markdown import render_for_storage
from forum_app.extensions import db
from forum_app.generate import GENERATED_PASSWORD, LOGINS
from forum_app.models import ActionItem, ActionUpdate, Base, Forum, Invitation, Meeting, MinutesVersion, User
from forum_app.vocab import ACTION_CLOSED_STATES

from .conftest import login
from .test_demo import row_counts

NOW = datetime(2025, 3, 15, 12, tzinfo=UTC)  # noon UTC of --today
ARGS = ["forum", "generate", "--scale", "0.01", "--seed", "7", "--today", "2025-03-15"]


def test_generate_smoke_scale_is_consistent(app, make):
    result = app.test_cli_runner().invoke(args=ARGS)
    assert result.exit_code == 0, result.output
    counts = row_counts(app)
    assert counts["forum"] == 1 and counts["meeting"] == 20 and counts["invitation"] >= 20 * 38
    assert counts["action_item"] >= 400 and counts["action_update"] > counts["action_item"]

    with app.app_context():
        meetings = db.session.execute(select(Meeting)).scalars().all()
        for m in meetings:
            assert m.agenda_html == render_for_storage(m.agenda_md)
            if m.state == "draft":
                assert m.published_at is None and m.starts_at > NOW
            if m.state == "held":
                assert m.published_at is not None and m.starts_at < NOW and m.minutes_revision >= 1
            if m.minutes_state == "adopted":
                assert m.minutes_circulated_at and m.minutes_adopted_at and m.minutes_shared_revision >= 1
        held = {m.id for m in meetings if m.state == "held"}
        assert held and any(m.state == "scheduled" and m.starts_at > NOW for m in meetings)
        attendance = db.session.execute(select(Invitation.meeting_id, Invitation.attendance)).all()
        assert all((a is not None) == (mid in held) for mid, a in attendance)
        for v in db.session.execute(select(MinutesVersion)).scalars():
            assert v.body_html == render_for_storage(v.body_md)
        forum = db.session.execute(select(Forum)).scalar_one()
        assert forum.description_html == render_for_storage(forum.description)

        history = defaultdict(list)
        for u in db.session.execute(select(ActionUpdate).order_by(ActionUpdate.id)).scalars():
            history[u.action_id].append(u)
        for action in db.session.execute(select(ActionItem)).scalars():
            updates = history[action.id]
            assert action.meeting_id in held
            assert updates[0].to_state == "proposed" and updates[0].from_state is None
            assert action.version == len(updates)
            times = [u.created_at for u in updates]
            assert times == sorted(times) and times[-1] <= NOW
            state = "proposed"
            for u in updates[1:]:
                if u.kind == "state":
                    assert u.from_state == state and u.to_state in permissions.ACTION_TRANSITIONS[state]
                    if u.to_state in permissions.ACTION_STATES_NEEDING_REASON:
                        assert u.note.strip()
                    state = u.to_state
                elif u.kind == "review":
                    assert u.meeting_id in held and u.from_state == u.to_state == state
            assert action.state == state
            assert (action.closed_at is not None) == (state in ACTION_CLOSED_STATES)
            assert action.due_on >= action.created_at.date()

    # The planner has statistics for the bulk-loaded tables (without them SQLite picks the wrong indexes);
    # PostgreSQL's are also vacuumed (the trigram index's pending list emptied, pages marked all-visible).
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            analysed = db.session.execute(text("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'action_item'"))
        else:
            analysed = db.session.execute(
                text(
                    "SELECT count(*) FROM pg_stat_user_tables WHERE relname IN ('action_item', 'user_account')"
                    " AND last_analyze IS NOT NULL AND last_vacuum IS NOT NULL"
                )
            )
        assert analysed.scalar_one() >= (1 if db.engine.dialect.name == "sqlite" else 2)

    # The fixed logins work with the shared password, and new rows get fresh ids (PostgreSQL sequences).
    assert login(app.test_client(), LOGINS["participant"], GENERATED_PASSWORD).status_code == 302
    assert make.user_id(make.user()) > 0


def test_generate_is_reproducible_and_refuses_a_database_with_accounts(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=ARGS).exit_code == 0
    with app.app_context():
        first = db.session.execute(
            select(ActionItem.title, ActionItem.state, ActionItem.due_on).order_by(ActionItem.id)
        ).all()
        emails = db.session.execute(select(User.email).order_by(User.id)).scalars().all()
    again = runner.invoke(args=ARGS)
    assert again.exit_code != 0 and "already has accounts" in again.output
    # A clean database and the same seed: the same rows.
    with app.app_context(), db.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(text(f'DELETE FROM "{table.name}"'))
    assert runner.invoke(args=ARGS).exit_code == 0
    with app.app_context():
        assert (
            db.session.execute(
                select(ActionItem.title, ActionItem.state, ActionItem.due_on).order_by(ActionItem.id)
            ).all()
            == first
        )
        assert db.session.execute(select(User.email).order_by(User.id)).scalars().all() == emails

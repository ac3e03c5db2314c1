from __future__ import annotations

import pytest

from .conftest import login


def test_healthz_reports_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_home_requires_login(client):
    response = client.get("/forums")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_security_headers_on_every_response(client):
    for path in ("/login", "/healthz", "/no-such-page"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"


def test_request_size_limit(client, app):
    big = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post("/login", data={"email": big})
    assert response.status_code == 413


def test_not_found_page_is_friendly(client):
    response = client.get("/nothing-here")
    assert response.status_code == 404
    assert "Not found" in response.get_data(as_text=True)


def test_participant_sees_only_their_forums(client, make):
    world = make.world()
    login(client, world["participant"])
    html = client.get("/forums").get_data(as_text=True)
    with make.app.app_context():
        from forum_app.extensions import db
        from forum_app.models import Forum

        mine = db.session.get(Forum, world["forum"]).title
        other = db.session.get(Forum, world["other_forum"]).title
    assert mine in html
    assert other not in html


def test_staff_see_every_forum(client, make):
    world = make.world()
    login(client, world["staff"])
    html = client.get("/forums").get_data(as_text=True)
    with make.app.app_context():
        from forum_app.extensions import db
        from forum_app.models import Forum

        titles = db.session.execute(db.select(Forum.title)).scalars().all()
    assert len(titles) == 2
    assert all(t in html for t in titles)


@pytest.mark.slow
def test_web_workers_go_without_alembic_and_the_flask_command_has_it(tmp_path):
    """gunicorn's workers import wsgi.py: Flask-Migrate and Alembic (11 MB a process) stay out of them, and
    the collector keeps Python's defaults (no tuning in application code), while the flask command, which
    loads the same file, still migrates."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = {
        **{k: v for k, v in os.environ.items() if k != "FLASK_RUN_FROM_CLI"},
        "DATABASE_URL": f"sqlite:///{tmp_path / 'web.db'}",
        "FORUM_ENV": "development",
        "FORUM_INSTANCE_DIR": str(tmp_path),
    }
    worker = subprocess.run(
        [
            sys.executable,
            "-c",
            "import gc, sys, wsgi; print(gc.get_threshold()); "
            "print(sorted(m for m in ('alembic', 'flask_migrate') if m in sys.modules))",
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert worker.returncode == 0, worker.stderr[-2000:]
    thresholds, modules = worker.stdout.strip().splitlines()[-2:]
    assert modules == "[]"
    assert thresholds == "(700, 10, 10)"  # Python's defaults: process tuning is gunicorn.conf.py's
    flask = Path(sys.executable).parent / "flask"
    upgrade = subprocess.run(
        [str(flask), "--app", "wsgi", "db", "upgrade"], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )
    assert upgrade.returncode == 0, upgrade.stderr[-2000:]
    assert "Running upgrade" in upgrade.stderr


def test_link_prefix_and_link_around_build_row_links_and_refuse_a_route_whose_id_is_not_last(app):
    from flask import url_for

    from forum_app.web import link_around, link_prefix

    with app.test_request_context():
        assert link_prefix("actions.action", "action_id") + "42" == "/actions/42"
        with pytest.raises(ValueError, match="invitation_id is not the last part"):
            link_prefix("meetings.invitee_remove", "invitation_id", meeting_id=7)
        # An id inside the path, a query string after it: the row's link goes around its id.
        before, after = link_around("actions.board", "forum_id", overdue=1)
        assert before + "42" + after == "/forums/42/actions?overdue=1"
        assert before + "42" + after == url_for("actions.board", forum_id=42, overdue=1)


def test_lists_that_only_grow_count_up_to_a_bound_and_still_page_to_the_end(app, make):
    """``paginate(count_up_to=…)``: past the bound the total is a lower bound ("more than"), and each page
    knows whether a next one exists; under it, the count is exact."""
    from sqlalchemy import func, select

    from forum_app.core.paging import paginate
    from forum_app.extensions import db
    from forum_app.models import User

    for _ in range(7):
        make.user()
    with app.test_request_context():
        everyone = db.session.execute(select(func.count()).select_from(User)).scalar_one()
        stmt = select(User).order_by(User.id)
        first = paginate(stmt, "1", size=2, count_up_to=3)
        assert (first.total, first.more, first.has_next, len(first.items)) == (3, True, True, 2)
        seen, number = [], 1
        while True:  # Next, page after page, reaches every row once and stops
            page = paginate(stmt, str(number), size=2, count_up_to=3)
            seen += [u.id for u in page.items]
            if not page.has_next:
                break
            number += 1
        assert len(seen) == len(set(seen)) == everyone and number == -(-everyone // 2)
        exact = paginate(stmt, "1", size=2, count_up_to=everyone)
        assert (exact.total, exact.more, exact.pages) == (everyone, False, -(-everyone // 2))


def test_the_audit_log_says_more_than_when_it_outgrows_its_count(app, make, monkeypatch):
    import forum_app.audit_log.queries as audit_queries
    from forum_app.core import audit
    from forum_app.extensions import db

    admin = make.user(role="admin")
    with app.test_request_context():
        for n in range(4):
            audit.record(None, "test.event", None, summary=f"event {n}")
        db.session.commit()
    monkeypatch.setattr(audit_queries, "COUNT_UP_TO", 2)
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    client = app.test_client()
    login(client, admin)
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "More than 2 records" in page and "Page 1<" in page and "Page 1 of" not in page and 'rel="next"' not in page
    assert "page=2" in page  # Next leads on


def test_link_around_puts_a_row_id_inside_a_url_and_refuses_an_id_that_is_no_segment(app):
    from forum_app.web import link_around

    with app.test_request_context():
        before, after = link_around("actions.board", "forum_id", overdue=1)
        assert before + "42" + after == "/forums/42/actions?overdue=1"
        before, after = link_around("actions.action", "action_id")
        assert before + "42" + after == "/actions/42"
        with pytest.raises(ValueError, match="theme is not one segment"):
            link_around("actions.board", "theme", forum_id=3)  # a query value, not a segment


def test_every_connection_gets_its_databases_settings(app):
    """database.configure_engine sets each SQLite connection up as it is made (an engine connection, not only
    the session's): WAL, foreign keys and the busy timeout, which correctness needs. Without the listener this
    fails. PostgreSQL connections keep the server's settings: planner tuning is the deployment's (operations.md)."""
    from forum_app.database import SQLITE_BUSY_TIMEOUT_MS
    from forum_app.extensions import db

    with app.app_context():
        db.session.remove()
        for _ in range(2):  # one after another (SQLite: one writer at a time)
            with db.engine.connect() as connection:
                if db.engine.dialect.name == "postgresql":
                    server_default = connection.execute(
                        db.text("SELECT reset_val FROM pg_settings WHERE name = 'random_page_cost'")
                    ).scalar_one()
                    assert connection.execute(db.text("SHOW random_page_cost")).scalar_one() == server_default
                else:
                    assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
                    assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar_one() == SQLITE_BUSY_TIMEOUT_MS
                    assert connection.exec_driver_sql("PRAGMA journal_mode").scalar_one() in ("wal", "memory")
                    assert connection.exec_driver_sql("PRAGMA secure_delete").scalar_one() == 1


def test_the_privacy_notice_is_public_linked_from_every_page_and_states_the_configured_periods(app, client):
    response = client.get("/privacy")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "never about prisoners" in page
    # The periods are the deployment's settings, not text that could drift from them.
    assert f"after {app.config['SESSION_IDLE_MINUTES']} minutes without use" in page
    assert f"kept for {app.config['INBOUND_RETENTION_DAYS']} days" in page
    assert f"not used Forum Desk for {app.config['RETENTION_INACTIVE_DAYS']} days is pseudonymised" in page
    assert "download all the data about you there" in page
    assert 'href="/privacy"' in client.get("/login").get_data(as_text=True)

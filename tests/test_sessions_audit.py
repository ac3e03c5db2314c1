"""A person's sessions (issue 22, point 2) and the audit log's search page and coverage (point 3).

Sessions: the account page lists every live session with its device, address, sign-in time and
last use, marks this browser's, and signs one, every other or all of them out; an administrator
does the same from the person's page, audited. "Last used" is written at most once per
SESSION_LAST_SEEN_MINUTES, so reading pages stays (almost) write-free.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from forum_app.auth import agents
from forum_app.core import clock
from forum_app.extensions import db
from forum_app.models import AuditEvent, UserSession

from .conftest import csrf_token, post_form, sign_in
from .factories import PASSWORD

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)
EDGE_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.87"
)


def browser(app, user_agent: str, address: str):
    client = app.test_client()
    client.environ_base.update({"HTTP_USER_AGENT": user_agent, "REMOTE_ADDR": address})
    return client


def sessions_of(app, email: str) -> list[UserSession]:
    with app.app_context():
        from forum_app.models import User

        rows = (
            db.session.execute(
                select(UserSession).join(User, User.id == UserSession.user_id).where(User.email == email)
            )
            .scalars()
            .all()
        )
        db.session.expunge_all()
        return sorted(rows, key=lambda r: r.id)


def audit_entries(app, verb: str) -> list[AuditEvent]:
    with app.app_context():
        rows = db.session.execute(select(AuditEvent).where(AuditEvent.verb == verb)).scalars().all()
        db.session.expunge_all()
        return list(rows)


def session_rows_on(page: str) -> list[str]:
    return re.findall(r'<li class="[^"]*user-session[^"]*" data-session="\d+">(.*?)</li>', page, re.S)


@pytest.mark.parametrize(
    ("user_agent", "expected"),
    [
        (FIREFOX_WINDOWS, "Firefox on Windows"),
        (SAFARI_IPHONE, "Safari on iPhone"),
        (CHROME_ANDROID, "Chrome on Android"),
        (EDGE_WINDOWS, "Edge on Windows"),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari/605.1.15",
            "Safari on macOS",
        ),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox on Linux"),
        ("curl/8.5.0", "curl"),
        ("", "Unknown device"),
        ("\x00" * 50, "Unknown device"),
    ],
)
def test_a_user_agent_reads_as_browser_and_system(app, user_agent, expected):
    with app.test_request_context():
        assert agents.describe(user_agent) == expected


def test_the_account_page_lists_each_live_session_and_marks_this_one(app, make):
    email = make.user()
    with clock.at(T0):
        laptop = sign_in(browser(app, FIREFOX_WINDOWS, "192.0.2.10"), email)
    with clock.at(T0 + timedelta(hours=1)):
        phone = sign_in(browser(app, SAFARI_IPHONE, "198.51.100.7"), email)
        sign_in(browser(app, CHROME_ANDROID, "203.0.113.5"), make.user())  # someone else's: not listed
        # An ended session is not listed either.
        ended = sign_in(browser(app, EDGE_WINDOWS, "192.0.2.99"), email)
        ended.post("/logout", data={"csrf_token": csrf_token(ended, "/account")})
        page = laptop.get("/account").get_data(as_text=True)
        assert phone.get("/account").status_code == 200
    rows = session_rows_on(page)
    assert len(rows) == 2, rows
    mine = next(r for r in rows if "Firefox on Windows" in r)
    other = next(r for r in rows if "Safari on iPhone" in r)
    assert "192.0.2.10" in mine and "this browser" in mine and "Sign out" not in mine
    assert "198.51.100.7" in other and "this browser" not in other and "Sign out" in other
    # Signed in at 09:00 and 10:00 Sarajevo time (the person's zone), both shown.
    assert "09:00" in mine and "10:00" in other
    assert "Chrome on Android" not in page and "Edge on Windows" not in page


def test_signing_one_session_out_ends_it_for_real_and_is_audited(app, make):
    email = make.user()
    laptop = sign_in(browser(app, FIREFOX_WINDOWS, "192.0.2.10"), email)
    phone = sign_in(browser(app, SAFARI_IPHONE, "198.51.100.7"), email)
    phone_row = sessions_of(app, email)[1]
    response = post_form(laptop, "/account", {}, action=f"/account/sessions/{phone_row.id}/end")
    assert response.status_code == 302
    assert phone.get("/account").status_code == 302  # back to the login page
    assert laptop.get("/account").status_code == 200
    assert [r.revoked_at is not None for r in sessions_of(app, email)] == [False, True]
    (entry,) = audit_entries(app, "session.revoke")
    assert entry.data == {"session_id": phone_row.id} and entry.outcome == "ok" and entry.request_id


def test_nobody_signs_out_another_persons_session(app, make):
    mine, theirs = make.user(), make.user()
    me = sign_in(app.test_client(), mine)
    them = sign_in(app.test_client(), theirs)
    their_row = sessions_of(app, theirs)[0]
    response = post_form(me, "/account", {}, action=f"/account/sessions/{their_row.id}/end")
    assert response.status_code == 404
    assert them.get("/account").status_code == 200
    assert sessions_of(app, theirs)[0].revoked_at is None and not audit_entries(app, "session.revoke")


def test_sign_out_everywhere_else_keeps_this_browser(app, make):
    email = make.user()
    here = sign_in(app.test_client(), email)
    others = [sign_in(app.test_client(), email) for _ in range(2)]
    response = post_form(here, "/account", {}, action="/account/sessions/end-others")
    assert response.status_code == 302
    assert here.get("/account").status_code == 200
    assert [c.get("/account").status_code for c in others] == [302, 302]
    (entry,) = audit_entries(app, "session.revoke_others")
    assert entry.data == {"count": 2}


def test_sign_out_everywhere_ends_this_browser_too(app, make):
    email = make.user()
    here, there = sign_in(app.test_client(), email), sign_in(app.test_client(), email)
    response = post_form(here, "/account", {}, action="/account/sessions/end-all")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert here.get("/account").status_code == 302 and there.get("/account").status_code == 302
    assert all(r.revoked_at is not None for r in sessions_of(app, email))
    assert audit_entries(app, "session.revoke_all")[0].data == {"count": 2}


def test_changing_the_password_leaves_only_this_session_in_the_list(app, make):
    email = make.user()
    here = sign_in(browser(app, FIREFOX_WINDOWS, "192.0.2.10"), email)
    sign_in(browser(app, SAFARI_IPHONE, "198.51.100.7"), email)
    new = {"password": "a brand new passphrase", "confirm": "a brand new passphrase"}
    assert post_form(here, "/account/password", {"current_password": PASSWORD, **new}).status_code == 302
    rows = session_rows_on(here.get("/account").get_data(as_text=True))
    assert len(rows) == 1 and "Firefox on Windows" in rows[0]
    assert [r.revoked_at is None for r in sessions_of(app, email)] == [True, False]


def test_last_use_is_written_at_most_once_per_interval(app, make):
    """Reading pages writes ``last_seen_at`` only when it is SESSION_LAST_SEEN_MINUTES old."""
    assert app.config["SESSION_LAST_SEEN_MINUTES"] == 15
    email = make.user()
    with clock.at(T0):
        client = sign_in(app.test_client(), email)
    assert sessions_of(app, email)[0].last_seen_at == T0
    with clock.at(T0 + timedelta(minutes=14)):
        assert client.get("/account").status_code == 200
    assert sessions_of(app, email)[0].last_seen_at == T0
    with clock.at(T0 + timedelta(minutes=16)):
        page = client.get("/account").get_data(as_text=True)
    assert sessions_of(app, email)[0].last_seen_at == T0 + timedelta(minutes=16)
    assert "09:16" in session_rows_on(page)[0]  # this request's page already says so
    with clock.at(T0 + timedelta(minutes=30)):
        client.get("/account")
    assert sessions_of(app, email)[0].last_seen_at == T0 + timedelta(minutes=16)
    # A writing request refreshes it in its own transaction.
    with clock.at(T0 + timedelta(minutes=40)):
        assert post_form(client, "/account", {}, action="/account/calendar-feed").status_code == 302
    assert sessions_of(app, email)[0].last_seen_at == T0 + timedelta(minutes=40)


def test_an_admin_sees_and_ends_a_persons_sessions_audited(app, make):
    admin, email = make.user("admin"), make.user()
    person = sign_in(browser(app, CHROME_ANDROID, "203.0.113.5"), email)
    other = sign_in(browser(app, FIREFOX_WINDOWS, "192.0.2.10"), email)
    client = sign_in(app.test_client(), admin)
    user_id = make.user_id(email)
    page = client.get(f"/admin/users/{user_id}/edit").get_data(as_text=True)
    rows = session_rows_on(page)
    assert len(rows) == 2 and any("Chrome on Android" in r and "203.0.113.5" in r for r in rows)
    first = sessions_of(app, email)[0]
    path = f"/admin/users/{user_id}/edit"
    assert post_form(client, path, {}, action=f"/admin/users/{user_id}/sessions/{first.id}/end").status_code == 302
    assert person.get("/account").status_code == 302 and other.get("/account").status_code == 200
    assert post_form(client, path, {}, action=f"/admin/users/{user_id}/sessions/end-all").status_code == 302
    assert other.get("/account").status_code == 302
    admin_id = make.user_id(admin)
    revoked = audit_entries(app, "session.revoke") + audit_entries(app, "session.revoke_all")
    assert [(e.actor_id, e.object_id) for e in revoked] == [(admin_id, user_id)] * 2


def test_only_admins_end_other_peoples_sessions(app, make):
    world = make.world()
    user_id = make.user_id(world["participant"])
    sign_in(app.test_client(), world["participant"])
    row = sessions_of(app, world["participant"])[0]
    for role in ("staff", "organiser", "participant"):
        client = sign_in(app.test_client(), world[role])
        token = csrf_token(client, "/account")
        for action in (f"/admin/users/{user_id}/sessions/{row.id}/end", f"/admin/users/{user_id}/sessions/end-all"):
            assert client.post(action, data={"csrf_token": token}).status_code == 403, (role, action)
    assert sessions_of(app, world["participant"])[0].revoked_at is None


# --- the audit log's search page ------------------------------------------------------------------------


def plant(app, entries: list[tuple]) -> None:
    """Audit entries as services write them: (when, actor email or None, verb, object, outcome, request id)."""
    from flask import g

    from forum_app.core import audit
    from forum_app.core.commit import attempt
    from forum_app.models import User

    with app.test_request_context():
        for when, email, verb, obj, outcome, request_id in entries:
            g.request_id = request_id

            def write(when=when, email=email, verb=verb, obj=obj, outcome=outcome):
                actor = db.session.execute(select(User).where(User.email == email)).scalar_one() if email else None
                target = obj(actor) if callable(obj) else obj
                with clock.at(when):
                    audit.record(actor, verb, target, f"{verb} planted", outcome=outcome)

            assert attempt(write)
        db.session.remove()


def listed(client, query: str = "") -> list[str]:
    response = client.get("/admin/audit" + query)
    assert response.status_code == 200, (query, response.status_code)
    return re.findall(r"<td><code>([a-z_.]+)</code></td>", response.get_data(as_text=True))


@pytest.fixture
def logged(app, make):
    """Staff and an admin signed in, and a log with one entry of each kind a filter picks out."""
    world = make.world()
    ana = make.user(email="ana.actor@example.org", name="Ana Actor")
    plant(
        app,
        [
            (T0, ana, "user.login", lambda a: a, "ok", "req-aaaa-1111"),
            (T0 + timedelta(minutes=5), ana, "meeting.rsvp", None, "ok", "req-bbbb-2222"),
            (T0 + timedelta(minutes=6), None, "user.login_failed", None, "failed", "req-cccc-3333"),
            (T0 + timedelta(minutes=7), world["participant"], "access.denied", None, "denied", "req-dddd-4444"),
            # 23:30 UTC on 3 March is 00:30 on 4 March in Sarajevo (the staff member's zone).
            (datetime(2026, 3, 3, 23, 30, tzinfo=UTC), ana, "user.logout", lambda a: a, "ok", "req-eeee-5555"),
        ],
    )
    staff = sign_in(app.test_client(), world["staff"])
    admin = sign_in(app.test_client(), world["admin"])
    return {"world": world, "staff": staff, "admin": admin, "ana_id": make.user_id(ana)}


def test_staff_and_admins_search_the_log_and_others_are_refused(app, make, logged):
    world = logged["world"]
    assert "user.login_failed" in listed(logged["staff"]) and "user.login_failed" in listed(logged["admin"])
    for role in ("organiser", "participant", "observer", "outsider"):
        client = sign_in(app.test_client(), world[role])
        token = csrf_token(client, "/account")
        assert client.get("/admin/audit").status_code == 403, role
        assert client.get("/admin/audit/verify").status_code == 403, role
        assert client.post("/admin/audit.csv", data={"csrf_token": token}).status_code == 403, role
    assert app.test_client().get("/admin/audit").headers["Location"].startswith("/login")
    # The chain check is the administrators': staff neither see the button nor reach the page.
    assert "verify-chain" not in logged["staff"].get("/admin/audit").get_data(as_text=True)
    assert logged["staff"].get("/admin/audit/verify").status_code == 403
    assert "verify-chain" in logged["admin"].get("/admin/audit").get_data(as_text=True)
    # Staff find it in their menu; participants do not.
    assert 'href="/admin/audit"' in logged["staff"].get("/").get_data(as_text=True)
    participant = sign_in(app.test_client(), world["participant"])
    assert 'href="/admin/audit"' not in participant.get("/").get_data(as_text=True)


def test_each_filter_narrows_the_log(logged):
    staff, ana_id = logged["staff"], logged["ana_id"]
    assert listed(staff, "?actor=ana.actor@") == ["user.logout", "meeting.rsvp", "user.login"]
    assert listed(staff, f"?actor={ana_id}") == ["user.logout", "meeting.rsvp", "user.login"]
    assert listed(staff, "?actor=ANA+ACTOR&verb=user.") == ["user.logout", "user.login"]
    # (The staff member's and the admin's own sign-ins, today, are after March.)
    assert listed(staff, "?verb=user.login&end=2026-03-31") == ["user.login_failed", "user.login"]
    assert listed(staff, "?verb=user.login")[:2] == ["user.login", "user.login"]
    assert listed(staff, "?verb=user.login&outcome=failed") == ["user.login_failed"]
    assert listed(staff, "?outcome=denied") == ["access.denied"]
    assert listed(staff, f"?object_type=user&object_id={ana_id}") == ["user.logout", "user.login"]
    assert listed(staff, "?request_id=req-bbbb-2222") == ["meeting.rsvp"]
    # Days are the viewer's (Europe/Sarajevo): the 23:30 UTC logout belongs to 4 March there.
    assert "user.logout" not in listed(staff, "?start=2026-03-02&end=2026-03-03")
    assert listed(staff, "?start=2026-03-04&end=2026-03-04") == ["user.logout"]
    assert "user.login" in listed(staff, "?start=2026-03-02&end=2026-03-02")
    assert listed(staff, "?q=RSVP") == ["meeting.rsvp"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?object_id=abc", "An object number is a whole number"),
        ("?object_id=99999999999999999999999", "An object number is a whole number"),
        ("?start=2026-02-30", "Enter a date as YYYY-MM-DD"),
        ("?start=2026-03-04&end=2026-03-02", "The last day is before the first."),
        ("?outcome=maybe", "Choose an outcome from the list."),
    ],
)
def test_a_malformed_filter_is_named_and_lists_nothing(logged, query, message):
    response = logged["staff"].get("/admin/audit" + query)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and message in page
    assert not re.findall(r'class="audit-entry"', page)


def test_odd_filters_never_fail(logged):
    for query in ("?actor=%25%25", "?verb=_%25", "?q=" + "x" * 3000, "?page=abc&verb=user.", "?object_type=<b>"):
        assert logged["staff"].get("/admin/audit" + query).status_code == 200, query
    assert logged["staff"].get("/admin/audit?request_id=%00").status_code == 400  # NUL: refused for every page


def test_the_search_page_takes_the_same_queries_however_long_the_log(app, make, logged, count_queries):
    staff = logged["staff"]
    query = "/admin/audit?verb=user.&actor=ana&start=2026-01-01&end=2026-12-31"

    def measured() -> int:
        staff.get(query)  # warm-up
        with count_queries() as statements:
            assert staff.get(query).status_code == 200
        return len(statements)

    few = measured()
    ana = "ana.actor@example.org"
    plant(
        app, [(T0 + timedelta(hours=n), ana, "user.login", lambda a: a, "ok", f"req-many-{n:04d}") for n in range(40)]
    )
    assert measured() == few
    assert len(listed(staff, "?verb=user.&actor=ana")) == app.config["PAGE_SIZE"]


def test_the_csv_download_holds_the_filtered_entries_and_is_audited(app, logged):
    staff = logged["staff"]
    token = csrf_token(staff, "/admin/audit")
    response = staff.post("/admin/audit.csv", data={"csrf_token": token, "outcome": "failed"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="forum-desk-audit.csv"' in response.headers["Content-Disposition"]
    import csv
    import io

    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:5] == ["id", "when_utc", "actor_id", "actor_email", "verb"]
    assert [r[4] for r in rows[1:]] == ["user.login_failed"]
    assert rows[1][10] == "req-cccc-3333"
    (entry,) = audit_entries(app, "audit.export")
    assert entry.data == {"filters": {"outcome": "failed"}} and entry.actor_id is not None
    # Without this session's CSRF token: nothing sent, nothing written.
    assert staff.post("/admin/audit.csv", data={"outcome": "failed"}).status_code in (302, 400)
    assert len(audit_entries(app, "audit.export")) == 1


def test_an_admin_checks_the_chain_on_demand_and_sees_a_changed_entry(app, logged):
    admin = logged["admin"]
    page = admin.get("/admin/audit/verify").get_data(as_text=True)
    assert 'data-ok="1"' in page and "The chain holds" in page
    with app.app_context():
        db.session.execute(db.text("UPDATE audit_event SET summary = 'nothing to see' WHERE verb = 'meeting.rsvp'"))
        db.session.commit()
    page = admin.get("/admin/audit/verify").get_data(as_text=True)
    assert 'data-ok="0"' in page and "edited?" in page


# --- every security-relevant event is written, with who, what, when, object, outcome and request ---------


def only(app, verb: str) -> AuditEvent:
    found = audit_entries(app, verb)
    assert len(found) == 1, (verb, [(e.verb, e.summary) for e in found])
    return found[0]


def written(app, verb: str, response, *, actor: int | None, obj: tuple[str, int | None], outcome: str = "ok"):
    """The one ``verb`` entry: by ``actor``, on ``obj``, with ``outcome``, under ``response``'s request id."""
    entry = only(app, verb)
    assert (entry.actor_id, (entry.object_type, entry.object_id), entry.outcome) == (actor, obj, outcome)
    assert entry.request_id and entry.request_id == response.headers["X-Request-Id"]
    assert entry.at.tzinfo is not None and entry.at.utcoffset() == timedelta(0)
    assert entry.seq is not None  # sealed into the chain
    return entry


def test_sign_in_success_and_failure_are_audited(app, make):
    from .conftest import login

    email = make.user()
    user_id = make.user_id(email)
    with clock.at(T0):
        failed = login(app.test_client(), email, "not the password")
        unknown = login(app.test_client(), "nobody@example.org", "whatever it is")
        ok = login(app.test_client(), email)
    assert ok.status_code == 302
    entry = written(app, "user.login", ok, actor=user_id, obj=("User", user_id))
    assert entry.at == T0
    failures = audit_entries(app, "user.login_failed")
    assert [(e.actor_id, e.outcome, e.request_id) for e in failures] == [
        (user_id, "failed", failed.headers["X-Request-Id"]),
        (None, "failed", unknown.headers["X-Request-Id"]),
    ]
    # The typed address of an unknown account is not kept (people type passwords into it).
    assert "nobody@example.org" not in repr([(e.summary, e.data) for e in failures])


def test_the_failure_that_locks_an_account_is_audited_once(app, make):
    from .conftest import login

    email = make.user()
    user_id = make.user_id(email)
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    client = app.test_client()
    with clock.at(T0):
        responses = [login(client, email, f"wrong guess {n}") for n in range(limit)]
        refused = login(client, email)  # locked: even the right password waits
    assert refused.status_code != 302
    entry = written(app, "user.locked_out", responses[-1], actor=user_id, obj=("User", user_id), outcome="refused")
    assert entry.data["minutes"] >= 1 and "login-account" in entry.data["counters"]
    assert email not in repr(entry.data)
    assert only(app, "user.login_throttled").outcome == "refused"


def test_a_role_change_is_audited_as_one(app, make):
    admin, email = make.user("admin"), make.user(name="Rola Changed")
    client = sign_in(app.test_client(), admin)
    user_id = make.user_id(email)
    path = f"/admin/users/{user_id}/edit"
    same = {"name": "Rola Changed", "email": email, "organisation_id": "0"}
    response = post_form(client, path, {**same, "role": "staff"})
    assert response.status_code == 302
    entry = written(app, "user.role_change", response, actor=make.user_id(admin), obj=("User", user_id))
    assert entry.data == {"previous": "member", "role": "staff"}
    # Other changes are account updates, not role changes.
    assert post_form(client, path, {**same, "role": "staff", "name": "Rola Renamed"}).status_code == 302
    assert len(audit_entries(app, "user.role_change")) == 1 and len(audit_entries(app, "user.update")) == 2


def test_access_denied_is_audited(app, make):
    world = make.world()
    client = sign_in(app.test_client(), world["participant"])
    response = client.get("/admin/users")
    assert response.status_code == 403
    entry = written(
        app, "access.denied", response, actor=make.user_id(world["participant"]), obj=("", None), outcome="denied"
    )
    assert entry.summary == "GET /admin/users"


def test_a_report_export_is_audited(app, make):
    world = make.world()
    client = sign_in(app.test_client(), world["staff"])
    response = client.get("/reports/export/meetings.csv?from=2000-01-01")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    entry = written(app, "report.export", response, actor=make.user_id(world["staff"]), obj=("", None))
    assert entry.data["what"] == "meetings" and entry.data["fmt"] == "csv" and entry.data["from"] == "2000-01-01"


def test_an_rsvp_is_audited(app, make):
    world = make.world()
    meeting_id = make.meeting(world["forum"], state="scheduled", starts_in_days=10)
    make.invite(meeting_id, world["participant"])
    client = sign_in(app.test_client(), world["participant"])
    token = csrf_token(client, f"/meetings/{meeting_id}")
    response = client.post(f"/meetings/{meeting_id}/rsvp", data={"csrf_token": token, "answer": "accepted"})
    assert response.status_code == 302
    entry = written(
        app, "meeting.rsvp", response, actor=make.user_id(world["participant"]), obj=("Meeting", meeting_id)
    )
    assert entry.data["answer"] == "accepted"


def test_an_action_change_is_audited(app, make):
    world = make.world()
    action_id = make.action(world["forum"], world["participant"])
    client = sign_in(app.test_client(), world["participant"])
    token = csrf_token(client, f"/actions/{action_id}")
    response = client.post(f"/actions/{action_id}/answer", data={"csrf_token": token, "answer": "accept"})
    assert response.status_code == 302
    entry = written(
        app, "action.state", response, actor=make.user_id(world["participant"]), obj=("ActionItem", action_id)
    )
    assert entry.data["to_state"] == "accepted"


def test_a_minutes_change_is_audited(app, make):
    from .test_meetings import minutes_post

    world = make.world()
    meeting_id = make.meeting(world["forum"], state="held", starts_in_days=-2)
    client = sign_in(app.test_client(), world["organiser"])
    response = minutes_post(client, meeting_id, "The forum agreed a plan.")
    assert response.status_code == 302
    entry = written(app, "minutes.save", response, actor=make.user_id(world["organiser"]), obj=("Meeting", meeting_id))
    assert entry.summary


def test_mail_received_is_audited(app, make):
    from pathlib import Path

    raw = (Path(__file__).parent / "mail_samples" / "postfix-bounce.eml").read_bytes()
    result = app.test_cli_runner().invoke(args=["forum", "mail", "receive"], input=raw)
    assert result.exit_code == 0, result.output
    entry = only(app, "mail.receive")
    assert entry.actor_id is None and entry.object_type == "ReceivedMail" and entry.object_id and entry.outcome == "ok"
    assert entry.seq is not None

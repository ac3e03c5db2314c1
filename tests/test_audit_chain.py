"""The audit log as an auditor reads it: every entry sealed into a hash chain that
``flask forum audit verify`` checks, refusals and failed sign-ins written down with their
outcome and request id, and the incident number on an error page that finds them."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, text

from forum_app.core import audit
from forum_app.core.commit import attempt
from forum_app.extensions import db
from forum_app.models import AuditChainHead, AuditEvent, User

from .conftest import csrf_token, login, sign_in


def verify(app) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["forum", "audit", "verify"])
    return result.exit_code, result.output


def entries(app) -> list[AuditEvent]:
    with app.app_context():
        rows = db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().all()
        db.session.expunge_all()
        return list(rows)


def tamper(app, sql: str) -> None:
    """What someone with the database's password might do: a plain SQL statement."""
    with app.app_context():
        db.session.execute(text(sql))
        db.session.commit()


@pytest.fixture
def history(app, client, make):
    """A few audited changes made through the app: sign-ins, a failed one, an account change."""
    email = make.user()
    login(client, email, "not the password")
    sign_in(client, email)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    sign_in(client, make.user())
    return entries(app)


def test_every_entry_is_sealed_into_one_chain_and_verify_says_intact(app, history):
    assert len(history) >= 4
    assert [e.seq for e in sorted(history, key=lambda e: e.seq or 0)] == list(range(1, len(history) + 1))
    chain = sorted(history, key=lambda e: e.seq)
    for before, after in zip(chain, chain[1:], strict=False):
        assert after.prev_hash == before.hash and len(after.hash) == 64
    code, output = verify(app)
    assert code == 0, output
    assert f"{len(history)} entries chained" in output


@pytest.mark.parametrize(
    "sql, reason",
    [
        ("UPDATE audit_event SET summary = 'nothing happened' WHERE seq = 2", "does not match its hash"),
        ("UPDATE audit_event SET actor_id = NULL WHERE seq = 2", "does not match its hash"),
        ("UPDATE audit_event SET at = '2020-01-01 00:00:00' WHERE seq = 2", "does not match its hash"),
        ("DELETE FROM audit_event WHERE seq = 2", "entry 2 is missing"),
    ],
)
def test_an_edited_or_deleted_entry_is_named_by_verify(app, history, sql, reason):
    tamper(app, sql)
    code, output = verify(app)
    assert code == 1
    assert "BROKEN at entry 2" in output and reason in output


def test_rewriting_an_entry_and_its_own_hash_still_breaks_the_next_link(app, history):
    with app.app_context():
        event = db.session.execute(select(AuditEvent).where(AuditEvent.seq == 2)).scalar_one()
        event_id, prev = event.id, event.prev_hash
    tamper(app, f"UPDATE audit_event SET summary = 'forged' WHERE id = {event_id}")
    with app.app_context():
        # A version 2 entry hashes the salted digest of its summary: the forger redoes that too.
        forged = db.session.get(AuditEvent, event_id)
        digest = audit.personal_digest(forged.personal_salt, forged.summary, forged.data)
    tamper(app, f"UPDATE audit_event SET personal_digest = '{digest}' WHERE id = {event_id}")
    with app.app_context():
        forged = db.session.get(AuditEvent, event_id)
        new_hash = audit.entry_hash(forged, 2, prev)
    tamper(app, f"UPDATE audit_event SET hash = '{new_hash}' WHERE id = {event_id}")
    code, output = verify(app)
    assert code == 1 and "BROKEN at entry 3" in output and "link to the previous entry" in output


def test_removing_the_newest_entry_is_found_by_the_head(app, history):
    tamper(app, f"DELETE FROM audit_event WHERE seq = {len(history)}")
    code, output = verify(app)
    assert code == 1 and f"ends at entry {len(history) - 1}" in output


def test_entries_written_outside_the_commit_point_are_sealed_by_the_seal_command(app, history):
    with app.app_context():
        audit.record(None, "test.outside", None, "written by a script")
        db.session.commit()
    code, output = verify(app)
    assert code == 0 and "1 not sealed yet" in output
    result = app.test_cli_runner().invoke(args=["forum", "audit", "seal"])
    assert result.exit_code == 0 and "sealed 1 entries" in result.output
    code, output = verify(app)
    assert code == 0 and "not sealed" not in output and f"{len(history) + 1} entries chained" in output


def test_concurrent_writers_and_sealers_keep_one_unbroken_chain(app, make):
    """Eight threads each commit audited changes through the commit point at once; the chain
    they seal has no gap, no fork and verifies."""
    users = [make.user() for _ in range(8)]
    errors: list[BaseException] = []

    def write(email: str) -> None:
        try:
            with app.app_context():
                for n in range(5):
                    user = db.session.execute(select(User).where(User.email == email)).scalar_one()
                    outcome = attempt(lambda u=user, n=n: audit.record(u, "test.concurrent", u, f"{email} {n}"))
                    assert outcome.ok, outcome.message
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(email,)) for email in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    with app.app_context():
        written = db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.verb == "test.concurrent")
        )
        unsealed = db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.seq.is_(None)))
        head = db.session.get(AuditChainHead, 1)
        total = db.session.scalar(select(func.count()).select_from(AuditEvent))
    assert written == 40 and unsealed == 0 and head.seq == total
    code, output = verify(app)
    assert code == 0, output


def test_sign_in_failures_and_throttling_are_audited_without_the_password(app, client, make):
    email = make.user()
    for _ in range(12):
        login(client, email, "Canary-Password-4471")
    with app.app_context():
        rows = db.session.execute(
            select(AuditEvent.verb, AuditEvent.outcome, AuditEvent.request_id, AuditEvent.summary, AuditEvent.data)
            .where(AuditEvent.verb.like("user.login%"))
            .order_by(AuditEvent.id)
        ).all()
    verbs = [(verb, outcome) for verb, outcome, *_ in rows]
    assert ("user.login_failed", "failed") in verbs
    assert ("user.login_throttled", "refused") in verbs
    assert all(len(request_id) == 16 for _v, _o, request_id, _s, _d in rows)
    assert "Canary-Password-4471" not in repr(rows)


def test_a_refused_access_is_audited_with_its_request_id_and_never_its_path(app, client, make):
    sign_in(client, make.user())
    response = client.get("/admin/users")
    assert response.status_code == 403
    request_id = response.headers["X-Request-Id"]
    # The error page gives the same number, for the person to quote to support.
    assert request_id in response.get_data(as_text=True)
    with app.app_context():
        event = db.session.execute(select(AuditEvent).where(AuditEvent.verb == "access.denied")).scalar_one()
    assert (event.outcome, event.request_id) == ("denied", request_id)
    assert event.summary == "GET /admin/users" and event.actor_id is not None


def test_a_proxy_request_id_is_kept_and_a_strange_one_replaced(client):
    kept = client.get("/login", headers={"X-Request-Id": "edge-1234abcd"})
    assert kept.headers["X-Request-Id"] == "edge-1234abcd"
    replaced = client.get("/login", headers={"X-Request-Id": "<script>"})
    assert replaced.headers["X-Request-Id"] != "<script>" and len(replaced.headers["X-Request-Id"]) == 16

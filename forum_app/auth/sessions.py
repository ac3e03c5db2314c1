"""Login sessions that can be ended for real.

The signed cookie holds a random session token and the time of the last request. The
token's hash is a row in ``user_session``; a request counts as signed in only while
that row exists, is not revoked, is younger than the absolute lifetime, and the cookie
was used within the idle lifetime. Logout revokes the row, so a copy of the cookie
taken before logout is worthless afterwards.

The row also says when the session was last used, for the person's list of their sessions
(account page). Reading a page writes nothing, with one exception: ``note_use`` refreshes
``last_seen_at`` at most once per SESSION_LAST_SEEN_MINUTES per session, in one small
statement of its own.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import timedelta

from flask import current_app, g, request, session
from sqlalchemy import or_, select, update
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from ..core.audit import client_address
from ..database import wants_write
from ..extensions import db, login_manager
from ..models import User, UserSession, utcnow


def _printable(value: str, limit: int) -> str:
    """Header text fit to store: control characters (NUL above all) dropped, length capped."""
    return "".join(ch for ch in value if ch.isprintable())[:limit]


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User) -> UserSession:
    """Record a new login for ``user`` and bind it to a fresh cookie."""
    token = secrets.token_urlsafe(32)
    row = UserSession(
        user=user,
        token_hash=_hash(token),
        ip=_printable(client_address(), 64),
        user_agent=_printable(request.user_agent.string or "", 300),
        # Password (and second factor) just given: re-authentication is not asked for a while.
        authenticated_at=utcnow(),
        last_seen_at=utcnow(),
    )
    db.session.add(row)
    # A fresh cookie on login: nothing from before login (session fixation) carries over.
    session.clear()
    session.permanent = True
    session["sid"] = token
    session["seen"] = int(time.time())
    return row


def end_session() -> None:
    """Revoke the current login (logout)."""
    token = session.get("sid")
    if token:
        db.session.execute(
            update(UserSession)
            .where(UserSession.token_hash == _hash(token), UserSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    session.clear()


def revoke_all_sessions(user: User, keep_current: bool = False) -> int:
    """End every login of ``user`` (password change, deactivation); how many were ended."""
    stmt = update(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    token = session.get("sid") if keep_current else None
    if token:
        stmt = stmt.where(UserSession.token_hash != _hash(token))
    return db.session.execute(stmt.values(revoked_at=utcnow())).rowcount  # type: ignore[attr-defined]


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    token = session.get("sid")
    seen = session.get("seen")
    if not token or not isinstance(seen, int):
        return None
    config = current_app.config
    now = int(time.time())
    if now - seen > config["SESSION_IDLE_MINUTES"] * 60:
        return None
    row = db.session.execute(
        select(UserSession).options(joinedload(UserSession.user)).where(UserSession.token_hash == _hash(token))
    ).scalar_one_or_none()
    if row is None or row.revoked_at is not None or str(row.user_id) != user_id:
        return None
    if utcnow() - row.created_at > timedelta(hours=config["SESSION_ABSOLUTE_HOURS"]):
        return None
    if not row.user.active:
        return None
    # Refresh the idle clock in the cookie: no database write on a read-only request.
    session["seen"] = now
    g.user_session = row
    note_use(row)
    return row.user


# The one column a read-only request may change (the crawl of every GET route allows it).
WRITTEN_ON_READ = ("user_session", "last_seen_at")


def note_use(row: UserSession) -> None:
    """Refresh ``row.last_seen_at`` when it is older than SESSION_LAST_SEEN_MINUTES.

    On a read-only request, in a short transaction of its own: the request itself commits
    nothing. On a writing request, in the request's transaction (which on SQLite already
    holds the write lock: a second connection would wait for it). The WHERE repeats the age
    test, so two requests at once write once.
    """
    now = utcnow()
    every = timedelta(minutes=current_app.config["SESSION_LAST_SEEN_MINUTES"])
    if row.last_seen_at is not None and now - row.last_seen_at < every:
        return
    stmt = (
        update(UserSession)
        .where(
            UserSession.id == row.id, or_(UserSession.last_seen_at.is_(None), UserSession.last_seen_at <= now - every)
        )
        .values(last_seen_at=now)
    )
    if wants_write():
        db.session.execute(stmt)
    else:
        with db.engine.begin() as conn:
            conn.execute(stmt)
    # Shown as is on this request's pages, without marking the row changed for the session.
    set_committed_value(row, "last_seen_at", now)


def current_session_id() -> int | None:
    """The id of the signed-in request's session row (None outside a signed-in request)."""
    row = g.get("user_session")
    return row.id if row is not None else None


def active_sessions_of(user: User) -> list[UserSession]:
    """``user``'s sessions that still count: not revoked, younger than the absolute lifetime.

    (One that has idled out still has its row; it is listed until then, as the cookie's idle
    time is known only to the browser holding it.)
    """
    since = utcnow() - timedelta(hours=current_app.config["SESSION_ABSOLUTE_HOURS"])
    return list(
        db.session.execute(
            select(UserSession)
            .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None), UserSession.created_at > since)
            .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
        ).scalars()
    )


def revoke_session(user: User, session_id: int) -> UserSession | None:
    """End one of ``user``'s sessions; the row, or None when ``user`` has no such live session."""
    row = db.session.execute(
        select(UserSession).where(
            UserSession.id == session_id, UserSession.user_id == user.id, UserSession.revoked_at.is_(None)
        )
    ).scalar_one_or_none()
    if row is not None:
        row.revoked_at = utcnow()
    return row

"""Login sessions that can be ended for real.

The signed cookie holds a random session token and the time of the last request. The
token's hash is a row in ``user_session``; a request counts as signed in only while
that row exists, is not revoked, is younger than the absolute lifetime, and the cookie
was used within the idle lifetime. Logout revokes the row, so a copy of the cookie
taken before logout is worthless afterwards.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import timedelta

from flask import current_app, g, request, session
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from ..core.audit import client_address
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


def revoke_all_sessions(user: User, keep_current: bool = False) -> None:
    """End every login of ``user`` (password change, deactivation)."""
    stmt = update(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    token = session.get("sid") if keep_current else None
    if token:
        stmt = stmt.where(UserSession.token_hash != _hash(token))
    db.session.execute(stmt.values(revoked_at=utcnow()))


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
    return row.user

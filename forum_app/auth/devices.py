"""Known devices and addresses: who may still try a password while an account is locked.

A successful login sets a signed, long-lived "device" cookie naming the account and a
random device id. A later login for that account from a browser holding the cookie, or
from an address where the account signed in before, is counted on its own counter
(``login-known``) instead of the account's and the address's. So a stranger's guesses
lock strangers out, not the owner at their usual desk; the owner's own typing mistakes
are still limited.

The cookie proves nothing by itself: it never signs anyone in, it only decides which
counter a password attempt is charged to.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import Response, current_app, request
from sqlalchemy import select

from ..extensions import db
from ..models import User, UserSession
from . import throttle, tokens


def cookie_name() -> str:
    # Under https the __Host- prefix makes the browser refuse it unless Secure, host-only and Path=/.
    return "__Host-forum_device" if current_app.config["SESSION_COOKIE_SECURE"] else "forum_device"


def known_device(user: User, now: datetime) -> str | None:
    """The device id from a valid device cookie for ``user``, or None."""
    value = request.cookies.get(cookie_name())
    if not value or len(value) > 500:
        return None
    try:
        link = tokens.read_link_token(value, "device", now)
    except tokens.LinkError:
        return None
    if link.subject_id != user.id or not link.bind:
        return None
    return link.bind


def known_address(user: User, address: str, now: datetime) -> bool:
    """Has ``user`` signed in from ``address`` within LOGIN_KNOWN_ADDRESS_DAYS?"""
    if not address:
        return False
    since = now - timedelta(days=current_app.config["LOGIN_KNOWN_ADDRESS_DAYS"])
    return (
        db.session.execute(
            select(UserSession.id)
            .where(UserSession.user_id == user.id, UserSession.ip == address, UserSession.created_at >= since)
            .limit(1)
        ).first()
        is not None
    )


def login_counters(email: str, user: User | None, address: str, now: datetime) -> list[tuple[str, str]]:
    """The throttle counters a login attempt for ``email`` from ``address`` is charged to."""
    if user is not None:
        device = known_device(user, now)
        if device is not None:
            return [throttle.key("login-known", f"{user.id}:device:{device}")]
        if known_address(user, address, now):
            return [throttle.key("login-known", f"{user.id}:address:{address}")]
    return [throttle.key("login-account", email), throttle.key("login-address", address)]


def remember_device(response: Response, user: User, now: datetime) -> None:
    """Set (or renew) the device cookie for ``user`` after a successful login."""
    device = known_device(user, now) or secrets.token_urlsafe(16)
    token = tokens.make_link_token("device", ("user", user.id), expires_at=None, bind=device, now=now)
    days = current_app.config["LOGIN_DEVICE_COOKIE_DAYS"]
    response.set_cookie(
        cookie_name(),
        token,
        max_age=days * 86400,
        path="/",
        httponly=True,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        samesite="Lax",
    )

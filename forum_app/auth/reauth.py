"""Re-authentication before sensitive changes (password, second factor, and later the full export).

A session can be hours old, and a person may leave a signed-in laptop open: before such a
change the person proves again who they are (password, and the second factor if enrolled)
unless they did so within ``REAUTH_MINUTES``.

When they last did is kept on the server, on their ``user_session`` row (``authenticated_at``),
not in the signed cookie: the cookie is readable by its holder and could be replayed into a
fresh-looking state; the row ends with the session (logout, password change, deactivation) and
is what every request is checked against anyway, so reading it costs no query.

    @bp.route("/export")
    @login_required
    @recent_auth_required()          # or recent_auth_required(max_age=5)
    def export(): ...
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any

from flask import current_app, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core import audit
from ..core.clock import utcnow
from ..extensions import login_manager
from ..models import User
from . import passwords, second_factor, throttle
from .services import CountedFailure, ThrottledError, throttled_message


def authenticated_recently(max_age: int | None = None, now: datetime | None = None) -> bool:
    """Whether the current session's person proved who they are within ``max_age`` minutes
    (default ``REAUTH_MINUTES``)."""
    row = g.get("user_session")
    if row is None or row.authenticated_at is None:
        return False  # a session from before re-authentication existed: ask
    minutes = current_app.config["REAUTH_MINUTES"] if max_age is None else max_age
    return (now or utcnow()) - row.authenticated_at <= timedelta(minutes=minutes)


def recent_auth_required(max_age: int | None = None, come_back_to: str | None = None) -> Callable:
    """A view decorator: without a recent authentication, send the person to ``auth.reauth`` and
    then back. A GET comes back to its own address; a POST (its form data is not kept) to the
    endpoint ``come_back_to`` (given the POST's path arguments), else to its own address when that
    also answers GET."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if authenticated_recently(max_age):
                return view(*args, **kwargs)
            if request.method == "GET":
                back = request.full_path.rstrip("?")
            elif come_back_to is not None:
                # The POST's own path arguments (a user id) name the page it came from too.
                back = url_for(come_back_to, **(request.view_args or {}))
            elif request.url_rule is not None and "GET" in (request.url_rule.methods or ()):
                back = request.path
            else:
                back = ""
            return redirect(url_for("auth.reauth", next=back or None))

        return wrapped

    return decorator


def confirm_identity(user: User, password: str, code: str, *, now: datetime) -> None:
    """Check ``password`` (and ``code`` when a second factor is enrolled) and mark the current
    session as freshly authenticated. Guesses are throttled like a sign-in's."""
    result = throttle.attempt([throttle.key("password-check", str(user.id))], now)
    if not result.allowed:
        raise ThrottledError(throttled_message(result.wait_minutes), result.wait_minutes, field="password")
    if not passwords.verify_password(user.password_hash, password):
        audit.record(user, "user.reauth_failed", user, outcome="failed")
        raise CountedFailure(_("Your password is not correct."), field="password")
    throttle.succeeded(result, now)
    method = "password"
    if user.totp_enabled_at is not None:
        method = second_factor.check_code(user, code, now=now)
    row = g.get("user_session")
    if row is not None:
        row.authenticated_at = now
    audit.record(user, "user.reauthenticated", user, method=method)

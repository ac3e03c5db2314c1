"""The health check load balancers poll, the language switcher every page carries, and the
privacy notice (readable without signing in: people are told before they are asked).

(The home page is in home/, the outbox in notifications/.)
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import text

from ..extensions import db
from . import language
from .actor import current_actor
from .commit import attempt
from .forms import AppForm
from .urls import safe_next

bp = Blueprint("core", __name__)


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except Exception as exc:  # the point of a health check is to report, not to raise
        db.session.rollback()
        return jsonify(status="error", database="error", detail=type(exc).__name__), 503
    return jsonify(status="ok", database=database)


@bp.post("/language")
def choose_language():
    """The switcher: remembered in a cookie (people not signed in: the sign-in page, emailed links)
    and, for a signed-in person, on their profile, so their emails follow it too."""
    back = safe_next(request.form.get("next")) or url_for("home.index")
    code = language.known(request.form.get("language"))
    if code is None or not AppForm().validate_on_submit():
        flash(_("The request was incomplete. Reload the page and try again."), "danger")
        return redirect(back)
    if current_user.is_authenticated:
        actor = current_actor()
        from ..account.services import choose_language as save_choice

        outcome = attempt(lambda: save_choice(actor, code))
        if not outcome:
            flash(outcome.message, "danger")
            return redirect(back)
    response = redirect(back)
    response.set_cookie(
        language.COOKIE,
        code,
        max_age=language.COOKIE_MAX_AGE,
        secure=request.is_secure,
        httponly=True,
        samesite="Lax",
    )
    return response


@bp.get("/privacy")
def privacy():
    """What Forum Desk stores about people, why, for how long and who sees it (issue 22).

    The periods are the deployment's own settings, so the notice never promises what the
    configuration does not do.
    """
    config = current_app.config
    return render_template(
        "privacy.html",
        idle_minutes=config["SESSION_IDLE_MINUTES"],
        inbound_days=config["INBOUND_RETENTION_DAYS"],
        device_days=config["LOGIN_DEVICE_COOKIE_DAYS"],
        retention_days=config["RETENTION_INACTIVE_DAYS"],
    )

"""Home, health check and the development outbox page."""
from __future__ import annotations

import re

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select, text

from .. import permissions
from flask_wtf import FlaskForm

from ..extensions import db
from ..models import OutboxMessage
from ..notifications.delivery import delivery_enabled
from ..vocab import OUTBOX_STATES
from .errors import NotFound
from .forms import run_action
from .paging import COUNT_UP_TO, paginate

bp = Blueprint("core", __name__)


@bp.get("/")
@login_required
def home():
    """What needs the signed-in person now (see home.queries)."""
    from ..home.queries import home_page

    return render_template("home/index.html", page=home_page(current_user, request.args.get("page")))


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except Exception as exc:  # the point of a health check is to report, not to raise
        db.session.rollback()
        return jsonify(status="error", database="error", detail=type(exc).__name__), 503
    return jsonify(status="ok", database=database)


# Any web address with something after the host: a path may carry a token (a set-password,
# RSVP or calendar link), so no address in a body is shown.
_URL_RE = re.compile(r"https?://[^\s/]+/[^\s<>\"')]*")


def outbox_body(message: OutboxMessage) -> str | None:
    """What an administrator may read of a queued email: None for a sensitive one
    (its link acts for the recipient), else the text with every link replaced.

    Links in emails are for their recipient alone; an administrator who could read them
    could set a password or answer for someone else.
    """
    if message.sensitive:
        return None
    return _URL_RE.sub(_("[link hidden]"), message.body_text)


@bp.get("/outbox")
@login_required
def outbox():
    """What the system has queued to send (admins only; useful before delivery is set up).

    Metadata only for messages with a personal link; other bodies with links hidden.
    """
    permissions.require(permissions.can_view_outbox(current_user))
    stmt = select(OutboxMessage).order_by(OutboxMessage.id.desc())
    status = request.args.get("status", "")
    if status in OUTBOX_STATES:
        stmt = stmt.where(OutboxMessage.status == status)
    else:
        status = ""
    page = paginate(stmt, request.args.get("page"), count_up_to=COUNT_UP_TO)  # it only grows: counted up to a bound
    return render_template("core/outbox.html", page=page, body_of=outbox_body, status=status,
                           states=OUTBOX_STATES, delivering=delivery_enabled(), retry_form=FlaskForm())


@bp.post("/outbox/<int:message_id>/retry")
@login_required
def outbox_retry(message_id: int):
    """Send a failed (or waiting) email again now."""
    from ..notifications.services import retry_message

    permissions.require(permissions.can_view_outbox(current_user))
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound()
    if not FlaskForm().validate_on_submit():
        flash(_("The request was incomplete. Reload the page and try again."), "danger")
    else:
        run_action(lambda: retry_message(current_user._get_current_object(), message),
                   _("Email #%(id)d will be sent again by the delivery worker.", id=message_id))
    return redirect(url_for("core.outbox", status=request.args.get("status") or None))

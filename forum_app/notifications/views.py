"""Answering an invitation, and turning a kind of email off, from the email, without signing in.

Mail scanners open every link in a message, so a GET only shows the meeting and the
answer the link names, preselected; only the POST of that page records it. The link
(purpose "rsvp", valid until the meeting ends) acts for that invitation alone and never
signs anyone in. The "stop these emails" link works the same way (GET shows a button,
POST acts), and its POST is also the RFC 8058 one-click unsubscribe a mail provider sends.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from .. import permissions
from ..auth.tokens import LinkError, LinkProblem, read_link_token
from ..core import language
from ..core.actor import current_actor
from ..core.clock import utcnow
from ..core.commit import attempt
from ..core.errors import NotFound
from ..core.forms import AppForm, attach_error, run_action
from ..core.paging import COUNT_UP_TO, paginate
from ..extensions import csrf, db
from ..models import Invitation, OutboxMessage
from ..vocab import OUTBOX_STATES
from .delivery import delivery_enabled
from .forms import RsvpLinkForm
from .meetings import RSVP_ANSWERS, _when
from .outbox import hide_links
from .preferences import CHOICES, read_unsubscribe_link
from .services import answer_from_link, retry_message, unsubscribe_from_link

bp = Blueprint("notifications", __name__)


def _problem(problem: LinkProblem):
    status = 410 if problem == LinkProblem.EXPIRED else 404
    return render_template("calendar/rsvp_problem.html", problem=problem.value), status


@bp.route("/rsvp/<token>", methods=["GET", "POST"])
def rsvp(token: str):
    try:
        link = read_link_token(token, "rsvp", utcnow())
    except LinkError as exc:
        return _problem(exc.problem)
    invitation: Invitation = link.subject
    if not invitation.user.active:
        return _problem(LinkProblem.INVALID)
    meeting = invitation.meeting
    language.use_link_subject(invitation.user, meeting.forum)
    form = RsvpLinkForm()
    status = 200
    if request.method == "GET":
        wanted = request.args.get("answer")
        form.answer.data = (
            wanted if wanted in RSVP_ANSWERS else (invitation.rsvp if invitation.rsvp in RSVP_ANSWERS else None)
        )
        form.comment.data = invitation.rsvp_comment
    elif form.validate_on_submit():
        outcome = attempt(lambda: answer_from_link(invitation, form.answer.data, form.comment.data or ""))
        if outcome:
            flash(
                _("Thank you, your answer is recorded.")
                if outcome.value
                else _("Your answer was already recorded; nothing changed."),
                "success",
            )
            return redirect(url_for("notifications.rsvp", token=token))
        attach_error(form, outcome.message, outcome.field)
        status = 400
    else:
        status = 400
    return render_template(
        "calendar/rsvp.html",
        form=form,
        invitation=invitation,
        meeting=meeting,
        forum=meeting.forum,
        closed=permissions.rsvp_lock(meeting),
        **_when(meeting, invitation.user),
    ), status


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # a mail provider's one-click POST has no form token; the signed link is the credential
def unsubscribe(token: str):
    """GET: what the link turns off, and a button. POST (the button, or a mail provider's
    ``List-Unsubscribe=One-Click``): turn it off. Either way in the email's language.

    No CSRF token can exist for the one-click POST; none is needed: the token in the path is
    the secret, and all it can do is turn one kind of email off for the person it was sent to.
    """
    try:
        link = read_unsubscribe_link(token, utcnow())
    except LinkError as exc:
        status = 410 if exc.problem == LinkProblem.EXPIRED else 404
        return render_template("notifications/unsubscribe.html", problem=exc.problem.value), status
    language.use_link_language(link.language)
    changed = None
    if request.method == "POST":
        outcome = attempt(lambda: unsubscribe_from_link(link.user, link.choice))
        if not outcome:  # two clicks at once: the other one turned it off
            return render_template("notifications/unsubscribe.html", problem="retry", message=outcome.message), 409
        changed = outcome.value
    return render_template(
        "notifications/unsubscribe.html", choice=CHOICES[link.choice], done=changed is not None, changed=changed
    )


# --- the outbox page ----------------------------------------------------------------------------------


def outbox_body(message: OutboxMessage) -> str | None:
    """What an administrator may read of a queued email: None for a sensitive one
    (its link acts for the recipient), else the text with every link replaced.

    Links in emails are for their recipient alone; an administrator who could read them
    could set a password or answer for someone else.
    """
    if message.sensitive:
        return None
    return hide_links(message.body_text, _("[link hidden]"))


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
    return render_template(
        "notifications/outbox.html",
        page=page,
        body_of=outbox_body,
        status=status,
        states=OUTBOX_STATES,
        delivering=delivery_enabled(),
        retry_form=AppForm(),
    )


@bp.post("/outbox/<int:message_id>/retry")
@login_required
def outbox_retry(message_id: int):
    """Send a failed (or waiting) email again now."""
    permissions.require(permissions.can_view_outbox(current_user))
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound()
    if not AppForm().validate_on_submit():
        flash(_("The request was incomplete. Reload the page and try again."), "danger")
    else:
        run_action(
            lambda: retry_message(current_actor(), message),
            _("Email #%(id)d will be sent again by the delivery worker.", id=message_id),
        )
    return redirect(url_for("notifications.outbox", status=request.args.get("status") or None))

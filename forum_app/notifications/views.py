"""Answering an invitation from the email, without signing in.

Mail scanners open every link in a message, so a GET only shows the meeting and the
answer the link names, preselected; only the POST of that page records it. The link
(purpose "rsvp", valid until the meeting ends) acts for that invitation alone and never
signs anyone in.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import permissions
from ..auth.tokens import LinkError, LinkProblem, read_link_token
from ..core.clock import utcnow
from ..core.commit import attempt
from ..core.forms import attach_error
from ..models import Invitation
from .forms import RsvpLinkForm
from .meetings import RSVP_ANSWERS, _when
from .services import answer_from_link

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
    form = RsvpLinkForm()
    status = 200
    if request.method == "GET":
        wanted = request.args.get("answer")
        form.answer.data = wanted if wanted in RSVP_ANSWERS else (
            invitation.rsvp if invitation.rsvp in RSVP_ANSWERS else None)
        form.comment.data = invitation.rsvp_comment
    elif form.validate_on_submit():
        outcome = attempt(lambda: answer_from_link(invitation, form.answer.data, form.comment.data or ""))
        if outcome:
            flash(_("Thank you, your answer is recorded.") if outcome.value
                  else _("Your answer was already recorded; nothing changed."), "success")
            return redirect(url_for("notifications.rsvp", token=token))
        attach_error(form, outcome.message, outcome.field)
        status = 400
    else:
        status = 400
    return render_template(
        "calendar/rsvp.html", form=form, invitation=invitation, meeting=meeting, forum=meeting.forum,
        closed=permissions.rsvp_lock(meeting), **_when(meeting, invitation.user),
    ), status

"""Posting a review comment; the thread itself is shown on its object's page (``review_thread``)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import permissions
from ..core.forms import run_action
from . import queries, services
from .forms import ReviewCommentForm

bp = Blueprint("reviews", __name__)


@bp.app_context_processor
def review_thread_helper():
    # Pages show the thread with one include line: {% with review = review_thread(obj) %}.
    def review_thread(obj):
        # None, or an undefined value (the dashboard filtered to a grant it no longer offers): no thread.
        if obj is None or not hasattr(obj, "id"):
            return None
        return queries.review_page(permissions.resolved(current_user), obj)

    return {"review_thread": review_thread}


def _page_of(object_type: str, obj) -> str:
    if object_type == "forum":
        return url_for("forums.forum", forum_id=obj.id, _anchor="review")
    if object_type == "meeting":
        return url_for("meetings.meeting", meeting_id=obj.id, _anchor="review")
    return url_for("reports.dashboard", grant=obj.id)


@bp.post("/reviews/<any(grant, forum, meeting):object_type>/<int:object_id>/comments")
@login_required
def post_comment(object_type: str, object_id: int):
    user = permissions.resolved(current_user)
    obj = permissions.load_review_target(user, object_type, object_id)
    form = ReviewCommentForm()
    if not form.validate_on_submit():
        flash(_("The comment could not be read: reload the page and try again."), "danger")
    else:
        data = form.to_input()
        if data.in_reply_to_id is None:
            permissions.require(permissions.can_start_review(user, obj))  # organisers answer, they do not start
        run_action(lambda: services.post_comment(user, obj, data), _("Your review comment is posted."))
    return redirect(_page_of(object_type, obj))

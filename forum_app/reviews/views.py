"""Posting a review comment; the thread itself is shown on its object's page (``review_thread``)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, flash, redirect, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import permissions
from ..core import once
from ..core.actor import current_actor, require_sign_in
from ..core.commit import attempt
from . import queries, services
from .forms import ReviewCommentForm

bp = Blueprint("reviews", __name__)
require_sign_in(bp)


@bp.app_context_processor
def review_thread_helper():
    # Pages show the thread with one include line: {% with review = review_thread(obj) %}.
    def review_thread(obj):
        # None, or an undefined value (the dashboard filtered to a grant it no longer offers): no thread.
        if obj is None or not hasattr(obj, "id"):
            return None
        page = queries.review_page(permissions.resolved(current_user), obj)
        refused = session.get(_REFUSED)
        if page is None or not refused or refused.get("target") != _target(page.object_type, page.object_id):
            return page
        session.pop(_REFUSED)
        firsts = {thread.first.id for thread in page.threads}
        reply_to = refused.get("in_reply_to_id")
        # The message goes to the form the comment came from; a reply to no thread here, to the new-comment form.
        at = reply_to if reply_to in firsts else ("new" if page.flags.can_start else "top")
        return _WithError(page, ReviewError(at, refused["message"], refused.get("body", "")))

    return {"review_thread": review_thread}


_REFUSED = "review_refused"
KEPT_BODY = 1_500


@dataclass(frozen=True)
class ReviewError:
    """A refused comment, shown once at the form it came from with the text the person wrote."""

    at: int | str  # the thread's first comment id (its answer form), "new", or "top" (no form to show it at)
    message: str
    body: str


class _WithError:
    def __init__(self, page, error: ReviewError):
        self._page, self.error = page, error

    def __getattr__(self, name):
        return getattr(self._page, name)


def _target(object_type: str, object_id: int) -> str:
    return f"{object_type}:{object_id}"


def _page_of(object_type: str, obj) -> str:
    if object_type == "forum":
        return url_for("forums.forum", forum_id=obj.id, _anchor="review")
    if object_type == "meeting":
        return url_for("meetings.meeting", meeting_id=obj.id, _anchor="review")
    return url_for("reports.dashboard", grant=obj.id)


@bp.post("/reviews/<any(grant, forum, meeting):object_type>/<int:object_id>/comments")
@once.create_form
def post_comment(object_type: str, object_id: int):
    user = current_actor()
    obj = permissions.load_review_target(user, object_type, object_id)
    form = ReviewCommentForm()
    if not form.validate_on_submit():
        message = _("The comment could not be read: reload the page and try again.")
    else:
        data = form.to_input()
        if data.in_reply_to_id is None:
            permissions.require(permissions.can_start_review(user, obj))  # organisers answer, they do not start
        outcome = attempt(
            once.guard(user, lambda: services.post_comment(user, obj, data), lambda _c: _page_of(object_type, obj))
        )
        if outcome:
            flash(_("Your review comment is posted."), "success")
            return redirect(_page_of(object_type, obj))
        message = outcome.message
    # Nothing was saved: the page shows the message at the form, keeping what was written (when it fits
    # the session cookie; a text too long is not kept).
    body = form.body.data or ""
    session[_REFUSED] = {
        "target": _target(object_type, obj.id),
        "message": message,
        "body": body if len(body) <= KEPT_BODY else "",
        "in_reply_to_id": form.in_reply_to_id.data if not form.in_reply_to_id.errors else None,
    }
    return redirect(_page_of(object_type, obj))

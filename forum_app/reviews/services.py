"""Posting to a review thread: check, append, audit, and queue the emails in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from .. import permissions
from ..core import audit
from ..core.errors import ServiceError
from ..core.urls import external_url
from ..extensions import db
from ..models import Forum, Grant, GrantTeam, Meeting, ReviewComment, User
from ..notifications.outbox import in_language_of, queue_email
from ..permissions import ensure

MAX_BODY = 5_000


@dataclass(frozen=True)
class ReviewInput:
    body: str
    in_reply_to_id: int | None = None


def object_type_of(obj) -> str:
    if isinstance(obj, Grant):
        return "grant"
    if isinstance(obj, Forum):
        return "forum"
    if isinstance(obj, Meeting):
        return "meeting"
    raise TypeError(f"no review threads on {type(obj).__name__}")


def object_url(obj) -> str:
    """Where the thread on ``obj`` is read (absolute, for emails)."""
    kind = object_type_of(obj)
    if kind == "forum":
        return external_url("forums.forum", forum_id=obj.id) + "#review"
    if kind == "meeting":
        return external_url("meetings.meeting", meeting_id=obj.id) + "#review"
    return external_url("reports.dashboard", grant=obj.id)


def object_title(obj) -> str:
    return f"{obj.reference} {obj.title}" if isinstance(obj, Grant) else obj.title


def post_comment(actor: User, obj, data: ReviewInput) -> ReviewComment:
    """Append a comment to the thread on ``obj`` (a grant, forum or meeting).

    Staff start threads and answer; the grant's organisers answer. An answer to an answer joins its
    thread (threads are one level deep). Staff comments notify the grant's organisers; an organiser's
    answer notifies the staff member who started the thread.
    """
    body = data.body.strip()
    if not body:
        raise ServiceError(_("Write a comment first."), field="body")
    if len(body) > MAX_BODY:
        raise ServiceError(
            ngettext("A comment has at most %(num)d character.", "A comment has at most %(num)d characters.", MAX_BODY),
            field="body",
        )
    kind = object_type_of(obj)
    parent = None
    if data.in_reply_to_id is not None:
        parent = db.session.get(ReviewComment, data.in_reply_to_id)
        if parent is None or parent.object_type != kind or parent.object_id != obj.id:
            raise ServiceError(_("That comment is not in this thread."), field="in_reply_to_id")
        parent = parent.in_reply_to or parent
    ensure(permissions.review_comment_lock(actor, obj, parent))
    comment = ReviewComment(object_type=kind, object_id=obj.id, author_id=actor.id, body=body, in_reply_to=parent)
    db.session.add(comment)
    db.session.flush()
    audit.record(actor, "review.answer" if parent else "review.comment", obj, body[:200], comment_id=comment.id)
    _notify(actor, obj, comment, parent)
    return comment


def _notify(actor: User, obj, comment: ReviewComment, parent: ReviewComment | None) -> None:
    grant_id = permissions.review_grant_id(obj)
    if permissions.is_staff(actor):
        recipients = list(
            db.session.execute(
                select(User)
                .join(GrantTeam, GrantTeam.user_id == User.id)
                .where(GrantTeam.grant_id == grant_id, User.active.is_(True))
                .order_by(User.id)
            ).scalars()
        )
    else:
        recipients = [parent.author] if parent is not None and parent.author.active else []
    title, url = object_title(obj), object_url(obj)
    for user in recipients:
        if user.id == actor.id:
            continue
        with in_language_of(user):
            queue_email(
                "review-comment",
                user,
                _("Review comment on %(title)s", title=title),
                "review_comment",
                author=actor,
                comment=comment,
                title=title,
                url=url,
                answer=parent is not None,
            )

"""A review thread as its page shows it: the comments in threads, and what the reader may do."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import permissions
from ..extensions import db
from ..models import ReviewComment
from .services import object_type_of


@dataclass
class Thread:
    first: ReviewComment
    answers: list[ReviewComment] = field(default_factory=list)


@dataclass(frozen=True)
class ReviewPage:
    object_type: str
    object_id: int
    threads: list[Thread]
    flags: permissions.ReviewFlags


def review_page(user, obj) -> ReviewPage | None:
    """The threads on ``obj`` in one query, or None when ``user`` may not read its review."""
    flags = permissions.review_flags(user, obj)
    if not flags.can_view:
        return None
    kind = object_type_of(obj)
    comments = db.session.execute(
        select(ReviewComment)
        .where(ReviewComment.object_type == kind, ReviewComment.object_id == obj.id)
        .options(joinedload(ReviewComment.author))
        .order_by(ReviewComment.created_at, ReviewComment.id)
    ).scalars()
    threads: dict[int, Thread] = {}
    for comment in comments:
        if comment.in_reply_to_id is None:
            threads[comment.id] = Thread(comment)
        elif comment.in_reply_to_id in threads:
            threads[comment.in_reply_to_id].answers.append(comment)
    return ReviewPage(kind, obj.id, list(threads.values()), flags)

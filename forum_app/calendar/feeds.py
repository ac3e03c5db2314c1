"""Calendar feeds: a person's own (``/calendar/<token>.ics``), a forum's for its members,
and one meeting's download.

The feed token is secret (calendar apps fetch the URL without signing in) and the
database keeps only its hash. It is an HMAC of a random nonce under SECRET_KEY, so the
profile can show the URL again, while a copy of the database alone opens no feed.
Regenerating replaces the nonce, which kills the old URL at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from .. import permissions
from ..core import audit
from ..core.clock import utcnow
from ..core.urls import external_url
from ..extensions import db
from ..models import ActionItem, Forum, GrantTeam, Invitation, Meeting, NotificationSettings, User
from ..notifications.preferences import settings_for
from ..vocab import ACTION_OPEN_STATES

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32}$")
# Feeds show meetings from this far back, and everything to come.
FEED_HISTORY = timedelta(days=180)


def _token(user_id: int, nonce: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"calendar-feed\x00{user_id}\x00{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:32]


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_token(user: User) -> str | None:
    settings = settings_for(user)
    if settings is None or not settings.feed_nonce:
        return None
    return _token(user.id, settings.feed_nonce)


def feed_url(user: User) -> str | None:
    token = feed_token(user)
    return external_url("calendar.personal_feed", token=token) if token else None


def forum_feed_url(user: User, forum: Forum) -> str | None:
    token = feed_token(user)
    return external_url("calendar.forum_feed", token=token, forum_id=forum.id) if token else None


def regenerate_feed_token(actor: User) -> str:
    """A new secret feed URL for ``actor``; the old one stops working. (A service: never commits.)"""
    settings = settings_for(actor, create=True)
    had_one = bool(settings.feed_nonce)
    settings.feed_nonce = secrets.token_hex(16)
    token = _token(actor.id, settings.feed_nonce)
    settings.feed_token_hash = _hash(token)
    settings.feed_created_at = utcnow()
    audit.record(actor, "account.calendar_feed", actor, "Calendar feed link " + ("replaced" if had_one else "created"))
    return token


def user_for_token(token: str) -> User | None:
    """The active person whose current feed token this is, else None (tampered, replaced, deactivated)."""
    if not TOKEN_RE.match(token or ""):
        return None
    row = db.session.execute(
        select(NotificationSettings)
        .where(NotificationSettings.feed_token_hash == _hash(token))
        .options(joinedload(NotificationSettings.user))
    ).scalar_one_or_none()
    if row is None or not row.user.active or not row.feed_nonce:
        return None
    if not hmac.compare_digest(_token(row.user_id, row.feed_nonce), token):
        return None
    return row.user


@dataclass
class Feed:
    name: str
    meetings: list[Meeting]
    actions: list[ActionItem]
    forum: Forum | None = None  # a forum's feed: its language is the fallback of the reader's


def personal_feed(user: User) -> Feed:
    """The meetings the person is invited to or organises (once visible beyond the organisers),
    and the due dates of the open actions they own."""
    since = utcnow() - FEED_HISTORY
    invited = select(Invitation.meeting_id).where(Invitation.user_id == user.id)
    organised = (
        select(Forum.id).join(GrantTeam, GrantTeam.grant_id == Forum.grant_id).where(GrantTeam.user_id == user.id)
    )
    meetings = (
        db.session.execute(
            select(Meeting)
            .options(joinedload(Meeting.forum))
            .where(
                Meeting.published_at.is_not(None),
                Meeting.ends_at >= since,
                or_(Meeting.id.in_(invited), Meeting.forum_id.in_(organised)),
            )
            .order_by(Meeting.starts_at)
        )
        .scalars()
        .all()
    )
    actions = (
        db.session.execute(
            select(ActionItem)
            .options(joinedload(ActionItem.forum))
            .where(
                ActionItem.owner_id == user.id, ActionItem.state.in_(ACTION_OPEN_STATES), ActionItem.due_on.is_not(None)
            )
            .order_by(ActionItem.due_on)
        )
        .scalars()
        .all()
    )
    return Feed(_("Forum Desk: %(name)s", name=user.name), list(meetings), list(actions))


def forum_feed(user: User, forum_id: int) -> Feed:
    """A forum's meetings, for someone who may see the forum (NotFound otherwise)."""
    forum = permissions.load_forum(user, forum_id)
    since = utcnow() - FEED_HISTORY
    meetings = (
        db.session.execute(
            select(Meeting)
            .options(joinedload(Meeting.forum))
            .where(Meeting.forum_id == forum.id, Meeting.published_at.is_not(None), Meeting.ends_at >= since)
            .order_by(Meeting.starts_at)
        )
        .scalars()
        .all()
    )
    return Feed(f"{forum.title} (Forum Desk)", list(meetings), [], forum)

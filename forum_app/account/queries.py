"""What the profile page shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .. import permissions
from ..auth import agents, sessions
from ..calendar.feeds import feed_token
from ..core.urls import external_url
from ..extensions import db
from ..models import Forum, NotificationSettings, User
from ..notifications.preferences import settings_for


@dataclass(frozen=True)
class SessionRow:
    """One live session as its owner (or an administrator) sees it."""

    id: int
    device: str  # "Firefox on Windows", from the stored User-Agent
    place: str  # the address as stored; no look-up of where it is
    signed_in_at: datetime
    last_seen_at: datetime | None
    current: bool


def session_rows(user: User, current_id: int | None) -> list[SessionRow]:
    """``user``'s live sessions, most recently used first (one query)."""
    return [
        SessionRow(
            row.id, agents.describe(row.user_agent), row.ip, row.created_at, row.last_seen_at, row.id == current_id
        )
        for row in sessions.active_sessions_of(user)
    ]


@dataclass
class ProfilePage:
    user: User
    settings: NotificationSettings | None
    feed_url: str | None
    forum_feeds: list[tuple[Forum, str]]
    sessions: list[SessionRow] = field(default_factory=list)

    @property
    def other_sessions(self) -> int:
        return sum(not s.current for s in self.sessions)

    def choice(self, name: str) -> bool:
        return True if self.settings is None else bool(getattr(self.settings, name))


def profile_page(user: User) -> ProfilePage:
    settings = settings_for(user)
    token = feed_token(user)
    forum_feeds = []
    if token:
        forums = db.session.execute(permissions.visible_forums(user).order_by(Forum.title)).scalars().all()
        forum_feeds = [(f, external_url("calendar.forum_feed", token=token, forum_id=f.id)) for f in forums]
    return ProfilePage(
        user,
        settings,
        external_url("calendar.personal_feed", token=token) if token else None,
        forum_feeds,
        session_rows(user, sessions.current_session_id()),
    )

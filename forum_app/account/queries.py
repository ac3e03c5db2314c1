"""What the profile page shows."""

from __future__ import annotations

from dataclasses import dataclass

from .. import permissions
from ..calendar.feeds import feed_token
from ..core.urls import external_url
from ..extensions import db
from ..models import Forum, NotificationSettings, User
from ..notifications.preferences import settings_for


@dataclass
class ProfilePage:
    user: User
    settings: NotificationSettings | None
    feed_url: str | None
    forum_feeds: list[tuple[Forum, str]]

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
        user, settings, external_url("calendar.personal_feed", token=token) if token else None, forum_feeds
    )

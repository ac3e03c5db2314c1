"""Public news items: who writes them, who reads a draft, who publishes."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from ..models import NewsItem
from .enforce import _load
from .roles import _authenticated, is_admin, is_staff, organiser_grant_ids


def can_compose_news(user) -> bool:
    """Programme staff (and admins), and organisers (for their own grants' forums)."""
    return is_staff(user) or bool(organiser_grant_ids(user))


def news_scope_lock(user, grant_id: int | None) -> str | None:
    """Why ``user`` may not write about the forums of ``grant_id`` (None: the whole programme). None: they may."""
    if is_staff(user):
        return None
    if grant_id is None:
        return _("Choose your grant: organisers write about their own grant's forums.")
    if grant_id not in organiser_grant_ids(user):
        return _("You can write news only about your own grant's forums.")
    return None


def is_news_author(user, item: NewsItem) -> bool:
    return _authenticated(user) and item.author_id == user.id


def can_view_news(user, item: NewsItem) -> bool:
    """A published item: everyone, signed in or not. A draft: its author and admins only."""
    return item.state == "published" or is_news_author(user, item) or is_admin(user)


def can_edit_news(user, item: NewsItem) -> bool:
    """Its author (while they may still write about its forums) and admins."""
    if is_admin(user):
        return True
    return is_news_author(user, item) and news_scope_lock(user, item.grant_id) is None


def load_news(user, news_id: int, need: str = "view") -> NewsItem:
    """A draft someone else wrote answers 404, as if it did not exist."""
    return _load(user, select(NewsItem).where(NewsItem.id == news_id), need, can_view_news, can_edit_news)

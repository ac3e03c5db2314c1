"""A person's own settings: time zone, language, which emails they receive, the calendar feed,
and their sessions (signing out one, every other, or all)."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import available_timezones

from flask_babel import gettext as _

from ..auth import sessions
from ..calendar.feeds import regenerate_feed_token
from ..core import audit
from ..core.errors import NotFound, ServiceError
from ..core.language import LANGUAGES
from ..models import User
from ..notifications.preferences import CHOICES, settings_for


@dataclass(frozen=True)
class ProfileInput:
    timezone: str
    locale: str
    choices: dict[str, bool] = field(default_factory=dict)


def update_profile(actor: User, data: ProfileInput) -> User:
    if data.timezone not in available_timezones():
        raise ServiceError(_("Choose a time zone from the list."), field="timezone")
    if data.locale and data.locale not in LANGUAGES:
        raise ServiceError(_("Choose a language from the list."), field="locale")
    changes: dict[str, list[str | bool]] = {}
    if actor.timezone != data.timezone:
        changes["timezone"] = [actor.timezone, data.timezone]
        actor.timezone = data.timezone
    if actor.locale != data.locale:
        changes["locale"] = [actor.locale, data.locale]
        actor.locale = data.locale
    settings = settings_for(actor, create=True)
    for name in CHOICES:
        wanted = bool(data.choices.get(name, True))
        if getattr(settings, name) is not wanted:
            changes[name] = [getattr(settings, name), wanted]
            setattr(settings, name, wanted)
    if changes:
        audit.record(actor, "account.update", actor, "Updated own profile", changes=sorted(changes))
    return actor


def new_calendar_link(actor: User) -> str:
    return regenerate_feed_token(actor)


def choose_language(actor: User, code: str) -> User:
    """The switcher, for a signed-in person: their profile's language ("" = as the browser asks)."""
    if code and code not in LANGUAGES:
        raise ServiceError(_("Choose a language from the list."), field="locale")
    if actor.locale != code:
        audit.record(actor, "account.update", actor, "Updated own profile", changes=["locale"])
        actor.locale = code
    return actor


def end_own_session(actor: User, session_id: int) -> None:
    """Sign one of ``actor``'s sessions out; another person's (or an ended) one is not found."""
    row = sessions.revoke_session(actor, session_id)
    if row is None:
        raise NotFound()
    audit.record(actor, "session.revoke", actor, "Signed out one session", session_id=row.id)


def end_other_sessions(actor: User) -> int:
    """Sign out everywhere but here; how many sessions were ended."""
    ended = sessions.revoke_all_sessions(actor, keep_current=True)
    audit.record(actor, "session.revoke_others", actor, "Signed out everywhere else", count=ended)
    return ended


def end_all_sessions(actor: User) -> int:
    """Sign out everywhere, here included (the view then clears this browser's cookie)."""
    ended = sessions.revoke_all_sessions(actor)
    audit.record(actor, "session.revoke_all", actor, "Signed out everywhere", count=ended)
    return ended

"""Every "may this user do X to Y" decision, in one place.

Views, templates and the API ask here; nothing else decides access. Roles:

- admin: everything, including accounts, organisations, programmes and grants;
- programme staff: read everything (including drafts), change nothing structural;
- organiser: a member of a grant's team; runs that grant's forums;
- participant / observer: a member of a forum; sees that forum's non-draft meetings.

A forbidden object answers 404 when the person may not even know it exists (not a
member) and 403 when they can see it but not change it, the same way everywhere.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import abort, g
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select

from .extensions import db
from .models import Forum, ForumMember, Grant, GrantTeam, Meeting, User


def _authenticated(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def is_admin(user) -> bool:
    return _authenticated(user) and user.role == "admin"


def is_staff(user) -> bool:
    """Programme staff (EU / CoE) — and admins, who can do all staff can."""
    return _authenticated(user) and user.role in ("admin", "staff")


def organiser_grant_ids(user) -> frozenset[int]:
    """Grants whose team includes ``user``; looked up once per request."""
    if not _authenticated(user):
        return frozenset()
    cache = g.setdefault("_organiser_grants", {})
    if user.id not in cache:
        rows = db.session.execute(select(GrantTeam.grant_id).where(GrantTeam.user_id == user.id)).scalars()
        cache[user.id] = frozenset(rows)
    return cache[user.id]


def member_forum_ids(user) -> frozenset[int]:
    """Forums where ``user`` is a participant or observer; looked up once per request."""
    if not _authenticated(user):
        return frozenset()
    cache = g.setdefault("_member_forums", {})
    if user.id not in cache:
        rows = db.session.execute(select(ForumMember.forum_id).where(ForumMember.user_id == user.id)).scalars()
        cache[user.id] = frozenset(rows)
    return cache[user.id]


def is_organiser(user) -> bool:
    return bool(organiser_grant_ids(user))


# --- administration -------------------------------------------------------------------

def can_administer(user) -> bool:
    """Accounts, organisations, programmes, grants and their teams."""
    return is_admin(user)


def can_invite_people(user) -> bool:
    """Add a person by email (they receive a set-password link)."""
    return is_admin(user) or is_organiser(user)


def can_view_outbox(user) -> bool:
    return is_admin(user)


# --- forums and meetings ----------------------------------------------------------------

def can_view_forum(user, forum: Forum) -> bool:
    if is_staff(user):
        return True
    return forum.grant_id in organiser_grant_ids(user) or forum.id in member_forum_ids(user)


def can_edit_forum(user, forum: Forum) -> bool:
    return is_admin(user) or forum.grant_id in organiser_grant_ids(user)


def can_create_forum(user, grant: Grant) -> bool:
    return is_admin(user) or grant.id in organiser_grant_ids(user)


def can_view_meeting(user, meeting: Meeting) -> bool:
    forum = meeting.forum
    if meeting.state == "draft":
        # Drafts are the organisers' working copies; members never see them.
        return is_staff(user) or can_edit_forum(user, forum)
    return can_view_forum(user, forum)


def can_edit_meeting(user, meeting: Meeting) -> bool:
    return can_edit_forum(user, meeting.forum)


def visible_forums(user) -> Select:
    """A SELECT of the forums ``user`` may see (for lists; add filters and ordering)."""
    stmt = select(Forum)
    if is_staff(user):
        return stmt
    grants, forums = organiser_grant_ids(user), member_forum_ids(user)
    if not _authenticated(user) or not (grants or forums):
        return stmt.where(False)
    return stmt.where(Forum.grant_id.in_(grants) | Forum.id.in_(forums))


# --- enforcement helpers ----------------------------------------------------------------

def require(allowed: bool) -> None:
    """Stop the request with 403 unless ``allowed``."""
    if not allowed:
        abort(403)


def require_visible(allowed: bool) -> None:
    """Stop with 404: the person may not learn that the object exists."""
    if not allowed:
        abort(404)


def get_forum_or_404(forum_id: int, need: str = "view") -> Forum:
    forum = db.session.get(Forum, forum_id)
    if forum is None:
        abort(404)
    from flask_login import current_user

    require_visible(can_view_forum(current_user, forum))
    if need == "edit":
        require(can_edit_forum(current_user, forum))
    return forum


# --- navigation ---------------------------------------------------------------------------

@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str


def navigation(user) -> list[NavItem]:
    """The menu a person sees, by role (the routes still check for themselves)."""
    if not _authenticated(user):
        return []
    items = [NavItem("core.home", str(_l("Forums")))]
    if can_administer(user):
        items += [
            NavItem("admin.users", str(_l("People"))),
            NavItem("admin.organisations", str(_l("Organisations"))),
            NavItem("admin.programmes", str(_l("Programmes"))),
            NavItem("admin.grants", str(_l("Grants"))),
            NavItem("admin.audit", str(_l("Audit log"))),
        ]
    if can_view_outbox(user):
        items.append(NavItem("core.outbox", str(_l("Outbox"))))
    return items


__all__ = ["User"]

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
from flask_login import current_user
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from .extensions import db
from .models import Forum, ForumMember, Grant, GrantTeam, Invitation, Meeting


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
    if meeting.published_at is None:
        # Drafts (and drafts cancelled before anyone saw them) are the organisers' own.
        return is_staff(user) or can_edit_forum(user, forum)
    # Guests invited from outside the forum see the meeting, not the forum.
    return can_view_forum(user, forum) or is_invitee(user, meeting)


def can_edit_meeting(user, meeting: Meeting) -> bool:
    return can_edit_forum(user, meeting.forum)


def can_create_forums(user) -> bool:
    """May create a forum for at least one grant."""
    return is_admin(user) or is_organiser(user)


def creatable_grants(user) -> Select:
    """The grants ``user`` may create forums for."""
    stmt = select(Grant)
    if is_admin(user):
        return stmt
    return stmt.where(Grant.id.in_(organiser_grant_ids(user)))


def is_invitee(user, meeting: Meeting) -> bool:
    if not _authenticated(user):
        return False
    return any(inv.user_id == user.id for inv in meeting.invitations)


def can_rsvp(user, meeting: Meeting) -> bool:
    """Invitees answer while the meeting is planned (not for drafts, held or cancelled ones)."""
    return meeting.state == "scheduled" and is_invitee(user, meeting)


def can_see_rsvps(user, meeting: Meeting) -> bool:
    return is_staff(user) or can_edit_meeting(user, meeting)


def can_view_minutes(user, meeting: Meeting) -> bool:
    """Draft minutes: organisers (and staff). Circulated: also the invitees. Adopted: all who see the meeting.

    Beyond organisers and staff, only shared versions are ever shown (see forums.minutes).
    """
    if not can_view_meeting(user, meeting) or meeting.minutes_revision == 0:
        return False
    if is_staff(user) or can_edit_meeting(user, meeting):
        return True
    if meeting.minutes_shared_revision == 0:
        return False
    if meeting.minutes_state == "circulated":
        return is_invitee(user, meeting)
    return meeting.minutes_state == "adopted"


def can_comment_minutes(user, meeting: Meeting) -> bool:
    """Attendees (present) and organisers comment on circulated minutes."""
    if meeting.minutes_state != "circulated" or not can_view_minutes(user, meeting):
        return False
    if can_edit_meeting(user, meeting):
        return True
    return any(inv.user_id == user.id and inv.attendance == "present" for inv in meeting.invitations)


def visible_meetings(user) -> Select:
    """A SELECT of the meetings ``user`` may see (unpublished ones only for their organisers and staff)."""
    stmt = select(Meeting).join(Meeting.forum)
    if is_staff(user):
        return stmt
    if not _authenticated(user):
        return stmt.where(False)
    invited = select(Invitation.meeting_id).where(Invitation.user_id == user.id)
    return stmt.where(
        Forum.grant_id.in_(organiser_grant_ids(user))
        | ((Forum.id.in_(member_forum_ids(user)) | Meeting.id.in_(invited)) & Meeting.published_at.is_not(None))
    )


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


def _get_or_404(stmt: Select, need: str, can_view, can_edit):
    """The one object ``stmt`` selects, if the current user may ``need`` ("view" or "edit") it.

    Missing, or not visible: 404 (the same answer, so existence does not leak). Visible
    but not editable: 403.
    """
    obj = db.session.execute(stmt).unique().scalar_one_or_none()
    if obj is None:
        abort(404)
    require_visible(can_view(current_user, obj))
    if need == "edit":
        require(can_edit(current_user, obj))
    return obj


def get_forum_or_404(forum_id: int, need: str = "view", options=()) -> Forum:
    return _get_or_404(select(Forum).where(Forum.id == forum_id).options(*options),
                       need, can_view_forum, can_edit_forum)


def get_meeting_or_404(meeting_id: int, need: str = "view", options=()) -> Meeting:
    return _get_or_404(select(Meeting).where(Meeting.id == meeting_id).options(joinedload(Meeting.forum), *options),
                       need, can_view_meeting, can_edit_meeting)


# --- navigation ---------------------------------------------------------------------------

@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str


def navigation(user) -> list[NavItem]:
    """The menu a person sees, by role (the routes still check for themselves)."""
    if not _authenticated(user):
        return []
    items = [NavItem("forums.index", str(_l("Forums"))), NavItem("forums.calendar", str(_l("Calendar")))]
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


"""Forums and their members. Services flush, write the audit trail, and never commit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager

from .. import notifications, permissions
from ..auth import services as accounts
from ..core import audit
from ..core.editing import EditInput, ensure_unchanged
from ..core.errors import ServiceError
from ..core.language import LANGUAGES
from ..core.markdown import render_for_storage
from ..extensions import db
from ..models import Forum, ForumMember, Grant, Invitation, Meeting, User
from ..vocab import MINUTES_ADOPTION_WAYS


@dataclass(frozen=True)
class ForumInput(EditInput):
    grant_id: int
    title: str
    city: str
    country: str
    timezone: str
    language: str = "en"
    focus: str = ""
    description: str = ""
    minutes_adoption: str = "circulation"  # vocab.MINUTES_ADOPTION_WAYS

    def __post_init__(self) -> None:
        for name in ("title", "city", "focus", "description"):
            object.__setattr__(self, name, (getattr(self, name) or "").strip())


def save_forum(actor: User, forum: Forum | None, data: ForumInput, loaded: dict[str, Any] | None = None) -> Forum:
    """Create a forum, or save edits made on a form opened with the values ``loaded``."""
    ensure_unchanged(forum, data, loaded)
    grant = db.session.get(Grant, data.grant_id)
    if grant is None or not permissions.can_create_forum(actor, grant):
        raise ServiceError(_("Choose one of your grants."), field="grant_id")
    clash = select(Forum.id).where(Forum.grant_id == data.grant_id, func.lower(Forum.title) == data.title.lower())
    if forum is not None:
        clash = clash.where(Forum.id != forum.id)
    if db.session.execute(clash.limit(1)).first() is not None:
        raise ServiceError(_("This grant already has a forum with this title."), field="title")
    if data.language not in LANGUAGES:
        raise ServiceError(_("Choose a language from the list."), field="language")
    if data.minutes_adoption not in MINUTES_ADOPTION_WAYS:
        raise ServiceError(_("Choose how the minutes are adopted."), field="minutes_adoption")
    description_html = (
        render_for_storage(data.description, field="description")
        if forum is None or forum.description != data.description
        else forum.description_html
    )
    forum = audit.create_or_update(actor, forum, Forum, "forum", data.title, **vars(data))
    forum.description_html = description_html  # not in the audit's list of changes: it follows description
    return forum


def add_member(
    actor: User, forum: Forum, *, email: str, role: str, name: str = "", organisation_id: int | None = None
) -> tuple[User, bool]:
    """Add a person to the forum; invite them first when they have no account.

    Returns the user and whether an account was created (and a set-password email queued).
    """
    user = accounts.find_user_by_email(email)
    # An account the grant does not know answers exactly as an unknown address does (issue 22
    # point 5): the organiser's name is needed and shown, a closed account is added but stays
    # closed and is sent nothing. Only what the grant already knows may be told apart.
    known = user is not None and permissions.known_in_grant(user.id, forum.grant_id)
    created = False
    if not known and not name.strip():
        raise ServiceError(_("Give the person's name to add them."), field="name")
    if user is None:
        user = accounts.invite_user(actor, email=email, name=name, organisation_id=organisation_id, forum=forum)
        created = True
    elif not user.active and not accounts.reopen_withdrawn_invitation(actor, user, forum=forum) and known:
        # Closed by an administrator, or a mistaken invitation withdrawn by someone else: not theirs to reopen.
        raise ServiceError(_("This account is deactivated. Ask an administrator to reactivate it."), field="email")
    existing = db.session.execute(
        select(ForumMember).where(ForumMember.forum_id == forum.id, ForumMember.user_id == user.id)
    ).scalar_one_or_none()
    if existing is not None:
        raise ServiceError(_("%(name)s is already a member of this forum.", name=existing.shown_name), field="email")
    db.session.add(
        ForumMember(forum_id=forum.id, user_id=user.id, role=role, name_given="" if known else name.strip()[:200])
    )
    audit.record(actor, "forum.member.add", forum, f"Added {user.email} as {role}", user_id=user.id, role=role)
    return user, created


def change_member_role(actor: User, forum: Forum, member_id: int, role: str) -> ForumMember:
    member = _member(forum, member_id)
    if member.role != role:
        audit.record(
            actor,
            "forum.member.role",
            forum,
            f"{member.user.email}: {member.role} → {role}",
            user_id=member.user_id,
            old=member.role,
            new=role,
        )
        member.role = role
    return member


def remove_member(actor: User, forum: Forum, member_id: int) -> User:
    """Remove a member and their invitations to meetings still to come.

    Their forum leaves their calendar with them: a cancellation for each of those meetings that
    may have reached it, and nothing still waiting about the forum is sent (notifications.member_left).
    Invitations to held or cancelled meetings stay: attendance and actions are history.
    """
    member = _member(forum, member_id)
    user = member.user
    invitations = (
        db.session.execute(
            select(Invitation)
            .join(Meeting, Meeting.id == Invitation.meeting_id)
            .where(
                Invitation.user_id == user.id,
                Meeting.forum_id == forum.id,
                Meeting.state.in_(("draft", "scheduled")),
            )
            .options(contains_eager(Invitation.meeting))
            .order_by(Meeting.starts_at, Meeting.id)
        )
        .scalars()
        .all()
    )
    for invitation in invitations:
        db.session.delete(invitation)
    db.session.delete(member)
    db.session.flush()
    audit.record(
        actor,
        "forum.member.remove",
        forum,
        f"Removed {user.email}",
        user_id=user.id,
        withdrawn_from_meetings=sorted(inv.meeting_id for inv in invitations),
    )
    accounts.withdraw_unused_invitation(actor, user)  # added by mistake: the new account goes too
    # Last: closing an unused account withdraws all its queued mail, and these cancellations must go.
    notifications.member_left(forum, user, list(invitations))
    return user


def _member(forum: Forum, member_id: int) -> ForumMember:
    member = db.session.get(ForumMember, member_id)
    if member is None or member.forum_id != forum.id:
        raise ServiceError(_("This person is not a member of this forum."))
    return member

"""Who someone is: signed in, admin, programme staff, organiser of which grants, member of which forums.

Every other module of the package builds its answers on these.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import event, literal, select
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import ForumMember, GrantTeam, Invitation


def resolved(user):
    """The user behind Flask-Login's ``current_user`` proxy (or ``user`` itself).

    Every attribute read through the proxy resolves it again; a loader that checks a
    permission per invitee would do that hundreds of times a page. Loaders call this once.
    """
    get = getattr(user, "_get_current_object", None)
    return get() if get is not None else user


def _authenticated(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def is_admin(user) -> bool:
    return _authenticated(user) and user.role == "admin"


def is_staff(user) -> bool:
    """Programme staff (EU / CoE) — and admins, who can do all staff can."""
    return _authenticated(user) and user.role in ("admin", "staff")


# Memberships are looked up once per transaction, not once per check: the cache lives
# in the database session's ``info`` and is dropped at every commit and rollback. So it
# ends with the request (Flask-SQLAlchemy removes the session), and in a CLI loop or a
# worker a membership that a service just changed is read again, never served stale.
_CACHE_KEY = "forum_desk_permissions"


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_memberships(session: Session) -> None:
    session.info.pop(_CACHE_KEY, None)


def _cached(kind: str, user, load) -> frozenset[int]:
    cache = db.session.info.setdefault(_CACHE_KEY, {})
    key = (kind, user.id)
    if key not in cache:
        cache[key] = frozenset(load())
    return cache[key]


def _memberships(user) -> dict[str, frozenset[int]]:
    """The grants whose team includes ``user`` and the forums they are a member of, read together
    (one round trip: nearly every page asks for both) and kept until the transaction ends."""
    cache = db.session.info.setdefault(_CACHE_KEY, {})
    if user.id not in cache:
        found: dict[str, set[int]] = {"grants": set(), "forums": set()}
        for kind, object_id in db.session.execute(
            select(literal("grants"), GrantTeam.grant_id)
            .where(GrantTeam.user_id == user.id)
            .union_all(select(literal("forums"), ForumMember.forum_id).where(ForumMember.user_id == user.id))
        ):
            found[kind].add(object_id)
        cache[user.id] = {kind: frozenset(ids) for kind, ids in found.items()}
    return cache[user.id]


def organiser_grant_ids(user) -> frozenset[int]:
    """Grants whose team includes ``user``."""
    if not _authenticated(user):
        return frozenset()
    return _memberships(user)["grants"]


def member_forum_ids(user) -> frozenset[int]:
    """Forums where ``user`` is a participant or observer."""
    if not _authenticated(user):
        return frozenset()
    return _memberships(user)["forums"]


def is_organiser(user) -> bool:
    return bool(organiser_grant_ids(user))


# --- administration -------------------------------------------------------------------


def can_administer(user) -> bool:
    """Accounts, organisations, programmes, grants and their teams."""
    return is_admin(user)


def known_in_grant(user_id: int, grant_id: int) -> bool:
    """Whether the grant already knows this account: on its team, a member of one of its forums, or
    invited to one of their meetings. Only then may its organisers see the account's own name and
    state when they type its address; for anyone else they get the answer any address gets."""
    from ..models import Forum, Meeting

    in_forum = select(ForumMember.id).join(Forum, Forum.id == ForumMember.forum_id)
    in_forum = in_forum.where(ForumMember.user_id == user_id, Forum.grant_id == grant_id)
    invited = (
        select(Invitation.id)
        .join(Meeting, Meeting.id == Invitation.meeting_id)
        .join(Forum, Forum.id == Meeting.forum_id)
        .where(Invitation.user_id == user_id, Forum.grant_id == grant_id)
    )
    team = select(GrantTeam.user_id).where(GrantTeam.user_id == user_id, GrantTeam.grant_id == grant_id)
    return bool(db.session.scalar(select(team.exists() | in_forum.exists() | invited.exists())))


def can_export_person(viewer, person) -> bool:
    """A person's export (people.export): the person themself, or an administrator for anyone."""
    return viewer is not None and viewer.is_authenticated and (viewer.id == person.id or is_admin(viewer))


def erase_lock(viewer, person) -> str | None:
    """Why ``viewer`` may not erase ``person`` now, or None. Administrators only (the blueprint
    checks that); never oneself, never twice."""
    if not is_admin(viewer):
        return _("Only an administrator can erase a person.")
    if person.erased_at is not None:
        return _("This person has already been erased.")
    if person.id == viewer.id:
        return _("You cannot erase your own account.")
    return None


def can_view_outbox(user) -> bool:
    return is_admin(user)


def can_view_audit_log(user) -> bool:
    """Search and download the audit log: administrators and programme staff.

    Staff see the whole programme's log, not one grant's: they oversee every grant (the
    dashboard and exports already show them everything), and an event such as a failed
    sign-in or a refused page belongs to no grant at all. Organisers and participants do not
    see it: it names other people, their addresses and what they were refused.
    """
    return is_staff(user)


def can_verify_audit_chain(user) -> bool:
    """Whether the hash chain holds (``audit.verify``) is the administrators' to check and act on."""
    return is_admin(user)


def account_change_lock(account, email: str, role: str, authenticated_recently: bool) -> str | None:
    """Why an administrator may not save this change of ``account`` now (None: they may).

    A new address is where password links go, and a role opens or closes everything: a signed-in
    laptop left open must not be enough for either, so both ask for the password (and second
    factor) again when it was last given more than REAUTH_MINUTES ago (auth.reauth)."""
    if authenticated_recently or (email == account.email and role == account.role):
        return None
    return _("Changing a person's address or role needs your password again: confirm it, then save again.")


def set_password_link_lock(account) -> str | None:
    """An invitation (set-password) link is only for an active account that has no password yet.

    Otherwise whoever can read the link (the outbox, the mail path) could take over a
    working account; a person who forgot their password uses the reset link, which goes
    to them alone.
    """
    if not account.active:
        return _("Activate the account before sending a link.")
    if account.has_password:
        return _(
            "This account already has a password, so it cannot be invited again. "
            'The person can use "Forgot your password?" on the sign-in page.'
        )
    return None


def second_factor_required(user) -> bool:
    """Whether ``user`` must sign in with a second factor (``SECOND_FACTOR_REQUIRED_ROLES``).

    Organisers are the people on a grant's team, whatever their system role. Asked of a person
    who has just given their password (not yet signed in), so it reads the account, not the session.
    """
    roles = current_app.config["SECOND_FACTOR_REQUIRED_ROLES"]
    if not roles or user is None or not user.active:
        return False
    if user.role in roles:
        return True
    return "organiser" in roles and bool(organiser_grant_ids(user))


def second_factor_disable_lock(user) -> str | None:
    """Why ``user`` may not turn their second factor off (None when they may)."""
    if user.totp_enabled_at is None:
        return _("The second factor is not turned on.")
    if second_factor_required(user):
        return _("Your role requires a second factor, so it cannot be turned off.")
    return None


def invited_meeting_ids(user) -> frozenset[int]:
    """Meetings ``user`` is invited to (guests see their own actions raised at them)."""
    if not _authenticated(user):
        return frozenset()
    return _cached(
        "invited",
        user,
        lambda: db.session.execute(select(Invitation.meeting_id).where(Invitation.user_id == user.id)).scalars(),
    )

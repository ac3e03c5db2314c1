"""Accounts: inviting people, passwords, activation. Services flush; the caller commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import contains_eager

from .. import notifications, permissions
from ..core import audit
from ..core.clock import utcnow
from ..core.editing import EditInput, ensure_unchanged
from ..core.errors import KeptRefusal, ServiceError
from ..core.urls import external_url
from ..extensions import db
from ..models import AuditEvent, Forum, ForumMember, GrantTeam, Invitation, Meeting, OutboxMessage, User
from ..models.people import normalise_email
from ..notifications.outbox import in_language_of, queue_email
from . import devices, passwords, second_factor, throttle, tokens
from .sessions import revoke_all_sessions


class ThrottledError(ServiceError):
    """Too many attempts: nothing was tried or counted; ``wait_minutes`` says how long to wait."""

    def __init__(self, message: str, wait_minutes: int, field: str | None = None):
        super().__init__(message, field=field)
        self.wait_minutes = wait_minutes


class CountedFailure(KeptRefusal):
    """A refused attempt that was counted by the throttle: the commit point keeps the count.

    Nothing else has changed when it is raised.
    """


class LoginThrottled(ThrottledError, KeptRefusal):
    """A sign-in refused by the throttle: the refusal is audited, so the commit point keeps it."""


def throttled_message(wait_minutes: int) -> str:
    return ngettext(
        "Too many failed attempts. Try again in %(num)d minute.",
        "Too many failed attempts. Try again in %(num)d minutes.",
        wait_minutes,
    )


def _refuse_if_throttled(result: throttle.Attempt, message: str | None = None, field: str | None = None) -> None:
    if not result.allowed:
        raise ThrottledError(message or throttled_message(result.wait_minutes), result.wait_minutes, field=field)


def find_user_by_email(email: str) -> User | None:
    # Stored addresses are normalised (User's validator, migration 0018): one unique-index lookup.
    # lower(email) = … read every person at each login (23 ms at 12,000 people on SQLite).
    return db.session.execute(select(User).where(User.email == normalise_email(email))).scalar_one_or_none()


def check_password_rules(password: str, user: User | None = None) -> str | None:
    """A message saying what is wrong with ``password`` (for ``user``), or None when it is acceptable."""
    if len(password) < passwords.MIN_LENGTH:
        return ngettext("Use at least %(num)d character.", "Use at least %(num)d characters.", passwords.MIN_LENGTH)
    if len(password) > passwords.MAX_LENGTH:
        return ngettext("Use at most %(num)d character.", "Use at most %(num)d characters.", passwords.MAX_LENGTH)
    if not password.strip():
        return _("The password cannot be only spaces.")
    context = (user.email.split("@")[0], user.name) if user is not None else ()
    if passwords.is_guessable(password, context):
        return _(
            "This password is too easy to guess: it is a common one, or built on one or on your name. "
            "Try three or four words that have nothing to do with each other."
        )
    return None


def invite_user(
    actor: User | None,
    *,
    email: str,
    name: str,
    role: str = "member",
    organisation_id: int | None = None,
    job_title: str = "",
    forum: Forum | None = None,
) -> User:
    """Create an account without a password and queue the set-password email.

    ``forum``: the forum the person is invited to; the email speaks its language (the person has
    chosen none yet)."""
    email = normalise_email(email)
    if find_user_by_email(email) is not None:
        raise ServiceError(_("Someone with this email address already has an account."), field="email")
    user = User(email=email, name=name.strip(), role=role, organisation_id=organisation_id, job_title=job_title.strip())
    db.session.add(user)
    db.session.flush()
    send_set_password_link(user, invited_by=actor, forum=forum)
    audit.record(actor, "user.invite", user, f"Invited {email}", role=role)
    return user


def check_may_send_set_password_link(user: User) -> None:
    """The rule lives in permissions (``set_password_link_lock``); services ask it here."""
    permissions.ensure(permissions.set_password_link_lock(user))


def send_set_password_link(user: User, invited_by: User | None = None, forum: Forum | None = None) -> None:
    check_may_send_set_password_link(user)
    link = external_url("auth.set_password", token=tokens.make_password_token(user, "set-password"))
    with in_language_of(user, forum):
        message = queue_email(
            "set-password",
            user,
            _("You have been invited to Forum Desk"),
            "set_password",
            link=link,
            invited_by=invited_by,
            hours=_hours("SET_PASSWORD_LINK_HOURS"),
        )
    message.sensitive = True


def withdraw_unused_invitation(actor: User, user: User) -> bool:
    """An account made by an invitation that was then withdrawn (a wrong address, the wrong
    person): if it was never used and nothing else ties it to Forum Desk, close it, so its
    set-password email is not sent and its link no longer works. Returns whether it did."""
    if user.has_password or not user.active or user.role != "member":
        return False
    invited_by = db.session.execute(
        select(AuditEvent.actor_id)
        .where(AuditEvent.verb == "user.invite", AuditEvent.object_type == "User", AuditEvent.object_id == user.id)
        .limit(1)
    ).scalar_one_or_none()
    if invited_by != actor.id:
        return False  # someone else's invitation (an administrator's, another organiser's) stands
    ties = [
        select(ForumMember.id).where(ForumMember.user_id == user.id),
        select(GrantTeam.user_id).where(GrantTeam.user_id == user.id),
        select(Invitation.id).where(Invitation.user_id == user.id),
    ]
    if any(db.session.execute(stmt.limit(1)).first() is not None for stmt in ties):
        return False
    user.active = False
    withheld = cast(
        CursorResult,
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.to_user_id == user.id, OutboxMessage.status == "pending")
            .values(status="withdrawn")
            .execution_options(synchronize_session=False)
        ),
    ).rowcount
    audit.record(
        actor, "user.invitation_withdrawn", user, f"Invitation of {user.email} withdrawn", emails_withheld=withheld
    )
    return True


def reopen_withdrawn_invitation(actor: User, user: User, forum: Forum | None = None) -> bool:
    """The account ``withdraw_unused_invitation`` closed, opened again for the person who closed it:
    a guest removed by mistake can be invited again by the organiser who removed them. Nobody else
    reopens it (it was that organiser's invitation), nor an account closed any other way since (an
    administrator's deactivation stands). A new set-password email goes out. Returns whether it did."""
    if user.active or user.has_password or user.role != "member":
        return False
    last = db.session.execute(
        select(AuditEvent.verb, AuditEvent.actor_id)
        .where(
            AuditEvent.object_type == "User",
            AuditEvent.object_id == user.id,
            AuditEvent.verb.in_(("user.invitation_withdrawn", "user.activate", "user.deactivate")),
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    ).first()
    if last is None or last.verb != "user.invitation_withdrawn" or last.actor_id != actor.id:
        return False
    user.active = True
    send_set_password_link(user, invited_by=actor, forum=forum)
    audit.record(actor, "user.invitation_reopened", user, f"Invitation of {user.email} made again")
    return True


def resend_set_password_link(actor: User, user: User) -> None:
    check_may_send_set_password_link(user)
    send_set_password_link(user, invited_by=actor)
    audit.record(actor, "user.link_resent", user, f"New set-password link for {user.email}")


def request_password_reset(email: str, *, address: str, now: datetime) -> None:
    """Queue a reset link when the address belongs to an active account; say nothing either way.

    Requests are limited per email and per client address whether or not the account
    exists, so the limit itself does not tell a stranger which accounts exist.
    """
    result = throttle.attempt(
        [throttle.key("reset-account", normalise_email(email)), throttle.key("reset-address", address)], now
    )
    _refuse_if_throttled(
        result,
        ngettext(
            "Too many reset requests. Try again in %(num)d minute.",
            "Too many reset requests. Try again in %(num)d minutes.",
            result.wait_minutes,
        ),
        field="email",
    )
    user = find_user_by_email(email)
    if user is None or not user.active:
        return
    link = external_url("auth.reset_password", token=tokens.make_password_token(user, "reset-password", now=now))
    with in_language_of(user):
        message = queue_email(
            "reset-password",
            user,
            _("Reset your Forum Desk password"),
            "reset_password",
            link=link,
            hours=_hours("RESET_PASSWORD_LINK_HOURS"),
        )
    message.sensitive = True
    audit.record(user, "user.password_reset_requested", user)


def adopt_language(user: User, code: str | None) -> None:
    """A language chosen with the switcher before signing in becomes the person's own when they
    have chosen none, so their emails follow it too."""
    if code and not user.locale:
        user.locale = code


def authenticate(email: str, password: str, *, address: str, now: datetime) -> User:
    """The active account ``email`` names, if ``password`` is its password.

    Every attempt is first counted against the throttle (see ``throttle`` and
    ``devices``); a wrong password raises CountedFailure, and the caller commits so
    the count stays. One message whatever the reason: do not tell a stranger which
    accounts exist.
    """
    user = find_user_by_email(email)
    result = throttle.attempt(devices.login_counters(email, user, address, now), now)
    if not result.allowed:
        # Audited, so the commit point keeps it (and nothing else changed). An unknown
        # address is not written down: people type their password into the email field.
        audit.record(user, "user.login_throttled", user, outcome="refused", wait_minutes=result.wait_minutes)
        raise LoginThrottled(throttled_message(result.wait_minutes), result.wait_minutes)
    ok = passwords.verify_password(user.password_hash if user else None, password)
    # (ok implies a stored hash: verify_password refuses a user without one)
    if not ok or user is None or user.password_hash is None or not user.active:
        audit.record(user, "user.login_failed", user, outcome="failed")
        if result.locks:
            # This failure reached a limit: further attempts wait (a lockout starts). The counters'
            # kinds only: their keys hold the typed address.
            audit.record(
                user,
                "user.locked_out",
                user,
                outcome="refused",
                minutes=max(1, -(-int(result.locks.total_seconds()) // 60)),
                counters=sorted(result.locked_rules),
            )
        raise CountedFailure(_("The email or password is not correct."))
    throttle.succeeded(result, now)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    next_step = second_factor.step_after_password(user)
    if next_step is None:
        user.last_login_at = now
        audit.record(user, "user.login", user)
    else:
        # Not signed in yet: the second factor (or its enrolment) comes first.
        audit.record(user, "user.password_accepted", user, next_step=next_step)
    return user


def set_password(user: User, password: str, *, actor: User | None = None, keep_current_session: bool = False) -> None:
    """Set a new password and end every other login of this user."""
    problem = check_password_rules(password, user)
    if problem:
        raise ServiceError(problem, field="password")
    user.password_hash = passwords.hash_password(password)
    user.password_changed_at = utcnow()
    revoke_all_sessions(user, keep_current=keep_current_session)
    audit.record(actor or user, "user.password_set", user)


def change_password(user: User, current: str, new: str, *, now: datetime) -> None:
    """Check the current password (throttled like a login: a stolen session must not guess it) and set ``new``."""
    problem = check_password_rules(new, user)
    if problem:
        raise ServiceError(problem, field="password")
    result = throttle.attempt([throttle.key("password-check", str(user.id))], now)
    _refuse_if_throttled(result, field="current_password")
    if not passwords.verify_password(user.password_hash, current):
        raise CountedFailure(_("Your current password is not correct."), field="current_password")
    throttle.succeeded(result, now)
    set_password(user, new, keep_current_session=True)


@dataclass(frozen=True)
class UserInput(EditInput):
    name: str
    email: str
    role: str
    organisation_id: int | None
    job_title: str = ""
    phone: str = ""
    timezone: str = "Europe/Sarajevo"
    gender: str = "not_recorded"  # optional, never required; shown only in aggregate figures

    def __post_init__(self) -> None:
        object.__setattr__(self, "email", normalise_email(self.email))
        object.__setattr__(self, "organisation_id", self.organisation_id or None)
        for name in ("name", "job_title", "phone"):
            object.__setattr__(self, name, (getattr(self, name) or "").strip())


def update_user(actor: User, user: User, data: UserInput, loaded: dict[str, Any] | None = None) -> User:
    """Save an administrator's edit of an account, made on a form opened with the values ``loaded``."""
    if user.erased_at is not None:
        # Nothing to put back: an erased person stays a pseudonym (people.erasure).
        raise ServiceError(_("This person has been erased; the account cannot be used again."))
    ensure_unchanged(user, data, loaded)
    other = find_user_by_email(data.email)
    if other is not None and other.id != user.id:
        raise ServiceError(_("Someone else already uses this email address."), field="email")
    if user.id == actor.id and data.role != "admin" and user.role == "admin":
        raise ServiceError(_("You cannot remove your own administrator role."), field="role")
    changes = audit.apply_changes(user, **vars(data))
    if changes:
        audit.record(actor, "user.update", user, f"Updated {user.email}", changes=changes)
    if "role" in changes:
        # Its own kind too: what an auditor searches for first (who was made an administrator, by whom).
        previous, role = changes["role"]
        audit.record(
            actor, "user.role_change", user, f"{user.email}: {previous} → {role}", previous=previous, role=role
        )
    return user


def set_active(actor: User, user: User, active: bool) -> None:
    """Activate or deactivate an account. Deactivating ends its sessions and withdraws its
    invitations to meetings still to come (held meetings keep their record), with a cancellation
    for each that may be in the person's calendar; no email still queued for them is sent."""
    if user.id == actor.id and not active:
        raise ServiceError(_("You cannot deactivate your own account."))
    if user.active == active:
        return
    if active and user.erased_at is not None:
        raise ServiceError(_("This person has been erased; the account cannot be used again."))
    user.active = active
    withdrawn: list[int] = []
    if not active:
        revoke_all_sessions(user)
        invitations = list(
            db.session.execute(
                select(Invitation)
                .join(Meeting, Meeting.id == Invitation.meeting_id)
                .where(
                    Invitation.user_id == user.id,
                    Meeting.state.in_(("draft", "scheduled")),
                    Meeting.ends_at >= utcnow(),
                )
                .options(contains_eager(Invitation.meeting))
            ).scalars()
        )
        # Their meetings leave their calendar with them; nothing still queued for them is sent.
        notifications.account_deactivated(user, invitations)
        for invitation in invitations:
            db.session.delete(invitation)
        withdrawn = sorted(inv.meeting_id for inv in invitations)
    details: dict[str, Any] = {"withdrawn_from_meetings": withdrawn} if withdrawn else {}
    audit.record(actor, "user.activate" if active else "user.deactivate", user, **details)


def create_admin(email: str, name: str, password: str) -> User:
    """For the CLI: an active administrator with a password."""
    user = find_user_by_email(email)
    if user is None:
        user = User(email=normalise_email(email), name=name, role="admin")
        db.session.add(user)
        db.session.flush()
    user.role = "admin"
    user.active = True
    set_password(user, password, actor=user)
    audit.record(None, "user.create_admin", user, f"Administrator {user.email} (command line)")
    return user


def _hours(setting: str) -> int:
    return current_app.config[setting]


def sign_out(user: User | None, end_session) -> None:
    """Logout: the session row is revoked (``end_session``) and the event kept."""
    if user is not None:
        audit.record(user, "user.logout", user)
    end_session()

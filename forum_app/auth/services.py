"""Accounts: inviting people, passwords, activation. Services flush; the caller commits."""
from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from ..core import audit
from ..core.errors import ServiceError
from ..core.urls import external_url
from ..extensions import db
from ..models import User, utcnow
from ..notifications.outbox import queue_email
from . import passwords, tokens
from .sessions import revoke_all_sessions


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.execute(
        select(User).where(func.lower(User.email) == normalise_email(email))
    ).scalar_one_or_none()


def check_password_rules(password: str) -> str | None:
    """A message saying what is wrong with ``password``, or None when it is acceptable."""
    if len(password) < passwords.MIN_LENGTH:
        return _("Use at least %(n)d characters.", n=passwords.MIN_LENGTH)
    if len(password) > passwords.MAX_LENGTH:
        return _("Use at most %(n)d characters.", n=passwords.MAX_LENGTH)
    if not password.strip():
        return _("The password cannot be only spaces.")
    return None


def invite_user(actor: User | None, *, email: str, name: str, role: str = "member",
                organisation_id: int | None = None, job_title: str = "") -> User:
    """Create an account without a password and queue the set-password email."""
    email = normalise_email(email)
    if find_user_by_email(email) is not None:
        raise ServiceError(_("Someone with this email address already has an account."), field="email")
    user = User(email=email, name=name.strip(), role=role, organisation_id=organisation_id,
                job_title=job_title.strip())
    db.session.add(user)
    db.session.flush()
    send_set_password_link(user, invited_by=actor)
    audit.record(actor, "user.invite", user, f"Invited {email}", role=role)
    return user


def send_set_password_link(user: User, invited_by: User | None = None) -> None:
    link = external_url("auth.set_password", token=tokens.make_token(user, "set-password"))
    queue_email(
        "set-password", user, _("You have been invited to Forum Desk"), "set_password",
        link=link, invited_by=invited_by, hours=_hours("SET_PASSWORD_LINK_HOURS"),
    )


def resend_set_password_link(actor: User, user: User) -> None:
    if not user.active:
        raise ServiceError(_("Activate the account before sending a link."))
    send_set_password_link(user, invited_by=actor)
    audit.record(actor, "user.link_resent", user, f"New set-password link for {user.email}")


def request_password_reset(email: str) -> None:
    """Queue a reset link when the address belongs to an active account; say nothing either way."""
    user = find_user_by_email(email)
    if user is None or not user.active:
        return
    link = external_url("auth.reset_password", token=tokens.make_token(user, "reset-password"))
    queue_email("reset-password", user, _("Reset your Forum Desk password"), "reset_password",
                link=link, hours=_hours("RESET_PASSWORD_LINK_HOURS"))
    audit.record(user, "user.password_reset_requested", user)


def set_password(user: User, password: str, *, actor: User | None = None, keep_current_session: bool = False) -> None:
    """Set a new password and end every other login of this user."""
    problem = check_password_rules(password)
    if problem:
        raise ServiceError(problem, field="password")
    user.password_hash = passwords.hash_password(password)
    user.password_changed_at = utcnow()
    revoke_all_sessions(user, keep_current=keep_current_session)
    audit.record(actor or user, "user.password_set", user)


def change_password(user: User, current: str, new: str) -> None:
    if not passwords.verify_password(user.password_hash, current):
        raise ServiceError(_("Your current password is not correct."), field="current_password")
    set_password(user, new, keep_current_session=True)


def update_user(actor: User, user: User, *, name: str, email: str, role: str,
                organisation_id: int | None, job_title: str, phone: str, timezone: str) -> User:
    email = normalise_email(email)
    other = find_user_by_email(email)
    if other is not None and other.id != user.id:
        raise ServiceError(_("Someone else already uses this email address."), field="email")
    if user.id == actor.id and role != "admin" and user.role == "admin":
        raise ServiceError(_("You cannot remove your own administrator role."), field="role")
    changes = audit.apply_changes(
        user, name=name.strip(), email=email, role=role, organisation_id=organisation_id,
        job_title=job_title.strip(), phone=phone.strip(), timezone=timezone,
    )
    if changes:
        audit.record(actor, "user.update", user, f"Updated {user.email}", changes=changes)
    return user


def set_active(actor: User, user: User, active: bool) -> None:
    if user.id == actor.id and not active:
        raise ServiceError(_("You cannot deactivate your own account."))
    if user.active == active:
        return
    user.active = active
    if not active:
        revoke_all_sessions(user)
    audit.record(actor, "user.activate" if active else "user.deactivate", user)


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

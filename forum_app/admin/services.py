"""Organisations, programmes, grants and grant teams; a person's sessions. Services flush; the caller commits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..auth import sessions
from ..core import audit
from ..core.editing import EditInput, ensure_unchanged
from ..core.errors import NotFound, ServiceError
from ..extensions import db
from ..models import Grant, GrantTeam, Organisation, Programme, User


def _taken(stmt) -> bool:
    return db.session.execute(stmt.limit(1)).first() is not None


# --- organisations ------------------------------------------------------------------------


@dataclass(frozen=True)
class OrganisationInput(EditInput):
    name: str
    kind: str
    country: str
    city: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", self.name.strip())
        object.__setattr__(self, "city", (self.city or "").strip())


def find_organisation(name: str, country: str) -> Organisation | None:
    """The organisation of this name (case aside) in this country, if Forum Desk has it."""
    return db.session.execute(
        select(Organisation).where(
            func.lower(Organisation.name) == name.strip().lower(), Organisation.country == country
        )
    ).scalar_one_or_none()


def save_organisation(
    actor: User, org: Organisation | None, data: OrganisationInput, loaded: dict[str, Any] | None = None
) -> Organisation:
    ensure_unchanged(org, data, loaded)
    clash = select(Organisation.id).where(
        func.lower(Organisation.name) == data.name.lower(), Organisation.country == data.country
    )
    if org is not None:
        clash = clash.where(Organisation.id != org.id)
    if _taken(clash):
        raise ServiceError(_("An organisation with this name already exists in this country."), field="name")
    return audit.create_or_update(actor, org, Organisation, "organisation", data.name, **vars(data))


# --- programmes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgrammeInput(EditInput):
    name: str
    description: str = ""
    themes: list[str] = field(default_factory=list)
    starts_on: date | None = None
    ends_on: date | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", self.name.strip())
        object.__setattr__(self, "description", (self.description or "").strip())
        object.__setattr__(self, "themes", list(self.themes or []))


def save_programme(
    actor: User, programme: Programme | None, data: ProgrammeInput, loaded: dict[str, Any] | None = None
) -> Programme:
    ensure_unchanged(programme, data, loaded)
    clash = select(Programme.id).where(func.lower(Programme.name) == data.name.lower())
    if programme is not None:
        clash = clash.where(Programme.id != programme.id)
    if _taken(clash):
        raise ServiceError(_("A programme with this name already exists."), field="name")
    return audit.create_or_update(actor, programme, Programme, "programme", data.name, **vars(data))


# --- grants ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GrantInput(EditInput):
    programme_id: int
    reference: str
    title: str
    holder_id: int
    country: str
    starts_on: date | None = None
    ends_on: date | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "reference", self.reference.strip())
        object.__setattr__(self, "title", self.title.strip())


def save_grant(actor: User, grant: Grant | None, data: GrantInput, loaded: dict[str, Any] | None = None) -> Grant:
    ensure_unchanged(grant, data, loaded)
    clash = select(Grant.id).where(func.lower(Grant.reference) == data.reference.lower())
    if grant is not None:
        clash = clash.where(Grant.id != grant.id)
    if _taken(clash):
        raise ServiceError(_("Another grant already has this reference."), field="reference")
    if db.session.get(Programme, data.programme_id) is None:
        raise ServiceError(_("Choose a programme from the list."), field="programme_id")
    if db.session.get(Organisation, data.holder_id) is None:
        raise ServiceError(_("Choose an organisation from the list."), field="holder_id")
    return audit.create_or_update(actor, grant, Grant, "grant", data.reference, **vars(data))


def add_to_team(actor: User, grant: Grant, email: str) -> User:
    from ..auth.services import find_user_by_email

    user = find_user_by_email(email)
    if user is None:
        raise ServiceError(_("No account uses this email address. Invite the person first."), field="email")
    if not user.active:
        raise ServiceError(_("This account is deactivated."), field="email")
    if db.session.get(GrantTeam, (grant.id, user.id)) is not None:
        raise ServiceError(_("This person is already on the team."), field="email")
    db.session.add(GrantTeam(grant_id=grant.id, user_id=user.id))
    audit.record(actor, "grant.team.add", grant, f"Added {user.email} to {grant.reference}", user_id=user.id)
    return user


def remove_from_team(actor: User, grant: Grant, user_id: int) -> None:
    member = db.session.get(GrantTeam, (grant.id, user_id))
    if member is None:
        raise ServiceError(_("This person is not on the team."))
    db.session.delete(member)
    audit.record(actor, "grant.team.remove", grant, f"Removed user {user_id} from {grant.reference}", user_id=user_id)


# --- a person's sessions ----------------------------------------------------------------------------


def end_user_session(actor: User, user: User, session_id: int) -> None:
    """An administrator signs one of ``user``'s sessions out (a lost laptop, a shared computer)."""
    row = sessions.revoke_session(user, session_id)
    if row is None:
        raise NotFound()
    audit.record(actor, "session.revoke", user, f"Signed out a session of {user.email}", session_id=row.id)


def end_user_sessions(actor: User, user: User) -> int:
    """An administrator signs ``user`` out everywhere; how many sessions were ended."""
    ended = sessions.revoke_all_sessions(user)
    audit.record(actor, "session.revoke_all", user, f"Signed {user.email} out everywhere", count=ended)
    return ended

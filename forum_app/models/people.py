"""Organisations, users, and the server-side records behind login sessions and throttling."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask_babel import gettext
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ..core.language import LANGUAGES
from ..vocab import GENDERS, ORGANISATION_KINDS, SYSTEM_ROLES
from .base import Base, check_in, utcnow
from .searchable import Searchable

if TYPE_CHECKING:
    from .forum import ForumMember
    from .programme import GrantTeam


def normalise_email(email: str) -> str:
    """An email address as stored and as looked up: trimmed and lower-cased, so a login finds it
    through the unique index rather than lower-casing every stored address (migration 0018)."""
    return email.strip().lower()


def pseudonym(user_id: int | None) -> str:
    """How an erased person is shown: translated when rendered, never stored in a language."""
    try:
        return gettext("Former participant #%(id)s", id=user_id)
    except (RuntimeError, KeyError):  # no application context (a script): the source text
        return f"Former participant #{user_id}"


class Organisation(Searchable, Base):
    __tablename__ = "organisation"
    __table_args__ = (
        CheckConstraint(check_in("kind", ORGANISATION_KINDS), name="kind"),
        # The same name may exist in two countries (e.g. "Centre for Social Work").
        Index("uq_organisation_name_country", "name", "country", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    country: Mapped[str] = mapped_column(String(2))
    city: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="organisation")

    search_fields = ("name", "city")  # the organisations list's search (Searchable)

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name!r}>"


# SQLite's trigram index of User.search_text (an FTS5 table kept by triggers: migration 0017).
USER_SEARCH_INDEX = "user_account_search"


class User(Searchable, Base):
    """A person with an account. Never deleted: deactivated, so history keeps its authors."""

    __tablename__ = "user_account"  # "user" is reserved in PostgreSQL
    __table_args__ = (
        CheckConstraint(check_in("role", SYSTEM_ROLES), name="role"),
        Index("ix_user_account_name", "name"),  # the people list is sorted by name
        # "contains" search on the normalised text: a trigram index on PostgreSQL (pg_trgm,
        # created by migration 0008); elsewhere a plain index the search scans instead of the table.
        Index(
            "ix_user_account_search_text",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
        CheckConstraint(check_in("gender", GENDERS), name="gender"),
        CheckConstraint(check_in("locale", ["", *LANGUAGES]), name="locale"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored normalised: normalise_email
    # The name as stored; read and written through ``name`` below, which shows an erased person
    # as "Former participant #id" in the reader's language (people.erasure).
    stored_name: Mapped[str] = mapped_column("name", String(200))
    # None until the person sets a password through their invitation link.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="member")
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id", ondelete="SET NULL"), index=True)
    job_title: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(50), default="")
    # The viewer's own zone; meetings are also shown in it when it differs from the forum's.
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Sarajevo")
    # The person's own language (core.language.LANGUAGES); "" until they choose one, when the
    # browser's and then the forum's language apply (and the forum's for their emails).
    locale: Mapped[str] = mapped_column(String(10), default="", server_default="")
    # Optional, for participation figures donors ask for (aggregates only); never required.
    gender: Mapped[str] = mapped_column(String(16), default="not_recorded", server_default="not_recorded")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    password_changed_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    # Second factor (auth/second_factor.py): the TOTP secret once enrolment is confirmed with a
    # first code (encrypted with a key derived from SECRET_KEY: second_factor.seal_secret), and when. ``totp_last_step`` is the 30-second time step of the last code
    # accepted: a code is only taken for a later step, so a code seen over a shoulder or in a
    # proxy log is worthless once used (raised with a conditional UPDATE, so two requests racing
    # with the same code cannot both pass).
    totp_secret: Mapped[str | None] = mapped_column(String(128))
    totp_enabled_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None]
    # Set when the person was erased (people.erasure): their name, contact details and sign-in
    # are gone, their records stay under a pseudonym rendered at display time.
    erased_at: Mapped[datetime | None]
    # People search matches name and email folded (core.search.normalise) in search_text (Searchable).
    search_fields = ("name", "email")

    organisation: Mapped[Organisation | None] = relationship(back_populates="users")
    grant_teams: Mapped[list[GrantTeam]] = relationship(back_populates="user")
    forum_memberships: Mapped[list[ForumMember]] = relationship(back_populates="user")

    # --- Flask-Login protocol -------------------------------------------------------
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    @validates("email")
    def _store_normalised_email(self, _key: str, email: str) -> str:
        return normalise_email(email)

    @hybrid_property
    def name(self) -> str:
        if self.erased_at is not None:
            return pseudonym(self.id)
        return self.stored_name

    @name.inplace.setter
    def _name_setter(self, value: str) -> None:
        self.stored_name = value

    @name.inplace.expression
    @classmethod
    def _name_expression(cls):  # queries filter and sort on the stored column
        return cls.stored_name

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None

    # --- convenience ----------------------------------------------------------------
    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_staff(self) -> bool:
        return self.role == "staff"

    @property
    def has_password(self) -> bool:
        return self.password_hash is not None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class UserSession(Base):
    """One login. The cookie holds a random token; this row says whether it still counts.

    Flask's signed-cookie session cannot be revoked on its own: a copied cookie stays
    valid until it expires. Checking every request against this row is what makes
    logout, password changes and deactivation end sessions for real.
    """

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the cookie token
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    # When the person last proved who they are in this session (password, and second factor when
    # enrolled): at sign-in and at each re-authentication (auth/reauth.py). Kept here, on the
    # server, not in the cookie: ending the row ends it, and nobody can carry it to another session.
    authenticated_at: Mapped[datetime | None]
    # When the session was last used, to the nearest SESSION_LAST_SEEN_MINUTES: written at most
    # that often (auth.sessions.note_use), so reading pages stays free of writes in between.
    last_seen_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class RecoveryCode(Base):
    """A one-time code that stands in for the authenticator app when it is lost.

    Only a SHA-256 of the code is kept: codes carry 80 random bits, so a fast hash is as safe
    here as a slow one is for a password a person chose. Used once: ``used_at`` is set by a
    conditional UPDATE, so two requests racing with one code cannot both pass.
    """

    __tablename__ = "recovery_code"
    __table_args__ = (Index("ix_recovery_code_user_id_code_hash", "user_id", "code_hash", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]


class ThrottleCounter(Base):
    """Failures (or requests) counted under one key, e.g. "login-account:<email>".

    One row per key, changed under a row lock (PostgreSQL) or the write lock (SQLite),
    so concurrent attempts are counted one by one. ``blocked_until`` is the back-off:
    no attempt under this key is allowed before it.
    """

    __tablename__ = "throttle_counter"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    blocked_until: Mapped[datetime | None]


__all__ = ["Organisation", "User", "UserSession", "ThrottleCounter"]

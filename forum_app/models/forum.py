"""Forums, their members, meetings and invitations."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.language import LANGUAGES
from ..vocab import (
    ATTENDANCE_STATES,
    FORUM_ROLES,
    MEETING_STATES,
    MINUTES_ADOPTION_WAYS,
    MINUTES_STATES,
    MINUTES_VERSION_KINDS,
    ORGANISATION_KINDS,
    RSVP_STATES,
)
from .base import Base, check_in, utcnow
from .people import User
from .programme import Grant
from .searchable import Searchable

if TYPE_CHECKING:
    from .action import ActionItem


class Forum(Searchable, Base):
    """A standing local coordination forum."""

    __tablename__ = "forum"
    # The forum list's order (country, city, title), so a page of it is read in order.
    __table_args__ = (
        Index("ix_forum_country_city_title", "country", "city", "title"),
        CheckConstraint(check_in("language", LANGUAGES), name="language"),
        CheckConstraint(check_in("minutes_adoption", MINUTES_ADOPTION_WAYS), name="minutes_adoption"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grant_agreement.id", ondelete="RESTRICT"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    city: Mapped[str] = mapped_column(String(120))
    country: Mapped[str] = mapped_column(String(2), index=True)
    timezone: Mapped[str] = mapped_column(String(64))  # IANA name, e.g. Europe/Sarajevo
    # What its pages and emails speak to people who chose no language (core.language): bs for
    # Sarajevo, mk for Skopje, cnr for Bijelo Polje.
    language: Mapped[str] = mapped_column(String(10), default="en", server_default="en")
    focus: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    # ``description`` (Markdown) rendered and sanitised when saved (core.markdown); pages show this.
    description_html: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # How its meetings' minutes are adopted (vocab.MINUTES_ADOPTION_WAYS): by circulation, or at the next meeting.
    minutes_adoption: Mapped[str] = mapped_column(String(16), default="circulation", server_default="circulation")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    grant: Mapped[Grant] = relationship(back_populates="forums")
    members: Mapped[list[ForumMember]] = relationship(back_populates="forum", cascade="all, delete-orphan")
    meetings: Mapped[list[Meeting]] = relationship(back_populates="forum", order_by="Meeting.starts_at")
    actions: Mapped[list[ActionItem]] = relationship(back_populates="forum")

    search_fields = ("title", "focus", "city")  # the forum list's search (Searchable)


class ForumMember(Base):
    __tablename__ = "forum_member"
    __table_args__ = (
        UniqueConstraint("forum_id", "user_id"),
        CheckConstraint(check_in("role", FORUM_ROLES), name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    forum_id: Mapped[int] = mapped_column(ForeignKey("forum.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16), default="participant")
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The name the organiser typed with the address, shown in the forum instead of the account's
    # own when the account was not known in the grant: typing an address tells nobody who uses it
    # (forums.services.add_member). "" for people the grant already knew.
    name_given: Mapped[str] = mapped_column(String(200), default="", server_default="")

    forum: Mapped[Forum] = relationship(back_populates="members")
    user: Mapped[User] = relationship(back_populates="forum_memberships")

    @property
    def shown_name(self) -> str:
        return self.name_given if self.name_given and not self.user.is_erased else self.user.name


class Meeting(Base):
    """One meeting of a forum. Times are stored in UTC and shown in the forum's zone."""

    __tablename__ = "meeting"
    __table_args__ = (
        CheckConstraint(check_in("state", MEETING_STATES), name="state"),
        CheckConstraint(check_in("minutes_state", MINUTES_STATES), name="minutes_state"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("ical_sequence >= 0", name="sequence_not_negative"),
        Index("ix_meeting_forum_starts", "forum_id", "starts_at"),
        Index("ix_meeting_starts_at", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    forum_id: Mapped[int] = mapped_column(ForeignKey("forum.id", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(String(300))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    venue: Mapped[str] = mapped_column(String(500), default="")
    online_url: Mapped[str] = mapped_column(String(1000), default="")
    agenda_md: Mapped[str] = mapped_column(Text, default="")
    # ``agenda_md`` rendered and sanitised when saved (core.markdown); pages show this.
    agenda_html: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default="draft")
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    # When it was first scheduled, i.e. shown to invitees. A draft cancelled before that
    # was never seen by anyone but the organisers and stays theirs.
    published_at: Mapped[datetime | None]
    # When its date or time last changed after it was scheduled: every answer was reset then
    # (a yes to the old time is no yes to the new one), and the page shows who has not answered since.
    rescheduled_at: Mapped[datetime | None]
    # Minutes live in MinutesVersion rows; these say where the latest one stands.
    minutes_state: Mapped[str] = mapped_column(String(16), default="draft")
    minutes_revision: Mapped[int] = mapped_column(Integer, default=0)  # number of the latest version
    # The latest version shown beyond the organisers (circulated, adopted or a correction);
    # later saves stay the organisers' until circulated again.
    minutes_shared_revision: Mapped[int] = mapped_column(Integer, default=0)
    minutes_circulated_at: Mapped[datetime | None]
    minutes_adopted_at: Mapped[datetime | None]
    # Minutes approved at a later meeting (a forum adopting "at the next meeting"): that meeting.
    minutes_adopted_at_meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id", ondelete="SET NULL"))
    # Stable across every change, so calendars update the event rather than adding one.
    ical_uid: Mapped[str] = mapped_column(String(255), unique=True)
    # Grows with each change invitees must see (RFC 5545 SEQUENCE).
    ical_sequence: Mapped[int] = mapped_column(Integer, default=0)
    # Optimistic locking: a stale write raises StaleDataError instead of overwriting.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    forum: Mapped[Forum] = relationship(back_populates="meetings")
    invitations: Mapped[list[Invitation]] = relationship(back_populates="meeting", cascade="all, delete-orphan")
    walk_ins: Mapped[list[WalkInAttendee]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", order_by="WalkInAttendee.id"
    )
    minutes_versions: Mapped[list[MinutesVersion]] = relationship(
        back_populates="meeting", order_by="MinutesVersion.number", passive_deletes=True
    )
    created_by: Mapped[User | None] = relationship()
    minutes_adopted_at_meeting: Mapped[Meeting | None] = relationship(
        remote_side=[id], foreign_keys=[minutes_adopted_at_meeting_id]
    )

    __mapper_args__ = {"version_id_col": version}


class Invitation(Base):
    """A person invited to a meeting: their RSVP and, afterwards, their attendance."""

    __tablename__ = "invitation"
    __table_args__ = (
        UniqueConstraint("meeting_id", "user_id"),
        CheckConstraint(check_in("rsvp", RSVP_STATES), name="rsvp"),
        CheckConstraint("attendance IS NULL OR " + check_in("attendance", ATTENDANCE_STATES), name="attendance"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"), index=True)
    invited_at: Mapped[datetime] = mapped_column(default=utcnow)
    rsvp: Mapped[str] = mapped_column(String(16), default="needs-action")
    rsvp_comment: Mapped[str] = mapped_column(String(500), default="")
    rsvp_at: Mapped[datetime | None]
    attendance: Mapped[str | None] = mapped_column(String(16))
    attendance_at: Mapped[datetime | None]
    # A delegate: this person came on behalf of that invitee (of the same meeting), who is then
    # excused; they count for that invitee's organisation. One delegate per invitee (unique), and
    # a delegate may also be a walk-in (WalkInAttendee.on_behalf_of_id): the service checks both.
    on_behalf_of_id: Mapped[int | None] = mapped_column(ForeignKey("invitation.id", ondelete="SET NULL"), unique=True)
    # As ForumMember.name_given: the organiser's own name for an address the grant did not know.
    name_given: Mapped[str] = mapped_column(String(200), default="", server_default="")

    meeting: Mapped[Meeting] = relationship(back_populates="invitations")
    user: Mapped[User] = relationship()


class WalkInAttendee(Base):
    """Someone who came without an invitation; recorded by name and organisation only."""

    __tablename__ = "walk_in_attendee"
    __table_args__ = (CheckConstraint(check_in("organisation_kind", ORGANISATION_KINDS), name="organisation_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    organisation_name: Mapped[str] = mapped_column(String(200), default="")
    organisation_kind: Mapped[str] = mapped_column(String(32), default="other")
    # A walk-in who came on behalf of an invitee (a delegate without an account): see Invitation.
    on_behalf_of_id: Mapped[int | None] = mapped_column(ForeignKey("invitation.id", ondelete="SET NULL"), unique=True)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    meeting: Mapped[Meeting] = relationship(back_populates="walk_ins")


class MinutesVersion(Base):
    """One saved text of a meeting's minutes. Append-only: every save is kept.

    The latest number is the current text (``Meeting.minutes_revision``). After adoption
    the text can only be superseded by a version of kind "correction" with its reason.
    """

    __tablename__ = "minutes_version"
    __table_args__ = (
        UniqueConstraint("meeting_id", "number"),
        CheckConstraint(check_in("kind", MINUTES_VERSION_KINDS), name="kind"),
        CheckConstraint("number >= 1", name="number_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="RESTRICT"))
    number: Mapped[int] = mapped_column(Integer)
    body_md: Mapped[str] = mapped_column(Text, default="")
    # ``body_md`` rendered and sanitised when saved (core.markdown); pages show this.
    body_html: Mapped[str] = mapped_column(Text, default="")
    # Decisions / conclusions as separate items, in order.
    decisions: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The confidential part (items marked confidential on the meeting day): shown only to those who may read
    # confidential content of the meeting (permissions.can_read_confidential); the body above carries the
    # redaction line instead. Circulated and adopted together with the public body, as one version.
    confidential_md: Mapped[str] = mapped_column(Text, default="", server_default="")
    confidential_html: Mapped[str] = mapped_column(Text, default="", server_default="")
    confidential_decisions: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    kind: Mapped[str] = mapped_column(String(16), default="edit")
    reason: Mapped[str] = mapped_column(Text, default="")  # why a correction was made
    # When this text was first shown beyond the organisers; drafts never shared stay theirs.
    shared_at: Mapped[datetime | None]
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    meeting: Mapped[Meeting] = relationship(back_populates="minutes_versions")
    author: Mapped[User | None] = relationship()


class MinutesComment(Base):
    """A comment by an attendee on circulated minutes."""

    __tablename__ = "minutes_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    version_number: Mapped[int] = mapped_column(Integer)  # the version the comment was written on
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User] = relationship()

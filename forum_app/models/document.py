"""Documents of a forum or of one of its meetings, and their uploaded versions (forum_app/documents)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..vocab import DOCUMENT_KINDS
from .base import Base, check_in, utcnow
from .forum import Forum, Meeting
from .people import User


class Document(Base):
    """A document (terms of reference, a protocol, a signed attendance sheet…) of a forum, or of one
    of its meetings when ``meeting_id`` is set. Its files are ``DocumentVersion`` rows; a new upload
    adds version ``current_number + 1``. Deleting only marks it (``deleted_at``): the files and their
    history stay, as evidence reported to the donor must."""

    __tablename__ = "document"
    __table_args__ = (
        CheckConstraint(check_in("kind", DOCUMENT_KINDS), name="kind"),
        CheckConstraint("current_number >= 0", name="number_not_negative"),
        Index("ix_document_forum_meeting", "forum_id", "meeting_id"),
        Index("ix_document_meeting", "meeting_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    forum_id: Mapped[int] = mapped_column(ForeignKey("forum.id", ondelete="RESTRICT"))
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(32), default="other")
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    # Readable only by the organisers and the people recorded present at the meeting
    # (permissions.documents), not by the forum's other members or programme staff.
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    current_number: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None]
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    # Optimistic locking: two uploads of "the next version" at once cannot both become version N+1.
    version: Mapped[int] = mapped_column(Integer, default=1)

    forum: Mapped[Forum] = relationship()
    meeting: Mapped[Meeting | None] = relationship()
    versions: Mapped[list[DocumentVersion]] = relationship(
        back_populates="document", order_by="DocumentVersion.number", passive_deletes=True
    )

    __mapper_args__ = {"version_id_col": version}


class DocumentVersion(Base):
    """One uploaded file of a document. Append-only: a new upload never replaces an old one.

    The file lives in the document store (documents.storage) under ``storage_key``, a random id;
    the name the person gave it is kept only to name the download.
    """

    __tablename__ = "document_version"
    __table_args__ = (
        UniqueConstraint("document_id", "number"),
        CheckConstraint("number >= 1", name="number_positive"),
        CheckConstraint("size >= 0", name="size_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="RESTRICT"))
    number: Mapped[int] = mapped_column(Integer)
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(255))
    # The type the content was found to be (documents.sniff), never the one the browser sent.
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    document: Mapped[Document] = relationship(back_populates="versions")
    uploaded_by: Mapped[User | None] = relationship()

"""Documents of forums and meetings: who uploads them, who reads them, and what a kind needs.

- Uploading, adding a version and deleting: the forum's organisers (and admins).
- Reading a document of a meeting: whoever sees the meeting (its forum's members, its invitees,
  programme staff, the organisers); of a forum: whoever sees the forum.
- A confidential document: only the organisers and the people recorded present at its meeting
  (a forum's confidential document: the organisers alone). Programme staff read the rest.
- The signed attendance sheet carries people's signatures: the organisers and programme staff
  (for whom it is the meeting's evidence), not every member.
- A deleted document stays (its files are evidence) but only the organisers open it.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..models import Document, Forum, Meeting
from ..vocab import DOCUMENT_KINDS, SIGNED_SHEET
from .enforce import _load
from .forums import can_edit_forum, can_view_forum
from .meetings import can_view_meeting
from .roles import _authenticated, is_staff


def can_upload_documents(user, forum: Forum) -> bool:
    return can_edit_forum(user, forum)


def was_present(user, meeting: Meeting | None) -> bool:
    """Recorded present at ``meeting`` (their own invitation marked present)."""
    if meeting is None or not _authenticated(user):
        return False
    return any(inv.user_id == user.id and inv.attendance == "present" for inv in meeting.invitations)


def can_view_document(user, document: Document) -> bool:
    if can_edit_forum(user, document.forum):
        return True
    if document.deleted_at is not None:
        return False
    meeting = document.meeting
    if not (can_view_meeting(user, meeting) if meeting is not None else can_view_forum(user, document.forum)):
        return False
    if document.confidential:
        return was_present(user, meeting)
    if document.kind == SIGNED_SHEET:
        return is_staff(user)
    return True


def listed_in_report(user, document: Document) -> bool:
    """On the printed progress report: what the reader may read, confidential ones only for the organisers
    (a report is printed and passed on; and it never needs the attendance of every meeting to decide)."""
    if can_edit_forum(user, document.forum):
        return document.deleted_at is None
    return not document.confidential and can_view_document(user, document)


def can_change_document(user, document: Document) -> bool:
    """Add a version, delete: the organisers, while it is not deleted."""
    return can_edit_forum(user, document.forum) and document.deleted_at is None


def document_kind_lock(kind: str, meeting: Meeting | None) -> str | None:
    """Why a document of ``kind`` cannot be added there now (None: it can)."""
    if kind not in DOCUMENT_KINDS:
        return _("Choose what kind of document this is.")
    if kind == SIGNED_SHEET:
        if meeting is None:
            return _("A signed attendance sheet belongs to a meeting: add it on the meeting's page.")
        if meeting.state != "held":
            return _("The signed attendance sheet is added once the meeting is marked as held.")
    return None


def document_lock(document: Document) -> str | None:
    if document.deleted_at is not None:
        return _("This document was deleted.")
    return None


@dataclass(frozen=True)
class DocumentFlags:
    can_change: bool
    can_upload: bool  # a new document beside it (the list's "Add a document")


def document_flags(user, document: Document) -> DocumentFlags:
    return DocumentFlags(
        can_change=can_change_document(user, document),
        can_upload=can_upload_documents(user, document.forum),
    )


def load_document(user, document_id: int, need: str = "view") -> Document:
    """The document, if ``user`` may read it (NotFound otherwise); ``need="edit"``: may change it (Forbidden)."""
    return _load(
        user,
        select(Document)
        .where(Document.id == document_id)
        .options(joinedload(Document.forum), joinedload(Document.meeting)),
        need,
        can_view_document,
        can_change_document,
    )

"""Documents as pages list them: one query per list, whatever the number of documents."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload

from .. import permissions
from ..extensions import db
from ..models import Document, DocumentVersion, Forum, Meeting, User
from ..vocab import SIGNED_SHEET


@dataclass(frozen=True)
class DocumentRow:
    document: Document
    current: DocumentVersion  # the latest version: what "Download" gives


@dataclass(frozen=True)
class DocumentList:
    """A meeting's or a forum's documents, for the include templates/documents/_list.html."""

    rows: list[DocumentRow]
    can_upload: bool
    upload_url: str
    # The meeting's evidence (its signed attendance sheets), for whoever may read them.
    signed_sheets: list[DocumentRow] = field(default_factory=list)
    # "Upload the signed attendance sheet": for the organisers of a held meeting that has none yet.
    sheet_upload_url: str = ""


def _current():
    return and_(DocumentVersion.document_id == Document.id, DocumentVersion.number == Document.current_number)


def _rows(user, *where) -> list[DocumentRow]:
    # Document.forum and Document.meeting are the page's own (already in the session): no query each.
    stmt = (
        select(Document, DocumentVersion)
        .join(DocumentVersion, _current())
        .where(Document.deleted_at.is_(None), *where)
        .order_by(Document.kind, Document.title, Document.id)
    )
    rows = [DocumentRow(document, version) for document, version in db.session.execute(stmt)]
    return [row for row in rows if permissions.can_view_document(user, row.document)]


def meeting_documents(user, meeting: Meeting, upload_url: str) -> DocumentList:
    user = permissions.resolved(user)
    rows = _rows(user, Document.meeting_id == meeting.id)
    sheets = [row for row in rows if row.document.kind == SIGNED_SHEET]
    can_upload = permissions.can_upload_documents(user, meeting.forum)
    wants_sheet = can_upload and not sheets and permissions.document_kind_lock(SIGNED_SHEET, meeting) is None
    return DocumentList(
        rows=[row for row in rows if row.document.kind != SIGNED_SHEET],
        can_upload=can_upload,
        upload_url=upload_url,
        signed_sheets=sheets,
        sheet_upload_url=f"{upload_url}?kind={SIGNED_SHEET}" if wants_sheet else "",
    )


def forum_documents(user, forum: Forum, upload_url: str) -> DocumentList:
    user = permissions.resolved(user)
    return DocumentList(
        rows=_rows(user, Document.forum_id == forum.id, Document.meeting_id.is_(None)),
        can_upload=permissions.can_upload_documents(user, forum),
        upload_url=upload_url,
    )


@dataclass(frozen=True)
class DocumentPage:
    document: Document
    versions: list[DocumentVersion]  # newest first
    flags: permissions.DocumentFlags


def document_page(user, document_id: int) -> DocumentPage:
    user = permissions.resolved(user)
    document = permissions.load_document(user, document_id)
    versions = (
        db.session.execute(
            select(DocumentVersion)
            .where(DocumentVersion.document_id == document.id)
            .options(joinedload(DocumentVersion.uploaded_by).load_only(User.name))
            .order_by(DocumentVersion.number.desc())
        )
        .scalars()
        .all()
    )
    return DocumentPage(document, list(versions), permissions.document_flags(user, document))


def version_to_download(user, document_id: int, number: int) -> DocumentVersion | None:
    """The version, if ``user`` may read its document (loader errors otherwise); None if there is no such number."""
    user = permissions.resolved(user)
    document = permissions.load_document(user, document_id)
    return db.session.execute(
        select(DocumentVersion).where(DocumentVersion.document_id == document.id, DocumentVersion.number == number)
    ).scalar_one_or_none()


@dataclass(frozen=True)
class ReportDocuments:
    by_forum: dict[int, list[DocumentRow]]  # a forum's own documents first, then its meetings' in order
    signed_meetings: frozenset[int]  # meetings whose signed attendance sheet the reader may see listed


def report_documents(user, forum_ids: list[int], meeting_ids: list[int]) -> ReportDocuments:
    """For the progress report: the forums' own documents and those of the meetings it lists (one query)."""
    user = permissions.resolved(user)
    if not forum_ids:
        return ReportDocuments({}, frozenset())
    stmt = (
        select(Document, DocumentVersion)
        .join(DocumentVersion, _current())
        .outerjoin(Meeting, Meeting.id == Document.meeting_id)
        .where(
            Document.forum_id.in_(forum_ids),
            Document.deleted_at.is_(None),
            or_(Document.meeting_id.is_(None), Document.meeting_id.in_(meeting_ids)),
        )
        .options(joinedload(Document.forum), joinedload(Document.meeting))
        .order_by(Document.forum_id, Meeting.starts_at.nulls_first(), Document.kind, Document.title)
    )
    found: dict[int, list[DocumentRow]] = defaultdict(list)
    signed: set[int] = set()
    for document, version in db.session.execute(stmt).unique():
        if permissions.listed_in_report(user, document):
            found[document.forum_id].append(DocumentRow(document, version))
            if document.kind == SIGNED_SHEET and document.meeting_id is not None:
                signed.add(document.meeting_id)
    return ReportDocuments(dict(found), frozenset(signed))


def meetings_with_signed_sheet(meeting_ids: list[int]) -> frozenset[int]:
    """Which of these meetings have their signed attendance sheet uploaded (one query)."""
    if not meeting_ids:
        return frozenset()
    found = db.session.execute(
        select(Document.meeting_id).where(
            Document.meeting_id.in_(meeting_ids), Document.kind == SIGNED_SHEET, Document.deleted_at.is_(None)
        )
    ).scalars()
    return frozenset(meeting_id for meeting_id in found if meeting_id is not None)

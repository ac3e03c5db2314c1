"""Uploading documents and their versions, deleting them (softly), and recording downloads.

Every change checks permission and state (permissions.documents), the file's size and content
(sniff), writes its rows and an audit entry, and stores the bytes under a random key. Nothing
commits here: the one commit point (core.commit.attempt) does, or rolls back with the message.
A file stored for a transaction that then rolls back stays in the store unreferenced, harmless
(it is never served: only a committed DocumentVersion names a key).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

from flask import current_app
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _

from .. import permissions
from ..core import audit
from ..core.clock import utcnow
from ..core.errors import ConflictError, ServiceError
from ..extensions import db
from ..models import Document, DocumentVersion, Forum, Meeting, User
from ..permissions import ensure
from . import sniff, storage

MAX_TITLE = 300
MAX_DESCRIPTION = 2_000
MAX_FILENAME = 200


@dataclass(frozen=True)
class Upload:
    """A file as it came in: the name the person's computer gave it, and its bytes."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class DocumentInput:
    kind: str
    title: str
    description: str
    confidential: bool


def safe_filename(name: str, extension: str) -> str:
    """The name a download gets: the last part of what was sent, printable, without quotes or slashes,
    ending in the extension of the kind the content was found to be."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C" and ch not in '"<>:|?*;')
    name = re.sub(r"\s+", " ", name).strip()
    stem = name.rpartition(".")[0] if "." in name else name
    stem = stem[: MAX_FILENAME - len(extension) - 1].strip(" .") or "document"
    return f"{stem}.{extension}"


def checked_file(upload: Upload) -> sniff.FileKind:
    """The file's kind, or a ServiceError saying what is wrong with it (at the form's file field)."""
    limit = current_app.config["DOCUMENTS_MAX_BYTES"]
    if not upload.data:
        raise ServiceError(_("Choose a file to upload: this one is empty."), field="file")
    if len(upload.data) > limit:
        raise ServiceError(too_large_message(), field="file")
    try:
        return sniff.check(upload.filename, upload.data)
    except sniff.Refused as refused:
        raise ServiceError(_refusal(refused), field="file") from None


def too_large_message() -> str:
    return _(
        "The file is larger than %(size)s, the most a document may be. Make it smaller (for a scan, a lower "
        "resolution or a PDF) and upload it again.",
        size=megabytes(current_app.config["DOCUMENTS_MAX_BYTES"]),
    )


def megabytes(size: int) -> str:
    """A size for people: "20 MB", "1.5 MB" (in the reader's number format)."""
    return _("%(num)s MB", num=format_decimal(round(size / (1024 * 1024), 1)))


def accepted_types() -> str:
    return ", ".join(f".{ext}" for ext in sniff.ACCEPTED_EXTENSIONS)


def _refusal(refused: sniff.Refused) -> str:
    if refused.reason == "extension":
        return _("This type of file is not accepted. Upload one of: %(types)s.", types=accepted_types())
    if refused.reason == "mismatch":
        return _(
            "The file's content is %(found)s, not what its name says. Rename it to the right extension, "
            "or upload the intended file.",
            found=refused.found,
        )
    if refused.reason == "markup":
        return _("The file contains web page code (HTML or SVG), which is not accepted in documents.")
    return _("The file's content is not a document of the type its name says (it may be damaged or another format).")


def _checked_details(data: DocumentInput, meeting: Meeting | None) -> tuple[str, str]:
    ensure(permissions.document_kind_lock(data.kind, meeting), field="kind")
    title = data.title.strip()
    description = data.description.strip()
    if len(title) > MAX_TITLE:
        raise ServiceError(
            ngettext("A title has at most %(num)d character.", "A title has at most %(num)d characters.", MAX_TITLE),
            field="title",
        )
    if len(description) > MAX_DESCRIPTION:
        raise ServiceError(
            ngettext(
                "A description has at most %(num)d character.",
                "A description has at most %(num)d characters.",
                MAX_DESCRIPTION,
            ),
            field="description",
        )
    return title, description


def upload_document(
    actor: User, forum: Forum, meeting: Meeting | None, data: DocumentInput, upload: Upload
) -> Document:
    """A new document of ``forum`` (or of its ``meeting``) with ``upload`` as its version 1."""
    if meeting is not None and meeting.forum_id != forum.id:
        raise ServiceError(_("That meeting is not one of this forum's."))
    if not permissions.can_upload_documents(actor, forum):
        raise ServiceError(_("Only the forum's organisers can add documents."))
    title, description = _checked_details(data, meeting)
    kind = checked_file(upload)
    document = Document(
        forum=forum,
        meeting=meeting,
        kind=data.kind,
        title=title or safe_filename(upload.filename, kind.extensions[0]).rpartition(".")[0],
        description=description,
        confidential=data.confidential,
        current_number=0,
        created_by_id=actor.id,
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    db.session.add(document)
    version = _add_version(actor, document, upload, kind)
    audit.record(
        actor,
        "document.upload",
        document,
        document.title[:200],
        version=version.number,
        kind=document.kind,
        meeting_id=meeting.id if meeting is not None else None,
        confidential=document.confidential,
        size=version.size,
        sha256=version.sha256,
    )
    return document


def add_version(actor: User, document: Document, upload: Upload, expected_version: int) -> DocumentVersion:
    """Version N+1 of ``document``: the old ones stay, downloadable by those who read the document."""
    if not permissions.can_upload_documents(actor, document.forum):
        raise ServiceError(_("Only the forum's organisers can add documents."))
    ensure(permissions.document_lock(document))
    if document.version != expected_version:
        raise ConflictError(
            _(
                "Someone else added a version of this document after you opened the page. Nothing was saved: "
                "check the list of versions and upload again if yours is still needed."
            )
        )
    kind = checked_file(upload)
    version = _add_version(actor, document, upload, kind)
    document.updated_at = utcnow()
    audit.record(
        actor,
        "document.version",
        document,
        document.title[:200],
        version=version.number,
        size=version.size,
        sha256=version.sha256,
    )
    return version


def _add_version(actor: User, document: Document, upload: Upload, kind: sniff.FileKind) -> DocumentVersion:
    document.current_number += 1
    key = storage.new_key()
    version = DocumentVersion(
        document=document,
        number=document.current_number,
        storage_key=key,
        filename=safe_filename(upload.filename, sniff.extension_of(upload.filename) or kind.extensions[0]),
        content_type=kind.content_type,
        size=len(upload.data),
        sha256=hashlib.sha256(upload.data).hexdigest(),
        uploaded_by_id=actor.id,
        uploaded_at=utcnow(),
    )
    db.session.add(version)
    db.session.flush()  # the row version check (and the unique number) before the file is written
    try:
        storage.store().put(key, upload.data, kind.content_type)
    except Exception as exc:  # the folder is full or read-only, the bucket refused or is unreachable
        current_app.logger.exception("document store: could not store %s", key)
        raise ServiceError(_("The file could not be stored just now. Nothing was saved: try again later.")) from exc
    return version


def delete_document(actor: User, document: Document, expected_version: int) -> Document:
    """Mark ``document`` deleted: it leaves the lists; its files and history stay for the organisers."""
    if not permissions.can_change_document(actor, document):
        ensure(permissions.document_lock(document))
        raise ServiceError(_("Only the forum's organisers can delete documents."))
    if document.version != expected_version:
        raise ConflictError(_("Someone else changed this document after you opened the page. Check it and try again."))
    document.deleted_at = utcnow()
    document.deleted_by_id = actor.id
    audit.record(actor, "document.delete", document, document.title[:200], versions=document.current_number)
    return document


def record_download(actor: User, version: DocumentVersion) -> None:
    """Who read which file, and when (the audit log): documents can hold a confidential discussion."""
    document = version.document
    audit.record(
        actor,
        "document.download",
        document,
        document.title[:200],
        version=version.number,
        confidential=document.confidential,
    )


def read_file(version: DocumentVersion) -> bytes:
    return storage.store().get(version.storage_key)

"""Document pages: upload (to a meeting or a forum), a document's versions, download, delete.

Downloads are always attachments with a type found from the content (never the browser's claim),
``nosniff`` and ``no-store``, and a sandboxing CSP: a document is never shown inline as a page.
The upload routes alone accept bodies up to DOCUMENTS_MAX_BYTES (``allow_large_uploads``); a larger
one gets a message on the form's page, not an error page.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Flask, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from .. import permissions
from ..core import once
from ..core.actor import current_actor, require_sign_in
from ..core.commit import attempt
from ..core.forms import run_action, run_service, status_for
from ..models import Document, DocumentVersion
from . import queries, services
from .forms import DocumentForm, VersionForm

bp = Blueprint("documents", __name__)
require_sign_in(bp)

UPLOAD_ENDPOINTS = frozenset({"documents.meeting_upload", "documents.forum_upload", "documents.version_upload"})
# Room for the form's other fields and the multipart framing around the file.
FORM_OVERHEAD = 256 * 1024


def init_app(app: Flask) -> None:
    """Let the upload routes, and only them, receive a file as large as DOCUMENTS_MAX_BYTES.

    First of all the before-request steps: CSRF protection reads the form, and with it the
    body, under whatever limit is set by then (MAX_CONTENT_LENGTH for every other route).
    """

    def allow_large_uploads() -> None:
        # Signed-in people only: an anonymous request keeps the small limit until it is sent to sign in.
        if request.endpoint in UPLOAD_ENDPOINTS and current_user.is_authenticated:
            request.max_content_length = app.config["DOCUMENTS_MAX_BYTES"] + FORM_OVERHEAD

    app.before_request_funcs.setdefault(None, []).insert(0, allow_large_uploads)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(exc):
    # Back to the form, with the limit named: never a bare error page for a scan that was too big.
    flash(services.too_large_message(), "danger")
    if request.endpoint == "documents.version_upload" and request.view_args:
        return redirect(url_for("documents.document", document_id=request.view_args["document_id"]), code=303)
    return redirect(request.path, code=303)


@bp.app_context_processor
def document_helpers():
    # Pages list documents with one include: {% with documents = meeting_documents(meeting) %}…
    def meeting_documents(meeting):
        return queries.meeting_documents(
            current_user, meeting, url_for("documents.meeting_upload", meeting_id=meeting.id)
        )

    def forum_documents(forum):
        return queries.forum_documents(current_user, forum, url_for("documents.forum_upload", forum_id=forum.id))

    def report_documents(progress):
        # The progress report's forums (reports.lists.ForumProgress) and the meetings it lists for them.
        return queries.report_documents(
            current_user, [p.row.forum.id for p in progress], [m.id for p in progress for m in p.meetings]
        )

    def signed_sheet_meetings(meetings):
        return queries.meetings_with_signed_sheet([m.id for m in meetings])

    return {
        "meeting_documents": meeting_documents,
        "forum_documents": forum_documents,
        "report_documents": report_documents,
        "signed_sheet_meetings": signed_sheet_meetings,
        "megabytes": services.megabytes,
    }


def _document_url(document: Document) -> str:
    return url_for("documents.document", document_id=document.id)


@bp.route("/meetings/<int:meeting_id>/documents/new", methods=["GET", "POST"])
@once.create_form
def meeting_upload(meeting_id: int):
    meeting = permissions.load_meeting(current_user, meeting_id, need="edit")
    return _upload(meeting.forum, meeting)


@bp.route("/forums/<int:forum_id>/documents/new", methods=["GET", "POST"])
@once.create_form
def forum_upload(forum_id: int):
    forum = permissions.load_forum(current_user, forum_id, need="edit")
    return _upload(forum, None)


def _upload(forum, meeting):
    form = DocumentForm().for_place(meeting is not None)
    if request.method == "GET" and request.args.get("kind") in dict(form.kind.choices or []):
        form.kind.data = request.args["kind"]  # "Upload the signed attendance sheet" on the meeting page
    if form.validate_on_submit():
        actor = current_actor()
        upload = form.upload()
        document = run_service(
            form,
            once.guard(
                actor,
                lambda: services.upload_document(actor, forum, meeting, form.to_input(), upload),
                _document_url,
            ),
        )
        if document is not None:
            flash(_("“%(title)s” is uploaded.", title=document.title), "success")
            if meeting is not None:
                return redirect(url_for("meetings.meeting", meeting_id=meeting.id, _anchor="documents"), code=303)
            return redirect(url_for("forums.forum", forum_id=forum.id, _anchor="documents"), code=303)
    return render_template(
        "documents/upload.html",
        form=form,
        forum=forum,
        meeting=meeting,
        max_size=services.megabytes(current_app.config["DOCUMENTS_MAX_BYTES"]),
    ), status_for(form)


@bp.get("/documents/<int:document_id>")
def document(document_id: int):
    page = queries.document_page(current_user, document_id)
    form = VersionForm(formdata=None, base_version=page.document.version)
    return _document_page(page, form)


def _document_page(page: queries.DocumentPage, form: VersionForm, status: int = 200):
    return render_template(
        "documents/document.html",
        page=page,
        document=page.document,
        forum=page.document.forum,
        meeting=page.document.meeting,
        flags=page.flags,
        form=form,
        max_size=services.megabytes(current_app.config["DOCUMENTS_MAX_BYTES"]),
    ), status


@bp.post("/documents/<int:document_id>/versions")
def version_upload(document_id: int):
    page = queries.document_page(current_user, document_id)
    permissions.require(page.flags.can_change)
    form = VersionForm()
    if form.validate_on_submit():
        actor = current_actor()
        upload = form.upload()
        version = run_service(
            form, lambda: services.add_version(actor, page.document, upload, form.base_version.data or 0)
        )
        if version is not None:
            flash(_("Version %(n)d is uploaded.", n=version.number), "success")
            return redirect(_document_url(page.document), code=303)
        page = queries.document_page(current_user, document_id)
    return _document_page(page, form, 400)


@bp.post("/documents/<int:document_id>/delete")
def delete(document_id: int):
    document = permissions.load_document(current_user, document_id, need="edit")
    expected = request.values.get("base_version", type=int) or 0
    outcome = run_action(
        lambda: services.delete_document(current_actor(), document, expected),
        _("The document is deleted. Its files are kept in its history."),
    )
    if not outcome:
        return redirect(_document_url(document), code=303)
    if document.meeting_id is not None:
        return redirect(url_for("meetings.meeting", meeting_id=document.meeting_id, _anchor="documents"), code=303)
    return redirect(url_for("forums.forum", forum_id=document.forum_id, _anchor="documents"), code=303)


@bp.get("/documents/<int:document_id>/versions/<int:number>/file")
def download(document_id: int, number: int):
    version = queries.version_to_download(current_user, document_id, number)
    if version is None:
        abort(404)
    actor = current_actor()
    outcome = attempt(lambda: services.record_download(actor, version))
    if not outcome:
        abort(503)
    try:
        data = services.read_file(version)
    except Exception:  # the file is missing from the store, or the store is unreachable
        current_app.logger.exception("document store: could not read %s", version.storage_key)
        abort(503)
    return attachment(data, version)


def attachment(data: bytes, version: DocumentVersion) -> Response:
    """The file as a download, whatever the browser would like to do with it."""
    response = Response(data, mimetype=version.content_type)
    response.headers["Content-Disposition"] = content_disposition(version.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    # Were it ever opened in the browser after all: no scripts, no plugins, its own origin.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Content-Length"] = str(len(data))
    return response


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback name and the real one in RFC 5987's ``filename*``."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\%' else "_" for ch in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"

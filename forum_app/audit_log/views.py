"""/admin/audit: search the audit log (administrators and programme staff), download the result as
CSV, and (administrators) check the hash chain on demand.

The path stays under /admin, where administrators have always found it; the blueprint is its own
so that programme staff reach it without reaching the rest of the administration.
"""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import permissions
from ..core import audit
from ..core.actor import current_actor, require_sign_in
from ..core.commit import attempt
from ..core.forms import AppForm
from ..reports.exports import csv_stream
from . import queries

# What each stored outcome (core.audit.OUTCOMES) reads as.
OUTCOME_LABELS = {
    "ok": _l("done"),
    "refused": _l("refused"),
    "denied": _l("access denied"),
    "failed": _l("failed"),
}

bp = Blueprint("audit_log", __name__)
require_sign_in(bp)


@bp.before_request
def only_admins_and_staff():
    permissions.require(permissions.can_view_audit_log(current_user))


def _filters(args) -> queries.AuditFilters:
    return queries.AuditFilters.from_args(args, current_actor().timezone)


@bp.get("/admin/audit")
def search():
    filters = _filters(request.args)
    return render_template(
        "audit_log/search.html",
        filters=filters,
        page=queries.search_page(filters, request.args.get("page")),
        outcomes={name: OUTCOME_LABELS.get(name, name) for name in audit.OUTCOMES},
        can_verify=permissions.can_verify_audit_chain(current_user),
        download_form=AppForm(),
    ), (400 if filters.errors else 200)


@bp.post("/admin/audit.csv")
def download():
    """The filtered entries as CSV. A POST: downloading the log is itself written to it, before
    anything is sent, and a GET never writes."""
    filters = _filters(request.form)
    if not AppForm().validate_on_submit() or filters.errors:
        flash(_("The request was incomplete. Reload the page and try again."), "danger")
        return redirect(url_for("audit_log.search", **filters.args()))
    outcome = attempt(
        lambda: audit.record(current_actor(), "audit.export", None, "Downloaded the audit log", filters=filters.args())
    )
    if not outcome:
        flash(outcome.message, "danger")
        return redirect(url_for("audit_log.search", **filters.args()))
    return Response(
        stream_with_context(csv_stream(queries.CSV_HEADER, queries.csv_rows(filters))),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="forum-desk-audit.csv"'},
    )


@bp.get("/admin/audit/verify")
def verify():
    """Recompute the whole chain (``flask forum audit verify``) when an administrator asks: it reads
    every entry, so it is a button, not part of every search."""
    permissions.require(permissions.can_verify_audit_chain(current_user))
    return render_template("audit_log/verify.html", verdict=audit.verify())

"""The export's two forms (a JSON download, a readable page), shared by the account page (one's
own) and the admin user page (anyone's). Thin: the permission is the caller's, the work is
``export``'s; each export is audited through the commit point before anything is sent."""

from __future__ import annotations

import json

from flask import Response, render_template
from flask_babel import lazy_gettext as _l

from ..core.commit import attempt
from ..core.errors import ServiceError
from ..models import User
from . import export

SECTION_TITLES = {
    "profile": _l("Profile"),
    "forum_memberships": _l("Forum memberships"),
    "grant_teams": _l("Grant teams"),
    "invitations": _l("Invitations, answers and attendance"),
    "actions": _l("Actions owned or raised"),
    "action_updates": _l("Action updates"),
    "minutes_versions": _l("Minutes written"),
    "minutes_comments": _l("Comments on minutes"),
    "review_comments": _l("Review comments"),
    "sessions": _l("Sign-in sessions"),
    "api_tokens": _l("API tokens"),
    "notification_settings": _l("Email settings"),
    "emails_sent": _l("Emails sent to this person"),
    "mail_received": _l("Mail received from this person"),
    "audit_events": _l("Audit log entries by or about this person"),
}


def export_response(actor: User, person: User, kind: str):
    """The export as ``kind`` ("json" or "html"); a ServiceError when it could not be audited."""
    # The routes calling this ask for the password again first (auth.reauth.recent_auth_required).
    kind = "json" if kind == "json" else "html"
    outcome = attempt(lambda: export.record_export(actor, person, kind))
    if not outcome:
        raise ServiceError(outcome.message)
    data = export.person_export(person)
    if kind == "json":
        body = json.dumps(data, ensure_ascii=False, indent=2, default=str)
        return Response(
            body,
            mimetype="application/json",
            headers={"Content-Disposition": f'attachment; filename="forum-desk-person-{person.id}.json"'},
        )
    return render_template("people/export.html", person=person, data=data, section_titles=SECTION_TITLES)

"""The outbox: every email is a row written in the transaction of the change that caused it.

Delivery is a separate step (a worker, ``notifications.delivery``), so a change is never
lost or half-done because the mail server is down, and no email leaves for a change that
was rolled back.

A message has a plain-text body, usually an HTML body, and may carry a calendar
(``attachments`` with ``calendar_method``): the worker puts it both inside the
multipart/alternative (``text/calendar; method=…``, where clients show Accept/Decline)
and as an ``invite.ics`` attachment.
"""

from __future__ import annotations

import re
from contextlib import AbstractContextManager

from flask import current_app, render_template
from jinja2 import TemplateNotFound

from ..core import language
from ..extensions import db
from ..models import Forum, Meeting, OutboxMessage, User
from .preferences import CHOICE_OF_KIND, unsubscribe_url

INVITATION_FILENAME = "invite.ics"

# Any web address with something after the host: a path may carry a token (a set-password,
# RSVP, confirmation or unsubscribe link), which acts for the recipient alone.
LINK_RE = re.compile(r"https?://[^\s/]+/[^\s<>\"')]*")
SENT_LINK = "…"  # what a link becomes in a sent email's stored copy (no language: it is data)


def hide_links(text: str, replacement: str) -> str:
    return LINK_RE.sub(replacement, text)


def forget_links(message: OutboxMessage) -> None:
    """Once an email is sent, its stored copy keeps no link: the recipient has them, and a
    copy in the database (or a backup of it) must not answer for them."""
    message.body_text = hide_links(message.body_text, SENT_LINK)
    message.body_html = hide_links(message.body_html, SENT_LINK)
    message.list_unsubscribe = ""


def calendar_attachment(ics: str, method: str) -> dict:
    return {"filename": INVITATION_FILENAME, "content_type": "application/ics", "data": ics, "calendar_method": method}


def _render_html(template: str, **context) -> str:
    try:
        return render_template(f"email/{template}.html", **context)
    except TemplateNotFound:
        return ""


def in_language_of(user: User, forum: Forum | None = None) -> AbstractContextManager[None]:
    """Build an email for ``user`` inside this: its subject, body, dates and calendar text in their
    language (their choice, else the forum's). One email per recipient, so never a mix."""
    return language.speaking(language.recipient_language(user, forum))


def queue_email(
    kind: str,
    user: User,
    subject: str,
    template: str,
    *,
    meeting: Meeting | None = None,
    calendar: dict | None = None,
    **context,
) -> OutboxMessage:
    """Render ``templates/email/<template>.txt`` (and ``.html`` if there is one) for ``user`` and queue it.

    The caller builds the subject inside ``in_language_of(user, forum)``; the bodies are rendered
    in that language here too, whoever called.
    """
    context.setdefault("base_url", current_app.config["BASE_URL"])
    forum = context.get("forum") or (meeting.forum if meeting is not None else None)
    with in_language_of(user, forum):
        body = render_template(f"email/{template}.txt", user=user, **context)
        body_html = _render_html(template, user=user, **context)
    # Reminders and notices: the link that turns their kind off, carrying the language they speak.
    choice = CHOICE_OF_KIND.get(kind)
    message = OutboxMessage(
        kind=kind,
        to_addr=user.email,
        to_user=user,
        subject=" ".join(subject.split()),  # one line, whatever a title contained
        body_text=body,
        body_html=body_html,
        attachments=[calendar] if calendar else [],
        meeting_id=meeting.id if meeting is not None else None,
        list_unsubscribe=unsubscribe_url(user, choice, language.recipient_language(user, forum)) if choice else "",
    )
    db.session.add(message)
    return message

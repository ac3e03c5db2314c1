"""The outbox: every email is a row written in the transaction of the change that caused it.

Delivery is a separate step (a worker), so a change is never lost or half-done because
the mail server is down, and no email leaves for a change that was rolled back.
"""
from __future__ import annotations

from flask import current_app, render_template

from ..extensions import db
from ..models import OutboxMessage, User


def queue_email(kind: str, user: User, subject: str, template: str, **context) -> OutboxMessage:
    """Render ``templates/email/<template>.txt`` for ``user`` and queue it."""
    context.setdefault("base_url", current_app.config["BASE_URL"])
    body = render_template(f"email/{template}.txt", user=user, **context)
    message = OutboxMessage(
        kind=kind,
        to_addr=user.email,
        to_user=user,
        subject=subject,
        body_text=body,
    )
    db.session.add(message)
    return message

"""One-time form tokens: a create form sent twice (a double click, Back and resubmit) creates once.

A create form carries a hidden token issued when it renders (``OnceForm``). The service that
creates runs through ``guard``, which stores the token with the page of what was created in the
same transaction (``models.FormSubmission``, unique token). A view wrapped in ``@create_form``
looks the token up before it runs: a token already used sends the person to that page with a
calm message, and nothing is created again. Two sendings at the same moment race on the unique
token: the loser's transaction fails and rolls back, and ``@create_form`` then finds the
winner's row and sends the loser to the same page.

A form re-shown with errors keeps its token (nothing was created with it); a form without a
token (an old page, a script) is not protected but works as before. Tokens are purged after
``KEEP``: long after anyone goes Back to a page.

Buttons disable themselves while a ``data-once`` form is being sent (static/js/app.js); this is
what makes the second sending harmless when they do not (no JavaScript, a slow phone).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import flash, redirect, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import delete, select
from wtforms import HiddenField

from ..extensions import db
from ..models import FormSubmission
from .clock import utcnow

T = TypeVar("T")

FIELD = "form_once"
KEEP = timedelta(days=7)
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def new_token() -> str:
    return secrets.token_urlsafe(24)


class OnceForm:
    """A mixin for create forms: the hidden one-time token (``form.hidden_tag()`` renders it)."""

    form_once = HiddenField(default=new_token)


def sent_token() -> str | None:
    """The token the request's form carried, when it looks like one of ours."""
    if request.method != "POST":
        return None
    # A form with a prefix (several forms on one page, e.g. one per agenda item) names it "<prefix>-form_once".
    token = next((value for key, value in request.form.items() if key == FIELD or key.endswith("-" + FIELD)), "")
    return token if _TOKEN.match(token) else None


def _first_result(token: str, user_id: int) -> str | None:
    return db.session.execute(
        select(FormSubmission.result_url).where(FormSubmission.token == token, FormSubmission.user_id == user_id)
    ).scalar_one_or_none()


def guard(user, service: Callable[[], T], url_of: Callable[[T], str]) -> Callable[[], T]:
    """``service``, storing the request's form token with ``url_of(result)`` in its transaction.

    The token is written before the service runs: a second sending at the same moment waits on
    its unique index and then fails, so the service never runs twice for one token.
    """
    token = sent_token()
    if token is None:
        return service

    def run() -> T:
        submission = FormSubmission(token=token, user_id=user.id, created_at=utcnow(), result_url="")
        db.session.add(submission)
        db.session.flush()
        value = service()
        submission.result_url = url_of(value)[:2000]
        db.session.execute(delete(FormSubmission).where(FormSubmission.created_at < utcnow() - KEEP))
        return value

    return run


def replay():
    """A redirect to what this form's first sending created, if its token was used already (else None)."""
    token = sent_token()
    if token is None or not current_user.is_authenticated:
        return None
    url = _first_result(token, current_user.id)
    if not url:
        return None
    flash(_("This form had already been sent: it was saved once, and here it is."), "info")
    return redirect(url)


def create_form(view: Callable[..., Any]) -> Callable[..., Any]:
    """For the view of a create form: a form sent again goes to the first sending's result.

    Checked before the view runs (sent again later: Back and resubmit) and, when the view shows
    the form again, after it (sent twice at once: the other sending won the race).
    """

    @wraps(view)
    def wrapper(*args, **kwargs):
        if request.method != "POST":
            return view(*args, **kwargs)
        done = replay()
        if done is not None:
            return done
        response = view(*args, **kwargs)
        if isinstance(response, tuple):
            status = response[1] if len(response) > 1 else 200
        else:
            status = getattr(response, "status_code", 200)
        if isinstance(status, int) and status >= 400:
            done = replay()
            if done is not None:
                return done
        return response

    return wrapper


__all__ = ["FIELD", "KEEP", "OnceForm", "create_form", "guard", "new_token", "replay", "sent_token"]

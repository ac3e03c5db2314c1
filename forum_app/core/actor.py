"""Who is acting in a web request, said one way in every view.

Services, loaders and the API take the person as an argument (a signed-in user, an API
token's user, the CLI's actor); a view gets it from here.
"""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user, login_required

from ..models import User


def current_actor() -> User:
    """The signed-in person behind Flask-Login's ``current_user`` proxy.

    The object itself, not the proxy: services keep it (audit rows, outbox messages) and
    read it many times, and every read through the proxy looks the user up again.
    Only for routes that require a sign-in (``require_sign_in`` or ``@login_required``).
    """
    return current_user._get_current_object()


def _signed_in() -> None:
    return None


def require_sign_in(bp: Blueprint) -> None:
    """Every route of ``bp`` needs a signed-in person; anonymous visitors are sent to log in.

    For blueprints without a public route. Flask-Login's own check (its exempt methods, its
    ``LOGIN_DISABLED``, ``login_manager.unauthorized()``) runs before each request, so a
    route added later cannot forget it. Blueprints with public routes (signed links from
    emails, token feeds, the health check) mark each signed-in route ``@login_required``.
    """
    bp.before_request(login_required(_signed_in))

"""Domain errors: what services and loaders raise; the web layer and the API translate them.

Services raise ServiceError (or ConflictError) for the person to read, e.g. next to a
form field. Loaders raise NotFound and Forbidden instead of calling ``abort()``, so the
same loader serves pages (404/403 pages), the API (JSON errors), email-link pages and
the CLI (which has no request to abort).
"""

from __future__ import annotations

from collections.abc import Sequence


class ServiceError(Exception):
    """A request that cannot be carried out as asked; nothing was changed."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class ConflictError(ServiceError):
    """Someone else saved the same thing since the form was opened.

    ``differences`` lists (what, the saved value, the value in your form), or three ways
    (what, what you started from, the saved value, the value in your form), so the page can
    show what changed instead of silently overwriting it.
    """

    def __init__(self, message: str, differences: Sequence[tuple[str, ...]] | None = None):
        super().__init__(message)
        self.differences: Sequence[tuple[str, ...]] = differences or []


class NotPermitted(ServiceError):
    """The person's role does not allow this change (not the object's state, not the input).

    Pages show it like any refusal; the API answers it 403 where other refusals are 422. Callers
    decide by this class, never by the message, which is in the requester's language.
    """


class KeptRefusal(ServiceError):
    """A refusal whose bookkeeping must stay: e.g. a wrong password, counted by the throttle.

    The commit point commits (the count is kept) instead of rolling back; the service
    guarantees that nothing else changed when it raises this.
    """


class NotFound(Exception):
    """The object does not exist, or the person may not learn that it does (answered as 404)."""


class Forbidden(Exception):
    """The person may see the object but not do this to it (answered as 403)."""

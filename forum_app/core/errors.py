"""Errors services raise for the person to read, e.g. next to a form field."""
from __future__ import annotations


class ServiceError(Exception):
    """A request that cannot be carried out as asked; nothing was changed."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class ConflictError(ServiceError):
    """Someone else saved the same thing since the form was opened.

    ``differences`` lists (what, the saved value, the value in your form) so the page can
    show what changed instead of silently overwriting it.
    """

    def __init__(self, message: str, differences: list[tuple[str, str, str]] | None = None):
        super().__init__(message)
        self.differences = differences or []

"""Form helpers shared by the feature packages."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from wtforms import ValidationError

from ..extensions import db
from .errors import ServiceError

T = TypeVar("T")

_KNOWN_ZONES = frozenset(available_timezones())


def run_service(form: FlaskForm, action: Callable[[], T]) -> T | None:
    """Run ``action`` and commit; on a ServiceError roll back and show it at its field.

    Returns the action's result, or None when it failed (the form then carries the
    message and nothing was saved).
    """
    try:
        result = action()
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        attach_error(form, exc.message, exc.field)
        return None
    except IntegrityError:
        # A uniqueness race the service's own check could not see: nothing was saved.
        db.session.rollback()
        attach_error(form, str(_l("This conflicts with a record that was just saved. Check and try again.")), None)
        return None
    return result


def attach_error(form: FlaskForm, message: str, field: str | None) -> None:
    target = getattr(form, field, None) if field else None
    if target is not None and hasattr(target, "errors"):
        if not isinstance(target.errors, list):
            target.errors = list(target.errors)
        target.errors.append(message)
    else:
        form.form_errors.append(message)


def end_not_before_start(start_field: str):
    """Validator for an end-date field: it may not be before the start date."""

    def check(form: FlaskForm, field: Any) -> None:
        start = getattr(form, start_field).data
        if field.data and start and field.data < start:
            raise ValidationError(_l("The end cannot be before the start."))

    return check


def valid_timezone(form: FlaskForm, field: Any) -> None:
    if field.data not in _KNOWN_ZONES:
        raise ValidationError(_l("Choose a time zone from the list."))


def status_for(form: FlaskForm) -> int:
    """HTTP status for re-showing a form: 400 when it carries errors."""
    return 400 if form.errors else 200


__all__ = ["run_service", "attach_error", "end_not_before_start", "valid_timezone", "status_for", "Any"]

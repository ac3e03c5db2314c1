"""Form helpers shared by the feature packages."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask import flash
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from wtforms import TextAreaField, ValidationError

from ..extensions import db
from .errors import ConflictError, ServiceError

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
        if isinstance(exc, ConflictError):
            form.conflict = exc  # the page shows what the other person changed
        return None
    except IntegrityError:
        # A uniqueness race the service's own check could not see: nothing was saved.
        db.session.rollback()
        attach_error(form, str(_l("This conflicts with a record that was just saved. Check and try again.")), None)
        return None
    except StaleDataError:
        # Someone saved the same row between our version check and our write.
        db.session.rollback()
        attach_error(form, str(_l(STALE_MESSAGE)), None)
        return None
    return result


STALE_MESSAGE = "Someone else saved this at the same moment. Nothing of yours was saved: reload and try again."


@dataclass(frozen=True)
class Outcome:
    """What ``run_action`` did: true when it was saved, with the action's result."""

    ok: bool
    value: Any = None

    def __bool__(self) -> bool:
        return self.ok


def run_action(action: Callable[[], Any], success: str) -> Outcome:
    """For buttons without a form to re-show: run, commit, and flash the outcome."""
    try:
        value = action()
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return Outcome(False)
    except (IntegrityError, StaleDataError):
        db.session.rollback()
        flash(str(_l(STALE_MESSAGE)), "danger")
        return Outcome(False)
    flash(success, "success")
    return Outcome(True, value)


def attach_error(form: FlaskForm, message: str, field: str | None) -> None:
    target = getattr(form, field, None) if field else None
    if target is not None and hasattr(target, "errors"):
        if not isinstance(target.errors, list):
            target.errors = list(target.errors)
        target.errors.append(message)
    else:
        form.form_errors.append(message)


class LinesField(TextAreaField):
    """A textarea whose data is a list of non-empty, stripped lines (themes, decisions)."""

    def __init__(self, *args, max_items: int = 200, max_line: int = 1000, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_items, self.max_line = max_items, max_line

    def _value(self) -> str:
        return "\n".join(self.data or [])

    def process_data(self, value) -> None:
        self.data = list(value or [])

    def process_formdata(self, valuelist) -> None:
        if valuelist:
            lines = [line.strip() for line in (valuelist[0] or "").splitlines()]
            self.data = list(dict.fromkeys(line for line in lines if line))  # no blanks, no repeats

    def pre_validate(self, form) -> None:
        if len(self.data) > self.max_items:
            raise ValidationError(_l("At most %(n)d lines.", n=self.max_items))
        if any(len(line) > self.max_line for line in self.data):
            raise ValidationError(_l("A line may have at most %(n)d characters.", n=self.max_line))


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


__all__ = ["run_service", "run_action", "attach_error", "end_not_before_start", "valid_timezone", "status_for",
           "LinesField"]

"""The one commit point: run a service, commit, and turn every failure into an outcome.

Forms (``core.forms.run_service``), buttons (``run_action``), the API and the CLI all call
``attempt``; nothing else commits. A service flushes and raises; here a ServiceError, a
uniqueness race its own checks could not see, or a stale version becomes an Outcome with
a message (and the field it belongs to), after a rollback, so nothing is half-saved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ..extensions import db
from . import audit
from .errors import ConflictError, KeptRefusal, ServiceError

STALE_MESSAGE = _l("Someone else saved this at the same moment. Nothing of yours was saved: reload and try again.")
RACE_MESSAGE = _l("This conflicts with a record that was just saved. Check and try again.")


@dataclass(frozen=True)
class Outcome:
    """What ``attempt`` did. True when the change was committed; ``value`` is the service's result."""

    ok: bool
    value: Any = None
    message: str = ""
    field: str | None = None
    conflict: ConflictError | None = None  # when someone else saved first: what they changed
    error: ServiceError | None = None  # the refusal itself, for callers that answer by its kind
    stale: bool = False  # a versioned row was saved by someone else between our check and our write

    def __bool__(self) -> bool:
        return self.ok


def attempt(service: Callable[[], Any]) -> Outcome:
    """Run ``service`` and commit; on failure roll back and say why."""
    try:
        value = service()
        db.session.commit()
    except ServiceError as exc:
        if isinstance(exc, KeptRefusal):
            db.session.commit()  # e.g. the counted failure; the service changed nothing else
            seal_audit()
        else:
            _rollback()
        return Outcome(
            False,
            message=exc.message,
            field=exc.field,
            conflict=exc if isinstance(exc, ConflictError) else None,
            error=exc,
        )
    except IntegrityError:
        _rollback()
        return Outcome(False, message=str(RACE_MESSAGE))
    except StaleDataError:
        # Someone saved the same versioned row between our check and our write.
        _rollback()
        return Outcome(False, message=str(STALE_MESSAGE), stale=True)
    seal_audit()
    return Outcome(True, value=value)


def _rollback() -> None:
    db.session.rollback()
    db.session.info.pop("audit_unsealed", None)  # the entries went with the rest


def seal_audit() -> None:
    """Chain the audit entries the committed transaction wrote (core.audit.seal), if any."""
    if db.session.info.pop("audit_unsealed", False):
        audit.seal()

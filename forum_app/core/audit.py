"""Writing the audit trail. Called by services inside their own transaction."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request

from ..extensions import db
from ..models import AuditEvent, User
from .clock import utcnow


def client_address() -> str:
    """The caller's address (behind a proxy, ProxyFix has already put the real one here)."""
    if has_request_context():
        return (request.remote_addr or "")[:64]
    return ""


def record(actor: User | None, verb: str, obj: Any, summary: str = "", **data: Any) -> AuditEvent:
    """Append an AuditEvent for ``verb`` on ``obj``; flushes so ``obj.id`` is known."""
    db.session.flush()
    event = AuditEvent(
        # Stamped now, not by the column default at the next flush, which may come after
        # the caller's ``clock.at`` block has ended (the demo writing 2021's history).
        at=utcnow(),
        actor_id=actor.id if actor is not None else None,
        verb=verb,
        object_type=type(obj).__name__,
        object_id=getattr(obj, "id", None),
        summary=summary[:500],
        data=data,
        ip=client_address(),
    )
    db.session.add(event)
    return event


def apply_changes(obj: Any, **values: Any) -> dict[str, list[str]]:
    """Set attributes on ``obj``; return ``{name: [old, new]}`` for those that changed (for the audit)."""
    changes: dict[str, list[str]] = {}
    for name, value in values.items():
        old = getattr(obj, name)
        if old != value:
            changes[name] = [str(old), str(value)]
            setattr(obj, name, value)
    return changes


def create_or_update(actor: User | None, obj: Any, model: type, noun: str, label: str, **values: Any) -> Any:
    """Create ``model(**values)`` when ``obj`` is None, else apply ``values`` to it; audit either.

    The audit verb is ``<noun>.create`` or ``<noun>.update`` (only when something changed,
    with the changed fields).
    """
    if obj is None:
        obj = model(**values)
        db.session.add(obj)
        record(actor, f"{noun}.create", obj, f"Created {label}")
    else:
        changes = apply_changes(obj, **values)
        if changes:
            record(actor, f"{noun}.update", obj, f"Updated {label}", changes=changes)
    return obj

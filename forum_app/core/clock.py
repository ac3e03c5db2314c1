"""The one source of "now" for services, model defaults, the demo and tests.

Services and column defaults call ``utcnow()``. Normally that is the system clock; the
demo and the test factories build history ("this meeting was scheduled on 14 June
2021, held on 30 June, its minutes adopted in October") by running the real services
inside ``at(moment)``, so there is one copy of every lifecycle, not one per caller.

A ContextVar, not a global: a clock set in one thread or request never leaks into
another, and leaving the ``with`` block restores whatever was there before.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

_fixed: ContextVar[datetime | None] = ContextVar("forum_desk_clock", default=None)


def utcnow() -> datetime:
    """Current time, timezone-aware UTC (or the moment set by ``at``)."""
    fixed = _fixed.get()
    return fixed if fixed is not None else datetime.now(UTC)


@contextmanager
def at(moment: datetime) -> Iterator[datetime]:
    """Run the block as if it were ``moment`` (aware); every ``utcnow()`` inside returns it."""
    if moment.tzinfo is None:
        raise ValueError("the clock needs an aware datetime")
    token = _fixed.set(moment.astimezone(UTC))
    try:
        yield moment
    finally:
        _fixed.reset(token)

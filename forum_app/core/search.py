"""Case-insensitive "contains" search, the same way on SQLite and PostgreSQL.

``lower()`` is Unicode-aware on both (on SQLite it is replaced by Python's, see
``database.py``), and the user's text is escaped so ``%`` and ``_`` match themselves.
"""
from __future__ import annotations

from sqlalchemy import ColumnElement, false, func, or_

MAX_QUERY = 100


def clean_query(raw: str | None) -> str:
    """The search text as typed, trimmed and bounded."""
    return (raw or "").strip()[:MAX_QUERY]


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains(q: str, *columns) -> ColumnElement[bool]:
    """A condition: any of ``columns`` contains ``q``, ignoring case."""
    if not columns:
        return false()
    pattern = "%" + escape_like(q.lower()) + "%"
    return or_(*[func.lower(column).like(pattern, escape="\\") for column in columns])

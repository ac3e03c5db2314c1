"""Declarative base, shared column types and the naming convention.

The naming convention gives every constraint and index a stable name, so Alembic
migrations can refer to them on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, MetaData
from sqlalchemy.orm import DeclarativeBase, registry
from sqlalchemy.types import TypeDecorator

from ..core import clock

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Current time, timezone-aware UTC, from the one clock (``core.clock``).

    Used as a *callable* column default, never evaluated at import.
    """
    return clock.utcnow()


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, hands back aware UTC.

    SQLite has no time zones and PostgreSQL's ``timestamptz`` converts to the session
    zone; storing naive UTC on both and attaching UTC on the way out keeps every
    datetime in Python aware and comparable.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a time zone first")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    # One registry carrying both settings: Flask-SQLAlchemy subclasses this base, and
    # SQLAlchemy refuses a subclass that inherits a per-base type_annotation_map.
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


def check_in(column: str, values) -> str:
    """SQL for a CHECK constraint limiting ``column`` to ``values`` (enforced by the database)."""
    quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    return f"{column} IN ({quoted})"


def render_migration_item(type_: str, obj, autogen_context):
    """Alembic hook: write UTCDateTime as a plain DateTime in migrations.

    Migrations must not import application code that may change later; the column in
    the database is an ordinary timestamp either way.
    """
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False

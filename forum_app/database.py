"""Engine set-up and small transaction helpers.

SQLite needs a few settings to behave well as a shared web database: WAL so readers do
not block the writer, a busy timeout so writers wait rather than fail, foreign keys on
(off by default in SQLite), and ``BEGIN IMMEDIATE`` for transactions that will write, so
two writers queue at the start instead of one failing half-way on a lock upgrade. These are
correctness, not tuning: tuning (SQLite's page cache, PostgreSQL's ``random_page_cost``, vacuum)
belongs to the deployment (docs/operations.md).
"""

from __future__ import annotations

from flask import Flask, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .extensions import db

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SQLITE_BUSY_TIMEOUT_MS = 15_000


def wants_write() -> bool:
    # Requests with unsafe methods write; outside a request (CLI, worker, tests) assume so.
    return not has_request_context() or request.method not in SAFE_METHODS


def _unicode_lower(value):
    return value.lower() if isinstance(value, str) else value


def configure_engine(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, connection_record):
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Deleted and pseudonymised rows are overwritten with zeros, not left readable in free
        # pages of the file (or of a copy of it) until SQLite happens to reuse them.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()
        # SQLite's own lower() folds ASCII only; names here are Bosnian, Macedonian,
        # Albanian and Montenegrin. Python's folds them all, as PostgreSQL's does.
        dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)

    @event.listens_for(engine, "begin")
    def on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if wants_write() else "BEGIN")


def refresh_statistics() -> None:
    """Refresh the query planner's statistics after a bulk load (``ANALYZE``; on PostgreSQL ``VACUUM (ANALYZE)``),
    then commit. ``flask forum generate`` calls it when it is done.

    SQLite keeps none until asked: without them it picks the wrong index for the grouped
    counts of a programme's actions (measured: 25 ms instead of 0.4 ms for the forum list's
    overdue counts at 60,000 actions). PostgreSQL's autovacuum analyses by itself, but only
    some time after a bulk load. Vacuuming also empties the trigram index's pending list (people
    search at 12,000 people: 22 ms scanning that list, 0.5 ms after). Keeping statistics fresh in
    a running deployment is the database's job (autovacuum; a cron'd ``ANALYZE`` on SQLite), see
    docs/operations.md.
    """
    if db.engine.dialect.name == "postgresql":
        db.session.commit()  # VACUUM runs outside a transaction, on a connection of its own
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(db.text("VACUUM (ANALYZE)"))
        return
    db.session.execute(db.text("ANALYZE"))
    db.session.commit()


def in_migrations(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic's ``include_name``: what autogenerate and ``flask db check`` compare with the models.

    Not SQLite's full-text index of people (migration 0017) nor the tables FTS5 keeps for it: no
    model describes them.
    """
    return not (type_ == "table" and name is not None and name.startswith("user_account_search"))

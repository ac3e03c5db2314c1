"""Engine set-up and small transaction helpers.

SQLite needs a few settings to behave well as a shared web database: WAL so readers do
not block the writer, a busy timeout so writers wait rather than fail, foreign keys on
(off by default in SQLite), and ``BEGIN IMMEDIATE`` for transactions that will write, so
two writers queue at the start instead of one failing half-way on a lock upgrade.

SQLite's page cache is per connection and 2 MB by default: at programme scale (a 116 MB file)
the pages one list reads are evicted by the other pages a worker serves, and a people search
read its index and 300 people back from the operating system's cache on every request (4.5 ms
instead of 1.3 ms). ``SQLITE_CACHE_KIB`` (8 MB by default) keeps a worker's hot pages; a
sync worker holds one connection, so this is memory per worker (after the benchmark: 105–107 MB
RSS a worker, against 100–105 MB without).

PostgreSQL: each connection plans with ``random_page_cost`` from ``PG_RANDOM_PAGE_COST`` (see
``_configure_postgresql``).
"""
from __future__ import annotations

from flask import Flask, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .extensions import db

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# How often a long-running worker refreshes the query planner's statistics (see refresh_statistics).
STATISTICS_EVERY_SECONDS = 3600
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
        _configure_sqlite(engine, int(app.config.get("SQLITE_CACHE_KIB", 0)))
    elif engine.dialect.name == "postgresql" and app.config.get("PG_RANDOM_PAGE_COST"):
        _configure_postgresql(engine, float(app.config["PG_RANDOM_PAGE_COST"]))


def _configure_postgresql(engine: Engine, random_page_cost: float) -> None:
    """Plan as for data in memory or on SSD, which a forum desk's database is.

    PostgreSQL's default ``random_page_cost`` (4.0) prices an index lookup as a seek on a spinning
    disk, so for a page's 25 forums it scans whole tables rather than probe their indexes: the
    home page's last meetings read all 2,400 meetings (2.7 ms; 0.6 ms at 1.1, the value commonly
    advised for SSDs). Set per connection, so it needs no rights on the server; a database whose
    administrator tunes it already can set ``PG_RANDOM_PAGE_COST`` empty to keep theirs.
    """
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, connection_record):
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET random_page_cost = {random_page_cost:g}")
        dbapi_connection.commit()


def _configure_sqlite(engine: Engine, cache_kib: int) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, connection_record):
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        if cache_kib > 0:  # a negative cache_size is in KiB (a positive one would be pages)
            cursor.execute(f"PRAGMA cache_size=-{cache_kib:d}")
        cursor.close()
        # SQLite's own lower() folds ASCII only; names here are Bosnian, Macedonian,
        # Albanian and Montenegrin. Python's folds them all, as PostgreSQL's does.
        dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)

    @event.listens_for(engine, "begin")
    def on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if wants_write() else "BEGIN")


def refresh_statistics() -> None:
    """Refresh the query planner's statistics (``ANALYZE``; on PostgreSQL ``VACUUM (ANALYZE)``), then commit.

    SQLite keeps none until asked: without them it picks the wrong index for the grouped
    counts of a programme's actions (measured: 25 ms instead of 0.4 ms for the forum list's
    overdue counts at 60,000 actions). PostgreSQL's autovacuum analyses by itself, but only
    some time after a bulk load, and not at all where it is turned off. Vacuuming also empties
    the trigram index's pending list (people search at 12,000 people: 22 ms scanning that list,
    0.5 ms after) and marks pages all-visible, so the covering indexes answer counts alone; it
    skips pages nothing changed, so repeating it is cheap. The generator calls this when it is
    done and the delivery worker, which runs beside every deployment, once an hour (0.15 s at
    programme scale on SQLite).
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

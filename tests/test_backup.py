"""Backups that restore: ``flask forum backup`` while people keep writing, ``flask forum restore``
into an empty database, on the database the suite runs on (SQLite, or PostgreSQL with pg_dump),
with and without encryption to an age key."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pyrage
import pytest
from sqlalchemy import create_engine, func, make_url, select, text

from forum_app import create_app
from forum_app.core import audit
from forum_app.core.commit import attempt
from forum_app.extensions import db
from forum_app.models import Base, User

pytestmark = pytest.mark.slow


def row_counts(app) -> dict[str, int]:
    with app.app_context():
        counts = {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}
        db.session.remove()
        return counts


@pytest.fixture
def empty_target(app, database_url, tmp_path) -> Iterator:
    """A second app on a new, empty database of the same kind."""
    source = make_url(database_url)
    if source.get_backend_name() == "sqlite":
        target = f"sqlite:///{tmp_path / 'restored.db'}"
        server = None
    else:
        name = f"{source.database}_restore"
        server = create_engine(source.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        target = source.set(database=name).render_as_string(hide_password=False)
    restored = create_app(
        {
            "FORUM_ENV": "testing",
            "SECRET_KEY": "test-secret-key-not-for-production",
            "SQLALCHEMY_DATABASE_URI": target,
            "BASE_URL": "http://forum.test",
        }
    )
    yield restored
    with restored.app_context():
        db.engine.dispose()
    if server is not None:
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(target).database}" WITH (FORCE)'))
        server.dispose()


def cli(app, *args: str):
    return app.test_cli_runner().invoke(args=["forum", *args])


def test_a_backup_under_concurrent_writes_restores_consistent_and_then_identical(app, make, empty_target, tmp_path):
    for _ in range(5):
        make.user()
    stop = threading.Event()
    errors: list[BaseException] = []
    # The backup starts once both writers are under way (they go on writing while it runs): on a
    # busy machine a thread may not have committed anything yet when the main thread gets there.
    under_way = threading.Barrier(3, timeout=60)

    def write(n: int) -> None:
        # Audited changes, each sealed into the chain after its commit, as the app makes them.
        try:
            with app.app_context():
                i = 0
                while not stop.is_set():
                    i += 1
                    user = User(email=f"writer{n}-{i}@example.org", name=f"Writer {n} {i}", role="member")
                    outcome = attempt(lambda u=user: (db.session.add(u), audit.record(None, "test.write", u, u.email)))
                    assert outcome.ok, outcome.message
                    if i == 3:
                        under_way.wait()
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            under_way.abort()  # the main thread must not wait for a writer that failed

    writers = [threading.Thread(target=write, args=(n,)) for n in range(2)]
    for thread in writers:
        thread.start()
    try:
        under_way.wait()
        during = tmp_path / "during.backup"
        result = cli(app, "backup", str(during))
        assert result.exit_code == 0, result.output
    finally:
        stop.set()
        for thread in writers:
            thread.join()
    assert not errors, errors

    # The backup taken mid-write is one consistent moment: its chain verifies, head included,
    # and every person written has the audit entry written with them.
    restored = cli(empty_target, "restore", str(during))
    assert restored.exit_code == 0, restored.output
    assert "audit log: intact" in restored.output
    with empty_target.app_context():
        people = db.session.scalar(select(func.count()).select_from(User).where(User.email.like("writer%")))
        entries = db.session.scalar(
            select(func.count()).where(text("verb = 'test.write'")).select_from(text("audit_event"))
        )
        db.session.remove()
    assert people == entries and people > 0

    # With the writers stopped, a backup restores to exactly the same rows, table by table.
    after = tmp_path / "after.backup"
    assert cli(app, "backup", str(after)).exit_code == 0
    with empty_target.app_context():
        Base.metadata.drop_all(db.engine)
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
            if db.engine.dialect.name == "sqlite":
                for name in conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'")).scalars().all():
                    conn.execute(text(f'DROP TABLE IF EXISTS "{name}"'))
        db.engine.dispose()
    second = cli(empty_target, "restore", str(after))
    assert second.exit_code == 0, second.output
    assert row_counts(empty_target) == row_counts(app)
    assert cli(empty_target, "audit", "verify").exit_code == 0


def test_an_encrypted_backup_needs_its_key(app, make, empty_target, tmp_path):
    make.user()
    key = pyrage.x25519.Identity.generate()
    identity = tmp_path / "key.txt"
    identity.write_text(str(key) + "\n")
    output = tmp_path / "forum.backup.age"
    result = cli(app, "backup", str(output), "--recipient", str(key.to_public()))
    assert result.exit_code == 0 and "encrypted" in result.output
    assert output.read_bytes().startswith(b"age-encryption.org/v1")
    assert (output.stat().st_mode & 0o777) == 0o600
    # Without the key, or with another one: refused, and the empty database stays empty.
    assert "give --identity" in cli(empty_target, "restore", str(output)).output
    other = tmp_path / "other.txt"
    other.write_text(str(pyrage.x25519.Identity.generate()) + "\n")
    wrong = cli(empty_target, "restore", str(output), "--identity", str(other))
    assert wrong.exit_code == 1 and "cannot decrypt" in wrong.output
    with empty_target.app_context():
        from forum_app.backup import tables_in_use

        assert tables_in_use() == []
    right = cli(empty_target, "restore", str(output), "--identity", str(identity))
    assert right.exit_code == 0, right.output
    assert row_counts(empty_target)["user_account"] == row_counts(app)["user_account"] == 1


def test_restore_refuses_a_database_that_is_not_empty_and_a_backup_never_overwrites(app, make, tmp_path):
    make.user()
    output = tmp_path / "b.backup"
    assert cli(app, "backup", str(output)).exit_code == 0
    again = cli(app, "backup", str(output))
    assert again.exit_code == 1 and "exists already" in again.output
    before = row_counts(app)
    refused = cli(app, "restore", str(output))
    assert refused.exit_code == 1 and "not empty" in refused.output
    assert row_counts(app) == before


def test_a_file_that_is_not_a_backup_is_refused(app, empty_target, tmp_path):
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"this is not a database" * 100)
    result = cli(empty_target, "restore", str(junk))
    assert result.exit_code == 1
    assert Path(junk).exists()

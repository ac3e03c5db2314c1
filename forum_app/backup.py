"""Backups that restore: ``flask forum backup`` and ``flask forum restore``.

A backup is one consistent moment of the whole database, taken while the app keeps running:

- SQLite: the online backup API (``sqlite3.Connection.backup``), which copies every page under
  one read transaction, so writes that commit meanwhile are either all in the copy or not at all.
  The backup is itself an SQLite file.
- PostgreSQL: ``pg_dump --format=custom``, which reads everything in one repeatable-read
  snapshot. The backup is a pg_dump archive, restorable with ``pg_restore`` too.

Optionally encrypted to one or more age public keys (``age1…``; pyrage, the format of the
``age`` tool, so an operator can also decrypt with ``age -d -i key.txt``): the server that makes
backups holds no key that can read them.

Restoring goes into an empty database only (no tables): a restore never mixes with live data.
Afterwards the audit chain is verified (``core.audit.verify``), so a tampered backup is found.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect, make_url

from .extensions import db
from .models import Base

AGE_SUFFIX = ".age"


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why, for the operator."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    kind: str  # "sqlite" or "pg_dump"
    encrypted: bool
    size: int


def _dialect() -> str:
    return db.engine.dialect.name


def _libpq_url() -> tuple[str, dict[str, str]]:
    """The database's address for pg_dump / pg_restore, the password in the environment
    (PGPASSWORD), never on a command line that ``ps`` shows."""
    url = make_url(db.engine.url)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()[:2000]}")


def _need(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        raise BackupError(f"{tool} is not installed (Debian: postgresql-client, of the server's major version)")
    return found


def make_backup(output: Path, recipients: list[str] | None = None) -> BackupResult:
    """Write a consistent backup of the database to ``output`` (encrypted when ``recipients``)."""
    keys = _recipients(recipients or [])
    output = Path(output)
    if output.exists():
        raise BackupError(f"{output} exists already: a backup never overwrites a file")
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=output.parent) as work:
        plain = Path(work) / "backup"
        if _dialect() == "sqlite":
            kind = "sqlite"
            raw = db.engine.raw_connection()
            try:
                target = sqlite3.connect(plain)
                with target:
                    raw.driver_connection.backup(target)  # type: ignore[union-attr]
                target.close()
            finally:
                raw.close()
        elif _dialect() == "postgresql":
            kind = "pg_dump"
            url, env = _libpq_url()
            _run([_need("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={plain}", url], env)
        else:  # pragma: no cover - the app supports these two
            raise BackupError(f"no backup for {_dialect()}")
        if keys:
            import pyrage

            pyrage.encrypt_file(str(plain), str(output), keys)
        else:
            os.replace(plain, output)
    os.chmod(output, 0o600)  # a backup holds everything: only its owner reads it
    return BackupResult(output, kind, bool(keys), output.stat().st_size)


def _recipients(values: list[str]) -> list:
    if not values:
        return []
    import pyrage

    try:
        return [pyrage.x25519.Recipient.from_str(value.strip()) for value in values if value.strip()]
    except pyrage.RecipientError as exc:
        raise BackupError(f"not an age public key (age1…): {exc}") from exc


def _identities(path: Path | None) -> list:
    if path is None:
        raise BackupError("the backup is encrypted: give --identity, the file with its age secret key")
    import pyrage

    lines = [line.strip() for line in Path(path).read_text(encoding="utf-8").splitlines()]
    try:
        return [pyrage.x25519.Identity.from_str(line) for line in lines if line.startswith("AGE-SECRET-KEY-")]
    except pyrage.IdentityError as exc:
        raise BackupError(f"not an age secret key: {exc}") from exc


def tables_in_use() -> list[str]:
    """Tables of the app's schema present in the database (and Alembic's): empty means empty."""
    present = set(inspect(db.engine).get_table_names())
    ours = {table.name for table in Base.metadata.sorted_tables} | {"alembic_version"}
    return sorted(present & ours)


def restore_backup(source: Path, identity: Path | None = None) -> str:
    """Restore ``source`` into this app's database, which must hold no tables yet."""
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"{source}: no such file")
    present = tables_in_use()
    if present:
        raise BackupError(
            f"the database is not empty ({len(present)} tables, e.g. {present[0]}): restore into a new, empty one"
        )
    with tempfile.TemporaryDirectory() as work:
        plain = source
        if source.name.endswith(AGE_SUFFIX) or _looks_encrypted(source):
            import pyrage

            plain = Path(work) / "backup"
            try:
                pyrage.decrypt_file(str(source), str(plain), _identities(identity))
            except pyrage.DecryptError as exc:
                raise BackupError(f"cannot decrypt {source} with that key: {exc}") from exc
        db.session.remove()
        if _dialect() == "sqlite":
            origin = sqlite3.connect(f"file:{plain}?mode=ro", uri=True)
            try:
                if origin.execute("PRAGMA quick_check").fetchone() != ("ok",):
                    raise BackupError(f"{source} is not an intact SQLite database")
                raw = db.engine.raw_connection()
                try:
                    origin.backup(raw.driver_connection)  # type: ignore[arg-type]
                finally:
                    raw.close()
            except sqlite3.DatabaseError as exc:
                raise BackupError(f"{source} is not an SQLite backup: {exc}") from exc
            finally:
                origin.close()
            kind = "sqlite"
        else:
            url, env = _libpq_url()
            _run(
                [
                    _need("pg_restore"),
                    "--no-owner",
                    "--no-privileges",
                    "--single-transaction",
                    "--exit-on-error",
                    f"--dbname={url}",
                    str(plain),
                ],
                env,
            )
            kind = "pg_dump"
    db.engine.dispose()  # connections opened before the restore saw another schema
    return kind


def _looks_encrypted(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(21) == b"age-encryption.org/v1"

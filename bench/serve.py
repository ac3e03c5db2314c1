"""What ``make bench`` and ``make load`` share: a database made ready once, gunicorn on loopback.

- ``database_for``: a SQLite file under the harness's data folder, or, with ``DATABASE_URL``
  naming a PostgreSQL server, a database of its own on that server (created when missing);
- ``prepare`` fills it with ``flask forum generate --scale N``, ``prepare_demo`` with the demo
  data (``flask forum seed-demo``); both migrate first, and keep what a previous run made;
- ``ports`` hands out ports from ``--port-base`` (N, N+1, …) or free ones the system picks;
- ``gunicorn`` starts the app with the project's gunicorn.conf.py, ``stop`` ends its process group.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# The database server named by the caller (None: SQLite files in the harness's data folder).
BASE_DATABASE_URL = os.environ.get("DATABASE_URL", "")
FLASK = [str(BIN / "flask"), "--app", "wsgi"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ports(base: int) -> Iterator[int]:
    """The ports to serve on: ``base``, ``base`` + 1, … (``--port-base``), or free ones the system picks."""
    offset = 0
    while True:
        if not base:
            yield free_port()
            continue
        port = base + offset
        offset += 1
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                raise SystemExit(f"port {port} is taken: choose another --port-base") from None
        yield port


def wait_for(port: int, path: str = "/", seconds: float = 60) -> None:
    """Until something answers ``path`` on ``port`` (any status)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", path)
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing answered on port {port}")


def gunicorn(app: str, port: int, env: dict, workers: int) -> subprocess.Popen:
    """gunicorn with the project's gunicorn.conf.py, no recycling of workers (see the module's docstring)."""
    return subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--config",
            str(ROOT / "gunicorn.conf.py"),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--max-requests",
            "0",
            "--log-level",
            "warning",
            app,
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def scale_tag(scale: float, seed: int) -> str:
    return f"s{str(scale).replace('.', '_')}_seed{seed}"


def database_for(tag: str, data: Path) -> str:
    """The database named ``tag``: a SQLite file in ``data``, or one on the server ``DATABASE_URL`` names."""
    base = BASE_DATABASE_URL
    if not base or base.startswith("sqlite"):
        data.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{data / f'bench-{tag}.db'}"
    parts = urlsplit(base)
    name = parts.path.lstrip("/") or "forum_desk"
    target = f"{name}_{tag}"
    from sqlalchemy import create_engine, text

    admin = create_engine(urlunsplit(parts._replace(path="/postgres")), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target}).first():
            conn.execute(text(f'CREATE DATABASE "{target}"'))
    admin.dispose()
    return urlunsplit(parts._replace(path=f"/{target}"))


def migrate(url: str, env: dict) -> bool:
    """Bring the database to the newest migration; True when it already held people (kept from a previous run)."""
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(url)
    with engine.connect() as conn:
        ready = bool(
            "user_account" in inspect(conn).get_table_names()
            and conn.execute(text("SELECT count(*) FROM user_account")).scalar_one()
        )
        if conn.dialect.name == "postgresql":
            # The deployment's planner setting (docs/operations.md: data in memory or on SSD), which
            # the app leaves to the database; with the server's default of 4 the follow-up query
            # hashed all 12,000 people to name 255 owners (15.7 ms instead of 8.5).
            name = conn.execute(text("SELECT current_database()")).scalar_one()
            conn.execute(text(f'ALTER DATABASE "{name}" SET random_page_cost = 1.1'))
            conn.commit()
    engine.dispose()
    # Always migrate: a database generated before a new migration gets its columns and indexes.
    subprocess.run(
        [*FLASK, "db", "upgrade"],
        cwd=ROOT,
        env={**env, "DATABASE_URL": url},
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if ready:
        # As after `flask forum generate` (database.refresh_statistics): statistics for indexes a migration
        # just added.
        engine = create_engine(url, isolation_level="AUTOCOMMIT")  # VACUUM runs outside a transaction
        with engine.connect() as conn:
            conn.execute(text("VACUUM (ANALYZE)" if engine.dialect.name == "postgresql" else "ANALYZE"))
        engine.dispose()
    return ready


def prepare(url: str, scale: float, seed: int, env: dict) -> None:
    """Migrate and generate once; a database that already holds the generated data is reused."""
    if migrate(url, env):
        return
    print(f"Generating scale {scale} (seed {seed}) into {url.split('@')[-1]} …", flush=True)
    subprocess.run(
        [*FLASK, "forum", "generate", "--scale", str(scale), "--seed", str(seed)],
        cwd=ROOT,
        env={**env, "DATABASE_URL": url, "FORUM_ENV": "development"},
        check=True,
    )


def prepare_demo(url: str, env: dict) -> None:
    """Migrate and load the demo data (``flask forum seed-demo``) once; a database that holds it is reused."""
    if migrate(url, env):
        return
    print(f"Loading the demo data into {url.split('@')[-1]} …", flush=True)
    subprocess.run(
        [*FLASK, "forum", "seed-demo"],
        cwd=ROOT,
        env={**env, "DATABASE_URL": url, "FORUM_ENV": "development"},
        check=True,
        stdout=subprocess.DEVNULL,
    )

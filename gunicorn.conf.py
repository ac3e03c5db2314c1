"""gunicorn settings for Forum Desk: ``gunicorn wsgi:app`` reads this file from the working directory.

Process tuning lives here and in docs/operations.md, never in the application. Flags given on the
command line win over these (the benchmark and the multi-node test pass their own ``--bind`` and
``--workers``). Environment variables: ``GUNICORN_BIND`` (default 127.0.0.1:8000, behind the proxy)
and ``WEB_CONCURRENCY`` (workers).

glibc's ``MALLOC_ARENA_MAX`` is read when a process starts, so setting it here (``raw_env``) would
come too late for the workers: set ``MALLOC_ARENA_MAX=2`` in the environment that starts gunicorn
(the systemd unit in docs/operations.md).
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers, one request at a time each: pages are short and CPU-bound (rendering), and a worker
# per core plus one keeps the CPUs busy while another waits on the database.
worker_class = "sync"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))
# Load the app once in the master and fork it: workers share its pages until they write them, start
# in milliseconds when recycled, and a broken deploy fails at start rather than in every worker.
# (A code change then needs a restart, not a HUP.)
preload_app = True
# Recycle each worker after about a thousand requests (the jitter keeps them from restarting
# together): whatever a long-lived Python process keeps growing (fragmented heap, caches in
# libraries) is handed back, without the application having to manage its own memory.
max_requests = 1000
max_requests_jitter = 100
# A page that takes longer than this is a bug or a lock; the worker is killed and replaced.
timeout = 30

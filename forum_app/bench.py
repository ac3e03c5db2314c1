"""Benchmark instrumentation, on only when ``FORUM_BENCH=1`` (``make bench`` sets it).

Counts the SQL statements each request runs and sends the count back in an
``X-Forum-Queries`` header, so the benchmark can print queries per page next to its
timings, and names the worker process that answered (``X-Forum-Worker``). Off by default:
production never pays for the event listener nor shows the headers.
"""

from __future__ import annotations

import os

from flask import Flask, g, has_app_context
from sqlalchemy import event

QUERY_HEADER = "X-Forum-Queries"
WORKER_HEADER = "X-Forum-Worker"  # which process answered: the benchmark warms every worker before timing


def enabled() -> bool:
    return os.environ.get("FORUM_BENCH") == "1"


def init_app(app: Flask) -> None:
    from .extensions import db

    def count(*_args, **_kwargs) -> None:
        if has_app_context():
            g.forum_bench_queries = g.get("forum_bench_queries", 0) + 1

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)

    @app.after_request
    def query_header(response):
        response.headers[QUERY_HEADER] = str(g.get("forum_bench_queries", 0))
        response.headers[WORKER_HEADER] = str(os.getpid())
        return response

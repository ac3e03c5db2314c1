"""Throttling of failed logins, per account and per address.

Counters must be seen by every worker process, so they live in the database (or in
Redis when ``REDIS_URL`` is set), never in a per-process dictionary.
"""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from ..extensions import db
from ..models import LoginFailure, utcnow


def _keys(email: str, address: str) -> list[tuple[str, str]]:
    return [
        (f"account:{email.strip().lower()}", "LOGIN_MAX_FAILURES_PER_ACCOUNT"),
        (f"address:{address}", "LOGIN_MAX_FAILURES_PER_ADDRESS"),
    ]


def _window() -> timedelta:
    return timedelta(minutes=current_app.config["LOGIN_THROTTLE_MINUTES"])


def _redis():
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    import redis

    clients = current_app.extensions.setdefault("forum_redis", {})
    if url not in clients:
        clients[url] = redis.Redis.from_url(url)
    return clients[url]


def is_throttled(email: str, address: str) -> bool:
    r = _redis()
    config = current_app.config
    for key, limit_name in _keys(email, address):
        if r is not None:
            count = int(r.get(f"forum-desk:login:{key}") or 0)
        else:
            count = db.session.execute(
                select(func.count()).select_from(LoginFailure)
                .where(LoginFailure.key == key, LoginFailure.at > utcnow() - _window())
            ).scalar_one()
        if count >= config[limit_name]:
            return True
    return False


def record_failure(email: str, address: str) -> None:
    r = _redis()
    for key, _limit in _keys(email, address):
        if r is not None:
            name = f"forum-desk:login:{key}"
            pipe = r.pipeline()
            pipe.incr(name)
            pipe.expire(name, int(_window().total_seconds()))
            pipe.execute()
        else:
            db.session.add(LoginFailure(key=key))
    if r is None:
        # Keep the table small: drop failures that no longer count.
        db.session.execute(delete(LoginFailure).where(LoginFailure.at < utcnow() - _window()))


def clear_account(email: str) -> None:
    """A successful login forgives the account's earlier failures (not the address's)."""
    key = f"account:{email.strip().lower()}"
    r = _redis()
    if r is not None:
        r.delete(f"forum-desk:login:{key}")
    else:
        db.session.execute(delete(LoginFailure).where(LoginFailure.key == key))

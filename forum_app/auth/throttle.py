"""Throttling of password guesses and of emails sent on request.

Each counter has a key (``login-account:<email>``, ``login-address:<ip>`` …) and a rule
saying how many attempts it allows before backing off. Past the limit every further
attempt must wait, and each failure doubles the wait (from LOGIN_BACKOFF_FIRST_MINUTES
up to LOGIN_BACKOFF_MAX_MINUTES); a quiet key is forgotten after
LOGIN_FAILURES_FORGOTTEN_HOURS.

An attempt is counted *before* the password is checked, in one atomic step with the
decision, and forgiven afterwards if it succeeds. Counting after the check would let
many concurrent guesses all pass the "still under the limit?" test before any of them
is recorded. Counters must be seen by every worker process, so they live in the
database (one row per key, changed under a row lock, or SQLite's write lock) or, when
``REDIS_URL`` is set, in Redis (one Lua script per step).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from ..models import ThrottleCounter

# What a counter does when its attempt succeeds: "reset" forgets its failures (the
# account after a correct password), "undo" takes back only this attempt (an address
# shared by many people keeps the others' failures), None keeps it (emails requested).
RULES: dict[str, tuple[str, str | None]] = {
    "login-account": ("LOGIN_MAX_FAILURES_PER_ACCOUNT", "reset"),
    "login-address": ("LOGIN_MAX_FAILURES_PER_ADDRESS", "undo"),
    # Attempts from a device or an address where the account signed in before.
    "login-known": ("LOGIN_MAX_FAILURES_PER_ACCOUNT", "reset"),
    # The current password asked for when changing it.
    "password-check": ("LOGIN_MAX_FAILURES_PER_ACCOUNT", "reset"),
    # Second-factor codes (at sign-in and re-authentication), per account.
    "second-factor": ("LOGIN_MAX_FAILURES_PER_ACCOUNT", "reset"),
    "reset-account": ("RESET_MAX_REQUESTS_PER_ACCOUNT", None),
    "reset-address": ("RESET_MAX_REQUESTS_PER_ADDRESS", None),
}


@dataclass
class Attempt:
    """The outcome of :func:`attempt`: allowed (and counted), or refused for ``wait``."""

    allowed: bool
    wait: timedelta = timedelta(0)
    counters: list[tuple[str, str]] = field(default_factory=list)
    # Allowed, but this attempt reached a limit: the counters now back off this long (a lockout
    # starts here, and is audited as one if the attempt fails).
    locks: timedelta = timedelta(0)
    locked_rules: tuple[str, ...] = ()

    @property
    def wait_minutes(self) -> int:
        return max(1, math.ceil(self.wait.total_seconds() / 60))


def key(rule: str, value: str) -> tuple[str, str]:
    if rule not in RULES:
        raise ValueError(f"unknown throttle rule {rule!r}")
    return rule, f"{rule}:{value.strip().lower()}"[:300]


def _limit(rule: str) -> int:
    return current_app.config[RULES[rule][0]]


def _settings() -> tuple[timedelta, timedelta, timedelta]:
    config = current_app.config
    return (
        timedelta(minutes=config["LOGIN_BACKOFF_FIRST_MINUTES"]),
        timedelta(minutes=config["LOGIN_BACKOFF_MAX_MINUTES"]),
        timedelta(hours=config["LOGIN_FAILURES_FORGOTTEN_HOURS"]),
    )


def backoff(failures: int, limit: int) -> timedelta:
    """How long to wait after ``failures`` counted attempts (none below the limit)."""
    first, longest, _forget = _settings()
    if failures < limit:
        return timedelta(0)
    return min(longest, first * 2 ** min(failures - limit, 30))


def _redis():
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    import redis

    clients = current_app.extensions.setdefault("forum_redis", {})
    if url not in clients:
        clients[url] = redis.Redis.from_url(url)
    return clients[url]


def attempt(counters: list[tuple[str, str]], now: datetime) -> Attempt:
    """Count one attempt under every counter, unless one of them is backing off.

    Atomic: the check and the count are one step, so of N concurrent attempts against
    a limit L exactly L are allowed. A refused attempt counts nowhere.
    """
    counters = sorted(set(counters), key=lambda c: c[1])  # one lock order: no deadlocks
    r = _redis()
    if r is not None:
        return _attempt_redis(r, counters, now)
    return _attempt_db(counters, now)


def succeeded(result: Attempt, now: datetime) -> None:
    """The attempt was good (right password): forgive it as each counter's rule says."""
    todo = [(rule, name, mode) for rule, name in result.counters if (mode := RULES[rule][1])]
    if not todo:
        return
    r = _redis()
    if r is not None:
        _forgive_redis(r, todo)
        return
    rows = _lock_rows([name for _rule, name, _mode in todo], now)
    for rule, name, mode in todo:
        row = rows[name]
        if mode == "reset":
            row.failures, row.blocked_until = 0, None
        else:
            row.failures = max(0, row.failures - 1)
            if row.failures < _limit(rule):
                row.blocked_until = None
    db.session.flush()


# --- database ------------------------------------------------------------------------------


def _lock_rows(names: list[str], now: datetime) -> dict[str, ThrottleCounter]:
    """The counter rows for ``names``, created if missing, locked until the transaction ends."""
    insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
    names = sorted(names)
    for _try in range(3):
        db.session.execute(
            insert(ThrottleCounter)
            .values([{"key": n, "failures": 0, "last_at": now} for n in names])
            .on_conflict_do_nothing(index_elements=["key"])
        )
        rows = (
            db.session.execute(
                select(ThrottleCounter)
                .where(ThrottleCounter.key.in_(names))
                .order_by(ThrottleCounter.key)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            .scalars()
            .all()
        )
        if len(rows) == len(names):
            return {row.key: row for row in rows}
        # A concurrent clean-up removed a stale row between the insert and the lock: again.
    raise RuntimeError("throttle counters could not be locked")


def _attempt_db(counters: list[tuple[str, str]], now: datetime) -> Attempt:
    _first, _longest, forget = _settings()
    rows = _lock_rows([name for _rule, name in counters], now)
    waits = [row.blocked_until - now for row in rows.values() if row.blocked_until and row.blocked_until > now]
    if waits:
        return Attempt(False, max(waits))
    locks, locked = timedelta(0), list[str]()
    for rule, name in counters:
        row = rows[name]
        if row.last_at < now - forget:
            row.failures = 0
        row.failures += 1
        row.last_at = now
        wait = backoff(row.failures, _limit(rule))
        row.blocked_until = now + wait if wait else None
        if wait:
            locks, locked = max(locks, wait), [*locked, rule]
    _forget_quiet_counters(now, keep=list(rows))
    db.session.flush()
    return Attempt(True, counters=counters, locks=locks, locked_rules=tuple(locked))


def _forget_quiet_counters(now: datetime, keep: list[str]) -> None:
    _first, longest, forget = _settings()
    stale = (
        select(ThrottleCounter.key)
        .where(ThrottleCounter.last_at < now - forget - longest, ThrottleCounter.key.not_in(keep))
        .limit(100)
    )
    if db.engine.dialect.name == "postgresql":
        stale = stale.with_for_update(skip_locked=True)  # never wait for someone else's counter
    db.session.execute(delete(ThrottleCounter).where(ThrottleCounter.key.in_(stale)))


# --- Redis ------------------------------------------------------------------------------------

REDIS_PREFIX = "forum-desk:throttle:"

# KEYS: the counters; ARGV: now, first wait, longest wait, forget after (seconds), then one limit per key.
_ATTEMPT_LUA = """
local now, first, longest, forget = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local wait = 0
local locks = 0
for i, key in ipairs(KEYS) do
  local blocked = tonumber(redis.call('HGET', key, 'blocked') or '0') or 0
  if blocked - now > wait then wait = blocked - now end
end
if wait > 0 then return {0, wait} end
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[4 + i])
  local h = redis.call('HMGET', key, 'failures', 'last')
  local failures, last = tonumber(h[1] or '0') or 0, tonumber(h[2] or '0') or 0
  if now - last > forget then failures = 0 end
  failures = failures + 1
  local blocked = 0
  if failures >= limit then
    blocked = now + math.floor(math.min(longest, first * 2 ^ math.min(failures - limit, 30)))
  end
  redis.call('HSET', key, 'failures', failures, 'last', now, 'blocked', blocked)
  redis.call('EXPIRE', key, forget + longest)
  if blocked - now > locks then locks = blocked - now end
end
return {1, locks}
"""

# KEYS: the counters; ARGV: per key its mode ("reset" or "undo") and its limit.
_FORGIVE_LUA = """
for i, key in ipairs(KEYS) do
  local mode, limit = ARGV[2 * i - 1], tonumber(ARGV[2 * i])
  if mode == 'reset' then
    redis.call('DEL', key)
  elseif redis.call('EXISTS', key) == 1 then
    local failures = tonumber(redis.call('HGET', key, 'failures') or '0') or 0
    if failures > 0 then failures = failures - 1 end
    redis.call('HSET', key, 'failures', failures)
    if failures < limit then redis.call('HSET', key, 'blocked', 0) end
  end
end
return 1
"""


def _script(r, name: str, source: str):
    scripts = current_app.extensions.setdefault("forum_redis_scripts", {})
    if (id(r), name) not in scripts:
        scripts[(id(r), name)] = r.register_script(source)
    return scripts[(id(r), name)]


def _attempt_redis(r, counters: list[tuple[str, str]], now: datetime) -> Attempt:
    first, longest, forget = _settings()
    allowed, wait = _script(r, "attempt", _ATTEMPT_LUA)(
        keys=[REDIS_PREFIX + name for _rule, name in counters],
        args=[
            int(now.timestamp()),
            int(first.total_seconds()),
            int(longest.total_seconds()),
            int(forget.total_seconds()),
        ]
        + [_limit(rule) for rule, _name in counters],
    )
    if not allowed:
        return Attempt(False, timedelta(seconds=int(wait)))
    # (Which counter reached its limit stays in Redis: the lockout is audited without it.)
    return Attempt(True, counters=counters, locks=timedelta(seconds=int(wait)))


def _forgive_redis(r, todo: list[tuple[str, str, str]]) -> None:
    args: list = []
    for rule, _name, mode in todo:
        args += [mode, _limit(rule)]
    _script(r, "forgive", _FORGIVE_LUA)(keys=[REDIS_PREFIX + name for _rule, name, _mode in todo], args=args)

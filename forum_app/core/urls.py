"""Redirect targets taken from the request."""

from __future__ import annotations

from urllib.parse import urlsplit

from werkzeug.routing import IntegerConverter

# The largest id any table can hold (PostgreSQL "integer"; SQLite's are wider).
MAX_ID = 2**31 - 1


class BoundedIntConverter(IntegerConverter):
    """``<int:…>`` limited to 0…MAX_ID, so an out-of-range id is a 404 and never reaches the database."""

    def __init__(
        self, map, fixed_digits: int = 0, min: int | None = 0, max: int | None = MAX_ID, signed: bool = False
    ) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def parse_id(raw: str | None) -> int | None:
    """An id from a query string, or None when it is missing, malformed or out of range."""
    if raw and raw.isascii() and raw.isdigit() and 0 < int(raw) <= MAX_ID:
        return int(raw)
    return None


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None.

    Refuses absolute URLs, protocol-relative ``//host``, the ``/\\host`` form browsers
    treat as ``//host``, and anything with control characters.
    """
    if not target or not isinstance(target, str) or len(target) > 2000:
        return None
    if any(ord(ch) < 32 or ch == "\x7f" for ch in target) or "\\" in target:
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def external_url(endpoint: str, **values) -> str:
    """An absolute URL under ``BASE_URL``, for emails and calendar files.

    Built from the configured base rather than the current request, so links are the
    same whether a web request, the CLI or the mail worker creates them.
    """
    from flask import current_app

    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)

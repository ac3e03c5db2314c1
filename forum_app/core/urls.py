"""Redirect targets taken from the request."""
from __future__ import annotations

from urllib.parse import urlsplit


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

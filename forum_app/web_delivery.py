"""Light on a phone network: compressed responses and long-cached, content-versioned static files.

- Responses (HTML, CSS, JS, JSON, SVG, calendars) are gzip-compressed in the app when the
  client accepts it, so it works without a proxy that compresses. Static files are
  compressed once per file version and kept in memory (a handful of files); pages are
  compressed per response (~20 KB at level 6 costs well under a millisecond). A compressed
  response has its own ETag ("…-gzip"), and a request sending it back gets 304 Not Modified.
- ``url_for('static', ...)`` adds ``?v=<content hash>``; a request carrying the hash of the
  file's current content is answered with a year-long immutable cache, so a repeat visit
  makes no request for CSS or JS at all, and a changed file gets a new URL.
"""

from __future__ import annotations

import gzip
import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Flask, request

COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml", "text/calendar")
MIN_SIZE = 512
YEAR = 365 * 24 * 3600


@lru_cache(maxsize=256)
def _file_version(path: str, mtime_ns: int, size: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def static_version(app: Flask, filename: str) -> str | None:
    path = Path(app.static_folder or "") / filename
    try:
        stat = path.stat()
    except OSError:
        return None
    return _file_version(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _gzip_static(version: str, filename: str, data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9, mtime=0)


def init_app(app: Flask) -> None:
    @app.url_defaults
    def version_static_urls(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            version = static_version(app, values["filename"])
            if version:
                values["v"] = version

    @app.after_request
    def cache_and_compress(response):
        is_static = request.endpoint == "static"
        if is_static and response.status_code in (200, 304):
            filename = (request.view_args or {}).get("filename", "")
            if request.args.get("v") and request.args.get("v") == static_version(app, filename):
                response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
        if (
            response.status_code not in (200, 304)
            or "Content-Encoding" in response.headers
            or "gzip" not in request.headers.get("Accept-Encoding", "")
            or not (response.mimetype or "").startswith(COMPRESSIBLE)
        ):
            return response
        response.vary.add("Accept-Encoding")  # a 304 names what its 200 would (RFC 9110, 15.4.5)
        if response.status_code == 304 or (response.is_streamed and not is_static):
            return response
        response.direct_passthrough = False
        data = response.get_data()
        if len(data) < MIN_SIZE:
            return response
        if response.headers.get("ETag"):
            # The compressed body is another representation, with its own ETag ("…-gzip"). The view
            # compared If-None-Match with the uncompressed body's ETag only, so a client sending back
            # the one it was given (every calendar app polling a feed, every browser) got the whole
            # body again each time: the comparison with the ETag it really holds is made here.
            etag, weak = response.get_etag()
            response.set_etag(f"{etag}-gzip", weak=weak)
            if request.method in ("GET", "HEAD") and request.if_none_match.contains_weak(f"{etag}-gzip"):
                response.status_code = 304  # Werkzeug sends no body and drops the body's headers
                return response
        if is_static:
            filename = (request.view_args or {}).get("filename", "")
            compressed = _gzip_static(static_version(app, filename) or "", filename, data)
        else:
            compressed = gzip.compress(data, compresslevel=6, mtime=0)
        response.set_data(compressed)
        response.headers["Content-Encoding"] = "gzip"
        return response

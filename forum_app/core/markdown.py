"""Markdown for agendas, minutes and forum descriptions: rendered once, within a budget, then sanitised.

This is the only place user text becomes HTML. Anything ``markdown`` lets through (raw
HTML included) is cleaned by nh3: no script, style, event attributes or javascript:
URLs survive, and links get ``rel="noopener noreferrer"``.

Python-Markdown is quadratic on some inputs (thousands of headings in one block, long
runs of "["): 50,000 characters of "# h" lines take seconds, 200,000 take minutes. So
text is rendered when it is saved (and for previews), never when a page is shown, and
every render runs in a renderer subprocess with a hard wall-clock budget
(``MARKDOWN_RENDER_SECONDS``) and a size cap (``MARKDOWN_MAX_CHARS``). A render that
overruns is killed (the subprocess is restarted for the next one) and the save is
refused with a message at the field. Pages read the stored HTML through ``stored_html``.

Known pathological shapes that are cheap to spot (runs of "[", nesting deep enough to
exhaust Python-Markdown's recursion) are not refused: they are stored as plain,
escaped text.
"""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import struct
import subprocess
import sys
import threading
import time
from html.parser import HTMLParser

import nh3
from flask import current_app, has_app_context
from flask_babel import gettext as _
from markupsafe import Markup, escape

from .dates import format_number
from .errors import ServiceError

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "ol": {"start"}, "td": {"align"}, "th": {"align"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
DEFAULT_RENDER_SECONDS = 2.0
DEFAULT_MAX_CHARS = 100_000
MAX_BRACKETS = 1_000  # far more links than any agenda or minutes have
# A line opening with this many list or quote markers ("- - - - …", "> > > …").
TOO_DEEP = re.compile(r"^[ \t]*(?:(?:[-*+>]|\d{1,9}[.)])[ \t]+){30,}", re.MULTILINE)
# Starting Python, importing markdown and its extensions and rendering once (warm-up); not part of
# the render budget, but bounded too.
STARTUP_SECONDS = 10.0
# The renderer's address-space cap: a render that would need more fails (refused) instead
# of pushing the host into swap.
RENDERER_MEMORY_BYTES = 1024 * 1024 * 1024
# The renderer stops itself after this long on one text, even if its parent died mid-render
# (the parent enforces the real budget).
RENDERER_ALARM_SECONDS = 60
EXTENSIONS = ("extra", "sane_lists")


class MarkdownTooComplex(ServiceError):
    """The text could not be formatted within the size or time budget; nothing was stored."""


def render_markdown(source: str | None, field: str | None = None) -> Markup:
    """Sanitised HTML for ``source``, rendered now within the budget (saving and previews only).

    Raises MarkdownTooComplex (a ServiceError at ``field``) when the text is too long or
    takes longer than the budget to format.
    """
    return stored_html(render_for_storage(source, field))


def render_for_storage(source: str | None, field: str | None = None) -> str:
    """The sanitised HTML to store next to ``source``; see ``render_markdown``."""
    if not source:
        return ""
    max_chars, seconds = _limits()
    if len(source) > max_chars:
        raise MarkdownTooComplex(
            _(
                "This text is too long to format: at most %(max)s characters, this has %(n)s. Split it.",
                max=format_number(max_chars),
                n=format_number(len(source)),
            ),
            field=field,
        )
    if source.count("[") > MAX_BRACKETS or TOO_DEEP.search(source):
        return plain_html(source)
    outcome, html = _renderer.render(source, seconds)
    if outcome == "plain":  # Python-Markdown ran out of recursion depth: show the text as written
        return plain_html(source)
    if outcome != "html":
        raise MarkdownTooComplex(
            _(
                "This text is too complex to format within %(n)s seconds; simplify it (e.g. fewer headings) "
                "or split it.",
                n=f"{seconds:g}",
            ),
            field=field,
        )
    return sanitise(html)


def render_or_plain(source: str | None) -> str:
    """Stored HTML for text saved before HTML was stored (migration 0004): plain text if refused."""
    try:
        return render_for_storage(source)
    except MarkdownTooComplex:
        return plain_html(source or "")


def stored_html(html: str | None) -> Markup:
    """Stored HTML, ready for a template.

    The one sanctioned ``Markup()`` on user text: everything stored in ``*_html`` columns
    was produced by ``render_for_storage``, i.e. cleaned by nh3 (or escaped) when it was saved.
    """
    return Markup(html or "")


def sanitise(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def plain_html(source: str) -> str:
    """The text as written, escaped, paragraphs and line breaks kept."""
    paragraphs = re.split(r"\n\s*\n", source.strip())
    return "".join(f"<p>{'<br>'.join(escape(line) for line in p.splitlines())}</p>" for p in paragraphs)


def _limits() -> tuple[int, float]:
    if has_app_context():
        config = current_app.config
        return (
            int(config.get("MARKDOWN_MAX_CHARS", DEFAULT_MAX_CHARS)),
            float(config.get("MARKDOWN_RENDER_SECONDS", DEFAULT_RENDER_SECONDS)),
        )
    return DEFAULT_MAX_CHARS, DEFAULT_RENDER_SECONDS


# --- the renderer subprocess ------------------------------------------------------------------------
#
# Protocol over the pipes: the renderer writes b"R" when ready (markdown and its extensions
# imported, one text rendered); each request is a 4-byte big-endian length and the UTF-8
# source; each answer is one status byte (H: html, P: too deep, use plain text, E: failed),
# a 4-byte length and the UTF-8 HTML.

_RENDERER_CODE = rf"""
import resource, signal, struct, sys
try:
    resource.setrlimit(resource.RLIMIT_AS, ({RENDERER_MEMORY_BYTES:d}, {RENDERER_MEMORY_BYTES:d}))
except (ValueError, OSError):
    pass
import markdown
EXTENSIONS = {EXTENSIONS!r}
# Warm up before saying ready: the first render imports the extensions (0.06 s on a quiet host,
# 0.5 s measured on a busy one), which must not be charged to the first text's budget.
markdown.markdown("*warm* up", extensions=EXTENSIONS, output_format="html")
inp, out = sys.stdin.buffer, sys.stdout.buffer

def read(n):
    data = b""
    while len(data) < n:
        chunk = inp.read(n - len(data))
        if not chunk:
            raise SystemExit(0)
        data += chunk
    return data

out.write(b"R")
out.flush()
while True:
    (size,) = struct.unpack(">I", read(4))
    source = read(size).decode("utf-8")
    signal.alarm({RENDERER_ALARM_SECONDS:d})
    try:
        html, status = markdown.markdown(source, extensions=EXTENSIONS, output_format="html"), b"H"
    except RecursionError:
        html, status = "", b"P"
    except Exception:
        html, status = "", b"E"
    signal.alarm(0)
    data = html.encode("utf-8")
    out.write(status + struct.pack(">I", len(data)) + data)
    out.flush()
"""

_STATUS = {b"H": "html", b"P": "plain", b"E": "failed"}


class _Overrun(Exception):
    """The renderer did not answer in time (or died): it is killed."""


class _RendererProcess:
    """One renderer subprocess; used by one thread at a time."""

    def __init__(self) -> None:
        self.pid_of_owner = os.getpid()
        # -I: ignore PYTHON* variables and the user's site-packages; the renderer needs only markdown.
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-c", _RENDERER_CODE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            bufsize=0,
        )
        # Both are pipes (stdin=PIPE, stdout=PIPE above): Popen's type leaves them optional.
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.stdin, self.stdout = self.proc.stdin, self.proc.stdout
        os.set_blocking(self.stdin.fileno(), False)
        os.set_blocking(self.stdout.fileno(), False)
        try:
            if self._exchange(b"", 1, time.monotonic() + STARTUP_SECONDS) != b"R":
                raise _Overrun
        except _Overrun:
            self.kill()
            raise

    def render(self, source: str, seconds: float) -> tuple[str, str]:
        deadline = time.monotonic() + seconds
        data = source.encode("utf-8")
        head = self._exchange(struct.pack(">I", len(data)) + data, 5, deadline)
        body = self._exchange(b"", struct.unpack(">I", head[1:])[0], deadline)
        return _STATUS.get(head[:1], "failed"), body.decode("utf-8")

    def _exchange(self, request: bytes, answer_size: int, deadline: float) -> bytes:
        """Write ``request`` and read ``answer_size`` bytes, both before ``deadline``."""
        stdin, stdout = self.stdin.fileno(), self.stdout.fileno()
        answer = bytearray()
        with selectors.DefaultSelector() as selector:
            if request:
                selector.register(stdin, selectors.EVENT_WRITE)
            if answer_size:
                selector.register(stdout, selectors.EVENT_READ)
            while len(answer) < answer_size or request:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise _Overrun
                for key, _events in selector.select(remaining):
                    if key.fd == stdin:
                        written = os.write(stdin, request[:65536])
                        request = request[written:]
                        if not request:
                            selector.unregister(stdin)
                    else:
                        chunk = os.read(stdout, max(answer_size - len(answer), 1))
                        if not chunk:  # the renderer died (e.g. out of memory)
                            raise _Overrun
                        answer += chunk
                        if len(answer) >= answer_size and not request:
                            break
        return bytes(answer)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for pipe in (self.stdin, self.stdout):
            with contextlib.suppress(OSError):
                pipe.close()


class _Renderer:
    """A long-lived renderer per web worker process, replaced when it overruns.

    A request that finds it busy (another thread is rendering) uses a one-off renderer
    instead of waiting, so one slow text never delays anyone else's save.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: _RendererProcess | None = None

    def render(self, source: str, seconds: float) -> tuple[str, str]:
        """("html" | "plain" | "failed" | "overrun", html)."""
        if self._lock.acquire(blocking=False):
            try:
                if self._process is None or self._process.pid_of_owner != os.getpid():
                    self._process = None  # never share a renderer inherited across a fork
                    self._process = _RendererProcess()
                return self._render_with(self._process, source, seconds, keep=True)
            except (_Overrun, OSError):  # OSError: no renderer could be started (e.g. out of processes)
                return "overrun", ""
            finally:
                self._lock.release()
        try:
            one_off = _RendererProcess()
        except (_Overrun, OSError):
            return "overrun", ""
        try:
            return self._render_with(one_off, source, seconds, keep=False)
        except _Overrun:
            return "overrun", ""

    def _render_with(self, process: _RendererProcess, source: str, seconds: float, keep: bool) -> tuple[str, str]:
        try:
            result = process.render(source, seconds)
        except _Overrun:
            process.kill()
            if keep:
                self._process = None  # the next render starts a fresh one
            raise
        if not keep:
            process.kill()
        return result


_renderer = _Renderer()


class _TextLines(HTMLParser):
    """The text of stored HTML as a reader sees it: one line per paragraph, heading or list item."""

    BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "tr", "blockquote", "pre", "br", "hr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]

    def handle_starttag(self, tag, attrs) -> None:
        if tag in self.BLOCKS:
            self.lines.append("")
        if tag == "li":
            self.lines[-1] = "• "
        elif tag in ("td", "th") and self.lines[-1]:
            self.lines[-1] += " | "

    def handle_endtag(self, tag) -> None:
        if tag in self.BLOCKS:
            self.lines.append("")

    def handle_data(self, data) -> None:
        self.lines[-1] += data


def text_lines(html: str) -> list[str]:
    """Stored (sanitised) HTML as lines of readable text, for comparing what readers saw."""
    parser = _TextLines()
    parser.feed(html or "")
    parser.close()
    lines = (" ".join(line.split()) for line in parser.lines)  # white space as a reader sees it
    return [line for line in lines if line and line != "•"]

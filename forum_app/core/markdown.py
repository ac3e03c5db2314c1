"""Markdown for agendas and minutes: rendered, then sanitised with an allow-list.

This is the only place user text becomes HTML. Anything ``markdown`` lets through (raw
HTML included) is cleaned by nh3: no script, style, event attributes or javascript:
URLs survive, and links get ``rel="noopener noreferrer"``.

Python-Markdown recurses once per nesting level and slows down quadratically on long
runs of "[": text built to exploit either is shown as plain (escaped) text instead of
taking a worker down, and each distinct text is rendered once per process.
"""
from __future__ import annotations

import re
from functools import lru_cache

import markdown as md
import nh3
from markupsafe import Markup, escape

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "i", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table", "tbody", "td", "th",
    "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "ol": {"start"}, "td": {"align"}, "th": {"align"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
MAX_SOURCE_LENGTH = 200_000
MAX_BRACKETS = 1_000  # far more links than any agenda or minutes have
# A line opening with this many list or quote markers ("- - - - …", "> > > …").
TOO_DEEP = re.compile(r"^[ \t]*(?:(?:[-*+>]|\d{1,9}[.)])[ \t]+){30,}", re.MULTILINE)


def render_markdown(source: str | None) -> Markup:
    """Safe HTML for ``source``; the result may be placed in a template as it is."""
    if not source:
        return Markup("")
    return Markup(_render(source[:MAX_SOURCE_LENGTH]))  # the one sanctioned Markup(): _render cleaned it


@lru_cache(maxsize=512)
def _render(source: str) -> str:
    if source.count("[") > MAX_BRACKETS or TOO_DEEP.search(source):
        return _plain(source)
    try:
        html = md.markdown(source, extensions=["extra", "sane_lists"], output_format="html")
    except RecursionError:
        return _plain(source)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def _plain(source: str) -> str:
    """The text as written, escaped, paragraphs and line breaks kept."""
    paragraphs = re.split(r"\n\s*\n", source.strip())
    return "".join(f"<p>{'<br>'.join(escape(line) for line in p.splitlines())}</p>" for p in paragraphs)

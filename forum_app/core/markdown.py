"""Markdown for agendas and minutes: rendered, then sanitised with an allow-list.

This is the only place user text becomes HTML. Anything ``markdown`` lets through (raw
HTML included) is cleaned by nh3: no script, style, event attributes or javascript:
URLs survive, and links get ``rel="noopener noreferrer"``.
"""
from __future__ import annotations

import markdown as md
import nh3
from markupsafe import Markup

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "i", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table", "tbody", "td", "th",
    "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "ol": {"start"}, "td": {"align"}, "th": {"align"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
MAX_SOURCE_LENGTH = 200_000


def render_markdown(source: str | None) -> Markup:
    """Safe HTML for ``source``; the result may be placed in a template as it is."""
    if not source:
        return Markup("")
    html = md.markdown(source[:MAX_SOURCE_LENGTH], extensions=["extra", "sane_lists"], output_format="html")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    return Markup(clean)  # the one sanctioned Markup(): nh3 has just cleaned it

"""The Atom 1.0 feed of published news items (RFC 4287), written with the standard library's ElementTree,
which escapes every text and attribute: an item's HTML goes into ``<content type="html">`` as escaped text."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from markupsafe import escape

from ..models import NewsItem

ATOM = "http://www.w3.org/2005/Atom"
ET.register_namespace("", ATOM)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    if text is not None:
        element.text = text
    return element


def feed(
    *,
    title: str,
    feed_url: str,
    page_url: str,
    items: Sequence[NewsItem],
    item_url,
    footers: dict[int, list[str]],
    author: str,
    empty_updated: datetime,
) -> bytes:
    """The feed document. ``item_url(item)`` gives each entry's page (also its stable id)."""
    root = ET.Element(f"{{{ATOM}}}feed")
    _el(root, "id", feed_url)
    _el(root, "title", title)
    updated = max((item.published_at or item.updated_at for item in items), default=empty_updated)
    _el(root, "updated", _stamp(updated))
    author_el = _el(root, "author")
    _el(author_el, "name", author)
    _el(root, "link", rel="self", type="application/atom+xml", href=feed_url)
    _el(root, "link", rel="alternate", type="text/html", href=page_url)
    for item in items:
        entry = _el(root, "entry")
        url = item_url(item)
        _el(entry, "id", url)
        _el(entry, "title", item.title)
        published = item.published_at or item.updated_at
        _el(entry, "published", _stamp(published))
        _el(entry, "updated", _stamp(max(published, item.updated_at)))
        _el(entry, "link", rel="alternate", type="text/html", href=url, hreflang=item.language)
        footer = "".join(f"<p>{escape(line)}</p>" for line in footers.get(item.id, []))
        content = _el(entry, "content", item.body_html + footer, type="html")
        content.set("{http://www.w3.org/XML/1998/namespace}lang", item.language)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)

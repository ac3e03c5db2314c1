"""Markdown for agendas and minutes: rendered, then sanitised (nh3)."""

from __future__ import annotations

import pytest

from forum_app.core.markdown import render_markdown

# (source, what must not survive); test_markdown_budget.py sends these through the stored path too.
XSS_VECTORS = [
    ("<script>alert(1)</script>", "<script"),
    ("<style>body{display:none}</style>", "<style"),
    ('<img src="x" onerror="alert(1)">', "onerror"),
    ('<a href="https://example.org" onclick="steal()">x</a>', "onclick"),
    ("[click](javascript:alert(1))", "javascript:"),
    ('<a href="JaVaScRiPt:alert(1)">x</a>', "alert(1)"),
    ('<iframe src="https://evil.example"></iframe>', "<iframe"),
    ('<p style="position:fixed">x</p>', "style="),
    ("<svg><script>alert(1)</script></svg>", "<svg"),
    ("<form action=/logout><button>x</button></form>", "<form"),
]


@pytest.mark.parametrize("source, forbidden", XSS_VECTORS)
def test_nothing_active_survives(source, forbidden):
    html = str(render_markdown(source))
    assert forbidden.lower() not in html.lower()


def test_markdown_structure_survives():
    html = str(
        render_markdown("## Agreed\n\n1. **Contact point** per agency\n2. Protocol\n\n| a | b |\n|---|---|\n| 1 | 2 |")
    )
    assert "<h2>Agreed</h2>" in html and "<strong>Contact point</strong>" in html
    assert "<ol>" in html and "<table>" in html


def test_links_get_rel_noopener_noreferrer():
    html = str(render_markdown("[minutes](https://example.org/m) <https://example.org/raw>"))
    assert html.count('rel="noopener noreferrer"') == 2
    assert 'href="https://example.org/m"' in html


def test_empty_input():
    assert str(render_markdown("")) == "" and str(render_markdown(None)) == ""


@pytest.mark.parametrize(
    "source",
    [
        "- " * 500 + "x",  # nesting that makes Python-Markdown recurse too deep
        "> " * 2000 + "x",
        "[" * 50_000,  # quadratic in Python-Markdown's link parsing
        "![" * 20_000,
    ],
)
def test_hostile_markdown_is_shown_as_text_not_a_crash(source):
    html = str(render_markdown(source))
    assert html.startswith("<p>") and "<script" not in html
    assert source[:20].replace(">", "&gt;") in html


def test_plain_fallback_still_escapes():
    html = str(render_markdown("- " * 40 + "<script>alert(1)</script>"))
    assert "<script>" not in html and "&lt;script&gt;" in html

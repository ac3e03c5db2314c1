"""The yardstick for make bench: a bare Flask + Jinja app answering with the same bytes.

``/<n>`` renders page n as captured from Forum Desk (``BENCH_PAGES``/<n>.html) through a
Jinja template, line by line, so it pays for routing, a template render of the same
size and the response, and nothing else: no database, no session, no permissions.
"""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, render_template_string
from markupsafe import Markup

TEMPLATE = "{% for line in lines %}{{ line }}{% endfor %}"

app = Flask(__name__)
PAGES = {int(p.stem): [Markup(line) for line in p.read_text().splitlines(keepends=True)]
         for p in Path(os.environ.get("BENCH_PAGES", ".")).glob("*.html")}


@app.get("/<int:n>")
def page(n: int):
    return render_template_string(TEMPLATE, lines=PAGES[n])

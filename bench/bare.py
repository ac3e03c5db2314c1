"""The yardstick for make bench: a bare Flask + Jinja app answering with the same bytes.

``/<n>`` renders page n as captured from Forum Desk (``BENCH_PAGES``/<n>.html) through a
Jinja template file (bench/templates/page.html), line by line, so it pays for routing, a
render of the same size by a compiled template and the response, and nothing else: no
database, no session, no permissions. (``render_template_string`` would compile the
template again on every request and make every page look faster beside it than it is.)
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, render_template
from markupsafe import Markup

app = Flask(__name__)  # templates from bench/templates
PAGES = {
    int(p.stem): [Markup(line) for line in p.read_text().splitlines(keepends=True)]
    for p in Path(os.environ.get("BENCH_PAGES", ".")).glob("*.html")
}


@app.get("/<int:n>")
def page(n: int):
    return render_template("page.html", lines=PAGES[n])

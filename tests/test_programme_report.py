"""The programme report (one document for a selection) and the meeting's sign-in sheet, on the demo's
three forums: the server's PDF (WeasyPrint) read back with pypdf, its cover against the dashboard's
tiles, who may have it, how many queries it costs, that rendering it reaches no network, and that
the printable pages still work where WeasyPrint cannot be used.
"""

from __future__ import annotations

import html
import io
import os
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import select

from forum_app.demo import DEMO_PASSWORD
from forum_app.extensions import db
from forum_app.models import Forum, Grant, Meeting, Programme

from .conftest import sign_in
from .factories import Factory

STAFF = "staff@forum-desk.example"
SA_ORGANISER = "organiser.sarajevo@forum-desk.example"
SK_ORGANISER = "organiser.skopje@forum-desk.example"
SA_PRISON = "amra.hodzic@forum-desk.example"  # a participant of the Sarajevo forum
FORUMS = (
    "Sarajevo local coordination forum",
    "Bijelo Polje local coordination forum",
    "Skopje local coordination forum",
)
DISCLAIMER_START = "This document has been produced with the financial support of the European Union"
TILE_RE = re.compile(
    r'data-tile="(?P<key>\w+)".*?(?:tile-title|report-tile-title)[^>]*>(?:<a[^>]*>)?(?P<title>[^<]+)<.*?'
    r'(?:tile-value|report-tile-value)[^"]*" data-value="(?P<value>[^"]*)">(?P<shown>[^<]+)<',
    re.S,
)


def _pdf(response) -> PdfReader:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    return PdfReader(io.BytesIO(response.data))


def _texts(reader: PdfReader) -> list[str]:
    # Lines as laid out, joined with single spaces: a title broken over two lines still reads whole.
    return [" ".join((page.extract_text() or "").split()) for page in reader.pages]


def _tiles(page_html: str) -> dict[str, tuple[str, str, str]]:
    """key → (title, value, shown) of the headline tiles of a dashboard or report page."""
    return {
        m["key"]: (html.unescape(m["title"]).strip(), m["value"], html.unescape(m["shown"]).strip())
        for m in TILE_RE.finditer(page_html)
    }


def _id(app: Flask, model, **where) -> int:
    with app.app_context():
        stmt = select(model.id).filter_by(**where)
        if model is Meeting:
            stmt = stmt.order_by(Meeting.starts_at)
        return db.session.execute(stmt).scalars().first()


# --- the report --------------------------------------------------------------------------------------


def test_the_server_pdf_has_a_cover_contents_a_page_per_forum_numbers_and_the_disclaimer(app, client, demo):
    sign_in(client, STAFF, DEMO_PASSWORD)
    texts = _texts(_pdf(client.get("/reports/programme.pdf")))

    assert len(texts) == 5, texts  # cover, contents, three forums (each fits its page)
    cover, contents, *forum_pages = texts
    assert "PROGRESS REPORT" in cover.upper() and "Horizontal Facility for the Western Balkans" in cover
    assert DISCLAIMER_START in cover
    assert "Contents" in contents and all(title in contents for title in FORUMS)
    # The contents give each forum's page (WeasyPrint's target-counter): "… forum · 3".
    for number, title in enumerate(FORUMS, 3):
        assert f"{title} · {number}" in contents, contents
    # A forum per page, in the contents' order, each page starting with its forum's title.
    for title, text in zip(FORUMS, forum_pages, strict=True):
        assert text.startswith(title), text[:200]
        assert [t for t in FORUMS if t in text] == [title]
    # Page numbers on every page ("Page 3 / 5", from the CSS @page counters).
    for number, text in enumerate(texts, 1):
        assert f"Page {number} / 5" in text, text[-200:]


def test_the_cover_shows_the_dashboard_tiles_figures_for_the_same_selection(app, client, demo):
    sign_in(client, STAFF, DEMO_PASSWORD)
    sarajevo_grant = _id(app, Grant, reference="HF-RAD-BA-01")
    for query in ("", f"?grant={sarajevo_grant}", "?country=MK", "?from=2021-01-01&to=2021-12-31"):
        dashboard = _tiles(client.get("/reports" + query).get_data(as_text=True))
        report_page = client.get("/reports/programme" + query).get_data(as_text=True)
        assert len(dashboard) == 5 and _tiles(report_page) == dashboard, query
        cover = _texts(_pdf(client.get("/reports/programme.pdf" + query)))[0]
        for title, _value, shown in dashboard.values():
            assert f"{title} {shown}" in cover, (query, title, shown, cover)
    # The selection is in the figures: 2021's report counts the demo's three first meetings as held.
    held_2021 = _tiles(client.get("/reports/programme?from=2021-01-01&to=2021-12-31").get_data(as_text=True))["held"]
    assert int(held_2021[1]) >= 3


def test_dates_never_wrap_and_print_prints_everything(app, client, demo):
    sign_in(client, STAFF, DEMO_PASSWORD)
    page = client.get("/reports/programme?from=2021-01-01&to=2021-12-31").get_data(as_text=True)
    # Every forum of the selection is on the one page (no pager): the browser's Print prints them all.
    assert len(re.findall(r'<article class="progress-forum report-forum"', page)) == 3
    assert "pagination" not in page
    # The selection is chosen on the page itself, the programme included.
    assert 'name="programme"' in page and 'name="grant"' in page and 'name="country"' in page
    due_cells = re.findall(r'<tr class="progress-action">(?:<td>.*?</td>){2}<td>(.*?)</td>', page)
    assert due_cells and all('class="report-date"' in cell for cell in due_cells)
    css = Path(app.static_folder, "css", "app.css").read_text()
    printed = css[css.index("@media print") :]
    assert ".report-date { white-space: nowrap; }" in printed[: printed.index("\n}")]
    assert "break-before: page" in Path(app.static_folder, "css", "print-report.css").read_text()


def test_an_organiser_reports_on_their_own_grant_only(app, client, demo):
    sarajevo_grant = _id(app, Grant, reference="HF-RAD-BA-01")
    sarajevo_forum = _id(app, Forum, city="Sarajevo")
    sign_in(client, SK_ORGANISER, DEMO_PASSWORD)
    # Another grant's grant or forum: refused, not answered with an empty report that looks like inactivity.
    for path in (f"?grant={sarajevo_grant}", f"?forum={sarajevo_forum}", f".pdf?grant={sarajevo_grant}"):
        assert client.get("/reports/programme" + path).status_code == 403, path
    assert client.get("/reports/programme?programme=999999").status_code == 403
    programme = _id(app, Programme, name="Horizontal Facility for the Western Balkans and Turkey 2019–2022")
    mine = client.get(f"/reports/programme?programme={programme}").get_data(as_text=True)
    assert re.findall(r'<h2 class="h4 progress-forum-title">([^<]+)<', mine) == ["Skopje local coordination forum "]
    own = _texts(_pdf(client.get("/reports/programme.pdf")))

    assert len(own) == 3 and "Skopje local coordination forum" in own[2]
    assert not any("Sarajevo local coordination forum" in text for text in own)
    # A participant has no reports at all.
    participant = app.test_client()
    sign_in(participant, SA_PRISON, DEMO_PASSWORD)
    assert participant.get("/reports/programme").status_code == 403
    assert participant.get("/reports/programme.pdf").status_code == 403


def test_the_report_costs_the_same_queries_with_ten_times_the_forums(app: Flask, make: Factory, count_queries):
    from .test_query_counts import populate, setup_world

    world = setup_world(app, make)
    populate(app, world, scale=1)
    client = app.test_client()
    sign_in(client, world["admin"])
    path = "/reports/programme?from=2000-01-01"

    def measure() -> tuple[int, int]:
        assert client.get(path).status_code == 200
        with count_queries() as statements:
            response = client.get(path)
        assert response.status_code == 200
        return len(statements), len(re.findall(r'<article class="progress-forum', response.get_data(as_text=True)))

    small = measure()
    populate(app, world, scale=10)
    large = measure()
    print("\nprogramme report (queries, forums):", small, "→", large)
    assert large[1] >= 4 * small[1] > 0
    assert large[0] == small[0] < 30


# --- rendering without the network, and without WeasyPrint ---------------------------------------------


class _Counting(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 - the standard library's name
        _Counting.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"body { color: red }")

    def log_message(self, *args):
        pass


def test_rendering_reads_only_the_apps_static_files(app):
    from forum_app.core.pdf import BASE_URL, render_pdf, static_only_fetcher

    server = HTTPServer(("127.0.0.1", 0), _Counting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    outside = f"http://127.0.0.1:{server.server_port}"
    _Counting.hits.clear()
    try:
        page = (
            '<html><head><link rel="stylesheet" href="/static/css/print-report.css">'
            f'<link rel="stylesheet" href="{outside}/evil.css"></head><body><p>Hello</p>'
            f'<img src="{outside}/tracker.png"><img src="file:///etc/passwd">'
            '<img src="/static/../forum_app/config.py"></body></html>'
        )
        refused: list[str] = []
        with app.test_request_context():
            pdf = render_pdf(page, refused)
            served = static_only_fetcher()(BASE_URL + "static/css/print-report.css")
        assert PdfReader(io.BytesIO(pdf)).pages[0].extract_text().startswith("Hello")
        assert _Counting.hits == []  # nothing reached the outside server
        assert f"{outside}/evil.css" in refused and f"{outside}/tracker.png" in refused
        assert "file:///etc/passwd" in refused
        assert not any("print-report.css" in url for url in refused)  # the app's own stylesheet was served
        assert b"@page" in served.read()
    finally:
        server.shutdown()


def test_without_pdf_rendering_the_button_says_how_and_the_printable_pages_work(app, client, demo, monkeypatch):
    monkeypatch.setitem(app.config, "PDF_RENDERING", False)
    sign_in(client, STAFF, DEMO_PASSWORD)
    meeting = _id(app, Meeting, title="First meeting of the Sarajevo local coordination forum")
    for page_path, pdf_path in (
        ("/reports/programme", "/reports/programme.pdf"),
        (f"/meetings/{meeting}/sign-in", f"/meetings/{meeting}/sign-in.pdf"),
    ):
        page = client.get(page_path)
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert 'id="download-pdf" type="button" disabled' in text and "PDF_RENDERING" in text
        assert "data-print" in text
        refused = client.get(pdf_path)
        assert refused.status_code == 302 and refused.headers["Location"].startswith(page_path)


def test_without_weasyprint_installed_the_app_runs_and_says_how_to_get_it(tmp_path):
    """In a fresh interpreter where ``import weasyprint`` fails (as on a host without it): the app starts,
    the report's template is rendered with the explanation, and asking for a PDF is refused cleanly."""
    script = r"""
import sys
sys.modules["weasyprint"] = None  # ``import weasyprint`` raises ImportError from here on
from forum_app import create_app
from forum_app.core.pdf import PdfUnavailable, pdf_status, render_pdf
app = create_app({"FORUM_ENV": "testing", "SECRET_KEY": "x" * 40, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
with app.test_request_context():
    status = pdf_status()
    assert not status.available and "Pango" in status.how_to_enable, status
    try:
        render_pdf("<p>x</p>")
    except PdfUnavailable:
        print("refused")
    assert "weasyprint" not in [m for m in sys.modules if sys.modules[m] is not None]
"""
    env = {**os.environ, "FORUM_INSTANCE_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("refused")


# --- the sign-in sheet ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("city", "words", "invitees"),
    [
        ("Sarajevo", ("Ime", "Organizacija", "Bosna i Hercegovina", "30. jun 2021.", "Ovaj dokument je izrađen"), 6),
        ("Skopje", ("Име", "Организација", "Северна Македонија", "јул", "Овој документ е изработен"), 6),
    ],
)
def test_the_sign_in_sheet_speaks_the_forums_language(app, client, demo, city, words, invitees):
    meeting = _id(app, Meeting, title=f"First meeting of the {city} local coordination forum")
    sign_in(client, STAFF, DEMO_PASSWORD)  # staff read English pages; the sheet is for the room
    assert '<html lang="en">' in client.get("/reports").get_data(as_text=True)
    page = client.get(f"/meetings/{meeting}/sign-in").get_data(as_text=True)
    assert len(re.findall(r'<tr class="sign-in-invitee">', page)) == invitees
    assert len(re.findall(r'<tr class="sign-in-blank">', page)) == 8
    reader = _pdf(client.get(f"/meetings/{meeting}/sign-in.pdf"))
    text = " ".join(_texts(reader))
    for word in words:
        assert word in text, (word, text[:600])
    assert "HORIZONTAL FACILITY FOR THE WESTERN BALKANS" in text.upper()  # the programme's line (in capitals)
    assert "Organisation" not in text and DISCLAIMER_START not in text  # nothing left in English
    # The invitees numbered, then the blank rows' numbers up to the last.
    assert f" {invitees + 8} " in f" {text} " and f" {invitees + 9} " not in f" {text} "


def test_the_sign_in_sheet_is_for_organisers_and_staff(app, demo):
    sarajevo = _id(app, Meeting, title="First meeting of the Sarajevo local coordination forum")
    expected = {STAFF: 200, SA_ORGANISER: 200, SA_PRISON: 403, SK_ORGANISER: 404}
    got = {}
    for email in expected:
        client = app.test_client()
        sign_in(client, email, DEMO_PASSWORD)
        got[email] = client.get(f"/meetings/{sarajevo}/sign-in").status_code
        assert client.get(f"/meetings/{sarajevo}/sign-in.pdf").status_code == expected[email]
        meeting_page = client.get(f"/meetings/{sarajevo}").get_data(as_text=True)
        assert ('id="sign-in-sheet-link"' in meeting_page) == (expected[email] == 200)
    assert got == expected


def test_a_forum_page_lists_the_actions_due_first_and_counts_the_rest(app, client, demo, monkeypatch):
    from forum_app.reports import programme_report

    sign_in(client, STAFF, DEMO_PASSWORD)
    everything = client.get("/reports/programme?from=2021-01-01").get_data(as_text=True)
    monkeypatch.setattr(programme_report, "ACTIONS_PER_FORUM", 1)
    limited = client.get("/reports/programme?from=2021-01-01").get_data(as_text=True)

    def per_forum(page: str) -> list[list[str]]:
        return [
            re.findall(r'<tr class="progress-action"><td>([^<]*)</td>', article)
            for article in re.findall(r'<article class="progress-forum.*?</article>', page, re.S)
        ]

    full, few = per_forum(everything), per_forum(limited)
    assert len(full) == len(few) == 3 and all(len(actions) > 1 for actions in full)
    # The first listed is kept (the earliest due), and the others are counted instead.
    assert few == [actions[:1] for actions in full]
    counted = [int(n) for n in re.findall(r"And (\d+) more actions?, not listed here", limited)]
    assert counted == [len(actions) - 1 for actions in full]
    assert "not listed here" not in everything


# --- what keeps the server's PDFs fast (docs/operations.md, PDF) ----------------------------------------

# The selectors the PDFs' stylesheets may hold together (pdf.css and the print-report.css it imports;
# Bootstrap has thousands). WeasyPrint matches each against each element, and a forum's page has hundreds.
PDF_SELECTORS_AT_MOST = 100


def _selectors(app: Flask, name: str) -> int:
    """The selectors of static/css/``name`` and of the stylesheets it imports."""
    import tinycss2

    rules = tinycss2.parse_stylesheet(Path(app.static_folder, "css", name).read_text(), skip_whitespace=True)
    count = 0
    for rule in rules:
        if rule.type == "at-rule" and rule.lower_at_keyword == "import":
            imported = next(t for t in rule.prelude if t.type in ("url", "string", "function"))
            target = imported.value if imported.type != "function" else imported.arguments[0].value
            count += _selectors(app, target)
        elif rule.type == "at-rule" and rule.content is not None and rule.lower_at_keyword == "media":
            inner = tinycss2.parse_rule_list(rule.content, skip_whitespace=True, skip_comments=True)
            count += sum(tinycss2.serialize(r.prelude).count(",") + 1 for r in inner if r.type == "qualified-rule")
        elif rule.type == "qualified-rule":
            count += tinycss2.serialize(rule.prelude).count(",") + 1
    return count


def test_the_pdfs_are_made_from_a_lean_page_without_bootstrap_or_flex_layout(app, client, demo):
    """What made the report take minutes: the PDF rendered from base.html, with all of Bootstrap's CSS
    and app.css's flex body (WeasyPrint then measures the whole document's text for every page). The
    PDFs' pages link one small stylesheet, and nothing in them is laid out as flex or grid."""
    import weasyprint
    from flask import template_rendered

    from forum_app.core.pdf import BASE_URL, static_only_fetcher

    sign_in(client, STAFF, DEMO_PASSWORD)
    meeting = _id(app, Meeting, title="First meeting of the Sarajevo local coordination forum")
    pages: dict[str, str] = {}

    def rendered(sender, template, context, **extra):  # the page the view handed to WeasyPrint, again
        pages[template.name] = template.render(context)

    with template_rendered.connected_to(rendered, app):
        assert client.get("/reports/programme.pdf").status_code == 200
        assert client.get(f"/meetings/{meeting}/sign-in.pdf").status_code == 200
        assert client.get("/reports/programme").status_code == 200  # the printable page keeps its layout
    assert set(pages) == {"reports/programme_pdf.html", "meetings/sign_in_pdf.html", "reports/programme.html"}
    assert "bootstrap" in pages["reports/programme.html"]
    for name in ("reports/programme_pdf.html", "meetings/sign_in_pdf.html"):
        page = pages[name]
        assert re.findall(r'<link rel="stylesheet" href="([^"?]+)', page) == ["/static/css/pdf.css"], name
        assert "bootstrap" not in page and "app.css" not in page and "<script" not in page
        with app.test_request_context():
            document = weasyprint.HTML(string=page, base_url=BASE_URL, url_fetcher=static_only_fetcher()).render()
        kinds = set()
        for printed in document.pages:
            kinds.update(type(box).__name__ for box in printed._page_box.descendants())
        assert not {kind for kind in kinds if "Flex" in kind or "Grid" in kind}, (name, kinds)
        assert "TableBox" in kinds  # the walk saw the page's content
    assert _selectors(app, "pdf.css") <= PDF_SELECTORS_AT_MOST
    assert _selectors(app, "print-report.css") < _selectors(app, "pdf.css")  # the import was followed


def test_a_long_sign_in_sheet_goes_on_over_pages_with_every_row(app, client, demo, make: Factory):
    """A sheet longer than a page: every invitee and blank row is printed, the disclaimer at its end. (The
    PDF made from base.html stopped at the first page's end: WeasyPrint did not carry its flex body over.)"""
    meeting = _id(app, Meeting, title="First meeting of the Sarajevo local coordination forum")
    forum = _id(app, Forum, city="Sarajevo")
    for n in range(30):
        email = make.user(name=f"Extra invitee {n:02d}")
        make.add_member(forum, email)
        make.invite(meeting, email)
    sign_in(client, STAFF, DEMO_PASSWORD)
    texts = _texts(_pdf(client.get(f"/meetings/{meeting}/sign-in.pdf")))
    text = " ".join(texts)
    rows = 6 + 30 + 8
    assert len(texts) >= 2
    assert all(f"Extra invitee {n:02d}" in text for n in range(30)), text
    assert f" {rows} " in f" {text} " and f" {rows + 1} " not in f" {text} "
    assert "Ovaj dokument je izrađen" in texts[-1]
    for number, page in enumerate(texts, 1):
        assert f"{number} / {len(texts)}" in page, page[-200:]

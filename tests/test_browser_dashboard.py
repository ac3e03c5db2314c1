"""The programme dashboard in a real Chromium, as staff look at it: the answers on the first screen at
1280 px, nothing sideways at 1280 or 360 px, axe-core finding nothing critical or serious, every label
at least 12 px, and the printed page (Chromium's PDF, A4 landscape) holding every column of every table.

The demo data (three forums, meetings and actions around today); the app's strict CSP in force, so
a chart that needed inline style or script would show up as a console error here.
"""

from __future__ import annotations

import io
import re
import unicodedata

import pytest

from .browser import sign_in
from .test_accessibility import DESKTOP, PHONE, Findings, audit, check_width

pytestmark = [pytest.mark.browser, pytest.mark.slow]

STAFF = "staff@forum-desk.example"
FIRST_SCREEN = ("#tiles", "#coverage-matrix", "#chart-stuck svg")

# Every piece of text the dashboard shows, with its size as drawn: CSS px times the SVG's scale for chart text.
TEXT_SIZES = """() => {
    const shown = (el) => el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden'
        && !el.closest('.visually-hidden, [aria-hidden="true"], details:not([open]) > :not(summary)');
    const own = (el) => [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    const sizes = [];
    for (const el of document.querySelectorAll('.dashboard *')) {
        if (!own(el) || !shown(el)) continue;
        let px = parseFloat(getComputedStyle(el).fontSize);
        const svgText = el.closest('svg');
        if (svgText) { const m = el.getScreenCTM(); px *= Math.hypot(m.a, m.b); }
        sizes.push([el.textContent.trim().slice(0, 40), Math.round(px * 10) / 10, !!svgText]);
    }
    return sizes;
}"""


def _console(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def _small_text(page) -> tuple[list, int]:
    sizes = page.evaluate(TEXT_SIZES)
    return [s for s in sizes if s[1] < 12], sum(1 for s in sizes if s[2])


def test_the_dashboard_answers_first_on_a_desktop_and_fits_a_phone(demo, live_server, browser):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    errors = _console(page)
    findings = Findings()
    try:
        sign_in(page, live_server, STAFF)
        assert page.goto(live_server + "/reports").ok
        # The tiles whole, and the heatmap and the bars begun, on the first screen (no scrolling).
        boxes = page.evaluate(
            """(selectors) => selectors.map(s => {
                const r = document.querySelector(s).getBoundingClientRect();
                return [s, r.top, r.bottom, r.left, r.right];
            })""",
            list(FIRST_SCREEN),
        )
        height, width = DESKTOP["height"], DESKTOP["width"]
        for selector, top, _bottom, left, right in boxes:
            assert top >= 0 and top + 150 <= height, f"{selector} starts at {top} px: below the first screen"
            assert left >= 0 and right <= width, f"{selector} is cut at the side"
        assert boxes[0][2] <= height, "the tiles are cut at the bottom of the first screen"
        assert page.locator("#tiles > li").count() == 5
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        small, drawn = _small_text(page)
        assert drawn > 20 and not small, small  # the charts' text counted, none under 12 px
        audit(page, "dashboard", "desktop", findings)
        # The figures table of a chart is one click away.
        page.locator("#chart-stuck summary").click()
        assert page.locator("#chart-stuck table").is_visible()
        # The same at phone width, and each group of columns.
        page.set_viewport_size(PHONE)
        for columns in ("activity", "attendance", "actions"):
            assert page.goto(f"{live_server}/reports?columns={columns}").ok
            check_width(page, f"dashboard ({columns})", findings)
        small, drawn = _small_text(page)
        assert drawn > 20 and not small, small
        audit(page, "dashboard", "phone", findings)
    finally:
        context.close()
    for note in findings.notes:
        print("axe (minor/moderate):", note)
    assert not findings.problems, "\n".join(findings.problems)
    assert not errors, f"browser console errors (a CSP violation shows here): {errors}"


def _words(text: str) -> str:
    """Text as compared: ligatures the PDF's font set ("ﬁ") as letters, any run of spaces as one."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()


def test_the_printed_dashboard_holds_every_column_of_every_table(demo, live_server, browser):
    """Printed with only the meetings' columns on screen: the PDF is A4 landscape and holds every column's
    head and every row's last cell of each table, and laid out for paper no cell passes the page's edge."""
    from pypdf import PdfReader

    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    errors = _console(page)
    try:
        sign_in(page, live_server, STAFF)
        assert page.goto(live_server + "/reports?columns=activity").ok
        tables = page.evaluate(
            """() => [...document.querySelectorAll('table.figure-table, table.heatmap')].map(t => [
                t.id,
                [...t.querySelectorAll('thead th')].map(th => th.textContent.trim()),
                [...t.querySelectorAll('tbody tr')].map(tr => tr.lastElementChild.textContent.trim()),
            ])"""
        )
        assert {name for name, *_ in tables} == {"coverage-matrix", "countries", "grants", "forums"}
        # On screen the other groups' columns are hidden: the print must show them all the same.
        assert not page.get_by_role("columnheader", name="Median whole days").first.is_visible()
        pdf = PdfReader(
            io.BytesIO(page.pdf(format="A4", landscape=True, print_background=True, prefer_css_page_size=True))
        )
        for sheet in pdf.pages:
            assert (round(float(sheet.mediabox.width)), round(float(sheet.mediabox.height))) == (842, 595)
        text = _words(" ".join(sheet.extract_text() for sheet in pdf.pages))
        for name, heads, last_cells in tables:
            for head in heads:
                assert _words(head) in text, f"{name}: column {head!r} is not in the printed page"
            for cell in last_cells:
                assert _words(cell) in text, f"{name}: a row's last cell {cell!r} is not in the printed page"
        for chart in (
            "Overdue and stalled actions by forum",
            "Meetings held by quarter",
            "Attendees by kind of organisation",
        ):
            assert chart in text
        # Laid out for paper (A4 landscape less 10 mm margins: 1047 px), no cell passes the page's edge.
        page.emulate_media(media="print")
        page.set_viewport_size({"width": 1047, "height": 718})
        beyond = page.evaluate(
            """() => [...document.querySelectorAll('table')].flatMap(t => [...t.querySelectorAll('th, td')]
                .filter(c => c.getClientRects().length && c.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
                .map(c => `${t.id}: ${c.textContent.trim()}`))"""
        )
        assert not beyond, beyond
        assert page.evaluate("[...document.querySelectorAll('svg.chart-svg')].every(s => s.getClientRects().length)")
    finally:
        context.close()
    assert not errors, errors

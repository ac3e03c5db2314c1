"""The programme report printed by Chromium (Playwright's page.pdf(), the browser's own print engine):
the whole selection in one document, a forum per page, the cover's figures those on the page."""

from __future__ import annotations

import io
import re
import unicodedata

import pytest
from pypdf import PdfReader

from .browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FORUMS = (
    "Sarajevo local coordination forum",
    "Bijelo Polje local coordination forum",
    "Skopje local coordination forum",
)


def test_chromium_prints_the_whole_report_a_forum_per_page(demo, live_server, page):
    sign_in(page, live_server, "staff@forum-desk.example")
    page.goto(live_server + "/reports/programme")
    held = page.locator('[data-tile="held"] .report-tile-value').inner_text()
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4", print_background=True)
    # NFKC: Chromium's PDF keeps ligatures ("ﬁ") as single characters.
    texts = [
        " ".join(unicodedata.normalize("NFKC", p.extract_text() or "").split())
        for p in PdfReader(io.BytesIO(pdf)).pages
    ]

    assert len(texts) == 5, texts  # cover, contents, three forums
    assert "Meetings held" in texts[0] and held in texts[0]
    assert "This document has been produced with the financial support of the European Union" in texts[0]
    assert all(title in texts[1] for title in FORUMS)  # the contents
    for title, text in zip(FORUMS, texts[2:], strict=True):
        assert re.sub(r"^\d+ / \d+ ", "", text).startswith(title), text[:200]  # after the page's number
        assert [t for t in FORUMS if t in text] == [title]
    # Nothing of the screen's controls on paper.
    assert not any("Download PDF" in text or "Skip to content" in text for text in texts)
    # Chromium draws the @page margin box's counters (from version 131).
    assert all(f"{n} / 5" in text for n, text in enumerate(texts, 1)), [t[-40:] for t in texts]

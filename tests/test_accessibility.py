"""Accessibility in a real Chromium: axe-core on the pages people use most, at desktop and
phone width, and no page that scrolls sideways on a 360 px phone.

axe-core is vendored in static/vendor/axe-core/ (from the npm registry; see its VERSION).
How it gets into the page: Playwright's ``page.add_script_tag(path=...)`` inserts an
*inline* <script>, which our Content-Security-Policy (``script-src 'self'``) blocks, as it
should. ``page.evaluate(source)`` instead runs the file through the DevTools protocol
(Runtime.evaluate), which the page's CSP does not govern. So the audit runs with the CSP
fully in force (no ``bypass_csp``), and a CSP violation by the app itself still shows up as
a console error and fails the test.

One browser for the session, one context per person, one sign-in each; the widths are
viewport changes within that context.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from forum_app.demo import DEMO_PASSWORD

from .browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AXE_SOURCE = (Path(__file__).resolve().parent.parent / "static" / "vendor" / "axe-core" / "axe.min.js").read_text(
    encoding="utf-8"
)

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 780}
BLOCKING_IMPACTS = {"critical", "serious"}

ORGANISER = "organiser.sarajevo@forum-desk.example"
PARTICIPANT = "amra.hodzic@forum-desk.example"
ADMIN = "admin@forum-desk.example"
FORUM = "Sarajevo local coordination forum"
# Held, minutes circulated (not adopted, so attendance can still be recorded), walk-ins, comments.
MEETING = "Second meeting: follow-up review"


@dataclass
class Findings:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def run_axe(page) -> dict:
    """axe-core's full default rule set on the current page; returns its results."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE + "\n;void 0")  # see the module docstring: not add_script_tag
    return page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        const slim = (list) => list.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => n.target.join(' ') + ' :: ' + (n.failureSummary || '').split('\\n').slice(0, 2).join(' '))}));
        return {violations: slim(r.violations), ran: [...r.passes, ...r.violations, ...r.incomplete].map(v => v.id)};
    }""")


def audit(page, name: str, width: str, findings: Findings) -> None:
    results = run_axe(page)
    # A vacuous pass (axe not running, or on an empty page) must not look like success.
    assert "color-contrast" in results["ran"], f"axe did not evaluate {name}"
    for v in results["violations"]:
        line = f"{name} @{width}: [{v['impact']}] {v['id']}: {v['help']} ({len(v['nodes'])} nodes) e.g. {v['nodes'][0]}"
        (findings.problems if v["impact"] in BLOCKING_IMPACTS else findings.notes).append(line)


def check_width(page, name: str, findings: Findings) -> None:
    """The page must not scroll sideways, nor hide columns in a box that does (a table's
    .table-responsive wrapper): on a phone that is a column nobody sees."""
    scroll_width, inner_width, clipped = page.evaluate("""() => [
        document.documentElement.scrollWidth, window.innerWidth,
        [...document.querySelectorAll('.table-responsive')]
            .filter(box => box.scrollWidth > box.clientWidth)
            .map(box => `${box.querySelector('table')?.id || 'table'} ${box.scrollWidth} px in ${box.clientWidth} px`)]""")
    if scroll_width > inner_width:
        findings.problems.append(f"{name} @phone: scrolls sideways, {scroll_width} px wide at {inner_width} px")
    for box in clipped:
        findings.problems.append(f"{name} @phone: {box} scrolls sideways inside the page")


def demo_urls(page, live_server: str) -> dict[str, str]:
    """Find the Sarajevo forum and its held meeting through the links, as a person would."""
    page.goto(live_server + "/forums")
    page.get_by_role("link", name=FORUM).click()
    forum_url = page.url
    page.locator("#past-meetings").get_by_role("link", name=MEETING).click()
    meeting_url = page.url
    return {
        "home": live_server + "/",
        "forum list": live_server + "/forums",
        "forum": forum_url,
        "members": forum_url + "/members",
        "meeting": meeting_url,
        "attendance": meeting_url + "/attendance",
        "during the meeting": meeting_url + "/during",
        "minutes form": meeting_url + "/minutes",
        "minutes versions": meeting_url + "/minutes/versions",
        "minutes version": meeting_url + "/minutes/versions/1",
        "calendar": live_server + "/calendar",
        "calendar with meetings": live_server + "/calendar?month=2021-10",
        "admin users": live_server + "/admin/users",
    }


# person -> (pages audited with axe at both widths, further pages only measured at phone width)
PERSONAS = {
    "organiser": (
        ORGANISER,
        ["home", "forum", "meeting", "attendance", "during the meeting", "minutes form", "minutes versions"],
        ["forum list", "members", "minutes version", "calendar", "calendar with meetings"],
    ),
    "participant": (
        PARTICIPANT,
        ["home", "forum", "meeting", "minutes versions", "minutes version"],
        ["forum list", "calendar", "calendar with meetings"],
    ),
    "admin": (ADMIN, [], ["admin users", "home", "forum list"]),
}


@pytest.mark.parametrize("persona", list(PERSONAS))
def test_pages_pass_axe_and_fit_a_phone(persona, demo, live_server, browser):
    email, audited, measured = PERSONAS[persona]
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    console_errors: list[str] = []
    page.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: console_errors.append(str(exc)))
    findings = Findings()
    try:
        sign_in(page, live_server, email, DEMO_PASSWORD)
        urls = demo_urls(page, live_server)
        for name in audited:
            response = page.goto(urls[name])
            assert response and response.ok, f"{name}: {response and response.status}"
            audit(page, name, "desktop", findings)
        page.set_viewport_size(PHONE)
        for name in audited + measured:
            response = page.goto(urls[name])
            assert response and response.ok, f"{name}: {response and response.status}"
            check_width(page, name, findings)
            if name in audited:
                audit(page, name, "phone", findings)
    finally:
        context.close()
    for note in findings.notes:
        print("axe (minor/moderate):", note)
    assert not findings.problems, "\n".join(findings.problems)
    assert not console_errors, f"browser console errors: {console_errors}"


def test_navigation_shows_focus_and_the_current_page_without_colour_alone(demo, live_server, page):
    sign_in(page, live_server, PARTICIPANT, DEMO_PASSWORD)
    page.goto(live_server + "/forums")
    nav = page.locator("#mainnav")
    current = nav.get_by_role("link", name="Forums", exact=True)
    other = nav.get_by_role("link", name="Calendar", exact=True)
    assert current.get_attribute("aria-current") == "page"
    style = "el => { const s = getComputedStyle(el); return [s.fontWeight, s.textDecorationLine, s.outlineStyle, s.outlineWidth, s.outlineColor]; }"
    current_weight, current_decoration, *_ = current.evaluate(style)
    other_weight, other_decoration, *_ = other.evaluate(style)
    assert (current_weight, current_decoration) != (other_weight, other_decoration)
    assert "underline" in current_decoration
    # Reach the link from the keyboard (so :focus-visible applies): a 2 px white ring.
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Calendar":
            break
    assert other.evaluate(style)[2:] == ["solid", "2px", "rgb(255, 255, 255)"]

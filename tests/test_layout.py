"""Layout defects of issue 21, part 7, in a real Chromium: the administrator's navigation between
992 and 1,366 px, a title that is one long word, and the dashboard on a phone and at 200 % zoom
(a 640 px viewport: see test_accessibility_walk.py)."""

from __future__ import annotations

import pytest

from forum_app.extensions import db
from forum_app.models import ActionItem, Meeting

from .browser import sign_in, wait_until
from .factories import PASSWORD
from .test_accessibility import ADMIN, run_axe

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WIDTH_JS = "() => [document.documentElement.scrollWidth, window.innerWidth]"


def test_admin_navigation_fits_from_992_to_1366_and_sign_out_is_on_screen(demo, live_server, page):
    sign_in(page, live_server, ADMIN)
    for width in (992, 1100, 1280, 1366):
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(live_server + "/admin/users")
        scroll_width, inner_width = page.evaluate(WIDTH_JS)
        assert scroll_width <= inner_width, f"at {width} px the page is {scroll_width} px wide"
        # Either the whole bar fits, account menu included, or it is folded behind the menu button.
        account, toggler = page.locator("#account-menu"), page.get_by_role("button", name="Menu")
        if toggler.is_visible():
            assert width < 1200 and not account.is_visible()
            box = toggler.bounding_box()
        else:
            box = account.bounding_box()
        assert box["x"] + box["width"] <= inner_width, f"the account menu is off-screen at {width} px"
    # At 1280: the account menu opens on a click and its sign-out button is on the screen.
    page.locator("#account-menu").click()
    sign_out = page.get_by_role("button", name="Sign out")
    sign_out.wait_for(state="visible")
    box = sign_out.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 1366
    page.keyboard.press("Escape")
    # The administration pages are one menu (Bootstrap's dropdown), the current one marked.
    menu = page.locator("#mainnav").get_by_role("button", name="Administration")
    menu.click()
    audit = page.locator("#mainnav").get_by_role("link", name="Audit log")
    audit.wait_for(state="visible")
    assert page.locator("#mainnav").get_by_role("link", name="People").get_attribute("aria-current") == "page"
    audit.click()
    page.wait_for_url("**/admin/audit")


def test_a_title_of_one_long_word_wraps_on_meeting_and_action_pages(app, make, live_server, page):
    world = make.world()
    meeting_id = make.meeting(world["forum"], state="held", starts_in_days=-2)
    action_id = make.action(world["forum"], world["participant"], meeting_id=meeting_id)
    word = "https://example.org/" + "x" * 280  # a pasted link: 300 characters, no space
    with app.app_context():
        db.session.get(Meeting, meeting_id).title = word
        db.session.get(ActionItem, action_id).title = word
        db.session.commit()
    sign_in(page, live_server, world["organiser"], PASSWORD)
    for width in (1280, 360):
        page.set_viewport_size({"width": width, "height": 800})
        for path in (f"/meetings/{meeting_id}", f"/actions/{action_id}", f"/forums/{world['forum']}"):
            page.goto(live_server + path)
            scroll_width, inner_width = page.evaluate(WIDTH_JS)
            assert scroll_width <= inner_width, f"{path} at {width} px is {scroll_width} px wide"


@pytest.mark.parametrize("viewport", [{"width": 360, "height": 780}, {"width": 640, "height": 450}])
def test_dashboard_fits_a_phone_and_200_percent_zoom_with_targets_of_24_px(demo, live_server, page, viewport):
    sign_in(page, live_server, "staff@forum-desk.example")
    page.set_viewport_size(viewport)
    for path in ("/reports", "/reports/actions?figure=overdue", "/reports/meetings", "/reports/progress"):
        page.goto(live_server + path)
        scroll_width, inner_width = page.evaluate(WIDTH_JS)
        assert scroll_width <= inner_width, f"{path} at {viewport['width']} px is {scroll_width} px wide"
        # WCAG 2.2 target size (minimum): axe's own rule, which the default run leaves out.
        results = (
            page.evaluate("""async () => {
            const r = await axe.run(document, {runOnly: ['target-size']});
            return r.violations.map(v => v.nodes.map(n => n.target.join(' ')));
        }""")
            if run_axe(page) is not None
            else []
        )
        assert results == [], f"{path}: targets smaller than 24 × 24 px: {results}"


def test_dashboard_prints_every_column_of_its_tables(demo, live_server, page):
    """On A4 landscape (277 mm between the margins: 1047 CSS px) no table is cut at its right edge."""
    sign_in(page, live_server, "staff@forum-desk.example")
    page.set_viewport_size({"width": 1047, "height": 740})
    page.emulate_media(media="print")
    for path in ("/reports", "/reports/actions", "/reports/meetings", "/reports/progress"):
        page.goto(live_server + path)
        cut = page.evaluate("""() => [...document.querySelectorAll('main table')]
            .filter(t => t.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
            .map(t => `${t.id || 'table'} ends at ${Math.round(t.getBoundingClientRect().right)} px`)""")
        assert cut == [], f"{path} prints cut tables: {cut}"


def test_a_form_shown_again_with_errors_puts_the_focus_on_its_summary(app, make, live_server, page):
    world = make.world()
    meeting_id = make.meeting(world["forum"], state="held", starts_in_days=-2)
    sign_in(page, live_server, world["organiser"], PASSWORD)
    page.goto(f"{live_server}/meetings/{meeting_id}/actions/new")
    page.get_by_label("Owner of action 1").select_option(index=1)  # an owner, and nothing to do
    page.get_by_role("button", name="Record these actions").click()
    wait_until(page, "() => document.activeElement && document.activeElement.id === 'error-summary'")
    assert page.title().startswith("Error:")
    # Its link leads to the field.
    page.locator("#error-summary a").first.click()
    assert page.evaluate("location.hash") == "#rows-0-title"

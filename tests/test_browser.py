"""Journeys in a real headless Chromium."""
from __future__ import annotations

import pytest

from forum_app.demo import DEMO_PASSWORD
from forum_app.extensions import db

from .browser import browser, live_server, page  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser

DEMO_FORUMS = [
    "Sarajevo local coordination forum",
    "Skopje local coordination forum",
    "Bijelo Polje local coordination forum",
]


@pytest.fixture
def demo(app):
    from forum_app.demo import seed_demo

    with app.app_context():
        seed_demo()
        db.session.commit()


def test_admin_logs_in_and_sees_the_three_forums(demo, live_server, page):  # noqa: F811
    page.goto(live_server + "/")
    assert "/login" in page.url
    page.get_by_label("Email").fill("admin@forum-desk.example")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server + "/forums")
    cards = page.locator("#forum-list h2")
    assert sorted(cards.all_inner_texts()) == sorted(DEMO_FORUMS)
    # The admin's menu is there, and the account menu (Bootstrap's script) opens.
    assert page.get_by_role("link", name="People").is_visible()
    page.locator("#account-menu").click()
    assert page.get_by_role("button", name="Sign out").is_visible()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")


def test_phone_width_menu_collapses(demo, live_server, page):  # noqa: F811
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(live_server + "/login")
    page.get_by_label("Email").fill("amra.hodzic@forum-desk.example")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server + "/forums")
    assert page.locator("#forum-list h2").all_inner_texts() == ["Sarajevo local coordination forum"]
    # The nav collapses behind the toggler at phone width and opens on tap.
    nav_link = page.locator("#mainnav").get_by_role("link", name="Forums", exact=True)
    assert not nav_link.is_visible()
    page.get_by_role("button", name="Menu").click()
    nav_link.wait_for(state="visible")

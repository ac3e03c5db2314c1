"""Journeys in a real headless Chromium."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from forum_app.demo import DEMO_PASSWORD

from .browser import sign_in as sign_in_as
from .browser import wait_until

pytestmark = pytest.mark.browser

DEMO_FORUMS = [
    "Sarajevo local coordination forum",
    "Skopje local coordination forum",
    "Bijelo Polje local coordination forum",
]


def test_admin_logs_in_and_sees_the_three_forums(demo, live_server, page):
    page.goto(live_server + "/")
    assert "/login" in page.url
    sign_in(page, live_server, "admin@forum-desk.example")
    # The home page gives programme staff and admins every forum with its next and last meeting.
    assert page.url == live_server + "/"
    assert sorted(page.locator("#overview tbody tr td:first-child").all_inner_texts()) == sorted(DEMO_FORUMS)
    page.locator("#mainnav").get_by_role("link", name="Forums", exact=True).click()
    cards = page.locator("#forum-list h2")
    assert sorted(cards.all_inner_texts()) == sorted(DEMO_FORUMS)
    # The admin's menu is there, and the account menu (Bootstrap's script) opens.
    assert page.get_by_role("link", name="People").is_visible()
    page.locator("#account-menu").click()
    assert page.get_by_role("button", name="Sign out").is_visible()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")


def test_phone_width_menu_collapses(demo, live_server, page):
    page.set_viewport_size({"width": 390, "height": 800})
    sign_in(page, live_server, "amra.hodzic@forum-desk.example")
    page.goto(live_server + "/forums")
    assert page.locator("#forum-list h2").all_inner_texts() == ["Sarajevo local coordination forum"]
    # The nav collapses behind the toggler at phone width and opens on tap.
    nav_link = page.locator("#mainnav").get_by_role("link", name="Forums", exact=True)
    assert not nav_link.is_visible()
    page.get_by_role("button", name="Menu").click()
    nav_link.wait_for(state="visible")


def sign_in(page, live_server: str, email: str) -> None:
    sign_in_as(page, live_server, email, DEMO_PASSWORD)


def test_plan_rsvp_attendance_and_minutes_journey(demo, app, live_server, browser, page):
    from datetime import date, timedelta

    # The organiser plans a meeting (yesterday, so it can be held and minuted today).
    sign_in(page, live_server, "organiser.sarajevo@forum-desk.example")
    page.goto(live_server + "/forums")
    page.get_by_role("link", name="Sarajevo local coordination forum").click()
    page.get_by_role("link", name="Plan a meeting").click()
    page.get_by_label("Title").fill("Extraordinary meeting on release planning")
    page.get_by_label("Date").fill((date.today() - timedelta(days=1)).isoformat())
    page.get_by_label("Starts").fill("10:00")
    page.get_by_label("Ends").fill("12:00")
    page.get_by_label("Venue").fill("State Prison, meeting room 2")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("saved as a draft").wait_for()
    meeting_url = page.url
    page.get_by_role("button", name="Schedule and make visible").click()
    page.get_by_text("The meeting is scheduled").wait_for()

    # A mistyped invitation comes back at its field, with what was typed and the focus there.
    page.get_by_text("Invite someone else").click()
    page.get_by_label("Email", exact=True).fill("not-an-email")
    page.get_by_label("Full name").fill("Someone New")
    page.get_by_role("button", name="Invite", exact=True).click()
    email = page.get_by_label("Email", exact=True)
    assert email.input_value() == "not-an-email" and email.get_attribute("aria-invalid") == "true"
    wait_until(page, "() => document.activeElement && document.activeElement.name === 'email'")
    assert page.get_by_label("Full name").input_value() == "Someone New"
    page.goto(meeting_url)

    # A participant answers from the meeting page.
    participant = browser.new_context().new_page()
    sign_in(participant, live_server, "amra.hodzic@forum-desk.example")
    participant.goto(meeting_url)
    participant.get_by_label("Accepted").check()
    participant.get_by_label("Comment (optional)").fill("I will bring the release calendar.")
    participant.get_by_role("button", name="Send my answer").click()
    participant.get_by_text("your answer is recorded").wait_for()
    # The confirmation is where the eye is: inside the answered section, in view, with the focus.
    wait_until(participant, "() => document.activeElement && document.activeElement.id === 'flash-messages'")
    where = participant.evaluate("""() => {
        const flash = document.getElementById('flash-messages');
        const box = flash.getBoundingClientRect();
        return {inSection: flash.closest('#rsvp') !== null, focused: document.activeElement === flash,
                visible: box.top >= 0 && box.bottom <= window.innerHeight};
    }""")
    assert where == {"inSection": True, "focused": True, "visible": True}

    # The organiser sees the answer, holds the meeting and records attendance.
    page.reload()
    amra_row = page.locator("#invitee-table tr", has_text="Amra Hodžić")
    assert "Accepted" in amra_row.inner_text() and "release calendar" in amra_row.inner_text()
    page.get_by_role("button", name="Mark as held").click()
    page.get_by_text("The meeting is marked as held").wait_for()
    page.get_by_role("link", name="Record attendance").click()
    page.get_by_label("Amra Hodžić").select_option("present")
    page.get_by_role("button", name="Save attendance").click()
    page.get_by_text("Attendance saved.").wait_for()
    page.goto(meeting_url)
    assert "Prison: 1" in page.locator("#headcount").inner_text()

    # Minutes: written, previewed, saved and circulated.
    page.get_by_role("link", name="Write the minutes").click()
    page.get_by_label("Minutes").fill("## Summary\n\nThe prison presented the release calendar.")
    page.get_by_label("Decisions and conclusions").fill("Release calendar shared monthly with the forum.")
    page.get_by_role("button", name="Preview").click()
    assert "The prison presented" in page.locator("#minutes-preview").inner_text()
    page.get_by_role("button", name="Save a new version").click()
    page.get_by_text("Saved as version 1").wait_for()
    page.get_by_role("button", name="Circulate to invitees").click()
    page.get_by_text("The minutes are circulated").wait_for()

    # Printed, the page is a clean record: no navigation or buttons, the minutes and decisions kept.
    page.emulate_media(media="print")
    expect(page.locator("nav.navbar")).to_be_hidden()
    expect(page.get_by_role("button", name="Print record")).to_be_hidden()
    assert page.locator("#decisions").is_visible() and page.locator("#headcount").is_visible()
    page.emulate_media(media="screen")

    # The attendee now reads the circulated minutes and their decisions.
    participant.goto(meeting_url)
    assert "Release calendar shared monthly" in participant.locator("#decisions").inner_text()
    participant.context.close()

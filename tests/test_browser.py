"""Journeys in a real headless Chromium."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .browser import sign_in, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]

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
    # A click does not wait for the page it leads to; reading the list before it has
    # arrived read the home page's (empty) list once in CI.
    page.wait_for_url(live_server + "/forums")
    cards = page.locator("#forum-list h2")
    expect(cards).to_have_count(len(DEMO_FORUMS))
    assert sorted(cards.all_inner_texts()) == sorted(DEMO_FORUMS)
    # The admin's menu is there (one Administration menu: Bootstrap's dropdown), and the account menu opens.
    page.locator("#mainnav").get_by_role("button", name="Administration").click()
    page.get_by_role("link", name="People").wait_for(state="visible")
    page.keyboard.press("Escape")
    page.locator("#account-menu").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")


def test_phone_width_menu_collapses(demo, live_server, page):
    # 360 px: the narrowest common phone. Both plugins of the built bootstrap.used.min.js
    # (collapse, dropdown) are driven here, so a build missing one fails this test.
    page.set_viewport_size({"width": 360, "height": 800})
    sign_in(page, live_server, "amra.hodzic@forum-desk.example")
    page.goto(live_server + "/forums")
    assert page.locator("#forum-list h2").all_inner_texts() == ["Sarajevo local coordination forum"]
    # The nav collapses behind the toggler at phone width and opens on tap.
    toggler = page.get_by_role("button", name="Menu")
    nav_link = page.locator("#mainnav").get_by_role("link", name="Forums", exact=True)
    assert not nav_link.is_visible()
    toggler.click()
    nav_link.wait_for(state="visible")
    expect(toggler).to_have_attribute("aria-expanded", "true")
    # Opened once the slide ends (the plugin ignores taps while it slides).
    expect(page.locator("#mainnav")).to_have_class(re.compile(r"\bcollapse show\b"))
    # The account menu inside the opened nav opens on tap (dropdown, with Popper) and
    # closes with Escape.
    account = page.locator("#account-menu")
    sign_out = page.get_by_role("button", name="Sign out")
    assert not sign_out.is_visible()
    account.click()
    sign_out.wait_for(state="visible")
    expect(account).to_have_attribute("aria-expanded", "true")
    box = sign_out.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360  # within the phone's width
    page.keyboard.press("Escape")
    sign_out.wait_for(state="hidden")
    # A second tap on the toggler folds the nav away again.
    toggler.click()
    nav_link.wait_for(state="hidden")
    expect(toggler).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#mainnav")).not_to_have_class(re.compile(r"\bshow\b"))


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
    participant.get_by_label("Yes", exact=True).check()
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


def test_actions_recorded_answered_reassigned_and_reviewed_journey(demo, live_server, browser, page):
    """An organiser records two actions at a meeting; the owner accepts one from the home page and posts
    progress, declines the other with a reason; the organiser reassigns it, reviews both at the next
    meeting, and the timeline shows all of it."""
    sign_in(page, live_server, "organiser.sarajevo@forum-desk.example")
    page.goto(live_server + "/forums")
    page.get_by_role("link", name="Sarajevo local coordination forum").click()
    page.get_by_role("link", name="Third meeting: follow-up review").click()
    held_url = page.url
    page.get_by_role("link", name="Record actions").click()
    page.get_by_label("Action 1", exact=True).fill("Share the monthly release calendar with the contact points")
    page.get_by_label("Owner of action 1").select_option(label="Amra Hodžić (State Prison of Bosnia and Herzegovina)")
    page.get_by_label("Action 2", exact=True).fill("Arrange a health check before release")
    page.get_by_label("Owner of action 2").select_option(label="Amra Hodžić (State Prison of Bosnia and Herzegovina)")
    page.get_by_role("button", name="Record these actions").click()
    page.get_by_text("2 actions recorded").wait_for()
    assert page.locator("#agreed-table tbody tr").count() == 2

    # The owner, on her home page: accepts one, then posts progress on it; declines the other with a reason.
    owner = browser.new_context().new_page()
    sign_in(owner, live_server, "amra.hodzic@forum-desk.example")
    awaiting = owner.locator("#awaiting")
    calendar_item = awaiting.locator("li", has_text="monthly release calendar")
    calendar_item.get_by_role("button", name="Accept").click()
    owner.get_by_text("you accepted the action").wait_for()
    health_item = owner.locator("#awaiting li", has_text="health check")
    health_item.locator("summary").click()
    health_item.get_by_label("Why do you decline?").fill("Health checks are for the Public Health Centre to arrange.")
    health_item.get_by_role("button", name="Decline the action").click()
    owner.get_by_text("You declined the action").wait_for()
    owner.get_by_role("link", name="Share the monthly release calendar with the contact points").click()
    owner.get_by_label("New state").select_option(label="In progress")
    owner.get_by_label("Note").fill("The first calendar went out on Monday.")
    owner.get_by_role("button", name="Post").click()
    owner.get_by_text("Your update is posted.").wait_for()
    owner.context.close()

    # The organiser finds the declined action on My actions and reassigns it.
    page.locator("#mainnav").get_by_role("link", name="My actions").click()
    page.locator("#to-reassign").get_by_role("link", name="Arrange a health check before release").click()
    page.get_by_label("New owner").select_option(label="Emir Mehmedović (Cantonal Centre for Social Work Sarajevo)")
    page.get_by_role("button", name="Reassign").click()
    page.get_by_text("Reassigned; the new owner is asked to confirm.").wait_for()
    health_url = page.url

    # At the next meeting, both are reviewed in one form.
    page.goto(held_url)
    page.get_by_role("link", name="Sarajevo local coordination forum").first.click()
    page.locator("#forum-actions").get_by_role("link", name="Follow-up matrix").click()
    page.locator("#matrix thead").get_by_role("link").last.click()
    page.get_by_role("link", name="Record the review").click()
    page.get_by_label("What was said about Share the monthly release calendar with the contact points").fill(
        "Calendar shared; monthly from now on."
    )
    page.get_by_label("New state of Share the monthly release calendar with the contact points").select_option(
        label="Done"
    )
    page.get_by_label("What was said about Arrange a health check before release").fill(
        "Now with the Centre for Social Work, which will involve the health centre."
    )
    page.get_by_role("button", name="Save the review").click()
    page.get_by_text("The review is recorded (2 actions)").wait_for()
    row = page.locator("#follow-up-table tr", has_text="monthly release calendar")
    assert "Done" in row.inner_text() and "(reviewed)" in row.inner_text()

    # The timeline of the reassigned action shows where it was raised, the review, and every step.
    page.goto(health_url)
    timeline = page.locator("#timeline-table tbody")
    assert timeline.locator("tr").count() == 2
    assert "raised here" in timeline.locator("tr").first.inner_text()
    assert "health centre" in timeline.locator("tr").last.inner_text()
    history = page.locator("#history-list").inner_text()
    for expected in ("Public Health Centre to arrange", "Reassigned to Emir Mehmedović", "Meeting review"):
        assert expected in history
    # On a phone, the matrix is one card per action.
    page.set_viewport_size({"width": 360, "height": 800})
    page.locator("#action-details").wait_for()
    page.goto(
        live_server
        + page.locator("a", has_text="Sarajevo local coordination forum").first.get_attribute("href")
        + "/actions/matrix"
    )
    assert page.locator("#matrix thead").is_hidden() or page.locator("#matrix thead").bounding_box()["height"] <= 1

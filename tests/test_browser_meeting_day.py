"""The meeting day in a real headless Chromium (issue 21, parts 1 to 3): an organiser records a meeting
on the "During the meeting" page (attendance with a delegate), drafts its minutes from it, circulates them, and adopts them at the next
meeting of a forum that adopts minutes there."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from .browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AMRA = "Amra Hodžić (State Prison of Bosnia and Herzegovina)"


def _item(page, title: str):
    """An agenda item's section, by its heading (a region named by it)."""
    return page.get_by_role("region", name=title)


def _add_action(section, n: int, title: str, owner: str, due: str = "") -> None:
    section.get_by_label(f"Action {n}", exact=True).fill(title)
    section.get_by_label(f"Owner of action {n}").select_option(label=owner)
    if due:
        section.get_by_label(f"Due date of action {n}").fill(due)


def test_a_meeting_recorded_during_the_meeting_and_adopted_at_the_next(demo, live_server, page):
    page.on("dialog", lambda dialog: dialog.accept())  # the confirmations of adopting
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    sign_in(page, live_server, "organiser.sarajevo@forum-desk.example")

    # The forum adopts its minutes at the next meeting.
    page.goto(live_server + "/forums")
    page.get_by_role("link", name="Sarajevo local coordination forum").click()
    page.get_by_role("link", name="Edit forum").click()
    page.get_by_label("Minutes are adopted").select_option("next_meeting")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("link", name="Plan a meeting").wait_for()

    # A meeting with an agenda, scheduled, which started yesterday.
    page.get_by_role("link", name="Plan a meeting").click()
    page.get_by_label("Title").fill("Meeting on housing and work")
    page.get_by_label("Date").fill(yesterday)
    page.get_by_label("Starts").fill("10:00")
    page.get_by_label("Ends").fill("12:00")
    page.get_by_label("Venue").fill("State Prison, meeting room 2")
    page.get_by_label("Agenda").fill("1. Review of agreed actions\n2. Housing after release\n3. Employment\n")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("saved as a draft").wait_for()
    page.get_by_role("button", name="Schedule and make visible").click()
    page.get_by_text("The meeting is scheduled").wait_for()
    meeting_url = page.url

    # During the meeting: the items come from the agenda; the meeting is marked held, attendance recorded.
    page.get_by_role("link", name="During the meeting").click()
    during_url = page.url.split("#")[0]
    assert page.locator("section.agenda-item h2").all_inner_texts()[0].startswith("1. Review of agreed actions")
    page.locator("#attendance").get_by_role("button", name="Mark as held").click()
    page.get_by_text("The meeting is marked as held").wait_for()
    assert page.url.startswith(during_url)
    page.locator("#attendance").get_by_label("Amra Hodžić").select_option("present")
    page.get_by_role("button", name="Save attendance").click()
    page.get_by_text("Attendance saved.").wait_for()
    assert page.url.startswith(during_url) and "Prison: 1" in page.locator("#day-headcount").inner_text()

    # A delegate: the police officer could not come and a colleague came for him (part 2).
    page.get_by_role("link", name="Someone came on behalf of an invitee").click()
    delegates = page.locator("#delegates")
    option = next(
        o for o in delegates.get_by_label("On behalf of").locator("option").all_inner_texts() if "Dženan Alić" in o
    )
    delegates.get_by_label("On behalf of").select_option(label=option)
    delegates.get_by_label("Name of the person who came").fill("Emir Delić")
    delegates.get_by_role("button", name="Record who came for whom").click()
    page.get_by_text("Recorded: the invitee is excused").wait_for()
    assert "Emir Delić attended on behalf of Dženan Alić" in page.locator("#delegate-list").inner_text()
    page.goto(during_url)
    # The agency is counted as present, through the person who came for it.
    assert "Police: 1" in page.locator("#day-headcount").inner_text()

    # Two items with notes, a decision, and three actions; each saved on its own.
    housing = _item(page, "Housing after release")
    housing.get_by_label("Notes").fill("Two of three places are found.")
    housing.get_by_label("Decisions").fill("The municipality is asked for a third place.")
    housing.get_by_role("button", name="Save this item").click()
    page.get_by_text("Saved: Housing after release.").wait_for()
    employment = _item(page, "Employment")
    employment.get_by_label("Notes").fill("The job fair moves to May.")
    employment.get_by_role("button", name="Save this item").click()
    page.get_by_text("Saved: Employment.").wait_for()
    assert _item(page, "Housing after release").get_by_label("Notes").input_value() == "Two of three places are found."

    due = (date.today() + timedelta(days=30)).isoformat()
    housing = _item(page, "Housing after release")
    _add_action(housing, 1, "Ask the municipality for a third place", AMRA, due)
    _add_action(housing, 2, "Share the list of places with the prison", AMRA)
    housing.get_by_role("button", name="Record these actions").click()
    page.get_by_text("2 actions recorded").wait_for()
    employment = _item(page, "Employment")
    _add_action(employment, 1, "Register the three releases for the job fair", AMRA, due)
    employment.get_by_role("button", name="Record these actions").click()
    page.get_by_text("1 action recorded").wait_for()
    assert _item(page, "Housing after release").locator(".agreed-actions li").count() == 2
    assert _item(page, "Employment").locator(".agreed-actions li").count() == 1

    # The follow-up review is its own item: the existing review, and back.
    _item(page, "Review of agreed actions").get_by_role("link", name="Record the follow-up review").click()
    page.locator("textarea[name$='-note']").first.fill("Discussed; carries over.")
    page.get_by_role("button", name="Save the review").click()
    page.get_by_text("The review is recorded").wait_for()
    page.goto(during_url)

    # The minutes are drafted from the page, then circulated (this forum adopts them at the next meeting).
    page.get_by_role("button", name="Draft the minutes").click()
    page.get_by_text("drafted from the meeting's record as version 1").wait_for()
    minutes = page.locator("#minutes").inner_text()
    for expected in ("Housing after release", "Two of three places are found.", "Register the three releases"):
        assert expected in minutes
    assert "The municipality is asked for a third place." in page.locator("#decisions").inner_text()
    page.get_by_role("button", name="Circulate to invitees").click()
    page.get_by_text("The minutes are circulated").wait_for()
    assert page.get_by_role("button", name="Adopt version 1 and lock").count() == 0

    # Plan the next meeting from the held one: it adopts these minutes.
    page.get_by_role("link", name="Plan the next meeting").click()
    # The item is written in the forum's language (Sarajevo: Bosnian), for its minutes, whatever the
    # organiser's screen speaks.
    assert "Usvajanje zapisnika sa sastanka održanog" in page.get_by_label("Agenda").input_value()
    page.get_by_label("Date").fill(yesterday)
    page.get_by_label("Starts").fill("14:00")
    page.get_by_label("Ends").fill("16:00")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("saved as a draft").wait_for()
    page.get_by_role("button", name="Schedule and make visible").click()
    page.get_by_text("The meeting is scheduled").wait_for()
    assert page.locator("#adopts-minutes-of a").count() == 1
    next_url = page.url

    # At the next meeting, its adoption item adopts them; both meetings name each other.
    page.get_by_role("link", name="During the meeting").click()
    adoption = _item(page, "Usvajanje zapisnika")
    adoption.get_by_role("button", name="Adopt version 1 of these minutes").click()
    page.get_by_text("The minutes are adopted at this meeting").wait_for()
    assert "Adopted at this meeting" in _item(page, "Usvajanje zapisnika").inner_text()
    page.goto(meeting_url)
    page.locator("#adopted-at-meeting a").click()
    page.wait_for_url(next_url)

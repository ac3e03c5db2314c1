"""A person who picks their language sees the whole journey in it, in a real Chromium.

Macedonian, Albanian and Serbian Cyrillic: the switcher on the sign-in page, signing in, home, the
meeting page, the RSVP page an email links to, and confirming an action from its email. The
browser itself asks for English (Accept-Language: en-US), so every page in the chosen language is
the switcher's and the profile's doing. axe-core checks the language rules on each page (the
page's lang exists, is valid and matches; every lang attribute, the switcher's options included,
is valid).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from forum_app.core import language
from forum_app.demo import DEMO_PASSWORD
from forum_app.extensions import db
from forum_app.models import Forum, Invitation, Meeting, OutboxMessage, User

from .factories import Factory

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AXE_SOURCE = (Path(__file__).resolve().parent.parent / "static" / "vendor" / "axe-core" / "axe.min.js").read_text(
    encoding="utf-8"
)
LANG_RULES = ["html-has-lang", "html-lang-valid", "html-xml-lang-mismatch", "valid-lang"]
PERSON = "amra.hodzic@forum-desk.example"


def said(app: Flask, code: str, text: str, **variables) -> str:
    from flask_babel import gettext

    with app.test_request_context("/"), language.speaking(code):
        return gettext(text, **variables)


def check_lang(page, code: str, where: str) -> None:
    assert page.evaluate("document.documentElement.lang") == code, where
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE + "\n;void 0")  # not add_script_tag: see test_accessibility.py
    result = page.evaluate(
        """async (rules) => {
            const r = await axe.run(document, {runOnly: {type: 'rule', values: rules}});
            return {ran: [...r.passes, ...r.violations, ...r.incomplete, ...r.inapplicable].map(v => v.id),
                    violations: r.violations.map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))};
        }""",
        LANG_RULES,
    )
    assert set(LANG_RULES) <= set(result["ran"]), f"axe did not run the language rules on {where}"
    assert result["violations"] == [], f"{where}: {result['violations']}"


def _links(app: Flask, live_server: str, make: Factory) -> tuple[str, str, str]:
    """The RSVP link of the person's next invitation and the confirm link of an action just given to
    them, both read from the emails in the outbox (as the person would follow them)."""
    with app.app_context():
        forum_id = db.session.execute(select(Forum.id).where(Forum.city == "Sarajevo")).scalar_one()
    make.action(forum_id, PERSON, title="Prepare the release calendar for January")
    with app.app_context():
        user = db.session.execute(select(User).where(User.email == PERSON)).scalar_one()
        meeting_id = db.session.execute(
            select(Invitation.meeting_id)
            .join(Meeting)
            .where(Invitation.user_id == user.id, Meeting.state == "scheduled")
            .order_by(Meeting.starts_at)
            .limit(1)
        ).scalar_one()
        bodies = db.session.execute(
            select(OutboxMessage.kind, OutboxMessage.body_text)
            .where(OutboxMessage.to_user_id == user.id)
            .where((OutboxMessage.meeting_id == meeting_id) | (OutboxMessage.kind == "action-confirm"))
        ).all()
    assert meeting_id
    base = app.config["BASE_URL"]
    rsvp = next(re.search(rf"{re.escape(base)}/rsvp/\S+", b).group(0) for k, b in bodies if k == "meeting-invitation")
    confirm = next(
        re.search(rf"{re.escape(base)}/actions/confirm/\S+", b).group(0) for k, b in bodies if k == "action-confirm"
    )
    return (
        rsvp.replace(base, live_server),
        confirm.split("?")[0].replace(base, live_server),
        f"{live_server}/meetings/{meeting_id}",
    )


@pytest.mark.parametrize("code", ["mk", "sq", "sr-Cyrl"])
def test_the_whole_journey_in_the_language_picked(demo, app, live_server, browser, code: str) -> None:
    make = Factory(app)
    rsvp_link, confirm_link, meeting_url = _links(app, live_server, make)
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # The sign-in page, in English at first (the browser asks for it); the switcher changes it.
    page.goto(live_server + "/login")
    assert page.evaluate("document.documentElement.lang") == "en"
    page.locator("#language-menu").click()
    page.locator(f".language-switcher button[value='{code}']").click()
    page.wait_for_load_state()
    check_lang(page, code, "sign-in")
    page.get_by_label(said(app, code, "Email")).fill(PERSON)
    page.get_by_label(said(app, code, "Password")).fill(DEMO_PASSWORD)
    page.get_by_role("button", name=said(app, code, "Sign in")).click()
    page.wait_for_url(lambda url: "/login" not in url)

    # Home, then the meeting page: the person's language now (their profile adopted the choice).
    check_lang(page, code, "home")
    assert said(app, code, "My next meetings") in page.content()
    page.goto(meeting_url)
    check_lang(page, code, "meeting")
    assert said(app, code, "Invitees") in page.content()

    # The emailed RSVP link, opened in another browser (no session, no cookie: a phone's mail app).
    fresh = browser.new_context(locale="en-US")
    link_page = fresh.new_page()
    link_page.goto(rsvp_link)
    # The person chose this language (their profile): the page follows it with no cookie at all.
    check_lang(link_page, code, "RSVP page")
    link_page.get_by_label(said(app, code, "Maybe")).check()
    link_page.get_by_role("button", name=said(app, code, "Send my answer")).click()
    link_page.get_by_text(said(app, code, "Thank you, your answer is recorded.")).wait_for()

    # Confirming the action from its email.
    link_page.goto(confirm_link)
    check_lang(link_page, code, "confirm an action")
    link_page.get_by_role("button", name=said(app, code, "Accept the action")).click()
    link_page.wait_for_load_state()
    check_lang(link_page, code, "action confirmed")
    with app.app_context():
        assert db.session.execute(select(User.locale).where(User.email == PERSON)).scalar_one() == code
    fresh.close()
    context.close()
    assert not errors

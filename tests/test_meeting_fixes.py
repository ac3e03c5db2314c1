"""Issue 21, defects found by use around meetings: the edit form keeps which 02:30 was meant, guests
invited with a new organisation and led only to pages they can open, "mark everyone present" that
tells the truth, the action-confirmation email with buttons, and the API token's copy button."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import gettext

from forum_app.core import language
from forum_app.extensions import db
from forum_app.models import AuditEvent, Forum, Invitation, Meeting, Organisation, User
from forum_app.notifications.delivery import deliver_due

from .conftest import post_form, sign_in
from .factories import Factory
from .mailserver import SmtpServer

# --- helpers ----------------------------------------------------------------------------------------


class _Forms(HTMLParser):
    """Every form on a page as a browser would submit it: inputs, the selected options, textareas."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._select: str | None = None
        self._textarea: str | None = None
        self._first_option: tuple[str, str] | None = None

    def handle_starttag(self, tag, attrs) -> None:
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action") or "", "fields": {}, "buttons": {}})
            return
        if not self.forms:
            return
        fields = self.forms[-1]["fields"]
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind == "submit":
                self.forms[-1]["buttons"][name] = a.get("value", "")
            elif kind in ("checkbox", "radio"):
                if "checked" in a:
                    fields[name] = a.get("value", "on")
            else:
                fields[name] = a.get("value", "")
        elif tag == "button" and name:
            self.forms[-1]["buttons"][name] = a.get("value", "")
        elif tag == "select" and name:
            self._select, self._first_option = name, None
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._first_option is None:
                self._first_option = (self._select, value)
                fields.setdefault(self._select, value)
            if "selected" in a:
                fields[self._select] = value
        elif tag == "textarea" and name:
            self._textarea = name
            fields[name] = ""

    def handle_endtag(self, tag) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data) -> None:
        if self._textarea and self.forms:
            fields = self.forms[-1]["fields"]
            if not fields[self._textarea]:
                data = data.removeprefix("\r").removeprefix("\n")  # browsers drop a textarea's first newline
            fields[self._textarea] += data


def form_on(page: str, having: str) -> dict:
    """The fields of the first form on ``page`` with a field or button named ``having``."""
    parser = _Forms()
    parser.feed(page)
    for form in parser.forms:
        if having in form["fields"] or having in form["buttons"]:
            return form
    raise AssertionError(f"no form with {having!r}")


# --- a meeting at a time that happens twice ---------------------------------------------------------------

# The last Sunday of October 2027: at 03:00 summer time the clocks go back to 02:00, so 02:30 happens twice.
FALL_BACK = "2027-10-31"
SPRING_FORWARD = "2027-03-28"  # 02:00 jumps to 03:00: 02:30 does not exist


def _meeting_form(**overrides) -> dict[str, str]:
    return {
        "title": "Forum at the clock change",
        "day": FALL_BACK,
        "start_time": "02:30",
        "end_time": "04:00",
        "venue": "Town hall",
        "online_url": "",
        "agenda_md": "1. Welcome",
        "save": "Save",
        **overrides,
    }


def _forum_in(app: Flask, make: Factory, zone: str) -> tuple[int, FlaskClient]:
    world = make.world()
    with app.app_context():
        db.session.get(Forum, world["forum"]).timezone = zone
        db.session.commit()
    return world["forum"], sign_in(app.test_client(), world["organiser"])


def _last_meeting(app: Flask) -> Meeting:
    with app.app_context():
        meeting = db.session.execute(db.select(Meeting).order_by(Meeting.id.desc())).scalars().first()
        db.session.expunge_all()
        return meeting


@pytest.mark.parametrize("zone", ["Europe/Skopje", "Europe/Sarajevo"])
@pytest.mark.parametrize("fold", [0, 1], ids=["first-summer", "second-winter"])
def test_a_meeting_at_an_ambiguous_time_is_saved_unchanged_at_the_same_instant(app, make, zone, fold):
    forum_id, organiser = _forum_in(app, make, zone)
    expected = datetime(2027, 10, 31, 2, 30, tzinfo=ZoneInfo(zone), fold=fold).astimezone(UTC)
    # Planned: the form asks which 02:30, with the two named by summer and winter time.
    asked = post_form(organiser, f"/forums/{forum_id}/meetings/new", _meeting_form())
    page = asked.get_data(as_text=True)
    assert asked.status_code == 400 and "occurs twice" in page
    assert "the first 02:30 (summer time, CEST (UTC+02:00))" in page
    assert "the second 02:30 (winter time, CET (UTC+01:00))" in page
    assert 'name="end_fold"' not in page  # 04:00 happens once: nothing to choose
    response = post_form(organiser, f"/forums/{forum_id}/meetings/new", _meeting_form(start_fold=str(fold)))
    assert response.status_code == 302
    meeting = _last_meeting(app)
    assert meeting.starts_at == expected

    # The edit form carries the choice (prefilled from the stored instant) and saving it unchanged keeps it.
    edit = organiser.get(f"/meetings/{meeting.id}/edit").get_data(as_text=True)
    form = form_on(edit, "start_fold")
    assert form["fields"]["start_fold"] == str(fold)
    response = organiser.post(f"/meetings/{meeting.id}/edit", data={**form["fields"], "save": "Save"})
    assert response.status_code == 302, response.get_data(as_text=True)
    saved = _last_meeting(app)
    assert saved.starts_at == expected and saved.version == meeting.version  # nothing changed

    # Choosing the other 02:30 moves the meeting by one hour.
    other = {**form["fields"], "start_fold": str(1 - fold), "version": str(saved.version), "save": "Save"}
    assert organiser.post(f"/meetings/{meeting.id}/edit", data=other).status_code == 302
    moved = _last_meeting(app)
    assert abs((moved.starts_at - expected).total_seconds()) == 3600


def test_an_ambiguous_end_time_has_its_own_choice(app, make):
    forum_id, organiser = _forum_in(app, make, "Europe/Skopje")
    data = _meeting_form(start_time="01:30", end_time="02:45", end_fold="1")
    assert post_form(organiser, f"/forums/{forum_id}/meetings/new", data).status_code == 302
    meeting = _last_meeting(app)
    assert meeting.ends_at == datetime(2027, 10, 31, 1, 45, tzinfo=UTC)  # the second 02:45, CET
    edit = organiser.get(f"/meetings/{meeting.id}/edit").get_data(as_text=True)
    fields = form_on(edit, "end_fold")["fields"]
    assert fields["end_fold"] == "1" and "start_fold" not in fields
    assert organiser.post(f"/meetings/{meeting.id}/edit", data={**fields, "save": "Save"}).status_code == 302
    assert _last_meeting(app).ends_at == meeting.ends_at


@pytest.mark.parametrize("zone", ["Europe/Skopje", "Europe/Sarajevo"])
def test_a_time_in_the_spring_gap_gets_an_error_at_its_field(app, make, zone):
    forum_id, organiser = _forum_in(app, make, zone)
    response = post_form(organiser, f"/forums/{forum_id}/meetings/new", _meeting_form(day=SPRING_FORWARD))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f"02:30 does not exist on 28 Mar 2027 in {zone}" in page
    assert 'id="start_time-error"' in page
    assert _last_meeting(app) is None


# --- "Mark everyone who accepted as present" -------------------------------------------------------------


def _attendance_fields(client: FlaskClient, meeting_id: int) -> dict[str, str]:
    return form_on(client.get(f"/meetings/{meeting_id}/attendance").get_data(as_text=True), "save")["fields"]


def _held_with_answers(app: Flask, make: Factory, *answers: str) -> tuple[dict, int, list[int]]:
    """A held meeting with one invitee per answer (each a new forum member)."""
    world = make.world()
    meeting_id = make.meeting(world["forum"], state="held", starts_in_days=-1)
    invitations = []
    for answer in answers:
        email = make.user()
        make.add_member(world["forum"], email)
        invitation_id = make.invite(meeting_id, email)
        with app.app_context():
            db.session.get(Invitation, invitation_id).rsvp = answer
            db.session.commit()
        invitations.append(invitation_id)
    return world, meeting_id, invitations


def _mark_accepted(client: FlaskClient, meeting_id: int):
    fields = _attendance_fields(client, meeting_id)
    return client.post(f"/meetings/{meeting_id}/attendance", data={**fields, "mark_accepted": "1"})


def test_marking_everyone_present_says_what_it_did_in_correct_english(app, make):
    world, meeting_id, (first, second, _declined) = _held_with_answers(app, make, "accepted", "accepted", "declined")
    organiser = sign_in(app.test_client(), world["organiser"])
    page = _mark_accepted(organiser, meeting_id).get_data(as_text=True)
    assert "2 people who accepted are marked present. Check and save." in page
    make.mark_attendance(first, "present")
    page = _mark_accepted(organiser, meeting_id).get_data(as_text=True)
    assert "1 person who accepted is marked present. Check and save." in page
    make.mark_attendance(second, "present")
    page = _mark_accepted(organiser, meeting_id).get_data(as_text=True)
    assert "Everyone who accepted is already marked present." in page
    assert "0 people" not in page and "0 person" not in page
    make.mark_attendance(second, "excused")
    page = _mark_accepted(organiser, meeting_id).get_data(as_text=True)
    assert "1 person who accepted has another mark, which was kept." in page and "0 people" not in page


def test_marking_everyone_present_when_nobody_accepted_says_so(app, make):
    world, meeting_id, _ = _held_with_answers(app, make, "declined", "needs-action")
    organiser = sign_in(app.test_client(), world["organiser"])
    page = _mark_accepted(organiser, meeting_id).get_data(as_text=True)
    assert "Nobody has accepted the invitation, so nobody was marked present." in page and "0 people" not in page


def test_locked_attendance_neither_offers_nor_accepts_marking_everyone_present(app, make):
    world, meeting_id, (accepted,) = _held_with_answers(app, make, "accepted")
    organiser = sign_in(app.test_client(), world["organiser"])
    fields = _attendance_fields(organiser, meeting_id)  # opened before the minutes were adopted
    make.minutes(meeting_id, state="adopted")
    page = organiser.get(f"/meetings/{meeting_id}/attendance").get_data(as_text=True)
    assert 'name="mark_accepted"' not in page and "Mark everyone who accepted as present" not in page
    response = organiser.post(f"/meetings/{meeting_id}/attendance", data={**fields, "mark_accepted": "1"})
    assert response.status_code == 302
    page = organiser.get(response.headers["Location"]).get_data(as_text=True)
    assert "The minutes are adopted: attendance is part of the locked record." in page
    assert "marked present. Check and save." not in page
    with app.app_context():
        assert db.session.get(Invitation, accepted).attendance is None


# --- a guest is led only to pages they can open -------------------------------------------------------------

HREF_RE = re.compile(r'href="(/[^"#]*)')


def _guest_world(app: Flask, make: Factory) -> tuple[dict, int, FlaskClient]:
    """A held meeting with circulated minutes and an action raised there; a guest (member of no forum) who came."""
    world = make.world()
    meeting_id = make.meeting(world["forum"], state="held", starts_in_days=-1)
    guest = make.user(name="Guest Person")
    invitation_id = make.invite(meeting_id, guest)
    make.mark_attendance(invitation_id, "present")
    make.minutes(meeting_id, state="circulated")
    make.action(world["forum"], world["participant"], meeting_id=meeting_id, title="Send the referral form")
    return world, meeting_id, sign_in(app.test_client(), guest)


def test_a_guest_is_never_linked_to_a_page_they_cannot_open(app, make):
    world, meeting_id, guest = _guest_world(app, make)
    start = ["/", f"/meetings/{meeting_id}", "/calendar", "/actions", "/account"]
    seen: dict[str, int] = {}
    broken: list[tuple[str, str, int]] = []
    queue = [(path, "start") for path in start]
    while queue and len(seen) < 80:
        path, linked_from = queue.pop(0)
        if path in seen or path.startswith(("/static/", "/logout")) or path.endswith(".ics"):
            continue
        response = guest.get(path)
        seen[path] = response.status_code
        if response.status_code in (403, 404):
            broken.append((linked_from, path, response.status_code))
            continue
        if response.status_code == 200 and response.mimetype == "text/html":
            queue += [(href.replace("&amp;", "&"), path) for href in HREF_RE.findall(response.get_data(as_text=True))]
    assert seen[f"/meetings/{meeting_id}"] == 200 and f"/meetings/{meeting_id}/minutes/versions" in seen
    assert broken == []
    meeting_page = guest.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert f"/forums/{world['forum']}" not in meeting_page  # neither the forum nor its matrix
    organiser = sign_in(app.test_client(), world["organiser"])
    organiser_page = organiser.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert f'href="/forums/{world["forum"]}"' in organiser_page
    assert f'href="/forums/{world["forum"]}/actions/matrix"' in organiser_page


def _nav(page: str) -> str:
    return re.search(r'<nav class="navbar.*?</nav>', page, re.S).group(0)


def test_a_guests_navigation_shows_their_meetings_instead_of_an_empty_forums_tab(app, make):
    world, _meeting_id, guest = _guest_world(app, make)
    home = guest.get("/").get_data(as_text=True)
    assert 'href="/forums"' not in home  # neither the tab nor "All my forums": the list would be empty
    nav = _nav(home)
    assert ">Forums<" not in nav
    assert 'href="/calendar"' in nav and "My meetings" in nav and 'href="/actions"' in nav
    participant = sign_in(app.test_client(), world["participant"])
    nav = _nav(participant.get("/").get_data(as_text=True))
    assert 'href="/forums"' in nav and "My meetings" not in nav


# --- inviting a guest whose organisation is not in Forum Desk yet ---------------------------------------------


def _invite(client: FlaskClient, meeting_id: int, **data: str):
    return post_form(
        client,
        f"/meetings/{meeting_id}",
        {"email": "", "name": "", "organisation_id": "0", **data},
        action=f"/meetings/{meeting_id}/invitees",
    )


def _organisations(app: Flask) -> list[tuple[str, str, str]]:
    with app.app_context():
        return sorted(
            db.session.execute(db.select(Organisation.name, Organisation.kind, Organisation.country)).tuples()
        )


def test_an_organiser_invites_a_guest_with_a_new_organisation_in_one_step(app, make):
    world = make.world()
    meeting_id = make.meeting(world["forum"], state="scheduled")
    organiser = sign_in(app.test_client(), world["organiser"])
    page = organiser.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    form = form_on(page, "new_organisation_name")["fields"]
    assert form["new_organisation_country"] == "BA"  # the forum's country, chosen for them
    before = _organisations(app)
    response = _invite(
        organiser,
        meeting_id,
        email="amra@crveni-kriz.ba",
        name="Amra H.",
        new_organisation_name="  Crveni križ Kantona Sarajevo ",
        new_organisation_kind="ngo",
        new_organisation_country="BA",
    )
    assert response.status_code == 302
    assert _organisations(app) == sorted([*before, ("Crveni križ Kantona Sarajevo", "ngo", "BA")])
    with app.app_context():
        guest = db.session.execute(db.select(User).where(User.email == "amra@crveni-kriz.ba")).scalar_one()
        assert guest.organisation is not None and guest.organisation.name == "Crveni križ Kantona Sarajevo"
        actions = set(db.session.execute(db.select(AuditEvent.verb)).scalars())
        assert "organisation.create" in actions and "user.invite" in actions
    # The same name again (another case) is the same organisation, not a second one.
    response = _invite(
        organiser,
        meeting_id,
        email="edin@crveni-kriz.ba",
        name="Edin K.",
        new_organisation_name="CRVENI KRIŽ KANTONA SARAJEVO",
        new_organisation_kind="ngo",
        new_organisation_country="BA",
    )
    assert response.status_code == 302
    assert len(_organisations(app)) == len(before) + 1
    with app.app_context():
        edin = db.session.execute(db.select(User).where(User.email == "edin@crveni-kriz.ba")).scalar_one()
        assert edin.organisation_id == guest.organisation_id


def test_a_new_organisation_and_one_from_the_list_at_once_is_refused_and_changes_nothing(app, make):
    world = make.world()
    meeting_id = make.meeting(world["forum"], state="scheduled")
    listed = make.organisation("Centar za socijalni rad", kind="social_welfare", country="BA")
    organiser = sign_in(app.test_client(), world["organiser"])
    before = _organisations(app)
    response = _invite(
        organiser,
        meeting_id,
        email="new@example.org",
        name="New Person",
        organisation_id=str(listed),
        new_organisation_name="Something else",
        new_organisation_kind="ngo",
        new_organisation_country="BA",
    )
    assert response.status_code == 400
    assert "Choose an organisation from the list or name a new one, not both." in response.get_data(as_text=True)
    assert _organisations(app) == before
    with app.app_context():
        assert db.session.execute(db.select(User).where(User.email == "new@example.org")).first() is None


def test_only_organisers_are_offered_or_allowed_a_new_organisation(app, make):
    world = make.world()
    meeting_id = make.meeting(world["forum"], state="scheduled")
    make.invite(meeting_id, world["participant"])
    participant = sign_in(app.test_client(), world["participant"])
    assert 'name="new_organisation_name"' not in participant.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    before = _organisations(app)
    response = _invite(
        participant,
        meeting_id,
        email="x@example.org",
        name="X",
        new_organisation_name="Participant's agency",
        new_organisation_kind="ngo",
        new_organisation_country="BA",
    )
    assert response.status_code in (403, 404)
    assert _organisations(app) == before


def test_inviting_someone_who_has_an_account_creates_no_organisation(app, make):
    world = make.world()
    meeting_id = make.meeting(world["forum"], state="scheduled")
    organiser = sign_in(app.test_client(), world["organiser"])
    before = _organisations(app)
    response = _invite(
        organiser,
        meeting_id,
        email=world["outsider"],
        name="Someone",
        new_organisation_name="Not created",
        new_organisation_kind="ngo",
        new_organisation_country="BA",
    )
    assert response.status_code == 302  # the same answer as for a new address
    assert _organisations(app) == before


# --- emails: the action confirmation with buttons, RSVP answers Yes / Maybe / No ----------------------------------


@pytest.fixture
def smtp(app: Flask):
    server = SmtpServer().start()
    saved = {k: app.config[k] for k in ("MAIL_SERVER", "MAIL_PORT", "MAIL_DELIVERY")}
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, MAIL_DELIVERY=True)
    yield server
    server.stop()
    app.config.update(saved)


def _deliver(app: Flask) -> None:
    with app.app_context():
        deliver_due(now=datetime.now(UTC) + timedelta(days=1))
        db.session.remove()


def _said(app: Flask, code: str, text: str, **variables) -> str:
    with app.test_request_context("/"), language.speaking(code):
        return gettext(text, **variables)


class _Links(HTMLParser):
    """The links of an HTML email: (href, text)."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None

    def handle_starttag(self, tag, attrs) -> None:
        if tag == "a":
            self._href, self._text = dict(attrs).get("href") or "", ""

    def handle_data(self, data) -> None:
        if self._href is not None:
            self._text += data

    def handle_endtag(self, tag) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((self._href, self._text.strip()))
            self._href = None


def _links(html: str) -> list[tuple[str, str]]:
    parser = _Links()
    parser.feed(html)
    return parser.links


@pytest.mark.parametrize("code", ["en", "mk"])
def test_the_action_confirmation_email_has_buttons_in_the_owners_language(app, make, smtp, code):
    world = make.world()
    meeting_id = make.meeting(world["forum"], state="held", starts_in_days=-1)
    with app.app_context():
        db.session.execute(db.update(User).where(User.email == world["participant"]).values(locale=code))
        db.session.commit()
    make.action(world["forum"], world["participant"], meeting_id=meeting_id, title="Visit the prison's release unit")
    _deliver(app)
    (message,) = smtp.to(world["participant"])
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    assert f'lang="{code}"' in html and "Visit the prison&#39;s release unit" in html
    buttons = {label: href for href, label in _links(html) if "/actions/confirm/" in href}
    accept, decline = _said(app, code, "Accept the action"), _said(app, code, "Decline the action")
    assert set(buttons) == {accept, decline}
    assert buttons[accept].endswith("?answer=accept") and buttons[decline].endswith("?answer=decline")
    assert _said(app, code, "Do you take this action on?") in html
    # The text part: one link (to the page with both buttons), no longer two raw links to choose between.
    confirm_links = re.findall(r"http://\S+/actions/confirm/\S+", text)
    assert len(confirm_links) == 1 and "?answer=" not in confirm_links[0]
    assert buttons[accept].startswith(confirm_links[0])
    # Each button opens the confirmation page (a GET records nothing).
    page = app.test_client().get(buttons[accept].removeprefix("http://forum.test"))
    assert page.status_code == 200 and accept in page.get_data(as_text=True)


def test_rsvp_buttons_read_yes_maybe_no(app, make, smtp):
    world = make.world()
    meeting_id = make.meeting(world["forum"], state="draft", starts_in_days=20)
    make.invite(meeting_id, world["participant"])
    organiser = sign_in(app.test_client(), world["organiser"])
    with app.app_context():
        version = db.session.get(Meeting, meeting_id).version
    token = form_on(organiser.get(f"/meetings/{meeting_id}").get_data(as_text=True), "csrf_token")["fields"]
    response = organiser.post(
        f"/meetings/{meeting_id}/state",
        data={"csrf_token": token["csrf_token"], "to_state": "scheduled", "version": version},
    )
    assert response.status_code == 302
    _deliver(app)
    (message,) = smtp.to(world["participant"])
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    rsvp = [(label, href.rsplit("=", 1)[1]) for href, label in _links(html) if "/rsvp/" in href]
    assert rsvp == [("Yes", "accepted"), ("Maybe", "tentative"), ("No", "declined")]
    assert re.search(r"^  Yes: +http://\S+answer=accepted$", text, re.M)
    assert re.search(r"^  No: +http://\S+answer=declined$", text, re.M)
    assert "I will come" not in text + html and "I cannot come" not in text + html
    # The answer page the button opens, and the meeting page's own form, say the same.
    first_link = next(href for href, _label in _links(html) if "/rsvp/" in href)
    page = app.test_client().get(first_link.removeprefix("http://forum.test"))
    answers = re.findall(
        r'<label class="form-check-label" for="answer-\d">([^<]+)</label>', page.get_data(as_text=True)
    )
    assert answers == ["Yes", "Maybe", "No"]
    participant = sign_in(app.test_client(), world["participant"])
    page = participant.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    answers = re.findall(r'<label class="form-check-label" for="answer-\d">([^<]+)</label>', page)
    assert answers == ["Yes", "Maybe", "No"]


# --- the new API token: copy button, selectable without JavaScript, contrast --------------------------------------


def _new_token_page(client: FlaskClient) -> str:
    return post_form(client, "/account", {"name": "Reporting script"}, action="/account/api-tokens").get_data(
        as_text=True
    )


def test_the_new_token_is_plain_selectable_text_with_a_copy_button_for_scripts_to_show(app, make):
    client = sign_in(app.test_client(), make.user())
    page = _new_token_page(client)
    secret = re.search(r'<code id="new-api-token">([^<]+)</code>', page).group(1)
    assert len(secret) > 30
    button = re.search(r"<button[^>]*data-copy=\"new-api-token\"[^>]*>([^<]+)</button>", page)
    assert button and " hidden" in button.group(0) and button.group(1) == "Copy the token"  # shown by app.js
    assert 'data-copy-status="new-api-token" aria-live="polite"' in page


@pytest.mark.browser
@pytest.mark.slow
def test_the_copy_button_copies_the_token_and_the_token_passes_contrast(app, make, page, live_server):
    from .browser import sign_in as browser_sign_in
    from .factories import PASSWORD
    from .test_accessibility import run_axe

    email = make.user()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    browser_sign_in(page, live_server, email, PASSWORD)
    page.goto(live_server + "/account")
    page.fill("#token-name", "Reporting script")
    page.get_by_role("button", name="Create a token").click()
    page.wait_for_selector("#new-api-token")
    secret = page.inner_text("#new-api-token").strip()
    page.get_by_role("button", name="Copy the token").click()
    page.wait_for_selector("[data-copy-status='new-api-token']:has-text('Copied')")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    colours = page.evaluate(
        "(() => { const s = getComputedStyle(document.getElementById('new-api-token')); return [s.color, s.backgroundColor]; })()"
    )
    assert colours == ["rgb(27, 31, 36)", "rgb(255, 255, 255)"]
    found = run_axe(page)
    blocking = [v for v in found["violations"] if v["impact"] in ("serious", "critical")]
    assert "color-contrast" in found["ran"] and blocking == []

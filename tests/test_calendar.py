"""Issue 10: calendar files. Time zones against zoneinfo, line folding, feeds and downloads.

Every calendar is parsed with ``icalendar`` and with ``vobject`` (validate=True), an
independent implementation that reads the VTIMEZONE rules itself.
"""

from __future__ import annotations

import gzip
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject
from flask import Flask
from sqlalchemy import select

from forum_app.calendar import ics
from forum_app.calendar.timezones import UnsupportedZone, transitions, vtimezone
from forum_app.core import clock
from forum_app.extensions import db
from forum_app.models import ActionItem, Forum, Meeting, NotificationSettings, OutboxMessage, User
from forum_app.vocab import FORUM_TIMEZONES

from .conftest import csrf_token, login
from .factories import Factory
from .test_notifications import _actor, cancel, local, plan_meeting, schedule

ZONES = sorted((set(FORUM_TIMEZONES) | {"Europe/Sarajevo", "Europe/Skopje", "Europe/Podgorica"}) - {"UTC"})


def parse_both(text: str):
    ical = icalendar.Calendar.from_ical(text)
    vcal = vobject.readOne(text)
    vcal.validate()
    return ical, vcal


def vobject_zone(zone: str):
    """The zone as vobject understands our VTIMEZONE (its own RRULE evaluation via dateutil)."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//test//")
    cal.add("version", "2.0")
    cal.add_component(vtimezone(zone))
    parsed = vobject.readOne(cal.to_ical().decode())
    parsed.validate()
    return parsed.vtimezone.gettzinfo()


@pytest.mark.parametrize("zone", ZONES)
def test_vtimezone_matches_zoneinfo_at_every_transition_2020_2040(zone: str) -> None:
    component = vtimezone(zone)
    text = component.to_ical().decode()
    assert "RDATE" not in text
    observances = component.subcomponents
    assert 1 <= len(observances) <= 2 and all(o.get("RRULE") for o in observances if len(observances) == 2)
    by_icalendar = icalendar.Timezone.from_ical(text).to_tz()
    by_vobject = vobject_zone(zone)
    real = ZoneInfo(zone)
    checked = 0
    for year in range(2020, 2041):
        moments = [datetime(year, m, 15, 12, tzinfo=UTC) for m in (1, 4, 7, 10)]
        for t in transitions(zone, year):
            moments += [t.at - timedelta(minutes=1), t.at, t.at + timedelta(minutes=1)]
            checked += 1
        for moment in moments:
            expected = moment.astimezone(real).utcoffset()
            assert moment.astimezone(by_icalendar).utcoffset() == expected, (zone, moment)
            assert moment.astimezone(by_vobject).utcoffset() == expected, (zone, moment)
    if zone != "Europe/Istanbul":
        assert checked == 42  # two changes a year, 21 years


def test_zones_whose_rules_cannot_be_written_as_one_yearly_rule_are_refused() -> None:
    with pytest.raises(UnsupportedZone):
        vtimezone("Africa/Casablanca")  # Ramadan changes: no yearly rule
    with pytest.raises(UnsupportedZone):
        vtimezone("Not/A_Zone")


def _invite_text(app: Flask, make: Factory, start: datetime, title: str = "Sastanak") -> tuple[str, int]:
    """The calendar of the first invitation sent when a meeting at ``start`` is scheduled."""
    w = make.world()
    meeting_id = plan_meeting(app, w, start, title=title)
    schedule(app, w, meeting_id, start - timedelta(days=10))
    with app.app_context():
        row = (
            db.session.execute(
                select(OutboxMessage).where(OutboxMessage.meeting_id == meeting_id).order_by(OutboxMessage.id)
            )
            .scalars()
            .first()
        )
        return row.attachments[0]["data"], meeting_id


@pytest.mark.parametrize(
    "start, expected_utc",
    [
        (local(2021, 6, 30, 10), datetime(2021, 6, 30, 8, 0, tzinfo=UTC)),  # the Sarajevo forum
        (local(2021, 3, 28, 9), datetime(2021, 3, 28, 7, 0, tzinfo=UTC)),  # the morning clocks went forward
        (local(2021, 10, 31, 9), datetime(2021, 10, 31, 8, 0, tzinfo=UTC)),  # the morning clocks went back
        (local(2021, 3, 28, 3, 30), datetime(2021, 3, 28, 1, 30, tzinfo=UTC)),  # just after the jump
    ],
)
def test_meetings_are_placed_correctly_by_both_parsers(app: Flask, make: Factory, start, expected_utc) -> None:
    assert start == expected_utc
    text, _id = _invite_text(app, make, start)
    ical, vcal = parse_both(text)
    assert ical.walk("VEVENT")[0].decoded("DTSTART").astimezone(UTC) == expected_utc
    assert vcal.vevent.dtstart.value.astimezone(UTC) == expected_utc
    assert re.search(r"DTSTART;TZID=Europe/Sarajevo:\d{8}T\d{6}\r\n", text)


def test_lines_end_crlf_and_fold_at_75_octets_without_splitting_characters(app: Flask, make: Factory) -> None:
    title = (
        "Координативен форум Скопје: реинтеграција по отпуштање од затвор — Takimi i forumit: "
        "riintegrimi pas lirimit, përgjegjësitë e ndërsjella ë ç Ë Ç"
    )
    text, _id = _invite_text(app, make, local(2021, 7, 2, 10), title=title)
    raw = text.encode("utf-8")
    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    lines = raw.split(b"\r\n")[:-1]
    assert max(len(line) for line in lines) <= 75
    for line in lines:
        line.decode("utf-8")  # no multi-byte character split across a fold
    assert any(line.startswith(b" ") for line in lines), "the long title must have been folded"
    ical, vcal = parse_both(text)
    assert str(ical.walk("VEVENT")[0]["SUMMARY"]) == title == vcal.vevent.summary.value


def test_every_forum_zone_can_be_sent(app: Flask, make: Factory) -> None:
    """Every zone a forum may use produces an invitation both parsers read at the right instant."""
    w = make.world()
    start = datetime(2030, 3, 31, 8, 0, tzinfo=UTC)
    for zone in FORUM_TIMEZONES:
        with app.app_context():
            db.session.get(Forum, w["forum"]).timezone = zone
            db.session.commit()
        meeting_id = plan_meeting(app, w, start, title=f"Meeting {zone}")
        with app.app_context(), clock.at(start - timedelta(days=3)):
            meeting = db.session.get(Meeting, meeting_id)
            text = ics.invitation_calendar(meeting, meeting.invitations[0], "REQUEST", clock.utcnow())
        ical, vcal = parse_both(text)
        assert vcal.vevent.dtstart.value.astimezone(UTC) == start, zone
        assert ical.walk("VEVENT")[0].decoded("DTSTART").astimezone(UTC) == start, zone
        assert ("VTIMEZONE" in text) is (zone != "UTC")


# --- feeds and downloads ----------------------------------------------------------------------------------


@pytest.fixture
def feed_world(app: Flask, make: Factory):
    w = make.world()
    now = datetime.now(UTC)
    w["upcoming"] = plan_meeting(app, w, now + timedelta(days=10), title="Upcoming ë")
    schedule(app, w, w["upcoming"], now)
    w["cancelled"] = plan_meeting(app, w, now + timedelta(days=20), title="Called off")
    schedule(app, w, w["cancelled"], now)
    cancel(app, w, w["cancelled"], now)
    w["draft"] = plan_meeting(app, w, now + timedelta(days=30), title="Still a draft")
    with app.app_context():
        owner = _actor(w["participant"])
        action = ActionItem(
            forum_id=w["forum"],
            title="Draft the referral protocol",
            owner_id=owner.id,
            due_on=date.today() + timedelta(days=12),
            state="accepted",
        )
        db.session.add(action)
        db.session.commit()
        w["action"] = action.id
    return w


def _feed_path(app: Flask, client, email: str) -> str:
    login(client, email)
    token = csrf_token(client, "/account")
    assert client.post("/account/calendar-feed", data={"csrf_token": token}).status_code == 302
    page = client.get("/account").get_data(as_text=True)
    url = re.search(r'id="feed-url" type="text" readonly value="([^"]+)"', page).group(1)
    return url.replace("http://forum.test", "")


def test_personal_feed(app: Flask, feed_world) -> None:
    w = feed_world
    owner = app.test_client()
    path = _feed_path(app, owner, w["participant"])
    assert re.fullmatch(r"/calendar/[A-Za-z0-9_-]{32}\.ics", path)
    subscriber = app.test_client()  # a calendar server: no session
    response = subscriber.get(path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    text = response.get_data(as_text=True)
    ical, vcal = parse_both(text)
    assert ical["METHOD"] == "PUBLISH" and "REFRESH-INTERVAL;VALUE=DURATION:PT1H" in text
    assert "ORGANIZER" not in text and "ATTENDEE" not in text
    events = {str(e["SUMMARY"]): e for e in ical.walk("VEVENT")}
    assert set(events) == {"Upcoming ë", "Cancelled: Called off", "Due: Draft the referral protocol"}
    assert str(events["Cancelled: Called off"]["STATUS"]) == "CANCELLED"
    due = events["Due: Draft the referral protocol"]
    assert due.decoded("DTSTART") == date.today() + timedelta(days=12)
    assert due.decoded("DTEND") - due.decoded("DTSTART") == timedelta(days=1)
    # Conditional GET.
    etag = response.headers["ETag"]
    again = subscriber.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    # A change makes a new ETag.
    with app.app_context():
        db.session.get(ActionItem, w["action"]).title = "Draft the referral protocol (v2)"
        db.session.commit()
    assert subscriber.get(path, headers={"If-None-Match": etag}).status_code == 200
    # Regenerating kills the old address.
    new_path = _feed_path(app, owner, w["participant"])
    assert new_path != path
    old = subscriber.get(path)
    assert old.status_code == 404 and "not valid" in old.get_data(as_text=True)
    assert subscriber.get(new_path).status_code == 200
    # Tampered tokens: the same clear answer.
    token = new_path.split("/")[-1][:-4]
    for bad in (token[:-1] + ("A" if token[-1] != "A" else "B"), token[:20], "x" * 32, "../" + token):
        assert subscriber.get(f"/calendar/{bad}.ics").status_code == 404


def test_a_feed_poll_with_gzip_and_its_etag_gets_304(app: Flask, feed_world) -> None:
    """Issue 20, point 5. Every calendar app asks for gzip, and the app compresses (web_delivery): the
    compressed feed's ETag, sent back, must answer 304 with no body, not 200 and the whole feed again.
    Through the whole WSGI app, as gunicorn serves it (no proxy compresses: docs/operations.md)."""
    w = feed_world
    path = _feed_path(app, app.test_client(), w["participant"])
    token = path.split("/")[-1][:-4]
    poller = app.test_client()  # a calendar server: no session, always gzip
    gzip_only = {"Accept-Encoding": "gzip, deflate"}
    for feed in (path, f"/calendar/{token}/forums/{w['forum']}.ics"):
        first = poller.get(feed, headers=gzip_only)
        assert first.status_code == 200 and first.headers["Content-Encoding"] == "gzip", feed
        etag = first.headers["ETag"]
        again = poller.get(feed, headers={**gzip_only, "If-None-Match": etag})
        assert again.status_code == 304 and again.get_data() == b"", feed
        # The 304 names the same representation: its ETag, its Vary, its caching.
        assert again.headers["ETag"] == etag and "Accept-Encoding" in again.headers["Vary"]
        assert again.headers["Cache-Control"] == "private, no-cache" and "Content-Encoding" not in again.headers
        # A client without gzip holds the other representation's ETag: each one's own answers 304.
        plain = poller.get(feed)
        assert "Content-Encoding" not in plain.headers and plain.headers["ETag"] != etag
        assert poller.get(feed, headers={"If-None-Match": plain.headers["ETag"]}).status_code == 304
        assert poller.get(feed, headers={**gzip_only, "If-None-Match": plain.headers["ETag"]}).status_code == 304
        # Another tag, or a client that stopped asking for gzip, gets the body.
        assert poller.get(feed, headers={**gzip_only, "If-None-Match": '"something-else"'}).status_code == 200
        assert poller.get(feed, headers={"If-None-Match": etag}).status_code == 200
    # A changed feed has a new ETag: a poll with the old one gets the new body, compressed.
    held = poller.get(path, headers=gzip_only).headers["ETag"]
    with app.app_context():
        db.session.get(ActionItem, w["action"]).title = "Draft the referral protocol (v3)"
        db.session.commit()
    changed = poller.get(path, headers={**gzip_only, "If-None-Match": held})
    assert changed.status_code == 200 and changed.headers["ETag"] not in (held, None)
    assert b"(v3)" in gzip.decompress(changed.get_data())


def test_feeds_say_how_often_to_poll_as_durations(app: Flask, feed_world) -> None:
    """Issue 20, point 5: X-PUBLISHED-TTL (Outlook) as a DURATION, "PT1H", not Python's "1:00:00";
    REFRESH-INTERVAL (RFC 7986) typed as one."""
    w = feed_world
    path = _feed_path(app, app.test_client(), w["participant"])
    text = app.test_client().get(path).get_data(as_text=True)
    assert "\r\nX-PUBLISHED-TTL:PT1H\r\n" in text and "\r\nREFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in text
    ical, vcal = parse_both(text)
    assert icalendar.vDuration.from_ical(str(ical["X-PUBLISHED-TTL"])) == timedelta(hours=1)
    assert vcal.contents["x-published-ttl"][0].value == "PT1H"
    assert vcal.contents["refresh-interval"][0].params["VALUE"] == ["DURATION"]


def test_feeds_stop_for_a_deactivated_account_and_forum_feeds_follow_visibility(
    app: Flask, feed_world, make: Factory
) -> None:
    w = feed_world
    member = app.test_client()
    path = _feed_path(app, member, w["participant"])
    token = path.split("/")[-1][:-4]
    forum_path = f"/calendar/{token}/forums/{w['forum']}.ics"
    response = app.test_client().get(forum_path)
    assert response.status_code == 200
    ical, _v = parse_both(response.get_data(as_text=True))
    assert {str(e["SUMMARY"]) for e in ical.walk("VEVENT")} == {"Upcoming ë", "Cancelled: Called off"}
    assert app.test_client().get(f"/calendar/{token}/forums/{w['other_forum']}.ics").status_code == 404
    outsider = app.test_client()
    outsider_token = _feed_path(app, outsider, w["outsider"]).split("/")[-1][:-4]
    assert app.test_client().get(f"/calendar/{outsider_token}/forums/{w['forum']}.ics").status_code == 404
    with app.app_context():
        db.session.execute(db.update(User).where(User.email == w["participant"]).values(active=False))
        db.session.commit()
    assert app.test_client().get(path).status_code == 404


def test_meeting_download(app: Flask, feed_world) -> None:
    w = feed_world
    member = app.test_client()
    login(member, w["participant"])
    page = member.get(f"/meetings/{w['upcoming']}").get_data(as_text=True)
    assert f'href="/meetings/{w["upcoming"]}.ics"' in page and "Download .ics" in page
    response = member.get(f"/meetings/{w['upcoming']}.ics")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/calendar")
    assert response.headers["Content-Disposition"].startswith("attachment")
    ical, _v = parse_both(response.get_data(as_text=True))
    assert ical["METHOD"] == "PUBLISH" and len(ical.walk("VEVENT")) == 1
    assert (
        member.get(f"/meetings/{w['upcoming']}.ics", headers={"If-None-Match": response.headers["ETag"]}).status_code
        == 304
    )
    assert member.get(f"/meetings/{w['draft']}.ics").status_code == 404  # a draft is the organisers'
    outsider = app.test_client()
    login(outsider, w["outsider"])
    assert outsider.get(f"/meetings/{w['upcoming']}.ics").status_code == 404
    anonymous = app.test_client().get(f"/meetings/{w['upcoming']}.ics")
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login")


# --- the profile page -------------------------------------------------------------------------------------


def test_profile_saves_zone_language_and_choices(app: Flask, make: Factory) -> None:
    w = make.world()
    client = app.test_client()
    login(client, w["participant"])
    page = client.get("/account").get_data(as_text=True)
    assert "Invitations to meetings, and their changes and cancellations, are always sent." in page
    token = csrf_token(client, "/account")
    response = client.post(
        "/account",
        data={
            "csrf_token": token,
            "timezone": "Europe/Skopje",
            "locale": "en",
            "meeting_reminders": "y",
            "minutes_notices": "y",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        user = _actor(w["participant"])
        settings = db.session.get(NotificationSettings, user.id)
        assert user.timezone == "Europe/Skopje" and user.locale == "en"
        assert (settings.meeting_reminders, settings.action_reminders, settings.minutes_notices) == (True, False, True)
    bad = client.post("/account", data={"csrf_token": token, "timezone": "Mars/Olympus", "locale": "xx"})
    assert bad.status_code == 400 and "Not a valid choice" in bad.get_data(as_text=True)
    with app.app_context():
        assert _actor(w["participant"]).timezone == "Europe/Skopje"

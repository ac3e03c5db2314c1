"""iCalendar files: invitations (iTIP REQUEST / CANCEL, RFC 5546) and published feeds.

Written with ``icalendar``, which escapes text, folds lines at 75 octets without
splitting a UTF-8 character, and ends lines with CRLF. What this module decides:

- One UID per meeting for ever (``Meeting.ical_uid``) and its SEQUENCE
  (``Meeting.ical_sequence``, raised by the meeting services when invitees must see a
  change), so every client updates the one event instead of adding another.
- Times carry the forum's TZID with a VTIMEZONE in RRULE form (``timezones``); UTC
  forums use UTC times ("Z") and no VTIMEZONE.
- Invitations name the organiser (by name, at Forum Desk's address for the meeting, which
  reads the calendars' answers: forum_app/inbound) and the one invitee the message is
  for (never the whole list: invitees do not learn each other's addresses, and a
  client answering the invitation answers for that person alone).
- Feeds (``METHOD:PUBLISH``) carry no ORGANIZER or ATTENDEE: a client that sees them in
  a subscribed calendar offers to answer or thinks the subscriber organises the
  meeting. DTSTAMP there is the last change, so an unchanged feed is byte-identical and
  its ETag stable.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from icalendar import Alarm, Calendar, Event, vCalAddress, vDuration, vText

from ..core.urls import external_url
from ..inbound.addresses import meeting_reply_address
from ..models import ActionItem, Invitation, Meeting, User
from .timezones import check_zone, vtimezone

PRODID = "-//Forum Desk//Forum Desk calendar//EN"
# Subscribed calendars poll this often (RFC 7986; X-PUBLISHED-TTL for Outlook).
FEED_REFRESH = timedelta(hours=1)
REMINDER_BEFORE = timedelta(minutes=30)

PARTSTAT = {"needs-action": "NEEDS-ACTION", "accepted": "ACCEPTED", "tentative": "TENTATIVE", "declined": "DECLINED"}


def _new_calendar(method: str | None) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    return cal


def _add_zones(cal: Calendar, zones: Iterable[str]) -> None:
    for zone in sorted(set(zones)):
        if zone != "UTC":
            cal.add_component(vtimezone(zone))


def _local(moment: datetime, zone: str) -> datetime:
    """The instant as the zone's wall clock (TZID=zone), or as UTC ("Z") for UTC forums."""
    if zone == "UTC":
        return moment.astimezone(UTC)
    return moment.astimezone(ZoneInfo(zone))


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=0)


_MD_LINK = re.compile(r"\[([^\]]+)\]\((\S+?)\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)(?=\S)(.+?)(?<=\S)\1")
_MD_HEADING = re.compile(r"^#{1,6}\s*", re.MULTILINE)


def plain_agenda(markdown_text: str) -> str:
    """The agenda as plain text for DESCRIPTION: Markdown read aloud, not rendered."""
    text = _MD_LINK.sub(r"\1 (\2)", markdown_text or "")
    text = _MD_EMPHASIS.sub(r"\2", text)
    text = _MD_HEADING.sub("", text)
    return text.strip()


def meeting_url(meeting: Meeting) -> str:
    return external_url("meetings.meeting", meeting_id=meeting.id)


def description(meeting: Meeting) -> str:
    from ..core.dates import format_span

    lines = [meeting.forum.title, format_span(meeting)]
    if meeting.state == "cancelled" and meeting.cancel_reason:
        lines.append(_("Cancelled: %(reason)s", reason=meeting.cancel_reason))
    if meeting.venue:
        lines.append(_("Venue: %(venue)s", venue=meeting.venue))
    if meeting.online_url:
        lines.append(_("Online: %(link)s", link=meeting.online_url))
    lines.append(_("Meeting page: %(link)s", link=meeting_url(meeting)))
    agenda = plain_agenda(meeting.agenda_md)
    if agenda:
        lines += ["", _("Agenda:"), agenda]
    return "\n".join(lines)


def _status(meeting: Meeting) -> str:
    return {"cancelled": "CANCELLED", "draft": "TENTATIVE"}.get(meeting.state, "CONFIRMED")


def organizer_address(meeting: Meeting) -> vCalAddress:
    """Forum Desk's own address for this meeting (``forum-desk+m123@…``), named after the organiser.

    Clients send their Yes / Maybe / No (iTIP REPLY) to the ORGANIZER: this address lets Forum
    Desk read them (forum_app/inbound) instead of one "Accepted: …" email per person landing in
    the organiser's mailbox; and an organiser who is also invited is not shown an invitation
    from themselves.
    """
    person: User | None = meeting.created_by
    name = (
        person.name if person is not None and person.active else parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[0]
    )
    address = vCalAddress(f"mailto:{meeting_reply_address(meeting.id)}")
    address.params["cn"] = vText(plain_quotes(name or "Forum Desk"))
    return address


def plain_quotes(name: str) -> str:
    """``name`` with typographic quotes for straight ones: Outlook and Gmail do not decode RFC 6868's ^',
    and a backslash-escaped quote is not valid in a parameter, so a name such as Amra "Ami" would be cut."""
    name = re.sub(r'"([^"]*)"', "\u201c\\1\u201d", name)
    return name.replace('"', "\u201d")


def attendee_address(invitation: Invitation, partstat: str | None = None) -> vCalAddress:
    address = vCalAddress(f"mailto:{invitation.user.email}")
    address.params["cn"] = vText(plain_quotes(invitation.user.name))  # as Outlook and Gmail show it
    address.params["cutype"] = "INDIVIDUAL"
    address.params["role"] = "REQ-PARTICIPANT"
    address.params["partstat"] = partstat or PARTSTAT.get(invitation.rsvp, "NEEDS-ACTION")
    address.params["rsvp"] = "TRUE"
    return address


def meeting_event(
    meeting: Meeting,
    *,
    dtstamp: datetime,
    method: str | None,
    invitation: Invitation | None = None,
    alarm: bool = False,
) -> Event:
    zone = meeting.forum.timezone
    event = Event()
    event.add("uid", meeting.ical_uid)
    event.add("sequence", meeting.ical_sequence)
    event.add("dtstamp", _utc(dtstamp))
    event.add("created", _utc(meeting.created_at))
    event.add("last-modified", _utc(meeting.updated_at))
    event.add("dtstart", _local(meeting.starts_at, zone))
    event.add("dtend", _local(meeting.ends_at, zone))
    title = meeting.title
    if meeting.state == "cancelled" and method != "CANCEL":
        title = _("Cancelled: %(title)s", title=title)
    event.add("summary", title)
    if meeting.venue or meeting.online_url:
        event.add("location", meeting.venue or meeting.online_url)
    event.add("url", meeting_url(meeting))
    event.add("description", description(meeting))
    event.add("status", "CANCELLED" if method == "CANCEL" else _status(meeting))
    event.add("transp", "TRANSPARENT" if meeting.state == "cancelled" or method == "CANCEL" else "OPAQUE")
    if method in ("REQUEST", "CANCEL"):
        event.add("organizer", organizer_address(meeting))
        if invitation is not None:
            event.add("attendee", attendee_address(invitation))
    if alarm:
        reminder = Alarm()
        reminder.add("action", "DISPLAY")
        reminder.add("description", meeting.title)
        reminder.add("trigger", -REMINDER_BEFORE)
        event.add_component(reminder)
    return event


def invitation_calendar(meeting: Meeting, invitation: Invitation, method: str, now: datetime) -> str:
    """The iTIP message for one invitee: METHOD:REQUEST (invite or update) or METHOD:CANCEL."""
    if method not in ("REQUEST", "CANCEL"):
        raise ValueError(method)
    check_zone(meeting.forum.timezone)
    cal = _new_calendar(method)
    _add_zones(cal, [meeting.forum.timezone])
    cal.add_component(
        meeting_event(meeting, dtstamp=now, method=method, invitation=invitation, alarm=method == "REQUEST")
    )
    return cal.to_ical().decode("utf-8")


def action_event(action: ActionItem) -> Event:
    """An action's due date as an all-day event (DTEND is the next day, exclusive)."""
    host = meeting_uid_host()
    event = Event()
    event.add("uid", f"action-{action.id}@{host}")
    event.add("sequence", max(action.version - 1, 0))
    event.add("dtstamp", _utc(action.updated_at))
    event.add("last-modified", _utc(action.updated_at))
    assert action.due_on is not None
    event.add("dtstart", action.due_on)
    event.add("dtend", action.due_on + timedelta(days=1))
    event.add("summary", _("Due: %(title)s", title=action.title))
    event.add("description", f"{action.forum.title}\n{action.description}".strip())
    event.add("transp", "TRANSPARENT")
    event.add("status", "CONFIRMED")
    return event


def meeting_uid_host() -> str:
    return current_app.config["BASE_URL"].split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "forum-desk"


def feed_calendar(name: str, meetings: Iterable[Meeting], actions: Iterable[ActionItem] = ()) -> str:
    """A published calendar (METHOD:PUBLISH): no organiser or attendees, refreshed hourly."""
    meetings, actions = list(meetings), list(actions)
    cal = _new_calendar("PUBLISH")
    cal.add("name", name)
    cal.add("x-wr-calname", name)
    cal.add("refresh-interval", FEED_REFRESH, parameters={"VALUE": "DURATION"})
    # An X- property has no known type: icalendar would write the timedelta as "1:00:00", which
    # Outlook ignores. Typed as a DURATION it is "PT1H", as RFC 7986's REFRESH-INTERVAL above.
    cal.add("x-published-ttl", vDuration(FEED_REFRESH))
    # A meeting of a forum whose zone cannot be written exactly is left out rather than shown at a wrong time.
    zones = {m.forum.timezone for m in meetings if _expressible(m.forum.timezone)}
    _add_zones(cal, zones)
    for meeting in meetings:
        if meeting.forum.timezone in zones:
            cal.add_component(meeting_event(meeting, dtstamp=meeting.updated_at, method=None))
    for action in actions:
        if action.due_on is not None:
            cal.add_component(action_event(action))
    return cal.to_ical().decode("utf-8")


def _expressible(zone: str) -> bool:
    try:
        check_zone(zone)
    except ValueError:
        return False
    return True


def single_meeting_calendar(meeting: Meeting) -> str:
    return feed_calendar(meeting.title, [meeting])

"""The calendar month page, one meeting's .ics download, and the feeds calendar apps subscribe to.

Feeds are fetched by calendar servers that cannot sign in: the secret token in the URL
is the credential. They answer ``text/calendar`` with an ETag, so a client polling an
unchanged feed gets 304 Not Modified.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import permissions
from ..core import language
from ..core.clock import utcnow
from ..meetings.queries import calendar_month
from . import feeds, ics

bp = Blueprint("calendar", __name__)


def ics_response(body: str, filename: str, *, download: bool = False, private_cache: bool = True) -> Response:
    response = Response(body, content_type="text/calendar; charset=utf-8")
    response.set_etag(hashlib.sha256(body.encode("utf-8")).hexdigest()[:40])
    disposition = "attachment" if download else "inline"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    if private_cache:
        # May be kept, never by a shared cache, and always revalidated (the ETag makes that cheap).
        response.headers["Cache-Control"] = "private, no-cache"
    response.make_conditional(request)  # in place (it returns the same response, typed as werkzeug's)
    return response


def _not_valid() -> Response:
    message = _(
        "This calendar link is not valid: it may have been replaced by a new one. "
        "Your current link is on your Forum Desk profile page."
    )
    return Response(message + "\n", status=404, content_type="text/plain; charset=utf-8")


@bp.get("/meetings/<int:meeting_id>.ics")
@login_required
def meeting_ics(meeting_id: int):
    meeting = permissions.load_meeting(current_user, meeting_id)
    # A signed-in download: the app-wide "no-store" for signed-in pages applies.
    return ics_response(
        ics.single_meeting_calendar(meeting), f"meeting-{meeting.id}.ics", download=True, private_cache=False
    )


@bp.get("/calendar/<token>.ics")
def personal_feed(token: str):
    user = feeds.user_for_token(token)
    if user is None:
        return _not_valid()
    with language.speaking(language.recipient_language(user)):  # the feed's owner reads it, not the fetcher
        feed = feeds.personal_feed(user)
        body = ics.feed_calendar(feed.name, feed.meetings, feed.actions)
    return ics_response(body, "forum-desk.ics")


@bp.get("/calendar/<token>/forums/<int:forum_id>.ics")
def forum_feed(token: str, forum_id: int):
    user = feeds.user_for_token(token)
    if user is None:
        return _not_valid()
    feed = feeds.forum_feed(user, forum_id)  # NotFound (404) if the person may not see the forum
    with language.speaking(language.recipient_language(user, feed.forum)):
        body = ics.feed_calendar(feed.name, feed.meetings)
    return ics_response(body, f"forum-{forum_id}.ics")


# --- the month page -------------------------------------------------------------------------------------

MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@bp.get("/calendar")
@login_required
def month():
    """The meetings the person may see in a month (``?month=YYYY-MM``) or on a day (``?day=YYYY-MM-DD``),
    in their own zone."""
    zone = current_user.timezone or "UTC"
    today = utcnow().astimezone(ZoneInfo(zone)).date()
    year, month_number = today.year, today.month
    match = MONTH_RE.match(request.args.get("month", ""))
    if match and 1900 < int(match.group(1)) < 3000 and 1 <= int(match.group(2)) <= 12:
        year, month_number = int(match.group(1)), int(match.group(2))
    day = _parse_day(request.args.get("day", ""))
    if day is not None:
        year, month_number = day.year, day.month
    return render_template(
        "calendar/month.html", cal=calendar_month(current_user, year, month_number, zone, day), today=today
    )


def _parse_day(raw: str) -> date | None:
    """A day asked for in the query string (YYYY-MM-DD); anything else means none."""
    try:
        day = date.fromisoformat(raw) if DAY_RE.match(raw) else None
    except ValueError:
        return None
    return day if day is not None and 1900 < day.year < 3000 else None

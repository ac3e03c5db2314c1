"""The home page: what needs the signed-in person now (see home.queries)."""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext as _

from ..core.actor import current_actor, require_sign_in
from ..core.dates import format_day
from ..core.times import utc_to_local
from .queries import ForumStep, Task, home_page

bp = Blueprint("home", __name__)
require_sign_in(bp)


def record_meeting_url(meeting_id: int) -> str:
    """Where "Record the meeting" leads: the one place that says it (the home's steps and tasks).

    The attendance page for now; when the "During the meeting" page lands (issue 21, part 1), this
    line points there instead."""
    return url_for("meetings.attendance", meeting_id=meeting_id)


def _meeting_url(meeting_id: int, anchor: str | None = None) -> str:
    return url_for("meetings.meeting", meeting_id=meeting_id, _anchor=anchor)


def step_links(step: ForumStep) -> list[tuple[str, str]]:
    """(label, URL) of the links that start a forum's next step; the first is the step itself."""
    meeting = step.meeting
    if step.step == "plan_first":
        return [(_("Plan the first meeting"), url_for("meetings.meeting_new", forum_id=step.forum_id))]
    if step.step == "plan_next" or meeting is None:
        return [(_("Plan the next meeting"), url_for("meetings.meeting_new", forum_id=step.forum_id, next=1))]
    if step.step == "redate":
        return [
            (_("Re-date the draft"), url_for("meetings.meeting_edit", meeting_id=meeting.id)),
            (_("Cancel it"), _meeting_url(meeting.id, "state-actions")),
        ]
    if step.step == "upcoming":
        day = format_day(utc_to_local(meeting.starts_at, step.timezone).date())
        return [(_("Next meeting on %(day)s", day=day), _meeting_url(meeting.id))]
    return [_step_link(step.step, meeting.id)]


def _step_link(step: str, meeting_id: int) -> tuple[str, str]:
    """A meeting's step as a link: the page where it is done."""
    if step == "schedule":
        return _("Schedule the draft"), _meeting_url(meeting_id, "state-actions")
    if step == "mark_held":
        return _("Mark it as held"), _meeting_url(meeting_id, "state-actions")
    if step == "record":
        return _("Record the meeting"), record_meeting_url(meeting_id)
    if step == "write_minutes":
        return _("Write the minutes"), url_for("meetings.minutes_edit", meeting_id=meeting_id)
    if step == "circulate":
        return _("Circulate the minutes"), _meeting_url(meeting_id, "minutes")
    return _("Adopt the minutes"), _meeting_url(meeting_id, "minutes")


def task_link(task: Task) -> tuple[str, str]:
    return _step_link(task.step, task.meeting.id)


@bp.get("/")
def index():
    return render_template(
        "home/index.html",
        page=home_page(current_actor(), request.args.get("page")),
        step_links=step_links,
        task_link=task_link,
    )

"""Meeting pages: plan and edit, state changes, invitees and RSVP, attendance, minutes.

Thin views: parse the request, load through a ``permissions`` loader with the signed-in
person, call one service through the commit point, render. What the page may offer
comes from ``page.flags``.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from .. import permissions
from ..actions.followup import follow_up
from ..core import once
from ..core.actor import current_actor, require_sign_in
from ..core.dates import same_clock
from ..core.editing import decode_loaded, form_values, rebase_form
from ..core.errors import ServiceError
from ..core.forms import attach_error, run_action, run_service, status_for
from ..core.language import speaking
from ..core.markdown import render_markdown, stored_html, text_lines
from ..core.pdf import PdfUnavailable, pdf_status, render_pdf
from ..core.times import fold_of, local_to_utc, occurrences, utc_to_local
from ..core.urls import parse_id, safe_next
from ..extensions import db
from ..models import Forum, Meeting
from . import confidential, delegates, minutes, queries, sign_in
from . import services as meetings
from .day_queries import adoption_links
from .forms import (
    MEETING_FIELDS,
    AttendanceForm,
    CommentForm,
    DelegateForm,
    InviteeForm,
    MarkedPresent,
    MeetingForm,
    MinutesForm,
    RevisionForm,
    RsvpForm,
    StateForm,
)

bp = Blueprint("meetings", __name__)
require_sign_in(bp)


def _meeting_url(meeting: Meeting, anchor: str | None = None) -> str:
    return url_for("meetings.meeting", meeting_id=meeting.id, _anchor=anchor)


def _load(meeting_id: int, need: str = "view") -> Meeting:
    return permissions.load_meeting(current_user, meeting_id, need=need)


def _refuse_if(lock: str | None, meeting: Meeting):
    """A form page a state rule closes: back to the meeting, saying why (None: go on)."""
    if lock is None:
        return None
    flash(lock, "warning")
    return redirect(_meeting_url(meeting))


# --- plan and edit -------------------------------------------------------------------------------


def _details(form: MeetingForm, forum: Forum) -> meetings.MeetingDetails | None:
    """The form's values with local times converted to UTC; None (and messages on the form) if they do not convert."""
    converted = {}
    for name, fold in (("start_time", form.start_fold.fold), ("end_time", form.end_fold.fold)):
        try:
            converted[name] = local_to_utc(form.day.data, getattr(form, name).data, forum.timezone, name, fold)
        except ServiceError as exc:  # a gap, or a time that happens twice with no choice made (AmbiguousTime)
            attach_error(form, exc.message, exc.field)
    if len(converted) < 2:
        return None
    return meetings.MeetingDetails(
        title=form.title.data.strip(),
        starts_at=converted["start_time"],
        ends_at=converted["end_time"],
        venue=(form.venue.data or "").strip(),
        online_url=(form.online_url.data or "").strip(),
        agenda_md=form.agenda_md.data or "",
    )


def _offer_folds(form: MeetingForm, forum: Forum) -> None:
    """Name the two occurrences beside each time that happens twice (the night the clocks go back);
    a fold select is shown only then (``form.<name>.occurrences``)."""
    for time_field, fold_field in ((form.start_time, form.start_fold), (form.end_time, form.end_fold)):
        fold_field.occurrences = None
        if form.day.data and time_field.data:
            try:
                fold_field.occurrences = occurrences(form.day.data, time_field.data, forum.timezone)
            except (ValueError, OverflowError):  # a date outside what the zone data covers: refused elsewhere
                continue
        if fold_field.occurrences:
            first, second = fold_field.occurrences
            fold_field.choices = [("", _("Choose which one")), ("0", first), ("1", second)]


def _fill_form(form: MeetingForm, meeting, forum: Forum) -> None:
    """Fill the form from a meeting or from MeetingDetails (same field names), in the forum's zone.

    A time that happens twice carries which one it is (from the stored UTC instant), so the
    form saved unchanged keeps the same instant.
    """
    zone = forum.timezone
    start, end = utc_to_local(meeting.starts_at, zone), utc_to_local(meeting.ends_at, zone)
    form.title.data, form.venue.data = meeting.title, meeting.venue
    form.online_url.data, form.agenda_md.data = meeting.online_url, meeting.agenda_md
    form.day.data, form.start_time.data, form.end_time.data = start.date(), start.time(), end.time()
    for fold_field, moment in ((form.start_fold, meeting.starts_at), (form.end_fold, meeting.ends_at)):
        fold = fold_of(moment, zone)
        fold_field.data = "" if fold is None else str(fold)
    form.version.data = str(getattr(meeting, "version", ""))


def _preview(form, field: str):
    """The field's text rendered now (within the budget), or None with the refusal at the field."""
    try:
        return render_markdown(getattr(form, field).data, field=field)
    except ServiceError as exc:
        attach_error(form, exc.message, exc.field)
        return None


def _render_meeting_form(form: MeetingForm, forum: Forum, meeting: Meeting | None, plan=None):
    _offer_folds(form, forum)
    preview = _preview(form, "agenda_md") if form.preview.data else None
    return render_template(
        "meetings/meeting_form.html", form=form, forum=forum, meeting=meeting, preview=preview, plan=plan
    ), status_for(form)


@bp.route("/forums/<int:forum_id>/meetings/new", methods=["GET", "POST"])
@once.create_form
def meeting_new(forum_id: int):
    """Plan a meeting; with ``?next=1`` (or the hidden follow_on), the one after the last held.

    The follow-on form comes pre-filled and says what it copied; nothing is saved until Save,
    so opening it twice makes no second draft.
    """
    forum = permissions.load_forum(current_user, forum_id, need="edit")
    form = MeetingForm()
    plan = None
    if request.method == "GET" and request.args.get("next") == "1":
        try:
            # After a given meeting (its page's button: ``after``), else after the forum's last held one.
            after = _meeting_of(forum, parse_id(request.args.get("after")))
            plan = meetings.plan_next_meeting(forum, after)  # a proposal: nothing is written, nothing to commit
        except ServiceError as exc:
            flash(exc.message, "warning")
            return redirect(url_for("forums.forum", forum_id=forum.id))
        _fill_form(form, plan.details, forum)
        form.follow_on.data = str(plan.source.id)
    elif request.method == "GET":
        form.agenda_md.data = _(
            "1. Review of agreed actions\n2. Welcome and adoption of the agenda\n"
            "3. …\n4. Any other business and next meeting\n"
        )
    source = _follow_on_source(form, forum)
    if plan is None and source is not None:
        plan = meetings.plan_next_meeting(forum, source)
    if form.validate_on_submit() and not form.preview.data:
        details = _details(form, forum)
        if details is not None:
            meeting = run_service(
                form,
                once.guard(
                    current_actor(),
                    lambda: (
                        meetings.create_next_meeting(current_actor(), forum, details, source)
                        if source is not None
                        else meetings.create_meeting(current_actor(), forum, details)
                    ),
                    _meeting_url,
                ),
            )
            if meeting is not None:
                flash(_("The meeting is saved as a draft. Schedule it when it is ready to be sent."), "success")
                _flash_warnings(forum, details)
                return redirect(_meeting_url(meeting))
    return _render_meeting_form(form, forum, None, plan=plan)


def _flash_warnings(forum: Forum, details) -> None:
    for warning in meetings.planning_warnings(forum, details):
        flash(warning, "warning")


def _change_summary(meeting: Meeting, before: dict) -> str:
    """Say what changed, and who will be told (the invitees' calendars follow a scheduled meeting)."""
    labels = {
        "title": _("title"),
        "starts_at": _("time"),
        "ends_at": _("time"),
        "venue": _("venue"),
        "online_url": _("online link"),
    }
    changed = list(
        dict.fromkeys(str(labels[name]) for name, value in before.items() if getattr(meeting, name) != value)
    )
    if not changed:
        return _("Saved.")
    if meeting.state != "scheduled":
        return _("Saved: %(what)s changed.", what=", ".join(changed))
    return ngettext(
        "Saved: %(what)s changed. The %(num)d invitee will be sent an update for their calendar.",
        "Saved: %(what)s changed. The %(num)d invitees will be sent an update for their calendars.",
        len(meeting.invitations),
        what=", ".join(changed),
    )


def _follow_on_source(form: MeetingForm, forum: Forum) -> Meeting | None:
    return _meeting_of(forum, parse_id(form.follow_on.data))


def _meeting_of(forum: Forum, meeting_id: int | None) -> Meeting | None:
    if meeting_id is None:
        return None
    source = db.session.get(Meeting, meeting_id)
    return source if source is not None and source.forum_id == forum.id else None


@bp.route("/meetings/<int:meeting_id>/edit", methods=["GET", "POST"])
def meeting_edit(meeting_id: int):
    meeting = _load(meeting_id, need="edit")
    locked = _refuse_if(permissions.meeting_details_lock(meeting), meeting)
    if locked:
        return locked
    form = MeetingForm()
    if request.method == "GET":
        _fill_form(form, meeting, meeting.forum)
        form.loaded.data = json.dumps(form_values(form, MEETING_FIELDS), sort_keys=True, ensure_ascii=False)
    elif form.validate_on_submit() and not form.preview.data:
        details = _details(form, meeting.forum)
        expected = parse_id(form.version.data) or -1
        if details is not None:
            before = meetings.calendar_values(meeting)
            saved = run_service(form, lambda: meetings.update_meeting(current_actor(), meeting, details, expected))
            if saved is not None:
                flash(_change_summary(meeting, before), "success")
                _flash_warnings(meeting.forum, details)
                return redirect(_meeting_url(meeting))
            if getattr(form, "conflict", None) is not None:
                db.session.refresh(meeting)
                now_saved = MeetingForm(formdata=None)
                _fill_form(now_saved, meeting, meeting.forum)
                form.conflict.differences = rebase_form(
                    form, MEETING_FIELDS, decode_loaded(form.loaded.data), form_values(now_saved, MEETING_FIELDS)
                )
                # The next save is made knowing the other person's changes.
                form.version.data = str(meeting.version)
    return _render_meeting_form(form, meeting.forum, meeting)


# --- the meeting page ---------------------------------------------------------------------------------


def _viewer_zone(meeting: Meeting) -> str | None:
    """The viewer's own zone, when its clock differs from the forum's for this meeting."""
    zone = current_user.timezone
    if not zone or zone == meeting.forum.timezone or same_clock(meeting, zone, meeting.forum.timezone):
        return None
    return zone


@bp.get("/meetings/<int:meeting_id>")
def meeting(meeting_id: int):
    return _meeting_page(queries.meeting_page(current_user, meeting_id))


def _invitee_form(forum: Forum, blank: bool = False) -> InviteeForm:
    form = InviteeForm(formdata=None) if blank else InviteeForm()
    if not form.new_organisation_country.data or blank:
        form.new_organisation_country.data = forum.country  # a guest's agency is usually the forum's country's
    form.organisation_id.choices = [(0, _("— none —"))] + [
        (id_, f"{name} ({city})" if city else name) for id_, name, city in queries.organisations_for(forum)
    ]
    return form


def _meeting_page(page: queries.MeetingPage, invitee_form: InviteeForm | None = None, status: int = 200):
    """The meeting page; a form that failed is shown again where it was, with what was typed."""
    m = page.meeting
    rsvp_form = RsvpForm()
    if page.my_invitation is not None and page.my_invitation.rsvp != "needs-action":
        rsvp_form.answer.data = page.my_invitation.rsvp
        rsvp_form.comment.data = page.my_invitation.rsvp_comment
    if invitee_form is None and page.flags.can_manage_invitees:
        invitee_form = _invitee_form(m.forum, blank=True)
    html = render_template(
        "meetings/meeting.html",
        page=page,
        flags=page.flags,
        meeting=m,
        forum=m.forum,
        agenda_html=stored_html(m.agenda_html),
        rsvp_form=rsvp_form,
        state_form=StateForm(),
        invitee_form=invitee_form,
        comment_form=CommentForm(),
        viewer_zone=_viewer_zone(m),
        adoption=adoption_links(current_user, m),  # minutes adopted at another meeting: the two link each other
        follow_up=follow_up(current_user, m, page.minutes_version),  # the actions' review (actions.followup)
    )
    if page.flags.reads_confidential and page.minutes_version is not None and page.minutes_version.confidential_html:
        confidential.after_reading(m, f"minutes version {page.minutes_version.number}")
    return html, status


@bp.post("/meetings/<int:meeting_id>/state")
def meeting_state(meeting_id: int):
    meeting = _load(meeting_id, need="edit")
    form = StateForm()
    if not form.validate_on_submit():
        flash(
            _("%(label)s: %(problem)s", label=form.reason.label.text, problem=form.reason.errors[0])
            if form.reason.errors
            else _("The request was incomplete. Reload the page and try again."),
            "danger",
        )
        return redirect(_meeting_url(meeting))
    messages = {
        "scheduled": _("The meeting is scheduled and visible to its invitees."),
        "held": _("The meeting is marked as held. Record attendance and write the minutes."),
        "cancelled": _("The meeting is cancelled."),
    }
    run_action(
        lambda: meetings.change_state(
            current_actor(), meeting, form.to_state.data, form.version.data, reason=form.reason.data or ""
        ),
        messages.get(form.to_state.data, _("Saved.")),
    )
    # Marked held from the "During the meeting" page: back there.
    return redirect(safe_next(request.form.get("next")) or _meeting_url(meeting))


# --- invitees and RSVP --------------------------------------------------------------------------------


@bp.post("/meetings/<int:meeting_id>/invitees")
@once.create_form
def invitee_add(meeting_id: int):
    page = queries.meeting_page(current_user, meeting_id, need="edit")
    form = _invitee_form(page.meeting.forum)
    if form.validate_on_submit():
        invited = run_service(
            form,
            once.guard(
                current_actor(),
                lambda: meetings.add_invitee(current_actor(), page.meeting, form.to_input()),
                lambda _invited: _meeting_url(page.meeting, "invitees"),
            ),
        )
        if invited is not None:
            # The same answer for an address new to Forum Desk and a known one.
            flash(_("%(email)s is invited.", email=form.email.data), "success")
            return redirect(_meeting_url(page.meeting, "invitees"))
        page = queries.meeting_page(current_user, meeting_id, need="edit")
    return _meeting_page(page, invitee_form=form, status=400)


@bp.post("/meetings/<int:meeting_id>/invitees/all")
def invitee_add_members(meeting_id: int):
    meeting = _load(meeting_id, need="edit")
    run_action(lambda: meetings.invite_all_members(current_actor(), meeting), _("Every forum member is invited."))
    return redirect(_meeting_url(meeting, "invitees"))


@bp.post("/meetings/<int:meeting_id>/invitees/<int:invitation_id>/remove")
def invitee_remove(meeting_id: int, invitation_id: int):
    meeting = _load(meeting_id, need="edit")
    # The row's button only opens the question; this POST acts once it was answered (the confirm
    # step works without JavaScript, and a stray or replayed click removes nobody).
    if request.form.get("confirmed") != "yes":
        flash(_("Nobody was removed: confirm the removal with its own button."), "warning")
        return redirect(_meeting_url(meeting, "invitees"))
    run_action(
        lambda: meetings.remove_invitee(current_actor(), meeting, invitation_id), _("Removed from the invitees.")
    )
    return redirect(_meeting_url(meeting, "invitees"))


@bp.post("/meetings/<int:meeting_id>/rsvp")
def rsvp(meeting_id: int):
    meeting = _load(meeting_id)
    form = RsvpForm()
    if not form.validate_on_submit():
        flash(_("Choose yes, maybe or no."), "danger")
    else:
        run_action(
            lambda: meetings.respond(current_actor(), meeting, form.answer.data, form.comment.data or ""),
            _("Thank you, your answer is recorded."),
        )
    # Answered from the home page: back there, where the next answer is waiting.
    return redirect(safe_next(request.form.get("next")) or _meeting_url(meeting, "rsvp"))


# --- the sign-in sheet ---------------------------------------------------------------------------------


def _sign_in_page(sheet: sign_in.SignInSheet, pdf=None, template: str = "meetings/sign_in.html") -> str:
    """The sheet in the forum's language, whoever prints it (the people in the room read it); the
    printable page, or (``meetings/sign_in_pdf.html``) the lean page the server's PDF is made from."""
    with speaking(sheet.language):
        return render_template(template, sheet=sheet, pdf=pdf or pdf_status())


@bp.get("/meetings/<int:meeting_id>/sign-in")
def sign_in_sheet(meeting_id: int):
    return _sign_in_page(sign_in.sign_in_sheet(current_user, meeting_id))


@bp.get("/meetings/<int:meeting_id>/sign-in.pdf")
def sign_in_sheet_pdf(meeting_id: int):
    sheet = sign_in.sign_in_sheet(current_user, meeting_id)
    status = pdf_status()
    try:
        if not status.available:
            raise PdfUnavailable(status.how_to_enable)
        body = render_pdf(_sign_in_page(sheet, status, "meetings/sign_in_pdf.html"))
    except PdfUnavailable:
        flash(pdf_status().how_to_enable, "warning")
        return redirect(url_for("meetings.sign_in_sheet", meeting_id=meeting_id))
    name = f"sign-in-sheet-{sheet.meeting.starts_at.date().isoformat()}-{meeting_id}.pdf"
    return Response(body, mimetype="application/pdf", headers={"Content-Disposition": f'attachment; filename="{name}"'})


# --- attendance -----------------------------------------------------------------------------------------


def _attendance_page(
    page: queries.MeetingPage, form: AttendanceForm, status: int = 200, delegate_form: DelegateForm | None = None
):
    return render_template(
        "meetings/attendance.html",
        page=page,
        flags=page.flags,
        meeting=page.meeting,
        forum=page.meeting.forum,
        form=form,
        delegate_form=delegate_form or _delegate_form(page, blank=True),
    ), status


@bp.route("/meetings/<int:meeting_id>/attendance", methods=["GET", "POST"])
@once.create_form
def attendance(meeting_id: int):
    page = queries.meeting_page(current_user, meeting_id, need="edit")
    form = AttendanceForm()
    if request.method == "GET":
        form.load(page.invitations)
        return _attendance_page(page, form)
    if not form.validate_on_submit():
        flash(_("The attendance form was not understood. Reload the page and try again."), "danger")
        return _attendance_page(page, _attendance_as_saved(page, form), 400)
    if form.mark_accepted.data:
        if not page.flags.can_record_attendance:  # locked (adopted minutes): the button is not shown either
            flash(page.attendance_lock or _("Attendance cannot be changed now."), "warning")
            return redirect(url_for("meetings.attendance", meeting_id=meeting_id))
        # Nothing is saved yet: the organiser sees the result, with what they typed kept.
        flash(*_marked_present_message(form.mark_accepted_present(page.invitations)))
        return _attendance_page(page, form)
    data = form.to_input()
    # Walk-ins are added by this form: sent twice, they would be added twice.
    saving = once.guard(
        current_actor(),
        lambda: meetings.save_attendance(current_actor(), page.meeting, data),
        lambda _saved: url_for("meetings.attendance", meeting_id=meeting_id),
    )
    if run_action(saving, _("Attendance saved.")):
        # Saved from the "During the meeting" page: back there.
        return redirect(safe_next(request.form.get("next")) or url_for("meetings.attendance", meeting_id=meeting_id))
    # A conflict: shown again from what is saved now (the message names who changed).
    page = queries.meeting_page(current_user, meeting_id, need="edit")
    return _attendance_page(page, _attendance_as_saved(page, form), 400)


def _marked_present_message(result: MarkedPresent) -> tuple[str, str]:
    """Say what "mark everyone who accepted as present" did (message, category): never "0 people … marked"."""
    if result.marked:
        return ngettext(
            "%(num)d person who accepted is marked present. Check and save.",
            "%(num)d people who accepted are marked present. Check and save.",
            result.marked,
        ), "info"
    if not result.already_present and not result.other_mark:
        return _("Nobody has accepted the invitation, so nobody was marked present."), "info"
    if not result.other_mark:
        return _("Everyone who accepted is already marked present."), "info"
    return ngettext(
        "%(num)d person who accepted has another mark, which was kept. Nobody was left to mark present.",
        "%(num)d people who accepted have another mark, which was kept. Nobody was left to mark present.",
        result.other_mark,
    ), "info"


def _attendance_as_saved(page: queries.MeetingPage, typed: AttendanceForm) -> AttendanceForm:
    """The marks as they are saved now, with the walk-ins the organiser typed kept."""
    fresh = AttendanceForm(formdata=None)
    fresh.load(page.invitations)
    # The fresh form has its blank walk-in rows; the typed ones fill as many of them as there are.
    for row, walk_in in zip(fresh.walk_ins, typed.walk_ins, strict=False):
        row.form.process(None, data=walk_in.data)
    return fresh


def _delegate_form(page: queries.MeetingPage, blank: bool = False) -> DelegateForm:
    """The invitees one may record a delegate for: neither a delegate themselves nor already represented."""
    form = DelegateForm(formdata=None) if blank else DelegateForm()
    taken = page.represented_by
    form.for_invitation_id.choices = [
        (inv.id, f"{inv.name} ({inv.organisation_name})" if inv.organisation_name else inv.name)
        for inv in page.invitations
        if inv.on_behalf_of_id is None and inv.id not in taken
    ]
    return form


@bp.post("/meetings/<int:meeting_id>/delegates")
@once.create_form
def delegate_add(meeting_id: int):
    """ "X attended on behalf of Y" (meetings.delegates)."""
    page = queries.meeting_page(current_user, meeting_id, need="edit")
    form = _delegate_form(page)
    if form.validate_on_submit():
        recording = once.guard(
            current_actor(),
            lambda: delegates.record_delegate(current_actor(), page.meeting, form.to_input()),
            lambda _recorded: url_for("meetings.attendance", meeting_id=meeting_id, _anchor="delegates"),
        )
        recorded = run_service(form, recording)
        if recorded is not None:
            flash(_("Recorded: the invitee is excused and the person who came for them is present."), "success")
            return redirect(url_for("meetings.attendance", meeting_id=meeting_id, _anchor="delegates"))
        page = queries.meeting_page(current_user, meeting_id, need="edit")
    attendance_form = AttendanceForm(formdata=None)
    attendance_form.load(page.invitations)
    return _attendance_page(page, attendance_form, 400, delegate_form=form)


@bp.post("/meetings/<int:meeting_id>/delegates/<int:invitation_id>/remove")
def delegate_remove(meeting_id: int, invitation_id: int):
    meeting = _load(meeting_id, need="edit")
    run_action(
        lambda: delegates.remove_delegate(current_actor(), meeting, invitation_id),
        _("No longer recorded as attending on behalf of someone. Check the attendance marks."),
    )
    return redirect(url_for("meetings.attendance", meeting_id=meeting.id, _anchor="delegates"))


@bp.post("/meetings/<int:meeting_id>/walk-ins/<int:walk_in_id>/remove")
def walk_in_remove(meeting_id: int, walk_in_id: int):
    meeting = _load(meeting_id, need="edit")
    run_action(lambda: meetings.remove_walk_in(current_actor(), meeting, walk_in_id), _("Removed."))
    return redirect(url_for("meetings.attendance", meeting_id=meeting.id))


# --- minutes ------------------------------------------------------------------------------------------------


@bp.route("/meetings/<int:meeting_id>/minutes", methods=["GET", "POST"])
@once.create_form
def minutes_edit(meeting_id: int):
    meeting = _load(meeting_id, need="edit")
    locked = _refuse_if(permissions.minutes_lock(meeting), meeting)
    if locked:
        return locked
    current = minutes.current_version(meeting)
    form = MinutesForm()
    if request.method == "GET":
        form.body_md.data = current.body_md if current else ""
        form.decisions.data = list(current.decisions) if current else []
        form.base_revision.data = meeting.minutes_revision
    elif form.validate_on_submit() and not form.preview.data:
        saved = run_service(
            form,
            once.guard(
                current_actor(),
                lambda: minutes.save_minutes(
                    current_actor(), meeting, form.to_input(), base_revision=form.base_revision.data
                ),
                lambda _version: _meeting_url(meeting, "minutes"),
            ),
        )
        if saved is not None:
            flash(_("Saved as version %(n)d.", n=saved.number), "success")
            return redirect(_meeting_url(meeting, "minutes"))
        if getattr(form, "conflict", None) is not None:
            base = minutes.get_version(meeting, form.base_revision.data)
            diffs = minutes.three_way(form, base, minutes.current_version(meeting))
            # Re-shown with the latest revision, so saving the merged text goes through.
            form.base_revision.data = meeting.minutes_revision
            form.base_revision.raw_data = [str(meeting.minutes_revision)]
    diffs = locals().get("diffs", [])
    preview = None
    if form.preview.data:
        body_html = _preview(form, "body_md")
        preview = (body_html, form.decisions.data) if body_html is not None else None
    return render_template(
        "meetings/minutes_form.html",
        form=form,
        meeting=meeting,
        forum=meeting.forum,
        current=current,
        preview=preview,
        diffs=diffs,
        is_correction=meeting.minutes_state == "adopted",
    ), status_for(form)


def _minutes_step(meeting_id: int, step, success: str):
    """Circulate or adopt: both act on the version the organiser was looking at."""
    meeting = _load(meeting_id, need="edit")
    form = RevisionForm()
    if not form.validate_on_submit():
        abort(400)
    run_action(lambda: step(current_actor(), meeting, form.base_revision.data), success)
    return redirect(_meeting_url(meeting, "minutes"))


@bp.post("/meetings/<int:meeting_id>/minutes/circulate")
def minutes_circulate(meeting_id: int):
    return _minutes_step(
        meeting_id, minutes.circulate, _("The minutes are circulated: invitees can read and comment on them.")
    )


@bp.post("/meetings/<int:meeting_id>/minutes/adopt")
def minutes_adopt(meeting_id: int):
    return _minutes_step(
        meeting_id, minutes.adopt, _("The minutes are adopted and locked. Later changes are recorded as corrections.")
    )


@bp.post("/meetings/<int:meeting_id>/minutes/comments")
@once.create_form
def minutes_comment(meeting_id: int):
    meeting = _load(meeting_id)
    permissions.require(permissions.can_comment_minutes(current_user, meeting))
    form = CommentForm()
    if not form.validate_on_submit():
        flash(_("Write a comment first."), "danger")
    else:
        run_action(
            once.guard(
                current_actor(),
                lambda: minutes.add_comment(current_actor(), meeting, form.body.data),
                lambda _comment: _meeting_url(meeting, "minutes"),
            ),
            _("Your comment is posted."),
        )
    return redirect(_meeting_url(meeting, "minutes"))


def _minutes_viewable(meeting_id: int) -> Meeting:
    meeting = _load(meeting_id)
    permissions.require_visible(permissions.can_view_minutes(current_user, meeting))
    return meeting


@bp.get("/meetings/<int:meeting_id>/minutes/versions")
def minutes_versions(meeting_id: int):
    meeting = _minutes_viewable(meeting_id)
    versions = minutes.readable_versions(current_user, meeting)
    status = minutes.version_status(meeting, versions)
    return render_template(
        "meetings/minutes_versions.html",
        meeting=meeting,
        forum=meeting.forum,
        versions=versions,
        status=status,
        forum_link=permissions.can_view_forum(current_user, meeting.forum),  # not for a guest
    )


@bp.get("/meetings/<int:meeting_id>/minutes/versions/<int:number>")
def minutes_version(meeting_id: int, number: int):
    meeting = _minutes_viewable(meeting_id)
    version = minutes.readable_version(current_user, meeting, number)
    if version is None:
        abort(404)
    reads_confidential = permissions.can_read_confidential(current_user, meeting) and bool(version.confidential_html)
    html = render_template(
        "meetings/minutes_version.html",
        forum_link=permissions.can_view_forum(current_user, meeting.forum),  # not for a guest
        meeting=meeting,
        forum=meeting.forum,
        version=version,
        body_html=stored_html(version.body_html),
        confidential_html=stored_html(version.confidential_html) if reads_confidential else None,
    )
    if reads_confidential:
        confidential.after_reading(meeting, f"minutes version {number}")
    return html


@bp.get("/meetings/<int:meeting_id>/minutes/compare")
def minutes_compare(meeting_id: int):
    meeting = _minutes_viewable(meeting_id)
    a, b = parse_id(request.args.get("a")), parse_id(request.args.get("b"))
    if a is None or b is None:
        abort(404)
    old, new = minutes.readable_version(current_user, meeting, a), minutes.readable_version(current_user, meeting, b)
    if old is None or new is None:
        abort(404)
    return render_template(
        "meetings/minutes_compare.html",
        forum_link=permissions.can_view_forum(current_user, meeting.forum),  # not for a guest
        meeting=meeting,
        forum=meeting.forum,
        old=old,
        new=new,
        # What readers saw, not the Markdown behind it: headings and lists as text.
        body_diff=minutes.diff_lines("\n".join(text_lines(old.body_html)), "\n".join(text_lines(new.body_html))),
        decisions_diff=minutes.diff_lines("\n".join(old.decisions), "\n".join(new.decisions)),
    )

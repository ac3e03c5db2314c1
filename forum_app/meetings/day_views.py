"""The "During the meeting" page: an organiser records the meeting in one place, item by item.

Every part is its own form with its own POST (attendance posts to the attendance page's own
view and comes back here): one slip or one conflict never loses the rest. Each POST answers
with a redirect back to the page, anchored at the part it saved; a refused one shows the page
again with that part's form as it was typed, its message next to it, and the others as saved.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from .. import permissions
from ..actions import queries as action_queries
from ..actions.forms import RecordActionsForm
from ..actions.views import _run_rows
from ..core import once
from ..core.actor import current_actor, require_sign_in
from ..core.commit import attempt
from ..core.editing import decode_loaded, rebase
from ..core.forms import AppForm, run_action, run_service
from ..extensions import db
from ..models import AgendaItem, Meeting
from . import confidential, day, day_queries
from .day_forms import DraftMinutesForm, ItemForm, MoveForm, NewItemForm
from .forms import AttendanceForm, RevisionForm, StateForm

bp = Blueprint("meeting_day", __name__)
require_sign_in(bp)

ACTION_ROWS = 3  # empty action rows under each item; more are a save away


def _day_url(meeting_id: int, anchor: str | None = None) -> str:
    return url_for("meeting_day.page", meeting_id=meeting_id, _anchor=anchor)


def _item_anchor(item_id: int) -> str:
    return f"item-{item_id}"


def _item_form(item: AgendaItem, formdata=None) -> ItemForm:
    form = ItemForm(formdata=formdata, prefix=f"item-{item.id}-", obj=item if formdata is None else None)
    form.offer_public(list(item.decisions or []))
    if formdata is None:
        form.loaded.data = day.ItemInput.of(item).encode()
    return form


def _actions_form(item_id: int, people, organisations, formdata=None) -> RecordActionsForm:
    form = RecordActionsForm(formdata=formdata, prefix=f"actions-{item_id}-")
    if formdata is None:
        form.slots(ACTION_ROWS, people, organisations)
    else:
        form.offer(people, organisations)
    return form


def _open(meeting_id: int) -> Meeting:
    """The meeting, for its organisers (404/403 for everyone else, as every meeting page answers)."""
    return permissions.load_meeting(current_user, meeting_id, need="edit")


def _closed(meeting: Meeting):
    """A redirect to the meeting page saying why it cannot be recorded now, or None when it can."""
    lock = permissions.meeting_day_lock(meeting)
    if lock is None:
        return None
    flash(lock, "warning")
    return redirect(url_for("meetings.meeting", meeting_id=meeting.id))


def _item(meeting: Meeting, item_id: int) -> AgendaItem:
    item = db.session.get(AgendaItem, item_id)
    if item is None or item.meeting_id != meeting.id:
        abort(404)
    return item


def _render(
    meeting_id: int,
    *,
    item_forms: dict[int, ItemForm] | None = None,
    action_forms: dict[int, RecordActionsForm] | None = None,
    new_item_form: NewItemForm | None = None,
    status: int = 200,
):
    page = day_queries.day_page(current_user, meeting_id)
    item_forms = dict(item_forms or {})
    action_forms = dict(action_forms or {})
    for item in page.items:
        if item.id not in item_forms:
            item_forms[item.id] = _item_form(item)
        if item.id not in action_forms:
            action_forms[item.id] = _actions_form(item.id, page.people, page.organisations)
    attendance_form = None
    if page.page.flags.can_record_attendance:
        attendance_form = AttendanceForm(formdata=None)
        attendance_form.load(page.page.invitations)
    html = render_template(
        "meetings/day.html",
        day=page,
        page=page.page,
        flags=page.page.flags,
        meeting=page.meeting,
        forum=page.meeting.forum,
        attendance_form=attendance_form,
        item_forms=item_forms,
        action_forms=action_forms,
        new_item_form=new_item_form or NewItemForm(formdata=None),
        draft_form=DraftMinutesForm(formdata=None, base_revision=page.meeting.minutes_revision),
        state_form=StateForm(formdata=None),
        revision_form=RevisionForm(formdata=None),
        back=_day_url(meeting_id),
    )
    if page.redactions and page.page.flags.reads_confidential:
        confidential.after_reading(page.meeting, "meeting day")
    return html, status


@bp.get("/meetings/<int:meeting_id>/during")
def page(meeting_id: int):
    meeting = _open(meeting_id)
    closed = _closed(meeting)
    if closed:
        return closed
    if day.needs_items(meeting):
        # The first opening: the items come from the agenda (once; see day.derive_items for the rule).
        outcome = attempt(lambda: day.derive_items(current_actor(), meeting))
        if not outcome:
            flash(outcome.message, "warning")
    return _render(meeting_id)


@bp.post("/meetings/<int:meeting_id>/during/items")
@once.create_form
def item_add(meeting_id: int):
    meeting = _open(meeting_id)
    closed = _closed(meeting)
    if closed:
        return closed
    form = NewItemForm()
    if form.validate_on_submit():
        adding = once.guard(
            current_actor(),
            lambda: day.add_item(current_actor(), meeting, form.title.data or ""),
            lambda added: _day_url(meeting_id, _item_anchor(added.id)),
        )
        item = run_service(form, adding)
        if item is not None:
            flash(_("The item is added to the agenda."), "success")
            return redirect(_day_url(meeting_id, _item_anchor(item.id)))
    return _render(meeting_id, new_item_form=form, status=400)


@bp.post("/meetings/<int:meeting_id>/during/items/<int:item_id>")
def item_save(meeting_id: int, item_id: int):
    meeting = _open(meeting_id)
    closed = _closed(meeting)
    if closed:
        return closed
    item = _item(meeting, item_id)
    form = ItemForm(prefix=f"item-{item.id}-")
    form.offer_public(list(item.decisions or []))
    if form.validate_on_submit():
        loaded = decode_loaded(form.loaded.data)
        data = form.to_input()
        saved = run_service(form, lambda: day.save_item(current_actor(), item, data, loaded))
        if saved is not None:
            flash(_("Saved: %(title)s.", title=saved.title), "success")
            return redirect(_day_url(meeting_id, _item_anchor(item_id)))
        if getattr(form, "conflict", None) is not None:
            # Shown against what is saved now: untouched fields take it, the next save is a knowing one.
            db.session.refresh(item)
            rebase(form, loaded, day.ItemInput.of(item), data)
    status = 409 if getattr(form, "conflict", None) is not None else 400
    return _render(meeting_id, item_forms={item_id: form}, status=status)


@bp.post("/meetings/<int:meeting_id>/during/items/<int:item_id>/move")
def item_move(meeting_id: int, item_id: int):
    meeting = _open(meeting_id)
    closed = _closed(meeting)
    if closed:
        return closed
    item = _item(meeting, item_id)
    form = MoveForm()
    step = {"up": -1, "down": 1}.get(form.direction.data or "")
    if not form.validate_on_submit() or step is None:
        flash(_("The request was incomplete. Reload the page and try again."), "danger")
    else:
        run_action(lambda: day.move_item(current_actor(), item, step), _("Moved."))
    return redirect(_day_url(meeting_id, _item_anchor(item_id)))


@bp.post("/meetings/<int:meeting_id>/during/items/<int:item_id>/remove")
def item_remove(meeting_id: int, item_id: int):
    meeting = _open(meeting_id)
    closed = _closed(meeting)
    if closed:
        return closed
    item = _item(meeting, item_id)
    if not AppForm().validate_on_submit():
        flash(_("The request was incomplete. Reload the page and try again."), "danger")
        return redirect(_day_url(meeting_id, _item_anchor(item_id)))
    title = item.title
    if run_action(lambda: day.remove_item(current_actor(), item), _("Removed: %(title)s.", title=title)):
        return redirect(_day_url(meeting_id, "agenda-items"))
    return redirect(_day_url(meeting_id, _item_anchor(item_id)))


@bp.post("/meetings/<int:meeting_id>/during/items/<int:item_id>/actions")
@once.create_form
def item_actions(meeting_id: int, item_id: int):
    """Several actions agreed under one item: the record-actions form and service, scoped to the item."""
    meeting = _open(meeting_id)
    closed = _closed(meeting)
    if closed:
        return closed
    item = _item(meeting, item_id)
    people, organisations = (
        action_queries.possible_owners(meeting.forum),
        action_queries.organisations_of(meeting.forum),
    )
    form = _actions_form(item_id, people, organisations, formdata=request.form)
    if form.validate_on_submit():
        rows = form.to_inputs()
        if not rows:
            form.form_errors.append(_("Write at least one action (a title and an owner)."))
        else:
            recording = once.guard(
                current_actor(),
                lambda: day.record_item_actions(current_actor(), item, rows),
                lambda _raised: _day_url(meeting_id, _item_anchor(item_id)),
            )
            raised = _run_rows(form, recording)
            if raised is not None:
                flash(
                    ngettext(
                        "%(num)d action recorded; its owner is asked to confirm.",
                        "%(num)d actions recorded; their owners are asked to confirm.",
                        len(raised),
                    ),
                    "success",
                )
                return redirect(_day_url(meeting_id, _item_anchor(item_id)))
    return _render(meeting_id, action_forms={item_id: form}, status=400)


@bp.post("/meetings/<int:meeting_id>/during/items/<int:item_id>/adopt")
def item_adopt(meeting_id: int, item_id: int):
    """Adopt the earlier meeting's minutes on this meeting's adoption item."""
    meeting = _open(meeting_id)
    closed = _closed(meeting)
    if closed:
        return closed
    item = _item(meeting, item_id)
    form = RevisionForm()
    if not form.validate_on_submit():
        flash(_("The request was incomplete. Reload the page and try again."), "danger")
    else:
        run_action(
            lambda: day.adopt_at_meeting(current_actor(), item, form.base_revision.data),
            _("The minutes are adopted at this meeting and locked."),
        )
    return redirect(_day_url(meeting_id, _item_anchor(item_id)))


@bp.post("/meetings/<int:meeting_id>/during/minutes")
def draft_minutes(meeting_id: int):
    """Draft the minutes from what the page recorded, then edit, circulate and adopt them as ever."""
    meeting = _open(meeting_id)
    form = DraftMinutesForm()
    if not form.validate_on_submit():
        flash(_("The request was incomplete. Reload the page and try again."), "danger")
        return redirect(_day_url(meeting_id, "draft-minutes"))
    outcome = attempt(lambda: day.draft_minutes(current_actor(), meeting, form.base_revision.data))
    if not outcome:
        flash(outcome.message, "danger")
        return redirect(_day_url(meeting_id, "draft-minutes"))
    flash(
        _(
            "The minutes are drafted from the meeting's record as version %(n)d. Read and edit them, then "
            "circulate them.",
            n=outcome.value.number,
        ),
        "success",
    )
    return redirect(url_for("meetings.meeting", meeting_id=meeting_id, _anchor="minutes"))

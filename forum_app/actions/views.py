"""Action pages: record at a meeting, raise, answer, update, reassign, review, board, matrix, my actions.

Thin views: parse the request, load through a ``permissions`` loader with the signed-in
person (the emailed confirmation link names its owner instead, and signs no one in),
call one service through the commit point, render. What a page may offer comes from
its page object's flags.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from .. import permissions
from ..auth import tokens
from ..core import language, once
from ..core.actor import current_actor
from ..core.commit import attempt
from ..core.forms import attach_error, edit_record, run_service, status_for
from ..core.urls import parse_id, safe_next
from ..extensions import db
from ..models import ActionItem, Forum, Grant, Meeting
from ..vocab import ACTION_CLOSED_STATES, ACTION_STATES
from . import followup, queries
from . import services as actions
from .forms import (
    ActionDetailsForm,
    ActionForm,
    AnswerForm,
    ReassignForm,
    RecordActionsForm,
    ReviewForm,
    UpdateForm,
)

bp = Blueprint("actions", __name__)

QUICK_ROWS = 5


def _action_url(action: ActionItem, anchor: str | None = None) -> str:
    return url_for("actions.action", action_id=action.id, _anchor=anchor)


def _attach_row_error(form, message: str, field: str | None) -> None:
    """A service refusal named ``rows-<n>-<field>`` goes next to that field of row n."""
    parts = (field or "").split("-", 2)
    if len(parts) == 3 and parts[0] == "rows" and parts[1].isdigit() and int(parts[1]) < len(form.rows):
        target = getattr(form.rows[int(parts[1])].form, parts[2], None)
        if target is not None:
            target.errors = [*target.errors, message]
            return
    attach_error(form, message, None)


def _run_rows(form, service):
    """``run_service`` for a row-set form: the refusal lands at its row's field."""
    outcome = attempt(service)
    if not outcome:
        _attach_row_error(form, outcome.message, outcome.field)
        form.conflict = outcome.conflict
        form.refused = True  # the rows' error lists were collected before this one was added
        return None
    return outcome.value


def _refuse_if(lock: str | None, back: str):
    """A form page a state rule closes: back where it came from, saying why (None: go on)."""
    if lock is None:
        return None
    flash(lock, "warning")
    return redirect(back)


def _status(form) -> int:
    return 400 if getattr(form, "refused", False) else status_for(form)


# --- recording and raising ---------------------------------------------------------------------------


@bp.route("/meetings/<int:meeting_id>/actions/new", methods=["GET", "POST"])
@login_required
@once.create_form
def record(meeting_id: int):
    """Several actions at once, while the meeting happens: title, owner, organisation, due date."""
    meeting = permissions.load_meeting(current_user, meeting_id, need="edit")
    locked = _refuse_if(permissions.action_meeting_lock(meeting), url_for("meetings.meeting", meeting_id=meeting.id))
    if locked:
        return locked
    people, organisations = queries.possible_owners(meeting.forum), queries.organisations_of(meeting.forum)
    form = RecordActionsForm()
    if request.method == "GET":
        form.slots(min(max(parse_id(request.args.get("rows")) or QUICK_ROWS, 1), 30), people, organisations)
    elif "more" in request.form:
        # "More rows" sends the form: what was typed comes back with empty rows after it, nothing saved.
        form.more(QUICK_ROWS, people, organisations)
    else:
        form.offer(people, organisations)
        if form.validate_on_submit():
            agreed = url_for("meetings.meeting", meeting_id=meeting.id, _anchor="actions-agreed")
            raised = _run_rows(
                form,
                once.guard(
                    current_actor(),
                    lambda: actions.record_actions(current_actor(), meeting, form.to_inputs()),
                    lambda _raised: agreed,
                ),
            )
            if raised is not None:
                flash(
                    ngettext(
                        "%(num)d action recorded; its owner is asked to confirm.",
                        "%(num)d actions recorded; their owners are asked to confirm.",
                        len(raised),
                    ),
                    "success",
                )
                return redirect(agreed)
    return render_template("actions/record.html", form=form, meeting=meeting, forum=meeting.forum), _status(form)


def _raise_page(forum, meeting: Meeting | None, decision: tuple[int, str] | None):
    form = ActionForm()
    form.offer(queries.possible_owners(forum), queries.organisations_of(forum), forum.grant.programme.themes or [])
    if request.method == "GET" and decision is not None:
        form.title.data = decision[1][:300]
    if form.validate_on_submit():
        data = form.to_input(decision[0] if decision else None)
        action = run_service(
            form,
            once.guard(
                current_actor(),
                lambda: actions.raise_action(current_actor(), forum, data, meeting=meeting),
                _action_url,
            ),
        )
        if action is not None:
            flash(_("The action is recorded; its owner is asked to confirm."), "success")
            return redirect(_action_url(action))
    return render_template(
        "actions/raise.html", form=form, forum=forum, meeting=meeting, decision=decision
    ), status_for(form)


# The form offers the programme's themes: its forum's grant and programme come with the forum (two
# round trips fewer).
RAISE_OPTIONS = (joinedload(Forum.grant).joinedload(Grant.programme),)


@bp.route("/forums/<int:forum_id>/actions/new", methods=["GET", "POST"])
@login_required
@once.create_form
def raise_between(forum_id: int):
    """An action raised between meetings."""
    return _raise_page(permissions.load_forum(current_user, forum_id, need="edit", options=RAISE_OPTIONS), None, None)


@bp.route("/meetings/<int:meeting_id>/decisions/<int:number>/action", methods=["GET", "POST"])
@login_required
@once.create_form
def raise_from_decision(meeting_id: int, number: int):
    """An action raised from one of the minutes' decisions; it keeps the link to it."""
    meeting = permissions.load_meeting(
        current_user, meeting_id, need="edit", options=(joinedload(Meeting.forum).options(*RAISE_OPTIONS),)
    )
    from ..meetings import minutes

    version = minutes.version_for(current_user, meeting) if meeting.minutes_revision else None
    if version is None or not 1 <= number <= len(version.decisions):
        abort(404)
    return _raise_page(meeting.forum, meeting, (number, version.decisions[number - 1]))


# --- one action ---------------------------------------------------------------------------------------


def _update_form(page: queries.ActionPage, blank: bool = True) -> UpdateForm:
    form = UpdateForm(formdata=None) if blank else UpdateForm()
    form.offer(page.flags.states)
    if blank:
        form.version.data = page.action.version
        form.seen.data = str(page.updates[-1].id) if page.updates else ""
    return form


def _reassign_form(page: queries.ActionPage, blank: bool = True) -> ReassignForm:
    form = ReassignForm(formdata=None) if blank else ReassignForm()
    from .forms import owner_choices

    form.owner_id.choices = owner_choices(page.owners)
    if blank:
        form.version.data = page.action.version
    return form


def _action_page(
    page: queries.ActionPage,
    update_form: UpdateForm | None = None,
    reassign_form: ReassignForm | None = None,
    status: int = 200,
    seen: int | None = None,
):
    return render_template(
        "actions/action.html",
        page=page,
        action=page.action,
        forum=page.action.forum,
        flags=page.flags,
        update_form=update_form or _update_form(page),
        answer_form=AnswerForm(formdata=None),
        reassign_form=reassign_form or (_reassign_form(page) if page.flags.can_reassign else None),
        seen=seen,
    ), status


@bp.get("/actions/<int:action_id>")
@login_required
def action(action_id: int):
    return _action_page(queries.action_page(current_user, action_id))


@bp.post("/actions/<int:action_id>/updates")
@login_required
@once.create_form
def update(action_id: int):
    """A state change and/or a note; after someone else's update, the form comes back with the text kept."""
    page = queries.action_page(current_user, action_id)
    permissions.require(page.flags.can_post)
    form = _update_form(page, blank=False)
    if form.validate_on_submit():
        data = actions.UpdateInput(note=form.note.data or "", to_state=form.to_state.data or None)
        opened, seen = form.version.data, parse_id(form.seen.data) or 0
        posted = once.guard(
            current_actor(),
            lambda: actions.post_update(current_actor(), page.action, data, opened),
            lambda _update: _action_url(page.action, "history"),
        )
        if run_service(form, posted) is not None:
            flash(_("Your update is posted."), "success")
            return redirect(safe_next(form.next.data) or _action_url(page.action, "history"))
        if getattr(form, "conflict", None) is not None:
            # Shown again with the other person's update in the history, the text kept, and the
            # version moved on: sending it again is a knowing decision.
            page = queries.action_page(current_user, action_id)
            form.version.data = page.action.version
            form.version.raw_data = [str(page.action.version)]
            form.offer(page.flags.states)
            form.seen.data = str(page.updates[-1].id) if page.updates else ""
            form.seen.raw_data = [form.seen.data]
            return _action_page(page, update_form=form, status=409, seen=seen)
    return _action_page(page, update_form=form, status=400)


@bp.post("/actions/<int:action_id>/answer")
@login_required
def answer(action_id: int):
    """The owner accepts, or declines with a reason, in the app (e.g. from the home page)."""
    action = permissions.load_action(current_user, action_id)
    permissions.require(action.owner_id == current_user.id)
    form = AnswerForm()
    back = safe_next(form.next.data) or _action_url(action)
    if not form.validate_on_submit() or form.answer.data not in ("accept", "decline"):
        flash(_("Choose accept or decline."), "danger")
        return redirect(back)
    outcome = attempt(
        lambda: actions.answer_proposal(current_actor(), action, form.answer.data == "accept", form.reason.data or "")
    )
    flash(_answer_message(outcome, form.answer.data == "accept"), "success" if outcome else "danger")
    return redirect(back)


def _answer_message(outcome, accepted: bool) -> str:
    if not outcome:
        return outcome.message
    if outcome.value is None:
        return _("Your answer was already recorded; nothing changed.")
    return (
        _("Thank you: you accepted the action.")
        if accepted
        else _("You declined the action; the organisers will find another owner.")
    )


@bp.route("/actions/<int:action_id>/edit", methods=["GET", "POST"])
@login_required
def edit(action_id: int):
    action = permissions.load_action(current_user, action_id, need="edit")
    locked = _refuse_if(permissions.action_details_lock(action), _action_url(action))
    if locked:
        return locked
    form = ActionDetailsForm(obj=action if request.method == "GET" else None)
    form.offer([], queries.organisations_of(action.forum), action.forum.grant.programme.themes or [])
    if request.method == "GET":
        form.owner_organisation_id.data = action.owner_organisation_id or 0
    saved = edit_record(
        form,
        action,
        actions.ActionDetails,
        lambda data, loaded: actions.update_details(current_actor(), action, data, loaded),
    )
    if saved is not None:
        flash(_("Saved."), "success")
        return redirect(_action_url(action))
    return render_template("actions/edit.html", form=form, action=action, forum=action.forum), status_for(form)


@bp.post("/actions/<int:action_id>/reassign")
@login_required
def reassign(action_id: int):
    page = queries.action_page(current_user, action_id, need="edit")
    form = _reassign_form(page, blank=False)
    if form.validate_on_submit():
        done = run_service(
            form,
            lambda: actions.reassign_action(
                current_actor(), page.action, form.owner_id.data, form.note.data or "", form.version.data
            ),
        )
        if done is not None:
            flash(_("Reassigned; the new owner is asked to confirm."), "success")
            return redirect(_action_url(page.action))
        page = queries.action_page(current_user, action_id, need="edit")
    return _action_page(page, reassign_form=form, status=400)


# --- the emailed confirmation link (no sign-in) ---------------------------------------------------------


@bp.route("/actions/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str):
    """A GET shows the action and the two buttons (mail scanners open links); only a POST answers.

    The link acts for the action's owner alone and signs nobody in.
    """
    try:
        action = actions.action_from_link(token)
        owner = action.owner
        if owner is None:  # never: action_from_link refuses the links of actions without an owner
            raise tokens.LinkError(tokens.LinkProblem.INVALID)
    except tokens.LinkError as exc:
        return render_template("auth/link_problem.html", problem=exc.problem.value, purpose="action-confirm"), 400
    language.use_link_subject(owner, action.forum)
    form = AnswerForm()
    message, status = None, 200
    if request.method == "POST":
        if not form.validate_on_submit() or form.answer.data not in ("accept", "decline"):
            message, status = _("Choose accept or decline."), 400
        else:
            accept = form.answer.data == "accept"
            outcome = attempt(lambda: actions.answer_proposal(owner, action, accept, form.reason.data or ""))
            if outcome:
                db.session.refresh(action)
                return render_template(
                    "actions/confirm.html", action=action, form=None, done=_answer_message(outcome, accept)
                )
            message, status = outcome.message, 400
            if outcome.field == "note":
                form.reason.errors = [outcome.message]
    chosen = request.args.get("answer") if request.method == "GET" else form.answer.data
    gone = permissions.owner_gone_lock(owner, action)
    if gone is not None:
        # Left the forum since the email was sent: the link answers nothing, and says why.
        message, status = gone, 403 if request.method == "POST" else 200
    return render_template(
        "actions/confirm.html",
        action=action,
        form=form,
        message=message,
        can_answer=permissions.proposal_open(action) and gone is None,
        gone=gone is not None,
        closed=action.state in ACTION_CLOSED_STATES,
        chosen=chosen if chosen in ("accept", "decline") else None,
    ), status


# --- the follow-up review of a meeting ------------------------------------------------------------------


@bp.route("/meetings/<int:meeting_id>/follow-up", methods=["GET", "POST"])
@login_required
@once.create_form
def review(meeting_id: int):
    meeting = permissions.load_meeting(current_user, meeting_id, need="edit")
    locked = _refuse_if(
        permissions.follow_up_lock(meeting), url_for("meetings.meeting", meeting_id=meeting.id, _anchor="follow-up")
    )
    if locked:
        return locked
    section = followup.follow_up(current_user, meeting, latest=True)
    form = ReviewForm()
    if request.method == "GET":
        form.open(section.rows)
    else:
        form.offer()  # before validating: the choices are what a row may send
    if form.validate_on_submit():
        back = url_for("meetings.meeting", meeting_id=meeting.id, _anchor="follow-up")
        saved = _run_rows(
            form,
            once.guard(
                current_actor(),
                lambda: actions.record_review(current_actor(), meeting, form.to_outcomes()),
                lambda _saved: back,
            ),
        )
        if saved is not None:
            flash(
                ngettext(
                    "The review is recorded (%(num)d action).", "The review is recorded (%(num)d actions).", saved
                ),
                "success",
            )
            return redirect(back)
        if getattr(form, "conflict", None) is not None:
            # What the others posted is shown with each row; the rows' versions move on, notes are kept.
            section = followup.follow_up(current_user, meeting, latest=True)
            for row in form.rows:
                current = section.row_by_id.get(row.row_id.data)
                if current is not None:
                    row.was.data = str(current.version)
    return render_template(
        "actions/review.html", form=form, meeting=meeting, forum=meeting.forum, action_by_id=section.row_by_id
    ), 409 if getattr(form, "conflict", None) else _status(form)


# --- lists ----------------------------------------------------------------------------------------------


@bp.get("/forums/<int:forum_id>/actions")
@login_required
def board(forum_id: int):
    args = request.args
    filters = queries.BoardFilters(
        state=args.get("state", "") if args.get("state", "") in ACTION_STATES else "",
        owner_id=parse_id(args.get("owner")),
        organisation_id=parse_id(args.get("organisation")),
        theme=args.get("theme", "")[:200],
        overdue=args.get("overdue") == "1",
        newest_due_first=args.get("sort") == "-due",
    )
    page = queries.board(current_user, forum_id, filters, args.get("page"))
    return render_template("actions/board.html", board=page, forum=page.forum)


@bp.get("/forums/<int:forum_id>/actions/matrix")
@login_required
def matrix(forum_id: int):
    page = queries.matrix(current_user, forum_id, request.args.get("show", ""), request.args.get("page"))
    return render_template("actions/matrix.html", matrix=page, forum=page.forum)


@bp.get("/actions")
@login_required
def mine():
    return render_template("actions/mine.html", mine=queries.my_actions(current_user))

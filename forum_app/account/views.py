"""The profile page (/account): time zone, language, email choices, the calendar feed, sessions."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from .. import permissions
from ..api import tokens as api_tokens
from ..auth.reauth import recent_auth_required
from ..core.actor import current_actor, require_sign_in
from ..core.commit import attempt
from ..core.errors import ServiceError
from ..core.forms import run_action, run_service, status_for
from ..notifications.preferences import CHOICES
from ..people.views import export_response
from . import services
from .forms import FeedForm, ProfileForm
from .queries import profile_page

bp = Blueprint("account", __name__)
require_sign_in(bp)  # every page here is the signed-in person's own


def _fill_from_saved(form: ProfileForm, page) -> None:
    """Show the person's saved settings in ``form``."""
    form.timezone.data, form.locale.data = page.user.timezone, page.user.locale
    for name in CHOICES:
        getattr(form, name).data = page.choice(name)


@bp.route("/account", methods=["GET", "POST"])
def profile():
    page = profile_page(current_actor())
    form = ProfileForm()
    if request.method == "GET":
        _fill_from_saved(form, page)
    elif (
        form.validate_on_submit()
        and run_service(form, lambda: services.update_profile(current_actor(), form.to_input())) is not None
    ):
        flash(_("Your settings are saved."), "success")
        return redirect(url_for("account.profile"))
    return render_template(
        "account/profile.html",
        page=page,
        form=form,
        feed_form=FeedForm(),
        choices=CHOICES,
        api_tokens=api_tokens.tokens_of(current_actor()),
    ), status_for(form)


@bp.post("/account/export")
@recent_auth_required(come_back_to="account.profile")
def export():
    """The signed-in person's own export: ``format`` json (a download) or html (a page), after the
    password (and second factor) were given again recently: a full export is what a borrowed laptop
    would be used for."""
    if not FeedForm().validate_on_submit():  # CSRF only
        flash(_("The request was incomplete. Reload the page and try again."), "danger")
        return redirect(url_for("account.profile", _anchor="my-data"))
    actor = current_actor()
    permissions.require(permissions.can_export_person(actor, actor))
    try:
        return export_response(actor, actor, request.form.get("format", "html"))
    except ServiceError as exc:
        flash(exc.message, "danger")
        return redirect(url_for("account.profile", _anchor="my-data"))


@bp.post("/account/calendar-feed")
def calendar_feed():
    if not FeedForm().validate_on_submit():
        flash(_("The request was incomplete. Reload the page and try again."), "danger")
    else:
        run_action(
            lambda: services.new_calendar_link(current_actor()),
            _("Your calendar link is ready. Any earlier link no longer works."),
        )
    return redirect(url_for("account.profile", _anchor="calendar"))


@bp.post("/account/api-tokens")
@recent_auth_required(come_back_to="account.profile")
def new_api_token():
    """A new personal API token; its secret is shown on this one response and never again."""
    form = FeedForm()  # CSRF only; the two fields are read below
    if not form.validate_on_submit():
        flash(_("The request was incomplete. Reload the page and try again."), "danger")
        return redirect(url_for("account.profile", _anchor="api-tokens"))
    data = api_tokens.TokenInput(
        name=request.form.get("name", "")[:200], can_write=request.form.get("can_write") == "1"
    )
    outcome = attempt(lambda: api_tokens.create_token(current_actor(), data))
    if not outcome:
        flash(outcome.message, "danger")
        return redirect(url_for("account.profile", _anchor="api-tokens"))
    page = profile_page(current_actor())
    form = ProfileForm()
    _fill_from_saved(form, page)
    return render_template(
        "account/profile.html",
        page=page,
        form=form,
        feed_form=FeedForm(),
        choices=CHOICES,
        api_tokens=api_tokens.tokens_of(current_actor()),
        new_secret=outcome.value[1],
    )


@bp.post("/account/api-tokens/<int:token_id>/revoke")
def revoke_api_token(token_id: int):
    api_tokens.own_token(current_actor(), token_id)  # someone else's token: 404 before anything else
    if FeedForm().validate_on_submit():
        run_action(lambda: api_tokens.revoke_token(current_actor(), token_id), _("The token no longer works."))
    return redirect(url_for("account.profile", _anchor="api-tokens"))


# --- sessions -------------------------------------------------------------------------------------


@bp.post("/account/sessions/<int:session_id>/end")
def end_session_view(session_id: int):
    if FeedForm().validate_on_submit():
        run_action(lambda: services.end_own_session(current_actor(), session_id), _("That session is signed out."))
    return redirect(url_for("account.profile", _anchor="sessions"))


@bp.post("/account/sessions/end-others")
def end_other_sessions():
    if FeedForm().validate_on_submit():
        run_action(lambda: services.end_other_sessions(current_actor()), _("You are signed out everywhere else."))
    return redirect(url_for("account.profile", _anchor="sessions"))


@bp.post("/account/sessions/end-all")
def end_all_sessions():
    if not FeedForm().validate_on_submit():
        return redirect(url_for("account.profile", _anchor="sessions"))
    outcome = attempt(lambda: services.end_all_sessions(current_actor()))
    if outcome:
        session.clear()  # this browser's cookie too (its row is already revoked)
        flash(_("You are signed out everywhere."), "success")
        return redirect(url_for("auth.login"))
    flash(outcome.message, "danger")
    return redirect(url_for("account.profile", _anchor="sessions"))

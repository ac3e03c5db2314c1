"""Login, logout, set/reset password, change password.

Like every view, these change state only through services committed by ``attempt``; a
wrong password is a KeptRefusal, so the throttle's count of it is committed too.
"""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..core import language
from ..core.actor import current_actor
from ..core.audit import client_address
from ..core.commit import attempt
from ..core.urls import safe_next
from ..extensions import login_manager
from ..models import utcnow
from . import devices, services, tokens
from .forms import ChangePasswordForm, LoginForm, NewPasswordForm, ResetRequestForm
from .sessions import end_session, start_session

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = None  # the login page says enough
login_manager.session_protection = None  # our own server-side session check does this job


def no_store(response):
    """Pages with password fields or link tokens: never kept in any cache (back button, proxies)."""
    response = make_response(response)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next(form.next.data) or url_for("home.index"))
    status = 200
    if form.validate_on_submit():
        now = utcnow()

        def sign_in():
            user = services.authenticate(form.email.data, form.password.data, address=client_address(), now=now)
            # The language picked on the sign-in page becomes the person's own, if they had none.
            services.adopt_language(user, language.known(request.cookies.get(language.COOKIE)))
            start_session(user)
            login_user(user)
            return user

        outcome = attempt(sign_in)
        if outcome:
            response = redirect(safe_next(form.next.data) or url_for("home.index"))
            devices.remember_device(response, outcome.value, now)
            return response
        form.form_errors.append(outcome.message)
        status = 429 if isinstance(outcome.error, services.ThrottledError) else 401
    elif request.method == "POST":
        status = 400
    return no_store((render_template("auth/login.html", form=form), status))


@bp.post("/logout")
def logout():
    user = current_user._get_current_object() if current_user.is_authenticated else None
    attempt(lambda: services.sign_out(user, end_session))
    logout_user()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


def _new_password_page(purpose: str, token: str, template: str):
    """Shared flow of the set-password and reset-password links.

    A GET only shows the form (mail scanners open links); the POST sets the password.
    The link never signs anyone in: the person logs in with the new password.
    """
    try:
        user = tokens.read_password_token(token, purpose, utcnow())
    except tokens.LinkError as exc:
        return no_store((render_template("auth/link_problem.html", problem=exc.problem.value, purpose=purpose), 400))
    form = NewPasswordForm()
    if form.validate_on_submit():
        outcome = attempt(lambda: services.set_password(user, form.password.data))
        if outcome:
            flash(_("Your password is set. Sign in with it now."), "success")
            return redirect(url_for("auth.login"))
        form.password.errors.append(outcome.message)
    return no_store((render_template(template, form=form, user=user), 400 if form.errors else 200))


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str):
    return _new_password_page("set-password", token, "auth/set_password.html")


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    return _new_password_page("reset-password", token, "auth/set_password.html")


@bp.route("/reset-password", methods=["GET", "POST"])
def request_reset():
    form = ResetRequestForm()
    status = 200
    if form.validate_on_submit():
        outcome = attempt(
            lambda: services.request_password_reset(form.email.data, address=client_address(), now=utcnow())
        )
        if outcome:
            # The same answer whether or not the account exists.
            flash(_("If an active account uses this address, a reset link is on its way."), "info")
            return redirect(url_for("auth.login"))
        # Throttled per typed address whether or not an account uses it: says nothing about accounts.
        form.email.errors.append(outcome.message)
        status = 429
    elif form.errors:
        status = 400
    return no_store((render_template("auth/reset_request.html", form=form), status))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    status = 200
    if form.validate_on_submit():
        outcome = attempt(
            lambda: services.change_password(
                current_actor(), form.current_password.data, form.password.data, now=utcnow()
            )
        )
        if outcome:
            flash(_("Your password is changed. Your other sessions have been signed out."), "success")
            return redirect(url_for("home.index"))
        getattr(form, outcome.field or "password").errors.append(outcome.message)
        if isinstance(outcome.error, services.ThrottledError):
            status = 429
    if form.errors and status == 200:
        status = 400
    return no_store((render_template("auth/change_password.html", form=form), status))

"""Login, logout, set/reset password, change password."""
from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..core.audit import client_address, record
from ..core.errors import ServiceError
from ..core.urls import safe_next
from ..extensions import db, login_manager
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
        return redirect(safe_next(form.next.data) or url_for("core.home"))
    status = 200
    if form.validate_on_submit():
        now = utcnow()
        try:
            user = services.authenticate(form.email.data, form.password.data, address=client_address(), now=now)
        except services.CountedFailure as exc:
            db.session.commit()  # the failure stays counted
            form.form_errors.append(exc.message)
            status = 401
        except services.ThrottledError as exc:
            db.session.rollback()
            form.form_errors.append(exc.message)
            status = 429
        else:
            start_session(user)
            login_user(user)
            db.session.commit()
            response = redirect(safe_next(form.next.data) or url_for("core.home"))
            devices.remember_device(response, user, now)
            return response
    elif request.method == "POST":
        status = 400
    return no_store((render_template("auth/login.html", form=form), status))


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        record(current_user, "user.logout", current_user._get_current_object())
    end_session()
    logout_user()
    db.session.commit()
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
        try:
            services.set_password(user, form.password.data)
        except ServiceError as exc:
            form.password.errors.append(exc.message)
        else:
            db.session.commit()
            flash(_("Your password is set. Sign in with it now."), "success")
            return redirect(url_for("auth.login"))
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
        try:
            services.request_password_reset(form.email.data, address=client_address(), now=utcnow())
        except services.ThrottledError as exc:
            # Counted per typed address whether or not an account uses it: says nothing about accounts.
            db.session.rollback()
            form.email.errors.append(exc.message)
            status = 429
        else:
            db.session.commit()
            # The same answer whether or not the account exists.
            flash(_("If an active account uses this address, a reset link is on its way."), "info")
            return redirect(url_for("auth.login"))
    elif form.errors:
        status = 400
    return no_store((render_template("auth/reset_request.html", form=form), status))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            services.change_password(current_user._get_current_object(), form.current_password.data,
                                     form.password.data, now=utcnow())
        except services.CountedFailure as exc:
            db.session.commit()  # the wrong guess stays counted; nothing else changed
            getattr(form, exc.field or "password").errors.append(exc.message)
        except ServiceError as exc:
            db.session.rollback()
            getattr(form, exc.field or "password").errors.append(exc.message)
            if isinstance(exc, services.ThrottledError):
                status = 429
        else:
            db.session.commit()
            flash(_("Your password is changed. Your other sessions have been signed out."), "success")
            return redirect(url_for("core.home"))
    if form.errors and status == 200:
        status = 400
    return no_store((render_template("auth/change_password.html", form=form), status))

"""Login (password, then the second factor or its enrolment), logout, set/reset password, change
password, re-authentication and the second factor's own page.

Like every view, these change state only through services committed by ``attempt``; a
wrong password is a KeptRefusal, so the throttle's count of it is committed too.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user, logout_user

from .. import permissions
from ..core import language
from ..core.actor import current_actor
from ..core.audit import client_address
from ..core.commit import attempt
from ..core.forms import run_action
from ..core.urls import safe_next
from ..extensions import login_manager
from ..models import utcnow
from . import devices, second_factor, services, tokens
from .forms import (
    ButtonForm,
    ChangePasswordForm,
    EnrolForm,
    LoginForm,
    NewPasswordForm,
    ReauthForm,
    ResetRequestForm,
    SecondFactorForm,
)
from .reauth import confirm_identity, recent_auth_required
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
            step = second_factor.step_after_password(user)
            if step is None:
                start_session(user)
                login_user(user)
            else:
                # No session yet: only a short-lived note in the signed cookie that the password passed.
                second_factor.begin_pending(user, step, safe_next(form.next.data) or "", now)
            return user, step

        outcome = attempt(sign_in)
        if outcome:
            user, step = outcome.value
            if step == "code":
                return redirect(url_for("auth.second_factor_code"))
            if step == "enrol":
                return redirect(url_for("auth.second_factor_enrol"))
            response = redirect(safe_next(form.next.data) or url_for("home.index"))
            devices.remember_device(response, user, now)
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
@recent_auth_required()
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


# --- second factor at sign-in -----------------------------------------------------------


def _pending_or_login():
    """The half-signed-in person, or a redirect to the sign-in page when that state is gone."""
    pending = second_factor.read_pending(utcnow())
    if pending is None:
        second_factor.clear_pending()
        flash(_("Your sign-in took too long. Sign in again."), "info")
        return None, redirect(url_for("auth.login"))
    return pending, None


def _signed_in_response(user, target: str, now):
    response = make_response(redirect(safe_next(target) or url_for("home.index")))
    devices.remember_device(response, user, now)
    return response


@bp.route("/login/code", methods=["GET", "POST"])
def second_factor_code():
    pending, away = _pending_or_login()
    if pending is None:
        return away
    if pending.step == "enrol":
        return redirect(url_for("auth.second_factor_enrol"))
    form = SecondFactorForm()
    status = 200
    if form.validate_on_submit():
        now = utcnow()
        user = pending.user

        def finish():
            method = second_factor.check_code(user, form.code.data, now=now)
            second_factor.complete_sign_in(user, method, now)
            start_session(user)
            login_user(user)
            return method, second_factor.recovery_codes_left(user) if method == "recovery" else None

        outcome = attempt(finish)
        if outcome:
            method, left = outcome.value
            if method == "recovery":
                flash(
                    ngettext(
                        "You signed in with a recovery code. %(num)d code is left: make new ones on the "
                        "second factor page if you lost your phone.",
                        "You signed in with a recovery code. %(num)d codes are left: make new ones on the "
                        "second factor page if you lost your phone.",
                        left,
                    ),
                    "warning",
                )
            return _signed_in_response(user, pending.next, now)
        form.code.errors.append(outcome.message)
        status = 429 if isinstance(outcome.error, second_factor.SecondFactorThrottled) else 401
    elif request.method == "POST":
        status = 400
    return no_store((render_template("auth/second_factor_code.html", form=form), status))


def _enrol_page(user, form: EnrolForm, status: int, *, at_sign_in: bool):
    now = utcnow()
    secret = second_factor.read_enrolment_token(user, form.token.data or "", now) if form.token.data else None
    if secret is None:
        secret = second_factor.new_secret()
        form.token.data = second_factor.enrolment_token(user, secret, now)
    return no_store(
        (
            render_template(
                "auth/second_factor_enrol.html",
                form=form,
                qr=second_factor.qr_code(user, secret),
                secret=second_factor.grouped(secret),
                at_sign_in=at_sign_in,
                required=permissions.second_factor_required(user),
            ),
            status,
        )
    )


def _codes_page(codes: list[str], continue_to: str):
    return no_store((render_template("auth/recovery_codes.html", codes=codes, continue_to=continue_to), 200))


@bp.route("/login/enrol", methods=["GET", "POST"])
def second_factor_enrol():
    """Enrolment right after the password, for a person whose role requires a second factor."""
    pending, away = _pending_or_login()
    if pending is None:
        return away
    if pending.step == "code":
        return redirect(url_for("auth.second_factor_code"))
    form = EnrolForm()
    if form.validate_on_submit():
        now = utcnow()
        user = pending.user

        def finish():
            codes = second_factor.enrol(user, form.token.data, form.code.data, now=now)
            second_factor.complete_sign_in(user, "enrolment", now)
            start_session(user)
            login_user(user)
            return codes

        outcome = attempt(finish)
        if outcome:
            response = _codes_page(outcome.value, safe_next(pending.next) or url_for("home.index"))
            devices.remember_device(response, user, now)
            return response
        form.code.errors.append(outcome.message)
    return _enrol_page(pending.user, form, 400 if form.errors else 200, at_sign_in=True)


# --- re-authentication and the second factor in the account area ---------------------------


@bp.route("/reauth", methods=["GET", "POST"])
@login_required
def reauth():
    user = current_actor()
    form = ReauthForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
    status = 200
    if form.validate_on_submit():
        outcome = attempt(lambda: confirm_identity(user, form.password.data, form.code.data or "", now=utcnow()))
        if outcome:
            return redirect(safe_next(form.next.data) or url_for("home.index"))
        getattr(form, outcome.field or "password").errors.append(outcome.message)
        throttled = isinstance(outcome.error, services.ThrottledError | second_factor.SecondFactorThrottled)
        status = 429 if throttled else 401
    elif request.method == "POST":
        status = 400
    return no_store(
        (render_template("auth/reauth.html", form=form, needs_code=user.totp_enabled_at is not None), status)
    )


@bp.route("/account/second-factor", methods=["GET", "POST"])
@login_required
@recent_auth_required()
def second_factor_settings():
    """The second factor: set it up (QR code, first code), or, once on, new recovery codes or off."""
    user = current_actor()
    if user.totp_enabled_at is None:
        form = EnrolForm()
        if form.validate_on_submit():
            outcome = attempt(lambda: second_factor.enrol(user, form.token.data, form.code.data, now=utcnow()))
            if outcome:
                return _codes_page(outcome.value, url_for("auth.second_factor_settings"))
            form.code.errors.append(outcome.message)
        return _enrol_page(user, form, 400 if form.errors else 200, at_sign_in=False)
    return no_store(
        render_template(
            "auth/second_factor_settings.html",
            user=user,
            form=ButtonForm(),
            codes_left=second_factor.recovery_codes_left(user),
            disable_lock=permissions.second_factor_disable_lock(user),
        )
    )


@bp.post("/account/second-factor/recovery-codes")
@login_required
@recent_auth_required(come_back_to="auth.second_factor_settings")
def regenerate_recovery_codes():
    if not ButtonForm().validate_on_submit():
        flash(_("The request was incomplete. Reload the page and try again."), "danger")
        return redirect(url_for("auth.second_factor_settings"))
    outcome = attempt(lambda: second_factor.regenerate_recovery_codes(current_actor(), now=utcnow()))
    if not outcome:
        flash(outcome.message, "danger")
        return redirect(url_for("auth.second_factor_settings"))
    return _codes_page(outcome.value, url_for("auth.second_factor_settings"))


@bp.post("/account/second-factor/disable")
@login_required
@recent_auth_required(come_back_to="auth.second_factor_settings")
def disable_second_factor():
    if not ButtonForm().validate_on_submit():
        flash(_("The request was incomplete. Reload the page and try again."), "danger")
    else:
        run_action(lambda: second_factor.disable(current_actor()), _("The second factor is turned off."))
    return redirect(url_for("auth.second_factor_settings"))


# Endpoints a person who must enrol may still reach before doing so.
_BEFORE_ENROLMENT = frozenset(
    {
        "auth.second_factor_settings",
        "auth.reauth",
        "auth.logout",
        "auth.login",
        "static",
        "core.choose_language",
        "core.healthz",
    }
)


@bp.before_app_request
def enrolment_first():
    """A signed-in person whose role requires a second factor but who has none (their role
    changed, or they signed in before it was required) sees the enrolment page before any other."""
    if not current_app.config["SECOND_FACTOR_REQUIRED_ROLES"] or request.endpoint in _BEFORE_ENROLMENT:
        return None
    if request.endpoint is None or request.path.startswith("/api/"):
        return None
    if not current_user.is_authenticated:
        return None
    user = current_actor()
    if user.totp_enabled_at is None and permissions.second_factor_required(user):
        return redirect(url_for("auth.second_factor_settings"))
    return None

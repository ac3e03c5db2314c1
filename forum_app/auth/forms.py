from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from wtforms import EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from ..core.forms import AppForm
from .passwords import MAX_LENGTH, MIN_LENGTH


class LoginForm(AppForm):
    email = EmailField(
        _l("Email"), validators=[DataRequired(), Length(max=254)], render_kw={"autocomplete": "username"}
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField()


class NewPasswordForm(AppForm):
    password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(),
            Length(min=MIN_LENGTH, max=MAX_LENGTH, message=_l("Use between %(min)d and %(max)d characters.")),
        ],
        description=lazy_ngettext(
            "At least %(num)d character. A long passphrase in any alphabet is best.",
            "At least %(num)d characters. A long passphrase in any alphabet is best.",
            MIN_LENGTH,
        ),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


class ChangePasswordForm(NewPasswordForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )


class ResetRequestForm(AppForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])


def _code_field(required: bool = True) -> StringField:
    return StringField(
        _l("Code"),
        validators=[DataRequired() if required else Optional(), Length(max=40)],
        description=_l("The 6-digit code your authenticator app shows, or one of your recovery codes."),
        render_kw={"autocomplete": "one-time-code", "inputmode": "text", "spellcheck": "false"},
    )


class SecondFactorForm(AppForm):
    """The second step of signing in."""

    code = _code_field()


class EnrolForm(AppForm):
    """Confirm a new authenticator app with its first code; ``token`` carries the new secret."""

    token = HiddenField(validators=[DataRequired(), Length(max=500)])
    code = StringField(
        _l("Code from the app"),
        validators=[DataRequired(), Length(max=20)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class ReauthForm(AppForm):
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    code = _code_field(required=False)
    next = HiddenField()


class ButtonForm(AppForm):
    """A button that changes something: only the CSRF token."""

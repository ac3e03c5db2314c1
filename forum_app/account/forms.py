"""The profile form: time zone, language, email choices."""

from __future__ import annotations

from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField

from ..notifications.preferences import CHOICES
from ..vocab import FORUM_TIMEZONES
from .services import LANGUAGES, ProfileInput


def timezone_choices() -> list[tuple[str, str]]:
    """The forums' zones first, then every other IANA zone."""
    rest = sorted(
        z
        for z in available_timezones()
        if "/" in z and z not in FORUM_TIMEZONES and not z.startswith(("Etc/", "SystemV/", "posix/", "right/"))
    )
    return [(z, z) for z in FORUM_TIMEZONES] + [(z, z) for z in rest]


class ProfileForm(FlaskForm):
    timezone = SelectField(
        _l("My time zone"), description=_l("Meetings are shown in their forum's time and, when it differs, in yours.")
    )
    locale = SelectField(_l("Language"), choices=list(LANGUAGES.items()))
    meeting_reminders = BooleanField(CHOICES["meeting_reminders"])
    action_reminders = BooleanField(CHOICES["action_reminders"])
    minutes_notices = BooleanField(CHOICES["minutes_notices"])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = timezone_choices()

    def to_input(self) -> ProfileInput:
        return ProfileInput(
            timezone=self.timezone.data,
            locale=self.locale.data,
            choices={name: bool(getattr(self, name).data) for name in CHOICES},
        )


class FeedForm(FlaskForm):
    """The "new calendar link" button (CSRF only)."""

"""The profile form: time zone, language, email choices."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField

from ..core import language
from ..core.forms import AppForm
from ..core.zones import zone_choices
from ..notifications.preferences import CHOICES
from ..vocab import FORUM_TIMEZONES
from .services import ProfileInput


class ProfileForm(AppForm):
    timezone = SelectField(
        _l("My time zone"), description=_l("Meetings are shown in their forum's time and, when it differs, in yours.")
    )
    locale = SelectField(
        _l("Language"),
        description=_l("Pages and the emails you receive. When you choose none, your browser's language is used."),
    )
    meeting_reminders = BooleanField(CHOICES["meeting_reminders"])
    action_reminders = BooleanField(CHOICES["action_reminders"])
    minutes_notices = BooleanField(CHOICES["minutes_notices"])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = zone_choices(first=FORUM_TIMEZONES)
        self.locale.choices = [("", _l("As my browser asks (or the forum's language)")), *language.choices()]

    def to_input(self) -> ProfileInput:
        return ProfileInput(
            timezone=self.timezone.data,
            locale=self.locale.data,
            choices={name: bool(getattr(self, name).data) for name in CHOICES},
        )


class FeedForm(AppForm):
    """The "new calendar link" button (CSRF only)."""

"""The RSVP form on the page an email's answer link opens."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, TextAreaField
from wtforms.validators import InputRequired, Length

from ..core.forms import AppForm

# The words of the emails' buttons (and the meeting page's form): the question above says what they answer.
ANSWER_CHOICES = [
    ("accepted", _l("Yes")),
    ("tentative", _l("Maybe")),
    ("declined", _l("No")),
]


class RsvpLinkForm(AppForm):
    answer = RadioField(
        _l("Your answer"), choices=ANSWER_CHOICES, validators=[InputRequired(_l("Choose yes, maybe or no."))]
    )
    comment = TextAreaField(_l("Note for the organisers (optional)"), validators=[Length(max=500)])

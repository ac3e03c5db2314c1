"""Forms for forums and their members."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

from ..core import language
from ..core.forms import AppForm, EditForm, TextAreaField, choices, valid_timezone
from ..core.zones import forum_zone_choices
from ..vocab import COUNTRIES, FORUM_ROLES, MINUTES_ADOPTION_WAYS
from .services import ForumInput


class ForumForm(EditForm[ForumInput]):
    grant_id = SelectField(_l("Grant"), coerce=int, validators=[DataRequired()])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    city = StringField(_l("City"), validators=[DataRequired(), Length(max=120)])
    country = SelectField(_l("Country"), choices=choices(COUNTRIES), validators=[DataRequired()])
    timezone = SelectField(
        _l("Time zone"),
        choices=forum_zone_choices,
        validators=[DataRequired(), valid_timezone],
        description=_l("Meeting times are entered and shown in this zone."),
    )
    language = SelectField(
        _l("Language"),
        choices=language.choices(),
        default="en",
        validators=[DataRequired()],
        description=_l("Its pages and emails use it for people who have not chosen a language."),
    )
    focus = StringField(
        _l("Focus"), validators=[Optional(), Length(max=500)], description=_l("e.g. “new State Prison, Sarajevo”")
    )
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=10_000)])
    minutes_adoption = SelectField(
        _l("Minutes are adopted"),
        choices=choices(MINUTES_ADOPTION_WAYS),
        default="circulation",
        validators=[DataRequired()],
        description=_l("At the next meeting: planning it adds the item “Adoption of the minutes”."),
    )

    def to_input(self) -> ForumInput:
        return ForumInput(
            grant_id=self.grant_id.data,
            title=self.title.data,
            city=self.city.data,
            country=self.country.data,
            timezone=self.timezone.data,
            language=self.language.data,
            focus=self.focus.data or "",
            description=self.description.data or "",
            minutes_adoption=self.minutes_adoption.data or "circulation",
        )


class MemberForm(AppForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    name = StringField(
        _l("Full name (for a person without an account)"),
        validators=[Optional(), Length(max=200)],
        description=_l("Someone without an account is invited by email to set a password."),
    )
    organisation_id = SelectField(_l("Organisation (for a new account)"), coerce=int, validators=[Optional()])
    role = SelectField(_l("Role in the forum"), choices=choices(FORUM_ROLES), default="participant")


class MemberRoleForm(AppForm):
    role = SelectField(_l("Role"), choices=choices(FORUM_ROLES))

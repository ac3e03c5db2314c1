from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

from ..auth.services import UserInput
from ..core.forms import AppForm, EditForm, LinesField, TextAreaField, end_not_before_start, valid_timezone
from ..core.forms import choices as _choices
from ..core.zones import forum_zone_choices
from ..vocab import COUNTRIES, GENDERS, ORGANISATION_KINDS, SYSTEM_ROLES
from .services import GrantInput, OrganisationInput, ProgrammeInput


class OrganisationForm(EditForm[OrganisationInput]):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=_choices(ORGANISATION_KINDS), validators=[DataRequired()])
    country = SelectField(_l("Country"), choices=_choices(COUNTRIES), validators=[DataRequired()])
    city = StringField(_l("City"), validators=[Optional(), Length(max=120)])

    def to_input(self) -> OrganisationInput:
        return OrganisationInput(
            name=self.name.data, kind=self.kind.data, country=self.country.data, city=self.city.data or ""
        )


class ProgrammeForm(EditForm[ProgrammeInput]):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=300)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=10_000)])
    themes = LinesField(
        _l("Themes"),
        max_items=50,
        max_line=200,
        description=_l("One theme per line, e.g. “Radicalisation in prisons”."),
    )
    starts_on = DateField(_l("Starts on"), validators=[Optional()])
    ends_on = DateField(_l("Ends on"), validators=[Optional(), end_not_before_start("starts_on")])

    def to_input(self) -> ProgrammeInput:
        return ProgrammeInput(
            name=self.name.data,
            description=self.description.data or "",
            themes=list(self.themes.data),
            starts_on=self.starts_on.data,
            ends_on=self.ends_on.data,
        )


class GrantForm(EditForm[GrantInput]):
    programme_id = SelectField(_l("Programme"), coerce=int, validators=[DataRequired()])
    reference = StringField(_l("Reference"), validators=[DataRequired(), Length(max=100)])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    holder_id = SelectField(_l("Grant holder"), coerce=int, validators=[DataRequired()])
    country = SelectField(_l("Country"), choices=_choices(COUNTRIES), validators=[DataRequired()])
    starts_on = DateField(_l("Starts on"), validators=[Optional()])
    ends_on = DateField(_l("Ends on"), validators=[Optional(), end_not_before_start("starts_on")])

    def to_input(self) -> GrantInput:
        return GrantInput(
            programme_id=self.programme_id.data,
            reference=self.reference.data,
            title=self.title.data,
            holder_id=self.holder_id.data,
            country=self.country.data,
            starts_on=self.starts_on.data,
            ends_on=self.ends_on.data,
        )


class TeamMemberForm(AppForm):
    email = EmailField(_l("Email of the organiser"), validators=[DataRequired(), Email(), Length(max=254)])


class UserForm(EditForm[UserInput]):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    role = SelectField(
        _l("Role"),
        choices=_choices(SYSTEM_ROLES),
        validators=[DataRequired()],
        default="member",
        description=_l(
            "Organisers are members of a grant's team; participants are members "
            "of a forum. Both have the role “Member”."
        ),
    )
    organisation_id = SelectField(_l("Organisation"), coerce=int, validators=[Optional()])
    job_title = StringField(_l("Job title"), validators=[Optional(), Length(max=200)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=50)])
    timezone = SelectField(
        _l("Time zone"),
        choices=forum_zone_choices,
        validators=[DataRequired(), valid_timezone],
        default="Europe/Sarajevo",
    )
    gender = SelectField(
        _l("Gender (optional)"),
        choices=_choices(GENDERS),
        default="not_recorded",
        validators=[Optional()],
        description=_l(
            "Only counted in aggregate participation figures. Leave “Not recorded” "
            "unless the person wishes it recorded."
        ),
    )

    def to_input(self) -> UserInput:
        return UserInput(
            name=self.name.data,
            email=self.email.data,
            role=self.role.data,
            organisation_id=self.organisation_id.data or None,
            job_title=self.job_title.data or "",
            phone=self.phone.data or "",
            timezone=self.timezone.data,
            gender=self.gender.data if self.gender.data in GENDERS else "not_recorded",
        )

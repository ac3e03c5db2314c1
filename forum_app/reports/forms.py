"""Indicator forms (programme staff): define, edit, retire or reinstate an indicator; set a period's target."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, FloatField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from ..core.forms import AppForm, EditForm, TextAreaField, choices
from ..models import INDICATOR_METRICS
from ..vocab import COUNTRIES
from .indicators import IndicatorEdit, IndicatorInput, TargetInput

METRIC_CHOICES = [("", _l("No: staff enter the actual value")), *choices(INDICATOR_METRICS)]


class IndicatorForm(AppForm):
    programme_id = SelectField(_l("Programme"), coerce=int, validators=[DataRequired()])
    name = StringField(_l("Indicator"), validators=[DataRequired(), Length(max=300)])
    unit = StringField(_l("Unit"), validators=[DataRequired(), Length(max=50)])
    baseline = FloatField(_l("Baseline"), validators=[Optional()])
    metric = SelectField(_l("Computed from Forum Desk"), choices=METRIC_CHOICES)

    def to_input(self) -> IndicatorInput:
        return IndicatorInput(
            name=self.name.data or "",
            unit=self.unit.data or "",
            baseline=self.baseline.data,
            metric=self.metric.data or "",
        )


class TargetForm(AppForm):
    indicator_id = SelectField(_l("Indicator"), coerce=int, validators=[DataRequired()])
    period = StringField(_l("Reporting period"), validators=[DataRequired(), Length(max=50)])
    starts_on = DateField(_l("From"), validators=[DataRequired()])
    ends_on = DateField(_l("To"), validators=[DataRequired()])
    country = SelectField(_l("Country"), choices=[("", _l("All countries"))] + choices(COUNTRIES))
    target = FloatField(_l("Target"), validators=[Optional()])
    actual = FloatField(_l("Actual (only where Forum Desk does not compute it)"), validators=[Optional()])
    source_note = TextAreaField(_l("Source of the actual value"), validators=[Length(max=2000)])

    def to_input(self) -> TargetInput:
        return TargetInput(
            period=self.period.data or "",
            starts_on=self.starts_on.data,
            ends_on=self.ends_on.data,
            country=self.country.data or "",
            target=self.target.data,
            actual=self.actual.data,
            source_note=self.source_note.data or "",
        )


class IndicatorEditForm(EditForm[IndicatorEdit]):
    """An indicator's definition, carrying the values it was opened with (a concurrent save is a conflict)."""

    name = StringField(_l("Indicator"), validators=[DataRequired(), Length(max=300)])
    unit = StringField(_l("Unit"), validators=[DataRequired(), Length(max=50)])
    baseline = FloatField(_l("Baseline"), validators=[Optional()])
    metric = SelectField(_l("Computed from Forum Desk"), choices=METRIC_CHOICES)

    def to_input(self) -> IndicatorEdit:
        return IndicatorEdit(
            name=self.name.data or "",
            unit=self.unit.data or "",
            baseline=self.baseline.data,
            metric=self.metric.data or "",
        )


class IndicatorVersionForm(AppForm):
    """Retire or reinstate: the version the page showed, so a change made meanwhile is a conflict."""

    version = IntegerField("", widget=HiddenInput(), validators=[InputRequired(), NumberRange(min=1, max=2**31 - 1)])

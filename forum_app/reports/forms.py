"""Indicator forms (programme staff): define an indicator; set a period's target or entered actual."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, FloatField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from ..core.forms import AppForm, TextAreaField, choices
from ..models import INDICATOR_METRICS
from ..vocab import COUNTRIES
from .indicators import IndicatorInput, TargetInput


class IndicatorForm(AppForm):
    programme_id = SelectField(_l("Programme"), coerce=int, validators=[DataRequired()])
    name = StringField(_l("Indicator"), validators=[DataRequired(), Length(max=300)])
    unit = StringField(_l("Unit"), validators=[DataRequired(), Length(max=50)])
    baseline = FloatField(_l("Baseline"), validators=[Optional()])
    metric = SelectField(
        _l("Computed from Forum Desk"),
        choices=[("", _l("No: staff enter the actual value"))] + choices(INDICATOR_METRICS),
    )

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

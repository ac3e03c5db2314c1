"""The news forms: what an item is about (compose), its text (edit), and the publish / withdraw buttons."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange
from wtforms.widgets import HiddenInput

from ..core import language
from ..core.forms import AppForm, TextAreaField
from ..core.urls import MAX_ID
from .services import MAX_BODY, MAX_TITLE, ComposeInput, NewsInput


class ComposeForm(AppForm):
    programme_id = SelectField(_l("Programme"), coerce=int, validators=[InputRequired()])
    # 0: the whole programme (staff); organisers choose one of their grants.
    grant_id = SelectField(_l("Grant"), coerce=int, default=0)
    period_start = DateField(_l("Forums held from"), validators=[InputRequired()])
    period_end = DateField(_l("to"), validators=[InputRequired()])
    language = SelectField(_l("Language of the news item"), validators=[InputRequired()])

    def offer(self, programmes: list[tuple[int, str]], grants: list[tuple[int, str]], staff: bool) -> None:
        self.programme_id.choices = programmes
        self.grant_id.choices = ([(0, str(_l("All the programme's forums")))] if staff else []) + grants
        self.language.choices = language.choices()

    def to_input(self) -> ComposeInput:
        return ComposeInput(
            programme_id=self.programme_id.data,
            grant_id=self.grant_id.data or None,
            period_start=self.period_start.data,
            period_end=self.period_end.data,
            language=self.language.data,
        )


class NewsForm(AppForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=MAX_TITLE)])
    body_md = TextAreaField(
        _l("Text"),
        validators=[DataRequired(), Length(max=MAX_BODY)],
        description=_l(
            "Formatting: **bold**, - list item. Never names of participants, nothing confidential: the text is "
            "public once published. The funding line, the disclaimer and any footnote are added below it."
        ),
    )
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired(), NumberRange(min=1, max=MAX_ID)])
    preview = SubmitField(_l("Preview"))
    save = SubmitField(_l("Save the draft"))

    def to_input(self) -> NewsInput:
        return NewsInput(title=self.title.data or "", body_md=self.body_md.data or "", version=self.version.data or 0)


class VersionForm(AppForm):
    """Publish / withdraw: names the row version the author was looking at."""

    version = IntegerField(widget=HiddenInput(), validators=[InputRequired(), NumberRange(min=1, max=MAX_ID)])

"""Forms of the "During the meeting" page: one per agenda item, each posted on its own."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, IntegerField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from ..actions.forms import CheckboxesField
from ..core.forms import AppForm, EditForm, LinesField, TextAreaField
from ..core.once import OnceForm
from .day import MAX_DECISION, MAX_DECISIONS, MAX_NOTES, MAX_TITLE, ItemInput


class ItemForm(EditForm[ItemInput]):
    """An agenda item's title, notes and decisions; it carries the values it was opened with (core.editing),
    so a save over someone else's is a conflict on this item alone."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=MAX_TITLE)])
    notes_md = TextAreaField(
        _l("Notes"),
        validators=[Optional(), Length(max=MAX_NOTES)],
        description=_l("What was said. Formatting: **bold**, - list item."),
    )
    decisions = LinesField(
        _l("Decisions"),
        max_items=MAX_DECISIONS,
        max_line=MAX_DECISION,
        description=_l("One decision per line; they go into the minutes' decisions."),
    )

    confidential = BooleanField(
        _l("Confidential (e.g. one person's release plan)"),
        description=_l(
            "Only the forum's organisers and the people recorded present read it; everyone else, exports and "
            "emails read one line: the item's number and how many actions were agreed."
        ),
    )
    # Offered for the item's saved decisions (``offer_public``); a decision added now is marked after saving.
    public_decisions = CheckboxesField(_l("Decisions that may be published in the news"), choices=[])

    # Sent (as "y") only by a form that offered the two marks above: without it the stored marks stay.
    marks = BooleanField()

    def offer_public(self, decisions: list[str]) -> None:
        self.public_decisions.choices = [(d, d) for d in decisions]

    def to_input(self) -> ItemInput:
        return ItemInput(
            title=self.title.data or "",
            notes_md=self.notes_md.data or "",
            decisions=list(self.decisions.data or []),
            confidential=bool(self.confidential.data) if self.marks.data else None,
            public_decisions=list(self.public_decisions.data or []) if self.marks.data else None,
        )


class NewItemForm(OnceForm, AppForm):
    title = StringField(_l("New item"), validators=[DataRequired(), Length(max=MAX_TITLE)])


class MoveForm(AppForm):
    direction = HiddenField(validators=[InputRequired()])


class DraftMinutesForm(AppForm):
    # The minutes' version when the page was opened: a version saved since then is not replaced unseen.
    base_revision = IntegerField(widget=HiddenInput(), validators=[InputRequired(), NumberRange(min=0, max=2**31 - 1)])

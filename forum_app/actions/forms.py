"""Forms for actions: several at a meeting, one in full, details, updates, reassignment, the review."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, HiddenField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, HiddenInput, ListWidget

from ..core.forms import AppForm, EditForm, RowForm, RowSetForm, TextAreaField, row_list
from ..core.once import OnceForm
from ..vocab import ACTION_STATES
from .services import ActionDetails, ActionInput, ReviewOutcome

CASE_CODE_HELP = _l(
    "Optional, e.g. SA-2021-07. Never enter the name, identity number or any other personal "
    "data of a prisoner: a pseudonymous case code at most."
)


def owner_choices(people) -> list[tuple[int, str]]:
    return [(0, str(_l("— choose —")))] + [
        (u.id, f"{u.name} ({u.organisation.name})" if u.organisation else u.name) for u in people
    ]


def organisation_choices(organisations) -> list[tuple[int, str]]:
    return [(0, str(_l("The owner's organisation")))] + [(o.id, o.name) for o in organisations]


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


# --- several actions at a meeting ---------------------------------------------------------------------


class NewActionRow(RowForm):
    """One numbered slot of the quick form (``row_id`` is the slot's number); empty slots are skipped."""

    title = StringField(_l("Action"), validators=[Optional(), Length(max=300)])
    owner_id = SelectField(_l("Owner"), coerce=int, default=0)
    owner_organisation_id = SelectField(_l("Organisation"), coerce=int, default=0)
    due_on = DateField(_l("Due"), validators=[Optional()])


class RecordActionsForm(OnceForm, RowSetForm):
    rows = row_list(NewActionRow, max_rows=50)

    def slots(self, count: int, people, organisations) -> None:
        """Empty numbered rows for a GET."""
        self.load_rows([_Slot(n) for n in range(1, count + 1)], lambda slot: "")
        self.offer(people, organisations)

    def more(self, count: int, people, organisations) -> None:
        """``count`` more empty rows after those sent, which keep what was typed ("More rows")."""
        last = max((row.row_id.data or 0 for row in self.rows), default=0)
        for n in range(last + 1, last + 1 + min(count, self.rows.max_entries - len(self.rows.entries))):
            self.rows.append_entry({"row_id": n, "was": ""})
        self.offer(people, organisations)

    def offer(self, people, organisations) -> None:
        for row in self.rows:
            row.owner_id.choices = owner_choices(people)
            row.owner_organisation_id.choices = organisation_choices(organisations)

    def to_inputs(self) -> list[tuple[int, ActionInput]]:
        """(row index, input) for every row with a title or an owner."""
        return [
            (
                index,
                ActionInput(
                    title=row.title.data or "",
                    owner_id=row.owner_id.data or 0,
                    due_on=row.due_on.data,
                    owner_organisation_id=row.owner_organisation_id.data or None,
                ),
            )
            for index, row in enumerate(self.rows)
            if (row.title.data or "").strip() or row.owner_id.data
        ]


class _Slot:
    def __init__(self, n: int):
        self.id = n


# --- one action in full, and its details ----------------------------------------------------------------


class ActionFields:
    """The fields of an action's details (a mixin: WTForms collects fields from every base class)."""

    title = StringField(_l("Action"), validators=[InputRequired(), Length(max=300)])
    owner_organisation_id = SelectField(_l("Owner's organisation"), coerce=int, default=0)
    due_on = DateField(_l("Due date"), validators=[Optional()])
    description = TextAreaField(
        _l("Description"),
        validators=[Optional(), Length(max=20_000)],
        description=_l("Markdown: “**bold**”, lists with “-”, “[link](https://…)”."),
    )
    themes = CheckboxesField(_l("Themes"), choices=[])
    case_code = StringField(_l("Case code"), validators=[Optional(), Length(max=40)], description=CASE_CODE_HELP)

    def offer(self, people, organisations, themes) -> None:
        if hasattr(self, "owner_id"):
            self.owner_id.choices = owner_choices(people)
        self.owner_organisation_id.choices = organisation_choices(organisations)
        self.themes.choices = [(t, t) for t in themes]


class ActionForm(OnceForm, ActionFields, AppForm):
    """Raise one action (between meetings, or from a decision of the minutes)."""

    owner_id = SelectField(_l("Owner"), coerce=int, default=0)
    note = TextAreaField(_l("Note for the history (optional)"), validators=[Optional(), Length(max=5000)])

    def to_input(self, decision_number: int | None = None) -> ActionInput:
        return ActionInput(
            title=self.title.data or "",
            owner_id=self.owner_id.data or 0,
            description=self.description.data or "",
            due_on=self.due_on.data,
            themes=tuple(self.themes.data or ()),
            case_code=self.case_code.data or "",
            note=self.note.data or "",
            owner_organisation_id=self.owner_organisation_id.data or None,
            decision_number=decision_number,
        )


class ActionDetailsForm(ActionFields, EditForm[ActionDetails]):
    def to_input(self) -> ActionDetails:
        return ActionDetails(
            title=self.title.data or "",
            description=self.description.data or "",
            due_on=self.due_on.data,
            themes=list(self.themes.data or []),
            case_code=self.case_code.data or "",
            owner_organisation_id=self.owner_organisation_id.data or None,
        )


# --- updates, answers, reassignment ----------------------------------------------------------------------


class VersionedForm(AppForm):
    # The action's version when the page was opened: a later update makes this one a conflict.
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired(), NumberRange(min=1, max=2**31 - 1)])


class UpdateForm(OnceForm, VersionedForm):
    to_state = SelectField(_l("New state"), choices=[], validate_choice=False, default="")
    note = TextAreaField(
        _l("Note"),
        validators=[Optional(), Length(max=5000)],
        description=_l("What has happened. A reason is needed to block or drop the action."),
    )
    next = HiddenField()
    seen = HiddenField()  # the last update the page showed: later ones are someone else's, shown on a conflict

    def offer(self, states) -> None:
        self.to_state.choices = [("", str(_l("— no change —")))] + [(s, str(ACTION_STATES[s])) for s in states]


class AnswerForm(AppForm):
    """The owner's answer, from the app or from the emailed link: accept, or decline with a reason."""

    answer = HiddenField(validators=[InputRequired()])
    reason = TextAreaField(
        _l("Why do you decline? (returned to the organisers)"), validators=[Optional(), Length(max=5000)]
    )
    next = HiddenField()


class ReassignForm(VersionedForm):
    owner_id = SelectField(_l("New owner"), coerce=int, default=0)
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=5000)])


# --- the follow-up review -------------------------------------------------------------------------------

NOTE_MAX = 5000


class ReviewRow(RowForm):
    """One action in the meeting's review; ``was`` holds the action's version when the form was opened."""

    to_state = SelectField(_l("New state"), choices=[], default="")  # ReviewForm.offer gives the states
    note = TextAreaField(_l("What was said"), validators=[Optional(), Length(max=NOTE_MAX)])


class ReviewForm(OnceForm, RowSetForm):
    rows = row_list(ReviewRow, max_rows=1000)

    def open(self, actions) -> None:
        """A fresh form: one empty row per action, carrying the version it showed."""
        self.load_rows(actions, lambda action: str(action.version))
        self.offer()

    def offer(self) -> None:
        """Every row's state choices ("as it is", then each state), translated once for all the rows."""
        choices = [("", str(_l("— as it is —")))] + [(state, str(label)) for state, label in ACTION_STATES.items()]
        for row in self.rows:
            row.to_state.choices = choices

    def to_outcomes(self) -> list[tuple[int, ReviewOutcome]]:
        outcomes = []
        for index, row in enumerate(self.rows):
            version = int(row.was.data) if (row.was.data or "").isdigit() else 0
            outcomes.append(
                (
                    index,
                    ReviewOutcome(
                        action_id=row.row_id.data,
                        version=version,
                        to_state=row.to_state.data or None,
                        note=row.note.data or "",
                    ),
                )
            )
        return outcomes

"""Forms for meetings: plan and edit, state, invitees, RSVP, attendance, minutes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TimeField,
    ValidationError,
)
from wtforms.validators import URL, DataRequired, Email, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from ..admin.services import OrganisationInput
from ..core.forms import AppForm, LinesField, RowForm, RowSetForm, TextAreaField, choices, row_list
from ..core.once import OnceForm
from ..core.urls import MAX_ID
from ..notifications.forms import ANSWER_CHOICES
from ..vocab import ATTENDANCE_STATES, COUNTRIES, ORGANISATION_KINDS
from .delegates import DelegateInput
from .minutes import MinutesInput
from .services import AttendanceInput, InviteeInput, WalkInInput

# The folds are compared too: after a conflict, an untouched "which 02:30" takes the saved one.
MEETING_FIELDS = (
    "title",
    "day",
    "start_time",
    "start_fold",
    "end_time",
    "end_fold",
    "venue",
    "online_url",
    "agenda_md",
)


class FoldField(SelectField):
    """Which occurrence of a local time that happens twice: "0" the first, "1" the second, "" not chosen.

    Shown only when the time beside it is ambiguous (the views name the two occurrences); the
    edit form is prefilled from the stored UTC instant, so saving it unchanged keeps that instant.
    """

    def __init__(self, label, **kwargs) -> None:
        super().__init__(
            label,
            # The values only: the view names the two occurrences when it shows the field (views._offer_folds).
            choices=[("", ""), ("0", "0"), ("1", "1")],
            validators=[Optional()],
            **kwargs,
        )

    def _value(self) -> str:  # compared as text with the values the form was opened with (core.editing)
        return self.data or ""

    @property
    def fold(self) -> int | None:
        return int(self.data) if self.data in ("0", "1") else None


class MeetingForm(OnceForm, AppForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    day = DateField(_l("Date"), validators=[InputRequired(message=_l("Enter a date."))])
    start_time = TimeField(_l("Starts"), validators=[InputRequired(message=_l("Enter a start time."))])
    end_time = TimeField(_l("Ends"), validators=[InputRequired(message=_l("Enter an end time."))])
    # Shown only when a time occurs twice (the night the clocks go back).
    start_fold = FoldField(_l("Which start time?"))
    end_fold = FoldField(_l("Which end time?"))
    venue = StringField(_l("Venue"), validators=[Optional(), Length(max=500)])
    online_url = StringField(
        _l("Online link"),
        validators=[
            Optional(),
            Length(max=1000),
            URL(require_tld=False, message=_l("Enter a full web address starting with https://.")),
        ],
    )
    agenda_md = TextAreaField(
        _l("Agenda"),
        validators=[Optional(), Length(max=50_000)],
        description=_l(
            "Formatting: “1.” for numbered items, “**bold**”, "
            "“[link](https://…)”. Preview shows the agenda as invitees will see it."
        ),
    )
    version = HiddenField()
    # The fields as the form was opened (JSON): a conflict is shown three ways, and fields
    # this person did not touch take what the other person saved.
    loaded = HiddenField()
    # Planning the next meeting: the meeting it follows on from (its members are invited).
    follow_on = HiddenField()
    preview = SubmitField(_l("Preview"))
    save = SubmitField(_l("Save"))

    def validate_day(self, field) -> None:
        # Catches year typos (0226, 2206) and keeps every date inside what time zones handle.
        today = date.today()
        if field.data and not (date(2000, 1, 1) <= field.data <= today.replace(year=today.year + 10)):
            raise ValidationError(_l("Enter a date between the year 2000 and ten years from now."))

    def validate_online_url(self, field) -> None:
        # URL() accepts any scheme (javascript://, ftp://); a meeting link must be web.
        if field.data and not field.data.lower().startswith(("http://", "https://")):
            raise ValidationError(_l("The online link must start with https:// or http://."))


class StateForm(AppForm):
    to_state = HiddenField(validators=[DataRequired()])
    version = IntegerField(validators=[InputRequired(), NumberRange(min=1)])
    reason = TextAreaField(_l("Reason (shown to invitees)"), validators=[Optional(), Length(max=2000)])


class InviteeForm(OnceForm, AppForm):
    """Invite anyone by email: a member, someone with an account, or a guest new to Forum Desk."""

    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    name = StringField(
        _l("Full name"),
        validators=[DataRequired(), Length(max=200)],
        description=_l(
            "Someone new to Forum Desk gets a guest account and an email to set a password; they see this meeting only."
        ),
    )
    organisation_id = SelectField(_l("Organisation"), coerce=int, validators=[Optional()])
    # Their organisation is not in Forum Desk yet: added in the same step (organisers; see guest_organisation_lock).
    new_organisation_name = StringField(
        _l("Or a new organisation"),
        validators=[Optional(), Length(max=200)],
        description=_l("If theirs is not in the list. It is added to Forum Desk's organisations."),
    )
    new_organisation_kind = SelectField(
        _l("Kind of organisation"), choices=choices(ORGANISATION_KINDS), default="other"
    )
    new_organisation_country = SelectField(_l("Country"), choices=choices(COUNTRIES))

    def to_input(self) -> InviteeInput:
        name = (self.new_organisation_name.data or "").strip()
        new = (
            OrganisationInput(
                name=name, kind=self.new_organisation_kind.data, country=self.new_organisation_country.data
            )
            if name
            else None
        )
        return InviteeInput(
            email=self.email.data,
            name=self.name.data or "",
            organisation_id=self.organisation_id.data or None,
            new_organisation=new,
        )


class RsvpForm(AppForm):
    answer = RadioField(
        _l("Will you attend?"),
        choices=ANSWER_CHOICES,  # Yes / Maybe / No, as the emails' buttons and the answer page say
        validators=[InputRequired(message=_l("Choose an answer."))],
    )
    comment = StringField(_l("Comment (optional)"), validators=[Optional(), Length(max=500)])


class AttendanceRow(RowForm):
    # "value" is the row's editable field (RowSetForm's convention); the label is the person.
    value = SelectField(_l("Attendance"), choices=[("", "—")] + choices(ATTENDANCE_STATES))


class WalkInRow(Form):
    """A person who came without an invitation; a row left blank is ignored."""

    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    organisation_name = StringField(_l("Organisation"), validators=[Optional(), Length(max=200)])
    kind = SelectField(_l("Kind of organisation"), choices=choices(ORGANISATION_KINDS), default="other")


@dataclass(frozen=True)
class MarkedPresent:
    """What "mark everyone who accepted as present" did, to say so truthfully."""

    marked: int  # blank rows now marked present
    already_present: int  # accepted and already marked present
    other_mark: int  # accepted, with another mark (excused, absent) that is kept


class AttendanceForm(OnceForm, RowSetForm):
    """Attendance in one go: every invitee's mark and the walk-ins, saved together.

    Only the marks changed here are written (see record_attendance). "Mark everyone who
    accepted as present" fills the form, keeping what was typed, for the organiser to check
    and save.
    """

    rows = row_list(AttendanceRow)
    walk_ins = FieldList(FormField(WalkInRow), min_entries=3, max_entries=50)
    mark_accepted = SubmitField(_l("Mark everyone who accepted as present"))
    save = SubmitField(_l("Save attendance"))

    def load(self, invitations) -> None:
        self.load_rows(invitations, lambda inv: inv.attendance)

    def mark_accepted_present(self, invitations) -> MarkedPresent:
        """Set "present" on the blank rows of invitees who accepted; a mark already typed or saved is kept."""
        accepted = {inv.id for inv in invitations if inv.rsvp == "accepted"}
        marked = already = other = 0
        for row in self.rows:
            if row.row_id.data not in accepted:
                continue
            if not row.value.data:
                row.value.data = "present"
                marked += 1
            elif row.value.data == "present":
                already += 1
            else:
                other += 1
        return MarkedPresent(marked=marked, already_present=already, other_mark=other)

    def to_input(self) -> AttendanceInput:
        walk_ins = [
            WalkInInput(
                name=w.data["name"].strip(), organisation_name=(w.data["organisation_name"] or ""), kind=w.data["kind"]
            )
            for w in self.walk_ins
            if (w.data["name"] or "").strip()
        ]
        return AttendanceInput(marks=self.changes(), walk_ins=walk_ins)


class MinutesForm(OnceForm, AppForm):
    body_md = TextAreaField(
        _l("Minutes"),
        validators=[Optional(), Length(max=200_000)],
        description=_l(
            "Formatting: ## Heading, **bold**, - list item, 1. numbered item. "
            "Preview shows the minutes as readers will see them. "
            "Each save is kept as a version."
        ),
    )
    decisions = LinesField(
        _l("Decisions and conclusions"), max_items=100, max_line=2000, description=_l("One per line.")
    )
    correction_reason = TextAreaField(
        _l("What does this correction correct, and why?"), validators=[Optional(), Length(max=2000)]
    )
    # The version the editor started from (hidden): a save on top of an older one is a conflict.
    base_revision = IntegerField(widget=HiddenInput(), validators=[InputRequired(), NumberRange(min=0, max=MAX_ID)])
    preview = SubmitField(_l("Preview"))
    save = SubmitField(_l("Save a new version"))

    def to_input(self) -> MinutesInput:
        return MinutesInput(
            body_md=self.body_md.data or "",
            decisions=list(self.decisions.data),
            correction_reason=self.correction_reason.data or "",
        )


class RevisionForm(AppForm):
    """Circulate / adopt: names the minutes version the organiser was looking at."""

    base_revision = IntegerField(widget=HiddenInput(), validators=[InputRequired(), NumberRange(min=1, max=MAX_ID)])


class CommentForm(OnceForm, AppForm):
    body = TextAreaField(_l("Your comment"), validators=[DataRequired(), Length(max=5000)])


class DelegateForm(OnceForm, AppForm):
    """ "X attended on behalf of Y" (meetings.delegates): Y among the invitees, X by name and email."""

    for_invitation_id = SelectField(_l("On behalf of"), coerce=int, validators=[InputRequired()])
    name = StringField(_l("Name of the person who came"), validators=[Optional(), Length(max=200)])
    email = EmailField(
        _l("Their email (optional)"),
        validators=[Optional(), Email(), Length(max=254)],
        description=_l(
            "With an email address, someone new gets a guest account in the same organisation and can own actions. "
            "Without one they are recorded as a walk-in, who cannot own an action."
        ),
    )
    join_forum = BooleanField(
        _l("Also make them a participant of the forum (to own actions and get invitations)"), default=True
    )
    record_delegate = SubmitField(_l("Record who came for whom"))

    def to_input(self) -> DelegateInput:
        return DelegateInput(
            for_invitation_id=self.for_invitation_id.data,
            name=self.name.data or "",
            email=self.email.data or "",
            join_forum=bool(self.join_forum.data),
        )

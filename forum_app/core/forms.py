"""Form helpers shared by the feature packages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from zoneinfo import available_timezones

from flask import flash, request
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, HiddenField, IntegerField, ValidationError
from wtforms import TextAreaField as _WTFormsTextArea
from wtforms.validators import InputRequired, NumberRange
from wtforms.widgets import HiddenInput

from . import audit, wtforms_messages
from .clock import utcnow
from .commit import Outcome, attempt
from .editing import EditInput, decode_loaded, rebase
from .privacy import marked, screen

T = TypeVar("T")
InputT = TypeVar("InputT", bound=EditInput)

_KNOWN_ZONES = frozenset(available_timezones())


def run_service(form: FlaskForm, service: Callable[[], T]) -> T | None:
    """Commit ``service`` through ``attempt``; on failure put the message at its field.

    Returns the service's result, or None when it failed (the form then carries the
    message, ``form.conflict`` what someone else changed, and nothing was saved).
    """
    outcome = attempt(service)
    if not outcome:
        attach_error(form, outcome.message, outcome.field)
        if outcome.conflict is not None:
            form.conflict = outcome.conflict  # the page shows what the other person changed
        return None
    return outcome.value


def run_action(service: Callable[[], Any], success: str) -> Outcome:
    """For buttons without a form to re-show: commit through ``attempt`` and flash the outcome."""
    outcome = attempt(service)
    flash(success if outcome else outcome.message, "success" if outcome else "danger")
    return outcome


class _Translated:
    """WTForms' own messages ("This field is required.") from our catalogue, in the reader's language
    (core.wtforms_messages): WTForms has no catalogues for the region's languages."""

    def get_translations(self, form):
        return wtforms_messages.translations


SCREENED_TYPES = frozenset({"StringField", "TextAreaField", "LinesField"})
PRIVACY_CONFIRM, PRIVACY_REASON = "privacy_confirm", "privacy_reason"
MIN_PRIVACY_REASON = 10


def _text_fields(form) -> list[Any]:
    """Every free-text field of ``form``, rows of row-set forms included."""
    found = []
    for f in form:
        if f.type in SCREENED_TYPES:
            found.append(f)
        elif f.type == "FieldList":
            for entry in f.entries:
                found.extend(_text_fields(entry.form) if entry.type == "FormField" else [])
    return found


class AppForm(FlaskForm):
    """Every page's form: Flask-WTF's (CSRF), speaking the reader's language throughout.

    And keeping the promise that no prisoner's personal data is stored: once a form is valid,
    its free text is screened (core.privacy). Words that look like an identity number or a
    date of birth stop the save with a warning on their field, the words marked, and the chance
    to save anyway with a reason (``privacy_confirm`` and ``privacy_reason``, rendered under the
    first such field by macros.field_messages), which is audited with the change.
    """

    class Meta(_Translated):
        pass

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        return self._screen_personal_data()

    def _screen_personal_data(self) -> bool:
        today = utcnow().date()
        flagged = []
        for f in _text_fields(self):
            text = "\n".join(f.data) if isinstance(f.data, list) else (f.data or "")
            hits = screen(text, today) if isinstance(text, str) else []
            if hits:
                flagged.append((f, text, hits))
        if not flagged:
            return True
        reason = request.form.get(PRIVACY_REASON, "").strip()[:500]
        if request.form.get(PRIVACY_CONFIRM) == "yes" and len(reason) >= MIN_PRIVACY_REASON:
            self._audit_privacy_override(reason, flagged)
            return True
        for f, _text, hits in flagged:
            words = ", ".join(f"“{hit.text}”" for hit in hits)
            f.errors = [
                *f.errors,
                _l(
                    "This looks like a person's identity number or date of birth: %(words)s. Forum Desk "
                    "must not hold prisoners' personal data: remove it, or confirm below why it must stay.",
                    words=words,
                ),
            ]
        first = flagged[0][0]
        # Read by macros.field_messages: the confirmation goes under the first flagged field.
        first.privacy_prompt = {"marked": [marked(text, hits) for _f, text, hits in flagged], "reason": reason}
        if request.form.get(PRIVACY_CONFIRM) == "yes":
            first.errors.append(
                lazy_ngettext(
                    "Give the reason in at least %(num)d character.",
                    "Give the reason in at least %(num)d characters.",
                    MIN_PRIVACY_REASON,
                )
            )
        return False

    def _audit_privacy_override(self, reason: str, flagged) -> None:
        actor = current_user if current_user.is_authenticated else None
        audit.record(
            actor,
            "privacy.override",
            None,
            reason,
            # The kinds and fields, never the words themselves: they are in the text saved.
            kinds=sorted({hit.kind for _f, _t, hits in flagged for hit in hits}),
            fields=[f.name for f, _t, _h in flagged],
            form=type(self).__name__,
            path=request.url_rule.rule if request.url_rule is not None else "",
        )


class EditForm(AppForm, Generic[InputT]):
    """A form that edits one record: carries the values it was opened with (see core.editing).

    ``InputT`` is the input dataclass the form gives (``to_input``).
    """

    loaded = HiddenField()

    def to_input(self) -> InputT:  # pragma: no cover - each form defines it
        raise NotImplementedError


class RowForm(Form):
    class Meta(_Translated):
        pass

    """One row of a row-set form: the row's id and the value it showed when the page was loaded.

    Subclasses add the editable field(s). ``was`` lets the service write only the rows this
    person changed, and refuse (as a conflict) a row someone else changed meanwhile.
    """

    # Hidden, so no label: without one WTForms translates a label made from the name, for every row.
    row_id = IntegerField("", widget=HiddenInput(), validators=[InputRequired(), NumberRange(min=1, max=2**31 - 1)])
    was = HiddenField("")


def row_list(row_form: type[RowForm], max_rows: int = 2000) -> FieldList:
    """The ``rows`` field of a RowSetForm: a FieldList of ``row_form``."""
    return FieldList(FormField(row_form), max_entries=max_rows)


class RowSetForm(AppForm):
    """A form editing many rows at once: subclasses declare ``rows = row_list(TheirRowForm)``.

    ``load_rows(objects, value_of)`` fills it for a GET; ``changes()`` gives, for a valid POST,
    ``{row id: (value when loaded, value now)}`` for the rows whose value the person changed.
    """

    rows: FieldList

    def load_rows(self, objects, value_of: Callable[[Any], Any]) -> None:
        while self.rows.entries:
            self.rows.pop_entry()
        for obj in objects:
            value = value_of(obj)
            self.rows.append_entry({"row_id": obj.id, "was": value or "", "value": value or ""})

    def changes(self) -> dict[int, tuple[Any, Any]]:
        result: dict[int, tuple[Any, Any]] = {}
        for row in self.rows:
            was, value = row.was.data or None, row.value.data or None
            if was != value:
                result[row.row_id.data] = (was, value)
        return result

    def validate_rows(self, field) -> None:
        ids = [row.row_id.data for row in field]
        if len(ids) != len(set(ids)):
            raise ValidationError(_l("A row appears twice. Reload the page and try again."))


def edit_record(
    form: EditForm[InputT], obj: Any, input_cls: type[InputT], save: Callable[[InputT, dict | None], T]
) -> T | None:
    """The whole GET/POST cycle of a record form, the same for every record.

    GET remembers the stored values in the form; a valid POST calls ``save(input, loaded)``
    through the commit point. After a conflict the form is rebased on what is stored now.
    Returns what ``save`` returned when it was committed, else None (re-show the form).
    """
    if request.method == "GET":
        if obj is not None:
            form.loaded.data = input_cls.of(obj).encode()
        return None
    if not form.validate_on_submit():
        return None
    loaded = decode_loaded(form.loaded.data)
    data = form.to_input()
    saved = run_service(form, lambda: save(data, loaded))
    if saved is None and getattr(form, "conflict", None) is not None and obj is not None:
        rebase(form, loaded, input_cls.of(obj), data)
    return saved


@dataclass(frozen=True)
class ErrorLink:
    """One line of a page's error summary: the message, and the id of the field it is about (None
    for a message about the whole form, or about a field the person cannot see)."""

    message: str
    field_id: str | None


def error_links(form: Any) -> list[ErrorLink]:
    """Every error of ``form`` in the order of its fields, row-set forms' rows included, for the
    error summary at the top of the page (macros.error_summary). Hidden fields (a row's id, the
    CSRF token) have nowhere to go to: their messages are listed without a link."""
    if form is None or not hasattr(form, "_fields"):
        return []
    found = [ErrorLink(str(message), None) for message in getattr(form, "form_errors", [])]
    for field in form:
        found += _field_errors(field)
    return found


def _field_errors(field: Any) -> list[ErrorLink]:
    if isinstance(field, FieldList):
        found = [ErrorLink(str(e), None) for e in field.errors if isinstance(e, str)]
        for entry in field.entries:
            found += _field_errors(entry)
        return found
    if isinstance(field, FormField):
        return [link for sub in field.form for link in _field_errors(sub)]
    hidden = field.type in ("HiddenField", "CSRFTokenField") or isinstance(field.widget, HiddenInput)
    return [ErrorLink(str(e), None if hidden else field.id) for e in field.errors if isinstance(e, str)]


def attach_error(form: FlaskForm, message: str, field: str | None) -> None:
    target = getattr(form, field, None) if field else None
    if target is not None and hasattr(target, "errors"):
        if not isinstance(target.errors, list):
            target.errors = list(target.errors)
        target.errors.append(message)
    else:
        form.form_errors.append(message)


class TextAreaField(_WTFormsTextArea):
    """A textarea whose text has Unix line endings.

    Browsers submit textareas with CRLF; stored text has LF. Without this, saving a form
    unchanged would "change" every multi-line field (and bump versions, write audit
    entries and cause false conflicts for anyone editing at the same time).
    """

    data: Any  # WTForms' fields are untyped here: a str, or a list for LinesField

    def process_formdata(self, valuelist) -> None:
        super().process_formdata(valuelist)
        if isinstance(self.data, str):
            self.data = self.data.replace("\r\n", "\n").replace("\r", "\n")


class LinesField(TextAreaField):
    """A textarea whose data is a list of non-empty, stripped lines (themes, decisions)."""

    def __init__(self, *args, max_items: int = 200, max_line: int = 1000, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_items, self.max_line = max_items, max_line

    def _value(self) -> str:
        return "\n".join(self.data or [])

    def process_data(self, value) -> None:
        self.data = list(value or [])

    def process_formdata(self, valuelist) -> None:
        if valuelist:
            lines = [line.strip() for line in (valuelist[0] or "").splitlines()]
            self.data = list(dict.fromkeys(line for line in lines if line))  # no blanks, no repeats

    def pre_validate(self, form) -> None:
        if len(self.data) > self.max_items:
            raise ValidationError(lazy_ngettext("At most %(num)d line.", "At most %(num)d lines.", self.max_items))
        if any(len(line) > self.max_line for line in self.data):
            raise ValidationError(
                lazy_ngettext(
                    "A line may have at most %(num)d character.",
                    "A line may have at most %(num)d characters.",
                    self.max_line,
                )
            )


def end_not_before_start(start_field: str):
    """Validator for an end-date field: it may not be before the start date."""

    def check(form: FlaskForm, field: Any) -> None:
        start = getattr(form, start_field).data
        if field.data and start and field.data < start:
            raise ValidationError(_l("The end cannot be before the start."))

    return check


def valid_timezone(form: FlaskForm, field: Any) -> None:
    if field.data not in _KNOWN_ZONES:
        raise ValidationError(_l("Choose a time zone from the list."))


def choices(mapping) -> list[tuple[str, Any]]:
    """(value, label) pairs for a SelectField from a vocabulary mapping.

    The labels stay lazy: a form class is built once, at import, and each page shows its options
    in the language of the person reading it.
    """
    return list(mapping.items())


def status_for(form: FlaskForm) -> int:
    """HTTP status for re-showing a form: 400 when it carries errors."""
    return 400 if form.errors else 200


__all__ = [
    "run_service",
    "run_action",
    "attach_error",
    "end_not_before_start",
    "valid_timezone",
    "status_for",
    "LinesField",
    "TextAreaField",
    "choices",
    "Outcome",
    "EditForm",
    "edit_record",
    "RowForm",
    "RowSetForm",
    "row_list",
]

"""Uploading a document, and a new version of one."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange
from wtforms.widgets import HiddenInput

from ..core.forms import AppForm, TextAreaField, choices
from ..core.once import OnceForm
from ..vocab import DOCUMENT_KINDS, SIGNED_SHEET
from .services import MAX_DESCRIPTION, MAX_TITLE, DocumentInput, Upload, accepted_types
from .sniff import ACCEPTED_EXTENSIONS


class _FileForm(AppForm):
    # ``accept`` only narrows the browser's file picker; the service checks the content itself.
    file = FileField(
        _l("File"),
        validators=[FileRequired(_l("Choose a file to upload."))],
        render_kw={"accept": ",".join(f".{ext}" for ext in ACCEPTED_EXTENSIONS)},
    )

    def upload(self) -> Upload:
        sent = self.file.data
        # Read at most one byte past the limit: the service refuses it with the limit named.
        data = sent.stream.read(current_app.config["DOCUMENTS_MAX_BYTES"] + 1)
        return Upload(filename=sent.filename or "", data=data)


class DocumentForm(OnceForm, _FileForm):
    kind = SelectField(_l("Kind of document"), validators=[InputRequired()])
    title = StringField(_l("Title"), validators=[Length(max=MAX_TITLE)])
    description = TextAreaField(_l("Description"), validators=[Length(max=MAX_DESCRIPTION)])
    confidential = BooleanField(_l("Confidential"))

    def for_place(self, meeting: bool) -> DocumentForm:
        """The kinds a meeting's (or a forum's) document may be; the hints that go with them."""
        self.kind.choices = choices(
            DOCUMENT_KINDS if meeting else {k: v for k, v in DOCUMENT_KINDS.items() if k != SIGNED_SHEET}
        )
        self.title.description = _l("Leave empty to use the file's name.")
        self.file.description = _l("Accepted: %(types)s.", types=accepted_types())
        self.confidential.description = (
            _l("Only the organisers and the people recorded present at the meeting can read it.")
            if meeting
            else _l("Only the forum's organisers can read it.")
        )
        return self

    def to_input(self) -> DocumentInput:
        return DocumentInput(
            kind=self.kind.data or "",
            title=self.title.data or "",
            description=self.description.data or "",
            confidential=bool(self.confidential.data),
        )


class VersionForm(_FileForm):
    base_version = IntegerField(widget=HiddenInput(), validators=[InputRequired(), NumberRange(min=1)])

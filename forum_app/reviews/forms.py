"""The review comment form (a new comment, or an answer naming the comment it answers)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField
from wtforms.validators import NumberRange, Optional
from wtforms.widgets import HiddenInput

from ..core.forms import AppForm, TextAreaField
from ..core.once import OnceForm
from ..core.urls import MAX_ID
from .services import ReviewInput


class ReviewCommentForm(OnceForm, AppForm):
    # Length and emptiness are the service's rules (one message, also for the API and tests).
    body = TextAreaField(_l("Review comment"))
    in_reply_to_id = IntegerField(widget=HiddenInput(), validators=[Optional(), NumberRange(min=1, max=MAX_ID)])

    def to_input(self) -> ReviewInput:
        return ReviewInput(body=self.body.data or "", in_reply_to_id=self.in_reply_to_id.data)

"""API schemas (marshmallow): what goes out, and what comes in as the services' input objects.

Unknown fields are refused (marshmallow's RAISE), in a body and in a list's query string alike
(a filter the endpoint does not have is a mistake, never a list of everything); bad types and
values out of range answer 422 with a field map.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate, validates_schema

from ..actions.services import UpdateInput
from ..core.clock import utcnow
from ..core.forms import MIN_PRIVACY_REASON
from ..core.privacy import screen
from ..vocab import ACTION_STATES, MEETING_STATES, RSVP_STATES

# The validators' messages, translatable (marshmallow fills the {…} values in after the lookup).
BETWEEN = _l("Must be between {min} and {max}.")
AT_MOST = _l("At most {max} characters.")
ONE_OF = _l("Must be one of: {choices}.")


class Strict(Schema):
    class Meta:
        unknown = RAISE


PAGE_SIZE = 50  # items per page unless ``per_page`` asks otherwise
PAGE_SIZE_MAX = 200
ID = validate.Range(min=1, max=2**31 - 1, error=BETWEEN)


class PageArgs(Strict):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000, error=BETWEEN))
    per_page = fields.Integer(
        load_default=PAGE_SIZE,
        validate=validate.Range(min=1, max=PAGE_SIZE_MAX, error=BETWEEN),
        metadata={"description": "items per page"},
    )


class ForumListArgs(PageArgs):
    grant_id = fields.Integer(validate=ID, metadata={"description": "only this grant's forums"})


class _ForumWorkArgs(PageArgs):
    """The filters of lists of a forum's work (meetings, actions)."""

    forum_id = fields.Integer(validate=ID, metadata={"description": "only this forum's"})
    grant_id = fields.Integer(validate=ID, metadata={"description": "only the forums of this grant"})
    updated_since = fields.AwareDateTime(
        default_timezone=UTC,
        metadata={"description": "only those changed at or after this time (ISO 8601; UTC unless it names a zone)"},
    )


class MeetingListArgs(_ForumWorkArgs):
    state = fields.String(validate=validate.OneOf(list(MEETING_STATES), error=ONE_OF))


class ActionListArgs(_ForumWorkArgs):
    state = fields.String(validate=validate.OneOf(list(ACTION_STATES), error=ONE_OF))


class ProgrammeOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    themes = fields.List(fields.String(), required=True)


class GrantOut(Schema):
    id = fields.Integer(required=True)
    programme_id = fields.Integer(required=True)
    reference = fields.String(required=True)
    title = fields.String(required=True)
    country = fields.String(required=True)


class ForumOut(Schema):
    id = fields.Integer(required=True)
    grant_id = fields.Integer(required=True)
    title = fields.String(required=True)
    city = fields.String(required=True)
    country = fields.String(required=True)
    timezone = fields.String(required=True)


class InviteeOut(Schema):
    user_id = fields.Integer(required=True)
    name = fields.Function(lambda inv: inv.user.name, required=True)
    rsvp = fields.String(required=True)
    attendance = fields.String(allow_none=True, required=True)


class MeetingOut(Schema):
    id = fields.Integer(required=True)
    forum_id = fields.Integer(required=True)
    title = fields.String(required=True)
    starts_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True)
    state = fields.String(required=True)


class MeetingDetailOut(MeetingOut):
    invitees = fields.List(fields.Nested(InviteeOut), attribute="invitations", required=True)


class UpdateOut(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    from_state = fields.String(allow_none=True, required=True)
    to_state = fields.String(allow_none=True, required=True)
    note = fields.String(required=True)
    meeting_id = fields.Integer(allow_none=True, required=True)
    author_id = fields.Integer(allow_none=True, required=True)
    created_at = fields.DateTime(required=True)


class ActionOut(Schema):
    id = fields.Integer(required=True)
    forum_id = fields.Integer(required=True)
    meeting_id = fields.Integer(allow_none=True, required=True)
    title = fields.String(required=True)
    state = fields.String(required=True)
    due_on = fields.Date(allow_none=True, required=True)
    owner_id = fields.Integer(allow_none=True, required=True)
    version = fields.Integer(required=True)


class ActionDetailOut(ActionOut):
    updates = fields.List(fields.Nested(UpdateOut), required=True)


def page_of(item_schema):
    return type(
        f"{item_schema.__name__.removesuffix('Out')}Page",
        (Schema,),
        {
            "items": fields.List(fields.Nested(item_schema), required=True),
            "page": fields.Integer(required=True),
            "pages": fields.Integer(required=True),
            "total": fields.Integer(required=True),
        },
    )


@dataclass(frozen=True)
class PrivacyOverride:
    """Free text that looks like personal data, sent anyway with a reason: audited with the change
    (``privacy.override``, as the pages' forms do in core.forms.AppForm)."""

    reason: str
    kinds: list[str]
    fields: list[str]


class Screened(Strict):
    """A body whose free text (``SCREENED``) is screened for prisoners' personal data (core.privacy), as
    every page's form is: text that looks like an identity number or a date of birth next to a name
    is refused with 422 on its field, unless ``privacy_confirm`` is true and ``privacy_reason`` says why."""

    SCREENED: tuple[str, ...] = ()

    privacy_confirm = fields.Boolean(
        load_default=False,
        metadata={
            "description": "true to save free text that looks like a person's identity number or date of birth "
            "(refused with 422 otherwise); needs privacy_reason. Audited as privacy.override."
        },
    )
    privacy_reason = fields.String(
        load_default="",
        validate=validate.Length(max=500, error=AT_MOST),
        metadata={"description": f"why the flagged text must stay (at least {MIN_PRIVACY_REASON} characters)"},
    )

    @validates_schema
    def screen_personal_data(self, data, **kwargs) -> None:
        today = utcnow().date()
        flagged = {name: screen(data[name], today) for name in self.SCREENED if data.get(name)}
        flagged = {name: hits for name, hits in flagged.items() if hits}
        reason = (data.get("privacy_reason") or "").strip()
        if not flagged:
            return
        if data.get("privacy_confirm") and len(reason) >= MIN_PRIVACY_REASON:
            data["privacy_override"] = PrivacyOverride(
                reason, sorted({hit.kind for hits in flagged.values() for hit in hits}), sorted(flagged)
            )
            return
        errors: dict[str, list[str]] = {
            name: [
                str(
                    _l(
                        "This looks like a person's identity number or date of birth: %(words)s. Forum Desk must "
                        "not hold prisoners' personal data: remove it, or send privacy_confirm: true with a "
                        "privacy_reason saying why it must stay.",
                        words=", ".join(f"“{hit.text}”" for hit in hits),
                    )
                )
            ]
            for name, hits in flagged.items()
        }
        if data.get("privacy_confirm"):
            errors["privacy_reason"] = [
                str(
                    lazy_ngettext(
                        "Give the reason in at least %(num)d character.",
                        "Give the reason in at least %(num)d characters.",
                        MIN_PRIVACY_REASON,
                    )
                )
            ]
        raise ValidationError(errors)


class UpdateIn(Screened):
    """Posting to an action's history: the same UpdateInput as the page's form (no meeting review here)."""

    SCREENED = ("note",)

    note = fields.String(load_default="", validate=validate.Length(max=10_000, error=AT_MOST))
    to_state = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(list(ACTION_STATES), error=ONE_OF)
    )
    version = fields.Integer(required=True, strict=True, metadata={"description": "the action's version you saw"})

    @post_load
    def to_input(self, data, **kwargs):
        return UpdateInput(note=data["note"], to_state=data["to_state"]), data["version"], data.get("privacy_override")


class RsvpIn(Screened):
    SCREENED = ("comment",)

    answer = fields.String(
        required=True, validate=validate.OneOf([s for s in RSVP_STATES if s != "needs-action"], error=ONE_OF)
    )
    comment = fields.String(load_default="", validate=validate.Length(max=500, error=AT_MOST))


class ErrorOut(Schema):
    message = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), required=True)

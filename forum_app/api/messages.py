"""Marshmallow's own messages in the requester's language.

The API's refusals name each field's problems (``errors``). Marshmallow writes them in English
and ships no translations; its fixed messages are listed here to be extracted into our catalogue,
and ``translated`` looks each one up as it goes out. Messages with values in them are given by our
schemas themselves, as translatable ``error=`` texts on their validators (api/schemas.py).
"""

from __future__ import annotations

from flask_babel import get_translations
from flask_babel import lazy_gettext as _l

# Never shown from here: the list exists so that `make translations` extracts these msgids
# (marshmallow 4's Field, Integer, String, Number, Boolean, List and Schema messages).
MARSHMALLOW_MESSAGES = (
    _l("Missing data for required field."),
    _l("Field may not be null."),
    _l("Invalid value."),
    _l("Not a valid integer."),
    _l("Not a valid string."),
    _l("Not a valid number."),
    _l("Number too large."),
    _l("Not a valid boolean."),
    _l("Not a valid list."),
    _l("Invalid input type."),
    _l("Unknown field."),
)


def translated(message: str) -> str:
    """``message`` in the requester's language when the catalogue has it, else as it is."""
    return get_translations().ugettext(message)

"""The sign-in sheet: a printable attendance sheet for a meeting, in the forum's own language.

The invitees with their organisation and a column to sign, blank rows for walk-ins, the programme's
line and disclaimer. People sign it on paper at the meeting; its scan is kept as the meeting's
evidence (the meeting documents). Organisers print it; programme staff may read it too. It speaks
the forum's default language whoever prints it: it is read by the people in the room
(``language.speaking``, as emails do).
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import permissions
from ..core import language
from ..models import Forum, Meeting
from .queries import InviteeRow, _invitees

# Rows left blank for people who come without an invitation (and for a second page when needed).
WALK_IN_ROWS = 8


@dataclass(frozen=True)
class SignInSheet:
    meeting: Meeting
    forum: Forum
    invitees: list[InviteeRow]
    blank_rows: int
    language: str  # the forum's language code: the sheet's words, dates and <html lang>


def sign_in_sheet(user, meeting_id: int) -> SignInSheet:
    """The sheet of a meeting ``user`` may print it for (NotFound / Forbidden otherwise)."""
    user = permissions.resolved(user)
    meeting = permissions.load_meeting(user, meeting_id, need="view")
    permissions.require(permissions.can_print_sign_in_sheet(user, meeting))
    forum = meeting.forum
    return SignInSheet(meeting, forum, _invitees(meeting), WALK_IN_ROWS, language.known(forum.language) or "en")

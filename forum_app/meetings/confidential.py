"""Confidential agenda items: the redacted version everyone else reads, and the audit of who read the full text.

An item marked confidential (a discussion of one person's release plan) is read in full only by those
``permissions.can_read_confidential`` names: the forum's organisers and the people recorded present. Everyone
and everything else reads one line instead ("Item 3: confidential, 2 actions agreed"). The minutes keep the
full text in their own confidential part (``MinutesVersion.confidential_*``), so every channel that reads the
minutes' body (pages for others, exports, API, feeds, emails, news) has nothing to leak by construction.
"""

from __future__ import annotations

from flask_babel import ngettext

from ..core import audit
from ..models import Meeting, User


def redaction_line(number: int, actions: int) -> str:
    """What everyone without the right to read it sees of confidential item ``number``."""
    return ngettext(
        "Item %(number)d: confidential, %(num)d action agreed",
        "Item %(number)d: confidential, %(num)d actions agreed",
        actions,
        number=number,
    )


def record_read(actor: User, meeting: Meeting, where: str) -> None:
    """The audit trail's "who read the full text": one entry each time confidential content is shown to someone."""
    audit.record(actor, "meeting.confidential.read", meeting, f"Read confidential content ({where})", where=where)


def after_reading(meeting: Meeting, where: str) -> None:
    """For views: once a page that showed confidential content is rendered, record who read it (its own commit,
    after rendering, so the page's loaded rows were not expired and re-read mid-page)."""
    from ..core.actor import current_actor
    from ..core.commit import attempt

    actor = current_actor()
    attempt(lambda: record_read(actor, meeting, where))

"""Fixed vocabularies: organisation kinds, countries, roles and states, with their labels.

Values are stored in the database (and limited there by CHECK constraints); labels are
what people read, wrapped for translation.
"""

from __future__ import annotations

from flask import g, has_app_context
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

ORGANISATION_KINDS = {
    "prison": _l("Prison"),
    "probation": _l("Probation"),
    "social_welfare": _l("Social welfare"),
    "employment": _l("Employment"),
    "health": _l("Health"),
    "police": _l("Police"),
    "municipality": _l("Municipality"),
    "ngo": _l("NGO"),
    "religious_community": _l("Religious community"),
    "education": _l("Education"),
    "international": _l("International organisation"),
    "other": _l("Other"),
}

# Recorded only if the person wants it (never required) and shown only in aggregate figures.
GENDERS = {
    "not_recorded": _l("Not recorded"),
    "female": _l("Woman"),
    "male": _l("Man"),
    "other": _l("Another gender"),
}

_KOSOVO = _l("Kosovo*")


class _FootnotedName(LazyString):
    """A name that carries a footnote: showing it notes, for this request, that the page must carry
    the footnote too. The base layout writes the footnote at the end of the page (it is rendered
    after the content), so wherever "Kosovo*" appears — a table, a card, a form's list of countries
    — the footnote is there, in the same language, and nowhere else."""

    def __str__(self) -> str:
        if has_app_context():
            g.footnoted_kosovo = True
        return super().__str__()


def kosovo_shown() -> bool:
    """Whether "Kosovo*" was shown in this request so far (templates/base.html's footer)."""
    return has_app_context() and bool(g.get("footnoted_kosovo"))


# Countries as the programme names them. Kosovo* carries its footnote wherever shown.
COUNTRIES = {
    "AL": _l("Albania"),
    "BA": _l("Bosnia and Herzegovina"),
    "XK": _FootnotedName(lambda: str(_KOSOVO)),
    "ME": _l("Montenegro"),
    "MK": _l("North Macedonia"),
    "RS": _l("Serbia"),
    "TR": _l("Türkiye"),
}
KOSOVO_FOOTNOTE = _l(
    "*This designation is without prejudice to positions on status, and is in line with "
    "UNSCR 1244/1999 and the ICJ Opinion on the Kosovo declaration of independence."
)

# On every printout (base layout, print only): the programme's standard disclaimer.
PROGRAMME_DISCLAIMER = _l(
    "This document has been produced with the financial support of the European Union and the Council of "
    "Europe. The views expressed herein can in no way be taken to reflect the official opinion of either party."
)

# The zones a forum may use: the region's, plus UTC for online-only forums.
FORUM_TIMEZONES = [
    "Europe/Sarajevo",
    "Europe/Skopje",
    "Europe/Podgorica",
    "Europe/Belgrade",
    "Europe/Tirane",
    "Europe/Istanbul",
    "Europe/Brussels",
    "Europe/Paris",
    "UTC",
]

# "member" first: the safe default wherever a role is chosen.
SYSTEM_ROLES = {
    "member": _l("Member"),
    "staff": _l("Programme staff"),
    "admin": _l("Administrator"),
}

FORUM_ROLES = {"participant": _l("Participant"), "observer": _l("Observer")}

MEETING_STATES = {
    "draft": _l("Draft"),
    "scheduled": _l("Scheduled"),
    "held": _l("Held"),
    "cancelled": _l("Cancelled"),
}

RSVP_STATES = {
    "needs-action": _l("No answer yet"),
    "accepted": _l("Accepted"),
    "tentative": _l("Tentative"),
    "declined": _l("Declined"),
}

MINUTES_STATES = {"draft": _l("Draft"), "circulated": _l("Circulated"), "adopted": _l("Adopted")}
MINUTES_VERSION_KINDS = {"edit": _l("Edit"), "correction": _l("Correction after adoption")}
# How a forum adopts a meeting's minutes: circulated and adopted by the organisers (as before),
# or approved at the forum's next meeting, where an agenda item records it (as councils do).
MINUTES_ADOPTION_WAYS = {
    "circulation": _l("By circulation: the organisers adopt them after the invitees have read them"),
    "next_meeting": _l("At the next meeting: an agenda item adopts them"),
}
# What an agenda item is for: a topic of the meeting, the follow-up review of agreed actions,
# or the adoption of the previous meeting's minutes.
AGENDA_ITEM_KINDS = {
    "topic": _l("Topic"),
    "review": _l("Review of agreed actions"),
    "adoption": _l("Adoption of minutes"),
}

# The kinds a multi-agency forum is expected to bring together; coverage is measured
# against these (other kinds are welcome and shown, but their absence is no gap).
CORE_ORGANISATION_KINDS = (
    "prison",
    "probation",
    "social_welfare",
    "employment",
    "health",
    "police",
    "municipality",
    "ngo",
)

ATTENDANCE_STATES = {"present": _l("Present"), "absent": _l("Absent"), "excused": _l("Excused")}

ACTION_STATES = {
    "proposed": _l("Proposed"),
    "accepted": _l("Accepted"),
    "declined": _l("Declined"),
    "in_progress": _l("In progress"),
    "done": _l("Done"),
    "blocked": _l("Blocked"),
    "dropped": _l("Dropped"),
}
ACTION_OPEN_STATES = ("proposed", "accepted", "in_progress", "blocked")
ACTION_CLOSED_STATES = ("declined", "done", "dropped")

ACTION_UPDATE_KINDS = {
    "state": _l("State change"),
    "progress": _l("Progress note"),
    "review": _l("Meeting review"),
    # Programme staff read every action and leave comments; they change no state.
    "comment": _l("Review comment"),
    # Organisers give a declined (or stuck) action to a new owner, who is asked to confirm it.
    "reassign": _l("Reassigned"),
}

# "withdrawn": never to be sent (e.g. the invitation it carried was withdrawn before delivery).
OUTBOX_STATES = ("pending", "sent", "failed", "withdrawn")


# What became of a message received at the reply address (forum_app/inbound), as organisers read it.
RECEIVED_OUTCOMES = {
    "applied": _l("Answer recorded"),
    "duplicate": _l("Same answer again: nothing changed"),
    "ignored-old-sequence": _l("Answer to an earlier version of the meeting: not recorded"),
    "ignored": _l("Not recorded"),
    "refused-sender": _l("Refused: not sent from the invitee's address"),
    "delegated": _l("Delegated to someone else"),
    "note": _l("Written reply"),
    "auto-reply": _l("Automatic reply"),
    "bounce": _l("Not delivered (bounce)"),
    "unmatched": _l("Not matched to an invitation"),
    "too-large": _l("Too large: kept unread"),
}


def country_name(code: str | None) -> str:
    return str(COUNTRIES.get(code or "", code or ""))


# What a meeting's or forum's document is (forum_app/documents). The signed attendance sheet is the
# scan of the printed sheet, signed on the day: the meeting's evidence for the programme.
DOCUMENT_KINDS = {
    "terms_of_reference": _l("Terms of reference"),
    "protocol": _l("Protocol"),
    "presentation": _l("Presentation"),
    "signed_attendance_sheet": _l("Signed attendance sheet"),
    "other": _l("Other document"),
}
SIGNED_SHEET = "signed_attendance_sheet"

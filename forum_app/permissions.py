"""Every "may this user do X to Y" decision, in one place.

Views, templates and the API ask here; nothing else decides access. Roles:

- admin: everything, including accounts, organisations, programmes and grants;
- programme staff: read everything (including drafts), change nothing structural;
- organiser: a member of a grant's team; runs that grant's forums;
- participant / observer: a member of a forum; sees that forum's non-draft meetings.

A forbidden object answers 404 when the person may not even know it exists (not a
member) and 403 when they can see it but not change it, the same way everywhere.

Three layers, each used by the next:

- who someone is (``is_staff``, ``organiser_grant_ids``…);
- state rules, as ``…_lock(meeting)`` functions that say *why* a thing cannot be done
  now (or None when it can): services call ``ensure(...)`` with them, so a refused change
  and the page that hides its button can never disagree;
- ``can_…(user, obj)`` answers (role and state together), computed once per page into
  flags (``MeetingFlags``) that templates read. Templates never decide.

Loaders (``load_forum``, ``load_meeting``) take the user they are given — a signed-in
person, an API token's user, the CLI's actor — and raise ``NotFound`` / ``Forbidden``;
the web layer answers 404/403 pages, the API JSON.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, event, literal, select
from sqlalchemy.orm import Session, joinedload

from .core.clock import utcnow
from .core.errors import Forbidden, NotFound, ServiceError
from .extensions import db
from .models import Forum, ForumMember, Grant, GrantTeam, Invitation, Meeting
from .vocab import MEETING_STATES


def resolved(user):
    """The user behind Flask-Login's ``current_user`` proxy (or ``user`` itself).

    Every attribute read through the proxy resolves it again; a loader that checks a
    permission per invitee would do that hundreds of times a page. Loaders call this once.
    """
    get = getattr(user, "_get_current_object", None)
    return get() if get is not None else user


def _authenticated(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def is_admin(user) -> bool:
    return _authenticated(user) and user.role == "admin"


def is_staff(user) -> bool:
    """Programme staff (EU / CoE) — and admins, who can do all staff can."""
    return _authenticated(user) and user.role in ("admin", "staff")


# Memberships are looked up once per transaction, not once per check: the cache lives
# in the database session's ``info`` and is dropped at every commit and rollback. So it
# ends with the request (Flask-SQLAlchemy removes the session), and in a CLI loop or a
# worker a membership that a service just changed is read again, never served stale.
_CACHE_KEY = "forum_desk_permissions"


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_memberships(session: Session) -> None:
    session.info.pop(_CACHE_KEY, None)


def _cached(kind: str, user, load) -> frozenset[int]:
    cache = db.session.info.setdefault(_CACHE_KEY, {})
    key = (kind, user.id)
    if key not in cache:
        cache[key] = frozenset(load())
    return cache[key]


def _memberships(user) -> dict[str, frozenset[int]]:
    """The grants whose team includes ``user`` and the forums they are a member of, read together
    (one round trip: nearly every page asks for both) and kept until the transaction ends."""
    cache = db.session.info.setdefault(_CACHE_KEY, {})
    if user.id not in cache:
        found: dict[str, set[int]] = {"grants": set(), "forums": set()}
        for kind, object_id in db.session.execute(
                select(literal("grants"), GrantTeam.grant_id).where(GrantTeam.user_id == user.id)
                .union_all(select(literal("forums"), ForumMember.forum_id).where(ForumMember.user_id == user.id))):
            found[kind].add(object_id)
        cache[user.id] = {kind: frozenset(ids) for kind, ids in found.items()}
    return cache[user.id]


def organiser_grant_ids(user) -> frozenset[int]:
    """Grants whose team includes ``user``."""
    if not _authenticated(user):
        return frozenset()
    return _memberships(user)["grants"]


def member_forum_ids(user) -> frozenset[int]:
    """Forums where ``user`` is a participant or observer."""
    if not _authenticated(user):
        return frozenset()
    return _memberships(user)["forums"]


def is_organiser(user) -> bool:
    return bool(organiser_grant_ids(user))


# --- administration -------------------------------------------------------------------

def can_administer(user) -> bool:
    """Accounts, organisations, programmes, grants and their teams."""
    return is_admin(user)


def can_view_outbox(user) -> bool:
    return is_admin(user)


def set_password_link_lock(account) -> str | None:
    """An invitation (set-password) link is only for an active account that has no password yet.

    Otherwise whoever can read the link (the outbox, the mail path) could take over a
    working account; a person who forgot their password uses the reset link, which goes
    to them alone.
    """
    if not account.active:
        return _("Activate the account before sending a link.")
    if account.has_password:
        return _("This account already has a password, so it cannot be invited again. "
                 "The person can use \"Forgot your password?\" on the sign-in page.")
    return None


# --- forums and meetings ----------------------------------------------------------------

def can_view_forum(user, forum: Forum) -> bool:
    if is_staff(user):
        return True
    return forum.grant_id in organiser_grant_ids(user) or forum.id in member_forum_ids(user)


def can_edit_forum(user, forum: Forum) -> bool:
    return is_admin(user) or forum.grant_id in organiser_grant_ids(user)


def sees_grant_details(user, forum: Forum) -> bool:
    """Grant references and programme names are working detail for organisers and staff."""
    return is_staff(user) or forum.grant_id in organiser_grant_ids(user)


def can_create_forum(user, grant: Grant) -> bool:
    return is_admin(user) or grant.id in organiser_grant_ids(user)


def can_view_meeting(user, meeting: Meeting) -> bool:
    forum = meeting.forum
    if meeting.published_at is None:
        # Drafts (and drafts cancelled before anyone saw them) are the organisers' own.
        return is_staff(user) or can_edit_forum(user, forum)
    # Guests invited from outside the forum see the meeting, not the forum.
    return can_view_forum(user, forum) or is_invitee(user, meeting)


def can_edit_meeting(user, meeting: Meeting) -> bool:
    return can_edit_forum(user, meeting.forum)


def can_create_forums(user) -> bool:
    """May create a forum for at least one grant."""
    return is_admin(user) or is_organiser(user)


def creatable_grants(user) -> Select:
    """The grants ``user`` may create forums for."""
    stmt = select(Grant)
    if is_admin(user):
        return stmt
    return stmt.where(Grant.id.in_(organiser_grant_ids(user)))


def is_invitee(user, meeting: Meeting) -> bool:
    if not _authenticated(user):
        return False
    return any(inv.user_id == user.id for inv in meeting.invitations)


def reads_everything(user, meeting: Meeting) -> bool:
    """Organisers and staff read work in progress (unshared minutes versions, RSVPs)."""
    return is_staff(user) or can_edit_meeting(user, meeting)


# --- state rules: why something cannot be done to a meeting now (None: it can) --------------

# Which state may follow which. Cancelled is final; a held meeting stays held.
MEETING_TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"scheduled", "cancelled"}),
    "scheduled": frozenset({"held", "cancelled"}),
    "held": frozenset(),
    "cancelled": frozenset(),
}


def ensure(reason: str | None, field: str | None = None) -> None:
    """For services: refuse with ``reason`` (a state rule's answer) unless it is None."""
    if reason:
        raise ServiceError(reason, field=field)


def meeting_details_lock(meeting: Meeting) -> str | None:
    """The meeting's own details (time, place, agenda) are locked once it is cancelled or its record adopted."""
    if meeting.state == "cancelled":
        return _("A cancelled meeting cannot be edited.")
    if meeting.minutes_state == "adopted":
        return _("The minutes of this meeting are adopted: its record is locked.")
    return None


def transition_lock(meeting: Meeting, to_state: str, now: datetime | None = None) -> str | None:
    if to_state not in MEETING_STATES:
        return _("Unknown meeting state.")
    if to_state not in MEETING_TRANSITIONS[meeting.state]:
        return _("A %(state)s meeting cannot become %(to)s.", state=str(MEETING_STATES[meeting.state]).lower(),
                 to=str(MEETING_STATES[to_state]).lower())
    if to_state == "held" and meeting.starts_at > (now or utcnow()):
        return _("The meeting has not started yet; mark it held once it has taken place.")
    if to_state == "scheduled" and not (meeting.venue.strip() or meeting.online_url.strip()):
        # A draft may lack them; invitees may not be sent a meeting with nowhere to go.
        return _("Give a venue or an online link before scheduling the meeting.")
    return None


def invitees_lock(meeting: Meeting) -> str | None:
    if meeting.state in ("held", "cancelled"):
        return _("The invitee list of a held or cancelled meeting is closed.")
    return None


def rsvp_lock(meeting: Meeting) -> str | None:
    if meeting.state != "scheduled":
        return _("Answers are closed: the meeting is %(state)s.", state=str(MEETING_STATES[meeting.state]).lower())
    return None


def attendance_lock(meeting: Meeting) -> str | None:
    if meeting.state != "held":
        return _("Attendance is recorded once the meeting is marked as held.")
    if meeting.minutes_state == "adopted":
        return _("The minutes are adopted: attendance is part of the locked record.")
    return None


def minutes_lock(meeting: Meeting) -> str | None:
    if meeting.state != "held":
        return _("Minutes are written once the meeting is marked as held.")
    return None


def circulate_lock(meeting: Meeting) -> str | None:
    if meeting.minutes_state == "adopted":
        return _("The minutes are adopted; corrections are shared as they are recorded.")
    if meeting.minutes_revision == 0:
        return _("Write the minutes first.")
    if meeting.minutes_revision == meeting.minutes_shared_revision:
        return _("This version has already been circulated.")
    return None


def adopt_lock(meeting: Meeting) -> str | None:
    if meeting.minutes_state == "adopted":
        return _("The minutes are already adopted.")
    if meeting.minutes_revision == 0:
        return _("Write the minutes first.")
    if meeting.minutes_shared_revision != meeting.minutes_revision:
        # Adopting locks what the invitees were able to read and comment on, nothing newer.
        return _("Version %(n)d has not been circulated. Circulate it first, so the invitees see what is adopted.",
                 n=meeting.minutes_revision)
    return None


# --- meeting answers: role and state together -----------------------------------------------

def can_edit_meeting_details(user, meeting: Meeting) -> bool:
    return can_edit_meeting(user, meeting) and meeting_details_lock(meeting) is None


def allowed_transitions(user, meeting: Meeting) -> list[str]:
    """The states this person may move the meeting to now (sorted, for stable buttons)."""
    if not can_edit_meeting(user, meeting):
        return []
    now = utcnow()
    # "Held" is offered once the meeting has started; before that the button would only refuse.
    return sorted(to for to in MEETING_TRANSITIONS[meeting.state] if to != "held" or meeting.starts_at <= now)


def can_manage_invitees(user, meeting: Meeting) -> bool:
    return can_edit_meeting(user, meeting) and invitees_lock(meeting) is None


def can_rsvp(user, meeting: Meeting) -> bool:
    """Invitees answer while the meeting is planned (not for drafts, held or cancelled ones)."""
    return rsvp_lock(meeting) is None and is_invitee(user, meeting)


def can_see_rsvps(user, meeting: Meeting) -> bool:
    return reads_everything(user, meeting)


def can_record_attendance(user, meeting: Meeting) -> bool:
    return can_edit_meeting(user, meeting) and attendance_lock(meeting) is None


def can_write_minutes(user, meeting: Meeting) -> bool:
    return can_edit_meeting(user, meeting) and minutes_lock(meeting) is None


def can_circulate_minutes(user, meeting: Meeting) -> bool:
    return can_edit_meeting(user, meeting) and circulate_lock(meeting) is None


def can_adopt_minutes(user, meeting: Meeting) -> bool:
    return can_edit_meeting(user, meeting) and adopt_lock(meeting) is None


def can_view_minutes(user, meeting: Meeting) -> bool:
    """Draft minutes: organisers (and staff). Circulated: also the invitees. Adopted: all who see the meeting.

    Beyond organisers and staff, only shared versions are ever shown (see meetings.minutes).
    """
    if not can_view_meeting(user, meeting) or meeting.minutes_revision == 0:
        return False
    if reads_everything(user, meeting):
        return True
    if meeting.minutes_shared_revision == 0:
        return False
    if meeting.minutes_state == "circulated":
        return is_invitee(user, meeting)
    return meeting.minutes_state == "adopted"


def can_comment_minutes(user, meeting: Meeting) -> bool:
    """Attendees (present) and organisers comment on circulated minutes."""
    if meeting.minutes_state != "circulated" or not can_view_minutes(user, meeting):
        return False
    if can_edit_meeting(user, meeting):
        return True
    return any(inv.user_id == user.id and inv.attendance == "present" for inv in meeting.invitations)


@dataclass(frozen=True)
class MeetingFlags:
    """Every answer the meeting pages need, computed once for one person and one meeting."""

    can_edit: bool  # organiser of the meeting (may run it at all)
    can_edit_details: bool
    transitions: tuple[str, ...]
    can_mark_held: bool
    can_manage_invitees: bool
    can_rsvp: bool
    can_see_rsvps: bool
    can_record_attendance: bool
    can_view_minutes: bool
    can_write_minutes: bool
    can_circulate: bool
    can_adopt: bool
    can_comment: bool
    reads_everything: bool  # organisers and staff: latest minutes, unshared versions
    shows_attendance: bool  # the meeting took place: attendance and minutes sections exist
    minutes_edit_kind: str  # what editing the minutes means now: "write", "edit" or "correct"


def meeting_flags(user, meeting: Meeting) -> MeetingFlags:
    transitions = tuple(allowed_transitions(user, meeting))
    return MeetingFlags(
        can_edit=can_edit_meeting(user, meeting),
        can_edit_details=can_edit_meeting_details(user, meeting),
        transitions=transitions,
        can_mark_held="held" in transitions,
        can_manage_invitees=can_manage_invitees(user, meeting),
        can_rsvp=can_rsvp(user, meeting),
        can_see_rsvps=can_see_rsvps(user, meeting),
        can_record_attendance=can_record_attendance(user, meeting),
        can_view_minutes=can_view_minutes(user, meeting),
        can_write_minutes=can_write_minutes(user, meeting),
        can_circulate=can_circulate_minutes(user, meeting),
        can_adopt=can_adopt_minutes(user, meeting),
        can_comment=can_comment_minutes(user, meeting),
        reads_everything=reads_everything(user, meeting),
        shows_attendance=meeting.state == "held",
        minutes_edit_kind=("correct" if meeting.minutes_state == "adopted"
                           else "edit" if meeting.minutes_revision else "write"),
    )


def visible_meetings(user) -> Select:
    """A SELECT of the meetings ``user`` may see (unpublished ones only for their organisers and staff)."""
    return _within_reach(user, select(Meeting).join(Meeting.forum), lambda invited: (
        Forum.grant_id.in_(organiser_grant_ids(user))
        | ((Forum.id.in_(member_forum_ids(user)) | Meeting.id.in_(invited)) & Meeting.published_at.is_not(None))
    ))


def _within_reach(user, stmt: Select, reach) -> Select:
    """``stmt`` limited to what ``user`` may see: all of it for staff, nothing for the signed-out, else the
    rows ``reach(invited)`` allows (``invited``: the ids of the meetings the person is invited to)."""
    if is_staff(user):
        return stmt
    if not _authenticated(user):
        return stmt.where(False)
    return stmt.where(reach(select(Invitation.meeting_id).where(Invitation.user_id == user.id)))


def sees_every_action_of(user, forum: Forum) -> bool:
    """Whether ``visible_actions`` gives ``user`` all of ``forum``'s actions (staff, its organisers and
    members), not only the ones they own; what they see of the forum is then the same for all of them."""
    return is_staff(user) or (_authenticated(user) and (
        forum.grant_id in organiser_grant_ids(user) or forum.id in member_forum_ids(user)))


def visible_forums(user) -> Select:
    """A SELECT of the forums ``user`` may see (for lists; add filters and ordering)."""
    stmt = select(Forum)
    if is_staff(user):
        return stmt
    grants, forums = organiser_grant_ids(user), member_forum_ids(user)
    if not _authenticated(user) or not (grants or forums):
        return stmt.where(False)
    return stmt.where(Forum.grant_id.in_(grants) | Forum.id.in_(forums))


# --- loaders and enforcement ---------------------------------------------------------------

def require(allowed: bool) -> None:
    """Refuse with Forbidden (403) unless ``allowed``."""
    if not allowed:
        raise Forbidden()


def require_visible(allowed: bool) -> None:
    """Refuse with NotFound (404): the person may not learn that the object exists."""
    if not allowed:
        raise NotFound()


def _load(user, stmt: Select, need: str, can_view, can_edit):
    """The one object ``stmt`` selects, if ``user`` may ``need`` ("view" or "edit") it.

    Missing, or not visible: NotFound (the same answer, so existence does not leak).
    Visible but not editable: Forbidden.
    """
    obj = db.session.execute(stmt).unique().scalar_one_or_none()
    if obj is None:
        raise NotFound()
    require_visible(can_view(user, obj))
    if need == "edit":
        require(can_edit(user, obj))
    return obj


def load_forum(user, forum_id: int, need: str = "view", options=()) -> Forum:
    return _load(user, select(Forum).where(Forum.id == forum_id).options(*options),
                 need, can_view_forum, can_edit_forum)


def load_meeting(user, meeting_id: int, need: str = "view", options=()) -> Meeting:
    return _load(user, select(Meeting).where(Meeting.id == meeting_id).options(joinedload(Meeting.forum), *options),
                 need, can_view_meeting, can_edit_meeting)


# --- navigation ---------------------------------------------------------------------------

@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str


def navigation(user) -> list[NavItem]:
    """The menu a person sees, by role (the routes still check for themselves)."""
    if not _authenticated(user):
        return []
    items = [NavItem("home.index", str(_l("Home"))), NavItem("forums.index", str(_l("Forums"))),
             NavItem("calendar.month", str(_l("Calendar"))), NavItem("actions.mine", str(_l("My actions")))]
    if can_view_reports(user):
        items.append(NavItem("reports.dashboard", str(_l("Programme dashboard"))))
    if can_administer(user):
        items += [
            NavItem("admin.users", str(_l("People"))),
            NavItem("admin.organisations", str(_l("Organisations"))),
            NavItem("admin.programmes", str(_l("Programmes"))),
            NavItem("admin.grants", str(_l("Grants"))),
            NavItem("admin.audit", str(_l("Audit log"))),
        ]
    if can_view_outbox(user):
        items.append(NavItem("notifications.outbox", str(_l("Outbox"))))
    return items



# --- actions: state rules of an agreed action (None: the change may be made) ------------------
# Imported here so this section stands on its own below the meeting rules.
from .models import ActionItem  # noqa: E402
from .vocab import ACTION_OPEN_STATES, ACTION_STATES  # noqa: E402

# A new action is proposed; its owner accepts or declines it, works on it and marks it
# done. Any open action may be blocked (saying why) and resumed; organisers may drop it
# (saying why). Declined, done and dropped are final.
ACTION_TRANSITIONS: dict[str, frozenset[str]] = {
    "proposed": frozenset({"accepted", "declined", "blocked", "dropped"}),
    "accepted": frozenset({"in_progress", "blocked", "dropped"}),
    "in_progress": frozenset({"done", "blocked", "dropped"}),
    "blocked": frozenset({"in_progress", "dropped"}),
    "declined": frozenset(),
    "done": frozenset(),
    "dropped": frozenset(),
}
# Moves that must say why: the owner's "no", an obstacle, the organisers' decision to stop.
ACTION_STATES_NEEDING_REASON = frozenset({"declined", "blocked", "dropped"})


def action_transition_lock(action: ActionItem, to_state: str, reason: str = "") -> str | None:
    """Why ``action`` cannot move to ``to_state`` now, or None when it can."""
    if to_state not in ACTION_STATES:
        return _("Unknown action state.")
    if to_state not in ACTION_TRANSITIONS[action.state]:
        return _("A %(state)s action cannot become %(to)s.", state=str(ACTION_STATES[action.state]).lower(),
                 to=str(ACTION_STATES[to_state]).lower())
    if to_state in ACTION_STATES_NEEDING_REASON and not reason.strip():
        return _("Say why the action is %(to)s.", to=str(ACTION_STATES[to_state]).lower())
    return None


def action_progress_lock(action: ActionItem) -> str | None:
    """Progress is reported on open actions; a closed one is only reviewed."""
    if action.state not in ACTION_OPEN_STATES:
        return _("This action is closed (%(state)s): it takes no more progress notes.",
                 state=str(ACTION_STATES[action.state]).lower())
    return None


def action_role_lock(user, action: ActionItem, to_state: str | None, review: bool) -> str | None:
    """Owners answer and report on their own actions; organisers may do all, and alone review and drop.

    Programme staff (who are no organisers) leave review comments: a note, never a state.
    """
    if can_edit_forum(user, action.forum):
        return None
    if review:
        return _("Only the forum's organisers record a meeting's review.")
    if to_state == "dropped":
        return _("Only the forum's organisers drop an action.")
    if _authenticated(user) and action.owner_id == user.id:
        return None
    if is_staff(user):
        return None if to_state is None else _("Programme staff comment on actions; they do not change their state.")
    return _("Only the action's owner or the forum's organisers update it.")


def comments_only(user, action: ActionItem) -> bool:
    """Programme staff who neither own nor organise the action: their notes are review comments."""
    return is_staff(user) and not can_edit_forum(user, action.forum) and action.owner_id != user.id


def action_owner_lock(user, forum: Forum) -> str | None:
    """An action's owner is a member of its forum or one of its organisers."""
    if _authenticated(user) and (forum.id in member_forum_ids(user) or forum.grant_id in organiser_grant_ids(user)):
        return None
    return _("The owner must be a member or an organiser of this forum.")


def action_details_lock(action: ActionItem) -> str | None:
    """A done or dropped action is settled: its details and owner stay as they were."""
    if action.state in ("done", "dropped"):
        return _("This action is %(state)s: its details and owner are part of the record.",
                 state=str(ACTION_STATES[action.state]).lower())
    return None


def action_answer_lock(action: ActionItem) -> str | None:
    """The owner accepts or declines a proposed action, once."""
    if action.state != "proposed":
        return _("This action has already been answered: it is %(state)s.",
                 state=str(ACTION_STATES[action.state]).lower())
    return None


def action_meeting_lock(meeting: Meeting) -> str | None:
    """Actions are agreed at a meeting that is taking or took place (not a draft or a cancelled one)."""
    if meeting.state not in ("scheduled", "held"):
        return _("Actions are raised at a scheduled or held meeting of this forum.")
    return None


def follow_up_lock(meeting: Meeting) -> str | None:
    """The follow-up review is recorded for a scheduled or held meeting, until its record is adopted."""
    if meeting.state not in ("scheduled", "held"):
        return _("Actions are reviewed at a scheduled or held meeting of their forum.")
    if meeting.minutes_state == "adopted":
        return _("The minutes are adopted: the follow-up review is part of the locked record.")
    return None


def invited_meeting_ids(user) -> frozenset[int]:
    """Meetings ``user`` is invited to (guests see their own actions raised at them)."""
    if not _authenticated(user):
        return frozenset()
    return _cached("invited", user, lambda: db.session.execute(
        select(Invitation.meeting_id).where(Invitation.user_id == user.id)).scalars())


def can_view_action(user, action: ActionItem) -> bool:
    """Whoever sees the forum; a guest only the actions they own that were raised at a meeting they are invited to."""
    if can_view_forum(user, action.forum):
        return True
    return (_authenticated(user) and action.owner_id == user.id and action.meeting_id is not None
            and action.meeting_id in invited_meeting_ids(user))


def can_manage_action(user, action: ActionItem) -> bool:
    """Organisers of the forum's grant (and admins): details, reassignment, reviews, dropping."""
    return can_edit_forum(user, action.forum)


def visible_actions(user) -> Select:
    """A SELECT of the actions ``user`` may see, joined to their forum (add filters and ordering)."""
    return _within_reach(user, select(ActionItem).join(ActionItem.forum), lambda invited: (
        Forum.grant_id.in_(organiser_grant_ids(user)) | Forum.id.in_(member_forum_ids(user))
        | ((ActionItem.owner_id == user.id) & ActionItem.meeting_id.in_(invited))
    ))


@dataclass(frozen=True)
class ActionFlags:
    """What one person may do to one action now, for its page and the lists that offer buttons."""

    can_manage: bool  # organisers: details, reassignment, dropping
    is_owner: bool
    can_answer: bool  # the owner, while it is proposed: accept or decline
    can_post: bool  # may post an update at all (a note, a state change or a comment)
    comments_only: bool  # programme staff: review comments, no state
    states: tuple[str, ...]  # the states this person may move it to now
    can_edit_details: bool
    can_reassign: bool


def action_flags(user, action: ActionItem) -> ActionFlags:
    manage = can_manage_action(user, action)
    owner = _authenticated(user) and action.owner_id == user.id
    commenter = comments_only(user, action)
    states: tuple[str, ...] = ()
    if manage or owner:
        # Reasons are asked for on the form; here only the move itself and the role count.
        states = tuple(to for to in ACTION_STATES if to in ACTION_TRANSITIONS[action.state]
                       and action_role_lock(user, action, to, review=False) is None)
    return ActionFlags(
        can_manage=manage,
        is_owner=owner,
        can_answer=owner and action_answer_lock(action) is None,
        can_post=manage or owner or commenter,
        comments_only=commenter,
        states=states,
        can_edit_details=manage and action_details_lock(action) is None,
        can_reassign=manage and action_details_lock(action) is None,
    )


@dataclass(frozen=True)
class FollowUpFlags:
    """The follow-up section of a meeting page: may this person record actions, review them, raise more."""

    can_record_actions: bool
    can_review: bool
    review_lock: str | None
    shows_section: bool  # a cancelled meeting has no follow-up to show


def proposal_open(action: ActionItem) -> bool:
    """The owner is still asked to accept or decline (the confirmation page offers the two buttons)."""
    return action.state == "proposed"


def follow_up_flags(user, meeting: Meeting) -> FollowUpFlags:
    organiser = can_edit_meeting(user, meeting)
    lock = follow_up_lock(meeting)
    return FollowUpFlags(
        can_record_actions=organiser and action_meeting_lock(meeting) is None,
        can_review=organiser and lock is None,
        review_lock=lock,
        shows_section=meeting.state != "cancelled",
    )


def load_action(user, action_id: int, need: str = "view", options=()) -> ActionItem:
    """The action, if ``user`` may see it ("view") or manage it ("edit")."""
    # An inner join: a record form locks the row it saves (SELECT … FOR UPDATE), which PostgreSQL
    # refuses on the nullable side of an outer join.
    return _load(user, select(ActionItem).where(ActionItem.id == action_id)
                 .options(joinedload(ActionItem.forum, innerjoin=True), *options), need, can_view_action,
                 can_manage_action)


# --- oversight: the programme dashboard, exports and the API ---------------------------------------
# Programme staff and admins see every grant; organisers see their own grants' figures, lists and
# exports; participants get no dashboard (the API shows them only their forums, through the loaders
# and ``visible_…`` selects above).

def can_view_reports(user) -> bool:
    return is_staff(user) or is_organiser(user)


def report_forums(user) -> Select:
    """A SELECT of the forums whose figures ``user`` may see: all for staff, their grants' for organisers."""
    stmt = select(Forum)
    if is_staff(user):
        return stmt
    grants = organiser_grant_ids(user)
    if not grants:
        return stmt.where(False)
    return stmt.where(Forum.grant_id.in_(grants))


def visible_grants(user) -> Select:
    """Grants in reach: all for staff; organisers their own; members the grants of their forums."""
    stmt = select(Grant)
    if is_staff(user):
        return stmt
    if not _authenticated(user):
        return stmt.where(False)
    return stmt.where(Grant.id.in_(organiser_grant_ids(user))
                      | Grant.id.in_(select(Forum.grant_id).where(Forum.id.in_(member_forum_ids(user)))))


def can_use_api_token_for_writes(token) -> bool:
    """Read-only tokens never change anything, whatever their person may do."""
    return bool(token is not None and token.can_write and token.revoked_at is None)


# --- review comments ------------------------------------------------------------------------------
# Programme staff (and admins) start a review thread on a grant, forum or meeting; the organisers of
# its grant read it and answer. Participants and observers never see it: it is the programme's
# dialogue with the grant holder, not the forum's.

def review_grant_id(obj) -> int:
    """The grant a reviewed object belongs to."""
    if isinstance(obj, Grant):
        return obj.id
    if isinstance(obj, Forum):
        return obj.grant_id
    return obj.forum.grant_id


def can_view_review(user, obj) -> bool:
    return is_staff(user) or (_authenticated(user) and review_grant_id(obj) in organiser_grant_ids(user))


def can_start_review(user, obj) -> bool:
    """A new thread (a comment that answers none): programme staff and admins."""
    return is_staff(user)


def can_answer_review(user, obj) -> bool:
    """An answer within a thread: the grant's organisers, and staff."""
    return can_view_review(user, obj)


def review_comment_lock(user, obj, in_reply_to) -> str | None:
    """Why ``user`` may not post this comment on ``obj`` (None: they may)."""
    if in_reply_to is None and not can_start_review(user, obj):
        return _("Programme staff start review comments; answer one of theirs.")
    if in_reply_to is not None and not can_answer_review(user, obj):
        return _("You may not answer review comments here.")
    return None


def load_review_target(user, object_type: str, object_id: int):
    """The grant, forum or meeting a review thread is on, if ``user`` may read its review (else NotFound)."""
    if object_type == "forum":
        obj = load_forum(user, object_id)
    elif object_type == "meeting":
        obj = load_meeting(user, object_id)
    elif object_type == "grant":
        obj = db.session.get(Grant, object_id)
    else:
        raise NotFound()
    require_visible(obj is not None and can_view_review(user, obj))
    return obj


@dataclass(frozen=True)
class ReviewFlags:
    can_view: bool
    can_start: bool
    can_answer: bool


def review_flags(user, obj) -> ReviewFlags:
    view = can_view_review(user, obj)
    return ReviewFlags(can_view=view, can_start=view and can_start_review(user, obj),
                       can_answer=view and can_answer_review(user, obj))


# --- indicators -----------------------------------------------------------------------------------
# Programme staff (and admins) define indicators and their targets and enter actual values; the
# dashboard shows them to whoever sees it (computed values within the reader's reach, entered ones
# to staff only: they are programme-wide statements).

def can_manage_indicators(user) -> bool:
    return is_staff(user)


def indicator_lock(user) -> str | None:
    return None if can_manage_indicators(user) else _("Programme staff define indicators and their targets.")

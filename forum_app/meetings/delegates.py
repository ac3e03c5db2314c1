"""Delegates and substitutes: "X attended on behalf of Y" (issue 21, part 2).

Agencies rotate people: the invitee Y sends a colleague X. The organiser records it at attendance;
Y is then excused (their RSVP stays as they answered) and X is present for Y's organisation, so the
agency counts once in head-counts and coverage. X is one of:

- someone with an account (found by email: a member, an organiser or a guest of another meeting);
  invited to this meeting now if they were not, and marked present;
- someone new with an email address: a guest account in Y's organisation is made in the same step
  (the same service as inviting a guest: ``auth.services.invite_user``);
- someone without an email address: a walk-in in Y's organisation. A walk-in has no account, so
  cannot own an action.

A delegate with an account may also join the forum (``join_forum``): an action's owner must be a
member or an organiser (``permissions.action_owner_lock``), so this is how "an action can be given
to whoever attended". The record is the ``on_behalf_of_id`` of the delegate's invitation or walk-in.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from .. import permissions
from ..auth import services as accounts
from ..core import audit
from ..core.clock import utcnow
from ..core.errors import ServiceError
from ..extensions import db
from ..forums import services as forums
from ..models import ForumMember, GrantTeam, Invitation, Meeting, User, WalkInAttendee
from ..permissions import ensure
from .services import WalkInInput, add_walk_in


@dataclass(frozen=True)
class DelegateInput:
    for_invitation_id: int  # Y: the invitee represented
    name: str  # X's name (needed unless the email already has an account)
    email: str = ""  # X's address: "" records a walk-in
    join_forum: bool = True  # X (with an account) becomes a participant of the forum


def _represented(meeting: Meeting, invitation_id: int) -> Invitation:
    invitation = next((inv for inv in meeting.invitations if inv.id == invitation_id), None)
    if invitation is None:
        raise ServiceError(_("Choose an invitee of this meeting."), field="for_invitation_id")
    if invitation.on_behalf_of_id is not None:
        raise ServiceError(
            _("%(name)s came on behalf of someone else and cannot be represented too.", name=invitation.user.name),
            field="for_invitation_id",
        )
    return invitation


def delegate_of(meeting: Meeting, represented: Invitation) -> str | None:
    """The name of whoever already came for ``represented``, if anyone did."""
    for inv in meeting.invitations:
        if inv.on_behalf_of_id == represented.id:
            return inv.user.name
    for walk_in in meeting.walk_ins:
        if walk_in.on_behalf_of_id == represented.id:
            return walk_in.name
    return None


def record_delegate(actor: User, meeting: Meeting, data: DelegateInput) -> Invitation | WalkInAttendee:
    """Record that someone attended on behalf of an invitee: the invitee excused, the delegate present."""
    ensure(permissions.attendance_lock(meeting))  # held, minutes not adopted (a cancelled meeting is refused)
    represented = _represented(meeting, data.for_invitation_id)
    already = delegate_of(meeting, represented)
    if already is not None:
        raise ServiceError(
            _("%(name)s is already represented by %(delegate)s.", name=represented.user.name, delegate=already),
            field="for_invitation_id",
        )
    name, email = data.name.strip(), data.email.strip()
    organisation = represented.user.organisation
    delegate: Invitation | WalkInAttendee
    if email:
        delegate = _delegate_with_account(actor, meeting, represented, name, email, data.join_forum)
        who = delegate.user.name
    else:
        if not name:
            raise ServiceError(_("Give the name of the person who came."), field="name")
        delegate = add_walk_in(
            actor,
            meeting,
            WalkInInput(
                name=name,
                organisation_name=organisation.name if organisation else "",
                kind=organisation.kind if organisation else "other",
            ),
        )
        delegate.on_behalf_of_id = represented.id
        who = name
    # Only the attendance changes: the RSVP stays as the invitee answered it.
    represented.attendance = "excused"
    represented.attendance_at = utcnow()
    db.session.flush()
    audit.record(
        actor,
        "meeting.delegate.add",
        meeting,
        f"{who} attended on behalf of {represented.user.name}",
        for_user_id=represented.user_id,
        delegate_user_id=delegate.user_id if isinstance(delegate, Invitation) else None,
        walk_in_id=delegate.id if isinstance(delegate, WalkInAttendee) else None,
    )
    return delegate


def _delegate_with_account(
    actor: User, meeting: Meeting, represented: Invitation, name: str, email: str, join_forum: bool
) -> Invitation:
    user = accounts.find_user_by_email(email)
    # As when inviting (meetings.services.add_invitee): an account the grant does not know answers as a
    # new address does, by the organiser's name for it; a closed one is recorded but stays closed.
    known = user is not None and permissions.known_in_grant(user.id, meeting.forum.grant_id)
    if not known and not name:
        raise ServiceError(_("Give the person's name."), field="name")
    if user is None:
        # A guest in the represented person's organisation, with the set-password email (as an inline invitation).
        user = accounts.invite_user(
            actor, email=email, name=name, organisation_id=represented.user.organisation_id, forum=meeting.forum
        )
    elif not user.active and known:
        raise ServiceError(_("This address cannot be recorded. Ask an administrator."), field="email")
    if user.id == represented.user_id:
        raise ServiceError(
            _("%(name)s cannot attend on their own behalf. Mark them present instead.", name=user.name), field="email"
        )
    invitation = next((inv for inv in meeting.invitations if inv.user_id == user.id), None)
    if invitation is not None and invitation.on_behalf_of_id is not None:
        raise ServiceError(
            _("%(name)s is already recorded as attending on behalf of someone.", name=user.name), field="email"
        )
    if invitation is None:
        # Invited after the fact, with no invitation email: the meeting has been held.
        invitation = Invitation(user=user, name_given="" if known else name[:200])
        meeting.invitations.append(invitation)
    invitation.on_behalf_of_id = represented.id
    invitation.attendance = "present"
    invitation.attendance_at = utcnow()
    if join_forum and user.active and not _member_or_organiser(meeting, user):
        forums.add_member(actor, meeting.forum, email=user.email, role="participant", name=name)
    return invitation


def _member_or_organiser(meeting: Meeting, user: User) -> bool:
    forum = meeting.forum
    member = select(ForumMember.id).where(ForumMember.forum_id == forum.id, ForumMember.user_id == user.id)
    organiser = select(GrantTeam.user_id).where(GrantTeam.grant_id == forum.grant_id, GrantTeam.user_id == user.id)
    return db.session.execute(member.union_all(organiser).limit(1)).first() is not None


def remove_delegate(actor: User, meeting: Meeting, for_invitation_id: int) -> None:
    """Undo a record: the delegate no longer stands for the invitee. A walk-in recorded for it is removed;
    a delegate with an account stays marked present (in their own right), and the invitee stays excused,
    for the organiser to correct on the attendance form."""
    ensure(permissions.attendance_lock(meeting))
    represented = next((inv for inv in meeting.invitations if inv.id == for_invitation_id), None)
    if represented is None:
        raise ServiceError(_("This person is not invited to this meeting."))
    for walk_in in list(meeting.walk_ins):
        if walk_in.on_behalf_of_id == represented.id:
            meeting.walk_ins.remove(walk_in)
            who = walk_in.name
            break
    else:
        delegate = next((inv for inv in meeting.invitations if inv.on_behalf_of_id == represented.id), None)
        if delegate is None:
            raise ServiceError(_("Nobody is recorded as attending on behalf of %(name)s.", name=represented.user.name))
        delegate.on_behalf_of_id = None
        who = delegate.user.name
    audit.record(
        actor,
        "meeting.delegate.remove",
        meeting,
        f"{who} no longer recorded for {represented.user.name}",
        for_user_id=represented.user_id,
    )

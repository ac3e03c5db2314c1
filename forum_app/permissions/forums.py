"""Forums: who sees them, who runs them, who may create them."""

from __future__ import annotations

from sqlalchemy import Select, false, select

from ..core import language
from ..models import Forum, Grant
from .enforce import _load
from .roles import _authenticated, is_admin, is_organiser, is_staff, member_forum_ids, organiser_grant_ids


def can_view_forum(user, forum: Forum) -> bool:
    if is_staff(user):
        return True
    return forum.grant_id in organiser_grant_ids(user) or forum.id in member_forum_ids(user)


def can_list_forums(user) -> bool:
    """Whether the forums list has anything for ``user``: staff, an organiser or a forum member.

    A guest (invited to a meeting, member of no forum) would find it empty, and every forum
    page answers them 404: their navigation leads to their meetings instead.
    """
    return is_staff(user) or bool(organiser_grant_ids(user)) or bool(member_forum_ids(user))


def can_edit_forum(user, forum: Forum) -> bool:
    return is_admin(user) or forum.grant_id in organiser_grant_ids(user)


def sees_grant_details(user, forum: Forum) -> bool:
    """Grant references and programme names are working detail for organisers and staff."""
    return is_staff(user) or forum.grant_id in organiser_grant_ids(user)


def can_create_forum(user, grant: Grant) -> bool:
    return is_admin(user) or grant.id in organiser_grant_ids(user)


def can_create_forums(user) -> bool:
    """May create a forum for at least one grant."""
    return is_admin(user) or is_organiser(user)


def creatable_grants(user) -> Select:
    """The grants ``user`` may create forums for."""
    stmt = select(Grant)
    if is_admin(user):
        return stmt
    return stmt.where(Grant.id.in_(organiser_grant_ids(user)))


def sees_every_action_of(user, forum: Forum) -> bool:
    """Whether ``visible_actions`` gives ``user`` all of ``forum``'s actions (staff, its organisers and
    members), not only the ones they own; what they see of the forum is then the same for all of them."""
    return is_staff(user) or (
        _authenticated(user) and (forum.grant_id in organiser_grant_ids(user) or forum.id in member_forum_ids(user))
    )


def visible_forums(user) -> Select:
    """A SELECT of the forums ``user`` may see (for lists; add filters and ordering)."""
    stmt = select(Forum)
    if is_staff(user):
        return stmt
    grants, forums = organiser_grant_ids(user), member_forum_ids(user)
    if not _authenticated(user) or not (grants or forums):
        return stmt.where(false())
    return stmt.where(Forum.grant_id.in_(grants) | Forum.id.in_(forums))


def load_forum(user, forum_id: int, need: str = "view", options=()) -> Forum:
    forum = _load(
        user, select(Forum).where(Forum.id == forum_id).options(*options), need, can_view_forum, can_edit_forum
    )
    language.use_forum(forum)
    return forum

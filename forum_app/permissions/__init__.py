"""Every "may this user do X to Y" decision, in one place.

Views, templates and the API ask here; nothing else decides access. Roles:

- admin: everything, including accounts, organisations, programmes and grants;
- programme staff: read everything (including drafts), change nothing structural;
- organiser: a member of a grant's team; runs that grant's forums;
- participant / observer: a member of a forum; sees that forum's non-draft meetings.

A forbidden object answers 404 when the person may not even know it exists (not a
member) and 403 when they can see it but not change it, the same way everywhere.

Three layers, each used by the next:

- who someone is (``is_staff``, ``organiser_grant_ids``…): ``roles``;
- state rules, as ``…_lock(meeting)`` functions that say *why* a thing cannot be done
  now (or None when it can): services call ``ensure(...)`` with them, so a refused change
  and the page that hides its button can never disagree;
- ``can_…(user, obj)`` answers (role and state together), computed once per page into
  flags (``MeetingFlags``) that templates read. Templates never decide.

Loaders (``load_forum``, ``load_meeting``) take the user they are given — a signed-in
person, an API token's user, the CLI's actor — and raise ``NotFound`` / ``Forbidden``;
the web layer answers 404/403 pages, the API JSON.

The modules, by what they answer: ``roles`` (who is who, administration), ``enforce``
(refusing, and the loader the others are made of), ``forums``, ``meetings``, ``actions``,
``reports`` (dashboard, exports, review comments, indicators) and ``navigation``. Callers
import from the package (``from forum_app import permissions``), never from a module: which
module holds an answer is this package's own business.
"""

from __future__ import annotations

from .actions import (
    ACTION_STATES_NEEDING_REASON,
    ACTION_TRANSITIONS,
    ActionFlags,
    FollowUpFlags,
    action_answer_lock,
    action_details_lock,
    action_flags,
    action_meeting_lock,
    action_owner_lock,
    action_progress_lock,
    action_role_lock,
    action_transition_lock,
    can_manage_action,
    can_view_action,
    comments_only,
    follow_up_flags,
    follow_up_lock,
    load_action,
    owner_gone_condition,
    owner_gone_lock,
    proposal_open,
    visible_actions,
)
from .enforce import (
    ensure,
    require,
    require_visible,
)
from .forums import (
    can_create_forum,
    can_create_forums,
    can_edit_forum,
    can_list_forums,
    can_view_forum,
    creatable_grants,
    load_forum,
    sees_every_action_of,
    sees_grant_details,
    visible_forums,
)
from .meetings import (
    MEETING_TRANSITIONS,
    MeetingFlags,
    adopt_lock,
    adoption_way_lock,
    allowed_transitions,
    attendance_lock,
    can_adopt_minutes,
    can_circulate_minutes,
    can_comment_minutes,
    can_edit_meeting,
    can_edit_meeting_details,
    can_manage_invitees,
    can_plan_next_meeting,
    can_record_attendance,
    can_record_meeting,
    can_rsvp,
    can_see_received_mail,
    can_see_rsvps,
    can_view_meeting,
    can_view_minutes,
    can_write_minutes,
    circulate_lock,
    draft_minutes_lock,
    guest_organisation_lock,
    invitees_lock,
    is_invitee,
    load_meeting,
    meeting_day_lock,
    meeting_details_lock,
    meeting_flags,
    minutes_lock,
    plan_next_lock,
    reads_everything,
    rsvp_lock,
    transition_lock,
    visible_meetings,
)
from .navigation import (
    NavItem,
    navigation,
)
from .reports import (
    ReviewFlags,
    can_answer_review,
    can_manage_indicators,
    can_start_review,
    can_use_api_token_for_writes,
    can_view_reports,
    can_view_review,
    indicator_lock,
    load_review_target,
    report_forums,
    review_comment_lock,
    review_flags,
    review_grant_id,
    visible_grants,
)
from .roles import (
    can_administer,
    can_verify_audit_chain,
    can_view_audit_log,
    can_view_outbox,
    invited_meeting_ids,
    is_admin,
    is_organiser,
    is_staff,
    member_forum_ids,
    organiser_grant_ids,
    resolved,
    set_password_link_lock,
)

__all__ = [
    "plan_next_lock",
    "meeting_day_lock",
    "draft_minutes_lock",
    "can_record_meeting",
    "can_plan_next_meeting",
    "adoption_way_lock",
    "ACTION_STATES_NEEDING_REASON",
    "ACTION_TRANSITIONS",
    "MEETING_TRANSITIONS",
    "ActionFlags",
    "FollowUpFlags",
    "MeetingFlags",
    "NavItem",
    "ReviewFlags",
    "action_answer_lock",
    "action_details_lock",
    "action_flags",
    "action_meeting_lock",
    "action_owner_lock",
    "action_progress_lock",
    "action_role_lock",
    "action_transition_lock",
    "adopt_lock",
    "allowed_transitions",
    "attendance_lock",
    "can_administer",
    "can_verify_audit_chain",
    "can_view_audit_log",
    "can_adopt_minutes",
    "can_answer_review",
    "can_circulate_minutes",
    "can_comment_minutes",
    "can_create_forum",
    "can_create_forums",
    "can_edit_forum",
    "can_list_forums",
    "can_edit_meeting",
    "can_edit_meeting_details",
    "can_manage_action",
    "can_manage_indicators",
    "can_manage_invitees",
    "can_record_attendance",
    "can_rsvp",
    "can_see_received_mail",
    "can_see_rsvps",
    "can_start_review",
    "can_use_api_token_for_writes",
    "can_view_action",
    "can_view_forum",
    "can_view_meeting",
    "can_view_minutes",
    "can_view_outbox",
    "can_view_reports",
    "can_view_review",
    "can_write_minutes",
    "circulate_lock",
    "comments_only",
    "creatable_grants",
    "ensure",
    "follow_up_flags",
    "follow_up_lock",
    "guest_organisation_lock",
    "indicator_lock",
    "invited_meeting_ids",
    "invitees_lock",
    "is_admin",
    "is_invitee",
    "is_organiser",
    "is_staff",
    "load_action",
    "load_forum",
    "load_meeting",
    "load_review_target",
    "meeting_details_lock",
    "meeting_flags",
    "member_forum_ids",
    "minutes_lock",
    "navigation",
    "organiser_grant_ids",
    "owner_gone_condition",
    "owner_gone_lock",
    "proposal_open",
    "reads_everything",
    "report_forums",
    "require",
    "require_visible",
    "resolved",
    "review_comment_lock",
    "review_flags",
    "review_grant_id",
    "rsvp_lock",
    "sees_every_action_of",
    "sees_grant_details",
    "set_password_link_lock",
    "transition_lock",
    "visible_actions",
    "visible_forums",
    "visible_grants",
    "visible_meetings",
]

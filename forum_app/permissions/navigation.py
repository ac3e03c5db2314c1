"""The menu a person sees."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from .forums import can_list_forums
from .reports import can_view_reports
from .roles import _authenticated, can_administer, can_view_audit_log, can_view_outbox


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str
    # A group opens as a menu of these; ``endpoint`` is where the group's link leads without JavaScript.
    children: tuple[NavItem, ...] = field(default=())

    @property
    def endpoints(self) -> set[str]:
        """The pages that make this entry the current one."""
        return {self.endpoint, *(child.endpoint for child in self.children)}


def navigation(user) -> list[NavItem]:
    """The menu a person sees, by role (the routes still check for themselves)."""
    if not _authenticated(user):
        return []
    if can_list_forums(user):
        items = [
            NavItem("home.index", str(_l("Home"))),
            NavItem("forums.index", str(_l("Forums"))),
            NavItem("calendar.month", str(_l("Calendar"))),
            NavItem("actions.mine", str(_l("My actions"))),
        ]
    else:
        # A guest: no forum to open, so no empty Forums tab; the calendar holds the meetings they are invited to.
        items = [
            NavItem("home.index", str(_l("Home"))),
            NavItem("calendar.month", str(_l("My meetings"))),
            NavItem("actions.mine", str(_l("My actions"))),
        ]
    if can_view_reports(user):
        items.append(NavItem("reports.dashboard", str(_l("Programme dashboard"))))
    if can_administer(user):
        # One menu, not five entries: with them the bar was wider than a 1366 px screen and pushed
        # the account menu (and sign-out) off it.
        admin_pages: tuple[NavItem, ...] = (
            NavItem("admin.users", str(_l("People"))),
            NavItem("admin.organisations", str(_l("Organisations"))),
            NavItem("admin.programmes", str(_l("Programmes"))),
            NavItem("admin.grants", str(_l("Grants"))),
            NavItem("audit_log.search", str(_l("Audit log"))),
        )
        if can_view_outbox(user):
            admin_pages += (NavItem("notifications.outbox", str(_l("Outbox"))),)
        items.append(NavItem("admin.users", str(_l("Administration")), children=admin_pages))
    else:
        if can_view_outbox(user):
            items.append(NavItem("notifications.outbox", str(_l("Outbox"))))
        if can_view_audit_log(user):  # programme staff
            items.append(NavItem("audit_log.search", str(_l("Audit log"))))
    return items

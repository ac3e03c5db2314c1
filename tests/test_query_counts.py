"""A page's SQL query count does not grow with the data it shows.

Each page is measured with small data, then again after adding ten times as much
(forums, meetings, members from organisations of every kind, invitees with RSVPs and
attendance, walk-ins, minutes versions and comments). The counts must be equal: any
lazy load per row (an N+1) shows up as growth. A marker count per page proves the
larger page really shows the larger data, so the comparison cannot pass vacuously.

People log in before counting, and each page is fetched once before it is measured so
that one-time work (first connection, template compilation) does not skew the count.
"""

from __future__ import annotations

import itertools
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from flask.testing import FlaskClient

from forum_app.extensions import db
from forum_app.models import (
    ActionItem,
    ActionUpdate,
    AgendaItem,
    AuditEvent,
    Forum,
    ForumMember,
    Grant,
    GrantTeam,
    Invitation,
    Meeting,
    MinutesComment,
    MinutesVersion,
    Organisation,
    OutboxMessage,
    Programme,
    User,
    WalkInAttendee,
)
from forum_app.vocab import ATTENDANCE_STATES, ORGANISATION_KINDS, RSVP_STATES

from . import factories
from .conftest import sign_in
from .factories import Factory

_serial = itertools.count(1)
KINDS = list(ORGANISATION_KINDS)


def target_month() -> datetime:
    """The first day (UTC, 00:00) of last month: every meeting held in it is in the past."""
    today = datetime.now(ZoneInfo("Europe/Sarajevo")).date()
    first = today.replace(day=1) - timedelta(days=1)
    return datetime(first.year, first.month, 1, tzinfo=UTC)


def in_month(month: datetime, n: int) -> datetime:
    """A morning in ``month`` (days 2..27, so the viewer's zone keeps it in the month)."""
    return month + timedelta(days=1 + n % 26, hours=8)


def new_meeting(forum: Forum, state: str, starts_at: datetime, title: str) -> Meeting:
    return Meeting(
        forum=forum,
        title=title,
        state=state,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2),
        published_at=None if state == "draft" else starts_at - timedelta(days=30),
        venue="Town hall",
        agenda_md="1. Follow-up review\n2. **Next steps**",
        ical_uid=f"{uuid.uuid4()}@forum.test",
    )


def new_person(organisation: Organisation | None) -> User:
    n = next(_serial)
    return User(
        email=f"bulk{n}@example.org",
        name=f"Person {n:04d}",
        role="member",
        password_hash=factories._password_hash(),
        organisation=organisation,
        job_title="Adviser",
    )


def populate(app: Flask, world: dict[str, Any], scale: int) -> None:
    """Add ``scale`` units of data around the world's forum and its measured meeting, in one commit.

    One unit: a forum of a new grant and programme (with a member and two meetings); two
    meetings and three members (of organisations of different kinds) in the main forum; and on
    the measured meeting three invitees (RSVP and attendance set), a walk-in, a minutes version
    and two comments (one by someone who was not invited).
    """
    month = target_month()
    with app.app_context():
        forum = db.session.get(Forum, world["forum"])
        meeting = db.session.get(Meeting, world["meeting"])
        participant = db.session.execute(db.select(User).where(User.email == world["participant"])).scalar_one()
        organiser = db.session.execute(db.select(User).where(User.email == world["organiser"])).scalar_one()
        rsvps = list(RSVP_STATES)
        attendance = [None, *ATTENDANCE_STATES]

        organisations = []
        for _ in range(3 * scale):
            n = next(_serial)
            organisations.append(
                Organisation(name=f"Bulk organisation {n}", kind=KINDS[n % len(KINDS)], country="BA", city="Sarajevo")
            )
        people = [new_person(org) for org in organisations]
        db.session.add_all(people)
        for i, person in enumerate(people):
            db.session.add(ForumMember(forum=forum, user=person, role="observer" if i % 3 == 2 else "participant"))
            n = next(_serial)
            invitation = Invitation(user=person, rsvp=rsvps[n % len(rsvps)], attendance=attendance[n % len(attendance)])
            meeting.invitations.append(invitation)

        for i in range(scale):
            n = next(_serial)
            # Meetings of the main forum: one held in the month, one planned.
            db.session.add(new_meeting(forum, "held", in_month(month, n), f"Held meeting {n}"))
            db.session.add(
                new_meeting(
                    forum,
                    "scheduled" if n % 2 else "draft",
                    datetime.now(UTC) + timedelta(days=10 + n),
                    f"Planned meeting {n}",
                )
            )
            # Another forum, of its own grant and programme (so nothing per row comes from the identity
            # map), run by the organiser, with the participant and one more member.
            programme = Programme(name=f"Bulk programme {n}", themes=["Reintegration"])
            own_grant = Grant(
                programme=programme,
                holder=organisations[i],
                reference=f"BULK-{n}",
                title=f"Bulk grant {n}",
                country="BA",
            )
            own_grant.team.append(GrantTeam(user=organiser))
            other = Forum(
                grant=own_grant,
                title=f"Bulk forum {n}",
                city=f"City {n % 4}",
                country="BA",
                timezone="Europe/Sarajevo",
                focus="Reintegration",
            )
            db.session.add(other)
            db.session.add(ForumMember(forum=other, user=participant))
            db.session.add(ForumMember(forum=other, user=people[i]))
            db.session.add(new_meeting(other, "held", in_month(month, n + 7), f"Other held {n}"))
            # ...and one on the measured meeting's day (the calendar's day view lists them all).
            db.session.add(new_meeting(other, "held", in_month(month, 13) + timedelta(hours=1), f"Same day {n}"))
            db.session.add(
                new_meeting(other, "scheduled", datetime.now(UTC) + timedelta(days=5 + n), f"Other planned {n}")
            )
            # The measured meeting: a walk-in, a minutes version and two comments.
            meeting.walk_ins.append(
                WalkInAttendee(
                    name=f"Walk-in {n}", organisation_name="Red Cross", organisation_kind=KINDS[n % len(KINDS)]
                )
            )
            number = meeting.minutes_revision + 1
            db.session.add(
                MinutesVersion(
                    meeting_id=meeting.id,
                    number=number,
                    body_md=f"Minutes v{number}",
                    decisions=[f"Decision {number}"],
                    author=people[i],
                )
            )
            meeting.minutes_revision = number
            # Two actions of the main forum raised before the measured meeting (so in its follow-up), owned by
            # the participant, one overdue, each with its history (the second entry by someone new).
            raised = meeting.starts_at - timedelta(days=20)
            for k, due in enumerate((date(2020, 1, 1), date(2099, 1, 1))):
                action = ActionItem(
                    forum=forum,
                    title=f"Bulk action {n}-{k}",
                    owner=participant,
                    owner_organisation=organisations[i],
                    state="in_progress",
                    due_on=due,
                    themes=["Radicalisation in prisons"],
                    created_at=raised,
                    updated_at=raised,
                )
                db.session.add(action)
                action.updates.append(
                    ActionUpdate(author=organiser, kind="state", to_state="proposed", created_at=raised)
                )
                action.updates.append(
                    ActionUpdate(
                        author=new_person(organisations[i]),
                        kind="progress",
                        note="Progress",
                        created_at=raised + timedelta(days=1),
                    )
                )
            # The measured meeting's "During the meeting" page: an agenda item, with an action agreed under it.
            item = AgendaItem(
                meeting_id=meeting.id,
                position=n,
                title=f"Bulk item {n}",
                notes_md="Said",
                notes_html="<p>Said</p>",
                decisions=[f"Decided {n}"],
            )
            db.session.add(item)
            db.session.flush()
            db.session.add(
                ActionItem(
                    forum=forum,
                    meeting_id=meeting.id,
                    agenda_item_id=item.id,
                    title=f"Agreed under item {n}",
                    owner=people[i],
                    owner_organisation=organisations[i],
                    state="proposed",
                    created_at=meeting.ends_at,
                    updated_at=meeting.ends_at,
                )
            )
            # The long-running action: a note by someone new; the audit trail and the outbox grow too.
            author = new_person(organisations[i])
            db.session.add(
                ActionUpdate(
                    action_id=world["action"],
                    author=author,
                    kind="progress",
                    note=f"Note {n}",
                    created_at=meeting.starts_at - timedelta(days=80 - n % 60),
                )
            )
            for k in range(3):
                db.session.add(
                    AuditEvent(
                        actor=author,
                        verb="forum.update",
                        object_type="Forum",
                        object_id=forum.id,
                        summary=f"Bulk change {n}.{k}",
                    )
                )
            db.session.add(
                OutboxMessage(
                    kind="invitation",
                    to_addr=f"bulk{n}@example.org",
                    to_user=author,
                    subject=f"Invitation {n}",
                    body_text="Hello",
                    meeting_id=meeting.id,
                )
            )
            # Comment authors who are not invitees, so their names are not already loaded with the invitations.
            commenter = new_person(organisations[i])
            for author in (participant, commenter):
                db.session.add(
                    MinutesComment(
                        meeting_id=meeting.id, version_number=number, author=author, body=f"Comment {next(_serial)}"
                    )
                )
        db.session.commit()


def setup_world(app: Flask, make: Factory) -> dict[str, Any]:
    """The world, plus a held meeting of its forum in last month with circulated minutes the participant attended."""
    world = make.world()
    with app.app_context():
        forum = db.session.get(Forum, world["forum"])
        meeting = new_meeting(forum, "held", in_month(target_month(), 13), "Measured meeting")
        meeting.minutes_state = "circulated"
        db.session.add(meeting)
        participant = db.session.execute(db.select(User).where(User.email == world["participant"])).scalar_one()
        meeting.invitations.append(Invitation(user=participant, rsvp="accepted", attendance="present"))
        db.session.commit()
        world["meeting"] = meeting.id
        # An action raised long before, still open: its page's timeline and history grow with the data.
        raised = meeting.starts_at - timedelta(days=90)
        action = ActionItem(
            forum=forum,
            title="Long-running action",
            owner=participant,
            state="in_progress",
            due_on=date(2099, 1, 1),
            created_at=raised,
            updated_at=raised,
        )
        action.updates.append(ActionUpdate(author=participant, kind="state", to_state="proposed", created_at=raised))
        db.session.add(action)
        db.session.commit()
        world["action"] = action.id
        # Calendar feed addresses, so the profile lists the forums' feeds and the feed can be fetched.
        from forum_app.calendar.feeds import regenerate_feed_token

        organiser = db.session.execute(db.select(User).where(User.email == world["organiser"])).scalar_one()
        world["feed_token"] = regenerate_feed_token(organiser)
        db.session.commit()
    return world


def pages(world: dict[str, Any]) -> dict[str, tuple[str, str, str]]:
    """name → (viewer, path, a regex counting the rows the page shows)."""
    forum, meeting = world["forum"], world["meeting"]
    month = target_month().strftime("%Y-%m")
    return {
        "home (admin)": ("admin", "/", r'<td><a href="/forums/\d+"'),
        "home (organiser)": ("organiser", "/", r'class="btn btn-sm btn-outline-primary align-self-center task-step"'),
        # Her forums with their next step (issue 21, part 4): a row per forum of her grants.
        "home forums (organiser)": ("organiser", "/", r'forum-step" data-step='),
        # Staff's overview with both kinds of agencies and the overdue actions per forum (issue 21, parts 4 and 5).
        "home overview (admin)": ("admin", "/", r'<td data-label="Overdue actions"'),
        "forum list (admin)": ("admin", "/forums", r'class="card h-100 forum-card"'),
        "forum list (organiser)": ("organiser", "/forums", r'class="card h-100 forum-card"'),
        "forum list (participant)": ("participant", "/forums", r'class="card h-100 forum-card"'),
        "forum page": ("organiser", f"/forums/{forum}", r'href="/meetings/\d+"|<li>Person '),
        "forum page (participant)": ("participant", f"/forums/{forum}", r'href="/meetings/\d+"|<li>Person '),
        "members": ("organiser", f"/forums/{forum}/members", r'<select [^>]*name="role"'),
        "meeting page": ("organiser", f"/meetings/{meeting}", r"<tr data-user=|walk-in</span>|border-start ps-2"),
        "meeting page (participant)": (
            "participant",
            f"/meetings/{meeting}",
            r"<tr data-user=|walk-in</span>|border-start ps-2",
        ),
        "attendance": ("organiser", f"/meetings/{meeting}/attendance", r'name="rows-\d+-value"|/walk-ins/\d+/remove'),
        "during the meeting": (
            "organiser",
            f"/meetings/{meeting}/during",
            r'name="rows-\d+-value"|class="card mb-4 agenda-item"|<li class="list-group-item"><a href="/actions/',
        ),
        "calendar": ("participant", f"/calendar?month={month}", r'class="d-block small calendar-event'),
        "calendar (admin)": ("admin", f"/calendar?month={month}", r'class="d-block small calendar-event'),
        "people (admin)": ("admin", "/admin/users", r'href="/admin/users/\d+/edit"'),
        "people search (admin)": ("admin", "/admin/users?q=person", r'href="/admin/users/\d+/edit"'),
        "minutes versions": (
            "organiser",
            f"/meetings/{meeting}/minutes/versions",
            rf'href="/meetings/{meeting}/minutes/versions/\d+"',
        ),
        "profile": ("organiser", "/account", r'<li class="mb-1">'),
        "personal calendar feed": ("organiser", f"/calendar/{world['feed_token']}.ics", r"BEGIN:VEVENT"),
        "forum calendar feed": ("organiser", f"/calendar/{world['feed_token']}/forums/{forum}.ics", r"BEGIN:VEVENT"),
        "meeting follow-up section": ("organiser", f"/meetings/{meeting}", r'<tr data-action="\d+">'),
        "meeting follow-up (participant)": ("participant", f"/meetings/{meeting}", r'<tr data-action="\d+">'),
        "follow-up review form": ("organiser", f"/meetings/{meeting}/follow-up", r'name="rows-\d+-note"'),
        "action board": ("organiser", f"/forums/{forum}/actions", r'class="board-row"'),
        "action board (overdue)": (
            "participant",
            f"/forums/{forum}/actions?overdue=1&theme=Radicalisation+in+prisons",
            r'class="board-row"',
        ),
        "follow-up matrix": ("organiser", f"/forums/{forum}/actions/matrix", r'class="matrix-row"'),
        "my actions": ("participant", "/actions", r'href="/actions/\d+"'),
        "home (participant)": ("participant", "/", r'href="/actions/\d+"'),
        "programme dashboard (admin)": ("admin", "/reports", r'class="report-row" data-level="forum"'),
        "programme dashboard (organiser)": ("organiser", "/reports", r'class="report-row" data-level="forum"'),
        "report: actions overdue": ("admin", "/reports/actions?figure=overdue&from=2000-01-01", r'class="report-item"'),
        "export: meetings CSV": ("organiser", "/reports/export/meetings.csv?from=2000-01-01", r"\r\n\d+,"),
        "export: attendance CSV": ("admin", "/reports/export/attendance.csv?from=2000-01-01", r"\r\n\d+,"),
        # A forum per page: the main forum's, which grows.
        "progress report": (
            "admin",
            f"/reports/progress?forum={forum}",
            r'class="progress-forum|class="progress-action"',
        ),
        "export: actions CSV": ("admin", "/reports/export/actions.csv?from=2000-01-01", r"\nBulk action|\r\n\d+,"),
        "action page": ("organiser", f"/actions/{world['action']}", r'<td data-label="Date">|class="border-start ps-2'),
        "grants (admin)": ("admin", "/admin/grants", r'href="/admin/grants/\d+"'),
        "organisations (admin)": ("admin", "/admin/organisations", r'href="/admin/organisations/\d+/edit"'),
        "programmes (admin)": ("admin", "/admin/programmes", r'href="/admin/programmes/\d+/edit"'),
        # (Filtered to the forums: exports measured on the same pages are audited too, and would dilute the growth.)
        "audit trail (admin)": ("admin", "/admin/audit?verb=forum.&object_type=Forum", r'<td class="text-nowrap">'),
        "outbox (admin)": ("admin", "/outbox", r'class="card mb-2 outbox-message"'),
        "new forum form (admin)": ("admin", "/forums/new", r'<option value="\d+"'),
        "report: meetings held": ("admin", "/reports/meetings?figure=held&from=2000-01-01", r'class="report-item"'),
        "calendar day (admin)": (
            "admin",
            f"/calendar?day={in_month(target_month(), 13):%Y-%m-%d}",
            r'class="list-group-item"><a href="/meetings/\d+"',
        ),
    }


def measure(clients: dict[str, FlaskClient], world: dict[str, Any], count_queries) -> dict[str, tuple[int, int]]:
    """page → (queries, rows shown)."""
    result = {}
    for name, (viewer, path, rows) in pages(world).items():
        client = clients[viewer]
        assert client.get(path).status_code == 200, (name, path)  # warm-up
        with count_queries() as statements:
            response = client.get(path)
        assert response.status_code == 200, (name, path)
        result[name] = (len(statements), len(re.findall(rows, response.get_data(as_text=True))))
    return result


def test_query_counts_do_not_grow_with_data(app: Flask, make: Factory, count_queries, monkeypatch) -> None:
    """Every page runs as many queries with ten times the data as with a little."""
    # Lists are paged; here one page holds everything, so the rows really grow and an N+1 would show.
    monkeypatch.setitem(app.config, "PAGE_SIZE", 1000)
    world = setup_world(app, make)
    populate(app, world, scale=1)
    clients = {}
    for viewer in ("admin", "organiser", "participant"):
        clients[viewer] = app.test_client()
        sign_in(clients[viewer], world[viewer])

    small = measure(clients, world, count_queries)
    populate(app, world, scale=10)
    large = measure(clients, world, count_queries)

    print("\nqueries per page (small → 10x):")
    for name in small:
        print(f"  {name:28} {small[name][0]:3} → {large[name][0]:3}   rows {small[name][1]:3} → {large[name][1]:3}")

    # The larger data is really on the larger pages (at least four times the rows; fixed rows such as
    # the world's own forums dilute the factor)...
    thin = {
        name: (small[name][1], large[name][1])
        for name in small
        if not (small[name][1] > 0 and large[name][1] >= 4 * small[name][1])
    }
    assert thin == {}, "these pages do not show the added data, so their counts prove nothing"
    # ...and costs no extra query.
    assert {name: q for name, (q, _) in large.items()} == {name: q for name, (q, _) in small.items()}
    assert all(0 < q < 30 for q, _ in small.values()), small


def test_paged_report_views_do_not_grow_with_data(app: Flask, make: Factory, count_queries, monkeypatch) -> None:
    """The dashboard's forum table and coverage matrix, and the progress report, are paged by forum:
    a later page costs the same queries and shows as many forums with ten times the forums."""
    monkeypatch.setitem(app.config, "PAGE_SIZE", 3)
    world = setup_world(app, make)
    populate(app, world, scale=1)
    client = app.test_client()
    sign_in(client, world["admin"])
    views = {
        "dashboard page 2": ("/reports?from=2000-01-01&page=2", r'class="report-row" data-level="forum"'),
        "coverage page 2": ("/reports?from=2000-01-01&page=2", r'<tr data-forum="\d+">'),
        "progress report page 2": ("/reports/progress?from=2000-01-01&page=2", r'class="progress-forum'),
        "progress report page 3": ("/reports/progress?from=2000-01-01&page=3", r'class="progress-forum'),
    }

    def measure_views() -> dict[str, tuple[int, int, int]]:
        """view → (queries, rows shown, KB of HTML)."""
        result = {}
        for name, (path, rows) in views.items():
            assert client.get(path).status_code == 200, path
            with count_queries() as statements:
                response = client.get(path)
            assert response.status_code == 200, path
            html = response.get_data(as_text=True)
            result[name] = (len(statements), len(re.findall(rows, html)), len(html) // 1024)
        return result

    small = measure_views()
    populate(app, world, scale=10)
    large = measure_views()
    print("\npaged report views (small → 10x):", small, large)
    assert {n: q for n, (q, _, _) in large.items()} == {n: q for n, (q, _, _) in small.items()}
    # A full page of forums, and one forum per progress page, whatever the number of forums
    # (the page still grows with the grants table and the filter's choices, not with forum rows).
    assert small["dashboard page 2"][1] == large["dashboard page 2"][1] == 3
    assert small["coverage page 2"][1] == large["coverage page 2"][1] == 3
    assert all(rows == 1 for name, (_, rows, _) in [*small.items(), *large.items()] if name.startswith("progress"))

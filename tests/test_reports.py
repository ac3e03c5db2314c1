"""The programme dashboard: every figure against data built for it, the lists behind them, reach and exports.

The data is written as rows with exact moments (period boundaries in the forum's zone need
times to the minute); the rules themselves are the ones in ``reports.queries``.
"""
from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from flask import Flask
from sqlalchemy import func

from forum_app.extensions import db
from forum_app.models import (
    ActionItem, ActionUpdate, Forum, Invitation, Meeting, Organisation, User, WalkInAttendee,
)
from forum_app.reports import queries
from forum_app.reports.queries import ReportFilters

from .conftest import sign_in
from .factories import Factory

NOW = datetime(2024, 7, 15, 10, 0, tzinfo=timezone.utc)
PERIOD = ReportFilters(start=date(2024, 4, 1), end=date(2024, 6, 30))


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def _meeting(forum_id: int, state: str, starts: datetime, published: bool = True) -> Meeting:
    meeting = Meeting(forum_id=forum_id, title=f"M {starts:%Y-%m-%d %H:%M}", state=state, starts_at=starts,
                      ends_at=starts.replace(hour=(starts.hour + 2) % 24) if starts.hour < 22 else starts.replace(
                          minute=59), venue="Hall", published_at=starts if published else None,
                      ical_uid=f"{uuid.uuid4()}@forum.test")
    db.session.add(meeting)
    return meeting


def _person(kind: str, gender: str = "not_recorded") -> User:
    org = Organisation(name=f"Org {uuid.uuid4().hex[:8]}", kind=kind, country="BA")
    user = User(email=f"{uuid.uuid4().hex[:10]}@example.org", name=f"Person {kind}", organisation=org, gender=gender)
    db.session.add(user)
    return user


def _action(forum_id: int, owner: User, created: datetime, state: str, due: date | None = None,
            closed: datetime | None = None, updates: tuple[tuple[datetime, str | None], ...] = ()) -> ActionItem:
    action = ActionItem(forum_id=forum_id, title=f"A {created:%m-%d}", owner=owner, state=state, due_on=due,
                        created_at=created, updated_at=created, closed_at=closed)
    db.session.add(action)
    action.updates.append(ActionUpdate(author=owner, kind="state", to_state="proposed", created_at=created))
    for moment, to_state in updates:
        action.updates.append(ActionUpdate(author=owner, kind="state" if to_state else "progress",
                                           to_state=to_state, note="" if to_state else "Progress", created_at=moment))
    # Rows written directly, like generate.py's: the roll-up actions.services keeps is set by hand.
    action.last_update_at = max([created, *(moment for moment, _ in updates)])
    action.confirmed_at = min((moment for moment, to_state in updates if to_state == "accepted"), default=None)
    return action


@pytest.fixture
def data(app: Flask, make: Factory) -> dict:
    world = make.world()  # forum: Sarajevo (grant BA); other_forum: Skopje (grant MK)
    with app.app_context():
        a, b = world["forum"], world["other_forum"]
        m1 = _meeting(a, "held", utc(2024, 3, 31, 22, 30))  # 1 April 00:30 in Sarajevo: in the period
        m2 = _meeting(a, "held", utc(2024, 6, 30, 22, 30))  # 1 July 00:30 in Sarajevo: after it
        _meeting(a, "cancelled", utc(2024, 5, 10, 8))
        _meeting(a, "scheduled", utc(2024, 6, 20, 8))
        _meeting(a, "draft", utc(2024, 5, 1, 8), published=False)  # drafts are no planned meetings
        _meeting(a, "cancelled", utc(2024, 5, 2, 8), published=False)  # nor a draft cancelled unseen
        mb = _meeting(b, "held", utc(2024, 5, 15, 8))
        p1, p2, p3, p4 = _person("prison", "female"), _person("police"), _person("ngo"), _person("health")
        for person, attendance in ((p1, "present"), (p2, "present"), (p3, "absent"), (p4, "excused")):
            m1.invitations.append(Invitation(user=person, attendance=attendance))
        m1.walk_ins.append(WalkInAttendee(name="Walk-in", organisation_kind="health"))
        m2.invitations.append(Invitation(user=_person("ngo", "male"), attendance="present"))
        mb.invitations.append(Invitation(user=_person("employment", "male"), attendance="present"))
        # Forum A's actions (now: 15 July 2024)
        _action(a, p1, utc(2024, 4, 10, 9), "done", due=date(2024, 4, 30), closed=utc(2024, 4, 20, 9),
                updates=((utc(2024, 4, 11, 9), "accepted"), (utc(2024, 4, 12, 9), "in_progress"),
                         (utc(2024, 4, 20, 9), "done")))  # 10 days, on time
        _action(a, p1, utc(2024, 5, 1, 9), "done", due=date(2024, 5, 31), closed=utc(2024, 6, 10, 9),
                updates=((utc(2024, 5, 2, 9), "accepted"), (utc(2024, 5, 3, 9), "in_progress"),
                         (utc(2024, 6, 10, 9), "done")))  # 40 days, late
        _action(a, p2, utc(2024, 5, 5, 9), "proposed", due=date(2024, 6, 1))  # overdue, stalled
        _action(a, p2, utc(2024, 6, 30, 21, 30), "blocked",  # 23:30 on 30 June in Sarajevo: in the period
                updates=((utc(2024, 7, 1, 9), "accepted"), (utc(2024, 7, 10, 9), "blocked")))
        _action(a, p2, utc(2024, 3, 31, 21, 30), "in_progress", due=date(2024, 8, 1),  # 31 March local: before
                updates=((utc(2024, 4, 1, 9), "accepted"), (utc(2024, 4, 1, 10), "in_progress")))  # stalled
        # Forum B's: two overdue, stalled, unconfirmed
        _action(b, p3, utc(2024, 5, 20, 9), "proposed", due=date(2024, 6, 1))
        _action(b, p3, utc(2024, 5, 21, 9), "proposed", due=date(2024, 6, 2))
        db.session.commit()
        world["m1"] = m1.id
    return world


def test_every_figure(app: Flask, data: dict) -> None:
    with app.app_context():
        staff = db.session.execute(db.select(User).where(User.email == data["staff"])).scalar_one()
        page = queries.dashboard(staff, PERIOD, now=NOW)
        a = next(r.figures for r in page.forums if r.forum.id == data["forum"])
        b = next(r.figures for r in page.forums if r.forum.id == data["other_forum"])
        assert (a.forums, a.forums_active, a.planned, a.held, a.cancelled) == (1, 1, 1, 1, 1)
        assert (a.invitees, a.present, a.walk_ins, a.attendees, a.attendance_rate) == (4, 2, 1, 3, 0.5)
        assert +a.attendees_by_kind == {"prison": 1, "police": 1, "health": 1}
        assert +a.attendees_by_gender == {"female": 1, "not_recorded": 2}
        assert (a.raised, a.confirmed, a.confirmation_rate) == (4, 3, 0.75)
        assert (a.in_progress, a.blocked, a.done, a.overdue, a.stalled) == (1, 1, 2, 1, 2)
        assert (a.due, a.on_time, a.median_days_to_done) == (3, 1, 25.0)
        assert (b.held, b.raised, b.confirmed, b.overdue, b.stalled, b.done) == (1, 2, 0, 2, 2, 0)
        assert b.median_days_to_done is None and b.confirmation_rate == 0
        assert page.total.raised == 6 and page.total.overdue == 3 and page.total.attendees == 4
        assert {r.key: r.figures.raised for r in page.countries} == {"BA": 4, "MK": 2}
        assert page.most_overdue.forum.id == data["other_forum"]
        coverage = {row.forum.id: kinds for row, kinds in page.coverage}
        assert {k for k, v in coverage[data["forum"]].items() if v} == {"prison", "police", "health"}
        assert {k for k, v in coverage[data["other_forum"]].items() if v} == {"employment"}
        trends = {t.title: dict(t.points) for t in page.trends}
        assert trends["Meetings held"] == {"2023 Q2": 0, "2024 Q2": 2} or trends["Meetings held"]["2024 Q2"] == 2
        assert trends["Actions raised"]["2024 Q2"] == 6 and trends["Actions done"]["2024 Q2"] == 2
        assert trends["Attendance rate"]["2024 Q2"] == 60.0  # 3 present of 5 invitees


def test_period_boundaries_follow_the_forum_zone(app: Flask, data: dict) -> None:
    with app.app_context():
        staff = db.session.execute(db.select(User).where(User.email == data["staff"])).scalar_one()
        july = queries.dashboard(staff, ReportFilters(start=date(2024, 7, 1), end=date(2024, 7, 31)), now=NOW)
        a = next(r.figures for r in july.forums if r.forum.id == data["forum"])
        assert (a.held, a.raised) == (1, 0)  # the meeting at 00:30 on 1 July local time
        march = queries.dashboard(staff, ReportFilters(start=date(2024, 3, 1), end=date(2024, 3, 31)), now=NOW)
        a = next(r.figures for r in march.forums if r.forum.id == data["forum"])
        assert (a.held, a.raised) == (0, 1)  # 22:30 UTC on 31 March is 1 April in Sarajevo


def test_stalled_rule_is_thirty_days(app: Flask, data: dict) -> None:
    with app.app_context():
        staff = db.session.execute(db.select(User).where(User.email == data["staff"])).scalar_one()
        # On 5 June the proposed action raised on 5 May has had no update for 31 days; the one
        # in progress since 1 April too; the blocked one does not exist yet.
        early = queries.dashboard(staff, PERIOD, now=utc(2024, 6, 4, 10))
        assert next(r.figures for r in early.forums if r.forum.id == data["forum"]).stalled == 2
        # On 3 May: only the one updated on 1 April (32 days); the 5 May one is not raised yet.
        earlier = queries.dashboard(staff, PERIOD, now=utc(2024, 5, 3, 10))
        assert next(r.figures for r in earlier.forums if r.forum.id == data["forum"]).stalled == 1
        # On 1 May, 30 days after 1 April 10:00 has not passed yet.
        assert next(r.figures for r in queries.dashboard(staff, PERIOD, now=utc(2024, 5, 1, 9)).forums
                    if r.forum.id == data["forum"]).stalled == 0


def test_lists_behind_the_figures_match(app: Flask, data: dict) -> None:
    with app.app_context():
        staff = db.session.execute(db.select(User).where(User.email == data["staff"])).scalar_one()
        page = queries.dashboard(staff, PERIOD, now=NOW)
        for figure in ("raised", "confirmed", "in_progress", "blocked", "done", "overdue", "stalled", "due"):
            rows = db.session.execute(queries.actions_stmt(staff, PERIOD, figure, now=NOW)).scalars().all()
            assert len(rows) == getattr(page.total, figure), figure
        for figure in ("planned", "held", "cancelled"):
            rows = db.session.execute(queries.meetings_stmt(staff, PERIOD, figure)).scalars().all()
            assert len(rows) == getattr(page.total, figure), figure


def test_reach_by_role(app: Flask, data: dict) -> None:
    args = "?from=2024-04-01&to=2024-06-30"
    staff = sign_in(app.test_client(), data["staff"]).get("/reports" + args)
    assert staff.status_code == 200 and f'data-forum="{data["other_forum"]}"' in staff.get_data(as_text=True)
    organiser = sign_in(app.test_client(), data["organiser"])
    html = organiser.get("/reports" + args).get_data(as_text=True)
    assert f'data-forum="{data["forum"]}"' in html and f'data-forum="{data["other_forum"]}"' not in html
    # Naming the other grant's forum shows nothing of it, in the lists and exports either.
    other = organiser.get(f"/reports/actions{args}&forum={data['other_forum']}&figure=overdue")
    assert other.status_code == 200 and 'class="report-item"' not in other.get_data(as_text=True)
    exported = organiser.get(f"/reports/export/actions.csv{args}&figure=overdue").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(exported.lstrip("\ufeff"))))
    # overdue today: forum A's two (one per history entry), none of forum B's
    assert {r["country"] for r in rows} == {"BA"} and len({r["action_id"] for r in rows}) == 2
    for role in ("participant", "observer", "outsider"):
        client = sign_in(app.test_client(), data[role])
        for path in ("/reports", "/reports/actions", "/reports/meetings", "/reports/export/actions.csv",
                     "/reports/progress"):
            assert client.get(path).status_code == 403, (role, path)
    assert app.test_client().get("/reports").status_code == 302


def test_exports_and_progress_report(app: Flask, data: dict) -> None:
    from openpyxl import load_workbook

    client = sign_in(app.test_client(), data["staff"])
    args = "?from=2024-04-01&to=2024-06-30"
    actions = client.get("/reports/export/actions.csv" + args)
    assert actions.status_code == 200 and actions.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(actions.get_data(as_text=True).lstrip("\ufeff"))))
    # six actions raised in the period, each row an entry of its history (1 + updates)
    assert len({r["action_id"] for r in rows}) == 6 and len(rows) == 4 + 4 + 1 + 3 + 1 + 1
    assert "gender" not in rows[0]
    attendance = client.get("/reports/export/attendance.xlsx" + args)
    assert attendance.status_code == 200
    sheet = load_workbook(io.BytesIO(attendance.get_data())).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "meeting_id" and len(values) == 1 + 4 + 1 + 1  # m1: 4 invitees and a walk-in; mb: 1
    meetings = client.get("/reports/export/meetings.csv" + args).get_data(as_text=True)
    assert len(list(csv.reader(io.StringIO(meetings.lstrip("\ufeff"))))) == 1 + 4
    # A forum per page: the two forums are pages 1 and 2 (a page past the last shows the last).
    pages = [client.get(f"/reports/progress{args}&page={n}").get_data(as_text=True) for n in (1, 2, 3)]
    # Past the last forum: the last one again (compared without the per-request CSRF token and nonce).
    same = [re.sub(r'(name="csrf_token"[^>]*value|nonce)="[^"]*"', "", p) for p in pages]
    assert [p.count('class="progress-forum') for p in pages] == [1, 1, 1] and same[2] == same[1]
    assert pages[0] != pages[1] and 'id="progress-picker"' in pages[0]
    assert sum(p.count('class="progress-overdue"') for p in pages[:2]) == 4  # as of today: A's two, B's two


# --- the roll-up the reports read (ActionItem.last_update_at, confirmed_at) -----------------------

def _rollup(app: Flask, action_id: int) -> tuple[datetime | None, datetime | None]:
    with app.app_context():
        action = db.session.get(ActionItem, action_id)
        return action.last_update_at, action.confirmed_at


def test_rollup_is_kept_by_the_action_services(app: Flask, make: Factory) -> None:
    world = make.world()
    action_id = make.action(world["forum"], world["participant"])
    with app.app_context():
        action = db.session.get(ActionItem, action_id)
        assert (action.last_update_at, action.confirmed_at) == (action.created_at, None)
        raised = action.created_at
    accepted, started, noted = (raised + timedelta(days=n) for n in (2, 5, 40))
    make.act(action_id, world["participant"], to_state="accepted", at=accepted)
    assert _rollup(app, action_id) == (accepted, accepted)
    make.act(action_id, world["participant"], to_state="in_progress", at=started)
    assert _rollup(app, action_id) == (started, accepted)  # confirmed: the first acceptance
    make.act(action_id, world["participant"], note="Called the probation office.", at=noted)
    assert _rollup(app, action_id) == (noted, accepted)
    # The figures read it: confirmed in the period it was raised in; stalled 30 days after the last entry.
    with app.app_context():
        staff = db.session.execute(db.select(User).where(User.email == world["staff"])).scalar_one()
        period = ReportFilters(start=raised.date() - timedelta(days=1), end=raised.date() + timedelta(days=1))
        for now, stalled in ((noted + timedelta(days=29), 0), (noted + timedelta(days=31), 1)):
            figures = next(r.figures for r in queries.dashboard(staff, period, now=now).forums
                           if r.forum.id == world["forum"])
            assert (figures.raised, figures.confirmed, figures.stalled) == (1, 1, stalled)


def test_migration_fills_the_rollup_from_the_history(app: Flask, make: Factory) -> None:
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect

    world = make.world()
    confirmed = make.action(world["forum"], world["participant"])
    proposed = make.action(world["forum"], world["participant"])
    with app.app_context():
        raised = db.session.get(ActionItem, confirmed).created_at
    steps = ((raised + timedelta(days=1), "accepted"), (raised + timedelta(days=3), "in_progress"),
             (raised + timedelta(days=9), "blocked"))
    for moment, state in steps:
        make.act(confirmed, world["participant"], to_state=state, note="Waiting for the ministry.", at=moment)
    expected = {confirmed: (steps[-1][0], steps[0][0]), proposed: _rollup(app, proposed)}
    with app.app_context():
        db.session.remove()
        downgrade(revision="0011_indicators")
        try:
            with db.engine.connect() as conn:
                assert "last_update_at" not in {c["name"] for c in inspect(conn).get_columns("action_item")}
        finally:
            upgrade()
    assert {action_id: _rollup(app, action_id) for action_id in expected} == expected
    assert expected[proposed][1] is None and expected[proposed][0] is not None


def _stamps(app: Flask, *forum_ids: int) -> tuple[int, ...]:
    with app.app_context():
        return tuple(db.session.get(Forum, forum_id).figures_stamp for forum_id in forum_ids)


def test_writes_renew_the_stamp_of_the_forums_whose_figures_they_change(app: Flask, make: Factory) -> None:
    world = make.world()
    a, b = world["forum"], world["other_forum"]
    meeting_id = make.meeting(a, state="held", starts_in_days=-3)
    invitation_id = make.invite(meeting_id, world["participant"])
    steps = {
        "an action raised": lambda: make.action(a, world["participant"]),
        "an attendance mark (a bulk UPDATE naming its forum)": lambda: make.mark_attendance(invitation_id, "present"),
        "a walk-in": lambda: make.walk_in(meeting_id),
        "a meeting planned": lambda: make.meeting(a),
    }
    for step, run in steps.items():
        before = _stamps(app, a, b)
        run()
        after = _stamps(app, a, b)
        assert after[0] != before[0] and after[1] == before[1], step
    # An action's history entry, through the service: its forum only.
    action_id = make.action(a, world["participant"])
    before = _stamps(app, a, b)
    make.act(action_id, world["participant"], to_state="accepted")
    assert _stamps(app, a, b)[0] != before[0] and _stamps(app, a, b)[1] == before[1]
    # A person's gender is broken down by in every forum's attendees: every stamp moves.
    before = _stamps(app, a, b)
    with app.app_context():
        person = db.session.execute(db.select(User).where(User.email == world["participant"])).scalar_one()
        person.gender = "female"
        db.session.commit()
    after = _stamps(app, a, b)
    assert after[0] != before[0] and after[1] != before[1]
    # A change the figures do not read (a person's time zone) leaves them.
    with app.app_context():
        person = db.session.execute(db.select(User).where(User.email == world["participant"])).scalar_one()
        person.timezone = "Europe/Skopje"
        db.session.commit()
    assert _stamps(app, a, b) == after


def test_the_dashboard_keeps_counted_figures_until_a_write_moves_the_stamp(app: Flask, make: Factory,
                                                                          count_queries) -> None:
    world = make.world()
    a, b = world["forum"], world["other_forum"]
    make.add_member(b, world["participant"])
    make.action(a, world["participant"])
    make.action(b, world["participant"])
    now = datetime.now(timezone.utc)
    period = ReportFilters(start=now.date() - timedelta(days=1), end=now.date() + timedelta(days=1))

    def view() -> tuple[dict[int, int], int]:
        with app.app_context():
            staff = db.session.execute(db.select(User).where(User.email == world["staff"])).scalar_one()
            with count_queries() as statements:
                page = queries.dashboard(staff, period, now=now)
            return {r.forum.id: r.figures.raised for r in page.forums}, len(statements)

    counted, first = view()
    assert counted[a] == 1 and counted[b] == 1
    kept, second = view()
    assert kept == counted and second < first  # nothing counted again: the grouped queries did not run
    make.action(a, world["participant"])
    recounted, third = view()
    assert recounted[a] == 2 and recounted[b] == 1 and third > second  # forum a counted again, b kept
    # Another hour counts again (overdue and stalled move with the clock).
    with app.app_context():
        staff = db.session.execute(db.select(User).where(User.email == world["staff"])).scalar_one()
        with count_queries() as statements:
            queries.dashboard(staff, period, now=now + timedelta(hours=1))
    assert len(statements) == first


def _staff(data: dict) -> User:
    return db.session.execute(db.select(User).where(User.email == data["staff"])).scalar_one()


def _counts(statements: list[str]) -> list[str]:
    return [s for s in statements if "count(*)" in s.lower()]


def test_list_totals_are_the_dashboard_figures_kept_or_counted(app: Flask, data: dict, count_queries,
                                                               monkeypatch) -> None:
    """Every list's total equals the dashboard's figure, whether the forums' kept figures give it (no
    count runs) or the database counts it (nothing kept, or a list that moves with the clock)."""
    from forum_app.core import kept

    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)  # a page holds less than the total: the total is no len()
    lists = [(queries.actions_page, figure) for figure in (*queries.KEPT_ACTION_TOTALS, "overdue", "stalled", "due")]
    lists += [(queries.meetings_page, figure) for figure in queries.KEPT_MEETING_TOTALS]
    with app.test_request_context():
        staff = _staff(data)
        kept.clear_all()
        counted = {}
        for page_of_list, figure in lists:
            with count_queries() as statements:
                counted[figure] = page_of_list(staff, PERIOD, figure, None, now=NOW).total
            assert len(_counts(statements)) == 1, figure  # nothing kept: counted
        total = queries.dashboard(staff, PERIOD, now=NOW).total
        for page_of_list, figure in lists:
            with count_queries() as statements:
                listed = page_of_list(staff, PERIOD, figure, None, now=NOW).total
            from_kept = figure in queries.KEPT_ACTION_TOTALS or page_of_list is queries.meetings_page
            assert len(_counts(statements)) == (0 if from_kept else 1), figure
            figure_shown = total.planned + total.held + total.cancelled if figure == "" else getattr(total, figure)
            assert listed == counted[figure] == figure_shown, figure
        # Narrowed to a country, the kept figures of that country's forums only.
        narrowed = PERIOD.narrowed(country="MK")
        with count_queries() as statements:
            assert queries.actions_page(staff, narrowed, "raised", None, now=NOW).total == 2
        assert _counts(statements) == []


def test_a_write_shows_at_once_in_a_list_total_taken_from_kept_figures(app: Flask, data: dict,
                                                                        count_queries) -> None:
    with app.test_request_context():
        staff = _staff(data)
        queries.dashboard(staff, PERIOD, now=NOW)  # every forum's figures kept
        assert queries.actions_page(staff, PERIOD, "raised", None, now=NOW).total == 6
    with app.app_context():  # another request writes
        owner = db.session.execute(db.select(User).where(User.email == data["participant"])).scalar_one()
        _action(data["forum"], owner, utc(2024, 5, 6, 9), "proposed")
        db.session.commit()
    with app.test_request_context():
        staff = _staff(data)
        with count_queries() as statements:
            assert queries.actions_page(staff, PERIOD, "raised", None, now=NOW).total == 7
            assert queries.meetings_page(staff, PERIOD, "held", None, now=NOW).total == 2
        # Forum A's stamp moved: it alone is counted (its ids named), forum B's figure is still kept.
        assert len(_counts(statements)) == 2 and all("IN (" in s.upper() for s in _counts(statements))
        assert queries.dashboard(staff, PERIOD, now=NOW).total.raised == 7


def test_the_dashboard_keeps_what_it_adds_up_under_the_forums_it_reads(app: Flask, data: dict, count_queries,
                                                                       monkeypatch) -> None:
    """The totals, countries, grants and trends are added up once per state of the forums in reach:
    again after a write to any forum or a renamed forum (no stamp moves for a title), not per request."""
    summarised = []
    summarise = queries._summarise
    monkeypatch.setattr(queries, "_summarise", lambda *args: summarised.append(1) or summarise(*args))

    def view(raw_page: str | None = None, **changes) -> queries.Dashboard:
        with app.test_request_context():
            return queries.dashboard(_staff(data), PERIOD.narrowed(**changes), now=NOW, raw_page=raw_page)

    first = view()
    assert len(summarised) == 1 and first.total.raised == 6
    with count_queries() as statements:
        again = view()
    assert len(summarised) == 1 and again.total is first.total and again.trends is first.trends
    assert len(statements) <= 3  # the person's forums (with their stamps), and nothing counted or added up
    assert view("2").forum_page.number == 1 and len(summarised) == 1  # another page of forums: the same sums
    with app.app_context():
        db.session.get(Forum, data["other_forum"]).title = "Skopje forum, renamed"
        db.session.commit()
    renamed = view()
    assert len(summarised) == 2 and "Skopje forum, renamed" in {r.label for r in renamed.forums}
    assert renamed.total.raised == 6
    with app.app_context():
        owner = db.session.execute(db.select(User).where(User.email == data["participant"])).scalar_one()
        _action(data["other_forum"], owner, utc(2024, 5, 6, 9), "proposed")
        db.session.commit()
    assert view().total.raised == 7 and len(summarised) == 3
    assert view(country="BA").total.raised == 4 and len(summarised) == 4  # other filters: their own sums
    # Another hour: added up again (overdue and stalled move with the clock).
    with app.test_request_context():
        queries.dashboard(_staff(data), PERIOD, now=NOW + timedelta(hours=1))
    assert len(summarised) == 5


def test_another_process_reads_the_figures_counted_here_instead_of_counting(app: Flask, data: dict,
                                                                           count_queries) -> None:
    """A worker without figures of its own reads those another worker counted under the same key (forum,
    stamp, zone, period, hour): the same figures, no grouped count. A forum written to since is counted."""
    from forum_app.core import kept
    from forum_app.models import KeptFigures

    def view() -> tuple[queries.Dashboard, list[str]]:
        with app.test_request_context(), count_queries() as statements:
            return queries.dashboard(_staff(data), PERIOD, now=NOW), statements

    def grouped(statements: list[str]) -> list[str]:
        return [s for s in statements if "GROUP BY" in s.upper()]

    kept.clear_all()
    counted, statements = view()
    assert grouped(statements)
    with app.app_context():
        assert db.session.scalar(db.select(func.count()).select_from(KeptFigures)) == 2  # a row per forum
    kept.clear_all()  # another process
    read, statements = view()
    assert grouped(statements) == []
    assert [(r.key, r.figures) for r in read.forums] == [(r.key, r.figures) for r in counted.forums]
    assert read.total == counted.total and read.trends == counted.trends and read.missing == counted.missing
    assert read.coverage == counted.coverage and read.total.median_days_to_done == 25.0
    with app.app_context():
        owner = db.session.execute(db.select(User).where(User.email == data["participant"])).scalar_one()
        _action(data["other_forum"], owner, utc(2024, 5, 6, 9), "proposed")
        db.session.commit()
    kept.clear_all()
    recounted, statements = view()
    assert grouped(statements) and recounted.total.raised == 7
    assert next(r.figures for r in recounted.forums if r.key == data["forum"]) == counted.forums[0].figures
    # Rows of past hours go as new ones are written.
    with app.test_request_context():
        queries.dashboard(_staff(data), PERIOD, now=NOW + timedelta(hours=3))
    with app.app_context():
        hours = set(db.session.execute(db.select(KeptFigures.hour)).scalars())
    assert hours == {(NOW + timedelta(hours=3)).replace(minute=0)}


def test_the_dashboard_renders_its_figure_rows_once_per_state_of_the_data(app: Flask, data: dict) -> None:
    """The figure tables, the coverage rows and the filter form are rendered from the kept sums once and
    reused (web.render_once), until a write makes new sums: then rendered again, with the new figures."""
    from markupsafe import Markup

    client = sign_in(app.test_client(), data["staff"])
    path = "/reports?from=2024-04-01&to=2024-06-30"
    first = client.get(path).get_data(as_text=True)
    assert 'id="grants"' in first and 'id="coverage-matrix"' in first
    summaries = list(queries._SUMMARIES.items.values())
    stores = [s.fragments for s in summaries if s.fragments]
    assert len(stores) == 1 and {key[0] if isinstance(key[0], str) else key[0][0] for key in stores[0]} == {
        "filters", "countries", "grants", "forums", "coverage"}
    for key in stores[0]:
        stores[0][key] = Markup(f"<i>kept {key[0]!s}</i>")
    again = client.get(path).get_data(as_text=True)
    assert again.count("<i>kept ") == 5  # reused, not rendered again
    with app.app_context():
        owner = db.session.execute(db.select(User).where(User.email == data["participant"])).scalar_one()
        _action(data["other_forum"], owner, utc(2024, 5, 6, 9), "proposed")
        db.session.commit()
    after = client.get(path).get_data(as_text=True)
    raised_in_mk = re.compile(r'figure=raised&amp;[^"]*country=MK[^"]*">(\d+)<')
    assert raised_in_mk.findall(first) == ["2"]
    assert "<i>kept " not in after and raised_in_mk.findall(after) == ["3"]  # new sums, rendered anew

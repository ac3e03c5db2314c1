"""The programme dashboard: every figure against data built for it, the lists behind them, reach and exports.

The data is written as rows with exact moments (period boundaries in the forum's zone need
times to the minute); the rules themselves are the ones in ``reports.figures``. The dashboard's
cache is off in tests (config.py); ``test_the_dashboard_caches_its_figures_until_refresh_or_ttl``
turns it on for itself.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask

from forum_app.core import clock
from forum_app.extensions import cache, db
from forum_app.models import (
    ActionItem,
    ActionUpdate,
    Forum,
    Invitation,
    Meeting,
    Organisation,
    User,
    WalkInAttendee,
)
from forum_app.reports import dashboard as programme
from forum_app.reports import lists
from forum_app.reports.periods import ReportFilters

from .conftest import sign_in
from .factories import Factory

NOW = datetime(2024, 7, 15, 10, 0, tzinfo=UTC)
PERIOD = ReportFilters(start=date(2024, 4, 1), end=date(2024, 6, 30))


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _meeting(forum_id: int, state: str, starts: datetime, published: bool = True) -> Meeting:
    meeting = Meeting(
        forum_id=forum_id,
        title=f"M {starts:%Y-%m-%d %H:%M}",
        state=state,
        starts_at=starts,
        ends_at=starts.replace(hour=(starts.hour + 2) % 24) if starts.hour < 22 else starts.replace(minute=59),
        venue="Hall",
        published_at=starts if published else None,
        ical_uid=f"{uuid.uuid4()}@forum.test",
    )
    db.session.add(meeting)
    return meeting


def _person(kind: str, gender: str = "not_recorded") -> User:
    org = Organisation(name=f"Org {uuid.uuid4().hex[:8]}", kind=kind, country="BA")
    user = User(email=f"{uuid.uuid4().hex[:10]}@example.org", name=f"Person {kind}", organisation=org, gender=gender)
    db.session.add(user)
    return user


def _action(
    forum_id: int,
    owner: User,
    created: datetime,
    state: str,
    due: date | None = None,
    closed: datetime | None = None,
    updates: tuple[tuple[datetime, str | None], ...] = (),
) -> ActionItem:
    action = ActionItem(
        forum_id=forum_id,
        title=f"A {created:%m-%d}",
        owner=owner,
        state=state,
        due_on=due,
        created_at=created,
        updated_at=created,
        closed_at=closed,
    )
    db.session.add(action)
    action.updates.append(ActionUpdate(author=owner, kind="state", to_state="proposed", created_at=created))
    for moment, to_state in updates:
        action.updates.append(
            ActionUpdate(
                author=owner,
                kind="state" if to_state else "progress",
                to_state=to_state,
                note="" if to_state else "Progress",
                created_at=moment,
            )
        )
    # Rows written directly, like generate.py's: the roll-up actions.services keeps is set by hand.
    action.last_update_at = max([created, *(moment for moment, _ in updates)])
    action.confirmed_at = min((moment for moment, to_state in updates if to_state == "accepted"), default=None)
    return action


@pytest.fixture
def data(app: Flask, make: Factory) -> dict:
    return report_data(app, make)


def report_data(app: Flask, make: Factory) -> dict:
    """Two forums' meetings and actions around the second quarter of 2024 (the other report tests build on them)."""
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
        _action(
            a,
            p1,
            utc(2024, 4, 10, 9),
            "done",
            due=date(2024, 4, 30),
            closed=utc(2024, 4, 20, 9),
            updates=(
                (utc(2024, 4, 11, 9), "accepted"),
                (utc(2024, 4, 12, 9), "in_progress"),
                (utc(2024, 4, 20, 9), "done"),
            ),
        )  # 10 days, on time
        _action(
            a,
            p1,
            utc(2024, 5, 1, 9),
            "done",
            due=date(2024, 5, 31),
            closed=utc(2024, 6, 10, 9),
            updates=(
                (utc(2024, 5, 2, 9), "accepted"),
                (utc(2024, 5, 3, 9), "in_progress"),
                (utc(2024, 6, 10, 9), "done"),
            ),
        )  # 40 days, late
        _action(a, p2, utc(2024, 5, 5, 9), "proposed", due=date(2024, 6, 1))  # overdue, stalled
        _action(
            a,
            p2,
            utc(2024, 6, 30, 21, 30),
            "blocked",  # 23:30 on 30 June in Sarajevo: in the period
            updates=((utc(2024, 7, 1, 9), "accepted"), (utc(2024, 7, 10, 9), "blocked")),
        )
        _action(
            a,
            p2,
            utc(2024, 3, 31, 21, 30),
            "in_progress",
            due=date(2024, 8, 1),  # 31 March local: before
            updates=((utc(2024, 4, 1, 9), "accepted"), (utc(2024, 4, 1, 10), "in_progress")),
        )  # stalled
        # Forum B's: two overdue, stalled, unconfirmed
        _action(b, p3, utc(2024, 5, 20, 9), "proposed", due=date(2024, 6, 1))
        _action(b, p3, utc(2024, 5, 21, 9), "proposed", due=date(2024, 6, 2))
        db.session.commit()
        world["m1"] = m1.id
    return world


def test_every_figure(app: Flask, data: dict) -> None:
    with app.app_context():
        staff = db.session.execute(db.select(User).where(User.email == data["staff"])).scalar_one()
        page = programme.dashboard(staff, PERIOD, now=NOW)
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
        assert page.charts.stuck.categories[0] == next(
            r.label for r in page.forums if r.forum.id == data["other_forum"]
        )
        # The heatmap: at how many of each forum's last three meetings held by 30 June each kind came
        # (forum A's meeting of 1 July local time is after the period: one meeting counted).
        heat = {h.row.forum.id: (h.meetings, {k: n for k, n in h.counts if n}) for h in page.heatmap}
        assert heat[data["forum"]] == (1, {"prison": 1, "police": 1, "health": 1})
        assert heat[data["other_forum"]] == (1, {"employment": 1})
        trends = {
            c.key: {q: [s.values[i] for s in c.series] for i, q in enumerate(c.categories)} for c in page.charts.trends
        }
        assert list(trends["held"]) == ["Q2 2024"] and trends["held"]["Q2 2024"] == [2]
        assert trends["actions"]["Q2 2024"] == [6, 2]  # raised, done
        assert trends["attendance"]["Q2 2024"] == [0.6]  # 3 present of 5 invitees


def test_period_boundaries_follow_the_forum_zone(app: Flask, data: dict) -> None:
    with app.app_context():
        staff = db.session.execute(db.select(User).where(User.email == data["staff"])).scalar_one()
        july = programme.dashboard(staff, ReportFilters(start=date(2024, 7, 1), end=date(2024, 7, 31)), now=NOW)
        a = next(r.figures for r in july.forums if r.forum.id == data["forum"])
        assert (a.held, a.raised) == (1, 0)  # the meeting at 00:30 on 1 July local time
        march = programme.dashboard(staff, ReportFilters(start=date(2024, 3, 1), end=date(2024, 3, 31)), now=NOW)
        a = next(r.figures for r in march.forums if r.forum.id == data["forum"])
        assert (a.held, a.raised) == (0, 1)  # 22:30 UTC on 31 March is 1 April in Sarajevo


def test_stalled_rule_is_thirty_days(app: Flask, data: dict) -> None:
    with app.app_context():
        staff = db.session.execute(db.select(User).where(User.email == data["staff"])).scalar_one()
        # On 5 June the proposed action raised on 5 May has had no update for 31 days; the one
        # in progress since 1 April too; the blocked one does not exist yet.
        early = programme.dashboard(staff, PERIOD, now=utc(2024, 6, 4, 10))
        assert next(r.figures for r in early.forums if r.forum.id == data["forum"]).stalled == 2
        # On 3 May: only the one updated on 1 April (32 days); the 5 May one is not raised yet.
        earlier = programme.dashboard(staff, PERIOD, now=utc(2024, 5, 3, 10))
        assert next(r.figures for r in earlier.forums if r.forum.id == data["forum"]).stalled == 1
        # On 1 May, 30 days after 1 April 10:00 has not passed yet.
        assert (
            next(
                r.figures
                for r in programme.dashboard(staff, PERIOD, now=utc(2024, 5, 1, 9)).forums
                if r.forum.id == data["forum"]
            ).stalled
            == 0
        )


def test_lists_behind_the_figures_match(app: Flask, data: dict) -> None:
    with app.app_context():
        staff = db.session.execute(db.select(User).where(User.email == data["staff"])).scalar_one()
        page = programme.dashboard(staff, PERIOD, now=NOW)
        for figure in ("raised", "confirmed", "in_progress", "blocked", "done", "overdue", "stalled", "due"):
            rows = db.session.execute(lists.actions_stmt(staff, PERIOD, figure, now=NOW)).scalars().all()
            assert len(rows) == getattr(page.total, figure), figure
        for figure in ("planned", "held", "cancelled"):
            rows = db.session.execute(lists.meetings_stmt(staff, PERIOD, figure)).scalars().all()
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
        for path in (
            "/reports",
            "/reports/actions",
            "/reports/meetings",
            "/reports/export/actions.csv",
            "/reports/progress",
        ):
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
    same = [re.sub(r'(name="(csrf_token|next)"[^>]*value|nonce)="[^"]*"', "", p) for p in pages]
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
            figures = next(
                r.figures for r in programme.dashboard(staff, period, now=now).forums if r.forum.id == world["forum"]
            )
            assert (figures.raised, figures.confirmed, figures.stalled) == (1, 1, stalled)


def test_migration_fills_the_rollup_from_the_history(app: Flask, make: Factory) -> None:
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect

    world = make.world()
    confirmed = make.action(world["forum"], world["participant"])
    proposed = make.action(world["forum"], world["participant"])
    with app.app_context():
        raised = db.session.get(ActionItem, confirmed).created_at
    steps = (
        (raised + timedelta(days=1), "accepted"),
        (raised + timedelta(days=3), "in_progress"),
        (raised + timedelta(days=9), "blocked"),
    )
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


def test_the_dashboard_shows_a_write_to_one_forum(app: Flask, make: Factory) -> None:
    world = make.world()
    a, b = world["forum"], world["other_forum"]
    make.add_member(b, world["participant"])
    make.action(a, world["participant"])
    make.action(b, world["participant"])
    now = datetime.now(UTC)
    period = ReportFilters(start=now.date() - timedelta(days=1), end=now.date() + timedelta(days=1))

    def view() -> dict[int, int]:
        with app.app_context():
            staff = db.session.execute(db.select(User).where(User.email == world["staff"])).scalar_one()
            return {r.forum.id: r.figures.raised for r in programme.dashboard(staff, period, now=now).forums}

    assert view() == {a: 1, b: 1}
    make.action(a, world["participant"])
    assert view() == {a: 2, b: 1}


def _staff(data: dict) -> User:
    return db.session.execute(db.select(User).where(User.email == data["staff"])).scalar_one()


def _counts(statements: list[str]) -> list[str]:
    return [s for s in statements if "count(*)" in s.lower()]


ACTION_LISTS = ("raised", "confirmed", "in_progress", "blocked", "done", "overdue", "stalled", "due")


def test_list_totals_are_the_dashboard_figures(app: Flask, data: dict, count_queries, monkeypatch) -> None:
    """Every list's total equals the dashboard's figure, counted by the database in one query."""
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)  # a page holds less than the total: the total is no len()
    with app.test_request_context(), clock.at(NOW):
        staff = _staff(data)
        total = programme.dashboard(staff, PERIOD, now=NOW).total
        for figure in ACTION_LISTS:
            with count_queries() as statements:
                listed = lists.actions_page(staff, PERIOD, figure, None, now=NOW).total
            assert len(_counts(statements)) == 1 and listed == getattr(total, figure), figure
        for figure in ("", "planned", "held", "cancelled"):
            with count_queries() as statements:
                listed = lists.meetings_page(staff, PERIOD, figure, None).total
            shown = total.planned + total.held + total.cancelled if figure == "" else getattr(total, figure)
            assert len(_counts(statements)) == 1 and listed == shown, figure
        # Narrowed to a country: that country's forums only.
        assert lists.actions_page(staff, PERIOD.narrowed(country="MK"), "raised", None, now=NOW).total == 2


def test_a_write_shows_at_once_in_the_lists_and_the_dashboard(app: Flask, data: dict) -> None:
    with app.test_request_context():
        staff = _staff(data)
        assert lists.actions_page(staff, PERIOD, "raised", None, now=NOW).total == 6
    with app.app_context():  # another request writes
        owner = db.session.execute(db.select(User).where(User.email == data["participant"])).scalar_one()
        _action(data["forum"], owner, utc(2024, 5, 6, 9), "proposed")
        db.session.commit()
    with app.test_request_context():
        staff = _staff(data)
        assert lists.actions_page(staff, PERIOD, "raised", None, now=NOW).total == 7
        assert lists.meetings_page(staff, PERIOD, "held", None).total == 2
        assert programme.dashboard(staff, PERIOD, now=NOW).total.raised == 7


def test_the_dashboard_shows_renamed_forums_and_each_filter_its_own_figures(app: Flask, data: dict) -> None:
    def view(raw_page: str | None = None, **changes) -> programme.Dashboard:
        with app.test_request_context():
            return programme.dashboard(_staff(data), PERIOD.narrowed(**changes), now=NOW, raw_page=raw_page)

    assert view().total.raised == 6
    assert view("2").forum_page.number == 1  # a page past the last shows the last
    with app.app_context():
        db.session.get(Forum, data["other_forum"]).title = "Skopje forum, renamed"
        db.session.commit()
    renamed = view()
    assert "Skopje forum, renamed" in {r.label for r in renamed.forums} and renamed.total.raised == 6
    assert view(country="BA").total.raised == 4 and view(country="MK").total.raised == 2


RAISED_IN_MK = re.compile(r'figure=raised&amp;[^"]*country=MK[^"]*">(\d+)<')
TOTAL_RAISED = re.compile(r'data-figure="raised"><a [^>]*>(\d+)<')
AS_OF = re.compile(r'id="figures-as-of">Figures as of ([^<]*)<')


def test_the_dashboard_page_shows_a_write_at_once_with_the_cache_off(app: Flask, data: dict) -> None:
    """Tests see the database as it is: the cache is off unless a test turns it on."""
    client = sign_in(app.test_client(), data["staff"])
    path = "/reports?from=2024-04-01&to=2024-06-30"
    assert RAISED_IN_MK.findall(client.get(path).get_data(as_text=True)) == ["2"]
    with app.app_context():
        owner = db.session.execute(db.select(User).where(User.email == data["participant"])).scalar_one()
        _action(data["other_forum"], owner, utc(2024, 5, 6, 9), "proposed")
        db.session.commit()
    assert RAISED_IN_MK.findall(client.get(path).get_data(as_text=True)) == ["3"]


@pytest.fixture
def figures_cache(app: Flask):
    """The dashboard's cache on, as deployed without Redis (a SimpleCache), for one test."""
    cache.init_app(app, config={"CACHE_TYPE": "SimpleCache"})
    try:
        yield cache
    finally:
        cache.init_app(app, config={"CACHE_TYPE": "NullCache", "CACHE_NO_NULL_WARNING": True})


def _refresh_form(html: str) -> dict[str, str]:
    """The hidden fields of the Refresh button's form: what pressing it sends."""
    form = re.search(r'<form[^>]*id="figures-freshness".*?</form>', html, re.S).group(0)
    assert 'method="get"' in form and "<button" in form
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form))


def test_the_dashboard_caches_its_figures_until_refresh_or_ttl(app: Flask, data: dict, figures_cache) -> None:
    """With the cache on: the page says when its figures were counted (in the viewer's zone), a write
    shows only after Refresh or the TTL, and what the viewer may see and the filters key the figures."""
    client = sign_in(app.test_client(), data["staff"])  # staff's zone: Europe/Sarajevo (UTC+2 in July)
    path = "/reports?from=2024-04-01&to=2024-06-30"
    counted = utc(2024, 7, 15, 8, 5)

    def page(at: datetime, url: str = path, viewer=client) -> str:
        with clock.at(at):
            response = viewer.get(url)
        assert response.status_code == 200
        return response.get_data(as_text=True)

    def write_an_action_in_mk() -> None:
        with app.app_context():
            owner = db.session.execute(db.select(User).where(User.email == data["participant"])).scalar_one()
            _action(data["other_forum"], owner, utc(2024, 5, 6, 9), "proposed")
            db.session.commit()

    first = page(counted)
    assert RAISED_IN_MK.findall(first) == ["2"] and AS_OF.search(first).group(1) == "10:05 CEST"  # Sarajevo, in July
    write_an_action_in_mk()
    later = page(counted + timedelta(minutes=10))  # within the TTL: the figures counted at 10:05
    assert RAISED_IN_MK.findall(later) == ["2"] and AS_OF.search(later).group(1) == AS_OF.search(first).group(1)
    # Other filters are other figures, counted now; another viewer's reach is their own.
    assert TOTAL_RAISED.findall(page(counted + timedelta(minutes=10), path + "&country=MK")) == ["3"]
    organiser = page(counted + timedelta(minutes=10), viewer=sign_in(app.test_client(), data["organiser"]))
    assert f'data-forum="{data["other_forum"]}"' not in organiser and RAISED_IN_MK.findall(organiser) == []
    # The Refresh button counts them again.
    refresh = _refresh_form(later)
    assert refresh["refresh"] == "1" and refresh["from"] == "2024-04-01" and refresh["to"] == "2024-06-30"
    refreshed = page(counted + timedelta(minutes=11), "/reports?" + "&".join(f"{k}={v}" for k, v in refresh.items()))
    assert RAISED_IN_MK.findall(refreshed) == ["3"] and AS_OF.search(refreshed).group(1).startswith("10:16")
    assert RAISED_IN_MK.findall(page(counted + timedelta(minutes=12))) == ["3"]  # everyone's view, refreshed
    # Past the TTL (REPORT_CACHE_SECONDS after 10:16) they are counted again.
    write_an_action_in_mk()
    ttl = timedelta(seconds=app.config["REPORT_CACHE_SECONDS"])
    assert RAISED_IN_MK.findall(page(counted + timedelta(minutes=11) + ttl - timedelta(seconds=1))) == ["3"]
    expired = page(counted + timedelta(minutes=11) + ttl)
    assert RAISED_IN_MK.findall(expired) == ["4"] and AS_OF.search(expired).group(1).startswith("10:31")
    # Odd input is no error: an unknown refresh value reads the cache, bad dates fall back to the defaults.
    assert RAISED_IN_MK.findall(page(counted + timedelta(minutes=11) + ttl, path + "&refresh=yes&page=x")) == ["4"]
    page(counted, "/reports?from=garbage&to=2024-13-45&refresh=1&grant=-1&forum=99999999999")

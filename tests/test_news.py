"""The public news item (issue 23, point 2): pre-filled from the demo's week of 30 June – 2 July 2021 in
Bosnian like the seed text; nothing confidential and no participant's name reaches /news, the item's page,
the Atom feed or the API; drafts are their authors'; the public routes work signed out."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime
from xml.etree import ElementTree as ET

import pytest
from flask import Flask
from sqlalchemy import select

from forum_app.core import language
from forum_app.demo import DEMO_PASSWORD, STAFF
from forum_app.extensions import db
from forum_app.models import AgendaItem, Forum, Grant, Invitation, Meeting, NewsItem, Programme, User
from forum_app.vocab import PROGRAMME_DISCLAIMER

from .conftest import csrf_token, sign_in
from .test_api import SECRET_RE

ATOM = "{http://www.w3.org/2005/Atom}"
SECRET = "PLANTED-SECRET the probation office places the man at his brother's flat"
PUBLIC = "The forum meets every three months"
WEEK = {"period_start": "2021-06-30", "period_end": "2021-07-02"}


@pytest.fixture
def demo(app: Flask) -> dict:
    """The demo, with a confidential decision (wrongly flagged public too: the pre-fill must still skip it)
    and a decision marked public planted in Sarajevo's first meeting; and one participant's name."""
    result = app.test_cli_runner().invoke(args=["forum", "seed-demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        meeting = db.session.execute(
            select(Meeting).join(Forum).where(Forum.city == "Sarajevo").order_by(Meeting.starts_at).limit(1)
        ).scalar_one()
        db.session.add_all(
            [
                AgendaItem(
                    meeting_id=meeting.id,
                    position=90,
                    title="Release plan",
                    kind="topic",
                    notes_md="A release plan was discussed.",
                    decisions=[SECRET],
                    public_decisions=[SECRET],
                    confidential=True,
                ),
                AgendaItem(
                    meeting_id=meeting.id,
                    position=91,
                    title="Next meetings",
                    kind="topic",
                    decisions=[PUBLIC, "Not for the news"],
                    public_decisions=[PUBLIC],
                ),
            ]
        )
        db.session.commit()
        name = db.session.execute(
            select(User.name)
            .join(Invitation, Invitation.user_id == User.id)
            .where(Invitation.meeting_id == meeting.id, User.role == "member", ~User.grant_teams.any())
            .order_by(User.id)
            .limit(1)
        ).scalar_one()
        programme_id = db.session.execute(select(Programme.id)).scalar_one()
        sarajevo_grant = db.session.execute(select(Forum.grant_id).where(Forum.city == "Sarajevo")).scalar_one()
        skopje_grant = db.session.execute(select(Forum.grant_id).where(Forum.city == "Skopje")).scalar_one()
        organiser = db.session.execute(
            select(User.email).where(User.grant_teams.any(grant_id=sarajevo_grant)).limit(1)
        ).scalar_one()
    return {
        "meeting": meeting.id,
        "name": name,
        "programme": programme_id,
        "sarajevo_grant": sarajevo_grant,
        "skopje_grant": skopje_grant,
        "organiser": organiser,
    }


def _compose(client, programme: int, grant: int = 0, lang: str = "bs"):
    token = csrf_token(client, "/news/new")
    return client.post(
        "/news/new",
        data={"csrf_token": token, "programme_id": programme, "grant_id": grant, "language": lang, **WEEK},
    )


def _item(app: Flask) -> NewsItem:
    with app.app_context():
        item = db.session.execute(select(NewsItem).order_by(NewsItem.id.desc()).limit(1)).scalar_one()
        db.session.expunge(item)
        return item


def _demo_token(app: Flask, email: str) -> str:
    client = sign_in(app.test_client(), email, DEMO_PASSWORD)
    page = client.post("/account/api-tokens", data={"name": "script", "csrf_token": csrf_token(client, "/account")})
    match = SECRET_RE.search(page.get_data(as_text=True))
    assert match
    return match.group(1)


def _staff(app: Flask):
    return sign_in(app.test_client(), STAFF.email, DEMO_PASSWORD)


def test_the_week_of_the_seed_reads_like_the_seed_in_bosnian(app, demo):
    staff = _staff(app)
    response = _compose(staff, demo["programme"])
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    item = _item(app)
    body = item.body_md
    # Three forums, in order, each with its date (Babel, Bosnian), city, country (Bosnian) and focus.
    lines = [line for line in body.splitlines() if line.startswith("- ")]
    assert len(lines) == 3, body
    sarajevo, skopje, bijelo_polje = lines
    # The day's period is escaped in Markdown ("30\\."), or the item would open a list numbered from 30.
    assert "30\\. juni 2021. u gradu Sarajevo, Bosna i Hercegovina, sa fokusom na" in sarajevo, sarajevo
    assert "new State Prison, Sarajevo" in sarajevo
    assert "2\\. juli 2021." in skopje and "Skopje" in skopje and "Sjeverna Makedonija" in skopje
    assert "Idrizovo and Skopje prisons" in skopje
    assert "2\\. juli 2021." in bijelo_polje and "Bijelo Polje" in bijelo_polje and "Crna Gora" in bijelo_polje
    assert "Bijelo Polje prison" in bijelo_polje
    # The kinds of agency and how many people, never who.
    assert re.search(r"\d+ učesnika iz oblasti: Zatvor", sarajevo), sarajevo
    assert demo["name"] not in body
    # Decisions: only the one marked public; never a confidential item's, even if flagged public.
    assert PUBLIC in body and "Not for the news" not in body and "PLANTED-SECRET" not in body
    assert item.language == "bs" and item.state == "draft"
    # Shown as the seed reads: the dates whole, one bullet per forum, no numbered list inside.
    page = staff.get(f"/news/{item.id}").get_data(as_text=True)
    assert "<ol" not in page
    assert "<li>30. juni 2021. u gradu Sarajevo, Bosna i Hercegovina" in page
    assert "<li>2. juli 2021. u gradu Skopje, Sjeverna Makedonija" in page


def test_nothing_confidential_and_no_name_reaches_the_public(app, demo):
    staff = _staff(app)
    assert _compose(staff, demo["programme"]).status_code == 302
    item = _item(app)
    edit = f"/news/{item.id}/edit"
    # The composer refuses a planted confidential decision and a participant's name: nothing saved.
    for planted in (SECRET, demo["name"]):
        token = csrf_token(staff, edit)
        refused = staff.post(
            edit,
            data={
                "csrf_token": token,
                "title": item.title,
                "body_md": item.body_md + "\n" + planted + "\n",
                "version": item.version,
                "save": "1",
            },
        )
        assert refused.status_code == 400
        assert "confidential content" in refused.get_data(as_text=True)
    assert _item(app).body_md == item.body_md
    token = csrf_token(staff, f"/news/{item.id}")
    published = staff.post(f"/news/{item.id}/publish", data={"csrf_token": token, "version": item.version})
    assert published.status_code == 302
    assert _item(app).state == "published"

    public = app.test_client()  # signed out
    pages = {path: public.get(path) for path in ("/news", f"/news/{item.id}", "/news/feed.atom")}
    for path, response in pages.items():
        assert response.status_code == 200, path
        text = response.get_data(as_text=True)
        assert "Sarajevo" in text and "Bosna i Hercegovina" in text
        assert "PLANTED-SECRET" not in text and demo["name"] not in text, path
        assert PUBLIC in text
    news_page = pages["/news"].get_data(as_text=True)
    assert '<link rel="alternate" type="application/atom+xml"' in news_page and "/news/feed.atom" in news_page
    with app.test_request_context(), language.speaking("bs"):
        disclaimer = str(PROGRAMME_DISCLAIMER)  # in the item's language
    assert html.escape(disclaimer, quote=False) in pages[f"/news/{item.id}"].get_data(as_text=True)

    # The API carries nothing of the kind either.
    secret = _demo_token(app, demo["organiser"])
    for path in (f"/api/v1/meetings/{demo['meeting']}", "/api/v1/meetings", "/api/v1/actions"):
        answer = app.test_client().get(path, headers={"Authorization": f"Bearer {secret}"})
        assert answer.status_code == 200
        assert "PLANTED-SECRET" not in answer.get_data(as_text=True)


def test_the_feed_is_atom(app, demo):
    staff = _staff(app)
    assert _compose(staff, demo["programme"]).status_code == 302
    item = _item(app)
    token = csrf_token(staff, f"/news/{item.id}")
    staff.post(f"/news/{item.id}/publish", data={"csrf_token": token, "version": item.version})
    response = app.test_client().get("/news/feed.atom")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    root = ET.fromstring(response.get_data())
    assert root.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated", "author"):
        assert root.find(f"{ATOM}{required}") is not None, required
    assert root.find(f"{ATOM}link[@rel='self']") is not None
    entries = {entry.findtext(f"{ATOM}id", "").rsplit("/", 1)[-1]: entry for entry in root.findall(f"{ATOM}entry")}
    assert len(entries) == 2  # the demo's own item, and this one
    entry = entries[str(item.id)]
    assert entry.findtext(f"{ATOM}title") == item.title
    assert entry.findtext(f"{ATOM}id", "").endswith(f"/news/{item.id}")
    updated = entry.findtext(f"{ATOM}updated", "")
    assert datetime.fromisoformat(updated.replace("Z", "+00:00")).tzinfo == UTC
    content = entry.find(f"{ATOM}content")
    assert content is not None and content.get("type") == "html"
    assert "Bosna i Hercegovina" in (content.text or "") and "<li>" in (content.text or "")


def test_a_draft_is_its_authors_only(app, demo):
    staff = _staff(app)
    assert _compose(staff, demo["programme"]).status_code == 302
    item = _item(app)
    link = f"/news/{item.id}"
    assert staff.get(link).status_code == 200
    assert f'href="{link}"' in staff.get("/news").get_data(as_text=True)  # in the author's drafts
    public = app.test_client()
    assert public.get(link).status_code == 404
    assert f'href="{link}"' not in public.get("/news").get_data(as_text=True)
    assert link not in public.get("/news/feed.atom").get_data(as_text=True)
    organiser = sign_in(app.test_client(), demo["organiser"], DEMO_PASSWORD)
    assert organiser.get(link).status_code == 404
    assert organiser.get(f"{link}/edit").status_code == 404
    assert f'href="{link}"' not in organiser.get("/news").get_data(as_text=True)
    admin = sign_in(app.test_client(), "admin@forum-desk.example", DEMO_PASSWORD)
    assert admin.get(f"/news/{item.id}").status_code == 200


def test_organisers_write_about_their_own_grant_only(app, demo):
    organiser = sign_in(app.test_client(), demo["organiser"], DEMO_PASSWORD)
    mine = _compose(organiser, demo["programme"], demo["sarajevo_grant"])
    assert mine.status_code == 302
    item = _item(app)
    assert item.grant_id == demo["sarajevo_grant"]
    assert "Sarajevo" in item.body_md and "Skopje" not in item.body_md
    with app.app_context():
        before = db.session.query(NewsItem).count()
    # Not another grant's forums (not even offered), and not the whole programme.
    assert _compose(organiser, demo["programme"], demo["skopje_grant"]).status_code == 400
    assert _compose(organiser, demo["programme"], 0).status_code == 400
    with app.app_context():
        assert db.session.query(NewsItem).count() == before
        assert db.session.get(Grant, demo["skopje_grant"]) is not None


def test_public_news_routes_work_signed_out_and_composing_needs_sign_in(app, demo):
    public = app.test_client()
    assert public.get("/news").status_code == 200
    assert public.get("/news/feed.atom").status_code == 200
    assert public.get("/news/999").status_code == 404
    assert public.get("/news/new").status_code == 302  # to the sign-in page


def _publish_more(app: Flask, demo: dict, n: int) -> None:
    from forum_app.core import clock
    from forum_app.news import services as news

    with app.app_context():
        staff = db.session.execute(select(User).where(User.email == STAFF.email)).scalar_one()
        scope = news.ComposeInput(demo["programme"], None, date(2021, 6, 30), date(2021, 7, 2), "en")
        with clock.at(datetime(2021, 7, 6, tzinfo=UTC)):
            for _ in range(n):
                item = news.start_draft(staff, scope)
                news.publish(staff, item, item.version)
        db.session.commit()


def test_news_pages_run_a_fixed_number_of_queries(app, demo, count_queries, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 1000)
    clients = {"public": app.test_client(), "staff": _staff(app)}
    paths = ("/news", "/news/feed.atom")

    def measure() -> dict[tuple[str, str], tuple[int, int]]:
        result = {}
        for who, client in clients.items():
            for path in paths:
                client.get(path)  # warm-up
                with count_queries() as statements:
                    response = client.get(path)
                assert response.status_code == 200
                result[(who, path)] = (len(statements), response.get_data(as_text=True).count("Sarajevo"))
        return result

    _publish_more(app, demo, 1)
    small = measure()
    _publish_more(app, demo, 8)
    large = measure()
    assert all(large[key][1] >= 4 * small[key][1] > 0 for key in small), (small, large)  # the rows are there
    assert {key: q for key, (q, _) in large.items()} == {key: q for key, (q, _) in small.items()}

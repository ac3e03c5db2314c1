"""Lists that grow with a programme: people search on the normalised column, paged forum list, fresh rows."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from forum_app.admin.queries import PersonRow
from forum_app.core.rows import Into
from forum_app.core.search import normalise
from forum_app.extensions import db
from forum_app.models import Forum, User

from .conftest import login


def test_normalise_folds_case_and_diacritics():
    assert normalise("Amra HODŽIĆ", "amra@example.org") == "amra hodzic amra@example.org"
    assert normalise("Đorđe  Čolić") == "djordje colic"
    assert normalise("İlknur Şahin") == "ilknur sahin"
    assert normalise("Марко Петровић") == "marko petrovic"  # Cyrillic transliterated: tests/test_search.py


def test_people_search_ignores_case_and_diacritics(app, make):
    admin = make.user(role="admin")
    make.user(name="Amra Hodžić", email="amra@example.org")
    make.user(name="Emir Begić", email="emir@example.org")
    client = app.test_client()
    login(client, admin)
    for q in ("hodzic", "HODŽIĆ", "Hodž", "amra@ex"):
        page = client.get("/admin/users", query_string={"q": q}).get_data(as_text=True)
        assert "Amra Hodžić" in page and "Emir Begić" not in page, q
    assert "No one matches." in client.get("/admin/users?q=%25").get_data(as_text=True)


def test_search_text_follows_renames(app, make):
    email = make.user(name="Jelena Ilić")
    with app.app_context():
        user = db.session.execute(select(User).where(User.email == email)).scalar_one()
        assert user.search_text == normalise("Jelena Ilić", email)
        user.name = "Jelena Đurić"
        db.session.commit()
        assert db.session.get(User, user.id).search_text.startswith("jelena djuric ")


def test_people_search_finds_the_same_through_sqlites_trigram_index_and_follows_renames(app, make, count_queries):
    """Three letters or more without wildcards are answered by SQLite's trigram index (migration 0017,
    kept by triggers); shorter texts and texts with `_` or `%` the plain way: the same people either way."""
    admin = make.user(role="admin")
    amra = make.user(name="Amra Hodžić", email="amra_h@example.org")
    make.user(name="Emir Begić", email="emir@example.org")
    client = app.test_client()
    login(client, admin)

    def found(q: str) -> tuple[set[str], str]:
        with count_queries() as statements:
            page = client.get("/admin/users", query_string={"q": q}).get_data(as_text=True)
        return {n for n in ("Amra Hodžić", "Amra Ilić", "Emir Begić") if n in page}, " ".join(statements)

    both = {"Amra Hodžić", "Emir Begić"}
    for q, people in (
        ("hodzic", {"Amra Hodžić"}),
        ("odž", {"Amra Hodžić"}),
        ("bx", set()),
        ("ić", both),
        ("amra_h", {"Amra Hodžić"}),
        ("mra_", {"Amra Hodžić"}),
        ("example.org", both),
    ):
        names, sql = found(q)
        assert names == people, q
        via_index = "user_account_search" in sql
        assert via_index == (db_name(app) == "sqlite" and len(q) >= 3 and "_" not in q), q
    with app.app_context():  # a rename reaches the index through its trigger
        db.session.execute(select(User).where(User.email == amra)).scalar_one().name = "Amra Ilić"
        db.session.commit()
    assert found("hodzic")[0] == set() and found("amra ilic")[0] == {"Amra Ilić"}


def db_name(app) -> str:
    with app.app_context():
        return db.engine.dialect.name


def test_forum_list_is_paged_with_a_count_and_keeps_its_filters(app, make):
    admin = make.user(role="admin")
    grant = make.grant()
    for n in range(app.config["PAGE_SIZE"] + 3):
        make.forum(grant_id=grant, title=f"Paged forum {n:02d}", city="Tuzla")
    client = app.test_client()
    login(client, admin)
    first = client.get("/forums?city=Tuzla").get_data(as_text=True)
    assert first.count("forum-card") == app.config["PAGE_SIZE"]
    assert f"{app.config['PAGE_SIZE'] + 3} records" in first
    assert "city=Tuzla" in first and "page=2" in first
    second = client.get("/forums?city=Tuzla&page=2").get_data(as_text=True)
    assert second.count("forum-card") == 3


def test_pages_are_gzipped_and_static_files_versioned_for_a_year(app, client):
    import gzip
    import re

    page = client.get("/login", headers={"Accept-Encoding": "gzip, br"})
    assert page.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in page.headers["Vary"]
    html = gzip.decompress(page.data).decode()
    css = re.search(r'href="(/static/vendor/bootstrap/bootstrap\.used\.min\.css\?v=[0-9a-f]{12})"', html).group(1)
    asset = client.get(css, headers={"Accept-Encoding": "gzip"})
    assert asset.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert asset.headers["Content-Encoding"] == "gzip" and len(asset.data) < 15_000
    asset.close()
    stale = client.get(css.split("?")[0] + "?v=000000000000")
    assert "immutable" not in stale.headers.get("Cache-Control", "")
    stale.close()
    assert client.get("/login").headers.get("Content-Encoding") is None  # only when asked for


def test_forum_cards_and_staffs_overview_show_what_changed_at_once(app, make):
    """Cards and overview rows render fresh: a rename, a new member or a newly overdue action shows on the next view."""
    admin = make.user(role="admin")
    grant = make.grant()
    make.forum(grant_id=grant, title="Steady forum")
    changing = make.forum(grant_id=grant, title="Changing forum")
    make.meeting(changing)
    held = make.meeting(changing, state="held", starts_in_days=-10)
    client = app.test_client()
    login(client, admin)

    def forum_list() -> str:
        return client.get("/forums").get_data(as_text=True)

    page = forum_list()
    assert "Steady forum" in page and "Changing forum" in page and "Next meeting" in page
    assert "Changing forum" in client.get("/").get_data(as_text=True)  # staff's overview
    with app.app_context():
        db.session.get(Forum, changing).title = "Renamed forum"
        db.session.commit()
    page = forum_list()
    assert "Renamed forum" in page and "Changing forum" not in page
    overview = client.get("/").get_data(as_text=True).split('id="overview"', 1)[1]
    assert "Renamed forum" in overview and "Changing forum" not in overview

    member = make.user()
    make.add_member(changing, member)
    assert "1 member" in forum_list()

    assert "overdue action" not in forum_list()
    make.action(changing, member, meeting_id=held, due_in_days=3)  # due a week ago
    page = forum_list()
    assert "1 overdue action" in page and f"/forums/{changing}/actions?overdue=1" in page


def test_people_rows_show_what_changed_at_once(app, make):
    admin = make.user(role="admin")
    person = make.user(name="Selma Fresh", password=False)
    client = app.test_client()
    login(client, admin)

    def row() -> str:
        page = client.get("/admin/users?q=selma").get_data(as_text=True)
        return page[page.index("Selma Fresh") : page.index("</tr>", page.index("Selma Fresh"))]

    assert "Invited" in row()
    with app.app_context():
        db.session.execute(select(User).where(User.email == person)).scalar_one().active = False
        db.session.commit()
    html = row()
    assert "Deactivated" in html and "Invited" not in html


def test_rows_match_their_columns(app):
    with pytest.raises(TypeError):
        Into(PersonRow, User.id, User.name)  # fewer columns than the row has fields

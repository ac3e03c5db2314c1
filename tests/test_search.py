"""Search that fits the region: case-, diacritic- and script-insensitive, the same on SQLite and PostgreSQL.

"dzenan" finds "Dženan", "скопје" finds "Skopje" and "Вуковиќ" finds "Vuković", and the reverse: the
fold itself (``core.search.normalise``), the stored ``search_text`` of every searched list (kept by
the ORM, filled by the migration and by ``flask forum generate``), the loaders and the pages.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from forum_app.admin.queries import people_page
from forum_app.core.search import contains, normalise
from forum_app.extensions import db
from forum_app.forums import services as forum_services
from forum_app.forums.queries import ForumFilters, forum_list
from forum_app.models import Forum, Grant, Organisation, Programme, User
from forum_app.models.searchable import Searchable

from .conftest import post_form, sign_in
from .factories import Factory

SEARCHABLE = (Forum, Organisation, Grant, Programme, User)

# --- the fold -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "folded"),
    [
        ("Dženan", "dzenan"),
        ("ČETVRTAK", "cetvrtak"),
        ("Hodžić", "hodzic"),
        ("Đorđe  Čolić", "djordje colic"),  # đ has no decomposition; spaces collapsed
        ("Скопје", "skopje"),
        ("Vuković", "vukovic"),
        ("Вуковић", "vukovic"),
        ("ВУКОВИЌ", "vukovic"),
        ("Вукови\u043a\u0301", "vukovic"),  # к + combining acute, as some keyboards type ќ
        ("Ѓорѓи", "djordji"),  # a query: folded once, with the primary rule
        ("Џемаил Хаџиќ", "dzemail hadzic"),
        ("ǅenan", "dzenan"),  # the single-letter digraph
        ("Љубица Њежић Ѕвонко Шабан Жарко Цетиње", "ljubica njezic dzvonko saban zarko cetinje"),
        ("Ѐ ѝ", "e i"),  # Macedonian accented vowels
        ("З́ека С́утра", "zeka sutra"),  # Montenegrin з́, с́
        ("Kosovë Çamëri", "kosove cameri"),  # Albanian
        ("İlknur Şahin", "ilknur sahin"),  # Turkish
    ],
)
def test_normalise_folds_case_diacritics_and_script(typed: str, folded: str) -> None:
    assert normalise(typed) == folded


def test_cyrillic_alphabets_fold_like_their_latin_alphabets() -> None:
    serbian = "А Б В Г Д Ђ Е Ж З И Ј К Л Љ М Н Њ О П Р С Т Ћ У Ф Х Ц Ч Џ Ш"
    serbian_latin = "A B V G D Đ E Ž Z I J K L LJ M N NJ O P R S T Ć U F H C Č DŽ Š"
    assert (
        normalise(serbian)
        == normalise(serbian_latin)
        == "a b v g d dj e z z i j k l lj m n nj o p r s t c u f h c c dz s"
    )
    macedonian = "А Б В Г Д Ѓ Е Ж З Ѕ И Ј К Л Љ М Н Њ О П Р С Т Ќ У Ф Х Ц Ч Џ Ш"
    assert normalise(macedonian) == "a b v g d dj e z z dz i j k l lj m n nj o p r s t c u f h c c dz s"


def test_stored_text_also_carries_the_macedonian_romanisation_of_kj_and_gj() -> None:
    assert normalise("Ѓорѓи", stored=True) == "djordji gjorgji"
    assert normalise("Ѓорѓи Кјосески", "gk@example.org", stored=True) == (
        "djordji kjoseski gjorgji kjoseski gk@example.org"
    )
    assert normalise("Вуковиќ", None, "", stored=True) == "vukovic vukovikj"
    # Without ќ/ѓ the stored form is the query's form.
    assert normalise("Ђорђе Вуковић", "dj@example.org", stored=True) == normalise("Ђорђе Вуковић", "dj@example.org")


# --- the stored columns, kept by the ORM ---------------------------------------------------------------


def _search_texts(app: Flask) -> dict[type, dict[int, str]]:
    with app.app_context():
        return {
            model: dict(db.session.execute(select(model.id, model.search_text)).tuples().all()) for model in SEARCHABLE
        }


def test_search_text_is_kept_on_insert_and_update_for_every_searched_list(app: Flask, make: Factory) -> None:
    programme = make.programme(name="Хоризонтален механизам")
    holder = make.organisation(name="Завод Ѓорче Петров", city="Скопје")
    grant = make.grant(programme_id=programme, holder_id=holder, title="Реинтеграција во Скопје")
    forum = make.forum(grant, title="Форум Идризово", city="Скопје", focus="Затвор Идризово")
    person = make.user_id(make.user(name="Марија Вуковиќ", email="marija@example.org"))
    texts = _search_texts(app)
    assert texts[Programme][programme] == "horizontalen mehanizam"
    assert texts[Organisation][holder] == "zavod djorce petrov zavod gjorce petrov skopje"
    assert texts[Grant][grant].endswith(" reintegracija vo skopje") and texts[Grant][grant].startswith("ref-")
    assert texts[Forum][forum] == "forum idrizovo zatvor idrizovo skopje"
    assert texts[User][person] == "marija vukovic marija vukovikj marija@example.org"

    with app.app_context():  # renamed through the forum service: the listener follows on update
        admin = db.session.get(User, make.user_id(make.user(role="admin")))
        row = db.session.get(Forum, forum)
        loaded = forum_services.ForumInput.of(row).values()  # as the edit form was opened
        renamed = forum_services.ForumInput(
            grant_id=grant, title="Форум Шутка", city="Skopje", country="MK", timezone="Europe/Skopje"
        )
        forum_services.save_forum(admin, row, renamed, loaded)
        db.session.commit()
    assert _search_texts(app)[Forum][forum] == "forum sutka skopje"


# --- function level: contains() and the list loaders, on the database in use ---------------------------


def _matching(app: Flask, model: type[Searchable], q: str) -> set[str]:
    label = {Forum: Forum.title, Organisation: Organisation.name, Grant: Grant.title, Programme: Programme.name}[model]
    with app.app_context():
        return set(db.session.execute(select(label).where(contains(q, folded=model.search_text))).scalars())


def test_contains_matches_across_case_diacritics_and_script_on_every_list(app: Flask, make: Factory) -> None:
    make.organisation(name="Centar za socijalni rad Hodžić", city="Bijelo Polje")
    make.organisation(name="Фондација Ѓорѓи Петров", city="Скопје")
    make.organisation(name="Zavod Četvrtak", city="Sarajevo")
    skopje_grant = make.grant(title="Реинтеграција во Скопје", country="MK")
    make.grant(title="Dženan's grant in Sarajevo")
    make.programme(name="Програма за Вуковиќ")
    make.programme(name="Programme in Tirana")
    make.forum(title="Forum Vuković", city="Bijelo Polje")
    make.forum(skopje_grant, title="Форум Идризово", city="Скопје", focus="Затвор Идризово")
    make.forum(title="Sarajevo local forum", focus="new State Prison, četvrtak")

    gjorgji, hodzic, cetvrtak = "Фондација Ѓорѓи Петров", "Centar za socijalni rad Hodžić", "Zavod Četvrtak"
    for q, found in (
        ("hodzic", {hodzic}),
        ("HODŽIĆ", {hodzic}),
        ("bijelo polje", {hodzic}),  # the city is searched too
        ("скопје", {gjorgji}),
        ("Skopje", {gjorgji}),
        ("gjorgji", {gjorgji}),
        ("Ѓорѓи", {gjorgji}),
        ("djordji petrov", {gjorgji}),
        ("cetvrtak", {cetvrtak}),
        ("ЧЕТВРТАК", {cetvrtak}),
        ("x_y", set()),
    ):
        assert _matching(app, Organisation, q) == found, q
    assert _matching(app, Grant, "skopje") == {"Реинтеграција во Скопје"}
    with app.app_context():
        reference = db.session.get(Grant, skopje_grant).reference  # "REF-<n>": the reference is searched too
    assert _matching(app, Grant, f"{reference} Реинтеграција") == {"Реинтеграција во Скопје"}
    assert _matching(app, Grant, "ДЖЕНАН") == _matching(app, Grant, "dzenan") == {"Dženan's grant in Sarajevo"}
    assert _matching(app, Programme, "vukovic") == _matching(app, Programme, "Вуковић") == {"Програма за Вуковиќ"}
    assert _matching(app, Forum, "вуковиќ") == {"Forum Vuković"}
    assert _matching(app, Forum, "idrizovo") == _matching(app, Forum, "skopje") == {"Форум Идризово"}
    assert _matching(app, Forum, "четвртак") == {"Sarajevo local forum"}  # the focus


def test_people_page_and_forum_list_loaders_match_across_script(app: Flask, make: Factory) -> None:
    admin = make.user(role="admin")
    make.user(name="Dženan Hodžić", email="dzenan@example.org")
    make.user(name="Марија Вуковиќ", email="marija@example.org")
    make.user(name="Ana Vuković", email="ana@example.org")
    make.user(name="Ѓорѓи Кјосески", email="gk@example.org")
    make.forum(title="Forum Skopje", city="Skopje", country="MK")
    make.forum(title="Форум Бијело Поље", city="Бијело Поље", country="ME")
    with app.app_context():

        def people(q: str) -> set[str]:
            return {row.name for row in people_page(q, None).items}

        def forums(q: str) -> set[str]:
            viewer = db.session.execute(select(User).where(User.email == admin)).scalar_one()
            return {row.forum.title for row in forum_list(viewer, ForumFilters(q=q)).items}

        both = {"Марија Вуковиќ", "Ana Vuković"}
        assert people("dzenan") == people("Џенан") == {"Dženan Hodžić"}
        assert people("vukovic") == people("Вуковиќ") == people("ВУКОВИЋ") == both
        assert people("gjorgji") == people("djordji") == people("Ѓорѓи") == {"Ѓорѓи Кјосески"}
        assert forums("скопје") == {"Forum Skopje"}
        assert forums("bijelo polje") == forums("Бијело") == {"Форум Бијело Поље"}
        assert forums("tirana") == set()


# --- through the pages -----------------------------------------------------------------------------------


def test_people_search_page_finds_across_case_diacritics_and_script(app: Flask, make: Factory) -> None:
    admin = make.user(role="admin")
    make.user(name="Dženan Hodžić", email="dzenan@example.org")
    make.user(name="Марија Вуковиќ", email="marija@example.org")
    make.user(name="Ana Vuković", email="ana@example.org")
    make.user(name="Ѓорѓи Кјосески", email="gk@example.org")
    client = sign_in(app.test_client(), admin)
    names = ("Dženan Hodžić", "Марија Вуковиќ", "Ana Vuković", "Ѓорѓи Кјосески")
    for q, found in (
        ("dzenan", {"Dženan Hodžić"}),
        ("hodzic", {"Dženan Hodžić"}),
        ("ХОЏИЋ", {"Dženan Hodžić"}),
        ("Вуковиќ", {"Марија Вуковиќ", "Ana Vuković"}),
        ("vukovic", {"Марија Вуковиќ", "Ana Vuković"}),
        ("gjorgji", {"Ѓорѓи Кјосески"}),
        ("Ѓорѓи", {"Ѓорѓи Кјосески"}),
    ):
        page = client.get("/admin/users", query_string={"q": q}).get_data(as_text=True)
        assert {name for name in names if name in page} == found, q


def test_forum_list_search_page_finds_across_script(app: Flask, make: Factory) -> None:
    admin = make.user(role="admin")
    make.forum(title="Forum in Skopje", city="Skopje", country="MK", timezone_name="Europe/Skopje")
    make.forum(title="Форум Идризово", city="Скопје", country="MK", focus="Затвор Идризово")
    make.forum(title="Sarajevo forum", focus="četvrtak meetings at the new State Prison")
    client = sign_in(app.test_client(), admin)
    titles = ("Forum in Skopje", "Форум Идризово", "Sarajevo forum")
    for q, found in (
        ("скопје", {"Forum in Skopje", "Форум Идризово"}),
        ("Skopje", {"Forum in Skopje", "Форум Идризово"}),
        ("idrizovo", {"Форум Идризово"}),
        ("cetvrtak", {"Sarajevo forum"}),
    ):
        page = client.get("/forums", query_string={"q": q}).get_data(as_text=True).split('id="forum-list"', 1)[1]
        assert {title for title in titles if title in page} == found, q


def test_organisations_grants_and_programmes_pages_find_across_script(app: Flask, make: Factory) -> None:
    admin = make.user(role="admin")
    client = sign_in(app.test_client(), admin)
    new = {"kind": "social_welfare", "country": "MK", "city": "Скопје"}
    assert (
        post_form(client, "/admin/organisations/new", {**new, "name": "Центар за социјална работа"}).status_code == 302
    )
    make.organisation(name="Centar za socijalni rad Hodžić", city="Bijelo Polje")
    make.grant(title="Реинтеграција во Бијело Поље")
    make.programme(name="Програма Ќосе")

    def shown(path: str, q: str, *candidates: str) -> set[str]:
        page = client.get(path, query_string={"q": q}).get_data(as_text=True)
        return {c for c in candidates if c in page}

    orgs = ("Центар за социјална работа", "Centar za socijalni rad Hodžić")
    assert shown("/admin/organisations", "skopje", *orgs) == {"Центар за социјална работа"}  # the city
    assert shown("/admin/organisations", "hodzic", *orgs) == {"Centar za socijalni rad Hodžić"}
    assert shown("/admin/organisations", "ХОЏИЌ", *orgs) == {"Centar za socijalni rad Hodžić"}
    assert shown("/admin/grants", "bijelo polje", "Реинтеграција во Бијело Поље") == {"Реинтеграција во Бијело Поље"}
    assert shown("/admin/grants", "tirana", "Реинтеграција во Бијело Поље") == set()
    assert shown("/admin/programmes", "kjose", "Програма Ќосе") == {"Програма Ќосе"}
    assert shown("/admin/programmes", "cose", "Програма Ќосе") == {"Програма Ќосе"}

    # Renamed through the organisation form (the service): found by the new name only.
    with app.app_context():
        org_id = db.session.execute(
            select(Organisation.id).where(Organisation.name == "Центар за социјална работа")
        ).scalar_one()
    edit = f"/admin/organisations/{org_id}/edit"
    assert post_form(client, edit, {**new, "name": "Центар Шутка", "city": "Тетово"}).status_code == 302
    assert shown("/admin/organisations", "sutka", "Центар Шутка") == {"Центар Шутка"}
    assert shown("/admin/organisations", "skopje", "Центар Шутка") == set()


# --- the migration, and the bulk generator ---------------------------------------------------------------


def test_migration_folds_existing_rows_and_sqlites_trigram_index_follows(app: Flask, make: Factory) -> None:
    grant = make.grant(title="Реинтеграција")
    make.forum(grant, title="Форум Скопје", city="Скопје", focus="Идризово")
    make.organisation(name="Завод Ѓорче", city="Скопје")
    make.programme(name="Програма Ќосе")
    person = make.user_id(make.user(name="Марија Вуковиќ", email="marija@example.org"))
    expected = _search_texts(app)
    assert expected[User][person] == "marija vukovic marija vukovikj marija@example.org"
    with app.app_context():
        sqlite = db.engine.dialect.name == "sqlite"

        def indexed(word: str) -> set[int]:
            rows = db.session.execute(
                text("SELECT rowid FROM user_account_search WHERE search_text LIKE :q"), {"q": f"%{word}%"}
            )
            return set(rows.scalars())

        db.session.remove()
        downgrade(revision="0021_languages")
        try:
            folded_before = db.session.execute(
                text("SELECT search_text FROM user_account WHERE id = :id"), {"id": person}
            ).scalar_one()
            assert folded_before == "марија вуковик marija@example.org"  # 0008's fold: Cyrillic kept, marks dropped
            if sqlite:
                assert indexed("vukovic") == set() and indexed("вуковик") == {person}
        finally:
            db.session.remove()  # SQLite: no transaction of this session may hold the write lock
            upgrade()
        db.session.remove()
        if sqlite:  # the FTS trigram index followed user_account through its trigger
            assert indexed("vukovic") == indexed("vukovikj") == {person} and indexed("вуковик") == set()
    assert _search_texts(app) == expected  # the migration's fold is the application's


def test_generated_rows_carry_their_search_text(app: Flask) -> None:
    args = ["forum", "generate", "--scale", "0.01", "--seed", "3", "--today", "2025-03-15"]
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    with app.app_context():
        for model in SEARCHABLE:
            rows = db.session.execute(select(model)).scalars().all()
            assert rows, model
            for row in rows:
                fields = {name: getattr(row, name) for name in model.search_fields}
                assert row.search_text and row.search_text == model.search_text_of(fields), (model, row.id)

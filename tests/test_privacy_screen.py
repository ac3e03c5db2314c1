"""The screen for a prisoner's personal data in free text (core.privacy): what it must find in
the region's languages, and the everyday text of minutes it must leave alone."""

from __future__ import annotations

from datetime import date

import pytest

from forum_app.core.privacy import jmbg_is_valid, marked, screen

TODAY = date(2026, 12, 7)


@pytest.mark.parametrize(
    "text, kind, words",
    [
        ("Support person 0101990450001 after release", "jmbg", "0101990450001"),
        ("JMBG 2905985 170004 on file", "labelled-number", "JMBG 2905985 170004"),
        ("Podrška za 1503978-150013 nakon otpusta", "jmbg", "1503978-150013"),
        ("ЕМБГ: 0101990450001", "labelled-number", "ЕМБГ: 0101990450001"),
        ("Осуѓеникот 0101990450001", "jmbg", "0101990450001"),
        ("NID J00101999W u Tiranë", "albanian-id", "J00101999W"),
        ("K05115999K", "albanian-id", "K05115999K"),  # a woman born in 2000 (month + 50)
        ("numri personal 1234567890", "labelled-number", "numri personal 1234567890"),
        ("lični broj: 1002003004", "labelled-number", "lični broj: 1002003004"),
        ("prisoner Petar Petrovski, born 01.01.1990", "date-of-birth", "born 01.01.1990"),
        ("osuđeni, rođen 12. 3. 1985. u Zenici", "date-of-birth", "rođen 12. 3. 1985."),
        ("Осуѓениот е роден 1985 година", "date-of-birth", "роден 1985"),
        ("рођен 07.11.1979. године", "date-of-birth", "рођен 07.11.1979."),
        ("i lindur më 05.05.1988", "date-of-birth", "i lindur më 05.05.1988"),
        ("Marko Marković (14.02.1991) izlazi u martu", "date-of-birth", "Marko Marković (14.02.1991"),
        ("Агрон Бериша, 1988-04-12, пуштање", "date-of-birth", "Агрон Бериша, 1988-04-12"),
    ],
)
def test_it_finds_identity_numbers_and_dates_of_birth(text, kind, words):
    hits = screen(text, TODAY)
    assert [(hit.kind, hit.text) for hit in hits] == [(kind, words)]
    assert text[hits[0].start : hits[0].end] == words


@pytest.mark.parametrize(
    "text",
    [
        "Forum held on 30.06.2021 in Sarajevo with 14 participants.",
        "Sljedeći sastanak: 02.07.2021. u Bijelom Polju",
        "Case file 2021/0456-7789 and protocol 01-02-3456/21",
        "Call the centre on 038 123 456 or +389 2 3123 456",
        "Budget line 1234567890123 of the grant",  # 13 digits, no date of birth in front
        "Action due 2026-12-31, owner: Amra Hodžić",
        "Kosovo* police station 10, room 1002003004",
        "Ana Petrovska, 2023-05-04: the protocol was signed",  # a date no prisoner was born on
        "",
    ],
)
def test_it_leaves_ordinary_minutes_alone(text):
    assert screen(text, TODAY) == []


def test_the_jmbg_check_digit():
    assert jmbg_is_valid("0101990450006")
    assert not jmbg_is_valid("0101990450001")
    assert not jmbg_is_valid("3102990450006")  # 31 February


def test_the_warning_marks_the_words_and_escapes_the_rest():
    text = "<b>x</b> born 01.01.1990"
    html = str(marked(text, screen(text, TODAY)))
    assert html == "&lt;b&gt;x&lt;/b&gt; <mark>born 01.01.1990</mark>"

"""Screening free text for a prisoner's personal data: the promise that none is stored, checked.

Forum Desk records how agencies work together, never who the people leaving prison are. An
agenda, minutes, decision, action or note that names one person with an identity number or a
date of birth breaks that promise without anyone meaning to ("Support person 0101990450001
after release", "prisoner Petar Petrovski, born 01.01.1990"). ``screen`` finds:

- the 13-digit JMBG / EMBG used in Bosnia and Herzegovina, Montenegro, North Macedonia and
  Serbia (and Croatia's older documents): day, month and three digits of the year first. A
  13-digit number that starts with a real date of birth is taken for one even when its check
  digit (mod 11, ``jmbg_is_valid``) is wrong: a mistyped JMBG still names a person;
- Albania's personal number (NID): a character for the decade, the year's last digit, month
  (+50 for women), day, three digits and a check letter, e.g. J00101999W (1 January 1990); the
  date is checked (the check letter's rule is not published);
- any 8–13 digit number right after a word that says it is a personal or identity number
  (JMBG, EMBG, personal number, lični/лични број, numri personal, ID, …): Kosovo's ten-digit
  personal number has no public check digit, so its label is what gives it away;
- a date of birth: a birth word (born, rođen, рођен, роден, lindur, DOB, …) followed by a date
  or a year, or a capitalised name followed by a date whose year is a plausible birth year
  (old enough to be in prison, so a meeting date never matches).

The forms warn with the words marked, and the organiser may still save with a reason, which
is audited (``core.forms.AppForm``): the screen helps people keep the promise; it does not
decide for them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

# A person in prison is at least 14 (the age of criminal responsibility in the region).
YOUNGEST_IN_PRISON = 14


@dataclass(frozen=True)
class Hit:
    start: int
    end: int
    kind: str  # "jmbg", "albanian-id", "labelled-number", "date-of-birth"
    text: str


_JMBG = re.compile(r"(?<![\d.,/-])(\d(?:[ -]?\d){12})(?![\d.,/-]?\d)")
_ALBANIAN_ID = re.compile(r"\b([0-9A-T])(\d)(\d{2})(\d{2})(\d{3})([A-W])\b")
_DECADES = "0123456789ABCDEFGHIJKLMNOPQRST"  # 1800, 1810, …, 1890, 1900 (A), …, 1990 (J), 2000 (K), …
_LABEL_WORDS = (
    r"jmbg|embg|јмбг|ембг|матичен\s+број|матични\s+број|jedinstveni\s+matični\s+broj|"
    r"personal\s+(?:id\s+)?(?:number|no\.?)|personal\s+id|id\s+(?:number|no\.?)|\bid\b|"
    r"li[čc]ni\s+broj|лични\s+број|личен\s+број|oib|"
    r"numri\s+personal|nr\.?\s+personal|numri\s+i\s+identifikimit|nid"
)
_LABELLED = re.compile(
    rf"(?i)(?:{_LABEL_WORDS})\s*[:#.]?\s*(?:je\s+|is\s+|е\s+|është\s+)?(\d(?:[ -]?\d){{7,12}})(?!\d)"
)

_DATE = r"(?:\d{1,2}\s*[./-]\s*\d{1,2}\s*[./-]\s*(?:19|20)\d{2}\.?|(?:19|20)\d{2}-\d{1,2}-\d{1,2})"
_BIRTH_WORDS = (
    r"born|date\s+of\s+birth|d\.?o\.?b\.?|b\.|"
    r"ro[đd]en[ao]?|ro[đd]\.|datum\s+ro[đd]enja|god(?:ine|ište)\s+ro[đd]enja|"
    r"рођен[аo]?|датум\s+рођења|роден[аo]?|датум\s+на\s+раѓање|"
    r"lindur|i\s+lindur|e\s+lindur|datëlindja|data\s+e\s+lindjes|"
    r"r\."
)
_BORN = re.compile(
    rf"(?i)(?<!\w)(?:{_BIRTH_WORDS})\s*(?:on\s+|dana\s+|na\s+|më\s+|in\s+|u\s+|во\s+)?[:,]?\s*({_DATE}|(?:19|20)\d{{2}})(?!\d)"
)
_UPPER = r"[A-ZČĆŽŠĐЀ-ЯЃЌЉЊЏЅЈÇË]"
_LOWER = r"[a-zčćžšđа-яѐ-џçë'-]"
_NAME_THEN_DATE = re.compile(rf"({_UPPER}{_LOWER}+\s+{_UPPER}{_LOWER}+)\s*[,(]\s*({_DATE})")
_YEAR = re.compile(r"(19|20)\d{2}")


def looks_like_jmbg(digits: str, today: date) -> bool:
    """13 digits that start with a date of birth (DDMMYYY) of someone old enough to be in prison."""
    if len(digits) != 13 or not digits.isdigit():
        return False
    year3 = int(digits[4:7])
    year = 1000 + year3 if year3 >= 800 else 2000 + year3
    try:
        date(year, int(digits[2:4]), int(digits[0:2]))
    except ValueError:
        return False
    return 1900 <= year <= today.year - YOUNGEST_IN_PRISON


def jmbg_is_valid(digits: str) -> bool:
    """True for a 13-digit JMBG / EMBG whose date and check digit are right."""
    if len(digits) != 13 or not digits.isdigit():
        return False
    d = [int(c) for c in digits]
    day, month, year3 = int(digits[0:2]), int(digits[2:4]), int(digits[4:7])
    year = 1000 + year3 if year3 >= 800 else 2000 + year3
    try:
        date(year, month, day)
    except ValueError:
        return False
    weights = (7, 6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
    m = 11 - sum(w * x for w, x in zip(weights, d[:12], strict=True)) % 11
    if m == 10:
        return False  # never issued
    return (0 if m == 11 else m) == d[12]


def _albanian_date_ok(decade: str, year: str, month: str, day: str) -> bool:
    """The NID's date: a character for the decade, the year's last digit, the month (+30 for a
    foreigner, +50 for a woman, +80 for a foreign woman) and the day."""
    full = 1800 + _DECADES.index(decade) * 10 + int(year)
    m = int(month) % 30 if int(month) < 50 else (int(month) - 50) % 30
    try:
        date(full, m, int(day))
    except ValueError:
        return False
    return True


def _plausible_birth_year(text: str, today: date) -> bool:
    match = _YEAR.search(text)
    return match is not None and 1900 <= int(match.group(0)) <= today.year - YOUNGEST_IN_PRISON


def screen(text: str, today: date) -> list[Hit]:
    """Every place in ``text`` that looks like one person's identity number or date of birth."""
    if not text:
        return []
    hits: list[Hit] = []
    for match in _JMBG.finditer(text):
        if looks_like_jmbg(re.sub(r"[ -]", "", match.group(1)), today):
            hits.append(Hit(match.start(1), match.end(1), "jmbg", match.group(1)))
    for match in _ALBANIAN_ID.finditer(text):
        if _albanian_date_ok(match.group(1), match.group(2), match.group(3), match.group(4)):
            hits.append(Hit(match.start(), match.end(), "albanian-id", match.group(0)))
    for match in _LABELLED.finditer(text):
        hits.append(Hit(match.start(), match.end(), "labelled-number", match.group(0)))
    for match in _BORN.finditer(text):
        if _plausible_birth_year(match.group(1), today):
            hits.append(Hit(match.start(), match.end(), "date-of-birth", match.group(0)))
    for match in _NAME_THEN_DATE.finditer(text):
        if _plausible_birth_year(match.group(2), today):
            hits.append(Hit(match.start(), match.end(), "date-of-birth", match.group(0)))
    return _without_overlaps(hits)


def _without_overlaps(hits: list[Hit]) -> list[Hit]:
    """The widest hit where several cover the same words, in text order."""
    kept: list[Hit] = []
    for hit in sorted(hits, key=lambda h: (h.start, -(h.end - h.start))):
        if kept and hit.start < kept[-1].end:
            continue
        kept.append(hit)
    return kept


def marked(text: str, hits: list[Hit]) -> Markup:
    """``text`` escaped, with each hit in a <mark>: the warning shows the words it means."""
    out, at = [], 0
    for hit in hits:
        out.append(escape(text[at : hit.start]))
        out.append(Markup("<mark>") + escape(text[hit.start : hit.end]) + Markup("</mark>"))
        at = hit.end
    out.append(escape(text[at:]))
    return Markup("").join(out)

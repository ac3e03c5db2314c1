"""Case-, diacritic- and script-insensitive "contains" search, the same way on SQLite and PostgreSQL.

Every list people search keeps a stored, folded copy of its searchable fields (``search_text``,
``models.searchable``), and the query is folded the same way (``normalise``): lower-case Latin
without marks, Serbian, Montenegrin and Macedonian Cyrillic transliterated. So "hodzic" finds
"Hodžić", "скопје" finds "Skopje" and "Vukovic" finds "Вуковиќ", and the database compares the
stored text with a plain ``LIKE '%q%'``, no function call per row. People, the list that grows to
thousands, have trigram indexes for it (pg_trgm on PostgreSQL, FTS5 on SQLite: ``_in_trigram_index``);
the other lists are short.

``contains(q, *columns)`` (``lower(column) LIKE '%q%'``, case-insensitive only; ``lower()`` is
Python's on SQLite, see ``database.py``) remains for the audit log, which keeps no folded copy.

The user's text is escaped so ``%`` and ``_`` match themselves.
"""

from __future__ import annotations

import unicodedata

from sqlalchemy import ColumnElement, column, false, func, or_, select, table

MAX_QUERY = 100
SEARCH_TEXT_LENGTH = 500  # the stored columns' length (String(500))

# Folded before marks are dropped: lower-case Serbian/Montenegrin/Macedonian Cyrillic to Latin, as
# the Latin alphabets of the region write them without diacritics (ђ/đ "dj", џ/dž "dz", ќ and ћ "c",
# ѓ "dj"), and the Latin letters Unicode does not decompose into a base letter and a mark.
# Montenegrin з́/с́ and Latin ź/ś, ž, č, ć, š, Albanian ë/ç, Turkish ş... lose their marks afterwards.
_FOLD = str.maketrans(
    {
        **dict(zip("абвгдежзиклмнопрстуфхцчш", "abvgdezziklmnoprstufhccs", strict=True)),
        **{"ђ": "dj", "ћ": "c", "ќ": "c", "ѓ": "dj", "џ": "dz", "ѕ": "dz", "ј": "j", "љ": "lj", "њ": "nj"},
        **{"ѐ": "e", "ѝ": "i"},  # Macedonian accented forms (precomposed, so not caught by dropping marks)
        **{"đ": "dj", "ð": "d", "ħ": "h", "ı": "i", "ł": "l", "ø": "o", "œ": "oe", "æ": "ae", "ß": "ss", "þ": "th"},
    }
)
# Macedonian romanisation writes ќ and ѓ as "kj" and "gj" (Gjorgji, Kjoseski): stored text also
# carries that spelling, so a query typed either way finds it.
_MACEDONIAN = str.maketrans({"ќ": "kj", "ѓ": "gj"})


def clean_query(raw: str | None) -> str:
    """The search text as typed, trimmed and bounded."""
    return (raw or "").strip()[:MAX_QUERY]


def normalise(*parts: str | None, stored: bool = False) -> str:
    """``parts`` in the one form searched: lower-case Latin without marks, spaces collapsed.

    Vuković, VUKOVIĆ, Вуковић and Вуковиќ all give "vukovic"; Đorđe and Ђорђе "djordje".
    ``stored``: the form kept in ``search_text``, where a part with ќ/ѓ is followed by its
    Macedonian romanisation ("Ѓорѓи" → "djordji gjorgji"); a query is folded once, without it.
    """
    spellings = []
    for part in filter(None, parts):
        text = unicodedata.normalize("NFC", part).casefold()  # NFC: "к" + combining acute is "ќ"
        spellings.append(text.translate(_FOLD))
        romanised = text.translate(_MACEDONIAN)
        if stored and romanised != text:
            spellings.append(romanised.translate(_FOLD))
    decomposed = unicodedata.normalize("NFKD", " ".join(spellings))  # "č" → "c" + caron; "ǆ" → "dž"
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains(q: str, *columns, folded=None, trigram_table: str | None = None) -> ColumnElement[bool]:
    """A condition: the ``folded`` column (a stored ``search_text``) contains ``q`` normalised, or any of
    ``columns`` contains ``q`` ignoring case only.

    ``trigram_table``: on SQLite, the FTS5 trigram index of ``folded`` (migration 0017), which answers
    the search from the index when it can (see ``_in_trigram_index``).
    """
    conditions: list[ColumnElement[bool]] = [
        func.lower(column).like("%" + escape_like(q.lower()) + "%", escape="\\") for column in columns
    ]
    text = normalise(q)
    if folded is not None and text:
        if trigram_table and _in_trigram_index(text):
            conditions.append(_trigram_contains(folded, trigram_table, text))
        else:
            conditions.append(folded.like("%" + escape_like(text) + "%", escape="\\"))
    return or_(*conditions) if conditions else false()


def _in_trigram_index(text: str) -> bool:
    """Whether SQLite's trigram index can answer "contains ``text``": only on SQLite, only for three
    characters or more, and only without LIKE's wildcards in the text (the index is not used with
    an ESCAPE clause, so a text that would need one is searched the plain way)."""
    from ..extensions import db  # the models import this module's normalise(): db is imported late

    return db.engine.dialect.name == "sqlite" and len(text) >= 3 and not any(c in text for c in "%_\\")


def _trigram_contains(folded, index: str, text: str) -> ColumnElement[bool]:
    rows = table(index, column("rowid"), column(folded.key))
    return folded.table.c.id.in_(select(rows.c.rowid).where(rows.c[folded.key].like(f"%{text}%")))

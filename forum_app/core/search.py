"""Case-insensitive "contains" search, the same way on SQLite and PostgreSQL.

Two ways, by table size:

- ``contains(q, *columns)``: ``lower(column) LIKE '%q%'`` over the columns as stored.
  ``lower()`` is Unicode-aware on both (on SQLite it is replaced by Python's, see
  ``database.py``). Fine for short lists (forums, organisations, grants).
- ``contains(q, folded=column)``: for lists that grow to thousands (people), a stored,
  normalised copy of the searchable text (``normalise``: lower-cased, diacritics folded,
  so "hodzic" finds "Hodžić" and "HODŽIĆ" alike) compared without any function call,
  so the database scans one narrow indexed column (a trigram index on PostgreSQL, a
  covering index scan on SQLite) instead of calling ``lower()`` on every row.

The user's text is escaped so ``%`` and ``_`` match themselves.
"""

from __future__ import annotations

import unicodedata

from sqlalchemy import ColumnElement, column, false, func, or_, select, table

MAX_QUERY = 100
# Letters that Unicode does not decompose into a base letter and a mark.
_UNDECOMPOSED = str.maketrans(
    {"đ": "dj", "ð": "d", "ħ": "h", "ı": "i", "ł": "l", "ø": "o", "œ": "oe", "æ": "ae", "ß": "ss", "þ": "th"}
)


def clean_query(raw: str | None) -> str:
    """The search text as typed, trimmed and bounded."""
    return (raw or "").strip()[:MAX_QUERY]


def normalise(*parts: str | None) -> str:
    """Lower-cased, diacritics folded, spaces collapsed: the form stored for search and searched with.

    Cyrillic and other scripts stay as they are (lower-cased); only marks are dropped.
    """
    text = " ".join(p for p in parts if p).casefold().translate(_UNDECOMPOSED)
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains(q: str, *columns, folded=None, trigram_table: str | None = None) -> ColumnElement[bool]:
    """A condition: any of ``columns`` contains ``q`` ignoring case, or the ``folded`` column contains it normalised.

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

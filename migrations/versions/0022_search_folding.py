"""Search that fits the region: one folded form for case, diacritics and Latin/Cyrillic script.

- ``search_text`` (String(500)) on forum (title, focus, city), organisation (name, city),
  grant_agreement (reference, title) and programme (name): the lists' searchable fields folded,
  kept by the application (models/searchable.py), filled here for existing rows.
- user_account.search_text recomputed with the new fold: Serbian, Montenegrin and Macedonian
  Cyrillic are now transliterated to Latin (so "скопје" finds "Skopje" and "Vukovic" "Вуковиќ"),
  with the Macedonian romanisation of ќ/ѓ ("kj"/"gj") stored alongside. On SQLite the people's
  trigram index (migration 0017) follows through its ``AFTER UPDATE OF search_text`` trigger;
  the table is not rebuilt (columns are only added to the other tables), so the triggers stay.

The new columns have no index: these lists are short and already read in their own order.

Revision ID: 0022_search_folding
Revises: 0021_languages
"""

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0022_search_folding"
down_revision = "0021_languages"
branch_labels = None
depends_on = None

# A copy of core.search.normalise(..., stored=True) as it was when this migration was written
# (migrations do not import application code that may change later).
_FOLD = str.maketrans(
    {
        **dict(zip("абвгдежзиклмнопрстуфхцчш", "abvgdezziklmnoprstufhccs", strict=True)),
        **{"ђ": "dj", "ћ": "c", "ќ": "c", "ѓ": "dj", "џ": "dz", "ѕ": "dz", "ј": "j", "љ": "lj", "њ": "nj"},
        **{"ѐ": "e", "ѝ": "i"},
        **{"đ": "dj", "ð": "d", "ħ": "h", "ı": "i", "ł": "l", "ø": "o", "œ": "oe", "æ": "ae", "ß": "ss", "þ": "th"},
    }
)
_MACEDONIAN = str.maketrans({"ќ": "kj", "ѓ": "gj"})


def _normalise(*parts):
    spellings = []
    for part in filter(None, parts):
        text = unicodedata.normalize("NFC", part).casefold()
        spellings.append(text.translate(_FOLD))
        romanised = text.translate(_MACEDONIAN)
        if romanised != text:
            spellings.append(romanised.translate(_FOLD))
    decomposed = unicodedata.normalize("NFKD", " ".join(spellings))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


# 0008's fold (Cyrillic kept, marks dropped), for the downgrade.
_UNDECOMPOSED = str.maketrans(
    {"đ": "dj", "ð": "d", "ħ": "h", "ı": "i", "ł": "l", "ø": "o", "œ": "oe", "æ": "ae", "ß": "ss", "þ": "th"}
)


def _normalise_0008(*parts):
    text = " ".join(p for p in parts if p).casefold().translate(_UNDECOMPOSED)
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


# Each table with a new search_text and the fields folded into it, as the models' search_fields.
NEW = {
    "forum": ("title", "focus", "city"),
    "organisation": ("name", "city"),
    "grant_agreement": ("reference", "title"),
    "programme": ("name",),
}
PEOPLE = {"user_account": ("name", "email")}


def _fill(table_name, fields, fold):
    """Set search_text of every row of ``table_name`` whose folded ``fields`` differ from it."""
    rows_table = sa.table(
        table_name, sa.column("id", sa.Integer), sa.column("search_text", sa.String), *map(sa.column, fields)
    )
    bind = op.get_bind()
    changed = []
    for row in bind.execute(sa.select(rows_table)).mappings():
        text = fold(*(row[field] for field in fields))[:500]
        if text != row["search_text"]:
            changed.append({"row_id": row["id"], "text": text})
    if changed:
        bind.execute(
            rows_table.update()
            .where(rows_table.c.id == sa.bindparam("row_id"))
            .values(search_text=sa.bindparam("text")),
            changed,
        )


def upgrade():
    for table_name, fields in NEW.items():
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.add_column(sa.Column("search_text", sa.String(length=500), nullable=False, server_default=""))
        _fill(table_name, fields, _normalise)
    for table_name, fields in PEOPLE.items():
        _fill(table_name, fields, _normalise)


def downgrade():
    for table_name, fields in PEOPLE.items():
        _fill(table_name, fields, _normalise_0008)
    for table_name in NEW:
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.drop_column("search_text")

"""People search on a stored normalised column, and indexes for the lists' sort orders.

- user_account.search_text: name and email lower-cased with diacritics folded (kept up to
  date by the application; filled here for existing rows), searched with LIKE '%q%':
  a trigram GIN index on PostgreSQL (the pg_trgm extension, trusted since PostgreSQL 13:
  a database owner may create it), a plain index on SQLite (scanned instead of the table).
- ix_user_account_name: the people list is ordered by name.
- ix_forum_country_city_title: the forum list's order.

Revision ID: 0008_search
Revises: 0007_notifications
"""

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0008_search"
down_revision = "0007_notifications"
branch_labels = None
depends_on = None

# A copy of core.search.normalise as it was when this migration was written (migrations
# do not import application code that may change later).
_UNDECOMPOSED = str.maketrans(
    {"đ": "dj", "ð": "d", "ħ": "h", "ı": "i", "ł": "l", "ø": "o", "œ": "oe", "æ": "ae", "ß": "ss", "þ": "th"}
)


def _normalise(*parts):
    text = " ".join(p for p in parts if p).casefold().translate(_UNDECOMPOSED)
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def upgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("search_text", sa.String(length=500), nullable=False, server_default=""))
        batch_op.create_index("ix_user_account_name", ["name"], unique=False)
    conn = op.get_bind()
    users = sa.table(
        "user_account",
        sa.column("id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("email", sa.String),
        sa.column("search_text", sa.String),
    )
    rows = conn.execute(sa.select(users.c.id, users.c.name, users.c.email)).all()
    if rows:
        conn.execute(
            users.update().where(users.c.id == sa.bindparam("uid")).values(search_text=sa.bindparam("st")),
            [{"uid": r.id, "st": _normalise(r.name, r.email)[:500]} for r in rows],
        )
    if conn.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_index(
            "ix_user_account_search_text",
            "user_account",
            ["search_text"],
            unique=False,
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        )
    else:
        op.create_index("ix_user_account_search_text", "user_account", ["search_text"], unique=False)
    with op.batch_alter_table("forum", schema=None) as batch_op:
        batch_op.create_index("ix_forum_country_city_title", ["country", "city", "title"], unique=False)


def downgrade():
    with op.batch_alter_table("forum", schema=None) as batch_op:
        batch_op.drop_index("ix_forum_country_city_title")
    op.drop_index("ix_user_account_search_text", table_name="user_account")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_index("ix_user_account_name")
        batch_op.drop_column("search_text")

"""Languages: a forum's default language, and a person's language empty until they choose one.

``forum.language``: what the forum's pages and emails speak to people who chose no language
(core.language); existing forums keep English, which is what they spoke. ``user_account.locale``
was "en" for everyone, because English was the only choice offered: it becomes "" (not chosen),
so the browser's and the forum's language now apply to them until they pick one.

Revision ID: 0021_languages
Revises: 0020_drop_figures_stamp
"""

from alembic import op
import sqlalchemy as sa

revision = "0021_languages"
down_revision = "0020_drop_figures_stamp"
branch_labels = None
depends_on = None

# The codes at the time of this migration (core.language.LANGUAGES).
CODES = ("en", "bs", "cnr", "hr", "mk", "sq", "sr-Latn", "sr-Cyrl")


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


# SQLite rebuilds user_account for the new constraint (batch mode copies and drops the table),
# which drops the triggers that keep its people-search index (0017): they are made again here.
SEARCH_TRIGGERS = (
    "CREATE TRIGGER user_account_search_ai AFTER INSERT ON user_account BEGIN "
    "INSERT INTO user_account_search(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER user_account_search_ad AFTER DELETE ON user_account BEGIN "
    "INSERT INTO user_account_search(user_account_search, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER user_account_search_au AFTER UPDATE OF search_text ON user_account BEGIN "
    "INSERT INTO user_account_search(user_account_search, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO user_account_search(rowid, search_text) VALUES (new.id, new.search_text); END",
    "INSERT INTO user_account_search(user_account_search) VALUES ('rebuild')",
)


def _restore_search_triggers():
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS user_account_search_{trigger}")
        for statement in SEARCH_TRIGGERS:
            op.execute(statement)


def upgrade():
    with op.batch_alter_table("forum", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=10), server_default="en", nullable=False))
        batch_op.create_check_constraint(op.f("ck_forum_language"), _in("language", CODES))
    op.execute("UPDATE user_account SET locale = '' WHERE locale = 'en'")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.alter_column("locale", server_default="", existing_type=sa.String(length=10), existing_nullable=False)
        batch_op.create_check_constraint(op.f("ck_user_account_locale"), _in("locale", ("", *CODES)))
    _restore_search_triggers()


def downgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_user_account_locale"), type_="check")
        batch_op.alter_column(
            "locale", server_default=None, existing_type=sa.String(length=10), existing_nullable=False
        )
    _restore_search_triggers()
    op.execute("UPDATE user_account SET locale = 'en' WHERE locale = ''")
    with op.batch_alter_table("forum", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_forum_language"), type_="check")
        batch_op.drop_column("language")

"""People search on SQLite through a trigram full-text index (FTS5), as pg_trgm does on PostgreSQL.

``user_account.search_text`` (migration 0008) is searched with ``LIKE '%text%'``; on SQLite no
ordinary index can answer that, so every search read all the people twice (the count and the
page: 3.2 ms at 12,000 people, growing with them). An FTS5 table with the trigram tokenizer
(SQLite 3.34+) indexes every three-letter run of that column and answers the same LIKE (when it
has no ESCAPE clause) from the index: 0.4 ms. It is an external-content table over
``user_account``, kept by triggers, so no code writes to it.

A later migration that rebuilds ``user_account`` on SQLite (batch_alter_table copies and drops
it) drops these triggers with it and must create them again; tests/test_lists_at_scale.py fails
if a renamed person is no longer found by the new name.

PostgreSQL: nothing to do (its trigram index is 0008's).

Revision ID: 0017_people_search_sqlite
Revises: 0016_kept_figures
"""

from alembic import op

revision = "0017_people_search_sqlite"
down_revision = "0016_kept_figures"
branch_labels = None
depends_on = None

STATEMENTS = (
    "CREATE VIRTUAL TABLE user_account_search USING fts5("
    "search_text, content='user_account', content_rowid='id', tokenize='trigram')",
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


def upgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    for trigger in ("ai", "ad", "au"):
        op.execute(f"DROP TRIGGER IF EXISTS user_account_search_{trigger}")
    op.execute("DROP TABLE IF EXISTS user_account_search")

"""People's rights: erasure by pseudonym, and an audit chain that survives it.

``user_account.erased_at``: set when a person is erased (``people.erasure``). ``audit_event``:
``chain_version`` (1 for the rows already sealed, which hash their text; 2 for new rows, which
hash a salted digest of their personal part), ``personal_salt``, ``personal_digest`` and
``redacted_for`` (docs/security.md, "Erasure and the audit chain"). ``forum_member.name_given``
and ``invitation.name_given``: the name an organiser typed for an address their grant did not
know, shown instead of the account's own.

Revision ID: 0033_rights
Revises: 0036_documents
"""

import sqlalchemy as sa
from alembic import op

revision = "0033_rights"
down_revision = "0036_documents"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE, not batch: rebuilding user_account on SQLite would drop the triggers that
    # keep its people-search index (0017).
    op.add_column("user_account", sa.Column("erased_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chain_version", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("personal_salt", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("personal_digest", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("redacted_for", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_audit_event_redacted_for"), ["redacted_for"], unique=False)
    for table in ("forum_member", "invitation"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("name_given", sa.String(length=200), server_default="", nullable=False))


def downgrade():
    for table in ("invitation", "forum_member"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("name_given")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_redacted_for"))
        batch_op.drop_column("redacted_for")
        batch_op.drop_column("personal_digest")
        batch_op.drop_column("personal_salt")
        batch_op.drop_column("chain_version")
    op.drop_column("user_account", "erased_at")  # SQLite 3.35+ drops a column in place

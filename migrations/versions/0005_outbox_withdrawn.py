"""Outbox messages can be withdrawn before delivery (an invitation made by mistake).

Revision ID: 0005_outbox_withdrawn
Revises: 0004_stored_html
"""

from alembic import op

revision = "0005_outbox_withdrawn"
down_revision = "0004_stored_html"
branch_labels = None
depends_on = None

OLD = "status IN ('pending', 'sent', 'failed')"
NEW = "status IN ('pending', 'sent', 'failed', 'withdrawn')"


def _replace_check(sql: str) -> None:
    # SQLite cannot alter a CHECK constraint in place: batch mode copies the table.
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_message_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_outbox_message_status"), sql)


def upgrade():
    _replace_check(NEW)


def downgrade():
    # Withdrawn messages were never to be sent; "failed" keeps them out of delivery too.
    op.execute("UPDATE outbox_message SET status = 'failed', last_error = 'withdrawn' WHERE status = 'withdrawn'")
    _replace_check(OLD)

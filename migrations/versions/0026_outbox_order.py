"""Reminders and notices carry the link that turns their kind of email off (List-Unsubscribe).

``outbox_message.list_unsubscribe``: the signed link, made when the email is written (in its
language), "" for every other email and for the rows already there.

Revision ID: 0026_outbox_order
Revises: 0025_reschedule
"""

import sqlalchemy as sa
from alembic import op

revision = "0026_outbox_order"
down_revision = "0025_reschedule"
branch_labels = None
depends_on = None


def upgrade():
    # A column with a constant default: SQLite adds it in place (no table copy).
    op.add_column(
        "outbox_message", sa.Column("list_unsubscribe", sa.String(length=1000), server_default="", nullable=False)
    )


def downgrade():
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_column("list_unsubscribe")

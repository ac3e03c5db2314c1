"""Delegates: ``on_behalf_of_id`` on invitation and walk_in_attendee.

A person who came on behalf of an invitee (issue 21, part 2) is either another invitation of the
meeting (someone with an account) or a walk-in; either row names the invitation it stands in for.
Nullable, unique (one delegate per invitee in each table; the service checks across the two), and
SET NULL if the represented invitation goes. SQLite adds the constraints by copying the table
(batch mode).

Revision ID: 0028_delegates
Revises: 0026_outbox_order
"""

import sqlalchemy as sa
from alembic import op

revision = "0028_delegates"
down_revision = "0026_outbox_order"
branch_labels = None
depends_on = None

TABLES = ("invitation", "walk_in_attendee")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("on_behalf_of_id", sa.Integer(), nullable=True))
            batch_op.create_unique_constraint(f"uq_{table}_on_behalf_of_id", ["on_behalf_of_id"])
            batch_op.create_foreign_key(
                f"fk_{table}_on_behalf_of_id_invitation", "invitation", ["on_behalf_of_id"], ["id"], ondelete="SET NULL"
            )


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"fk_{table}_on_behalf_of_id_invitation", type_="foreignkey")
            batch_op.drop_constraint(f"uq_{table}_on_behalf_of_id", type_="unique")
            batch_op.drop_column("on_behalf_of_id")

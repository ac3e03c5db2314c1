"""forum.figures_stamp: renewed by every write that may change a forum's report figures.

The dashboard keeps each forum's counted figures under (forum, stamp, period, hour) and counts
again only the forums whose stamp moved (reports/stamps.py bumps it in the writing transaction).

Revision ID: 0015_figures_stamp
Revises: 0014_overdue_index
"""

from alembic import op
import sqlalchemy as sa

revision = "0015_figures_stamp"
down_revision = "0014_overdue_index"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("forum", schema=None) as batch_op:
        batch_op.add_column(sa.Column("figures_stamp", sa.Integer(), server_default="0", nullable=False))


def downgrade():
    with op.batch_alter_table("forum", schema=None) as batch_op:
        batch_op.drop_column("figures_stamp")

"""Drop forum.figures_stamp: nothing keeps report figures under a forum's stamp any more.

Every write to a forum's meetings, invitations or actions renewed the stamp in the same
transaction (a before_flush hook locking the forum's row, so one forum's writers queued behind
each other). The dashboard now counts with grouped SQL and caches the assembled figures with a
TTL (reports/dashboard.py), and pages render fresh, so the stamp has no reader.

Revision ID: 0020_drop_figures_stamp
Revises: 0019_drop_kept_figures
"""

from alembic import op
import sqlalchemy as sa

revision = "0020_drop_figures_stamp"
down_revision = "0019_drop_kept_figures"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("forum", schema=None) as batch_op:
        batch_op.drop_column("figures_stamp")


def downgrade():
    with op.batch_alter_table("forum", schema=None) as batch_op:
        batch_op.add_column(sa.Column("figures_stamp", sa.Integer(), server_default="0", nullable=False))
